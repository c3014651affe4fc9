//! Consumer groups: members sharing one topic's events, with a committed
//! offset that outlives them.
//!
//! The group reads the topic once, at its own position, and hands each
//! event to one member. A member [`ack`](GroupEvent::ack)s what it handled;
//! an event dropped unacked (or [`nack`](GroupEvent::nack)ed) goes back to
//! the group and out again, to whichever member asks first. The committed
//! offset is the oldest event not yet acked: everything before it is done,
//! and the backend stores it, so a group rebuilt on the same backend
//! resumes there.

mod membership;

use super::backend::{Backend, ReaderId, Record, TopicLog, register, unregister};
use super::error::{EventsError, InvalidName, RecvError};
use super::pattern::{MAX_NAME_LEN, Pattern};
use super::{BATCH, Event, Inner, Offset, StartAt, TopicOptions, at_once, now_or_would_block};
use crate::loom::{Mutex, lock};
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::ops::Deref;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// One member of a consumer group: made by
/// [`EventBus::join`](super::EventBus::join) (sharing every partition) or
/// [`EventBus::join_assigned`](super::EventBus::join_assigned) (owning
/// the partitions assigned to it).
pub struct Member<T: 'static> {
    /// The group's members on this topic.
    coord: Arc<Coordinator>,
    /// Whether partitions are assigned to members, rather than shared.
    assigned: bool,
    /// The group's state in each partition of the topic, partition 0
    /// first.
    parts: Vec<Arc<Group<T>>>,
    /// This member's own copy of the topic name.
    topic: Arc<str>,
    /// Its key among the group's waiters and the log's.
    reader: ReaderId,
    /// The partition it looks at first next time, so that one busy
    /// partition does not starve the others.
    turn: usize,
}

/// An event handed to one member of a group. [`ack`](GroupEvent::ack) it
/// when handled; dropped without an ack, it goes back to the group.
/// Dereferences to the payload.
pub struct GroupEvent<T: 'static> {
    group: Arc<Group<T>>,
    /// `None` once settled.
    event: Option<Event<T>>,
    seq: u64,
    deliveries: u32,
    /// The partition's epoch when it was handed out: an older one than
    /// the partition's now means the partition was rewound since.
    epoch: u64,
}

// ANCHOR: coordinator
/// Who belongs to a group on one topic, and (for an assigned group) who
/// owns which partition.
pub(crate) struct Coordinator {
    state: Mutex<Membership>,
}

struct Membership {
    /// Members that share every partition ([`join`]).
    shared: usize,
    /// Members of an assigned group, in the order they joined.
    members: Vec<ReaderId>,
    /// Where each partition should be: partition `p` goes to
    /// `members[p % members.len()]`.
    target: Vec<Option<ReaderId>>,
    /// Who holds each partition now. A partition whose target moved stays
    /// with its holder until that member's next call (or its leaving), so
    /// it can settle what it holds first; then the target takes it up.
    holder: Vec<Option<ReaderId>>,
    /// Members whose assignment changed and who have not been told.
    untold: Vec<ReaderId>,
    /// Members of an assigned group waiting for a partition to be let go.
    waiters: Vec<(ReaderId, Waker)>,
}

impl Membership {
    /// The partitions `member` should own.
    fn targets_of(&self, member: ReaderId) -> Vec<u32> {
        (0..)
            .zip(&self.target)
            .filter(|(_, t)| **t == Some(member))
            .map(|(p, _)| p)
            .collect()
    }

