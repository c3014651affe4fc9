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
//! Events are kept by a [`Backend`]: [`Memory`] by default, the only one
//! built so far; the trait is what a durable or broker-backed store would
//! implement.
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

mod backend;
mod error;
mod group;
mod handler;
mod memory;
mod partition;
mod pattern;
#[cfg(test)]
mod tests;

pub use self::backend::{Append, Backend, Read, ReaderId, Record, Retention, TopicLog, TopicOptions};
pub use self::error::{EventsError, InvalidName, PublishError, RecvError};
pub use self::group::{GroupEvent, Member};
pub use self::handler::{BatchFailures, Handler, HandlerOptions, HandlerStats, Retry};
pub use self::memory::Memory;
pub use self::partition::partition_for;
pub use self::pattern::Pattern;
pub use crate::codec::{Codec, CodecError, Raw, Utf8};
pub use crate::{MessageId, Properties, StoreError};

use self::group::Group;
use crate::loom::atomic::{AtomicU64, AtomicUsize, Ordering};
use crate::loom::{Mutex, lock};
use futures_core::Stream;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::ops::Deref;
use std::pin::{Pin, pin};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant, SystemTime};
use weft_primitives::spawner::Spawner;

/// How many events a topic keeps unless told otherwise.
pub const DEFAULT_RETENTION: usize = 1024;

// ANCHOR: batch
/// How many events a reader copies out of a log per lock.
const BATCH: usize = 64;
// ANCHOR_END: batch

/// An event's place in its topic: 0 for the first, then one more for each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Offset(u64);

impl Offset {
    /// The offset `n`.
    pub const fn new(n: u64) -> Offset {
        Offset(n)
    }

    /// Its number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Offset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

// ANCHOR: start-at
/// Where a new subscriber (or a new consumer group) starts reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartAt {
    /// The oldest event the topic retains: replay.
    Start,
    /// The next event published.
    Latest,
    /// This offset. One older than the retained window starts at the
    /// oldest retained event after a [`RecvError::Lagged`]; one not yet
    /// published is waited for.
    Offset(Offset),
    /// The first retained event stamped at or after this time (see
    /// [`Event::timestamp`]), in each partition; the next one published if
    /// none is yet.
    Time(SystemTime),
}

impl StartAt {
    /// The offset this start names in `log`, as of now.
    fn offset_in<T: 'static>(self, log: &dyn TopicLog<T>) -> Offset {
        match self {
            StartAt::Start => log.start(),
            StartAt::Latest => log.end(),
            StartAt::Offset(offset) => offset,
            StartAt::Time(time) => log.offset_at(time),
        }
    }
}
// ANCHOR_END: start-at

/// An event as a reader receives it: the topic, the offset and the payload
/// (which it dereferences to).
#[derive(Clone, PartialEq, Eq)]
pub struct Event<T> {
    topic: Arc<str>,
    partition: u32,
    offset: Offset,
    properties: Option<Arc<Properties>>,
    key: Option<Arc<str>>,
    timestamp: SystemTime,
    payload: T,
}

impl<T> Event<T> {
    /// The topic it was published on.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Its offset in its partition of that topic.
    pub fn offset(&self) -> Offset {
        self.offset
    }

    /// When it was published: the bus's clock when the bus handed it to
    /// the backend (the runtime's clock, paused in tests, for a bus built
    /// with a [`spawner`](Builder::spawner); the system's otherwise), or
    /// the time its publisher set with
    /// [`Properties::with_timestamp`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use weft::events::{EventBus, Properties, StartAt};
    ///
    /// let bus = EventBus::new();
    /// let mut sub = bus.subscribe("audit", StartAt::Latest).unwrap();
    /// let then = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    /// bus.try_publish_with("audit", "imported", Properties::new().with_timestamp(then)).unwrap();
    /// assert_eq!(sub.try_recv().unwrap().unwrap().timestamp(), then);
    /// ```
    pub fn timestamp(&self) -> SystemTime {
        self.timestamp
    }

    /// The partition of the topic it is in (0 in a topic of one).
    pub fn partition(&self) -> u32 {
        self.partition
    }

    /// The key it was published with, if any; see
    /// [`EventBus::publish_keyed`].
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// Its properties: the id it was published with (generated if the
    /// publisher gave none), the time the bus handed it to the backend, and
    /// its headers. `None` for an event published without properties
    /// ([`publish`](EventBus::publish) rather than
    /// [`publish_with`](EventBus::publish_with)), which carries none so
    /// that the plain path costs nothing more.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, Properties, StartAt};
    ///
    /// let bus = EventBus::new();
    /// let mut sub = bus.subscribe("order.paid", StartAt::Latest).unwrap();
    /// let properties = Properties::new().with_id("order-7").with_header("tenant", "acme");
    /// bus.try_publish_with("order.paid", 4200, properties).unwrap();
    /// bus.try_publish("order.paid", 99).unwrap();
    ///
    /// let event = sub.try_recv().unwrap().unwrap();
    /// let properties = event.properties().unwrap();
    /// assert_eq!(properties.id().as_str(), "order-7");
    /// assert_eq!(properties.header("tenant"), Some("acme"));
    /// assert!(properties.timestamp().is_some(), "stamped when published");
    /// assert!(sub.try_recv().unwrap().unwrap().properties().is_none());
    /// ```
    pub fn properties(&self) -> Option<&Properties> {
        self.properties.as_deref()
    }

    /// The payload.
    pub fn payload(&self) -> &T {
        &self.payload
    }

    /// Takes the payload.
    pub fn into_payload(self) -> T {
        self.payload
    }
}

impl<T> Deref for Event<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.payload
    }
}

impl<T: fmt::Debug> fmt::Debug for Event<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("topic", &self.topic)
            .field("partition", &self.partition)
            .field("offset", &self.offset.0)
            .field("key", &self.key)
            .field("timestamp", &self.timestamp)
            .field("properties", &self.properties)
            .field("payload", &self.payload)
            .finish()
    }
}

/// Configures an [`EventBus`]: `EventBus::builder()`.
#[derive(Debug, Clone)]
pub struct Builder {
    retention: Retention,
    spawner: Option<Spawner>,
}

impl Builder {
    /// How many events each topic keeps for replay and for slow readers
    /// (default [`DEFAULT_RETENTION`]; 0 is taken as 1).
    /// [`Topic::set_retention`] changes it for one topic.
    pub fn retention(&mut self, events: usize) -> &mut Self {
        self.retention.events = events.max(1);
        self
    }

    /// Keeps no event older (by timestamp) than `age` before the newest
    /// in its partition (default: no limit); see [`Retention`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use weft::events::{EventBus, Properties, RecvError, StartAt};
    ///
    /// let bus = EventBus::builder().max_age(Duration::from_secs(60)).build();
    /// let mut slow = bus.subscribe("audit", StartAt::Latest).unwrap();
    /// let at = |secs| Properties::new().with_timestamp(SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
    /// bus.try_publish_with("audit", 1, at(0)).unwrap();
    /// bus.try_publish_with("audit", 2, at(30)).unwrap();
    /// bus.try_publish_with("audit", 3, at(90)).unwrap(); // 1 is now 90 s old
    /// assert!(matches!(slow.try_recv(), Some(Err(RecvError::Lagged { skipped: 1, .. }))));
    /// assert_eq!(*slow.try_recv().unwrap().unwrap(), 2);
    /// ```
    pub fn max_age(&mut self, age: Duration) -> &mut Self {
        self.retention.max_age = Some(age);
        self
    }

    /// Keeps at most `bytes` bytes per partition, as the size function of
    /// [`build_sized`](Builder::build_sized) counts them (default: no
    /// limit); see [`Retention`].
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, Memory, RecvError, StartAt};
    ///
    /// let bus = EventBus::builder().max_bytes(10).build_sized(Memory::new(), |s: &String| s.len());
    /// let mut slow = bus.subscribe("log", StartAt::Latest).unwrap();
    /// for line in ["hello", "world", "again"] {
    ///     bus.try_publish("log", line.to_owned()).unwrap();
    /// }
    /// assert!(matches!(slow.try_recv(), Some(Err(RecvError::Lagged { skipped: 1, .. }))));
    /// assert_eq!(*slow.try_recv().unwrap().unwrap(), "world");
    /// ```
    pub fn max_bytes(&mut self, bytes: u64) -> &mut Self {
        self.retention.max_bytes = Some(bytes);
        self
    }

    /// The runtime handlers run on, whose clock times their retries and
    /// stamps events ([`Event::timestamp`]: the paused clock in tests);
    /// by default, handlers run on the one current when [`EventBus::on`]
    /// is called, and events are stamped by the system clock.
    pub fn spawner(&mut self, spawner: &Spawner) -> &mut Self {
        self.spawner = Some(spawner.clone());
        self
    }

    /// A bus keeping its events in memory ([`Memory`], which readers copy
    /// events out of without holding its lock, so `T` is `Sync`).
    pub fn build<T: Clone + Send + Sync + 'static>(&self) -> EventBus<T> {
        self.build_with(Memory::new())
    }

    /// A bus keeping its events in `backend`.
    pub fn build_with<T: Clone + Send + 'static>(&self, backend: impl Backend<T>) -> EventBus<T> {
        self.build_inner(backend, None)
    }

    /// A bus keeping its events in `backend`, counting each event's size
    /// with `size` (in bytes, as a codec would encode it) for
    /// [`max_bytes`](Builder::max_bytes). Without one, each event counts
    /// `size_of::<T>()`.
    pub fn build_sized<T: Clone + Send + 'static>(
        &self,
        backend: impl Backend<T>,
        size: impl Fn(&T) -> usize + Send + Sync + 'static,
    ) -> EventBus<T> {
        self.build_inner(backend, Some(Box::new(size)))
    }

    fn build_inner<T: Clone + Send + 'static>(
        &self,
        backend: impl Backend<T>,
        size: Option<SizeFn<T>>,
    ) -> EventBus<T> {
        let inner = Arc::new(Inner {
            size,
            backend: Arc::new(backend),
            registry: Mutex::new(Registry {
                topics: HashMap::new(),
                watchers: Vec::new(),
                closed: false,
            }),
            groups: Mutex::new(HashMap::new()),
            seq: AtomicU64::new(0),
            handles: AtomicUsize::new(1),
            retention: self.retention,
            spawner: self.spawner.clone(),
            clock: match &self.spawner {
                Some(spawner) => Clock::Runtime {
                    spawner: spawner.clone(),
                    since: spawner.now(),
                    at: SystemTime::now(),
                },
                None => Clock::System,
            },
        });
        EventBus { bus: BusRef(inner) }
    }
}

