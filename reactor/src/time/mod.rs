//! Time: sleeps, timeouts and intervals, on a hierarchical timing wheel with
//! millisecond ticks; and a clock that tests can pause.
//!
//! Every timer belongs to the driver entered on the thread that first polls
//! it. Creating and dropping a timer is O(1); a timer that is never polled
//! (a `timeout` whose future is ready at once) never touches the wheel.
//!
//! # The paused clock
//!
//! [`pause`] freezes the current driver's clock. From then on time moves only
//! when [`advance`] moves it, or — *auto-advance* — when the runtime has
//! nothing at all to run: the clock then jumps straight to the next timer
//! deadline. A test of a 30-second deadline or an hour of intervals runs in
//! microseconds, and its timers fire in the order their deadlines say.
//! Both of weft's schedulers support it.
//!
//! # Examples
//!
//! ```
//! # use weft_reactor as weft;
//! # let driver = weft_reactor::Driver::new_paused().unwrap();
//! # let _enter = driver.handle().enter();
//! use std::time::Duration;
//! use weft::time::{Instant, sleep};
//!
//! let start = Instant::now();
//! let mut nap = std::pin::pin!(sleep(Duration::from_secs(3600)));
//! # let waker = std::task::Waker::noop();
//! # let mut cx = std::task::Context::from_waker(&waker);
//! # while nap.as_mut().poll(&mut cx).is_pending() { driver.park_idle(None); }
//! // ... awaited on a paused runtime, an hour passes at once:
//! assert!(start.elapsed() >= Duration::from_secs(3600));
//! ```

mod clock;
mod instant;
mod interval;
mod sleep;
#[cfg(test)]
mod stats;
#[cfg(test)]
mod tests;
mod timeout;
mod wheel;

pub use self::instant::Instant;
pub use self::interval::{Interval, MissedTickBehavior, interval, interval_at};
pub use self::sleep::{Sleep, sleep, sleep_until};
pub use self::timeout::{Elapsed, Timeout, timeout, timeout_at};

use self::clock::ceil_millis;
pub(crate) use self::clock::{Clock, saturating_add};

use self::wheel::{TimerKey, Wheel};
use crate::driver::{Handle, WAKE_BATCH, lock, wake_all};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

// ANCHOR: time-driver
/// The timer half of the driver: the wheel and the clock it reads.
pub(crate) struct TimeDriver {
    pub(crate) clock: Clock,
    wheel: Mutex<Wheel>,
    /// The tick at which a thread waiting in the driver wakes by itself
    /// (`u64::MAX`: never), or 0 while no thread waits on the timers. A
    /// timer inserted for an earlier tick must interrupt that wait. Written
    /// only with the wheel locked, so an insert either sees the waiter's
    /// tick or the waiter sees the new timer.
    wake_at: AtomicU64,
    /// The earliest tick a registration interrupted a wait for (`u64::MAX`:
    /// none pending). The waiter keeps it as its next wake even after that
    /// timer is cancelled, so a run of timeouts armed and cancelled while
    /// another thread waits costs one interrupt per span, not one each.
    /// Written and read with the wheel locked.
    interrupted_for: AtomicU64,
    /// No timer is due before this tick (`u64::MAX`: none pending), so a
    /// look at the timers can skip the lock. Lowered with the wheel locked
    /// by every insert, set to the wheel's next expiration when processing
    /// ends, and left alone by a cancel: never later than the wheel's
    /// earliest timer, at worst earlier, which only costs a look.
    next_due: AtomicU64,
    shutdown: AtomicBool,
    #[cfg(test)]
    pub(crate) stats: stats::Stats,
}
// ANCHOR_END: time-driver

impl TimeDriver {
    pub(crate) fn new(clock: Clock) -> TimeDriver {
        TimeDriver {
            clock,
            wheel: Mutex::new(Wheel::new()),
            wake_at: AtomicU64::new(0),
            interrupted_for: AtomicU64::new(u64::MAX),
            next_due: AtomicU64::new(u64::MAX),
            shutdown: AtomicBool::new(false),
            #[cfg(test)]
            stats: stats::Stats::default(),
        }
    }

    // ANCHOR: tick-rounding
    /// The first tick at or after `deadline`: a timer never fires early.
    fn tick_at_or_after(&self, deadline: std::time::Instant) -> u64 {
        ceil_millis(self.since_start(deadline))
    }
    // ANCHOR_END: tick-rounding

