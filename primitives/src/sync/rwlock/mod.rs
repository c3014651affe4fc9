// Over ~600 lines because of its docs: 315 lines of code, one concept (the
// lock, its futures and its four guards are one protocol over the semaphore).
//! An eventually fair async reader-writer lock over a [`Semaphore`].
//!
//! # Protocol
//!
//! The semaphore holds `max_readers` permits (`MAX_READS` unless the lock
//! was built [`with_max_readers`](RwLock::with_max_readers)). A reader
//! takes one, a writer takes all of them: so readers share, at most
//! `max_readers` at once, and a writer excludes everyone. The semaphore's
//! fairness is the lock's: free permits go to whoever asks first until
//! the first waiter has waited past the fairness bound, and from then on
//! released permits are set aside for the waiters in order. So a waiting
//! writer holds back the readers who came after it once it has waited out
//! the bound: writers are never starved, and readers queued behind a
//! writer enter after it. A guard exists only while its permits are out;
//! the semaphore orders one writer's changes before the next holder's
//! reads.
//!
//! A read guard keeps a pointer to what it reads (the whole value, or the
//! part a `map` picked) and the semaphore to give its permit back to, not
//! the lock: so mapping it changes its type without changing its permit.

use super::mutex::TryLockError;
use super::semaphore::{Acquire, DEFAULT_BOUND, Semaphore};
use crate::loom::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// How many readers may hold the lock at once, at most.
const MAX_READS: u32 = u32::MAX >> 3;

/// `max_reads` within `1..=MAX_READS`.
const fn clamp_readers(max_reads: u32) -> u32 {
    if max_reads == 0 {
        1
    } else if max_reads > MAX_READS {
        MAX_READS
    } else {
        max_reads
    }
}

/// An async reader-writer lock: many readers or one writer, eventually
/// fair, so writers are never starved.
///
/// # Fairness
///
/// Waiters queue in the order they asked. Free permits go to whoever asks
/// first (a reader may join other readers while a writer waits) until the
/// first waiter has waited longer than the *fairness bound* (0.5 ms; set
/// with [`with_fairness_bound`](RwLock::with_fairness_bound)); then the
/// lock goes to the waiters in order, and a writer waiting that long holds
/// back every reader that came after it. tokio's `RwLock` is strictly
/// first-in, first-out instead, which a zero bound reproduces.
///
/// # Cancel safety
///
/// Dropping a pending `read` or `write` future leaves the queue and passes
/// on anything it had just been handed.
///
/// # Examples
///
/// ```
/// use weft::sync::RwLock;
///
/// # weft::block_on(async {
/// let lock = RwLock::new(vec![1, 2]);
/// {
///     let a = lock.read().await;
///     let b = lock.read().await;
///     assert_eq!(a.len() + b.len(), 4);
/// }
/// lock.write().await.push(3);
/// assert_eq!(*lock.read().await, [1, 2, 3]);
/// # });
/// ```
pub struct RwLock<T: ?Sized> {
    semaphore: Semaphore,
    /// The permits a writer takes: how many readers may share the lock.
    max_readers: u32,
    data: UnsafeCell<T>,
}

// SAFETY: a writer gets `&mut T` (possibly on another thread: `T: Send`).
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
// SAFETY: readers on several threads share `&T` (`T: Sync`), and a writer
// may move in from any of them (`T: Send`).
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

impl<T> RwLock<T> {
    /// An unlocked lock holding `value`.
    pub fn new(value: T) -> RwLock<T> {
        RwLock::with_max_readers(value, MAX_READS)
    }

    /// An unlocked lock holding `value` that lets at most `max_reads`
    /// readers in at once; the next reader waits for one of them to leave.
    ///
    /// Unlike tokio, which panics, a `max_reads` above `u32::MAX >> 3`
    /// saturates, and 0 counts as 1.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::sync::RwLock;
    ///
    /// let lock = RwLock::with_max_readers(0, 2);
    /// let a = lock.try_read().unwrap();
    /// let b = lock.try_read().unwrap();
    /// // A third reader would be one too many.
    /// assert!(lock.try_read().is_err());
    /// drop((a, b));
    /// assert!(lock.try_write().is_ok());
    /// ```
    pub fn with_max_readers(value: T, max_reads: u32) -> RwLock<T> {
        RwLock::with_max_readers_and_fairness_bound(value, max_reads, DEFAULT_BOUND)
    }

