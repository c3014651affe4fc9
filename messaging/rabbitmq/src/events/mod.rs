//! weft's event bus on RabbitMQ streams: [`event_bus`] returns the same
//! [`EventBus`] the in-memory backend gives, its topics kept in the
//! broker, so that moving a bus onto RabbitMQ changes one line.
//!
//! # What each part is on the broker
//!
//! | weft | RabbitMQ |
//! | --- | --- |
//! | a topic's partition `p` | the durable stream (`x-queue-type = stream`) `<topic>.<p>`; one partition: `<topic>.0` |
//! | a keyed event's partition | [`partition_for`](weft_messaging::events::partition_for), the hash the in-memory bus uses |
//! | `publish` | `basic.publish` (persistent, mandatory) on a channel in confirm mode; done when the broker confirms *and* the offset is known (see below) |
//! | an event's [`Offset`](weft_messaging::events::Offset) | the stream offset, from the `x-stream-offset` header of its delivery |
//! | [`StartAt`](weft_messaging::events::StartAt) `Start` / `Latest` / `Offset` / `Time` | `x-stream-offset` = the oldest retained offset / where the stream ended / the offset / the time (whole seconds, then filtered by the event's own stamp) |
//! | each subscriber cursor and group member | a `basic.consume` on a channel of its own, with a prefetch ([`EventOptions::prefetch`]) and acks |
//! | [`Retention::max_age`](weft_messaging::events::Retention::max_age) / [`max_bytes`](weft_messaging::events::Retention::max_bytes) | `x-max-age` (whole seconds) / `x-max-length-bytes` |
//! | a reader behind retention | `Lagged`, counted from the offsets of its deliveries: the gap between the offset it expected and the one delivered |
//! | a group's committed offset | the last commit message in the stream `weft.commits.<group>.<topic>.<p>` |
//!
//! **Why a stream per group and partition for commits.** A stream keeps
//! its newest message through any retention (retention removes whole
//! segments, never the one being written), is durable and replicated
//! like the topic itself, and can be read without taking anything from
//! it: a reader never races another reader or a committer. A queue
//! holding "the last commit" would have to be consumed to be read, and a
//! commit racing a read could leave an older commit at its head. The
//! commit streams are declared with 16 KiB segments and a 64 KiB limit, so
//! finding the last commit reads at most a few hundred small messages.
//!
//! # How an offset is learned
//!
//! AMQP 0-9-1 confirms a publish without saying at which offset the
//! stream stored it. Each partition's log keeps a consumer at the end of
//! its stream (its *tail*) and tags each append; a publish is done when
//! its confirm came and the tail saw its tag. The tail also tracks
//! where the stream ends, for `StartAt::Latest` and `Topic::end` (as far
//! as it has seen: a publish from another process counts once the tail
//! has received it).
//!
//! To learn where a stream ends when a log opens, the log appends a
//! *marker* (a message that is no event) and waits for it on its tail.
//! Markers take up offsets, and so do the tracking chunks the broker
//! writes at the start of each segment: offsets of events have holes
//! (one per bus that opens the topic, one per segment), readers pass over
//! them, and a `Lagged` count leaves out the holes the log knows of
//! (those since it opened: its tail sees every offset). A gap reaching
//! back before the log opened counts its holes there as skipped events.
//!
//! # Where the broker backend differs from the in-memory one
//!
//! - **Retention** is fixed when a topic's streams are declared: a count
//!   of events has no stream equivalent (only age and bytes), and
//!   `Topic::set_retention` does not change a stream (AMQP 0-9-1 cannot; a
//!   RabbitMQ policy can). The broker applies retention a segment at a
//!   time ([`EventOptions::segment_bytes`]), so it removes more at once
//!   and later than the in-memory bus.
//! - **`StartAt::Time`** cannot be turned into an offset without asking
//!   the broker, and the bus asks synchronously: the log answers a *time
//!   mark* (an offset at or above 2⁶², the time in milliseconds), which
//!   its reads resolve at the first event stamped at or after the time.
//!   A group that joins at a time and stores its start stores the mark.
//! - **`Start`** is the oldest offset the log knew of when it opened (or
//!   learned since): a reader that starts there after retention moved on
//!   gets `Lagged` first.
//! - **Topics known**: `EventBus::topics` and pattern subscribers see the
//!   topics this bus opened; AMQP 0-9-1 cannot list the broker's streams.
//! - **Ordering across topics**: a pattern subscriber orders events of
//!   different topics by their stamps (the in-memory bus by publication).
//! - **Bytes the codec cannot read** are counted as skipped (`Lagged`).
//! - **Connection loss** is recovered from (next section); a group's
//!   acks are commits, so unlike a queue's deliveries in hand they do not
//!   fail with the connection.
//!
//! # Connection loss
//!
//! The bus lives through the loss of its connection or of one of its
//! channels (a network failure, the broker restarting or closing the
//! connection), on the machinery the [queue](mod@crate::queue#connection-loss)
//! uses: the [`Connection`] reconnects with back-off per its
//! [`Recovery`](crate::Recovery) policy and reports each step through
//! [`Connection::on_status`], the same [`Status`](crate::Status)es as
//! for a queue; the bus then re-declares the streams it declared (with
//! their arguments), re-opens its publishing channel and re-attaches each
//! consumer on the new connection. No handle needs to be made again, and
//! a waiting `recv` keeps waiting. Right after a restart RabbitMQ answers
//! `NOT_FOUND` ("home node ... down or inaccessible") for a stream whose
//! replica is not up yet; the bus waits for it, up to a minute.
//!
//! - **Readers** (subscriber cursors, group members) resume exactly:
//!   each attaches again at the offset after the last event it handed
//!   out, and a stream replays, so a reader loses nothing and reads
//!   nothing twice because of the loss; no `RecvError` shows it.
//! - **Each log's tail** attaches again one past the last offset it saw,
//!   so it misses no offset: appends still learn their offsets and
//!   `Lagged` counts stay exact.
//! - **An append awaiting its confirm** is retried transparently: sent
//!   again on the new connection, it completes with `Ok(offset)`, the
//!   offset of the first copy the stream stored. The stream may hold it
//!   twice (the first copy reached the broker, its confirm did not reach
//!   the client): the copy sent again carries the header
//!   `x-weft-republished`, which readers see in the event's
//!   [`properties`](weft_messaging::events::Event::properties) as the
//!   header of that name (`"true"`; for an event published without
//!   properties, properties are made for the copy, its id the append's
//!   tag), with the same payload, key and timestamp as the first. A
//!   duplicate is possible and flagged; a loss is not. Only when recovery
//!   gives up does such an append fail, with `StoreError::Unknown` (it
//!   may be stored); one no frame of which left fails with `NotStored`,
//!   the event handed back.
//! - **A commit in flight** (an ack's, `commit_up_to`) is retried
//!   transparently too, until confirmed: a second copy of the same commit
//!   changes nothing, and the bus stores one commit of a group's partition
//!   at a time, so a committed offset never goes back. Reading a commit
//!   (`committed_async`, a join) and opening a topic start over on the new
//!   connection.
//! - **With [`Recovery::never`](crate::Recovery::never)**, or once
//!   recovery gives up: appends fail with `StoreError::Unknown` (or
//!   `NotStored`), readers with `RecvError::Io`, commits with a store
//!   error.

