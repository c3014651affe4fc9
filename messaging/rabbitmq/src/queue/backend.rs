//! `Rabbit`: weft's queue [`Backend`] on a quorum queue.
//!
//! # Protocol
//!
//! Every broker operation is a lapin future. A poll of the backend polls
//! that future once, at once, so that its frame is queued on lapin's
//! connection before the poll returns (an ack sent before its consumer's
//! channel closes is an ack the broker sees). If the future is not done:
//!
//! - with the caller's context, it is *parked* in `State` under the
//!   operation's key (a publish's ticket, a delivery's tag) and the next
//!   poll with that key takes it out, polls it with no lock held, and
//!   parks it again if it is still pending;
//! - without one (`try_publish`, a verdict method), it is spawned on the
//!   queue's spawner to finish on its own.
//!
//! Locks: `State` is one mutex, never held while a future is polled, a
//! waker woken or user code run. Each consumer's `Subscription` has a
//! mutex of its own, held while its lapin stream is polled; it may take
//! `State` inside (to record a delivery), never the other way round. The
//! dead-letter consumer has its own mutex and takes no other.
//!
//! A delivery is *in flight* while its tag is in `State::flights`; the
//! first of a verdict, its ack deadline or its consumer's removal takes it
//! out, and whoever does sends the broker what ends it.
//!
//! Connection loss: every channel is held as a `Live` (the channel and
//! its connection generation). An error on a `Live` that is lost (its
//! channel or connection no longer open) is reported to the connection
//! (`Topology::lost`), which recovers; the publish future then waits for
//! a new publishing channel (`Topology::publisher`, which re-declares the
//! queues once per generation) and sends again, marked republished, and
//! a consumer whose stream failed subscribes anew in its next poll. A
//! flight keeps its old channel, so its verdict fails once that channel
//! is closed: the broker has requeued it.
//!
//! # Files
//!
//! This file holds the state, the way an operation is polled (`start`,
//! `resume`) and [`Backend`] for [`Rabbit`], publishing included; the rest
//! is one concern per file: `deliver.rs` (consumers and their deliveries),
//! `settle.rs` (verdicts and ack deadlines), `dead.rs` (the dead-letter
//! consumer).

mod dead;
mod deliver;
mod settle;

use super::amqp;
use super::send::{Wait, publish};
use super::topology::{Live, Topology};
use crate::Error;
use crate::channels::close_now;
use crate::events::job::wake_slots;
use lapin::options::QueuePurgeOptions;
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use weft_messaging::StoreError;
use weft_messaging::queue::{
    AckError, Backend, Codec, ConsumerStats, DeadLetter, Handed, PublishError, PublishOp, Stats, Verdict,
};
use weft_primitives::spawner::Spawner;

/// A broker operation in progress.
type Op<R> = Pin<Box<dyn Future<Output = R> + Send + 'static>>;

/// What [`queue`](super::queue) made, for [`Rabbit::new`].
pub(crate) struct Parts<T> {
    pub(crate) topology: Arc<Topology>,
    pub(crate) ack_deadline: Option<Duration>,
    /// A full queue's publish waits for room ([`Overflow::Wait`](weft_messaging::queue::Overflow::Wait) with a capacity).
    pub(crate) wait_for_room: bool,
    /// The redelivery back-off: base and max.
    pub(crate) backoff: Option<(Duration, Duration)>,
    pub(crate) codec: Box<dyn Codec<T>>,
    pub(crate) spawner: Spawner,
    pub(crate) dead_letters: (Live, lapin::Consumer),
}

/// The backend; see the [module docs](self).
pub(crate) struct Rabbit<T> {
    shared: Arc<Shared<T>>,
}

struct Shared<T> {
    topology: Arc<Topology>,
    ack_deadline: Option<Duration>,
    wait_for_room: bool,
    backoff: Option<(Duration, Duration)>,
    codec: Box<dyn Codec<T>>,
    spawner: Spawner,
    /// Publishes the broker confirmed, counted by the publish futures.
    published: Arc<AtomicU64>,
    /// Set by `close`; read by the publishes waiting for room too.
    closed: Arc<AtomicBool>,
    /// Tickets, delivery tags and consumer ids.
    next: AtomicU64,
    state: Mutex<State<T>>,
    dead: Mutex<DeadLetters>,
}

impl<T> Drop for Shared<T> {
    /// The dead-letter consumer's channel closes now, not on lapin's task
    /// (see [`close_now`]); the consumers' channels closed as they were
    /// removed, the publishing channel closes with the topology.
    fn drop(&mut self) {
        let dead = self.dead.get_mut().unwrap_or_else(PoisonError::into_inner);
        if let Some((live, _)) = &dead.live {
            close_now(&live.channel, "the queue is dropped");
        }
    }
}

struct State<T> {
    publishes: HashMap<u64, Op<Result<(), PublishError<T>>>>,
    settles: HashMap<u64, Op<Result<(), AckError>>>,
    consumers: HashMap<u64, Arc<Mutex<Subscription>>>,
    consumer_stats: HashMap<u64, ConsumerStats>,
    flights: HashMap<u64, Flight>,
    acked: u64,
    delayed: usize,
}

