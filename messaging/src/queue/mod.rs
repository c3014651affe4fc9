//! A work queue with competing consumers, acknowledgements, redelivery and
//! dead letters: the message-queue style, in process.
//!
//! Producers publish messages; consumers receive [`Delivery`]s. A message
//! is in the hands of at most one consumer at a time, and leaves the queue
//! only when that consumer [`ack`](Delivery::ack)s it (at-least-once
//! delivery, as with RabbitMQ, SQS or Kafka consumer groups):
//!
//! - [`nack(true)`](Delivery::nack), a delivery dropped without a verdict,
//!   or an ack deadline that passes makes the message deliverable again,
//!   its delivery count raised;
//! - [`reject`](Delivery::reject), [`nack(false)`](Delivery::nack), a
//!   message delivered [`max_deliveries`](Builder::max_deliveries) times, a
//!   message that reached its [`ttl`](Builder::ttl), or one pushed out by the
//!   [`DropOldest`](Overflow::DropOldest) policy goes to the dead-letter
//!   queue with its reason and history.
//!
//! Beyond that core, the queue offers what RabbitMQ and SQS users look
//! for: [priorities](Properties::with_priority) and
//! [per-message TTLs](Properties::with_ttl) through
//! [`publish_with`](Producer::publish_with);
//! [delayed redelivery](Delivery::nack_after) and a
//! [back-off](Builder::redelivery_backoff);
//! [batches](Consumer::recv_batch); [purge](Queue::purge);
//! [redrive](Queue::redrive) of dead letters; a
//! [deduplication window](Builder::dedup_window); an
//! [end when producers are gone](Builder::end_when_producers_gone);
//! [per-consumer stats](Consumer::stats); and request / reply
//! ([`Requester`]).
//!
//! Waiting consumers are served in turn (round-robin, in the order they
//! started waiting); each holds at most [`prefetch`](Builder::prefetch)
//! unacked deliveries. The queue is bounded: [`Producer::publish`] waits for
//! room, or fails, or pushes the oldest message out, as the
//! [`Overflow`] policy says. Deadlines and TTLs run on the
//! [spawner](weft_primitives::spawner)'s clock, so weft's paused test clock drives
//! them.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use weft::queue::Queue;
//!
//! weft::block_on(async {
//!     let queue = Queue::builder().capacity(100).ack_deadline(Duration::from_secs(30)).build();
//!     let producer = queue.producer();
//!     let mut consumer = queue.consumer();
//!     producer.publish("resize photo 7").await.unwrap();
//!
//!     let job = consumer.recv().await.unwrap();
//!     assert_eq!(*job, "resize photo 7");
//!     job.ack().unwrap();
//!     assert_eq!(queue.stats().acked, 1);
//! });
//! ```

mod backend;
#[cfg(feature = "disk")]
pub(crate) mod durable;
mod error;
mod memory;
mod rpc;

pub use self::backend::{Backend, Handed, PublishOp, Verdict};
#[cfg(feature = "disk")]
pub use self::durable::{DiskFull, DiskOptions, Durable, OpenDurableError, Restored};
pub use self::error::{AckError, PublishError, RecvError, TryPublishError};
pub use self::memory::Memory;
pub use self::rpc::{CORRELATION_ID, ReplyError, Request, RequestError, Requester, Responder};
pub use crate::codec::{Codec, CodecError, Raw, Utf8};
pub use crate::{MessageId, Properties, StoreError};
#[cfg(feature = "disk")]
pub use weft_disk::{Recovery, SyncPolicy, TornTail};

use std::fmt;
use std::future::poll_fn;
use std::ops::Deref;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use weft_primitives::spawner::Spawner;

// ANCHOR: overflow
/// What `publish` does when the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overflow {
    /// Wait for room (backpressure). The default.
    #[default]
    Wait,
    /// Fail at once with [`PublishError::Full`], giving the message back.
    Reject,
    /// Make room by moving the oldest ready message to the dead-letter
    /// queue ([`DeadReason::Overflowed`]).
    DropOldest,
}
// ANCHOR_END: overflow

// ANCHOR: dead-letter
/// Why a message was dead-lettered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadReason {
    /// A consumer called [`Delivery::reject`] or [`Delivery::nack`]`(false)`.
    Rejected,
    /// It was delivered [`Builder::max_deliveries`] times without an ack.
    MaxDeliveries,
    /// It waited longer than its [`Builder::ttl`].
    Expired,
    /// The [`Overflow::DropOldest`] policy pushed it out.
    Overflowed,
}

/// How one delivery of a message ended without an ack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nacked, with or without requeue.
    Nacked,
    /// Rejected.
    Rejected,
    /// Its ack deadline passed.
    DeadlineExpired,
    /// The delivery was dropped without a verdict.
    Dropped,
}

/// One delivery of a message: to whom, when, and how it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// The consumer's id ([`Consumer::id`]).
    pub consumer: u64,
    /// When it was delivered, on the spawner's clock.
    pub delivered_at: Instant,
    /// How it ended.
    pub outcome: Outcome,
}

