//! A queue with a capacity and an overflow policy, and the redelivery
//! back-off, on a quorum queue of the private node: `Reject` gives the
//! message back as `Full`, `DropOldest` dead-letters the oldest as
//! `Overflowed`, `Wait` holds a publish until there is room, refusals
//! leave the publishing channel open, and a nacked or dropped delivery,
//! or one past its ack deadline, comes back no sooner than its back-off.

use crate::{BOUND, bounded, connect, ready, unique};
use std::time::Duration;
use weft::queue::{DeadReason, Overflow, PublishError, Queue, Utf8};
use weft::spawner::Spawner;
use weft_rabbitmq::{Connection, QueueOptions};
use weft_test_support::rabbitmq::broker;

/// A new queue of `capacity` under `overflow`.
async fn open(conn: &Connection, capacity: u32, overflow: Overflow) -> (String, Queue<String>) {
    let name = unique("weft-overflow");
    let mut options = QueueOptions::new();
    options.capacity(capacity).overflow(overflow);
    let queue = weft_rabbitmq::queue(conn, &name, &options, Utf8).await.unwrap();
    (name, queue)
}

/// Receives and acks `m{n}` for each `n` of `ns`, in that order.
async fn take_in_order(queue: &Queue<String>, ns: std::ops::Range<usize>) {
    let mut consumer = queue.consumer();
    for n in ns {
        let delivery = bounded("a message", consumer.recv()).await.unwrap();
        assert_eq!(*delivery, format!("m{n}"));
        delivery.ack().unwrap();
    }
}

