//! `LocalSet`: `!Send` tasks on any runtime, run on the thread that owns
//! the set.
//!
//! # The protocol
//!
//! A `LocalSet` is `!Send` and `!Sync`, so every call on it, and every poll
//! of it, happens on the thread that made it: the *owner*. Its tasks follow
//! the task protocol of `mod.rs`, with a scheduler hook (`Shared`) that
//! wakers may reach from any thread:
//!
//! * a wake, from anywhere, pushes the task's `Notified` on the set's queue
//!   (a mutex) and wakes whoever drives the set (the task or `block_on`
//!   that polls `run_until`, or the set itself);
//! * only the owner pops that queue, so only the owner polls a task, and a
//!   task's future is dropped only by its poller: on completion, on
//!   cancellation (an abort from another thread is a wake with `CANCELLED`
//!   set; the owner drops the future when it reaches the task), or when the
//!   set is dropped, which cancels every live task on the owner thread;
//! * the set's registry keeps a reference to every task until it completes,
//!   so the last reference to a live task is never released elsewhere (a
//!   waker dropped on another thread never frees an incomplete task, and
//!   with it its future). A leaked set leaks its tasks, futures included.
//!
//! Once the set is dropped its queue is closed: a late wake from another
//! thread just releases its reference to the (complete) task.

use super::registry::Registry;
use super::{JoinHandle, Notified, Schedule, Task};
use crate::coop;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::{Future, poll_fn};
use std::marker::PhantomData;
use std::pin::{Pin, pin};
use std::rc::Rc;
// Not loom-modelled (as the current-thread scheduler): std types.
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

/// Tasks polled per poll of the set before it yields to its own driver, so
/// that a set full of ready tasks shares the worker it runs on.
const TASKS_PER_TICK: usize = 61;

/// A set of `!Send` tasks, run on the thread that owns the set.
///
/// The multi-thread runtime moves tasks between workers, so it cannot run a
/// future that is not `Send`. A `LocalSet` can: its tasks run only where the
/// set is driven, which is always the thread that made it (a `LocalSet` is
/// neither `Send` nor `Sync`). Drive it with
/// [`run_until`](LocalSet::run_until) (runs its tasks while a future runs,
/// and makes [`spawn_local`](crate::task::spawn_local) spawn into the set),
/// [`block_on`](LocalSet::block_on), or by awaiting the set itself, which
/// completes once every task in it has.
///
/// Wakes may come from any thread; they reach the set's tasks through its
/// driver. Dropping the set cancels its remaining tasks, dropping their
/// futures on the owner thread.
///
/// It works on both runtimes, and outside any runtime (under
/// [`block_on`](crate::block_on)) for tasks that need nothing from one.
///
/// # Examples
///
/// ```
/// # use weft_executor as weft;
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use weft::{task, Runtime};
///
/// let rt = Runtime::new().unwrap(); // multi-thread
/// let local = task::LocalSet::new();
/// let log = Rc::new(RefCell::new(Vec::new())); // not Send
/// local.block_on(&rt, async {
///     let tasks: Vec<_> = (0..3)
///         .map(|i| {
///             let log = log.clone();
///             task::spawn_local(async move { log.borrow_mut().push(i) })
///         })
///         .collect();
///     for t in tasks {
///         t.await.unwrap();
///     }
/// });
/// assert_eq!(*log.borrow(), [0, 1, 2]);
/// ```
pub struct LocalSet {
    shared: Arc<Shared>,
    /// `!Send` and `!Sync`: the set stays on its owner thread.
    _owner_thread: PhantomData<Rc<()>>,
}

/// What the set's tasks and wakers share.
struct Shared {
    queue: Mutex<Queue>,
    /// Whoever drives the set, to wake when a task is queued: usually one
    /// waker, but two futures may drive the set at once (a `run_until`
    /// nested in one of its tasks, or two polled by different tasks), and
    /// each must hear of new work.
    driver: Mutex<Vec<Waker>>,
    registry: Registry<Arc<Shared>>,
}

struct Queue {
    tasks: VecDeque<Notified<Arc<Shared>>>,
    /// The set was dropped: nothing runs any more.
    closed: bool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

std::thread_local! {
    /// The set whose tasks, or whose `run_until` future, this thread runs now.
    static CURRENT: RefCell<Option<Arc<Shared>>> = const { RefCell::new(None) };
}

/// Restores the previous current set when dropped.
struct Enter {
    prev: Option<Arc<Shared>>,
}

impl Drop for Enter {
    fn drop(&mut self) {
        let prev = self.prev.take();
        let _ = CURRENT.try_with(|cur| *cur.borrow_mut() = prev);
    }
}

/// Spawns onto the set this thread runs now, if any; gives the future back
/// otherwise.
pub(super) fn try_spawn_local<F>(future: F) -> Result<JoinHandle<F::Output>, F>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let current = CURRENT.try_with(|cur| cur.borrow().clone()).ok().flatten();
    match current {
        Some(shared) => Ok(Shared::spawn(&shared, future)),
        None => Err(future),
    }
}

