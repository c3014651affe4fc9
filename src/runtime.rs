//! The runtime: weft's executor with weft's reactor as its driver.
//!
//! The executor parks idle workers through its `Park` interface; here that
//! interface is the reactor's driver, so an idle worker waits in
//! `epoll_wait` with the next timer deadline as its timeout, and wakes from
//! any thread interrupt it. Every runtime thread enters the reactor as it
//! starts, so sockets and timers created in tasks find their driver.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;
use weft_executor::park::Park;
use weft_executor::task::JoinHandle;
use weft_primitives::spawner::{self, BoxFuture, Spawn, Spawner};

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

/// A cloneable, `Send` reference to a [`Runtime`]: spawns onto it, and
/// enters it on other threads.
///
/// # Examples
///
/// ```
/// let rt = weft::Runtime::new().unwrap();
/// let handle = rt.handle().clone();
/// let task = std::thread::spawn(move || handle.spawn(async { 5 })).join().unwrap();
/// assert_eq!(rt.block_on(task).unwrap(), 5);
/// ```
#[derive(Clone)]
pub struct Handle {
    executor: weft_executor::runtime::Handle,
    reactor: weft_reactor::Handle,
    spawner: Spawner,
}

/// Keeps a runtime current on this thread until dropped; see
/// [`Runtime::enter`].
#[must_use = "the runtime stops being current when the guard is dropped"]
pub struct EnterGuard<'a> {
    // Dropped in reverse order of entering.
    _executor: weft_executor::runtime::EnterGuard<'a>,
    _reactor: weft_reactor::EnterGuard,
    _spawner: spawner::EnterGuard,
}

/// Builds a [`Runtime`] with chosen settings.
///
/// # Examples
///
/// ```
/// let rt = weft::Runtime::builder()
///     .worker_threads(2)
///     .thread_name("my-app")
///     .max_blocking_threads(8)
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// ```
pub struct Builder {
    executor: weft_executor::runtime::Builder,
    start_paused: bool,
    on_start: Option<Arc<dyn Fn() + Send + Sync>>,
    on_stop: Option<Arc<dyn Fn() + Send + Sync>>,
}

impl Runtime {
    /// A multi-thread runtime with one worker thread per core.
    ///
    /// # Errors
    ///
    /// Whatever the operating system says when it refuses a thread or the
    /// reactor's epoll instance.
    pub fn new() -> io::Result<Runtime> {
        Builder::new_multi_thread().build()
    }

    /// A builder, for the multi-thread flavour unless told otherwise.
    pub fn builder() -> Builder {
        Builder::new_multi_thread()
    }

    /// Runs `future` to completion on this thread, the runtime's tasks,
    /// sockets and timers working meanwhile; returns its output.
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

    /// Spawns a task on this runtime; see [`Handle::spawn`].
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.executor.spawn(future)
    }

    /// Runs `f` on the blocking pool; see [`crate::task::spawn_blocking`].
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.executor.spawn_blocking(f)
    }

    /// A handle to this runtime.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Makes this runtime current on this thread until the guard drops: tasks
    /// can be spawned, and sockets and timers created, outside `block_on`.
    pub fn enter(&self) -> EnterGuard<'_> {
        self.handle.enter()
    }

    /// Shuts down, waiting at most `timeout` for blocking work; tasks are
    /// cancelled and their futures dropped, and the reactor is closed.
    /// Blocking work still running at the deadline is left on its threads.
    pub fn shutdown_timeout(self, timeout: Duration) {
        let Runtime { executor, driver, .. } = self;
        executor.shutdown_timeout(timeout);
        driver.0.shutdown();
    }

    /// Shuts down without waiting for blocking work.
    pub fn shutdown_background(self) {
        self.shutdown_timeout(Duration::ZERO);
    }
}