/// A message that left the queue without being acked.
#[derive(Debug, Clone)]
pub struct DeadLetter<T> {
    /// The message.
    pub message: T,
    /// Why it was dead-lettered.
    pub reason: DeadReason,
    /// Its deliveries, oldest first.
    pub history: Vec<Attempt>,
    /// Its properties, if it was published with
    /// [`publish_with`](Producer::publish_with).
    pub properties: Option<Properties>,
}
// ANCHOR_END: dead-letter

// ANCHOR: stats
/// Counters of a queue; see [`Queue::stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Messages waiting to be delivered.
    pub ready: usize,
    /// Messages delivered and not yet acked, nacked or expired.
    pub in_flight: usize,
    /// Messages given back with a delay ([`Delivery::nack_after`], or the
    /// queue's [back-off](Builder::redelivery_backoff)), not yet ready.
    pub delayed: usize,
    /// Messages in the dead-letter queue now.
    pub dead_lettered: usize,
    /// Messages ever accepted by `publish` (duplicates not counted).
    pub published: u64,
    /// Messages ever acked.
    pub acked: u64,
    /// Messages ever removed by [`Queue::purge`].
    pub purged: u64,
    /// Publishes dropped as duplicates ([`Builder::dedup_window`]).
    pub deduplicated: u64,
}
// ANCHOR_END: stats

/// Counters of one consumer; see [`Consumer::stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConsumerStats {
    /// Deliveries it holds unsettled now.
    pub in_hand: usize,
    /// Deliveries it acked.
    pub acked: u64,
    /// Deliveries it nacked (with or without requeue, or with a delay).
    pub nacked: u64,
    /// Deliveries it rejected.
    pub rejected: u64,
}

/// Settings for a [`Queue`]; from [`Queue::builder`].
#[derive(Debug, Clone)]
pub struct Builder {
    capacity: usize,
    overflow: Overflow,
    max_deliveries: u32,
    ack_deadline: Option<Duration>,
    ttl: Option<Duration>,
    prefetch: usize,
    spawner: Option<Spawner>,
    backoff: Option<(Duration, Duration)>,
    dedup_window: Option<Duration>,
    end_when_producers_gone: bool,
}

/// A work queue; cloning gives another handle to the same queue. See the
/// [module docs](self).
pub struct Queue<T: 'static> {
    backend: Arc<dyn Backend<T>>,
}

/// Publishes to a queue. Cheap to clone.
pub struct Producer<T: 'static> {
    backend: Arc<dyn Backend<T>>,
}

/// Receives deliveries from a queue, competing with the queue's other
/// consumers. Dropping it gives back a delivery it had been handed but not
/// yet returned from [`recv`](Consumer::recv).
pub struct Consumer<T: 'static> {
    backend: Arc<dyn Backend<T>>,
    id: u64,
}

// ANCHOR: delivery
/// A message in a consumer's hands. Dereferences to the message; settle it
/// with [`ack`](Delivery::ack), [`nack`](Delivery::nack) or
/// [`reject`](Delivery::reject). Dropped without a verdict, it counts as
/// `nack(true)`: the message is delivered again.
pub struct Delivery<T: 'static> {
    backend: Weak<dyn Backend<T>>,
    message: T,
    tag: u64,
    deliveries: u32,
    properties: Option<Box<Properties>>,
    settled: bool,
}
// ANCHOR_END: delivery

impl Builder {
    /// Room for `capacity` ready messages (1 024 by default). Zero is
    /// raised to one.
    pub fn capacity(&mut self, capacity: usize) -> &mut Self {
        self.capacity = capacity.max(1);
        self
    }

    /// What `publish` does when the queue is full.
    pub fn overflow(&mut self, overflow: Overflow) -> &mut Self {
        self.overflow = overflow;
        self
    }

    /// Deliveries after which an unacked message is dead-lettered (5 by
    /// default). Zero is raised to one.
    pub fn max_deliveries(&mut self, n: u32) -> &mut Self {
        self.max_deliveries = n.max(1);
        self
    }

    /// Time a consumer has to settle a delivery before the message becomes
    /// deliverable again (none by default: a delivery is in the consumer's
    /// hands until it settles or drops it).
    pub fn ack_deadline(&mut self, deadline: Duration) -> &mut Self {
        self.ack_deadline = Some(deadline);
        self
    }

    /// Age at which an undelivered message is dead-lettered instead of
    /// delivered (none by default). A timer takes an expired message out
    /// when it reaches the front of the ready list, so it frees its room on
    /// time even when no consumer asks; a publish to a full queue expires
    /// what is due before its [`Overflow`] policy applies.
    pub fn ttl(&mut self, ttl: Duration) -> &mut Self {
        self.ttl = Some(ttl);
        self
    }

    /// Unacked deliveries one consumer may hold (16 by default). Zero is
    /// raised to one.
    pub fn prefetch(&mut self, prefetch: usize) -> &mut Self {
        self.prefetch = prefetch.max(1);
        self
    }

