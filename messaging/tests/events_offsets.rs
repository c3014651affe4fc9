//! Moving offsets: seeking a subscriber, resetting a stopped group, batch
//! commits, and a group's lag per partition.

#[path = "../../tests/support/mod.rs"]
mod support;

mod events_support;

use events_support::{BuildOn, STORES};

use std::time::Duration;
use support::paused_current_thread;
use weft::events::{EventBus, EventsError, Offset, StartAt, TopicOptions};
use weft::spawner::Spawner;

fn two_partitions() -> TopicOptions {
    TopicOptions {
        partitions: 2,
        ..TopicOptions::default()
    }
}

#[test]
fn a_subscriber_seeks_to_an_offset_or_a_time_on_every_partition() {
    for store in STORES {
        paused_current_thread().block_on(async {
            let bus = EventBus::builder().spawner(&Spawner::current()).build_on(store);
            let topic = bus.create_topic("audit", two_partitions()).unwrap();
            for n in 0..6 {
                topic.publish(n).await.unwrap(); // partitions 0, 1, 0, 1, ...
                weft::time::advance(Duration::from_secs(10)).await;
            }
            let mut sub = topic.subscribe(StartAt::Latest);
            assert!(sub.try_recv().is_none());
            let collect = |sub: &mut weft::events::Subscriber<u32>| {
                std::iter::from_fn(|| sub.try_recv())
                    .map(|e| *e.unwrap())
                    .collect::<Vec<_>>()
            };
            sub.seek(StartAt::Offset(Offset::new(2)));
            assert_eq!(collect(&mut sub), [4, 5], "offset 2 of each partition");
            sub.seek(StartAt::Start);
            assert_eq!(collect(&mut sub), [0, 1, 2, 3, 4, 5]);
            let mut probe = topic.subscribe(StartAt::Start);
            let third = probe
                .try_recv()
                .and(probe.try_recv())
                .and(probe.try_recv())
                .unwrap()
                .unwrap();
            sub.seek(StartAt::Time(third.timestamp()));
            assert_eq!(collect(&mut sub), [2, 3, 4, 5]);
            sub.seek(StartAt::Latest);
            topic.publish(6).await.unwrap();
            assert_eq!(collect(&mut sub), [6]);
        });
    }
}

// ANCHOR: reset
#[test]
fn a_stopped_group_is_reset_and_a_running_one_refuses() {
    for store in STORES {
        let bus = events_support::bus_on(store);
        let topic = bus.create_topic("jobs", two_partitions()).unwrap();
        for n in 0..6 {
            topic.try_publish(n).unwrap();
        }
        let mut member = bus.join_assigned("g", "jobs", StartAt::Start).unwrap();
        let held = member.try_recv().unwrap().unwrap();
        for to in [StartAt::Start, StartAt::Latest, StartAt::Offset(Offset::new(1))] {
            assert!(matches!(bus.reset_group("g", "jobs", to), Err(EventsError::GroupActive(g)) if g == "g"));
        }
        drop(member);
        bus.reset_group("g", "jobs", StartAt::Latest).unwrap();
        assert_eq!(bus.lag("g", "jobs").unwrap(), [0, 0]);
        // An event held across the reset no longer counts.
        assert!(matches!(held.ack(), Err(EventsError::Revoked { .. })));
        bus.reset_group("g", "jobs", StartAt::Offset(Offset::new(2)))
            .unwrap();
        assert_eq!(bus.lag("g", "jobs").unwrap(), [1, 1]);
        let mut member = bus.join_assigned("g", "jobs", StartAt::Start).unwrap();
        let mut got: Vec<u32> = std::iter::from_fn(|| member.try_recv())
            .map(|event| {
                let event = event.unwrap();
                let n = *event;
                event.ack().unwrap();
                n
            })
            .collect();
        got.sort_unstable();
        assert_eq!(got, [4, 5]);
        drop(member);
        bus.reset_group("g", "jobs", StartAt::Start).unwrap();
        assert_eq!(bus.committed_in("g", "jobs", 1).unwrap(), Some(Offset::new(0)));
    }
}
// ANCHOR_END: reset

