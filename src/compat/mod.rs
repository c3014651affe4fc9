//! Glue between weft and libraries written for another runtime's traits.
//!
//! Each adapter sits behind a feature of its own and is off by default, so
//! the default dependency tree stays light:
//!
//! * [`hyper`] (feature `hyper`): hyper 1.x's executor, timer and I/O
//!   traits on weft's tasks, clock and sockets.

#[cfg(feature = "hyper")]
pub mod hyper;