/// The event bus: topics, subscribers, consumer groups and handlers.
/// Cheap to clone; clones share the bus.
///
/// The bus closes when [`close`](EventBus::close) is called or the last
/// `EventBus` and [`Topic`] handle is dropped: publishing then fails, and
/// readers get what remains and then [`RecvError::Closed`].
///
/// See the [module docs](self).
pub struct EventBus<T: 'static> {
    bus: BusRef<T>,
}

/// A handle on one topic, for publishing without looking the topic up
/// each time. Counts as a handle that keeps the bus open.
pub struct Topic<T: 'static> {
    bus: BusRef<T>,
    name: Arc<str>,
    parts: Arc<Partitions<T>>,
}

/// A reader with its own cursor on every topic its pattern matches
/// (topics created later included). Made by [`EventBus::subscribe`] or
/// [`Topic::subscribe`].
///
/// Events of one topic arrive in offset order; events of different topics
/// in the order they were published, as far as the reader can see it (on
/// one bus: a bus rebuilt on stored topics numbers its publications afresh,
/// so across topics its events and the stored ones may interleave).
/// Also a [`Stream`] of `Result<Event<T>, RecvError>` that ends when the
/// bus closes.
pub struct Subscriber<T: 'static> {
    cursors: Vec<Cursor<T>>,
    /// For a pattern: where topics created after subscribing arrive.
    watch: Option<Arc<Watch<T>>>,
}

/// A counted reference to the bus: the last one dropped closes it.
struct BusRef<T: 'static>(Arc<Inner<T>>);

struct Inner<T: 'static> {
    backend: Arc<dyn Backend<T>>,
    registry: Mutex<Registry<T>>,
    groups: Mutex<Groups<T>>,
    /// Bus-wide publication order.
    seq: AtomicU64,
    /// `EventBus` and `Topic` handles alive.
    handles: AtomicUsize,
    retention: Retention,
    spawner: Option<Spawner>,
    clock: Clock,
    /// Counts an event's bytes; `size_of::<T>()` if `None`.
    size: Option<SizeFn<T>>,
}

type SizeFn<T> = Box<dyn Fn(&T) -> usize + Send + Sync>;

// ANCHOR: clock
/// What stamps events.
enum Clock {
    /// The system clock.
    System,
    /// A runtime's clock (paused in tests), counted from the system time
    /// `at`, read when the runtime's clock read `since`.
    Runtime {
        spawner: Spawner,
        since: Instant,
        at: SystemTime,
    },
}

impl Clock {
    fn now(&self) -> SystemTime {
        match self {
            Clock::System => SystemTime::now(),
            Clock::Runtime { spawner, since, at } => *at + spawner.now().saturating_duration_since(*since),
        }
    }
}
// ANCHOR_END: clock

struct Registry<T: 'static> {
    topics: HashMap<Arc<str>, Arc<Partitions<T>>>,
    /// Pattern subscribers, told of each topic created after they were.
    watchers: Vec<Weak<Watch<T>>>,
    closed: bool,
}

type NamedLog<T> = (Arc<str>, Arc<Partitions<T>>);

// ANCHOR: partitions
/// A topic's partitions: one log each, and the turn for events without a
/// key.
pub(crate) struct Partitions<T: 'static> {
    logs: Box<[Arc<dyn TopicLog<T>>]>,
    /// The partition the next keyless event goes to, in a topic of more
    /// than one (never touched in a topic of one).
    turn: AtomicUsize,
}

impl<T: 'static> Partitions<T> {
    fn new(logs: Vec<Arc<dyn TopicLog<T>>>) -> Partitions<T> {
        Partitions {
            logs: logs.into_boxed_slice(),
            turn: AtomicUsize::new(0),
        }
    }

    /// The log an event with `key` goes to: the key's partition, else the
    /// next in turn. A topic of one partition does no work to choose.
    fn pick(&self, key: Option<&str>) -> &dyn TopicLog<T> {
        let n = self.logs.len();
        if n == 1 {
            return &*self.logs[0];
        }
        let at = match key {
            Some(key) => partition_for(key, n as u32) as usize,
            None => self.turn.fetch_add(1, Ordering::Relaxed) % n,
        };
        &*self.logs[at]
    }

    /// How many partitions.
    fn count(&self) -> u32 {
        self.logs.len() as u32
    }
}
// ANCHOR_END: partitions

/// By (group, topic, partition).
type Groups<T> = HashMap<(String, Arc<str>, u32), Arc<Group<T>>>;

struct Watch<T: 'static> {
    pattern: Pattern,
    state: Mutex<WatchState<T>>,
}

struct WatchState<T: 'static> {
    new: Vec<NamedLog<T>>,
    waker: Option<Waker>,
    closed: bool,
}

// ANCHOR: cursor
struct Cursor<T: 'static> {
    /// This reader's own copy, so handing it out touches no shared count.
    name: Arc<str>,
    partition: u32,
    log: Arc<dyn TopicLog<T>>,
    /// Who waits on the log: this cursor.
    reader: ReaderId,
    next: Offset,
    buf: VecDeque<Record<T>>,
    /// Skipped events not yet reported.
    skipped: u64,
    /// Closed and read to the end.
    done: bool,
}
// ANCHOR_END: cursor

impl EventBus<()> {
    /// A [`Builder`] for a bus.
    pub fn builder() -> Builder {
        Builder {
            retention: Retention::default(),
            spawner: None,
        }
    }
}

