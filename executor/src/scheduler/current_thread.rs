//! The current-thread scheduler: every task runs on the thread that calls
//! `block_on`.
//!
//! The scheduler's `Core` (its run queue) is held by whichever thread is
//! inside `block_on`; it sits in that thread's context, so wakes issued by
//! running tasks push into it with no synchronization at all. Wakes from
//! other threads go through the injection queue and unpark the thread.
//!
//! `block_on` may be called from several threads at once (through the
//! runtime or any of its handles): one holds the core and runs every task;
//! the others poll only their own future until the core is free, then one of
//! them takes it over.
//!
//! The driver gets a turn whenever the run queue is empty — a blocking park
//! if nothing is ready, a non-blocking poll if the `block_on` future was
//! woken or a task yielded — and at the latest every `event_interval` polls
//! (of tasks and of the `block_on` future alike), so that a future that
//! keeps waking itself cannot keep I/O and timers out.
//!
//! Tasks spawned with `spawn_local` need not be `Send`. The first one pins the
//! runtime to its thread: from then on only that thread may drive it, and if
//! the runtime is dropped elsewhere the local futures are leaked rather than
//! dropped on the wrong thread.

use super::Config;
use super::defer::{self, Defer};
use super::inject::Inject;
use crate::block_on::CachedParker;
use crate::blocking;
use crate::context::{self, Context};
use crate::coop;
use crate::park::{DriverSlot, Park, Parker};
use crate::scheduler;
use crate::task::registry::Registry;
use crate::task::{self, JoinHandle, Notified, Schedule, Task};
use crate::util::countdown::Countdown;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, Ordering};
// Not loom-modelled as a whole (see the multi-thread scheduler): std types.
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::task::{Poll, Wake, Waker};
use std::thread::{self, ThreadId};

/// A task of this scheduler, as queued.
type Runnable = Notified<Arc<Handle>>;

/// What tasks and wakers of this scheduler share.
pub(crate) struct Handle {
    inject: Inject<Runnable>,
    registry: Registry<Arc<Handle>>,
    pub(crate) driver: DriverSlot,
    /// Where the thread holding the core sleeps.
    parker: Parker,
    /// The `block_on` future was woken.
    woken: AtomicBool,
    pub(crate) blocking: blocking::Spawner,
    pub(super) config: Config,
    /// The thread the first `spawn_local` ran on.
    local_owner: OnceLock<ThreadId>,
    /// Where the core waits between `block_on` calls, for `block_on`
    /// through a handle. Weak: the core holds this handle.
    scheduler: Weak<CurrentThread>,
}

/// The run queue, held by the thread inside `block_on`.
pub(crate) struct Core {
    tasks: VecDeque<Runnable>,
    /// When to look at the injection queue first.
    global_queue_tick: Countdown,
    /// Tasks (or the `block_on` future) that yielded: woken after the next
    /// turn of the driver.
    defer: Defer,
    handle: Arc<Handle>,
}

/// The scheduler: the core, when no thread holds it, and the threads
/// waiting for it.
pub(crate) struct CurrentThread {
    slot: Mutex<Slot>,
}

