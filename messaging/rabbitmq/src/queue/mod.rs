//! weft's work queue on a RabbitMQ quorum queue: [`queue`] declares the
//! queue and its dead-letter queue and returns the same
//! [`Queue`] the in-memory backend gives, so
//! that moving a queue onto the broker changes one line.
//!
//! # What each operation is on the broker
//!
//! | weft | RabbitMQ |
//! | --- | --- |
//! | `publish` | `basic.publish` (persistent, mandatory) on a channel in confirm mode; done when the broker confirms |
//! | `recv` | `basic.consume` on a channel of the consumer's own, with `basic.qos` = [`prefetch`](QueueOptions::prefetch) |
//! | `ack` / `nack` / `reject` | `basic.ack` / `basic.nack` / `basic.reject` |
//! | delivery count | `x-delivery-count` + 1 |
//! | [`max_deliveries`](QueueOptions::max_deliveries) | `x-delivery-limit` = max − 1, dead-lettered with reason `delivery_limit` |
//! | dead letters | `x-dead-letter-exchange` (the default exchange) into the quorum queue `<name>.dead`, with `x-dead-letter-strategy = at-least-once` |
//! | [`ttl`](QueueOptions::ttl) | `x-message-ttl` |
//! | [`capacity`](QueueOptions::capacity) | `x-max-length` (one less under `Reject` / `Wait`: see [below](#capacity-and-overflow)); none by default |
//! | [`Overflow::Reject`] | `x-overflow = reject-publish`: the broker's `basic.nack` is `PublishError::Full` |
//! | [`Overflow::DropOldest`] | `x-overflow = drop-head`, dead-lettered with reason `maxlen` (`DeadReason::Overflowed`), at most once |
//! | [`Overflow::Wait`] | `reject-publish`, and this client publishes again with back-off until the broker takes it |
//! | [`redelivery_backoff`](QueueOptions::redelivery_backoff) | held in this client, then `basic.nack` with requeue (as `nack_after`) |
//! | `Properties` | `message-id`, `timestamp`, `headers`, `priority`, `expiration`; the headers `correlation-id` and [`reply-to`](crate::REPLY_TO) as AMQP's `correlation_id` and `reply_to` |
//! | request / reply | [`requester`](crate::requester) and [`responder`](crate::responder): requests on this queue, replies on RabbitMQ's direct reply-to (`amq.rabbitmq.reply-to`) by correlation id ([`crate::rpc`]) |
//! | [`ack_deadline`](QueueOptions::ack_deadline) | enforced by this client: AMQP has no per-delivery timeout |
//!
//! # Where the broker backend differs from the in-memory one
//!
//! - **Priorities**: a quorum queue in RabbitMQ 3.10 has no priorities.
//!   weft sends [`Properties::with_priority`](weft_messaging::Properties::with_priority)
//!   as the AMQP `priority` and hands it back, but messages are delivered
//!   in publication order.
//! - **Timestamps** keep whole seconds (AMQP's `timestamp`).
//! - **Dead-letter history**: RabbitMQ's `x-death` records why and how
//!   often a message died, not each delivery, so
//!   [`DeadLetter::history`](weft_messaging::queue::DeadLetter::history)
//!   is empty; [`reason`](weft_messaging::queue::DeadLetter::reason) comes
//!   from the newest `x-death` entry.
//! - **`nack_after(delay)`** holds the delivery in this client for `delay`,
//!   then nacks it with requeue: it counts against the consumer's prefetch
//!   meanwhile, and comes back at once if this process dies.
//! - **Counters**: [`Stats`](weft_messaging::queue::Stats) counts what this
//!   handle saw (`published`, `acked`, `in_flight`, `delayed`); `ready`
//!   and `dead_lettered` live in the broker and read 0. `purge` sends
//!   `queue.purge` and returns 0 (the count arrives later); `redrive` is not
//!   offered (below) and returns 0, moving nothing.
//! - **A consumer dropped** closes its channel: the broker requeues every
//!   message it held unacked (raising their delivery counts, those the
//!   client had prefetched but not handed out included), and a
//!   [`Delivery`](weft_messaging::queue::Delivery) that outlives its
//!   consumer can no longer be settled (`AckError::NotInFlight`).
//! - **`close`** ends this handle: publishes fail with `Closed`, and
//!   consumers end once nothing is buffered in this client. The broker's
//!   queue and its messages stay, for other processes.
//! - **Undecodable messages** (bytes the codec cannot read) are rejected,
//!   so they go to the dead-letter queue; a dead letter that cannot be
//!   decoded is taken and reported as a `StoreError::Unknown`.
//! - **Capacity and overflow** are the quorum queue's, and differ in the
//!   ways [Capacity and overflow](#capacity-and-overflow) lists: a full
//!   queue stays full until it has drained to 80 % of its limit, `Wait`
//!   polls, and publishes in flight together can overshoot the limit.
//! - **The redelivery back-off** holds a nacked or dropped delivery (or
//!   one past its ack deadline) in this client for its delay, as
//!   `nack_after` does: it counts against the consumer's prefetch
//!   meanwhile, comes back at once if this process dies or its consumer
//!   is dropped, and reads in [`Stats::delayed`](weft_messaging::queue::Stats::delayed).
//! - **Not offered yet** on the broker: the deduplication window
//!   (RabbitMQ 3.10 has none; the message id travels, so a consumer can
//!   keep its own), `redrive` (`Backend::redrive` is synchronous, and a
//!   move is a confirmed publish and an ack per message: RabbitMQ's
//!   shovel moves `<name>.dead` back into `<name>`), and ending when the
//!   producers are gone (producers in other processes are invisible to
//!   this one).
//! - **Redelivered** is also true of a *republished* copy (see below):
//!   its delivery count reads at least 2.
//!
//! # Capacity and overflow
//!
//! Without a [`capacity`](QueueOptions::capacity) the queue has no length
//! limit and is declared as before capacities existed, so a queue made
//! by an older version is found, not refused. With one, what RabbitMQ
//! 3.10's quorum queues do (seen on the test node, not only read) shapes
//! each policy:
//!
//! - **Only ready messages count**: those delivered and not settled do
//!   not, as in memory; nor does a consumer's prefetch hold room.
//! - **One past the limit**: a quorum queue refuses publishes once it
//!   holds *more* than `x-max-length` ready messages, so under `Reject`
//!   and `Wait` the queue is declared with `capacity − 1` and holds
//!   `capacity` (a limit of 0 holds one). Under `DropOldest` it drops its
//!   head down to the limit, so `x-max-length` is the capacity itself.
//! - **Hysteresis**: once it refused a publish, the queue refuses every
//!   publish until at most 80 % of its limit is ready (RabbitMQ's low
//!   watermark for quorum queues), not as soon as one message leaves. A
//!   `Reject` publisher sees `Full` meanwhile, a `Wait` one waits.
//! - **Publishes in flight together overshoot**: the queue tells its
//!   publishing channels it is full after it went over, so publishes sent
//!   before that arrives (many producers, or many publishes not awaited
//!   one by one) are all stored. The limit is exact for publishes awaited
//!   one after another, approximate under concurrency.
//! - **`Wait` polls**: the broker does not say when room comes back, so
//!   a refused publish sleeps on the queue's [spawner](QueueOptions::spawner)
//!   (5 ms, doubling to 200 ms) and is sent again, until the broker takes
//!   it or the queue is closed (then `Closed`). Dropped while it sleeps,
//!   it is not published; dropped while it awaits a confirm, it may be.
//!   `try_publish` sends once and does not learn of a refusal under any
//!   policy: on a full queue its message is dropped by the broker.
//! - **No `reject-publish-dlx`**: quorum queues in 3.10 do not support it
//!   (the node accepts the argument and drops the head instead), so there
//!   is no "refuse and dead-letter" policy.
//! - **`DropOldest` dead-letters at most once**: RabbitMQ's at-least-once
//!   dead-lettering needs `reject-publish`, so a dropped head is
//!   dead-lettered at most once (`x-dead-letter-strategy = at-most-once`):
//!   it is lost, not kept, if the dead-letter queue cannot take it.
//! - **A refusal keeps the channel**: a queue without a capacity treats
//!   a refusal as rare (a quorum queue in a leader election) and re-opens
//!   its publishing channel; one with a capacity keeps it and re-opens it
//!   only after 256 refusals in a row, in case that channel is one an
//!   election left refusing everything. A length limit set by a policy
//!   instead of [`capacity`](QueueOptions::capacity) is not known to this
//!   client: its refusals are `StoreError::NotStored`, each on a new
//!   channel.
//! - **A republish refused** (sent again after a connection loss) is
//!   `StoreError::Unknown`, never `Full`: the copy sent before the loss
//!   may be stored.
//!
//! ```no_run
//! use weft_messaging::queue::{Overflow, PublishError, Utf8};
//! use weft_rabbitmq::{Connection, QueueOptions};
//! # let uri = String::from("amqp://guest:guest@127.0.0.1:5672/%2f");
//!
//! let rt = weft::Runtime::new().unwrap();
//! rt.block_on(async {
//!     let conn = Connection::connect_with_runtime(&uri, weft::compat::async_rs::current())
//!         .await
//!         .unwrap();
//!     let mut options = QueueOptions::new();
//!     options.capacity(1).overflow(Overflow::Reject);
//!     let jobs = weft_rabbitmq::queue(&conn, "bounded-jobs", &options, Utf8).await.unwrap();
//!     jobs.producer().publish("first".to_string()).await.unwrap();
//!     match jobs.producer().publish("second".to_string()).await {
//!         Err(PublishError::Full(back)) => assert_eq!(back, "second"),
//!         other => panic!("{other:?}"),
//!     }
//! });
//! ```
//!
//! # Connection loss
//!
//! The queue lives through the loss of its connection or of one of its
//! channels (a network failure, the broker restarting or closing the
//! connection): the [`Connection`] reconnects with back-off per its
//! [`Recovery`](crate::Recovery) policy and reports each step through
//! [`Connection::on_status`]; the queue then re-declares both queues
//! with the same arguments, re-opens its publishing channel and resumes
//! each consumer and the dead-letter consumer on the new connection. No
//! handle needs to be made again, and a waiting `recv` keeps waiting.
//!
//! - **A publish awaiting its confirm** when the connection died is sent
//!   again on the new one and completes with the new confirm: `Ok` means
//!   stored, as always. The broker may then hold the message twice (the
//!   first copy reached it, its confirm did not reach the client), so the
//!   second copy carries the header `x-weft-republished` and is delivered
//!   as [`redelivered`](weft_messaging::queue::Delivery::redelivered)
//!   (the header itself is hidden from the properties). A duplicate is
//!   possible and flagged; a loss is not. Only when recovery gives up
//!   does such a publish fail, with `StoreError::Unknown` (it may be
//!   stored); a publish no frame of which left fails with `NotStored`.
//! - **Deliveries in hand** when the connection died can no longer be
//!   settled: their `ack` / `nack` / `reject` fail with
//!   `AckError::Store(StoreError::NotStored { .. })`, and the broker
//!   delivers them again, their count raised.
//! - **With [`Recovery::never`](crate::Recovery::never)** a loss is
//!   final: publishes awaiting a confirm fail with `StoreError::Unknown`,
//!   consumers with a store error.