impl<T: Clone + Send + 'static> EventBus<T> {
    /// A bus in memory, each topic keeping [`DEFAULT_RETENTION`] events.
    ///
    /// Unlike tokio's `broadcast`, which asks only `T: Send`, the in-memory
    /// bus asks `T: Sync` too: its readers clone events without holding
    /// the log's lock.
    pub fn new() -> EventBus<T>
    where
        T: Sync,
    {
        EventBus::builder().build()
    }

    /// The topic `name`, created if new.
    ///
    /// # Errors
    ///
    /// [`EventsError::InvalidName`] if `name` is not a topic name (see
    /// [`Pattern`]); [`EventsError::Backend`] if the backend fails, or
    /// (of kind [`WouldBlock`](io::ErrorKind::WouldBlock)) cannot open a
    /// new topic at once: [`topic_async`](EventBus::topic_async) waits
    /// instead. The in-memory backend always can.
    pub fn topic(&self, name: &str) -> Result<Topic<T>, EventsError> {
        self.create_topic(name, TopicOptions::default())
    }

    /// The topic `name`, created if new, once the backend has opened it:
    /// as [`topic`](EventBus::topic), waiting for a backend that cannot
    /// open it at once (a broker's round trip).
    ///
    /// # Errors
    ///
    /// As [`topic`](EventBus::topic), never of kind `WouldBlock`.
    ///
    /// # Cancel safety
    ///
    /// Dropped before it completes, no handle is made; a topic the
    /// backend went on to make is there for the next call.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::EventBus;
    ///
    /// weft::block_on(async {
    ///     let bus = EventBus::new();
    ///     let orders = bus.topic_async("order.placed").await.unwrap();
    ///     orders.publish("order #1").await.unwrap();
    ///     assert_eq!(orders.end().get(), 1);
    /// });
    /// ```
    pub async fn topic_async(&self, name: &str) -> Result<Topic<T>, EventsError> {
        self.create_topic_async(name, TopicOptions::default()).await
    }

    /// The topic `name`, made with `options` if new, once the backend has
    /// opened it: as [`create_topic`](EventBus::create_topic), waiting for
    /// a backend that cannot open it at once.
    ///
    /// # Errors
    ///
    /// As [`create_topic`](EventBus::create_topic), never of kind
    /// `WouldBlock`.
    ///
    /// # Cancel safety
    ///
    /// As [`topic_async`](EventBus::topic_async).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, TopicOptions};
    ///
    /// weft::block_on(async {
    ///     let bus = EventBus::<u32>::new();
    ///     let options = TopicOptions { partitions: 4, ..TopicOptions::default() };
    ///     let carts = bus.create_topic_async("cart.updated", options).await.unwrap();
    ///     assert_eq!(carts.partitions(), 4);
    /// });
    /// ```
    pub async fn create_topic_async(
        &self,
        name: &str,
        options: TopicOptions,
    ) -> Result<Topic<T>, EventsError> {
        let (name, parts) = poll_fn(|cx| self.bus.0.poll_log(cx, name, &options)).await?;
        Ok(Topic {
            bus: self.bus.clone(),
            name,
            parts,
        })
    }

    /// The topic `name`, made with `options` if new: its partition count
    /// is fixed then. A topic that exists (made earlier, or stored by the
    /// backend) is returned as it is, keeping its own count: check
    /// [`Topic::partitions`]. [`topic`](EventBus::topic) and publishing
    /// to a new name make a topic of one partition.
    ///
    /// # Errors
    ///
    /// [`EventsError::InvalidName`] if `name` is not a topic name (see
    /// [`Pattern`]); [`EventsError::Backend`] if the backend fails, or
    /// cannot open a new topic at once (see [`topic`](EventBus::topic);
    /// [`create_topic_async`](EventBus::create_topic_async) waits).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, StartAt, TopicOptions};
    ///
    /// let bus = EventBus::new();
    /// let options = TopicOptions { partitions: 4, ..TopicOptions::default() };
    /// let carts = bus.create_topic("cart.updated", options).unwrap();
    /// let mut all = carts.subscribe(StartAt::Start);
    /// carts.try_publish_keyed("cart-1", "apple").unwrap();
    /// carts.try_publish_keyed("cart-1", "pear").unwrap();
    ///
    /// let first = all.try_recv().unwrap().unwrap();
    /// let second = all.try_recv().unwrap().unwrap();
    /// assert_eq!((*first, *second), ("apple", "pear"), "one key, one partition, in order");
    /// assert_eq!(first.partition(), carts.partition_for("cart-1"));
    /// assert_eq!(first.key(), Some("cart-1"));
    /// ```
    pub fn create_topic(&self, name: &str, options: TopicOptions) -> Result<Topic<T>, EventsError> {
        let (name, parts) = self.bus.0.log_with(name, &options)?;
        Ok(Topic {
            bus: self.bus.clone(),
            name,
            parts,
        })
    }

    /// Publishes `event` on `topic` and returns its offset, once the
    /// backend has stored it. With the in-memory backend this never waits;
    /// a durable or broker backend may (a confirmed append is a round
    /// trip). [`try_publish`](EventBus::try_publish) does not wait.
    ///
    /// # Errors
    ///
    /// [`PublishError::Closed`] once the bus is closed,
    /// [`PublishError::InvalidTopic`] for a bad name, both with the event;
    /// [`PublishError::Store`] if the backend fails.
    ///
    /// # Cancel safety
    ///
    /// Dropped before the backend took the event, nothing is stored (and
    /// the event is dropped). Dropped while a backend confirms the append,
    /// the event may or may not be stored, as with a broker's publish whose
    /// confirmation never arrives.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, Offset, StartAt};
    ///
    /// weft::block_on(async {
    ///     let bus = EventBus::new();
    ///     let mut audit = bus.subscribe("audit", StartAt::Latest).unwrap();
    ///     assert_eq!(bus.publish("audit", "logged in").await.unwrap(), Offset::new(0));
    ///     assert_eq!(*audit.recv().await.unwrap(), "logged in");
    /// });
    /// ```
    pub async fn publish(&self, topic: &str, event: T) -> Result<Offset, PublishError<T>> {
        self.publish_inner(topic, event, None).await
    }

    /// Publishes `event` on `topic` with `properties` (an id, headers),
    /// stamped with the time the bus hands it to the backend unless it is
    /// stamped already; readers find them in [`Event::properties`].
    /// Otherwise as [`publish`](EventBus::publish).
    ///
    /// # Errors
    ///
    /// As [`publish`](EventBus::publish).
    ///
    /// # Cancel safety
    ///
    /// As [`publish`](EventBus::publish).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, Properties, StartAt};
    ///
    /// weft::block_on(async {
    ///     let bus = EventBus::new();
    ///     let mut audit = bus.subscribe("audit", StartAt::Latest).unwrap();
    ///     let properties = Properties::new().with_header("user", "ada");
    ///     bus.publish_with("audit", "logged in", properties).await.unwrap();
    ///     let event = audit.recv().await.unwrap();
    ///     assert_eq!(event.properties().unwrap().header("user"), Some("ada"));
    /// });
    /// ```
    pub async fn publish_with(
        &self,
        topic: &str,
        event: T,
        properties: Properties,
    ) -> Result<Offset, PublishError<T>> {
        self.publish_inner(topic, event, Some(properties)).await
    }

    async fn publish_inner(
        &self,
        topic: &str,
        event: T,
        properties: Option<Properties>,
    ) -> Result<Offset, PublishError<T>> {
        let options = TopicOptions::default();
        let parts = match poll_fn(|cx| self.bus.0.poll_log(cx, topic, &options)).await {
            Ok((_, parts)) => parts,
            Err(e) => return Err(e.with_event(event)),
        };
        let append = self.bus.0.prepare(event, properties);
        self.bus.0.append(parts.pick(None), append).await
    }

    /// Publishes `event` on `topic` with `key`, once the backend has
    /// stored it, and returns its offset in the key's partition
    /// ([`partition_for`]). Events of one key all go to one partition, so
    /// every reader sees them in the order they were published; in a
    /// group, one member at a time handles them. Otherwise as
    /// [`publish`](EventBus::publish).
    ///
    /// # Errors
    ///
    /// As [`publish`](EventBus::publish).
    ///
    /// # Cancel safety
    ///
    /// As [`publish`](EventBus::publish).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, StartAt};
    ///
    /// weft::block_on(async {
    ///     let bus = EventBus::new();
    ///     let mut audit = bus.subscribe("audit", StartAt::Latest).unwrap();
    ///     bus.publish_keyed("audit", "ada", "logged in").await.unwrap();
    ///     let event = audit.recv().await.unwrap();
    ///     assert_eq!((event.key(), *event), (Some("ada"), "logged in"));
    /// });
    /// ```
    pub async fn publish_keyed(&self, topic: &str, key: &str, event: T) -> Result<Offset, PublishError<T>> {
        self.publish_keyed_inner(topic, key, event, None).await
    }

    /// Publishes `event` on `topic` with `key` and `properties`, once the
    /// backend has stored it: to the key's partition, as
    /// [`publish_keyed`](EventBus::publish_keyed), carrying the properties
    /// as [`publish_with`](EventBus::publish_with).
    ///
    /// # Errors
    ///
    /// As [`publish`](EventBus::publish).
    ///
    /// # Cancel safety
    ///
    /// As [`publish`](EventBus::publish).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, Properties, StartAt};
    ///
    /// weft::block_on(async {
    ///     let bus = EventBus::new();
    ///     let mut audit = bus.subscribe("audit", StartAt::Latest).unwrap();
    ///     let properties = Properties::new().with_header("ip", "10.0.0.7");
    ///     bus.publish_keyed_with("audit", "ada", "logged in", properties).await.unwrap();
    ///     let event = audit.recv().await.unwrap();
    ///     assert_eq!(event.key(), Some("ada"));
    ///     assert_eq!(event.properties().unwrap().header("ip"), Some("10.0.0.7"));
    /// });
    /// ```
    pub async fn publish_keyed_with(
        &self,
        topic: &str,
        key: &str,
        event: T,
        properties: Properties,
    ) -> Result<Offset, PublishError<T>> {
        self.publish_keyed_inner(topic, key, event, Some(properties))
            .await
    }

    async fn publish_keyed_inner(
        &self,
        topic: &str,
        key: &str,
        event: T,
        properties: Option<Properties>,
    ) -> Result<Offset, PublishError<T>> {
        let options = TopicOptions::default();
        let parts = match poll_fn(|cx| self.bus.0.poll_log(cx, topic, &options)).await {
            Ok((_, parts)) => parts,
            Err(e) => return Err(e.with_event(event)),
        };
        // The key is hashed and the event built before the log is asked.
        let log = parts.pick(Some(key));
        let append = self.bus.0.prepare(event, properties).with_key(Arc::from(key));
        self.bus.0.append(log, append).await
    }

    /// Publishes `event` on `topic` with `key` and `properties` if the
    /// backend can store it at once; see
    /// [`publish_keyed_with`](EventBus::publish_keyed_with) and
    /// [`try_publish`](EventBus::try_publish).
    ///
    /// # Errors
    ///
    /// As [`try_publish`](EventBus::try_publish).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, Properties, StartAt};
    ///
    /// let bus = EventBus::new();
    /// let mut audit = bus.subscribe("audit", StartAt::Latest).unwrap();
    /// let properties = Properties::new().with_id("login-1");
    /// bus.try_publish_keyed_with("audit", "ada", "logged in", properties).unwrap();
    /// let event = audit.try_recv().unwrap().unwrap();
    /// assert_eq!((event.key(), event.properties().unwrap().id().as_str()), (Some("ada"), "login-1"));
    /// ```
    pub fn try_publish_keyed_with(
        &self,
        topic: &str,
        key: &str,
        event: T,
        properties: Properties,
    ) -> Result<Offset, PublishError<T>> {
        let parts = match self.bus.0.log(topic) {
            Ok((_, parts)) => parts,
            Err(e) => return Err(e.with_event(event)),
        };
        let append = self
            .bus
            .0
            .prepare(event, Some(properties))
            .with_key(Arc::from(key));
        self.bus.0.try_append(parts.pick(Some(key)), append)
    }

    /// Publishes `event` on `topic` with `key` if the backend can store it
    /// at once; see [`publish_keyed`](EventBus::publish_keyed) and
    /// [`try_publish`](EventBus::try_publish).
    ///
    /// # Errors
    ///
    /// As [`try_publish`](EventBus::try_publish).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, StartAt};
    ///
    /// let bus = EventBus::new();
    /// let mut audit = bus.subscribe("audit", StartAt::Latest).unwrap();
    /// bus.try_publish_keyed("audit", "ada", "logged in").unwrap();
    /// assert_eq!(audit.try_recv().unwrap().unwrap().key(), Some("ada"));
    /// ```
    pub fn try_publish_keyed(&self, topic: &str, key: &str, event: T) -> Result<Offset, PublishError<T>> {
        let parts = match self.bus.0.log(topic) {
            Ok((_, parts)) => parts,
            Err(e) => return Err(e.with_event(event)),
        };
        let append = self.bus.0.prepare(event, None).with_key(Arc::from(key));
        self.bus.0.try_append(parts.pick(Some(key)), append)
    }

    /// Publishes `event` on `topic` if the backend can store it at once,
    /// and returns its offset. The in-memory backend always can: this is
    /// the form for code that cannot wait, and it costs no more than
    /// `publish`.
    ///
    /// # Errors
    ///
    /// As [`publish`](EventBus::publish), and [`PublishError::WouldBlock`]
    /// (with the event, nothing stored) if the backend cannot take it at
    /// once, or [`PublishError::Store`] with
    /// [`StoreError::Unknown`] if it took the event but did not confirm it
    /// at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, Offset, StartAt};
    ///
    /// let bus = EventBus::new();
    /// let mut audit = bus.subscribe("audit", StartAt::Latest).unwrap();
    /// assert_eq!(bus.try_publish("audit", "logged in").unwrap(), Offset::new(0));
    /// assert_eq!(*audit.try_recv().unwrap().unwrap(), "logged in");
    /// ```
    pub fn try_publish(&self, topic: &str, event: T) -> Result<Offset, PublishError<T>> {
        self.try_publish_inner(topic, event, None)
    }

    /// Publishes `event` on `topic` with `properties` if the backend can
    /// store it at once; see [`publish_with`](EventBus::publish_with) and
    /// [`try_publish`](EventBus::try_publish).
    ///
    /// # Errors
    ///
    /// As [`try_publish`](EventBus::try_publish).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, Properties, StartAt};
    ///
    /// let bus = EventBus::new();
    /// let mut audit = bus.subscribe("audit", StartAt::Latest).unwrap();
    /// bus.try_publish_with("audit", "logged in", Properties::new().with_id("login-1")).unwrap();
    /// let event = audit.try_recv().unwrap().unwrap();
    /// assert_eq!(event.properties().unwrap().id().as_str(), "login-1");
    /// ```
    pub fn try_publish_with(
        &self,
        topic: &str,
        event: T,
        properties: Properties,
    ) -> Result<Offset, PublishError<T>> {
        self.try_publish_inner(topic, event, Some(properties))
    }

    fn try_publish_inner(
        &self,
        topic: &str,
        event: T,
        properties: Option<Properties>,
    ) -> Result<Offset, PublishError<T>> {
        let parts = match self.bus.0.log(topic) {
            Ok((_, parts)) => parts,
            Err(e) => return Err(e.with_event(event)),
        };
        self.bus
            .0
            .try_append(parts.pick(None), self.bus.0.prepare(event, properties))
    }

    /// A subscriber to every topic `pattern` matches, starting `from`.
    ///
    /// # Errors
    ///
    /// [`EventsError::InvalidName`] for a bad pattern;
    /// [`EventsError::Backend`] if the backend fails.
    ///
    /// A backend that cannot open a topic at once (a broker's round trip)
    /// makes this fail with [`EventsError::Backend`] of kind
    /// [`WouldBlock`](io::ErrorKind::WouldBlock);
    /// [`subscribe_async`](EventBus::subscribe_async) waits instead. The
    /// in-memory backend always can.
    pub fn subscribe(&self, pattern: &str, from: StartAt) -> Result<Subscriber<T>, EventsError> {
        self.bus.0.subscribe(pattern, from)
    }

    /// A subscriber to every topic `pattern` matches, starting `from`,
    /// once the backend has opened the topics: as
    /// [`subscribe`](EventBus::subscribe), waiting for a backend that
    /// cannot open a topic at once.
    ///
    /// # Errors
    ///
    /// As [`subscribe`](EventBus::subscribe), never of kind `WouldBlock`.
    ///
    /// # Cancel safety
    ///
    /// Dropped before it completes, no subscriber is made; the topics
    /// opened so far stay open.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, StartAt};
    ///
    /// weft::block_on(async {
    ///     let bus = EventBus::new();
    ///     let mut audit = bus.subscribe_async("audit", StartAt::Latest).await.unwrap();
    ///     bus.publish("audit", "logged in").await.unwrap();
    ///     assert_eq!(*audit.recv().await.unwrap(), "logged in");
    /// });
    /// ```
    pub async fn subscribe_async(&self, pattern: &str, from: StartAt) -> Result<Subscriber<T>, EventsError> {
        let pattern = Pattern::parse(pattern)?;
        poll_fn(|cx| self.bus.0.poll_subscribe(cx, &pattern, from)).await
    }

    /// A new member of consumer group `group` on `topic`. The group is
    /// made on first use, starting at its committed offset if the backend
    /// has one, else `from`; later members ignore `from` and share the
    /// group's position.
    ///
    /// # Errors
    ///
    /// [`EventsError::InvalidName`] for a bad name,
    /// [`EventsError::GroupNeedsTopic`] for a pattern,
    /// [`EventsError::Backend`] if the backend fails (if it failed to store
    /// a new group's start, the group is made all the same, and the next
    /// member to join stores it), or (of kind
    /// [`WouldBlock`](io::ErrorKind::WouldBlock)) cannot open the topic or
    /// read or store the group's offsets at once:
    /// [`join_async`](EventBus::join_async) waits instead. The in-memory
    /// backend always can.
    pub fn join(&self, group: &str, topic: &str, from: StartAt) -> Result<Member<T>, EventsError> {
        group::join(&self.bus.0, group, topic, from, false)
    }

    /// A new member of consumer group `group` on `topic`, once the backend
    /// has opened the topic and read (or, for a new group, stored) the
    /// group's offsets: as [`join`](EventBus::join), waiting for a backend
    /// that cannot answer at once.
    ///
    /// # Errors
    ///
    /// As [`join`](EventBus::join), never of kind `WouldBlock`.
    ///
    /// # Cancel safety
    ///
    /// Dropped before it completes, no member joins. A new group's state
    /// may have been made already; its start is then not stored, and the
    /// group starts where the next joiner's `from` says after a restart.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, StartAt};
    ///
    /// weft::block_on(async {
    ///     let bus = EventBus::new();
    ///     let mut member = bus.join_async("billing", "order.paid", StartAt::Start).await.unwrap();
    ///     bus.publish("order.paid", 42).await.unwrap();
    ///     member.recv().await.unwrap().ack_async().await.unwrap();
    /// });
    /// ```
    pub async fn join_async(
        &self,
        group: &str,
        topic: &str,
        from: StartAt,
    ) -> Result<Member<T>, EventsError> {
        group::join_async(&self.bus.0, group, topic, from, false).await
    }

    /// A new member of an assigned consumer group, once the backend has
    /// answered: as [`join_assigned`](EventBus::join_assigned), waiting as
    /// [`join_async`](EventBus::join_async) does.
    ///
    /// # Errors
    ///
    /// As [`join_assigned`](EventBus::join_assigned), never of kind
    /// `WouldBlock`.
    ///
    /// # Cancel safety
    ///
    /// As [`join_async`](EventBus::join_async).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, StartAt, TopicOptions};
    ///
    /// weft::block_on(async {
    ///     let bus = EventBus::<u32>::new();
    ///     let options = TopicOptions { partitions: 2, ..TopicOptions::default() };
    ///     bus.create_topic_async("job.queued", options).await.unwrap();
    ///     let member = bus.join_assigned_async("workers", "job.queued", StartAt::Start).await.unwrap();
    ///     assert_eq!(member.assignment(), [0, 1]);
    /// });
    /// ```
    pub async fn join_assigned_async(
        &self,
        group: &str,
        topic: &str,
        from: StartAt,
    ) -> Result<Member<T>, EventsError> {
        group::join_async(&self.bus.0, group, topic, from, true).await
    }

    /// A new member of consumer group `group` on `topic`, in a group that
    /// assigns partitions, as a Kafka consumer group does: each partition
    /// belongs to exactly one member at a time (round robin over the
    /// members in the order they joined), so the events of one key are
    /// handled in order, by one member at a time. A member that joins or
    /// leaves moves partitions: a member losing one lets go of it at its
    /// next [`recv`](Member::recv) (which returns
    /// [`RecvError::Rebalanced`] once), having had the chance to ack what
    /// it handled; the partition's new owner starts at the group's
    /// committed offset, so an event handed out but not acked is handed
    /// out again (at least once). A member dropped lets go of its
    /// partitions at once. Otherwise as [`join`](EventBus::join), whose
    /// members share every partition; one group name is one kind or the
    /// other while it has members.
    ///
    /// # Errors
    ///
    /// As [`join`](EventBus::join), and [`EventsError::GroupKind`] if the
    /// group has members that joined with `join`.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, RecvError, StartAt, TopicOptions};
    ///
    /// let bus = EventBus::new();
    /// let options = TopicOptions { partitions: 2, ..TopicOptions::default() };
    /// let jobs = bus.create_topic("job.queued", options).unwrap();
    /// let mut a = bus.join_assigned("workers", "job.queued", StartAt::Start).unwrap();
    /// assert_eq!(a.assignment(), [0, 1]);
    ///
    /// let mut b = bus.join_assigned("workers", "job.queued", StartAt::Start).unwrap();
    /// // `a` is told at its next call, and lets partition 1 go to `b`.
    /// match a.try_recv() {
    ///     Some(Err(RecvError::Rebalanced { partitions, .. })) => assert_eq!(partitions, [0]),
    ///     other => panic!("expected a rebalance, got {other:?}"),
    /// }
    /// jobs.try_publish_to(1, "rebuild").unwrap();
    /// assert_eq!(*b.try_recv().unwrap().unwrap(), "rebuild");
    /// assert!(a.try_recv().is_none());
    /// ```
    pub fn join_assigned(&self, group: &str, topic: &str, from: StartAt) -> Result<Member<T>, EventsError> {
        group::join(&self.bus.0, group, topic, from, true)
    }

    /// The offset `group` has committed on `topic`: every event before it
    /// was acked.
    ///
    /// # Errors
    ///
    /// [`EventsError::Backend`] if the backend fails, or (of kind
    /// [`WouldBlock`](io::ErrorKind::WouldBlock)) cannot answer at once:
    /// [`committed_async`](EventBus::committed_async) waits instead. The
    /// in-memory backend always can.
    pub fn committed(&self, group: &str, topic: &str) -> Result<Option<Offset>, EventsError> {
        self.committed_in(group, topic, 0)
    }

    /// The offset `group` has committed on `topic`'s partition `partition`.
    ///
    /// # Errors
    ///
    /// [`EventsError::Backend`] if the backend fails, or cannot answer at
    /// once (see [`committed`](EventBus::committed);
    /// [`committed_in_async`](EventBus::committed_in_async) waits).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, Offset, StartAt};
    ///
    /// let bus = EventBus::<u32>::new();
    /// let _member = bus.join("billing", "order.paid", StartAt::Start).unwrap();
    /// assert_eq!(bus.committed_in("billing", "order.paid", 0).unwrap(), Some(Offset::new(0)));
    /// ```
    pub fn committed_in(
        &self,
        group: &str,
        topic: &str,
        partition: u32,
    ) -> Result<Option<Offset>, EventsError> {
        let backend = &self.bus.0.backend;
        Ok(at_once(|cx| backend.poll_committed(cx, group, topic, partition))?)
    }

    /// The offset `group` has committed on `topic`, once the backend has
    /// answered: as [`committed`](EventBus::committed), waiting for a
    /// backend that cannot answer at once.
    ///
    /// # Errors
    ///
    /// [`EventsError::Backend`] if the backend fails.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: it only reads.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, Offset, StartAt};
    ///
    /// weft::block_on(async {
    ///     let bus = EventBus::<u32>::new();
    ///     let _member = bus.join_async("billing", "order.paid", StartAt::Start).await.unwrap();
    ///     assert_eq!(bus.committed_async("billing", "order.paid").await.unwrap(), Some(Offset::new(0)));
    /// });
    /// ```
    pub async fn committed_async(&self, group: &str, topic: &str) -> Result<Option<Offset>, EventsError> {
        self.committed_in_async(group, topic, 0).await
    }

    /// The offset `group` has committed on `topic`'s partition
    /// `partition`, once the backend has answered; see
    /// [`committed_async`](EventBus::committed_async).
    ///
    /// # Errors
    ///
    /// [`EventsError::Backend`] if the backend fails.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: it only reads.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::EventBus;
    ///
    /// weft::block_on(async {
    ///     let bus = EventBus::<u32>::new();
    ///     assert_eq!(bus.committed_in_async("billing", "order.paid", 3).await.unwrap(), None);
    /// });
    /// ```
    pub async fn committed_in_async(
        &self,
        group: &str,
        topic: &str,
        partition: u32,
    ) -> Result<Option<Offset>, EventsError> {
        let backend = &self.bus.0.backend;
        Ok(poll_fn(|cx| backend.poll_committed(cx, group, topic, partition)).await?)
    }

    // ANCHOR: reset-group
    /// Moves `group`'s committed offset on every partition of `topic` to
    /// where `to` says (the oldest retained event, the end, an offset, the
    /// first event at or after a time), as Kafka's
    /// `kafka-consumer-groups --reset-offsets` does: the members that join
    /// next start there. Only while the group has no members on the topic.
    ///
    /// # Errors
    ///
    /// [`EventsError::GroupActive`] while the group has members;
    /// [`EventsError::InvalidName`] for a bad name or
    /// [`EventsError::GroupNeedsTopic`] for a pattern;
    /// [`EventsError::Backend`] if the backend fails (partitions before
    /// the failing one are reset already), or (of kind
    /// [`WouldBlock`](io::ErrorKind::WouldBlock)) cannot answer at once:
    /// [`reset_group_async`](EventBus::reset_group_async) waits instead.
    /// The in-memory backend always can.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, EventsError, Offset, StartAt};
    ///
    /// let bus = EventBus::new();
    /// for n in 0..5 {
    ///     bus.try_publish("order.paid", n).unwrap();
    /// }
    /// let member = bus.join("billing", "order.paid", StartAt::Latest).unwrap();
    /// assert!(matches!(
    ///     bus.reset_group("billing", "order.paid", StartAt::Start),
    ///     Err(EventsError::GroupActive(_))
    /// ));
    /// drop(member);
    /// bus.reset_group("billing", "order.paid", StartAt::Offset(Offset::new(3))).unwrap();
    /// let mut member = bus.join("billing", "order.paid", StartAt::Latest).unwrap();
    /// assert_eq!(*member.try_recv().unwrap().unwrap(), 3);
    /// ```
    pub fn reset_group(&self, group: &str, topic: &str, to: StartAt) -> Result<(), EventsError> {
        self.reset_group_in(group, topic, None, to)
    }
    // ANCHOR_END: reset-group

    /// Moves `group`'s committed offset on partition `partition` of
    /// `topic` only, leaving the others where they are; otherwise as
    /// [`reset_group`](EventBus::reset_group). Offsets count per
    /// partition, so this is how a group of a topic of several goes to an
    /// offset in one of them.
    ///
    /// # Errors
    ///
    /// As [`reset_group`](EventBus::reset_group), and
    /// [`EventsError::NoPartition`] if the topic has no partition
    /// `partition`; [`reset_group_partition_async`](EventBus::reset_group_partition_async)
    /// waits for a backend that cannot answer at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, Offset, StartAt, TopicOptions};
    ///
    /// let bus = EventBus::new();
    /// let options = TopicOptions { partitions: 2, ..TopicOptions::default() };
    /// let jobs = bus.create_topic("job.queued", options).unwrap();
    /// for n in 0..3 {
    ///     jobs.try_publish_to(1, n).unwrap();
    /// }
    /// bus.reset_group_partition("workers", "job.queued", 1, StartAt::Offset(Offset::new(2))).unwrap();
    /// assert_eq!(bus.committed_in("workers", "job.queued", 1).unwrap(), Some(Offset::new(2)));
    /// let mut member = bus.join("workers", "job.queued", StartAt::Latest).unwrap();
    /// assert_eq!(*member.try_recv().unwrap().unwrap(), 2);
    /// ```
    pub fn reset_group_partition(
        &self,
        group: &str,
        topic: &str,
        partition: u32,
        to: StartAt,
    ) -> Result<(), EventsError> {
        self.reset_group_in(group, topic, Some(partition), to)
    }

    /// Resets `group` on `partition`, or on every partition.
    fn reset_group_in(
        &self,
        group: &str,
        topic: &str,
        partition: Option<u32>,
        to: StartAt,
    ) -> Result<(), EventsError> {
        now_or_would_block(self.reset_group_in_async(group, topic, partition, to))
    }

    /// Moves `group`'s committed offsets on every partition of `topic`,
    /// once the backend has stored them: as
    /// [`reset_group`](EventBus::reset_group), waiting for a backend that
    /// cannot store them at once.
    ///
    /// # Errors
    ///
    /// As [`reset_group`](EventBus::reset_group), never of kind
    /// `WouldBlock`.
    ///
    /// # Cancel safety
    ///
    /// Dropped before it completes, the partitions reset so far stay
    /// reset; one whose store was under way may or may not be.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, Offset, StartAt};
    ///
    /// weft::block_on(async {
    ///     let bus = EventBus::new();
    ///     for n in 0..5 {
    ///         bus.publish("order.paid", n).await.unwrap();
    ///     }
    ///     bus.reset_group_async("billing", "order.paid", StartAt::Offset(Offset::new(3))).await.unwrap();
    ///     let mut member = bus.join_async("billing", "order.paid", StartAt::Start).await.unwrap();
    ///     assert_eq!(*member.recv().await.unwrap(), 3);
    /// });
    /// ```
    pub async fn reset_group_async(&self, group: &str, topic: &str, to: StartAt) -> Result<(), EventsError> {
        self.reset_group_in_async(group, topic, None, to).await
    }

    /// Moves `group`'s committed offset on partition `partition` of
    /// `topic` only, once the backend has stored it: as
    /// [`reset_group_partition`](EventBus::reset_group_partition), waiting
    /// as [`reset_group_async`](EventBus::reset_group_async) does.
    ///
    /// # Errors
    ///
    /// As [`reset_group_partition`](EventBus::reset_group_partition), never
    /// of kind `WouldBlock`.
    ///
    /// # Cancel safety
    ///
    /// As [`reset_group_async`](EventBus::reset_group_async).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, Offset, StartAt};
    ///
    /// weft::block_on(async {
    ///     let bus = EventBus::<u32>::new();
    ///     bus.reset_group_partition_async("billing", "order.paid", 0, StartAt::Latest).await.unwrap();
    ///     assert_eq!(bus.committed_async("billing", "order.paid").await.unwrap(), Some(Offset::new(0)));
    /// });
    /// ```
    pub async fn reset_group_partition_async(
        &self,
        group: &str,
        topic: &str,
        partition: u32,
        to: StartAt,
    ) -> Result<(), EventsError> {
        self.reset_group_in_async(group, topic, Some(partition), to).await
    }

    /// Resets `group` on `partition`, or on every partition.
    async fn reset_group_in_async(
        &self,
        group: &str,
        topic: &str,
        partition: Option<u32>,
        to: StartAt,
    ) -> Result<(), EventsError> {
        // Made if new (with a throwaway member), so that every partition
        // has its state to reset.
        match group::join_async(&self.bus.0, group, topic, to, false).await {
            Ok(member) => drop(member),
            // Members of an assigned group.
            Err(EventsError::GroupKind(group)) => return Err(EventsError::GroupActive(group)),
            Err(e) => return Err(e),
        }
        let options = TopicOptions::default();
        let (name, parts) = poll_fn(|cx| self.bus.0.poll_log(cx, topic, &options)).await?;
        if let Some(partition) = partition.filter(|&p| p >= parts.count()) {
            return Err(EventsError::NoPartition {
                topic: name,
                partition,
            });
        }
        let states: Vec<_> = {
            let groups = lock(&self.bus.0.groups);
            (0..parts.count())
                .filter_map(|p| groups.get(&(group.to_owned(), name.clone(), p)).cloned())
                .collect()
        };
        if states.iter().any(|state| state.has_members()) {
            return Err(EventsError::GroupActive(group.to_owned()));
        }
        let chosen = |p: &u32| partition.is_none_or(|only| only == *p);
        for ((p, state), log) in (0..).zip(&states).zip(parts.logs.iter()) {
            if chosen(&p) {
                state.reset(to.offset_in(&**log)).await?;
            }
        }
        Ok(())
    }

    /// How far `group` is behind on each partition of `topic`: the events
    /// from its committed offset to the end, partition 0 first (from the
    /// oldest retained event for a partition it never committed on).
    ///
    /// # Errors
    ///
    /// [`EventsError::InvalidName`] for a bad name;
    /// [`EventsError::Backend`] if the backend fails, or cannot answer at
    /// once ([`lag_async`](EventBus::lag_async) waits; the in-memory backend
    /// always can).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, StartAt};
    ///
    /// let bus = EventBus::new();
    /// let mut member = bus.join("billing", "order.paid", StartAt::Start).unwrap();
    /// for n in 0..3 {
    ///     bus.try_publish("order.paid", n).unwrap();
    /// }
    /// member.try_recv().unwrap().unwrap().ack().unwrap();
    /// assert_eq!(bus.lag("billing", "order.paid").unwrap(), [2]);
    /// ```
    pub fn lag(&self, group: &str, topic: &str) -> Result<Vec<u64>, EventsError> {
        now_or_would_block(self.lag_async(group, topic))
    }

    /// How far `group` is behind on each partition of `topic`, once the
    /// backend has answered: as [`lag`](EventBus::lag), waiting for a
    /// backend that cannot answer at once.
    ///
    /// # Errors
    ///
    /// As [`lag`](EventBus::lag), never of kind `WouldBlock`.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: it only reads (and opens the topic if new).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, StartAt};
    ///
    /// weft::block_on(async {
    ///     let bus = EventBus::new();
    ///     let _member = bus.join_async("billing", "order.paid", StartAt::Start).await.unwrap();
    ///     bus.publish("order.paid", 1).await.unwrap();
    ///     assert_eq!(bus.lag_async("billing", "order.paid").await.unwrap(), [1]);
    /// });
    /// ```
    pub async fn lag_async(&self, group: &str, topic: &str) -> Result<Vec<u64>, EventsError> {
        let options = TopicOptions::default();
        let (name, parts) = poll_fn(|cx| self.bus.0.poll_log(cx, topic, &options)).await?;
        let backend = &self.bus.0.backend;
        let mut lag = Vec::with_capacity(parts.logs.len());
        for (p, log) in (0..).zip(parts.logs.iter()) {
            let committed = poll_fn(|cx| backend.poll_committed(cx, group, &name, p)).await?;
            let from = committed.unwrap_or_else(|| log.start());
            lag.push(log.end().get().saturating_sub(from.get()));
        }
        Ok(lag)
    }

    /// Closes the bus: publishing fails from now on; readers get what
    /// remains, then [`RecvError::Closed`]; handlers stop.
    pub fn close(&self) {
        self.bus.0.close();
    }

    /// Whether the bus is closed.
    pub fn is_closed(&self) -> bool {
        lock(&self.bus.0.registry).closed
    }

    /// The names of the topics in use, in no particular order.
    pub fn topics(&self) -> Vec<String> {
        let registry = lock(&self.bus.0.registry);
        registry.topics.keys().map(|name| name.to_string()).collect()
    }
}

