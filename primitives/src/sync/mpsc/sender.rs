//! The two senders: [`Sender`] of a bounded channel, which may wait for
//! room, and [`UnboundedSender`], which never waits. Each method is written
//! out for each type (no macro), so that go-to-definition finds it; what
//! they share lives in [`Chan`].

use super::chan::Chan;
use super::error::{SendError, SendTimeoutError, TrySendError};
use super::{Closed, OwnedPermit, Permit, PermitIterator, Reserve, SendFuture};
use crate::loom::Arc;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

/// Sends values into a bounded channel. Cloning makes another sender.
pub struct Sender<T> {
    pub(super) chan: Arc<Chan<T>>,
}

/// Sends values into an unbounded channel. Cloning makes another sender.
pub struct UnboundedSender<T> {
    pub(super) chan: Arc<Chan<T>>,
}

impl<T> Sender<T> {
    /// Sends `value`, waiting for room if the channel is full. Senders get
    /// room in the order they started waiting.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if the receiver is gone or closed.
    pub fn send(&self, value: T) -> SendFuture<'_, T> {
        SendFuture {
            chan: &self.chan,
            value: Some(value),
            key: None,
        }
    }

    /// Sends `value` if there is room now.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] or [`TrySendError::Closed`], with the value.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.chan.try_send(value)
    }

    /// Sends `value`, giving up when `deadline` completes first: pass a
    /// sleep of any runtime (weft's facade offers `send_timeout` on top).
    ///
    /// # Errors
    ///
    /// [`SendTimeoutError::Timeout`] or [`SendTimeoutError::Closed`], with
    /// the value.
    pub async fn send_within<D: Future>(&self, value: T, deadline: D) -> Result<(), SendTimeoutError<T>> {
        let mut send = self.send(value);
        let mut deadline = std::pin::pin!(deadline);
        std::future::poll_fn(|cx| {
            if let Poll::Ready(result) = Pin::new(&mut send).poll(cx) {
                return Poll::Ready(result.map_err(|e| SendTimeoutError::Closed(e.0)));
            }
            match deadline.as_mut().poll(cx) {
                Poll::Ready(_) => Poll::Ready(Err(SendTimeoutError::Timeout(send.take_value()))),
                Poll::Pending => Poll::Pending,
            }
        })
        .await
    }

    /// Blocks the thread until there is room, then sends `value`; for
    /// synchronous code.
    ///
    /// weft's primitives do not know which runtime, if any, runs the
    /// calling thread, so unlike tokio's this never panics inside an async
    /// context: there it blocks the worker thread, and can deadlock if the
    /// receiver needs that thread to run. Call it from plain threads (or
    /// `spawn_blocking`) only.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if the receiver is gone or closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let producer = std::thread::spawn(move || {
    ///     for i in 0..3 {
    ///         tx.blocking_send(i).unwrap();
    ///     }
    /// });
    /// let got: Vec<_> = std::iter::from_fn(|| rx.blocking_recv()).collect();
    /// producer.join().unwrap();
    /// assert_eq!(got, [0, 1, 2]);
    /// ```
    pub fn blocking_send(&self, value: T) -> Result<(), SendError<T>> {
        crate::util::block_on(self.send(value))
    }

    /// Waits for room and reserves it: the [`Permit`] then sends without
    /// waiting. The value is not handed over until it is ready.
    ///
    /// # Errors
    ///
    /// [`SendError`] if the receiver is gone or closed, including when it
    /// closes after room was handed to this call but before it completed.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping it leaves the queue, and passes on any room
    /// handed to it meanwhile.
    pub fn reserve(&self) -> Reserve<'_, T> {
        Reserve {
            chan: &self.chan,
            key: None,
        }
    }

    /// Waits for room for `n` values and reserves it all at once; the
    /// [`PermitIterator`] yields `n` permits. Room goes to senders in the
    /// order they asked, so a large request is not overtaken by small ones
    /// (nor does it let them pass). `n == 0` yields an empty iterator.
    ///
    /// # Errors
    ///
    /// [`SendError`] if the receiver is gone or closed, or if `n` exceeds
    /// the channel's [`max_capacity`](Sender::max_capacity), as that room
    /// can never be free.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, as [`reserve`](Sender::reserve).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::sync::mpsc;
    ///
    /// # weft::block_on(async {
    /// let (tx, mut rx) = mpsc::channel(4);
    /// let permits = tx.reserve_many(3).await.unwrap();
    /// assert_eq!(tx.capacity(), 1);
    /// for (permit, word) in permits.zip(["a", "b", "c"]) {
    ///     permit.send(word);
    /// }
    /// assert_eq!(rx.recv().await, Some("a"));
    /// assert!(tx.reserve_many(5).await.is_err(), "more than the channel holds");
    /// # });
    /// ```
    pub async fn reserve_many(&self, n: usize) -> Result<PermitIterator<'_, T>, SendError<()>> {
        if n > self.max_capacity() {
            return Err(SendError(()));
        }
        let mut reserve = Reserve {
            chan: &self.chan,
            key: None,
        };
        // Once ready, `reserve` has left the queue: dropping it does nothing.
        std::future::poll_fn(|cx| reserve.poll_slots(n, cx))
            .await
            .map_err(|()| SendError(()))?;
        Ok(PermitIterator::new(&self.chan, n))
    }

    /// Reserves room if there is some now.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] or [`TrySendError::Closed`].
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        self.chan.try_reserve(1)?;
        Ok(Permit::new(&self.chan))
    }

    /// Reserves room for `n` values if there is that much now and no
    /// sender waits for room.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Closed`] if the receiver is gone or closed;
    /// [`TrySendError::Full`] if there is not room enough now (always, if
    /// `n` exceeds the [`max_capacity`](Sender::max_capacity)).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::sync::mpsc::{self, error::TrySendError};
    ///
    /// let (tx, mut rx) = mpsc::channel(2);
    /// let mut permits = tx.try_reserve_many(2).unwrap();
    /// assert_eq!(permits.len(), 2);
    /// assert!(matches!(tx.try_reserve_many(1), Err(TrySendError::Full(()))));
    /// permits.next().unwrap().send(1);
    /// drop(permits); // the unused permit gives its room back
    /// assert_eq!(tx.capacity(), 1);
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn try_reserve_many(&self, n: usize) -> Result<PermitIterator<'_, T>, TrySendError<()>> {
        if n > self.max_capacity() {
            return Err(if self.is_closed() {
                TrySendError::Closed(())
            } else {
                TrySendError::Full(())
            });
        }
        self.chan.try_reserve(n)?;
        Ok(PermitIterator::new(&self.chan, n))
    }

    /// Like [`try_reserve`](Sender::try_reserve), consuming the sender:
    /// the permit owns it and gives it back on [`OwnedPermit::send`].
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] or [`TrySendError::Closed`], with the sender.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let permit = tx.try_reserve_owned().unwrap();
    /// // The permit can move into another thread or task.
    /// let tx = std::thread::spawn(move || permit.send(5)).join().unwrap();
    /// assert_eq!(rx.try_recv(), Ok(5));
    /// assert!(tx.try_send(6).is_ok());
    /// ```
    pub fn try_reserve_owned(self) -> Result<OwnedPermit<T>, TrySendError<Sender<T>>> {
        match self.chan.try_reserve(1) {
            Ok(()) => Ok(OwnedPermit::new(self)),
            Err(TrySendError::Full(())) => Err(TrySendError::Full(self)),
            Err(TrySendError::Closed(())) => Err(TrySendError::Closed(self)),
        }
    }

    /// Like [`reserve`](Sender::reserve), consuming the sender: the permit
    /// owns it and gives it back on [`OwnedPermit::send`].
    ///
    /// # Errors
    ///
    /// [`SendError`] with the sender if the receiver is gone or closed.
    pub async fn reserve_owned(self) -> Result<OwnedPermit<T>, SendError<Sender<T>>> {
        let reserved = match self.reserve().await {
            Ok(permit) => {
                // The slot now belongs to the owned permit.
                std::mem::forget(permit);
                true
            }
            Err(_) => false,
        };
        if reserved {
            Ok(OwnedPermit::new(self))
        } else {
            Err(SendError(self))
        }
    }

    /// Free room now.
    pub fn capacity(&self) -> usize {
        self.chan.capacity()
    }

    /// The channel's bound.
    pub fn max_capacity(&self) -> usize {
        self.chan.bound()
    }

    /// Completes once the receiver is gone or closed.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    pub fn closed(&self) -> Closed<'_, T> {
        Closed::new(&self.chan)
    }

    /// True once the receiver is gone or closed.
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// True if both senders feed the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        Sender {
            chan: Chan::new_sender(&self.chan),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").field("chan", &self.chan).finish()
    }
}

impl<T> UnboundedSender<T> {
    /// Sends `value` at once.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if the receiver is gone or closed.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan.send_unbounded(value).map_err(SendError)
    }

    /// Completes once the receiver is gone or closed.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    pub fn closed(&self) -> Closed<'_, T> {
        Closed::new(&self.chan)
    }

    /// True once the receiver is gone or closed.
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// True if both senders feed the same channel.
    pub fn same_channel(&self, other: &UnboundedSender<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> UnboundedSender<T> {
        UnboundedSender {
            chan: Chan::new_sender(&self.chan),
        }
    }
}

impl<T> Drop for UnboundedSender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedSender")
            .field("chan", &self.chan)
            .finish()
    }
}