/// The id of a new channel on `conn`, closed at once: lapin numbers
/// channels in order, so the difference of two is how many were opened
/// in between.
async fn next_channel_id(conn: &Connection) -> u16 {
    let channel = conn.channel().await.unwrap();
    let id = channel.id();
    channel.close(200, "probed".into()).await.unwrap();
    id
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn reject_gives_the_message_back_as_full_and_the_queue_holds_its_capacity() {
    let Some(_) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect().await;
        let (name, queue) = open(&conn, 3, Overflow::Reject).await;
        let producer = queue.producer();
        for n in 0..3 {
            producer.publish(format!("m{n}")).await.unwrap();
        }
        for _ in 0..2 {
            let err = producer.publish("one too many".to_string()).await.unwrap_err();
            assert!(
                matches!(&err, PublishError::Full(m) if m == "one too many"),
                "{err:?}"
            );
        }
        assert_eq!(ready(&conn, &name).await, 3);
        assert_eq!(queue.stats().published, 3);
        // The oldest are still there, in order.
        take_in_order(&queue, 0..3).await;
    });
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn drop_oldest_dead_letters_the_oldest_as_overflowed_and_delivers_the_newest() {
    let Some(_) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect().await;
        let (name, queue) = open(&conn, 2, Overflow::DropOldest).await;
        for n in 0..5 {
            queue.producer().publish(format!("m{n}")).await.unwrap();
        }
        assert_eq!(ready(&conn, &name).await, 2);
        for n in 0..3 {
            let letter = bounded("a dead letter", queue.dead_letter()).await.unwrap();
            assert_eq!(
                (letter.message.as_str(), letter.reason),
                (format!("m{n}").as_str(), DeadReason::Overflowed)
            );
        }
        take_in_order(&queue, 3..5).await;
    });
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn wait_holds_a_publish_until_a_consumer_takes_a_message() {
    let Some(_) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect().await;
        let (name, queue) = open(&conn, 1, Overflow::Wait).await;
        queue.producer().publish("first".to_string()).await.unwrap();
        let producer = queue.producer();
        let waiting = weft::spawn(async move { producer.publish("second".to_string()).await });
        // A round trip to the broker later, it is neither stored nor
        // failed: it waits.
        assert_eq!(ready(&conn, &name).await, 1);
        assert!(!waiting.is_finished());
        assert_eq!(queue.stats().published, 1);

        let mut consumer = queue.consumer();
        let first = bounded("the first", consumer.recv()).await.unwrap();
        assert_eq!(*first, "first");
        first.ack().unwrap();
        bounded("the waiting publish", waiting).await.unwrap().unwrap();
        let second = bounded("the second", consumer.recv()).await.unwrap();
        assert_eq!(*second, "second");
        second.ack().unwrap();
        assert_eq!(queue.stats().published, 2);
    });
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_publish_waiting_for_room_ends_closed_when_the_queue_closes() {
    let Some(_) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect().await;
        let (name, queue) = open(&conn, 1, Overflow::Wait).await;
        queue.producer().publish("first".to_string()).await.unwrap();
        let producer = queue.producer();
        let waiting = weft::spawn(async move { producer.publish("second".to_string()).await });
        assert_eq!(ready(&conn, &name).await, 1);
        queue.close();
        let err = bounded("the waiting publish", waiting)
            .await
            .unwrap()
            .unwrap_err();
        assert!(
            matches!(&err, PublishError::Closed(m) if m == "second"),
            "{err:?}"
        );
        assert_eq!(ready(&conn, &name).await, 1);
    });
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_full_queue_refuses_publishes_on_the_same_channel_and_takes_them_again_after() {
    const REFUSALS: usize = 100;
    let Some(_) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect().await;
        let (_, queue) = open(&conn, 1, Overflow::Reject).await;
        let producer = queue.producer();
        producer.publish("kept".to_string()).await.unwrap();
        let before = next_channel_id(&conn).await;
        for n in 0..REFUSALS {
            let err = producer.publish(format!("refused {n}")).await.unwrap_err();
            assert!(matches!(err, PublishError::Full(_)), "{n}: {err:?}");
        }
        // No channel was opened meanwhile: the refusals kept it.
        assert_eq!(next_channel_id(&conn).await, before + 1);

        let mut consumer = queue.consumer();
        bounded("the kept one", consumer.recv())
            .await
            .unwrap()
            .ack()
            .unwrap();
        // The broker lets the channel publish again a moment after the
        // queue has room (a message of its own to the channel): bounded.
        let mut tries = 0;
        loop {
            match producer.publish("after".to_string()).await {
                Ok(()) => break,
                Err(PublishError::Full(_)) if tries < 100 => tries += 1,
                Err(err) => panic!("after {tries} tries: {err:?}"),
            }
        }
        let after = bounded("the one after", consumer.recv()).await.unwrap();
        assert_eq!(*after, "after");
        after.ack().unwrap();
    });
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_nacked_or_dropped_delivery_comes_back_no_sooner_than_its_backoff() {
    let Some(_) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect().await;
        let base = Duration::from_millis(100);
        let mut options = QueueOptions::new();
        options.redelivery_backoff(base, base * 10);
        let name = unique("weft-backoff");
        let queue = weft_rabbitmq::queue(&conn, &name, &options, Utf8).await.unwrap();
        queue.producer().publish("flaky".to_string()).await.unwrap();
        let clock = Spawner::current();
        let mut consumer = queue.consumer();

        let first = bounded("the first delivery", consumer.recv()).await.unwrap();
        let nacked_at = clock.now();
        first.nack(true).unwrap();
        assert_eq!(queue.stats().delayed, 1);
        let second = bounded("the second delivery", consumer.recv()).await.unwrap();
        assert!(clock.now() - nacked_at >= base, "back before its back-off");
        assert_eq!((second.as_str(), second.delivery_count()), ("flaky", 2));

        // Dropped, the second delivery waits twice the base.
        let dropped_at = clock.now();
        drop(second);
        let third = bounded("the third delivery", consumer.recv()).await.unwrap();
        assert!(clock.now() - dropped_at >= base * 2, "back before its back-off");
        assert_eq!(third.delivery_count(), 3);
        assert_eq!(queue.stats().delayed, 0);
        third.ack().unwrap();
    });
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_delivery_past_its_ack_deadline_comes_back_no_sooner_than_deadline_and_backoff() {
    let Some(_) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect().await;
        let (deadline, base) = (Duration::from_millis(50), Duration::from_millis(100));
        let mut options = QueueOptions::new();
        options.ack_deadline(deadline).redelivery_backoff(base, base * 10);
        let name = unique("weft-backoff");
        let queue = weft_rabbitmq::queue(&conn, &name, &options, Utf8).await.unwrap();
        queue.producer().publish("slow".to_string()).await.unwrap();
        let clock = Spawner::current();
        let mut consumer = queue.consumer();

        let late = bounded("the first delivery", consumer.recv()).await.unwrap();
        let received_at = clock.now();
        // Held past its deadline: given back, after the back-off.
        let again = bounded("the second delivery", consumer.recv()).await.unwrap();
        assert!(
            clock.now() - received_at >= deadline + base,
            "back before its back-off"
        );
        assert_eq!((again.as_str(), again.delivery_count()), ("slow", 2));
        drop(late);
        again.extend_deadline(BOUND).unwrap();
        again.ack().unwrap();
    });
}
