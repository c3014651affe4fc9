//! Machinery shared by the primitives.

#[cfg(all(test, not(loom)))]
pub(crate) mod test_support;
pub(crate) mod wait_list;

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// Wakers gathered under a lock, to wake once it is released. The first is
/// kept inline, so the common case of one waiter woken allocates nothing.
#[derive(Debug, Default)]
pub struct Wakers {
    first: Option<Waker>,
    rest: Vec<Waker>,
}

impl Wakers {
    /// None gathered yet.
    pub const fn new() -> Wakers {
        Wakers {
            first: None,
            rest: Vec::new(),
        }
    }

    /// True if nothing was gathered (the first slot fills first).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    /// Gathers `waker`, to wake with the others.
    pub fn push(&mut self, waker: Waker) {
        match self.first {
            None => self.first = Some(waker),
            Some(_) => self.rest.push(waker),
        }
    }

    /// How many wakers are gathered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.len()
    }

    /// Wakes them all; call it with no lock held.
    #[inline]
    pub fn wake_all(self) {
        // Most calls have none to wake: return without a call, or reading
        // the gathered list back (`rest` is empty while `first` is).
        if self.first.is_some() {
            self.wake_gathered();
        }
    }

    fn wake_gathered(self) {
        self.first.into_iter().chain(self.rest).for_each(Waker::wake);
    }
}

/// Keeps `waker` in `slot`, cloning only if it would wake another task: a
/// task that polls again costs no clone. Returns the waker it displaced.
///
/// Dropping a waker runs user code, which may call back into the primitive
/// (a waker whose drop sends on the same channel): the caller drops the
/// displaced one only after it has released its lock.
#[must_use = "drop the displaced waker after releasing the lock"]
pub fn replace_waker(slot: &mut Option<Waker>, waker: &Waker) -> Option<Waker> {
    match slot {
        Some(old) if old.will_wake(waker) => None,
        _ => slot.replace(waker.clone()),
    }
}

/// Releases `guard`, then drops `displaced`: a waker's drop is user code
/// that may call back into the primitive, so it never runs under the lock.
pub(crate) fn unlock_then_drop<G>(guard: G, displaced: Option<Waker>) {
    drop(guard);
    drop(displaced);
}

/// Runs `future` to completion on this thread, parking between polls: the
/// `blocking_*` methods of the channels, for synchronous callers, and the
/// loom models (under loom the thread is a loom thread; the waker keeps one
/// vtable, so `will_wake` holds between polls).
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    use crate::loom::thread;
    struct Unpark(thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        thread::park();
    }
}

/// The message of a caught panic, when it has one.
pub fn panic_message(panic: Box<dyn std::any::Any + Send>) -> String {
    match panic.downcast::<String>() {
        Ok(message) => *message,
        Err(panic) => panic_text(&*panic).to_string(),
    }
}

/// The text of a caught panic's payload, borrowed: a `String`'s or a
/// `&'static str`'s, else a fixed phrase.
pub(crate) fn panic_text(panic: &(dyn std::any::Any + Send)) -> &str {
    match (
        panic.downcast_ref::<String>(),
        panic.downcast_ref::<&'static str>(),
    ) {
        (Some(s), _) => s,
        (None, Some(s)) => s,
        (None, None) => "a panic with a non-string payload",
    }
}
