//! A work queue with competing consumers, acknowledgements, redelivery and
//! dead letters: the message-queue style, in process.
//!
//! Producers publish messages; consumers receive [`Delivery`]s. A message
//! is in the hands of at most one consumer at a time, and leaves the queue
//! only when that consumer [`ack`](Delivery::ack)s it (at-least-once
//! delivery, as with RabbitMQ, SQS or Kafka consumer groups):
//!
//! - [`nack(true)`](Delivery::nack), a delivery dropped without a verdict,
//!   or an ack deadline that passes makes the message deliverable again,
//!   its delivery count raised;
//! - [`reject`](Delivery::reject), [`nack(false)`](Delivery::nack), a
//!   message delivered [`max_deliveries`](Builder::max_deliveries) times, a
//!   message older than its [`ttl`](Builder::ttl), or one pushed out by the
//!   [`DropOldest`](Overflow::DropOldest) policy goes to the dead-letter
//!   queue with its reason and history.
//!
//! Waiting consumers are served in turn (round-robin, in the order they
//! started waiting); each holds at most [`prefetch`](Builder::prefetch)
//! unacked deliveries. The queue is bounded: [`Producer::publish`] waits for
//! room, or fails, or pushes the oldest message out, as the
//! [`Overflow`] policy says. Deadlines and TTLs run on the
//! [spawner](crate::spawner)'s clock, so weft's paused test clock drives
//! them.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use weft::queue::Queue;
//!
//! weft::block_on(async {
//!     let queue = Queue::builder().capacity(100).ack_deadline(Duration::from_secs(30)).build();
//!     let producer = queue.producer();
//!     let mut consumer = queue.consumer();
//!     producer.publish("resize photo 7").await.unwrap();
//!
//!     let job = consumer.recv().await.unwrap();
//!     assert_eq!(*job, "resize photo 7");
//!     job.ack().unwrap();
//!     assert_eq!(queue.stats().acked, 1);
//! });
//! ```

mod error;

pub use self::error::{AckError, PublishError, TryPublishError};

use crate::callback::TimerHandle;
use crate::loom::{Mutex, lock};
use crate::spawner::Spawner;
use crate::util::Wakers;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::poll_fn;
use std::ops::Deref;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// What `publish` does when the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overflow {
    /// Wait for room (backpressure). The default.
    #[default]
    Wait,
    /// Fail at once with [`PublishError::Full`], giving the message back.
    Reject,
    /// Make room by moving the oldest ready message to the dead-letter
    /// queue ([`DeadReason::Overflowed`]).
    DropOldest,
}

/// Why a message was dead-lettered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadReason {
    /// A consumer called [`Delivery::reject`] or [`Delivery::nack`]`(false)`.
    Rejected,
    /// It was delivered [`Builder::max_deliveries`] times without an ack.
    MaxDeliveries,
    /// It waited longer than its [`Builder::ttl`].
    Expired,
    /// The [`Overflow::DropOldest`] policy pushed it out.
    Overflowed,
}

/// How one delivery of a message ended without an ack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nacked, with or without requeue.
    Nacked,
    /// Rejected.
    Rejected,
    /// Its ack deadline passed.
    DeadlineExpired,
    /// The delivery was dropped without a verdict.
    Dropped,
}

/// One delivery of a message: to whom, when, and how it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// The consumer's id ([`Consumer::id`]).
    pub consumer: u64,
    /// When it was delivered, on the spawner's clock.
    pub delivered_at: Instant,
    /// How it ended.
    pub outcome: Outcome,
}

/// A message that left the queue without being acked.
#[derive(Debug, Clone)]
pub struct DeadLetter<T> {
    /// The message.
    pub message: T,
    /// Why it was dead-lettered.
    pub reason: DeadReason,
    /// Its deliveries, oldest first.
    pub history: Vec<Attempt>,
}

/// Counters of a queue; see [`Queue::stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Messages waiting to be delivered.
    pub ready: usize,
    /// Messages delivered and not yet acked, nacked or expired.
    pub in_flight: usize,
    /// Messages in the dead-letter queue now.
    pub dead_lettered: usize,
    /// Messages ever accepted by `publish`.
    pub published: u64,
    /// Messages ever acked.
    pub acked: u64,
}

/// Settings for a [`Queue`]; from [`Queue::builder`].
#[derive(Debug, Clone)]
pub struct Builder {
    capacity: usize,
    overflow: Overflow,
    max_deliveries: u32,
    ack_deadline: Option<Duration>,
    ttl: Option<Duration>,
    prefetch: usize,
    spawner: Option<Spawner>,
}