    /// Delays each redelivery (after a `nack(true)`, a dropped delivery
    /// or an expired ack deadline) by `base`, doubled for each earlier
    /// delivery, at most `max`: a failing message does not spin at the
    /// front (none by default: given back, a message is ready at once).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft::queue::Queue;
    ///
    /// weft::block_on(async {
    ///     let queue = Queue::builder()
    ///         .redelivery_backoff(Duration::from_millis(10), Duration::from_secs(1))
    ///         .build();
    ///     queue.producer().publish("flaky").await.unwrap();
    ///     let mut consumer = queue.consumer();
    ///     consumer.recv().await.unwrap().nack(true).unwrap();
    ///     assert_eq!(queue.stats().delayed, 1, "back in 10 ms");
    ///     let again = consumer.recv().await.unwrap();
    ///     assert_eq!(again.delivery_count(), 2);
    ///     again.ack().unwrap();
    /// });
    /// ```
    pub fn redelivery_backoff(&mut self, base: Duration, max: Duration) -> &mut Self {
        self.backoff = Some((base, max.max(base)));
        self
    }

    /// Drops a message published with the id of one accepted less than
    /// `window` ago, answering the publish with success (SQS FIFO's
    /// deduplication, whose window is 5 minutes). Off by default: ids are
    /// only known for messages published with
    /// [`publish_with`](Producer::publish_with), and remembering them costs
    /// memory in proportion to the publish rate. Dropped duplicates are
    /// counted in [`Stats::deduplicated`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft::queue::{Properties, Queue};
    ///
    /// weft::block_on(async {
    ///     let queue = Queue::builder().dedup_window(Duration::from_secs(300)).build();
    ///     let producer = queue.producer();
    ///     for _ in 0..2 {
    ///         let props = Properties::new().with_id("order-7");
    ///         producer.publish_with("charge", props).await.unwrap();
    ///     }
    ///     assert_eq!((queue.stats().published, queue.stats().deduplicated), (1, 1));
    /// });
    /// ```
    pub fn dedup_window(&mut self, window: Duration) -> &mut Self {
        self.dedup_window = Some(window);
        self
    }

    /// Closes the queue when its last [`Producer`] is dropped, so that
    /// consumers see the end ([`RecvError::Closed`]) once every producer
    /// is gone and the queue is drained, as receivers of a channel do (off
    /// by default: the queue ends only at [`Queue::close`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::queue::{Queue, RecvError};
    ///
    /// weft::block_on(async {
    ///     let queue = Queue::builder().end_when_producers_gone(true).build();
    ///     let mut consumer = queue.consumer();
    ///     let producer = queue.producer();
    ///     producer.publish(1).await.unwrap();
    ///     drop(producer);
    ///     consumer.recv().await.unwrap().ack().unwrap();
    ///     assert_eq!(consumer.recv().await.unwrap_err(), RecvError::Closed);
    /// });
    /// ```
    pub fn end_when_producers_gone(&mut self, end: bool) -> &mut Self {
        self.end_when_producers_gone = end;
        self
    }

    /// The runtime whose clock runs deadlines (the current spawner by
    /// default, found at `build`).
    pub fn spawner(&mut self, spawner: &Spawner) -> &mut Self {
        self.spawner = Some(spawner.clone());
        self
    }

    /// Builds the queue.
    ///
    /// # Panics
    ///
    /// Panics if no spawner was given and none is current (outside a weft
    /// runtime with no [`Spawner::enter`] guard).
    #[track_caller]
    pub fn build<T: Clone + Send + 'static>(&self) -> Queue<T> {
        Queue::with_backend(Memory::new(self))
    }
}

impl Default for Builder {
    fn default() -> Builder {
        Builder {
            capacity: 1024,
            overflow: Overflow::Wait,
            max_deliveries: 5,
            ack_deadline: None,
            ttl: None,
            prefetch: 16,
            spawner: None,
            backoff: None,
            dedup_window: None,
            end_when_producers_gone: false,
        }
    }
}

impl Queue<()> {
    /// Settings for a new queue; [`Builder::build`] makes a queue of any
    /// message type.
    pub fn builder() -> Builder {
        Builder::default()
    }
}

