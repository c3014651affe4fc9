//! The queue keeps the promises its docs make under cancellation and
//! timers: each test here failed before its fix (#19).
//!
//! Futures are polled by hand with counting wakers; the clock is the
//! test's ([`queue_support::Manual`]).

mod queue_support;

use queue_support::{Counting, Manual};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;
use weft::queue::{DeadReason, Queue};

/// A publish dropped while it waited for room must not take the wakeup
/// meant for another producer that waits too.
#[test]
fn a_cancelled_publish_does_not_swallow_another_producers_wakeup() {
    let (_rt, spawner) = Manual::new();
    let queue = Queue::builder().capacity(1).spawner(&spawner).build();
    let producer = queue.producer();
    producer.try_publish(0).unwrap();
    let (first, second) = (Counting::new(), Counting::new());
    {
        let cancelled = pin!(producer.publish(1));
        assert!(first.poll(cancelled).is_pending());
    }
    let mut waiting = pin!(producer.publish(2));
    assert!(second.poll(waiting.as_mut()).is_pending());

    let mut consumer = queue.consumer();
    let mut recv = pin!(consumer.recv());
    let Poll::Ready(Ok(_held)) = Counting::new().poll(recv.as_mut()) else {
        panic!("the ready message was not delivered");
    };
    assert!(
        second.is_woken(),
        "room was made and the waiting producer slept on"
    );
    assert!(matches!(second.poll(waiting), Poll::Ready(Ok(()))));
}

/// A consumer whose `recv` was dropped stops asking: messages go to the
/// consumer that still waits.
#[test]
fn a_cancelled_recv_is_not_handed_messages_meant_for_a_waiting_consumer() {
    let (_rt, spawner) = Manual::new();
    let queue = Queue::builder().spawner(&spawner).build();
    let (mut quitter, mut waiter) = (queue.consumer(), queue.consumer());
    {
        let cancelled = pin!(quitter.recv());
        assert!(Counting::new().poll(cancelled).is_pending());
    }
    let woken = Counting::new();
    let mut recv = pin!(waiter.recv());
    assert!(woken.poll(recv.as_mut()).is_pending());

    queue.producer().try_publish("job").unwrap();
    assert!(woken.is_woken(), "the waiting consumer was not woken");
    match woken.poll(recv) {
        Poll::Ready(Ok(d)) => assert_eq!(*d, "job"),
        other => panic!("the waiting consumer got {other:?}"),
    }
}

/// A delivery handed to a waiting consumer, not yet returned by its
/// `recv`, is one message in flight, not two.
#[test]
fn a_handed_delivery_counts_once_in_flight() {
    let (_rt, spawner) = Manual::new();
    let queue = Queue::builder().spawner(&spawner).build();
    let mut consumer = queue.consumer();
    let mut recv = pin!(consumer.recv());
    assert!(Counting::new().poll(recv.as_mut()).is_pending());
    queue.producer().try_publish(7).unwrap();
    let stats = queue.stats();
    assert_eq!((stats.ready, stats.in_flight), (0, 1));
}

/// A message given back after its TTL passed leaves at once, not when the
/// timer set for a younger message fires.
#[test]
fn a_message_given_back_past_its_ttl_expires_at_once() {
    let (rt, spawner) = Manual::new();
    let queue = Queue::builder()
        .ttl(Duration::from_secs(60))
        .spawner(&spawner)
        .build();
    let producer = queue.producer();
    producer.try_publish("old").unwrap();
    let mut consumer = queue.consumer();
    let mut recv = pin!(consumer.recv());
    let Poll::Ready(Ok(old)) = Counting::new().poll(recv.as_mut()) else {
        panic!("not delivered");
    };
    rt.advance(Duration::from_secs(50));
    producer.try_publish("young").unwrap(); // expires at 110 s
    rt.advance(Duration::from_secs(11)); // 61 s: "old" is past its TTL
    old.nack(true).unwrap();
    rt.run();
    let stats = queue.stats();
    assert_eq!(stats.ready, 1, "the expired message is still ready");
    let dead = queue.try_dead_letter().unwrap().expect("dead-lettered");
    assert_eq!((dead.message, dead.reason), ("old", DeadReason::Expired));
}