/// A work queue; cloning gives another handle to the same queue. See the
/// [module docs](self).
pub struct Queue<T> {
    shared: Arc<Shared<T>>,
}

/// Publishes to a queue. Cheap to clone.
pub struct Producer<T> {
    shared: Arc<Shared<T>>,
}

/// Receives deliveries from a queue, competing with the queue's other
/// consumers. Dropping it gives back a delivery it had been handed but not
/// yet returned from [`recv`](Consumer::recv).
pub struct Consumer<T> {
    shared: Arc<Shared<T>>,
    id: u64,
}

/// A message in a consumer's hands. Dereferences to the message; settle it
/// with [`ack`](Delivery::ack), [`nack`](Delivery::nack) or
/// [`reject`](Delivery::reject). Dropped without a verdict, it counts as
/// `nack(true)`: the message is delivered again.
pub struct Delivery<T> {
    shared: Weak<Shared<T>>,
    message: T,
    tag: u64,
    deliveries: u32,
    settled: bool,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    config: Builder,
    spawner: Spawner,
    /// Settles a delivery dropped without a verdict; a function so that
    /// `Delivery`'s `Drop` needs no bounds.
    drop_fn: fn(&Arc<Shared<T>>, u64),
}

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

#[derive(Default)]
struct ConsumerState {
    unacked: usize,
    /// In the `waiting` list.
    waiting: bool,
    /// Waiting in `recv`, with this waker.
    waker: Option<Waker>,
}

struct State<T> {
    ready: VecDeque<Envelope<T>>,
    in_flight: HashMap<u64, InFlight<T>>,
    dead: VecDeque<DeadLetter<T>>,
    dead_waiters: Vec<Waker>,
    consumers: HashMap<u64, ConsumerState>,
    /// Consumers waiting in `recv`, in the order they began to wait.
    waiting: VecDeque<u64>,
    /// Deliveries handed to a waiting consumer, not yet taken by its `recv`.
    handed: HashMap<u64, Delivery<T>>,
    /// Producers waiting for room.
    room_waiters: VecDeque<Waker>,
    closed: bool,
    next_tag: u64,
    next_consumer: u64,
    published: u64,
    acked: u64,
}

impl Builder {
    /// Room for `capacity` ready messages (1 024 by default). Zero is
    /// raised to one.
    pub fn capacity(&mut self, capacity: usize) -> &mut Self {
        self.capacity = capacity.max(1);
        self
    }

    /// What `publish` does when the queue is full.
    pub fn overflow(&mut self, overflow: Overflow) -> &mut Self {
        self.overflow = overflow;
        self
    }

    /// Deliveries after which an unacked message is dead-lettered (5 by
    /// default). Zero is raised to one.
    pub fn max_deliveries(&mut self, n: u32) -> &mut Self {
        self.max_deliveries = n.max(1);
        self
    }

    /// Time a consumer has to settle a delivery before the message becomes
    /// deliverable again (none by default: a delivery is in the consumer's
    /// hands until it settles or drops it).
    pub fn ack_deadline(&mut self, deadline: Duration) -> &mut Self {
        self.ack_deadline = Some(deadline);
        self
    }

    /// Age after which an undelivered message is dead-lettered instead of
    /// delivered (none by default).
    pub fn ttl(&mut self, ttl: Duration) -> &mut Self {
        self.ttl = Some(ttl);
        self
    }

    /// Unacked deliveries one consumer may hold (16 by default). Zero is
    /// raised to one.
    pub fn prefetch(&mut self, prefetch: usize) -> &mut Self {
        self.prefetch = prefetch.max(1);
        self
    }

    /// The runtime whose clock runs deadlines (the current spawner by
    /// default, found at `build`).
    pub fn spawner(&mut self, spawner: &Spawner) -> &mut Self {
        self.spawner = Some(spawner.clone());
        self
    }

    /// Builds the queue.
    ///
    /// # Panics
    ///
    /// Panics if no spawner was given and none is current (outside a weft
    /// runtime with no [`Spawner::enter`] guard).
    #[track_caller]
    pub fn build<T: Clone + Send + 'static>(&self) -> Queue<T> {
        let spawner = self.spawner.clone().unwrap_or_else(Spawner::current);
        Queue {
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
                    closed: false,
                    next_tag: 0,
                    next_consumer: 0,
                    published: 0,
                    acked: 0,
                }),
                config: self.clone(),
                spawner,
                drop_fn: |shared, tag| {
                    let _ = shared.settle(tag, Verdict::Drop);
                },
            }),
        }
    }
}