    /// Assigns the partitions again (round robin over members in join
    /// order), marking the members whose share changed to be told.
    fn reassign(&mut self) {
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

/// A group's state in one partition of its topic.
pub(crate) struct Group<T: 'static> {
    name: String,
    topic: Arc<str>,
    partition: u32,
    log: Arc<dyn TopicLog<T>>,
    backend: Arc<dyn Backend<T>>,
    coord: Arc<Coordinator>,
    state: Mutex<GroupState<T>>,
}

// ANCHOR: group-state
struct GroupState<T> {
    /// The next offset to read from the log.
    next: Offset,
    /// Read from the log, not handed out yet.
    buf: VecDeque<Record<T>>,
    /// Given back by members, by offset, with their delivery counts.
    redeliver: BTreeMap<Offset, (Record<T>, u32)>,
    /// Handed out and not settled, by offset, with their delivery counts.
    in_flight: BTreeMap<Offset, u32>,
    /// Delivery counts of events handed out before the partition was
    /// rewound, for when they are handed out again.
    prior: BTreeMap<Offset, u32>,
    /// One more each time the partition is rewound to its committed
    /// offset (a rebalance), so that settling an event handed out before
    /// is told apart.
    epoch: u64,
    committed: Offset,
    /// Events that left the retained window before the group read them,
    /// not yet reported.
    lagged: u64,
    /// A new group's start that the backend does not have yet: the next
    /// joiner stores it.
    start_unstored: bool,
    /// The log is closed and read to the end.
    done: bool,
    /// Members waiting for an event: one waker each (the latest), removed
    /// when the member leaves, so a member that stopped asking keeps no
    /// task alive here.
    waiters: Vec<(ReaderId, Waker)>,
}
// ANCHOR_END: group-state

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
fn wake_members<T: 'static>(parts: &[Arc<Group<T>>], mut wakers: Vec<(ReaderId, Waker)>) {
    for part in parts {
        wakers.append(&mut lock(&part.state).waiters);
    }
    wakers.into_iter().for_each(|(_, waker)| waker.wake());
}

impl<T: 'static> Group<T> {
    /// The group's state in one partition, starting at `start`.
    fn new(
        inner: &Inner<T>,
        group: &str,
        topic: &Arc<str>,
        partition: u32,
        log: Arc<dyn TopicLog<T>>,
        start: Offset,
        coord: Arc<Coordinator>,
    ) -> Group<T> {
        Group {
            name: group.to_owned(),
            topic: topic.clone(),
            partition,
            log,
            backend: inner.backend.clone(),
            coord,
            state: Mutex::new(GroupState {
                next: start,
                buf: VecDeque::new(),
                redeliver: BTreeMap::new(),
                in_flight: BTreeMap::new(),
                prior: BTreeMap::new(),
                epoch: 0,
                committed: start,
                lagged: 0,
                start_unstored: false,
                done: false,
                waiters: Vec::new(),
            }),
        }
    }
}

