//! The in-process backend of the work queue: every message in memory,
//! deadlines and TTLs on the spawner's clock.

use super::backend::{Backend, Handed, Verdict};
use super::{AckError, Attempt, Builder, DeadLetter, DeadReason, Outcome, Overflow, Stats, TryPublishError};
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
    /// Producers waiting for room.
    room_waiters: VecDeque<Waker>,
    /// A TTL timer is set for the message at the front of `ready`.
    expiry_armed: bool,
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
                    expiry_armed: false,
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
    fn try_publish(&self, message: T, cx: Option<&Context<'_>>) -> Result<(), TryPublishError<T>> {
        self.shared.try_publish(message, cx)
    }

    fn overflow(&self) -> Overflow {
        self.shared.config.overflow
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

    fn remove_consumer(&self, consumer: u64) {
        let (handed, _gone) = {
            let mut state = lock(&self.shared.state);
            state.waiting.retain(|&c| c != consumer);
            // Its waker is dropped after the lock is released.
            let gone = state.consumers.remove(&consumer);
            (state.handed.remove(&consumer), gone)
        };
        // A delivery handed over but never returned from `poll_deliver`
        // goes back as a dropped delivery: the message is delivered again.
        if let Some(handed) = handed {
            let _ = self.shared.settle(handed.tag, Ending::Drop);
        }
    }

    fn settle(&self, tag: u64, verdict: Verdict) -> Result<(), AckError> {
        let ending = match verdict {
            Verdict::Ack => Ending::Ack,
            Verdict::Nack { requeue } => Ending::Nack { requeue },
            Verdict::Reject => Ending::Reject,
            Verdict::Dropped => Ending::Drop,
        };
        self.shared.settle(tag, ending)
    }

    fn extend_deadline(&self, tag: u64, extra: Duration) -> Result<(), AckError> {
        let shared = &self.shared;
        let old = {
            let mut state = lock(&shared.state);
            let Some(flight) = state.in_flight.get_mut(&tag) else {
                return Err(AckError::NotInFlight);
            };
            let timer = shared.deadline_timer(tag, extra);
            flight.timer.replace(timer)
        };
        if let Some(old) = old {
            old.cancel();
        }
        Ok(())
    }

    fn close(&self) {
        let mut wakers = Wakers::new();
        {
            let mut state = lock(&self.shared.state);
            state.closed = true;
            state.room_waiters.drain(..).for_each(|w| wakers.push(w));
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
            in_flight: state.in_flight.len() + state.handed.len(),
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
                Some(waker) => wakers.push(waker),
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
    /// except one given back by a consumer, which the delivery check catches.
    /// `now` is the time if the caller has read it; else, if a timer is to
    /// be set, it is read here.
    fn arm_expiry(self: &Arc<Self>, state: &mut State<T>, now: Option<Instant>) {
        let (Some(ttl), false) = (self.config.ttl, state.expiry_armed) else {
            return;
        };
        let Some(published_at) = state.ready.front().and_then(|front| front.published_at) else {
            return;
        };
        let now = now.unwrap_or_else(|| self.spawner.now());
        let left = ttl.saturating_sub(now.saturating_duration_since(published_at));
        state.expiry_armed = true;
        let weak = Arc::downgrade(self);
        self.spawner.set_timeout(left, move || {
            if let Some(shared) = weak.upgrade() {
                shared.on_expiry();
            }
        });
    }

    /// The TTL timer fired: expire what is due, let producers and
    /// consumers move, and set the timer for the next message.
    fn on_expiry(self: &Arc<Self>) {
        let mut wakers = Wakers::new();
        {
            let mut state = lock(&self.state);
            state.expiry_armed = false;
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
            self.dispatch(&mut state, &mut wakers);
            // A message given back may be the only one ready.
            self.arm_expiry(&mut state, None);
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

    /// Accepts `message` if there is room (or the policy makes room).
    fn try_publish(self: &Arc<Self>, message: T, cx: Option<&Context<'_>>) -> Result<(), TryPublishError<T>> {
        let mut wakers = Wakers::new();
        let result = {
            let mut state = lock(&self.state);
            if state.closed {
                return Err(TryPublishError::Closed(message));
            }
            // The clock is read only for a queue with a TTL.
            let now = self.config.ttl.map(|_| self.spawner.now());
            if let (Some(now), true) = (now, state.ready.len() >= self.config.capacity) {
                // Expired messages make room before any policy applies.
                self.expire_front(&mut state, now, &mut wakers);
            }
            // ANCHOR: full
            if state.ready.len() >= self.config.capacity {
                match self.config.overflow {
                    Overflow::DropOldest => {
                        if let Some(oldest) = state.ready.pop_front() {
                            state.dead_letter(oldest, DeadReason::Overflowed, &mut wakers);
                        }
                    }
                    Overflow::Wait => {
                        if let Some(cx) = cx
                            && !state.room_waiters.iter().any(|w| w.will_wake(cx.waker()))
                        {
                            state.room_waiters.push_back(cx.waker().clone());
                        }
                        return Err(TryPublishError::Full(message));
                    }
                    // The caller gets the message back at once and will not
                    // wait for room, so there is no one to wake.
                    Overflow::Reject => return Err(TryPublishError::Full(message)),
                }
            }
            // ANCHOR_END: full
            state.ready.push_back(Envelope {
                message,
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
        result
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
            .field("in_flight", &(state.in_flight.len() + state.handed.len()))
            .field("dead_lettered", &state.dead.len())
            .field("closed", &state.closed)
            .finish()
    }
}
