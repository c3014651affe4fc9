//! The in-process backend of the work queue: every message in memory,
//! deadlines and TTLs on the spawner's clock.

use super::backend::{Backend, Handed, PublishOp, Verdict};
use super::{AckError, Attempt, Builder, DeadLetter, DeadReason, Outcome, Overflow, PublishError, Stats};
use crate::Properties;
use crate::loom::{Mutex, lock};
use crate::util::Wakers;
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
    /// When it was published; read from the clock only for a queue with a
    /// TTL, the one thing that needs it.
    published_at: Option<Instant>,
    deliveries: u32,
    history: Vec<Attempt>,
}

struct InFlight<T> {
    envelope: Envelope<T>,
    consumer: u64,
    delivered_at: Instant,
    timer: Option<TimerHandle>,
}
// ANCHOR_END: envelope

#[derive(Default)]
struct ConsumerState {
    unacked: usize,
    /// In the `waiting` list.
    waiting: bool,
    /// Waiting in `recv`, with this waker.
    waker: Option<Waker>,
}

// ANCHOR: state
struct State<T> {
    ready: VecDeque<Envelope<T>>,
    in_flight: HashMap<u64, InFlight<T>>,
    dead: VecDeque<DeadLetter<T>>,
    dead_waiters: Vec<Waker>,
    consumers: HashMap<u64, ConsumerState>,
    /// Consumers waiting in `recv`, in the order they began to wait.
    waiting: VecDeque<u64>,
    /// Deliveries handed to a waiting consumer, not yet taken by its `recv`.
    handed: HashMap<u64, Handed<T>>,
    /// Producers waiting for room, by ticket, in the order they began to
    /// wait. A producer woken for room leaves the list; if it then gives
    /// up (`cancel_publish`), it passes the wakeup on.
    room_waiters: VecDeque<(u64, Waker)>,
    next_ticket: u64,
    /// The TTL timer set for the message at the front of `ready`: when it
    /// fires, and its handle.
    expiry: Option<(Instant, TimerHandle)>,
    closed: bool,
    next_tag: u64,
    next_consumer: u64,
    published: u64,
    acked: u64,
}
// ANCHOR_END: state

impl<T: Clone + Send + 'static> Memory<T> {
    /// An empty queue with `config`'s settings.
    ///
    /// # Panics
    ///
    /// Panics if `config` names no spawner and none is current.
    #[track_caller]
    pub fn new(config: &Builder) -> Memory<T> {
        let spawner = config.spawner.clone().unwrap_or_else(Spawner::current);
        Memory {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    ready: VecDeque::new(),
                    in_flight: HashMap::new(),
                    dead: VecDeque::new(),
                    dead_waiters: Vec::new(),
                    consumers: HashMap::new(),
                    waiting: VecDeque::new(),
                    handed: HashMap::new(),
                    room_waiters: VecDeque::new(),
                    next_ticket: 0,
                    expiry: None,
                    closed: false,
                    next_tag: 0,
                    next_consumer: 0,
                    published: 0,
                    acked: 0,
                }),
                config: config.clone(),
                spawner,
            }),
        }
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

    fn add_consumer(&self) -> u64 {
        let mut state = lock(&self.shared.state);
        let id = state.next_consumer;
        state.next_consumer += 1;
        state.consumers.insert(id, ConsumerState::default());
        id
    }

    fn poll_deliver(&self, consumer: u64, cx: &mut Context<'_>) -> Poll<Option<Handed<T>>> {
        let shared = &self.shared;
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
            flight.timer.replace(timer)
        };
        if let Some(old) = old {
            old.cancel();
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

    fn stats(&self) -> Stats {
        let state = lock(&self.shared.state);
        Stats {
            ready: state.ready.len(),
            in_flight: state.in_flight.len(),
            dead_lettered: state.dead.len(),
            published: state.published,
            acked: state.acked,
        }
    }

    fn poll_dead_letter(&self, cx: Option<&Context<'_>>) -> Poll<DeadLetter<T>> {
        let mut state = lock(&self.shared.state);
        match state.dead.pop_front() {
            Some(letter) => Poll::Ready(letter),
            None => {
                if let Some(cx) = cx {
                    crate::util::add_waker(&mut state.dead_waiters, cx.waker());
                }
                Poll::Pending
            }
        }
    }
}

