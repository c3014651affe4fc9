//! loom models of the work-stealing scheduler's lock-free parts.

mod loom_idle;
mod loom_queue;