impl<T: Clone + Send + Sync + 'static> Default for EventBus<T> {
    fn default() -> Self {
        EventBus::new()
    }
}

impl<T: Clone + Send + 'static> Inner<T> {
    /// The log of topic `name`, opened (and shown to matching pattern
    /// subscribers) if new; for a caller that cannot wait, a backend that
    /// does not open it at once is an error.
    fn log(&self, name: &str) -> Result<NamedLog<T>, EventsError> {
        self.log_with(name, &TopicOptions::default())
    }

    /// As [`log`](Inner::log), making a new topic with `options`.
    fn log_with(&self, name: &str, options: &TopicOptions) -> Result<NamedLog<T>, EventsError> {
        match self.poll_log(&mut Context::from_waker(Waker::noop()), name, options) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(EventsError::Backend(would_block())),
        }
    }

    /// The log of topic `name`, opened (and shown to matching pattern
    /// subscribers) if new.
    fn poll_log(
        &self,
        cx: &mut Context<'_>,
        name: &str,
        options: &TopicOptions,
    ) -> Poll<Result<NamedLog<T>, EventsError>> {
        pattern::validate_topic(name)?;
        let mut wakers = Vec::new();
        let opened = {
            let mut registry = lock(&self.registry);
            if let Some((name, log)) = registry.topics.get_key_value(name) {
                return Poll::Ready(Ok((name.clone(), log.clone())));
            }
            self.open(cx, &mut registry, name, options, &mut wakers)
        };
        wakers.into_iter().for_each(Waker::wake);
        opened
    }

    /// Opens a log the registry does not have yet. Called with the
    /// registry locked, so a pattern subscriber either finds the topic in
    /// the registry or is told of it, never neither; the subscribers to
    /// wake are left in `wakers`, for the caller to wake once it has
    /// released the lock.
    fn open(
        &self,
        cx: &mut Context<'_>,
        registry: &mut Registry<T>,
        name: &str,
        options: &TopicOptions,
        wakers: &mut Vec<Waker>,
    ) -> Poll<Result<NamedLog<T>, EventsError>> {
        let retention = options.retention.unwrap_or(self.retention);
        let logs = match self
            .backend
            .poll_open(cx, name, options.partitions.max(1), retention)
        {
            Poll::Ready(Ok(logs)) if logs.is_empty() => {
                let error = io::Error::other("the backend opened a topic without partitions");
                return Poll::Ready(Err(EventsError::Backend(error)));
            }
            Poll::Ready(Ok(logs)) => logs,
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
            Poll::Pending => return Poll::Pending,
        };
        if registry.closed {
            logs.iter().for_each(|log| log.close());
        }
        let log = Arc::new(Partitions::new(logs));
        let name: Arc<str> = Arc::from(name);
        registry.topics.insert(name.clone(), log.clone());
        registry.watchers.retain(|watch| {
            let Some(watch) = watch.upgrade() else {
                return false;
            };
            if watch.pattern.matches(&name) {
                let mut state = lock(&watch.state);
                state.new.push((name.clone(), log.clone()));
                wakers.extend(state.waker.take());
            }
            true
        });
        Poll::Ready(Ok((name, log)))
    }

    // ANCHOR: append
    /// The append of `event` with the next sequence number, and with
    /// `properties` stamped now (unless stamped already).
    fn prepare(&self, event: T, properties: Option<Properties>) -> Append<T> {
        let size = match &self.size {
            Some(size) => size(&event),
            None => std::mem::size_of::<T>(),
        };
        let append = Append::new(self.seq.fetch_add(1, Ordering::Relaxed), event).with_size(size);
        match properties {
            None => append.with_timestamp(self.clock.now()),
            Some(mut properties) => {
                let at = properties.timestamp().unwrap_or_else(|| self.clock.now());
                properties.stamp(at);
                append.with_timestamp(at).with_properties(Arc::new(properties))
            }
        }
    }

    /// Appends to `log`, waiting for the backend as long as it takes.
    async fn append(&self, log: &dyn TopicLog<T>, mut append: Append<T>) -> Result<Offset, PublishError<T>> {
        poll_fn(|cx| log.poll_append(cx, &mut append)).await
    }

    /// Appends to `log` if the backend can at once.
    fn try_append(&self, log: &dyn TopicLog<T>, mut append: Append<T>) -> Result<Offset, PublishError<T>> {
        match log.poll_append(&mut Context::from_waker(Waker::noop()), &mut append) {
            Poll::Ready(result) => result,
            // Not taken: nothing happened. Taken: the append goes on
            // without us, and may or may not be stored.
            Poll::Pending => Err(match append.take() {
                Some(event) => PublishError::WouldBlock(event),
                None => PublishError::Store(StoreError::Unknown { error: would_block() }),
            }),
        }
    }
    // ANCHOR_END: append

    /// [`poll_subscribe`](Inner::poll_subscribe) for a caller that cannot
    /// wait.
    fn subscribe(&self, pattern: &str, from: StartAt) -> Result<Subscriber<T>, EventsError> {
        let pattern = Pattern::parse(pattern)?;
        at_once_or_would_block(|cx| self.poll_subscribe(cx, &pattern, from))
    }

    /// A subscriber to what `pattern` matches: the topic's log for a
    /// literal name, else every topic it matches (those the backend stored
    /// before this bus started opened first). Polled again after
    /// `Pending`, it goes on where it stopped: topics opened stay open.
    fn poll_subscribe(
        &self,
        cx: &mut Context<'_>,
        pattern: &Pattern,
        from: StartAt,
    ) -> Poll<Result<Subscriber<T>, EventsError>> {
        if pattern.is_literal() {
            let (name, parts) = match self.poll_log(cx, pattern.as_str(), &TopicOptions::default()) {
                Poll::Ready(found) => found?,
                Poll::Pending => return Poll::Pending,
            };
            return Poll::Ready(Ok(Subscriber {
                cursors: Cursor::all(&name, &parts, from).collect(),
                watch: None,
            }));
        }
        let mut wakers = Vec::new();
        let mut registry = lock(&self.registry);
        // Topics the backend stored before this bus started. No pattern
        // subscriber can be waiting on them yet, but the registry may hold
        // watchers of dropped subscribers: prune them here too.
        registry.watchers.retain(|watch| watch.strong_count() > 0);
        for stored in self.backend.topics() {
            if !registry.topics.contains_key(stored.as_str()) && pattern.matches(&stored) {
                let options = TopicOptions::default();
                match self.open(cx, &mut registry, &stored, &options, &mut wakers) {
                    Poll::Ready(Ok(_)) => {}
                    Poll::Ready(Err(e)) => {
                        drop(registry);
                        wakers.into_iter().for_each(Waker::wake);
                        return Poll::Ready(Err(e));
                    }
                    Poll::Pending => {
                        drop(registry);
                        wakers.into_iter().for_each(Waker::wake);
                        return Poll::Pending;
                    }
                }
            }
        }
        let cursors = registry
            .topics
            .iter()
            .filter(|(name, _)| pattern.matches(name))
            .flat_map(|(name, parts)| Cursor::all(name, parts, from))
            .collect();
        let watch = Arc::new(Watch {
            pattern: pattern.clone(),
            state: Mutex::new(WatchState {
                new: Vec::new(),
                waker: None,
                closed: registry.closed,
            }),
        });
        registry.watchers.push(Arc::downgrade(&watch));
        drop(registry);
        wakers.into_iter().for_each(Waker::wake);
        Poll::Ready(Ok(Subscriber {
            cursors,
            watch: Some(watch),
        }))
    }
}

