//! `Builder`: the runtime's flavour and settings.

use super::{Handle, Runtime, Scheduler};
use crate::blocking::{BlockingPool, PoolConfig, ThreadHooks, ThreadNameFn};
use crate::park::Park;
use crate::scheduler::{self, Config, current_thread::CurrentThread, multi_thread::MultiThread};
use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

/// The most worker threads a runtime may have (the idle bookkeeping counts
/// them in 16 bits).
const MAX_WORKERS: usize = 0x7fff;

/// The global queue interval before a worker has tuned it, and where it is
/// not tuned (the current-thread runtime).
const DEFAULT_GLOBAL_QUEUE_INTERVAL: u32 = 61;

/// The doc text of every setter that this `Builder` and the `weft` facade's
/// `Builder` share, written once: each of them reads
/// `#[doc = __builder_doc!(setter)]`, then adds its own `# Examples` in its
/// own crate's paths. A setter's meaning changes here, or nowhere.
#[doc(hidden)]
#[macro_export]
macro_rules! __builder_doc {
    (new_multi_thread) => {
        "A builder for a multi-thread runtime: a work-stealing pool of worker threads, one per core by default."
    };
    (new_current_thread) => {
        "A builder for a current-thread runtime: every task runs on the thread inside `block_on`."
    };
    (current_thread) => {
        "Switches to the current-thread flavour: every task runs on the thread inside `block_on`."
    };
    (multi_thread) => {
        "Switches to the multi-thread flavour (the default): a work-stealing pool of worker threads."
    };
    (worker_threads) => {
        "Worker threads of a multi-thread runtime; one per core by default. Ignored by the current-thread flavour. `build` rejects zero and more than 32 767."
    };
    (max_blocking_threads) => {
        "The most threads the blocking pool starts (512 by default). `build` rejects zero."
    };
    (thread_name) => {
        "Names the runtime's threads (`\"weft-worker\"` by default); the blocking pool's threads get the name with `-blocking` appended."
    };
    (thread_name_fn) => {
        "Names each new thread with the result of `f`; the blocking pool's threads get the name with `-blocking` appended."
    };
    (thread_stack_size) => {
        "Stack size of the runtime's threads, worker or blocking, in bytes (std's default if unset)."
    };
    (thread_keep_alive) => {
        "How long an idle blocking thread waits for work before exiting (10 s by default)."
    };
    (global_queue_interval) => {
        "Scheduler ticks between forced looks at the global queue, so work spawned from outside (and work that overflowed a worker's queue) is never starved by local work. Unset, a multi-thread worker tunes it as it runs: about one look per 200 µs of task polls, between 2 and 127 ticks (61 until it has measured, and 61 on the current-thread runtime); set, it is fixed. `build` rejects zero."
    };
    (event_interval) => {
        "Scheduler ticks between non-blocking polls of the driver (I/O events and due timers) while work is ready (61 by default): a tick is a task's poll, or a poll of a `block_on` future that woke itself. `build` rejects zero."
    };
    (block_on_runs_tasks) => {
        "Whether the thread in a multi-thread runtime's `block_on` runs a task its future hands off (true by default): after a poll of the future that spawned or woke a task, that thread runs one queued task itself, so a `main` that sends a request to a task and awaits the reply gets it without waking a worker and sleeping. With `false` it only sleeps while the future waits, as tokio's does, and every task runs on a worker thread (named by `thread_name`). Ignored by the current-thread runtime, whose `block_on` thread runs all its tasks."
    };
    (spin_before_park) => {
        "Extra rounds an idle worker searches for work before it parks (0 by default: measured, spinning does not pay; see `benches/RESULTS.md`)."
    };
    (on_thread_start) => {
        "Runs `f` on each new runtime thread, worker or blocking, before it runs any task: the place to set up thread-local state. A panic in `f` is reported and otherwise ignored."
    };
    (on_thread_stop) => {
        "Runs `f` on each runtime thread, worker or blocking, as it exits. A panic in `f` is reported and otherwise ignored."
    };
}

