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

// The front, what a user holds: the queue handle, its settings, the two
// ends, a delivery and its verdicts, and what comes back out (dead letters,
// counters, errors).
mod builder;
mod consumer;
mod dead_letter;
mod delivery;
mod error;
mod handle;
mod producer;
mod stats;

// Request / reply on top of the front.
mod rpc;

// Behind the front: the backend trait, and the backends this crate builds.
mod backend;
#[cfg(feature = "disk")]
pub(crate) mod durable;
mod memory;

pub use self::backend::{Backend, Handed, PublishOp, Verdict};
pub use self::builder::{Builder, Overflow};
pub use self::consumer::Consumer;
pub use self::dead_letter::{Attempt, DeadLetter, DeadReason, Outcome};
pub use self::delivery::Delivery;
#[cfg(feature = "disk")]
pub use self::durable::{DiskFull, DiskOptions, Durable, OpenDurableError, Restored};
pub use self::error::{AckError, PublishError, RecvError, TryPublishError};
pub use self::handle::Queue;
pub use self::memory::Memory;
pub use self::producer::Producer;
pub use self::rpc::{CORRELATION_ID, ReplyError, Request, RequestError, Requester, Responder};
pub use self::stats::{ConsumerStats, Stats};
pub use crate::codec::{Codec, CodecError, Raw, Utf8};
pub use crate::{MessageId, Properties, StoreError};
#[cfg(feature = "disk")]
pub use weft_disk::{Recovery, SyncPolicy, TornTail};
