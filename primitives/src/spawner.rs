//! The small runtime interface that promises and callbacks stand on.
//!
//! Most of this crate only stores and wakes wakers. Promises and callbacks
//! cannot: an eager promise starts work at once, a handler must run *later*
//! — never inside the call that registered it — and a timer must keep time.
//! For that they need three things from a runtime: spawn a task, sleep until
//! an instant, read the clock. [`Spawn`] is that interface; weft implements
//! it (honouring its paused test clock), and a few lines implement it for
//! tokio, smol or a hand-written executor.
//!
//! A [`Spawner`] wraps an implementation together with an *event loop*: one
//! queue of jobs (promise reactions, callbacks) and one heap of callback
//! timers, served by a single task that it spawns when there is work and
//! that ends when there is none. Like JavaScript's event loop, it runs jobs
//! one at a time in the order they were queued, and runs the jobs queued by
//! a timer callback before the next timer fires.
//!
//! Code finds its spawner through [`Spawner::current`]: a weft runtime
//! makes its own current on every runtime thread; elsewhere,
//! [`Spawner::enter`] does it. Jobs and tasks started through a spawner see
//! it as current while they run.
//!
//! # Examples
//!
//! Running promises on a runtime of one's own, here a thread per task:
//!
//! ```
//! use std::future::Future;
//! use std::pin::Pin;
//! use std::time::Instant;
//! use weft_primitives::promise::Promise;
//! use weft_primitives::spawner::{BoxFuture, Spawn, Spawner};
//!
//! struct ThreadPerTask;
//!
//! impl Spawn for ThreadPerTask {
//!     fn spawn(&self, future: BoxFuture) {
//!         std::thread::spawn(move || weft::block_on(future));
//!     }
//!     fn sleep_until(&self, deadline: Instant) -> BoxFuture {
//!         Box::pin(async move { std::thread::sleep(deadline - Instant::now()) })
//!     }
//! }
//!
//! let spawner = Spawner::new(ThreadPerTask);
//! let _current = spawner.enter();
//! let answer = Promise::<i32, String>::resolve(41).map(|n| n + 1);
//! assert_eq!(weft::block_on(answer), Ok(42));
//! ```

use crate::loom::{Mutex, lock};
use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// A boxed, sendable future with no output: what [`Spawn`] spawns.
pub type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

// ANCHOR: spawn-trait
/// What promises and callbacks need from a runtime: spawn, sleep, now.
///
/// The [module docs](self) implement it for a thread-per-task runtime;
/// for tokio, `spawn` is `drop(handle.spawn(future))` and `sleep_until` is
/// `Box::pin(tokio::time::sleep_until(deadline.into()))`.
pub trait Spawn: Send + Sync + 'static {
    /// Starts `future` as a task; it runs to completion unless the runtime
    /// shuts down first.
    fn spawn(&self, future: BoxFuture);

    /// A future that completes at `deadline` (at once if it has passed).
    /// It is polled on a task this trait spawned.
    fn sleep_until(&self, deadline: Instant) -> BoxFuture;

    /// The runtime's clock. A runtime with a test clock returns its time;
    /// the default is the system's monotonic clock.
    fn now(&self) -> Instant {
        Instant::now()
    }
}
// ANCHOR_END: spawn-trait

/// A runtime as promises and callbacks see it: a [`Spawn`] implementation
/// and the event loop that runs their jobs and timers. Cheap to clone.
///
/// See the [module docs](self) for how it is found and what it runs.
#[derive(Clone)]
pub struct Spawner {
    shared: Arc<Shared>,
}

struct Shared {
    runtime: Box<dyn Spawn>,
    event_loop: Mutex<LoopState>,
}

/// A [`Spawner`] that does not keep it alive; see [`Spawner::downgrade`].
#[derive(Clone)]
pub struct WeakSpawner {
    shared: std::sync::Weak<Shared>,
}

impl WeakSpawner {
    /// The spawner, if it is still alive.
    pub fn upgrade(&self) -> Option<Spawner> {
        self.shared.upgrade().map(|shared| Spawner { shared })
    }
}

