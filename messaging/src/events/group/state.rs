//! A group's state in one partition: [`Group`] and `GroupState` (its
//! position, what is in flight, what was given back, its committed offset),
//! handing events out, settling them, rewinding on a reset or a rebalance.

use super::event::GroupEvent;
use super::membership::Coordinator;
use crate::events::backend::{Backend, ReadPlace, ReaderId, Record, TopicLog, register, unregister};
use crate::events::error::{EventsError, RecvError};
use crate::events::event::Source;
use crate::events::{BATCH, Event, Inner, Offset, at_once};
use crate::loom::{Mutex, lock};
use std::collections::{BTreeMap, VecDeque};
use std::future::poll_fn;
use std::io;
use std::sync::Arc;
use std::task::{Poll, Waker};

/// A group's state in one partition of its topic.
pub(crate) struct Group<T: 'static> {
    pub(super) name: String,
    topic: Arc<str>,
    partition: u32,
    /// The topic and partition its events carry.
    source: Arc<Source>,
    pub(super) log: Arc<dyn TopicLog<T>>,
    backend: Arc<dyn Backend<T>>,
    pub(super) coord: Arc<Coordinator>,
    pub(super) state: Mutex<GroupState<T>>,
}

// ANCHOR: group-state
pub(super) struct GroupState<T> {
    /// The next offset to read from the log.
    pub(super) next: Offset,
    /// Read from the log, not handed out yet.
    pub(super) buf: VecDeque<Record<T>>,
    /// Where the log finds `next` again without a lookup.
    pub(super) place: ReadPlace,
    /// Given back by members, by offset, with their delivery counts.
    pub(super) redeliver: BTreeMap<Offset, (Record<T>, u32)>,
    /// Handed out and not settled, by offset, with their delivery counts.
    pub(super) in_flight: BTreeMap<Offset, u32>,
    /// Delivery counts of events handed out before the partition was
    /// rewound, for when they are handed out again.
    pub(super) prior: BTreeMap<Offset, u32>,
    /// One more each time the partition is rewound to its committed
    /// offset (a rebalance), so that settling an event handed out before
    /// is told apart.
    pub(super) epoch: u64,
    pub(super) committed: Offset,
    /// Events that left the retained window before the group read them,
    /// not yet reported.
    lagged: u64,
    /// A new group's start that the backend does not have yet: the next
    /// joiner stores it.
    pub(super) start_unstored: bool,
    /// The log is closed and read to the end.
    done: bool,
    /// Members waiting for an event: one waker each (the latest), removed
    /// when the member leaves, so a member that stopped asking keeps no
    /// task alive here.
    pub(super) waiters: Vec<(ReaderId, Waker)>,
}
// ANCHOR_END: group-state

impl<T: 'static> Group<T> {
    /// The group's state in one partition, starting at `start`.
    pub(super) fn new(
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
            source: Source::new(topic.clone(), partition),
            log,
            backend: inner.backend.clone(),
            coord,
            state: Mutex::new(GroupState {
                next: start,
                buf: VecDeque::new(),
                place: ReadPlace::new(),
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

impl<T: 'static> Group<T> {
    // ANCHOR: rewind
    /// Rewinds this partition to its committed offset for its next owner,
    /// as `leaving` lets go of it: what was read ahead or handed out and
    /// not acked will be handed out again (an ack of it from before now
    /// fails). This is the at-least-once window of a rebalance.
    pub(super) fn rewind(&self, leaving: ReaderId) {
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
    pub(super) fn is_finished(&self) -> bool {
        let state = lock(&self.state);
        state.done && state.in_flight.is_empty() && state.redeliver.is_empty() && state.buf.is_empty()
    }
}

impl<T: Clone + Send + 'static> Group<T> {
    /// The next event of this partition for `reader`.
    pub(super) fn next(
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
                    .poll_read(reader, &mut state.place, state.next, BATCH, &mut state.buf, waker)
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
            event: Some(Event::new(group.source.clone(), record)),
        }))
    }
}

impl<T: 'static> Group<T> {
    // ANCHOR: advance
    /// Moves the committed offset up to the oldest event not yet acked and
    /// stores it if it moved.
    pub(super) fn advance(&self, state: &mut GroupState<T>) -> Result<(), EventsError> {
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
    pub(super) async fn store_commit(&self, mut target: Offset, mut epoch: u64) -> Result<(), EventsError> {
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
    pub(super) fn settle(
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
                let offset = record.offset.get();
                crate::diag::group_redelivery(&self.name, &self.topic, self.partition, offset, deliveries);
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
pub(super) enum Settle {
    /// Given back to the group.
    Nack,
    /// Acked, storing the commit it moves at once (or failing).
    AckNow,
    /// Acked, leaving the commit it moves for the caller to store.
    AckLater,
}

/// The oldest offset not yet acked in `state`: where the committed offset
/// may move up to.
pub(super) fn oldest_unacked<T>(state: &GroupState<T>) -> Offset {
    let oldest = [
        state.in_flight.keys().next().copied(),
        state.redeliver.keys().next().copied(),
        state.buf.front().map(|r| r.offset),
    ];
    oldest.into_iter().flatten().min().unwrap_or(state.next)
}
