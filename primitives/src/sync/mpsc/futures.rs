//! The futures of a bounded channel's [`Sender`](super::Sender): `send`,
//! `reserve` and `closed`.

use super::Permit;
use super::chan::Chan;
use super::error::SendError;
use crate::loom::Arc;
use crate::util::wait_list::Key;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The future of [`Sender::send`](super::Sender::send).
#[must_use = "futures do nothing unless polled"]
pub struct SendFuture<'a, T> {
    pub(super) chan: &'a Chan<T>,
    pub(super) value: Option<T>,
    pub(super) key: Option<Key>,
}

impl<T> SendFuture<'_, T> {
    /// Leaves the queue and takes the unsent value back.
    pub(super) fn take_value(&mut self) -> T {
        self.chan.cancel_reserve(&mut self.key);
        self.value.take().expect("taken once, before completion")
    }
}

impl<T> Unpin for SendFuture<'_, T> {}

impl<T> Future for SendFuture<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.chan
            .poll_send(&mut this.value, &mut this.key, cx)
            .map_err(SendError)
    }
}

impl<T> Drop for SendFuture<'_, T> {
    fn drop(&mut self) {
        self.chan.cancel_reserve(&mut self.key);
    }
}

impl<T> fmt::Debug for SendFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendFuture")
            .field("waiting", &self.key.is_some())
            .finish()
    }
}

/// The future of [`Sender::reserve`](super::Sender::reserve).
#[must_use = "futures do nothing unless polled"]
pub struct Reserve<'a, T> {
    pub(super) chan: &'a Arc<Chan<T>>,
    pub(super) key: Option<Key>,
}

impl<T> Reserve<'_, T> {
    /// Polls for `n` slots; `Ok` once they are the caller's.
    pub(super) fn poll_slots(&mut self, n: usize, cx: &mut Context<'_>) -> Poll<Result<(), ()>> {
        self.chan.poll_reserve(&mut self.key, n, cx)
    }
}

impl<'a, T> Future for Reserve<'a, T> {
    type Output = Result<Permit<'a, T>, SendError<()>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let chan = this.chan;
        this.poll_slots(1, cx).map(|r| match r {
            Ok(()) => Ok(Permit::new(chan)),
            Err(()) => Err(SendError(())),
        })
    }
}

impl<T> Drop for Reserve<'_, T> {
    fn drop(&mut self) {
        self.chan.cancel_reserve(&mut self.key);
    }
}

impl<T> fmt::Debug for Reserve<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reserve")
            .field("waiting", &self.key.is_some())
            .finish()
    }
}

/// The future of [`Sender::closed`](super::Sender::closed) and
/// [`UnboundedSender::closed`](super::UnboundedSender::closed).
#[must_use = "futures do nothing unless polled"]
pub struct Closed<'a, T> {
    pub(super) chan: &'a Chan<T>,
    pub(super) key: Option<Key>,
}

impl<'a, T> Closed<'a, T> {
    /// A future that completes once `chan`'s receiver is gone or closed.
    pub(super) fn new(chan: &'a Chan<T>) -> Closed<'a, T> {
        Closed { chan, key: None }
    }
}

impl<T> Future for Closed<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.chan.poll_closed(&mut this.key, cx)
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        self.chan.cancel_closed(&mut self.key);
    }
}

impl<T> fmt::Debug for Closed<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Closed").finish_non_exhaustive()
    }
}