impl LocalSet {
    /// An empty set, owned by this thread.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_executor as weft;
    /// let local = weft::task::LocalSet::new();
    /// weft::block_on(local); // no tasks: done at once
    /// ```
    pub fn new() -> LocalSet {
        LocalSet {
            shared: Arc::new(Shared {
                queue: Mutex::new(Queue {
                    tasks: VecDeque::new(),
                    closed: false,
                }),
                driver: Mutex::new(Vec::new()),
                registry: Registry::new(1),
            }),
            _owner_thread: PhantomData,
        }
    }

    /// Spawns a `!Send` future into the set and returns its [`JoinHandle`].
    ///
    /// The task runs when the set is driven (by `run_until`, `block_on` or
    /// awaiting the set); it may be spawned before that.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_executor as weft;
    /// use std::rc::Rc;
    /// use weft::task::LocalSet;
    ///
    /// let local = LocalSet::new();
    /// let shared = Rc::new(21);
    /// let handle = local.spawn_local({
    ///     let shared = shared.clone();
    ///     async move { *shared * 2 }
    /// });
    /// let out = weft::block_on(local.run_until(handle)).unwrap();
    /// assert_eq!(out, 42);
    /// ```
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        Shared::spawn(&self.shared, future)
    }

    /// Runs `future` on this thread, running the set's tasks meanwhile, and
    /// returns its output.
    ///
    /// Inside it, [`task::spawn_local`](crate::task::spawn_local) spawns into
    /// this set. Tasks still pending when `future` completes stay in the set,
    /// to run the next time it is driven (or be dropped with it).
    ///
    /// # Cancel safety
    ///
    /// Dropping the returned future drops `future`; the set and its tasks
    /// are unaffected.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_executor as weft;
    /// use std::rc::Rc;
    /// use weft::{task, Runtime};
    ///
    /// let rt = Runtime::new().unwrap();
    /// let local = task::LocalSet::new();
    /// let n = rt.block_on(local.run_until(async {
    ///     let shared = Rc::new(4);
    ///     let s = shared.clone();
    ///     task::spawn_local(async move { *s + 1 }).await.unwrap()
    /// }));
    /// assert_eq!(n, 5);
    /// ```
    pub async fn run_until<F: Future>(&self, future: F) -> F::Output {
        let mut future = pin!(future);
        poll_fn(|cx| {
            self.register(cx.waker());
            let _enter = self.enter();
            if let Poll::Ready(output) = future.as_mut().poll(cx) {
                return Poll::Ready(output);
            }
            if self.run_tasks() {
                // More were ready: come back after the others had a turn.
                cx.waker().wake_by_ref();
            }
            Poll::Pending
        })
        .await
    }

    /// Runs `future` to completion on `rt`, on this thread, with the set's
    /// tasks running meanwhile: `rt.block_on(self.run_until(future))`.
    ///
    /// `rt` is any [`BlockOn`](crate::runtime::BlockOn) runtime: this
    /// crate's `Runtime`, or the `weft` facade's.
    ///
    /// # Panics
    ///
    /// As [`Runtime::block_on`](crate::Runtime::block_on): inside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_executor as weft;
    /// use std::rc::Rc;
    /// use weft::{task, Runtime};
    ///
    /// let rt = Runtime::new().unwrap();
    /// let local = task::LocalSet::new();
    /// let rc = Rc::new("local");
    /// let got = local.block_on(&rt, async move { task::spawn_local(async move { *rc }).await });
    /// assert_eq!(got.unwrap(), "local");
    /// ```
    #[track_caller]
    pub fn block_on<R: crate::runtime::BlockOn, F: Future>(&self, rt: &R, future: F) -> F::Output {
        rt.block_on(self.run_until(future))
    }

    /// Makes this the set `spawn_local` spawns into until the guard drops.
    fn enter(&self) -> Enter {
        let prev = CURRENT
            .try_with(|cur| cur.borrow_mut().replace(self.shared.clone()))
            .ok()
            .flatten();
        Enter { prev }
    }

    /// Records who to wake when a task is queued.
    fn register(&self, waker: &Waker) {
        let mut drivers = lock(&self.shared.driver);
        if !drivers.iter().any(|w| w.will_wake(waker)) {
            drivers.push(waker.clone());
        }
    }

    /// Polls up to `TASKS_PER_TICK` queued tasks; returns true if it stopped
    /// with tasks still queued. The caller has registered its waker, so a
    /// task queued after the queue is found empty wakes it.
    fn run_tasks(&self) -> bool {
        for _ in 0..TASKS_PER_TICK {
            let task = lock(&self.shared.queue).tasks.pop_front();
            match task {
                // Each task gets a fresh budget, as on a runtime; the
                // driver's own budget is restored afterwards.
                Some(task) => coop::with_budget(|| task.run()),
                None => return false,
            }
        }
        !lock(&self.shared.queue).tasks.is_empty()
    }
}