pub(crate) mod amqp;
mod backend;
mod send;
pub(crate) mod topology;

use self::backend::Rabbit;
use self::topology::Topology;
use crate::channels::Refusals;
use crate::{Connection, Error};
use std::io;
use std::sync::Arc;
use std::time::Duration;
use weft_messaging::queue::{Codec, Overflow, Queue};
use weft_primitives::spawner::Spawner;

/// Settings of a queue on RabbitMQ; see [`queue`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_rabbitmq::QueueOptions;
///
/// let mut options = QueueOptions::new();
/// options.prefetch(32).max_deliveries(3).ttl(Duration::from_secs(3600));
/// assert_eq!(options.get_prefetch(), 32);
/// ```
#[derive(Debug, Clone)]
pub struct QueueOptions {
    prefetch: u16,
    max_deliveries: u32,
    ack_deadline: Option<Duration>,
    ttl: Option<Duration>,
    spawner: Option<Spawner>,
    capacity: Option<u32>,
    overflow: Overflow,
    backoff: Option<(Duration, Duration)>,
}

// Setters alike to the in-memory `Builder`'s and to `EventOptions`' (the
// `duplicates` pairs, left): the same settings on the broker, with its
// types (`u16` prefetch) and limits in their docs; plain fields, no logic.
impl QueueOptions {
    /// The defaults, those of weft's in-memory queue but for the
    /// capacity: prefetch 16, 5 deliveries, no ack deadline, no TTL, no
    /// back-off, and no capacity (the broker's queue has no length limit;
    /// the in-memory queue's default is 1 024).
    pub fn new() -> QueueOptions {
        QueueOptions {
            prefetch: 16,
            max_deliveries: 5,
            ack_deadline: None,
            ttl: None,
            spawner: None,
            capacity: None,
            overflow: Overflow::Wait,
            backoff: None,
        }
    }

