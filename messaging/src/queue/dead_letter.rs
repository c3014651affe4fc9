//! What the dead-letter queue holds: a [`DeadLetter`], the
//! [`DeadReason`] it left for, and the history of its deliveries
//! ([`Attempt`], [`Outcome`]).

use super::Properties;
use std::time::Instant;

// ANCHOR: dead-letter
/// Why a message was dead-lettered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadReason {
    /// A consumer called [`Delivery::reject`](super::Delivery::reject) or [`Delivery::nack`](super::Delivery::nack)`(false)`.
    Rejected,
    /// It was delivered [`Builder::max_deliveries`](super::Builder::max_deliveries) times without an ack.
    MaxDeliveries,
    /// It waited longer than its [`Builder::ttl`](super::Builder::ttl).
    Expired,
    /// The [`Overflow::DropOldest`](super::Overflow::DropOldest) policy pushed it out.
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
    /// The consumer's id ([`Consumer::id`](super::Consumer::id)).
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
    /// [`publish_with`](super::Producer::publish_with).
    pub properties: Option<Properties>,
}
// ANCHOR_END: dead-letter
