//! The queue contract: what a [`Queue`] does on every backend.
//!
//! Each check makes its own queue (or queues) with the maker, so that a
//! shared broker can run them side by side.

use super::{BOUND, bounded};
use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};
use weft::queue::{
    AckError, DeadLetter, DeadReason, Outcome, Properties, PublishError, Queue, RecvError, Verdict,
};

/// How a queue is to be made; each backend maps it onto its own settings.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Deliveries after which an unacked message is dead-lettered.
    pub(crate) max_deliveries: u32,
    /// Age at which an undelivered message is dead-lettered, if any.
    pub(crate) ttl: Option<Duration>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            max_deliveries: 5,
            ttl: None,
        }
    }
}

/// What a backend does where the contract allows it to differ, each as
/// its documentation states it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caps {
    /// Higher priorities are delivered first, FIFO within one. A quorum
    /// queue (RabbitMQ 3.10) has no priorities: it carries the priority
    /// and delivers in publication order.
    pub(crate) priorities: bool,
    /// A dead letter's `history` lists each delivery. RabbitMQ's `x-death`
    /// counts deaths, not deliveries, so the broker's history is empty.
    pub(crate) history: bool,
    /// `purge` returns how many it removed, at once. The broker's purge is
    /// sent to the broker and returns 0; it takes effect a moment later.
    pub(crate) purge_counts: bool,
    /// `redrive` moves dead letters back. Not offered by the broker yet:
    /// it returns 0 and the letters stay in the dead-letter queue.
    pub(crate) redrive: bool,
    /// What dropping a consumer does. In process (`false`): it leaves the
    /// line at once, and the deliveries it handed out stay in flight, for
    /// their holders to settle. On the broker (`true`): its channel closes
    /// a moment after the drop returns, and the broker requeues what the
    /// channel held, each count raised: the deliveries in hand (which can
    /// no longer be settled) and any message it prefetched meanwhile.
    pub(crate) consumer_drop_requeues: bool,
}

/// A queue the maker made, and its name in the store (empty where the
/// store has no names).
#[derive(Debug)]
pub(crate) struct Made {
    pub(crate) queue: Queue<String>,
    pub(crate) name: String,
}

/// Makes queues on one backend.
pub(crate) trait Maker {
    /// What the backend does where the contract allows a difference.
    fn caps(&self) -> Caps;

    /// A new, empty queue.
    async fn make(&self, settings: &Settings) -> Made;

    /// Messages ready in `made`'s store, as the store itself counts them
    /// (the broker's own count, not this handle's).
    async fn ready(&self, made: &Made) -> usize;
}

async fn fresh<M: Maker>(maker: &M) -> Queue<String> {
    maker.make(&Settings::default()).await.queue
}

async fn dead(queue: &Queue<String>) -> DeadLetter<String> {
    bounded("a dead letter", queue.dead_letter()).await.unwrap()
}

/// The outcomes in a dead letter's history, or none where the backend
/// keeps no history.
fn outcomes(caps: Caps, letter: &DeadLetter<String>) -> Vec<Outcome> {
    let outcomes: Vec<Outcome> = letter.history.iter().map(|attempt| attempt.outcome).collect();
    if !caps.history {
        // Stated difference: `x-death` has no per-delivery history.
        assert!(outcomes.is_empty(), "a history the backend says it does not keep");
    }
    outcomes
}

/// Publish, receive, ack: each message once, in order, and an acked one
/// never comes back.
pub(crate) async fn publish_recv_ack<M: Maker>(maker: &M) {
    let queue = fresh(maker).await;
    let producer = queue.producer();
    for text in ["one", "two"] {
        bounded("a publish", producer.publish(text.to_string()))
            .await
            .unwrap();
    }
    let mut consumer = queue.consumer();
    for (text, n) in [("one", 0), ("two", 1)] {
        let delivery = bounded(text, consumer.recv()).await.unwrap();
        assert_eq!((delivery.as_str(), delivery.delivery_count()), (text, 1));
        assert!(!delivery.redelivered(), "{text}");
        assert_eq!(consumer.stats().in_hand, 1, "{text}");
        delivery.settle(Verdict::Ack).await.unwrap();
        assert_eq!(consumer.stats().acked, n + 1);
    }
    assert_eq!(queue.stats().acked, 2);
    drop(consumer);
    // Had an ack been lost, its message would come back ahead of this one.
    producer.publish("three".to_string()).await.unwrap();
    let mut next = queue.consumer();
    let delivery = bounded("three", next.recv()).await.unwrap();
    assert_eq!(delivery.as_str(), "three");
    if !maker.caps().consumer_drop_requeues {
        assert_eq!(delivery.delivery_count(), 1);
    } else {
        // Stated difference: the dropped consumer may have prefetched it.
        assert!(delivery.delivery_count() <= 2, "{}", delivery.delivery_count());
    }
    delivery.settle(Verdict::Ack).await.unwrap();
}