    /// Room for `capacity` ready messages (no limit by default), what
    /// [`overflow`](Self::overflow) says happens beyond it: the quorum
    /// queue's `x-max-length`. Zero is raised to one. Messages delivered
    /// and not yet settled do not count, as in memory.
    ///
    /// The limit holds for publishes the broker sees one after another;
    /// publishes in flight together (many producers, or `try_publish`
    /// in a loop) can go past it, by as many as were in flight. See
    /// [Capacity and overflow](self#capacity-and-overflow).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_messaging::queue::Overflow;
    /// use weft_rabbitmq::QueueOptions;
    ///
    /// let mut options = QueueOptions::new();
    /// options.capacity(10_000).overflow(Overflow::Reject);
    /// assert_eq!(options.get_capacity(), Some(10_000));
    /// assert_eq!(options.get_overflow(), Overflow::Reject);
    /// ```
    pub fn capacity(&mut self, capacity: u32) -> &mut Self {
        self.capacity = Some(capacity.max(1));
        self
    }

    /// The capacity set, if any.
    pub fn get_capacity(&self) -> Option<u32> {
        self.capacity
    }

    /// What `publish` does when the queue is at its
    /// [`capacity`](Self::capacity) ([`Overflow::Wait`] by default; no
    /// effect without a capacity): `Reject` is `x-overflow =
    /// reject-publish`, `DropOldest` is `drop-head`, and `Wait` is
    /// `reject-publish` with this client publishing again, with back-off,
    /// until the broker takes it. See
    /// [Capacity and overflow](self#capacity-and-overflow).
    pub fn overflow(&mut self, overflow: Overflow) -> &mut Self {
        self.overflow = overflow;
        self
    }