/// Builds a [`Runtime`] with chosen settings.
///
/// Each setter takes `&mut self` and returns it, so calls chain; `build`
/// checks the settings and starts the threads.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_executor::Runtime;
///
/// let rt = Runtime::builder()
///     .worker_threads(4)
///     .max_blocking_threads(16)
///     .thread_keep_alive(Duration::from_secs(1))
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { 1 }), 1);
/// ```
#[derive(Clone)]
pub struct Builder {
    current_thread: bool,
    worker_threads: Option<usize>,
    max_blocking_threads: usize,
    thread_name: ThreadNameFn,
    thread_stack_size: Option<usize>,
    keep_alive: Duration,
    /// `None`: tuned by each multi-thread worker.
    global_queue_interval: Option<u32>,
    event_interval: u32,
    spin_before_park: u32,
    block_on_runs_tasks: bool,
    driver: Option<Arc<dyn Park>>,
    hooks: ThreadHooks,
}

impl Builder {
    #[doc = crate::__builder_doc!(new_multi_thread)]
    pub fn new_multi_thread() -> Builder {
        Builder {
            current_thread: false,
            worker_threads: None,
            max_blocking_threads: 512,
            thread_name: Arc::new(|| "weft-worker".to_owned()),
            thread_stack_size: None,
            keep_alive: Duration::from_secs(10),
            global_queue_interval: None,
            event_interval: 61,
            spin_before_park: 0,
            block_on_runs_tasks: true,
            driver: None,
            hooks: ThreadHooks::default(),
        }
    }

    #[doc = crate::__builder_doc!(new_current_thread)]
    pub fn new_current_thread() -> Builder {
        let mut builder = Builder::new_multi_thread();
        builder.current_thread = true;
        builder
    }

    #[doc = crate::__builder_doc!(current_thread)]
    pub fn current_thread(&mut self) -> &mut Self {
        self.current_thread = true;
        self
    }

    #[doc = crate::__builder_doc!(multi_thread)]
    pub fn multi_thread(&mut self) -> &mut Self {
        self.current_thread = false;
        self
    }

    #[doc = crate::__builder_doc!(worker_threads)]
    pub fn worker_threads(&mut self, n: usize) -> &mut Self {
        self.worker_threads = Some(n);
        self
    }

    #[doc = crate::__builder_doc!(max_blocking_threads)]
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Self {
        self.max_blocking_threads = n;
        self
    }

    #[doc = crate::__builder_doc!(thread_name)]
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Self {
        let name = name.into();
        self.thread_name = Arc::new(move || name.clone());
        self
    }

    #[doc = crate::__builder_doc!(thread_name_fn)]
    pub fn thread_name_fn(&mut self, f: impl Fn() -> String + Send + Sync + 'static) -> &mut Self {
        self.thread_name = Arc::new(f);
        self
    }

    #[doc = crate::__builder_doc!(thread_stack_size)]
    pub fn thread_stack_size(&mut self, bytes: usize) -> &mut Self {
        self.thread_stack_size = Some(bytes);
        self
    }

