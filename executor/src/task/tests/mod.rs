//! loom models of the task protocol: every interleaving of the operations
//! that race on one task's state word.

mod loom_task;