/// Runs the set's tasks until every one of them has completed.
///
/// # Examples
///
/// ```
/// # use weft_executor as weft;
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use weft::task::LocalSet;
///
/// let local = LocalSet::new();
/// let count = Rc::new(Cell::new(0));
/// for _ in 0..10 {
///     let count = count.clone();
///     local.spawn_local(async move { count.set(count.get() + 1) });
/// }
/// weft::block_on(local);
/// assert_eq!(count.get(), 10);
/// ```
impl Future for LocalSet {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.register(cx.waker());
        let _enter = self.enter();
        if self.run_tasks() {
            cx.waker().wake_by_ref();
            Poll::Pending
        } else if self.shared.registry.len() == 0 {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Default for LocalSet {
    fn default() -> LocalSet {
        LocalSet::new()
    }
}

impl Drop for LocalSet {
    fn drop(&mut self) {
        // Wakes from now on release their reference instead of queuing.
        lock(&self.shared.queue).closed = true;
        // Futures dropped here may spawn locally: into this (closed) set,
        // which cancels such a task at once.
        let _enter = self.enter();
        // On the owner thread: every live task is cancelled and its future
        // dropped here.
        self.shared.registry.close_and_shutdown_all(0, true);
        let queued = std::mem::take(&mut lock(&self.shared.queue).tasks);
        drop(queued);
        // Dropped after the lock: a waker's drop may call back in.
        let drivers = std::mem::take(&mut *lock(&self.shared.driver));
        drop(drivers);
    }
}

impl fmt::Debug for LocalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSet")
            .field("tasks", &self.shared.registry.len())
            .finish()
    }
}

impl Shared {
    /// Spawns `future` into the set. Only the owner thread calls this: it
    /// holds the `LocalSet`, or runs inside one of its polls.
    fn spawn<F>(me: &Arc<Shared>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        // Only the `!Send` `LocalSet` pops the queue, its drop cancels the
        // live tasks here, and its registry keeps every live task from
        // being freed elsewhere (see the module's protocol).
        // SAFETY: so the set polls and drops its tasks' futures only on its
        // owner thread, this one.
        let (task, notified, join) = unsafe { super::new_local_task(future, me.clone()) };
        if let Some(notified) = me.registry.bind(task, notified, true) {
            me.schedule(notified);
        }
        join
    }
}

impl Schedule for Arc<Shared> {
    fn schedule(&self, task: Notified<Self>) {
        {
            let mut queue = lock(&self.queue);
            if queue.closed {
                // The set is gone and the task complete: just release the
                // reference (after the lock).
                drop(queue);
                drop(task);
                return;
            }
            queue.tasks.push_back(task);
        }
        let drivers = std::mem::take(&mut *lock(&self.driver));
        for driver in drivers {
            driver.wake();
        }
    }

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        self.registry.remove(task)
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSet").finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::sync::mpsc;

    #[test]
    fn runs_local_tasks_and_drops_the_rest_on_drop() {
        let local = LocalSet::new();
        let hits = Rc::new(Cell::new(0));
        let (tx, rx) = mpsc::channel::<Waker>();
        let h = hits.clone();
        let woken = local.spawn_local(async move {
            // Parks once, handing its waker to another thread.
            let mut parked = false;
            poll_fn(|cx| {
                if parked {
                    return Poll::Ready(());
                }
                parked = true;
                tx.send(cx.waker().clone()).unwrap();
                Poll::Pending
            })
            .await;
            h.set(h.get() + 1);
        });
        let h = hits.clone();
        let pending = local.spawn_local(async move {
            let _keep = h;
            std::future::pending::<()>().await
        });
        let waker = crate::block_on(local.run_until(async {
            // The set's tasks run between polls of this future.
            let waker = loop {
                if let Ok(waker) = rx.try_recv() {
                    break waker;
                }
                crate::task::yield_now().await;
            };
            crate::task::spawn_local(async {}).await.unwrap();
            waker
        }));
        std::thread::spawn(move || waker.wake()).join().unwrap();
        crate::block_on(local.run_until(woken)).unwrap();
        assert_eq!(hits.get(), 1);
        assert_eq!(Rc::strong_count(&hits), 2); // the pending task's clone
        drop(local);
        assert_eq!(Rc::strong_count(&hits), 1);
        assert!(crate::block_on(pending).unwrap_err().is_cancelled());
    }

    #[test]
    fn a_panicking_local_task_is_dropped_while_unwinding() {
        struct Guard(Rc<Cell<Option<bool>>>);
        impl Drop for Guard {
            fn drop(&mut self) {
                self.0.set(Some(std::thread::panicking()));
            }
        }
        struct Panics(#[allow(dead_code)] Guard);
        impl Future for Panics {
            type Output = ();
            fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
                panic!("boom");
            }
        }
        let seen = Rc::new(Cell::new(None));
        let local = LocalSet::new();
        let handle = local.spawn_local(Panics(Guard(seen.clone())));
        let id = handle.id();
        let err = crate::block_on(local.run_until(handle)).unwrap_err();
        assert!(err.is_panic());
        assert_eq!(err.id(), id);
        assert_eq!(seen.get(), Some(true));
    }
}
