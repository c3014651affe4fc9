//! The two schedulers and what they share.
//!
//! * [`current_thread`]: every task on the thread that calls `block_on`; no
//!   synchronization on the hot path, and `!Send` tasks via `spawn_local`.
//! * [`multi_thread`]: a work-stealing pool of worker threads.
//!
//! [`Handle`] is how the rest of the crate reaches either one, and
//! [`defer`] is how `yield_now` reaches the scheduler running this thread.

#[allow(unsafe_code)] // spawns `!Send` tasks (`task::new_local_task`)
pub(crate) mod current_thread;
pub(crate) mod defer;
pub(crate) mod inject;
pub(crate) mod multi_thread;

#[cfg(all(test, loom))]
mod tests;

use crate::blocking;
use crate::context;
use crate::park::DriverSlot;
use crate::task::JoinHandle;
use std::future::Future;
use std::sync::Arc;
use std::task::Waker;

/// Tuning shared by both schedulers.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    /// Ticks between forced looks at the injection queue (the first
    /// value, if tuned).
    pub(crate) global_queue_interval: u32,
    /// Multi-thread workers tune the interval to their tasks' poll time.
    pub(crate) tune_global_queue_interval: bool,
    /// Ticks between non-blocking polls of the driver.
    pub(crate) event_interval: u32,
    /// Extra search rounds before an idle worker parks.
    pub(crate) spin_before_park: u32,
    /// The thread in a multi-thread `block_on` runs the task its future
    /// hands off.
    pub(crate) block_on_runs_tasks: bool,
}

/// A reference to one runtime's scheduler.
#[derive(Clone, Debug)]
pub(crate) enum Handle {
    CurrentThread(Arc<current_thread::Handle>),
    MultiThread(Arc<multi_thread::Handle>),
}

/// Counts one piece of work outside the workers (a queued or running
/// blocking task) as busy for as long as it lives, so that a paused clock
/// does not jump while it runs.
#[derive(Debug)]
pub(crate) struct Activity(Handle);

impl Activity {
    pub(crate) fn begin(handle: &Handle) -> Activity {
        handle.driver().begin_activity();
        Activity(handle.clone())
    }
}

impl Drop for Activity {
    fn drop(&mut self) {
        self.0.driver().end_activity();
    }
}

/// The scheduling state a driving thread holds in its context.
#[derive(Debug)]
pub(crate) enum Core {
    CurrentThread(Box<current_thread::Core>),
    MultiThread(Box<multi_thread::Core>),
    /// The thread inside a multi-thread `block_on`, which runs tasks while
    /// its future waits.
    BlockOn(multi_thread::BlockOnCore),
}

