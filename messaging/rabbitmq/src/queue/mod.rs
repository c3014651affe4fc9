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
//! | `Properties` | `message-id`, `timestamp`, `headers`, `priority`, `expiration` |
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
//!   supported yet and returns 0.
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
//! - **Not offered yet** on the broker: a capacity with an overflow policy
//!   (`x-max-length` / `x-overflow`), the deduplication window, the
//!   redelivery back-off and ending when the producers are gone.
//! - **Redelivered** is also true of a *republished* copy (see below):
//!   its delivery count reads at least 2.
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
use self::topology::{Topology, quorum};
use crate::{Connection, Error};
use lapin::types::{AMQPValue, FieldTable};
use std::io;
use std::sync::Arc;
use std::time::Duration;
use weft_messaging::queue::{Codec, Queue};
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
}

// Setters alike to the in-memory `Builder`'s and to `EventOptions`' (the
// `duplicates` pairs, left): the same settings on the broker, with its
// types (`u16` prefetch) and limits in their docs; plain fields, no logic.
impl QueueOptions {
    /// The defaults, those of weft's in-memory queue: prefetch 16, 5
    /// deliveries, no ack deadline, no TTL.
    pub fn new() -> QueueOptions {
        QueueOptions {
            prefetch: 16,
            max_deliveries: 5,
            ack_deadline: None,
            ttl: None,
            spawner: None,
        }
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

    let arguments = arguments(&dead, options);
    let topology = Arc::new(Topology::new(
        conn.clone(),
        name_short,
        dead_short.clone(),
        arguments,
        options.prefetch,
    ));
    // Declares both queues and opens the publishing channel.
    topology.publisher().await?;
    let dead_letters = topology.subscribe(dead_short).await?;

    Ok(Queue::with_backend(Rabbit::new(backend::Parts {
        topology,
        ack_deadline: options.ack_deadline,
        codec: Box::new(codec),
        spawner,
        dead_letters,
    })))
}

/// The arguments of a quorum queue whose dead letters go to the queue
/// `dead`: [`queue`] declares it with these, and so does
/// [`requester`](crate::requester), so that both find the same queue.
pub(crate) fn arguments(dead: &str, options: &QueueOptions) -> FieldTable {
    let mut arguments = quorum();
    arguments.insert("x-dead-letter-exchange".into(), AMQPValue::LongString("".into()));
    arguments.insert(
        "x-dead-letter-routing-key".into(),
        AMQPValue::LongString(dead.into()),
    );
    arguments.insert(
        "x-dead-letter-strategy".into(),
        AMQPValue::LongString("at-least-once".into()),
    );
    // At-least-once dead-lettering asks for `reject-publish`; without a
    // length limit it never refuses a publish.
    arguments.insert(
        "x-overflow".into(),
        AMQPValue::LongString("reject-publish".into()),
    );
    let limit = i64::from(options.max_deliveries - 1);
    arguments.insert("x-delivery-limit".into(), AMQPValue::LongLongInt(limit));
    if let Some(ttl) = options.ttl {
        let millis = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        arguments.insert("x-message-ttl".into(), AMQPValue::LongLongInt(millis));
    }
    arguments
}

/// The spawner `options` name, or the current one, as [`queue`] finds it.
pub(crate) fn spawner(options: &QueueOptions) -> Result<Spawner, Error> {
    match &options.spawner {
        Some(spawner) => Ok(spawner.clone()),
        None => Spawner::try_current().map_err(|e| Error::Io(io::Error::other(e))),
    }
}