impl<T: Clone + Send + 'static> Topic<T> {
    /// The topic's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Publishes `event` and returns its offset, once the backend has
    /// stored it; see [`EventBus::publish`].
    ///
    /// # Errors
    ///
    /// [`PublishError::Closed`] (with the event) once the bus is closed;
    /// [`PublishError::Store`] if the backend fails.
    ///
    /// # Cancel safety
    ///
    /// As [`EventBus::publish`]: dropped before the backend took the event,
    /// nothing is stored; dropped while it confirms, the outcome is unknown.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, StartAt};
    ///
    /// weft::block_on(async {
    ///     let bus = EventBus::new();
    ///     let orders = bus.topic("order.placed").unwrap();
    ///     let mut replay = orders.subscribe(StartAt::Start);
    ///     orders.publish("order #1").await.unwrap();
    ///     assert_eq!(*replay.recv().await.unwrap(), "order #1");
    /// });
    /// ```
    pub async fn publish(&self, event: T) -> Result<Offset, PublishError<T>> {
        self.bus
            .0
            .append(self.parts.pick(None), self.bus.0.prepare(event, None))
            .await
    }

    /// Publishes `event` with `key`, to the key's partition; see
    /// [`EventBus::publish_keyed`].
    ///
    /// # Errors
    ///
    /// As [`publish`](Topic::publish).
    ///
    /// # Cancel safety
    ///
    /// As [`publish`](Topic::publish).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, StartAt, TopicOptions};
    ///
    /// weft::block_on(async {
    ///     let bus = EventBus::new();
    ///     let options = TopicOptions { partitions: 8, ..TopicOptions::default() };
    ///     let carts = bus.create_topic("cart.updated", options).unwrap();
    ///     let mut all = carts.subscribe(StartAt::Start);
    ///     carts.publish_keyed("cart-1", "apple").await.unwrap();
    ///     assert_eq!(all.recv().await.unwrap().partition(), carts.partition_for("cart-1"));
    /// });
    /// ```
    pub async fn publish_keyed(&self, key: &str, event: T) -> Result<Offset, PublishError<T>> {
        let append = self.bus.0.prepare(event, None).with_key(Arc::from(key));
        self.bus.0.append(self.parts.pick(Some(key)), append).await
    }

    /// Publishes `event` with `key` if the backend can store it at once;
    /// see [`publish_keyed`](Topic::publish_keyed).
    ///
    /// # Errors
    ///
    /// As [`try_publish`](Topic::try_publish).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, Offset, TopicOptions};
    ///
    /// let bus = EventBus::new();
    /// let options = TopicOptions { partitions: 2, ..TopicOptions::default() };
    /// let carts = bus.create_topic("cart.updated", options).unwrap();
    /// // Offsets count per partition: the first event of each is offset 0.
    /// assert_eq!(carts.try_publish_keyed("cart-1", "apple").unwrap(), Offset::new(0));
    /// ```
    pub fn try_publish_keyed(&self, key: &str, event: T) -> Result<Offset, PublishError<T>> {
        let append = self.bus.0.prepare(event, None).with_key(Arc::from(key));
        self.bus.0.try_append(self.parts.pick(Some(key)), append)
    }

    /// Publishes `event` with `key` and `properties`, to the key's
    /// partition; see [`EventBus::publish_keyed_with`].
    ///
    /// # Errors
    ///
    /// As [`publish`](Topic::publish).
    ///
    /// # Cancel safety
    ///
    /// As [`publish`](Topic::publish).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, Properties, StartAt, TopicOptions};
    ///
    /// weft::block_on(async {
    ///     let bus = EventBus::new();
    ///     let options = TopicOptions { partitions: 4, ..TopicOptions::default() };
    ///     let carts = bus.create_topic("cart.updated", options).unwrap();
    ///     let mut all = carts.subscribe(StartAt::Start);
    ///     let properties = Properties::new().with_header("source", "web");
    ///     carts.publish_keyed_with("cart-1", "apple", properties).await.unwrap();
    ///     let event = all.recv().await.unwrap();
    ///     assert_eq!(event.partition(), carts.partition_for("cart-1"));
    ///     assert_eq!(event.properties().unwrap().header("source"), Some("web"));
    /// });
    /// ```
    pub async fn publish_keyed_with(
        &self,
        key: &str,
        event: T,
        properties: Properties,
    ) -> Result<Offset, PublishError<T>> {
        let log = self.parts.pick(Some(key));
        let append = self
            .bus
            .0
            .prepare(event, Some(properties))
            .with_key(Arc::from(key));
        self.bus.0.append(log, append).await
    }

    /// Publishes `event` with `key` and `properties` if the backend can
    /// store it at once; see [`publish_keyed_with`](Topic::publish_keyed_with).
    ///
    /// # Errors
    ///
    /// As [`try_publish`](Topic::try_publish).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, Properties, StartAt};
    ///
    /// let bus = EventBus::new();
    /// let carts = bus.topic("cart.updated").unwrap();
    /// let mut all = carts.subscribe(StartAt::Start);
    /// carts.try_publish_keyed_with("cart-1", "apple", Properties::new().with_id("c-1")).unwrap();
    /// let event = all.try_recv().unwrap().unwrap();
    /// assert_eq!((event.key(), event.properties().unwrap().id().as_str()), (Some("cart-1"), "c-1"));
    /// ```
    pub fn try_publish_keyed_with(
        &self,
        key: &str,
        event: T,
        properties: Properties,
    ) -> Result<Offset, PublishError<T>> {
        let append = self
            .bus
            .0
            .prepare(event, Some(properties))
            .with_key(Arc::from(key));
        self.bus.0.try_append(self.parts.pick(Some(key)), append)
    }

    /// Publishes `event` (without a key) to partition `partition`, if the
    /// backend can store it at once: for a publisher that places events
    /// itself.
    ///
    /// # Errors
    ///
    /// As [`try_publish`](Topic::try_publish); [`PublishError::Store`]
    /// with [`StoreError::NotStored`] if the topic has no such partition.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, Offset, StartAt, TopicOptions};
    ///
    /// let bus = EventBus::new();
    /// let options = TopicOptions { partitions: 2, ..TopicOptions::default() };
    /// let jobs = bus.create_topic("job.queued", options).unwrap();
    /// let mut all = jobs.subscribe(StartAt::Start);
    /// assert_eq!(jobs.try_publish_to(1, "rebuild").unwrap(), Offset::new(0));
    /// assert_eq!(all.try_recv().unwrap().unwrap().partition(), 1);
    /// assert!(jobs.try_publish_to(2, "lost").is_err());
    /// ```
    pub fn try_publish_to(&self, partition: u32, event: T) -> Result<Offset, PublishError<T>> {
        let Some(log) = self.parts.logs.get(partition as usize) else {
            let error = io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("topic {:?} has no partition {partition}", self.name),
            );
            return Err(PublishError::Store(StoreError::NotStored { value: event, error }));
        };
        self.bus.0.try_append(&**log, self.bus.0.prepare(event, None))
    }

    /// How many partitions the topic has (fixed when it was made).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::EventBus;
    ///
    /// let bus = EventBus::<u32>::new();
    /// assert_eq!(bus.topic("audit").unwrap().partitions(), 1);
    /// ```
    pub fn partitions(&self) -> u32 {
        self.parts.count()
    }

    /// The partition events with `key` go to in this topic
    /// ([`partition_for`] with its partition count).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, partition_for, TopicOptions};
    ///
    /// let bus = EventBus::<u32>::new();
    /// let options = TopicOptions { partitions: 16, ..TopicOptions::default() };
    /// let carts = bus.create_topic("cart.updated", options).unwrap();
    /// assert_eq!(carts.partition_for("cart-1"), partition_for("cart-1", 16));
    /// ```
    pub fn partition_for(&self, key: &str) -> u32 {
        partition_for(key, self.parts.count())
    }

    /// Publishes `event` with `properties`; see [`EventBus::publish_with`].
    ///
    /// # Errors
    ///
    /// As [`publish`](Topic::publish).
    ///
    /// # Cancel safety
    ///
    /// As [`publish`](Topic::publish).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, Properties, StartAt};
    ///
    /// weft::block_on(async {
    ///     let bus = EventBus::new();
    ///     let orders = bus.topic("order.placed").unwrap();
    ///     let mut replay = orders.subscribe(StartAt::Start);
    ///     orders.publish_with("order #1", Properties::new().with_id("o-1")).await.unwrap();
    ///     let event = replay.recv().await.unwrap();
    ///     assert_eq!(event.properties().unwrap().id().as_str(), "o-1");
    /// });
    /// ```
    pub async fn publish_with(&self, event: T, properties: Properties) -> Result<Offset, PublishError<T>> {
        let append = self.bus.0.prepare(event, Some(properties));
        self.bus.0.append(self.parts.pick(None), append).await
    }

    /// Publishes `event` if the backend can store it at once (the
    /// in-memory backend always can); see [`EventBus::try_publish`].
    ///
    /// # Errors
    ///
    /// [`PublishError::Closed`] (with the event) once the bus is closed;
    /// [`PublishError::WouldBlock`] (with the event) if the backend cannot
    /// take it at once; [`PublishError::Store`] if the backend fails or
    /// took the event without confirming it at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, Offset};
    ///
    /// let bus = EventBus::new();
    /// let orders = bus.topic("order.placed").unwrap();
    /// assert_eq!(orders.try_publish("order #1").unwrap(), Offset::new(0));
    /// assert_eq!(orders.end(), Offset::new(1));
    /// ```
    pub fn try_publish(&self, event: T) -> Result<Offset, PublishError<T>> {
        self.bus
            .0
            .try_append(self.parts.pick(None), self.bus.0.prepare(event, None))
    }

    /// Publishes `event` with `properties` if the backend can store it at
    /// once; see [`EventBus::try_publish_with`].
    ///
    /// # Errors
    ///
    /// As [`try_publish`](Topic::try_publish).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, Properties, StartAt};
    ///
    /// let bus = EventBus::new();
    /// let orders = bus.topic("order.placed").unwrap();
    /// let mut replay = orders.subscribe(StartAt::Start);
    /// orders.try_publish_with("order #1", Properties::new().with_header("k", "v")).unwrap();
    /// let event = replay.try_recv().unwrap().unwrap();
    /// assert_eq!(event.properties().unwrap().header("k"), Some("v"));
    /// ```
    pub fn try_publish_with(&self, event: T, properties: Properties) -> Result<Offset, PublishError<T>> {
        self.bus
            .0
            .try_append(self.parts.pick(None), self.bus.0.prepare(event, Some(properties)))
    }

    /// A subscriber to this topic (every partition), starting `from` in
    /// each.
    pub fn subscribe(&self, from: StartAt) -> Subscriber<T> {
        Subscriber {
            cursors: Cursor::all(&self.name, &self.parts, from).collect(),
            watch: None,
        }
    }

    /// Keeps to `retention` in each partition from now on: a count of
    /// events (0 is taken as 1), or a [`Retention`] with age and bytes
    /// limits too. Readers behind what is kept get [`RecvError::Lagged`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft::events::{EventBus, Retention};
    ///
    /// let bus = EventBus::new();
    /// let audit = bus.topic("audit").unwrap();
    /// for n in 0..5 {
    ///     audit.try_publish(n).unwrap();
    /// }
    /// audit.set_retention(2);
    /// assert_eq!(audit.start().get(), 3);
    /// audit.set_retention(Retention::from(10).max_age(Duration::from_secs(60)));
    /// ```
    pub fn set_retention(&self, retention: impl Into<Retention>) {
        let retention = retention.into();
        self.parts
            .logs
            .iter()
            .for_each(|log| log.set_retention(retention));
    }

    /// The oldest retained offset of partition 0 (the topic's only one
    /// unless it was made with more; see [`start_of`](Topic::start_of)).
    pub fn start(&self) -> Offset {
        self.parts.logs[0].start()
    }

    /// The offset the next event of partition 0 will get (see
    /// [`end_of`](Topic::end_of)).
    pub fn end(&self) -> Offset {
        self.parts.logs[0].end()
    }

    /// The oldest retained offset of partition `partition`; `None` if the
    /// topic has no such partition.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, Offset};
    ///
    /// let bus = EventBus::<u32>::new();
    /// let audit = bus.topic("audit").unwrap();
    /// assert_eq!(audit.start_of(0), Some(Offset::new(0)));
    /// assert_eq!(audit.start_of(1), None);
    /// ```
    pub fn start_of(&self, partition: u32) -> Option<Offset> {
        self.parts.logs.get(partition as usize).map(|log| log.start())
    }

    /// The offset the next event of partition `partition` will get;
    /// `None` if the topic has no such partition.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, Offset};
    ///
    /// let bus = EventBus::new();
    /// let audit = bus.topic("audit").unwrap();
    /// audit.try_publish(1).unwrap();
    /// assert_eq!(audit.end_of(0), Some(Offset::new(1)));
    /// ```
    pub fn end_of(&self, partition: u32) -> Option<Offset> {
        self.parts.logs.get(partition as usize).map(|log| log.end())
    }
}

