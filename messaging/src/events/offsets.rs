//! A consumer group's offsets, seen from the bus: what it has committed,
//! resetting it while no member runs, and its lag per partition.

use super::EventBus;
use super::at_once::{at_once, now_or_would_block};
use super::backend::TopicOptions;
use super::error::EventsError;
use super::event::{Offset, StartAt};
use super::group;
use crate::loom::lock;
use std::future::poll_fn;

impl<T: Clone + Send + 'static> EventBus<T> {
    /// The offset `group` has committed on `topic`: every event before it
    /// was acked.
    ///
    /// # Errors
    ///
    /// [`EventsError::Backend`] if the backend fails, or (of kind
    /// [`WouldBlock`](std::io::ErrorKind::WouldBlock)) cannot answer at once:
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
    /// [`WouldBlock`](std::io::ErrorKind::WouldBlock)) cannot answer at once:
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
}
