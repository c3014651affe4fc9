//! Who is in a group: the [`Coordinator`] and its membership, which
//! assigns partitions to members and rebalances them as members join and
//! leave, and joining (the bus's [`join`](EventBus::join) methods).

use super::member::Member;
use super::state::Group;
use crate::events::backend::ReaderId;
use crate::events::error::{EventsError, InvalidName};
use crate::events::pattern::{MAX_NAME_LEN, Pattern};
use crate::events::{EventBus, Inner, StartAt, TopicOptions, now_or_would_block};
use crate::loom::{Mutex, lock};
use std::future::poll_fn;
use std::sync::Arc;
use std::task::Waker;

// ANCHOR: coordinator
/// Who belongs to a group on one topic, and (for an assigned group) who
/// owns which partition.
pub(crate) struct Coordinator {
    pub(super) state: Mutex<Membership>,
}

pub(super) struct Membership {
    /// Members that share every partition ([`join`]).
    pub(super) shared: usize,
    /// Members of an assigned group, in the order they joined.
    pub(super) members: Vec<ReaderId>,
    /// Where each partition should be: partition `p` goes to
    /// `members[p % members.len()]`.
    pub(super) target: Vec<Option<ReaderId>>,
    /// Who holds each partition now. A partition whose target moved stays
    /// with its holder until that member's next call (or its leaving), so
    /// it can settle what it holds first; then the target takes it up.
    pub(super) holder: Vec<Option<ReaderId>>,
    /// Members whose assignment changed and who have not been told.
    pub(super) untold: Vec<ReaderId>,
    /// Members of an assigned group waiting for a partition to be let go.
    pub(super) waiters: Vec<(ReaderId, Waker)>,
}

impl Membership {
    /// The partitions `member` should own.
    pub(super) fn targets_of(&self, member: ReaderId) -> Vec<u32> {
        (0..)
            .zip(&self.target)
            .filter(|(_, t)| **t == Some(member))
            .map(|(p, _)| p)
            .collect()
    }

    /// Assigns the partitions again (round robin over members in join
    /// order), marking the members whose share changed to be told.
    pub(super) fn reassign(&mut self) {
        let before: Vec<_> = self.members.iter().map(|&m| (m, self.targets_of(m))).collect();
        let n = self.members.len();
        for (p, target) in self.target.iter_mut().enumerate() {
            *target = (n > 0).then(|| self.members[p % n]);
        }
        for (member, old) in before {
            if self.targets_of(member) != old && !self.untold.contains(&member) {
                self.untold.push(member);
            }
        }
        // A partition nobody holds goes to its target at once.
        for (holder, target) in self.holder.iter_mut().zip(&self.target) {
            if holder.is_none() {
                *holder = *target;
            }
        }
    }
}
// ANCHOR_END: coordinator

/// [`join_async`] for a caller that cannot wait: a backend that does not
/// answer at once is a `WouldBlock` error.
pub(crate) fn join<T: Clone + Send + 'static>(
    inner: &Inner<T>,
    group: &str,
    topic: &str,
    from: StartAt,
    assigned: bool,
) -> Result<Member<T>, EventsError> {
    now_or_would_block(join_async(inner, group, topic, from, assigned))
}

