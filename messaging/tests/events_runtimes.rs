//! The event bus under weft (both schedulers), tokio (both) and smol,
//! through a `Spawn` implementation for each: a consumer group acks every
//! event exactly once under random drops, a late subscriber replays in
//! order, and a handler retries and dead-letters on the runtime's clock.

#[path = "../../tests/support/mod.rs"]
mod support;

mod events_support;

use events_support::{BuildOn, STORES};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::Rng;
use support::any_runtime::on_every_runtime;
use weft::events::{EventBus, HandlerOptions, RecvError, Retry, StartAt};

#[test]
fn a_group_acks_every_event_exactly_once_and_a_late_subscriber_replays_on_every_runtime() {
    for store in STORES {
        on_every_runtime(move |harness| async move {
            let bus: EventBus<u64> = EventBus::builder().retention(1000).build_on(store);
            let acked = Arc::new(Mutex::new(HashMap::<u64, u32>::new()));
            let members: Vec<_> = (0..3u64)
                .map(|m| {
                    let mut member = bus.join("workers", "jobs", StartAt::Start).unwrap();
                    let acked = acked.clone();
                    harness.spawn(async move {
                        let mut rng = Rng(0xbead + m);
                        loop {
                            match member.recv().await {
                                Ok(event) if rng.below(4) == 0 => drop(event),
                                Ok(event) => {
                                    let id = *event;
                                    event.ack().unwrap();
                                    *acked.lock().unwrap().entry(id).or_default() += 1;
                                }
                                Err(RecvError::Closed) => break,
                                Err(e) => panic!("{e}"),
                            }
                        }
                    })
                })
                .collect();
            let publishers: Vec<_> = (0..2u64)
                .map(|p| {
                    let bus = bus.clone();
                    harness.spawn(async move {
                        for n in 0..300 {
                            bus.try_publish("jobs", p * 300 + n).unwrap();
                        }
                    })
                })
                .collect();
            for p in publishers {
                p.await;
            }
            let mut late = bus.subscribe("jobs", StartAt::Start).unwrap();
            bus.close();
            for m in members {
                m.await;
            }
            {
                let acked = acked.lock().unwrap();
                assert_eq!(acked.len(), 600);
                assert!(acked.values().all(|&n| n == 1));
            }
            let mut offsets = Vec::new();
            while let Ok(event) = late.recv().await {
                offsets.push(event.offset().get());
            }
            assert_eq!(offsets, (0..600).collect::<Vec<_>>());
        });
    }
}

#[test]
fn a_handler_retries_and_dead_letters_on_every_runtime() {
    for store in STORES {
        on_every_runtime(move |harness| async move {
            let bus: EventBus<u32> = EventBus::builder()
                .spawner(&harness.weft_spawner())
                .build_on(store);
            let mut dead = bus.subscribe("numbers.odd", StartAt::Latest).unwrap();
            let options = HandlerOptions::new()
                .retry(Retry::new(2).backoff(Duration::from_millis(1), Duration::from_millis(1)))
                .dead_letter("numbers.odd");
            let handler = bus
                .on_with("numbers.*", options, |event| async move {
                    if *event % 2 == 0 { Ok(()) } else { Err("odd") }
                })
                .unwrap();
            for n in 0..6 {
                bus.try_publish("numbers.all", n).unwrap();
            }
            let mut odd = Vec::new();
            for _ in 0..3 {
                odd.push(*dead.recv().await.unwrap());
            }
            assert_eq!(odd, [1, 3, 5]);
            bus.close();
            handler.finished().await;
            let stats = handler.stats();
            assert_eq!(
                (stats.succeeded, stats.retried, stats.failed, stats.dead_lettered),
                (3, 3, 3, 3)
            );
        });
    }
}
