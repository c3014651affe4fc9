//! The errors of the work queue.

use std::error::Error;
use std::fmt;

/// Why `publish` did not accept a message; the message is given back.
#[derive(PartialEq, Eq, Clone)]
pub enum PublishError<T> {
    /// The queue was closed.
    Closed(T),
    /// The queue was full and its policy is [`Overflow::Reject`](super::Overflow::Reject).
    Full(T),
}

/// Why `try_publish` did not accept a message; the message is given back.
#[derive(PartialEq, Eq, Clone)]
pub enum TryPublishError<T> {
    /// The queue was closed.
    Closed(T),
    /// The queue was full (and its policy does not drop the oldest).
    Full(T),
}

/// Why a delivery could not be settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AckError {
    /// The delivery is no longer in flight: its ack deadline passed (the
    /// message became deliverable again), or it was already settled.
    NotInFlight,
    /// Every handle to the queue is gone.
    QueueGone,
}

impl<T> PublishError<T> {
    /// The message that was not published.
    pub fn into_inner(self) -> T {
        match self {
            PublishError::Closed(m) | PublishError::Full(m) => m,
        }
    }
}

impl<T> TryPublishError<T> {
    /// The message that was not published.
    pub fn into_inner(self) -> T {
        match self {
            TryPublishError::Closed(m) | TryPublishError::Full(m) => m,
        }
    }
}

impl<T> fmt::Debug for PublishError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PublishError::Closed(_) => f.write_str("Closed(..)"),
            PublishError::Full(_) => f.write_str("Full(..)"),
        }
    }
}

impl<T> fmt::Debug for TryPublishError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPublishError::Closed(_) => f.write_str("Closed(..)"),
            TryPublishError::Full(_) => f.write_str("Full(..)"),
        }
    }
}

impl<T> fmt::Display for PublishError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PublishError::Closed(_) => f.write_str("the queue is closed"),
            PublishError::Full(_) => f.write_str("the queue is full"),
        }
    }
}

impl<T> fmt::Display for TryPublishError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPublishError::Closed(_) => f.write_str("the queue is closed"),
            TryPublishError::Full(_) => f.write_str("the queue is full"),
        }
    }
}

impl fmt::Display for AckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AckError::NotInFlight => {
                f.write_str("the delivery is no longer in flight (settled, or its ack deadline passed)")
            }
            AckError::QueueGone => f.write_str("the queue is gone"),
        }
    }
}

impl<T> Error for PublishError<T> {}
impl<T> Error for TryPublishError<T> {}
impl Error for AckError {}
