//! weft's reactor: the I/O driver, timers and sockets.
//!
//! Not built yet: the driver, the timing wheel and the socket types arrive
//! with the reactor issue. The crate exists so the workspace has its final
//! shape and its dependency direction (the reactor never depends on the
//! executor) is fixed from the start.
#![forbid(unsafe_code)]