/// A nack with requeue brings the message back, its count raised and
/// flagged as redelivered.
pub(crate) async fn nack_redelivers<M: Maker>(maker: &M) {
    let queue = fresh(maker).await;
    queue.producer().publish("flaky".to_string()).await.unwrap();
    let mut consumer = queue.consumer();
    let first = bounded("first", consumer.recv()).await.unwrap();
    assert!(!first.redelivered());
    first.nack(true).unwrap();
    let second = bounded("the redelivery", consumer.recv()).await.unwrap();
    assert_eq!((second.as_str(), second.delivery_count()), ("flaky", 2));
    assert!(second.redelivered());
    second.settle(Verdict::Ack).await.unwrap();
    assert_eq!(consumer.stats().nacked, 1);
}

/// A delivery dropped without a verdict comes back, counted and flagged.
/// The deliveries a dropped consumer had handed out come back to the next
/// consumer the same way: given back by the broker, or (in process, where
/// they stay in flight) nacked by their holder.
pub(crate) async fn dropped_deliveries_come_back<M: Maker>(maker: &M) {
    let queue = fresh(maker).await;
    queue.producer().publish("dropped".to_string()).await.unwrap();
    let mut first = queue.consumer();
    drop(bounded("dropped", first.recv()).await.unwrap());
    let again = bounded("dropped again", first.recv()).await.unwrap();
    assert_eq!((again.as_str(), again.delivery_count()), ("dropped", 2));
    assert!(again.redelivered());
    again.settle(Verdict::Ack).await.unwrap();

    for text in ["a", "b"] {
        queue.producer().publish(text.to_string()).await.unwrap();
    }
    let mut in_hand = Vec::new();
    for text in ["a", "b"] {
        let delivery = bounded(text, first.recv()).await.unwrap();
        assert_eq!(delivery.as_str(), text);
        in_hand.push(delivery);
    }
    drop(first);
    let requeued = maker.caps().consumer_drop_requeues;
    if !requeued {
        for delivery in in_hand.drain(..) {
            delivery.nack(true).unwrap();
        }
    }
    let mut second = queue.consumer();
    let mut again = BTreeSet::new();
    for _ in 0..2 {
        let delivery = bounded("a redelivery", second.recv()).await.unwrap();
        assert!(delivery.redelivered(), "{}", *delivery);
        again.insert((delivery.to_string(), delivery.delivery_count()));
        delivery.settle(Verdict::Ack).await.unwrap();
    }
    let expected = BTreeSet::from([("a".to_string(), 2), ("b".to_string(), 2)]);
    assert_eq!(again, expected);
    // Stated difference: on the broker the old deliveries are over.
    for stale in in_hand {
        assert_eq!(stale.ack(), Err(AckError::NotInFlight));
    }
}

/// `reject` and `nack(false)` dead-letter the message with reason
/// `Rejected`, its properties and (where kept) its history with it.
pub(crate) async fn reject_dead_letters<M: Maker>(maker: &M) {
    let caps = maker.caps();
    let queue = fresh(maker).await;
    let props = Properties::new().with_id("bad-1").with_header("tenant", "acme");
    queue
        .producer()
        .publish_with("bad".to_string(), props)
        .await
        .unwrap();
    queue.producer().publish("worse".to_string()).await.unwrap();
    let mut consumer = queue.consumer();
    bounded("bad", consumer.recv()).await.unwrap().reject().unwrap();
    bounded("worse", consumer.recv())
        .await
        .unwrap()
        .nack(false)
        .unwrap();

    let letter = dead(&queue).await;
    assert_eq!(
        (letter.message.as_str(), letter.reason),
        ("bad", DeadReason::Rejected)
    );
    let props = letter.properties.as_ref().expect("the properties");
    assert_eq!(
        (props.id().as_str(), props.header("tenant")),
        ("bad-1", Some("acme"))
    );
    if caps.history {
        assert_eq!(outcomes(caps, &letter), [Outcome::Rejected]);
        assert_eq!(letter.history[0].consumer, consumer.id());
    } else {
        outcomes(caps, &letter);
    }
    let letter = dead(&queue).await;
    assert_eq!(
        (letter.message.as_str(), letter.reason),
        ("worse", DeadReason::Rejected)
    );
    if caps.history {
        assert_eq!(outcomes(caps, &letter), [Outcome::Nacked]);
    }
    assert!(queue.try_dead_letter().unwrap().is_none());
}