impl<T: Clone + Send + 'static> Queue<T> {
    /// A queue with the default settings and room for `capacity` messages.
    ///
    /// # Panics
    ///
    /// Panics where no spawner is current; see [`Builder::spawner`].
    #[track_caller]
    pub fn new(capacity: usize) -> Queue<T> {
        Queue::builder().capacity(capacity).build()
    }

    /// A queue served by `backend`: a [`Memory`] made from a [`Builder`],
    /// the RabbitMQ backend (`weft::rabbitmq::queue` makes the queue with
    /// it), or a store of your own. (The durable backend opens through
    /// `Queue::durable` or `Builder::open_durable`, with the `disk`
    /// feature.)
    pub fn with_backend(backend: impl Backend<T>) -> Queue<T> {
        Queue {
            backend: Arc::new(backend),
        }
    }

    /// A producer for this queue.
    pub fn producer(&self) -> Producer<T> {
        self.backend.add_producer();
        Producer {
            backend: self.backend.clone(),
        }
    }

    /// A new consumer, competing with the others.
    pub fn consumer(&self) -> Consumer<T> {
        Consumer {
            id: self.backend.add_consumer(),
            backend: self.backend.clone(),
        }
    }

    /// Stops publishing: later publishes fail with `Closed`. Consumers
    /// receive what remains (including messages still in flight that come
    /// back), then [`RecvError::Closed`].
    pub fn close(&self) {
        self.backend.close();
    }

    /// True once [`close`](Queue::close) was called.
    pub fn is_closed(&self) -> bool {
        self.backend.is_closed()
    }

    /// The queue's counters.
    pub fn stats(&self) -> Stats {
        self.backend.stats()
    }

    /// Removes every message waiting to be delivered (ready, or given back
    /// with a delay) and returns how many; messages in flight stay in
    /// their consumers' hands. Purged messages are not dead-lettered; they
    /// are counted in [`Stats::purged`].
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::queue::Queue;
    ///
    /// weft::block_on(async {
    ///     let queue = Queue::new(8);
    ///     for n in 0..3 {
    ///         queue.producer().publish(n).await.unwrap();
    ///     }
    ///     assert_eq!(queue.purge(), 3);
    ///     assert_eq!((queue.stats().ready, queue.stats().purged), (0, 3));
    /// });
    /// ```
    pub fn purge(&self) -> usize {
        self.backend.purge()
    }

    /// Moves the dead letters that `choose` picks back into the queue (SQS's
    /// redrive) and returns how many. Each goes to the back of its
    /// priority, to be delivered afresh: its delivery count starts again
    /// (so [`Builder::max_deliveries`] applies anew) and its TTL runs from
    /// now; its history is kept, and grows. Redriven messages may take the
    /// ready count above the capacity, as messages given back do. A closed
    /// queue takes none back.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::queue::{DeadReason, Queue};
    ///
    /// weft::block_on(async {
    ///     let queue = Queue::new(8);
    ///     queue.producer().publish("job").await.unwrap();
    ///     let mut consumer = queue.consumer();
    ///     consumer.recv().await.unwrap().reject().unwrap();
    ///     assert_eq!(queue.redrive(|letter| letter.reason == DeadReason::Rejected), 1);
    ///     let again = consumer.recv().await.unwrap();
    ///     assert_eq!((*again, again.delivery_count()), ("job", 1));
    ///     again.ack().unwrap();
    /// });
    /// ```
    pub fn redrive(&self, mut choose: impl FnMut(&DeadLetter<T>) -> bool) -> usize {
        self.backend.redrive(&mut choose)
    }

    /// Moves every dead letter back into the queue; see
    /// [`redrive`](Queue::redrive).
    pub fn redrive_all(&self) -> usize {
        self.backend.redrive(&mut |_| true)
    }

    /// Takes the oldest dead letter, if any.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] if the backend could not take it (the in-memory
    /// backend never fails): `NotStored` promises it is still there.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::queue::{DeadReason, Queue};
    ///
    /// weft::block_on(async {
    ///     let queue = Queue::new(8);
    ///     queue.producer().publish("bad").await.unwrap();
    ///     queue.consumer().recv().await.unwrap().reject().unwrap();
    ///     let letter = queue.try_dead_letter().unwrap().expect("a dead letter");
    ///     assert_eq!((letter.message, letter.reason), ("bad", DeadReason::Rejected));
    ///     assert!(queue.try_dead_letter().unwrap().is_none());
    /// });
    /// ```
    pub fn try_dead_letter(&self) -> Result<Option<DeadLetter<T>>, StoreError<()>> {
        match self.backend.poll_dead_letter(None) {
            Poll::Ready(letter) => letter.map(Some),
            Poll::Pending => Ok(None),
        }
    }

    /// Waits for the next dead letter.
    ///
    /// # Errors
    ///
    /// As [`try_dead_letter`](Queue::try_dead_letter).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a dead letter is taken only when it is returned.
    pub async fn dead_letter(&self) -> Result<DeadLetter<T>, StoreError<()>> {
        poll_fn(|cx| self.backend.poll_dead_letter(Some(cx))).await
    }
}

