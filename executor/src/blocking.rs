//! The blocking pool: threads for work that blocks (file I/O, CPU-heavy
//! loops, calls into blocking libraries), kept away from the async workers.
//!
//! The pool starts with no threads. A task queued while no thread is idle
//! starts a new one, up to a cap; an idle thread waits for work for a
//! keep-alive period and then exits. Blocking tasks use the same task cell
//! and `JoinHandle` as async ones: the closure is wrapped in a future that
//! runs it in its first poll.
//!
//! At shutdown, queued closures that never started are cancelled (their
//! `JoinHandle`s resolve to a cancelled error); running ones cannot be
//! interrupted, and the runtime waits for them, up to the shutdown timeout.

use crate::context;
use crate::coop;
use crate::loom::wait_while_until;
use crate::scheduler::{self, Activity};
use crate::task::{self, JoinHandle, Notified, Schedule, Task};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
// Real OS threads and timed waits, which loom cannot model: the pool uses
// std's primitives directly. Its logic is plain locking, tested as such.
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

std::thread_local! {
    /// Which pool this thread belongs to (its `Inner`'s address), if any.
    static CURRENT_POOL: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn pool_id(inner: &Arc<Inner>) -> usize {
    Arc::as_ptr(inner).addr()
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Names worker and blocking threads.
pub(crate) type ThreadNameFn = std::sync::Arc<dyn Fn() -> String + Send + Sync + 'static>;

/// A hook run on each new runtime thread.
pub(crate) type ThreadHook = std::sync::Arc<dyn Fn() + Send + Sync + 'static>;

/// What runs on each runtime thread (worker or blocking) as it starts and
/// before it exits.
#[derive(Clone, Default)]
pub(crate) struct ThreadHooks {
    pub(crate) start: Option<ThreadHook>,
    pub(crate) stop: Option<ThreadHook>,
}

impl ThreadHooks {
    /// Runs `body` between the hooks. A panicking hook is reported by the
    /// panic hook as usual but does not take the thread down with it.
    pub(crate) fn wrap<R>(&self, body: impl FnOnce() -> R) -> R {
        struct Stop<'a>(&'a ThreadHooks);
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                if let Some(stop) = &self.0.stop {
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| stop()));
                }
            }
        }
        if let Some(start) = &self.start {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| start()));
        }
        let _stop = Stop(self);
        body()
    }
}

/// How the pool is sized.
#[derive(Clone)]
pub(crate) struct PoolConfig {
    pub(crate) max_threads: usize,
    pub(crate) keep_alive: Duration,
    pub(crate) thread_name: ThreadNameFn,
    pub(crate) stack_size: Option<usize>,
    pub(crate) hooks: ThreadHooks,
}

/// The owner of the pool: shutting it down waits for its threads.
pub(crate) struct BlockingPool {
    spawner: Spawner,
}

/// Queues work on the pool; cheap to clone.
#[derive(Clone)]
pub(crate) struct Spawner {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Mutex<Shared>,
    /// Signals idle threads that work arrived or shutdown began.
    work: Condvar,
    /// Signals the shutdown waiter that a thread exited.
    exited: Condvar,
    config: PoolConfig,
}

struct Shared {
    /// Each task with the activity that keeps its runtime from looking idle
    /// until the task has run and woken whoever awaits it.
    queue: VecDeque<(Notified<BlockingSchedule>, Activity)>,
    num_threads: usize,
    num_idle: usize,
    /// Idle threads told to take a task, not yet awake.
    num_notify: usize,
    shutdown: bool,
    threads: HashMap<usize, std::thread::JoinHandle<()>>,
    next_id: usize,
}

/// The scheduler hook of blocking tasks: they run once, on a pool thread.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BlockingSchedule;

impl Schedule for BlockingSchedule {
    fn schedule(&self, task: Notified<Self>) {
        // Unreachable in practice: a blocking task is queued (notified),
        // running or complete, and none of those makes a new `Notified`.
        // Dropping it only releases a reference.
        drop(task);
    }

    fn release(&self, _task: &Task<Self>) -> Option<Task<Self>> {
        None
    }
}

/// Runs the closure in its first poll.
struct BlockingTask<F>(Option<F>);

impl<F> Unpin for BlockingTask<F> {}

impl<F: FnOnce() -> R, R> Future for BlockingTask<F> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let f = self
            .0
            .take()
            .expect("a blocking task is polled once: it never returns `Pending`");
        // Blocking code is not async code: no budget applies.
        Poll::Ready(coop::with_unconstrained(f))
    }
}

impl BlockingPool {
    pub(crate) fn new(config: PoolConfig) -> BlockingPool {
        BlockingPool {
            spawner: Spawner {
                inner: Arc::new(Inner {
                    shared: Mutex::new(Shared {
                        queue: VecDeque::new(),
                        num_threads: 0,
                        num_idle: 0,
                        num_notify: 0,
                        shutdown: false,
                        threads: HashMap::new(),
                        next_id: 0,
                    }),
                    work: Condvar::new(),
                    exited: Condvar::new(),
                    config,
                }),
            },
        }
    }

    pub(crate) fn spawner(&self) -> &Spawner {
        &self.spawner
    }