impl<T: Clone + Send + 'static> Subscriber<T> {
    /// Waits for the next event. Cancel-safe: an event is taken only when
    /// the future completes.
    ///
    /// # Errors
    ///
    /// [`RecvError::Lagged`] if the subscriber fell behind the retained
    /// window (the next call goes on); [`RecvError::Closed`] once the bus
    /// is closed and everything was read.
    pub async fn recv(&mut self) -> Result<Event<T>, RecvError> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    // ANCHOR: seek
    /// Moves this subscriber, on every topic and partition it reads, to
    /// where `to` says: the oldest retained event, the end, an offset, or
    /// the first event at or after a time. What it had read ahead is
    /// dropped; a lag not yet reported is forgotten.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, Offset, StartAt};
    ///
    /// let bus = EventBus::new();
    /// let mut sub = bus.subscribe("audit", StartAt::Latest).unwrap();
    /// for n in 0..3 {
    ///     bus.try_publish("audit", n).unwrap();
    /// }
    /// assert_eq!(*sub.try_recv().unwrap().unwrap(), 0);
    /// sub.seek(StartAt::Offset(Offset::new(2)));
    /// assert_eq!(*sub.try_recv().unwrap().unwrap(), 2);
    /// sub.seek(StartAt::Start);
    /// assert_eq!(*sub.try_recv().unwrap().unwrap(), 0);
    /// ```
    pub fn seek(&mut self, to: StartAt) {
        for cursor in &mut self.cursors {
            cursor.next = to.offset_in(&*cursor.log);
            cursor.buf.clear();
            cursor.skipped = 0;
            cursor.done = false;
        }
    }
    // ANCHOR_END: seek

    /// Moves this subscriber on one partition of one topic it reads to
    /// where `to` says, leaving the others where they are: offsets count
    /// per partition, so this is how a reader of a topic of several goes
    /// to an offset in one of them. Otherwise as
    /// [`seek`](Subscriber::seek).
    ///
    /// # Errors
    ///
    /// [`EventsError::NoPartition`] if this subscriber does not read
    /// `topic`, or the topic has no partition `partition`; nothing moved.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use weft::events::{EventBus, Offset, Properties, StartAt, TopicOptions};
    ///
    /// let bus = EventBus::new();
    /// let options = TopicOptions { partitions: 2, ..TopicOptions::default() };
    /// let jobs = bus.create_topic("job.queued", options).unwrap();
    /// let at = |secs| Properties::new().with_timestamp(SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
    /// for (n, secs) in [(0, 10), (1, 20), (2, 30)] {
    ///     jobs.try_publish_keyed_with("cart-1", n, at(secs)).unwrap();
    /// }
    /// let p = jobs.partition_for("cart-1");
    /// let mut sub = jobs.subscribe(StartAt::Latest);
    /// sub.seek_partition("job.queued", p, StartAt::Offset(Offset::new(1))).unwrap();
    /// assert_eq!(*sub.try_recv().unwrap().unwrap(), 1);
    /// let twenty_five = SystemTime::UNIX_EPOCH + Duration::from_secs(25);
    /// sub.seek_partition("job.queued", p, StartAt::Time(twenty_five)).unwrap();
    /// assert_eq!(*sub.try_recv().unwrap().unwrap(), 2);
    /// assert!(sub.seek_partition("job.queued", 2, StartAt::Start).is_err());
    /// ```
    pub fn seek_partition(&mut self, topic: &str, partition: u32, to: StartAt) -> Result<(), EventsError> {
        let cursor = self
            .cursors
            .iter_mut()
            .find(|c| &*c.name == topic && c.partition == partition)
            .ok_or_else(|| EventsError::NoPartition {
                topic: Arc::from(topic),
                partition,
            })?;
        cursor.next = to.offset_in(&*cursor.log);
        cursor.buf.clear();
        cursor.skipped = 0;
        cursor.done = false;
        Ok(())
    }

    /// Polls for the next event; see [`recv`](Subscriber::recv).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<Event<T>, RecvError>> {
        match self.next(Some(cx.waker())) {
            Some(result) => Poll::Ready(result),
            None => Poll::Pending,
        }
    }

    /// The next event if one is ready: `None` if none is yet.
    pub fn try_recv(&mut self) -> Option<Result<Event<T>, RecvError>> {
        self.next(None)
    }

    /// The topics this subscriber reads, in no particular order.
    pub fn topics(&self) -> Vec<String> {
        self.cursors.iter().map(|c| c.name.to_string()).collect()
    }

    fn next(&mut self, waker: Option<&Waker>) -> Option<Result<Event<T>, RecvError>> {
        let mut more_topics = false;
        if let Some(watch) = &self.watch {
            // Dropped after the lock is released: a waker's drop may call
            // back into the bus.
            let mut _displaced = None;
            let mut state = lock(&watch.state);
            for (name, parts) in state.new.drain(..) {
                // Everything in a topic created after subscribing is new.
                let from = StartAt::Offset(Offset(0));
                self.cursors.extend(Cursor::all(&name, &parts, from));
            }
            more_topics = !state.closed;
            if let (Some(waker), true) = (waker, more_topics) {
                _displaced = crate::util::replace_waker(&mut state.waker, waker);
            }
        }
        // ANCHOR: next
        for cursor in &mut self.cursors {
            if let Err(error) = cursor.fill(waker) {
                return Some(Err(RecvError::Io {
                    topic: cursor.name.clone(),
                    error: Arc::new(error),
                }));
            }
        }
        if let Some(cursor) = self.cursors.iter_mut().find(|c| c.skipped > 0) {
            let skipped = std::mem::take(&mut cursor.skipped);
            return Some(Err(RecvError::Lagged {
                topic: cursor.name.clone(),
                skipped,
            }));
        }
        // The earliest published among the heads.
        let cursor = self
            .cursors
            .iter_mut()
            .filter(|c| !c.buf.is_empty())
            .min_by_key(|c| c.buf[0].seq);
        if let Some(cursor) = cursor {
            let record = cursor.buf.pop_front()?;
            return Some(Ok(Event {
                topic: cursor.name.clone(),
                partition: cursor.partition,
                offset: record.offset,
                properties: record.properties,
                key: record.key,
                timestamp: record.timestamp,
                payload: record.payload,
            }));
        }
        if !more_topics && self.cursors.iter().all(|c| c.done) {
            return Some(Err(RecvError::Closed));
        }
        None
        // ANCHOR_END: next
    }
}