impl<T: Clone + Send + 'static> Producer<T> {
    // ANCHOR: publish
    /// Publishes `message`, waiting for room if the queue is full and the
    /// policy is [`Overflow::Wait`] (and, on a backend that confirms, for
    /// the confirm).
    ///
    /// A message published this way carries no [`Properties`]: the fast
    /// path allocates nothing. Use [`publish_with`](Producer::publish_with)
    /// to give it an id, a timestamp and headers.
    ///
    /// # Errors
    ///
    /// [`PublishError::Closed`] once the queue is closed,
    /// [`PublishError::Full`] when full under [`Overflow::Reject`]; both
    /// give the message back. [`PublishError::Store`] if the backend could
    /// not store it.
    ///
    /// # Cancel safety
    ///
    /// Dropped while it waits for room, the message was not published, and
    /// a wakeup meant for it passes to the next waiting producer. (On a
    /// confirming backend, dropped while it waits for the confirm, the
    /// message may have been stored.)
    pub async fn publish(&self, message: T) -> Result<(), PublishError<T>> {
        self.publish_op(PublishOp::new(message, None)).await
    }
    // ANCHOR_END: publish

    /// Publishes `message` with `properties`: their id (generated by
    /// [`Properties::new`] unless given) and headers are kept, and the
    /// timestamp is stamped from the wall clock when the queue accepts it
    /// (unless already set). [`Delivery::properties`] gives them back.
    ///
    /// # Errors
    ///
    /// As [`publish`](Producer::publish).
    ///
    /// # Cancel safety
    ///
    /// As [`publish`](Producer::publish).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::queue::{Properties, Queue};
    ///
    /// weft::block_on(async {
    ///     let queue = Queue::new(8);
    ///     let props = Properties::new().with_id("order-7").with_header("tenant", "acme");
    ///     queue.producer().publish_with("charge", props).await.unwrap();
    ///     let job = queue.consumer().recv().await.unwrap();
    ///     let props = job.properties().unwrap();
    ///     assert_eq!(props.id().as_str(), "order-7");
    ///     assert_eq!(props.header("tenant"), Some("acme"));
    ///     assert!(props.timestamp().is_some());
    ///     job.ack().unwrap();
    /// });
    /// ```
    pub async fn publish_with(&self, message: T, mut properties: Properties) -> Result<(), PublishError<T>> {
        properties.stamp(std::time::SystemTime::now());
        self.publish_op(PublishOp::new(message, Some(Box::new(properties))))
            .await
    }

    async fn publish_op(&self, op: PublishOp<T>) -> Result<(), PublishError<T>> {
        /// Tells the backend when a waiting publish is dropped.
        struct Cancel<'a, T: 'static> {
            backend: &'a dyn Backend<T>,
            op: PublishOp<T>,
        }
        impl<T: 'static> Drop for Cancel<'_, T> {
            fn drop(&mut self) {
                if self.op.ticket.is_some() {
                    self.backend.cancel_publish(&mut self.op);
                }
            }
        }
        let mut guard = Cancel {
            backend: &*self.backend,
            op,
        };
        poll_fn(|cx| guard.backend.poll_publish(&mut guard.op, Some(cx))).await
    }

    /// Publishes `messages` in order, each as [`publish`](Producer::publish)
    /// would (waiting for room under [`Overflow::Wait`]), and returns one
    /// verdict per message, in the same order: a failed one gives its
    /// message back and does not stop the others.
    ///
    /// # Cancel safety
    ///
    /// Dropped part way, the messages before the one it waited on were
    /// published; that one and those after were not.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::queue::{Overflow, PublishError, Queue};
    ///
    /// weft::block_on(async {
    ///     let queue = Queue::builder().capacity(2).overflow(Overflow::Reject).build();
    ///     let verdicts = queue.producer().publish_batch([1, 2, 3]).await;
    ///     assert!(verdicts[0].is_ok() && verdicts[1].is_ok());
    ///     assert!(matches!(verdicts[2], Err(PublishError::Full(3))));
    /// });
    /// ```
    pub async fn publish_batch(
        &self,
        messages: impl IntoIterator<Item = T>,
    ) -> Vec<Result<(), PublishError<T>>> {
        let messages = messages.into_iter();
        let mut verdicts = Vec::with_capacity(messages.size_hint().0);
        for message in messages {
            verdicts.push(self.publish(message).await);
        }
        verdicts
    }

    /// Publishes `message` if there is room now.
    ///
    /// # Errors
    ///
    /// [`TryPublishError::Full`] (under [`Overflow::Wait`] or
    /// [`Overflow::Reject`]) or [`TryPublishError::Closed`], with the
    /// message; [`TryPublishError::Store`] if the backend could not store
    /// it. On a backend that confirms publishes, `Ok` means sent: the
    /// confirm is not awaited (use [`publish`](Producer::publish) for
    /// that).
    pub fn try_publish(&self, message: T) -> Result<(), TryPublishError<T>> {
        let mut op = PublishOp::new(message, None);
        match self.backend.poll_publish(&mut op, None) {
            Poll::Ready(result) => result.map_err(TryPublishError::from),
            // Sent, outcome not awaited (a confirming backend).
            Poll::Pending => Ok(()),
        }
    }
}

