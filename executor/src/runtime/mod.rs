//! The runtime: a scheduler, a blocking pool, and the entry points to them.

mod builder;
mod handle;

#[cfg(all(test, not(loom)))]
mod tests;

pub use self::builder::Builder;
pub use self::handle::{EnterGuard, Handle, TryCurrentError};

/// A runtime that runs a future to completion on the calling thread: what
/// [`LocalSet::block_on`](crate::task::LocalSet::block_on) drives.
/// Implemented by this crate's [`Runtime`] and by the `weft` facade's, so
/// that `local.block_on(&rt, future)` reads as it does under tokio.
///
/// # Examples
///
/// ```
/// use weft_executor::runtime::BlockOn;
///
/// fn answer(rt: &impl BlockOn) -> u32 {
///     rt.block_on(async { 42 })
/// }
/// assert_eq!(answer(&weft_executor::Runtime::new().unwrap()), 42);
/// ```
pub trait BlockOn {
    /// Runs `future` to completion on this thread and returns its output.
    fn block_on<F: Future>(&self, future: F) -> F::Output;
}

impl BlockOn for Runtime {
    #[track_caller]
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        Runtime::block_on(self, future)
    }
}

use crate::blocking::BlockingPool;
use crate::scheduler::{self, current_thread::CurrentThread, multi_thread::MultiThread};
use crate::task::JoinHandle;
use std::fmt;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The executor's runtime: a scheduler to run tasks, and a pool of threads
/// for blocking work.
///
/// Two flavours, chosen with [`Builder`]:
///
/// * **multi-thread** ([`Runtime::new`]): a pool of worker threads (one per
///   core by default) that steal work from each other;
/// * **current-thread** ([`Builder::current_thread`]): every task runs on the
///   thread that calls [`block_on`](Runtime::block_on), and `!Send` futures
///   can be spawned with [`spawn_local`](crate::task::spawn_local).
///
/// # Dropping a runtime
///
/// Dropping the runtime cancels every task and drops every future, on a
/// thread of the runtime, before `drop` returns; tasks still running a poll
/// are let finish that poll first. It then waits for blocking work that has
/// started; use [`shutdown_timeout`](Runtime::shutdown_timeout) to bound
/// the wait. Afterwards every `JoinHandle` of an unfinished task resolves to
/// a cancelled [`JoinError`](crate::task::JoinError).
///
/// Two exceptions, where waiting would deadlock:
///
/// * dropped on one of its **own worker threads** (say, by a task that held
///   the last `Arc<Runtime>`), `drop` signals shutdown and returns at once;
///   the workers cancel the tasks as they leave;
/// * dropped on one of its own **blocking-pool** threads, it waits for every
///   other thread but that one.
///
/// A current-thread runtime that ran [`spawn_local`](crate::task::spawn_local)
/// and is dropped on another thread cannot drop those `!Send` futures there:
/// they are leaked (never dropped, never freed), and their `JoinHandle`s
/// resolve to a cancelled error all the same.
///
/// # Examples
///
/// ```
/// use weft_executor::Runtime;
///
/// let rt = Runtime::new().unwrap();
/// let handles: Vec<_> = (0..10).map(|i| rt.spawn(async move { i * i })).collect();
/// let squares = rt.block_on(async {
///     let mut out = Vec::new();
///     for h in handles {
///         out.push(h.await.unwrap());
///     }
///     out
/// });
/// assert_eq!(squares, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
/// ```
pub struct Runtime {
    scheduler: Scheduler,
    handle: Handle,
    blocking: BlockingPool,
    shut_down: bool,
}

enum Scheduler {
    /// Shared with `block_on` calls through handles, which hold it only
    /// while they run.
    CurrentThread(Arc<CurrentThread>),
    MultiThread(MultiThread),
}

impl Runtime {
    /// A multi-thread runtime with one worker per available core.
    ///
    /// # Errors
    ///
    /// Fails if the operating system refuses to start a thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft_executor::Runtime::new().unwrap();
    /// assert_eq!(rt.block_on(async { "done" }), "done");
    /// ```
    pub fn new() -> io::Result<Runtime> {
        Builder::new_multi_thread().build()
    }

    /// A builder to choose the flavour and settings (multi-thread by default).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft_executor::Runtime::builder()
    ///     .worker_threads(2)
    ///     .thread_name("my-worker")
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn builder() -> Builder {
        Builder::new_multi_thread()
    }