impl<T: Clone + Send + 'static> Member<T> {
    /// Waits for the group's next event. Cancel-safe.
    ///
    /// # Errors
    ///
    /// [`RecvError::Lagged`] if the group fell behind the topic's retained
    /// window (one member is told; the group goes on);
    /// [`RecvError::Closed`] once the bus is closed and every event was
    /// handed out and settled: a member that holds an unacked event while
    /// it waits here waits until that event is settled, so settle first.
    pub async fn recv(&mut self) -> Result<GroupEvent<T>, RecvError> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the group's next event; see [`recv`](Member::recv).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<GroupEvent<T>, RecvError>> {
        match self.next(Some(cx.waker())) {
            Some(result) => Poll::Ready(result),
            None => Poll::Pending,
        }
    }

    /// The group's next event if one is ready: `None` if none is yet.
    pub fn try_recv(&mut self) -> Option<Result<GroupEvent<T>, RecvError>> {
        self.next(None)
    }

    /// The group's committed offset in partition 0 (the topic's only one
    /// unless it was made with more; see
    /// [`committed_in`](Member::committed_in)): every event before it was
    /// acked, or left the topic's retained window before the group read it
    /// (which a [`RecvError::Lagged`] reported).
    pub fn committed(&self) -> Offset {
        lock(&self.parts[0].state).committed
    }

    /// The group's committed offset in partition `partition`; `None` if
    /// the topic has no such partition.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, Offset, StartAt, TopicOptions};
    ///
    /// let bus = EventBus::new();
    /// let options = TopicOptions { partitions: 2, ..TopicOptions::default() };
    /// let jobs = bus.create_topic("job.queued", options).unwrap();
    /// let mut member = bus.join("workers", "job.queued", StartAt::Start).unwrap();
    /// jobs.try_publish_to(1, "rebuild").unwrap();
    /// member.try_recv().unwrap().unwrap().ack().unwrap();
    /// assert_eq!(member.committed_in(1), Some(Offset::new(1)));
    /// assert_eq!(member.committed_in(0), Some(Offset::new(0)));
    /// ```
    pub fn committed_in(&self, partition: u32) -> Option<Offset> {
        let part = self.parts.get(partition as usize)?;
        Some(lock(&part.state).committed)
    }

    // ANCHOR: commit-up-to
    /// Commits every event of `partition` before `offset` in one call, as
    /// a batch: those handed out are settled as acked (their
    /// [`GroupEvent`]s, acked or dropped later, change nothing), and the
    /// group's committed offset moves up to `offset`, or further if the
    /// events after it are settled too. An offset past the events handed
    /// out so far is taken as the first not handed out.
    ///
    /// # Errors
    ///
    /// [`EventsError::Revoked`] if this member of an assigned group does
    /// not hold `partition`, or the topic has no such partition;
    /// [`EventsError::Backend`] as for [`GroupEvent::ack`] (which does not
    /// wait; [`commit_up_to_async`](Member::commit_up_to_async) does).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, Offset, StartAt};
    ///
    /// let bus = EventBus::new();
    /// let mut member = bus.join("billing", "order.paid", StartAt::Start).unwrap();
    /// for n in 0..3 {
    ///     bus.try_publish("order.paid", n).unwrap();
    /// }
    /// let batch: Vec<_> = (0..3).map(|_| member.try_recv().unwrap().unwrap()).collect();
    /// member.commit_up_to(0, Offset::new(3)).unwrap();
    /// drop(batch); // settled already: nothing goes back
    /// assert_eq!(member.committed(), Offset::new(3));
    /// assert!(member.try_recv().is_none());
    /// ```
    pub fn commit_up_to(&self, partition: u32, offset: Offset) -> Result<(), EventsError> {
        self.settle_up_to(partition, offset, Settle::AckNow).map(|_| ())
    }

    /// Commits every event of `partition` before `offset` in one call, as
    /// [`commit_up_to`](Member::commit_up_to) does, and waits until the
    /// backend has stored the committed offset this moves.
    ///
    /// # Errors
    ///
    /// As [`commit_up_to`](Member::commit_up_to), never of kind
    /// `WouldBlock`.
    ///
    /// # Cancel safety
    ///
    /// As [`GroupEvent::ack_async`]: the batch counts from the first poll
    /// on; dropped while the backend stores the commit, the commit may or
    /// may not be stored, and the next ack stores it if not.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, Offset, StartAt};
    ///
    /// weft::block_on(async {
    ///     let bus = EventBus::new();
    ///     let mut member = bus.join_async("billing", "order.paid", StartAt::Start).await.unwrap();
    ///     for n in 0..3 {
    ///         bus.publish("order.paid", n).await.unwrap();
    ///     }
    ///     let mut batch = Vec::new();
    ///     for _ in 0..3 {
    ///         batch.push(member.recv().await.unwrap());
    ///     }
    ///     member.commit_up_to_async(0, Offset::new(3)).await.unwrap();
    ///     assert_eq!(bus.committed_async("billing", "order.paid").await.unwrap(), Some(Offset::new(3)));
    /// });
    /// ```
    pub async fn commit_up_to_async(&self, partition: u32, offset: Offset) -> Result<(), EventsError> {
        match self.settle_up_to(partition, offset, Settle::AckLater)? {
            Some((target, epoch)) => self.parts[partition as usize].store_commit(target, epoch).await,
            None => Ok(()),
        }
    }

    /// Settles every event of `partition` before `offset` as acked; see
    /// [`Group::settle`] for `how` and what it returns.
    fn settle_up_to(
        &self,
        partition: u32,
        offset: Offset,
        how: Settle,
    ) -> Result<Option<(Offset, u64)>, EventsError> {
        let revoked = || EventsError::Revoked {
            topic: self.topic.clone(),
            partition,
        };
        let part = self.parts.get(partition as usize).ok_or_else(revoked)?;
        // Held across, so the partition cannot move to another member
        // meanwhile.
        let membership = lock(&self.coord.state);
        if self.assigned && membership.holder[partition as usize] != Some(self.reader) {
            return Err(revoked());
        }
        let (result, _settled) = {
            let mut state = lock(&part.state);
            let state = &mut *state;
            // Never past an event not handed out yet.
            let handed = state.buf.front().map_or(state.next, |r| r.offset);
            let offset = offset.min(handed);
            state.in_flight.retain(|&at, _| at >= offset);
            state.prior.retain(|&at, _| at >= offset);
            let kept = state.redeliver.split_off(&offset);
            let settled = std::mem::replace(&mut state.redeliver, kept);
            let result = match how {
                Settle::AckLater => {
                    let oldest = oldest_unacked(state);
                    Ok((oldest > state.committed).then_some((oldest, state.epoch)))
                }
                _ => part.advance(state).map(|()| None),
            };
            (result, settled)
        };
        drop(membership);
        result
    }
    // ANCHOR_END: commit-up-to

    /// The group's name.
    pub fn group(&self) -> &str {
        &self.parts[0].name
    }

    /// The group's next event from any partition, each looked at in turn;
    /// `Closed` only once every partition is.
    fn next(&mut self, waker: Option<&Waker>) -> Option<Result<GroupEvent<T>, RecvError>> {
        let n = self.parts.len();
        let mut owned = None;
        if self.assigned {
            let (rebalanced, mine) = self.take_up(waker);
            if let Some(partitions) = rebalanced {
                let topic = self.topic.clone();
                return Some(Err(RecvError::Rebalanced { topic, partitions }));
            }
            owned = Some(mine);
        }
        let mut closed = 0;
        for i in 0..n {
            let at = (self.turn + i) % n;
            if owned.as_ref().is_some_and(|mine| !mine.contains(&(at as u32))) {
                // Another member's; closed once every partition is.
                closed += usize::from(self.parts[at].is_finished());
                continue;
            }
            match self.parts[at].next(&self.topic, self.reader, waker) {
                Some(Err(RecvError::Closed)) => closed += 1,
                Some(result) => {
                    self.turn = (at + 1) % n;
                    return Some(result);
                }
                None => {}
            }
        }
        (closed == n).then_some(Err(RecvError::Closed))
    }

    // ANCHOR: take-up
    /// For an assigned member: lets go of the partitions that are no
    /// longer its own (rewinding them to their committed offset, so their
    /// new owner starts there), takes up those let go to it, and says
    /// whether it must be told of a change. Returns that, and the
    /// partitions it holds.
    fn take_up(&mut self, waker: Option<&Waker>) -> (Option<Vec<u32>>, Vec<u32>) {
        let me = self.reader;
        // Dropped after the lock: a waker's drop may call back in.
        let mut _displaced = None;
        let mut wake = Vec::new();
        let mut guard = lock(&self.coord.state);
        let membership = &mut *guard;
        for (p, part) in self.parts.iter().enumerate() {
            let (target, holder) = (membership.target[p], membership.holder[p]);
            if holder == Some(me) && target != Some(me) {
                part.rewind(me);
                membership.holder[p] = target;
                wake.extend(std::mem::take(&mut membership.waiters));
            }
            if target == Some(me) && membership.holder[p].is_none() {
                membership.holder[p] = Some(me);
            }
        }
        // Every rebalance wakes the membership's waiters, so a member that
        // may come to wait leaves its waker here: one waiting for a
        // partition another member still holds, and one that holds none at
        // all (more members than partitions), which no partition's waiters
        // would ever reach.
        if let Some(waker) = waker {
            _displaced = register(&mut membership.waiters, me, waker);
        }
        let mine: Vec<u32> = (0..)
            .zip(&membership.holder)
            .filter(|(_, h)| **h == Some(me))
            .map(|(p, _)| p)
            .collect();
        let told = match membership.untold.iter().position(|m| *m == me) {
            Some(at) => {
                membership.untold.swap_remove(at);
                Some(membership.targets_of(me))
            }
            None => None,
        };
        drop(guard);
        wake.into_iter().for_each(|(_, waker)| waker.wake());
        (told, mine)
    }
    // ANCHOR_END: take-up

    /// The partitions this member owns now: every one for a member that
    /// shares them ([`EventBus::join`](super::EventBus::join)); for an
    /// assigned member, those it holds (a partition assigned to it that
    /// another member has not let go of yet is not among them).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, StartAt, TopicOptions};
    ///
    /// let bus = EventBus::<u32>::new();
    /// let options = TopicOptions { partitions: 4, ..TopicOptions::default() };
    /// bus.create_topic("job.queued", options).unwrap();
    /// let a = bus.join_assigned("workers", "job.queued", StartAt::Start).unwrap();
    /// assert_eq!(a.assignment(), [0, 1, 2, 3]);
    /// ```
    pub fn assignment(&self) -> Vec<u32> {
        if !self.assigned {
            return (0..self.parts.len() as u32).collect();
        }
        let membership = lock(&self.coord.state);
        (0..)
            .zip(&membership.holder)
            .filter(|(_, h)| **h == Some(self.reader))
            .map(|(p, _)| p)
            .collect()
    }
}

