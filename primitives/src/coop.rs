//! The cooperative budget, as the primitives see it: a hook the runtime
//! installs, and a no-op everywhere else.
//!
//! A task that receives from a channel that always has a value, or locks a
//! mutex nobody else wants, never returns `Pending` on its own: without
//! help it would keep its worker forever and starve the other tasks and the
//! I/O driver. weft's executor gives each poll a budget of operations; the
//! primitives spend one unit each time a waiting operation (a `recv`, a
//! `send` into a bounded channel, an `acquire`, a `lock`, a `notified`)
//! completes, and once the budget is spent they return `Pending` after
//! waking the task, so that it goes to the back of the run queue.
//!
//! The primitives know no executor, so the budget reaches them through a
//! [`Hook`]: two plain functions that a runtime installs once per process
//! with [`install`]. weft's facade installs its executor's budget when it
//! builds a runtime. Until some runtime installs a hook, and on threads
//! where the installed runtime is not running (a tokio or smol worker), the
//! check is free and always says "go on".
//!
//! Every operation that waits asks `poll_proceed` before doing anything,
//! and hands back the unit it took, with `Proceed`'s drop, when it finds
//! nothing to do: only completed operations spend budget.

use std::fmt;
use std::sync::OnceLock;
use std::task::{Context, Poll};

/// A runtime's cooperative budget, as two functions.
///
/// # Examples
///
/// A hook that never makes a task yield (what the primitives do when no
/// hook is installed):
///
/// ```
/// use std::task::Poll;
/// use weft_primitives::coop::Hook;
///
/// let hook = Hook {
///     proceed: |_cx| Poll::Ready(()),
///     refund: || {},
/// };
/// # let _ = hook;
/// ```
#[derive(Clone, Copy)]
pub struct Hook {
    /// Takes one unit of the current task's budget and returns `Ready`; or,
    /// if the budget is spent, wakes the task and returns `Pending`. Must
    /// return `Ready` on a thread the runtime is not running.
    pub proceed: fn(&mut Context<'_>) -> Poll<()>,
    /// Gives back one unit that `proceed` took, for an operation that then
    /// found nothing to do.
    pub refund: fn(),
}

static HOOK: OnceLock<Hook> = OnceLock::new();

/// Installs `hook` for the whole process. Only the first call counts: it
/// returns `false`, changing nothing, if a hook was installed before.
///
/// # Examples
///
/// ```
/// use std::task::Poll;
/// use weft_primitives::coop::{self, Hook};
///
/// // A runtime with no budget of its own: nothing to install. The facade
/// // `weft` installs its executor's budget when it builds a runtime.
/// let first = coop::install(Hook { proceed: |_| Poll::Ready(()), refund: || {} });
/// assert!(first || coop::installed());
/// ```
pub fn install(hook: Hook) -> bool {
    HOOK.set(hook).is_ok()
}

/// Whether a runtime has installed its budget hook in this process.
pub fn installed() -> bool {
    HOOK.get().is_some()
}

/// Permission to make progress, taken from the current task's budget.
///
/// Call [`made_progress`](Proceed::made_progress) once the operation
/// completed; dropped without that call, it gives the unit back.
#[must_use = "dropping it at once gives the budget unit back"]
pub struct Proceed {
    hook: Option<&'static Hook>,
}

impl Proceed {
    /// The operation completed: the unit stays spent.
    #[inline]
    pub fn made_progress(mut self) {
        self.hook = None;
    }
}

impl Drop for Proceed {
    #[inline]
    fn drop(&mut self) {
        if let Some(hook) = self.hook {
            (hook.refund)();
        }
    }
}

/// Asks the installed runtime for one unit of the current task's budget.
///
/// `Pending` means the budget is spent and the task has already been woken:
/// return `Pending` at once, having changed nothing. The primitives' own
/// waiting operations call it; so do those of crates built on them (the
/// receives of weft's queue and consumer groups), so that a loop over any
/// of them yields now and then.
///
/// # Examples
///
/// A hand-written receive that spends one unit each time it completes:
///
/// ```
/// use std::collections::VecDeque;
/// use std::task::{Context, Poll, ready};
/// use weft_primitives::coop;
///
/// fn poll_pop(items: &mut VecDeque<u32>, cx: &mut Context<'_>) -> Poll<Option<u32>> {
///     let proceed = ready!(coop::poll_proceed(cx));
///     match items.pop_front() {
///         Some(item) => {
///             proceed.made_progress();
///             Poll::Ready(Some(item))
///         }
///         // Nothing done: `proceed`'s drop gives the unit back. (A real
///         // receive would leave `cx`'s waker before returning `Pending`.)
///         None => Poll::Pending,
///     }
/// }
///
/// let mut items = VecDeque::from([7]);
/// let mut cx = Context::from_waker(std::task::Waker::noop());
/// assert_eq!(poll_pop(&mut items, &mut cx), Poll::Ready(Some(7)));
/// assert_eq!(poll_pop(&mut items, &mut cx), Poll::Pending);
/// ```
#[inline]
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<Proceed> {
    match HOOK.get() {
        None => Poll::Ready(Proceed { hook: None }),
        Some(hook) => match (hook.proceed)(cx) {
            Poll::Ready(()) => Poll::Ready(Proceed { hook: Some(hook) }),
            Poll::Pending => Poll::Pending,
        },
    }
}

impl fmt::Debug for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hook").finish_non_exhaustive()
    }
}

impl fmt::Debug for Proceed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proceed")
            .field("budgeted", &self.hook.is_some())
            .finish()
    }
}
