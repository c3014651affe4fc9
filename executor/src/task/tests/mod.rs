//! loom models of the task protocol: every interleaving of the operations
//! that race on one task's state word, and on the registry of live tasks.

mod loom_registry;
mod loom_task;