impl fmt::Debug for WeakSpawner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakSpawner").finish_non_exhaustive()
    }
}

/// The error of [`Spawner::try_current`] where no spawner is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoSpawner(());

impl fmt::Display for NoSpawner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "no spawner is current on this thread: run inside a weft runtime, \
             or make one current with `Spawner::enter`",
        )
    }
}

impl std::error::Error for NoSpawner {}

thread_local! {
    static CURRENT: RefCell<Option<Spawner>> = const { RefCell::new(None) };
}

/// Keeps a spawner current on this thread until dropped; see
/// [`Spawner::enter`].
#[must_use = "the spawner stops being current when the guard is dropped"]
pub struct EnterGuard {
    previous: Option<Spawner>,
    // Restores this thread's previous spawner: must drop on this thread.
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = CURRENT.try_with(|current| *current.borrow_mut() = previous);
    }
}

impl fmt::Debug for EnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

impl Spawner {
    /// Wraps a runtime's [`Spawn`] implementation.
    pub fn new(runtime: impl Spawn) -> Spawner {
        Spawner {
            shared: Arc::new(Shared {
                runtime: Box::new(runtime),
                event_loop: Mutex::new(LoopState::new()),
            }),
        }
    }

    /// The spawner current on this thread.
    ///
    /// # Panics
    ///
    /// Panics where none is current (outside a weft runtime, and with no
    /// [`Spawner::enter`] guard alive); [`Spawner::try_current`] returns an
    /// error instead.
    #[track_caller]
    pub fn current() -> Spawner {
        match Spawner::try_current() {
            Ok(spawner) => spawner,
            Err(e) => panic!("{e}"),
        }
    }

    /// The spawner current on this thread, or an error where none is.
    ///
    /// # Errors
    ///
    /// [`NoSpawner`] outside a weft runtime when no [`Spawner::enter`] guard
    /// is alive on this thread.
    pub fn try_current() -> Result<Spawner, NoSpawner> {
        CURRENT
            .try_with(|current| current.borrow().clone())
            .ok()
            .flatten()
            .ok_or(NoSpawner(()))
    }

    /// Makes this spawner current on this thread until the guard drops,
    /// which restores the previous one.
    pub fn enter(&self) -> EnterGuard {
        let previous = CURRENT
            .try_with(|current| current.replace(Some(self.clone())))
            .ok()
            .flatten();
        EnterGuard {
            previous,
            _not_send: std::marker::PhantomData,
        }
    }