/// Behind one lock, so that putting the core back and taking its waiters
/// is one trip.
struct Slot {
    /// Boxed once, for the thread context that holds it during `block_on`:
    /// taking and giving back the core allocates nothing.
    core: Option<Box<Core>>,
    /// Threads in `block_on` waiting for the core.
    waiters: Vec<Waker>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

const WRONG_THREAD: &str = "this current-thread runtime holds `!Send` tasks spawned with `spawn_local` on another \
     thread; only that thread may run them. Call `block_on` on the thread that spawned them";

impl CurrentThread {
    pub(crate) fn new(
        config: Config,
        driver: Option<Arc<dyn Park>>,
        blocking: blocking::Spawner,
    ) -> (Arc<CurrentThread>, Arc<Handle>) {
        let mut made = None;
        let scheduler = Arc::new_cyclic(|scheduler| {
            let handle = Arc::new(Handle {
                inject: Inject::new(),
                registry: Registry::new(1),
                driver: DriverSlot::new(driver, 1),
                parker: Parker::new(),
                woken: AtomicBool::new(false),
                blocking,
                config,
                local_owner: OnceLock::new(),
                scheduler: scheduler.clone(),
            });
            let core = Core {
                tasks: VecDeque::with_capacity(64),
                global_queue_tick: Countdown::new(handle.config.global_queue_interval),
                defer: Defer::new(),
                handle: handle.clone(),
            };
            made = Some(handle);
            CurrentThread {
                slot: Mutex::new(Slot {
                    core: Some(Box::new(core)),
                    waiters: Vec::new(),
                }),
            }
        });
        (scheduler, made.expect("made by `new_cyclic`"))
    }

    /// Runs `future` to completion on this thread, running the runtime's
    /// tasks meanwhile (or, if another thread is doing that, waiting for it
    /// to hand over).
    #[track_caller]
    pub(crate) fn block_on<F: Future>(&self, handle: &Arc<Handle>, future: F) -> F::Output {
        let Some(_driving) = context::try_enter_driving() else {
            panic!("{}", context::NESTED_BLOCK_ON);
        };
        let _current = context::set_current(scheduler::Handle::CurrentThread(handle.clone()));
        let mut future = pin!(future);
        // Made only if another thread holds the core: the usual call takes
        // the core at once and needs no parker of its own.
        let mut parker_and_waker: Option<(CachedParker, Waker)> = None;
        loop {
            if let Some(core) = self.take_core() {
                // Checked while holding the core: only its holder can set the
                // owner (`spawn_local` needs the core), so no thread can
                // become the owner between this check and `run_with_core`.
                if handle
                    .local_owner
                    .get()
                    .is_some_and(|owner| *owner != thread::current().id())
                {
                    self.give_back(core);
                    panic!("{WRONG_THREAD}");
                }
                return self.run_with_core(handle, core, future);
            }
            // Another thread runs the tasks. Ask to hear when it stops, then
            // look again before sleeping, so that hand-over is not missed.
            let (parker, waker) = parker_and_waker.get_or_insert_with(|| {
                let parker = CachedParker::get();
                let waker = parker.waker();
                (parker, waker)
            });
            let mut cx = std::task::Context::from_waker(waker);
            {
                let mut slot = lock(&self.slot);
                if slot.core.is_some() {
                    continue;
                }
                if !slot.waiters.iter().any(|w| w.will_wake(waker)) {
                    slot.waiters.push(waker.clone());
                }
            }
            if let Poll::Ready(output) = coop::with_budget(|| future.as_mut().poll(&mut cx)) {
                return output;
            }
            parker.park();
        }
    }

    fn take_core(&self) -> Option<Box<Core>> {
        lock(&self.slot).core.take()
    }

    /// Returns the core and wakes the threads waiting for it.
    fn give_back(&self, core: Box<Core>) {
        let waiters = {
            let mut slot = lock(&self.slot);
            slot.core = Some(core);
            std::mem::take(&mut slot.waiters)
        };
        for waker in waiters {
            waker.wake();
        }
    }

