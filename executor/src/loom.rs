//! The one place the executor imports its synchronization primitives from.
//!
//! Under `cfg(loom)` every atomic, lock, cell and thread comes from
//! [loom](https://docs.rs/loom), which explores every interleaving of a model;
//! otherwise they come from std. Code elsewhere in the crate never names
//! `std::sync::atomic` directly, so a loom model sees every access that matters.
//!
//! std's `UnsafeCell` is wrapped to offer loom's closure-based `with` /
//! `with_mut` API, so the same code compiles both ways.
//!
//! The std side repeats weft-primitives' `loom.rs` (a `duplicates` pair,
//! left): each crate with atomics has its own private shim (STYLE.md).

#[cfg(all(test, loom))]
pub(crate) use loom::{
    cell::UnsafeCell,
    sync::{Arc, Condvar, Mutex, MutexGuard, atomic},
    thread,
};

#[cfg(not(all(test, loom)))]
pub(crate) use std::sync::{Arc, Condvar, Mutex, MutexGuard, atomic};

#[cfg(not(all(test, loom)))]
pub(crate) use self::std_cell::UnsafeCell;

#[cfg(not(all(test, loom)))]
mod std_cell {
    /// std's `UnsafeCell` with loom's access API.
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
/// The executor never panics while it holds one of its own locks, and user code
/// never runs under them, so a poisoned lock still guards consistent data.
pub(crate) fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// Waits on `condvar` while `pending` holds for the guarded value, until
/// `deadline` (`None`: for ever); returns the guard, for the caller to read
/// whether `pending` still holds. Spurious wakes and poisoning are absorbed.
///
/// This one is std's on purpose, under `cfg(loom)` too: the runtime's
/// shutdown waits (the blocking pool's, the multi-thread scheduler's) wait
/// for real OS threads with a real deadline, which loom cannot model; their
/// callers use std's primitives directly and say so.
pub(crate) fn wait_while_until<'a, T>(
    condvar: &std::sync::Condvar,
    mut guard: std::sync::MutexGuard<'a, T>,
    deadline: Option<std::time::Instant>,
    mut pending: impl FnMut(&mut T) -> bool,
) -> std::sync::MutexGuard<'a, T> {
    while pending(&mut guard) {
        guard = match deadline {
            None => condvar.wait(guard).unwrap_or_else(|p| p.into_inner()),
            Some(deadline) => {
                let now = std::time::Instant::now();
                if now >= deadline {
                    break;
                }
                match condvar.wait_timeout(guard, deadline - now) {
                    Ok((guard, _)) => guard,
                    Err(poisoned) => poisoned.into_inner().0,
                }
            }
        };
    }
    guard
}