#[test]
fn resetting_a_group_that_never_ran_stores_its_offsets() {
    for store in STORES {
        let bus = events_support::bus_on(store);
        for n in 0..3 {
            bus.try_publish("jobs", n).unwrap();
        }
        bus.reset_group("new", "jobs", StartAt::Offset(Offset::new(2)))
            .unwrap();
        assert_eq!(bus.committed("new", "jobs").unwrap(), Some(Offset::new(2)));
        let mut member = bus.join("new", "jobs", StartAt::Start).unwrap();
        assert_eq!(*member.try_recv().unwrap().unwrap(), 2);
    }
}

#[test]
fn commit_up_to_settles_a_batch_in_one_call() {
    for store in STORES {
        let bus = events_support::bus_on(store);
        let mut member = bus.join("g", "jobs", StartAt::Start).unwrap();
        for n in 0..4 {
            bus.try_publish("jobs", n).unwrap();
        }
        let batch: Vec<_> = (0..3).map(|_| member.try_recv().unwrap().unwrap()).collect();
        member.commit_up_to(0, Offset::new(2)).unwrap();
        assert_eq!(member.committed(), Offset::new(2));
        // 0 and 1 are settled; 2 is still out and goes back when dropped.
        drop(batch);
        let again = member.try_recv().unwrap().unwrap();
        assert_eq!((*again, again.redelivered()), (2, true));
        // Past what the group read: up to what it read.
        member.commit_up_to(0, Offset::new(100)).unwrap();
        assert_eq!(member.committed(), Offset::new(3));
        assert!(again.ack().is_ok(), "settled already");
        assert_eq!(*member.try_recv().unwrap().unwrap(), 3);
        assert!(matches!(
            member.commit_up_to(1, Offset::new(0)),
            Err(EventsError::Revoked { .. })
        ));
    }
}

#[test]
fn an_assigned_member_commits_only_what_it_holds() {
    let bus = EventBus::<u32>::new();
    bus.create_topic("jobs", two_partitions()).unwrap();
    let mut a = bus.join_assigned("g", "jobs", StartAt::Start).unwrap();
    let b = bus.join_assigned("g", "jobs", StartAt::Start).unwrap();
    assert!(a.try_recv().is_some(), "told of the rebalance");
    assert!(matches!(
        a.commit_up_to(1, Offset::new(0)),
        Err(EventsError::Revoked { partition: 1, .. })
    ));
    assert!(b.commit_up_to(1, Offset::new(0)).is_ok());
}

#[test]
fn lag_is_per_partition() {
    for store in STORES {
        let bus = events_support::bus_on(store);
        let topic = bus.create_topic("jobs", two_partitions()).unwrap();
        let mut member = bus.join("g", "jobs", StartAt::Start).unwrap();
        for n in 0..5 {
            topic.try_publish(n).unwrap(); // 3 in partition 0, 2 in 1
        }
        assert_eq!(bus.lag("g", "jobs").unwrap(), [3, 2]);
        member.commit_up_to(0, Offset::new(3)).unwrap();
        // Nothing was read yet: the commit stops at what the group read.
        assert_eq!(bus.lag("g", "jobs").unwrap(), [3, 2]);
        while let Some(event) = member.try_recv() {
            event.unwrap().ack().unwrap();
        }
        assert_eq!(bus.lag("g", "jobs").unwrap(), [0, 0]);
        assert_eq!(
            bus.lag("nobody", "jobs").unwrap(),
            [3, 2],
            "from the oldest retained"
        );
    }
}

