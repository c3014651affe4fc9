//! A single-producer, multi-consumer channel that keeps only the latest
//! value.
//!
//! A watch channel publishes the current state of something (a
//! configuration, a connection's status, a shutdown flag): the [`Sender`]
//! replaces the value, and every [`Receiver`] can [`borrow`] it at any time
//! or wait until it [`changed`]. Receivers don't queue values: one that
//! looks less often than the sender sends skips the values in between, but
//! always sees the latest. Use [`broadcast`](super::broadcast) when every
//! value matters, [`mpsc`](super::mpsc) when each value goes to one
//! consumer.
//!
//! Each receiver remembers the version it last saw. [`changed`] completes
//! when a newer one exists and marks it seen; [`borrow_and_update`] marks
//! seen what it returns; [`borrow`] does not mark anything.
//!
//! Senders can be cloned. Once every sender is gone, [`changed`] still
//! reports a value a receiver has not seen, then fails with [`RecvError`](error::RecvError). Once every receiver is gone,
//! [`Sender::send`] fails (but [`Sender::send_replace`] still stores).
//!
//! Like everything in [`sync`](super), this channel is runtime-agnostic: it
//! only stores and wakes `Waker`s.
//!
//! A [`Ref`] holds a read lock on the value: keep it short, never across an
//! `.await`, and drop it before sending or borrowing again on the same
//! thread, or the thread can deadlock.
//!
//! [`borrow`]: Receiver::borrow
//! [`borrow_and_update`]: Receiver::borrow_and_update
//! [`changed`]: Receiver::changed
//!
//! # Cancel safety
//!
//! [`Receiver::changed`], [`Receiver::wait_for`] and [`Sender::closed`] are
//! cancel-safe: dropping them leaves the channel as it was, except that a
//! `wait_for` may have marked values seen that its predicate rejected.
//!
//! # Examples
//!
//! ```
//! use weft::sync::watch;
//!
//! # weft::block_on(async {
//! let (tx, mut rx) = watch::channel("starting");
//! let observer = weft::spawn(async move {
//!     // Waits until the state is the one we want, skipping others.
//!     *rx.wait_for(|state| *state == "ready").await.unwrap()
//! });
//! tx.send_replace("loading");
//! tx.send_replace("ready");
//! assert_eq!(observer.await.unwrap(), "ready");
//! # });
//! ```
//!
//! # Protocol
//!
//! Two locks, always taken in this order: the **state** lock (a
//! `crate::loom` mutex) guards the sender and receiver counts and two FIFO
//! wait lists, receivers waiting in `changed` and senders waiting in
//! `closed()`; the **value** lock (a std `RwLock`) guards the value, its
//! version and whether every sender is gone.
//!
//! A sender changes the value (bumping the version) under the value lock
//! alone, releases it, and only then takes the state lock to unlink every
//! waiting receiver; the last sender marks the senders gone under both
//! locks (state, then value) and unlinks them with the state lock it
//! already holds. Wakers are woken, and displaced wakers dropped (a
//! waker's drop may call back into the channel), after the state
//! lock is released. A receiver about to wait reads the version
//! under the state lock before it links itself; so either it sees the new
//! version, or it is linked before the sender takes the state lock and is
//! woken. A linked receiver therefore knows nothing changed since it looked.
//! Receivers reading the value (`borrow`, `has_changed`) take only the value
//! lock, as readers, so they never wait on each other.
//!
//! The value lock is std's, which loom needn't see: no critical section
//! under it performs a loom operation (the sender releases it before taking
//! the state lock), so each is atomic to a loom model, and the wake protocol
//! is ordered entirely by the state lock. The user's closure in
//! [`Sender::send_modify`] runs under the value lock as writer; if it
//! panics the version is not bumped, and the poison is ignored. Replaced
//! values are returned or dropped after both locks are released.

use crate::loom::{Arc, Mutex, lock};
use crate::util::wait_list::wake_all;
use crate::util::wait_list::{self, Key, WaitList};
// Not through crate::loom: see the protocol for why loom needn't see it.
use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::task::{Context, Poll};

pub mod error;
mod receiver;
#[cfg(all(test, not(loom)))]
mod tests;

pub use self::receiver::{Changed, Receiver};

use self::error::SendError;

