//! `JoinSet`: many tasks, joined in the order they finish.
//!
//! Each slot of the set has its own waker; when a task finishes, its waker
//! puts the slot's index on a ready list and wakes whoever waits on the set.
//! `join_next` then polls only the slots on that list, so joining n tasks
//! costs O(n) polls in all, not O(n) per task.

use super::{AbortHandle, Id, JoinError, JoinHandle};
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
/// # use weft_executor as weft;
/// use weft::{task::JoinSet, Runtime};
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
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_executor as weft;
    /// use weft::{task::JoinSet, Runtime};
    ///
    /// let rt = Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let mut set = JoinSet::new();
    ///     set.spawn(async { 7 });
    ///     assert_eq!(set.join_next().await.unwrap().unwrap(), 7);
    ///     assert!(set.join_next().await.is_none());
    /// });
    /// ```
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// As [`join_next`](JoinSet::join_next), and also says which task
    /// finished: its [`Id`] comes with the value (a failed task's id is in
    /// its [`JoinError`]).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as `join_next`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_executor as weft;
    /// use weft::{task::JoinSet, Runtime};
    ///
    /// let rt = Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let mut set = JoinSet::new();
    ///     let id = set.spawn(async { "done" }).id();
    ///     assert_eq!(set.join_next_with_id().await.unwrap().unwrap(), (id, "done"));
    /// });
    /// ```
    pub async fn join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        poll_fn(|cx| self.poll_join_next_with_id(cx)).await
    }

    /// Returns a finished task's result if one is ready, without waiting.
    ///
    /// It neither consults nor spends the cooperative budget: `None` means
    /// that no task in the set has finished, even in a task that has spent
    /// its budget.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_executor as weft;
    /// use weft::{task::{self, JoinSet}, Runtime};
    ///
    /// let rt = Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let mut set = JoinSet::new();
    ///     assert!(set.try_join_next().is_none()); // empty
    ///     set.spawn(async { 1 });
    ///     let value = loop {
    ///         match set.try_join_next() {
    ///             Some(res) => break res.unwrap(),
    ///             None => task::yield_now().await,
    ///         }
    ///     };
    ///     assert_eq!(value, 1);
    /// });
    /// ```
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        self.try_join_next_with_id()
            .map(|res| res.map(|(_, value)| value))
    }

    /// As [`try_join_next`](JoinSet::try_join_next), with the finished
    /// task's [`Id`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_executor as weft;
    /// use weft::{task::{self, JoinSet}, Runtime};
    ///
    /// let rt = Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let mut set = JoinSet::new();
    ///     let id = set.spawn(async { 1 }).id();
    ///     let done = loop {
    ///         match set.try_join_next_with_id() {
    ///             Some(res) => break res.unwrap(),
    ///             None => task::yield_now().await,
    ///         }
    ///     };
    ///     assert_eq!(done, (id, 1));
    /// });
    /// ```
    pub fn try_join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        // Unconstrained: the budget exists to make *waiting* loops yield; a
        // non-waiting call that answered "nothing ready" when something is
        // would be wrong, not fair.
        coop::with_unconstrained(|| {
            let mut cx = Context::from_waker(Waker::noop());
            match self.poll_next(&mut cx, false) {
                Poll::Ready(result) => result,
                Poll::Pending => None,
            }
        })
    }

    /// Polls for the next finished task: `Ready(None)` when empty.
    ///
    /// On `Pending`, `cx`'s waker is woken when a task of the set finishes.
    /// Like awaiting a `JoinHandle`, this spends the cooperative budget, and
    /// returns `Pending` (waking `cx` at once) when it is spent.
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        self.poll_join_next_with_id(cx)
            .map(|next| next.map(|res| res.map(|(_, value)| value)))
    }

    /// As [`poll_join_next`](JoinSet::poll_join_next), with the finished
    /// task's [`Id`].
    pub fn poll_join_next_with_id(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<(Id, T), JoinError>>> {
        self.poll_next(cx, true)
    }

    /// Polls the slots on the ready list. With `register`, `cx`'s waker is
    /// left to be woken when the list is empty; without (`try_*`), the
    /// waiter already registered is left alone.
    fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
        register: bool,
    ) -> Poll<Option<Result<(Id, T), JoinError>>> {
        if self.len == 0 {
            return Poll::Ready(None);
        }
        loop {
            if !coop::has_budget_remaining() {
                // As every budget-spent leaf does: run again after the
                // driver's next turn.
                crate::scheduler::defer(cx.waker());
                return Poll::Pending;
            }
            let index = {
                let mut state = self.ready.lock();
                match state.queue.pop_front() {
                    Some(index) => index,
                    None if !register => return Poll::Pending,
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
            let id = handle.id();
            let mut slot_cx = Context::from_waker(&self.wakers[index]);
            if let Poll::Ready(result) = Pin::new(handle).poll(&mut slot_cx) {
                self.slots[index] = None;
                self.free.push(index);
                self.len -= 1;
                return Poll::Ready(Some(result.map(|value| (id, value))));
            }
        }
    }

    /// Waits for every task in the set and returns their values, in the
    /// order they finished (not the order they were spawned).
    ///
    /// # Panics
    ///
    /// If a task panicked, its panic is resumed here (with
    /// [`std::panic::resume_unwind`]); if one was cancelled, this panics with
    /// the [`JoinError`]'s message. Either way the set is dropped on the way
    /// out, which aborts the tasks still in it. To handle failures yourself,
    /// call [`join_next`](JoinSet::join_next) in a loop instead.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: the set is moved in, so dropping the `.await` drops
    /// it, aborting the tasks that had not finished and losing the values of
    /// those that had.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_executor as weft;
    /// use weft::{task::JoinSet, Runtime};
    ///
    /// let rt = Runtime::new().unwrap();
    /// let mut values = rt.block_on(async {
    ///     let set: JoinSet<u32> = (1..=3).map(|i| async move { i * i }).collect();
    ///     set.join_all().await
    /// });
    /// values.sort();
    /// assert_eq!(values, [1, 4, 9]);
    /// ```
    pub async fn join_all(mut self) -> Vec<T> {
        let mut values = Vec::with_capacity(self.len);
        while let Some(res) = self.join_next().await {
            match res {
                Ok(value) => values.push(value),
                Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
                Err(err) => panic!("`JoinSet::join_all`: {err}"),
            }
        }
        values
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
    /// Spawns a `!Send` task into the set, where
    /// [`spawn_local`](crate::task::spawn_local) would put it: the current
    /// [`LocalSet`](crate::task::LocalSet), or the current-thread runtime.
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

/// Spawns each future on the current runtime into the set.
///
/// # Panics
///
/// Panics outside a runtime, like [`spawn`](crate::spawn).
///
/// # Examples
///
/// ```
/// # use weft_executor as weft;
/// use weft::{task::JoinSet, Runtime};
///
/// let rt = Runtime::new().unwrap();
/// let n = rt.block_on(async {
///     let mut set = JoinSet::new();
///     set.extend((0..4).map(|i| async move { i }));
///     set.len()
/// });
/// assert_eq!(n, 4);
/// ```
impl<T, F> Extend<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    #[track_caller]
    fn extend<I: IntoIterator<Item = F>>(&mut self, iter: I) {
        for future in iter {
            self.spawn(future);
        }
    }
}

/// Collects futures into a new set, spawning each on the current runtime.
///
/// # Panics
///
/// Panics outside a runtime, like [`spawn`](crate::spawn).
///
/// # Examples
///
/// ```
/// # use weft_executor as weft;
/// use weft::{task::JoinSet, Runtime};
///
/// let rt = Runtime::new().unwrap();
/// let total: u64 = rt.block_on(async {
///     let set: JoinSet<u64> = (1..=10).map(|i| async move { i }).collect();
///     set.join_all().await.into_iter().sum()
/// });
/// assert_eq!(total, 55);
/// ```
impl<T, F> FromIterator<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    #[track_caller]
    fn from_iter<I: IntoIterator<Item = F>>(iter: I) -> JoinSet<T> {
        let mut set = JoinSet::new();
        set.extend(iter);
        set
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
