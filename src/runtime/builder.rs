//! `Builder`: the runtime's flavour and settings, and the reactor joined to
//! the executor as it builds.
//!
//! Every setter the executor's builder has too forwards to it, and takes its
//! doc text from the same place (`weft_executor::__builder_doc!`), so the two
//! can never describe a setting differently; the examples here are the
//! facade's own, in `weft::` paths.

use super::{Handle, ReactorPark, Runtime, THREAD_CONTEXT, WeftSpawn};
use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;
use weft_primitives::spawner::Spawner;

/// Builds a [`Runtime`] with chosen settings.
///
/// Each setter takes `&mut self` and returns it, so calls chain; [`build`]
/// checks the settings and starts the threads, and may be called again for
/// another runtime with the same settings.
///
/// [`build`]: Builder::build
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

impl Builder {
    #[doc = weft_executor::__builder_doc!(new_multi_thread)]
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Builder::new_multi_thread().build().unwrap();
    /// assert_eq!(rt.block_on(rt.spawn(async { 7 })).unwrap(), 7);
    /// ```
    pub fn new_multi_thread() -> Builder {
        Builder {
            executor: weft_executor::runtime::Builder::new_multi_thread(),
            start_paused: false,
            on_start: None,
            on_stop: None,
        }
    }

    #[doc = weft_executor::__builder_doc!(new_current_thread)]
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Builder::new_current_thread().build().unwrap();
    /// let here = std::thread::current().id();
    /// let ran_on = rt.block_on(rt.spawn(async { std::thread::current().id() }));
    /// assert_eq!(ran_on.unwrap(), here);
    /// ```
    pub fn new_current_thread() -> Builder {
        let mut builder = Builder::new_multi_thread();
        builder.executor.current_thread();
        builder
    }

    #[doc = weft_executor::__builder_doc!(current_thread)]
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Runtime::builder().current_thread().build().unwrap();
    /// let here = std::thread::current().id();
    /// let ran_on = rt.block_on(rt.spawn(async { std::thread::current().id() }));
    /// assert_eq!(ran_on.unwrap(), here);
    /// ```
    pub fn current_thread(&mut self) -> &mut Self {
        self.executor.current_thread();
        self
    }

    #[doc = weft_executor::__builder_doc!(multi_thread)]
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Builder::new_current_thread().multi_thread().build().unwrap();
    /// assert_eq!(rt.block_on(rt.spawn(async { 7 })).unwrap(), 7);
    /// ```
    pub fn multi_thread(&mut self) -> &mut Self {
        self.executor.multi_thread();
        self
    }

    #[doc = weft_executor::__builder_doc!(worker_threads)]
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Runtime::builder().worker_threads(2).build().unwrap();
    /// assert_eq!(rt.block_on(rt.spawn(async { 7 })).unwrap(), 7);
    ///
    /// let zero = weft::Runtime::builder().worker_threads(0).build();
    /// assert_eq!(zero.unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
    /// ```
    pub fn worker_threads(&mut self, n: usize) -> &mut Self {
        self.executor.worker_threads(n);
        self
    }

    #[doc = weft_executor::__builder_doc!(max_blocking_threads)]
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Runtime::builder().max_blocking_threads(1).build().unwrap();
    /// let read = rt.block_on(rt.spawn_blocking(|| "a blocking read"));
    /// assert_eq!(read.unwrap(), "a blocking read");
    /// ```
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Self {
        self.executor.max_blocking_threads(n);
        self
    }

    #[doc = weft_executor::__builder_doc!(thread_name)]
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Runtime::builder().thread_name("my-app").build().unwrap();
    /// let name = rt.block_on(rt.spawn(async {
    ///     std::thread::current().name().map(str::to_owned)
    /// }));
    /// assert_eq!(name.unwrap().as_deref(), Some("my-app"));
    /// ```
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Self {
        self.executor.thread_name(name);
        self
    }

    #[doc = weft_executor::__builder_doc!(thread_name_fn)]
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// static NEXT: AtomicUsize = AtomicUsize::new(0);
    /// let rt = weft::Runtime::builder()
    ///     .thread_name_fn(|| format!("my-app-{}", NEXT.fetch_add(1, Ordering::Relaxed)))
    ///     .build()
    ///     .unwrap();
    /// let name = rt.block_on(rt.spawn(async {
    ///     std::thread::current().name().map(str::to_owned)
    /// }));
    /// assert!(name.unwrap().unwrap().starts_with("my-app-"));
    /// ```
    pub fn thread_name_fn(&mut self, f: impl Fn() -> String + Send + Sync + 'static) -> &mut Self {
        self.executor.thread_name_fn(f);
        self
    }

