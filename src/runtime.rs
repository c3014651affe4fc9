//! The runtime: weft's executor with weft's reactor as its driver.
//!
//! The executor parks idle workers through its `Park` interface; here that
//! interface is the reactor's driver, so an idle worker waits in
//! `epoll_wait` with the next timer deadline as its timeout, and wakes from
//! any thread interrupt it. Every runtime thread enters the reactor as it
//! starts, so sockets and timers created in tasks find their driver.

mod builder;
mod handle;

pub use self::builder::Builder;
pub use self::handle::{EnterGuard, Handle, TryCurrentError};

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;
use weft_executor::park::Park;
use weft_executor::task::JoinHandle;
use weft_primitives::spawner::{self, BoxFuture, Spawn};

/// The reactor's driver as the executor's park.
struct ReactorPark(weft_reactor::Driver);

impl Park for ReactorPark {
    fn park(&self, timeout: Option<Duration>) {
        self.0.park(timeout);
    }

    fn unpark(&self) {
        self.0.unpark();
    }

    fn park_idle(&self, timeout: Option<Duration>, still_idle: &dyn Fn() -> bool) {
        self.0.park_idle_checked(timeout, still_idle);
    }

    fn wants_idle_notice(&self) -> bool {
        self.0.wants_idle_notice()
    }
}

/// weft as promises and callbacks see it: spawn on the executor, sleep and
/// read the time on the reactor's (pausable) clock.
///
/// The spawner exists before the executor (its threads enter it as they
/// start), so the executor's handle is filled in once `build` has it; no
/// task, and so no promise or callback, runs before that.
struct WeftSpawn {
    executor: Arc<std::sync::OnceLock<weft_executor::runtime::Handle>>,
    reactor: weft_reactor::Handle,
}

// ANCHOR: weft-spawn
impl Spawn for WeftSpawn {
    fn spawn(&self, future: BoxFuture) {
        match self.executor.get() {
            Some(executor) => drop(executor.spawn(future)),
            None => drop(weft_executor::spawn(future)),
        }
    }

    fn sleep_until(&self, deadline: std::time::Instant) -> BoxFuture {
        Box::pin(weft_reactor::time::sleep_until(deadline.into()))
    }

    fn now(&self) -> std::time::Instant {
        self.reactor.now().into()
    }
}
// ANCHOR_END: weft-spawn

/// What a runtime thread enters for its whole life.
type ThreadContext = (weft_reactor::EnterGuard, spawner::EnterGuard);

thread_local! {
    /// The reactor and spawner entered on a runtime thread for its life.
    static THREAD_CONTEXT: RefCell<Option<ThreadContext>> = const { RefCell::new(None) };
}

/// weft's runtime: a scheduler for tasks, a reactor for I/O and timers, and
/// a pool for blocking work.
///
/// [`Runtime::new`] starts a multi-thread runtime with one worker per core;
/// [`Runtime::builder`] chooses the flavour and settings. Dropping the
/// runtime cancels every task, drops every future (closing the sockets they
/// own), waits for the blocking pool, and closes the reactor — all before
/// `drop` returns.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let rt = weft::Runtime::new().unwrap();
/// let answer = rt.block_on(async {
///     let task = weft::spawn(async {
///         weft::time::sleep(Duration::from_millis(1)).await;
///         42
///     });
///     task.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
pub struct Runtime {
    // Field order is drop order: the executor (and the futures it owns)
    // goes before the reactor they are registered with.
    executor: weft_executor::Runtime,
    handle: Handle,
    driver: Arc<ReactorPark>,
}

// These methods repeat `weft_executor::Runtime`'s signatures on purpose (a
// `duplicates` pair): each wraps the executor's with the reactor and the
// spawner entered, so none can be a re-export; the docs are the facade's
// own, with `weft::` examples, and link to the executor's for the detail.
impl Runtime {
    /// A multi-thread runtime with one worker thread per core.
    ///
    /// # Errors
    ///
    /// Whatever the operating system says when it refuses a thread or the
    /// reactor's epoll instance.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Runtime::new().unwrap();
    /// assert_eq!(rt.block_on(async { 6 * 7 }), 42);
    /// ```
    pub fn new() -> io::Result<Runtime> {
        Builder::new_multi_thread().build()
    }