    /// An unlocked lock holding `value` whose waiters may be overtaken for
    /// `bound` before releases hand them the lock in order (see the
    /// [type's docs](RwLock#fairness); [`new`](RwLock::new) uses 0.5 ms).
    /// `Duration::ZERO` makes it strictly first-in, first-out, as tokio's
    /// `RwLock` is.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft::sync::RwLock;
    ///
    /// let lock = RwLock::with_fairness_bound(0, Duration::ZERO);
    /// *lock.try_write().unwrap() += 1;
    /// assert_eq!(*lock.try_read().unwrap(), 1);
    /// ```
    pub fn with_fairness_bound(value: T, bound: Duration) -> RwLock<T> {
        RwLock::with_max_readers_and_fairness_bound(value, MAX_READS, bound)
    }

    /// [`with_max_readers`](RwLock::with_max_readers) and
    /// [`with_fairness_bound`](RwLock::with_fairness_bound) together.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft::sync::RwLock;
    ///
    /// let lock = RwLock::with_max_readers_and_fairness_bound(0, 1, Duration::ZERO);
    /// let reader = lock.try_read().unwrap();
    /// assert!(lock.try_read().is_err());
    /// drop(reader);
    /// ```
    pub fn with_max_readers_and_fairness_bound(value: T, max_reads: u32, bound: Duration) -> RwLock<T> {
        let max_readers = clamp_readers(max_reads);
        RwLock {
            semaphore: Semaphore::with_fairness_bound(max_readers as usize, bound),
            max_readers,
            data: UnsafeCell::new(value),
        }
    }

    /// `const` constructor, for statics.
    #[cfg(not(all(test, loom)))]
    pub const fn const_new(value: T) -> RwLock<T> {
        RwLock::const_with_max_readers(value, MAX_READS)
    }

    /// `const` [`with_max_readers`](RwLock::with_max_readers), for statics.
    #[cfg(not(all(test, loom)))]
    pub const fn const_with_max_readers(value: T, max_reads: u32) -> RwLock<T> {
        let max_readers = clamp_readers(max_reads);
        RwLock {
            semaphore: Semaphore::const_new(max_readers as usize),
            max_readers,
            data: UnsafeCell::new(value),
        }
    }