impl<T: 'static> Group<T> {
    // ANCHOR: rewind
    /// Rewinds this partition to its committed offset for its next owner,
    /// as `leaving` lets go of it: what was read ahead or handed out and
    /// not acked will be handed out again (an ack of it from before now
    /// fails). This is the at-least-once window of a rebalance.
    fn rewind(&self, leaving: ReaderId) {
        let _gone = {
            let mut state = lock(&self.state);
            let state = &mut *state;
            state.next = state.committed;
            state.buf.clear();
            for (offset, (_, n)) in std::mem::take(&mut state.redeliver) {
                state.prior.insert(offset, n);
            }
            for (offset, n) in std::mem::take(&mut state.in_flight) {
                state.prior.insert(offset, n);
            }
            state.epoch += 1;
            state.done = false;
            unregister(&mut state.waiters, leaving)
        };
        self.log.forget(leaving);
    }
    // ANCHOR_END: rewind

    /// Whether any member is in the group (on this topic).
    pub(crate) fn has_members(&self) -> bool {
        let membership = lock(&self.coord.state);
        membership.shared > 0 || !membership.members.is_empty()
    }

    /// Moves the group's position in this partition to `offset` while no
    /// member is in it: everything before counts as handled, everything
    /// from it will be handed out; events still out (held past their
    /// member's leaving) no longer count.
    pub(crate) async fn reset(&self, offset: Offset) -> Result<(), EventsError> {
        let backend = &self.backend;
        poll_fn(|cx| backend.poll_commit(cx, &self.name, &self.topic, self.partition, offset))
            .await
            .map_err(io::Error::from)?;
        let _dropped = {
            let mut state = lock(&self.state);
            let state = &mut *state;
            state.next = offset;
            state.committed = offset;
            state.in_flight.clear();
            state.prior.clear();
            state.epoch += 1;
            state.done = false;
            state.lagged = 0;
            (
                std::mem::take(&mut state.buf),
                std::mem::take(&mut state.redeliver),
            )
        };
        Ok(())
    }

    /// Closed, read to the end and everything settled.
    fn is_finished(&self) -> bool {
        let state = lock(&self.state);
        state.done && state.in_flight.is_empty() && state.redeliver.is_empty() && state.buf.is_empty()
    }
}

