//! The shared bench harness: the same workload runs on weft, tokio and smol.
//!
//! Each runtime gets an adapter with one small interface — spawn a task,
//! yield, block on a future — and each adapter uses that runtime's own
//! idiomatic path: `weft::spawn` and `tokio::spawn` find their runtime in a
//! thread-local context; smol's executor is a global `static` (its usual
//! style), reached without even a thread-local lookup.
//!
//! Flavours:
//! * `multi`: two workers each — weft and tokio multi-thread runtimes with
//!   `worker_threads(2)`, smol's `async_executor::Executor` run by two threads;
//! * `current`: one thread — weft and tokio current-thread runtimes, smol's
//!   `LocalExecutor` driven by `futures_lite::future::block_on`.
//!
//! Workloads synchronize with `tokio::sync` primitives, which are
//! runtime-agnostic, so all three runtimes use the very same channels.

#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;
use std::task::{Context, Poll};

/// Spawning and yielding inside a runtime.
pub trait Exec: Copy + Send + Sync + 'static {
    type Join<T: Send + 'static>: Future<Output = T> + Send + 'static;

    /// Spawns onto the runtime this is called from (or that the adapter names).
    fn spawn<F>(self, future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Spawns and lets the task run on without a handle.
    fn spawn_detached<F>(self, future: F)
    where
        F: Future<Output = ()> + Send + 'static;

    fn yield_now(self) -> impl Future<Output = ()> + Send;
}

/// A runtime under test: its `Exec` and its `block_on`.
pub trait Bench {
    type E: Exec;
    const NAME: &'static str;
    fn exec(&self) -> Self::E;
    fn block_on<F: Future>(&self, future: F) -> F::Output;
    /// `block_on` as a `main` driving a client would write it: the same for
    /// weft and tokio; for smol's multi-thread flavour
    /// `block_on(executor.run(future))`, so that the waiting thread runs
    /// tasks too, as smol's documentation recommends.
    fn block_on_main<F: Future>(&self, future: F) -> F::Output {
        self.block_on(future)
    }
}

/// Unwraps a `Result`-returning join handle into its value.
pub struct Unwrap<J>(J);

impl<J, T, E> Future for Unwrap<J>
where
    J: Future<Output = Result<T, E>> + Unpin,
    E: std::fmt::Debug,
{
    type Output = T;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|r| r.expect("benchmark task failed"))
    }
}

// ---- weft ----

#[derive(Clone, Copy)]
pub struct WeftExec;

impl Exec for WeftExec {
    type Join<T: Send + 'static> = Unwrap<weft::task::JoinHandle<T>>;

    fn spawn<F>(self, future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Unwrap(weft::spawn(future))
    }

    fn spawn_detached<F>(self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(weft::spawn(future));
    }

    fn yield_now(self) -> impl Future<Output = ()> + Send {
        weft::task::yield_now()
    }
}

pub struct Weft(pub weft::Runtime);

impl Weft {
    pub fn multi() -> Weft {
        let mut builder = weft::Runtime::builder();
        builder.worker_threads(2);
        // For measuring what spinning before parking buys (see RESULTS.md).
        if let Some(spins) = std::env::var("WEFT_BENCH_SPIN").ok().and_then(|s| s.parse().ok()) {
            builder.spin_before_park(spins);
        }
        Weft(builder.build().unwrap())
    }
    pub fn current() -> Weft {
        Weft(weft::Builder::new_current_thread().build().unwrap())
    }
}

impl Bench for Weft {
    type E = WeftExec;
    const NAME: &'static str = "weft";
    fn exec(&self) -> WeftExec {
        WeftExec
    }
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }
}

// ---- tokio ----

#[derive(Clone, Copy)]
pub struct TokioExec;

impl Exec for TokioExec {
    type Join<T: Send + 'static> = Unwrap<tokio::task::JoinHandle<T>>;

    fn spawn<F>(self, future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Unwrap(tokio::spawn(future))
    }

    fn spawn_detached<F>(self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(tokio::spawn(future));
    }

    fn yield_now(self) -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }
}

pub struct Tokio(pub tokio::runtime::Runtime);

impl Tokio {
    pub fn multi() -> Tokio {
        Tokio(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap(),
        )
    }
    pub fn current() -> Tokio {
        Tokio(tokio::runtime::Builder::new_current_thread().build().unwrap())
    }
}

impl Bench for Tokio {
    type E = TokioExec;
    const NAME: &'static str = "tokio";
    fn exec(&self) -> TokioExec {
        TokioExec
    }
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }
}

// ---- smol (async-executor) ----

/// The multi-thread executor, run by two threads for the whole process.
static SMOL: LazyLock<&'static async_executor::Executor<'static>> = LazyLock::new(|| {
    let ex: &'static async_executor::Executor<'static> = Box::leak(Box::new(async_executor::Executor::new()));
    for i in 0..2 {
        std::thread::Builder::new()
            .name(format!("smol-{i}"))
            .spawn(move || futures_lite::future::block_on(ex.run(std::future::pending::<()>())))
            .unwrap();
    }
    ex
});

#[derive(Clone, Copy)]
pub struct SmolExec;

impl Exec for SmolExec {
    type Join<T: Send + 'static> = async_executor::Task<T>;

    fn spawn<F>(self, future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        SMOL.spawn(future)
    }

    fn spawn_detached<F>(self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        SMOL.spawn(future).detach();
    }

    fn yield_now(self) -> impl Future<Output = ()> + Send {
        futures_lite::future::yield_now()
    }
}

pub struct Smol;

impl Bench for Smol {
    type E = SmolExec;
    const NAME: &'static str = "smol";
    fn exec(&self) -> SmolExec {
        LazyLock::force(&SMOL);
        SmolExec
    }
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        futures_lite::future::block_on(future)
    }
    fn block_on_main<F: Future>(&self, future: F) -> F::Output {
        futures_lite::future::block_on(SMOL.run(future))
    }
}

std::thread_local! {
    /// The single-thread executor of the thread that benchmarks it.
    static SMOL_LOCAL: &'static async_executor::LocalExecutor<'static> =
        Box::leak(Box::new(async_executor::LocalExecutor::new()));
}

#[derive(Clone, Copy)]
pub struct SmolLocalExec;

impl Exec for SmolLocalExec {
    type Join<T: Send + 'static> = async_executor::Task<T>;

    fn spawn<F>(self, future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        SMOL_LOCAL.with(|ex| ex.spawn(future))
    }

    fn spawn_detached<F>(self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        SMOL_LOCAL.with(|ex| ex.spawn(future).detach());
    }

    fn yield_now(self) -> impl Future<Output = ()> + Send {
        futures_lite::future::yield_now()
    }
}

pub struct SmolLocal;

impl Bench for SmolLocal {
    type E = SmolLocalExec;
    const NAME: &'static str = "smol";
    fn exec(&self) -> SmolLocalExec {
        SmolLocalExec
    }
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        let ex = SMOL_LOCAL.with(|ex| *ex);
        futures_lite::future::block_on(ex.run(future))
    }
}
