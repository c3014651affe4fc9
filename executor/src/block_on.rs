//! `block_on`: run one future to completion on the calling thread.
//!
//! The thread sleeps in `std::thread::park` while the future is pending, and
//! the future's waker unparks it. Inside a multi-thread runtime's
//! `block_on`, the thread first runs the runtime's queued tasks, and sleeps
//! only when there are none. The waker is made once per thread and
//! cached, so a `block_on` call allocates nothing, and neither does a poll.

use crate::context;
use crate::coop;
use crate::park::DriverSlot;
use crate::scheduler;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
// Real thread parking, which loom does not model; `block_on` is exercised by
// ordinary tests instead.
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

/// Runs `future` to completion on the current thread, blocking it while the
/// future is pending, and returns its output.
///
/// This drives only the one future: it does not start a runtime, so futures
/// that need one (spawning tasks, timers, sockets) belong inside
/// [`Runtime::block_on`](crate::Runtime::block_on) instead.
///
/// # Panics
///
/// Panics if called from a thread that is already driving asynchronous work —
/// a runtime worker, or inside another `block_on` — since blocking there
/// would stall every task that thread runs. Use `.await`, or move the
/// blocking code to [`spawn_blocking`](crate::task::spawn_blocking).
///
/// # Examples
///
/// ```
/// let answer = weft_executor::block_on(async { 6 * 7 });
/// assert_eq!(answer, 42);
/// ```
#[track_caller]
pub fn block_on<F: Future>(future: F) -> F::Output {
    let Some(_driving) = context::try_enter_driving() else {
        panic!("{}", context::NESTED_BLOCK_ON);
    };
    run_until_ready(future, None)
}

/// Polls `future` until ready, parking the thread in between. With a
/// runtime (`rt`), the thread counts as busy there except while parked, and
/// whoever wakes it counts it busy again first (see `DriverSlot`); and a
/// future that keeps waking itself gives the driver a non-blocking turn
/// every `event_interval` polls, in case no worker is free to (they may all
/// be busy, or blocked in tasks).
///
/// On a multi-thread runtime the thread also runs one task from the
/// injection queue after each poll of the future that returns `Pending`
/// (see `scheduler::multi_thread::block_on`): its polls count towards
/// `event_interval` too, and the future is polled again if its waker
/// fired, before any other task.
pub(crate) fn run_until_ready<F: Future>(future: F, rt: Option<&scheduler::Handle>) -> F::Output {
    /// Ends the activity however `block_on` leaves, a panic included; first
    /// wakes the tasks that yielded here and still wait for a driver turn.
    struct Busy<'a>(&'a CachedParker, Option<&'a scheduler::Handle>);
    impl Drop for Busy<'_> {
        fn drop(&mut self) {
            if let Some(rt) = self.1 {
                scheduler::wake_block_on_yields();
                self.0.set_activity(None);
                rt.driver().end_activity();
            }
        }
    }
    let mut future = pin!(future);
    let parker = CachedParker::get();
    let waker = parker.waker();
    let mut cx = Context::from_waker(&waker);
    // Dropped after `_busy`, which needs it to wake the yielders.
    let _core = rt
        .and_then(scheduler::Handle::block_on_core)
        .map(context::set_core);
    if let Some(rt) = rt {
        rt.driver().begin_activity();
        parker.set_activity(Some(rt.clone()));
    }
    let _busy = Busy(&parker, rt);
    let event_interval = rt.map_or(u32::MAX, |rt| rt.event_interval().max(1));
    // Polls (of the future and of tasks) since the thread last slept or
    // turned the driver.
    let mut ticks = 0;
    // ANCHOR: block-on-loop
    loop {
        // Only what this poll hands off may run here after it.
        scheduler::forget_hand_off();
        if let Poll::Ready(output) = coop::with_budget(|| future.as_mut().poll(&mut cx)) {
            return output;
        }
        ticks += 1;
        if let Some(rt) = rt
            && ticks >= event_interval
        {
            rt.turn_driver_off_worker();
            ticks = 0;
        }
        // If that poll spawned or woke a task (the server of the request
        // the future just sent, say), run one queued task here; poll the
        // future again if that woke it, else sleep, and leave the rest of
        // the queue to the workers. Only after a hand-off, and one task:
        // a task that keeps itself queued (a yield loop) moves to a worker
        // after its first turn here instead of bouncing between this
        // thread and the injection queue, waking an idle worker each time;
        // and tasks spawned from outside run where tokio runs them.
        if let Some(rt) = rt
            && rt.run_task_off_worker()
        {
            ticks += 1;
            if scheduler::has_block_on_yields() {
                // It yielded. Kept here, it would be out of the workers'
                // reach should the future block this thread: the driver's
                // turn now, and back to the queue.
                rt.turn_driver_off_worker();
                ticks = 0;
            }
            if parker.take_notified() {
                continue;
            }
        }
        if parker.park_counted(rt.map(scheduler::Handle::driver)) {
            ticks = 0;
        }
    }
    // ANCHOR_END: block-on-loop
}

