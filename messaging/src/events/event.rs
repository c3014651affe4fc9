//! What a reader gets and where it starts: [`Offset`], [`StartAt`] and
//! [`Event`].

use super::backend::TopicLog;
use crate::Properties;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::time::SystemTime;

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

/// An event as a reader receives it: the topic, the offset and the payload
/// (which it dereferences to).
#[derive(Clone, PartialEq, Eq)]
pub struct Event<T> {
    pub(super) topic: Arc<str>,
    pub(super) partition: u32,
    pub(super) offset: Offset,
    pub(super) properties: Option<Arc<Properties>>,
    pub(super) key: Option<Arc<str>>,
    pub(super) timestamp: SystemTime,
    pub(super) payload: T,
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
    /// with a [`spawner`](super::Builder::spawner); the system's otherwise), or
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
