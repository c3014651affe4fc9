//! Keys and partitions: the stable key hash, per-partition offsets,
//! keyless round-robin, per-key order for subscribers (outside groups),
//! and groups reading every partition.

#[path = "../../tests/support/mod.rs"]
mod support;

mod events_support;

use events_support::{BuildOn, STORES};

use std::collections::HashMap;
use support::Rng;
use weft::events::{EventBus, Memory, Offset, PublishError, RecvError, StartAt, TopicOptions, partition_for};

fn partitioned(n: u32) -> TopicOptions {
    TopicOptions {
        partitions: n,
        ..TopicOptions::default()
    }
}

// ANCHOR: pinned
/// The key hash is part of the data's meaning (a stored topic's keys sit in
/// these partitions): these values must never change.
#[test]
fn a_key_always_maps_to_the_same_partition() {
    let pinned = [
        ("user-1", [2, 12, 828]),
        ("user-2", [2, 0, 856]),
        ("order-42", [0, 0, 24]),
        ("", [0, 9, 681]),
        ("ünïcödé", [1, 3, 315]),
        ("a-little-bit-long-string", [2, 0, 112]),
    ];
    for (key, expected) in pinned {
        let got = [3, 16, 1000].map(|n| partition_for(key, n));
        assert_eq!(got, expected, "key {key:?}");
        assert_eq!(partition_for(key, 1), 0);
        assert_eq!(partition_for(key, 0), 0, "0 partitions is taken as 1");
    }
}
// ANCHOR_END: pinned

#[test]
fn keyed_events_go_to_their_key_s_partition_with_offsets_per_partition() {
    for store in STORES {
        let bus = events_support::bus_on(store);
        let topic = bus.create_topic("cart.updated", partitioned(16)).unwrap();
        assert_eq!(topic.partitions(), 16);
        // "user-1" is in partition 12, "user-2" in 0, "order-42" in 0.
        assert_eq!(topic.try_publish_keyed("user-1", 1).unwrap(), Offset::new(0));
        assert_eq!(topic.try_publish_keyed("user-2", 2).unwrap(), Offset::new(0));
        assert_eq!(topic.try_publish_keyed("order-42", 3).unwrap(), Offset::new(1));
        assert_eq!(topic.try_publish_keyed("user-1", 4).unwrap(), Offset::new(1));
        assert_eq!(topic.end_of(12), Some(Offset::new(2)));
        assert_eq!(topic.end_of(0), Some(Offset::new(2)));
        assert_eq!(topic.end_of(5), Some(Offset::new(0)));
        assert_eq!(topic.end_of(16), None);

        let mut all = topic.subscribe(StartAt::Start);
        let mut seen = Vec::new();
        while let Some(event) = all.try_recv() {
            let event = event.unwrap();
            seen.push((
                event.key().unwrap().to_owned(),
                event.partition(),
                event.offset().get(),
                *event,
            ));
        }
        // A subscriber sees the partitions merged in publication order.
        let expected = [
            ("user-1", 12, 0, 1),
            ("user-2", 0, 0, 2),
            ("order-42", 0, 1, 3),
            ("user-1", 12, 1, 4),
        ];
        let expected: Vec<_> = expected
            .iter()
            .map(|&(k, p, o, v)| (k.to_owned(), p, o, v))
            .collect();
        assert_eq!(seen, expected);
    }
}

#[test]
fn keyless_events_go_round_robin_and_a_chosen_partition_is_kept() {
    for store in STORES {
        let bus = events_support::bus_on(store);
        let topic = bus.create_topic("job.queued", partitioned(3)).unwrap();
        let mut all = topic.subscribe(StartAt::Start);
        for n in 0..6 {
            topic.try_publish(n).unwrap();
        }
        let partitions: Vec<_> = (0..6)
            .map(|_| all.try_recv().unwrap().unwrap().partition())
            .collect();
        assert_eq!(partitions, [0, 1, 2, 0, 1, 2]);
        assert_eq!(topic.try_publish_to(2, 9).unwrap(), Offset::new(2));
        let event = all.try_recv().unwrap().unwrap();
        assert_eq!(
            (event.partition(), event.offset(), event.key()),
            (2, Offset::new(2), None)
        );
        match topic.try_publish_to(3, 10) {
            Err(PublishError::Store(error)) => assert_eq!(error.into_value(), Some(10)),
            other => panic!("expected a store error, got {other:?}"),
        }
    }
}

#[test]
fn a_topic_keeps_the_partition_count_it_was_made_with() {
    let memory = Memory::new();
    let bus: EventBus<u32> = EventBus::builder().build_with(memory.clone());
    assert_eq!(
        bus.create_topic("orders", partitioned(4)).unwrap().partitions(),
        4
    );
    // Asked again with another count, the topic is as it was made.
    assert_eq!(
        bus.create_topic("orders", partitioned(2)).unwrap().partitions(),
        4
    );
    assert_eq!(bus.topic("orders").unwrap().partitions(), 4);
    assert_eq!(bus.topic("audit").unwrap().partitions(), 1);
    assert_eq!(bus.create_topic("zero", partitioned(0)).unwrap().partitions(), 1);
    bus.topic("orders")
        .unwrap()
        .try_publish_keyed("user-1", 7)
        .unwrap();
    drop(bus);

    // A bus rebuilt on the stored topics finds the partitions and the event.
    let bus: EventBus<u32> = EventBus::builder().build_with(memory);
    let orders = bus.topic("orders").unwrap();
    assert_eq!(orders.partitions(), 4);
    let mut replay = bus.subscribe("#", StartAt::Start).unwrap();
    let event = replay.try_recv().unwrap().unwrap();
    assert_eq!((event.partition(), *event), (partition_for("user-1", 4), 7));
}