/// The consumer of the dead-letter queue (re-made after a loss), and the
/// waker of the task waiting on it: lapin's stream keeps one waker, so a
/// `try_dead_letter` polls with the waiter's, not with one that would
/// leave it unwoken.
struct DeadLetters {
    live: Option<(Live, lapin::Consumer)>,
    setup: Option<Op<Result<(Live, lapin::Consumer), Error>>>,
    waker: Option<Waker>,
}

/// One consumer's channel and `basic.consume`, made at its first receive
/// and again after each loss.
struct Subscription {
    setup: Option<Op<Result<(Live, lapin::Consumer), Error>>>,
    live: Option<(Live, lapin::Consumer)>,
    /// The waiting receive, woken by `close`.
    waker: Option<Waker>,
}

/// A delivery in a consumer's hands. Its verdict goes out on its
/// consumer's channel itself, not through lapin's `Acker` (which hands it
/// to a task of lapin's): so a verdict sent before the channel closes
/// reaches the broker before the close does.
struct Flight {
    /// The channel it came on, with its connection.
    live: Live,
    delivery_tag: u64,
    consumer: u64,
    deadline: Option<Instant>,
    /// Its delivery count, this delivery included (for the back-off).
    deliveries: u32,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<T: Clone + Send + 'static> Rabbit<T> {
    pub(crate) fn new(parts: Parts<T>) -> Rabbit<T> {
        Rabbit {
            shared: Arc::new(Shared {
                topology: parts.topology,
                ack_deadline: parts.ack_deadline,
                wait_for_room: parts.wait_for_room,
                backoff: parts.backoff,
                codec: parts.codec,
                spawner: parts.spawner,
                published: Arc::new(AtomicU64::new(0)),
                closed: Arc::new(AtomicBool::new(false)),
                next: AtomicU64::new(1),
                state: Mutex::new(State {
                    publishes: HashMap::new(),
                    settles: HashMap::new(),
                    consumers: HashMap::new(),
                    consumer_stats: HashMap::new(),
                    flights: HashMap::new(),
                    acked: 0,
                    delayed: 0,
                }),
                dead: Mutex::new(DeadLetters {
                    live: Some(parts.dead_letters),
                    setup: None,
                    waker: None,
                }),
            }),
        }
    }

    fn next(&self) -> u64 {
        self.shared.next.fetch_add(1, Ordering::Relaxed)
    }

    /// Polls `op` once, at once; what it does if not done is in the
    /// [module docs](self): `park` keeps it for the caller's next poll.
    fn start<R: Send + 'static>(
        &self,
        mut op: Op<R>,
        cx: Option<&mut Context<'_>>,
        park: impl FnOnce(&mut State<T>, Op<R>),
    ) -> Poll<R> {
        match cx {
            Some(cx) => match op.as_mut().poll(cx) {
                Poll::Ready(r) => Poll::Ready(r),
                Poll::Pending => {
                    park(&mut lock(&self.shared.state), op);
                    Poll::Pending
                }
            },
            None => {
                let mut noop = Context::from_waker(Waker::noop());
                match op.as_mut().poll(&mut noop) {
                    Poll::Ready(r) => Poll::Ready(r),
                    Poll::Pending => {
                        self.shared.spawner.spawn(async move {
                            let _ = op.await;
                        });
                        Poll::Pending
                    }
                }
            }
        }
    }

    /// Polls the op parked under `key` in the map `field` picks, if any.
    fn resume<R>(
        &self,
        key: u64,
        cx: &mut Context<'_>,
        field: impl Fn(&mut State<T>) -> &mut HashMap<u64, Op<R>>,
    ) -> Option<Poll<R>> {
        let mut op = field(&mut lock(&self.shared.state)).remove(&key)?;
        let polled = op.as_mut().poll(cx);
        if polled.is_pending() {
            field(&mut lock(&self.shared.state)).insert(key, op);
        }
        Some(polled)
    }
}