/// A message nacked `max_deliveries` times is dead-lettered with reason
/// `MaxDeliveries`, not delivered again.
pub(crate) async fn max_deliveries_dead_letters<M: Maker>(maker: &M) {
    let caps = maker.caps();
    let settings = Settings {
        max_deliveries: 2,
        ..Settings::default()
    };
    let queue = maker.make(&settings).await.queue;
    queue.producer().publish("poison".to_string()).await.unwrap();
    let mut consumer = queue.consumer();
    for n in 1..=2 {
        let delivery = bounded("poison", consumer.recv()).await.unwrap();
        assert_eq!(delivery.delivery_count(), n);
        delivery.nack(true).unwrap();
    }
    let letter = dead(&queue).await;
    assert_eq!(
        (letter.message.as_str(), letter.reason),
        ("poison", DeadReason::MaxDeliveries)
    );
    if caps.history {
        assert_eq!(outcomes(caps, &letter), [Outcome::Nacked, Outcome::Nacked]);
    } else {
        outcomes(caps, &letter);
    }
    // Not delivered a third time: the next delivery is a later message.
    queue.producer().publish("next".to_string()).await.unwrap();
    let next = bounded("next", consumer.recv()).await.unwrap();
    assert_eq!((next.as_str(), next.delivery_count()), ("next", 1));
    next.settle(Verdict::Ack).await.unwrap();
}

/// Higher priorities first, FIFO within one; where the backend has no
/// priorities (`Caps::priorities`), publication order, the priority
/// carried all the same.
pub(crate) async fn priorities<M: Maker>(maker: &M) {
    let queue = fresh(maker).await;
    let published = [
        ("low-1", 1),
        ("mid", 5),
        ("high-1", 9),
        ("low-2", 1),
        ("high-2", 9),
    ];
    for (text, priority) in published {
        let props = Properties::new().with_priority(priority);
        queue
            .producer()
            .publish_with(text.to_string(), props)
            .await
            .unwrap();
    }
    let expected: Vec<(&str, u8)> = if maker.caps().priorities {
        vec![
            ("high-1", 9),
            ("high-2", 9),
            ("mid", 5),
            ("low-1", 1),
            ("low-2", 1),
        ]
    } else {
        // Stated difference: a quorum queue keeps publication order.
        published.to_vec()
    };
    let mut consumer = queue.consumer();
    let mut got = Vec::new();
    for _ in 0..expected.len() {
        let delivery = bounded("a message", consumer.recv()).await.unwrap();
        let priority = delivery.properties().expect("properties").priority();
        got.push((delivery.to_string(), priority));
        delivery.settle(Verdict::Ack).await.unwrap();
    }
    let expected: Vec<(String, u8)> = expected.into_iter().map(|(t, p)| (t.to_string(), p)).collect();
    assert_eq!(got, expected);
}

/// A message past the queue's TTL, never delivered, is a dead letter with
/// reason `Expired`. Real time passes here: the TTL is short, the wait
/// for the letter bounded.
pub(crate) async fn queue_ttl_expires_to_dead_letter<M: Maker>(maker: &M) {
    let settings = Settings {
        ttl: Some(Duration::from_millis(20)),
        ..Settings::default()
    };
    let queue = maker.make(&settings).await.queue;
    queue.producer().publish("stale".to_string()).await.unwrap();
    let letter = dead(&queue).await;
    assert_eq!(
        (letter.message.as_str(), letter.reason),
        ("stale", DeadReason::Expired)
    );
    assert!(letter.history.is_empty(), "never delivered");
}