impl<T: Clone + Send + 'static> Group<T> {
    /// The next event of this partition for `reader`.
    fn next(
        self: &Arc<Self>,
        topic: &Arc<str>,
        reader: ReaderId,
        waker: Option<&Waker>,
    ) -> Option<Result<GroupEvent<T>, RecvError>> {
        let group = self;
        // Declared before the guard, so dropped after it: a waker's drop
        // may call back into the bus.
        let mut _displaced = None;
        let mut state = lock(&group.state);
        // ANCHOR: group-next
        let (record, deliveries) = if let Some((_, (record, n))) = state.redeliver.pop_first() {
            (record, n + 1)
        } else {
            if state.buf.is_empty() && !state.done {
                let state = &mut *state;
                match group
                    .log
                    .poll_read(reader, state.next, BATCH, &mut state.buf, waker)
                {
                    Poll::Ready(Ok(read)) => {
                        state.next = read.next;
                        state.lagged += read.skipped;
                        state.done = read.closed && state.buf.is_empty();
                    }
                    Poll::Ready(Err(error)) => {
                        let error = Arc::new(error);
                        return Some(Err(RecvError::Io {
                            topic: topic.clone(),
                            error,
                        }));
                    }
                    Poll::Pending => {}
                }
            }
            if state.lagged > 0 {
                let skipped = std::mem::take(&mut state.lagged);
                // The skipped events will never be acked: move past them.
                let _ = group.advance(&mut state);
                return Some(Err(RecvError::Lagged {
                    topic: topic.clone(),
                    skipped,
                }));
            }
            match state.buf.pop_front() {
                Some(record) if state.prior.is_empty() => (record, 1),
                Some(record) => {
                    let before = state.prior.remove(&record.offset).unwrap_or(0);
                    (record, before + 1)
                }
                None => {
                    if state.done && state.in_flight.is_empty() {
                        return Some(Err(RecvError::Closed));
                    }
                    if let Some(waker) = waker {
                        _displaced = register(&mut state.waiters, reader, waker);
                    }
                    return None;
                }
            }
        };
        // ANCHOR_END: group-next
        state.in_flight.insert(record.offset, deliveries);
        let epoch = state.epoch;
        drop(state);
        Some(Ok(GroupEvent {
            group: group.clone(),
            seq: record.seq,
            deliveries,
            epoch,
            event: Some(Event {
                topic: topic.clone(),
                partition: group.partition,
                offset: record.offset,
                properties: record.properties,
                key: record.key,
                timestamp: record.timestamp,
                payload: record.payload,
            }),
        }))
    }
}

