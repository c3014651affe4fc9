//! The injection queue: tasks scheduled from outside a worker (spawns and
//! wakes from other threads) and the overflow of full local queues.
//!
//! A mutex around a `VecDeque`, plus an atomic length so that workers can see
//! it is empty without taking the lock — the common case on the hot path.
//! Tasks move in and out in batches where they can, so the lock is taken once
//! per batch rather than once per task. Once closed (at shutdown), pushes are
//! refused and the task is handed back.

use crate::loom::atomic::{AtomicUsize, Ordering};
use crate::loom::{Mutex, lock};
use crate::util::cache_padded::CachePadded;
use std::collections::VecDeque;
use std::fmt;

// ANCHOR: inject-struct
pub(crate) struct Inject<T> {
    /// On lines of its own: pushers and poppers take the lock, while idle
    /// workers poll `len`; sharing one line made every empty-check steal it
    /// from the thread holding the lock.
    state: CachePadded<Mutex<State<T>>>,
    len: CachePadded<AtomicUsize>,
}
// ANCHOR_END: inject-struct

struct State<T> {
    queue: VecDeque<T>,
    closed: bool,
}

impl<T> Inject<T> {
    pub(crate) fn new() -> Inject<T> {
        Inject {
            state: CachePadded(Mutex::new(State {
                queue: VecDeque::new(),
                closed: false,
            })),
            len: CachePadded(AtomicUsize::new(0)),
        }
    }

    /// Pushes `task`, or gives it back if the queue is closed.
    pub(crate) fn push(&self, task: T) -> Result<(), T> {
        let mut state = lock(&self.state);
        if state.closed {
            return Err(task);
        }
        state.queue.push_back(task);
        self.len.store(state.queue.len(), Ordering::Release);
        Ok(())
    }

    /// Pushes every task of `tasks` under one lock. If the queue is closed
    /// they are dropped instead (shutdown has cancelled their tasks).
    pub(crate) fn push_batch(&self, tasks: impl Iterator<Item = T>) {
        let mut state = lock(&self.state);
        if state.closed {
            drop(state);
            tasks.for_each(drop);
            return;
        }
        state.queue.extend(tasks);
        self.len.store(state.queue.len(), Ordering::Release);
    }

    // ANCHOR: inject-pop
    pub(crate) fn pop(&self) -> Option<T> {
        if self.is_empty() {
            return None;
        }
        let mut state = lock(&self.state);
        let task = state.queue.pop_front();
        self.len.store(state.queue.len(), Ordering::Release);
        task
    }
    // ANCHOR_END: inject-pop

    /// Pops up to `n` tasks under one lock: the first is returned, the rest
    /// handed to `rest` in order.
    pub(crate) fn pop_batch(&self, n: usize, rest: impl FnOnce(&mut dyn Iterator<Item = T>)) -> Option<T> {
        if self.is_empty() || n == 0 {
            return None;
        }
        let mut state = lock(&self.state);
        let first = state.queue.pop_front()?;
        let take = (n - 1).min(state.queue.len());
        rest(&mut state.queue.drain(..take));
        self.len.store(state.queue.len(), Ordering::Release);
        Some(first)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    /// Refuses further pushes. Returns true the first time.
    pub(crate) fn close(&self) -> bool {
        let mut state = lock(&self.state);
        !std::mem::replace(&mut state.closed, true)
    }

    /// Takes every queued task out (after close, to drop them).
    pub(crate) fn drain(&self) -> VecDeque<T> {
        let mut state = lock(&self.state);
        self.len.store(0, Ordering::Release);
        std::mem::take(&mut state.queue)
    }
}

impl<T> fmt::Debug for Inject<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inject").field("len", &self.len()).finish()
    }
}
