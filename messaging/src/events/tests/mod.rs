//! Tests of the event bus that live inside the crate: the loom models.

#[cfg(loom)]
mod loom_events;
