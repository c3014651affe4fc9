//! async-rs's `Executor` on weft's executor, and its task type.

use super::Weft;
use crate::task::JoinHandle;
use ::async_rs::traits::Executor;
use ::async_rs::util::{Task, TaskImpl};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

impl Executor for Weft {
    type Task<T: Send + 'static> = WeftTask<T>;

    /// [`Handle::block_on`](crate::Handle::block_on): panics on a thread
    /// that already runs asynchronous work, as tokio's does.
    fn block_on<T, F: Future<Output = T>>(&self, f: F) -> T {
        self.handle.block_on(f)
    }

    fn spawn<T: Send + 'static, F: Future<Output = T> + Send + 'static>(&self, f: F) -> Task<WeftTask<T>> {
        WeftTask::new(self.handle.spawn(f)).into()
    }

    fn spawn_blocking<T: Send + 'static, F: FnOnce() -> T + Send + 'static>(
        &self,
        f: F,
    ) -> Task<WeftTask<T>> {
        WeftTask::new(self.handle.spawn_blocking(f)).into()
    }
}

/// A weft task as async-rs sees it: a [`JoinHandle`] whose output is the
/// task's own.
///
/// async-rs's task type has no room for an error, so, as on async-rs's
/// tokio and smol backends, awaiting a task that panicked resumes the
/// panic in the awaiting task, and awaiting one that was aborted (or
/// cancelled through async-rs's `Task::cancel`) panics. Dropping it
/// detaches the task, which keeps running.
///
/// # Examples
///
/// ```
/// use async_rs::traits::*;
///
/// let rt = weft::Runtime::new().unwrap();
/// let kit = weft::compat::async_rs::runtime(rt.handle());
/// let mut task = kit.spawn(std::future::pending::<()>());
/// // Cancelling a task that had not finished gives back nothing.
/// assert_eq!(kit.block_on(task.cancel()), None);
/// ```
pub struct WeftTask<T> {
    /// `None` once cancelled.
    join: Option<JoinHandle<T>>,
}

impl<T> WeftTask<T> {
    fn new(join: JoinHandle<T>) -> WeftTask<T> {
        WeftTask { join: Some(join) }
    }
}

impl<T> Future for WeftTask<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let Some(join) = self.join.as_mut() else {
            panic!("a weft task was polled after it completed or was cancelled");
        };
        match Pin::new(join).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(output)) => {
                self.join = None;
                Poll::Ready(output)
            }
            Poll::Ready(Err(err)) => {
                self.join = None;
                if err.is_panic() {
                    std::panic::resume_unwind(err.into_panic());
                }
                panic!("a weft task awaited through async-rs was cancelled");
            }
        }
    }
}

impl<T: Send + 'static> TaskImpl for WeftTask<T> {
    // The expansion of async-trait's `async fn cancel(&mut self)`.
    fn cancel<'life0, 'async_trait>(
        &'life0 mut self,
    ) -> Pin<Box<dyn Future<Output = Option<T>> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        let join = self.join.take();
        Box::pin(async move {
            let join = join?;
            join.abort();
            // Finished before the abort took: its output; aborted or
            // panicked: nothing, as async-rs's contract says.
            join.await.ok()
        })
    }

    fn detach(&mut self) {
        // Dropping a `JoinHandle` detaches its task.
        self.join = None;
    }
}

impl<T> fmt::Debug for WeftTask<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeftTask").field("join", &self.join).finish()
    }
}