/// Creates a watch channel holding `init`, which receivers start out
/// having seen.
///
/// # Examples
///
/// ```
/// use weft::sync::watch;
///
/// let (tx, rx) = watch::channel(0);
/// assert_eq!(*rx.borrow(), 0);
/// tx.send(1).unwrap();
/// assert_eq!(*rx.borrow(), 1);
/// assert!(rx.has_changed().unwrap());
/// ```
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            senders: 1,
            receivers: 1,
            changed_waiters: WaitList::new(),
            closed_waiters: WaitList::new(),
        }),
        value: RwLock::new(Value {
            value: init,
            version: 0,
            tx_gone: false,
        }),
    });
    (
        Sender {
            shared: Arc::clone(&shared),
        },
        Receiver { shared, version: 0 },
    )
}

struct Shared<T> {
    state: Mutex<State>,
    value: RwLock<Value<T>>,
}

struct State {
    senders: usize,
    receivers: usize,
    /// Receivers waiting in `changed`.
    changed_waiters: WaitList<()>,
    /// The sender waiting in `closed()`.
    closed_waiters: WaitList<()>,
}

struct Value<T> {
    value: T,
    /// Bumped by every send.
    version: u64,
    tx_gone: bool,
}

/// Reads the value, ignoring poison: a panic under the write lock can only
/// come from a user's closure, and leaves the value as the closure left it.
fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Writes the value, ignoring poison as [`read`] does.
fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Registers a receiver, which has seen the current version.
fn subscribe<T>(shared: &Arc<Shared<T>>) -> Receiver<T> {
    let mut state = lock(&shared.state);
    state.receivers += 1;
    let version = read(&shared.value).version;
    drop(state);
    Receiver {
        shared: Arc::clone(shared),
        version,
    }
}

/// Publishes the value. Cloning makes another sender; once the last one
/// is dropped the channel is closed.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// A borrow of the value, holding a read lock on it: drop it soon.
///
/// Dereferences to `T`.
pub struct Ref<'a, T> {
    guard: RwLockReadGuard<'a, Value<T>>,
    has_changed: bool,
}

impl<T> Ref<'_, T> {
    /// True if the value was newer than what the receiver had seen when
    /// it borrowed it (always false for [`Sender::borrow`]).
    pub fn has_changed(&self) -> bool {
        self.has_changed
    }
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.guard.value
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T> Sender<T> {
    /// Replaces the value and notifies the receivers, if any is left.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value, which is not stored, if every receiver
    /// is gone. Use [`send_replace`](Sender::send_replace) to store anyway.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        // One lock for the receiver count and the waiters (the value's lock
        // nests inside it, in the documented order).
        let state = lock(&self.shared.state);
        if state.receivers == 0 {
            return Err(SendError(value));
        }
        let old = self.replace(value);
        wake_all(state, |s| &mut s.changed_waiters);
        // The old value is dropped here, after every lock.
        drop(old);
        Ok(())
    }

    /// Stores `value` as a new version; returns the old value.
    fn replace(&self, value: T) -> T {
        let mut current = write(&self.shared.value);
        current.version = current.version.wrapping_add(1);
        std::mem::replace(&mut current.value, value)
    }

    /// Replaces the value whether or not receivers are left, notifies them,
    /// and returns the old value.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::sync::watch;
    ///
    /// let (tx, rx) = watch::channel(1);
    /// drop(rx);
    /// assert_eq!(tx.send_replace(2), 1);
    /// assert_eq!(*tx.borrow(), 2);
    /// ```
    pub fn send_replace(&self, value: T) -> T {
        let old = self.replace(value);
        self.notify();
        old
    }

    /// Modifies the value in place with `modify` and notifies the
    /// receivers, whether or not any is left.
    ///
    /// `modify` runs under the value's write lock: it must not touch this
    /// channel. If it panics the receivers are not notified, and they see
    /// the value as `modify` left it.
    pub fn send_modify(&self, modify: impl FnOnce(&mut T)) {
        self.send_if_modified(|value| {
            modify(value);
            true
        });
    }

    /// Lets `modify` change the value in place; if it returns true, the
    /// receivers are notified. Returns what `modify` returned.
    ///
    /// `modify` runs under the value's write lock: it must not touch this
    /// channel. If it returns false after changing the value, receivers see
    /// the change without being told of it.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::sync::watch;
    ///
    /// let (tx, rx) = watch::channel(3);
    /// assert!(!tx.send_if_modified(|n| std::mem::replace(n, 3) != 3));
    /// assert!(!rx.has_changed().unwrap());
    /// assert!(tx.send_if_modified(|n| std::mem::replace(n, 4) != 4));
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn send_if_modified(&self, modify: impl FnOnce(&mut T) -> bool) -> bool {
        {
            let mut current = write(&self.shared.value);
            if !modify(&mut current.value) {
                return false;
            }
            current.version = current.version.wrapping_add(1);
        }
        self.notify();
        true
    }

    /// Wakes every receiver waiting in `changed`.
    fn notify(&self) {
        wake_all(lock(&self.shared.state), |s| &mut s.changed_waiters);
    }

    /// Borrows the current value. [`Ref::has_changed`] is always false.
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: read(&self.shared.value),
            has_changed: false,
        }
    }

    /// A new receiver, which has seen the current value.
    pub fn subscribe(&self) -> Receiver<T> {
        subscribe(&self.shared)
    }

    /// How many receivers there are now.
    pub fn receiver_count(&self) -> usize {
        lock(&self.shared.state).receivers
    }

    /// True if every receiver is gone: [`send`](Sender::send) would fail.
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Completes once every receiver is gone. If one subscribes again
    /// before this future sees the count at zero, it goes on waiting.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping it changes nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::sync::watch;
    ///
    /// # weft::block_on(async {
    /// let (tx, rx) = watch::channel(());
    /// weft::spawn(async move { drop(rx) });
    /// tx.closed().await;
    /// assert!(tx.is_closed());
    /// # });
    /// ```
    pub fn closed(&self) -> Closed<'_, T> {
        Closed {
            shared: &self.shared,
            key: None,
        }
    }
}