    /// The value, taking the lock apart.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Waits to read: shares the lock with other readers.
    pub fn read(&self) -> RwLockRead<'_, T> {
        RwLockRead {
            lock: self,
            acquire: self.semaphore.acquire(),
        }
    }

    /// Waits to write: excludes readers and other writers.
    pub fn write(&self) -> RwLockWrite<'_, T> {
        RwLockWrite {
            lock: self,
            acquire: self.semaphore.acquire_many(self.max_readers),
        }
    }

    /// Blocks the thread until it may read, for synchronous code that
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
    /// use weft::sync::RwLock;
    ///
    /// let lock = Arc::new(RwLock::new(1));
    /// let reader = {
    ///     let lock = Arc::clone(&lock);
    ///     std::thread::spawn(move || *lock.blocking_read())
    /// };
    /// assert_eq!(reader.join().unwrap(), 1);
    /// ```
    pub fn blocking_read(&self) -> RwLockReadGuard<'_, T> {
        crate::util::block_on(self.read())
    }

    /// Blocks the thread until it may write. Never call it from async code
    /// (see [`blocking_read`](RwLock::blocking_read)).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use weft::sync::RwLock;
    ///
    /// let lock = Arc::new(RwLock::new(1));
    /// let writer = {
    ///     let lock = Arc::clone(&lock);
    ///     std::thread::spawn(move || *lock.blocking_write() += 1)
    /// };
    /// writer.join().unwrap();
    /// # weft::block_on(async {
    /// assert_eq!(*lock.read().await, 2);
    /// # });
    /// ```
    pub fn blocking_write(&self) -> RwLockWriteGuard<'_, T> {
        crate::util::block_on(self.write())
    }

    /// Reads if no writer holds the lock and no waiter has waited past the
    /// fairness bound (tokio's fails whenever anyone waits).
    ///
    /// # Errors
    ///
    /// [`TryLockError`] otherwise.
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        let permit = self.semaphore.try_acquire().map_err(|_| TryLockError::new())?;
        permit.forget();
        Ok(RwLockReadGuard::new(self))
    }

    /// Writes if the lock is free and no waiter has waited past the
    /// fairness bound (tokio's fails whenever anyone waits).
    ///
    /// # Errors
    ///
    /// [`TryLockError`] otherwise.
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        let permit = self
            .semaphore
            .try_acquire_many(self.max_readers)
            .map_err(|_| TryLockError::new())?;
        permit.forget();
        Ok(RwLockWriteGuard { lock: self })
    }

    /// Like [`read`](RwLock::read), for a lock in an `Arc`.
    pub async fn read_owned(self: Arc<Self>) -> OwnedRwLockReadGuard<T> {
        std::mem::forget(self.read().await);
        OwnedRwLockReadGuard { lock: self }
    }

    /// Like [`write`](RwLock::write), for a lock in an `Arc`.
    pub async fn write_owned(self: Arc<Self>) -> OwnedRwLockWriteGuard<T> {
        std::mem::forget(self.write().await);
        OwnedRwLockWriteGuard { lock: self }
    }

    /// How many permits a writer holds.
    fn write_permits(&self) -> usize {
        self.max_readers as usize
    }

    /// The value, through exclusive access: no locking needed.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.with_mut(|p| {
            // SAFETY: `&mut self` proves no guard exists (a guard borrows
            // the lock), so this is the only reference to the data.
            unsafe { &mut *p }
        })
    }

    fn shared(&self) -> &T {
        self.data.with(|p| {
            // SAFETY: called by read guards, and by write guards through
            // `&self`: a reader's permit or the writer's permits are out,
            // so no `&mut T` exists (module protocol).
            unsafe { &*p }
        })
    }

    /// # Safety
    ///
    /// The caller holds all `max_readers` permits and is borrowed mutably.
    #[allow(clippy::mut_from_ref)]
    unsafe fn exclusive(&self) -> &mut T {
        self.data.with_mut(|p| {
            // SAFETY: the caller's contract: no other guard exists, and the
            // caller's `&mut` borrow keeps this the only reference.
            unsafe { &mut *p }
        })
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> RwLock<T> {
        RwLock::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Turns an acquire of a lock's permits into a guard.
fn poll_guard<'a, G>(acquire: &mut Acquire<'a>, cx: &mut Context<'_>, guard: impl FnOnce() -> G) -> Poll<G> {
    match Pin::new(acquire).poll(cx) {
        Poll::Pending => Poll::Pending,
        Poll::Ready(Ok(permit)) => {
            permit.forget();
            Poll::Ready(guard())
        }
        Poll::Ready(Err(_)) => unreachable!("a lock's semaphore is never closed"),
    }
}

/// The future of [`RwLock::read`].
#[must_use = "futures do nothing unless polled"]
pub struct RwLockRead<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    acquire: Acquire<'a>,
}

impl<'a, T: ?Sized> Future for RwLockRead<'a, T> {
    type Output = RwLockReadGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let lock = this.lock;
        poll_guard(&mut this.acquire, cx, || RwLockReadGuard::new(lock))
    }
}

/// The future of [`RwLock::write`].
#[must_use = "futures do nothing unless polled"]
pub struct RwLockWrite<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    acquire: Acquire<'a>,
}

impl<'a, T: ?Sized> Future for RwLockWrite<'a, T> {
    type Output = RwLockWriteGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let lock = this.lock;
        poll_guard(&mut this.acquire, cx, || RwLockWriteGuard { lock })
    }
}

/// Shared access to a [`RwLock`]'s value, or to a part of it picked with
/// [`map`](RwLockReadGuard::map); releases the lock when dropped.
///
/// It may move to another thread when `T` is `Sync`, as `&T` may; not
/// otherwise:
///
/// ```compile_fail
/// use std::cell::Cell;
/// use weft::sync::RwLock;
///
/// fn send<G: Send>(_: G) {}
/// let lock = RwLock::new(Cell::new(1));
/// send(lock.try_read().unwrap());
/// ```
#[must_use = "dropping the guard releases the lock at once"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    /// Where its permit goes back.
    semaphore: &'a Semaphore,
    /// What it reads: inside the lock's value, which outlives `'a`.
    data: NonNull<T>,
    _reads: PhantomData<&'a T>,
}

