"""pika's side of the `rabbitmq` bench (messaging/rabbitmq/benches/rabbitmq.rs).

The same work as the Rust clients: a durable quorum queue, persistent
mandatory publishes with publisher confirms, each awaited (pika's
BlockingConnection waits for the confirm in basic_publish), PUBLISHERS
threads with a connection each (pika's connections are not thread-safe),
then one consumer with basic.qos = PREFETCH acking each delivery.

usage: pika_bench.py URI QUEUE PUBLISHERS PER_PUBLISHER PAYLOAD PREFETCH
prints publish_s=, consume_s= (microseconds) and publish_us=, consume_us=
(comma-separated latencies in microseconds), one per line.
"""

import sys
import threading
import time

import pika


def main():
    uri, queue, publishers, per, payload, prefetch = sys.argv[1:7]
    publishers, per, prefetch = int(publishers), int(per), int(prefetch)
    body = b"\x07" * int(payload)
    params = pika.URLParameters(uri)

    setup = pika.BlockingConnection(params)
    channel = setup.channel()
    channel.queue_declare(queue=queue, durable=True, arguments={"x-queue-type": "quorum"})

    latencies = [[] for _ in range(publishers)]
    ready = threading.Barrier(publishers + 1)

    def publish(i):
        conn = pika.BlockingConnection(params)
        ch = conn.channel()
        ch.confirm_delivery()
        props = pika.BasicProperties(delivery_mode=2)
        ready.wait()
        out = latencies[i]
        for _ in range(per):
            t = time.perf_counter()
            ch.basic_publish(exchange="", routing_key=queue, body=body, properties=props, mandatory=True)
            out.append((time.perf_counter() - t) * 1e6)
        conn.close()

    threads = [threading.Thread(target=publish, args=(i,)) for i in range(publishers)]
    for t in threads:
        t.start()
    ready.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    publish_s = time.perf_counter() - start

    channel.basic_qos(prefetch_count=prefetch)
    consume_us = []
    total = per * publishers
    start = time.perf_counter()
    t = start
    for method, _props, _body in channel.consume(queue):
        channel.basic_ack(method.delivery_tag)
        now = time.perf_counter()
        consume_us.append((now - t) * 1e6)
        t = now
        if len(consume_us) == total:
            break
    consume_s = time.perf_counter() - start
    channel.cancel()
    channel.queue_delete(queue=queue)
    setup.close()

    print(f"publish_s={publish_s * 1e6:.1f}")
    print(f"consume_s={consume_s * 1e6:.1f}")
    print("publish_us=" + ",".join(f"{v:.1f}" for l in latencies for v in l))
    print("consume_us=" + ",".join(f"{v:.1f}" for v in consume_us))


if __name__ == "__main__":
    main()
