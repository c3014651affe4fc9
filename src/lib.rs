//! weft: an async runtime and communication toolkit.
//!
//! One runtime — a work-stealing executor joined to a mio reactor — and,
//! as they are built, every style of asynchronous communication on top of
//! it: message queues, events, callbacks, promises and async/await.
//!
//! * [`Runtime`], [`Builder`], [`Handle`]: start and reach a runtime.
//! * [`block_on`]: run one future on this thread, with sockets and timers.
//! * [`spawn`] and [`task`]: tasks, joining, aborting, blocking work.
//! * [`time`]: sleeps, timeouts, intervals, and a clock tests can pause.
//! * [`net`]: TCP, UDP and Unix sockets.
//! * [`sync`]: channels, locks and signals, usable under any runtime.
//!
//! ```
//! use std::time::Duration;
//!
//! let rt = weft::Runtime::new().unwrap();
//! let out = rt.block_on(async {
//!     let task = weft::spawn(async { 40 + 2 });
//!     weft::time::timeout(Duration::from_secs(1), task).await
//! });
//! assert_eq!(out.unwrap().unwrap(), 42);
//! ```
#![forbid(unsafe_code)]

mod block_on;
mod runtime;
pub mod sync;

pub use self::block_on::block_on;
pub use self::runtime::{Builder, EnterGuard, Handle, Runtime, TryCurrentError};
pub use weft_executor::spawn;

/// Tasks: spawning, joining, aborting, yielding.
pub mod task {
    pub use weft_executor::coop::consume_budget;
    pub use weft_executor::task::{
        AbortHandle, JoinError, JoinHandle, JoinSet, spawn, spawn_blocking, spawn_local, yield_now,
    };
}

/// Time: sleeps, timeouts, intervals, and the paused test clock.
///
/// See [`weft_reactor::time`] for how timers work and how the paused clock
/// moves.
pub mod time {
    pub use weft_reactor::time::{
        Advance, Elapsed, Instant, Interval, MissedTickBehavior, Sleep, Timeout, advance, interval,
        interval_at, pause, resume, sleep, sleep_until, timeout, timeout_at,
    };
}

/// Sockets: TCP, UDP and Unix, with async methods, `poll_*` methods and the
/// `futures-io` traits.
pub mod net {
    pub use weft_reactor::net::*;
}

/// The README's examples, compiled and run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