impl Default for Builder {
    fn default() -> Builder {
        Builder {
            capacity: 1024,
            overflow: Overflow::Wait,
            max_deliveries: 5,
            ack_deadline: None,
            ttl: None,
            prefetch: 16,
            spawner: None,
        }
    }
}

impl Queue<()> {
    /// Settings for a new queue; [`Builder::build`] makes a queue of any
    /// message type.
    pub fn builder() -> Builder {
        Builder::default()
    }
}

impl<T: Clone + Send + 'static> Queue<T> {
    /// A queue with the default settings and room for `capacity` messages.
    ///
    /// # Panics
    ///
    /// Panics where no spawner is current; see [`Builder::spawner`].
    #[track_caller]
    pub fn new(capacity: usize) -> Queue<T> {
        Queue::builder().capacity(capacity).build()
    }

    /// A producer for this queue.
    pub fn producer(&self) -> Producer<T> {
        Producer {
            shared: self.shared.clone(),
        }
    }

    /// A new consumer, competing with the others.
    pub fn consumer(&self) -> Consumer<T> {
        let mut state = lock(&self.shared.state);
        let id = state.next_consumer;
        state.next_consumer += 1;
        state.consumers.insert(id, ConsumerState::default());
        Consumer {
            shared: self.shared.clone(),
            id,
        }
    }

    /// Stops publishing: later publishes fail with `Closed`. Consumers
    /// receive what remains (including messages still in flight that come
    /// back), then `None`.
    pub fn close(&self) {
        let mut wakers = Wakers::new();
        {
            let mut state = lock(&self.shared.state);
            state.closed = true;
            state.room_waiters.drain(..).for_each(|w| wakers.push(w));
            state.wake_consumers(&mut wakers);
        }
        wakers.wake_all();
    }

    /// True once [`close`](Queue::close) was called.
    pub fn is_closed(&self) -> bool {
        lock(&self.shared.state).closed
    }

    /// The queue's counters.
    pub fn stats(&self) -> Stats {
        let state = lock(&self.shared.state);
        Stats {
            ready: state.ready.len(),
            in_flight: state.in_flight.len() + state.handed.len(),
            dead_lettered: state.dead.len(),
            published: state.published,
            acked: state.acked,
        }
    }

    /// Takes the oldest dead letter, if any.
    pub fn try_dead_letter(&self) -> Option<DeadLetter<T>> {
        lock(&self.shared.state).dead.pop_front()
    }

    /// Waits for the next dead letter. Cancel-safe.
    pub async fn dead_letter(&self) -> DeadLetter<T> {
        poll_fn(|cx| {
            let mut state = lock(&self.shared.state);
            match state.dead.pop_front() {
                Some(letter) => Poll::Ready(letter),
                None => {
                    if !state.dead_waiters.iter().any(|w| w.will_wake(cx.waker())) {
                        state.dead_waiters.push(cx.waker().clone());
                    }
                    Poll::Pending
                }
            }
        })
        .await
    }
}

impl<T> State<T> {
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
}