    /// Spawns `future` on the runtime; while it is polled this spawner is
    /// current, so promises and callbacks made inside find it.
    pub fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let spawner = self.clone();
        self.shared
            .runtime
            .spawn(Box::pin(WithSpawner { spawner, future }));
    }

    /// A future that completes at `deadline`, on the runtime's clock.
    pub fn sleep_until(&self, deadline: Instant) -> BoxFuture {
        self.shared.runtime.sleep_until(deadline)
    }

    /// The runtime's clock (weft's paused test clock included).
    pub fn now(&self) -> Instant {
        self.shared.runtime.now()
    }

    /// A handle that does not keep the spawner (and the runtime behind it)
    /// alive: for a runtime's own structures, which would otherwise make a
    /// reference cycle with it.
    pub fn downgrade(&self) -> WeakSpawner {
        WeakSpawner {
            shared: Arc::downgrade(&self.shared),
        }
    }

    /// True if both are the same spawner (clones of one another).
    pub fn ptr_eq(&self, other: &Spawner) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Queues `job` to run on the event loop after the jobs queued before
    /// it; starts the loop's task if it is not running.
    pub(crate) fn queue(&self, job: Job) {
        let mut state = lock(&self.shared.event_loop);
        state.jobs.push_back(job);
        self.kick(state);
    }

    /// Queues `job` `n` times under one lock: a settled promise's `n`
    /// reactions, each taking the next in order.
    pub(crate) fn queue_runs(&self, job: &Arc<dyn RunJob>, n: usize) {
        let mut state = lock(&self.shared.event_loop);
        state.jobs.extend((0..n).map(|_| Job::Run(Arc::clone(job))));
        self.kick(state);
    }

    /// Runs `callback` at `deadline`, then every `period` if one is given.
    pub(crate) fn add_timer(
        &self,
        deadline: Instant,
        period: Option<Duration>,
        callback: TimerCallback,
    ) -> TimerId {
        let mut state = lock(&self.shared.event_loop);
        let id = state.timers.insert(deadline, period, callback);
        self.kick(state);
        id
    }

    /// Cancels a timer; true if it was live: a timeout that had not fired,
    /// an interval not yet cancelled (even one cancelling itself from its
    /// own callback).
    pub(crate) fn cancel_timer(&self, id: TimerId) -> bool {
        let (was_live, dropped) = lock(&self.shared.event_loop).timers.cancel(id);
        // The callback (user code) drops with the lock released.
        drop(dropped);
        was_live
    }

    /// True while the timer has yet to fire (an interval: until cancelled).
    pub(crate) fn timer_is_pending(&self, id: TimerId) -> bool {
        lock(&self.shared.event_loop).timers.is_live(id)
    }

    /// Makes sure the loop's task will look at the state just changed:
    /// starts it if none runs, wakes it if it waits.
    fn kick(&self, mut state: crate::loom::MutexGuard<'_, LoopState>) {
        if !state.running {
            state.running = true;
            drop(state);
            self.spawn(EventLoop {
                spawner: self.clone(),
                sleep: None,
                finished: false,
            });
        } else if let Some(waker) = state.waker.take() {
            drop(state);
            waker.wake();
        }
    }
}

impl fmt::Debug for Spawner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.shared.event_loop);
        f.debug_struct("Spawner")
            .field("queued_jobs", &state.jobs.len())
            .field("timers", &state.timers.live)
            .field("loop_running", &state.running)
            .finish()
    }
}

pin_project_lite::pin_project! {
    /// Polls `future` with `spawner` current.
    struct WithSpawner<F> {
        spawner: Spawner,
        #[pin]
        future: F,
    }
}

impl<F: Future<Output = ()>> Future for WithSpawner<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        let _current = this.spawner.enter();
        this.future.poll(cx)
    }
}

/// One unit of event-loop work.
pub(crate) enum Job {
    /// A one-off callback.
    Call(Box<dyn FnOnce() + Send>),
    /// A shared object with queued work (a settled promise's next reaction):
    /// queueing it costs a reference count, not an allocation.
    Run(Arc<dyn RunJob>),
}

/// A shared object that does one piece of queued work per [`Job::Run`].
pub(crate) trait RunJob: Send + Sync {
    fn run(self: Arc<Self>);
}

impl Job {
    fn run(self) {
        // A panic is user code's (a callback, a handler run outside the
        // promise machinery's own catch): the panic hook has reported it,
        // and the loop goes on with the next job.
        let _ = catch_unwind(AssertUnwindSafe(move || match self {
            Job::Call(f) => f(),
            Job::Run(job) => job.run(),
        }));
    }
}

/// The callback of a timer.
pub(crate) enum TimerCallback {
    Once(Box<dyn FnOnce() + Send>),
    Repeat(Box<dyn FnMut() + Send>),
}

/// Names a timer: its slot and the slot's generation when it was set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct TimerId {
    index: usize,
    generation: u64,
}

struct LoopState {
    jobs: VecDeque<Job>,
    timers: Timers,
    /// A task serves the loop (running, or waiting with `waker`).
    running: bool,
    waker: Option<Waker>,
}

impl LoopState {
    fn new() -> LoopState {
        LoopState {
            jobs: VecDeque::new(),
            timers: Timers::default(),
            running: false,
            waker: None,
        }
    }
}

