//! The small runtime interface that promises and callbacks stand on.
//!
//! Most of this crate only stores and wakes wakers. Promises and callbacks
//! cannot: an eager promise starts work at once, a handler must run *later*
//! — never inside the call that registered it — and a timer must keep time.
//! For that they need three things from a runtime: spawn a task, sleep until
//! an instant, read the clock. [`Spawn`] is that interface; weft implements
//! it (honouring its paused test clock), and a few lines implement it for
//! tokio, smol or a hand-written executor.
//!
//! A [`Spawner`] wraps an implementation together with an *event loop*: one
//! queue of jobs (promise reactions, callbacks) and one heap of callback
//! timers ([`Spawner::set_timeout`], [`Spawner::set_interval`]), served by
//! a single task that it spawns when there is work and that ends when there
//! is none. Like JavaScript's event loop, it runs jobs one at a time in the
//! order they were queued, and runs the jobs queued by a timer callback
//! before the next timer fires. (The loop itself is the crate's private
//! `event_loop` module.)
//!
//! Code finds its spawner through [`Spawner::current`]: a weft runtime
//! makes its own current on every runtime thread; elsewhere,
//! [`Spawner::enter`] does it. Jobs and tasks started through a spawner see
//! it as current while they run.
//!
//! # Examples
//!
//! Running promises on a runtime of one's own, here a thread per task:
//!
//! ```
//! use std::time::Instant;
//! use weft::promise::Promise;
//! use weft::spawner::{BoxFuture, Spawn, Spawner};
//!
//! struct ThreadPerTask;
//!
//! impl Spawn for ThreadPerTask {
//!     fn spawn(&self, future: BoxFuture) {
//!         std::thread::spawn(move || weft::block_on(future));
//!     }
//!     fn sleep_until(&self, deadline: Instant) -> BoxFuture {
//!         Box::pin(async move { std::thread::sleep(deadline - Instant::now()) })
//!     }
//! }
//!
//! let spawner = Spawner::new(ThreadPerTask);
//! let _current = spawner.enter();
//! let answer = Promise::<i32, String>::resolve(41).map(|n| n + 1);
//! assert_eq!(weft::block_on(answer), Ok(42));
//! ```

use crate::callback::{IntervalHandle, TimerHandle};
use crate::event_loop::{EventLoop, Job, Kick, LoopTask, RunJob, TimerCallback, TimerId};
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// A boxed, sendable future with no output: what [`Spawn`] spawns.
pub type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

// ANCHOR: spawn-trait
/// What promises and callbacks need from a runtime: spawn, sleep, now.
///
/// The [module docs](self) implement it for a thread-per-task runtime;
/// for tokio, `spawn` is `drop(handle.spawn(future))` and `sleep_until` is
/// `Box::pin(tokio::time::sleep_until(deadline.into()))`.
pub trait Spawn: Send + Sync + 'static {
    /// Starts `future` as a task; it runs to completion unless the runtime
    /// shuts down first.
    fn spawn(&self, future: BoxFuture);

    /// A future that completes at `deadline` (at once if it has passed).
    /// It is polled on a task this trait spawned.
    fn sleep_until(&self, deadline: Instant) -> BoxFuture;

    /// The runtime's clock. A runtime with a test clock returns its time;
    /// the default is the system's monotonic clock.
    fn now(&self) -> Instant {
        Instant::now()
    }
}
// ANCHOR_END: spawn-trait

/// A runtime as promises and callbacks see it: a [`Spawn`] implementation
/// and the event loop that runs their jobs and timers. Cheap to clone.
///
/// See the [module docs](self) for how it is found and what it runs.
#[derive(Clone)]
pub struct Spawner {
    shared: Arc<Shared>,
}

struct Shared {
    runtime: Box<dyn Spawn>,
    event_loop: EventLoop,
}

/// A [`Spawner`] that does not keep it alive; see [`Spawner::downgrade`].
#[derive(Clone)]
pub struct WeakSpawner {
    shared: std::sync::Weak<Shared>,
}

impl WeakSpawner {
    /// The spawner, if it is still alive.
    pub fn upgrade(&self) -> Option<Spawner> {
        self.shared.upgrade().map(|shared| Spawner { shared })
    }
}

impl fmt::Debug for WeakSpawner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakSpawner").finish_non_exhaustive()
    }
}

/// The error of [`Spawner::try_current`] where no spawner is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoSpawner(());

impl fmt::Display for NoSpawner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "no spawner is current on this thread: run inside a weft runtime, \
             or make one current with `Spawner::enter`",
        )
    }
}

impl std::error::Error for NoSpawner {}

thread_local! {
    static CURRENT: RefCell<Option<Spawner>> = const { RefCell::new(None) };
}

// Alike to weft-reactor's `EnterGuard` (a `duplicates` pair, left): each
// restores its own crate's thread-local, and neither crate knows the other.
/// Keeps a spawner current on this thread until dropped; see
/// [`Spawner::enter`].
#[must_use = "the spawner stops being current when the guard is dropped"]
pub struct EnterGuard {
    previous: Option<Spawner>,
    // Restores this thread's previous spawner: must drop on this thread.
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = CURRENT.try_with(|current| *current.borrow_mut() = previous);
    }
}

impl fmt::Debug for EnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

impl Spawner {
    /// Wraps a runtime's [`Spawn`] implementation.
    pub fn new(runtime: impl Spawn) -> Spawner {
        Spawner {
            shared: Arc::new(Shared {
                runtime: Box::new(runtime),
                event_loop: EventLoop::new(),
            }),
        }
    }

