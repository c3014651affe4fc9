//! Multi-producer, single-consumer channels: bounded, with backpressure,
//! and unbounded.
//!
//! A [`channel`] holds at most `capacity` values: [`Sender::send`] waits
//! for room, which is how a fast producer is slowed to its consumer's pace.
//! An [`unbounded_channel`] never makes a sender wait, and grows instead.
//!
//! When every sender is gone, the receiver gets the values still buffered
//! and then `None`. When the receiver is gone (or [`Receiver::close`]d), a
//! send fails and gives its value back inside the error.
//!
//! # Cancel safety
//!
//! - [`Receiver::recv`] and [`Receiver::recv_many`] are cancel-safe: a
//!   dropped `recv` has taken nothing.
//! - [`Sender::send`] is cancel-safe in that dropping it loses its place in
//!   the queue for room and, if it had not sent yet, drops the value; it
//!   never leaks a slot. Use [`Sender::reserve`] to wait for room without
//!   handing the value over first.
//! - [`Sender::reserve`] and [`Sender::reserve_many`] are cancel-safe:
//!   dropped, they pass on any room handed to them meanwhile.
//!
//! # Cooperative scheduling
//!
//! Under weft, `recv`, `send` and the `reserve` family spend one unit of
//! the task's cooperative budget each time they complete, so a task
//! draining a channel that is never empty still lets the others run (see
//! [`coop`](crate::coop)); `try_*` methods never spend it. Under other
//! runtimes this costs nothing.
//!
//! # Examples
//!
//! ```
//! use weft_primitives::sync::mpsc;
//!
//! # weft::block_on(async {
//! let (tx, mut rx) = mpsc::channel(16);
//! for id in 0..3 {
//!     let tx = tx.clone();
//!     weft::spawn(async move { tx.send(id).await.unwrap() });
//! }
//! drop(tx);
//! let mut got = Vec::new();
//! while let Some(id) = rx.recv().await {
//!     got.push(id);
//! }
//! got.sort();
//! assert_eq!(got, [0, 1, 2]);
//! # });
//! ```

mod chan;
pub mod error;
mod futures;
mod permit;

use self::chan::Chan;
use self::error::{SendError, SendTimeoutError, TryRecvError, TrySendError};
pub use self::futures::{Closed, Reserve, SendFuture};
pub use self::permit::{OwnedPermit, Permit, PermitIterator};
use crate::loom::Arc;
use futures_core::Stream;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The largest capacity of a bounded channel; a larger one is lowered to
/// it (the channel counts its slots in a word with one bit to spare).
pub const MAX_CAPACITY: usize = usize::MAX >> 2;

/// Creates a bounded channel holding at most `capacity` values; a capacity
/// of 0 is raised to 1, one above [`MAX_CAPACITY`] lowered to it.
///
/// # Examples
///
/// ```
/// use weft_primitives::sync::mpsc::{self, error::TrySendError};
///
/// let (tx, mut rx) = mpsc::channel(1);
/// tx.try_send(1).unwrap();
/// assert!(matches!(tx.try_send(2), Err(TrySendError::Full(2))));
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let chan = Arc::new(Chan::new(capacity.clamp(1, MAX_CAPACITY)));
    (
        Sender {
            chan: Arc::clone(&chan),
        },
        Receiver {
            chan,
            outbox: VecDeque::new(),
        },
    )
}

/// Creates an unbounded channel: sends never wait.
///
/// # Examples
///
/// ```
/// use weft_primitives::sync::mpsc;
///
/// # weft::block_on(async {
/// let (tx, mut rx) = mpsc::unbounded_channel();
/// tx.send("hello").unwrap();
/// drop(tx);
/// assert_eq!(rx.recv().await, Some("hello"));
/// assert_eq!(rx.recv().await, None);
/// # });
/// ```
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let chan = Arc::new(Chan::new(usize::MAX));
    (
        UnboundedSender {
            chan: Arc::clone(&chan),
        },
        UnboundedReceiver {
            chan,
            outbox: VecDeque::new(),
        },
    )
}

/// Sends values into a bounded channel. Cloning makes another sender.
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
}

/// Receives a bounded channel's values; also a [`Stream`].
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
    /// Values moved out of the channel in one batch, handed out from here
    /// without locking (see the channel's protocol).
    outbox: VecDeque<T>,
}

/// Sends values into an unbounded channel. Cloning makes another sender.
pub struct UnboundedSender<T> {
    chan: Arc<Chan<T>>,
}

/// Receives an unbounded channel's values; also a [`Stream`].
pub struct UnboundedReceiver<T> {
    chan: Arc<Chan<T>>,
    /// As in [`Receiver`].
    outbox: VecDeque<T>,
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
    /// use weft_primitives::sync::mpsc;
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
    /// use weft_primitives::sync::mpsc;
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
    /// use weft_primitives::sync::mpsc::{self, error::TrySendError};
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
    /// use weft_primitives::sync::mpsc;
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
}

