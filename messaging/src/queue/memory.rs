//! The in-process backend of the work queue: every message in memory,
//! deadlines, delays and TTLs on the spawner's clock.
//!
//! # Protocol
//!
//! All state sits in one [`State`] behind one mutex. A message is in
//! exactly one place: `ready` (by priority), `in_flight` (by delivery tag;
//! a delivery set aside for a waiting consumer is also in `handed` until
//! its `recv` takes it), `delayed` (given back with a delay, until its
//! timer moves it to `ready`), or `dead`; or it has left (acked, purged).
//! Every change that can let a message move ends with `dispatch`, which
//! pairs waiting consumers with ready messages and wakes one waiting
//! producer per free slot. Wakers are collected under the lock and woken,
//! and displaced wakers dropped, after it is released.

mod batch;
mod expiry;
mod publish;
mod ready;
mod settle;
mod tags;

use self::ready::Ready;
use self::settle::Deadline;
use self::tags::TagMap;
use super::backend::{Backend, Handed, PublishOp, Verdict};
use super::{AckError, Attempt, Builder, ConsumerStats, DeadLetter, DeadReason, PublishError, Stats};
use crate::StoreError;
use crate::loom::{Mutex, lock};
use crate::util::Wakers;
use crate::{MessageId, Properties};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use weft_primitives::callback::TimerHandle;
use weft_primitives::spawner::Spawner;

/// The in-process queue: what [`Builder::build`] makes. Cheap to clone;
/// clones share the queue.
pub struct Memory<T> {
    shared: Arc<Shared<T>>,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    config: Builder,
    spawner: Spawner,
}

// ANCHOR: envelope
struct Envelope<T> {
    message: T,
    /// Its properties, if it was published with some (boxed, so that a
    /// message without costs one word).
    properties: Option<Box<Properties>>,
    /// 0 to 9, from its properties.
    priority: u8,
    /// When it expires if still undelivered: its own TTL or the queue's,
    /// whichever comes first. Read from the clock only when there is a TTL.
    expires_at: Option<Instant>,
    deliveries: u32,
    history: Vec<Attempt>,
}

struct InFlight<T> {
    envelope: Envelope<T>,
    consumer: u64,
    delivered_at: Instant,
    /// Ends it at its ack deadline, if the queue has one.
    timer: Option<Deadline>,
}
// ANCHOR_END: envelope

#[derive(Default)]
struct ConsumerState {
    unacked: usize,
    acked: u64,
    nacked: u64,
    rejected: u64,
    /// In the `waiting` list.
    waiting: bool,
    /// Waiting in `recv`, with this waker.
    waker: Option<Waker>,
}

// ANCHOR: state
struct State<T> {
    ready: Ready<T>,
    in_flight: TagMap<InFlight<T>>,
    /// Given back with a delay; each has a timer that moves it to `ready`.
    delayed: TagMap<Envelope<T>>,
    dead: VecDeque<DeadLetter<T>>,
    dead_waiters: Vec<Waker>,
    consumers: TagMap<ConsumerState>,
    /// Consumers waiting in `recv`, in the order they began to wait.
    waiting: VecDeque<u64>,
    /// Deliveries handed to a waiting consumer, not yet taken by its `recv`.
    handed: TagMap<Handed<T>>,
    /// Producers waiting for room, by ticket, in the order they began to
    /// wait. A producer woken for room leaves the list; if it then gives
    /// up (`cancel_publish`), it passes the wakeup on.
    room_waiters: VecDeque<(u64, Waker)>,
    next_ticket: u64,
    /// The TTL timer set for the earliest expiry among ready messages:
    /// when it fires, and its handle.
    expiry: Option<(Instant, TimerHandle)>,
    /// Message ids seen within the deduplication window, oldest first.
    seen: VecDeque<(Instant, MessageId)>,
    seen_ids: HashMap<MessageId, Instant>,
    /// Live producers, counted for `end_when_producers_gone`.
    producers: usize,
    closed: bool,
    next_tag: u64,
    next_consumer: u64,
    next_delayed: u64,
    published: u64,
    acked: u64,
    purged: u64,
    deduplicated: u64,
    /// Told of every message that leaves `ready` / `in_flight` on the
    /// queue's own initiative (the durable backend journals it).
    observer: Option<Observer<T>>,
}
// ANCHOR_END: state

/// What the in-memory queue did to a message on its own, for a backend
/// built on it that must journal it (the durable backend).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    /// Moved to the dead-letter queue.
    Dead(DeadReason),
    /// Removed by a purge.
    Purged,
    /// Dropped as a duplicate on publish.
    Deduplicated,
    /// Its ack deadline passed: ready again (or dead-lettered, reported
    /// apart).
    DeadlineExpired,
}