/// A new member of `group` on `topic`. What the backend is asked (the
/// topic's logs, the group's committed offsets, the start of a new group)
/// is awaited without holding a lock; the group's state in each partition
/// is made under the groups' lock, all partitions at once, by one joiner.
pub(crate) async fn join_async<T: Clone + Send + 'static>(
    inner: &Inner<T>,
    group: &str,
    topic: &str,
    from: StartAt,
    assigned: bool,
) -> Result<Member<T>, EventsError> {
    if group.is_empty() || group.len() > MAX_NAME_LEN {
        let reason = "a group name must be 1 to 255 bytes";
        return Err(InvalidName::new(group, reason).into());
    }
    if !Pattern::parse(topic)?.is_literal() {
        return Err(EventsError::GroupNeedsTopic(topic.to_owned()));
    }
    let options = TopicOptions::default();
    let (name, topic_parts) = poll_fn(|cx| inner.poll_log(cx, topic, &options)).await?;
    let count = topic_parts.logs.len();
    let key = |partition: u32| (group.to_owned(), name.clone(), partition);
    // Where a new state would start in each partition the group has none
    // in yet (states are never removed): its committed offset, else `from`
    // (to be stored, so a group that never acks still resumes there).
    let missing: Vec<u32> = {
        let groups = lock(&inner.groups);
        (0..count as u32)
            .filter(|&p| !groups.contains_key(&key(p)))
            .collect()
    };
    let mut starts = vec![None; count];
    for p in missing {
        let backend = &inner.backend;
        let committed = poll_fn(|cx| backend.poll_committed(cx, group, &name, p)).await?;
        starts[p as usize] = Some(match committed {
            Some(committed) => (committed, false),
            None => (from.offset_in(&*topic_parts.logs[p as usize]), true),
        });
    }
    let (coord, parts, to_store) = {
        let mut groups = lock(&inner.groups);
        let coord = match groups.get(&key(0)) {
            Some(first) => first.coord.clone(),
            None => Arc::new(Coordinator {
                state: Mutex::new(Membership {
                    shared: 0,
                    members: Vec::new(),
                    target: vec![None; count],
                    holder: vec![None; count],
                    untold: Vec::new(),
                    waiters: Vec::new(),
                }),
            }),
        };
        {
            let membership = lock(&coord.state);
            let other_kind = if assigned {
                membership.shared > 0
            } else {
                !membership.members.is_empty()
            };
            if other_kind {
                return Err(EventsError::GroupKind(group.to_owned()));
            }
        }
        let mut parts = Vec::with_capacity(count);
        for (partition, log) in (0..).zip(topic_parts.logs.iter()) {
            let shared = match groups.get(&key(partition)) {
                Some(shared) => shared.clone(),
                None => {
                    // Looked up above (a state missing then is missing now).
                    let (start, store) =
                        starts[partition as usize].unwrap_or_else(|| (from.offset_in(&**log), true));
                    let state = Group::new(inner, group, &name, partition, log.clone(), start, coord.clone());
                    lock(&state.state).start_unstored = store;
                    let shared = Arc::new(state);
                    groups.insert(key(partition), shared.clone());
                    shared
                }
            };
            parts.push(shared);
        }
        // A new state's start, not stored yet (by this joiner, or by one
        // that failed or gave up): the state's own, so two joiners racing
        // with different `from`s store the same.
        let to_store: Vec<_> = parts
            .iter()
            .filter_map(|part| {
                let state = lock(&part.state);
                state
                    .start_unstored
                    .then(|| (part.clone(), state.committed, state.epoch))
            })
            .collect();
        (coord, parts, to_store)
    };
    for (part, start, epoch) in to_store {
        // Stored again if an ack or a reset moved it meanwhile.
        part.store_commit(start, epoch).await?;
        lock(&part.state).start_unstored = false;
    }
    let reader = ReaderId::new();
    let wakers = {
        let mut membership = lock(&coord.state);
        if assigned {
            membership.members.push(reader);
            membership.reassign();
            crate::diag::rebalanced(group, &name, membership.members.len(), count, "join");
            // A new member learns its share from `assignment`, not as a
            // change.
            membership.untold.retain(|m| *m != reader);
            std::mem::take(&mut membership.waiters)
        } else {
            membership.shared += 1;
            Vec::new()
        }
    };
    // Members that lose a partition let go of it at their next call: wake
    // them to make it.
    wake_members(&parts, wakers);
    Ok(Member {
        coord,
        assigned,
        topic: Arc::from(&*name),
        parts,
        reader,
        turn: 0,
    })
}

/// Wakes `wakers` and every member waiting in any of `parts`.
pub(super) fn wake_members<T: 'static>(parts: &[Arc<Group<T>>], mut wakers: Vec<(ReaderId, Waker)>) {
    for part in parts {
        wakers.append(&mut lock(&part.state).waiters);
    }
    wakers.into_iter().for_each(|(_, waker)| waker.wake());
}

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
    /// [`WouldBlock`](std::io::ErrorKind::WouldBlock)) cannot open the topic or
    /// read or store the group's offsets at once:
    /// [`join_async`](EventBus::join_async) waits instead. The in-memory
    /// backend always can.
    pub fn join(&self, group: &str, topic: &str, from: StartAt) -> Result<Member<T>, EventsError> {
        join(&self.bus.0, group, topic, from, false)
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
        join_async(&self.bus.0, group, topic, from, false).await
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
        join_async(&self.bus.0, group, topic, from, true).await
    }

    /// A new member of consumer group `group` on `topic`, in a group that
    /// assigns partitions, as a Kafka consumer group does: each partition
    /// belongs to exactly one member at a time (round robin over the
    /// members in the order they joined), so the events of one key are
    /// handled in order, by one member at a time. A member that joins or
    /// leaves moves partitions: a member losing one lets go of it at its
    /// next [`recv`](Member::recv) (which returns
    /// [`RecvError::Rebalanced`](crate::events::RecvError::Rebalanced)
    /// once), having had the chance to ack what it handled; the partition's new owner starts at the group's
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
        join(&self.bus.0, group, topic, from, true)
    }
}
