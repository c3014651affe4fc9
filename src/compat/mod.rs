//! Adapters that let libraries written for another runtime's interface run
//! on weft, each behind a feature of its own name and off by default, so
//! the default dependency tree stays light:
//!
//! * `async_rs` (feature `async-rs`): weft as an [async-rs] runtime, the
//!   interface lapin (the RabbitMQ client) and its family are written
//!   against.
//! * `hyper` (feature `hyper`): hyper 1.x's executor, timer and I/O traits
//!   on weft's tasks, clock and sockets.
//!
//! An adapter turns weft's own pieces (tasks, timers, sockets) into the
//! other interface's types; nothing here starts a second runtime.
//!
//! [async-rs]: https://docs.rs/async-rs

#[cfg(feature = "async-rs")]
pub mod async_rs;
#[cfg(feature = "hyper")]
pub mod hyper;
