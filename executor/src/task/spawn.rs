//! `spawn`, `spawn_local`, `spawn_blocking`: start work on the current runtime.

use super::JoinHandle;
use crate::context;
use crate::scheduler::{self, current_thread};
use std::future::Future;

const NO_RUNTIME: &str = "no weft runtime is running on this thread, so there is nowhere to spawn to: \
     call `spawn` from inside `Runtime::block_on` or a task, or use `Runtime::spawn` / `Handle::spawn`";

/// Spawns a task on the current runtime and returns its [`JoinHandle`].
///
/// The task starts running at once, on a worker (or, on a current-thread
/// runtime, on the thread in `block_on`), whether or not the handle is ever
/// awaited. Dropping the handle detaches the task.
///
/// A panic in the task reaches the handle as a [`JoinError`](crate::task::JoinError)
/// and the worker goes on. The task's future is dropped while that panic
/// unwinds (so its destructors see `std::thread::panicking()`, as under
/// tokio); a destructor that panics *then* aborts the process, as a second
/// panic during unwinding always does in Rust.
///
/// Unlike tokio, a runtime numbers its live tasks: a spawn beyond 2^28
/// (268 million) live tasks in one shard of its registry (a current-thread
/// runtime has one shard, a multi-thread runtime 16 per worker) cancels the
/// new task on the spot, and its handle resolves to a cancelled
/// [`JoinError`](crate::task::JoinError), as a spawn after shutdown does.
///
/// # Panics
///
/// Panics if called outside a runtime. [`Handle::try_current`](crate::runtime::Handle::try_current)
/// says whether there is one; [`Runtime::spawn`](crate::Runtime::spawn) works
/// from anywhere.
///
/// # Examples
///
/// ```
/// # use weft_executor as weft;
/// let rt = weft::Runtime::new().unwrap();
/// let out = rt.block_on(async {
///     let a = weft::spawn(async { 1 });
///     let b = weft::spawn(async { 2 });
///     a.await.unwrap() + b.await.unwrap()
/// });
/// assert_eq!(out, 3);
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    // The handle is cloned out rather than borrowed during the spawn: a
    // future dropped on the spot (spawned after shutdown) may itself enter a
    // runtime from its `Drop`.
    match context::current_handle() {
        Some(handle) => handle.spawn(future),
        None => panic!("{NO_RUNTIME}"),
    }
}

/// Spawns a future that is not `Send` onto this thread: into the
/// [`LocalSet`](crate::task::LocalSet) this thread is running, or else onto
/// the current-thread runtime this thread is running.
///
/// The task runs on this thread only.
///
/// * Inside [`LocalSet::run_until`](crate::task::LocalSet::run_until) (or a
///   task of the set) the task goes into that set, on either runtime.
/// * Otherwise, inside `block_on` of a current-thread runtime (or a task of
///   it), it goes onto that runtime. The first such `spawn_local` pins the
///   runtime to this thread: `block_on` on another thread then panics, and
///   if the runtime is dropped on another thread its local futures are
///   leaked rather than dropped there.
///
/// Tokio's `spawn_local` panics outside a `LocalSet`; weft also accepts a
/// current-thread runtime, as above.
///
/// # Panics
///
/// Panics in neither case: on a multi-thread runtime outside a `LocalSet`,
/// or outside any runtime.
///
/// # Examples
///
/// ```
/// # use weft_executor as weft;
/// use std::rc::Rc;
/// use weft::{task, Runtime};
///
/// let rt = Runtime::builder().current_thread().build().unwrap();
/// let n = rt.block_on(async {
///     let shared = Rc::new(5); // not Send
///     let task = task::spawn_local({
///         let shared = shared.clone();
///         async move { *shared * 2 }
///     });
///     task.await.unwrap()
/// });
/// assert_eq!(n, 10);
///
/// // On the multi-thread runtime, inside a `LocalSet`:
/// let rt = Runtime::new().unwrap();
/// let local = task::LocalSet::new();
/// let n = local.block_on(&rt, async {
///     let shared = Rc::new(6);
///     task::spawn_local(async move { *shared * 2 }).await.unwrap()
/// });
/// assert_eq!(n, 12);
/// ```
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let future = match super::local_set::try_spawn_local(future) {
        Ok(join) => return join,
        Err(future) => future,
    };
    let handle = context::with_core(|core| match core {
        Some(scheduler::Core::CurrentThread(core)) => Some(core.handle().clone()),
        _ => None,
    });
    match handle {
        Some(handle) => current_thread::Handle::spawn_local(&handle, future),
        None => panic!(
            "`spawn_local` needs a `LocalSet` (inside `LocalSet::run_until` or `LocalSet::block_on`) \
             or a current-thread runtime running on this thread (inside `block_on` of \
             `Runtime::builder().current_thread().build()`); otherwise spawn a `Send` future with `spawn`"
        ),
    }
}

/// Runs a blocking closure on the current runtime's blocking pool, keeping it
/// off the async workers, and returns a [`JoinHandle`] for its result.
///
/// Use it for work that blocks the thread: file system calls, CPU-heavy
/// loops, blocking libraries. The closure cannot be aborted once it runs.
///
/// # Panics
///
/// Panics if called outside a runtime; use
/// [`Runtime::spawn_blocking`](crate::Runtime::spawn_blocking) from outside.
///
/// # Examples
///
/// ```
/// # use weft_executor as weft;
/// let rt = weft::Runtime::new().unwrap();
/// let sum = rt.block_on(async {
///     weft::task::spawn_blocking(|| (1..=100u32).sum::<u32>())
///         .await
///         .unwrap()
/// });
/// assert_eq!(sum, 5050);
/// ```
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    match context::current_handle() {
        Some(handle) => handle.spawn_blocking(f),
        None => panic!("{NO_RUNTIME}"),
    }
}
