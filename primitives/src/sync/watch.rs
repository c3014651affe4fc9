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
//! reports a value a receiver has not seen, then fails with [`RecvError`]. Once every receiver is gone,
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
//! use weft_primitives::sync::watch;
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
use crate::util::unlock_then_drop;
use crate::util::wait_list::wake_all;
use crate::util::wait_list::{Key, WaitList};
// Not through crate::loom: see the protocol for why loom needn't see it.
use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::task::{Context, Poll, ready};

/// The errors of a watch channel.
pub mod error {
    use std::fmt;

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
}

use self::error::{RecvError, SendError};

/// Creates a watch channel holding `init`, which receivers start out
/// having seen.
///
/// # Examples
///
/// ```
/// use weft_primitives::sync::watch;
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

/// Watches the value. Cloning makes another receiver that has seen what
/// this one has.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The version this receiver last saw.
    version: u64,
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
    /// use weft_primitives::sync::watch;
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
    /// use weft_primitives::sync::watch;
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
    /// use weft_primitives::sync::watch;
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
    /// use weft_primitives::sync::watch;
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
/// use weft_primitives::sync::watch;
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

impl<T> Receiver<T> {
    /// Borrows the current value without marking it seen.
    pub fn borrow(&self) -> Ref<'_, T> {
        let guard = read(&self.shared.value);
        let has_changed = guard.version != self.version;
        Ref { guard, has_changed }
    }

    /// Borrows the current value and marks it seen.
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let guard = read(&self.shared.value);
        let has_changed = guard.version != self.version;
        self.version = guard.version;
        Ref { guard, has_changed }
    }

    /// True if a value this receiver has not seen exists.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once every sender is gone, whether or not an unseen
    /// value exists (as tokio's does).
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let current = read(&self.shared.value);
        if current.tx_gone {
            return Err(RecvError(()));
        }
        Ok(current.version != self.version)
    }

    /// Marks the current value unseen: [`changed`](Receiver::changed) then
    /// completes at once.
    pub fn mark_changed(&mut self) {
        self.version = read(&self.shared.value).version.wrapping_sub(1);
    }

    /// Marks the current value seen.
    pub fn mark_unchanged(&mut self) {
        self.version = read(&self.shared.value).version;
    }

    /// Waits for a value newer than the last one seen, and marks it seen.
    /// Values sent in between are skipped. Completes at once if such a
    /// value exists already.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if every sender is gone and no unseen value exists.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a dropped `changed` has marked nothing seen.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_primitives::sync::watch;
    ///
    /// # weft::block_on(async {
    /// let (tx, mut rx) = watch::channel(0);
    /// weft::spawn(async move {
    ///     for i in 1..=3 {
    ///         tx.send(i).unwrap();
    ///     }
    /// });
    /// // Wakes for some of the sends, and always sees the last one.
    /// while rx.changed().await.is_ok() {}
    /// assert_eq!(*rx.borrow(), 3);
    /// # });
    /// ```
    pub fn changed(&mut self) -> Changed<'_, T> {
        Changed {
            shared: &self.shared,
            version: &mut self.version,
            key: None,
        }
    }

    /// Waits until the value satisfies `predicate`, checking the current
    /// value first, then each value it sees change to; returns it borrowed
    /// and marked seen. The [`Ref::has_changed`] of the result says whether
    /// the value is newer than the one seen when `wait_for` was called.
    ///
    /// `predicate` runs under the value's read lock: it must not send.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if every sender is gone before a value satisfies
    /// `predicate`.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, except that values `predicate` rejected stay marked
    /// seen.
    pub async fn wait_for(&mut self, mut predicate: impl FnMut(&T) -> bool) -> Result<Ref<'_, T>, RecvError> {
        // Split borrows: the `Ref` borrows `shared` while `version` moves.
        let shared = &*self.shared;
        let version = &mut self.version;
        let seen_before = *version;
        loop {
            {
                let guard = read(&shared.value);
                let has_changed = guard.version != seen_before;
                *version = guard.version;
                if predicate(&guard.value) {
                    return Ok(Ref { guard, has_changed });
                }
            }
            Changed {
                shared,
                version: &mut *version,
                key: None,
            }
            .await?;
        }
    }

    /// True if both receivers watch the same channel.
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Receiver<T> {
        lock(&self.shared.state).receivers += 1;
        Receiver {
            shared: Arc::clone(&self.shared),
            version: self.version,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut state = lock(&self.shared.state);
        state.receivers -= 1;
        if state.receivers == 0 {
            wake_all(state, |s| &mut s.closed_waiters);
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("receivers", &self.receiver_count())
            .finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("seen_version", &self.version)
            .finish_non_exhaustive()
    }
}

/// The future of [`Receiver::changed`].
#[must_use = "futures do nothing unless polled"]
pub struct Changed<'a, T> {
    shared: &'a Shared<T>,
    version: &'a mut u64,
    key: Option<Key>,
}

