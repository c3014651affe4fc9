//! The thread-local context: which runtime this thread serves, and its
//! scheduler state while it serves one.
//!
//! * `handle`: the runtime `spawn` and `Handle::current` use here. Set on
//!   worker threads, inside `Runtime::block_on`, on blocking-pool threads and
//!   by `Handle::enter`.
//! * `core`: the scheduler state of a thread that is driving tasks right now
//!   (a multi-thread worker, or the thread inside a current-thread
//!   `block_on`). Wakes issued on this thread push straight into its run
//!   queue, without atomics; from anywhere else they take the remote path.
//! * `driving`: this thread drives asynchronous work, so it must not block
//!   on a future (`block_on` panics here).
//! * `budget`: the cooperative budget of the task being polled.

use crate::coop::Budget;
use crate::scheduler;
use std::cell::{Cell, RefCell};

pub(crate) struct Context {
    pub(crate) handle: RefCell<Option<scheduler::Handle>>,
    pub(crate) core: RefCell<Option<scheduler::Core>>,
    pub(crate) driving: Cell<bool>,
    pub(crate) budget: Cell<Budget>,
}

impl Context {
    const fn new() -> Context {
        Context {
            handle: RefCell::new(None),
            core: RefCell::new(None),
            driving: Cell::new(false),
            budget: Cell::new(Budget::unconstrained()),
        }
    }
}

#[cfg(not(all(test, loom)))]
std::thread_local! {
    static CONTEXT: Context = const { Context::new() };
}

#[cfg(all(test, loom))]
loom::thread_local! {
    static CONTEXT: Context = Context::new();
}

/// Runs `f` with this thread's context; `None` while the thread is being torn
/// down and its locals are gone.
pub(crate) fn with<R>(f: impl FnOnce(&Context) -> R) -> Option<R> {
    CONTEXT.try_with(f).ok()
}

/// The runtime of this thread, if any.
pub(crate) fn current_handle() -> Option<scheduler::Handle> {
    with(|cx| cx.handle.borrow().clone()).flatten()
}

// ANCHOR: context-with-core
/// Runs `f` with the scheduler core of this thread, if it has one and it is
/// not borrowed already (a wake issued while the scheduler itself holds the
/// core takes the remote path instead).
pub(crate) fn with_core<R>(f: impl FnOnce(Option<&mut scheduler::Core>) -> R) -> R {
    let mut f = Some(f);
    let done = with(|cx| match cx.core.try_borrow_mut() {
        Ok(mut core) => (f.take().expect("called once"))(core.as_mut()),
        Err(_) => (f.take().expect("called once"))(None),
    });
    match done {
        Some(r) => r,
        None => (f.take().expect("called once"))(None),
    }
}
// ANCHOR_END: context-with-core

/// Restores the previous current handle when dropped.
#[must_use]
pub(crate) struct SetCurrentGuard {
    prev: Option<scheduler::Handle>,
}

/// Makes `handle` this thread's current runtime until the guard drops.
pub(crate) fn set_current(handle: scheduler::Handle) -> SetCurrentGuard {
    let prev = with(|cx| cx.handle.replace(Some(handle))).flatten();
    SetCurrentGuard { prev }
}

impl Drop for SetCurrentGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        with(|cx| *cx.handle.borrow_mut() = prev);
    }
}

/// Marks the thread as driving asynchronous work until dropped.
#[must_use]
pub(crate) struct DrivingGuard {
    _private: (),
}

/// The message for blocking on a future where that would stall other tasks.
pub(crate) const NESTED_BLOCK_ON: &str = "cannot block on a future from a thread that is driving asynchronous tasks \
     (a runtime worker, or inside `block_on`): blocking here would stall every task this thread runs. \
     Use `.await` instead, or move the blocking code into `weft::task::spawn_blocking` (or a plain std thread) \
     and call `block_on` there";

/// Marks this thread as driving, or returns `None` if it already is. While
/// the thread's locals are being torn down no runtime can be running on it,
/// so blocking is allowed (and simply not recorded).
pub(crate) fn try_enter_driving() -> Option<DrivingGuard> {
    let entered = with(|cx| !cx.driving.replace(true)).unwrap_or(true);
    entered.then_some(DrivingGuard { _private: () })
}

impl Drop for DrivingGuard {
    fn drop(&mut self) {
        with(|cx| cx.driving.set(false));
    }
}

/// Installs `core` as this thread's scheduler core until the guard drops,
/// which takes it back out (dropping it, or handing it back with `take`).
#[must_use]
pub(crate) struct CoreGuard {
    _private: (),
}

pub(crate) fn set_core(core: scheduler::Core) -> CoreGuard {
    with(|cx| {
        let prev = cx.core.replace(Some(core));
        debug_assert!(prev.is_none(), "a thread drives one scheduler at a time");
    });
    CoreGuard { _private: () }
}

impl CoreGuard {
    /// Removes the core and returns it.
    pub(crate) fn take(self) -> Option<scheduler::Core> {
        let core = with(|cx| cx.core.borrow_mut().take()).flatten();
        std::mem::forget(self);
        core
    }
}

impl Drop for CoreGuard {
    fn drop(&mut self) {
        // Dropping the core may run task code (dropping queued tasks), which
        // may look at the context, so take it out before dropping it.
        let core = with(|cx| cx.core.borrow_mut().take()).flatten();
        drop(core);
    }
}