impl<T: Clone + Send + 'static> Consumer<T> {
    /// This consumer's id, as dead-letter histories name it.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The next delivery; `Err(RecvError::Closed)` once the queue is
    /// closed and empty (nothing ready, nothing in flight that could come
    /// back).
    ///
    /// weft differs from tokio's `mpsc::Receiver::recv`, which returns
    /// `None` at the end: a queue's backend can also fail, so the end is
    /// an error, as with tokio's `broadcast::Receiver::recv`.
    ///
    /// # Errors
    ///
    /// [`RecvError::Closed`] at the end; [`RecvError::Store`] if the
    /// backend could not hand a message over (the in-memory backend never
    /// fails). After a `Store` error the consumer may call again.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropped while it waits, the consumer leaves the line of
    /// waiting consumers, and a message set aside for it goes back to the
    /// front of the queue, not counted as a delivery.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::queue::{Queue, RecvError};
    ///
    /// weft::block_on(async {
    ///     let queue = Queue::new(8);
    ///     queue.producer().publish("job").await.unwrap();
    ///     queue.close();
    ///     let mut consumer = queue.consumer();
    ///     consumer.recv().await.unwrap().ack().unwrap();
    ///     assert_eq!(consumer.recv().await.unwrap_err(), RecvError::Closed);
    /// });
    /// ```
    pub async fn recv(&mut self) -> Result<Delivery<T>, RecvError> {
        let mut guard = CancelRecv {
            consumer: self,
            waiting: false,
        };
        poll_fn(|cx| {
            let polled = guard.consumer.poll_recv(cx);
            guard.waiting = polled.is_pending();
            polled
        })
        .await
    }

    /// Polls for the next delivery; see [`recv`](Consumer::recv). After
    /// `Pending`, the consumer is in the line of waiting consumers until
    /// it polls again, is dropped, or calls
    /// [`cancel_recv`](Consumer::cancel_recv).
    ///
    /// # Errors
    ///
    /// As [`recv`](Consumer::recv).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<Delivery<T>, RecvError>> {
        self.backend.poll_deliver(self.id, cx).map(|polled| match polled {
            Ok(Some(handed)) => Ok(Delivery::new(Arc::downgrade(&self.backend), handed)),
            Ok(None) => Err(RecvError::Closed),
            Err(e) => Err(RecvError::Store(e)),
        })
    }

    /// Up to `max` deliveries at once (SQS's receive of up to 10, a
    /// Lambda batch): waits up to `wait` for the first, then takes what
    /// else is ready, within the consumer's prefetch, without waiting.
    /// Each delivery gets its own verdict. Returns an empty batch if `wait`
    /// passed with nothing delivered (or `max` is 0).
    ///
    /// A batch costs the backend one call: the in-memory queue takes its
    /// lock once, reads its clock once and sets one ack-deadline timer for
    /// the whole batch.
    ///
    /// `wait` runs on the queue's clock; a backend with none uses the
    /// current spawner's, and with neither the wait has no limit.
    ///
    /// # Errors
    ///
    /// As [`recv`](Consumer::recv): [`RecvError::Closed`] once the queue
    /// has ended; [`RecvError::Store`] if the backend failed, and then
    /// deliveries it had made for this batch are given back.
    ///
    /// # Cancel safety
    ///
    /// As [`recv`](Consumer::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft::queue::Queue;
    ///
    /// weft::block_on(async {
    ///     let queue = Queue::new(32);
    ///     let producer = queue.producer();
    ///     for n in 0..12 {
    ///         producer.publish(n).await.unwrap();
    ///     }
    ///     let mut consumer = queue.consumer();
    ///     let batch = consumer.recv_batch(10, Duration::from_secs(20)).await.unwrap();
    ///     assert_eq!(batch.len(), 10);
    ///     for delivery in batch {
    ///         if *delivery % 2 == 0 { delivery.ack().unwrap() } else { delivery.nack(true).unwrap() }
    ///     }
    ///     assert_eq!(queue.stats().acked, 5);
    /// });
    /// ```
    pub async fn recv_batch(&mut self, max: usize, wait: Duration) -> Result<Vec<Delivery<T>>, RecvError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        // The timer is made only if the first delivery is not ready at once.
        let mut timer: Option<Option<weft_primitives::spawner::BoxFuture>> = None;
        let mut guard = CancelRecv {
            consumer: self,
            waiting: false,
        };
        poll_fn(|cx| {
            let polled = guard.consumer.poll_batch(max, cx);
            guard.waiting = polled.is_pending();
            if polled.is_ready() || wait.is_zero() {
                // Still waiting after a zero wait: the guard's drop leaves
                // the line and gives back what was set aside.
                return match polled {
                    Poll::Ready(result) => Poll::Ready(result),
                    Poll::Pending => Poll::Ready(Ok(Vec::new())),
                };
            }
            let timer = timer.get_or_insert_with(|| {
                let spawner = guard
                    .consumer
                    .backend
                    .spawner()
                    .or_else(|| Spawner::try_current().ok())?;
                let at = spawner.now().checked_add(wait)?;
                Some(spawner.sleep_until(at))
            });
            match timer.as_mut().map(|timer| timer.as_mut().poll(cx)) {
                // The wait passed: the guard gives back what it had.
                Some(Poll::Ready(())) => Poll::Ready(Ok(Vec::new())),
                _ => Poll::Pending,
            }
        })
        .await
    }

    /// One poll of a batch: every delivery made in one backend call.
    fn poll_batch(&mut self, max: usize, cx: &mut Context<'_>) -> Poll<Result<Vec<Delivery<T>>, RecvError>> {
        /// Room reserved up front, so that a batch allocates once; a larger
        /// `max` grows the batch as it fills.
        const RESERVE: usize = 64;
        let backend = Arc::downgrade(&self.backend);
        let mut batch = Vec::new();
        let polled = self.backend.poll_deliver_batch(self.id, max, cx, &mut |handed| {
            if batch.capacity() == 0 {
                batch.reserve_exact(max.min(RESERVE));
            }
            batch.push(Delivery::new(backend.clone(), handed));
        });
        polled.map(|polled| match polled {
            Ok(Some(_)) => Ok(batch),
            Ok(None) => Err(RecvError::Closed),
            // Dropping `batch` gives back what it holds.
            Err(e) => Err(RecvError::Store(e)),
        })
    }

    /// This consumer's counters: deliveries in hand, acked, nacked and
    /// rejected.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::queue::Queue;
    ///
    /// weft::block_on(async {
    ///     let queue = Queue::new(8);
    ///     queue.producer().publish(1).await.unwrap();
    ///     let mut consumer = queue.consumer();
    ///     let job = consumer.recv().await.unwrap();
    ///     assert_eq!(consumer.stats().in_hand, 1);
    ///     job.ack().unwrap();
    ///     assert_eq!((consumer.stats().in_hand, consumer.stats().acked), (0, 1));
    /// });
    /// ```
    pub fn stats(&self) -> ConsumerStats {
        self.backend.consumer_stats(self.id)
    }

    /// Leaves the line of waiting consumers after a
    /// [`poll_recv`](Consumer::poll_recv) that returned `Pending`; a
    /// message set aside for this consumer goes back to the queue.
    /// [`recv`](Consumer::recv) does this itself when dropped.
    pub fn cancel_recv(&mut self) {
        self.backend.cancel_deliver(self.id);
    }
}

