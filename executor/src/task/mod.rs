//! Tasks: spawned futures, their handles, and the protocol they follow.
//!
//! # The protocol
//!
//! A task is one heap allocation (see `raw.rs`) shared by several owners, each
//! holding one *reference* counted in the task's state word (`state.rs`):
//!
//! * the **registry** of the scheduler that owns the task, from spawn until the
//!   task completes, so shutdown can find and cancel every live task;
//! * each **`Notified`**: the task sitting in a run queue. At most one exists at
//!   a time (the `NOTIFIED` flag says so). Running the task consumes it;
//! * the **`JoinHandle`**, until it is dropped;
//! * each **`Waker`** clone and each **`AbortHandle`**.
//!
//! Who may touch the future or its output:
//!
//! * while the task is not `COMPLETE`, only the holder of `RUNNING`: a worker
//!   polling it, or code cancelling it (`abort`, shutdown). `RUNNING` is taken
//!   with one compare-and-swap, so a task is never polled concurrently with
//!   itself;
//! * once `COMPLETE`, the output belongs to the `JoinHandle` if `JOIN_INTEREST`
//!   was set at the moment of completion, and otherwise to the completing
//!   side, which drops it at once.
//!
//! A wake while the task runs only sets `NOTIFIED`; when the poll ends, the
//! poller sees the flag and reschedules the task itself — exactly once, however
//! many wakes arrived. A wake while the task is idle makes a `Notified` and
//! hands it to the scheduler. A wake of a complete task does nothing. So no
//! wake is lost and none is doubled; the loom models in `tests/` check this
//! under every interleaving.
//!
//! The join waker slot changes hands through `JOIN_WAKER`: while unset, the
//! `JoinHandle` owns the slot and may write it; while set, the task side may
//! read it (to wake the joiner on completion) and nobody writes it.

mod abort;
mod auto_traits;
mod error;
#[allow(unsafe_code)] // the vtable's entry points: typed access to the cell
mod harness;
mod id;
#[allow(unsafe_code)] // reads the output through the raw layer
mod join;
mod join_set;
#[allow(unsafe_code)] // spawns `!Send` tasks (`new_local_task`)
mod local_set;
#[allow(unsafe_code)] // the allocation, its layout and the vtable
mod raw;
pub(crate) mod registry;
mod spawn;
mod state;
#[allow(unsafe_code)] // structural pinning of the wrapped future
mod unconstrained;
#[allow(unsafe_code)] // the `RawWakerVTable` over a task pointer
mod waker;
mod yield_now;

#[cfg(all(test, loom))]
mod tests;

pub use self::abort::AbortHandle;
pub use self::error::JoinError;
pub(crate) use self::id::is_polled_tasks_waker;
pub use self::id::{Id, id, try_id};
pub use self::join::JoinHandle;
pub use self::join_set::JoinSet;
pub use self::local_set::LocalSet;
pub use self::spawn::{spawn, spawn_blocking, spawn_local};
pub use self::unconstrained::{Unconstrained, unconstrained};
pub use self::yield_now::yield_now;
pub use crate::coop::consume_budget;

pub(crate) use self::raw::Header;

use self::raw::RawTask;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;

// ANCHOR: schedule-trait
/// What a task needs from the scheduler that owns it.
pub(crate) trait Schedule: Send + Sync + Sized + 'static {
    /// Queues the task to be polled.
    fn schedule(&self, task: Notified<Self>);

    /// Queues a task that was woken while it ran (it yielded): by default at
    /// the back of the queue, like any other wake.
    fn yield_now(&self, task: Notified<Self>) {
        self.schedule(task);
    }

    /// The task completed: removes it from the registry, returning the
    /// registry's reference if it still held one.
    fn release(&self, task: &Task<Self>) -> Option<Task<Self>>;
}
// ANCHOR_END: schedule-trait

/// One owned reference to a task.
pub(crate) struct Task<S: 'static> {
    raw: RawTask,
    _scheduler: PhantomData<S>,
}

/// A task that is due to be polled: the reference a run queue holds.
pub(crate) struct Notified<S: 'static>(Task<S>);

/// Allocates a task for a `Send` future. Returns the registry's reference,
/// the first `Notified` and the `JoinHandle`.
#[allow(unsafe_code)] // a `Send` future meets `new_local_task`'s contract
pub(crate) fn new_task<F, S>(future: F, scheduler: S) -> (Task<S>, Notified<S>, JoinHandle<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: the future and its output are `Send`, so every thread may poll,
    // drop or read them.
    unsafe { new_local_task(future, scheduler) }
}

/// Allocates a task whose future need not be `Send`.
///
/// # Safety
///
/// The scheduler must poll and drop the task's future only on the thread
/// that calls this function (or leak it), and the output may only leave that
/// thread if it is `Send`, which `JoinHandle<T>: Send` only when `T: Send`
/// already ensures.
#[allow(unsafe_code)] // the contract of every `!Send` spawn
pub(crate) unsafe fn new_local_task<F, S>(
    future: F,
    scheduler: S,
) -> (Task<S>, Notified<S>, JoinHandle<F::Output>)
where
    F: Future + 'static,
    F::Output: 'static,
    S: Schedule,
{
    let raw = RawTask::new(future, scheduler);
    let task = Task::from_raw(raw);
    let notified = Notified(Task::from_raw(raw));
    let join = JoinHandle::new(raw);
    (task, notified, join)
}

impl<S: 'static> Task<S> {
    /// Wraps a reference the caller owns.
    fn from_raw(raw: RawTask) -> Task<S> {
        Task {
            raw,
            _scheduler: PhantomData,
        }
    }

    pub(crate) fn header(&self) -> &Header {
        self.raw.header()
    }

    /// True if both refer to the same task.
    pub(crate) fn ptr_eq(&self, other: &Task<S>) -> bool {
        self.raw == other.raw
    }

    /// Cancels the task (shutdown), consuming this reference.
    pub(crate) fn shutdown(self) {
        let this = ManuallyDrop::new(self);
        this.raw.shutdown();
    }

    /// Completes the task as cancelled without dropping its future (a local
    /// task on the wrong thread), consuming this reference.
    pub(crate) fn leak_future(self) {
        let this = ManuallyDrop::new(self);
        this.raw.leak_future();
    }
}

impl<S: 'static> Notified<S> {
    /// Polls the task once, consuming this reference.
    pub(crate) fn run(self) {
        let this = ManuallyDrop::new(self);
        this.0.raw.poll();
    }

    /// Cancels a task that has not started (the blocking pool's shutdown),
    /// consuming this reference.
    pub(crate) fn shutdown(self) {
        let this = ManuallyDrop::new(self);
        this.0.raw.shutdown();
    }
}

impl<S: 'static> Drop for Task<S> {
    fn drop(&mut self) {
        self.raw.drop_reference();
    }
}

impl<S: 'static> fmt::Debug for Task<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Task").field(&self.raw).finish()
    }
}

impl<S: 'static> fmt::Debug for Notified<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Notified").field(&self.0.raw).finish()
    }
}
