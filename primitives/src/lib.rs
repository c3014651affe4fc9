//! weft's runtime-agnostic primitives: channels, sync, promises, callbacks,
//! queues and events.
//!
//! Everything here depends on neither weft's executor nor its reactor: it
//! stores and wakes `Waker`s, so it runs under any executor. The facade
//! crate `weft` re-exports it as `weft::sync`.
//!
//! - [`sync`]: channels (`mpsc`, `oneshot`, `broadcast`, `watch`) and
//!   locks and signals (`Mutex`, `RwLock`, `Semaphore`, `Notify`,
//!   `Barrier`, `OnceCell`).
#![deny(unsafe_code)]

mod loom;
pub mod sync;
mod util;
