//! The cooperative budget: a task that keeps finding work ready gives the
//! worker back after a bounded number of operations.
//!
//! Before each poll the scheduler grants the task a budget of
//! [`BUDGET`] operations. Leaf futures that can be ready many times in a row
//! (a `JoinHandle`, and any future that calls [`poll_proceed`]) spend one unit
//! each time they make progress; once the budget is spent they return
//! `Pending` after waking the task, which then goes to the back of the run
//! queue. Outside a runtime the budget is unlimited.

use crate::context;
use std::task::{Context, Poll};

// ANCHOR: coop-budget
/// Operations a task may perform per poll before it is made to yield.
pub const BUDGET: u8 = 128;
// ANCHOR_END: coop-budget

/// The budget of the current poll: `None` means unconstrained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Budget(Option<u8>);

impl Budget {
    pub(crate) const fn unconstrained() -> Budget {
        Budget(None)
    }

    const fn initial() -> Budget {
        Budget(Some(BUDGET))
    }
}

/// Runs `f` with a fresh budget, restoring the previous budget afterwards
/// (also if `f` unwinds).
pub(crate) fn with_budget<R>(f: impl FnOnce() -> R) -> R {
    with_budget_set(Budget::initial(), f)
}

/// Grants a fresh budget on the thread whose context is `cx`: the
/// scheduler loops call this before each task, with the context in hand.
pub(crate) fn reset(cx: &context::Context) {
    cx.budget.set(Budget::initial());
}

/// Lifts any budget limit on this thread when dropped, so code running after
/// a scheduler loop (on unwind too) is not left constrained.
pub(crate) struct Unconstrain;

impl Drop for Unconstrain {
    fn drop(&mut self) {
        context::with(|cx| cx.budget.set(Budget::unconstrained()));
    }
}

/// Runs `f` with no budget limit.
pub(crate) fn with_unconstrained<R>(f: impl FnOnce() -> R) -> R {
    with_budget_set(Budget::unconstrained(), f)
}

fn with_budget_set<R>(budget: Budget, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Budget>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(prev) = self.0 {
                context::with(|cx| cx.budget.set(prev));
            }
        }
    }
    let _restore = Restore(context::with(|cx| cx.budget.replace(budget)));
    f()
}

// ANCHOR: coop-poll-budget
/// Returns `Pending` (after waking the task, as `yield_now` does: after the
/// driver's next turn) if the budget is spent; does not spend anything itself.
pub(crate) fn poll_budget(cx: &mut Context<'_>) -> Poll<()> {
    let spent = context::with(|c| c.budget.get() == Budget(Some(0))).unwrap_or(false);
    if spent {
        crate::scheduler::defer(cx.waker());
        Poll::Pending
    } else {
        Poll::Ready(())
    }
}

/// Spends one unit of the budget, if there is a limit.
pub(crate) fn consume_one() {
    context::with(|cx| {
        if let Budget(Some(n)) = cx.budget.get() {
            cx.budget.set(Budget(Some(n.saturating_sub(1))));
        }
    });
}
// ANCHOR_END: coop-poll-budget

/// Asks permission to make progress: `Ready` spends one unit of the current
/// task's budget; `Pending` means the budget is spent, and the task has been
/// woken so it runs again after the others had their turn.
///
/// Call this from a leaf future that can be ready many times in a row (a
/// channel receiver with a full buffer, a socket with data waiting), before
/// doing the work.
///
/// # Examples
///
/// ```
/// use std::future::poll_fn;
/// use std::task::Poll;
/// use weft_executor::{coop, Runtime};
///
/// let rt = Runtime::builder().current_thread().build().unwrap();
/// let steps = rt.block_on(async {
///     let mut steps = 0;
///     // Always ready, but still yields once the budget is spent.
///     poll_fn(|cx| {
///         std::task::ready!(coop::poll_proceed(cx));
///         steps += 1;
///         if steps == 1_000 { Poll::Ready(()) } else { cx.waker().wake_by_ref(); Poll::Pending }
///     })
///     .await;
///     steps
/// });
/// assert_eq!(steps, 1_000);
/// ```
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    // `poll_budget` then `consume_one`, in one look at the thread-local
    // context: the primitives call this on every completed operation.
    let spent = context::with(|c| match c.budget.get() {
        Budget(Some(0)) => true,
        Budget(Some(n)) => {
            c.budget.set(Budget(Some(n - 1)));
            false
        }
        Budget(None) => false,
    })
    .unwrap_or(false);
    if spent {
        crate::scheduler::defer(cx.waker());
        Poll::Pending
    } else {
        Poll::Ready(())
    }
}

/// Gives back one unit that [`poll_proceed`] took, for a leaf future that
/// then found nothing to do and returns `Pending`: only completed operations
/// should spend the budget. Does nothing outside a runtime.
///
/// # Examples
///
/// ```
/// use std::future::poll_fn;
/// use std::task::Poll;
/// use weft_executor::{coop, Runtime};
///
/// let rt = Runtime::builder().current_thread().build().unwrap();
/// rt.block_on(poll_fn(|cx| {
///     std::task::ready!(coop::poll_proceed(cx));
///     let nothing_to_do = true;
///     if nothing_to_do {
///         coop::refund(); // the budget is as it was before this poll
///     }
///     Poll::Ready(())
/// }));
/// ```
pub fn refund() {
    context::with(|cx| {
        if let Budget(Some(n)) = cx.budget.get() {
            cx.budget.set(Budget(Some(n.saturating_add(1).min(BUDGET))));
        }
    });
}

/// Returns true if the current task may still make progress without
/// yielding (always true outside a runtime).
pub fn has_budget_remaining() -> bool {
    context::with(|cx| cx.budget.get() != Budget(Some(0))).unwrap_or(true)
}

/// Spends one unit of the budget, yielding to the scheduler first if it is
/// spent. Use it in a loop of work that never awaits anything pending.
///
/// # Examples
///
/// ```
/// # use weft_executor as weft;
/// use weft::{task, Runtime};
///
/// let rt = Runtime::new().unwrap();
/// let total: u64 = rt.block_on(async {
///     let mut total = 0;
///     for i in 0..10_000u64 {
///         task::consume_budget().await;
///         total += i;
///     }
///     total
/// });
/// assert_eq!(total, 49_995_000);
/// ```
pub async fn consume_budget() {
    std::future::poll_fn(poll_proceed).await
}
