//! Consumer groups that assign partitions (`join_assigned`): each
//! partition to one live member at a time, rebalancing on join and leave,
//! the at-least-once window of a rebalance, and a seeded model under
//! random joins, leaves, crashes and acks.

#[path = "../../tests/support/mod.rs"]
mod support;

mod events_support;

use events_support::STORES;

use std::collections::{HashMap, VecDeque};
use support::Rng;
use weft::events::{EventBus, EventsError, GroupEvent, Member, Offset, RecvError, StartAt, TopicOptions};

fn partitioned(n: u32) -> TopicOptions {
    TopicOptions {
        partitions: n,
        ..TopicOptions::default()
    }
}

fn rebalanced(member: &mut Member<u32>) -> Vec<u32> {
    match member.try_recv() {
        Some(Err(RecvError::Rebalanced { partitions, .. })) => partitions,
        other => panic!("expected a rebalance, got {other:?}"),
    }
}

#[test]
fn every_partition_belongs_to_one_member_and_moves_when_members_come_and_go() {
    let bus = EventBus::<u32>::new();
    bus.create_topic("jobs", partitioned(4)).unwrap();
    let mut a = bus.join_assigned("g", "jobs", StartAt::Start).unwrap();
    assert_eq!(a.assignment(), [0, 1, 2, 3]);
    let mut b = bus.join_assigned("g", "jobs", StartAt::Start).unwrap();
    assert_eq!(b.assignment(), Vec::<u32>::new(), "not before `a` lets go");
    assert!(b.try_recv().is_none());
    assert_eq!(rebalanced(&mut a), [0, 2]);
    assert_eq!(a.assignment(), [0, 2]);
    assert!(b.try_recv().is_none(), "b is not told of its first assignment");
    assert_eq!(b.assignment(), [1, 3]);

    let mut c = bus.join_assigned("g", "jobs", StartAt::Start).unwrap();
    assert_eq!(rebalanced(&mut a), [0, 3]);
    assert_eq!(rebalanced(&mut b), [1]);
    assert!(c.try_recv().is_none());
    assert_eq!(c.assignment(), [2]);

    // A member that leaves lets go at once; round robin over b and c
    // moves partition 2 from c to b, which waits for c to let go of it.
    drop(a);
    assert_eq!(rebalanced(&mut b), [0, 2]);
    assert_eq!(b.assignment(), [0]);
    assert_eq!(rebalanced(&mut c), [1, 3]);
    assert_eq!((b.assignment(), c.assignment()), (vec![0, 2], vec![1, 3]));
}

#[test]
fn a_group_is_shared_or_assigned_not_both() {
    let bus = EventBus::<u32>::new();
    let shared = bus.join("g", "jobs", StartAt::Start).unwrap();
    assert!(matches!(
        bus.join_assigned("g", "jobs", StartAt::Start),
        Err(EventsError::GroupKind(group)) if group == "g"
    ));
    drop(shared);
    let assigned = bus.join_assigned("g", "jobs", StartAt::Start).unwrap();
    assert!(matches!(
        bus.join("g", "jobs", StartAt::Start),
        Err(EventsError::GroupKind(_))
    ));
    drop(assigned);
}

// ANCHOR: at-least-once
/// The at-least-once window of a rebalance: an event handed to the old
/// owner and not acked when it lets go of the partition goes to the new
/// owner again, and the old owner's late ack fails rather than counting.
#[test]
fn an_event_unacked_at_a_rebalance_goes_to_the_new_owner_again() {
    for store in STORES {
        let bus = events_support::bus_on(store);
        let jobs = bus.create_topic("jobs", partitioned(2)).unwrap();
        let mut a = bus.join_assigned("g", "jobs", StartAt::Start).unwrap();
        jobs.try_publish_to(1, 10).unwrap();
        jobs.try_publish_to(1, 11).unwrap();
        let first = a.try_recv().unwrap().unwrap();
        first.ack().unwrap();
        let in_hand = a.try_recv().unwrap().unwrap(); // 11, partition 1
        assert_eq!((*in_hand, in_hand.event().offset()), (11, Offset::new(1)));

        let mut b = bus.join_assigned("g", "jobs", StartAt::Start).unwrap();
        assert!(b.try_recv().is_none(), "partition 1 is still a's");
        // a's next call lets partition 1 go, rewound to the committed offset.
        assert_eq!(rebalanced(&mut a), [0]);
        let again = b.try_recv().unwrap().unwrap();
        assert_eq!((*again, again.delivery_count()), (11, 2), "handed out again");
        assert!(matches!(
            in_hand.ack(),
            Err(EventsError::Revoked { partition: 1, .. })
        ));
        assert_eq!(
            b.committed_in(1),
            Some(Offset::new(1)),
            "the late ack did not count"
        );
        again.ack().unwrap();
        assert_eq!(b.committed_in(1), Some(Offset::new(2)));
    }
}
// ANCHOR_END: at-least-once

