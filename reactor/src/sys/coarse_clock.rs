//! The coarse clock on Linux and FreeBSD: `CLOCK_MONOTONIC_COARSE`.
//!
//! It is the clock `std::time::Instant` reads (`CLOCK_MONOTONIC`) as it
//! stood at the kernel's last tick: never ahead of it, and behind it by at
//! most a tick (`clock_getres` tells how long one is, 1 to 10 ms) unless
//! the kernel is late with a tick. Reading it is a load from the vDSO page,
//! with no timer hardware read.
//!
//! Should std ever read another clock for `Instant` (`CLOCK_BOOTTIME` also
//! counts time suspended), the bound would be wrong only across a suspend:
//! a deadline that passed while the machine slept would be registered
//! rather than found due, and fire at the driver's next turn instead of on
//! the first poll.

#![allow(unsafe_code)]

/// The coarse clock, read as time since an origin, in nanoseconds (a `u64`
/// of them lasts 584 years; plain integers keep the check a few
/// instructions long).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CoarseClock {
    /// The coarse reading taken when the clock was made.
    origin: u64,
    /// How far the coarse clock may lag the precise one.
    resolution: u64,
}

/// Calls `f` (`clock_gettime` or `clock_getres`) on the coarse clock, in
/// nanoseconds; `None` if it fails (a kernel without the clock).
fn coarse(f: unsafe extern "C" fn(libc::clockid_t, *mut libc::timespec) -> libc::c_int) -> Option<u64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable `timespec` for the duration of the
    // call, which is all `clock_gettime` and `clock_getres` ask.
    let rc = unsafe { f(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    if rc != 0 {
        return None;
    }
    let secs = u64::try_from(ts.tv_sec).ok()?;
    let nanos = u64::try_from(ts.tv_nsec).ok()?;
    Some(secs.saturating_mul(1_000_000_000).saturating_add(nanos))
}

impl CoarseClock {
    /// Reads the origin now. The caller reads its precise origin *after*
    /// this returns, so the precise origin is never before the coarse one.
    pub(crate) fn start() -> Option<CoarseClock> {
        Some(CoarseClock {
            origin: coarse(libc::clock_gettime)?,
            resolution: coarse(libc::clock_getres)?,
        })
    }

    /// An upper bound, in nanoseconds, of the precise time since the
    /// origin: coarse time since it, plus a tick, plus `slack` for a tick
    /// the kernel is late with. `u64::MAX` (nothing is surely ahead) if the
    /// clock fails.
    pub(crate) fn elapsed_upper_bound(&self, slack: u64) -> u64 {
        match coarse(libc::clock_gettime) {
            Some(now) => now
                .saturating_sub(self.origin)
                .saturating_add(self.resolution)
                .saturating_add(slack),
            None => u64::MAX,
        }
    }
}