impl Handle {
    /// The runtime running on this thread.
    ///
    /// # Panics
    ///
    /// Panics outside a weft runtime; [`Handle::try_current`] returns an
    /// error instead.
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Ok(handle) => handle,
            Err(e) => panic!("{e}"),
        }
    }

    /// The runtime running on this thread, or an error outside one.
    ///
    /// # Errors
    ///
    /// [`TryCurrentError`] when no weft runtime runs on this thread.
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        let executor = weft_executor::runtime::Handle::try_current().map_err(|_| TryCurrentError(()))?;
        let reactor = weft_reactor::Handle::try_current().map_err(|_| TryCurrentError(()))?;
        // The runtime's own spawner is current wherever the runtime is.
        let spawner = Spawner::try_current().unwrap_or_else(|_| {
            Spawner::new(WeftSpawn {
                executor: Arc::new(executor.clone().into()),
                reactor: reactor.clone(),
            })
        });
        Ok(Handle {
            executor,
            reactor,
            spawner,
        })
    }

    /// Spawns a task on the runtime, from any thread.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.executor.spawn(future)
    }

    /// Runs `f` on the runtime's blocking pool.
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.executor.spawn_blocking(f)
    }

    /// Runs `future` to completion on this thread with the runtime entered
    /// (tasks spawn onto it, sockets and timers use its reactor), and
    /// returns its output.
    ///
    /// On a multi-thread runtime the workers run the tasks and this thread
    /// waits for `future`. On a current-thread runtime this is
    /// [`Runtime::block_on`]: this thread runs the tasks and the reactor
    /// unless another thread is inside `block_on` already, in which case it
    /// waits for `future` (and takes over if that thread leaves first).
    /// Unlike tokio's, whose `Handle::block_on` never drives a
    /// current-thread runtime, timers and sockets therefore work here from
    /// any thread.
    ///
    /// # Panics
    ///
    /// Panics if called from a thread that already runs asynchronous work (a
    /// worker, a task, or inside another `block_on`), as a nested
    /// [`Runtime::block_on`] does: use `.await` there, or call it from
    /// [`spawn_blocking`](crate::task::spawn_blocking) or a plain thread.
    /// Panics if `future` panics.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = weft::Runtime::builder().current_thread().build().unwrap();
    /// let handle = rt.handle().clone();
    /// let answer = std::thread::spawn(move || {
    ///     handle.block_on(async {
    ///         let task = weft::spawn(async {
    ///             weft::time::sleep(Duration::from_millis(1)).await;
    ///             42
    ///         });
    ///         task.await.unwrap()
    ///     })
    /// })
    /// .join()
    /// .unwrap();
    /// assert_eq!(answer, 42);
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _reactor = self.reactor.enter();
        let _spawner = self.spawner.enter();
        self.executor.block_on(future)
    }

    /// Makes the runtime current on this thread until the guard drops.
    pub fn enter(&self) -> EnterGuard<'_> {
        let reactor = self.reactor.enter();
        EnterGuard {
            _executor: self.executor.enter(),
            _reactor: reactor,
            _spawner: self.spawner.enter(),
        }
    }

    /// The runtime as promises and callbacks see it (see
    /// [`crate::spawner`]): current on every runtime thread, and to hand to
    /// `*_in` constructors elsewhere.
    pub fn spawner(&self) -> &Spawner {
        &self.spawner
    }

    /// Tasks spawned and not yet finished.
    pub fn num_alive_tasks(&self) -> usize {
        self.executor.num_alive_tasks()
    }
}

/// The error of [`Handle::try_current`] outside a weft runtime.
#[derive(Debug)]
pub struct TryCurrentError(());

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no weft runtime is running on this thread")
    }
}

impl std::error::Error for TryCurrentError {}

impl Builder {
    /// A builder for a multi-thread runtime.
    pub fn new_multi_thread() -> Builder {
        Builder {
            executor: weft_executor::runtime::Builder::new_multi_thread(),
            start_paused: false,
            on_start: None,
            on_stop: None,
        }
    }

    /// A builder for a current-thread runtime.
    pub fn new_current_thread() -> Builder {
        let mut builder = Builder::new_multi_thread();
        builder.executor.current_thread();
        builder
    }

    /// Every task runs on the thread inside `block_on`.
    pub fn current_thread(&mut self) -> &mut Self {
        self.executor.current_thread();
        self
    }

    /// A work-stealing pool of worker threads (the default).
    pub fn multi_thread(&mut self) -> &mut Self {
        self.executor.multi_thread();
        self
    }

    /// Worker threads of a multi-thread runtime; one per core by default.
    /// `build` rejects zero.
    pub fn worker_threads(&mut self, n: usize) -> &mut Self {
        self.executor.worker_threads(n);
        self
    }

    /// The most threads the blocking pool starts (512 by default). `build`
    /// rejects zero.
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Self {
        self.executor.max_blocking_threads(n);
        self
    }

    /// Names the runtime's threads (`"weft-worker"` by default).
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Self {
        self.executor.thread_name(name);
        self
    }

    /// Names each new thread with the result of `f`.
    pub fn thread_name_fn(&mut self, f: impl Fn() -> String + Send + Sync + 'static) -> &mut Self {
        self.executor.thread_name_fn(f);
        self
    }

    /// Stack size of the runtime's threads, in bytes.
    pub fn thread_stack_size(&mut self, bytes: usize) -> &mut Self {
        self.executor.thread_stack_size(bytes);
        self
    }

