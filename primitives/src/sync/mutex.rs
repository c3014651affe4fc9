//! A fair async mutex: a one-permit [`Semaphore`] beside the data.
//!
//! # Protocol
//!
//! Holding the semaphore's single permit is holding the lock: a guard
//! exists only while its permit is out, so at most one guard exists, and
//! it alone touches `data`. The semaphore orders one holder's writes
//! before the next holder's reads (the permit passes through its word with
//! acquire-release swaps, or through its lock). Its fairness is the
//! mutex's: an unlock leaves the lock free for whoever comes first, waking
//! the first waiter, until that waiter has waited past the fairness bound;
//! then unlock hands the permit straight to it. So a task that unlocks and
//! locks again in a loop keeps going, but cannot starve the others.

use super::semaphore::{Acquire, Semaphore, TryAcquireError};
use crate::loom::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// An async mutual-exclusion lock, eventually fair.
///
/// Unlike `std::sync::Mutex`, its guard may be held across an `.await`,
/// and waiting for it yields to the executor instead of blocking the
/// thread.
///
/// # Fairness
///
/// Waiters queue in the order they asked. An unlock leaves the lock free
/// for whoever asks first, and wakes the first waiter to try again, so a
/// task that unlocks and locks again keeps going instead of waiting for a
/// woken task to be scheduled. Once the first waiter has waited longer
/// than the *fairness bound* (0.5 ms, as in async-lock and parking_lot;
/// set with [`with_fairness_bound`](Mutex::with_fairness_bound)), unlocks
/// hand the lock straight to the waiters in order, and
/// [`try_lock`](Mutex::try_lock) fails until the queue is back within its
/// bound. tokio's `Mutex` is strictly first-in, first-out instead, which
/// a zero bound reproduces. The bound runs on std's monotonic clock, which
/// a paused runtime clock does not stop.
///
/// # Cancel safety
///
/// Dropping a pending [`lock`](Mutex::lock) future leaves the queue; if the
/// lock had just been handed to it, or it had been woken to take it, that
/// passes on to the next waiter.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use weft::sync::Mutex;
///
/// # weft::block_on(async {
/// let count = Arc::new(Mutex::new(0));
/// let tasks: Vec<_> = (0..10)
///     .map(|_| {
///         let count = Arc::clone(&count);
///         weft::spawn(async move { *count.lock().await += 1 })
///     })
///     .collect();
/// for task in tasks {
///     task.await.unwrap();
/// }
/// assert_eq!(*count.lock().await, 10);
/// # });
/// ```
// ANCHOR: mutex-struct
pub struct Mutex<T: ?Sized> {
    semaphore: Semaphore,
    data: UnsafeCell<T>,
}
// ANCHOR_END: mutex-struct

// SAFETY: the mutex hands `&mut T` to one guard at a time (module
// protocol), which may live on another thread: `T: Send` suffices, as for
// std's mutex.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}
// SAFETY: as above; sharing the mutex shares no `&T` without the lock.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

/// [`Mutex::try_lock`], [`RwLock::try_read`] or [`RwLock::try_write`]
/// found the lock held, or being handed to a waiter that waited past the
/// fairness bound.
///
/// [`RwLock::try_read`]: super::RwLock::try_read
/// [`RwLock::try_write`]: super::RwLock::try_write
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryLockError(());

impl TryLockError {
    pub(super) const fn new() -> TryLockError {
        TryLockError(())
    }
}

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the lock is held or awaited")
    }
}

impl std::error::Error for TryLockError {}

impl<T> Mutex<T> {
    /// An unlocked mutex holding `value`.
    pub fn new(value: T) -> Mutex<T> {
        Mutex {
            semaphore: Semaphore::new(1),
            data: UnsafeCell::new(value),
        }
    }

