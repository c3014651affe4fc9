//! weft's messaging: the work queue and the event bus, the two styles of
//! asynchronous communication that outlive a single call.
//!
//! - [`queue`]: a work queue with competing consumers, acknowledgements,
//!   redelivery and dead letters (RabbitMQ's and SQS's model). A message
//!   goes to one consumer at a time and leaves only when acked.
//! - [`events`]: an event bus of topics kept as logs, with independent
//!   subscribers, consumer groups, replay and handlers with retry (Kafka's
//!   and Lambda's model). Every subscriber sees every event.
//!
//! Choose the queue when each message is a job that one worker must do;
//! choose the bus when each event is a fact that any number of readers may
//! want, now or later.
//!
//! Both stand on weft-primitives only (its [`Spawner`] interface for
//! timers and handlers), so they run under weft, tokio or smol. Each keeps
//! its messages behind a backend trait ([`queue::Backend`],
//! [`events::Backend`]). The in-memory backends live here, and so does the
//! durable queue (`queue::Durable`, `Queue::durable`, behind the `disk`
//! feature), on the log of crate weft-disk, re-exported as `disk`; the
//! RabbitMQ backends are crate weft-rabbitmq. The facade `weft` re-exports
//! this crate as `weft::queue` and `weft::events`.
//!
//! What the queue and the bus share sits at the root, and each of them
//! re-exports it: [`StoreError`] (a backend could not store something, and
//! whether the value is known not to be stored), [`Properties`] and
//! [`MessageId`] (what travels beside a message), and the [`codec`]s that
//! turn messages into bytes for the backends that need bytes.
//!
//! [`Spawner`]: weft_primitives::spawner::Spawner
// Unsafe code lives in one named module, the memory event log's rows
// (`events/memory/row.rs`, and the calls into them beside it), allowed
// there and denied everywhere else.
#![deny(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

pub mod codec;
mod diag;
mod error;
pub mod events;
mod loom;
mod properties;
pub mod queue;
mod util;

pub use self::error::StoreError;
pub use self::properties::{MessageId, Properties};
/// The durable log the [durable queue](queue::Queue::durable) stands on
/// (the `disk` feature).
#[cfg(feature = "disk")]
pub use weft_disk as disk;
