//! One worker thread: find a task, run it, repeat; search, then park, when
//! there is none.
//!
//! The worker's `Core` (its run queue's owner half, LIFO slot and counters)
//! lives in the thread-local context, so that a task woken by the task this
//! worker is running is pushed straight into it. The run loop borrows the core
//! only between polls; user code never runs while it is borrowed.

use super::queue::{self, Local};
use super::tune::PollTimer;
use super::{Handle, Runnable};
use crate::context::{self, Context};
use crate::coop;
use crate::scheduler;
use crate::scheduler::defer::{self, Defer};
use crate::util::countdown::Countdown;
use crate::util::rand::FastRand;
use std::sync::Arc;
use std::task::Waker;

// ANCHOR: worker-core
/// LIFO polls in a row before the slot is bypassed; it is used again from
/// the next task the worker takes from its queues.
const MAX_LIFO_POLLS_PER_TICK: usize = 3;

/// A worker's own scheduling state.
pub(crate) struct Core {
    index: usize,
    handle: Arc<Handle>,
    run_queue: Local<Runnable>,
    lifo_slot: Option<Runnable>,
    lifo_enabled: bool,
    /// When to look at the injection queue first.
    global_queue_tick: Countdown,
    /// Measures the ticks, to tune `global_queue_tick` (see `tune`).
    poll_timer: PollTimer,
    /// When to let the driver dispatch ready events.
    event_tick: Countdown,
    /// Tasks that yielded: woken after the driver's next turn.
    defer: Defer,
    is_searching: bool,
    /// Parked in the driver: wakes dispatched by it need not wake others.
    is_parked: bool,
    /// Waking the tasks that yielded: they are ours to run, so each wake
    /// need not wake another worker; the batch says so once if it is more
    /// than we need.
    waking_deferred: bool,
    is_shutdown: bool,
    rand: FastRand,
}
// ANCHOR_END: worker-core

/// The thread body of worker `index`.
pub(super) fn run(handle: Arc<Handle>, index: usize, run_queue: Local<Runnable>) {
    let _current = context::set_current(scheduler::Handle::MultiThread(handle.clone()));
    let _driving = context::try_enter_driving();
    let core = Core {
        index,
        handle: handle.clone(),
        run_queue,
        lifo_slot: None,
        lifo_enabled: true,
        global_queue_tick: Countdown::new(handle.config.global_queue_interval),
        poll_timer: PollTimer::new(handle.config.global_queue_interval),
        event_tick: Countdown::new(handle.config.event_interval),
        defer: Defer::new(),
        is_searching: false,
        is_parked: false,
        waking_deferred: false,
        is_shutdown: false,
        rand: FastRand::new(index as u64),
    };
    /// Reports the worker gone however it leaves. A worker only unwinds on a
    /// bug (task panics are caught) or a panicking `Park` driver; the
    /// runtime then shuts down rather than run on with a worker missing, and
    /// its `drop` still finds every worker accounted for instead of hanging.
    struct Exit<'a>(&'a Handle, usize);
    impl Drop for Exit<'_> {
        fn drop(&mut self) {
            if std::thread::panicking() {
                let handle = self.0;
                handle.begin_shutdown();
                // As a clean exit would: cancel every task, so that no
                // `JoinHandle` waits for a worker that is gone.
                handle.registry.close_and_shutdown_all(self.1, true);
                drop(handle.inject.drain());
            }
            self.0.worker_exited();
        }
    }
    let _exit = Exit(&handle, index);
    let core_guard = context::set_core(scheduler::Core::MultiThread(Box::new(core)));
    let worker = Worker {
        handle: &handle,
        index,
    };
    context::with(|cx| {
        worker.run(cx);
        worker.shutdown(cx);
    });
    drop(core_guard);
}

struct Worker<'a> {
    handle: &'a Arc<Handle>,
    index: usize,
}

