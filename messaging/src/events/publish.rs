//! Publishing on the bus: [`EventBus::publish`] and its keyed, timed and
//! non-waiting forms, and how an event is stamped and appended to its log.

use super::EventBus;
use super::at_once::would_block;
use super::backend::{Append, TopicLog, TopicOptions};
use super::bus::Inner;
use super::error::{EventsError, PublishError};
use super::event::Offset;
use crate::loom::atomic::Ordering;
use crate::{Properties, StoreError};
use std::future::poll_fn;
use std::io;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

impl<T: Clone + Send + 'static> EventBus<T> {
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
        self.publish_inner(topic, None, event, None).await
    }

    /// Publishes `event` on `topic` with `properties` (an id, headers),
    /// stamped with the time the bus hands it to the backend unless it is
    /// stamped already; readers find them in [`Event::properties`](super::Event::properties).
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
        self.publish_inner(topic, None, event, Some(properties)).await
    }

    /// Every waiting publish: opens `topic`, then appends `event` to the
    /// partition of `key` (or the topic's choice without one).
    async fn publish_inner(
        &self,
        topic: &str,
        key: Option<&str>,
        event: T,
        properties: Option<Properties>,
    ) -> Result<Offset, PublishError<T>> {
        let options = TopicOptions::default();
        let parts = match poll_fn(|cx| self.bus.0.poll_log(cx, topic, &options)).await {
            Ok((_, parts)) => parts,
            Err(e) => return Err(e.with_event(event)),
        };
        // The key is hashed and the event built before the log is asked.
        let log = parts.pick(key);
        let append = self.bus.0.prepare_keyed(key, event, properties);
        self.bus.0.append(log, append).await
    }

    /// Publishes `event` on `topic` with `key`, once the backend has
    /// stored it, and returns its offset in the key's partition
    /// ([`partition_for`](super::partition_for)). Events of one key all go to one partition, so
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
        self.publish_inner(topic, Some(key), event, None).await
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
        self.publish_inner(topic, Some(key), event, Some(properties))
            .await
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
        self.try_publish_inner(topic, Some(key), event, Some(properties))
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
        self.try_publish_inner(topic, Some(key), event, None)
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
        self.try_publish_inner(topic, None, event, None)
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
        self.try_publish_inner(topic, None, event, Some(properties))
    }

    /// Every non-waiting publish: as [`publish_inner`](Self::publish_inner),
    /// if the log is open and the backend takes the event at once.
    fn try_publish_inner(
        &self,
        topic: &str,
        key: Option<&str>,
        event: T,
        properties: Option<Properties>,
    ) -> Result<Offset, PublishError<T>> {
        let parts = match self.bus.0.log(topic) {
            Ok((_, parts)) => parts,
            Err(e) => return Err(e.with_event(event)),
        };
        let log = parts.pick(key);
        let append = self.bus.0.prepare_keyed(key, event, properties);
        self.bus.0.try_append(log, append)
    }
}

impl<T: Clone + Send + 'static> Inner<T> {
    /// [`prepare`](Self::prepare), carrying `key` when there is one.
    fn prepare_keyed(&self, key: Option<&str>, event: T, properties: Option<Properties>) -> Append<T> {
        let append = self.prepare(event, properties);
        match key {
            Some(key) => append.with_key(Arc::from(key)),
            None => append,
        }
    }

    // ANCHOR: append
    /// The append of `event` with the next sequence number, and with
    /// `properties` stamped now (unless stamped already).
    pub(super) fn prepare(&self, event: T, properties: Option<Properties>) -> Append<T> {
        let size = match &self.size {
            Some(size) => size(&event),
            None => std::mem::size_of::<T>(),
        };
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        match properties {
            None => Append::stamped(seq, event, self.clock.now(), size),
            Some(mut properties) => {
                let at = properties.timestamp().unwrap_or_else(|| self.clock.now());
                properties.stamp(at);
                Append::stamped(seq, event, at, size).with_properties(Arc::new(properties))
            }
        }
    }

    /// Appends to `log`, waiting for the backend as long as it takes.
    pub(super) async fn append(
        &self,
        log: &dyn TopicLog<T>,
        mut append: Append<T>,
    ) -> Result<Offset, PublishError<T>> {
        poll_fn(|cx| log.poll_append(cx, &mut append)).await
    }

    /// Appends to `log` if the backend can at once.
    pub(super) fn try_append(
        &self,
        log: &dyn TopicLog<T>,
        mut append: Append<T>,
    ) -> Result<Offset, PublishError<T>> {
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