/// Called under the queue's lock: it must only note the change.
pub(crate) type Observer<T> = Arc<dyn Fn(&T, Change) + Send + Sync>;

impl<T: Clone + Send + 'static> Memory<T> {
    /// An empty queue with `config`'s settings.
    ///
    /// # Panics
    ///
    /// Panics if `config` names no spawner and none is current.
    #[track_caller]
    pub fn new(config: &Builder) -> Memory<T> {
        Memory::observed(config, None)
    }

    /// As [`new`](Memory::new), telling `observer` of the changes the
    /// queue makes on its own.
    #[track_caller]
    pub(crate) fn observed(config: &Builder, observer: Option<Observer<T>>) -> Memory<T> {
        let spawner = config.spawner.clone().unwrap_or_else(Spawner::current);
        Memory {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    ready: Ready::new(),
                    in_flight: TagMap::default(),
                    delayed: TagMap::default(),
                    dead: VecDeque::new(),
                    dead_waiters: Vec::new(),
                    consumers: TagMap::default(),
                    waiting: VecDeque::new(),
                    handed: TagMap::default(),
                    room_waiters: VecDeque::new(),
                    next_ticket: 0,
                    expiry: None,
                    seen: VecDeque::new(),
                    seen_ids: HashMap::new(),
                    producers: 0,
                    closed: false,
                    next_tag: 0,
                    next_consumer: 0,
                    next_delayed: 0,
                    published: 0,
                    acked: 0,
                    purged: 0,
                    deduplicated: 0,
                    observer,
                }),
                config: config.clone(),
                spawner,
            }),
        }
    }
}

impl<T: Clone + Send + 'static> Memory<T> {
    /// Puts back a message found in a store at start-up: ready with
    /// `deliveries` made, or dead-lettered for `dead`. Its history is not
    /// kept.
    // Only the durable backend (the `disk` feature) calls it.
    #[cfg_attr(not(feature = "disk"), allow(dead_code))]
    pub(crate) fn restore(
        &self,
        message: T,
        properties: Option<Box<Properties>>,
        deliveries: u32,
        dead: Option<DeadReason>,
    ) {
        let shared = &self.shared;
        let mut wakers = Wakers::new();
        {
            let mut state = lock(&shared.state);
            match dead {
                Some(reason) => {
                    state.dead.push_back(DeadLetter {
                        message,
                        reason,
                        history: Vec::new(),
                        properties: properties.map(|p| *p),
                    });
                }
                None => {
                    let envelope = shared.envelope(message, properties, None);
                    state.ready.push_back(Envelope {
                        deliveries,
                        ..envelope
                    });
                    shared.dispatch(&mut state, &mut wakers);
                    shared.arm_expiry(&mut state, None);
                }
            }
        }
        wakers.wake_all();
    }
}