impl Worker<'_> {
    /// Borrows the core for a moment. Never called with the core borrowed,
    /// and `f` never runs user code.
    fn core<R>(&self, cx: &Context, f: impl FnOnce(&mut Core) -> R) -> R {
        let mut core = cx.core.borrow_mut();
        match core.as_mut() {
            Some(scheduler::Core::MultiThread(core)) => f(core),
            _ => unreachable!("a worker thread always holds its core"),
        }
    }

    // ANCHOR: worker-run-loop
    fn run(&self, cx: &Context) {
        let _unconstrain = coop::Unconstrain;
        loop {
            let (task, maintenance) = self.core(cx, |core| {
                let maintenance = core.event_tick.tick();
                (core.next_task(), maintenance)
            });
            if maintenance {
                self.maintenance(cx);
            }
            if self.core(cx, |core| core.is_shutdown) {
                if let Some(task) = task {
                    drop(task);
                }
                return;
            }
            if let Some(task) = task {
                self.run_task(cx, task, Found::Here);
                continue;
            }
            if self.core(cx, |core| !core.defer.is_empty()) {
                // Only tasks that yielded are left here: dispatch what the
                // driver has ready, without waiting, and run them again
                // (before searching, which would count us as a searcher
                // and, finding work, wake another worker for nothing).
                let _ = self.handle.driver.poll_ready();
                self.wake_deferred(cx);
                self.notify_if_surplus(cx);
                continue;
            }
            if let Some(task) = self.search(cx) {
                self.run_task(cx, task, Found::Searching);
                continue;
            }
            self.park(cx);
            if self.core(cx, |core| core.is_shutdown) {
                return;
            }
        }
    }
    // ANCHOR_END: worker-run-loop

    /// Steals or takes from the injection queue; retries a few times
    /// (`spin_before_park`) before giving up, as parking and being woken
    /// again costs far more than a short spin when work is about to arrive.
    fn search(&self, cx: &Context) -> Option<Runnable> {
        let spins = self.handle.config.spin_before_park;
        let mut attempt = 0;
        loop {
            if let Some(task) = self.core(cx, |core| core.steal_work()) {
                return Some(task);
            }
            if attempt >= spins || self.handle.is_shutdown() {
                return None;
            }
            attempt += 1;
            std::hint::spin_loop();
        }
    }

    // ANCHOR: worker-run-task
    fn run_task(&self, cx: &Context, task: Runnable, found: Found) {
        let handle = self.handle;
        let was_searching = self.core(cx, |core| {
            core.lifo_enabled = true;
            std::mem::replace(&mut core.is_searching, false)
        });
        if was_searching && handle.idle.transition_worker_from_searching() {
            // We were the last searcher and found work.
            match found {
                // In another's queue or the injection queue: there may be
                // more, so let someone else carry on looking.
                Found::Searching => handle.notify_parked(),
                // In our own queue (put there by our own driver's turn or
                // by our own task), or in the injection queue before any
                // stealing: wake another only if more is in sight.
                // Waking one for nothing here made two workers take turns
                // at one I/O task pair, each woken as a searcher by the
                // other and then finding the pair's next event in its own
                // driver turn, as a searcher again (a wake-up and a sleep
                // every few round trips). A push that saw us searching and
                // woke nobody is seen here: our leaving, a
                // read-modify-write, is ordered against its check (see
                // `Idle::should_wake_one`), as when a searcher parks.
                Found::Here => handle.notify_if_work_pending(),
            }
        }
        coop::reset(cx);
        {
            task.run();
            if self.core(cx, |core| !core.defer.is_empty() && core.lifo_slot.is_some()) {
                // It yielded, and woke a task into the LIFO slot. Kept in
                // our list the yielder is out of every other worker's
                // reach: should the LIFO task block this thread (waiting on
                // the one that yielded), nobody could run it. So give the
                // driver its turn now and put the yielder back in the
                // stealable queue. (Without a LIFO task, the run loop gets
                // to the list within `event_interval` tasks, as before.)
                let _ = handle.driver.poll_ready();
                self.wake_deferred(cx);
                self.notify_if_surplus(cx);
            }
            let mut lifo_polls = 0;
            loop {
                let next = self.core(cx, |core| {
                    let task = core.lifo_slot.take()?;
                    if lifo_polls < MAX_LIFO_POLLS_PER_TICK && coop::has_budget_remaining() {
                        return Some(Ok(task));
                    }
                    // Two tasks waking each other would keep this worker to
                    // themselves: queue the task behind the others instead.
                    core.lifo_enabled = false;
                    core.run_queue.push_back_or_overflow(task, &**handle);
                    Some(Err(()))
                });
                match next {
                    Some(Ok(task)) => {
                        lifo_polls += 1;
                        task.run();
                    }
                    Some(Err(())) => {
                        handle.notify_parked();
                        break;
                    }
                    None => break,
                }
            }
        }
    }
    // ANCHOR_END: worker-run-task

    /// Wakes the tasks that yielded since the driver's last turn. They go
    /// to the back of the local queue, as yields do, not to the LIFO slot.
    // ANCHOR: worker-wake-deferred
    fn wake_deferred(&self, cx: &Context) {
        let (mut yielded, lifo_enabled) = self.core(cx, |core| {
            core.waking_deferred = true;
            let lifo_enabled = std::mem::replace(&mut core.lifo_enabled, false);
            (core.defer.take(), lifo_enabled)
        });
        if yielded.is_empty() {
            self.core(cx, |core| {
                core.waking_deferred = false;
                core.lifo_enabled = lifo_enabled;
            });
            return;
        }
        #[cfg(test)]
        self.handle
            .counts
            .deferred_drains
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        defer::wake_all(&mut yielded);
        self.core(cx, |core| {
            core.defer.restore(yielded);
            core.lifo_enabled = lifo_enabled;
            core.waking_deferred = false;
        });
    }
    // ANCHOR_END: worker-wake-deferred

    /// After a batch of wakes that did not look at the idle workers: one
    /// look for the whole batch, if it left more here than this worker
    /// needs (each look is a read-modify-write of the line every worker
    /// shares, too dear to pay per yield).
    fn notify_if_surplus(&self, cx: &Context) {
        if self.core(cx, |core| core.should_notify_others()) {
            self.handle.notify_parked();
        }
    }

    /// Lets the driver dispatch ready events, wakes the tasks that yielded,
    /// and checks for shutdown.
    fn maintenance(&self, cx: &Context) {
        let handle = self.handle;
        let _ = handle.driver.poll_ready();
        self.wake_deferred(cx);
        let config = &handle.config;
        let notify = self.core(cx, |core| {
            core.is_shutdown = handle.is_shutdown();
            if config.tune_global_queue_interval
                && let Some(interval) = core.poll_timer.stretch_done(config.event_interval)
            {
                core.global_queue_tick.set_every(interval);
            }
            core.should_notify_others()
        });
        if notify {
            handle.notify_parked();
        }
    }

    fn park(&self, cx: &Context) {
        let handle = self.handle;
        let index = self.index;
        let (has_tasks, is_searching) = self.core(cx, |core| (core.has_tasks(), core.is_searching));
        if has_tasks {
            return;
        }
        let was_last_searcher = handle.idle.transition_worker_to_parked(index, is_searching);
        self.core(cx, |core| core.is_searching = false);
        if was_last_searcher {
            handle.notify_if_work_pending();
        }
        loop {
            self.core(cx, |core| {
                core.is_parked = true;
                // Time asleep is not time spent on tasks.
                core.poll_timer.pause();
            });
            handle.remotes[index].parker.park(&handle.driver, None);
            let (shutdown, has_tasks) = self.core(cx, |core| {
                core.is_parked = false;
                core.is_shutdown = handle.is_shutdown();
                (core.is_shutdown, core.has_tasks())
            });
            if shutdown {
                return;
            }
            if has_tasks {
                // The driver dispatched wakes to us while we slept. If nobody
                // picked us meanwhile, we are awake but not searching.
                let searching = !handle.idle.unpark_worker_by_id(index);
                let notify = self.core(cx, |core| {
                    core.is_searching = searching;
                    core.should_notify_others()
                });
                if notify {
                    handle.notify_parked();
                }
                return;
            }
            if !handle.idle.is_parked(index) {
                // Picked by `notify_parked`, which counted us as searching.
                self.core(cx, |core| core.is_searching = true);
                return;
            }
            // Spurious: sleep again.
        }
    }

    /// Cancels every task (with the other workers, from our own shard on),
    /// then releases what is still queued here.
    fn shutdown(&self, cx: &Context) {
        self.handle.registry.close_and_shutdown_all(self.index, true);
        // The queue is closed; what it still holds would keep tasks (and,
        // through them, the handle) alive after everyone has left.
        drop(self.handle.inject.drain());
        loop {
            let task = self.core(cx, |core| core.lifo_slot.take().or_else(|| core.run_queue.pop()));
            match task {
                Some(task) => drop(task),
                None => break,
            }
        }
    }
}