impl<T> Sender<T> {
    /// How many senders there are now, this one included.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::sync::watch;
    ///
    /// let (tx, _rx) = watch::channel(());
    /// let tx2 = tx.clone();
    /// assert_eq!(tx.sender_count(), 2);
    /// drop(tx2);
    /// assert_eq!(tx.sender_count(), 1);
    /// ```
    pub fn sender_count(&self) -> usize {
        lock(&self.shared.state).senders
    }

    /// True if both senders publish to the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

/// Another sender of the same value. Every sender may send; the receivers
/// see the channel closed only once the last sender is dropped.
///
/// # Examples
///
/// ```
/// use weft::sync::watch;
///
/// # weft::block_on(async {
/// let (tx, mut rx) = watch::channel(0);
/// let tx2 = tx.clone();
/// drop(tx);
/// tx2.send(5).unwrap();
/// assert!(rx.changed().await.is_ok());
/// assert_eq!(*rx.borrow(), 5);
/// drop(tx2);
/// assert!(rx.changed().await.is_err());
/// # });
/// ```
impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        lock(&self.shared.state).senders += 1;
        Sender {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut state = lock(&self.shared.state);
        state.senders -= 1;
        if state.senders > 0 {
            return;
        }
        // The value lock nests inside the state lock, in the documented
        // order; a receiver about to wait reads `tx_gone` under the state
        // lock, so it sees it or is linked before this wakes everyone.
        write(&self.shared.value).tx_gone = true;
        // Waiters with nothing new to see now fail.
        wake_all(state, |s| &mut s.changed_waiters);
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("receivers", &self.receiver_count())
            .finish()
    }
}

// Alike but for its `State` to broadcast's `Closed` (a `duplicates` pair,
// left): a public type per channel, its waiting in `wait_list::poll_until`.
/// The future of [`Sender::closed`].
#[must_use = "futures do nothing unless polled"]
pub struct Closed<'a, T> {
    shared: &'a Shared<T>,
    key: Option<Key>,
}

impl<T> Future for Closed<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let state = lock(&this.shared.state);
        let list: fn(&mut State) -> &mut WaitList<()> = |s| &mut s.closed_waiters;
        wait_list::poll_until(state, list, |s| s.receivers == 0, &mut this.key, cx.waker())
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            wait_list::forget(lock(&self.shared.state), |s| &mut s.closed_waiters, key);
        }
    }
}

impl<T> fmt::Debug for Closed<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Closed")
            .field("waiting", &self.key.is_some())
            .finish()
    }
}
