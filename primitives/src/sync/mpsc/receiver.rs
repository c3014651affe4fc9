//! The two receivers, [`Receiver`] and [`UnboundedReceiver`], over one
//! receive half, [`RxHalf`]. Each public method is written out for each
//! type as a one-line call into `RxHalf` (no macro), so that
//! go-to-definition finds it.

use super::chan::Chan;
use super::error::TryRecvError;
use crate::loom::Arc;
use futures_core::Stream;
use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Receives a bounded channel's values; also a [`Stream`].
pub struct Receiver<T> {
    pub(super) rx: RxHalf<T>,
}

/// Receives an unbounded channel's values; also a [`Stream`].
pub struct UnboundedReceiver<T> {
    pub(super) rx: RxHalf<T>,
}

/// What both receivers are: the channel and the values already taken out
/// of it. Dropping it closes the channel and drops what is buffered.
pub(super) struct RxHalf<T> {
    chan: Arc<Chan<T>>,
    /// Values moved out of the channel in one batch, handed out from here
    /// without locking (see the channel's protocol).
    outbox: VecDeque<T>,
}

// The buffered values are never pinned: they only move in and out.
impl<T> Unpin for RxHalf<T> {}

impl<T> RxHalf<T> {
    pub(super) fn new(chan: Arc<Chan<T>>) -> RxHalf<T> {
        RxHalf {
            chan,
            outbox: VecDeque::new(),
        }
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.chan.poll_recv(&mut self.outbox, cx)
    }

    async fn recv(&mut self) -> Option<T> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        std::future::poll_fn(|cx| self.chan.poll_recv_many(&mut self.outbox, cx, buffer, limit)).await
    }

    fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.chan.try_recv(&mut self.outbox)
    }

    fn blocking_recv(&mut self) -> Option<T> {
        crate::util::block_on(std::future::poll_fn(|cx| self.poll_recv(cx)))
    }

    fn close(&mut self) {
        self.chan.close();
    }

    fn is_closed(&self) -> bool {
        self.chan.is_closed_for_receiver()
    }

    fn len(&self) -> usize {
        self.outbox.len() + self.chan.len()
    }
}

impl<T> Drop for RxHalf<T> {
    fn drop(&mut self) {
        self.chan.drop_receiver();
    }
}

impl<T> Receiver<T> {
    /// Receives the next value; `None` once every sender is gone (or the
    /// channel closed) and the buffer is empty.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a dropped `recv` has taken no value.
    pub async fn recv(&mut self) -> Option<T> {
        self.rx.recv().await
    }

    /// The poll form of [`recv`](Self::recv).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.rx.poll_recv(cx)
    }

    /// Moves up to `limit` values into `buffer` at once, waiting for at
    /// least one. Returns how many; 0 means no more will come (or `limit`
    /// was 0).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        self.rx.recv_many(buffer, limit).await
    }

    /// Takes a value if one is buffered.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if none is, or
    /// [`TryRecvError::Disconnected`] if none will come.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.rx.try_recv()
    }

    /// Blocks the thread for the next value; for synchronous code. `None`
    /// once no more will come.
    ///
    /// Unlike tokio's, this never panics inside an async context (weft's
    /// primitives do not know the runtime): there it blocks the worker
    /// thread, and can deadlock. Call it from plain threads (or
    /// `spawn_blocking`) only.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// std::thread::spawn(move || tx.blocking_send(1).unwrap());
    /// assert_eq!(rx.blocking_recv(), Some(1));
    /// assert_eq!(rx.blocking_recv(), None);
    /// ```
    pub fn blocking_recv(&mut self) -> Option<T> {
        self.rx.blocking_recv()
    }

    /// Stops new sends (waiting senders fail at once) while the values
    /// already buffered stay receivable.
    pub fn close(&mut self) {
        self.rx.close();
    }

    /// True once no new value can be sent: the receiver closed the channel,
    /// or every sender is gone. Values already buffered (or sent through
    /// permits reserved before a close) may still be received.
    pub fn is_closed(&self) -> bool {
        self.rx.is_closed()
    }

    /// Values buffered now.
    pub fn len(&self) -> usize {
        self.rx.len()
    }

    /// True if no value is buffered now.
    pub fn is_empty(&self) -> bool {
        self.rx.len() == 0
    }
}

impl<T> Stream for Receiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().rx.poll_recv(cx)
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").field("chan", &self.rx.chan).finish()
    }
}

impl<T> UnboundedReceiver<T> {
    /// Receives the next value; `None` once every sender is gone (or the
    /// channel closed) and the buffer is empty.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a dropped `recv` has taken no value.
    pub async fn recv(&mut self) -> Option<T> {
        self.rx.recv().await
    }

    /// The poll form of [`recv`](Self::recv).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.rx.poll_recv(cx)
    }

    /// Moves up to `limit` values into `buffer` at once, waiting for at
    /// least one. Returns how many; 0 means no more will come (or `limit`
    /// was 0).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        self.rx.recv_many(buffer, limit).await
    }

    /// Takes a value if one is buffered.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if none is, or
    /// [`TryRecvError::Disconnected`] if none will come.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.rx.try_recv()
    }

    /// Blocks the thread for the next value; for synchronous code. `None`
    /// once no more will come.
    ///
    /// Unlike tokio's, this never panics inside an async context (weft's
    /// primitives do not know the runtime): there it blocks the worker
    /// thread, and can deadlock. Call it from plain threads (or
    /// `spawn_blocking`) only.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// std::thread::spawn(move || tx.send(1).unwrap());
    /// assert_eq!(rx.blocking_recv(), Some(1));
    /// assert_eq!(rx.blocking_recv(), None);
    /// ```
    pub fn blocking_recv(&mut self) -> Option<T> {
        self.rx.blocking_recv()
    }

    /// Stops new sends (waiting senders fail at once) while the values
    /// already buffered stay receivable.
    pub fn close(&mut self) {
        self.rx.close();
    }

    /// True once no new value can be sent: the receiver closed the channel,
    /// or every sender is gone. Values already buffered (or sent through
    /// permits reserved before a close) may still be received.
    pub fn is_closed(&self) -> bool {
        self.rx.is_closed()
    }

    /// Values buffered now.
    pub fn len(&self) -> usize {
        self.rx.len()
    }

    /// True if no value is buffered now.
    pub fn is_empty(&self) -> bool {
        self.rx.len() == 0
    }
}

impl<T> Stream for UnboundedReceiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().rx.poll_recv(cx)
    }
}

impl<T> fmt::Debug for UnboundedReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedReceiver")
            .field("chan", &self.rx.chan)
            .finish()
    }
}