    /// The spawner current on this thread.
    ///
    /// # Panics
    ///
    /// Panics where none is current (outside a weft runtime, and with no
    /// [`Spawner::enter`] guard alive); [`Spawner::try_current`] returns an
    /// error instead.
    #[track_caller]
    pub fn current() -> Spawner {
        match Spawner::try_current() {
            Ok(spawner) => spawner,
            Err(e) => panic!("{e}"),
        }
    }

    /// The spawner current on this thread, or an error where none is.
    ///
    /// # Errors
    ///
    /// [`NoSpawner`] outside a weft runtime when no [`Spawner::enter`] guard
    /// is alive on this thread.
    pub fn try_current() -> Result<Spawner, NoSpawner> {
        CURRENT
            .try_with(|current| current.borrow().clone())
            .ok()
            .flatten()
            .ok_or(NoSpawner(()))
    }

    /// Makes this spawner current on this thread until the guard drops,
    /// which restores the previous one.
    pub fn enter(&self) -> EnterGuard {
        let previous = CURRENT
            .try_with(|current| current.replace(Some(self.clone())))
            .ok()
            .flatten();
        EnterGuard {
            previous,
            _not_send: std::marker::PhantomData,
        }
    }

    /// Spawns `future` on the runtime; while it is polled this spawner is
    /// current, so promises and callbacks made inside find it.
    pub fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let spawner = self.clone();
        self.shared
            .runtime
            .spawn(Box::pin(WithSpawner { spawner, future }));
    }

    /// A future that completes at `deadline`, on the runtime's clock.
    pub fn sleep_until(&self, deadline: Instant) -> BoxFuture {
        self.shared.runtime.sleep_until(deadline)
    }

    /// The runtime's clock (weft's paused test clock included).
    pub fn now(&self) -> Instant {
        self.shared.runtime.now()
    }

    /// A handle that does not keep the spawner (and the runtime behind it)
    /// alive: for a runtime's own structures, which would otherwise make a
    /// reference cycle with it.
    pub fn downgrade(&self) -> WeakSpawner {
        WeakSpawner {
            shared: Arc::downgrade(&self.shared),
        }
    }

    /// True if both are the same spawner (clones of one another).
    pub fn ptr_eq(&self, other: &Spawner) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    // ANCHOR: spawner-timers
    /// Runs `callback` once, `delay` from now on this spawner's clock; see
    /// [`set_timeout`](crate::callback::set_timeout).
    pub fn set_timeout(&self, delay: Duration, callback: impl FnOnce() + Send + 'static) -> TimerHandle {
        let deadline = self.deadline(delay);
        let id = self.add_timer(deadline, None, TimerCallback::Once(Box::new(callback)));
        TimerHandle::new(self.clone(), id)
    }

    /// Runs `callback` every `period`; see
    /// [`set_interval`](crate::callback::set_interval).
    pub fn set_interval(&self, period: Duration, callback: impl FnMut() + Send + 'static) -> IntervalHandle {
        let deadline = self.deadline(period);
        let id = self.add_timer(deadline, Some(period), TimerCallback::Repeat(Box::new(callback)));
        IntervalHandle::new(self.clone(), id)
    }

    /// `delay` from now; a delay past the clock's range saturates to the
    /// furthest instant it can name (about a century on).
    fn deadline(&self, delay: Duration) -> Instant {
        let now = self.now();
        now.checked_add(delay)
            .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
    }
    // ANCHOR_END: spawner-timers

    /// The event loop this spawner serves.
    pub(crate) fn event_loop(&self) -> &EventLoop {
        &self.shared.event_loop
    }

    /// Queues `job` to run on the event loop after the jobs queued before
    /// it; starts the loop's task if it is not running.
    pub(crate) fn queue(&self, job: Job) {
        let kick = self.shared.event_loop.queue(job);
        self.kick(kick);
    }

    /// Queues `job` `n` times: a settled promise's `n` reactions.
    pub(crate) fn queue_runs(&self, job: &Arc<dyn RunJob>, n: usize) {
        let kick = self.shared.event_loop.queue_runs(job, n);
        self.kick(kick);
    }

    /// Runs `callback` at `deadline`, then every `period` if one is given.
    pub(crate) fn add_timer(
        &self,
        deadline: Instant,
        period: Option<Duration>,
        callback: TimerCallback,
    ) -> TimerId {
        let (id, kick) = self.shared.event_loop.add_timer(deadline, period, callback);
        self.kick(kick);
        id
    }

    /// Makes sure the loop's task will look at the work just added: starts
    /// it if none runs, wakes it if it waits.
    fn kick(&self, kick: Kick) {
        match kick {
            Kick::Start => self.spawn(LoopTask::new(self.clone())),
            Kick::Wake(waker) => waker.wake(),
            Kick::Nothing => {}
        }
    }
}

impl fmt::Debug for Spawner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spawner")
            .field("event_loop", &self.shared.event_loop)
            .finish()
    }
}

pin_project_lite::pin_project! {
    /// Polls `future` with `spawner` current.
    struct WithSpawner<F> {
        spawner: Spawner,
        #[pin]
        future: F,
    }
}

impl<F: Future<Output = ()>> Future for WithSpawner<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        let _current = this.spawner.enter();
        this.future.poll(cx)
    }
}
