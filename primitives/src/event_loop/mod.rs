//! The event loop behind every [`Spawner`]: one queue of jobs (promise
//! reactions, callbacks) and one heap of callback timers, served by a
//! single task.
//!
//! # Protocol
//!
//! [`EventLoop`] is the state, behind one lock: the jobs, the timers,
//! whether a task serves the loop (`running`), and that task's waker while
//! it sleeps. Whoever adds work gets a [`Kick`] back and acts on it with
//! the lock released: [`Kick::Start`] spawns a [`LoopTask`] (no task
//! serves the loop; `running` is already set, so only one is spawned),
//! [`Kick::Wake`] wakes the sleeping one. The task alone clears `running`:
//! when it finds neither jobs nor timers left (it returns `Ready`), or when
//! it is dropped unfinished (the runtime shut down).
//!
//! Like JavaScript's event loop, the task runs jobs one at a time in the
//! order they were queued, and runs the jobs queued by a timer callback
//! before the next timer fires. User code (a job, a timer callback, a
//! callback dropped on cancel) always runs with the lock released.

mod jobs;
mod timers;

pub(crate) use self::jobs::{Job, RunJob};
pub(crate) use self::timers::{TimerCallback, TimerId};

use self::timers::Timers;
use crate::loom::{Mutex, MutexGuard, lock};
use crate::spawner::{BoxFuture, Spawner};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// A spawner's jobs and timers, and whether a task serves them.
pub(crate) struct EventLoop {
    state: Mutex<State>,
}

struct State {
    jobs: VecDeque<Job>,
    timers: Timers,
    /// A task serves the loop (running, or waiting with `waker`).
    running: bool,
    waker: Option<Waker>,
}

/// What the caller that added work must do, with the lock released, so
/// that a task looks at it.
#[must_use = "the loop's task may not see the new work"]
pub(crate) enum Kick {
    /// No task serves the loop: spawn one.
    Start,
    /// The task sleeps: wake it.
    Wake(Waker),
    /// The task is running and will see the work.
    Nothing,
}

impl EventLoop {
    pub(crate) fn new() -> EventLoop {
        EventLoop {
            state: Mutex::new(State {
                jobs: VecDeque::new(),
                timers: Timers::default(),
                running: false,
                waker: None,
            }),
        }
    }

    /// Queues `job` after the jobs queued before it.
    pub(crate) fn queue(&self, job: Job) -> Kick {
        let mut state = lock(&self.state);
        state.jobs.push_back(job);
        kick(state)
    }

    /// Queues `job` `n` times under one lock: a settled promise's `n`
    /// reactions, each taking the next in order.
    pub(crate) fn queue_runs(&self, job: &Arc<dyn RunJob>, n: usize) -> Kick {
        let mut state = lock(&self.state);
        state.jobs.extend((0..n).map(|_| Job::Run(Arc::clone(job))));
        kick(state)
    }

    /// Arms a timer that runs `callback` at `deadline`, then every `period`
    /// if one is given.
    pub(crate) fn add_timer(
        &self,
        deadline: Instant,
        period: Option<Duration>,
        callback: TimerCallback,
    ) -> (TimerId, Kick) {
        let mut state = lock(&self.state);
        let id = state.timers.insert(deadline, period, callback);
        (id, kick(state))
    }

    /// Cancels a timer; true if it was live: a timeout that had not fired,
    /// an interval not yet cancelled (even one cancelling itself from its
    /// own callback).
    pub(crate) fn cancel_timer(&self, id: TimerId) -> bool {
        let (was_live, dropped) = lock(&self.state).timers.cancel(id);
        // The callback (user code) drops with the lock released.
        drop(dropped);
        was_live
    }

    /// True while the timer has yet to fire (an interval: until cancelled).
    pub(crate) fn timer_is_pending(&self, id: TimerId) -> bool {
        lock(&self.state).timers.is_live(id)
    }
}

/// After work was added under `state`: what it takes for a task to see it.
fn kick(mut state: MutexGuard<'_, State>) -> Kick {
    if !state.running {
        state.running = true;
        Kick::Start
    } else if let Some(waker) = state.waker.take() {
        Kick::Wake(waker)
    } else {
        Kick::Nothing
    }
}

impl fmt::Debug for EventLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("EventLoop")
            .field("queued_jobs", &state.jobs.len())
            .field("timers", &state.timers.live)
            .field("loop_running", &state.running)
            .finish()
    }
}

/// The event loop's task: runs queued jobs, fires due timers, and sleeps
/// until the next deadline; it ends when neither jobs nor timers are left.
pub(crate) struct LoopTask {
    spawner: Spawner,
    /// The sleep towards the earliest deadline, and that deadline.
    sleep: Option<(Instant, BoxFuture)>,
    /// It returned `Ready`, having marked the loop not running.
    finished: bool,
}

impl LoopTask {
    /// The task that serves `spawner`'s loop, after a [`Kick::Start`].
    pub(crate) fn new(spawner: Spawner) -> LoopTask {
        LoopTask {
            spawner,
            sleep: None,
            finished: false,
        }
    }
}

impl Drop for LoopTask {
    /// Dropped unfinished (the runtime shut down, or refused the task): the
    /// loop is no longer served, so the next job queued starts a new task
    /// instead of waiting for this one forever.
    fn drop(&mut self) {
        if !self.finished {
            let mut state = lock(&self.spawner.event_loop().state);
            state.running = false;
            state.waker = None;
        }
    }
}

/// Jobs run per poll of the loop's task before it yields to the runtime.
const BUDGET: usize = 128;

impl Future for LoopTask {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let spawner = &this.spawner;
        let event_loop = &spawner.event_loop().state;
        let mut budget = BUDGET;
        loop {
            // Jobs first: everything queued so far, in order.
            loop {
                let job = lock(event_loop).jobs.pop_front();
                let Some(job) = job else { break };
                job.run();
                budget -= 1;
                if budget == 0 {
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
            }
            // Then one due timer, after which jobs it queued run first.
            let now = spawner.now();
            let due = lock(event_loop).timers.pop_due(now);
            if let Some((index, callback)) = due {
                // A panicking callback has been reported by the panic hook;
                // an interval keeps its schedule.
                let callback = match callback {
                    TimerCallback::Once(f) => {
                        if let Err(panic) = catch_unwind(AssertUnwindSafe(f)) {
                            crate::diag::callback_panicked("timer", &*panic);
                        }
                        None
                    }
                    TimerCallback::Repeat(mut f) => {
                        if let Err(panic) = catch_unwind(AssertUnwindSafe(&mut f)) {
                            crate::diag::callback_panicked("interval", &*panic);
                        }
                        Some(f)
                    }
                };
                let now = spawner.now();
                let dropped = lock(event_loop).timers.fired(index, callback, now);
                drop(dropped);
                continue;
            }
            // Nothing due: end, or wait for the next deadline or new work.
            let mut state = lock(event_loop);
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
                slot => &mut slot.insert((deadline, spawner.sleep_until(deadline))).1,
            };
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.sleep = None;
        }
    }
}
