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

use super::backend::{Backend, ReaderId, Record, TopicLog, register, unregister};
use super::error::{EventsError, InvalidName, RecvError};
use super::pattern::{MAX_NAME_LEN, Pattern};
use super::{BATCH, Event, Inner, Offset, StartAt, at_once};
use crate::loom::{Mutex, lock};
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::ops::Deref;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// One member of a consumer group: made by
/// [`EventBus::join`](super::EventBus::join).
pub struct Member<T: 'static> {
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
}

/// A group's state in one partition of its topic.
pub(crate) struct Group<T: 'static> {
    name: String,
    topic: Arc<str>,
    partition: u32,
    log: Arc<dyn TopicLog<T>>,
    backend: Arc<dyn Backend<T>>,
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
    committed: Offset,
    /// Events that left the retained window before the group read them,
    /// not yet reported.
    lagged: u64,
    /// The log is closed and read to the end.
    done: bool,
    /// Members waiting for an event: one waker each (the latest), removed
    /// when the member leaves, so a member that stopped asking keeps no
    /// task alive here.
    waiters: Vec<(ReaderId, Waker)>,
}
// ANCHOR_END: group-state

pub(crate) fn join<T: Clone + Send + 'static>(
    inner: &Inner<T>,
    group: &str,
    topic: &str,
    from: StartAt,
) -> Result<Member<T>, EventsError> {
    if group.is_empty() || group.len() > MAX_NAME_LEN {
        let reason = "a group name must be 1 to 255 bytes";
        return Err(InvalidName::new(group, reason).into());
    }
    if !Pattern::parse(topic)?.is_literal() {
        return Err(EventsError::GroupNeedsTopic(topic.to_owned()));
    }
    let (name, topic_parts) = inner.log(topic)?;
    let mut groups = lock(&inner.groups);
    let mut parts = Vec::with_capacity(topic_parts.logs.len());
    for (partition, log) in (0..).zip(topic_parts.logs.iter()) {
        let key = (group.to_owned(), name.clone(), partition);
        let shared = match groups.get(&key) {
            Some(shared) => shared.clone(),
            None => {
                let shared = Arc::new(open(inner, group, &name, partition, log.clone(), from)?);
                groups.insert(key, shared.clone());
                shared
            }
        };
        parts.push(shared);
    }
    Ok(Member {
        topic: Arc::from(&*name),
        parts,
        reader: ReaderId::new(),
        turn: 0,
    })
}

/// The group's state in one partition, starting at its committed offset
/// if the backend has one, else `from`.
fn open<T: Clone + Send + 'static>(
    inner: &Inner<T>,
    group: &str,
    topic: &Arc<str>,
    partition: u32,
    log: Arc<dyn TopicLog<T>>,
    from: StartAt,
) -> Result<Group<T>, EventsError> {
    let backend = &inner.backend;
    let start = match at_once(|cx| backend.poll_committed(cx, group, topic, partition))? {
        Some(committed) => committed,
        None => from.offset_in(&*log),
    };
    // Stored at once, so a group that never acks still resumes
    // where it began, not at a new `from`.
    at_once(|cx| {
        backend
            .poll_commit(cx, group, topic, partition, start)
            .map_err(io::Error::from)
    })?;
    Ok(Group {
        name: group.to_owned(),
        topic: topic.clone(),
        partition,
        log,
        backend: inner.backend.clone(),
        state: Mutex::new(GroupState {
            next: start,
            buf: VecDeque::new(),
            redeliver: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            committed: start,
            lagged: 0,
            done: false,
            waiters: Vec::new(),
        }),
    })
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

    /// The group's name.
    pub fn group(&self) -> &str {
        &self.parts[0].name
    }

    /// The group's next event from any partition, each looked at in turn;
    /// `Closed` only once every partition is.
    fn next(&mut self, waker: Option<&Waker>) -> Option<Result<GroupEvent<T>, RecvError>> {
        let n = self.parts.len();
        let mut closed = 0;
        for i in 0..n {
            let at = (self.turn + i) % n;
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
                Some(record) => (record, 1),
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
        drop(state);
        Some(Ok(GroupEvent {
            group: group.clone(),
            seq: record.seq,
            deliveries,
            event: Some(Event {
                topic: topic.clone(),
                partition: group.partition,
                offset: record.offset,
                properties: record.properties,
                key: record.key,
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
        let oldest = [
            state.in_flight.keys().next().copied(),
            state.redeliver.keys().next().copied(),
            state.buf.front().map(|r| r.offset),
        ];
        let oldest = oldest.into_iter().flatten().min().unwrap_or(state.next);
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

    /// Ends the delivery of `event`: acked, or given back to the group.
    fn settle(&self, event: Event<T>, seq: u64, deliveries: u32, ack: bool) -> Result<(), EventsError> {
        let (result, waiters) = {
            let mut state = lock(&self.state);
            state.in_flight.remove(&event.offset);
            let result = if ack {
                self.advance(&mut state)
            } else {
                let record = Record {
                    offset: event.offset,
                    seq,
                    properties: event.properties,
                    key: event.key,
                    payload: event.payload,
                };
                state.redeliver.insert(record.offset, (record, deliveries));
                Ok(())
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

impl<T: 'static> GroupEvent<T> {
    /// Marks the event handled: the group's committed offset moves past it
    /// once every earlier event is acked too.
    ///
    /// # Errors
    ///
    /// [`EventsError::Backend`] if the backend failed to store the new
    /// committed offset, or could not at once (an error of kind
    /// `WouldBlock`: an ack does not wait). The ack itself counts, and the
    /// commit is tried again at the next ack.
    pub fn ack(mut self) -> Result<(), EventsError> {
        let event = self.event.take().expect("a GroupEvent is settled only once");
        self.group.settle(event, self.seq, self.deliveries, true)
    }

    /// Gives the event back to the group, to be handed out again (as
    /// dropping it does).
    pub fn nack(mut self) {
        if let Some(event) = self.event.take() {
            let _ = self.group.settle(event, self.seq, self.deliveries, false);
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
            let _ = self.group.settle(event, self.seq, self.deliveries, false);
        }
    }
}

impl<T: 'static> Drop for Member<T> {
    /// A member that leaves takes its waker with it.
    fn drop(&mut self) {
        for part in &self.parts {
            let _gone = unregister(&mut lock(&part.state).waiters, self.reader);
            part.log.forget(self.reader);
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
