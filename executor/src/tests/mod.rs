//! loom models of crate-level pieces.

mod loom_handshake;
mod loom_park;