// The `Backend` trait's signatures, repeated as every backend must (the
// `duplicates` pairs among the memory, durable and RabbitMQ impls, left).
impl<T: Clone + Send + 'static> Backend<T> for Rabbit<T> {
    fn poll_publish(
        &self,
        op: &mut PublishOp<T>,
        cx: Option<&mut Context<'_>>,
    ) -> Poll<Result<(), PublishError<T>>> {
        if let Some(ticket) = op.ticket {
            // Without a context: sent, the outcome not awaited.
            let Some(cx) = cx else { return Poll::Pending };
            let polled = self.resume(ticket, cx, |state| &mut state.publishes);
            if polled.as_ref().is_none_or(Poll::is_ready) {
                op.ticket = None;
            }
            return polled.unwrap_or_else(|| {
                let error = io::Error::other("the publish was given up");
                Poll::Ready(Err(PublishError::Store(StoreError::Unknown { error })))
            });
        }
        let Some((message, properties)) = op.message.take() else {
            let error = io::Error::other("the publish already completed");
            return Poll::Ready(Err(PublishError::Store(StoreError::Unknown { error })));
        };
        if self.shared.closed.load(Ordering::Acquire) {
            return Poll::Ready(Err(PublishError::Closed(message)));
        }
        let amqp = match amqp::to_amqp(properties.as_deref()) {
            Ok(amqp) => amqp,
            Err(error) => {
                return Poll::Ready(Err(PublishError::Store(StoreError::NotStored {
                    value: message,
                    error,
                })));
            }
        };
        let mut bytes = Vec::new();
        if let Err(e) = self.shared.codec.encode(&message, &mut bytes) {
            let error = io::Error::new(io::ErrorKind::InvalidInput, e);
            return Poll::Ready(Err(PublishError::Store(StoreError::NotStored {
                value: message,
                error,
            })));
        }
        let shared = &self.shared;
        // `try_publish` (no context) sends once: nobody awaits its outcome.
        let wait = (shared.wait_for_room && cx.is_some()).then(|| Wait {
            spawner: shared.spawner.clone(),
            closed: shared.closed.clone(),
        });
        let publishing = Box::pin(publish(
            shared.topology.clone(),
            bytes,
            amqp,
            message,
            shared.published.clone(),
            wait,
        ));
        let ticket = self.next();
        let polled = self.start(publishing, cx, |state, op| {
            state.publishes.insert(ticket, op);
        });
        if polled.is_pending() {
            op.ticket = Some(ticket);
        }
        polled
    }

    fn cancel_publish(&self, op: &mut PublishOp<T>) {
        if let Some(ticket) = op.ticket.take() {
            let dropped = lock(&self.shared.state).publishes.remove(&ticket);
            drop(dropped);
        }
    }

    fn add_consumer(&self) -> u64 {
        let id = self.next();
        let subscription = Arc::new(Mutex::new(Subscription {
            setup: None,
            live: None,
            waker: None,
        }));
        let mut state = lock(&self.shared.state);
        state.consumers.insert(id, subscription);
        state.consumer_stats.insert(id, ConsumerStats::default());
        id
    }

    fn poll_deliver(
        &self,
        consumer: u64,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<Handed<T>>, StoreError<()>>> {
        let mut handed = None;
        self.poll_deliver_batch(consumer, 1, cx, &mut |h| handed = Some(h))
            .map_ok(|n| n.and(handed))
    }

    fn poll_deliver_batch(
        &self,
        consumer: u64,
        max: usize,
        cx: &mut Context<'_>,
        out: &mut dyn FnMut(Handed<T>),
    ) -> Poll<Result<Option<usize>, StoreError<()>>> {
        self.deliver_batch(consumer, max, cx, out)
    }

    fn cancel_deliver(&self, consumer: u64) {
        // Nothing is set aside: what lapin prefetched stays in its buffer.
        let subscription = lock(&self.shared.state).consumers.get(&consumer).cloned();
        if let Some(subscription) = subscription {
            lock(&subscription).waker = None;
        }
    }

    fn remove_consumer(&self, consumer: u64) {
        self.unsubscribe(consumer)
    }

    fn poll_settle(
        &self,
        tag: u64,
        verdict: Verdict,
        cx: Option<&mut Context<'_>>,
    ) -> Poll<Result<(), AckError>> {
        self.settle(tag, verdict, cx)
    }

    fn poll_extend_deadline(
        &self,
        tag: u64,
        extra: Duration,
        _cx: Option<&mut Context<'_>>,
    ) -> Poll<Result<(), AckError>> {
        self.extend_deadline(tag, extra)
    }

    fn close(&self) {
        self.shared.closed.store(true, Ordering::Release);
        let subscriptions: Vec<_> = lock(&self.shared.state).consumers.values().cloned().collect();
        wake_slots(subscriptions, |subscription| subscription.waker.take());
    }

    fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    fn purge(&self) -> usize {
        let topology = self.shared.topology.clone();
        let purge = Box::pin(async move {
            if let Ok(live) = topology.publisher().await {
                let name = topology.name.clone();
                let _ = live.channel.queue_purge(name, QueuePurgeOptions::default()).await;
            }
        });
        let _ = self.start(purge, None, |_, _| {});
        0
    }

    fn redrive(&self, _choose: &mut dyn FnMut(&DeadLetter<T>) -> bool) -> usize {
        0
    }

    fn stats(&self) -> Stats {
        let state = lock(&self.shared.state);
        Stats {
            in_flight: state.flights.len(),
            delayed: state.delayed,
            published: self.shared.published.load(Ordering::Relaxed),
            acked: state.acked,
            ..Stats::default()
        }
    }

    fn consumer_stats(&self, consumer: u64) -> ConsumerStats {
        lock(&self.shared.state)
            .consumer_stats
            .get(&consumer)
            .copied()
            .unwrap_or_default()
    }

    fn poll_dead_letter(&self, cx: Option<&Context<'_>>) -> Poll<Result<DeadLetter<T>, StoreError<()>>> {
        self.dead_letter(cx)
    }

    fn spawner(&self) -> Option<Spawner> {
        Some(self.shared.spawner.clone())
    }
}