    /// A builder, for the multi-thread flavour unless told otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Runtime::builder().worker_threads(2).build().unwrap();
    /// assert_eq!(rt.block_on(async { 6 * 7 }), 42);
    /// ```
    pub fn builder() -> Builder {
        Builder::new_multi_thread()
    }

    /// Runs `future` to completion on this thread, the runtime's tasks,
    /// sockets and timers working meanwhile; returns its output.
    ///
    /// On the multi-thread flavour this thread runs a queued task after
    /// each poll of `future` that returns `Pending`, where tokio's `block_on` thread only sleeps: see
    /// [`weft_executor::Runtime::block_on`].
    ///
    /// # Panics
    ///
    /// Panics if called from a thread that already runs asynchronous work (a
    /// worker, a task, or inside another `block_on`): use `.await` there.
    /// Panics if `future` panics.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Runtime::builder().current_thread().build().unwrap();
    /// assert_eq!(rt.block_on(async { 6 * 7 }), 42);
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _reactor = self.handle.reactor.enter();
        let _spawner = self.handle.spawner.enter();
        self.executor.block_on(future)
    }

    /// Spawns a task on this runtime and returns its [`JoinHandle`]; see
    /// [`Handle::spawn`]. The task starts at once, without `block_on`, on a
    /// multi-thread runtime; a current-thread runtime runs it inside its next
    /// `block_on`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Runtime::new().unwrap();
    /// let task = rt.spawn(async { 6 * 7 });
    /// assert_eq!(rt.block_on(task).unwrap(), 42);
    /// ```
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.executor.spawn(future)
    }

    /// Runs `f` on the blocking pool; see [`crate::task::spawn_blocking`].
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Runtime::new().unwrap();
    /// let read = rt.spawn_blocking(|| "a blocking read");
    /// assert_eq!(rt.block_on(read).unwrap(), "a blocking read");
    /// ```
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.executor.spawn_blocking(f)
    }

    /// A handle to this runtime, to clone and send to other threads.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Runtime::new().unwrap();
    /// let handle = rt.handle().clone();
    /// let task = std::thread::spawn(move || handle.spawn(async { 5 })).join().unwrap();
    /// assert_eq!(rt.block_on(task).unwrap(), 5);
    /// ```
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Makes this runtime current on this thread until the guard drops: tasks
    /// can be spawned, and sockets and timers created, outside `block_on`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Runtime::new().unwrap();
    /// let task = {
    ///     let _guard = rt.enter();
    ///     weft::spawn(async { 5 }) // no `block_on` around it
    /// };
    /// assert_eq!(rt.block_on(task).unwrap(), 5);
    /// ```
    pub fn enter(&self) -> EnterGuard<'_> {
        self.handle.enter()
    }

    /// Shuts down, waiting at most `timeout` for blocking work; tasks are
    /// cancelled and their futures dropped, and the reactor is closed.
    /// Blocking work still running at the deadline is left on its threads.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = weft::Runtime::new().unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// // A blocking task that waits until we let it go.
    /// rt.spawn_blocking(move || rx.recv());
    /// rt.shutdown_timeout(Duration::from_millis(10)); // leaves it running
    /// drop(tx);
    /// ```
    pub fn shutdown_timeout(self, timeout: Duration) {
        let Runtime { executor, driver, .. } = self;
        executor.shutdown_timeout(timeout);
        driver.0.shutdown();
    }

    /// Shuts down without waiting for blocking work: tasks are cancelled and
    /// their futures dropped, and the reactor is closed, before this returns.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Runtime::new().unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// rt.spawn_blocking(move || rx.recv());
    /// rt.shutdown_background(); // returns at once
    /// drop(tx);
    /// ```
    pub fn shutdown_background(self) {
        self.shutdown_timeout(Duration::ZERO);
    }
}

/// `local.block_on(&rt, future)` for a [`LocalSet`](crate::task::LocalSet)
/// on this runtime.
impl weft_executor::runtime::BlockOn for Runtime {
    #[track_caller]
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        Runtime::block_on(self, future)
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("executor", &self.executor)
            .field("reactor", &self.handle.reactor)
            .finish()
    }
}