    #[doc = crate::__builder_doc!(on_thread_start)]
    ///
    /// The `weft` facade enters its reactor here.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// let started = Arc::new(AtomicUsize::new(0));
    /// let counter = started.clone();
    /// let rt = weft_executor::Runtime::builder()
    ///     .worker_threads(2)
    ///     .on_thread_start(move || {
    ///         counter.fetch_add(1, Ordering::SeqCst);
    ///     })
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async { weft_executor::spawn(async {}).await.unwrap() });
    /// drop(rt);
    /// assert_eq!(started.load(Ordering::SeqCst), 2);
    /// ```
    pub fn on_thread_start(&mut self, f: impl Fn() + Send + Sync + 'static) -> &mut Self {
        self.hooks.start = Some(Arc::new(f));
        self
    }

    #[doc = crate::__builder_doc!(on_thread_stop)]
    pub fn on_thread_stop(&mut self, f: impl Fn() + Send + Sync + 'static) -> &mut Self {
        self.hooks.stop = Some(Arc::new(f));
        self
    }

    #[doc = crate::__builder_doc!(thread_keep_alive)]
    pub fn thread_keep_alive(&mut self, keep_alive: Duration) -> &mut Self {
        self.keep_alive = keep_alive;
        self
    }

    #[doc = crate::__builder_doc!(global_queue_interval)]
    pub fn global_queue_interval(&mut self, ticks: u32) -> &mut Self {
        self.global_queue_interval = Some(ticks);
        self
    }

    #[doc = crate::__builder_doc!(event_interval)]
    pub fn event_interval(&mut self, ticks: u32) -> &mut Self {
        self.event_interval = ticks;
        self
    }

    #[doc = crate::__builder_doc!(spin_before_park)]
    pub fn spin_before_park(&mut self, rounds: u32) -> &mut Self {
        self.spin_before_park = rounds;
        self
    }

    #[doc = crate::__builder_doc!(block_on_runs_tasks)]
    pub fn block_on_runs_tasks(&mut self, enabled: bool) -> &mut Self {
        self.block_on_runs_tasks = enabled;
        self
    }

    /// The driver idle workers park in (I/O and timers). Without one, they
    /// park on condition variables.
    pub fn driver(&mut self, driver: Arc<dyn Park>) -> &mut Self {
        self.driver = Some(driver);
        self
    }

    /// Builds the runtime, starting its worker threads.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if a count or interval is zero; otherwise whatever the
    /// operating system says when it refuses to start a thread.
    pub fn build(&mut self) -> io::Result<Runtime> {
        let invalid = |what: &str| {
            Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{what} must be at least 1"),
            ))
        };
        if self.worker_threads == Some(0) {
            return invalid("worker_threads");
        }
        if self.worker_threads.is_some_and(|n| n > MAX_WORKERS) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("worker_threads must be at most {MAX_WORKERS}"),
            ));
        }
        if self.max_blocking_threads == 0 {
            return invalid("max_blocking_threads");
        }
        if self.global_queue_interval == Some(0) {
            return invalid("global_queue_interval");
        }
        if self.event_interval == 0 {
            return invalid("event_interval");
        }
        let config = Config {
            global_queue_interval: self
                .global_queue_interval
                .unwrap_or(DEFAULT_GLOBAL_QUEUE_INTERVAL),
            tune_global_queue_interval: self.global_queue_interval.is_none(),
            event_interval: self.event_interval,
            spin_before_park: self.spin_before_park,
            block_on_runs_tasks: self.block_on_runs_tasks,
        };
        let name = self.thread_name.clone();
        let blocking = BlockingPool::new(PoolConfig {
            max_threads: self.max_blocking_threads,
            keep_alive: self.keep_alive,
            thread_name: Arc::new(move || format!("{}-blocking", name())),
            stack_size: self.thread_stack_size,
            hooks: self.hooks.clone(),
        });
        let spawner = blocking.spawner().clone();
        let (scheduler, inner) = if self.current_thread {
            let (ct, handle) = CurrentThread::new(config, self.driver.clone(), spawner);
            (
                Scheduler::CurrentThread(ct),
                scheduler::Handle::CurrentThread(handle),
            )
        } else {
            let workers = self.worker_threads.unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_WORKERS))
            });
            let (mt, handle) = MultiThread::launch(
                workers,
                config,
                self.driver.clone(),
                spawner,
                &self.thread_name,
                self.thread_stack_size,
                &self.hooks,
            )?;
            (Scheduler::MultiThread(mt), scheduler::Handle::MultiThread(handle))
        };
        Ok(Runtime {
            scheduler,
            handle: Handle { inner },
            blocking,
            shut_down: false,
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
            .field(
                "flavour",
                &if self.current_thread {
                    "current_thread"
                } else {
                    "multi_thread"
                },
            )
            .field("worker_threads", &self.worker_threads)
            .field("max_blocking_threads", &self.max_blocking_threads)
            .field("thread_name", &(self.thread_name)())
            .field("thread_keep_alive", &self.keep_alive)
            .field("global_queue_interval", &self.global_queue_interval)
            .field("event_interval", &self.event_interval)
            .field("spin_before_park", &self.spin_before_park)
            .field("block_on_runs_tasks", &self.block_on_runs_tasks)
            .field("driver", &self.driver.is_some())
            .field("on_thread_start", &self.hooks.start.is_some())
            .field("on_thread_stop", &self.hooks.stop.is_some())
            .finish()
    }
}
