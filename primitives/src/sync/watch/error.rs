//! The errors of a watch channel.
//!
//! `SendError` follows the channels' one pattern (the `sync` module's docs
//! state it; `mpsc/error.rs` is its first instance): a distinct type per
//! channel, because its `Display` names what is gone.

use std::fmt;

// Alike but for `Display` to broadcast/error.rs's and mpsc's (a `duplicates`
// pair, left): one documented pattern, the `sync` module's "Errors".
/// Every receiver is gone: the value comes back, not stored.
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
        f.write_str("every receiver is gone")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// The sender is gone and no value newer than the last seen exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError(pub(crate) ());

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the sender is gone")
    }
}

impl std::error::Error for RecvError {}