// Nothing in a subscriber is pinned: it is moved freely between polls.
impl<T: 'static> Unpin for Subscriber<T> {}

impl<T: Clone + Send + 'static> Stream for Subscriber<T> {
    type Item = Result<Event<T>, RecvError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.get_mut().poll_recv(cx) {
            Poll::Ready(Err(RecvError::Closed)) => Poll::Ready(None),
            other => other.map(Some),
        }
    }
}

impl<T: Clone + Send + 'static> Cursor<T> {
    /// A cursor on each partition of `parts`.
    fn all<'a>(
        name: &'a str,
        parts: &'a Partitions<T>,
        from: StartAt,
    ) -> impl Iterator<Item = Cursor<T>> + 'a {
        let name: Arc<str> = Arc::from(name);
        (0..).zip(parts.logs.iter()).map(move |(partition, log)| Cursor {
            next: from.offset_in(&**log),
            name: name.clone(),
            partition,
            log: log.clone(),
            reader: ReaderId::new(),
            buf: VecDeque::new(),
            skipped: 0,
            done: false,
        })
    }

    // ANCHOR: fill
    /// Reads a batch if none is buffered; registers `waker` if nothing is
    /// there.
    fn fill(&mut self, waker: Option<&Waker>) -> io::Result<()> {
        if !self.buf.is_empty() || self.done {
            return Ok(());
        }
        if let Poll::Ready(read) = self
            .log
            .poll_read(self.reader, self.next, BATCH, &mut self.buf, waker)
        {
            let read = read?;
            self.next = read.next;
            self.skipped += read.skipped;
            self.done = read.closed && self.buf.is_empty();
        }
        Ok(())
    }
    // ANCHOR_END: fill
}