    fn run_with_core<F: Future>(
        &self,
        handle: &Arc<Handle>,
        core: Box<Core>,
        future: Pin<&mut F>,
    ) -> F::Output {
        /// Puts the core back and wakes waiting threads, also on unwind.
        struct GiveBack<'a> {
            scheduler: &'a CurrentThread,
            guard: Option<context::CoreGuard>,
        }
        impl Drop for GiveBack<'_> {
            fn drop(&mut self) {
                let core = self.guard.take().and_then(|g| g.take());
                if let Some(scheduler::Core::CurrentThread(mut core)) = core {
                    // Wakers kept for the driver's next turn must not wait
                    // for the next `block_on`, which may never come (or the
                    // runtime may be dropped first): wake them now, once the
                    // core is back (each goes to the injection queue).
                    let mut yielded = if core.defer.is_empty() {
                        Vec::new()
                    } else {
                        core.defer.take()
                    };
                    self.scheduler.give_back(core);
                    defer::wake_all(&mut yielded);
                }
            }
        }
        let _give_back = GiveBack {
            scheduler: self,
            guard: Some(context::set_core(scheduler::Core::CurrentThread(core))),
        };
        let output = context::with(|cx| run(cx, handle, future));
        output.expect("the thread-local context lives as long as `block_on` runs")
    }

    /// Cancels every task and drops every future, on this thread.
    pub(crate) fn shutdown(&self, handle: &Arc<Handle>) {
        handle.inject.close();
        let core = self.take_core();
        let on_owner = handle
            .local_owner
            .get()
            .is_none_or(|owner| *owner == thread::current().id());
        let _current = context::set_current(scheduler::Handle::CurrentThread(handle.clone()));
        handle.registry.close_and_shutdown_all(0, on_owner);
        if let Some(core) = core {
            drop(core.tasks);
        }
        drop(handle.inject.drain());
    }
}

// ANCHOR: current-thread-run
/// The scheduling loop of the thread holding the core.
fn run<F: Future>(cx: &Context, handle: &Arc<Handle>, mut future: Pin<&mut F>) -> F::Output {
    let waker = Waker::from(handle.clone());
    let mut task_cx = std::task::Context::from_waker(&waker);
    let event_interval = handle.config.event_interval.max(1);
    // Polls (of the future and of tasks) since the driver's last turn.
    let mut ticks = 0;
    let _unconstrain = coop::Unconstrain;
    handle.woken.store(true, Ordering::Release);
    loop {
        if handle.woken.swap(false, Ordering::AcqRel) {
            ticks += 1;
            if let Poll::Ready(output) = coop::with_budget(|| future.as_mut().poll(&mut task_cx)) {
                return output;
            }
        }
        loop {
            if ticks >= event_interval {
                // A long run without the driver: let it dispatch what is ready.
                turn_driver(cx, handle, false);
                ticks = 0;
                break;
            }
            match with_core(cx, Core::next_task) {
                Some(task) => {
                    ticks += 1;
                    coop::reset(cx);
                    task.run();
                }
                None => {
                    // The future was woken (by a task, most often): poll it
                    // straight away; the driver's turn comes by the count.
                    if !handle.woken.load(Ordering::Acquire) {
                        // Wait in the driver, unless tasks that yielded wait
                        // for this turn.
                        let block = with_core(cx, |core| core.defer.is_empty());
                        turn_driver(cx, handle, block);
                        ticks = 0;
                    }
                    break;
                }
            }
        }
    }
}

/// Gives the driver a turn — waiting in it until woken if `block`, else
/// only dispatching what is ready — then wakes the tasks that yielded.
fn turn_driver(cx: &Context, handle: &Handle, block: bool) {
    if block {
        handle.parker.park(&handle.driver, None);
    } else {
        let _ = handle.driver.poll_ready();
    }
    let mut yielded = with_core(cx, |core| core.defer.take());
    defer::wake_all(&mut yielded);
    with_core(cx, |core| core.defer.restore(yielded));
}
// ANCHOR_END: current-thread-run

/// Borrows the core for a moment; `f` never runs user code.
fn with_core<R>(cx: &Context, f: impl FnOnce(&mut Core) -> R) -> R {
    let mut core = cx.core.borrow_mut();
    match core.as_mut() {
        Some(scheduler::Core::CurrentThread(core)) => f(core),
        _ => unreachable!("the thread in `block_on` holds the core"),
    }
}

impl Core {
    pub(crate) fn handle(&self) -> &Arc<Handle> {
        &self.handle
    }

