//! Small pieces the queue and the bus share.

use std::task::Waker;

// Shared with weft-primitives, not copied: see its `util`.
pub(crate) use weft_primitives::__private::{Wakers, panic_message, replace_waker};

/// Adds `waker` to `waiters` unless a waker for the same task is there.
pub(crate) fn add_waker(waiters: &mut Vec<Waker>, waker: &Waker) {
    if !waiters.iter().any(|w| w.will_wake(waker)) {
        waiters.push(waker.clone());
    }
}
