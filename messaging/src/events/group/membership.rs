//! Joining a consumer group: the bus's [`join`](EventBus::join) methods.

use crate::events::group;
use crate::events::{EventBus, EventsError, Member, StartAt};

impl<T: Clone + Send + 'static> EventBus<T> {
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
    /// [`WouldBlock`](super::io::ErrorKind::WouldBlock)) cannot open the topic or
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
    /// [`RecvError::Rebalanced`](super::RecvError::Rebalanced) once), having had the chance to ack what
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
}