    /// The last tick that has begun by `now`.
    fn tick_at(&self, now: std::time::Instant) -> u64 {
        let ms = now.saturating_duration_since(self.clock.start()).as_millis();
        u64::try_from(ms).unwrap_or(u64::MAX)
    }

    /// The instant tick `tick` begins. Not capped at `FAR_FUTURE` past tick
    /// zero: a deadline saturated `FAR_FUTURE` ahead of a clock paused later
    /// lies beyond that, and auto-advance must reach its tick.
    fn instant_of(&self, tick: u64) -> std::time::Instant {
        let start = self.clock.start();
        // `checked_add` cannot fail on Linux (a timespec holds any u64 of
        // milliseconds). Where it could, the fallback lies before the tick
        // and a paused clock would never reach it: such a platform needs a
        // wider clock, not this fallback.
        start
            .checked_add(Duration::from_millis(tick))
            .unwrap_or_else(|| saturating_add(start, Duration::MAX))
    }

    /// Fires every timer due by now, waking them a batch at a time outside
    /// the lock. Returns true if any fired.
    pub(crate) fn process(&self, wakers: &mut Vec<Waker>) -> bool {
        let now = self.tick_at(self.now());
        self.process_until(now, wakers, |_| ()).0
    }

    // ANCHOR: process-due
    /// [`process`](Self::process) for a turn that will not wait: if the
    /// coarse clock says the earliest timer is still ahead, nothing can be
    /// due, and neither the wheel lock nor a precise clock reading is
    /// needed. Tasks that yield in a loop take such turns all the time. (A
    /// timer inserted by another thread this very moment may be missed,
    /// as if the look had come a moment earlier: the next turn sees it.)
    pub(crate) fn process_due(&self, wakers: &mut Vec<Waker>) -> bool {
        let next = self.next_due.load(Ordering::Relaxed);
        if next == u64::MAX || self.clock.surely_ahead(Duration::from_millis(next)) {
            return false;
        }
        self.process(wakers)
    }
    // ANCHOR_END: process-due

