//! weft's runtime-agnostic primitives: channels, sync, promises and
//! callbacks. (The work queue and the event bus, which build on them, are
//! in weft-messaging.)
//!
//! Everything here depends on neither weft's executor nor its reactor: it
//! stores and wakes `Waker`s, or reaches a runtime through the small
//! [`spawner::Spawn`] interface, so it runs under any executor. The facade
//! crate `weft` re-exports it as `weft::sync`, `weft::promise`,
//! `weft::callback` and `weft::spawner`; [`coop`] is for runtime authors,
//! and weft's own runtime installs it.
//!
//! # Which module
//!
//! | to... | use | needs a spawner? |
//! | --- | --- | --- |
//! | pass values between tasks, share state, wait for a signal | [`sync`] | no: any executor |
//! | chain work as JavaScript does (`then`, `catch`, `all`, ...) | [`promise`] | yes |
//! | run a callback after a delay, every period, or when a future ends; turn a callback API into a future | [`callback`] | yes, but `from_callback` runs anywhere |
//! | run promises and callbacks on a runtime other than weft's | [`spawner`] (implement [`Spawn`](spawner::Spawn)) | it is the spawner |
//! | make a primitive yield under a runtime's cooperative budget | [`coop`] (for runtime authors; a no-op unless one installs it) | no |
//!
//! - [`sync`]: channels (`mpsc`, `oneshot`, `broadcast`, `watch`) and
//!   locks and signals (`Mutex`, `RwLock`, `Semaphore`, `Notify`,
//!   `Barrier`, `OnceCell`).
//! - [`promise`]: JavaScript-style promises.
//! - [`callback`]: callback timers, task completion, and bridges between
//!   callbacks and futures.
//! - [`coop`]: the hook through which a runtime's cooperative budget
//!   reaches the primitives (a no-op unless a runtime installs it).
//! - [`spawner`]: the runtime interface, and [`Spawner`](spawner::Spawner),
//!   which runs promise handlers and callbacks on a runtime.
//!
//! The machinery behind them is private: `event_loop` (the jobs and timers
//! a spawner runs), `util` (the wait list every waiting future queues in)
//! and `loom` (the shim that lets the loom models see every atomic).
//! `__private` (hidden, no semver promise) lends a few pieces of `util` to
//! weft-messaging, and `diag`'s callback-panic event to the facade, so
//! that they do not copy them.
#![deny(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

pub mod callback;
pub mod coop;
mod diag;
mod event_loop;
mod loom;
pub mod promise;
pub mod spawner;
pub mod sync;
mod util;

/// Not public API, and under no semver promise: the pieces of `util`
/// that weft-messaging shares rather than copies (gathering wakers under a
/// lock, keeping a waker without a needless clone, a panic's message), and
/// the `tracing` event of a panicked callback, which the facade's callback
/// TCP API reports too.
#[doc(hidden)]
pub mod __private {
    pub use crate::diag::callback_panicked;
    pub use crate::util::{Wakers, panic_message, replace_waker};
}