impl<T> State<T> {
    /// Closed, and nothing left to hand out or to settle: consumers see the
    /// end.
    fn is_drained(&self) -> bool {
        self.closed && self.ready.is_empty() && self.in_flight.is_empty()
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
        self.dead.push_back(DeadLetter {
            message: envelope.message,
            reason,
            history: envelope.history,
            properties: envelope.properties.map(|p| *p),
        });
        self.dead_waiters.drain(..).for_each(|w| wakers.push(w));
    }

    // ANCHOR: requeue
    /// Puts a message back to be delivered again, or dead-letters it if it
    /// used up its deliveries.
    fn requeue(&mut self, envelope: Envelope<T>, max: u32, wakers: &mut Wakers) {
        if envelope.deliveries >= max {
            self.dead_letter(envelope, DeadReason::MaxDeliveries, wakers);
        } else {
            // At the front: a message given back goes out next.
            self.ready.push_front(envelope);
        }
    }
    // ANCHOR_END: requeue
}

impl<T: Clone + Send + 'static> Shared<T> {
    // ANCHOR: dispatch
    /// Hands ready messages to waiting consumers, in turn, as long as both
    /// remain. Called with the lock held; wakes through `wakers`.
    fn dispatch(self: &Arc<Self>, state: &mut State<T>, wakers: &mut Wakers) {
        // Read the clock only if something is handed over.
        let mut clock = None;
        let mut now = || *clock.get_or_insert_with(|| self.spawner.now());
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
            let Some(mut envelope) = state.ready.pop_front() else {
                break;
            };
            if self.expired(&envelope, now()) {
                state.dead_letter(envelope, DeadReason::Expired, wakers);
                continue;
            }
            state.waiting.pop_front();
            skipped = 0;
            envelope.deliveries += 1;
            let tag = state.next_tag;
            state.next_tag += 1;
            let delivery = Handed {
                tag,
                message: envelope.message.clone(),
                deliveries: envelope.deliveries,
                properties: envelope.properties.clone(),
            };
            let timer = self
                .config
                .ack_deadline
                .map(|deadline| self.deadline_timer(tag, deadline));
            state.in_flight.insert(
                tag,
                InFlight {
                    envelope,
                    consumer,
                    delivered_at: now(),
                    timer,
                },
            );
            let entry = state.consumers.entry(consumer).or_default();
            entry.unacked += 1;
            entry.waiting = false;
            if let Some(waker) = entry.waker.take() {
                wakers.push(waker);
            }
            state.handed.insert(consumer, delivery);
        }
        // Room was made: producers may go on.
        let capacity = self.config.capacity;
        let room = capacity.saturating_sub(state.ready.len());
        for _ in 0..room {
            match state.room_waiters.pop_front() {
                Some((_, waker)) => wakers.push(waker),
                None => break,
            }
        }
    }
    // ANCHOR_END: dispatch

    /// True if `envelope` has reached its TTL at `now`.
    fn expired(&self, envelope: &Envelope<T>, now: Instant) -> bool {
        match (self.config.ttl, envelope.published_at) {
            (Some(ttl), Some(published_at)) => now.saturating_duration_since(published_at) >= ttl,
            _ => false,
        }
    }

    // ANCHOR: expiry
    /// Dead-letters the messages at the front of `ready` that reached their
    /// TTL, so that they leave the queue, and its room, on time even when
    /// no consumer asks for work.
    fn expire_front(&self, state: &mut State<T>, now: Instant, wakers: &mut Wakers) {
        while state.ready.front().is_some_and(|front| self.expired(front, now)) {
            let envelope = state.ready.pop_front().expect("the front exists");
            state.dead_letter(envelope, DeadReason::Expired, wakers);
        }
    }

    /// Keeps one timer set for the moment the front message reaches its TTL
    /// (a queue without a TTL sets none). Messages behind it are younger,
    /// except one given back by a consumer: it goes to the front, so when
    /// it expires before the timer set, the timer is set again for it.
    /// `now` is the time if the caller has read it; else, if a timer is to
    /// be set, it is read here.
    fn arm_expiry(self: &Arc<Self>, state: &mut State<T>, now: Option<Instant>) {
        let Some(ttl) = self.config.ttl else {
            return;
        };
        let Some(published_at) = state.ready.front().and_then(|front| front.published_at) else {
            return;
        };
        let due = published_at.checked_add(ttl).unwrap_or(published_at);
        if let Some((armed, timer)) = &state.expiry {
            if *armed <= due {
                return;
            }
            timer.cancel();
        }
        let now = now.unwrap_or_else(|| self.spawner.now());
        let weak = Arc::downgrade(self);
        let timer = self
            .spawner
            .set_timeout(due.saturating_duration_since(now), move || {
                if let Some(shared) = weak.upgrade() {
                    shared.on_expiry(due);
                }
            });
        state.expiry = Some((due, timer));
    }

    /// The TTL timer set for `due` fired: expire what is due, let
    /// producers and consumers move, and set the timer for the next message.
    fn on_expiry(self: &Arc<Self>, due: Instant) {
        let mut wakers = Wakers::new();
        {
            let mut state = lock(&self.state);
            if state.expiry.as_ref().is_some_and(|(armed, _)| *armed == due) {
                state.expiry = None;
            }
            let now = self.spawner.now();
            self.expire_front(&mut state, now, &mut wakers);
            self.dispatch(&mut state, &mut wakers);
            self.arm_expiry(&mut state, Some(now));
            if state.is_drained() {
                state.wake_consumers(&mut wakers);
            }
        }
        wakers.wake_all();
    }
    // ANCHOR_END: expiry

    // ANCHOR: deadline
    /// A timer that makes delivery `tag` deliverable again after `deadline`.
    fn deadline_timer(self: &Arc<Self>, tag: u64, deadline: Duration) -> TimerHandle {
        let weak = Arc::downgrade(self);
        self.spawner.set_timeout(deadline, move || {
            if let Some(shared) = weak.upgrade() {
                let _ = shared.settle(tag, Ending::Expire);
            }
        })
    }
    // ANCHOR_END: deadline

    /// Ends delivery `tag` with `verdict`. Errors if it was already ended
    /// (settled, or its deadline passed).
    fn settle(self: &Arc<Self>, tag: u64, verdict: Ending) -> Result<(), AckError> {
        let mut wakers = Wakers::new();
        let timer = {
            let mut state = lock(&self.state);
            let Some(flight) = state.in_flight.remove(&tag) else {
                return Err(AckError::NotInFlight);
            };
            let InFlight {
                mut envelope,
                consumer,
                delivered_at,
                timer,
            } = flight;
            if let Some(c) = state.consumers.get_mut(&consumer) {
                c.unacked -= 1;
            }
            let outcome = match verdict {
                Ending::Ack => None,
                Ending::Nack { .. } => Some(Outcome::Nacked),
                Ending::Reject => Some(Outcome::Rejected),
                Ending::Expire => Some(Outcome::DeadlineExpired),
                Ending::Drop => Some(Outcome::Dropped),
            };
            if let Some(outcome) = outcome {
                envelope.history.push(Attempt {
                    consumer,
                    delivered_at,
                    outcome,
                });
            }
            // ANCHOR: settle
            let max = self.config.max_deliveries;
            match verdict {
                Ending::Ack => state.acked += 1,
                Ending::Nack { requeue: true } | Ending::Expire | Ending::Drop => {
                    state.requeue(envelope, max, &mut wakers)
                }
                Ending::Nack { requeue: false } | Ending::Reject => {
                    state.dead_letter(envelope, DeadReason::Rejected, &mut wakers)
                }
            }
            // ANCHOR_END: settle
            // A message given back may be past its TTL already, or due
            // before the timer set for the front.
            let now = self.config.ttl.map(|_| self.spawner.now());
            if let Some(now) = now {
                self.expire_front(&mut state, now, &mut wakers);
            }
            self.dispatch(&mut state, &mut wakers);
            self.arm_expiry(&mut state, now);
            if state.is_drained() {
                state.wake_consumers(&mut wakers);
            }
            timer
        };
        if let (Some(timer), false) = (timer, matches!(verdict, Ending::Expire)) {
            timer.cancel();
        }
        wakers.wake_all();
        Ok(())
    }

    /// Accepts the message in `op` if there is room (or the policy makes
    /// room); waits for room under [`Overflow::Wait`] when given `cx`.
    fn poll_publish(
        self: &Arc<Self>,
        op: &mut PublishOp<T>,
        cx: Option<&mut Context<'_>>,
    ) -> Poll<Result<(), PublishError<T>>> {
        let Some((message, properties)) = op.message.take() else {
            // Completed before; nothing to publish.
            return Poll::Ready(Ok(()));
        };
        let mut wakers = Wakers::new();
        // Dropped after the lock is released: a waker's drop may call back
        // into the queue.
        let mut _displaced = None;
        let result = {
            let mut state = lock(&self.state);
            if state.closed {
                _displaced = Self::forget_ticket(&mut state, op);
                return Poll::Ready(Err(PublishError::Closed(message)));
            }
            // The clock is read only for a queue with a TTL.
            let now = self.config.ttl.map(|_| self.spawner.now());
            if let (Some(now), true) = (now, state.ready.len() >= self.config.capacity) {
                // Expired messages make room before any policy applies.
                self.expire_front(&mut state, now, &mut wakers);
            }
            // ANCHOR: full
            if state.ready.len() >= self.config.capacity {
                match (self.config.overflow, cx) {
                    (Overflow::DropOldest, _) => {
                        if let Some(oldest) = state.ready.pop_front() {
                            state.dead_letter(oldest, DeadReason::Overflowed, &mut wakers);
                        }
                    }
                    (Overflow::Wait, Some(cx)) => {
                        // In line by ticket: a cancelled publish leaves it
                        // (or passes on its wakeup), see `cancel_publish`.
                        let waker = cx.waker();
                        match op.ticket {
                            Some(ticket) => match state.room_waiters.iter_mut().find(|(t, _)| *t == ticket) {
                                Some((_, old)) if old.will_wake(waker) => {}
                                Some((_, old)) => _displaced = Some(std::mem::replace(old, waker.clone())),
                                None => state.room_waiters.push_back((ticket, waker.clone())),
                            },
                            None => {
                                let ticket = state.next_ticket;
                                state.next_ticket += 1;
                                op.ticket = Some(ticket);
                                state.room_waiters.push_back((ticket, waker.clone()));
                            }
                        }
                        op.message = Some((message, properties));
                        return Poll::Pending;
                    }
                    // No one waits (`try_publish`, or the `Reject` policy):
                    // the message goes back at once, with no waker left.
                    (Overflow::Wait | Overflow::Reject, _) => {
                        _displaced = Self::forget_ticket(&mut state, op);
                        return Poll::Ready(Err(PublishError::Full(message)));
                    }
                }
            }
            // ANCHOR_END: full
            _displaced = Self::forget_ticket(&mut state, op);
            state.ready.push_back(Envelope {
                message,
                properties,
                published_at: now,
                deliveries: 0,
                history: Vec::new(),
            });
            state.published += 1;
            self.dispatch(&mut state, &mut wakers);
            self.arm_expiry(&mut state, now);
            Ok(())
        };
        wakers.wake_all();
        Poll::Ready(result)
    }

    /// A publish that waited is done: it leaves the line of producers.
    /// Returns its waker, for the caller to drop with the lock released.
    #[must_use = "drop the waker after releasing the lock"]
    fn forget_ticket(state: &mut State<T>, op: &mut PublishOp<T>) -> Option<Waker> {
        let ticket = op.ticket.take()?;
        let at = state.room_waiters.iter().position(|(t, _)| *t == ticket)?;
        state.room_waiters.remove(at).map(|(_, waker)| waker)
    }

    /// `consumer` stops waiting: out of the line, and a message set aside
    /// for it goes back to the front, not counted as a delivery. With
    /// `remove`, the consumer is forgotten too.
    fn stop_waiting(self: &Arc<Self>, consumer: u64, remove: bool) {
        let mut wakers = Wakers::new();
        let (_gone, timer) = {
            let mut state = lock(&self.state);
            state.waiting.retain(|&c| c != consumer);
            // Its waker is dropped after the lock is released.
            let gone = if remove {
                state.consumers.remove(&consumer).and_then(|c| c.waker)
            } else {
                state.consumers.get_mut(&consumer).and_then(|c| {
                    c.waiting = false;
                    c.waker.take()
                })
            };
            let mut timer = None;
            if let Some(handed) = state.handed.remove(&consumer)
                && let Some(flight) = state.in_flight.remove(&handed.tag)
            {
                if let Some(c) = state.consumers.get_mut(&consumer) {
                    c.unacked -= 1;
                }
                let mut envelope = flight.envelope;
                envelope.deliveries -= 1;
                timer = flight.timer;
                state.ready.push_front(envelope);
                let now = self.config.ttl.map(|_| self.spawner.now());
                if let Some(now) = now {
                    self.expire_front(&mut state, now, &mut wakers);
                }
                self.dispatch(&mut state, &mut wakers);
                self.arm_expiry(&mut state, now);
            }
            (gone, timer)
        };
        if let Some(timer) = timer {
            timer.cancel();
        }
        wakers.wake_all();
    }
}

/// How a delivery ends, as the in-memory queue sees it: the consumer's
/// verdicts, and the deadline.
#[derive(Debug, Clone, Copy)]
enum Ending {
    Ack,
    Nack { requeue: bool },
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
            .field("dead_lettered", &state.dead.len())
            .field("closed", &state.closed)
            .finish()
    }
}
