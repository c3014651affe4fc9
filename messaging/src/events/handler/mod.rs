//! Handlers in the serverless style: a function run per event, with
//! retries and a dead-letter topic ([`EventBus::on`]); up to n events at
//! once with per-key order ([`HandlerOptions::concurrency`], in
//! `handler/concurrent.rs`); or a function run per batch that reports
//! which events failed ([`EventBus::on_batch`], in `handler/batch.rs`).
//! Each reads from a subscriber of its own or, with
//! [`HandlerOptions::group`], as a member of a consumer group that it
//! acks each event to once the event is done with.
//!
//! # Protocol
//!
//! A handler is one reader task, plus, with a concurrency above one, one
//! task per event in flight. They share a [`Control`]: the stop flag, the
//! stats and the wakers of the tasks that wait (for an event or a
//! back-off), each under its own *slot* number (the reader's is 0), so a
//! stop wakes every one of them. A task replaces its own slot's waker
//! each time it waits and removes it when it ends. The handler is
//! finished once the reader task ends, and the reader ends only after
//! every event it read has been handled, dead-lettered or counted (and,
//! in a group, acked or given back), and after dropping its source, so a
//! group member has left by the time [`Handler::finished`] returns.

mod batch;
mod concurrent;
mod control;
mod options;
mod task;

pub use self::batch::BatchFailures;
pub use self::control::Handler;
pub use self::options::{HandlerOptions, HandlerStats, Retry};

// What the files above share.
use self::control::{Control, FinishOnDrop, READER};
use self::task::{Item, Next, Source, Task, catching};