/// A thread's parking spot, made once per thread.
pub(crate) struct CachedParker {
    inner: Arc<ThreadParker>,
}

struct ThreadParker {
    thread: Thread,
    state: AtomicUsize,
    /// The runtime this thread's `block_on` counts as busy in, if any. Read
    /// by a waker only in state `WAKING`, which the owner never sees outside
    /// `park`; written by the owner only outside `park`.
    activity: Mutex<Option<scheduler::Handle>>,
}

const EMPTY: usize = 0;
const PARKED: usize = 1;
/// A waker is counting the thread busy; it will then set `NOTIFIED`.
const WAKING: usize = 2;
const NOTIFIED: usize = 3;

std::thread_local! {
    static PARKER: Arc<ThreadParker> = Arc::new(ThreadParker::new());
}

impl ThreadParker {
    fn new() -> ThreadParker {
        ThreadParker {
            thread: thread::current(),
            state: AtomicUsize::new(EMPTY),
            activity: Mutex::new(None),
        }
    }
}

impl CachedParker {
    pub(crate) fn get() -> CachedParker {
        let inner = PARKER
            .try_with(Arc::clone)
            // Thread-locals are being torn down: use a one-off parker.
            .unwrap_or_else(|_| Arc::new(ThreadParker::new()));
        CachedParker { inner }
    }

    /// A waker that unparks this thread; cloning it allocates nothing.
    pub(crate) fn waker(&self) -> Waker {
        Waker::from(self.inner.clone())
    }

    fn set_activity(&self, rt: Option<scheduler::Handle>) {
        *self.inner.activity.lock().unwrap_or_else(|p| p.into_inner()) = rt;
    }

    /// Sleeps until the waker is woken (returns at once if it already was).
    pub(crate) fn park(&self) {
        let _slept = self.park_counted(None);
    }

    /// Like `park`; while asleep the thread does not count as busy in
    /// `driver`, and the waker counts it busy again before waking it.
    /// Returns true if the thread slept (false if it was woken already).
    fn park_counted(&self, driver: Option<&DriverSlot>) -> bool {
        let state = &self.inner.state;
        if self.take_notified() {
            return false;
        }
        if state
            .compare_exchange(EMPTY, PARKED, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            // Woken on our way here (NOTIFIED, or WAKING about to be): we
            // never stopped counting as busy, so no one must count us.
            while !self.take_notified() {
                std::hint::spin_loop();
            }
            return false;
        }
        // Parked first, then idle: a waker from now on counts us busy
        // before we could look idle to anyone.
        if let Some(driver) = driver {
            driver.end_activity();
        }
        while !self.take_notified() {
            thread::park();
        }
        true
    }

    /// Consumes a notification, if one is there.
    fn take_notified(&self) -> bool {
        self.inner
            .state
            .compare_exchange(NOTIFIED, EMPTY, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

impl Wake for ThreadParker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let mut current = self.state.load(Ordering::Acquire);
        loop {
            let next = match current {
                EMPTY => NOTIFIED,
                PARKED => WAKING,
                // Someone is waking it, or has.
                _ => return,
            };
            match self
                .state
                .compare_exchange(current, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break,
                Err(actual) => current = actual,
            }
        }
        if current == PARKED {
            if let Some(rt) = &*self.activity.lock().unwrap_or_else(|p| p.into_inner()) {
                rt.driver().begin_activity();
            }
            self.state.store(NOTIFIED, Ordering::Release);
            self.thread.unpark();
        }
    }
}