impl Core {
    /// True if this core belongs to `handle`'s runtime.
    pub(super) fn belongs_to(&self, handle: &Arc<Handle>) -> bool {
        Arc::ptr_eq(&self.handle, handle)
    }

    /// Keeps a yielding task's waker until the driver's next turn.
    pub(crate) fn defer(&mut self, waker: &Waker) {
        self.defer.push(waker);
    }

    fn has_tasks(&self) -> bool {
        self.lifo_slot.is_some() || self.run_queue.has_tasks()
    }

    /// More than one task waiting here: another worker could take some.
    fn should_notify_others(&self) -> bool {
        usize::from(self.lifo_slot.is_some()) + self.run_queue.len() > 1
    }

    // ANCHOR: worker-next-task
    fn next_task(&mut self) -> Option<Runnable> {
        let handle = &self.handle;
        if self.global_queue_tick.tick() {
            // Fairness: the injection queue first, every so often.
            if let Some(task) = handle.inject.pop() {
                return Some(task);
            }
        }
        if let Some(task) = self.lifo_slot.take().or_else(|| self.run_queue.pop()) {
            return Some(task);
        }
        self.take_from_inject()
    }

    /// Takes a fair share of the injection queue: one task to run, the rest
    /// into the local queue (where others can steal them).
    fn take_from_inject(&mut self) -> Option<Runnable> {
        let handle = &self.handle;
        if handle.inject.is_empty() {
            return None;
        }
        let share = handle.inject.len() / handle.remotes.len() + 1;
        let n = share
            .min(self.run_queue.remaining_slots())
            .min(queue::CAPACITY / 2);
        let run_queue = &mut self.run_queue;
        handle.inject.pop_batch(n, |rest| run_queue.push_back_batch(rest))
    }
    // ANCHOR_END: worker-next-task

