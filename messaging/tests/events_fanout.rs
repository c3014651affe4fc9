//! A quick look at the bus's fan-out, for comparing two builds by hand:
//! one publisher, 16 subscribers, every subscriber reads every event (the
//! shape of benches/events.rs, smaller). Ignored, and it asserts no time:
//!
//! ```text
//! cargo test --release -p weft-messaging --test events_fanout -- --ignored --nocapture
//! ```
//!
//! Beside it, a guard on what a reader moves per event (issue 19).

mod events_support;

use events_support::{BuildOn, STORES};

use std::time::Instant;
use weft::events::{Event, EventBus, RecvError, StartAt};

/// Every delivery moves an event (in a `Result`) from the subscriber to
/// its caller: it grew from 32 bytes to 80 with partitions, keys,
/// properties and timestamps, and fan-out slowed down 2 × (issue 19). The
/// topic and partition now share one pointer and the timestamp is 8 bytes.
#[test]
#[cfg(target_pointer_width = "64")]
fn what_a_reader_moves_per_event_stays_small() {
    assert!(size_of::<Event<u64>>() <= 56, "{}", size_of::<Event<u64>>());
    assert!(size_of::<Result<Event<u64>, RecvError>>() <= 56);
}

const EVENTS: u64 = 200_000;
const SUBSCRIBERS: usize = 16;

#[test]
#[ignore = "a measurement to run by hand, not a test"]
fn one_publisher_sixteen_subscribers() {
    for store in STORES {
        let rt = weft::Runtime::builder().worker_threads(4).build().unwrap();
        for round in 0..5 {
            let began = Instant::now();
            rt.block_on(async {
                let bus: EventBus<u64> = EventBus::builder().retention(1 << 20).build_on(store);
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
                        if n % 1024 == 0 {
                            weft::task::yield_now().await;
                        }
                    }
                });
                publisher.await.unwrap();
                for reader in readers {
                    assert_eq!(reader.await.unwrap(), EVENTS * (EVENTS - 1) / 2);
                }
            });
            println!("round {round}: {:?}", began.elapsed());
        }
    }
}
