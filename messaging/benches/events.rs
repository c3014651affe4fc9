//! The event bus beside tokio::sync::broadcast on the same runtime: one
//! publisher, 16 subscribers, 1 000 000 events each subscriber reads. Both
//! keep every event (retention and capacity 2^20), so no reader lags and
//! both do the same work: every subscriber sees every event, in order.

use criterion::{Criterion, criterion_group, criterion_main};
use std::time::Duration;
use weft::events::{EventBus, StartAt};

const EVENTS: u64 = 1_000_000;
const SUBSCRIBERS: usize = 16;
const CAPACITY: usize = 1 << 20;
/// The publisher yields this often, so subscribers on the same worker run.
const YIELD_EVERY: u64 = 1024;

fn bus_1_to_16(c: &mut Criterion) {
    let rt = weft::Runtime::builder().worker_threads(4).build().unwrap();
    let mut g = c.benchmark_group("events/1m_1_publisher_16_subscribers");
    g.sample_size(10);
    g.bench_function("weft", |b| {
        b.iter(|| {
            rt.block_on(async {
                let bus: EventBus<u64> = EventBus::builder().retention(CAPACITY).build();
                let topic = bus.topic("ticks").unwrap();
                let readers: Vec<_> = (0..SUBSCRIBERS)
                    .map(|_| {
                        let mut sub = topic.subscribe(StartAt::Latest);
                        weft::spawn(async move {
                            let mut sum = 0u64;
                            for _ in 0..EVENTS {
                                sum += *sub.recv().await.unwrap();
                            }
                            sum
                        })
                    })
                    .collect();
                let publisher = weft::spawn(async move {
                    for n in 0..EVENTS {
                        topic.try_publish(n).unwrap();
                        if n % YIELD_EVERY == 0 {
                            weft::task::yield_now().await;
                        }
                    }
                });
                publisher.await.unwrap();
                for r in readers {
                    assert_eq!(r.await.unwrap(), EVENTS * (EVENTS - 1) / 2);
                }
            })
        })
    });
    g.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                let (tx, _) = tokio::sync::broadcast::channel::<u64>(CAPACITY);
                let readers: Vec<_> = (0..SUBSCRIBERS)
                    .map(|_| {
                        let mut rx = tx.subscribe();
                        weft::spawn(async move {
                            let mut sum = 0u64;
                            for _ in 0..EVENTS {
                                sum += rx.recv().await.unwrap();
                            }
                            sum
                        })
                    })
                    .collect();
                let publisher = weft::spawn(async move {
                    for n in 0..EVENTS {
                        tx.send(n).unwrap();
                        if n % YIELD_EVERY == 0 {
                            weft::task::yield_now().await;
                        }
                    }
                });
                publisher.await.unwrap();
                for r in readers {
                    assert_eq!(r.await.unwrap(), EVENTS * (EVENTS - 1) / 2);
                }
            })
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(10)).warm_up_time(Duration::from_secs(1));
    targets = bus_1_to_16
}
criterion_main!(benches);
