//! weft: an async runtime and communication toolkit.
//!
//! One runtime — a work-stealing executor joined to a mio reactor — and,
//! as they are built, every style of asynchronous communication on top of
//! it: message queues, events, callbacks, promises and async/await.
//!
//! * [`Runtime`], [`Builder`], [`Handle`]: start and reach a runtime
//!   ([`EnterGuard`] keeps one current, [`TryCurrentError`] says none is).
//! * [`block_on`]: run one future on this thread, with sockets and timers.
//! * [`spawn`] and [`task`]: tasks, joining, aborting, blocking work.
//! * [`time`]: sleeps, timeouts, intervals, and a clock tests can pause.
//! * [`net`]: TCP, UDP and Unix sockets.
//! * [`sync`]: channels, locks and signals, usable under any runtime.
//! * [`promise`]: JavaScript-style promises: `then`, `catch`, `finally`,
//!   `all`, `race`, `any`, `all_settled`.
//! * [`callback`]: `set_timeout`, `set_interval`, callback-style TCP, and
//!   bridges between callbacks and futures.
//! * [`queue`]: a work queue: competing consumers, ack / nack, redelivery,
//!   dead letters, backpressure; in memory, or durable on disk
//!   (`Queue::durable`, the default-on `disk` feature).
//! * [`events`]: an event bus: topics, replay, patterns, consumer groups,
//!   handlers with retry.
//! * [`spawner`]: the small runtime interface promises and callbacks use,
//!   to run them under another runtime.
//! * [`compat`]: adapters that run other runtimes' libraries on weft
//!   (`compat::async_rs`, feature `async-rs`; `compat::hyper`, feature
//!   `hyper`).
//! * `rabbitmq` (feature `rabbitmq`): the RabbitMQ backend, on lapin
//!   running on weft.
//!
//! With the `tracing` feature, what weft handles by itself without telling
//! anyone (dead letters, redeliveries, handler retries, group rebalances,
//! driver errors, callbacks that panicked) is a `tracing` event; the
//! events are listed in the book's chapter "Running a service on weft".
//! Off by default, as in tokio.
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
#![doc(test(attr(deny(warnings))))]

mod block_on;
pub mod compat;
mod diag;
#[cfg(feature = "rabbitmq")]
pub mod rabbitmq;
mod runtime;
pub mod sync;

pub use self::block_on::block_on;
pub use self::runtime::{Builder, EnterGuard, Handle, Runtime, TryCurrentError};
pub use weft_executor::spawn;

/// Runs `async fn main` on a weft runtime (multi-thread by default); needs
/// the `macros` feature.
///
/// Options as tokio's: `flavor`, `worker_threads`, `start_paused`, `crate`.
///
/// # Examples
///
/// ```
/// #[weft::main(flavor = "current_thread")]
/// async fn main() -> std::io::Result<()> {
///     let task = weft::spawn(async { 6 * 7 });
///     assert_eq!(task.await?, 42); // a JoinError converts into io::Error
///     Ok(())
/// }
/// ```
#[cfg(feature = "macros")]
pub use weft_macros::main;

/// Runs an `async fn` test on a weft runtime of its own (current-thread by
/// default); needs the `macros` feature.
///
/// # Examples
///
/// In a test file (`tests/*.rs`) or a `#[cfg(test)]` module (a doc
/// example like this one compiles its tests but never runs them):
///
/// ```
/// #[weft::test(start_paused = true)]
/// async fn the_paused_clock_jumps_to_the_timer() {
///     let start = weft::time::Instant::now();
///     weft::time::sleep(std::time::Duration::from_secs(3600)).await;
///     assert!(start.elapsed() >= std::time::Duration::from_secs(3600));
/// }
/// # fn main() {}
/// ```
#[cfg(feature = "macros")]
pub use weft_macros::test;

/// Tasks: spawning, joining, aborting, yielding.
pub mod task {
    pub use weft_executor::task::{
        AbortHandle, Id, JoinError, JoinHandle, JoinSet, LocalSet, Unconstrained, consume_budget, id, spawn,
        spawn_blocking, spawn_local, try_id, unconstrained, yield_now,
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

/// Promises with JavaScript's semantics; see
/// [`weft_primitives::promise`] for the guarantees.
///
/// Inside a weft runtime (a task, `block_on`, a worker thread) promises
/// find the runtime by themselves; their handlers run as jobs on its event
/// loop, and their clocks are the runtime's, paused test clock included.
pub mod promise {
    pub use weft_primitives::promise::*;
}

pub mod callback;

/// A work queue with competing consumers, acks, redelivery and dead
/// letters; see [`weft_messaging::queue`]. Its deadlines run on the
/// runtime's clock, paused test clock included.
pub mod queue {
    pub use weft_messaging::queue::*;
}

/// The durable log under [`queue::Queue::durable`]: segment files of
/// checksummed records, sync policies, recovery, and the file-system shim
/// (with [`disk::fs::SimFs`] for tests of faults and power cuts); see
/// [`weft_disk`](weft_messaging::disk). Behind the default-on `disk`
/// feature.
#[cfg(feature = "disk")]
pub mod disk {
    pub use weft_messaging::disk::*;
}

/// An event bus with topics, replay, patterns, consumer groups and
/// handlers; see [`weft_messaging::events`]. Handlers' retries run on the
/// runtime's clock, paused test clock included.
pub mod events {
    pub use weft_messaging::events::*;
}

/// The runtime interface promises and callbacks stand on; see
/// [`weft_primitives::spawner`]. A weft runtime's spawner is current on its
/// threads; [`Handle::spawner`] returns it.
pub mod spawner {
    pub use weft_primitives::spawner::*;
}

/// The README's examples, compiled and run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