impl<T: 'static> Group<T> {
    // ANCHOR: advance
    /// Moves the committed offset up to the oldest event not yet acked and
    /// stores it if it moved.
    fn advance(&self, state: &mut GroupState<T>) -> Result<(), EventsError> {
        let oldest = oldest_unacked(state);
        if oldest > state.committed {
            // Moved only once stored, so a failed (or not yet confirmed)
            // commit is tried again at the next ack.
            let backend = &self.backend;
            at_once(|cx| {
                backend
                    .poll_commit(cx, &self.name, &self.topic, self.partition, oldest)
                    .map_err(io::Error::from)
            })?;
            state.committed = oldest;
        }
        Ok(())
    }
    // ANCHOR_END: advance

    /// Stores `target` as the committed offset, waiting for the backend,
    /// then moves the group's to it. If the group's moved otherwise
    /// meanwhile (another ack, a reset: `epoch` says), the store may have
    /// overwritten a newer one, so the group's is stored again: the
    /// backend ends with what the group holds.
    async fn store_commit(&self, mut target: Offset, mut epoch: u64) -> Result<(), EventsError> {
        loop {
            let backend = &self.backend;
            poll_fn(|cx| backend.poll_commit(cx, &self.name, &self.topic, self.partition, target))
                .await
                .map_err(io::Error::from)?;
            let mut state = lock(&self.state);
            if state.epoch == epoch && state.committed <= target {
                state.committed = target;
                return Ok(());
            }
            if state.committed == target {
                return Ok(());
            }
            (target, epoch) = (state.committed, state.epoch);
        }
    }

    /// Ends the delivery of `event`: acked, or given back to the group.
    /// For [`Settle::AckLater`], returns the committed offset to store (and
    /// the epoch it was reckoned in) if the ack moves it.
    fn settle(
        &self,
        event: Event<T>,
        seq: u64,
        deliveries: u32,
        epoch: u64,
        how: Settle,
    ) -> Result<Option<(Offset, u64)>, EventsError> {
        let ack = how != Settle::Nack;
        let (result, waiters) = {
            let mut state = lock(&self.state);
            if state.epoch != epoch {
                // Rewound since: the partition's new owner has it again.
                drop(state);
                return match ack {
                    true => Err(EventsError::Revoked {
                        topic: self.topic.clone(),
                        partition: self.partition,
                    }),
                    false => Ok(None),
                };
            }
            if event.offset < state.committed {
                // Committed past already (`commit_up_to`): settled.
                drop(state);
                return Ok(None);
            }
            state.in_flight.remove(&event.offset);
            let result = if how == Settle::AckNow {
                self.advance(&mut state).map(|()| None)
            } else if how == Settle::AckLater {
                let oldest = oldest_unacked(&state);
                Ok((oldest > state.committed).then_some((oldest, state.epoch)))
            } else {
                let record = Record {
                    offset: event.offset,
                    seq,
                    properties: event.properties,
                    key: event.key,
                    timestamp: event.timestamp,
                    payload: event.payload,
                };
                state.redeliver.insert(record.offset, (record, deliveries));
                Ok(None)
            };
            // Wake members for an event given back, or for the last
            // settle of a closed group; an ack otherwise changes nothing
            // they wait for.
            let wake = !ack || (state.done && state.in_flight.is_empty());
            let waiters = if wake {
                std::mem::take(&mut state.waiters)
            } else {
                Vec::new()
            };
            (result, waiters)
        };
        waiters.into_iter().for_each(|(_, waker)| waker.wake());
        result
    }
}