#[test]
fn a_subscriber_seeks_one_partition_to_an_offset_or_a_time_and_leaves_the_other() {
    for store in STORES {
        paused_current_thread().block_on(async {
            let bus = EventBus::builder().spawner(&Spawner::current()).build_on(store);
            let topic = bus.create_topic("audit", two_partitions()).unwrap();
            for n in 0..6 {
                topic.publish(n).await.unwrap(); // partitions 0, 1, 0, 1, ...
                weft::time::advance(Duration::from_secs(10)).await;
            }
            let collect = |sub: &mut weft::events::Subscriber<u32>| {
                std::iter::from_fn(|| sub.try_recv())
                    .map(|e| *e.unwrap())
                    .collect::<Vec<_>>()
            };
            let mut sub = topic.subscribe(StartAt::Latest);
            sub.seek_partition("audit", 1, StartAt::Offset(Offset::new(1)))
                .unwrap();
            assert_eq!(collect(&mut sub), [3, 5], "partition 1 only, from its offset 1");
            // Event 2 is partition 0's offset 1, stamped 20 s after the first.
            let mut probe = topic.subscribe(StartAt::Start);
            let second = probe.try_recv().unwrap().unwrap().timestamp() + Duration::from_secs(20);
            sub.seek_partition("audit", 0, StartAt::Time(second)).unwrap();
            assert_eq!(collect(&mut sub), [2, 4]);
            let missing = sub.seek_partition("audit", 2, StartAt::Start);
            assert!(matches!(
                missing,
                Err(EventsError::NoPartition { partition: 2, .. })
            ));
            let other = sub.seek_partition("other", 0, StartAt::Start);
            assert!(matches!(other, Err(EventsError::NoPartition { .. })));
            assert!(sub.try_recv().is_none(), "a failed seek moves nothing");
        });
    }
}

#[test]
fn a_stopped_group_is_reset_on_one_partition_only() {
    for store in STORES {
        let bus = events_support::bus_on(store);
        let topic = bus.create_topic("jobs", two_partitions()).unwrap();
        for n in 0..4 {
            topic.try_publish_to(n % 2, n).unwrap();
        }
        let member = bus.join("workers", "jobs", StartAt::Start).unwrap();
        let active = bus.reset_group_partition("workers", "jobs", 0, StartAt::Latest);
        assert!(matches!(active, Err(EventsError::GroupActive(_))));
        drop(member);
        bus.reset_group_partition("workers", "jobs", 0, StartAt::Latest)
            .unwrap();
        assert_eq!(
            bus.committed_in("workers", "jobs", 0).unwrap(),
            Some(Offset::new(2))
        );
        assert_eq!(
            bus.committed_in("workers", "jobs", 1).unwrap(),
            Some(Offset::new(0))
        );
        let missing = bus.reset_group_partition("workers", "jobs", 2, StartAt::Start);
        assert!(matches!(
            missing,
            Err(EventsError::NoPartition { partition: 2, .. })
        ));
        let mut member = bus.join("workers", "jobs", StartAt::Start).unwrap();
        let got: Vec<u32> = std::iter::from_fn(|| member.try_recv())
            .map(|e| {
                let e = e.unwrap();
                let n = *e;
                e.ack().unwrap();
                n
            })
            .collect();
        assert_eq!(
            got,
            [1, 3],
            "partition 1 kept its place; partition 0 moved to its end"
        );
    }
}

#[test]
fn a_keyed_event_with_properties_goes_to_its_keys_partition_and_carries_both() {
    for store in STORES {
        weft::block_on(async {
            let bus = events_support::bus_on(store);
            let options = TopicOptions {
                partitions: 8,
                ..TopicOptions::default()
            };
            let carts = bus.create_topic("cart.updated", options).unwrap();
            let mut all = carts.subscribe(StartAt::Start);
            let with = |id: &str| weft::events::Properties::new().with_id(id).with_header("h", "v");
            bus.publish_keyed_with("cart.updated", "cart-1", 1, with("a"))
                .await
                .unwrap();
            carts.publish_keyed_with("cart-1", 2, with("b")).await.unwrap();
            bus.try_publish_keyed_with("cart.updated", "cart-1", 3, with("c"))
                .unwrap();
            carts.try_publish_keyed_with("cart-1", 4, with("d")).unwrap();
            for (n, id) in [(1, "a"), (2, "b"), (3, "c"), (4, "d")] {
                let event = all.recv().await.unwrap();
                assert_eq!(*event, n);
                assert_eq!(event.key(), Some("cart-1"));
                assert_eq!(event.partition(), carts.partition_for("cart-1"));
                let properties = event.properties().unwrap();
                assert_eq!(
                    (properties.id().as_str(), properties.header("h")),
                    (id, Some("v"))
                );
                assert_eq!(properties.timestamp(), Some(event.timestamp()));
            }
        });
    }
}
