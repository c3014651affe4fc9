//! Callbacks: timers, task completion, callback-style TCP, and bridges
//! between callbacks and futures.
//!
//! The timers and bridges are weft-primitives' (see
//! [`weft_primitives::callback`]), running on the current runtime's event
//! loop and honouring its paused test clock; [`tcp`] is weft's own.

pub use weft_primitives::callback::*;

pub mod tcp;