/// How [`Group::settle`] ends a delivery.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Settle {
    /// Given back to the group.
    Nack,
    /// Acked, storing the commit it moves at once (or failing).
    AckNow,
    /// Acked, leaving the commit it moves for the caller to store.
    AckLater,
}

/// The oldest offset not yet acked in `state`: where the committed offset
/// may move up to.
fn oldest_unacked<T>(state: &GroupState<T>) -> Offset {
    let oldest = [
        state.in_flight.keys().next().copied(),
        state.redeliver.keys().next().copied(),
        state.buf.front().map(|r| r.offset),
    ];
    oldest.into_iter().flatten().min().unwrap_or(state.next)
}

impl<T: 'static> GroupEvent<T> {
    /// Marks the event handled: the group's committed offset moves past it
    /// once every earlier event is acked too.
    ///
    /// # Errors
    ///
    /// [`EventsError::Backend`] if the backend failed to store the new
    /// committed offset, or could not at once (an error of kind
    /// `WouldBlock`: an ack does not wait; [`ack_async`](GroupEvent::ack_async)
    /// does). The ack itself counts, and the commit is tried again at the
    /// next ack. The in-memory backend always stores at once.
    pub fn ack(mut self) -> Result<(), EventsError> {
        let event = self.event.take().expect("a GroupEvent is settled only once");
        self.group
            .settle(event, self.seq, self.deliveries, self.epoch, Settle::AckNow)
            .map(|_| ())
    }

    /// Marks the event handled, as [`ack`](GroupEvent::ack) does, and
    /// waits until the backend has stored the committed offset this moves
    /// (it moves once every earlier event is acked too; if it does not,
    /// there is nothing to wait for).
    ///
    /// # Errors
    ///
    /// [`EventsError::Revoked`] as for [`ack`](GroupEvent::ack);
    /// [`EventsError::Backend`] if the backend failed to store the new
    /// committed offset (never of kind `WouldBlock`). The ack itself
    /// counts, and the commit is tried again at the next ack.
    ///
    /// # Cancel safety
    ///
    /// The ack counts from the first poll on. Dropped while the backend
    /// stores the commit, the commit may or may not be stored; the next
    /// ack stores it if not.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, Offset, StartAt};
    ///
    /// weft::block_on(async {
    ///     let bus = EventBus::new();
    ///     let mut member = bus.join_async("billing", "order.paid", StartAt::Start).await.unwrap();
    ///     bus.publish("order.paid", 42).await.unwrap();
    ///     member.recv().await.unwrap().ack_async().await.unwrap();
    ///     assert_eq!(bus.committed_async("billing", "order.paid").await.unwrap(), Some(Offset::new(1)));
    /// });
    /// ```
    pub async fn ack_async(mut self) -> Result<(), EventsError> {
        let event = self.event.take().expect("a GroupEvent is settled only once");
        let moved = self
            .group
            .settle(event, self.seq, self.deliveries, self.epoch, Settle::AckLater)?;
        match moved {
            Some((target, epoch)) => self.group.store_commit(target, epoch).await,
            None => Ok(()),
        }
    }

    /// Gives the event back to the group, to be handed out again (as
    /// dropping it does).
    pub fn nack(mut self) {
        if let Some(event) = self.event.take() {
            let _ = self
                .group
                .settle(event, self.seq, self.deliveries, self.epoch, Settle::Nack);
        }
    }

    /// How many times the group has handed this event out, this time
    /// included.
    pub fn delivery_count(&self) -> u32 {
        self.deliveries
    }

    /// Whether the event was handed out before.
    pub fn redelivered(&self) -> bool {
        self.deliveries > 1
    }

    /// The event.
    pub fn event(&self) -> &Event<T> {
        self.event.as_ref().expect("a GroupEvent is settled only once")
    }
}