impl<T: Clone + Send + 'static> Backend<T> for Memory<T> {
    fn poll_publish(
        &self,
        op: &mut PublishOp<T>,
        cx: Option<&mut Context<'_>>,
    ) -> Poll<Result<(), PublishError<T>>> {
        self.shared.poll_publish(op, cx)
    }

    fn cancel_publish(&self, op: &mut PublishOp<T>) {
        let Some(ticket) = op.ticket.take() else {
            return;
        };
        let mut wakers = Wakers::new();
        let _gone = {
            let mut state = lock(&self.shared.state);
            match state.room_waiters.iter().position(|(t, _)| *t == ticket) {
                // Still waiting: it leaves the line, no wakeup spent.
                Some(at) => state.room_waiters.remove(at),
                // Woken for room it will not use: the next one gets it.
                None => {
                    if state.ready.len() < self.shared.config.capacity
                        && let Some((_, waker)) = state.room_waiters.pop_front()
                    {
                        wakers.push(waker);
                    }
                    None
                }
            }
        };
        wakers.wake_all();
    }

    fn add_producer(&self) {
        // Counted only in the mode that needs it: no lock otherwise.
        if self.shared.config.end_when_producers_gone {
            lock(&self.shared.state).producers += 1;
        }
    }

    fn remove_producer(&self) {
        if !self.shared.config.end_when_producers_gone {
            return;
        }
        let last = {
            let mut state = lock(&self.shared.state);
            state.producers = state.producers.saturating_sub(1);
            state.producers == 0
        };
        if last {
            self.close();
        }
    }

    fn add_consumer(&self) -> u64 {
        let mut state = lock(&self.shared.state);
        let id = state.next_consumer;
        state.next_consumer += 1;
        state.consumers.insert(id, ConsumerState::default());
        id
    }

    fn poll_deliver(
        &self,
        consumer: u64,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<Handed<T>>, StoreError<()>>> {
        self.shared.poll_deliver_one(consumer, cx).map(Ok)
    }

    fn poll_deliver_batch(
        &self,
        consumer: u64,
        max: usize,
        cx: &mut Context<'_>,
        out: &mut dyn FnMut(Handed<T>),
    ) -> Poll<Result<Option<usize>, StoreError<()>>> {
        Poll::Ready(Ok(std::task::ready!(
            self.shared.deliver_batch(consumer, max, cx, out)
        )))
    }

    fn cancel_deliver(&self, consumer: u64) {
        self.shared.stop_waiting(consumer, false);
    }

    fn remove_consumer(&self, consumer: u64) {
        self.shared.stop_waiting(consumer, true);
    }

    fn poll_settle(
        &self,
        tag: u64,
        verdict: Verdict,
        _cx: Option<&mut Context<'_>>,
    ) -> Poll<Result<(), AckError>> {
        let ending = match verdict {
            Verdict::Ack => Ending::Ack,
            Verdict::Nack { requeue } => Ending::Nack { requeue },
            Verdict::NackAfter { delay } => Ending::NackAfter(delay),
            Verdict::Reject => Ending::Reject,
            Verdict::Dropped => Ending::Drop,
        };
        Poll::Ready(self.shared.settle(tag, ending))
    }

    fn poll_extend_deadline(
        &self,
        tag: u64,
        extra: Duration,
        _cx: Option<&mut Context<'_>>,
    ) -> Poll<Result<(), AckError>> {
        let shared = &self.shared;
        let old = {
            let mut state = lock(&shared.state);
            let Some(flight) = state.in_flight.get_mut(&tag) else {
                return Poll::Ready(Err(AckError::NotInFlight));
            };
            let timer = shared.deadline_timer(tag, extra);
            flight.timer.replace(Deadline::Own(timer))
        };
        if let Some(old) = old {
            old.release();
        }
        Poll::Ready(Ok(()))
    }

    fn close(&self) {
        let mut wakers = Wakers::new();
        {
            let mut state = lock(&self.shared.state);
            state.closed = true;
            state.room_waiters.drain(..).for_each(|(_, w)| wakers.push(w));
            state.wake_consumers(&mut wakers);
        }
        wakers.wake_all();
    }

    fn is_closed(&self) -> bool {
        lock(&self.shared.state).closed
    }

    fn purge(&self) -> usize {
        let mut gone = Vec::new();
        let mut wakers = Wakers::new();
        {
            let mut state = lock(&self.shared.state);
            state.ready.drain(&mut gone);
            gone.extend(state.delayed.drain().map(|(_, envelope)| envelope));
            for envelope in &gone {
                state.observe(&envelope.message, Change::Purged);
            }
            state.purged += gone.len() as u64;
            self.shared.wake_producers(&mut state, &mut wakers);
            if state.is_drained() {
                state.wake_consumers(&mut wakers);
            }
        }
        wakers.wake_all();
        // The messages (user code's drops) go with the lock released.
        gone.len()
    }

    fn redrive(&self, choose: &mut dyn FnMut(&DeadLetter<T>) -> bool) -> usize {
        let shared = &self.shared;
        let letters: Vec<_> = {
            let mut state = lock(&shared.state);
            if state.closed {
                return 0;
            }
            state.dead.drain(..).collect()
        };
        // The predicate is user code: it runs with the lock released.
        let (back, keep): (Vec<_>, Vec<_>) = letters.into_iter().partition(|letter| choose(letter));
        let moved = back.len();
        let mut wakers = Wakers::new();
        {
            let mut state = lock(&shared.state);
            // Older than any dead-lettered meanwhile: back at the front.
            for letter in keep.into_iter().rev() {
                state.dead.push_front(letter);
            }
            let now = shared.spawner.now();
            for letter in back {
                let envelope = shared.envelope(letter.message, letter.properties.map(Box::new), Some(now));
                state.ready.push_back(Envelope {
                    history: letter.history,
                    ..envelope
                });
            }
            shared.dispatch(&mut state, &mut wakers);
            shared.arm_expiry(&mut state, Some(now));
        }
        wakers.wake_all();
        moved
    }

    fn stats(&self) -> Stats {
        let state = lock(&self.shared.state);
        Stats {
            ready: state.ready.len(),
            in_flight: state.in_flight.len(),
            delayed: state.delayed.len(),
            dead_lettered: state.dead.len(),
            published: state.published,
            acked: state.acked,
            purged: state.purged,
            deduplicated: state.deduplicated,
        }
    }

    fn consumer_stats(&self, consumer: u64) -> ConsumerStats {
        let state = lock(&self.shared.state);
        state
            .consumers
            .get(&consumer)
            .map_or_else(ConsumerStats::default, |c| ConsumerStats {
                in_hand: c.unacked,
                acked: c.acked,
                nacked: c.nacked,
                rejected: c.rejected,
            })
    }

    fn poll_dead_letter(&self, cx: Option<&Context<'_>>) -> Poll<Result<DeadLetter<T>, StoreError<()>>> {
        let mut state = lock(&self.shared.state);
        match state.dead.pop_front() {
            Some(letter) => Poll::Ready(Ok(letter)),
            None => {
                if let Some(cx) = cx {
                    crate::util::add_waker(&mut state.dead_waiters, cx.waker());
                }
                Poll::Pending
            }
        }
    }

    fn spawner(&self) -> Option<Spawner> {
        Some(self.shared.spawner.clone())
    }
}