    /// The wheel, locked (and counted, in tests).
    fn lock_wheel(&self) -> std::sync::MutexGuard<'_, Wheel> {
        #[cfg(test)]
        self.stats.wheel_locks.fetch_add(1, Ordering::Relaxed);
        lock(&self.wheel)
    }

    /// A precise reading of the clock (counted, in tests).
    fn now(&self) -> std::time::Instant {
        #[cfg(test)]
        self.stats.clock_reads.fetch_add(1, Ordering::Relaxed);
        self.clock.now()
    }

    /// [`process`](Self::process) for a thread about to wait in the driver:
    /// also returns how long until the earliest timer left may be due. From
    /// now until [`end_wait`](Self::end_wait), a timer registered for an
    /// earlier tick asks for the wait to be interrupted. With `track` false
    /// (a paused clock, where real time brings no timer closer) nothing is
    /// recorded. One clock reading serves both.
    // ANCHOR: begin-wait
    pub(crate) fn process_and_begin_wait(
        &self,
        wakers: &mut Vec<Waker>,
        track: bool,
    ) -> (bool, Option<Duration>) {
        let now = self.now();
        let now_tick = self.tick_at(now);
        let (fired, next) = self.process_until(now_tick, wakers, |wheel| {
            let next = wheel.next_expiration();
            if !track {
                return next;
            }
            // Wake when an interrupting timer asked to, even if it is gone:
            // a spurious wake then costs less than the next interrupt would.
            let mut asked = self.interrupted_for.load(Ordering::Relaxed);
            if asked <= now_tick {
                asked = u64::MAX;
                self.interrupted_for.store(asked, Ordering::Relaxed);
            }
            let next = next.map_or(asked, |next| next.min(asked));
            self.wake_at.store(next, Ordering::Relaxed);
            (next != u64::MAX).then_some(next)
        });
        let wait = next.map(|next| self.instant_of(next).saturating_duration_since(now));
        (fired, wait)
    }
    // ANCHOR_END: begin-wait

    /// Fires every timer due by tick `now`, a batch per lock; `last` runs
    /// under the final lock, once nothing more is due.
    fn process_until<R>(
        &self,
        now: u64,
        wakers: &mut Vec<Waker>,
        last: impl FnOnce(&Wheel) -> R,
    ) -> (bool, R) {
        let mut fired = false;
        let mut last = Some(last);
        loop {
            let mut wheel = self.lock_wheel();
            let done = wheel.process(now, wakers, WAKE_BATCH);
            let result = if done {
                let next = wheel.next_expiration().unwrap_or(u64::MAX);
                self.next_due.store(next, Ordering::Relaxed);
                last.take().map(|last| last(&wheel))
            } else {
                None
            };
            drop(wheel);
            fired |= !wakers.is_empty();
            wake_all(wakers);
            if let Some(result) = result {
                return (fired, result);
            }
        }
    }

    /// The wait that [`begin_wait`](Self::begin_wait) announced is over.
    pub(crate) fn end_wait(&self) {
        // No lock needed: only the thread that began the wait ends it, and
        // a timer inserted from here on is seen by its next `begin_wait`.
        self.wake_at.store(0, Ordering::Relaxed);
    }

    // ANCHOR: earlier-than-wait
    /// Called with the wheel locked after a timer was placed at `tick`: true
    /// if a waiting driver thread would sleep past it and must be woken.
    fn earlier_than_wait(&self, tick: u64) -> bool {
        if tick < self.wake_at.load(Ordering::Relaxed) {
            // One interrupt is enough until the waiter recomputes, and the
            // waiter will keep this tick as a wake even if the timer goes.
            self.wake_at.store(0, Ordering::Relaxed);
            self.interrupted_for.fetch_min(tick, Ordering::Relaxed);
            #[cfg(test)]
            self.stats.interrupts.fetch_add(1, Ordering::Relaxed);
            true
        } else {
            false
        }
    }
    // ANCHOR_END: earlier-than-wait

    /// Moves a paused clock to the next timer deadline.
    pub(crate) fn auto_advance(&self) {
        let next = self.lock_wheel().next_expiration();
        if let Some(next) = next {
            self.clock.advance_to(self.instant_of(next));
        }
    }

    /// Fires every timer, now and for any registered later.
    pub(crate) fn shutdown(&self) {
        self.shutdown.store(true, Ordering::Release);
        self.process_until(u64::MAX, &mut Vec::new(), |_| ());
    }

    /// True if `deadline`, `since_start` after tick zero, has come: by the
    /// coarse clock when that is enough to say no, else by a precise
    /// reading.
    fn is_due(&self, deadline: std::time::Instant, since_start: Duration) -> bool {
        #[cfg(test)]
        self.stats.due_checks.fetch_add(1, Ordering::Relaxed);
        !self.clock.surely_ahead(since_start) && deadline <= self.now()
    }

    /// Time from tick zero to `deadline` (zero if before).
    fn since_start(&self, deadline: std::time::Instant) -> Duration {
        deadline.saturating_duration_since(self.clock.start())
    }

    // ANCHOR: time-register
    /// Registers a timer for `deadline`; `None` if it is due already (or the
    /// driver has shut down). With `ahead`, the caller knows the deadline
    /// has not passed and the clock is not asked. The flag is true if the
    /// driver must be interrupted to notice it.
    fn register(&self, deadline: std::time::Instant, waker: &Waker, ahead: bool) -> (Option<TimerKey>, bool) {
        if self.shutdown.load(Ordering::Acquire) {
            return (None, false);
        }
        let since_start = self.since_start(deadline);
        if !ahead && self.is_due(deadline, since_start) {
            return (None, false);
        }
        let tick = ceil_millis(since_start);
        let mut wheel = self.lock_wheel();
        let key = wheel.insert(tick, waker.clone());
        if key.is_some() {
            self.next_due.fetch_min(tick, Ordering::Relaxed);
        }
        let interrupt = key.is_some() && self.earlier_than_wait(tick);
        (key, interrupt)
    }
    // ANCHOR_END: time-register

    /// `Ready` if the timer at `deadline` has fired or is due; otherwise
    /// keeps `waker` to wake when it fires.
    fn poll(&self, key: TimerKey, deadline: std::time::Instant, waker: &Waker) -> Poll<()> {
        if self.is_due(deadline, self.since_start(deadline)) {
            return Poll::Ready(());
        }
        self.lock_wheel().poll(key, waker)
    }

    /// Moves a timer; true if the driver must be interrupted to notice.
    fn reset(&self, key: TimerKey, deadline: std::time::Instant) -> bool {
        let tick = self.tick_at_or_after(deadline);
        let mut wheel = self.lock_wheel();
        let due = wheel.reset(key, tick);
        if due.is_none() {
            self.next_due.fetch_min(tick, Ordering::Relaxed);
        }
        let interrupt = due.is_none() && self.earlier_than_wait(tick);
        drop(wheel);
        if let Some(waker) = due {
            waker.wake();
        }
        interrupt
    }

    fn remove(&self, key: TimerKey) {
        self.lock_wheel().remove(key);
    }
}

