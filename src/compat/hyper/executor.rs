//! `WeftExecutor`: hyper's background tasks as weft tasks.

use crate::{Handle, TryCurrentError};
use std::future::Future;

/// Runs the tasks hyper hands off (an HTTP/2 stream, a client connection's
/// background work) as weft tasks, on the runtime it was made for.
///
/// Unlike hyper-util's `TokioExecutor`, which spawns on whatever tokio
/// runtime is current when a task comes, a `WeftExecutor` holds its
/// runtime's [`Handle`], so it works from any thread and never panics in
/// [`execute`](hyper::rt::Executor::execute).
///
/// # Examples
///
/// ```
/// use hyper::rt::Executor;
/// use weft::compat::hyper::WeftExecutor;
///
/// let rt = weft::Runtime::new()?;
/// let executor = WeftExecutor::new(rt.handle().clone());
/// let (done, finished) = weft::sync::oneshot::channel();
/// executor.execute(async move {
///     let _ = done.send(42);
/// });
/// assert_eq!(rt.block_on(finished), Ok(42));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct WeftExecutor {
    handle: Handle,
}

impl WeftExecutor {
    /// An executor spawning on the runtime `handle` belongs to.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Runtime::new()?;
    /// let executor = weft::compat::hyper::WeftExecutor::new(rt.handle().clone());
    /// # drop(executor);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new(handle: Handle) -> WeftExecutor {
        WeftExecutor { handle }
    }

    /// An executor spawning on the runtime running on this thread.
    ///
    /// # Panics
    ///
    /// Panics outside a weft runtime; [`WeftExecutor::try_current`] returns
    /// an error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::compat::hyper::WeftExecutor;
    ///
    /// let executor = weft::block_on(async { WeftExecutor::current() });
    /// # drop(executor);
    /// ```
    #[track_caller]
    pub fn current() -> WeftExecutor {
        WeftExecutor::new(Handle::current())
    }

    /// An executor spawning on the runtime running on this thread, or an
    /// error outside one.
    ///
    /// # Errors
    ///
    /// [`TryCurrentError`] when no weft runtime runs on this thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::compat::hyper::WeftExecutor;
    ///
    /// assert!(WeftExecutor::try_current().is_err());
    /// assert!(weft::block_on(async { WeftExecutor::try_current() }).is_ok());
    /// ```
    pub fn try_current() -> Result<WeftExecutor, TryCurrentError> {
        Handle::try_current().map(WeftExecutor::new)
    }
}

impl<F> hyper::rt::Executor<F> for WeftExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, future: F) {
        // Detached: hyper keeps its own handles on what the task does.
        drop(self.handle.spawn(future));
    }
}