impl Handle {
    pub(crate) fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            Handle::CurrentThread(h) => current_thread::Handle::spawn(h, future),
            Handle::MultiThread(h) => multi_thread::Handle::spawn(h, future),
        }
    }

    pub(crate) fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.blocking().spawn_blocking(self, f)
    }

    /// Runs `future` to completion on this thread with the runtime entered:
    /// a current-thread runtime's tasks run here meanwhile if no other
    /// thread runs them; otherwise this thread only waits for `future`.
    ///
    /// Panics (with [`context::NESTED_BLOCK_ON`]) on a thread that already
    /// drives asynchronous work.
    #[track_caller]
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        if let Handle::CurrentThread(h) = self
            && let Some(scheduler) = h.scheduler()
        {
            return scheduler.block_on(h, future);
        }
        // A multi-thread runtime, or a current-thread one already dropped
        // (its tasks are cancelled; spawning now yields cancelled handles).
        let Some(_driving) = context::try_enter_driving() else {
            panic!("{}", context::NESTED_BLOCK_ON);
        };
        let _current = context::set_current(self.clone());
        crate::block_on::run_until_ready(future, Some(self))
    }

    /// Lets the driver dispatch what is ready, from a thread that is no
    /// worker (inside a multi-thread `block_on`). A worker that went to
    /// sleep meanwhile found the driver taken and sleeps on its condvar;
    /// one is woken so that it parks again, in the driver, and I/O and
    /// timers are not left without a thread waiting for them.
    fn poll_driver_off_worker(&self) {
        if self.driver().poll_ready()
            && let Handle::MultiThread(h) = self
        {
            h.notify_parked();
        }
    }

    /// The core of a thread entering a multi-thread `block_on`, which runs
    /// tasks while its future waits; none for a current-thread runtime.
    pub(crate) fn block_on_core(&self) -> Option<Core> {
        match self {
            Handle::CurrentThread(_) => None,
            Handle::MultiThread(h) if h.config.block_on_runs_tasks => {
                Some(Core::BlockOn(multi_thread::BlockOnCore::new(h)))
            }
            Handle::MultiThread(_) => None,
        }
    }

    /// Runs one queued task on the thread inside a multi-thread `block_on`
    /// while its future waits; false if there was none (and always on a
    /// current-thread runtime, whose tasks only run where its core is).
    pub(crate) fn run_task_off_worker(&self) -> bool {
        match self {
            Handle::CurrentThread(_) => false,
            Handle::MultiThread(h) => h.run_injected(),
        }
    }

    /// Gives the driver a turn from the thread inside a multi-thread
    /// `block_on`, then wakes the tasks that yielded while it ran them.
    pub(crate) fn turn_driver_off_worker(&self) {
        self.poll_driver_off_worker();
        wake_block_on_yields();
    }

    /// Scheduler ticks between non-blocking turns of the driver.
    pub(crate) fn event_interval(&self) -> u32 {
        match self {
            Handle::CurrentThread(h) => h.config.event_interval,
            Handle::MultiThread(h) => h.config.event_interval,
        }
    }

    /// The runtime's driver, and its count of busy threads.
    pub(crate) fn driver(&self) -> &DriverSlot {
        match self {
            Handle::CurrentThread(h) => &h.driver,
            Handle::MultiThread(h) => &h.driver,
        }
    }

    fn blocking(&self) -> &blocking::Spawner {
        match self {
            Handle::CurrentThread(h) => &h.blocking,
            Handle::MultiThread(h) => &h.blocking,
        }
    }

    /// Live tasks of this runtime (spawned, not yet complete).
    pub(crate) fn num_tasks(&self) -> usize {
        match self {
            Handle::CurrentThread(h) => h.num_tasks(),
            Handle::MultiThread(h) => h.num_tasks(),
        }
    }
}

/// What `yield_now` (and a leaf whose budget is spent) does with its
/// waker: on a thread that runs a scheduler, and if the waker is one that
/// scheduler wakes itself — the task it is polling, or its `block_on`
/// future — leave it for the scheduler to wake after its next turn of the
/// driver (see [`defer`](self::defer)); anything else is woken now. A
/// waker of some other future polled inside a task (another executor's
/// `block_on`, say) must not be kept back: that executor may block its
/// thread until the waker fires, and the scheduler's next turn would never
/// come.
pub(crate) fn defer(waker: &Waker) {
    let own_task = crate::task::is_polled_tasks_waker(waker);
    let deferred = context::with_core(|core| match core {
        Some(Core::CurrentThread(core)) if own_task || core.is_block_on_waker(waker) => {
            core.defer(waker);
            true
        }
        Some(Core::MultiThread(core)) if own_task => {
            core.defer(waker);
            true
        }
        Some(Core::BlockOn(core)) if own_task => core.defer(waker),
        _ => false,
    });
    if !deferred {
        waker.wake_by_ref();
    }
}

/// Forgets a hand-off noted before the `block_on` future's next poll (a
/// yielder woken at a driver turn, say), so that only that poll's count.
pub(crate) fn forget_hand_off() {
    context::with_core(|core| {
        if let Some(Core::BlockOn(core)) = core {
            core.forget_hand_off();
        }
    });
}

/// True if a task run by the thread inside a multi-thread `block_on` has
/// yielded since that thread's last driver turn.
pub(crate) fn has_block_on_yields() -> bool {
    context::with_core(|core| matches!(core, Some(Core::BlockOn(core)) if core.has_deferred()))
}

/// Wakes the tasks that yielded on the thread inside a multi-thread
/// `block_on` (they go to the injection queue, as its wakes do).
pub(crate) fn wake_block_on_yields() {
    let mut yielded = context::with_core(|core| match core {
        Some(Core::BlockOn(core)) => core.take_deferred(),
        _ => Vec::new(),
    });
    if yielded.is_empty() {
        return;
    }
    defer::wake_all(&mut yielded);
    context::with_core(|core| {
        if let Some(Core::BlockOn(core)) = core {
            core.restore_deferred(yielded);
        }
    });
}
