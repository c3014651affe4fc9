//! Small pieces the queue and the bus share.

use std::task::Waker;

/// Wakers gathered under a lock, to wake once it is released. The first is
/// kept inline, so the common case of one waiter woken allocates nothing.
#[derive(Debug, Default)]
pub(crate) struct Wakers {
    first: Option<Waker>,
    rest: Vec<Waker>,
}

impl Wakers {
    pub(crate) const fn new() -> Wakers {
        Wakers {
            first: None,
            rest: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, waker: Waker) {
        match self.first {
            None => self.first = Some(waker),
            Some(_) => self.rest.push(waker),
        }
    }

    /// Wakes them all; call it with no lock held.
    pub(crate) fn wake_all(self) {
        self.first.into_iter().chain(self.rest).for_each(Waker::wake);
    }
}

/// Adds `waker` to `waiters` unless a waker for the same task is there.
pub(crate) fn add_waker(waiters: &mut Vec<Waker>, waker: &Waker) {
    if !waiters.iter().any(|w| w.will_wake(waker)) {
        waiters.push(waker.clone());
    }
}

/// Keeps `waker` in `slot`, cloning only if it would wake another task.
/// Returns the waker it displaced, for the caller to drop once it has
/// released its lock: a waker's drop is user code that may call back in.
#[must_use = "drop the displaced waker after releasing the lock"]
pub(crate) fn replace_waker(slot: &mut Option<Waker>, waker: &Waker) -> Option<Waker> {
    match slot {
        Some(old) if old.will_wake(waker) => None,
        _ => slot.replace(waker.clone()),
    }
}

/// The message of a caught panic, when it has one.
pub(crate) fn panic_message(panic: Box<dyn std::any::Any + Send>) -> String {
    match panic.downcast::<String>() {
        Ok(message) => *message,
        Err(panic) => match panic.downcast::<&'static str>() {
            Ok(message) => (*message).to_string(),
            Err(_) => "a panic with a non-string payload".to_string(),
        },
    }
}