/// A message past its own TTL, never delivered, is a dead letter with
/// reason `Expired`, as above.
pub(crate) async fn message_ttl_expires_to_dead_letter<M: Maker>(maker: &M) {
    let queue = fresh(maker).await;
    let props = Properties::new()
        .with_id("brief-1")
        .with_ttl(Duration::from_millis(20));
    queue
        .producer()
        .publish_with("brief".to_string(), props)
        .await
        .unwrap();
    let letter = dead(&queue).await;
    assert_eq!(
        (letter.message.as_str(), letter.reason),
        ("brief", DeadReason::Expired)
    );
    assert_eq!(letter.properties.expect("properties").id().as_str(), "brief-1");
    assert!(letter.history.is_empty(), "never delivered");
    // A message without a TTL is not touched by its neighbour's.
    queue.producer().publish("lasting".to_string()).await.unwrap();
    let mut consumer = queue.consumer();
    let delivery = bounded("lasting", consumer.recv()).await.unwrap();
    assert_eq!(delivery.as_str(), "lasting");
    delivery.settle(Verdict::Ack).await.unwrap();
}

/// Message ids, headers and timestamps travel with the message; a message
/// published without properties has none, one published with them and no
/// timestamp is stamped.
pub(crate) async fn properties_round_trip<M: Maker>(maker: &M) {
    let queue = fresh(maker).await;
    // Whole seconds: AMQP's `timestamp` keeps no finer, and the contract
    // is that a stamp given comes back as given.
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let dressed = Properties::new()
        .with_id("order-7")
        .with_header("tenant", "acme")
        .with_header("trace", "t-1")
        .with_timestamp(at);
    let producer = queue.producer();
    producer.publish("plain".to_string()).await.unwrap();
    producer
        .publish_with("dressed".to_string(), dressed)
        .await
        .unwrap();
    let before = SystemTime::now() - Duration::from_secs(1);
    producer
        .publish_with("stamped".to_string(), Properties::new().with_id("s-1"))
        .await
        .unwrap();
    let after = SystemTime::now() + Duration::from_secs(1);

    let mut consumer = queue.consumer();
    let plain = bounded("plain", consumer.recv()).await.unwrap();
    assert_eq!(plain.as_str(), "plain");
    assert!(plain.properties().is_none());
    let got = bounded("dressed", consumer.recv()).await.unwrap();
    let props = got.properties().expect("properties");
    assert_eq!(props.id().as_str(), "order-7");
    assert_eq!(props.header("tenant"), Some("acme"));
    assert_eq!(props.header("trace"), Some("t-1"));
    assert_eq!(props.headers().len(), 2, "{:?}", props.headers());
    assert_eq!(props.timestamp(), Some(at));
    let stamped = bounded("stamped", consumer.recv()).await.unwrap();
    let props = stamped.properties().expect("properties");
    assert_eq!(props.id().as_str(), "s-1");
    let stamp = props.timestamp().expect("stamped at publish");
    assert!(before <= stamp && stamp <= after, "{stamp:?}");
    for delivery in [plain, got, stamped] {
        delivery.settle(Verdict::Ack).await.unwrap();
    }
}

/// A batch published gets a verdict per message; a batch received is
/// settled message by message, each verdict applied to its own.
pub(crate) async fn batches_take_per_message_verdicts<M: Maker>(maker: &M) {
    let queue = fresh(maker).await;
    let texts: Vec<String> = (0..6).map(|n| n.to_string()).collect();
    let verdicts = bounded("a batch", queue.producer().publish_batch(texts.clone())).await;
    assert_eq!(verdicts.len(), 6);
    assert!(verdicts.iter().all(Result::is_ok), "{verdicts:?}");

    let mut consumer = queue.consumer();
    let mut got = Vec::new();
    while got.len() < 6 {
        let batch = bounded("a batch", consumer.recv_batch(6 - got.len(), BOUND)).await;
        let batch = batch.unwrap();
        assert!(!batch.is_empty(), "a batch waited out its bound");
        got.extend(batch);
    }
    let received: Vec<String> = got.iter().map(|d| d.to_string()).collect();
    assert_eq!(received, texts, "in publication order");
    for delivery in got {
        match delivery.as_str() {
            "0" | "1" => delivery.settle(Verdict::Ack).await.unwrap(),
            "2" | "3" => delivery.nack(true).unwrap(),
            _ => delivery.reject().unwrap(),
        }
    }
    let mut again = BTreeSet::new();
    for _ in 0..2 {
        let delivery = bounded("a nacked one", consumer.recv()).await.unwrap();
        again.insert((
            delivery.to_string(),
            delivery.delivery_count(),
            delivery.redelivered(),
        ));
        delivery.settle(Verdict::Ack).await.unwrap();
    }
    let expected = BTreeSet::from([("2".to_string(), 2, true), ("3".to_string(), 2, true)]);
    assert_eq!(again, expected);
    let mut letters = Vec::new();
    for _ in 0..2 {
        let letter = dead(&queue).await;
        letters.push((letter.message, letter.reason));
    }
    letters.sort_by(|a, b| a.0.cmp(&b.0));
    let expected = [
        ("4".to_string(), DeadReason::Rejected),
        ("5".to_string(), DeadReason::Rejected),
    ];
    assert_eq!(letters, expected);
}

