//! The driver's clock: real time, or paused time that moves only when told.

use crate::driver::lock;
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A point so far ahead it is never reached: what a deadline too far away
/// to represent saturates to (about 30 years).
pub(crate) const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// Adds `d` to `t`, saturating at `FAR_FUTURE` past `t` (or at `t +
/// FAR_FUTURE` if even that overflows, which it does not on Linux).
pub(crate) fn saturating_add(t: Instant, d: Duration) -> Instant {
    t.checked_add(d.min(FAR_FUTURE)).unwrap_or(t)
}

/// `d` in whole milliseconds, rounded up (saturating at `u64::MAX`).
pub(crate) fn ceil_millis(d: Duration) -> u64 {
    let ms = d.as_millis() + u128::from(!d.subsec_nanos().is_multiple_of(1_000_000));
    u64::try_from(ms).unwrap_or(u64::MAX)
}

/// Real time, or virtual time while paused.
///
/// While running, `now = base + (real now - unfrozen_at)`: after a pause,
/// time resumes from where the paused clock stood, not from real time.
pub(crate) struct Clock {
    /// Tick zero of the timer wheel.
    start: Instant,
    /// False until the clock is first paused: `now` is then plain real time.
    virtual_time: AtomicBool,
    /// Written only with `state` locked, so a reader holding the lock sees
    /// the current value.
    paused: AtomicBool,
    state: Mutex<State>,
}

struct State {
    /// The clock's reading at `unfrozen_at`, or its frozen reading.
    base: Instant,
    unfrozen_at: Instant,
}

impl Clock {
    pub(crate) fn new(start_paused: bool) -> Clock {
        let start = Instant::now();
        Clock {
            start,
            virtual_time: AtomicBool::new(start_paused),
            paused: AtomicBool::new(start_paused),
            state: Mutex::new(State {
                base: start,
                unfrozen_at: start,
            }),
        }
    }

    /// Tick zero.
    pub(crate) fn start(&self) -> Instant {
        self.start
    }

    pub(crate) fn now(&self) -> Instant {
        if !self.virtual_time.load(Ordering::Acquire) {
            return Instant::now();
        }
        lock(&self.state).now(self.is_paused())
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Acquire)
    }

    /// Freezes the clock at its current reading, rounded up to the next
    /// whole millisecond since the start: timers tick in milliseconds, so a
    /// paused clock on a tick boundary fires a timer set `n` whole
    /// milliseconds ahead exactly when advanced by `n`. Returns false if it
    /// was paused already.
    pub(crate) fn pause(&self) -> bool {
        let mut state = lock(&self.state);
        if self.is_paused() {
            return false;
        }
        let since = state.now(false).saturating_duration_since(self.start);
        state.base = saturating_add(self.start, Duration::from_millis(ceil_millis(since)));
        self.virtual_time.store(true, Ordering::Release);
        self.paused.store(true, Ordering::Release);
        true
    }

    /// Lets the clock run again from its frozen reading. Returns false if it
    /// was not paused.
    pub(crate) fn resume(&self) -> bool {
        let mut state = lock(&self.state);
        if !self.is_paused() {
            return false;
        }
        state.unfrozen_at = Instant::now();
        self.paused.store(false, Ordering::Release);
        true
    }

    /// Moves a paused clock forward by `by` (saturating far in the future).
    /// Returns false if the clock is not paused.
    pub(crate) fn advance(&self, by: Duration) -> bool {
        let mut state = lock(&self.state);
        if !self.is_paused() {
            return false;
        }
        state.base = saturating_add(state.base, by);
        true
    }

    /// Moves a paused clock forward to `to`, if that is ahead.
    pub(crate) fn advance_to(&self, to: Instant) {
        let mut state = lock(&self.state);
        if self.is_paused() && to > state.base {
            state.base = to;
        }
    }
}

impl State {
    fn now(&self, paused: bool) -> Instant {
        if paused {
            self.base
        } else {
            saturating_add(self.base, self.unfrozen_at.elapsed())
        }
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Clock")
            .field("paused", &self.is_paused())
            .field("since_start", &self.now().saturating_duration_since(self.start))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paused_clock_moves_only_when_advanced() {
        let clock = Clock::new(true);
        let t0 = clock.now();
        assert_eq!(clock.now(), t0);
        assert!(clock.advance(Duration::from_secs(3600)));
        assert_eq!(clock.now(), t0 + Duration::from_secs(3600));
        clock.advance_to(t0);
        assert_eq!(clock.now(), t0 + Duration::from_secs(3600), "never backwards");
    }

    #[test]
    fn pausing_lands_on_a_millisecond_tick() {
        let clock = Clock::new(false);
        assert!(clock.pause());
        let since = clock.now() - clock.start();
        assert_eq!(since.subsec_nanos() % 1_000_000, 0);
    }

    #[test]
    fn resuming_continues_from_the_frozen_reading() {
        let clock = Clock::new(false);
        assert!(
            !clock.advance(Duration::from_secs(1)),
            "only a paused clock advances"
        );
        assert!(clock.pause());
        assert!(!clock.pause());
        let frozen = clock.now();
        clock.advance(Duration::from_secs(10));
        assert!(clock.resume());
        assert!(!clock.resume());
        assert!(clock.now() >= frozen + Duration::from_secs(10));
    }

    #[test]
    fn advancing_by_duration_max_saturates() {
        let clock = Clock::new(true);
        let t0 = clock.now();
        assert!(clock.advance(Duration::MAX));
        assert_eq!(clock.now(), t0 + FAR_FUTURE);
        assert!(clock.advance(Duration::MAX));
        assert!(clock.now() >= t0 + FAR_FUTURE);
    }
}
