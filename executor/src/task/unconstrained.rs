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
/// [`coop::poll_proceed`], [`consume_budget`](crate::task::consume_budget)) never make the task yield because the budget is
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
/// # use weft_executor as weft;
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use weft::{task, Runtime};
///
/// let rt = Runtime::builder().current_thread().build().unwrap();
/// rt.block_on(async {
///     let other_ran = Arc::new(AtomicBool::new(false));
///     let flag = Arc::clone(&other_ran);
///     let other = weft::spawn(async move { flag.store(true, Ordering::SeqCst) });
///     task::unconstrained(async {
///         // Far more than one budget's worth: never made to yield here,
///         // so the other task has not had a turn yet.
///         for _ in 0..1_000 {
///             task::consume_budget().await;
///         }
///         assert!(!other_ran.load(Ordering::SeqCst));
///     })
///     .await;
///     other.await.unwrap();
///     assert!(other_ran.load(Ordering::SeqCst));
/// });
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