    /// Runs `future` to completion on the calling thread and returns its
    /// output; spawned tasks run meanwhile (on the workers, or — for a
    /// current-thread runtime — on this very thread).
    ///
    /// The future need not be `Send`. Inside it, [`spawn`](crate::spawn) and
    /// [`Handle::current`] refer to this runtime.
    ///
    /// On a **multi-thread** runtime this thread does not just sleep while
    /// `future` waits: after each poll of `future` that returns `Pending`,
    /// it takes one task that was spawned or woken from outside the
    /// workers (by `future` itself, say) off the runtime's shared queue and
    /// runs it, as a worker would, and polls `future` again if that woke
    /// it; otherwise it sleeps, and the workers run the rest. A `main` that sends a request to a task
    /// and waits for its reply then gets it without a thread going to sleep
    /// and being woken on either side. Unlike tokio, whose `block_on` thread
    /// runs no tasks, a task that blocks its thread can therefore delay
    /// `future` here (as under smol's `block_on(executor.run(..))`); tasks
    /// `future` wakes stay within the workers' reach all the same, so
    /// `future` may block its own thread waiting for one of them.
    ///
    /// A future that keeps waking itself (a `try_read` loop, say) does not
    /// keep I/O and timers out: every
    /// [`event_interval`](Builder::event_interval) polls (of the future and
    /// of the tasks this thread runs), the thread lets the driver dispatch
    /// what is ready. On a multi-thread runtime it does so itself, for the
    /// case that every worker is busy, where tokio leaves the driver to its
    /// workers.
    ///
    /// # Panics
    ///
    /// Panics if called from a thread that already drives asynchronous work
    /// (a worker, or inside another `block_on`): use `.await` there. Panics
    /// if `future` panics. On a current-thread runtime pinned to a thread by
    /// [`spawn_local`](crate::task::spawn_local), panics when called from
    /// another thread.
    ///
    /// [`Handle::block_on`] does the same through a handle.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft_executor::Runtime::builder().current_thread().build().unwrap();
    /// let n = rt.block_on(async {
    ///     let task = weft_executor::spawn(async { 20 });
    ///     task.await.unwrap() + 1
    /// });
    /// assert_eq!(n, 21);
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        match (&self.scheduler, &self.handle.inner) {
            (Scheduler::CurrentThread(ct), scheduler::Handle::CurrentThread(h)) => ct.block_on(h, future),
            (Scheduler::MultiThread(_), inner) => inner.block_on(future),
            _ => unreachable!("the scheduler and its handle are of one flavour"),
        }
    }

    /// Spawns a task on this runtime; see [`Handle::spawn`].
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs a blocking closure on this runtime's blocking pool; see
    /// [`Handle::spawn_blocking`].
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(f)
    }

    /// A handle to this runtime, which can be cloned and sent to other
    /// threads.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Makes this runtime the current one on this thread until the guard
    /// drops, so that [`spawn`](crate::spawn) works outside `block_on`.
    pub fn enter(&self) -> EnterGuard<'_> {
        self.handle.enter()
    }

    /// Shuts the runtime down, waiting at most `timeout` for tasks to be
    /// cancelled and for blocking work to finish; whatever has not finished
    /// by then is left running on its threads, detached.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = weft_executor::Runtime::new().unwrap();
    /// // A blocking task that outlives the timeout is left behind.
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// rt.spawn_blocking(move || { let _ = rx.recv(); });
    /// rt.shutdown_timeout(Duration::from_millis(10));
    /// drop(tx); // lets the detached blocking thread finish
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        self.shutdown(Some(timeout));
    }

    /// Shuts the runtime down without waiting for blocking work.
    pub fn shutdown_background(self) {
        self.shutdown_timeout(Duration::ZERO);
    }

    fn shutdown(&mut self, timeout: Option<Duration>) {
        if std::mem::replace(&mut self.shut_down, true) {
            return;
        }
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        match (&self.scheduler, &self.handle.inner) {
            (Scheduler::CurrentThread(ct), scheduler::Handle::CurrentThread(h)) => ct.shutdown(h),
            (Scheduler::MultiThread(mt), scheduler::Handle::MultiThread(h)) => {
                mt.shutdown(h, timeout);
            }
            _ => unreachable!("the scheduler and its handle are of one flavour"),
        }
        let remaining = match (timeout, deadline) {
            (None, _) => None,
            (Some(_), Some(deadline)) => Some(deadline.saturating_duration_since(Instant::now())),
            (Some(t), None) => Some(t),
        };
        self.blocking.shutdown(remaining);
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("handle", &self.handle)
            .field("blocking", &self.blocking)
            .finish()
    }
}
