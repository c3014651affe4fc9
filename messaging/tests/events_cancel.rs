//! What a cancelled or abandoned wait leaves behind on the event bus: a
//! group member that stopped asking must not keep its task's waker (and
//! so the task's memory) in the group.

mod events_support;

use events_support::STORES;

use std::sync::Arc;
use std::task::{Context, Wake, Waker};
use weft::events::{EventBus, StartAt};

struct Noop;

impl Wake for Noop {
    fn wake(self: Arc<Self>) {}
}

/// A waker, and a handle that tells whether anyone still holds it.
fn tracked() -> (Arc<Noop>, Waker) {
    let task = Arc::new(Noop);
    (task.clone(), Waker::from(task))
}

#[test]
fn a_member_that_left_while_waiting_does_not_keep_its_waker() {
    for store in STORES {
        let bus = events_support::bus_on(store);
        let mut gone = bus.join("g", "jobs", StartAt::Latest).unwrap();
        let (task, waker) = tracked();
        assert!(gone.poll_recv(&mut Context::from_waker(&waker)).is_pending());
        drop((gone, waker));

        // The group goes on with acks only: nothing is ever given back.
        let mut stays = bus.join("g", "jobs", StartAt::Latest).unwrap();
        bus.try_publish("jobs", 1).unwrap();
        stays.try_recv().unwrap().unwrap().ack().unwrap();
        assert_eq!(
            Arc::strong_count(&task),
            1,
            "the group still holds the waker of a member that left"
        );
    }
}

#[test]
fn a_member_polled_by_another_task_keeps_only_the_latest_waker() {
    for store in STORES {
        let bus = events_support::bus_on(store);
        let mut member = bus.join("g", "jobs", StartAt::Latest).unwrap();
        let (first, waker) = tracked();
        assert!(member.poll_recv(&mut Context::from_waker(&waker)).is_pending());
        drop(waker);
        // The first task's recv was cancelled; the member waits in another.
        let (_second, waker) = tracked();
        assert!(member.poll_recv(&mut Context::from_waker(&waker)).is_pending());
        bus.try_publish("jobs", 1).unwrap();
        member.try_recv().unwrap().unwrap().ack().unwrap();
        assert_eq!(
            Arc::strong_count(&first),
            1,
            "the group still holds a cancelled recv's waker"
        );
    }
}

#[test]
fn a_subscriber_dropped_while_waiting_does_not_keep_its_waker() {
    let bus = EventBus::<u32>::new();
    let mut sub = bus.subscribe("quiet", StartAt::Latest).unwrap();
    let mut pattern = bus.subscribe("#", StartAt::Latest).unwrap();
    let (task, waker) = tracked();
    let mut cx = Context::from_waker(&waker);
    assert!(sub.poll_recv(&mut cx).is_pending());
    assert!(pattern.poll_recv(&mut cx).is_pending());
    drop((sub, pattern, waker));
    // Nothing is published on the quiet topic for a long time.
    assert_eq!(
        Arc::strong_count(&task),
        1,
        "the topic's log still holds the waker"
    );
}

#[test]
fn a_member_dropped_while_waiting_leaves_no_waker_in_the_log() {
    let bus = EventBus::<u32>::new();
    let mut member = bus.join("g", "quiet", StartAt::Latest).unwrap();
    let (task, waker) = tracked();
    assert!(member.poll_recv(&mut Context::from_waker(&waker)).is_pending());
    drop((member, waker));
    assert_eq!(
        Arc::strong_count(&task),
        1,
        "the topic's log still holds the waker"
    );
}

#[test]
fn a_subscriber_polled_by_another_task_keeps_only_the_latest_waker_in_the_log() {
    let bus = EventBus::<u32>::new();
    let mut sub = bus.subscribe("quiet", StartAt::Latest).unwrap();
    let (first, waker) = tracked();
    assert!(sub.poll_recv(&mut Context::from_waker(&waker)).is_pending());
    drop(waker);
    let (_second, waker) = tracked();
    assert!(sub.poll_recv(&mut Context::from_waker(&waker)).is_pending());
    assert_eq!(
        Arc::strong_count(&first),
        1,
        "the log still holds a cancelled recv's waker"
    );
}
