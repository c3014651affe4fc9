//! Time: every event is stamped (by the runtime's clock, paused here, or by
//! its publisher), and readers start from a time.

#[path = "../../tests/support/mod.rs"]
mod support;

mod events_support;

use events_support::STORES;

use std::time::{Duration, SystemTime};
use support::paused_current_thread;
use weft::events::{EventBus, Properties, StartAt, TopicOptions};
use weft::spawner::Spawner;

fn on_runtime_clock() -> EventBus<u32> {
    EventBus::builder().spawner(&Spawner::current()).build()
}

#[test]
fn events_are_stamped_by_the_runtime_clock() {
    paused_current_thread().block_on(async {
        let bus = on_runtime_clock();
        let mut sub = bus.subscribe("audit", StartAt::Latest).unwrap();
        bus.publish("audit", 1).await.unwrap();
        weft::time::advance(Duration::from_secs(10)).await;
        bus.publish_with("audit", 2, Properties::new()).await.unwrap();
        let (first, second) = (sub.recv().await.unwrap(), sub.recv().await.unwrap());
        let apart = second.timestamp().duration_since(first.timestamp()).unwrap();
        assert_eq!(
            apart,
            Duration::from_secs(10),
            "the paused clock, not the system's"
        );
        assert_eq!(second.properties().unwrap().timestamp(), Some(second.timestamp()));
    });
}

// ANCHOR: from-time
#[test]
fn a_subscriber_or_a_group_starts_from_a_time() {
    paused_current_thread().block_on(async {
        let bus = on_runtime_clock();
        let topic = bus
            .create_topic(
                "audit",
                TopicOptions {
                    partitions: 2,
                    ..TopicOptions::default()
                },
            )
            .unwrap();
        for n in 0..4 {
            topic.publish(n).await.unwrap(); // partitions 0, 1, 0, 1
            weft::time::advance(Duration::from_secs(10)).await;
        }
        let mut all = topic.subscribe(StartAt::Start);
        let stamps: Vec<SystemTime> = (0..4)
            .map(|_| all.try_recv().unwrap().unwrap().timestamp())
            .collect();
        assert_eq!(
            stamps[3].duration_since(stamps[0]).unwrap(),
            Duration::from_secs(30)
        );
        // Halfway between the second and the third event.
        let from = stamps[1] + Duration::from_secs(5);
        let mut sub = topic.subscribe(StartAt::Time(from));
        let got: Vec<u32> = std::iter::from_fn(|| sub.try_recv())
            .map(|e| *e.unwrap())
            .collect();
        assert_eq!(got, [2, 3]);
        // At a time exactly: that event is the first.
        let mut exact = topic.subscribe(StartAt::Time(stamps[1]));
        assert_eq!(*exact.try_recv().unwrap().unwrap(), 1);

        let mut member = bus.join_assigned("late", "audit", StartAt::Time(from)).unwrap();
        let mut handed = Vec::new();
        while let Some(event) = member.try_recv() {
            let event = event.unwrap();
            handed.push(*event);
            event.ack().unwrap();
        }
        handed.sort_unstable();
        assert_eq!(handed, [2, 3]);

        // After every event: the next one published.
        let mut future = topic.subscribe(StartAt::Time(stamps[3] + Duration::from_secs(1)));
        assert!(future.try_recv().is_none());
        topic.publish(4).await.unwrap();
        assert_eq!(*future.recv().await.unwrap(), 4);
    });
}
// ANCHOR_END: from-time

#[test]
fn a_publisher_set_time_is_kept_and_found() {
    for store in STORES {
        let bus = events_support::bus_on(store);
        let at = |secs| SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
        for (n, secs) in [(0, 100), (1, 50), (2, 200)] {
            let properties = Properties::new().with_timestamp(at(secs));
            bus.try_publish_with("imported", n, properties).unwrap();
        }
        // The first offset stamped at or after the time, whatever the order.
        let first = |secs| {
            let mut sub = bus.subscribe("imported", StartAt::Time(at(secs))).unwrap();
            sub.try_recv().map(|e| *e.unwrap())
        };
        assert_eq!(first(60), Some(0));
        assert_eq!(first(150), Some(2));
        assert_eq!(first(201), None);
    }
}

#[test]
fn a_time_keeps_its_nanoseconds_and_one_before_the_epoch_reads_as_the_epoch() {
    for store in STORES {
        let bus = events_support::bus_on(store);
        let mut sub = bus.subscribe("imported", StartAt::Latest).unwrap();
        let precise = SystemTime::UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789);
        let before = SystemTime::UNIX_EPOCH - Duration::from_secs(3600);
        for (n, at) in [(0, precise), (1, before)] {
            bus.try_publish_with("imported", n, Properties::new().with_timestamp(at))
                .unwrap();
        }
        let stamps: Vec<_> = std::iter::from_fn(|| sub.try_recv())
            .map(|event| event.unwrap().timestamp())
            .collect();
        assert_eq!(stamps, [precise, SystemTime::UNIX_EPOCH], "{store:?}");
        // Found by time as stored: the clamped one is at the epoch.
        let mut from_epoch = bus
            .subscribe("imported", StartAt::Time(SystemTime::UNIX_EPOCH))
            .unwrap();
        assert_eq!(*from_epoch.try_recv().unwrap().unwrap(), 0);
        let mut from_before = bus.subscribe("imported", StartAt::Time(before)).unwrap();
        assert_eq!(*from_before.try_recv().unwrap().unwrap(), 0);
    }
}
