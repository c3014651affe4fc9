//! weft's runtime-agnostic primitives: channels, sync, promises and
//! callbacks. (The work queue and the event bus, which build on them, are
//! in weft-messaging.)
//!
//! Everything here depends on neither weft's executor nor its reactor: it
//! stores and wakes `Waker`s, or reaches a runtime through the small
//! [`spawner::Spawn`] interface, so it runs under any executor. The facade
//! crate `weft` re-exports it as `weft::sync`, `weft::promise`,
//! `weft::callback` and `weft::spawner`.
//!
//! - [`sync`]: channels (`mpsc`, `oneshot`, `broadcast`, `watch`) and
//!   locks and signals (`Mutex`, `RwLock`, `Semaphore`, `Notify`,
//!   `Barrier`, `OnceCell`).
//! - [`promise`]: JavaScript-style promises.
//! - [`callback`]: callback timers, task completion, and bridges between
//!   callbacks and futures.
//! - [`coop`]: the hook through which a runtime's cooperative budget
//!   reaches the primitives (a no-op unless a runtime installs it).
//! - [`spawner`]: the runtime interface and the event loop that runs
//!   promise handlers and callbacks.
#![deny(unsafe_code)]

pub mod callback;
pub mod coop;
mod event_loop;
mod loom;
pub mod promise;
pub mod spawner;
pub mod sync;
mod util;
