//! The queue's settings: [`Builder`], whose `build` makes an in-memory
//! [`Queue`], and the [`Overflow`] policy a full queue follows.

use super::{Memory, Queue};
use std::time::Duration;
use weft_primitives::spawner::Spawner;

// ANCHOR: overflow
/// What `publish` does when the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overflow {
    /// Wait for room (backpressure). The default.
    #[default]
    Wait,
    /// Fail at once with [`PublishError::Full`](super::PublishError::Full), giving the message back.
    Reject,
    /// Make room by moving the oldest ready message to the dead-letter
    /// queue ([`DeadReason::Overflowed`](super::DeadReason::Overflowed)).
    DropOldest,
}
// ANCHOR_END: overflow

/// Settings for a [`Queue`]; from [`Queue::builder`].
#[derive(Debug, Clone)]
pub struct Builder {
    pub(super) capacity: usize,
    pub(super) overflow: Overflow,
    pub(super) max_deliveries: u32,
    pub(super) ack_deadline: Option<Duration>,
    pub(super) ttl: Option<Duration>,
    pub(super) prefetch: usize,
    pub(super) spawner: Option<Spawner>,
    pub(super) backoff: Option<(Duration, Duration)>,
    pub(super) dedup_window: Option<Duration>,
    pub(super) end_when_producers_gone: bool,
}

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
    /// [`publish_with`](super::Producer::publish_with), and remembering them costs
    /// memory in proportion to the publish rate. Dropped duplicates are
    /// counted in [`Stats::deduplicated`](super::Stats::deduplicated).
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

    /// Closes the queue when its last [`Producer`](super::Producer) is dropped, so that
    /// consumers see the end ([`RecvError::Closed`](super::RecvError::Closed)) once every producer
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