    /// The overflow policy set.
    pub fn get_overflow(&self) -> Overflow {
        self.overflow
    }

    /// Delays each redelivery (after a `nack(true)`, a dropped delivery
    /// or a passed ack deadline) by `base`, doubled for each earlier
    /// delivery, at most `max` (none by default), as the in-memory
    /// queue's [`redelivery_backoff`](weft_messaging::queue::Builder::redelivery_backoff).
    /// The broker has no such delay: this client holds the delivery, as
    /// for `nack_after`, so the held delivery counts against the
    /// consumer's prefetch, and comes back at once if this process dies.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_rabbitmq::QueueOptions;
    ///
    /// let mut options = QueueOptions::new();
    /// options.redelivery_backoff(Duration::from_millis(100), Duration::from_secs(10));
    /// ```
    pub fn redelivery_backoff(&mut self, base: Duration, max: Duration) -> &mut Self {
        self.backoff = Some((base, max.max(base)));
        self
    }

    /// Unacked deliveries one consumer may hold (AMQP `basic.qos`; 16 by
    /// default). Zero is raised to one (AMQP's zero would mean no limit).
    pub fn prefetch(&mut self, prefetch: u16) -> &mut Self {
        self.prefetch = prefetch.max(1);
        self
    }

    /// The prefetch set.
    pub fn get_prefetch(&self) -> u16 {
        self.prefetch
    }

    /// Deliveries after which an unacked message is dead-lettered (5 by
    /// default): the quorum queue's `x-delivery-limit`, one less. Zero is
    /// raised to one.
    pub fn max_deliveries(&mut self, n: u32) -> &mut Self {
        self.max_deliveries = n.max(1);
        self
    }

    /// Time a consumer has to settle a delivery before this client gives
    /// it back to the broker (`basic.nack` with requeue; none by default).
    /// AMQP has no per-delivery timeout: the deadline holds while this
    /// process runs; if it dies, the broker requeues what it held anyway.
    pub fn ack_deadline(&mut self, deadline: Duration) -> &mut Self {
        self.ack_deadline = Some(deadline);
        self
    }

    /// Age at which an undelivered message is dead-lettered (reason
    /// `Expired`): the queue's `x-message-ttl`, in whole milliseconds.
    pub fn ttl(&mut self, ttl: Duration) -> &mut Self {
        self.ttl = Some(ttl);
        self
    }