mod amqp;
mod backend;
mod commits;
pub(crate) mod job;
mod log;
mod record;

use self::backend::Streams;
use crate::{Connection, Error};
use std::io;
use std::sync::Arc;
use std::time::Duration;
use weft_messaging::events::{Codec, EventBus};
use weft_primitives::spawner::Spawner;

/// Settings of an event bus on RabbitMQ streams; see [`event_bus`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_rabbitmq::EventOptions;
///
/// let mut options = EventOptions::new();
/// options.prefetch(128).max_age(Duration::from_secs(7 * 24 * 3600));
/// assert_eq!(options.get_prefetch(), 128);
/// ```
#[derive(Debug, Clone, Default)]
pub struct EventOptions {
    settings: Settings,
    max_age: Option<Duration>,
    max_bytes: Option<u64>,
    spawner: Option<Spawner>,
}

/// What the backend itself needs of the options.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) prefetch: u16,
    pub(crate) segment_bytes: Option<u64>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            prefetch: 64,
            segment_bytes: None,
        }
    }
}

impl EventOptions {
    /// The defaults: prefetch 64, the broker's retention (none) and its
    /// segment size (500 MB).
    pub fn new() -> EventOptions {
        EventOptions::default()
    }

    /// Events one reader's consumer may hold unacked (AMQP `basic.qos`,
    /// which a stream consumer must set; 64 by default). Zero is raised
    /// to one.
    pub fn prefetch(&mut self, prefetch: u16) -> &mut Self {
        self.settings.prefetch = prefetch.max(1);
        self
    }

