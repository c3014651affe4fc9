//! Loom models of the bus's wake protocol: a reader waiting on a topic
//! misses no event a publisher on another thread appends, and is woken by
//! a close or by the last handle dropped on another thread, never left
//! hanging.

use crate::events::{EventBus, RecvError, StartAt};
use loom::future::block_on;
use loom::thread;

#[test]
fn a_waiting_subscriber_sees_every_event_published_on_another_thread() {
    loom::model(|| {
        let bus: EventBus<u32> = EventBus::new();
        let mut sub = bus.subscribe("t", StartAt::Latest).unwrap();
        let topic = bus.topic("t").unwrap();
        let publisher = thread::spawn(move || {
            topic.try_publish(1).unwrap();
            topic.try_publish(2).unwrap();
        });
        let got = block_on(async {
            let a = *sub.recv().await.unwrap();
            let b = *sub.recv().await.unwrap();
            (a, b)
        });
        publisher.join().unwrap();
        assert_eq!(got, (1, 2));
    });
}

#[test]
fn a_pattern_subscriber_hears_of_a_topic_made_on_another_thread() {
    loom::model(|| {
        let bus: EventBus<u32> = EventBus::new();
        let mut sub = bus.subscribe("user.*", StartAt::Latest).unwrap();
        let publisher = bus.clone();
        let t = thread::spawn(move || {
            publisher.try_publish("user.new", 7).unwrap();
        });
        let event = block_on(sub.recv()).unwrap();
        t.join().unwrap();
        assert_eq!((event.topic(), *event), ("user.new", 7));
    });
}

#[test]
fn the_last_handle_dropped_on_another_thread_wakes_a_waiting_reader() {
    loom::model(|| {
        let bus: EventBus<u32> = EventBus::new();
        let mut exact = bus.subscribe("t", StartAt::Latest).unwrap();
        let other = bus.clone();
        let t = thread::spawn(move || {
            other.try_publish("t", 1).unwrap();
            drop(other);
        });
        drop(bus);
        let mut got = Vec::new();
        let end = block_on(async {
            loop {
                match exact.recv().await {
                    Ok(event) => got.push(*event),
                    Err(e) => return e,
                }
            }
        });
        t.join().unwrap();
        assert_eq!((got, end), (vec![1], RecvError::Closed));
    });
}

/// A reader that goes gives its waker slot back while a publisher on
/// another thread may be waking it; a new reader takes the same slot and
/// waits: it sees the event, never left waiting by a wake meant for the
/// slot's last owner.
#[test]
fn a_waker_slot_given_back_and_taken_again_loses_no_wake_up() {
    loom::model(|| {
        let bus: EventBus<u32> = EventBus::new();
        let topic = bus.topic("t").unwrap();
        let mut first = topic.subscribe(StartAt::Latest);
        // The first reader waits, so it holds slot 0.
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(first.poll_recv(&mut cx).is_pending());
        let publisher = thread::spawn(move || {
            topic.try_publish(1).unwrap();
        });
        drop(first);
        let mut second = bus.subscribe("t", StartAt::Start).unwrap();
        let got = block_on(second.recv()).unwrap();
        publisher.join().unwrap();
        assert_eq!(*got, 1);
    });
}
