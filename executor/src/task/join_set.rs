//! `JoinSet`: many tasks, joined in the order they finish.
//!
//! Each slot of the set has its own waker; when a task finishes, its waker
//! puts the slot's index on a ready list and wakes whoever waits on the set.
//! `join_next` then polls only the slots on that list, so joining n tasks
//! costs O(n) polls in all, not O(n) per task.

use super::{AbortHandle, JoinError, JoinHandle};
use crate::coop;
use crate::runtime::Handle;
use std::collections::VecDeque;
use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};

/// A collection of tasks, awaited in the order they finish.
///
/// Tasks are spawned into the set (or [`insert`](JoinSet::insert)ed as
/// handles); [`join_next`](JoinSet::join_next) waits for whichever finishes
/// first. Dropping the set aborts every task still in it; use
/// [`detach_all`](JoinSet::detach_all) to let them run on.
///
/// # Examples
///
/// ```
/// use weft_executor::{task::JoinSet, Runtime};
///
/// let rt = Runtime::new().unwrap();
/// let total = rt.block_on(async {
///     let mut set = JoinSet::new();
///     for i in 1..=10u64 {
///         set.spawn(async move { i * 10 });
///     }
///     let mut total = 0;
///     while let Some(res) = set.join_next().await {
///         total += res.unwrap();
///     }
///     total
/// });
/// assert_eq!(total, 550);
/// ```
pub struct JoinSet<T> {
    slots: Vec<Option<JoinHandle<T>>>,
    /// One waker per slot, made once and reused with the slot.
    wakers: Vec<Waker>,
    free: Vec<usize>,
    len: usize,
    ready: Arc<ReadyList>,
}

struct ReadyList {
    state: Mutex<ReadyState>,
}

struct ReadyState {
    /// Slots whose task may have finished, in the order they were woken.
    queue: VecDeque<usize>,
    /// Whoever waits in `join_next`.
    waiter: Option<Waker>,
}

struct SlotWaker {
    index: usize,
    list: Arc<ReadyList>,
}

impl ReadyList {
    fn lock(&self) -> MutexGuard<'_, ReadyState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn push(&self, index: usize) {
        let waiter = {
            let mut state = self.lock();
            state.queue.push_back(index);
            state.waiter.take()
        };
        if let Some(waiter) = waiter {
            waiter.wake();
        }
    }
}

impl Wake for SlotWaker {
    fn wake(self: Arc<Self>) {
        self.list.push(self.index);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.list.push(self.index);
    }
}

impl<T> JoinSet<T> {
    /// An empty set.
    pub fn new() -> JoinSet<T> {
        JoinSet {
            slots: Vec::new(),
            wakers: Vec::new(),
            free: Vec::new(),
            len: 0,
            ready: Arc::new(ReadyList {
                state: Mutex::new(ReadyState {
                    queue: VecDeque::new(),
                    waiter: None,
                }),
            }),
        }
    }

    /// Tasks in the set (finished ones count until joined).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if the set holds no task.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds an already spawned task to the set.
    pub fn insert(&mut self, handle: JoinHandle<T>) -> AbortHandle {
        let abort = handle.abort_handle();
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                let index = self.slots.len();
                self.slots.push(None);
                self.wakers.push(Waker::from(Arc::new(SlotWaker {
                    index,
                    list: self.ready.clone(),
                })));
                index
            }
        };
        self.slots[index] = Some(handle);
        self.len += 1;
        // Polled once by the next `join_next`, which registers the slot's waker.
        self.ready.push(index);
        abort
    }

    /// Waits for the next task to finish and returns its result; `None` once
    /// the set is empty.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the `.await` is dropped, no result is lost; the
    /// finished task stays in the set for the next call.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// Returns a finished task's result if one is ready, without waiting.
    ///
    /// It neither consults nor spends the cooperative budget: `None` means
    /// that no task in the set has finished, even in a task that has spent
    /// its budget.
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        // Unconstrained: the budget exists to make *waiting* loops yield; a
        // non-waiting call that answered "nothing ready" when something is
        // would be wrong, not fair.
        coop::with_unconstrained(|| {
            let waker = Waker::noop();
            match self.poll_join_next(&mut Context::from_waker(waker)) {
                Poll::Ready(result) => result,
                Poll::Pending => None,
            }
        })
    }

    /// Polls for the next finished task: `Ready(None)` when empty.
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        if self.len == 0 {
            return Poll::Ready(None);
        }
        loop {
            if !coop::has_budget_remaining() {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            let index = {
                let mut state = self.ready.lock();
                match state.queue.pop_front() {
                    Some(index) => index,
                    None => {
                        let stale = state.waiter.as_ref().is_some_and(|w| !w.will_wake(cx.waker()));
                        if state.waiter.is_none() || stale {
                            state.waiter = Some(cx.waker().clone());
                        }
                        return Poll::Pending;
                    }
                }
            };
            // A stale index (slot since emptied or reused) is a harmless
            // extra poll.
            let Some(handle) = self.slots[index].as_mut() else {
                continue;
            };
            let mut slot_cx = Context::from_waker(&self.wakers[index]);
            if let Poll::Ready(result) = Pin::new(handle).poll(&mut slot_cx) {
                self.slots[index] = None;
                self.free.push(index);
                self.len -= 1;
                return Poll::Ready(Some(result));
            }
        }
    }

    /// Aborts every task in the set; they stay in it until joined (each
    /// then yields a cancelled error, unless it finished first).
    pub fn abort_all(&mut self) {
        for handle in self.slots.iter().flatten() {
            handle.abort();
        }
    }

    /// Removes every task from the set without stopping them.
    pub fn detach_all(&mut self) {
        self.slots.iter_mut().for_each(|slot| drop(slot.take()));
        self.free = (0..self.slots.len()).collect();
        self.len = 0;
        self.ready.lock().queue.clear();
    }

    /// Aborts every task and waits until all have stopped.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }
}

impl<T: Send + 'static> JoinSet<T> {
    /// Spawns a task on the current runtime into the set.
    ///
    /// # Panics
    ///
    /// Panics outside a runtime, like [`spawn`](crate::spawn).
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(super::spawn(future))
    }

    /// Spawns a task on the runtime of `handle` into the set.
    pub fn spawn_on<F>(&mut self, future: F, handle: &Handle) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(handle.spawn(future))
    }

    /// Runs a blocking closure on the current runtime's pool, into the set.
    ///
    /// # Panics
    ///
    /// Panics outside a runtime, like [`spawn_blocking`](crate::task::spawn_blocking).
    #[track_caller]
    pub fn spawn_blocking<F>(&mut self, f: F) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
    {
        self.insert(super::spawn_blocking(f))
    }
}

impl<T: 'static> JoinSet<T> {
    /// Spawns a `!Send` task on the current-thread runtime into the set.
    ///
    /// # Panics
    ///
    /// As [`spawn_local`](crate::task::spawn_local).
    #[track_caller]
    pub fn spawn_local<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.insert(super::spawn_local(future))
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> JoinSet<T> {
        JoinSet::new()
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        self.abort_all();
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len).finish()
    }
}