// SAFETY: the guard only hands out `&T` (module protocol: no writer exists
// while its permit is out), so moving or sharing it between threads is
// sharing `&T`: `T: Sync` suffices, as for `&T`. The semaphore is `Sync`.
unsafe impl<T: ?Sized + Sync> Send for RwLockReadGuard<'_, T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Sync> Sync for RwLockReadGuard<'_, T> {}

impl<'a, T: ?Sized> RwLockReadGuard<'a, T> {
    /// A guard over all of `lock`'s value; its caller holds a read permit.
    fn new(lock: &'a RwLock<T>) -> RwLockReadGuard<'a, T> {
        RwLockReadGuard {
            semaphore: &lock.semaphore,
            data: NonNull::from(lock.shared()),
            _reads: PhantomData,
        }
    }

    /// Narrows the guard to a part of the value, keeping the read lock.
    /// An associated function, so that it does not hide a method of `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::sync::{RwLock, RwLockReadGuard};
    ///
    /// let lock = RwLock::new((1, String::from("a")));
    /// let name = RwLockReadGuard::map(lock.try_read().unwrap(), |pair| &pair.1);
    /// assert_eq!(*name, "a");
    /// assert!(lock.try_write().is_err(), "still read-locked");
    /// ```
    pub fn map<U: ?Sized, F>(this: Self, f: F) -> RwLockReadGuard<'a, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let data = NonNull::from(f(&*this));
        this.reading(data)
    }

    /// Like [`map`](RwLockReadGuard::map), with a function that may find
    /// nothing: then the guard comes back unchanged.
    ///
    /// # Errors
    ///
    /// The original guard, if `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::sync::{RwLock, RwLockReadGuard};
    ///
    /// let lock = RwLock::new(vec![1, 2]);
    /// let guard = lock.try_read().unwrap();
    /// let guard = RwLockReadGuard::try_map(guard, |v| v.get(5)).unwrap_err();
    /// let second = RwLockReadGuard::try_map(guard, |v| v.get(1)).unwrap();
    /// assert_eq!(*second, 2);
    /// ```
    pub fn try_map<U: ?Sized, F>(this: Self, f: F) -> Result<RwLockReadGuard<'a, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        match f(&*this).map(NonNull::from) {
            Some(data) => Ok(this.reading(data)),
            None => Err(this),
        }
    }

    /// Moves this guard's permit to a guard reading `data`, which the
    /// caller took from this guard's value (so it lives as long).
    fn reading<U: ?Sized>(self, data: NonNull<U>) -> RwLockReadGuard<'a, U> {
        let semaphore = self.semaphore;
        std::mem::forget(self);
        RwLockReadGuard {
            semaphore,
            data,
            _reads: PhantomData,
        }
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: `data` points into the lock's value, which outlives the
        // guard's `'a`, and the guard holds a read permit, so no `&mut`
        // to it exists while this `&T` lives (module protocol).
        unsafe { self.data.as_ref() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.semaphore.release(1);
    }
}

/// Exclusive access to a [`RwLock`]'s value; releases it when dropped.
#[must_use = "dropping the guard releases the lock at once"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
}