    // ANCHOR: worker-steal-work
    /// Searches: steals half of a random victim's queue, else takes from the
    /// injection queue.
    fn steal_work(&mut self) -> Option<Runnable> {
        if !self.is_searching {
            self.is_searching = self.handle.idle.transition_worker_to_searching();
        }
        if self.is_searching {
            let n = self.handle.remotes.len();
            let start = self.rand.below(n);
            for i in 0..n {
                let victim = (start + i) % n;
                if victim == self.index {
                    continue;
                }
                if let Some(task) = self.handle.remotes[victim].steal.steal_into(&mut self.run_queue) {
                    return Some(task);
                }
            }
        }
        // Searching or not, the injection queue is worth a look before parking.
        self.take_from_inject()
    }
    // ANCHOR_END: worker-steal-work

    // ANCHOR: worker-schedule-local
    /// Queues a task scheduled from this worker.
    pub(super) fn schedule_local(&mut self, handle: &Arc<Handle>, task: Runnable, is_yield: bool) {
        let should_notify = if is_yield {
            // Woken during its own poll, which is over: alone in the queue
            // it is what this worker runs next, nothing another could take.
            self.run_queue.push_back_or_overflow(task, &**handle);
            self.should_notify_others()
        } else if !self.lifo_enabled {
            self.run_queue.push_back_or_overflow(task, &**handle);
            true
        } else {
            match self.lifo_slot.replace(task) {
                Some(prev) => {
                    self.run_queue.push_back_or_overflow(prev, &**handle);
                    true
                }
                // It runs right after the current task: nobody to wake.
                None => false,
            }
        };
        // While we sleep in the driver, or wake our own yielders, we run
        // these ourselves (and say once afterwards if they are too many).
        if should_notify && !self.is_parked && !self.waking_deferred {
            handle.notify_parked();
        }
    }
    // ANCHOR_END: worker-schedule-local
}

/// Where a worker found the task it runs next.
#[derive(Clone, Copy)]
enum Found {
    /// By `next_task`: its LIFO slot, its own queue, or the injection
    /// queue (first every so often, for fairness, or when its own queue
    /// is empty), without stealing.
    Here,
    /// By searching: stolen from another worker or taken from the
    /// injection queue.
    Searching,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("index", &self.index)
            .field("queued", &self.run_queue.len())
            .field("lifo", &self.lifo_slot.is_some())
            .field("searching", &self.is_searching)
            .finish()
    }
}