impl<T: 'static> Drop for Cursor<T> {
    /// A reader that goes takes its waker out of the log.
    fn drop(&mut self) {
        self.log.forget(self.reader);
    }
}

impl<T: 'static> Clone for BusRef<T> {
    fn clone(&self) -> Self {
        self.0.handles.fetch_add(1, Ordering::Relaxed);
        BusRef(self.0.clone())
    }
}

impl<T: 'static> Drop for BusRef<T> {
    fn drop(&mut self) {
        if self.0.handles.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.close();
        }
    }
}

impl<T: 'static> Inner<T> {
    /// Closes every log and tells pattern subscribers no topic will come.
    fn close(&self) {
        let (logs, watchers) = {
            let mut registry = lock(&self.registry);
            if registry.closed {
                return;
            }
            registry.closed = true;
            let logs: Vec<_> = registry.topics.values().cloned().collect();
            (logs, std::mem::take(&mut registry.watchers))
        };
        for log in logs.iter().flat_map(|parts| parts.logs.iter()) {
            log.close();
        }
        for watch in watchers.iter().filter_map(Weak::upgrade) {
            let waker = {
                let mut state = lock(&watch.state);
                state.closed = true;
                state.waker.take()
            };
            waker.into_iter().for_each(Waker::wake);
        }
    }
}

impl<T: 'static> Clone for EventBus<T> {
    fn clone(&self) -> Self {
        EventBus {
            bus: self.bus.clone(),
        }
    }
}

impl<T: 'static> Clone for Topic<T> {
    fn clone(&self) -> Self {
        Topic {
            bus: self.bus.clone(),
            name: self.name.clone(),
            parts: self.parts.clone(),
        }
    }
}

impl<T: 'static> fmt::Debug for EventBus<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let registry = lock(&self.bus.0.registry);
        f.debug_struct("EventBus")
            .field("topics", &registry.topics.len())
            .field("closed", &registry.closed)
            .finish_non_exhaustive()
    }
}

impl<T: 'static> fmt::Debug for Topic<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Topic")
            .field("name", &self.name)
            .field("partitions", &self.parts.count())
            .field("start", &self.parts.logs[0].start().0)
            .field("end", &self.parts.logs[0].end().0)
            .finish()
    }
}

impl<T: 'static> fmt::Debug for Subscriber<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cursors: Vec<_> = self.cursors.iter().map(|c| (&*c.name, c.next.0)).collect();
        f.debug_struct("Subscriber")
            .field("pattern", &self.watch.as_ref().map(|w| w.pattern.as_str()))
            .field("cursors", &cursors)
            .finish()
    }
}

/// The error of a backend that did not complete at once for a caller that
/// cannot wait.
fn would_block() -> io::Error {
    io::Error::new(
        io::ErrorKind::WouldBlock,
        "the event bus backend did not complete at once",
    )
}

/// Polls `future` once, for a caller that cannot wait: `Pending` becomes a
/// [`would_block`] error (and the future is dropped).
fn now_or_would_block<R>(future: impl Future<Output = Result<R, EventsError>>) -> Result<R, EventsError> {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(result) => result,
        Poll::Pending => Err(EventsError::Backend(would_block())),
    }
}

/// Polls `poll` once, for a caller that cannot wait: `Pending` becomes a
/// [`would_block`] error.
fn at_once_or_would_block<R>(
    poll: impl FnOnce(&mut Context<'_>) -> Poll<Result<R, EventsError>>,
) -> Result<R, EventsError> {
    match poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(result) => result,
        Poll::Pending => Err(EventsError::Backend(would_block())),
    }
}

/// Polls a backend operation once, for a caller that cannot wait: `Pending`
/// becomes a [`would_block`] error.
fn at_once<R>(poll: impl FnOnce(&mut Context<'_>) -> Poll<io::Result<R>>) -> io::Result<R> {
    match poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(result) => result,
        Poll::Pending => Err(would_block()),
    }
}

impl EventsError {
    /// The publish error for `event`, which opening its topic failed with.
    fn with_event<T>(self, event: T) -> PublishError<T> {
        match self {
            EventsError::InvalidName(e) => PublishError::InvalidTopic(e, event),
            EventsError::Backend(error) => PublishError::Store(StoreError::NotStored { value: event, error }),
            // Opening a log fails by name or backend only.
            other => PublishError::Store(StoreError::NotStored {
                value: event,
                error: io::Error::other(other.to_string()),
            }),
        }
    }
}