impl<T> Future for Changed<'_, T> {
    type Output = Result<(), RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let coop = ready!(crate::coop::poll_proceed(cx));
        let mut state = lock(&this.shared.state);
        let mut displaced = None;
        if let Some(key) = this.key.take() {
            if state.changed_waiters.is_linked(&key) {
                // Nothing changed since it looked.
                displaced = state.changed_waiters.set_waker(&key, cx.waker());
                this.key = Some(key);
                unlock_then_drop(state, displaced);
                return Poll::Pending;
            }
            displaced = state.changed_waiters.remove(key).waker;
        }
        let (version, tx_gone) = {
            let current = read(&this.shared.value);
            (current.version, current.tx_gone)
        };
        let result = if version != *this.version {
            *this.version = version;
            Poll::Ready(Ok(()))
        } else if tx_gone {
            Poll::Ready(Err(RecvError(())))
        } else {
            this.key = Some(state.changed_waiters.push_back(cx.waker(), ()));
            Poll::Pending
        };
        unlock_then_drop(state, displaced);
        if result.is_ready() {
            coop.made_progress();
        }
        result
    }
}

impl<T> Drop for Changed<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let removed = lock(&self.shared.state).changed_waiters.remove(key);
            drop(removed);
        }
    }
}

impl<T> fmt::Debug for Changed<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Changed")
            .field("waiting", &self.key.is_some())
            .finish()
    }
}

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
        let mut state = lock(&this.shared.state);
        let mut displaced = None;
        if let Some(key) = this.key.take() {
            if state.closed_waiters.is_linked(&key) {
                displaced = state.closed_waiters.set_waker(&key, cx.waker());
                this.key = Some(key);
                unlock_then_drop(state, displaced);
                return Poll::Pending;
            }
            displaced = state.closed_waiters.remove(key).waker;
        }
        let result = if state.receivers == 0 {
            Poll::Ready(())
        } else {
            this.key = Some(state.closed_waiters.push_back(cx.waker(), ()));
            Poll::Pending
        };
        unlock_then_drop(state, displaced);
        result
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let removed = lock(&self.shared.state).closed_waiters.remove(key);
            drop(removed);
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

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::util::test_support::{counter, poll, wakes};
    // Test scaffolding: plain std, which loom needn't see.
    use std::sync::Arc as StdArc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn waiting<T>(tx: &Sender<T>) -> bool {
        !lock(&tx.shared.state).changed_waiters.is_empty()
    }

    #[test]
    fn borrow_marks_nothing_and_borrow_and_update_marks_seen() {
        let (tx, mut rx) = channel(1);
        assert!(!rx.borrow().has_changed());
        assert_eq!(rx.has_changed(), Ok(false));
        tx.send(2).unwrap();
        assert_eq!(rx.has_changed(), Ok(true));
        {
            let r = rx.borrow();
            assert_eq!((*r, r.has_changed()), (2, true));
        }
        assert_eq!(rx.has_changed(), Ok(true));
        {
            let r = rx.borrow_and_update();
            assert_eq!((*r, r.has_changed()), (2, true));
        }
        assert_eq!(rx.has_changed(), Ok(false));
        assert!(!rx.borrow_and_update().has_changed());
        assert!(!tx.borrow().has_changed());
    }

    #[test]
    fn a_send_wakes_exactly_the_waiting_receivers_once() {
        let (tx, mut a) = channel(0);
        let mut b = a.clone();
        let mut idle = tx.subscribe();
        let (ca, wa) = counter();
        let (cb, wb) = counter();
        let mut fa = a.changed();
        let mut fb = b.changed();
        assert!(poll(&mut fa, &wa).is_pending());
        assert!(poll(&mut fa, &wa).is_pending());
        assert!(poll(&mut fb, &wb).is_pending());

        tx.send(1).unwrap();
        assert_eq!((wakes(&ca), wakes(&cb)), (1, 1));
        assert_eq!(poll(&mut fa, &wa), Poll::Ready(Ok(())));
        assert_eq!(poll(&mut fb, &wb), Poll::Ready(Ok(())));
        drop((fa, fb));
        assert!(!waiting(&tx));

        // A receiver with an unseen value completes without waiting.
        let (ci, wi) = counter();
        let mut fi = idle.changed();
        assert_eq!(poll(&mut fi, &wi), Poll::Ready(Ok(())));
        assert_eq!(wakes(&ci), 0);
        drop(fi);
        assert!(!waiting(&tx));
        tx.send(2).unwrap();
        assert_eq!((wakes(&ca), wakes(&cb), wakes(&ci)), (1, 1, 0));
    }

    #[test]
    fn intermediate_values_are_skipped_and_the_latest_seen() {
        let (tx, mut rx) = channel(0);
        for i in 1..=5 {
            tx.send(i).unwrap();
        }
        let (_, w) = counter();
        let mut changed = rx.changed();
        assert_eq!(poll(&mut changed, &w), Poll::Ready(Ok(())));
        drop(changed);
        assert_eq!(*rx.borrow(), 5);
        let mut changed = rx.changed();
        assert!(poll(&mut changed, &w).is_pending());
    }

    #[test]
    fn the_latest_value_reaches_a_receiver_on_another_thread() {
        let (tx, mut rx) = channel(0);
        let watcher = std::thread::spawn(move || {
            let mut seen = vec![*rx.borrow_and_update()];
            while crate::util::block_on(rx.changed()).is_ok() {
                seen.push(*rx.borrow_and_update());
            }
            seen
        });
        for i in 1..=1000 {
            tx.send_replace(i);
        }
        drop(tx);
        let seen = watcher.join().unwrap();
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
        assert_eq!(seen.last(), Some(&1000));
    }

    #[test]
    fn dropping_the_sender_reports_an_unseen_value_first() {
        let (tx, mut rx) = channel(0);
        let (c, w) = counter();
        let mut changed = rx.changed();
        assert!(poll(&mut changed, &w).is_pending());
        drop(changed);

        tx.send(1).unwrap();
        drop(tx);
        assert_eq!(rx.has_changed(), Err(RecvError(())));
        let mut changed = rx.changed();
        assert_eq!(poll(&mut changed, &w), Poll::Ready(Ok(())));
        drop(changed);
        let mut changed = rx.changed();
        assert_eq!(poll(&mut changed, &w), Poll::Ready(Err(RecvError(()))));
        drop(changed);
        assert_eq!(*rx.borrow(), 1);
        assert_eq!(wakes(&c), 0);
    }

    #[test]
    fn dropping_the_sender_wakes_a_waiting_receiver_with_an_error() {
        let (tx, mut rx) = channel(0);
        let (c, w) = counter();
        let mut changed = rx.changed();
        assert!(poll(&mut changed, &w).is_pending());
        drop(tx);
        assert_eq!(wakes(&c), 1);
        assert_eq!(poll(&mut changed, &w), Poll::Ready(Err(RecvError(()))));
    }

    #[test]
    fn send_fails_without_receivers_but_send_replace_stores() {
        let (tx, rx) = channel(String::from("a"));
        drop(rx);
        assert!(tx.is_closed());
        assert_eq!(tx.send("b".into()), Err(SendError("b".into())));
        assert_eq!(*tx.borrow(), "a");
        assert_eq!(tx.send_replace("c".into()), "a");
        tx.send_modify(|s| s.push('d'));
        assert_eq!(*tx.borrow(), "cd");
        // A new receiver has seen the current value.
        let rx = tx.subscribe();
        assert_eq!(rx.has_changed(), Ok(false));
        assert_eq!(tx.receiver_count(), 1);
    }

    #[test]
    fn send_if_modified_notifies_only_on_true() {
        let (tx, mut rx) = channel(0);
        let (c, w) = counter();
        let mut changed = rx.changed();
        assert!(poll(&mut changed, &w).is_pending());
        assert!(!tx.send_if_modified(|_| false));
        assert_eq!(wakes(&c), 0);
        assert!(poll(&mut changed, &w).is_pending());
        assert!(tx.send_if_modified(|n| {
            *n = 9;
            true
        }));
        assert_eq!(wakes(&c), 1);
        assert_eq!(poll(&mut changed, &w), Poll::Ready(Ok(())));
        drop(changed);
        assert_eq!(*rx.borrow(), 9);
    }

    #[test]
    fn a_panicking_modify_leaves_the_channel_usable() {
        let (tx, rx) = channel(0);
        let tx = std::panic::AssertUnwindSafe(tx);
        let result = std::panic::catch_unwind(|| tx.send_modify(|_| panic!("boom")));
        assert!(result.is_err());
        assert_eq!(rx.has_changed(), Ok(false));
        tx.send(1).unwrap();
        assert_eq!(*rx.borrow(), 1);
    }

    #[test]
    fn mark_changed_and_mark_unchanged() {
        let (tx, mut rx) = channel(0);
        rx.mark_changed();
        assert_eq!(rx.has_changed(), Ok(true));
        let (_, w) = counter();
        let mut changed = rx.changed();
        assert_eq!(poll(&mut changed, &w), Poll::Ready(Ok(())));
        drop(changed);
        tx.send(1).unwrap();
        rx.mark_unchanged();
        assert_eq!(rx.has_changed(), Ok(false));
        let mut changed = rx.changed();
        assert!(poll(&mut changed, &w).is_pending());
    }

    #[test]
    fn a_cancelled_changed_leaves_no_waiter_and_loses_nothing() {
        let (tx, mut rx) = channel(0);
        let (c, w) = counter();
        let mut changed = rx.changed();
        assert!(poll(&mut changed, &w).is_pending());
        drop(changed);
        assert!(!waiting(&tx));
        tx.send(1).unwrap();
        assert_eq!(wakes(&c), 0);

        let mut changed = rx.changed();
        assert_eq!(poll(&mut changed, &w), Poll::Ready(Ok(())));
        drop(changed);
        // Woken, then cancelled before it polled again: 2 stays unseen.
        let mut changed = rx.changed();
        assert!(poll(&mut changed, &w).is_pending());
        tx.send(2).unwrap();
        assert_eq!(wakes(&c), 1);
        drop(changed);
        assert_eq!(rx.has_changed(), Ok(true));
        assert!(!waiting(&tx));
    }

    #[test]
    fn closed_completes_when_every_receiver_is_gone() {
        let (tx, rx) = channel(0);
        let rx2 = rx.clone();
        assert!(rx.same_channel(&rx2));
        let (c, w) = counter();
        let mut closed = tx.closed();
        assert!(poll(&mut closed, &w).is_pending());
        drop(rx);
        assert_eq!(wakes(&c), 0);
        let rx3 = tx.subscribe();
        drop(rx2);
        assert_eq!(wakes(&c), 0);
        drop(rx3);
        assert_eq!(wakes(&c), 1);
        assert_eq!(poll(&mut closed, &w), Poll::Ready(()));
    }

    #[test]
    fn wait_for_checks_the_current_value_then_each_change() {
        let (tx, mut rx) = channel(0);
        let (c, w) = counter();
        let checked = AtomicUsize::new(0);
        let mut wait = Box::pin(rx.wait_for(|n| {
            checked.fetch_add(1, Ordering::SeqCst);
            *n >= 2
        }));
        assert!(wait.as_mut().poll(&mut Context::from_waker(&w)).is_pending());
        assert_eq!(checked.load(Ordering::SeqCst), 1);
        tx.send(1).unwrap();
        assert_eq!(wakes(&c), 1);
        assert!(wait.as_mut().poll(&mut Context::from_waker(&w)).is_pending());
        tx.send(2).unwrap();
        let Poll::Ready(Ok(r)) = wait.as_mut().poll(&mut Context::from_waker(&w)) else {
            panic!("the predicate holds");
        };
        assert_eq!((*r, r.has_changed()), (2, true));
        drop(r);
        drop(wait);
        assert_eq!(checked.load(Ordering::SeqCst), 3);
        assert_eq!(rx.has_changed(), Ok(false));

        // Already true: at once; sender gone first: an error.
        assert_eq!(crate::util::block_on(rx.wait_for(|n| *n == 2)).map(|r| *r), Ok(2));
        drop(tx);
        assert!(crate::util::block_on(rx.wait_for(|n| *n == 3)).is_err());
    }

    #[test]
    fn values_are_dropped_and_nothing_leaks() {
        let drops = StdArc::new(AtomicUsize::new(0));
        struct Tracked(StdArc<AtomicUsize>);
        impl Drop for Tracked {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let (tx, rx) = channel(Tracked(StdArc::clone(&drops)));
        let rx2 = rx.clone();
        tx.send(Tracked(StdArc::clone(&drops))).unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        drop(tx.send_replace(Tracked(StdArc::clone(&drops))));
        assert_eq!(drops.load(Ordering::SeqCst), 2);
        assert_eq!(StdArc::strong_count(&tx.shared), 3);
        drop((tx, rx, rx2));
        assert_eq!(drops.load(Ordering::SeqCst), 3);
        assert_eq!(StdArc::strong_count(&drops), 1);
    }

    #[test]
    fn debug_and_errors_without_t_debug() {
        struct Opaque;
        let (tx, rx) = channel(Opaque);
        assert_eq!(format!("{tx:?}"), "Sender { receivers: 1 }");
        assert!(format!("{rx:?}").starts_with("Receiver"));
        let e = tx.send(Opaque).err();
        assert!(e.is_none());
        drop(rx);
        let e = tx.send(Opaque).unwrap_err();
        assert_eq!(format!("{e:?}"), "SendError(..)");
        assert_eq!(e.to_string(), "every receiver is gone");
        assert_eq!(RecvError(()).to_string(), "the sender is gone");
    }
}
