//! A handle on one topic: [`Topic`], its [`Partitions`], and publishing,
//! subscribing and retention through it.

use super::backend::{Retention, TopicLog};
use super::bus::BusRef;
use super::error::PublishError;
use super::event::{Offset, StartAt};
use super::partition_for;
use super::subscriber::{Cursor, Subscriber};
use crate::loom::atomic::{AtomicUsize, Ordering};
use crate::{Properties, StoreError};
use std::fmt;
use std::io;
use std::sync::Arc;

/// A handle on one topic, for publishing without looking the topic up
/// each time. Counts as a handle that keeps the bus open.
pub struct Topic<T: 'static> {
    pub(super) bus: BusRef<T>,
    pub(super) name: Arc<str>,
    pub(super) parts: Arc<Partitions<T>>,
}

// ANCHOR: partitions
/// A topic's partitions: one log each, and the turn for events without a
/// key.
pub(crate) struct Partitions<T: 'static> {
    pub(super) logs: Box<[Arc<dyn TopicLog<T>>]>,
    /// The partition the next keyless event goes to, in a topic of more
    /// than one (never touched in a topic of one).
    turn: AtomicUsize,
}

impl<T: 'static> Partitions<T> {
    pub(super) fn new(logs: Vec<Arc<dyn TopicLog<T>>>) -> Partitions<T> {
        Partitions {
            logs: logs.into_boxed_slice(),
            turn: AtomicUsize::new(0),
        }
    }

    /// The log an event with `key` goes to: the key's partition, else the
    /// next in turn. A topic of one partition does no work to choose.
    pub(super) fn pick(&self, key: Option<&str>) -> &dyn TopicLog<T> {
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
    pub(super) fn count(&self) -> u32 {
        self.logs.len() as u32
    }
}
// ANCHOR_END: partitions

impl<T: Clone + Send + 'static> Topic<T> {
    /// The topic's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Publishes `event` and returns its offset, once the backend has
    /// stored it; see [`EventBus::publish`](super::EventBus::publish).
    ///
    /// # Errors
    ///
    /// [`PublishError::Closed`] (with the event) once the bus is closed;
    /// [`PublishError::Store`] if the backend fails.
    ///
    /// # Cancel safety
    ///
    /// As [`EventBus::publish`](super::EventBus::publish): dropped before the backend took the event,
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
    /// [`EventBus::publish_keyed`](super::EventBus::publish_keyed).
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
    /// partition; see [`EventBus::publish_keyed_with`](super::EventBus::publish_keyed_with).
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

    /// Publishes `event` with `properties`; see [`EventBus::publish_with`](super::EventBus::publish_with).
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
    /// in-memory backend always can); see [`EventBus::try_publish`](super::EventBus::try_publish).
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
    /// once; see [`EventBus::try_publish_with`](super::EventBus::try_publish_with).
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
    /// limits too. Readers behind what is kept get [`RecvError::Lagged`](super::RecvError::Lagged).
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

impl<T: 'static> Clone for Topic<T> {
    fn clone(&self) -> Self {
        Topic {
            bus: self.bus.clone(),
            name: self.name.clone(),
            parts: self.parts.clone(),
        }
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
