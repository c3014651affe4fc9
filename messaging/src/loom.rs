//! The one place the crate imports its locks and atomics from.
//!
//! Under `cfg(loom)` they come from [loom](https://docs.rs/loom), which
//! explores every interleaving of a model (`events/loom_events.rs`);
//! otherwise from std. Code elsewhere in the crate never names `std::sync`
//! locks or atomics directly, so a loom model sees every access that
//! matters.

#[cfg(all(test, loom))]
pub(crate) use loom::sync::{Mutex, MutexGuard, atomic};

#[cfg(not(all(test, loom)))]
pub(crate) use std::sync::{Mutex, MutexGuard, atomic};

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