    /// The runtime whose clock runs ack deadlines and delayed nacks (the
    /// current spawner by default, found by [`queue`]).
    pub fn spawner(&mut self, spawner: &Spawner) -> &mut Self {
        self.spawner = Some(spawner.clone());
        self
    }
}

impl Default for QueueOptions {
    fn default() -> QueueOptions {
        QueueOptions::new()
    }
}

/// A work queue on the quorum queue `name` of the broker behind `conn`,
/// its messages turned into bytes by `codec`.
///
/// Declares (or finds, with the same arguments) the durable quorum queue
/// `name` and its dead-letter queue `<name>.dead`, opens a channel in
/// confirm mode for publishing and starts consuming the dead-letter queue
/// for [`Queue::dead_letter`]. Each consumer of the returned queue opens
/// its own channel at its first receive. All of it is made again on a new
/// connection after a loss ([Connection loss](self#connection-loss)). See
/// the [module docs](self) for how each operation maps onto AMQP and where
/// the broker differs from the in-memory queue.
///
/// # Errors
///
/// - [`Error::Amqp`] when the broker refuses a declaration: a queue of
///   that name already exists with other arguments (`PRECONDITION_FAILED`),
///   or the name is not allowed;
/// - [`Error::Io`] when the connection fails (and its recovery gives up),
///   or no spawner was given and none is current (outside a weft runtime);
/// - [`Error::InvalidUri`] is never returned here.
///
/// # Cancel safety
///
/// Dropping the future may leave the queues declared and a channel open
/// until the connection closes.
///
/// # Examples
///
/// ```no_run
/// use weft_messaging::queue::Utf8;
/// use weft_rabbitmq::{Connection, QueueOptions};
/// let uri = String::from("amqp://guest:guest@127.0.0.1:5672/%2f");
///
/// let rt = weft::Runtime::new().unwrap();
/// rt.block_on(async {
///     let conn = Connection::connect_with_runtime(&uri, weft::compat::async_rs::current())
///         .await
///         .unwrap();
///     let jobs = weft_rabbitmq::queue(&conn, "jobs", QueueOptions::new().prefetch(8), Utf8)
///         .await
///         .unwrap();
///     jobs.producer().publish("resize photo 7".to_string()).await.unwrap();
///     let job = jobs.consumer().recv().await.unwrap();
///     assert_eq!(*job, "resize photo 7");
///     job.ack().unwrap();
/// });
/// ```
pub async fn queue<T, C>(
    conn: &Connection,
    name: &str,
    options: &QueueOptions,
    codec: C,
) -> Result<Queue<T>, Error>
where
    T: Clone + Send + 'static,
    C: Codec<T>,
{
    let spawner = match &options.spawner {
        Some(spawner) => spawner.clone(),
        None => Spawner::try_current().map_err(|e| Error::Io(io::Error::other(e)))?,
    };
    let name_short = amqp::short(name, "queue name")?;
    let dead = format!("{name}.dead");
    let dead_short = amqp::short(&dead, "dead-letter queue name")?;

    let topology = Arc::new(Topology::new(
        conn.clone(),
        name_short,
        dead_short.clone(),
        topology::arguments(options, &dead),
        options.prefetch,
        refusals(options),
    ));
    // Declares both queues and opens the publishing channel.
    topology.publisher().await?;
    let dead_letters = topology.subscribe(dead_short).await?;

    Ok(Queue::with_backend(Rabbit::new(backend::Parts {
        topology,
        ack_deadline: options.ack_deadline,
        wait_for_room: options.capacity.is_some() && options.overflow == Overflow::Wait,
        backoff: options.backoff,
        codec: Box::new(codec),
        spawner,
        dead_letters,
    })))
}

/// What a refused publish means on the queue `options` describe: with a
/// capacity whose policy refuses publishes, the queue is full.
pub(crate) fn refusals(options: &QueueOptions) -> Refusals {
    match (options.capacity, options.overflow) {
        (Some(_), Overflow::Reject | Overflow::Wait) => Refusals::Full,
        (None, _) | (Some(_), Overflow::DropOldest) => Refusals::Rare,
    }
}

/// The spawner `options` name, or the current one, as [`queue`] finds it.
pub(crate) fn spawner(options: &QueueOptions) -> Result<Spawner, Error> {
    match &options.spawner {
        Some(spawner) => Ok(spawner.clone()),
        None => Spawner::try_current().map_err(|e| Error::Io(io::Error::other(e))),
    }
}