/// `purge` removes every ready message; a message published after it is
/// the next one delivered.
pub(crate) async fn purge<M: Maker>(maker: &M) {
    let made = maker.make(&Settings::default()).await;
    let queue = &made.queue;
    for n in 0..3 {
        queue.producer().publish(format!("old-{n}")).await.unwrap();
    }
    assert_eq!(maker.ready(&made).await, 3);
    let purged = queue.purge();
    if maker.caps().purge_counts {
        assert_eq!(purged, 3);
        assert_eq!(maker.ready(&made).await, 0);
    } else {
        // Stated difference: the broker's purge returns 0 and takes
        // effect once the broker has it; awaited, bounded, through the
        // broker's own count.
        assert_eq!(purged, 0);
        bounded("the purge", async {
            while maker.ready(&made).await != 0 {
                weft::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
    }
    queue.producer().publish("new".to_string()).await.unwrap();
    let mut consumer = queue.consumer();
    let delivery = bounded("new", consumer.recv()).await.unwrap();
    assert_eq!((delivery.as_str(), delivery.delivery_count()), ("new", 1));
    delivery.settle(Verdict::Ack).await.unwrap();
}

/// `redrive` moves the dead letters it picks back into the queue, to be
/// delivered afresh; where the backend has no redrive, it moves none and
/// the letter stays a dead letter.
pub(crate) async fn redrive<M: Maker>(maker: &M) {
    let queue = fresh(maker).await;
    queue.producer().publish("job".to_string()).await.unwrap();
    let mut consumer = queue.consumer();
    bounded("job", consumer.recv()).await.unwrap().reject().unwrap();
    if maker.caps().redrive {
        // The letter is there once the reject returns: no wait.
        assert_eq!(queue.redrive(|letter| letter.reason == DeadReason::Expired), 0);
        assert_eq!(queue.redrive(|letter| letter.reason == DeadReason::Rejected), 1);
        let again = bounded("the redriven job", consumer.recv()).await.unwrap();
        assert_eq!((again.as_str(), again.delivery_count()), ("job", 1));
        again.settle(Verdict::Ack).await.unwrap();
        assert!(queue.try_dead_letter().unwrap().is_none());
    } else {
        // Stated difference: not offered by the broker yet.
        assert_eq!(queue.redrive_all(), 0);
        let letter = dead(&queue).await;
        assert_eq!(
            (letter.message.as_str(), letter.reason),
            ("job", DeadReason::Rejected)
        );
    }
}

/// `close` refuses publishes (handing the message back) and ends a
/// waiting `recv`.
pub(crate) async fn close_ends_recv<M: Maker>(maker: &M) {
    let queue = fresh(maker).await;
    let mut consumer = queue.consumer();
    let waiting = weft::spawn(async move { consumer.recv().await.map(|d| d.to_string()) });
    queue.close();
    assert!(queue.is_closed());
    match queue.producer().publish("late".to_string()).await {
        Err(PublishError::Closed(message)) => assert_eq!(message, "late"),
        other => panic!("a publish after close: {other:?}"),
    }
    let ended = bounded("the end of recv", waiting).await.unwrap();
    assert_eq!(ended, Err(RecvError::Closed));
    assert_eq!(
        queue.consumer().recv().await.map(|d| d.to_string()),
        Err(RecvError::Closed)
    );
}

/// One `#[test]` per check, each running `$run(check)`.
macro_rules! queue_tests {
    ([$($attr:tt)*] $run:path) => {
        crate::contract::contract_tests!(queue [$($attr)*] $run;
            publish_recv_ack,
            nack_redelivers,
            dropped_deliveries_come_back,
            reject_dead_letters,
            max_deliveries_dead_letters,
            priorities,
            queue_ttl_expires_to_dead_letter,
            message_ttl_expires_to_dead_letter,
            properties_round_trip,
            batches_take_per_message_verdicts,
            purge,
            redrive,
            close_ends_recv,
        );
    };
}
pub(crate) use queue_tests;
