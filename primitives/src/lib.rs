//! weft's runtime-agnostic primitives: channels, sync, promises, callbacks,
//! queues and events.
//!
//! Not built yet: they arrive with their issues. The crate exists so the
//! workspace has its final shape, and so the rule that it depends on neither
//! the executor nor the reactor holds from the start.
#![forbid(unsafe_code)]
