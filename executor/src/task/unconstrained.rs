//! `unconstrained`: run a future outside the cooperative budget.

use crate::coop;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A future that runs its inner future with no cooperative budget; made by
/// [`unconstrained`].
#[must_use = "futures do nothing unless polled"]
pub struct Unconstrained<F> {
    inner: F,
}

/// Runs `future` with no cooperative budget limit.
///
/// Inside it, leaf futures (a `JoinHandle`, anything that calls
/// [`coop::poll_proceed`]) never make the task yield because the budget is
/// spent, and they spend nothing: the budget the task had before is exactly
/// what it has afterwards.
///
/// Use it sparingly. The budget is what keeps a task that always finds work
/// ready from starving the others on its worker; an unconstrained loop that
/// never meets a truly pending future holds its worker for as long as it
/// runs.
///
/// # Examples
///
/// ```
/// use std::future::poll_fn;
/// use std::task::Poll;
/// use weft_executor::{coop, task, Runtime};
///
/// let rt = Runtime::builder().current_thread().build().unwrap();
/// let yields = rt.block_on(async {
///     task::unconstrained(async {
///         let mut yields = 0;
///         for _ in 0..1_000 {
///             // Ready at once every time: never forced to yield here.
///             poll_fn(|cx| match coop::poll_proceed(cx) {
///                 Poll::Ready(()) => Poll::Ready(()),
///                 Poll::Pending => {
///                     yields += 1;
///                     Poll::Pending
///                 }
///             })
///             .await;
///         }
///         yields
///     })
///     .await
/// });
/// assert_eq!(yields, 0);
/// ```
pub fn unconstrained<F: Future>(future: F) -> Unconstrained<F> {
    Unconstrained { inner: future }
}

impl<F: Future> Future for Unconstrained<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: structural pinning of `inner`: it is never moved out of
        // `Unconstrained` or handed out unpinned, `Unconstrained` has no
        // `Drop` of its own and is `Unpin` only when `F` is.
        let inner = unsafe { self.map_unchecked_mut(|this| &mut this.inner) };
        coop::with_unconstrained(|| inner.poll(cx))
    }
}

impl<F> fmt::Debug for Unconstrained<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unconstrained").finish_non_exhaustive()
    }
}
