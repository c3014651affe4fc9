//! What a reader gets and where it starts: [`Offset`], [`StartAt`] and
//! [`Event`].

use super::backend::TopicLog;
use crate::Properties;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// An event's place in its topic: 0 for the first, then one more for each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Offset(pub(super) u64);

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
    /// oldest retained event after a [`RecvError::Lagged`](super::RecvError::Lagged); one not yet
    /// published is waited for.
    Offset(Offset),
    /// The first retained event stamped at or after this time (see
    /// [`Event::timestamp`]), in each partition; the next one published if
    /// none is yet.
    Time(SystemTime),
}

impl StartAt {
    /// The offset this start names in `log`, as of now.
    pub(super) fn offset_in<T: 'static>(self, log: &dyn TopicLog<T>) -> Offset {
        match self {
            StartAt::Start => log.start(),
            StartAt::Latest => log.end(),
            StartAt::Offset(offset) => offset,
            StartAt::Time(time) => log.offset_at(time),
        }
    }
}
// ANCHOR_END: start-at

/// When an event was published, as the logs keep it: nanoseconds since
/// the Unix epoch, in 8 bytes where a [`SystemTime`] takes 16.
///
/// It spans 1970-01-01 to about 2554-07-21: a time before the epoch is
/// kept as the epoch, and one after the end as the end (the durable log
/// has always clamped times before the epoch so).
///
/// # Examples
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use weft::events::Timestamp;
///
/// let then = SystemTime::UNIX_EPOCH + Duration::new(1_700_000_000, 7);
/// assert_eq!(Timestamp::from(then).to_system_time(), then);
/// assert_eq!(Timestamp::from(then).as_nanos(), 1_700_000_000_000_000_007);
/// let before = SystemTime::UNIX_EPOCH - Duration::from_secs(1);
/// assert_eq!(Timestamp::from(before), Timestamp::EPOCH);
/// let far = SystemTime::UNIX_EPOCH + Duration::from_secs(20_000_000_000);
/// assert_eq!(Timestamp::from(far).as_nanos(), u64::MAX);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The Unix epoch, the earliest time kept.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// The time `nanos` nanoseconds after the Unix epoch.
    pub const fn from_nanos(nanos: u64) -> Timestamp {
        Timestamp(nanos)
    }

    /// Nanoseconds since the Unix epoch.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// The same time as a [`SystemTime`].
    #[inline]
    pub fn to_system_time(self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_nanos(self.0)
    }
}

/// Clamped to the range [`Timestamp`] spans.
impl From<SystemTime> for Timestamp {
    #[inline]
    fn from(time: SystemTime) -> Timestamp {
        match time.duration_since(SystemTime::UNIX_EPOCH) {
            Ok(since) => Timestamp(u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)),
            Err(_) => Timestamp::EPOCH,
        }
    }
}

impl From<Timestamp> for SystemTime {
    fn from(time: Timestamp) -> SystemTime {
        time.to_system_time()
    }
}

/// Where a reader's events come from: a topic's name and partition, made
/// once per reader of a partition, so an event carries them in one thin
/// pointer whose count no other reader's thread touches.
#[derive(PartialEq, Eq)]
pub(super) struct Source {
    pub(super) topic: Arc<str>,
    pub(super) partition: u32,
}

impl Source {
    pub(super) fn new(topic: Arc<str>, partition: u32) -> Arc<Source> {
        Arc::new(Source { topic, partition })
    }
}

/// An event as a reader receives it: the topic, the offset and the payload
/// (which it dereferences to).
///
/// Kept small, as a reader moves one per event: the topic and partition
/// share one pointer, and the timestamp is a [`Timestamp`] (so a time the
/// publisher set outside its range reads back clamped).
#[derive(Clone, PartialEq, Eq)]
pub struct Event<T> {
    pub(super) source: Arc<Source>,
    pub(super) offset: Offset,
    pub(super) properties: Option<Arc<Properties>>,
    pub(super) key: Option<Arc<str>>,
    pub(super) timestamp: Timestamp,
    pub(super) payload: T,
}

impl<T> Event<T> {
    /// The event `record` of `source`.
    #[inline]
    pub(super) fn new(source: Arc<Source>, record: super::Record<T>) -> Event<T> {
        Event {
            source,
            offset: record.offset,
            properties: record.properties,
            key: record.key,
            timestamp: record.timestamp,
            payload: record.payload,
        }
    }
}

impl<T> Event<T> {
    /// The topic it was published on.
    pub fn topic(&self) -> &str {
        &self.source.topic
    }

    /// Its offset in its partition of that topic.
    pub fn offset(&self) -> Offset {
        self.offset
    }

    /// When it was published: the bus's clock when the bus handed it to
    /// the backend (the runtime's clock, paused in tests, for a bus built
    /// with a [`spawner`](super::Builder::spawner); the system's otherwise), or
    /// the time its publisher set with
    /// [`Properties::with_timestamp`]. Kept as a [`Timestamp`]: a time
    /// before the Unix epoch reads back as the epoch.
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
        self.timestamp.to_system_time()
    }

    /// The partition of the topic it is in (0 in a topic of one).
    pub fn partition(&self) -> u32 {
        self.source.partition
    }

    /// The key it was published with, if any; see
    /// [`EventBus::publish_keyed`](super::EventBus::publish_keyed).
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// Its properties: the id it was published with (generated if the
    /// publisher gave none), the time the bus handed it to the backend, and
    /// its headers. `None` for an event published without properties
    /// ([`publish`](super::EventBus::publish) rather than
    /// [`publish_with`](super::EventBus::publish_with)), which carries none so
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
            .field("topic", &self.source.topic)
            .field("partition", &self.source.partition)
            .field("offset", &self.offset.0)
            .field("key", &self.key)
            .field("timestamp", &self.timestamp())
            .field("properties", &self.properties)
            .field("payload", &self.payload)
            .finish()
    }
}
