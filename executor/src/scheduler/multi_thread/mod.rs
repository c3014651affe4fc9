//! The work-stealing scheduler: N workers, each with a local run queue.
//!
//! ```text
//!   spawn / wake from outside ──> [ injection queue ] <── overflow of full local queues
//!                                     │ (batches)
//!       ┌─────────────────────────────┼─────────────────────────────┐
//!       v                             v                             v
//!   worker 0                      worker 1            …         worker N-1
//!   LIFO slot + local queue       LIFO slot + local queue        …
//!          <──────── an idle worker steals half of a random victim's queue
//! ```
//!
//! * A task woken by the task running on a worker goes to that worker's
//!   **LIFO slot** and runs next, while its data is still in cache (message
//!   passing ping-pong stays on one core). The previous occupant moves to the
//!   back of the local queue. The slot is bounded: after a few LIFO polls in a
//!   row it is bypassed until the next tick, so two tasks waking each other
//!   cannot starve the queue.
//! * A task that wakes itself while it runs goes to the **back** of the local
//!   queue instead; alone there, it wakes no other worker (tokio wakes one).
//!   One that calls `yield_now` waits, off every queue, until the worker
//!   next gives the driver a turn (see `scheduler::defer`), then goes to the
//!   back too, and the batch of them looks for an idle worker once.
//! * Every `global_queue_interval` ticks a worker takes from the **injection
//!   queue** first, even with local work, so remote work is never starved.
//! * Idle workers **search** (steal, then check the injection queue) before
//!   they park; wake-ups are rationed by `idle.rs` so that at most as many
//!   workers wake as there is work.
//! * Every `event_interval` ticks a worker lets the driver dispatch ready I/O
//!   without blocking, so a busy runtime still sees its sockets and timers;
//!   so does a worker left with only yielded tasks, and the thread inside
//!   `block_on` every `event_interval` polls (of its future and of tasks).
//! * The thread inside `block_on` **runs tasks from the injection queue**
//!   while its future waits (see `block_on.rs`), so that a future waiting
//!   for a reply from a task it just woke gets it without either thread
//!   going to sleep.

mod block_on;
mod idle;
#[allow(unsafe_code)] // the ring buffer's slots: see its protocol
pub(crate) mod queue;
mod tune;
mod worker;

#[cfg(all(test, loom))]
mod tests;

pub(crate) use self::block_on::BlockOnCore;
pub(crate) use self::worker::Core;

use self::idle::Idle;
use self::queue::{Overflow, Steal};
use super::Config;
use super::inject::Inject;
use crate::blocking;
use crate::context;
use crate::loom::atomic::{AtomicBool, Ordering};
use crate::loom::wait_while_until;
use crate::park::{DriverSlot, Park, Parker};
use crate::scheduler;
use crate::task::registry::Registry;
use crate::task::{JoinHandle, Notified, Schedule, Task};
use crate::util::cache_padded::CachePadded;
use std::fmt;
use std::future::Future;
use std::io;
// The scheduler as a whole runs on real threads and is not loom-modelled
// (its lock-free parts are, one by one): its handle, worker bookkeeping and
// shutdown wait use std directly.
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

/// A task of this scheduler, as queued.
pub(crate) type Runnable = Notified<Arc<Handle>>;

/// What the workers share.
pub(crate) struct Handle {
    /// Padded: each worker's parker and queue head are written by others.
    remotes: Box<[CachePadded<Remote>]>,
    inject: Inject<Runnable>,
    idle: Idle,
    registry: Registry<Arc<Handle>>,
    pub(crate) driver: DriverSlot,
    pub(crate) blocking: blocking::Spawner,
    pub(super) config: Config,
    shutdown: AtomicBool,
    /// How many worker threads have not yet finished shutting down.
    running: Mutex<usize>,
    all_exited: Condvar,
    #[cfg(test)]
    pub(crate) counts: Counts,
}

/// What the workers did, counted for the tests that keep yields cheap (test
/// builds only). Plain std atomics: counters read after the fact, not a
/// protocol loom would need to see.
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct Counts {
    /// Calls of `notify_parked`: each reads and writes the idle state.
    pub(crate) notifies: std::sync::atomic::AtomicUsize,
    /// Times a worker woke the tasks that yielded since the driver's turn.
    pub(crate) deferred_drains: std::sync::atomic::AtomicUsize,
}

/// What other threads may touch of one worker.
struct Remote {
    steal: Steal<Runnable>,
    parker: Parker,
}

