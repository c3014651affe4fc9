//! The one place the crate imports its locks from.
//!
//! The log holds no atomics: its state sits behind one `Mutex` with a
//! `Condvar` for blocking waiters, so there is no lock-free protocol for
//! loom to explore yet. Code elsewhere names these, never `std::sync`'s, so
//! a loom shim can replace them here when one is needed.

pub(crate) use std::sync::{Condvar, Mutex, MutexGuard};

/// Locks `mutex`, ignoring poisoning: the crate changes its state only in
/// steps that cannot panic halfway (no user code runs under its locks), so a
/// poisoned lock still guards consistent data.
pub(crate) fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// Waits on `condvar`, ignoring poisoning as [`lock`] does.
pub(crate) fn wait<'a, T>(condvar: &Condvar, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
    match condvar.wait(guard) {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}
