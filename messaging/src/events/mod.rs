//! An event bus with topics, replay, topic patterns, consumer groups and
//! serverless-style handlers: the event-driven style, in process.
//!
//! A publisher puts an event on a *topic* and does not know who reads it.
//! Each topic is a log: every event gets the next [`Offset`], and the last
//! [`retention`](Builder::retention) events stay readable. Readers come in
//! three kinds:
//!
//! - a [`Subscriber`] has its own cursor and sees every event of the topics
//!   its pattern matches, starting where [`StartAt`] says: the oldest
//!   retained event (replay), the next one published, or an offset. One
//!   that falls behind the retained window gets [`RecvError::Lagged`] with
//!   the count it missed and goes on: never a silent loss.
//! - the [`Member`]s of a named consumer group share one topic's events:
//!   each event goes to one member, which [`ack`](GroupEvent::ack)s it;
//!   the group's committed offset (everything before it acked) survives
//!   its members, so a member that joins later resumes where the group
//!   left off, and an event a member dropped unacked goes to another.
//! - a [`Handler`] ([`EventBus::on`]) runs a function per event, as AWS
//!   Lambda or Cloud Functions do, retrying a failure with back-off and
//!   sending what still fails to a dead-letter topic.
//!
//! Patterns follow RabbitMQ's topic exchange: words separated by dots,
//! `*` for exactly one word, `#` for zero or more (see [`Pattern`]).
//!
//! Events are kept by a [`Backend`]: [`Memory`] by default, or on disk
//! with [`EventBus::durable`] (the `disk` feature); the trait is what a
//! broker-backed store would implement.
//!
//! # Examples
//!
//! ```
//! use weft::events::{EventBus, StartAt};
//!
//! let bus = EventBus::new();
//! let mut mailer = bus.subscribe("user.*", StartAt::Latest).unwrap();
//! bus.try_publish("user.registered", "ada@example.com").unwrap();
//!
//! // A late subscriber replays what the topic retains.
//! let mut audit = bus.subscribe("user.registered", StartAt::Start).unwrap();
//!
//! weft::block_on(async {
//!     let event = mailer.recv().await.unwrap();
//!     assert_eq!((event.topic(), *event.payload()), ("user.registered", "ada@example.com"));
//!     assert_eq!(*audit.recv().await.unwrap(), "ada@example.com");
//! });
//! ```

// The map. The bus's side, one concept a file: `bus.rs` (the `EventBus` and
// the state its handles share), `builder.rs`, `event.rs` (`Event`, `Offset`,
// `StartAt`), `publish.rs`, `topic.rs` (`Topic` and its partitions),
// `subscriber.rs`, `offsets.rs` (a group's committed offset, reset and lag)
// and `at_once.rs` (the calls that cannot wait). Consumer groups are in
// `group/`, handlers in `handler/`, the storage contract in `backend.rs`, the
// in-memory backend in `memory.rs`.

mod at_once;
mod backend;
mod builder;
mod bus;
#[cfg(feature = "disk")]
mod durable;
mod error;
mod event;
mod group;
mod handler;
// The one module of the crate with unsafe code: write-once slots ordered
// by the log's lock (see its docs).
#[allow(unsafe_code)]
mod memory;
mod offsets;
mod partition;
mod pattern;
mod publish;
mod subscriber;
#[cfg(test)]
mod tests;
mod topic;

pub use self::backend::{
    Append, Backend, Read, ReadPlace, ReaderId, Record, Retention, TopicLog, TopicOptions,
};
pub use self::builder::{Builder, DEFAULT_RETENTION};
pub use self::bus::EventBus;
#[cfg(feature = "disk")]
pub use self::durable::{Durable, OpenDurableError, Restored};
pub use self::error::{EventsError, InvalidName, PublishError, RecvError};
pub use self::event::{Event, Offset, StartAt, Timestamp};
pub use self::group::{GroupEvent, Member};
pub use self::handler::{BatchFailures, Handler, HandlerOptions, HandlerStats, Retry};
pub use self::memory::Memory;
pub use self::partition::partition_for;
pub use self::pattern::Pattern;
pub use self::subscriber::Subscriber;
pub use self::topic::Topic;
pub use crate::codec::{Codec, CodecError, Raw, Utf8};
#[cfg(feature = "disk")]
pub use crate::queue::{DiskOptions, Recovery, SyncPolicy, TornTail};
pub use crate::{MessageId, Properties, StoreError};

// The machinery the files above share.
use self::at_once::{at_once, now_or_would_block};
use self::bus::{Inner, NamedLog};
use self::subscriber::BATCH;
