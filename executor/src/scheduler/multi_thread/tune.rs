//! The global queue interval, tuned to how long tasks take.
//!
//! A worker with local work looks at the injection queue every
//! `global_queue_interval` ticks. A fixed count is a fixed *time* only if
//! every task takes as long: with tasks of 10 µs, 61 ticks leave what
//! waits in the injection queue (spawned from outside, or pushed out of a
//! full local queue) unseen for 600 µs per look, and a hundred such tasks
//! wait for a hundred looks. So a worker measures its tasks: every
//! `event_interval` ticks (when it lets the driver in anyway) it reads the
//! clock once, keeps a running mean of the time per tick, and sets the
//! interval to about [`TARGET_NANOS`] of polls, within [`MIN`] and
//! [`MAX`]. Time asleep is not counted: parking ends the measured stretch.
//! Time the thread was preempted is: on a loaded machine the looks come
//! more often in ticks, which is what the tasks waiting there need.
//! (tokio tunes its interval to a time target too; the constants and the
//! code here are our own.)

use std::time::Instant;

/// About how often, in time, a busy worker looks at the injection queue.
const TARGET_NANOS: f64 = 200_000.0;
/// The interval's bounds, in ticks.
const MIN: u32 = 2;
const MAX: u32 = 127;
/// The weight of the newest stretch in the running mean.
const WEIGHT: f64 = 0.1;

/// A worker's measure of the time its ticks take.
#[derive(Debug)]
pub(super) struct PollTimer {
    /// The start of the stretch being measured, if the worker has not
    /// slept since.
    started: Option<Instant>,
    /// Running mean of a tick's time, in nanoseconds.
    mean_nanos: f64,
}

impl PollTimer {
    /// A timer whose mean starts where `interval` ticks make the target.
    pub(super) fn new(interval: u32) -> PollTimer {
        PollTimer {
            started: None,
            mean_nanos: TARGET_NANOS / f64::from(interval.max(1)),
        }
    }

    /// The worker goes to sleep: the stretch under way is not measured.
    pub(super) fn pause(&mut self) {
        self.started = None;
    }

    // ANCHOR: tune
    /// `ticks` ticks passed since the last call: folds their time into the
    /// mean and returns the interval it gives (`None` for a stretch that
    /// began with a sleep, which only starts the next one).
    pub(super) fn stretch_done(&mut self, ticks: u32) -> Option<u32> {
        let now = Instant::now();
        let interval = self.started.map(|started| {
            let per_tick = now.saturating_duration_since(started).as_nanos() as f64 / f64::from(ticks.max(1));
            self.fold(per_tick)
        });
        self.started = Some(now);
        interval
    }

    /// Folds a stretch of `per_tick` nanoseconds a tick into the mean;
    /// returns the interval it gives.
    fn fold(&mut self, per_tick: f64) -> u32 {
        self.mean_nanos = self.mean_nanos * (1.0 - WEIGHT) + per_tick * WEIGHT;
        interval(self.mean_nanos)
    }
    // ANCHOR_END: tune
}

/// The ticks that make about [`TARGET_NANOS`] at `mean_nanos` a tick.
fn interval(mean_nanos: f64) -> u32 {
    let ticks = TARGET_NANOS / mean_nanos.max(1.0);
    // `as` saturates, and the clamp bounds it either way.
    (ticks as u32).clamp(MIN, MAX)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::{MAX, MIN, PollTimer, interval};

    #[test]
    fn the_interval_is_about_the_target_in_ticks_within_bounds() {
        assert_eq!(interval(10_000.0), 20);
        assert_eq!(interval(1_000.0), MAX, "200 ticks, capped");
        assert_eq!(interval(1_000_000.0), MIN, "slow tasks: look every other tick");
        assert_eq!(interval(0.0), MAX, "a zero mean does not divide by zero");
    }

    #[test]
    fn the_mean_moves_toward_what_the_tasks_take() {
        let mut timer = PollTimer::new(61);
        // Tasks of 10 µs: the interval falls from 61 toward 20.
        let mut last = 61;
        for _ in 0..100 {
            last = timer.fold(10_000.0);
        }
        assert_eq!(last, 20);
        // Then tasks of 100 ns: it rises to the cap.
        for _ in 0..100 {
            last = timer.fold(100.0);
        }
        assert_eq!(last, MAX);
    }

    #[test]
    fn a_stretch_that_began_with_a_sleep_is_not_measured() {
        let mut timer = PollTimer::new(61);
        assert_eq!(timer.stretch_done(61), None, "the first stretch only starts");
        assert!(timer.stretch_done(61).is_some());
        timer.pause();
        assert_eq!(timer.stretch_done(61), None);
    }
}