/// Tells the backend when a waiting receive is dropped.
struct CancelRecv<'a, T: 'static> {
    consumer: &'a mut Consumer<T>,
    waiting: bool,
}

impl<T: 'static> Drop for CancelRecv<'_, T> {
    fn drop(&mut self) {
        if self.waiting {
            self.consumer.backend.cancel_deliver(self.consumer.id);
        }
    }
}

impl<T: 'static> Drop for Consumer<T> {
    fn drop(&mut self) {
        self.backend.remove_consumer(self.id);
    }
}

impl<T: Clone + Send + 'static> Delivery<T> {
    fn new(backend: Weak<dyn Backend<T>>, handed: Handed<T>) -> Delivery<T> {
        Delivery {
            backend,
            message: handed.message,
            tag: handed.tag,
            deliveries: handed.deliveries,
            properties: handed.properties,
            settled: false,
        }
    }

    // ANCHOR: verdicts
    /// Acknowledges the message: it leaves the queue.
    ///
    /// # Errors
    ///
    /// [`AckError::NotInFlight`] if the ack deadline passed first (the
    /// message may have been delivered again), [`AckError::QueueGone`] if
    /// every handle to the queue was dropped. [`AckError::Store`] if the
    /// backend could not record the verdict: the delivery is then given
    /// back at once, to be delivered again (flagged as redelivered), as
    /// RabbitMQ requeues what a failed channel held unacked. (Unlike SQS,
    /// where a failed delete may be retried until the visibility timeout,
    /// a weft verdict is not retried: the message comes back instead.)
    pub fn ack(mut self) -> Result<(), AckError> {
        self.finish(Verdict::Ack)
    }

    /// Acknowledges the message and waits until the backend confirms the
    /// ack is stored: on the [durable](Queue::durable) backend, until its
    /// record is synced, so that not even a power cut brings the message
    /// back. [`ack`](Delivery::ack) returns once the ack is sent (on the
    /// durable backend, written: it survives `kill -9`, not a power cut).
    /// On the in-memory backend the two are the same.
    ///
    /// # Errors
    ///
    /// As [`ack`](Delivery::ack).
    ///
    /// # Cancel safety
    ///
    /// Dropped while it waits, the ack was sent, as by `ack`; only its
    /// confirmation is not awaited.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::queue::Queue;
    ///
    /// weft::block_on(async {
    ///     let queue = Queue::new(8);
    ///     queue.producer().publish("charge card").await.unwrap();
    ///     let job = queue.consumer().recv().await.unwrap();
    ///     job.ack_confirmed().await.unwrap();
    ///     assert_eq!(queue.stats().acked, 1);
    /// });
    /// ```
    pub async fn ack_confirmed(mut self) -> Result<(), AckError> {
        self.settled = true;
        let backend = self.backend.upgrade().ok_or(AckError::QueueGone)?;
        let tag = self.tag;
        let result = poll_fn(|cx| backend.poll_settle(tag, Verdict::Ack, Some(cx))).await;
        release_if_unrecorded(&*backend, tag, result)
    }

    /// Gives the message back: delivered again if `requeue` (unless it used
    /// up its deliveries), dead-lettered otherwise.
    ///
    /// # Errors
    ///
    /// As [`ack`](Delivery::ack).
    pub fn nack(mut self, requeue: bool) -> Result<(), AckError> {
        self.finish(Verdict::Nack { requeue })
    }

    /// Gives the message back to be delivered again once `delay` has
    /// passed (SQS's visibility timeout change, a retry with a pause), so
    /// that a failing message does not spin at the front; dead-lettered
    /// instead if it used up its deliveries. Until then it counts in
    /// [`Stats::delayed`].
    ///
    /// # Errors
    ///
    /// As [`ack`](Delivery::ack).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft::queue::Queue;
    ///
    /// weft::block_on(async {
    ///     let queue = Queue::new(8);
    ///     queue.producer().publish("retry me").await.unwrap();
    ///     let mut consumer = queue.consumer();
    ///     consumer.recv().await.unwrap().nack_after(Duration::from_millis(5)).unwrap();
    ///     assert_eq!(queue.stats().delayed, 1);
    ///     let again = consumer.recv().await.unwrap();
    ///     assert!(again.redelivered());
    ///     again.ack().unwrap();
    /// });
    /// ```
    pub fn nack_after(mut self, delay: Duration) -> Result<(), AckError> {
        self.finish(Verdict::NackAfter { delay })
    }

    /// Dead-letters the message ([`DeadReason::Rejected`]).
    ///
    /// # Errors
    ///
    /// As [`ack`](Delivery::ack).
    pub fn reject(mut self) -> Result<(), AckError> {
        self.finish(Verdict::Reject)
    }
    // ANCHOR_END: verdicts

    /// Pushes the ack deadline to `extra` from now.
    ///
    /// # Errors
    ///
    /// As [`ack`](Delivery::ack).
    pub fn extend_deadline(&self, extra: Duration) -> Result<(), AckError> {
        let backend = self.backend.upgrade().ok_or(AckError::QueueGone)?;
        match backend.poll_extend_deadline(self.tag, extra, None) {
            Poll::Ready(result) => result,
            Poll::Pending => Ok(()),
        }
    }

    /// Settles the delivery with `verdict` and waits until the backend has
    /// recorded it (for a broker or a disk: confirmed). The verdict
    /// methods ([`ack`](Delivery::ack) and the others) send it without
    /// waiting; the in-memory backend records it at once either way.
    ///
    /// # Errors
    ///
    /// As [`ack`](Delivery::ack), [`AckError::Store`] included: the
    /// delivery is then given back at once.
    ///
    /// # Cancel safety
    ///
    /// Dropped after its first poll, the verdict was sent; whether it was
    /// recorded is not known.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::queue::{Queue, Verdict};
    ///
    /// weft::block_on(async {
    ///     let queue = Queue::new(8);
    ///     queue.producer().publish(1).await.unwrap();
    ///     let job = queue.consumer().recv().await.unwrap();
    ///     job.settle(Verdict::Ack).await.unwrap();
    ///     assert_eq!(queue.stats().acked, 1);
    /// });
    /// ```
    pub async fn settle(mut self, verdict: Verdict) -> Result<(), AckError> {
        self.settled = true;
        let backend = self.backend.upgrade().ok_or(AckError::QueueGone)?;
        let tag = self.tag;
        let result = poll_fn(|cx| backend.poll_settle(tag, verdict, Some(cx))).await;
        release_if_unrecorded(&*backend, tag, result)
    }

    /// The message's properties, if it was published with
    /// [`publish_with`](Producer::publish_with).
    pub fn properties(&self) -> Option<&Properties> {
        self.properties.as_deref()
    }

    /// How many times the message has been delivered, this time included.
    pub fn delivery_count(&self) -> u32 {
        self.deliveries
    }

    /// True if the message was delivered before.
    pub fn redelivered(&self) -> bool {
        self.deliveries > 1
    }

    /// The message.
    pub fn message(&self) -> &T {
        &self.message
    }

    fn finish(&mut self, verdict: Verdict) -> Result<(), AckError> {
        self.settled = true;
        let backend = self.backend.upgrade().ok_or(AckError::QueueGone)?;
        match backend.poll_settle(self.tag, verdict, None) {
            Poll::Ready(result) => release_if_unrecorded(&*backend, self.tag, result),
            // Sent; a confirming backend reports no more without a context.
            Poll::Pending => Ok(()),
        }
    }
}