    /// An unlocked mutex holding `value` whose waiters may be overtaken
    /// for `bound` before an unlock hands them the lock (see the
    /// [type's docs](Mutex#fairness); [`new`](Mutex::new) uses 0.5 ms).
    ///
    /// `Duration::ZERO` makes it strictly first-in, first-out, as tokio's
    /// `Mutex` is: an unlock with anyone waiting hands the lock to the
    /// first waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft::sync::Mutex;
    ///
    /// # weft::block_on(async {
    /// let strict = Mutex::with_fairness_bound(0, Duration::ZERO);
    /// *strict.lock().await += 1;
    /// assert_eq!(*strict.lock().await, 1);
    /// # });
    /// ```
    pub fn with_fairness_bound(value: T, bound: Duration) -> Mutex<T> {
        Mutex {
            semaphore: Semaphore::with_fairness_bound(1, bound),
            data: UnsafeCell::new(value),
        }
    }

    /// `const` constructor, for statics, with the default fairness bound.
    #[cfg(not(all(test, loom)))]
    pub const fn const_new(value: T) -> Mutex<T> {
        Mutex {
            semaphore: Semaphore::const_new(1),
            data: UnsafeCell::new(value),
        }
    }

    /// The value, taking the mutex apart.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Waits for the lock; the guard releases it when dropped.
    pub fn lock(&self) -> Lock<'_, T> {
        Lock {
            mutex: self,
            acquire: self.semaphore.acquire(),
        }
    }

    /// Takes the lock if it is free: even with others waiting, unless the
    /// first of them has waited past the fairness bound (tokio's fails
    /// whenever anyone waits).
    ///
    /// # Errors
    ///
    /// [`TryLockError`] otherwise.
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        match self.semaphore.try_acquire() {
            Ok(permit) => {
                permit.forget();
                Ok(MutexGuard { mutex: self })
            }
            Err(TryAcquireError::NoPermits | TryAcquireError::Closed) => Err(TryLockError(())),
        }
    }

    /// Like [`lock`](Mutex::lock), for a mutex in an `Arc`: the guard owns
    /// a reference and can move into a spawned task.
    pub async fn lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        self.lock().await.forget_permit();
        OwnedMutexGuard { mutex: self }
    }

    /// Like [`try_lock`](Mutex::try_lock), owned.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if the lock is held or awaited.
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        self.try_lock()?.forget_permit();
        Ok(OwnedMutexGuard { mutex: self })
    }

    /// Blocks the thread until the lock is free, for synchronous code that
    /// shares data with async tasks.
    ///
    /// It parks the whole thread: never call it from async code. Unlike
    /// tokio, which panics there, weft cannot tell, and a task that calls
    /// it may deadlock its worker (and the task holding the lock).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use weft::sync::Mutex;
    ///
    /// let count = Arc::new(Mutex::new(0));
    /// let thread = {
    ///     let count = Arc::clone(&count);
    ///     std::thread::spawn(move || *count.blocking_lock() += 1)
    /// };
    /// thread.join().unwrap();
    /// # weft::block_on(async {
    /// assert_eq!(*count.lock().await, 1);
    /// # });
    /// ```
    pub fn blocking_lock(&self) -> MutexGuard<'_, T> {
        crate::util::block_on(self.lock())
    }

    /// Like [`blocking_lock`](Mutex::blocking_lock), for a mutex in an
    /// `Arc`. Never call it from async code.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use weft::sync::Mutex;
    ///
    /// let mutex = Arc::new(Mutex::new(1));
    /// let mut guard = Arc::clone(&mutex).blocking_lock_owned();
    /// // The guard owns its mutex: it can move to another thread.
    /// std::thread::spawn(move || *guard += 1).join().unwrap();
    /// assert_eq!(*mutex.blocking_lock(), 2);
    /// ```
    pub fn blocking_lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        crate::util::block_on(self.lock_owned())
    }

    /// The value, through exclusive access to the mutex: no locking needed.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.with_mut(|p| {
            // SAFETY: `&mut self` proves no guard exists (a guard borrows
            // the lock), so this is the only reference to the data.
            unsafe { &mut *p }
        })
    }

    #[inline]
    fn unlock(&self) {
        self.semaphore.release(1);
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Mutex<T> {
        Mutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// The future of [`Mutex::lock`].
#[must_use = "futures do nothing unless polled"]
pub struct Lock<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
    acquire: Acquire<'a>,
}

impl<'a, T: ?Sized> Future for Lock<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let this = self.get_mut();
        match Pin::new(&mut this.acquire).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(permit)) => {
                permit.forget();
                Poll::Ready(MutexGuard { mutex: this.mutex })
            }
            Poll::Ready(Err(_)) => unreachable!("a mutex's semaphore is never closed"),
        }
    }
}