/// What both flavours' senders share: closing, identity, counting.
macro_rules! sender_impl {
    ($sender:ident) => {
        impl<T> $sender<T> {
            /// Completes once the receiver is gone or closed.
            ///
            /// # Cancel safety
            ///
            /// Cancel-safe.
            pub fn closed(&self) -> Closed<'_, T> {
                Closed {
                    chan: &self.chan,
                    key: None,
                }
            }

            /// True once the receiver is gone or closed.
            pub fn is_closed(&self) -> bool {
                self.chan.is_closed()
            }

            /// True if both senders feed the same channel.
            pub fn same_channel(&self, other: &$sender<T>) -> bool {
                Arc::ptr_eq(&self.chan, &other.chan)
            }
        }

        impl<T> Clone for $sender<T> {
            fn clone(&self) -> $sender<T> {
                self.chan.add_sender();
                $sender {
                    chan: Arc::clone(&self.chan),
                }
            }
        }

        impl<T> Drop for $sender<T> {
            fn drop(&mut self) {
                self.chan.drop_sender();
            }
        }

        impl<T> fmt::Debug for $sender<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($sender))
                    .field("chan", &self.chan)
                    .finish()
            }
        }
    };
}

sender_impl!(Sender);
sender_impl!(UnboundedSender);

/// The receive side, shared by both flavours.
macro_rules! receiver_impl {
    ($receiver:ident) => {
        impl<T> $receiver<T> {
            /// Receives the next value; `None` once every sender is gone
            /// (or the channel closed) and the buffer is empty.
            ///
            /// # Cancel safety
            ///
            /// Cancel-safe: a dropped `recv` has taken no value.
            pub async fn recv(&mut self) -> Option<T> {
                std::future::poll_fn(|cx| self.chan.poll_recv(&mut self.outbox, cx)).await
            }

            /// The poll form of [`recv`](Self::recv).
            pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
                self.chan.poll_recv(&mut self.outbox, cx)
            }

            /// Moves up to `limit` values into `buffer` at once, waiting
            /// for at least one. Returns how many; 0 means no more will
            /// come (or `limit` was 0).
            ///
            /// # Cancel safety
            ///
            /// Cancel-safe.
            pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
                std::future::poll_fn(|cx| {
                    self.chan
                        .poll_recv_many(&mut self.outbox, cx, buffer, limit)
                })
                .await
            }

            /// Takes a value if one is buffered.
            ///
            /// # Errors
            ///
            /// [`TryRecvError::Empty`] if none is, or
            /// [`TryRecvError::Disconnected`] if none will come.
            pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
                self.chan.try_recv(&mut self.outbox)
            }

            /// Blocks the thread for the next value; for synchronous code.
            /// `None` once no more will come.
            ///
            /// Unlike tokio's, this never panics inside an async context
            /// (weft's primitives do not know the runtime): there it blocks
            /// the worker thread, and can deadlock. Call it from plain
            /// threads (or `spawn_blocking`) only.
            ///
            /// # Examples
            ///
            /// ```
            /// use weft_primitives::sync::mpsc;
            ///
            /// let (tx, mut rx) = mpsc::unbounded_channel();
            /// std::thread::spawn(move || tx.send(1).unwrap());
            /// assert_eq!(rx.blocking_recv(), Some(1));
            /// assert_eq!(rx.blocking_recv(), None);
            /// ```
            pub fn blocking_recv(&mut self) -> Option<T> {
                crate::util::block_on(std::future::poll_fn(|cx| {
                    self.chan.poll_recv(&mut self.outbox, cx)
                }))
            }

            /// Stops new sends (waiting senders fail at once) while the
            /// values already buffered stay receivable.
            pub fn close(&mut self) {
                self.chan.close();
            }

            /// True once no new value can be sent: the receiver closed the
            /// channel, or every sender is gone. Values already buffered
            /// (or sent through permits reserved before a close) may still
            /// be received.
            pub fn is_closed(&self) -> bool {
                self.chan.is_closed_for_receiver()
            }

            /// Values buffered now.
            pub fn len(&self) -> usize {
                self.outbox.len() + self.chan.len()
            }

            /// True if no value is buffered now.
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }
        }

        // The buffered values are never pinned: they only move in and out.
        impl<T> Unpin for $receiver<T> {}

        impl<T> Stream for $receiver<T> {
            type Item = T;

            fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
                let this = self.get_mut();
                this.chan.poll_recv(&mut this.outbox, cx)
            }
        }

        impl<T> Drop for $receiver<T> {
            fn drop(&mut self) {
                self.chan.drop_receiver();
            }
        }

        impl<T> fmt::Debug for $receiver<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($receiver))
                    .field("chan", &self.chan)
                    .finish()
            }
        }
    };
}

receiver_impl!(Receiver);
receiver_impl!(UnboundedReceiver);

impl<T> UnboundedSender<T> {
    /// Sends `value` at once.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if the receiver is gone or closed.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan.send_unbounded(value).map_err(SendError)
    }
}

#[cfg(all(test, not(loom)))]
mod tests;
