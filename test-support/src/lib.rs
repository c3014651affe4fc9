//! What weft's test suites share, written once.
//!
//! - [`alloc`]: a counting global allocator that tallies what the current
//!   thread allocates while counting is on.
//! - [`waker`]: wakers that count their wakes, and a poll by hand.
//! - [`rng`]: a deterministic pseudo-random sequence.
//! - [`kill`]: a `kill -9` of a child test at a chosen line of its output.
//! - [`oneshot`](mod@oneshot): a one-shot channel that depends on no runtime.
//! - `runtimes` (feature `runtimes`): weft runtimes of both flavours, on
//!   real time or with the clock paused.
//! - `rabbitmq` (feature `rabbitmq`): a private RabbitMQ node per test
//!   binary, and the convention for tests where it is not installed.
//! - `any_runtime` (feature `any-runtime`): runs one body under weft (both
//!   schedulers), tokio (both) and smol.
//!
//! A crate's own unit tests (`#[cfg(test)]` in `src/`) keep their helpers
//! in the crate: through this crate they would see a second copy of the
//! crate under test, whose types are not theirs.
#![doc(test(attr(deny(warnings))))]

pub mod alloc;
#[cfg(feature = "any-runtime")]
pub mod any_runtime;
pub mod kill;
pub mod oneshot;
#[cfg(feature = "rabbitmq")]
pub mod rabbitmq;
pub mod rng;
#[cfg(feature = "runtimes")]
pub mod runtimes;
pub mod waker;

pub use oneshot::oneshot;
pub use rng::Rng;
#[cfg(feature = "runtimes")]
pub use runtimes::{paused_current_thread, paused_runtimes, runtimes};
pub use waker::{CountingWaker, poll};