    #[doc = weft_executor::__builder_doc!(thread_stack_size)]
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Runtime::builder().thread_stack_size(4 << 20).build().unwrap();
    /// assert_eq!(rt.block_on(rt.spawn(async { 7 })).unwrap(), 7);
    /// ```
    pub fn thread_stack_size(&mut self, bytes: usize) -> &mut Self {
        self.executor.thread_stack_size(bytes);
        self
    }

    #[doc = weft_executor::__builder_doc!(thread_keep_alive)]
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = weft::Runtime::builder()
    ///     .thread_keep_alive(Duration::from_millis(100))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(rt.block_on(rt.spawn_blocking(|| 7)).unwrap(), 7);
    /// ```
    pub fn thread_keep_alive(&mut self, keep_alive: Duration) -> &mut Self {
        self.executor.thread_keep_alive(keep_alive);
        self
    }

    #[doc = weft_executor::__builder_doc!(global_queue_interval)]
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Runtime::builder().global_queue_interval(31).build().unwrap();
    /// assert_eq!(rt.block_on(rt.spawn(async { 7 })).unwrap(), 7);
    /// ```
    pub fn global_queue_interval(&mut self, ticks: u32) -> &mut Self {
        self.executor.global_queue_interval(ticks);
        self
    }

    #[doc = weft_executor::__builder_doc!(event_interval)]
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Runtime::builder().event_interval(31).build().unwrap();
    /// assert_eq!(rt.block_on(rt.spawn(async { 7 })).unwrap(), 7);
    /// ```
    pub fn event_interval(&mut self, ticks: u32) -> &mut Self {
        self.executor.event_interval(ticks);
        self
    }

    #[doc = weft_executor::__builder_doc!(spin_before_park)]
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Runtime::builder().spin_before_park(2).build().unwrap();
    /// assert_eq!(rt.block_on(rt.spawn(async { 7 })).unwrap(), 7);
    /// ```
    pub fn spin_before_park(&mut self, rounds: u32) -> &mut Self {
        self.executor.spin_before_park(rounds);
        self
    }

    #[doc = weft_executor::__builder_doc!(block_on_runs_tasks)]
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Runtime::builder()
    ///     .block_on_runs_tasks(false)
    ///     .build()
    ///     .unwrap();
    /// // Spawned and awaited by the `block_on` future, the task still runs
    /// // on a worker.
    /// let name = rt.block_on(async {
    ///     weft::spawn(async { std::thread::current().name().map(str::to_owned) })
    ///         .await
    ///         .unwrap()
    /// });
    /// assert_eq!(name.as_deref(), Some("weft-worker"));
    /// ```
    pub fn block_on_runs_tasks(&mut self, enabled: bool) -> &mut Self {
        self.executor.block_on_runs_tasks(enabled);
        self
    }

    #[doc = weft_executor::__builder_doc!(on_thread_start)]
    ///
    /// The reactor is entered before `f` runs, so `f` may create timers and
    /// sockets.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// let started = Arc::new(AtomicUsize::new(0));
    /// let counter = started.clone();
    /// let rt = weft::Runtime::builder()
    ///     .worker_threads(2)
    ///     .on_thread_start(move || {
    ///         counter.fetch_add(1, Ordering::SeqCst);
    ///     })
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async { weft::spawn(async {}).await.unwrap() });
    /// drop(rt);
    /// assert_eq!(started.load(Ordering::SeqCst), 2);
    /// ```
    pub fn on_thread_start(&mut self, f: impl Fn() + Send + Sync + 'static) -> &mut Self {
        self.on_start = Some(Arc::new(f));
        self
    }

    #[doc = weft_executor::__builder_doc!(on_thread_stop)]
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// let stopped = Arc::new(AtomicUsize::new(0));
    /// let counter = stopped.clone();
    /// let rt = weft::Runtime::builder()
    ///     .worker_threads(2)
    ///     .on_thread_stop(move || {
    ///         counter.fetch_add(1, Ordering::SeqCst);
    ///     })
    ///     .build()
    ///     .unwrap();
    /// drop(rt); // joins the workers
    /// assert_eq!(stopped.load(Ordering::SeqCst), 2);
    /// ```
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

    /// Checks the settings and starts the runtime: its reactor, its worker
    /// threads (none for the current-thread flavour) and its blocking pool,
    /// which starts threads as blocking work arrives.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a zero count or interval; otherwise whatever the
    /// operating system says when it refuses a thread or the reactor.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::ErrorKind;
    ///
    /// let mut builder = weft::Runtime::builder();
    /// builder.worker_threads(2);
    /// let rt = builder.build().unwrap();
    /// assert_eq!(rt.block_on(rt.spawn(async { 7 })).unwrap(), 7);
    ///
    /// // Settings are checked here, not by the setters.
    /// let err = builder.event_interval(0).build().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidInput);
    /// ```
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
            reactor,
            spawner,
        };
        Ok(Runtime {
            executor,
            handle,
            driver,
        })
    }
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new_multi_thread()
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
