//! The fairness bound: when a waiter stops letting others barge past it.
//!
//! A waiter's deadline is its enqueue time plus the semaphore's bound. The
//! clock is read only on the slow paths, each at most once per call: when
//! an acquirer queues, when a release has to take the lock (to wake the
//! front waiter, or because a hand-off is under way), and when a woken
//! waiter finds its permits taken. A release that finds a wake already in
//! flight adds its permits without the lock and reads no clock, so the hot
//! loop of a contended lock costs no clock read at all; the reads it does
//! cost are paid once per wake, next to a task switch.
//!
//! Under `cfg(test)` the clock can be moved by hand ([`advance`]), per
//! thread, so that unit tests count acquisitions instead of timing them;
//! under loom it stands still, so that a model's outcome depends on the
//! bound it chose (zero: always hand off; the default: never) and not on
//! how long loom took to get there.

use std::time::{Duration, Instant};

/// How long a waiter may be passed over before releases hand it the
/// permits: 0.5 ms, as async-lock and parking_lot use.
pub(crate) const DEFAULT_BOUND: Duration = Duration::from_micros(500);

/// When a waiter that queued at `now` stops letting others barge: `None`
/// for a bound too large to reach.
pub(crate) fn deadline(now: Instant, bound: Duration) -> Option<Instant> {
    now.checked_add(bound)
}

/// The clock, read at most once per slow-path call.
#[derive(Debug, Default)]
pub(crate) struct LazyNow(Option<Instant>);

impl LazyNow {
    /// A clock already read at `now`.
    pub(crate) const fn at(now: Instant) -> LazyNow {
        LazyNow(Some(now))
    }

    /// True once `deadline` has come.
    pub(crate) fn is_due(&mut self, deadline: Option<Instant>) -> bool {
        deadline.is_some_and(|deadline| *self.0.get_or_insert_with(now) >= deadline)
    }
}

/// The time now.
#[cfg(not(test))]
pub(crate) fn now() -> Instant {
    Instant::now()
}

#[cfg(all(test, not(loom)))]
std::thread_local! {
    /// How far [`advance`] moved this thread's clock.
    static OFFSET: std::cell::Cell<Duration> = const { std::cell::Cell::new(Duration::ZERO) };
}

/// The time now, plus however far this thread's tests moved it.
#[cfg(all(test, not(loom)))]
pub(crate) fn now() -> Instant {
    Instant::now() + OFFSET.with(std::cell::Cell::get)
}

/// Moves this thread's clock forward by `by`.
#[cfg(all(test, not(loom)))]
pub(crate) fn advance(by: Duration) {
    OFFSET.with(|offset| offset.set(offset.get() + by));
}

/// Under loom the clock stands still. A std `OnceLock` (not loom's) is
/// enough: it is written once per process and holds no state a model
/// explores.
#[cfg(all(test, loom))]
pub(crate) fn now() -> Instant {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *START.get_or_init(Instant::now)
}
