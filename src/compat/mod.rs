//! Adapters that let libraries written for another runtime's interface run
//! on weft, each behind a feature of its own name.
//!
//! * `async_rs` (feature `async-rs`): weft as an [async-rs] runtime, the
//!   interface lapin (the RabbitMQ client) and its family are written
//!   against.
//!
//! An adapter turns weft's own pieces (tasks, timers, sockets) into the
//! other interface's types; nothing here starts a second runtime.
//!
//! [async-rs]: https://docs.rs/async-rs

#[cfg(feature = "async-rs")]
pub mod async_rs;
