//! The work queue beside bare channels on the same runtime: 1 000 000
//! messages from 4 producers to 4 consumers, each message acked on the
//! queue. tokio::sync::mpsc (one receiver behind a mutex, as competing
//! consumers need) and async-channel give no ack and no redelivery: the
//! ratio is what those guarantees cost.
//!
//! `queue/receive_10`: taking 10 ready messages one `recv` at a time, or in
//! one `recv_batch(10, _)` (tokio: ten `recv`s, or one `recv_many`). Only
//! the receiving is timed; settling happens outside the measurement.

use criterion::{Criterion, criterion_group, criterion_main};
use std::sync::Arc;
use std::time::Duration;
use weft::queue::Queue;

const MESSAGES: u64 = 1_000_000;
const PRODUCERS: u64 = 4;
const CONSUMERS: usize = 4;
const PER_PRODUCER: u64 = MESSAGES / PRODUCERS;

fn rt() -> weft::Runtime {
    weft::Runtime::builder().worker_threads(4).build().unwrap()
}

fn queue_4_to_4(c: &mut Criterion) {
    let rt = rt();
    let mut g = c.benchmark_group("queue/1m_4_producers_4_consumers");
    g.sample_size(10);
    g.bench_function("weft", |b| {
        b.iter(|| {
            rt.block_on(async {
                let queue = Queue::builder().capacity(1024).prefetch(64).build();
                let producers: Vec<_> = (0..PRODUCERS)
                    .map(|p| {
                        let producer = queue.producer();
                        weft::spawn(async move {
                            for n in 0..PER_PRODUCER {
                                producer.publish(p * PER_PRODUCER + n).await.unwrap();
                            }
                        })
                    })
                    .collect();
                let consumers: Vec<_> = (0..CONSUMERS)
                    .map(|_| {
                        let mut consumer = queue.consumer();
                        weft::spawn(async move {
                            let mut n = 0u64;
                            while let Ok(d) = consumer.recv().await {
                                d.ack().unwrap();
                                n += 1;
                            }
                            n
                        })
                    })
                    .collect();
                for p in producers {
                    p.await.unwrap();
                }
                queue.close();
                let mut total = 0;
                for c in consumers {
                    total += c.await.unwrap();
                }
                assert_eq!(total, MESSAGES);
            })
        })
    });
    g.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                let (tx, rx) = tokio::sync::mpsc::channel::<u64>(1024);
                let rx = Arc::new(tokio::sync::Mutex::new(rx));
                let producers: Vec<_> = (0..PRODUCERS)
                    .map(|p| {
                        let tx = tx.clone();
                        weft::spawn(async move {
                            for n in 0..PER_PRODUCER {
                                tx.send(p * PER_PRODUCER + n).await.unwrap();
                            }
                        })
                    })
                    .collect();
                drop(tx);
                let consumers: Vec<_> = (0..CONSUMERS)
                    .map(|_| {
                        let rx = rx.clone();
                        weft::spawn(async move {
                            let mut n = 0u64;
                            while rx.lock().await.recv().await.is_some() {
                                n += 1;
                            }
                            n
                        })
                    })
                    .collect();
                for p in producers {
                    p.await.unwrap();
                }
                let mut total = 0;
                for c in consumers {
                    total += c.await.unwrap();
                }
                assert_eq!(total, MESSAGES);
            })
        })
    });
    g.bench_function("smol", |b| {
        b.iter(|| {
            rt.block_on(async {
                let (tx, rx) = async_channel::bounded::<u64>(1024);
                let producers: Vec<_> = (0..PRODUCERS)
                    .map(|p| {
                        let tx = tx.clone();
                        weft::spawn(async move {
                            for n in 0..PER_PRODUCER {
                                tx.send(p * PER_PRODUCER + n).await.unwrap();
                            }
                        })
                    })
                    .collect();
                drop(tx);
                let consumers: Vec<_> = (0..CONSUMERS)
                    .map(|_| {
                        let rx = rx.clone();
                        weft::spawn(async move {
                            let mut n = 0u64;
                            while rx.recv().await.is_ok() {
                                n += 1;
                            }
                            n
                        })
                    })
                    .collect();
                for p in producers {
                    p.await.unwrap();
                }
                let mut total = 0;
                for c in consumers {
                    total += c.await.unwrap();
                }
                assert_eq!(total, MESSAGES);
            })
        })
    });
    g.finish();
}

fn receive_10(c: &mut Criterion) {
    use criterion::BatchSize;
    use futures_lite::future::block_on;
    let rt = rt();
    let spawner = rt.handle().spawner().clone();
    let ready_queue = || {
        let queue = Queue::builder()
            .capacity(16)
            .prefetch(16)
            .spawner(&spawner)
            .build();
        let producer = queue.producer();
        for n in 0..10u64 {
            producer.try_publish(n).unwrap();
        }
        let consumer = queue.consumer();
        (queue, consumer)
    };
    let mut g = c.benchmark_group("queue/receive_10");
    g.bench_function("weft_recv_x10", |b| {
        b.iter_batched(
            ready_queue,
            |(queue, mut consumer)| {
                let got = block_on(async {
                    let mut got = Vec::with_capacity(10);
                    for _ in 0..10 {
                        got.push(consumer.recv().await.unwrap());
                    }
                    got
                });
                (queue, consumer, got)
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("weft_recv_batch_10", |b| {
        b.iter_batched(
            ready_queue,
            |(queue, mut consumer)| {
                let got = block_on(consumer.recv_batch(10, Duration::ZERO)).unwrap();
                assert_eq!(got.len(), 10);
                (queue, consumer, got)
            },
            BatchSize::SmallInput,
        )
    });
    let ready_channel = || {
        let (tx, rx) = tokio::sync::mpsc::channel::<u64>(16);
        for n in 0..10u64 {
            tx.try_send(n).unwrap();
        }
        (tx, rx)
    };
    g.bench_function("tokio_recv_x10", |b| {
        b.iter_batched(
            ready_channel,
            |(tx, mut rx)| {
                let got = block_on(async {
                    let mut got = Vec::with_capacity(10);
                    for _ in 0..10 {
                        got.push(rx.recv().await.unwrap());
                    }
                    got
                });
                (tx, rx, got)
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("tokio_recv_many_10", |b| {
        b.iter_batched(
            ready_channel,
            |(tx, mut rx)| {
                let mut got = Vec::with_capacity(10);
                block_on(rx.recv_many(&mut got, 10));
                (tx, rx, got)
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(10)).warm_up_time(Duration::from_secs(1));
    targets = queue_4_to_4, receive_10
}
criterion_main!(benches);