    /// Cancels queued work and waits up to `timeout` for running work.
    /// Returns true if every thread exited in time.
    pub(crate) fn shutdown(&self, timeout: Option<Duration>) -> bool {
        let inner = &self.spawner.inner;
        let mut shared = lock(&inner.shared);
        if shared.shutdown {
            // Shut down before (perhaps with a timeout that left stragglers
            // detached): don't wait a second time.
            return shared.num_threads == 0;
        }
        shared.shutdown = true;
        let queued = std::mem::take(&mut shared.queue);
        inner.work.notify_all();
        drop(shared);

        for (task, _activity) in queued {
            task.shutdown();
        }

        // Shut down from one of our own threads (a closure dropping the
        // runtime): that thread cannot wait for itself.
        let own = CURRENT_POOL.try_with(|p| p.get()).unwrap_or(0) == pool_id(inner);
        let others = usize::from(own);
        // A deadline past what `Instant` can hold means waiting for ever.
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut shared = wait_while_until(&inner.exited, lock(&inner.shared), deadline, |shared| {
            shared.num_threads > others
        });
        let all_exited = shared.num_threads <= others;
        let threads = std::mem::take(&mut shared.threads);
        drop(shared);
        if all_exited {
            let me = std::thread::current().id();
            for (_, thread) in threads {
                if thread.thread().id() != me {
                    // A pool thread never panics (tasks catch their panics).
                    let _ = thread.join();
                }
            }
        }
        // Otherwise the stragglers are detached: dropping their handles.
        all_exited
    }
}

impl Drop for BlockingPool {
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

impl Spawner {
    /// Queues `f`, starting a thread if none is idle.
    pub(crate) fn spawn_blocking<F, R>(&self, rt: &scheduler::Handle, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let (task, notified, join) = task::new_task(BlockingTask(Some(f)), BlockingSchedule);
        // Blocking tasks live outside the registry: the pool's queue and its
        // threads are what keep them reachable.
        drop(task);
        self.spawn_task(rt, notified);
        join
    }

    fn spawn_task(&self, rt: &scheduler::Handle, task: Notified<BlockingSchedule>) {
        let inner = &self.inner;
        let mut shared = lock(&inner.shared);
        if shared.shutdown {
            drop(shared);
            task.shutdown();
            return;
        }
        shared.queue.push_back((task, Activity::begin(rt)));
        if shared.num_idle > 0 {
            shared.num_idle -= 1;
            shared.num_notify += 1;
            inner.work.notify_one();
            return;
        }
        if shared.num_threads >= inner.config.max_threads {
            // Every thread is busy: the task waits for the first to finish.
            return;
        }
        let id = shared.next_id;
        shared.next_id += 1;
        let mut builder = std::thread::Builder::new().name((inner.config.thread_name)());
        if let Some(size) = inner.config.stack_size {
            builder = builder.stack_size(size);
        }
        let spawner = self.clone();
        let rt = rt.clone();
        match builder.spawn(move || {
            let hooks = spawner.inner.config.hooks.clone();
            hooks.wrap(|| spawner.run(id, rt))
        }) {
            Ok(thread) => {
                shared.num_threads += 1;
                shared.threads.insert(id, thread);
            }
            Err(_) if shared.num_threads == 0 => {
                // No thread will ever run it: cancel rather than hang.
                let task = shared.queue.pop_back();
                drop(shared);
                if let Some((task, _activity)) = task {
                    task.shutdown();
                }
            }
            // A running thread will get to it.
            Err(_) => {}
        }
    }

    /// The body of a pool thread.
    fn run(&self, id: usize, rt: scheduler::Handle) {
        CURRENT_POOL.with(|p| p.set(pool_id(&self.inner)));
        let _current = context::set_current(rt);
        let inner = &self.inner;
        let mut shared = lock(&inner.shared);
        'work: loop {
            while let Some((task, activity)) = shared.queue.pop_front() {
                drop(shared);
                task.run();
                drop(activity);
                shared = lock(&inner.shared);
            }
            if shared.shutdown {
                break 'work;
            }
            shared.num_idle += 1;
            loop {
                let (guard, timeout) = match inner.work.wait_timeout(shared, inner.config.keep_alive) {
                    Ok(pair) => pair,
                    Err(poisoned) => poisoned.into_inner(),
                };
                shared = guard;
                if shared.num_notify > 0 {
                    // A spawner picked us (and already counted us busy).
                    shared.num_notify -= 1;
                    continue 'work;
                }
                if shared.shutdown {
                    shared.num_idle -= 1;
                    break 'work;
                }
                if timeout.timed_out() {
                    // Idle for the whole keep-alive: leave, detaching ourselves.
                    shared.num_idle -= 1;
                    shared.threads.remove(&id);
                    break 'work;
                }
            }
        }
        shared.num_threads -= 1;
        inner.exited.notify_all();
    }
}

impl fmt::Debug for Spawner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shared = lock(&self.inner.shared);
        f.debug_struct("BlockingPool")
            .field("threads", &shared.num_threads)
            .field("idle", &shared.num_idle)
            .field("queued", &shared.queue.len())
            .finish()
    }
}

impl fmt::Debug for BlockingPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.spawner.fmt(f)
    }
}
