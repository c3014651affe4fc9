//! The one place the crate imports its synchronization primitives from.
//!
//! Under `cfg(loom)` locks, atomics, cells and threads come from
//! [loom](https://docs.rs/loom), which explores every interleaving of a
//! model; otherwise from std. Code elsewhere in the crate never names
//! `std::sync` locks or atomics directly, so a loom model sees every access
//! that matters.
//!
//! The std side repeats the executor's `loom.rs` (a `duplicates` pair,
//! left): STYLE.md gives each crate with atomics its own private shim, and
//! the executor depends on no other weft crate.

#[cfg(all(test, loom))]
pub(crate) use loom::{
    cell::UnsafeCell,
    sync::{Arc, Mutex, MutexGuard, atomic},
    thread,
};

#[cfg(not(all(test, loom)))]
#[allow(unused_imports)] // Arc is used by some modules only
pub(crate) use std::{
    sync::{Arc, Mutex, MutexGuard, atomic},
    thread,
};

#[cfg(not(all(test, loom)))]
pub(crate) use self::std_cell::UnsafeCell;

#[cfg(not(all(test, loom)))]
mod std_cell {
    /// std's `UnsafeCell` with loom's closure-based access API.
    #[derive(Debug)]
    #[repr(transparent)]
    pub(crate) struct UnsafeCell<T: ?Sized>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(value: T) -> UnsafeCell<T> {
            UnsafeCell(std::cell::UnsafeCell::new(value))
        }

        pub(crate) fn into_inner(self) -> T {
            self.0.into_inner()
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
/// The crate never wakes or drops a waker, nor drops a message, while it
/// holds one of its own locks (in `sync`; a waker's drop may call back into
/// the primitive). Two kinds of user code do run under them: cloning a
/// waker, and broadcast's `T::clone`, which runs before any state changes.
/// So a poisoned lock still guards consistent data.
pub(crate) fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}
