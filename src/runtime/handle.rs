//! `Handle`: a cloneable reference to a runtime, and the guard that keeps
//! one current on a thread.

use super::WeftSpawn;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use weft_executor::task::JoinHandle;
use weft_primitives::spawner::{self, Spawner};

/// A cloneable, `Send` reference to a [`Runtime`](crate::Runtime): spawns
/// onto it, and enters it on other threads.
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
    pub(super) executor: weft_executor::runtime::Handle,
    pub(super) reactor: weft_reactor::Handle,
    pub(super) spawner: Spawner,
}

/// Keeps a runtime current on this thread until dropped; see
/// [`Runtime::enter`](crate::Runtime::enter).
///
/// # Examples
///
/// ```
/// let rt = weft::Runtime::new().unwrap();
/// let guard = rt.enter();
/// let task = weft::spawn(async { 5 }); // outside `block_on`
/// drop(guard);
/// assert_eq!(rt.block_on(task).unwrap(), 5);
/// ```
#[must_use = "the runtime stops being current when the guard is dropped"]
pub struct EnterGuard<'a> {
    // Dropped in reverse order of entering.
    pub(super) _executor: weft_executor::runtime::EnterGuard<'a>,
    pub(super) _reactor: weft_reactor::EnterGuard,
    pub(super) _spawner: spawner::EnterGuard,
}

// Repeats `weft_executor::runtime::Handle`'s and `Runtime`'s signatures on
// purpose (`duplicates` pairs): the same wrapping as `Runtime`'s methods,
// whose comment says why none can be a re-export.
impl Handle {
    /// The runtime running on this thread.
    ///
    /// # Panics
    ///
    /// Panics outside a weft runtime; [`Handle::try_current`] returns an
    /// error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Runtime::new().unwrap();
    /// let handle = rt.block_on(async { weft::Handle::current() });
    /// // Spawns onto `rt` from a thread outside it.
    /// let task = std::thread::spawn(move || handle.spawn(async { 5 })).join().unwrap();
    /// assert_eq!(rt.block_on(task).unwrap(), 5);
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(weft::Handle::try_current().is_err());
    ///
    /// let rt = weft::Runtime::new().unwrap();
    /// let inside = rt.block_on(async { weft::Handle::try_current().is_ok() });
    /// assert!(inside);
    /// ```
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

    /// Spawns a task on the runtime, from any thread, and returns its
    /// [`JoinHandle`]. The task starts at once; dropping the handle detaches
    /// it.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Runtime::new().unwrap();
    /// let handle = rt.handle().clone();
    /// let task = std::thread::spawn(move || handle.spawn(async { 5 })).join().unwrap();
    /// assert_eq!(rt.block_on(task).unwrap(), 5);
    /// ```
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.executor.spawn(future)
    }

    /// Runs `f` on the runtime's blocking pool, from any thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Runtime::new().unwrap();
    /// let read = rt.handle().spawn_blocking(|| "a blocking read");
    /// assert_eq!(rt.block_on(read).unwrap(), "a blocking read");
    /// ```
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
    /// [`Runtime::block_on`](crate::Runtime::block_on): this thread runs the
    /// tasks and the reactor unless another thread is inside `block_on`
    /// already, in which case it waits for `future` (and takes over if that
    /// thread leaves first). Unlike tokio's, whose `Handle::block_on` never
    /// drives a current-thread runtime, timers and sockets therefore work
    /// here from any thread.
    ///
    /// # Panics
    ///
    /// Panics if called from a thread that already runs asynchronous work (a
    /// worker, a task, or inside another `block_on`), as a nested
    /// [`Runtime::block_on`](crate::Runtime::block_on) does: use `.await`
    /// there, or call it from [`spawn_blocking`](crate::task::spawn_blocking)
    /// or a plain thread. Panics if `future` panics.
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

    /// Makes the runtime current on this thread until the guard drops: tasks
    /// can be spawned, and sockets and timers created, outside `block_on`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Runtime::new().unwrap();
    /// let handle = rt.handle().clone();
    /// let task = std::thread::spawn(move || {
    ///     let _guard = handle.enter();
    ///     weft::spawn(async { 5 })
    /// })
    /// .join()
    /// .unwrap();
    /// assert_eq!(rt.block_on(task).unwrap(), 5);
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Runtime::new().unwrap();
    /// let now = rt.handle().spawner().now();
    /// assert!(now <= std::time::Instant::now());
    /// ```
    pub fn spawner(&self) -> &Spawner {
        &self.spawner
    }

    /// The runtime's reactor, for adapters that create timers and sockets
    /// for it from any thread.
    #[cfg(feature = "async-rs")]
    pub(crate) fn reactor(&self) -> &weft_reactor::Handle {
        &self.reactor
    }

    /// Tasks spawned and not yet finished.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Runtime::new().unwrap();
    /// let (tx, rx) = weft::sync::oneshot::channel::<()>();
    /// let task = rt.spawn(async move { rx.await.ok() });
    /// assert_eq!(rt.handle().num_alive_tasks(), 1);
    /// tx.send(()).unwrap();
    /// rt.block_on(task).unwrap();
    /// ```
    pub fn num_alive_tasks(&self) -> usize {
        self.executor.num_alive_tasks()
    }
}

/// The error of [`Handle::try_current`] outside a weft runtime.
///
/// # Examples
///
/// ```
/// let err = weft::Handle::try_current().unwrap_err();
/// assert_eq!(err.to_string(), "no weft runtime is running on this thread");
/// ```
#[derive(Debug)]
pub struct TryCurrentError(());

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no weft runtime is running on this thread")
    }
}

impl std::error::Error for TryCurrentError {}

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