    /// Keeps a yielding task's (or the `block_on` future's) waker until
    /// the driver's next turn.
    pub(crate) fn defer(&mut self, waker: &Waker) {
        self.defer.push(waker);
    }

    /// True if `waker` is this runtime's `block_on` waker (made in `run`
    /// from the handle).
    pub(crate) fn is_block_on_waker(&self, waker: &Waker) -> bool {
        std::ptr::eq(waker.data(), Arc::as_ptr(&self.handle).cast::<()>())
    }

    // ANCHOR: current-thread-next-task
    fn next_task(&mut self) -> Option<Runnable> {
        if self.global_queue_tick.tick() {
            self.handle.inject.pop().or_else(|| self.tasks.pop_front())
        } else {
            self.tasks.pop_front().or_else(|| self.handle.inject.pop())
        }
    }
    // ANCHOR_END: current-thread-next-task
}

impl Handle {
    pub(crate) fn spawn<F>(me: &Arc<Handle>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        me.registry
            .spawn(future, me.clone(), |notified| me.schedule(notified))
    }

    /// Spawns a `!Send` future; the caller is the thread holding the core.
    pub(crate) fn spawn_local<F>(me: &Arc<Handle>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let here = thread::current().id();
        let owner = *me.local_owner.get_or_init(|| here);
        assert!(owner == here, "{WRONG_THREAD}");
        // The task is polled only by the thread holding the core, and from
        // now on `block_on` refuses to hand the core to any thread but
        // `owner` (this one); shutdown on another thread leaks local tasks
        // instead of dropping them (`Registry::close_and_shutdown_all`).
        // SAFETY: so the `!Send` future never leaves this thread (above).
        let (task, notified, join) = unsafe { task::new_local_task(future, me.clone()) };
        if let Some(notified) = me.registry.bind(task, notified, true) {
            me.schedule(notified);
        }
        join
    }

    pub(crate) fn num_tasks(&self) -> usize {
        self.registry.len()
    }

    /// The scheduler, unless the runtime has been dropped.
    pub(crate) fn scheduler(&self) -> Option<Arc<CurrentThread>> {
        self.scheduler.upgrade()
    }
}

// ANCHOR: current-thread-schedule
impl Schedule for Arc<Handle> {
    fn schedule(&self, task: Runnable) {
        let mut task = Some(task);
        context::with_core(|core| {
            if let Some(scheduler::Core::CurrentThread(core)) = core
                && Arc::ptr_eq(&core.handle, self)
            {
                core.tasks.push_back(task.take().expect("taken once"));
            }
        });
        if let Some(task) = task {
            match self.inject.push(task) {
                Ok(()) => self.parker.unpark(&self.driver),
                // Shut down: the task was cancelled; release the reference.
                Err(task) => drop(task),
            }
        }
    }

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        self.registry.remove(task)
    }
}
// ANCHOR_END: current-thread-schedule

/// The `block_on` future's waker: flags it and wakes the thread.
impl Wake for Handle {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        // On the thread that holds the core (a task it runs, or the driver
        // it parks in, woke the future) nobody sleeps: that thread looks at
        // `woken` before it parks again, so it needs no interrupt.
        let on_core = context::with_core(
            |core| matches!(core, Some(scheduler::Core::CurrentThread(core)) if Arc::ptr_eq(&core.handle, self)),
        );
        if on_core {
            self.parker.unpark_from_own_thread(&self.driver);
        } else {
            self.parker.unpark(&self.driver);
        }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CurrentThread")
            .field("injected", &self.inject.len())
            .field("driver", &self.driver)
            .finish()
    }
}

impl fmt::Debug for Core {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Core").field("queued", &self.tasks.len()).finish()
    }
}

impl fmt::Debug for CurrentThread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CurrentThread")
            .field("core_free", &lock(&self.slot).core.is_some())
            .finish()
    }
}