impl<T: Clone + Send + 'static> Shared<T> {
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
            if let (Some(ttl), Some(published_at)) = (self.config.ttl, envelope.published_at)
                && now().saturating_duration_since(published_at) > ttl
            {
                state.dead_letter(envelope, DeadReason::Expired, wakers);
                continue;
            }
            state.waiting.pop_front();
            skipped = 0;
            envelope.deliveries += 1;
            let tag = state.next_tag;
            state.next_tag += 1;
            let delivery = Delivery {
                shared: Arc::downgrade(self),
                message: envelope.message.clone(),
                tag,
                deliveries: envelope.deliveries,
                settled: false,
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

    /// A timer that makes delivery `tag` deliverable again after `deadline`.
    fn deadline_timer(self: &Arc<Self>, tag: u64, deadline: Duration) -> TimerHandle {
        let weak = Arc::downgrade(self);
        self.spawner.set_timeout(deadline, move || {
            if let Some(shared) = weak.upgrade() {
                let _ = shared.settle(tag, Verdict::Expire);
            }
        })
    }

    /// Ends delivery `tag` with `verdict`. Errors if it was already ended
    /// (settled, or its deadline passed).
    fn settle(self: &Arc<Self>, tag: u64, verdict: Verdict) -> Result<(), AckError> {
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
                Verdict::Ack => None,
                Verdict::Nack { .. } => Some(Outcome::Nacked),
                Verdict::Reject => Some(Outcome::Rejected),
                Verdict::Expire => Some(Outcome::DeadlineExpired),
                Verdict::Drop => Some(Outcome::Dropped),
            };
            if let Some(outcome) = outcome {
                envelope.history.push(Attempt {
                    consumer,
                    delivered_at,
                    outcome,
                });
            }
            let max = self.config.max_deliveries;
            match verdict {
                Verdict::Ack => state.acked += 1,
                Verdict::Nack { requeue: true } | Verdict::Expire | Verdict::Drop => {
                    state.requeue(envelope, max, &mut wakers)
                }
                Verdict::Nack { requeue: false } | Verdict::Reject => {
                    state.dead_letter(envelope, DeadReason::Rejected, &mut wakers)
                }
            }
            self.dispatch(&mut state, &mut wakers);
            if state.closed && state.ready.is_empty() && state.in_flight.is_empty() {
                state.wake_consumers(&mut wakers);
            }
            timer
        };
        if let (Some(timer), false) = (timer, matches!(verdict, Verdict::Expire)) {
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
            if state.ready.len() >= self.config.capacity {
                match self.config.overflow {
                    Overflow::DropOldest => {
                        if let Some(oldest) = state.ready.pop_front() {
                            state.dead_letter(oldest, DeadReason::Overflowed, &mut wakers);
                        }
                    }
                    Overflow::Wait | Overflow::Reject => {
                        if let Some(cx) = cx
                            && !state.room_waiters.iter().any(|w| w.will_wake(cx.waker()))
                        {
                            state.room_waiters.push_back(cx.waker().clone());
                        }
                        return Err(TryPublishError::Full(message));
                    }
                }
            }
            state.ready.push_back(Envelope {
                message,
                published_at: self.config.ttl.map(|_| self.spawner.now()),
                deliveries: 0,
                history: Vec::new(),
            });
            state.published += 1;
            self.dispatch(&mut state, &mut wakers);
            Ok(())
        };
        wakers.wake_all();
        result
    }
}

#[derive(Debug, Clone, Copy)]
enum Verdict {
    Ack,
    Nack { requeue: bool },
    Reject,
    Expire,
    Drop,
}

impl<T: Clone + Send + 'static> Producer<T> {
    /// Publishes `message`, waiting for room if the queue is full and the
    /// policy is [`Overflow::Wait`]. Cancel-safe: dropped before it
    /// completes, the message was not published.
    ///
    /// # Errors
    ///
    /// [`PublishError::Closed`] once the queue is closed,
    /// [`PublishError::Full`] when full under [`Overflow::Reject`]; both
    /// give the message back.
    pub async fn publish(&self, message: T) -> Result<(), PublishError<T>> {
        let mut message = Some(message);
        poll_fn(|cx| {
            let msg = message.take().expect("polled after completion");
            match self.shared.try_publish(msg, Some(cx)) {
                Ok(()) => Poll::Ready(Ok(())),
                Err(TryPublishError::Closed(m)) => Poll::Ready(Err(PublishError::Closed(m))),
                Err(TryPublishError::Full(m)) if self.shared.config.overflow == Overflow::Reject => {
                    Poll::Ready(Err(PublishError::Full(m)))
                }
                Err(TryPublishError::Full(m)) => {
                    message = Some(m);
                    Poll::Pending
                }
            }
        })
        .await
    }

    /// Publishes `message` if there is room now.
    ///
    /// # Errors
    ///
    /// [`TryPublishError::Full`] (under [`Overflow::Wait`] or
    /// [`Overflow::Reject`]) or [`TryPublishError::Closed`], with the
    /// message.
    pub fn try_publish(&self, message: T) -> Result<(), TryPublishError<T>> {
        self.shared.try_publish(message, None)
    }
}

impl<T: Clone + Send + 'static> Consumer<T> {
    /// This consumer's id, as dead-letter histories name it.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The next delivery, or `None` once the queue is closed and empty
    /// (nothing ready, nothing in flight that could come back).
    /// Cancel-safe: a delivery handed to this consumer while the future
    /// waited is kept for its next `recv`.
    pub async fn recv(&mut self) -> Option<Delivery<T>> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next delivery; see [`recv`](Consumer::recv).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Delivery<T>>> {
        let shared = &self.shared;
        let mut wakers = Wakers::new();
        let result = {
            let mut state = lock(&shared.state);
            let handed = state.handed.contains_key(&self.id);
            let entry = state.consumers.entry(self.id).or_default();
            if !entry.waiting && !handed {
                entry.waiting = true;
                state.waiting.push_back(self.id);
            }
            shared.dispatch(&mut state, &mut wakers);
            if let Some(delivery) = state.handed.remove(&self.id) {
                Poll::Ready(Some(delivery))
            } else if state.closed && state.ready.is_empty() && state.in_flight.is_empty() {
                state.waiting.retain(|&c| c != self.id);
                state.consumers.entry(self.id).or_default().waiting = false;
                Poll::Ready(None)
            } else {
                let entry = state.consumers.entry(self.id).or_default();
                crate::util::store_waker(&mut entry.waker, cx.waker());
                Poll::Pending
            }
        };
        wakers.wake_all();
        result
    }
}

