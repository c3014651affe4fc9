//! What the reactor asks of the platform beyond mio, one backend per file.
//!
//! Only the coarse clock so far: the kernel's monotonic clock as of its
//! last tick, a few nanoseconds to read where `Instant::now` costs tens.

#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
mod coarse_clock;
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
#[path = "coarse_clock_none.rs"]
mod coarse_clock;

pub(crate) use self::coarse_clock::CoarseClock;