impl<T: ?Sized> fmt::Debug for Lock<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock").field("acquire", &self.acquire).finish()
    }
}

/// Access to a [`Mutex`]'s value; unlocks when dropped.
#[must_use = "dropping the guard unlocks the mutex at once"]
pub struct MutexGuard<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
}

// SAFETY: `&MutexGuard` hands out `&T`, so sharing the guard between
// threads needs `T: Sync` (sending it needs only `T: Send`, which the
// automatic impl already requires through `&Mutex<T>`).
unsafe impl<T: ?Sized + Send + Sync> Sync for MutexGuard<'_, T> {}

// SAFETY: as for `MutexGuard`.
unsafe impl<T: ?Sized + Send + Sync> Sync for OwnedMutexGuard<T> {}

impl<T: ?Sized> MutexGuard<'_, T> {
    /// Dissolves the guard without unlocking: its owner takes the lock over.
    fn forget_permit(self) {
        std::mem::forget(self);
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.mutex.data.with(|p| {
            // SAFETY: the guard holds the mutex's only permit (module protocol),
            // so no `&mut T` exists while this `&T` lives.
            unsafe { &*p }
        })
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.mutex.data.with_mut(|p| {
            // SAFETY: the guard holds the mutex's only permit and is borrowed
            // mutably, so this is the only reference to the data.
            unsafe { &mut *p }
        })
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.mutex.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// Access to the value of a [`Mutex`] in an `Arc`; unlocks when dropped.
#[must_use = "dropping the guard unlocks the mutex at once"]
pub struct OwnedMutexGuard<T: ?Sized> {
    mutex: Arc<Mutex<T>>,
}

impl<T: ?Sized> OwnedMutexGuard<T> {
    /// The mutex this guard locks.
    pub fn mutex(&self) -> &Arc<Mutex<T>> {
        &self.mutex
    }
}

impl<T: ?Sized> Deref for OwnedMutexGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.mutex.data.with(|p| {
            // SAFETY: as for `MutexGuard`: this guard holds the only permit.
            unsafe { &*p }
        })
    }
}

impl<T: ?Sized> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.mutex.data.with_mut(|p| {
            // SAFETY: as for `MutexGuard`: the only permit, borrowed mutably.
            unsafe { &mut *p }
        })
    }
}

impl<T: ?Sized> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        self.mutex.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn poll<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
        crate::util::test_support::poll(future, std::task::Waker::noop())
    }

    #[test]
    fn guards_reach_the_data_one_at_a_time() {
        let mutex = Mutex::new(String::from("a"));
        let mut guard = mutex.try_lock().unwrap();
        guard.push('b');
        let mut waiting = mutex.lock();
        assert!(poll(&mut waiting).is_pending());
        drop(guard);
        let Poll::Ready(mut guard) = poll(&mut waiting) else {
            panic!("the lock was handed over");
        };
        guard.push('c');
        drop(guard);
        drop(waiting);
        let owned = Arc::new(mutex);
        let mut guard = Arc::clone(&owned).try_lock_owned().unwrap();
        guard.push('d');
        assert_eq!(format!("{guard}"), "abcd");
        drop(guard);
        let mut mutex = Arc::try_unwrap(owned).unwrap();
        mutex.get_mut().push('e');
        assert_eq!(mutex.into_inner(), "abcde");
    }
}
