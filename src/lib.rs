//! weft: an async runtime and communication toolkit.
//!
//! For now this facade re-exports the executor; the reactor (I/O, timers)
//! and the communication styles join it as they are built.
//!
//! ```
//! let rt = weft::Runtime::new().unwrap();
//! let out = rt.block_on(async { weft::spawn(async { 40 + 2 }).await.unwrap() });
//! assert_eq!(out, 42);
//! ```
#![forbid(unsafe_code)]

pub use weft_executor::runtime::{Builder, Handle};
pub use weft_executor::{Runtime, block_on, spawn};

/// Tasks: spawning, joining, aborting, yielding.
pub mod task {
    pub use weft_executor::coop::consume_budget;
    pub use weft_executor::task::{
        AbortHandle, JoinError, JoinHandle, JoinSet, spawn, spawn_blocking, spawn_local, yield_now,
    };
}

/// The README's examples, compiled and run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
