//! A fair async reader-writer lock over a [`Semaphore`].
//!
//! # Protocol
//!
//! The semaphore holds `MAX_READS` permits. A reader takes one, a writer
//! takes all of them: so readers share, a writer excludes everyone, and
//! because the semaphore serves its queue strictly in order, a waiting
//! writer holds back the readers who came after it. Writers are never
//! starved, and readers queued behind a writer enter together after it.
//! A guard exists only while its permits are out; the semaphore's lock
//! orders one writer's changes before the next holder's reads.

use super::mutex::TryLockError;
use super::semaphore::{Acquire, Semaphore};
use crate::loom::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// How many readers may hold the lock at once.
const MAX_READS: u32 = u32::MAX >> 3;

/// An async reader-writer lock: many readers or one writer, served in the
/// order they asked, so writers are never starved.
///
/// # Cancel safety
///
/// Dropping a pending `read` or `write` future leaves the queue and passes
/// on anything it had just been handed.
///
/// # Examples
///
/// ```
/// use weft_primitives::sync::RwLock;
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
        RwLock {
            semaphore: Semaphore::new(MAX_READS as usize),
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
    pub fn read(&self) -> Read<'_, T> {
        Read {
            lock: self,
            acquire: self.semaphore.acquire(),
        }
    }

    /// Waits to write: excludes readers and other writers.
    pub fn write(&self) -> Write<'_, T> {
        Write {
            lock: self,
            acquire: self.semaphore.acquire_many(MAX_READS),
        }
    }

    /// Reads if no writer holds the lock and nobody waits.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] otherwise.
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        let permit = self.semaphore.try_acquire().map_err(|_| TryLockError::new())?;
        permit.forget();
        Ok(RwLockReadGuard { lock: self })
    }

    /// Writes if the lock is free and nobody waits.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] otherwise.
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        let permit = self
            .semaphore
            .try_acquire_many(MAX_READS)
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
    /// The caller holds all `MAX_READS` permits and is borrowed mutably.
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
pub struct Read<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    acquire: Acquire<'a>,
}

impl<'a, T: ?Sized> Future for Read<'a, T> {
    type Output = RwLockReadGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let lock = this.lock;
        poll_guard(&mut this.acquire, cx, || RwLockReadGuard { lock })
    }
}

/// The future of [`RwLock::write`].
#[must_use = "futures do nothing unless polled"]
pub struct Write<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    acquire: Acquire<'a>,
}

impl<'a, T: ?Sized> Future for Write<'a, T> {
    type Output = RwLockWriteGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let lock = this.lock;
        poll_guard(&mut this.acquire, cx, || RwLockWriteGuard { lock })
    }
}

/// Shared access to a [`RwLock`]'s value; releases it when dropped.
#[must_use = "dropping the guard releases the lock at once"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
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
        lock.semaphore.release(MAX_READS as usize - 1);
        RwLockReadGuard { lock }
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

/// Deref, Drop and formatting for the four guards.
macro_rules! guard_impls {
    ($guard:ident $(<$lt:lifetime>)?, $permits:expr, write: $write:tt) => {
        impl<$($lt,)? T: ?Sized> Deref for $guard<$($lt,)? T> {
            type Target = T;
            fn deref(&self) -> &T {
                self.lock.shared()
            }
        }

        impl<$($lt,)? T: ?Sized> Drop for $guard<$($lt,)? T> {
            fn drop(&mut self) {
                self.lock.semaphore.release($permits);
            }
        }

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

        guard_impls!(@write $write, $guard $(<$lt>)?);
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

guard_impls!(RwLockReadGuard<'a>, 1, write: false);
guard_impls!(RwLockWriteGuard<'a>, MAX_READS as usize, write: true);
guard_impls!(OwnedRwLockReadGuard, 1, write: false);
guard_impls!(OwnedRwLockWriteGuard, MAX_READS as usize, write: true);

impl<T: ?Sized> fmt::Debug for Read<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Read").finish_non_exhaustive()
    }
}

impl<T: ?Sized> fmt::Debug for Write<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Write").finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn poll<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
        crate::util::test_support::poll(future, std::task::Waker::noop())
    }

    #[test]
    fn readers_share_writers_exclude() {
        let lock = RwLock::new(vec![1]);
        let a = lock.try_read().unwrap();
        let b = lock.try_read().unwrap();
        assert_eq!(a.len() + b.len(), 2);
        let mut write = lock.write();
        assert!(poll(&mut write).is_pending());
        drop((a, b));
        let Poll::Ready(mut w) = poll(&mut write) else {
            panic!("the writer was next");
        };
        w.push(2);
        let r = w.downgrade();
        assert_eq!(*r, [1, 2]);
        assert!(lock.try_write().is_err());
        drop(r);
        drop(write);
        let shared = Arc::new(lock);
        let mut lock = {
            let Poll::Ready(mut w) = poll(&mut Box::pin(Arc::clone(&shared).write_owned())) else {
                panic!("the lock was free");
            };
            w.push(3);
            drop(w);
            Arc::try_unwrap(shared).unwrap()
        };
        lock.get_mut().push(4);
        assert_eq!(lock.into_inner(), [1, 2, 3, 4]);
    }
}