    /// How long an idle blocking thread waits for work before exiting.
    pub fn thread_keep_alive(&mut self, keep_alive: Duration) -> &mut Self {
        self.executor.thread_keep_alive(keep_alive);
        self
    }

    /// Scheduler ticks between forced looks at the global queue (61 by
    /// default). `build` rejects zero.
    pub fn global_queue_interval(&mut self, ticks: u32) -> &mut Self {
        self.executor.global_queue_interval(ticks);
        self
    }

    /// Scheduler ticks between looks for I/O events and due timers while
    /// tasks are ready (61 by default). `build` rejects zero.
    pub fn event_interval(&mut self, ticks: u32) -> &mut Self {
        self.executor.event_interval(ticks);
        self
    }

    /// Extra rounds an idle worker searches for work before it parks (0 by
    /// default: measured, spinning does not pay; see benches/RESULTS.md).
    pub fn spin_before_park(&mut self, rounds: u32) -> &mut Self {
        self.executor.spin_before_park(rounds);
        self
    }

    /// Runs `f` on each runtime thread as it starts.
    pub fn on_thread_start(&mut self, f: impl Fn() + Send + Sync + 'static) -> &mut Self {
        self.on_start = Some(Arc::new(f));
        self
    }

    /// Runs `f` on each runtime thread as it exits.
    pub fn on_thread_stop(&mut self, f: impl Fn() + Send + Sync + 'static) -> &mut Self {
        self.on_stop = Some(Arc::new(f));
        self
    }

    /// Starts the runtime with its clock paused (see [`crate::time::pause`]):
    /// time moves only when advanced, or when every task is idle — then
    /// straight to the next timer.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft::time::{Instant, sleep};
    ///
    /// let rt = weft::Runtime::builder().start_paused(true).build().unwrap();
    /// let waited = rt.block_on(async {
    ///     let start = Instant::now();
    ///     sleep(Duration::from_secs(3600)).await; // returns at once
    ///     start.elapsed()
    /// });
    /// assert!(waited >= Duration::from_secs(3600));
    /// ```
    pub fn start_paused(&mut self, paused: bool) -> &mut Self {
        self.start_paused = paused;
        self
    }

    /// Checks the settings and starts the runtime.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a zero count or interval; otherwise whatever the
    /// operating system says when it refuses a thread or the reactor.
    pub fn build(&mut self) -> io::Result<Runtime> {
        // weft's primitives spend this runtime's cooperative budget (once
        // per process: the hook reads whichever runtime runs the thread).
        weft_primitives::coop::install(weft_primitives::coop::Hook {
            proceed: weft_executor::coop::poll_proceed,
            refund: weft_executor::coop::refund,
        });
        let driver = if self.start_paused {
            weft_reactor::Driver::new_paused()?
        } else {
            weft_reactor::Driver::new()?
        };
        let reactor = driver.handle();
        let driver = Arc::new(ReactorPark(driver));
        let entered = reactor.clone();
        let executor_slot = Arc::new(std::sync::OnceLock::new());
        let spawner = Spawner::new(WeftSpawn {
            executor: executor_slot.clone(),
            reactor: reactor.clone(),
        });
        // Weak: the executor keeps this closure, and the spawner keeps the
        // executor's handle; a strong one would be a cycle that leaks both.
        let thread_spawner = spawner.downgrade();
        let user_start = self.on_start.clone();
        let user_stop = self.on_stop.clone();
        // A copy: the builder may build again, and must not keep this
        // runtime's driver alive once the runtime is gone.
        let executor = self
            .executor
            .clone()
            .driver(driver.clone())
            .on_thread_start(move || {
                let reactor = entered.enter();
                if let Some(spawner) = thread_spawner.upgrade() {
                    let context = (reactor, spawner.enter());
                    let _ = THREAD_CONTEXT.try_with(|slot| *slot.borrow_mut() = Some(context));
                }
                if let Some(f) = &user_start {
                    f();
                }
            })
            .on_thread_stop(move || {
                if let Some(f) = &user_stop {
                    f();
                }
                let _ = THREAD_CONTEXT.try_with(|slot| slot.borrow_mut().take());
            })
            .build()?;
        let _ = executor_slot.set(executor.handle().clone());
        let handle = Handle {
            executor: executor.handle().clone(),
            spawner,
            reactor,
        };
        Ok(Runtime {
            executor,
            handle,
            driver,
        })
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

impl Default for Builder {
    fn default() -> Builder {
        Builder::new_multi_thread()
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

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("executor", &self.executor)
            .field("reactor", &self.reactor)
            .finish()
    }
}

impl fmt::Debug for EnterGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("executor", &self.executor)
            .field("start_paused", &self.start_paused)
            .finish()
    }
}
