//! The work queue under weft (both schedulers), tokio (both) and smol,
//! through a `Spawn` implementation for each: every message acked exactly
//! once or dead-lettered exactly once, whatever the runtime.

#[path = "../../tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use support::Rng;
use support::any_runtime::on_every_runtime;
use weft::queue::{DeadReason, Queue};

#[test]
fn every_message_is_acked_or_dead_lettered_exactly_once_on_every_runtime() {
    on_every_runtime(|harness| async move {
        let spawner = harness.weft_spawner();
        let queue = Queue::builder()
            .capacity(16)
            .max_deliveries(3)
            .prefetch(2)
            .spawner(&spawner)
            .build();
        let acked = Arc::new(Mutex::new(HashMap::<u64, u32>::new()));
        let producers: Vec<_> = (0..2u64)
            .map(|p| {
                let producer = queue.producer();
                harness.spawn(async move {
                    for n in 0..300 {
                        producer.publish(p * 300 + n).await.unwrap();
                    }
                })
            })
            .collect();
        let consumers: Vec<_> = (0..3u64)
            .map(|c| {
                let mut consumer = queue.consumer();
                let acked = acked.clone();
                harness.spawn(async move {
                    let mut rng = Rng(0x5eed_0000 + c);
                    while let Ok(d) = consumer.recv().await {
                        match rng.below(8) {
                            0 => d.nack(true).unwrap(),
                            1 => d.reject().unwrap(),
                            2 => drop(d),
                            _ => {
                                let message = *d;
                                d.ack().unwrap();
                                *acked.lock().unwrap().entry(message).or_default() += 1;
                            }
                        }
                    }
                })
            })
            .collect();
        for p in producers {
            p.await;
        }
        queue.close();
        for c in consumers {
            c.await;
        }
        let mut dead = HashMap::<u64, u32>::new();
        while let Some(letter) = queue.try_dead_letter().unwrap() {
            assert!(matches!(
                letter.reason,
                DeadReason::Rejected | DeadReason::MaxDeliveries
            ));
            *dead.entry(letter.message).or_default() += 1;
        }
        let acked = acked.lock().unwrap();
        for m in 0..600 {
            let (a, d) = (acked.get(&m).copied(), dead.get(&m).copied());
            assert!(
                matches!((a, d), (Some(1), None) | (None, Some(1))),
                "message {m}: acked {a:?}, dead-lettered {d:?}"
            );
        }
        let stats = queue.stats();
        assert_eq!((stats.ready, stats.in_flight, stats.published), (0, 0, 600));
    });
}
