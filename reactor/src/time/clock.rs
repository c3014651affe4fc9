//! The driver's clock: real time, or paused time that moves only when told.

use crate::driver::lock;
use crate::sys::CoarseClock;
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

/// How late past its resolution the coarse clock may be before
/// [`Clock::surely_ahead`] would answer wrongly: a kernel tick delayed
/// this long. Deadlines nearer than about this get a precise reading.
const COARSE_SLACK_NANOS: u64 = 16_000_000;

/// Set, for good, the first time any clock in the process goes virtual
/// (starts paused, or is paused). Until then every clock reads real time,
/// and [`Instant::now`](super::Instant::now) needs no look at the runtime.
static ANY_VIRTUAL: AtomicBool = AtomicBool::new(false);

/// True once some clock in the process has gone virtual.
pub(crate) fn any_virtual() -> bool {
    ANY_VIRTUAL.load(Ordering::Acquire)
}

/// `d` in whole milliseconds, rounded up (saturating at `u64::MAX`).
pub(crate) fn ceil_millis(d: Duration) -> u64 {
    // In u64: whole seconds times 1 000, plus the sub-second part rounded up.
    let sub = u64::from(d.subsec_nanos().div_ceil(1_000_000));
    d.as_secs().saturating_mul(1_000).saturating_add(sub)
}

/// Real time, or virtual time while paused.
///
/// While running, `now = base + (real now - unfrozen_at)`: after a pause,
/// time resumes from where the paused clock stood, not from real time.
pub(crate) struct Clock {
    /// Tick zero of the timer wheel.
    start: Instant,
    /// The coarse clock, read from just before `start`; `None` where the
    /// platform has none.
    coarse: Option<CoarseClock>,
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
        if start_paused {
            ANY_VIRTUAL.store(true, Ordering::Release);
        }
        // The coarse origin first, so that it is never after `start`.
        let coarse = CoarseClock::start();
        let start = Instant::now();
        Clock {
            start,
            coarse,
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

    // ANCHOR: surely-ahead
    /// True if a deadline `since_start` after [`start`](Self::start) is
    /// certainly still ahead of [`now`](Self::now), judged by the kernel's
    /// coarse clock: a few nanoseconds, where a precise reading costs tens.
    /// False means "maybe not": read `now`.
    ///
    /// Sound because the coarse clock is the precise one as of the kernel's
    /// last tick: with `c` coarse time since the coarse origin, which was
    /// read before `start`, the precise time since `start` is less than `c`
    /// plus one tick. [`COARSE_SLACK_NANOS`] more covers a tick the kernel is late
    /// with. Virtual time always says false.
    ///
    /// Should the bound still fail (a kernel whose timekeeping stalls for
    /// longer than the slack, as a descheduled VM's may), a due deadline is
    /// judged ahead and registered instead of completing on the first poll.
    /// It then fires at the driver's next turn: late by that turn, never
    /// early, since the wheel decides firing on the precise clock.
    pub(crate) fn surely_ahead(&self, since_start: Duration) -> bool {
        let Some(coarse) = &self.coarse else {
            return false;
        };
        if self.virtual_time.load(Ordering::Acquire) {
            return false;
        }
        // Whole seconds and nanoseconds, saturating: no u128 on this path.
        let since_nanos = since_start
            .as_secs()
            .saturating_mul(1_000_000_000)
            .saturating_add(u64::from(since_start.subsec_nanos()));
        since_nanos > coarse.elapsed_upper_bound(COARSE_SLACK_NANOS)
    }
    // ANCHOR_END: surely-ahead

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
        ANY_VIRTUAL.store(true, Ordering::Release);
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
    fn ceil_millis_rounds_up_and_saturates() {
        assert_eq!(ceil_millis(Duration::ZERO), 0);
        assert_eq!(ceil_millis(Duration::from_nanos(1)), 1);
        assert_eq!(ceil_millis(Duration::from_millis(5)), 5);
        assert_eq!(ceil_millis(Duration::new(2, 1_000_001)), 2_002);
        assert_eq!(
            ceil_millis(Duration::new(u64::MAX / 1_000, 999_999_999)),
            u64::MAX
        );
        assert_eq!(ceil_millis(Duration::MAX), u64::MAX);
    }

    #[test]
    fn only_a_far_deadline_is_surely_ahead() {
        let clock = Clock::new(false);
        let since = |t: Instant| t.saturating_duration_since(clock.start());
        assert!(!clock.surely_ahead(since(clock.now())), "now is not ahead");
        assert!(!clock.surely_ahead(Duration::ZERO));
        let hour = since(clock.now() + Duration::from_secs(3600));
        // Where the platform has no coarse clock, every answer is "ask".
        assert_eq!(clock.surely_ahead(hour), clock.coarse.is_some());
        assert!(!clock.surely_ahead(Duration::from_nanos(1)));
    }

    #[test]
    fn a_paused_clock_is_never_judged_by_the_coarse_one() {
        let clock = Clock::new(true);
        assert!(!clock.surely_ahead(Duration::from_secs(3600)));
        let clock = Clock::new(false);
        clock.pause();
        clock.resume();
        assert!(!clock.surely_ahead(Duration::from_secs(3600)));
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
