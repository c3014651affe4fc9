//! The work queue beside bare channels on the same runtime: 1 000 000
//! messages from 4 producers to 4 consumers, each message acked on the
//! queue. tokio::sync::mpsc (one receiver behind a mutex, as competing
//! consumers need) and async-channel give no ack and no redelivery: the
//! ratio is what those guarantees cost.
//!
//! `queue/receive_10`: taking 10 ready messages one `recv` at a time, or in
//! one `recv_batch(10, _)` (tokio: ten `recv`s, or one `recv_many`), round
//! after round on one long-lived queue, as a consumer loop does. Only the
//! receiving is timed; readying the ten and settling them happen outside
//! the measurement.
//!
//! `queue/publish_10`: the other half of that loop, ten `try_publish`es
//! into the same kind of queue (tokio: ten `try_send`s), only the
//! publishing timed; taking and settling the ten happen outside.

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

/// Messages per round of `queue/receive_10`.
const ROUND: u64 = 10;

/// Runs `rounds` rounds on one long-lived queue (or channel), as a consumer
/// loop does: `fill` readies ten messages, then only `take` is timed, then
/// `settle` acks what it took, outside the measurement.
fn steady<S, R>(
    rounds: u64,
    state: &mut S,
    fill: impl Fn(&mut S),
    take: impl Fn(&mut S) -> R,
    settle: impl Fn(R),
) -> Duration {
    let mut timed = Duration::ZERO;
    for _ in 0..rounds {
        fill(state);
        let start = std::time::Instant::now();
        let taken = take(state);
        timed += start.elapsed();
        settle(taken);
    }
    timed
}

fn receive_10(c: &mut Criterion) {
    use futures_lite::future::block_on;
    use weft::queue::{Consumer, Delivery, Producer};
    let rt = rt();
    let spawner = rt.handle().spawner().clone();
    let queue = || {
        let queue = Queue::builder()
            .capacity(16)
            .prefetch(16)
            .spawner(&spawner)
            .build();
        let (producer, consumer) = (queue.producer(), queue.consumer());
        (queue, producer, consumer)
    };
    let fill = |(_, producer, _): &mut (Queue<u64>, Producer<u64>, Consumer<u64>)| {
        for n in 0..ROUND {
            producer.try_publish(n).unwrap();
        }
    };
    let ack = |got: Vec<Delivery<u64>>| {
        assert_eq!(got.len(), ROUND as usize);
        got.into_iter().for_each(|d| d.ack().unwrap());
    };
    let mut g = c.benchmark_group("queue/receive_10");
    g.bench_function("weft_recv_x10", |b| {
        let mut state = queue();
        b.iter_custom(|rounds| {
            let take = |(_, _, consumer): &mut (Queue<u64>, Producer<u64>, Consumer<u64>)| {
                block_on(async {
                    let mut got = Vec::with_capacity(ROUND as usize);
                    for _ in 0..ROUND {
                        got.push(consumer.recv().await.unwrap());
                    }
                    got
                })
            };
            steady(rounds, &mut state, fill, take, ack)
        })
    });
    g.bench_function("weft_recv_batch_10", |b| {
        let mut state = queue();
        b.iter_custom(|rounds| {
            let take = |(_, _, consumer): &mut (Queue<u64>, Producer<u64>, Consumer<u64>)| {
                block_on(consumer.recv_batch(ROUND as usize, Duration::ZERO)).unwrap()
            };
            steady(rounds, &mut state, fill, take, ack)
        })
    });
    let channel = || tokio::sync::mpsc::channel::<u64>(16);
    let send = |(tx, _): &mut (tokio::sync::mpsc::Sender<u64>, tokio::sync::mpsc::Receiver<u64>)| {
        for n in 0..ROUND {
            tx.try_send(n).unwrap();
        }
    };
    let check = |got: Vec<u64>| assert_eq!(got.len(), ROUND as usize);
    g.bench_function("tokio_recv_x10", |b| {
        let mut state = channel();
        b.iter_custom(|rounds| {
            let take = |(_, rx): &mut (tokio::sync::mpsc::Sender<u64>, tokio::sync::mpsc::Receiver<u64>)| {
                block_on(async {
                    let mut got = Vec::with_capacity(ROUND as usize);
                    for _ in 0..ROUND {
                        got.push(rx.recv().await.unwrap());
                    }
                    got
                })
            };
            steady(rounds, &mut state, send, take, check)
        })
    });
    g.bench_function("tokio_recv_many_10", |b| {
        let mut state = channel();
        b.iter_custom(|rounds| {
            let take = |(_, rx): &mut (tokio::sync::mpsc::Sender<u64>, tokio::sync::mpsc::Receiver<u64>)| {
                let mut got = Vec::with_capacity(ROUND as usize);
                block_on(rx.recv_many(&mut got, ROUND as usize));
                got
            };
            steady(rounds, &mut state, send, take, check)
        })
    });
    g.finish();
}

fn publish_10(c: &mut Criterion) {
    use futures_lite::future::block_on;
    use weft::queue::{Consumer, Producer};
    let rt = rt();
    let spawner = rt.handle().spawner().clone();
    let mut g = c.benchmark_group("queue/publish_10");
    g.bench_function("weft", |b| {
        let queue = Queue::builder()
            .capacity(16)
            .prefetch(16)
            .spawner(&spawner)
            .build();
        let mut state: (Queue<u64>, Producer<u64>, Consumer<u64>) =
            (queue.clone(), queue.producer(), queue.consumer());
        b.iter_custom(|rounds| {
            let publish = |(_, producer, _): &mut (Queue<u64>, Producer<u64>, Consumer<u64>)| {
                for n in 0..ROUND {
                    producer.try_publish(n).unwrap();
                }
            };
            let take = |(_, _, consumer): &mut (Queue<u64>, Producer<u64>, Consumer<u64>)| {
                block_on(consumer.recv_batch(ROUND as usize, Duration::ZERO)).unwrap()
            };
            let mut timed = Duration::ZERO;
            for _ in 0..rounds {
                timed += time(|| publish(&mut state));
                let got = take(&mut state);
                assert_eq!(got.len(), ROUND as usize);
                got.into_iter().for_each(|d| d.ack().unwrap());
            }
            timed
        })
    });
    g.bench_function("tokio", |b| {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<u64>(16);
        b.iter_custom(|rounds| {
            let mut timed = Duration::ZERO;
            for _ in 0..rounds {
                timed += time(|| {
                    for n in 0..ROUND {
                        tx.try_send(n).unwrap();
                    }
                });
                let mut got = Vec::with_capacity(ROUND as usize);
                block_on(rx.recv_many(&mut got, ROUND as usize));
                assert_eq!(got.len(), ROUND as usize);
            }
            timed
        })
    });
    g.finish();
}

/// How long `f` takes.
fn time(f: impl FnOnce()) -> Duration {
    let start = std::time::Instant::now();
    f();
    start.elapsed()
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(10)).warm_up_time(Duration::from_secs(1));
    targets = queue_4_to_4, receive_10, publish_10
}
criterion_main!(benches);