    /// The prefetch set.
    pub fn get_prefetch(&self) -> u16 {
        self.settings.prefetch
    }

    /// The age past which new topics' streams drop events (`x-max-age`,
    /// whole seconds, at least one); the bus's
    /// [`Builder::max_age`](weft_messaging::events::Builder::max_age).
    pub fn max_age(&mut self, age: Duration) -> &mut Self {
        self.max_age = Some(age);
        self
    }

    /// The size past which new topics' streams drop their oldest
    /// segments (`x-max-length-bytes`, per partition); the bus's
    /// [`Builder::max_bytes`](weft_messaging::events::Builder::max_bytes).
    pub fn max_bytes(&mut self, bytes: u64) -> &mut Self {
        self.max_bytes = Some(bytes);
        self
    }

    /// The size of new topics' stream segments
    /// (`x-stream-max-segment-size-bytes`; the broker's 500 MB by
    /// default). Retention removes whole segments, so it can bite no
    /// finer than this.
    pub fn segment_bytes(&mut self, bytes: u64) -> &mut Self {
        self.settings.segment_bytes = Some(bytes);
        self
    }

    /// The runtime the broker operations run on and whose clock stamps
    /// events and times handlers (the current spawner by default, found
    /// by [`event_bus`]; given here, it is also the bus's
    /// [`Builder::spawner`](weft_messaging::events::Builder::spawner)).
    pub fn spawner(&mut self, spawner: &Spawner) -> &mut Self {
        self.spawner = Some(spawner.clone());
        self
    }
}

/// An event bus whose topics are RabbitMQ streams on the broker behind
/// `conn`, its events turned into bytes by `codec`.
///
/// Opens a channel in confirm mode for every publish and commit (opened
/// again, with the bus's streams declared, after a
/// [connection loss](self#connection-loss)); topics
/// are opened (found, or declared with `options`' retention) when the
/// bus first uses them: use the bus's `_async` methods
/// (`topic_async`, `subscribe_async`, `join_async`, `committed_async`),
/// which wait for the broker, where the in-memory bus answers at once.
/// See the [module docs](self) for how each part maps onto the broker and
/// where it differs from the in-memory bus.
///
/// # Errors
///
/// - [`Error::Amqp`] when the broker refuses a channel;
/// - [`Error::Io`] when the connection was closed or its recovery gave up
///   (while it recovers, this waits), or no spawner was given and none is
///   current (outside a weft runtime).
///
/// # Cancel safety
///
/// Dropping the future may leave a channel open until the connection
/// closes.
///
/// # Examples
///
/// ```no_run
/// use weft::events::{StartAt, Utf8};
/// use weft_rabbitmq::{Connection, EventOptions};
/// let uri = String::from("amqp://guest:guest@127.0.0.1:5672/%2f");
///
/// let rt = weft::Runtime::new().unwrap();
/// rt.block_on(async {
///     let conn = Connection::connect_with_runtime(&uri, weft::compat::async_rs::current())
///         .await
///         .unwrap();
///     let bus = weft_rabbitmq::event_bus(&conn, &EventOptions::new(), Utf8).await.unwrap();
///     let mut audit = bus.subscribe_async("user.registered", StartAt::Latest).await.unwrap();
///     bus.publish("user.registered", "ada@example.com".to_string()).await.unwrap();
///     let event = audit.recv().await.unwrap();
///     assert_eq!(*event, "ada@example.com");
/// });
/// ```
pub async fn event_bus<T, C>(
    conn: &Connection,
    options: &EventOptions,
    codec: C,
) -> Result<EventBus<T>, Error>
where
    T: Clone + Send + 'static,
    C: Codec<T>,
{
    let spawner = match &options.spawner {
        Some(spawner) => spawner.clone(),
        None => Spawner::try_current().map_err(|e| Error::Io(io::Error::other(e)))?,
    };
    let backend = Streams::new(conn.clone(), Arc::new(codec), spawner, options.settings.clone()).await?;
    let mut builder = EventBus::builder();
    if let Some(age) = options.max_age {
        builder.max_age(age);
    }
    if let Some(bytes) = options.max_bytes {
        builder.max_bytes(bytes);
    }
    if let Some(spawner) = &options.spawner {
        builder.spawner(spawner);
    }
    Ok(builder.build_with(backend))
}
