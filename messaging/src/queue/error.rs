//! The errors of the work queue.

use super::Verdict;
use crate::StoreError;
use std::error::Error;
use std::fmt;

/// Why `publish` did not accept a message; the message is given back
/// whenever it is known not to be stored.
pub enum PublishError<T> {
    /// The queue was closed.
    Closed(T),
    /// The queue was full and its policy is [`Overflow::Reject`](super::Overflow::Reject).
    Full(T),
    /// The backend could not store it (a disk or a broker failed).
    Store(StoreError<T>),
}

/// Why `try_publish` did not accept a message; the message is given back
/// whenever it is known not to be stored.
pub enum TryPublishError<T> {
    /// The queue was closed.
    Closed(T),
    /// The queue was full (and its policy does not drop the oldest).
    Full(T),
    /// The backend could not store it (a disk or a broker failed).
    Store(StoreError<T>),
}

/// Why a delivery could not be settled.
///
/// Two `Store` errors compare equal when they agree on whether the outcome
/// is known and on the I/O error's kind.
#[derive(Debug)]
#[non_exhaustive]
pub enum AckError {
    /// The delivery is no longer in flight: its ack deadline passed (the
    /// message became deliverable again), or it was already settled.
    NotInFlight,
    /// Every handle to the queue is gone.
    QueueGone,
    /// The backend could not record the verdict (it is handed back in the
    /// error). The delivery was then given back at once, to be delivered
    /// again (as a broker requeues the unacked messages of a failed
    /// channel); if the backend could not record that either, the ack
    /// deadline brings the message back.
    Store(StoreError<Verdict>),
}

/// Why [`recv`](super::Consumer::recv) or
/// [`recv_batch`](super::Consumer::recv_batch) returned no delivery.
///
/// Where tokio's `mpsc::Receiver::recv` returns `None` at the end, a
/// consumer returns `Err(RecvError::Closed)`, as tokio's
/// `broadcast::Receiver::recv` and weft's event subscribers do, because a
/// queue's backend can also fail.
#[derive(Debug)]
#[non_exhaustive]
pub enum RecvError {
    /// The queue was closed and nothing is left that could be delivered
    /// (nothing ready, delayed, or in flight that could come back).
    Closed,
    /// The backend could not hand a message over (a disk read or a
    /// broker's consume failed; the in-memory backend never fails).
    /// `NotStored`: no message moved. `Unknown`: one may have been marked
    /// delivered, and comes back at its ack deadline. The consumer may
    /// call again; a batch's deliveries made before the failure were given
    /// back.
    Store(StoreError<()>),
}

impl<T> PublishError<T> {
    /// The message that was not published, unless the store cannot tell
    /// whether it was.
    pub fn into_inner(self) -> Option<T> {
        match self {
            PublishError::Closed(m) | PublishError::Full(m) => Some(m),
            PublishError::Store(e) => e.into_value(),
        }
    }
}

impl<T> TryPublishError<T> {
    /// The message that was not published, unless the store cannot tell
    /// whether it was.
    pub fn into_inner(self) -> Option<T> {
        match self {
            TryPublishError::Closed(m) | TryPublishError::Full(m) => Some(m),
            TryPublishError::Store(e) => e.into_value(),
        }
    }
}

impl<T> From<PublishError<T>> for TryPublishError<T> {
    fn from(e: PublishError<T>) -> TryPublishError<T> {
        match e {
            PublishError::Closed(m) => TryPublishError::Closed(m),
            PublishError::Full(m) => TryPublishError::Full(m),
            PublishError::Store(e) => TryPublishError::Store(e),
        }
    }
}

impl<T> fmt::Debug for PublishError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PublishError::Closed(_) => f.write_str("Closed(..)"),
            PublishError::Full(_) => f.write_str("Full(..)"),
            PublishError::Store(e) => f.debug_tuple("Store").field(e).finish(),
        }
    }
}

impl<T> fmt::Debug for TryPublishError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPublishError::Closed(_) => f.write_str("Closed(..)"),
            TryPublishError::Full(_) => f.write_str("Full(..)"),
            TryPublishError::Store(e) => f.debug_tuple("Store").field(e).finish(),
        }
    }
}

impl<T> fmt::Display for PublishError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PublishError::Closed(_) => f.write_str("the queue is closed"),
            PublishError::Full(_) => f.write_str("the queue is full"),
            PublishError::Store(e) => write!(f, "the queue could not store the message: {e}"),
        }
    }
}

impl<T> fmt::Display for TryPublishError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPublishError::Closed(_) => f.write_str("the queue is closed"),
            TryPublishError::Full(_) => f.write_str("the queue is full"),
            TryPublishError::Store(e) => write!(f, "the queue could not store the message: {e}"),
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
            AckError::Store(e) => write!(f, "the queue could not record the verdict: {e}"),
        }
    }
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Closed => f.write_str("the queue is closed"),
            RecvError::Store(e) => write!(f, "the queue could not deliver a message: {e}"),
        }
    }
}

/// Equal if the same variant; two `Store` errors as for [`AckError`].
impl PartialEq for RecvError {
    fn eq(&self, other: &RecvError) -> bool {
        match (self, other) {
            (RecvError::Closed, RecvError::Closed) => true,
            (RecvError::Store(a), RecvError::Store(b)) => {
                a.is_unknown() == b.is_unknown() && a.io_error().kind() == b.io_error().kind()
            }
            _ => false,
        }
    }
}

impl Error for RecvError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            RecvError::Store(e) => Some(e.io_error()),
            RecvError::Closed => None,
        }
    }
}

impl PartialEq for AckError {
    fn eq(&self, other: &AckError) -> bool {
        match (self, other) {
            (AckError::NotInFlight, AckError::NotInFlight) | (AckError::QueueGone, AckError::QueueGone) => {
                true
            }
            (AckError::Store(a), AckError::Store(b)) => {
                a.is_unknown() == b.is_unknown() && a.io_error().kind() == b.io_error().kind()
            }
            _ => false,
        }
    }
}

impl<T> Error for PublishError<T> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            PublishError::Store(e) => Some(e.io_error()),
            _ => None,
        }
    }
}

impl<T> Error for TryPublishError<T> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            TryPublishError::Store(e) => Some(e.io_error()),
            _ => None,
        }
    }
}

impl Error for AckError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            AckError::Store(e) => Some(e.io_error()),
            _ => None,
        }
    }
}
