//! loom models of crate-level pieces.

mod loom_park;
