//! `Handle`: a cloneable reference to a runtime.

use crate::context;
use crate::scheduler;
use crate::task::JoinHandle;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;

/// A cloneable, `Send` reference to a [`Runtime`](crate::Runtime), used to
/// spawn onto it from anywhere.
///
/// A handle does not keep the runtime alive: once the runtime is dropped,
/// tasks spawned through the handle are cancelled at once (their
/// `JoinHandle`s resolve to a cancelled [`JoinError`](crate::task::JoinError)).
///
/// # Examples
///
/// ```
/// use weft_executor::Runtime;
///
/// let rt = Runtime::new().unwrap();
/// let handle = rt.handle().clone();
/// let task = std::thread::spawn(move || handle.spawn(async { 5 }))
///     .join()
///     .unwrap();
/// assert_eq!(rt.block_on(task).unwrap(), 5);
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(crate) inner: scheduler::Handle,
}

/// Returned by [`Handle::try_current`] when no runtime is running here.
#[derive(Debug)]
pub struct TryCurrentError {
    thread_local_destroyed: bool,
}

/// Keeps a runtime current on this thread until dropped; see [`Handle::enter`].
///
/// The guard restores whatever was current before, so guards must be dropped
/// in the reverse order they were made, on the thread that made them; it is
/// `!Send` to keep it there.
#[must_use = "the runtime stops being current when the guard is dropped"]
pub struct EnterGuard<'a> {
    _current: context::SetCurrentGuard,
    /// Borrows the handle, and is `!Send`.
    _handle: PhantomData<(&'a Handle, *const ())>,
}

impl Handle {
    /// The runtime running on this thread.
    ///
    /// # Panics
    ///
    /// Panics if no runtime runs here (outside `block_on`, a task, a blocking
    /// task or an [`enter`](Handle::enter) guard); use
    /// [`try_current`](Handle::try_current) to get an error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_executor::{runtime::Handle, Runtime};
    ///
    /// let rt = Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let handle = Handle::current();
    ///     let task = handle.spawn(async { "spawned through the handle" });
    ///     assert_eq!(task.await.unwrap(), "spawned through the handle");
    /// });
    /// ```
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Ok(handle) => handle,
            Err(err) => panic!("{err}"),
        }
    }

    /// The runtime running on this thread, or an error if there is none.
    ///
    /// # Errors
    ///
    /// [`TryCurrentError`] when no runtime runs on this thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_executor::runtime::Handle;
    ///
    /// assert!(Handle::try_current().is_err());
    /// ```
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        match context::with(|cx| cx.handle.borrow().clone()) {
            Some(Some(inner)) => Ok(Handle { inner }),
            Some(None) => Err(TryCurrentError {
                thread_local_destroyed: false,
            }),
            None => Err(TryCurrentError {
                thread_local_destroyed: true,
            }),
        }
    }

    /// Spawns a task on this runtime and returns its [`JoinHandle`].
    ///
    /// The task starts at once, whether or not the handle is awaited;
    /// dropping the `JoinHandle` detaches it. If the runtime has shut down,
    /// the future is dropped and the handle resolves to a cancelled error.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft_executor::Runtime::new().unwrap();
    /// let task = rt.handle().spawn(async { 2 + 2 });
    /// assert_eq!(rt.block_on(task).unwrap(), 4);
    /// ```
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.spawn(future)
    }

    /// Runs `f` on the runtime's blocking pool and returns a [`JoinHandle`]
    /// for its result. A panic in `f` reaches the handle as a
    /// [`JoinError`](crate::task::JoinError).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft_executor::Runtime::new().unwrap();
    /// let task = rt.handle().spawn_blocking(|| std::fs::metadata(".").is_ok());
    /// assert!(rt.block_on(task).unwrap());
    /// ```
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.inner.spawn_blocking(f)
    }

    /// Runs `future` to completion on the current thread, with this runtime
    /// entered, and returns its output: inside it, [`spawn`](crate::spawn),
    /// [`Handle::current`] and the driver's timers and sockets refer to this
    /// runtime.
    ///
    /// On a **multi-thread** runtime the workers run the tasks, and this
    /// thread runs a queued task after each poll of `future` that returns
    /// `Pending`, as
    /// [`Runtime::block_on`](crate::Runtime::block_on) does (where tokio's
    /// `Handle::block_on` thread only sleeps).
    ///
    /// On a **current-thread** runtime this is `Runtime::block_on`: if no
    /// other thread is inside `block_on`, this one runs the runtime's tasks
    /// and its driver until `future` completes; if one is, this thread polls
    /// only `future` and takes over the tasks if that thread leaves first.
    /// This is where weft departs from tokio, whose `Handle::block_on` never
    /// drives a current-thread runtime's tasks, timers or sockets.
    ///
    /// Once the runtime has been dropped, `future` is still run to
    /// completion, but tasks spawned in it are cancelled at once.
    ///
    /// # Panics
    ///
    /// Panics if called from a thread that already drives asynchronous work
    /// (a worker, a task, or inside another `block_on`), with the same
    /// message as a nested [`Runtime::block_on`](crate::Runtime::block_on):
    /// use `.await` there, or call this from
    /// [`spawn_blocking`](crate::task::spawn_blocking) or a plain thread.
    /// Panics if `future` panics, and, on a current-thread runtime pinned to
    /// a thread by [`spawn_local`](crate::task::spawn_local), when called
    /// from another thread while the tasks are free to take.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_executor::Runtime;
    ///
    /// let rt = Runtime::builder().current_thread().build().unwrap();
    /// let handle = rt.handle().clone();
    /// // From another thread, through the handle only.
    /// let n = std::thread::spawn(move || {
    ///     handle.block_on(async {
    ///         let task = weft_executor::spawn(async { 20 });
    ///         task.await.unwrap() + 1
    ///     })
    /// })
    /// .join()
    /// .unwrap();
    /// assert_eq!(n, 21);
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.inner.block_on(future)
    }

    /// Makes this runtime current on this thread until the guard drops.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft_executor::Runtime::new().unwrap();
    /// let task = {
    ///     let _guard = rt.handle().enter();
    ///     weft_executor::spawn(async { "ok" })
    /// };
    /// assert_eq!(rt.block_on(task).unwrap(), "ok");
    /// ```
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard {
            _current: context::set_current(self.inner.clone()),
            _handle: PhantomData,
        }
    }

    /// How many spawned tasks have not completed yet.
    pub fn num_alive_tasks(&self) -> usize {
        self.inner.num_tasks()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Handle").field(&self.inner).finish()
    }
}

impl fmt::Debug for EnterGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

impl TryCurrentError {
    /// True if no runtime was entered on this thread.
    pub fn is_missing_context(&self) -> bool {
        !self.thread_local_destroyed
    }

    /// True if the thread is exiting and its thread-locals are gone.
    pub fn is_thread_local_destroyed(&self) -> bool {
        self.thread_local_destroyed
    }
}

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.thread_local_destroyed {
            f.write_str("the weft runtime context is gone: this thread is shutting down")
        } else {
            f.write_str(
                "no weft runtime is running on this thread: call this from inside `Runtime::block_on` \
                 or a task, or spawn through a `Runtime` or `Handle` you hold",
            )
        }
    }
}

impl std::error::Error for TryCurrentError {}
