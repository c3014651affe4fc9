//! Deferred wakers: what `yield_now` hands the scheduler instead of waking.
//!
//! A task that yields wants the others to run first, and that includes the
//! tasks the driver is about to wake: I/O that became ready and timers that
//! came due. Woken at once, a yielding task would be queued before those
//! wakes exist, and a loop of yields would run many times between two
//! driver turns. So a yield on a thread that runs a scheduler leaves its
//! waker here, in the scheduler's core, and the scheduler wakes it right
//! after its next turn of the driver (a non-blocking poll when other work
//! waits, see `current_thread::run` and the multi-thread worker loop).
//!
//! Only the thread holding the core touches its list, so it needs no
//! synchronization. The thread inside a multi-thread runtime's `block_on`
//! has a list for the tasks it runs (not for its own future). Off a
//! scheduler thread (a plain `block_on`, the blocking pool) there is no
//! list and the waker is woken at once.

use std::task::Waker;

/// The wakers of the tasks that yielded since the driver's last turn.
#[derive(Debug)]
pub(crate) struct Defer {
    wakers: Vec<Waker>,
}

impl Defer {
    /// Room for a few yields from the start, so that the first one does
    /// not allocate in a loop that otherwise allocates nothing.
    pub(crate) fn new() -> Defer {
        Defer {
            wakers: Vec::with_capacity(8),
        }
    }

    /// A list that allocates on its first yield: for a core made per call
    /// (the thread inside a multi-thread `block_on`), where most calls see
    /// no yield at all.
    pub(crate) fn lazy() -> Defer {
        Defer { wakers: Vec::new() }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.wakers.is_empty()
    }

    /// Keeps `waker` to wake after the next driver turn.
    pub(crate) fn push(&mut self, waker: &Waker) {
        // A future that yields twice in one poll (two branches of a join)
        // needs waking once.
        if self.wakers.last().is_some_and(|last| last.will_wake(waker)) {
            return;
        }
        self.wakers.push(waker.clone());
    }

    /// Takes the wakers out, to wake them while the core is not borrowed
    /// (waking may schedule onto it). Allocates nothing.
    pub(crate) fn take(&mut self) -> Vec<Waker> {
        std::mem::take(&mut self.wakers)
    }

    /// Gives back the emptied vector from [`take`](Defer::take), so that its
    /// capacity serves the next yields.
    pub(crate) fn restore(&mut self, emptied: Vec<Waker>) {
        debug_assert!(emptied.is_empty());
        if self.wakers.is_empty() {
            self.wakers = emptied;
        }
    }
}

/// Wakes every waker in `wakers`, leaving the vector empty.
pub(crate) fn wake_all(wakers: &mut Vec<Waker>) {
    for waker in wakers.drain(..) {
        waker.wake();
    }
}
