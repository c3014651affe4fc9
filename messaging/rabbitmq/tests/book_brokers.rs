//! The book's chapter "Brokers" (`book/src/brokers.md`): the same queue
//! code and the same event-bus code run in memory, on disk and on the
//! private RabbitMQ node of this binary; only the line that makes the queue
//! or the bus changes.

use std::path::PathBuf;
use std::time::Duration;
use weft::events::{EventBus, StartAt};
use weft::queue::{Queue, Utf8};
use weft::rabbitmq::{EventOptions, QueueOptions};
use weft_test_support::rabbitmq::broker;

/// A bound on every wait, so that a broken broker fails the test rather
/// than hanging it. Never asserted on.
const BOUND: Duration = Duration::from_secs(30);

// ANCHOR: same-queue-code
/// The application: it knows a `Queue<String>`, not where it lives.
async fn take_orders(queue: &Queue<String>) -> Vec<String> {
    let producer = queue.producer();
    for order in ["order 1", "order 2", "order 3"] {
        producer.publish(order.to_string()).await.unwrap(); // stored when it returns
    }
    let mut consumer = queue.consumer();
    let mut handled = Vec::new();
    for _ in 0..3 {
        let order = consumer.recv().await.unwrap();
        handled.push(order.to_string());
        order.ack().unwrap(); // gone from the queue
    }
    handled
}
// ANCHOR_END: same-queue-code

// ANCHOR: same-bus-code
/// The application's events: it knows an `EventBus<String>`.
async fn audit_signups(bus: &EventBus<String>) -> Vec<String> {
    let mut audit = bus
        .subscribe_async("user.registered", StartAt::Latest)
        .await
        .unwrap();
    for user in ["ada", "grace"] {
        bus.publish("user.registered", user.to_string()).await.unwrap();
    }
    let mut seen = Vec::new();
    for _ in 0..2 {
        seen.push(audit.recv().await.unwrap().to_string());
    }
    seen
}
// ANCHOR_END: same-bus-code

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn the_same_queue_code_runs_in_memory_on_disk_and_on_rabbitmq() {
    let Some(broker) = broker() else { return };
    let uri = broker.uri();
    let dir = scratch("weft-book-brokers");
    let expected = ["order 1", "order 2", "order 3"];
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        // ANCHOR: memory
        let queue = Queue::new(1024);
        // ANCHOR_END: memory
        assert_eq!(take_orders(&queue).await, expected);

        // ANCHOR: disk
        let queue = Queue::durable(&dir, Utf8).unwrap().queue;
        // ANCHOR_END: disk
        assert_eq!(take_orders(&queue).await, expected);

        let conn = weft::rabbitmq::connect(&uri).await.unwrap();
        // ANCHOR: broker
        let queue = weft::rabbitmq::queue(&conn, "orders", &QueueOptions::new(), Utf8)
            .await
            .unwrap();
        // ANCHOR_END: broker
        let handled = weft::time::timeout(BOUND, take_orders(&queue)).await;
        assert_eq!(handled.expect("the broker answered within the bound"), expected);
        conn.close().await.unwrap();
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn the_same_bus_code_runs_in_memory_on_disk_and_on_rabbitmq_streams() {
    let Some(broker) = broker() else { return };
    let uri = broker.uri();
    let dir = scratch("weft-book-brokers-bus");
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        // ANCHOR: bus-memory
        let bus = EventBus::new();
        // ANCHOR_END: bus-memory
        assert_eq!(audit_signups(&bus).await, ["ada", "grace"]);

        // ANCHOR: bus-disk
        let bus = EventBus::durable(&dir, Utf8).unwrap().bus;
        // ANCHOR_END: bus-disk
        assert_eq!(audit_signups(&bus).await, ["ada", "grace"]);
        drop(bus);

        let conn = weft::rabbitmq::connect(&uri).await.unwrap();
        // ANCHOR: bus-broker
        let bus = weft::rabbitmq::event_bus(&conn, &EventOptions::new(), Utf8)
            .await
            .unwrap();
        // ANCHOR_END: bus-broker
        let seen = weft::time::timeout(BOUND, audit_signups(&bus)).await;
        assert_eq!(
            seen.expect("the broker answered within the bound"),
            ["ada", "grace"]
        );
        conn.close().await.unwrap();
    });
    std::fs::remove_dir_all(&dir).unwrap();
}
