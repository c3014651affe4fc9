//! What a queue's storage does: the [`Backend`] trait.
//!
//! [`Queue`](super::Queue), [`Producer`](super::Producer),
//! [`Consumer`](super::Consumer) and [`Delivery`](super::Delivery) are a
//! front over a backend, which holds the messages and decides who gets
//! which. Today there is one, [`Memory`](super::Memory), in process. Two
//! more are planned and not built yet: a durable backend on disk, which
//! would append each accepted message to a log before `try_publish`
//! returns, and a broker backend on RabbitMQ, where publish would be a
//! confirmed `basic.publish`, `poll_deliver` a `basic.consume` with
//! `basic.qos` prefetch, and a verdict a `basic.ack` / `basic.nack` /
//! `basic.reject`.
//! The trait is the queue's state machine: a message is published, handed
//! to one consumer, and ends with a verdict (or a deadline, or a TTL, which
//! the backend enforces itself); what does not end in an ack is delivered
//! again or dead-lettered.

use super::{AckError, DeadLetter, Overflow, Stats, TryPublishError};
use std::task::{Context, Poll};
use std::time::Duration;

/// A message handed to a consumer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handed<T> {
    /// Names this delivery in [`Backend::settle`]; unique within the queue.
    pub tag: u64,
    /// The message.
    pub message: T,
    /// How many times it has been delivered, this time included.
    pub deliveries: u32,
}

// ANCHOR: verdict
/// How a consumer ended a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Done: the message leaves the queue.
    Ack,
    /// Give it back: delivered again if `requeue` (within the delivery
    /// limit), dead-lettered otherwise.
    Nack {
        /// Whether to deliver it again.
        requeue: bool,
    },
    /// Dead-letter it.
    Reject,
    /// The delivery was dropped without a verdict: as `Nack { requeue:
    /// true }`, recorded as dropped.
    Dropped,
}
// ANCHOR_END: verdict

// ANCHOR: backend
/// Storage and dispatch for a work queue.
///
/// Every method takes `&self`: one backend is shared by every handle of
/// its queue. Methods that can wait take a `Context` and register its
/// waker when they cannot go on, like `Future::poll`.
pub trait Backend<T>: Send + Sync + 'static {
    /// Accepts `message` if there is room (or the overflow policy makes
    /// some). When full under [`Overflow::Wait`], registers `cx` (if
    /// given) to be woken when room is made; under [`Overflow::Reject`]
    /// nobody waits, so nothing is registered.
    ///
    /// # Errors
    ///
    /// `Full` or `Closed`, giving the message back.
    fn try_publish(&self, message: T, cx: Option<&Context<'_>>) -> Result<(), TryPublishError<T>>;

    /// The policy for a full queue, which tells `publish` whether `Full`
    /// means "wait" or "fail".
    fn overflow(&self) -> Overflow;

    /// Registers a new consumer and returns its id.
    fn add_consumer(&self) -> u64;

    /// The next message for `consumer`; `Ready(None)` once the queue is
    /// closed and nothing can come back. Consumers waiting at once are
    /// served in turn.
    fn poll_deliver(&self, consumer: u64, cx: &mut Context<'_>) -> Poll<Option<Handed<T>>>;

    /// Forgets `consumer`; a message handed to it and not yet returned by
    /// `poll_deliver` is delivered again.
    fn remove_consumer(&self, consumer: u64);

    /// Ends delivery `tag` with `verdict`.
    ///
    /// # Errors
    ///
    /// [`AckError::NotInFlight`] if it already ended (settled before, or
    /// its ack deadline passed).
    fn settle(&self, tag: u64, verdict: Verdict) -> Result<(), AckError>;

    /// Moves delivery `tag`'s ack deadline to `extra` from now.
    ///
    /// # Errors
    ///
    /// [`AckError::NotInFlight`] as for `settle`.
    fn extend_deadline(&self, tag: u64, extra: Duration) -> Result<(), AckError>;

    /// Refuses publishes from now on and wakes every waiter.
    fn close(&self);

    /// Whether `close` was called.
    fn is_closed(&self) -> bool;

    /// The queue's counters.
    fn stats(&self) -> Stats;

    /// Takes the oldest dead letter; when there is none, registers `cx`
    /// (if given) to be woken when one comes.
    fn poll_dead_letter(&self, cx: Option<&Context<'_>>) -> Poll<DeadLetter<T>>;
}
// ANCHOR_END: backend