// SAFETY: a write guard hands out `&T` through `&self`: sharing it between
// threads needs `T: Sync` beside the `T: Send` the lock itself needs.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLockWriteGuard<'_, T> {}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// Turns the write lock into a read lock without letting a writer in
    /// between. Readers queued behind may enter beside it.
    pub fn downgrade(self) -> RwLockReadGuard<'a, T> {
        let lock = self.lock;
        std::mem::forget(self);
        lock.semaphore.release(lock.write_permits() - 1);
        RwLockReadGuard::new(lock)
    }

    /// Turns the write lock into a read lock over a part of the value,
    /// without letting a writer in between. An associated function, so
    /// that it does not hide a method of `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::sync::{RwLock, RwLockWriteGuard};
    ///
    /// # weft::block_on(async {
    /// let lock = RwLock::new((0, String::new()));
    /// let mut guard = lock.write().await;
    /// guard.1.push_str("ready");
    /// let name = RwLockWriteGuard::downgrade_map(guard, |pair| &pair.1);
    /// // Other readers may come in now; writers wait.
    /// assert_eq!(lock.read().await.0, 0);
    /// assert!(lock.try_write().is_err());
    /// assert_eq!(*name, "ready");
    /// # });
    /// ```
    pub fn downgrade_map<U: ?Sized, F>(this: Self, f: F) -> RwLockReadGuard<'a, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let data = NonNull::from(f(&*this));
        this.downgrade().reading(data)
    }

    /// Like [`downgrade_map`](RwLockWriteGuard::downgrade_map), with a
    /// function that may find nothing: then the write guard comes back
    /// unchanged, still writing.
    ///
    /// # Errors
    ///
    /// The original guard, if `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::sync::{RwLock, RwLockWriteGuard};
    ///
    /// # weft::block_on(async {
    /// let lock = RwLock::new(vec![1]);
    /// let guard = lock.write().await;
    /// let mut guard = RwLockWriteGuard::try_downgrade_map(guard, |v| v.get(1)).unwrap_err();
    /// guard.push(2);
    /// let second = RwLockWriteGuard::try_downgrade_map(guard, |v| v.get(1)).unwrap();
    /// assert_eq!(*second, 2);
    /// # });
    /// ```
    pub fn try_downgrade_map<U: ?Sized, F>(this: Self, f: F) -> Result<RwLockReadGuard<'a, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        let Some(data) = f(&*this).map(NonNull::from) else {
            return Err(this);
        };
        Ok(this.downgrade().reading(data))
    }
}

/// Shared access to the value of a [`RwLock`] in an `Arc`.
#[must_use = "dropping the guard releases the lock at once"]
pub struct OwnedRwLockReadGuard<T: ?Sized> {
    lock: Arc<RwLock<T>>,
}

/// Exclusive access to the value of a [`RwLock`] in an `Arc`.
#[must_use = "dropping the guard releases the lock at once"]
pub struct OwnedRwLockWriteGuard<T: ?Sized> {
    lock: Arc<RwLock<T>>,
}

// SAFETY: as for `RwLockWriteGuard`.
unsafe impl<T: ?Sized + Send + Sync> Sync for OwnedRwLockWriteGuard<T> {}

/// Deref, Drop and formatting for the guards (only formatting for the
/// borrowed read guard, which reads through a pointer).
macro_rules! guard_impls {
    ($guard:ident $(<$lt:lifetime>)?, write: $write:tt) => {
        impl<$($lt,)? T: ?Sized> Deref for $guard<$($lt,)? T> {
            type Target = T;
            fn deref(&self) -> &T {
                self.lock.shared()
            }
        }

        impl<$($lt,)? T: ?Sized> Drop for $guard<$($lt,)? T> {
            fn drop(&mut self) {
                let permits = guard_impls!(@permits $write, self.lock);
                self.lock.semaphore.release(permits);
            }
        }

        guard_impls!(@fmt $guard $(<$lt>)?);
        guard_impls!(@write $write, $guard $(<$lt>)?);
    };
    (@permits false, $lock:expr) => { 1 };
    (@permits true, $lock:expr) => { $lock.write_permits() };
    (@fmt $guard:ident $(<$lt:lifetime>)?) => {
        impl<$($lt,)? T: ?Sized + fmt::Debug> fmt::Debug for $guard<$($lt,)? T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&**self, f)
            }
        }

        impl<$($lt,)? T: ?Sized + fmt::Display> fmt::Display for $guard<$($lt,)? T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&**self, f)
            }
        }
    };
    (@write false, $guard:ident $(<$lt:lifetime>)?) => {};
    (@write true, $guard:ident $(<$lt:lifetime>)?) => {
        impl<$($lt,)? T: ?Sized> DerefMut for $guard<$($lt,)? T> {
            fn deref_mut(&mut self) -> &mut T {
                // SAFETY: a write guard holds all the permits, and is
                // borrowed mutably here.
                unsafe { self.lock.exclusive() }
            }
        }
    };
}

guard_impls!(@fmt RwLockReadGuard<'a>);
guard_impls!(RwLockWriteGuard<'a>, write: true);
guard_impls!(OwnedRwLockReadGuard, write: false);
guard_impls!(OwnedRwLockWriteGuard, write: true);

impl<T: ?Sized> fmt::Debug for RwLockRead<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RwLockRead").finish_non_exhaustive()
    }
}

impl<T: ?Sized> fmt::Debug for RwLockWrite<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RwLockWrite").finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests;