/// Callback timers: a min-heap of deadlines over a slab of callbacks.
/// Cancelling empties the slot; its heap entry is skipped when it surfaces.
#[derive(Default)]
struct Timers {
    heap: BinaryHeap<Reverse<(Instant, u64, TimerId)>>,
    slots: Vec<Slot>,
    free: Vec<usize>,
    /// Orders timers with equal deadlines by when they were set.
    sequence: u64,
    live: usize,
}

struct Slot {
    generation: u64,
    state: SlotState,
}

enum SlotState {
    Free,
    Armed {
        callback: TimerCallback,
        period: Option<Duration>,
    },
    /// Its callback is running on the loop right now.
    Firing {
        period: Option<Duration>,
        cancelled: bool,
    },
}

impl Timers {
    fn insert(&mut self, deadline: Instant, period: Option<Duration>, callback: TimerCallback) -> TimerId {
        let state = SlotState::Armed { callback, period };
        let index = match self.free.pop() {
            Some(index) => {
                self.slots[index].state = state;
                index
            }
            None => {
                self.slots.push(Slot { generation: 0, state });
                self.slots.len() - 1
            }
        };
        self.live += 1;
        let id = TimerId {
            index,
            generation: self.slots[index].generation,
        };
        self.push(deadline, id);
        id
    }

    fn push(&mut self, deadline: Instant, id: TimerId) {
        self.sequence += 1;
        self.heap.push(Reverse((deadline, self.sequence, id)));
    }

    fn slot(&mut self, id: TimerId) -> Option<&mut Slot> {
        self.slots
            .get_mut(id.index)
            .filter(|slot| slot.generation == id.generation)
    }

    fn is_live(&self, id: TimerId) -> bool {
        self.slots.get(id.index).is_some_and(|slot| {
            slot.generation == id.generation
                && match slot.state {
                    SlotState::Free => false,
                    SlotState::Armed { .. } => true,
                    SlotState::Firing { cancelled, period } => !cancelled && period.is_some(),
                }
        })
    }

    /// Cancels `id`. Returns whether it was live (see `is_live`), and its
    /// callback, to drop outside the lock, if it was armed.
    fn cancel(&mut self, id: TimerId) -> (bool, Option<TimerCallback>) {
        let was_live = self.is_live(id);
        let Some(slot) = self.slot(id) else {
            return (false, None);
        };
        match std::mem::replace(&mut slot.state, SlotState::Free) {
            SlotState::Armed { callback, .. } => {
                self.release(id.index);
                (was_live, Some(callback))
            }
            SlotState::Firing { period, .. } => {
                // An interval cancelled from its own callback: the loop
                // frees the slot when the callback returns.
                slot.state = SlotState::Firing {
                    period,
                    cancelled: true,
                };
                (was_live, None)
            }
            SlotState::Free => (false, None),
        }
    }

    fn release(&mut self, index: usize) {
        let slot = &mut self.slots[index];
        slot.state = SlotState::Free;
        slot.generation += 1;
        self.free.push(index);
        self.live -= 1;
        if self.live == 0 {
            // Only skipped entries are left.
            self.heap.clear();
        }
    }