#[test]
fn a_member_dropped_with_events_in_hand_lets_the_next_owner_have_them() {
    for store in STORES {
        let bus = events_support::bus_on(store);
        let jobs = bus.create_topic("jobs", partitioned(1)).unwrap();
        let mut a = bus.join_assigned("g", "jobs", StartAt::Start).unwrap();
        let mut b = bus.join_assigned("g", "jobs", StartAt::Start).unwrap();
        assert!(a.try_recv().is_none() && b.try_recv().is_none());
        for n in 0..3 {
            jobs.try_publish_keyed("k", n).unwrap();
        }
        let (first, second) = (a.try_recv().unwrap().unwrap(), a.try_recv().unwrap().unwrap());
        assert!(b.try_recv().is_none(), "one partition, one member");
        first.ack().unwrap();
        // A crash: the member goes, then the event it held.
        drop(a);
        drop(second);
        assert_eq!(rebalanced(&mut b), [0]);
        let got: Vec<u32> = std::iter::from_fn(|| b.try_recv())
            .map(|event| {
                let event = event.unwrap();
                let n = *event;
                event.ack().unwrap();
                n
            })
            .collect();
        assert_eq!(got, [1, 2]);
    }
}

#[test]
fn a_member_waiting_for_a_partition_is_woken_when_it_is_let_go() {
    for store in STORES {
        support::paused_current_thread().block_on(async {
            let bus = events_support::bus_on(store);
            let jobs = bus.create_topic("jobs", partitioned(2)).unwrap();
            let mut a = bus.join_assigned("g", "jobs", StartAt::Start).unwrap();
            let mut b = bus.join_assigned("g", "jobs", StartAt::Start).unwrap();
            jobs.try_publish_to(1, 7).unwrap();
            let waiting = weft::spawn(async move { *b.recv().await.unwrap() });
            weft::task::yield_now().await;
            assert!(!waiting.is_finished());
            assert_eq!(rebalanced(&mut a), [0]);
            assert_eq!(waiting.await.unwrap(), 7);
        });
    }
}

/// A member with no partition at all (more members than partitions) waits
/// for a rebalance: when the owner leaves, it is woken, told, and handed
/// the partition. It used to register its waker nowhere and sleep forever.
#[test]
fn a_member_without_partitions_is_woken_when_an_owner_leaves() {
    for store in STORES {
        support::paused_current_thread().block_on(async {
            let bus = events_support::bus_on(store);
            bus.try_publish("jobs", 7).unwrap();
            let first = bus.join_assigned("g", "jobs", StartAt::Start).unwrap();
            let mut second = bus.join_assigned("g", "jobs", StartAt::Start).unwrap();
            let waiting = weft::spawn(async move {
                let mut told = Vec::new();
                loop {
                    match second.recv().await {
                        Err(RecvError::Rebalanced { partitions, .. }) => told.push(partitions),
                        Ok(event) => return (told, *event),
                        Err(e) => panic!("unexpected {e:?}"),
                    }
                }
            });
            weft::task::yield_now().await;
            assert!(!waiting.is_finished());
            drop(first);
            let got = weft::time::timeout(std::time::Duration::from_secs(60), waiting).await;
            let (told, event) = got
                .expect("the member without partitions was never woken")
                .unwrap();
            assert_eq!(event, 7);
            assert_eq!(told.last(), Some(&vec![0]));
        });
    }
}

/// What a model member holds, oldest first.
type Held = VecDeque<GroupEvent<u32>>;

