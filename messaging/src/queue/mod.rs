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
mod error;
mod memory;

pub use self::backend::{Backend, Handed, Verdict};
pub use self::error::{AckError, PublishError, TryPublishError};
pub use self::memory::Memory;
pub use crate::codec::{Codec, CodecError, Raw, Utf8};
pub use crate::{MessageId, Properties, StoreError};

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
    /// Messages in the dead-letter queue now.
    pub dead_lettered: usize,
    /// Messages ever accepted by `publish`.
    pub published: u64,
    /// Messages ever acked.
    pub acked: u64,
}
// ANCHOR_END: stats

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
    /// or a store of your own (durable and broker backends are planned,
    /// not built yet).
    pub fn with_backend(backend: impl Backend<T>) -> Queue<T> {
        Queue {
            backend: Arc::new(backend),
        }
    }

    /// A producer for this queue.
    pub fn producer(&self) -> Producer<T> {
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
    /// back), then `None`.
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

    /// Takes the oldest dead letter, if any.
    pub fn try_dead_letter(&self) -> Option<DeadLetter<T>> {
        match self.backend.poll_dead_letter(None) {
            Poll::Ready(letter) => Some(letter),
            Poll::Pending => None,
        }
    }

    /// Waits for the next dead letter. Cancel-safe.
    pub async fn dead_letter(&self) -> DeadLetter<T> {
        poll_fn(|cx| self.backend.poll_dead_letter(Some(cx))).await
    }
}

impl<T: Clone + Send + 'static> Producer<T> {
    // ANCHOR: publish
    /// Publishes `message`, waiting for room if the queue is full and the
    /// policy is [`Overflow::Wait`]. Cancel-safe: dropped before it
    /// completes, the message was not published.
    ///
    /// # Errors
    ///
    /// [`PublishError::Closed`] once the queue is closed,
    /// [`PublishError::Full`] when full under [`Overflow::Reject`]; both
    /// give the message back.
    pub async fn publish(&self, message: T) -> Result<(), PublishError<T>> {
        let mut message = Some(message);
        poll_fn(|cx| {
            let msg = message.take().expect("polled after completion");
            match self.backend.try_publish(msg, Some(cx)) {
                Ok(()) => Poll::Ready(Ok(())),
                Err(TryPublishError::Closed(m)) => Poll::Ready(Err(PublishError::Closed(m))),
                Err(TryPublishError::Full(m)) if self.backend.overflow() == Overflow::Reject => {
                    Poll::Ready(Err(PublishError::Full(m)))
                }
                Err(TryPublishError::Full(m)) => {
                    message = Some(m);
                    Poll::Pending
                }
            }
        })
        .await
    }
    // ANCHOR_END: publish

    /// Publishes `message` if there is room now.
    ///
    /// # Errors
    ///
    /// [`TryPublishError::Full`] (under [`Overflow::Wait`] or
    /// [`Overflow::Reject`]) or [`TryPublishError::Closed`], with the
    /// message.
    pub fn try_publish(&self, message: T) -> Result<(), TryPublishError<T>> {
        self.backend.try_publish(message, None)
    }
}

impl<T: Clone + Send + 'static> Consumer<T> {
    /// This consumer's id, as dead-letter histories name it.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The next delivery, or `None` once the queue is closed and empty
    /// (nothing ready, nothing in flight that could come back).
    /// Cancel-safe: a delivery handed to this consumer while the future
    /// waited is kept for its next `recv`.
    pub async fn recv(&mut self) -> Option<Delivery<T>> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next delivery; see [`recv`](Consumer::recv).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Delivery<T>>> {
        self.backend.poll_deliver(self.id, cx).map(|handed| {
            handed.map(|handed| Delivery {
                backend: Arc::downgrade(&self.backend),
                message: handed.message,
                tag: handed.tag,
                deliveries: handed.deliveries,
                settled: false,
            })
        })
    }
}

impl<T: 'static> Drop for Consumer<T> {
    fn drop(&mut self) {
        self.backend.remove_consumer(self.id);
    }
}

impl<T: Clone + Send + 'static> Delivery<T> {
    // ANCHOR: verdicts
    /// Acknowledges the message: it leaves the queue.
    ///
    /// # Errors
    ///
    /// [`AckError::NotInFlight`] if the ack deadline passed first (the
    /// message may have been delivered again), [`AckError::QueueGone`] if
    /// every handle to the queue was dropped.
    pub fn ack(mut self) -> Result<(), AckError> {
        self.finish(Verdict::Ack)
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
        backend.extend_deadline(self.tag, extra)
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
        backend.settle(self.tag, verdict)
    }
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
                let _ = backend.settle(self.tag, Verdict::Dropped);
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
        Producer {
            backend: self.backend.clone(),
        }
    }
}
