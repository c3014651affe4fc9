//! The errors of a broadcast channel.
//!
//! `SendError` follows the channels' one pattern (the `sync` module's docs
//! state it; `mpsc/error.rs` is its first instance): a distinct type per
//! channel, because its `Display` names what is gone.

use std::fmt;

// Alike but for `Display` to watch/error.rs's and mpsc's (a `duplicates`
// pair, left): one documented pattern, the `sync` module's "Errors".
/// No receiver is subscribed: the value comes back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> SendError<T> {
    /// The value that was not sent.
    pub fn into_inner(self) -> T {
        self.0
    }
}

// Debug and Display name the failure without requiring `T: Debug`.
impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no receiver is subscribed")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// Why [`Receiver::recv`](super::Receiver::recv) returned no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvError {
    /// Every sender is gone and this receiver has read everything.
    Closed,
    /// The receiver fell behind and missed this many values; the next
    /// receive returns the oldest value still kept.
    Lagged(u64),
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Closed => f.write_str("the channel is closed"),
            RecvError::Lagged(n) => write!(f, "the receiver lagged and missed {n} values"),
        }
    }
}

impl std::error::Error for RecvError {}

/// Why [`Receiver::try_recv`](super::Receiver::try_recv) returned no
/// value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing new for this receiver; senders remain.
    Empty,
    /// Every sender is gone and this receiver has read everything.
    Closed,
    /// The receiver fell behind and missed this many values; the next
    /// receive returns the oldest value still kept.
    Lagged(u64),
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("the channel is empty"),
            TryRecvError::Closed => f.write_str("the channel is closed"),
            TryRecvError::Lagged(n) => {
                write!(f, "the receiver lagged and missed {n} values")
            }
        }
    }
}

impl std::error::Error for TryRecvError {}