// ANCHOR: model
/// Random joins, leaves (ack, then go), crashes (go with events in hand),
/// receives and acks on an assigned group: every event is acked, and per
/// partition the successful acks are exactly offsets 0, 1, 2, ... in
/// order, so each key's events are handled in publication order, none
/// lost, none acked twice.
#[test]
fn an_assigned_group_under_random_joins_leaves_and_crashes_loses_nothing_and_keeps_order() {
    for store in STORES {
        const PARTITIONS: u32 = 4;
        for seed in 1..=300u64 {
            let mut rng = Rng(seed);
            let bus = events_support::bus_on(store);
            let topic = bus.create_topic("jobs", partitioned(PARTITIONS)).unwrap();
            let mut members: Vec<(Member<u32>, Held)> = Vec::new();
            // Per partition: the payloads published, and how many were acked.
            let mut published: HashMap<u32, Vec<u32>> = HashMap::new();
            let mut acked: HashMap<u32, Vec<u32>> = HashMap::new();
            let mut next = 0u32;
            let ack_oldest = |held: &mut Held, acked: &mut HashMap<u32, Vec<u32>>| {
                let Some(event) = held.pop_front() else { return };
                let (partition, offset, n) = (event.event().partition(), event.event().offset(), *event);
                match event.ack() {
                    Ok(()) => {
                        let done = acked.entry(partition).or_default();
                        assert_eq!(
                            offset.get(),
                            done.len() as u64,
                            "seed {seed}: acks in offset order"
                        );
                        done.push(n);
                    }
                    Err(EventsError::Revoked { .. }) => {}
                    Err(e) => panic!("seed {seed}: {e}"),
                }
            };
            for _ in 0..300 {
                match rng.below(10) {
                    0..=2 => {
                        let key = format!("k{}", rng.below(12));
                        topic.try_publish_keyed(&key, next).unwrap();
                        published.entry(topic.partition_for(&key)).or_default().push(next);
                        next += 1;
                    }
                    3 if members.len() < 4 => {
                        let member = bus.join_assigned("g", "jobs", StartAt::Start).unwrap();
                        members.push((member, VecDeque::new()));
                    }
                    4 if !members.is_empty() => {
                        let at = rng.below(members.len() as u64) as usize;
                        let (member, mut held) = members.swap_remove(at);
                        if rng.below(2) == 0 {
                            // A clean leave: finish what it holds first.
                            while !held.is_empty() {
                                ack_oldest(&mut held, &mut acked);
                            }
                            drop(member);
                        } else {
                            // A crash: the member goes with events in hand.
                            drop(member);
                            drop(held);
                        }
                    }
                    5..=7 if !members.is_empty() => {
                        let at = rng.below(members.len() as u64) as usize;
                        let (member, held) = &mut members[at];
                        match member.try_recv() {
                            Some(Ok(event)) => held.push_back(event),
                            Some(Err(RecvError::Rebalanced { .. })) | None => {}
                            Some(Err(e)) => panic!("seed {seed}: {e}"),
                        }
                    }
                    _ if !members.is_empty() => {
                        let at = rng.below(members.len() as u64) as usize;
                        ack_oldest(&mut members[at].1, &mut acked);
                    }
                    _ => {}
                }
            }
            // Drain: a member to be sure, then every member receives and acks
            // until a whole round brings nothing.
            members.push((
                bus.join_assigned("g", "jobs", StartAt::Start).unwrap(),
                VecDeque::new(),
            ));
            loop {
                let mut progress = false;
                for (member, held) in &mut members {
                    while !held.is_empty() {
                        ack_oldest(held, &mut acked);
                    }
                    while let Some(result) = member.try_recv() {
                        progress = true;
                        match result {
                            Ok(event) => {
                                held.push_back(event);
                                ack_oldest(held, &mut acked);
                            }
                            Err(RecvError::Rebalanced { .. }) => {}
                            Err(e) => panic!("seed {seed}: {e}"),
                        }
                    }
                }
                if !progress {
                    break;
                }
            }
            for partition in 0..PARTITIONS {
                let sent = published.remove(&partition).unwrap_or_default();
                let done = acked.remove(&partition).unwrap_or_default();
                assert_eq!(
                    done, sent,
                    "seed {seed}: partition {partition} acked in full, in order"
                );
            }
        }
    }
}
// ANCHOR_END: model
