//! The thread inside `block_on` on a multi-thread runtime: it runs tasks
//! while its future waits.
//!
//! A `main` that drives a client in `block_on` sends a request to a task
//! and waits for the reply. If this thread only slept meanwhile, each round
//! trip would wake a worker to run the task and wake this thread back:
//! two threads falling asleep and being woken. So, after each poll of its
//! future that returns `Pending`, the thread takes **one** task from the
//! **injection queue** and runs it; if that woke the future, the future is
//! polled again (and one more task may follow), else the thread sleeps as
//! before. A request and its reply then stay on this thread, as under
//! smol's `block_on(executor.run(future))`; tokio's `block_on` thread only
//! sleeps.
//!
//! Why one task per poll, not every queued task while the future waits as
//! smol does: a task that keeps itself queued (a `yield_now` loop) goes
//! back to the injection queue with a worker notified at each yield (see
//! below). Run back to back here, it would be popped again by this thread
//! before the notified worker got to it, and bounce, waking an idle worker
//! per yield. With one task per poll it runs here once and moves to that
//! worker.
//!
//! What stays as it was:
//!
//! * **Where tasks go.** A spawn or wake on this thread (from the future or
//!   from a task it runs) takes the remote road, as before: the injection
//!   queue, and a sleeping worker notified. The thread has no LIFO slot and
//!   no local queue, nothing another thread could not reach, so a future
//!   that wakes a task and then blocks its thread (on a std channel, say)
//!   leaves that task to a worker. Whoever pops it first runs it.
//! * **The future first.** After its task the thread checks its future's
//!   waker; if it fired, the future is polled before any other task.
//! * **Fairness and the budget.** Each task runs with a fresh cooperative
//!   budget. Polls of tasks count with the future's towards
//!   `event_interval`, after which the thread gives the driver a turn.
//! * **`yield_now`.** A task that yields here leaves its waker in this
//!   core's `defer` list, as it would on a worker, and the thread gives the
//!   driver a turn right after that task's poll, then wakes it (back to the
//!   injection queue). It is never kept across another poll: the next task,
//!   or the future, might block the thread, and a yielder kept here would be
//!   out of every worker's reach. As on a worker, a turn finds the driver
//!   taken if another thread waits in it, and that thread dispatches what
//!   becomes ready.
//! * **Panics** are caught by the task's harness, as on a worker; a nested
//!   `block_on` inside such a task panics, since the thread is driving.
//! * **Shutdown.** Once the runtime shuts down the thread takes no more
//!   tasks; the workers cancel what is queued.
//!
//! Only this thread touches its core, through the thread-local context, so
//! nothing here is shared or atomic beyond the injection queue's lock.

use super::Handle;
use crate::context;
use crate::scheduler::{self, defer::Defer};
use std::sync::Arc;
use std::task::Waker;

// ANCHOR: block-on-core
/// The scheduling state of the thread inside a multi-thread `block_on`: the
/// tasks that yielded while it ran them.
#[derive(Debug)]
pub(crate) struct BlockOnCore {
    defer: Defer,
    /// A task from the injection queue is being polled. Only its yields
    /// are kept: the tasks of a `LocalSet` that the future drives yield
    /// inside the future's poll, and are woken at once as before.
    running_task: bool,
    /// The future, in its last poll, spawned or woke a task of this
    /// runtime: the thread may take one task after that poll.
    handed_off: bool,
    /// The runtime's address, to tell its tasks from another runtime's.
    owner: *const Handle,
}

impl BlockOnCore {
    pub(crate) fn new(owner: &Arc<Handle>) -> BlockOnCore {
        BlockOnCore {
            defer: Defer::lazy(),
            running_task: false,
            handed_off: false,
            owner: Arc::as_ptr(owner),
        }
    }

    /// Notes that a task of `handle` was queued from this thread; it counts
    /// as a hand-off if the future queued it, not a task this thread runs.
    pub(crate) fn note_hand_off(&mut self, handle: &Arc<Handle>) {
        if !self.running_task && std::ptr::eq(self.owner, Arc::as_ptr(handle)) {
            self.handed_off = true;
        }
    }

    /// Keeps a yielding task's waker until the thread's next driver turn,
    /// if it is the task this thread runs; returns false otherwise (the
    /// caller wakes it at once).
    pub(crate) fn defer(&mut self, waker: &Waker) -> bool {
        if self.running_task {
            self.defer.push(waker);
        }
        self.running_task
    }

    pub(crate) fn forget_hand_off(&mut self) {
        self.handed_off = false;
    }

    pub(crate) fn has_deferred(&self) -> bool {
        !self.defer.is_empty()
    }

    /// Takes the kept wakers out, to wake them while the core is not
    /// borrowed.
    pub(crate) fn take_deferred(&mut self) -> Vec<Waker> {
        self.defer.take()
    }

    /// Gives back the emptied vector from `take_deferred`.
    pub(crate) fn restore_deferred(&mut self, emptied: Vec<Waker>) {
        self.defer.restore(emptied);
    }
}
// ANCHOR_END: block-on-core

impl Handle {
    // ANCHOR: run-injected
    /// Runs one task from the injection queue on the thread inside
    /// `block_on`, while its future waits. Returns false if there was none
    /// to run, or the runtime is shutting down.
    pub(crate) fn run_injected(&self) -> bool {
        if !take_hand_off() || self.is_shutdown() {
            return false;
        }
        let Some(task) = self.inject.pop() else {
            return false;
        };
        set_running_task(true);
        // The harness catches a panicking poll: this returns either way.
        crate::coop::with_budget(|| task.run());
        set_running_task(false);
        true
    }
    // ANCHOR_END: run-injected
}

/// Whether the future handed a task off in its last poll; clears it.
fn take_hand_off() -> bool {
    context::with_core(|core| match core {
        Some(scheduler::Core::BlockOn(core)) => std::mem::take(&mut core.handed_off),
        _ => false,
    })
}

fn set_running_task(running: bool) {
    context::with_core(|core| {
        if let Some(scheduler::Core::BlockOn(core)) = core {
            core.running_task = running;
        }
    });
}
