//! The one place the crate imports its locks and atomics from.
//!
//! Under `cfg(loom)` they come from [loom](https://docs.rs/loom), which
//! explores every interleaving of a model (`events/loom_events.rs`);
//! otherwise from std. Code elsewhere in the crate never names `std::sync`
//! locks or atomics directly, so a loom model sees every access that
//! matters. std's `UnsafeCell` is wrapped to offer loom's closure-based
//! `with` / `with_mut` (the executor's and the primitives' shims do the
//! same: `duplicates` pairs, left, as each crate keeps its own private
//! shim, STYLE.md).

#[cfg(all(test, loom))]
pub(crate) use loom::{
    cell::UnsafeCell,
    sync::{Mutex, MutexGuard, atomic},
};

#[cfg(not(all(test, loom)))]
pub(crate) use std::sync::{Mutex, MutexGuard, atomic};

#[cfg(not(all(test, loom)))]
pub(crate) use self::std_cell::UnsafeCell;

#[cfg(not(all(test, loom)))]
mod std_cell {
    /// std's `UnsafeCell` with loom's access API, so the one user (the
    /// memory log's rows) compiles both ways.
    #[derive(Debug)]
    #[repr(transparent)]
    pub(crate) struct UnsafeCell<T: ?Sized>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(value: T) -> UnsafeCell<T> {
            UnsafeCell(std::cell::UnsafeCell::new(value))
        }
    }

    impl<T: ?Sized> UnsafeCell<T> {
        /// Runs `f` with a shared raw pointer to the contents.
        #[inline(always)]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        /// Runs `f` with a mutable raw pointer to the contents.
        #[inline(always)]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

/// Locks `mutex`, ignoring poisoning.
///
/// The crate never wakes or drops a waker while it holds one of its own
/// locks (a waker's drop may call back into the queue or the bus); the user
/// code that does run under them (cloning a waker, a message's `clone`)
/// runs before any state changes. So a poisoned lock still guards
/// consistent data.
pub(crate) fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}
