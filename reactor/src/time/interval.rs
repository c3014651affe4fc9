//! `Interval`: ticks at a fixed period.

use super::{Instant, Sleep};
use std::fmt;
use std::future::poll_fn;
use std::task::{Context, Poll};
use std::time::Duration;

/// The shortest period an interval keeps: the wheel's resolution.
const MIN_PERIOD: Duration = Duration::from_millis(1);

/// Ticks every `period`, the first tick at once.
///
/// A zero `period` is raised to one millisecond, the timer resolution
/// (tokio panics on a zero period).
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
/// use weft::time::{Instant, interval};
///
/// let start = Instant::now();
/// let mut every_minute = interval(Duration::from_secs(60));
/// let mut ticks = Vec::new();
/// while ticks.len() < 3 {
///     // In a task: `ticks.push(every_minute.tick().await)`.
///     match every_minute.poll_tick(&mut cx) {
///         std::task::Poll::Ready(at) => ticks.push(at - start),
///         std::task::Poll::Pending => driver.park_idle(None),
///     }
/// }
/// assert_eq!(ticks, [Duration::ZERO, Duration::from_secs(60), Duration::from_secs(120)]);
/// ```
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Ticks every `period`, the first tick at `start`.
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    Interval {
        sleep: super::sleep_until(start),
        period: period.max(MIN_PERIOD),
        missed: MissedTickBehavior::default(),
    }
}

/// What an [`Interval`] does when ticks were missed (the task came back
/// later than the next tick was due).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks back to back until caught up, keeping the
    /// original schedule (the default).
    #[default]
    Burst,
    /// Start the schedule again from now: the next tick is a period after
    /// the late one.
    Delay,
    /// Drop the missed ticks and keep the schedule: the next tick is the
    /// next one of the original schedule that is still ahead.
    Skip,
}

impl MissedTickBehavior {
    /// The tick after `late`, which was due at `due` and observed at `now`.
    fn next(self, due: Instant, now: Instant, period: Duration) -> Instant {
        match self {
            MissedTickBehavior::Burst => due.saturating_add(period),
            MissedTickBehavior::Delay => now.saturating_add(period),
            MissedTickBehavior::Skip => {
                let behind = now.duration_since(due).as_nanos();
                let period_ns = period.as_nanos().max(1);
                let periods = behind / period_ns + 1;
                let ahead = period_ns.saturating_mul(periods);
                let ahead = Duration::from_nanos(u64::try_from(ahead).unwrap_or(u64::MAX));
                due.saturating_add(ahead)
            }
        }
    }
}

/// The stream of ticks [`interval`] and [`interval_at`] return.
pub struct Interval {
    sleep: Sleep,
    period: Duration,
    missed: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick and returns the instant it was due at.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick: `Ready(due)` when it has come.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if self.sleep.poll_elapsed(cx).is_pending() {
            return Poll::Pending;
        }
        let due = self.sleep.deadline();
        let now = Instant::now();
        let on_time = due.saturating_add(self.period);
        let next = if now >= on_time {
            self.missed.next(due, now, self.period)
        } else {
            on_time
        };
        self.sleep.reset(next);
        Poll::Ready(due)
    }

    /// Restarts the schedule: the next tick is a period from now.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # let driver = weft_reactor::Driver::new_paused().unwrap();
    /// # let _enter = driver.handle().enter();
    /// use std::time::Duration;
    /// use weft::time::{Instant, interval};
    ///
    /// let mut every_second = interval(Duration::from_secs(1));
    /// every_second.reset();
    /// assert_eq!(every_second.next_tick(), Instant::now() + Duration::from_secs(1));
    /// ```
    pub fn reset(&mut self) {
        self.reset_after(self.period);
    }

    /// Restarts the schedule with the next tick at once: the tick after it
    /// comes a period later.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # let driver = weft_reactor::Driver::new_paused().unwrap();
    /// # let _enter = driver.handle().enter();
    /// use std::time::Duration;
    /// use weft::time::{Instant, interval_at};
    ///
    /// let start = Instant::now();
    /// let mut hourly = interval_at(start + Duration::from_secs(3600), Duration::from_secs(3600));
    /// hourly.reset_immediately();
    /// assert_eq!(hourly.next_tick(), start);
    /// ```
    pub fn reset_immediately(&mut self) {
        self.reset_at(Instant::now());
    }

    /// Restarts the schedule with the next tick `after` from now, and a
    /// period between the ticks after it. An `after` too far to represent
    /// saturates, as [`sleep`](super::sleep) does.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # let driver = weft_reactor::Driver::new_paused().unwrap();
    /// # let _enter = driver.handle().enter();
    /// use std::time::Duration;
    /// use weft::time::{Instant, interval};
    ///
    /// let mut every_minute = interval(Duration::from_secs(60));
    /// every_minute.reset_after(Duration::from_secs(5));
    /// assert_eq!(every_minute.next_tick(), Instant::now() + Duration::from_secs(5));
    /// ```
    pub fn reset_after(&mut self, after: Duration) {
        self.reset_at(Instant::now().saturating_add(after));
    }

    /// Restarts the schedule with the next tick at `deadline` (at once if
    /// that has passed), and a period between the ticks after it.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # let driver = weft_reactor::Driver::new_paused().unwrap();
    /// # let _enter = driver.handle().enter();
    /// use std::time::Duration;
    /// use weft::time::{Instant, interval};
    ///
    /// let mut every_minute = interval(Duration::from_secs(60));
    /// let noon = Instant::now() + Duration::from_secs(7);
    /// every_minute.reset_at(noon);
    /// assert_eq!(every_minute.next_tick(), noon);
    /// ```
    pub fn reset_at(&mut self, deadline: Instant) {
        self.sleep.reset(deadline);
    }

    /// When the next tick is due.
    pub fn next_tick(&self) -> Instant {
        self.sleep.deadline()
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// How missed ticks are handled.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed
    }

    /// Sets how missed ticks are handled.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }
}

impl fmt::Debug for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interval")
            .field("next", &self.sleep.deadline())
            .field("period", &self.period)
            .field("missed_tick_behavior", &self.missed)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missed_tick_behaviours_pick_the_next_tick() {
        let t0 = Instant::now();
        let p = Duration::from_secs(10);
        // Due at t0, noticed 25 s late.
        let now = t0 + Duration::from_secs(25);
        assert_eq!(MissedTickBehavior::Burst.next(t0, now, p), t0 + p);
        assert_eq!(MissedTickBehavior::Delay.next(t0, now, p), now + p);
        assert_eq!(
            MissedTickBehavior::Skip.next(t0, now, p),
            t0 + Duration::from_secs(30)
        );
        // Exactly on a later tick: skip to the one after it.
        let now = t0 + Duration::from_secs(20);
        assert_eq!(
            MissedTickBehavior::Skip.next(t0, now, p),
            t0 + Duration::from_secs(30)
        );
    }
}