impl<T> Drop for Consumer<T> {
    fn drop(&mut self) {
        let handed = {
            let mut state = lock(&self.shared.state);
            state.waiting.retain(|&c| c != self.id);
            state.consumers.remove(&self.id);
            state.handed.remove(&self.id)
        };
        // A delivery handed over but never returned from `recv` goes back
        // as a dropped delivery (with the lock released: it takes it): the
        // message is delivered again.
        drop(handed);
    }
}

impl<T: Clone + Send + 'static> Delivery<T> {
    /// Acknowledges the message: it leaves the queue.
    ///
    /// # Errors
    ///
    /// [`AckError::NotInFlight`] if the ack deadline passed first (the
    /// message may have been delivered again), [`AckError::QueueGone`] if
    /// every handle to the queue was dropped.
    pub fn ack(mut self) -> Result<(), AckError> {
        self.finish(Verdict::Ack)
    }

    /// Gives the message back: delivered again if `requeue` (unless it used
    /// up its deliveries), dead-lettered otherwise.
    ///
    /// # Errors
    ///
    /// As [`ack`](Delivery::ack).
    pub fn nack(mut self, requeue: bool) -> Result<(), AckError> {
        self.finish(Verdict::Nack { requeue })
    }

    /// Dead-letters the message ([`DeadReason::Rejected`]).
    ///
    /// # Errors
    ///
    /// As [`ack`](Delivery::ack).
    pub fn reject(mut self) -> Result<(), AckError> {
        self.finish(Verdict::Reject)
    }

    /// Pushes the ack deadline to `extra` from now.
    ///
    /// # Errors
    ///
    /// As [`ack`](Delivery::ack).
    pub fn extend_deadline(&self, extra: Duration) -> Result<(), AckError> {
        let shared = self.shared.upgrade().ok_or(AckError::QueueGone)?;
        let old = {
            let mut state = lock(&shared.state);
            let Some(flight) = state.in_flight.get_mut(&self.tag) else {
                return Err(AckError::NotInFlight);
            };
            let timer = shared.deadline_timer(self.tag, extra);
            flight.timer.replace(timer)
        };
        if let Some(old) = old {
            old.cancel();
        }
        Ok(())
    }

    /// How many times the message has been delivered, this time included.
    pub fn delivery_count(&self) -> u32 {
        self.deliveries
    }

    /// True if the message was delivered before.
    pub fn redelivered(&self) -> bool {
        self.deliveries > 1
    }

    /// The message.
    pub fn message(&self) -> &T {
        &self.message
    }

    fn finish(&mut self, verdict: Verdict) -> Result<(), AckError> {
        self.settled = true;
        let shared = self.shared.upgrade().ok_or(AckError::QueueGone)?;
        shared.settle(self.tag, verdict)
    }
}

impl<T> Deref for Delivery<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.message
    }
}

impl<T> Drop for Delivery<T> {
    fn drop(&mut self) {
        if !self.settled {
            self.settled = true;
            if let Some(shared) = self.shared.upgrade() {
                drop_delivery(&shared, self.tag);
            }
        }
    }
}

/// A delivery dropped without a verdict: `nack(true)`, recorded as such.
fn drop_delivery<T>(shared: &Arc<Shared<T>>, tag: u64) {
    (shared.drop_fn)(shared, tag);
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.shared.state);
        f.debug_struct("Queue")
            .field("ready", &state.ready.len())
            .field("in_flight", &(state.in_flight.len() + state.handed.len()))
            .field("dead_lettered", &state.dead.len())
            .field("closed", &state.closed)
            .finish()
    }
}

impl<T> fmt::Debug for Producer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Consumer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer").field("id", &self.id).finish()
    }
}

impl<T: fmt::Debug> fmt::Debug for Delivery<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("message", &self.message)
            .field("delivery_count", &self.deliveries)
            .finish_non_exhaustive()
    }
}

impl<T> Clone for Queue<T> {
    fn clone(&self) -> Queue<T> {
        Queue {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Clone for Producer<T> {
    fn clone(&self) -> Producer<T> {
        Producer {
            shared: self.shared.clone(),
        }
    }
}
