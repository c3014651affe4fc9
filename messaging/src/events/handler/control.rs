//! The handle on a running handler, [`Handler`], and the [`Control`] its
//! tasks share: the stop flag, the stats and the waiting tasks' wakers, one
//! slot each (the protocol is in the module docs, `handler/mod.rs`).

use super::options::HandlerStats;
use crate::loom::{Mutex, lock};
use std::fmt;
use std::future::poll_fn;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// The reader task's slot in [`Control`].
pub(super) const READER: usize = 0;

/// A running handler. Dropping it leaves the handler running (like a
/// deployed function); [`stop`](Handler::stop) ends it.
pub struct Handler {
    pub(super) control: Arc<Control>,
}

pub(super) struct Control {
    state: Mutex<ControlState>,
}

#[derive(Default)]
pub(super) struct ControlState {
    stop: bool,
    /// The handler's tasks that wait for an event or a back-off, by slot
    /// (see the module docs).
    tasks: Vec<(usize, Waker)>,
    finished: bool,
    /// Callers of `finished()`.
    waiters: Vec<Waker>,
    stats: HandlerStats,
}

impl Handler {
    /// Asks the handler to stop: it finishes the attempt in progress and
    /// reads nothing more. An event whose retries the stop cuts short goes
    /// to the dead-letter topic. An attempt that never completes is not
    /// cut short: bound a handler's work with a timeout inside it.
    pub fn stop(&self) {
        let tasks = {
            let mut state = lock(&self.control.state);
            state.stop = true;
            std::mem::take(&mut state.tasks)
        };
        tasks.into_iter().for_each(|(_, task)| task.wake());
    }

    /// What it has done so far.
    pub fn stats(&self) -> HandlerStats {
        lock(&self.control.state).stats.clone()
    }

    /// Whether it has ended: stopped, the bus closed and read to the end,
    /// or its runtime gone.
    pub fn is_finished(&self) -> bool {
        lock(&self.control.state).finished
    }

    /// Waits until it has ended (see [`is_finished`](Handler::is_finished)).
    pub async fn finished(&self) {
        poll_fn(|cx| {
            let mut state = lock(&self.control.state);
            if state.finished {
                return Poll::Ready(());
            }
            crate::util::add_waker(&mut state.waiters, cx.waker());
            Poll::Pending
        })
        .await
    }
}

impl Control {
    pub(super) fn new() -> Control {
        Control {
            state: Mutex::new(ControlState::default()),
        }
    }

    /// Whether a stop was asked; otherwise registers the task in `slot`
    /// to hear of one.
    pub(super) fn stopping(&self, cx: &Context<'_>, slot: usize) -> bool {
        // Dropped after the lock is released: a waker's drop may call back
        // into the handler.
        let mut _displaced = None;
        let mut state = lock(&self.state);
        if !state.stop {
            match state.tasks.iter_mut().find(|(s, _)| *s == slot) {
                Some((_, waker)) if waker.will_wake(cx.waker()) => {}
                Some((_, waker)) => _displaced = Some(std::mem::replace(waker, cx.waker().clone())),
                None => state.tasks.push((slot, cx.waker().clone())),
            }
        }
        state.stop
    }

    /// Forgets the waker of the task in `slot`, which has ended.
    pub(super) fn leave(&self, slot: usize) {
        let _displaced = {
            let mut state = lock(&self.state);
            let at = state.tasks.iter().position(|(s, _)| *s == slot);
            at.map(|at| state.tasks.swap_remove(at))
        };
    }

    pub(super) fn is_stopped(&self) -> bool {
        lock(&self.state).stop
    }

    pub(super) fn update(&self, f: impl FnOnce(&mut HandlerStats)) {
        f(&mut lock(&self.state).stats);
    }
}

/// Marks the handler finished when its task ends or is dropped.
pub(super) struct FinishOnDrop(pub(super) Arc<Control>);

impl Drop for FinishOnDrop {
    fn drop(&mut self) {
        let waiters = {
            let mut state = lock(&self.0.state);
            state.finished = true;
            std::mem::take(&mut state.waiters)
        };
        waiters.into_iter().for_each(Waker::wake);
    }
}

impl fmt::Debug for Handler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.control.state);
        f.debug_struct("Handler")
            .field("stats", &state.stats)
            .field("finished", &state.finished)
            .finish()
    }
}