/// A verdict the store could not record leaves the delivery in flight:
/// give it back at once, so that the message is delivered again now rather
/// than at its ack deadline (or never, without one). If the verdict was in
/// fact recorded (`StoreError::Unknown`), the give-back finds nothing.
fn release_if_unrecorded<T: 'static>(
    backend: &dyn Backend<T>,
    tag: u64,
    result: Result<(), AckError>,
) -> Result<(), AckError> {
    if let Err(AckError::Store(_)) = &result {
        // If the store fails this too, the deadline brings the message back.
        let _ = backend.poll_settle(tag, Verdict::Dropped, None);
    }
    result
}

impl<T: 'static> Deref for Delivery<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.message
    }
}

// ANCHOR: delivery-drop
impl<T: 'static> Drop for Delivery<T> {
    fn drop(&mut self) {
        if !self.settled {
            self.settled = true;
            if let Some(backend) = self.backend.upgrade() {
                let _ = backend.poll_settle(self.tag, Verdict::Dropped, None);
            }
        }
    }
}
// ANCHOR_END: delivery-drop

impl<T: 'static> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stats = self.backend.stats();
        f.debug_struct("Queue")
            .field("ready", &stats.ready)
            .field("in_flight", &stats.in_flight)
            .field("dead_lettered", &stats.dead_lettered)
            .field("closed", &self.backend.is_closed())
            .finish()
    }
}

impl<T: 'static> fmt::Debug for Producer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer").finish_non_exhaustive()
    }
}

impl<T: 'static> fmt::Debug for Consumer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer").field("id", &self.id).finish()
    }
}

impl<T: fmt::Debug + 'static> fmt::Debug for Delivery<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("message", &self.message)
            .field("delivery_count", &self.deliveries)
            .finish_non_exhaustive()
    }
}

impl<T: 'static> Clone for Queue<T> {
    fn clone(&self) -> Queue<T> {
        Queue {
            backend: self.backend.clone(),
        }
    }
}

impl<T: 'static> Clone for Producer<T> {
    fn clone(&self) -> Producer<T> {
        self.backend.add_producer();
        Producer {
            backend: self.backend.clone(),
        }
    }
}

impl<T: 'static> Drop for Producer<T> {
    fn drop(&mut self) {
        self.backend.remove_producer();
    }
}