impl Handle {
    /// Registers a timer with this driver, interrupting a thread waiting in
    /// it if the timer is due before that thread would wake.
    fn register_timer(&self, deadline: std::time::Instant, waker: &Waker, ahead: bool) -> Option<TimerKey> {
        let (key, interrupt) = self.inner.time.register(deadline, waker, ahead);
        if interrupt {
            self.unpark();
        }
        key
    }

    /// Moves a timer, interrupting the driver as `register_timer` does.
    fn reset_timer(&self, key: TimerKey, deadline: std::time::Instant) {
        if self.inner.time.reset(key, deadline) {
            self.unpark();
        }
    }
}

impl fmt::Debug for TimeDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let wheel = lock(&self.wheel);
        f.debug_struct("TimeDriver")
            .field("clock", &self.clock)
            .field("timers", &wheel.len())
            .field("processed_ms", &wheel.elapsed())
            .finish()
    }
}

/// Runs `f` on the current driver's clock.
#[track_caller]
fn with_clock<R>(what: &str, f: impl FnOnce(&Handle) -> R) -> R {
    Handle::with_current(|handle| match handle {
        Some(handle) => f(handle),
        None => panic!("`weft::time::{what}` needs a weft runtime (or an entered reactor) on this thread"),
    })
}

/// Pauses the current runtime's clock.
///
/// While paused, [`Instant::now`] stands still; time moves only by
/// [`advance`], or by itself when every task is idle: then it jumps to the
/// next timer deadline (auto-advance). Works on both of weft's schedulers.
/// Pausing a paused clock does nothing.
///
/// # Panics
///
/// Panics if called outside a weft runtime.
///
/// # Examples
///
/// ```
/// # use weft_reactor as weft;
/// # let driver = weft_reactor::Driver::new().unwrap();
/// # let _enter = driver.handle().enter();
/// use weft::time::{self, Instant};
///
/// time::pause();
/// let t0 = Instant::now();
/// assert_eq!(Instant::now(), t0);
/// time::resume();
/// ```
#[track_caller]
pub fn pause() {
    with_clock("pause", |handle| {
        handle.clock().pause();
        // A worker waiting in the driver must learn it may now auto-advance.
        handle.unpark();
    });
}

/// Lets the current runtime's clock run again, from where it stood.
/// Resuming a running clock does nothing.
///
/// # Panics
///
/// Panics if called outside a weft runtime.
#[track_caller]
pub fn resume() {
    with_clock("resume", |handle| {
        handle.clock().resume();
        handle.unpark();
    });
}

/// Moves the paused clock forward by `duration`, fires the timers that
/// became due, and yields once so the tasks they woke can run.
///
/// A `duration` up to `Duration::MAX` saturates about thirty years ahead.
///
/// # Panics
///
/// Panics if called outside a weft runtime, or if the clock is not paused
/// (see [`pause`]).
///
/// # Examples
///
/// ```
/// # use weft_reactor as weft;
/// # let driver = weft_reactor::Driver::new_paused().unwrap();
/// # let _enter = driver.handle().enter();
/// # let waker = std::task::Waker::noop();
/// # let mut cx = std::task::Context::from_waker(&waker);
/// use std::time::Duration;
/// use weft::time::{self, Instant};
///
/// let t0 = Instant::now();
/// let mut step = std::pin::pin!(time::advance(Duration::from_secs(90)));
/// while step.as_mut().poll(&mut cx).is_pending() {}
/// assert_eq!(Instant::now() - t0, Duration::from_secs(90));
/// ```
#[track_caller]
pub fn advance(duration: Duration) -> Advance {
    with_clock("advance", |handle| {
        assert!(
            handle.clock().advance(duration),
            "`weft::time::advance` needs a paused clock: call `weft::time::pause()` first"
        );
        let time = &handle.inner.time;
        let mut wakers = Vec::new();
        time.process(&mut wakers);
        handle.unpark();
    });
    Advance { yielded: false }
}

/// The future [`advance`] returns: ready on its second poll, so the tasks
/// the advance woke get to run first.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Advance {
    yielded: bool,
}

impl Future for Advance {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
