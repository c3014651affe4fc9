//! One member of a group: [`Member`], receiving from the partitions it
//! shares or owns, committing, and leaving.

use super::event::GroupEvent;
use super::membership::{Coordinator, wake_members};
use super::state::{Group, Settle, oldest_unacked};
use crate::events::Offset;
use crate::events::backend::{ReaderId, register, unregister};
use crate::events::error::{EventsError, RecvError};
use crate::loom::lock;
use std::fmt;
use std::future::poll_fn;
use std::sync::Arc;
use std::task::{Context, Poll, Waker, ready};
use weft_primitives::coop;

/// One member of a consumer group: made by
/// [`EventBus::join`](crate::events::EventBus::join) (sharing every partition) or
/// [`EventBus::join_assigned`](crate::events::EventBus::join_assigned) (owning
/// the partitions assigned to it).
pub struct Member<T: 'static> {
    /// The group's members on this topic.
    pub(super) coord: Arc<Coordinator>,
    /// Whether partitions are assigned to members, rather than shared.
    pub(super) assigned: bool,
    /// The group's state in each partition of the topic, partition 0
    /// first.
    pub(super) parts: Vec<Arc<Group<T>>>,
    /// This member's own copy of the topic name.
    pub(super) topic: Arc<str>,
    /// Its key among the group's waiters and the log's.
    pub(super) reader: ReaderId,
    /// The partition it looks at first next time, so that one busy
    /// partition does not starve the others.
    pub(super) turn: usize,
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

    /// Polls for the group's next event; see [`recv`](Member::recv). Each
    /// event (or error) returned spends a unit of the runtime's cooperative
    /// budget, so that a loop over a member with a backlog yields now and
    /// then.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<GroupEvent<T>, RecvError>> {
        let proceed = ready!(coop::poll_proceed(cx));
        match self.next(Some(cx.waker())) {
            Some(result) => {
                proceed.made_progress();
                Poll::Ready(result)
            }
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
    pub(super) fn next(&mut self, waker: Option<&Waker>) -> Option<Result<GroupEvent<T>, RecvError>> {
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
    /// shares them ([`EventBus::join`](crate::events::EventBus::join)); for an
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
                let group = self.parts.first().map_or("", |part| &part.name);
                crate::diag::rebalanced(
                    group,
                    &self.topic,
                    membership.members.len(),
                    self.parts.len(),
                    "leave",
                );
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