// ANCHOR: per-key-order
/// The guarantee for a subscriber: events of one key arrive in the order
/// they were published, whatever the partition count, and every event
/// arrives once.
#[test]
fn a_subscriber_sees_each_key_in_publication_order() {
    for store in STORES {
        for seed in 1..=50u64 {
            let mut rng = Rng(seed);
            let bus = events_support::bus_on(store);
            let topic = bus
                .create_topic("cart.updated", partitioned(1 + rng.below(8) as u32))
                .unwrap();
            let mut early = topic.subscribe(StartAt::Latest);
            let mut sent: HashMap<String, Vec<u32>> = HashMap::new();
            for n in 0..200 {
                let key = format!("cart-{}", rng.below(10));
                match rng.below(3) {
                    0 => topic.try_publish(n).unwrap(),
                    _ => {
                        sent.entry(key.clone()).or_default().push(n);
                        topic.try_publish_keyed(&key, n).unwrap()
                    }
                };
            }
            let mut late = topic.subscribe(StartAt::Start);
            for sub in [&mut early, &mut late] {
                let mut got: HashMap<String, Vec<u32>> = HashMap::new();
                let mut count = 0;
                while let Some(event) = sub.try_recv() {
                    let event = event.unwrap();
                    count += 1;
                    if let Some(key) = event.key() {
                        assert_eq!(event.partition(), topic.partition_for(key), "seed {seed}");
                        got.entry(key.to_owned()).or_default().push(*event);
                    }
                }
                assert_eq!(count, 200, "seed {seed}");
                assert_eq!(got, sent, "seed {seed}: per-key order");
            }
        }
    }
}
// ANCHOR_END: per-key-order

#[test]
fn a_pattern_subscriber_reads_every_partition_of_topics_made_later() {
    for store in STORES {
        let bus = events_support::bus_on(store);
        let mut sub = bus.subscribe("cart.*", StartAt::Latest).unwrap();
        let topic = bus.create_topic("cart.updated", partitioned(4)).unwrap();
        for n in 0..8 {
            topic.try_publish(n).unwrap();
        }
        let got: Vec<_> = std::iter::from_fn(|| sub.try_recv())
            .map(|e| *e.unwrap())
            .collect();
        assert_eq!(got, (0..8).collect::<Vec<_>>());
    }
}

#[test]
fn a_group_reads_every_partition_and_commits_per_partition() {
    for store in STORES {
        let bus = events_support::bus_on(store);
        let topic = bus.create_topic("job.queued", partitioned(3)).unwrap();
        let mut member = bus.join("workers", "job.queued", StartAt::Start).unwrap();
        for n in 0..6 {
            topic.try_publish_keyed(&format!("job-{n}"), n).unwrap();
        }
        let mut got = Vec::new();
        while let Some(event) = member.try_recv() {
            let event = event.unwrap();
            got.push(*event);
            event.ack().unwrap();
        }
        got.sort_unstable();
        assert_eq!(got, (0..6).collect::<Vec<_>>());
        for partition in 0..3 {
            let end = topic.end_of(partition);
            assert_eq!(member.committed_in(partition), end);
            assert_eq!(bus.committed_in("workers", "job.queued", partition).unwrap(), end);
        }
        assert_eq!(member.committed_in(3), None);
    }
}

#[test]
fn a_dead_letter_keeps_its_key() {
    for store in STORES {
        support::paused_current_thread().block_on(async {
            let bus = events_support::bus_on(store);
            let dead = bus.create_topic("mail.failed", partitioned(4)).unwrap();
            let mut dead_letters = dead.subscribe(StartAt::Start);
            let options = weft::events::HandlerOptions::new()
                .retry(weft::events::Retry::none())
                .dead_letter("mail.failed");
            let _handler = bus
                .on_with("mail.send", options, |_event| async { Err::<(), _>("smtp down") })
                .unwrap();
            bus.publish_keyed("mail.send", "ada", 1).await.unwrap();
            let event = dead_letters.recv().await.unwrap();
            assert_eq!(
                (event.key(), event.partition()),
                (Some("ada"), dead.partition_for("ada"))
            );
        });
    }
}

/// A subscriber to several partitions reports a lag in one of them before
/// any event, even one published earlier in another partition, then hands
/// out the rest in publication order.
#[test]
fn a_lag_in_one_partition_comes_before_the_events_of_the_others() {
    for store in STORES {
        let bus: EventBus<u32> = EventBus::builder().retention(2).build_on(store);
        let topic = bus.create_topic("cart.updated", partitioned(2)).unwrap();
        let key_in = |p| {
            (0..)
                .map(|n| format!("cart-{n}"))
                .find(|k| topic.partition_for(k) == p)
                .unwrap()
        };
        let (first, second) = (key_in(0), key_in(1));
        let mut sub = topic.subscribe(StartAt::Latest);
        topic.try_publish_keyed(&first, 0).unwrap();
        for n in 1..5 {
            topic.try_publish_keyed(&second, n).unwrap();
        }
        match sub.try_recv() {
            Some(Err(RecvError::Lagged { topic, skipped })) => {
                assert_eq!((&*topic, skipped), ("cart.updated", 2), "{store:?}")
            }
            other => panic!("expected a lag report, got {other:?}"),
        }
        let rest: Vec<_> = std::iter::from_fn(|| sub.try_recv())
            .map(|event| {
                let event = event.unwrap();
                (event.partition(), *event)
            })
            .collect();
        assert_eq!(rest, [(0, 0), (1, 3), (1, 4)], "{store:?}");
    }
}