impl<T> State<T> {
    /// Tells the observer, if there is one, of `change` to `message`.
    fn observe(&self, message: &T, change: Change) {
        if let Some(observer) = &self.observer {
            observer(message, change);
        }
    }

    /// Closed, and nothing left to hand out or to settle: consumers see the
    /// end.
    fn is_drained(&self) -> bool {
        self.closed && self.ready.is_empty() && self.in_flight.is_empty() && self.delayed.is_empty()
    }

    /// Wakes every waiting consumer (to see a close or new work).
    fn wake_consumers(&mut self, wakers: &mut Wakers) {
        for consumer in self.consumers.values_mut() {
            if let Some(waker) = consumer.waker.take() {
                wakers.push(waker);
            }
        }
    }

    fn dead_letter(&mut self, envelope: Envelope<T>, reason: DeadReason, wakers: &mut Wakers) {
        self.observe(&envelope.message, Change::Dead(reason));
        crate::diag::dead_lettered(reason, envelope.deliveries, envelope.properties.as_deref());
        self.dead.push_back(DeadLetter {
            message: envelope.message,
            reason,
            history: envelope.history,
            properties: envelope.properties.map(|p| *p),
        });
        self.dead_waiters.drain(..).for_each(|w| wakers.push(w));
    }
}

impl<T: Clone + Send + 'static> Shared<T> {
    /// The next delivery for `consumer`, joining the line of waiting
    /// consumers if none is ready for it.
    fn poll_deliver_one(self: &Arc<Self>, consumer: u64, cx: &mut Context<'_>) -> Poll<Option<Handed<T>>> {
        let shared = self;
        let mut wakers = Wakers::new();
        // Dropped after the lock is released: a waker's drop may call back
        // into the queue.
        let mut _displaced = None;
        let result = {
            let mut state = lock(&shared.state);
            let handed = state.handed.contains_key(&consumer);
            let entry = state.consumers.entry(consumer).or_default();
            if !entry.waiting && !handed {
                entry.waiting = true;
                state.waiting.push_back(consumer);
            }
            shared.dispatch(&mut state, &mut wakers);
            if let Some(delivery) = state.handed.remove(&consumer) {
                _displaced = state.consumers.entry(consumer).or_default().waker.take();
                Poll::Ready(Some(delivery))
            } else if state.is_drained() {
                state.waiting.retain(|&c| c != consumer);
                state.consumers.entry(consumer).or_default().waiting = false;
                Poll::Ready(None)
            } else {
                let entry = state.consumers.entry(consumer).or_default();
                _displaced = crate::util::replace_waker(&mut entry.waker, cx.waker());
                Poll::Pending
            }
        };
        wakers.wake_all();
        result
    }

    /// A new envelope for `message`, expiring by its own TTL or the
    /// queue's; `now` is read only if there is a TTL.
    fn envelope(&self, message: T, properties: Option<Box<Properties>>, now: Option<Instant>) -> Envelope<T> {
        let own_ttl = properties.as_ref().and_then(|p| p.ttl());
        let ttl = match (self.config.ttl, own_ttl) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let expires_at = ttl.map(|ttl| {
            let now = now.unwrap_or_else(|| self.spawner.now());
            now.checked_add(ttl)
                .unwrap_or(now + Duration::from_secs(100 * 365 * 24 * 3600))
        });
        Envelope {
            priority: properties.as_ref().map_or(0, |p| p.priority()),
            message,
            properties,
            expires_at,
            deliveries: 0,
            history: Vec::new(),
        }
    }

    // ANCHOR: dispatch
    /// Hands ready messages to waiting consumers, in turn, as long as both
    /// remain. Called with the lock held; wakes through `wakers`.
    fn dispatch(self: &Arc<Self>, state: &mut State<T>, wakers: &mut Wakers) {
        // Read the clock only if something is handed over.
        let mut clock = None;
        let mut skipped = 0;
        while skipped < state.waiting.len() && !state.ready.is_empty() {
            let consumer = state.waiting[0];
            let full = state
                .consumers
                .get(&consumer)
                .is_none_or(|c| c.unacked >= self.config.prefetch);
            if full {
                // Keeps its place behind the others.
                state.waiting.rotate_left(1);
                skipped += 1;
                continue;
            }
            let Some(envelope) = state.ready.pop_front() else {
                break;
            };
            let now = *clock.get_or_insert_with(|| self.spawner.now());
            let Some(delivery) = self.hand_over(state, envelope, consumer, now, wakers) else {
                continue;
            };
            state.waiting.pop_front();
            skipped = 0;
            let entry = state.consumers.entry(consumer).or_default();
            entry.waiting = false;
            if let Some(waker) = entry.waker.take() {
                wakers.push(waker);
            }
            state.handed.insert(consumer, delivery);
        }
        self.wake_producers(state, wakers);
        // Expired messages may have been the last: the end is seen.
        if state.is_drained() {
            state.wake_consumers(wakers);
        }
    }

    /// Delivers `envelope` to `consumer` (in flight, deadline set), or
    /// dead-letters it if it expired.
    fn hand_over(
        self: &Arc<Self>,
        state: &mut State<T>,
        envelope: Envelope<T>,
        consumer: u64,
        now: Instant,
        wakers: &mut Wakers,
    ) -> Option<Handed<T>> {
        if envelope.expires_at.is_some_and(|at| at <= now) {
            state.dead_letter(envelope, DeadReason::Expired, wakers);
            return None;
        }
        let tag = state.next_tag;
        let timer = self
            .config
            .ack_deadline
            .map(|deadline| Deadline::Own(self.deadline_timer(tag, deadline)));
        state.consumers.entry(consumer).or_default().unacked += 1;
        Some(Self::fly(state, envelope, consumer, now, timer))
    }

    /// Puts `envelope` in flight under the next tag and returns its
    /// delivery; the caller counts it in the consumer's `unacked` and
    /// gives the tag `timer` (made for `state.next_tag`).
    fn fly(
        state: &mut State<T>,
        mut envelope: Envelope<T>,
        consumer: u64,
        now: Instant,
        timer: Option<Deadline>,
    ) -> Handed<T> {
        envelope.deliveries += 1;
        let tag = state.next_tag;
        state.next_tag += 1;
        let delivery = Handed {
            tag,
            message: envelope.message.clone(),
            deliveries: envelope.deliveries,
            properties: envelope.properties.clone(),
        };
        state.in_flight.insert(
            tag,
            InFlight {
                envelope,
                consumer,
                delivered_at: now,
                timer,
            },
        );
        delivery
    }

    /// Room was made: one waiting producer per free slot may go on.
    fn wake_producers(&self, state: &mut State<T>, wakers: &mut Wakers) {
        let room = self.config.capacity.saturating_sub(state.ready.len());
        for _ in 0..room {
            match state.room_waiters.pop_front() {
                Some((_, waker)) => wakers.push(waker),
                None => break,
            }
        }
    }
    // ANCHOR_END: dispatch
}

/// How a delivery ends, as the in-memory queue sees it: the consumer's
/// verdicts, and the deadline.
#[derive(Debug, Clone, Copy)]
enum Ending {
    Ack,
    Nack { requeue: bool },
    NackAfter(Duration),
    Reject,
    Expire,
    Drop,
}

impl<T> Clone for Memory<T> {
    fn clone(&self) -> Self {
        Memory {
            shared: self.shared.clone(),
        }
    }
}

impl<T> fmt::Debug for Memory<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.shared.state);
        f.debug_struct("Memory")
            .field("ready", &state.ready.len())
            .field("in_flight", &state.in_flight.len())
            .field("delayed", &state.delayed.len())
            .field("dead_lettered", &state.dead.len())
            .field("closed", &state.closed)
            .finish()
    }
}