/// The worker threads of one runtime.
pub(crate) struct MultiThread {
    threads: Mutex<Vec<thread::JoinHandle<()>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl MultiThread {
    /// Starts `num_workers` worker threads.
    pub(crate) fn launch(
        num_workers: usize,
        config: Config,
        driver: Option<Arc<dyn Park>>,
        blocking: blocking::Spawner,
        thread_name: &blocking::ThreadNameFn,
        stack_size: Option<usize>,
        hooks: &blocking::ThreadHooks,
    ) -> io::Result<(MultiThread, Arc<Handle>)> {
        let mut locals = Vec::with_capacity(num_workers);
        let mut remotes = Vec::with_capacity(num_workers);
        for _ in 0..num_workers {
            let (steal, local) = queue::local();
            locals.push(local);
            remotes.push(CachePadded(Remote {
                steal,
                parker: Parker::new(),
            }));
        }
        let handle = Arc::new(Handle {
            remotes: remotes.into_boxed_slice(),
            inject: Inject::new(),
            idle: Idle::new(num_workers),
            registry: Registry::new(num_workers * 16),
            driver: DriverSlot::new(driver, num_workers),
            blocking,
            config,
            shutdown: AtomicBool::new(false),
            running: Mutex::new(num_workers),
            all_exited: Condvar::new(),
            #[cfg(test)]
            counts: Counts::default(),
        });
        let runtime = MultiThread {
            threads: Mutex::new(Vec::with_capacity(num_workers)),
        };
        for (index, local) in locals.into_iter().enumerate() {
            let name = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| thread_name()));
            let Ok(name) = name else {
                *lock(&handle.running) -= num_workers - index;
                runtime.shutdown(&handle, None);
                return Err(io::Error::other("the thread name function panicked"));
            };
            let mut builder = thread::Builder::new().name(name);
            if let Some(size) = stack_size {
                builder = builder.stack_size(size);
            }
            let worker_handle = handle.clone();
            let hooks = hooks.clone();
            match builder.spawn(move || hooks.wrap(|| worker::run(worker_handle, index, local))) {
                Ok(thread) => lock(&runtime.threads).push(thread),
                Err(err) => {
                    // Workers never started count as exited.
                    *lock(&handle.running) -= num_workers - index;
                    runtime.shutdown(&handle, None);
                    return Err(err);
                }
            }
        }
        Ok((runtime, handle))
    }

    /// Signals shutdown and waits up to `timeout` for the workers to cancel
    /// every task and exit. Returns true if they all did in time.
    pub(crate) fn shutdown(&self, handle: &Arc<Handle>, timeout: Option<Duration>) -> bool {
        handle.begin_shutdown();
        let threads = std::mem::take(&mut *lock(&self.threads));
        let me = thread::current().id();
        if threads.iter().any(|t| t.thread().id() == me) {
            // Dropped from one of our own workers: waiting would deadlock.
            // The workers finish shutting down on their own.
            return false;
        }
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let running = wait_while_until(&handle.all_exited, lock(&handle.running), deadline, |running| {
            *running > 0
        });
        let all_exited = *running == 0;
        drop(running);
        if all_exited {
            for thread in threads {
                // Workers catch task panics; a worker thread never panics.
                let _ = thread.join();
            }
            // Anything spawned while the workers were leaving was cancelled
            // on the spot (the registry is closed); drop what is still queued.
            handle.registry.close_and_shutdown_all(0, true);
            handle.inject.drain();
        }
        all_exited
    }
}

impl Handle {
    pub(crate) fn spawn<F>(me: &Arc<Handle>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        me.registry.spawn(future, me.clone(), |notified| {
            me.schedule_task(notified, false);
        })
    }

    /// Queues a task: on this worker if we are one of ours (LIFO slot unless
    /// it yielded), else on the injection queue.
    fn schedule_task(self: &Arc<Handle>, task: Runnable, is_yield: bool) {
        let mut task = Some(task);
        context::with_core(|core| match core {
            Some(scheduler::Core::MultiThread(core)) if core.belongs_to(self) => {
                let task = task.take().expect("taken once");
                core.schedule_local(self, task, is_yield);
            }
            // Still the remote road, below; the thread notes the hand-off.
            Some(scheduler::Core::BlockOn(core)) => core.note_hand_off(self),
            _ => {}
        });
        if let Some(task) = task {
            self.push_remote(task);
            self.notify_parked();
        }
    }

    fn push_remote(&self, task: Runnable) {
        // Closed means shut down: the task was cancelled; drop the reference.
        if let Err(task) = self.inject.push(task) {
            drop(task);
        }
    }

    /// Wakes a sleeping worker if there is work and nobody searching for it.
    pub(super) fn notify_parked(&self) {
        #[cfg(test)]
        self.counts
            .notifies
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Some(index) = self.idle.worker_to_notify() {
            self.remotes[index].parker.unpark(&self.driver);
        }
    }

    /// Called by the last searcher as it parks: wakes someone if work
    /// arrived in between.
    pub(super) fn notify_if_work_pending(&self) {
        let pending = self.remotes.iter().any(|r| !r.steal.is_empty()) || !self.inject.is_empty();
        if pending {
            self.notify_parked();
        }
    }

    fn begin_shutdown(&self) {
        if !self.inject.close() {
            return;
        }
        self.shutdown.store(true, Ordering::SeqCst);
        for remote in self.remotes.iter() {
            remote.parker.unpark(&self.driver);
        }
    }

    fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    fn worker_exited(&self) {
        let mut running = lock(&self.running);
        *running -= 1;
        if *running == 0 {
            self.all_exited.notify_all();
        }
    }

    /// Live tasks (for tests and `Debug`).
    pub(crate) fn num_tasks(&self) -> usize {
        self.registry.len()
    }
}

impl Schedule for Arc<Handle> {
    fn schedule(&self, task: Runnable) {
        self.schedule_task(task, false);
    }

    fn yield_now(&self, task: Runnable) {
        self.schedule_task(task, true);
    }

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        self.registry.remove(task)
    }
}

impl Overflow<Runnable> for Handle {
    fn push(&self, task: Runnable) {
        self.push_remote(task);
    }

    fn push_batch(&self, tasks: &mut dyn Iterator<Item = Runnable>) {
        self.inject.push_batch(tasks);
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MultiThread")
            .field("workers", &self.remotes.len())
            .field("injected", &self.inject.len())
            .field("idle", &self.idle)
            .field("shutdown", &self.is_shutdown())
            .finish()
    }
}

impl fmt::Debug for MultiThread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MultiThread")
            .field("threads", &lock(&self.threads).len())
            .finish()
    }
}