impl<T: 'static> Deref for GroupEvent<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.event().payload()
    }
}

impl<T: 'static> Drop for GroupEvent<T> {
    fn drop(&mut self) {
        if let Some(event) = self.event.take() {
            let _ = self
                .group
                .settle(event, self.seq, self.deliveries, self.epoch, Settle::Nack);
        }
    }
}

impl<T: 'static> Drop for Member<T> {
    /// A member that leaves takes its waker with it.
    fn drop(&mut self) {
        let (wakers, _gone) = {
            let mut membership = lock(&self.coord.state);
            if self.assigned {
                let membership = &mut *membership;
                // What it holds is rewound for the next owner: events it
                // still has in hand will be handed out again.
                for (p, part) in self.parts.iter().enumerate() {
                    if membership.holder[p] == Some(self.reader) {
                        part.rewind(self.reader);
                        // Its next holder is set by `reassign`.
                        membership.holder[p] = None;
                    }
                }
                membership.members.retain(|m| *m != self.reader);
                membership.untold.retain(|m| *m != self.reader);
                let gone = unregister(&mut membership.waiters, self.reader);
                membership.reassign();
                (std::mem::take(&mut membership.waiters), gone)
            } else {
                membership.shared -= 1;
                (Vec::new(), None)
            }
        };
        for part in &self.parts {
            let _gone = unregister(&mut lock(&part.state).waiters, self.reader);
            part.log.forget(self.reader);
        }
        if self.assigned {
            // The members that take up its partitions may be waiting.
            wake_members(&self.parts, wakers);
        }
    }
}

impl<T: 'static> fmt::Debug for Member<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Member")
            .field("group", &self.parts[0].name)
            .field("topic", &self.topic)
            .field("partitions", &self.parts.len())
            .field("committed", &lock(&self.parts[0].state).committed.get())
            .finish()
    }
}

impl<T: fmt::Debug + 'static> fmt::Debug for GroupEvent<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupEvent")
            .field("event", &self.event)
            .field("deliveries", &self.deliveries)
            .finish()
    }
}