    /// The earliest deadline of a live timer, dropping cancelled entries.
    fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(Reverse((deadline, _, id))) = self.heap.peek() {
            // A cancelled timer's slot may be free, or reused by a newer
            // timer (another generation): either way the entry is stale.
            let slot = &self.slots[id.index];
            if slot.generation == id.generation && matches!(slot.state, SlotState::Armed { .. }) {
                return Some(*deadline);
            }
            self.heap.pop();
        }
        None
    }

    /// Takes the next timer due at `now`, marking it firing.
    fn pop_due(&mut self, now: Instant) -> Option<(usize, TimerCallback)> {
        let deadline = self.next_deadline()?;
        if deadline > now {
            return None;
        }
        let Reverse((_, _, TimerId { index, .. })) = self.heap.pop()?;
        let slot = &mut self.slots[index];
        let SlotState::Armed { callback, period } = std::mem::replace(&mut slot.state, SlotState::Free)
        else {
            unreachable!("next_deadline surfaced an armed timer");
        };
        slot.state = SlotState::Firing {
            period,
            cancelled: false,
        };
        Some((index, callback))
    }

    /// After a callback ran: re-arm an interval (its callback given back),
    /// or free the slot. Returns a callback to drop outside the lock.
    fn fired(
        &mut self,
        index: usize,
        callback: Option<Box<dyn FnMut() + Send>>,
        now: Instant,
    ) -> Option<Box<dyn FnMut() + Send>> {
        let slot = &mut self.slots[index];
        match (&slot.state, callback) {
            (
                SlotState::Firing {
                    period: Some(period),
                    cancelled: false,
                },
                Some(callback),
            ) => {
                let period = *period;
                slot.state = SlotState::Armed {
                    callback: TimerCallback::Repeat(callback),
                    period: Some(period),
                };
                let id = TimerId {
                    index,
                    generation: slot.generation,
                };
                // The next tick counts from now: a slow callback delays the
                // interval rather than bursting to catch up.
                self.push(now.checked_add(period).unwrap_or(now), id);
                None
            }
            (_, callback) => {
                self.release(index);
                callback
            }
        }
    }
}

/// The event loop's task: runs queued jobs, fires due timers, and sleeps
/// until the next deadline; it ends when neither jobs nor timers are left.
struct EventLoop {
    spawner: Spawner,
    /// The sleep towards the earliest deadline, and that deadline.
    sleep: Option<(Instant, BoxFuture)>,
    /// It returned `Ready`, having marked the loop not running.
    finished: bool,
}

impl Drop for EventLoop {
    /// Dropped unfinished (the runtime shut down, or refused the task): the
    /// loop is no longer served, so the next job queued starts a new task
    /// instead of waiting for this one forever.
    fn drop(&mut self) {
        if !self.finished {
            let mut state = lock(&self.spawner.shared.event_loop);
            state.running = false;
            state.waker = None;
        }
    }
}

/// Jobs run per poll of the loop's task before it yields to the runtime.
const BUDGET: usize = 128;

impl Future for EventLoop {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let shared = &this.spawner.shared;
        let mut budget = BUDGET;
        loop {
            // Jobs first: everything queued so far, in order.
            loop {
                let job = lock(&shared.event_loop).jobs.pop_front();
                let Some(job) = job else { break };
                job.run();
                budget -= 1;
                if budget == 0 {
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
            }
            // Then one due timer, after which jobs it queued run first.
            let now = shared.runtime.now();
            let due = lock(&shared.event_loop).timers.pop_due(now);
            if let Some((index, callback)) = due {
                // A panicking callback has been reported by the panic hook;
                // an interval keeps its schedule.
                let callback = match callback {
                    TimerCallback::Once(f) => {
                        let _ = catch_unwind(AssertUnwindSafe(f));
                        None
                    }
                    TimerCallback::Repeat(mut f) => {
                        let _ = catch_unwind(AssertUnwindSafe(&mut f));
                        Some(f)
                    }
                };
                let now = shared.runtime.now();
                let dropped = lock(&shared.event_loop).timers.fired(index, callback, now);
                drop(dropped);
                continue;
            }
            // Nothing due: end, or wait for the next deadline or new work.
            let mut state = lock(&shared.event_loop);
            if !state.jobs.is_empty() {
                continue;
            }
            let Some(deadline) = state.timers.next_deadline() else {
                state.running = false;
                let displaced = state.waker.take();
                crate::util::unlock_then_drop(state, displaced);
                this.finished = true;
                return Poll::Ready(());
            };
            let displaced = crate::util::replace_waker(&mut state.waker, cx.waker());
            crate::util::unlock_then_drop(state, displaced);
            let sleep = match &mut this.sleep {
                Some((at, sleep)) if *at == deadline => sleep,
                slot => &mut slot.insert((deadline, shared.runtime.sleep_until(deadline))).1,
            };
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.sleep = None;
        }
    }
}
