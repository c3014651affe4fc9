//! Retention by count, age and bytes, whichever bites first, with the
//! exact `Lagged` count for a reader left behind.

#[path = "../../tests/support/mod.rs"]
mod support;

mod events_support;

use events_support::{BuildOn, STORES};
use std::time::Duration;
use support::paused_current_thread;
use weft::events::{EventBus, Offset, RecvError, Retention, StartAt, Subscriber, TopicOptions};
use weft::spawner::Spawner;

/// What `sub` reads now: payloads, and the lag reports as `None`s with
/// their counts.
fn read<T: Clone + Send + 'static>(sub: &mut Subscriber<T>) -> (Vec<T>, u64) {
    let (mut got, mut skipped) = (Vec::new(), 0);
    while let Some(result) = sub.try_recv() {
        match result {
            Ok(event) => got.push(event.into_payload()),
            Err(RecvError::Lagged { skipped: n, .. }) => skipped += n,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    (got, skipped)
}

// ANCHOR: age
#[test]
fn events_older_than_the_age_limit_go_on_the_paused_clock() {
    for store in STORES {
        paused_current_thread().block_on(async {
            let bus = EventBus::builder()
                .spawner(&Spawner::current())
                .max_age(Duration::from_secs(60))
                .build_on(store);
            let audit = bus.topic("audit").unwrap();
            let mut slow = audit.subscribe(StartAt::Start);
            for n in 0..6 {
                audit.publish(n).await.unwrap();
                weft::time::advance(Duration::from_secs(20)).await;
            }
            // The last event is stamped at 100 s: those at 0 s, 20 s are older
            // than 60 s before it; 40 s is exactly 60 s old and stays.
            assert_eq!(audit.start(), Offset::new(2));
            assert_eq!(read(&mut slow), (vec![2, 3, 4, 5], 2), "{store:?}");
        });
    }
}
// ANCHOR_END: age

#[test]
fn the_byte_limit_counts_the_size_function_and_keeps_the_newest() {
    for store in STORES {
        let bus = EventBus::builder()
            .max_bytes(10)
            .build_sized_on(store, |s: &String| s.len());
        let log = bus.topic("log").unwrap();
        let mut slow = log.subscribe(StartAt::Start);
        for line in ["abc", "defg", "hij"] {
            log.try_publish(line.to_owned()).unwrap(); // 10 bytes in all: kept
        }
        assert_eq!(log.start(), Offset::new(0));
        log.try_publish("k".to_owned()).unwrap(); // 11: "abc" goes
        assert_eq!(log.start(), Offset::new(1));
        // One too big for the limit alone: it stays, the rest go.
        log.try_publish("a very long line".to_owned()).unwrap();
        assert_eq!(log.start(), Offset::new(4));
        let (got, skipped) = read(&mut slow);
        assert_eq!(
            (got, skipped),
            (vec!["a very long line".to_owned()], 4),
            "{store:?}"
        );
    }
}

#[test]
fn whichever_limit_bites_first_wins() {
    for store in STORES {
        paused_current_thread().block_on(async {
            let bus = EventBus::builder()
                .spawner(&Spawner::current())
                .build_sized_on(store, |n: &u32| *n as usize);
            let retention = Retention::from(3).max_age(Duration::from_secs(30)).max_bytes(100);
            let options = TopicOptions {
                retention: Some(retention),
                ..TopicOptions::default()
            };
            let topic = bus.create_topic("mixed", options).unwrap();
            let mut slow = topic.subscribe(StartAt::Start);
            // Count bites: four small events, three kept.
            for n in [1, 1, 1, 1] {
                topic.publish(n).await.unwrap();
            }
            assert_eq!(topic.start(), Offset::new(1));
            // Bytes bite: 1 + 1 + 99 > 100.
            topic.publish(99).await.unwrap();
            assert_eq!(topic.start(), Offset::new(3));
            // Age bites: 31 s later, everything before goes.
            weft::time::advance(Duration::from_secs(31)).await;
            topic.publish(2).await.unwrap();
            assert_eq!(topic.start(), Offset::new(5));
            assert_eq!(read(&mut slow), (vec![2], 5), "{store:?}");
        });
    }
}

#[test]
fn set_retention_applies_age_and_bytes_to_what_is_there() {
    for store in STORES {
        let bus = EventBus::builder().build_sized_on(store, |n: &u32| *n as usize);
        let topic = bus.topic("t").unwrap();
        let mut slow = topic.subscribe(StartAt::Start);
        for n in [5, 5, 5, 5] {
            topic.try_publish(n).unwrap();
        }
        topic.set_retention(Retention::default().max_bytes(10));
        assert_eq!(topic.start(), Offset::new(2));
        assert_eq!(read(&mut slow), (vec![5, 5], 2), "{store:?}");
    }
}
