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

use super::amqp;
use super::send::{io_error, publish, send_verdict};
use super::topology::{Live, Topology};
use crate::Error;
use futures_core::Stream;
use lapin::options::QueuePurgeOptions;
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
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
    codec: Box<dyn Codec<T>>,
    spawner: Spawner,
    /// Publishes the broker confirmed, counted by the publish futures.
    published: Arc<AtomicU64>,
    closed: AtomicBool,
    /// Tickets, delivery tags and consumer ids.
    next: AtomicU64,
    state: Mutex<State<T>>,
    dead: Mutex<DeadLetters>,
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
                codec: parts.codec,
                spawner: parts.spawner,
                published: Arc::new(AtomicU64::new(0)),
                closed: AtomicBool::new(false),
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

    /// A delivery the broker made to `consumer`, recorded in flight; `None`
    /// if its bytes do not decode (it is then rejected: dead-lettered).
    fn hand(&self, consumer: u64, live: &Live, delivery: lapin::message::Delivery) -> Option<Handed<T>> {
        let message = match self.shared.codec.decode(&delivery.data) {
            Ok(message) => message,
            Err(_) => {
                let reject = Box::pin(send_verdict(live.clone(), delivery.delivery_tag, Verdict::Reject));
                let _ = self.start(reject, None, |_, _| {});
                return None;
            }
        };
        let tag = self.next();
        let deadline = self
            .shared
            .ack_deadline
            .and_then(|d| self.shared.spawner.now().checked_add(d));
        {
            let mut state = lock(&self.shared.state);
            state.flights.insert(
                tag,
                Flight {
                    live: live.clone(),
                    delivery_tag: delivery.delivery_tag,
                    consumer,
                    deadline,
                },
            );
            state.consumer_stats.entry(consumer).or_default().in_hand += 1;
        }
        if let Some(deadline) = deadline {
            self.watch(tag, deadline);
        }
        Some(Handed {
            tag,
            message,
            deliveries: amqp::delivery_count(&delivery.properties, delivery.redelivered),
            properties: amqp::from_amqp(&delivery.properties).map(Box::new),
        })
    }

    /// Enforces delivery `tag`'s ack deadline: once it passes (as extended
    /// meanwhile), gives the message back to the broker.
    fn watch(&self, tag: u64, deadline: Instant) {
        let shared = Arc::downgrade(&self.shared);
        let spawner = self.shared.spawner.clone();
        self.shared
            .spawner
            .spawn(watch_deadline(shared, spawner, tag, deadline));
    }

    /// Takes delivery `tag` out of flight, counting `verdict` for its
    /// consumer.
    fn land(&self, tag: u64, verdict: Verdict) -> Option<Flight> {
        let mut state = lock(&self.shared.state);
        let flight = state.flights.remove(&tag)?;
        if verdict == Verdict::Ack {
            state.acked += 1;
        }
        let stats = state.consumer_stats.entry(flight.consumer).or_default();
        stats.in_hand = stats.in_hand.saturating_sub(1);
        match verdict {
            Verdict::Ack => stats.acked += 1,
            Verdict::Nack { .. } | Verdict::NackAfter { .. } => stats.nacked += 1,
            Verdict::Reject => stats.rejected += 1,
            Verdict::Dropped => {}
        }
        Some(flight)
    }
}

async fn watch_deadline<T>(shared: Weak<Shared<T>>, spawner: Spawner, tag: u64, mut deadline: Instant) {
    loop {
        spawner.sleep_until(deadline).await;
        let Some(shared) = shared.upgrade() else { return };
        let flight = {
            let mut state = lock(&shared.state);
            match state.flights.get(&tag).map(|flight| flight.deadline) {
                // Settled, or its deadline lifted (extended past the clock).
                None | Some(None) => return,
                Some(Some(later)) if later > deadline => {
                    deadline = later;
                    continue;
                }
                Some(Some(_)) => {}
            }
            let Some(flight) = state.flights.remove(&tag) else {
                return;
            };
            let stats = state.consumer_stats.entry(flight.consumer).or_default();
            stats.in_hand = stats.in_hand.saturating_sub(1);
            flight
        };
        drop(shared);
        let _ = send_verdict(flight.live, flight.delivery_tag, Verdict::Dropped).await;
        return;
    }
}

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
        let publishing = Box::pin(publish(
            shared.topology.clone(),
            bytes,
            amqp,
            message,
            shared.published.clone(),
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
        let subscription = lock(&self.shared.state).consumers.get(&consumer).cloned();
        let Some(subscription) = subscription else {
            return Poll::Ready(Ok(None));
        };
        let closed = || self.shared.closed.load(Ordering::Acquire);
        let mut sub = lock(&subscription);
        let mut count = 0;
        // Each turn (re)subscribes if needed and drains the stream; a loss
        // of the channel or the connection starts another turn.
        loop {
            if sub.live.is_none() {
                if closed() {
                    return Poll::Ready(Ok(None));
                }
                let topology = self.shared.topology.clone();
                let setup = sub.setup.get_or_insert_with(|| {
                    Box::pin(async move { topology.subscribe(topology.name.clone()).await })
                });
                match setup.as_mut().poll(cx) {
                    Poll::Pending => {
                        sub.waker = Some(cx.waker().clone());
                        return Poll::Pending;
                    }
                    Poll::Ready(Err(err)) => {
                        sub.setup = None;
                        return Poll::Ready(Err(StoreError::NotStored {
                            value: (),
                            error: io::Error::other(err),
                        }));
                    }
                    Poll::Ready(Ok(live)) => {
                        sub.setup = None;
                        sub.live = Some(live);
                    }
                }
            }
            let mut lost = false;
            while count < max {
                let Some((live, stream)) = sub.live.as_mut() else {
                    break;
                };
                match Pin::new(stream).poll_next(cx) {
                    Poll::Ready(Some(Ok(delivery))) => {
                        if let Some(handed) = self.hand(consumer, live, delivery) {
                            out(handed);
                            count += 1;
                        }
                    }
                    Poll::Ready(Some(Err(err))) => {
                        // The channel failed: the broker requeues what it
                        // held; resubscribe if it was a loss.
                        let (live, _) = sub.live.take().expect("polled above");
                        if live.is_loss(&err) {
                            self.shared.topology.lost(&live, err);
                            lost = true;
                        } else if count == 0 {
                            return Poll::Ready(Err(StoreError::Unknown { error: io_error(err) }));
                        }
                        break;
                    }
                    Poll::Ready(None) => {
                        // The broker cancelled the consumer: the queue was
                        // deleted, or the connection is going.
                        let (live, _) = sub.live.take().expect("polled above");
                        if live.is_lost() {
                            lost = true;
                        } else if count == 0 {
                            return Poll::Ready(Ok(None));
                        }
                        break;
                    }
                    Poll::Pending => break,
                }
            }
            if count > 0 {
                return Poll::Ready(Ok(Some(count)));
            }
            if !lost || closed() {
                break;
            }
        }
        if closed() {
            return Poll::Ready(Ok(None));
        }
        sub.waker = Some(cx.waker().clone());
        Poll::Pending
    }

    fn cancel_deliver(&self, consumer: u64) {
        // Nothing is set aside: what lapin prefetched stays in its buffer.
        let subscription = lock(&self.shared.state).consumers.get(&consumer).cloned();
        if let Some(subscription) = subscription {
            lock(&subscription).waker = None;
        }
    }

    fn remove_consumer(&self, consumer: u64) {
        let (subscription, orphans) = {
            let mut state = lock(&self.shared.state);
            state.consumer_stats.remove(&consumer);
            let orphans: Vec<u64> = state
                .flights
                .iter()
                .filter(|(_, flight)| flight.consumer == consumer)
                .map(|(tag, _)| *tag)
                .collect();
            let orphans: Vec<Flight> = orphans
                .iter()
                .filter_map(|tag| state.flights.remove(tag))
                .collect();
            (state.consumers.remove(&consumer), orphans)
        };
        // Their channel closes: the broker requeues them.
        drop(orphans);
        let live = subscription.and_then(|subscription| lock(&subscription).live.take());
        if let Some((Live { channel, .. }, stream)) = live {
            drop(stream);
            let close = Box::pin(async move {
                let _ = channel.close(200, "the consumer was dropped".into()).await;
            });
            let _ = self.start(close, None, |_, _| {});
        }
    }

    fn poll_settle(
        &self,
        tag: u64,
        verdict: Verdict,
        mut cx: Option<&mut Context<'_>>,
    ) -> Poll<Result<(), AckError>> {
        if let Some(cx) = cx.as_deref_mut()
            && let Some(polled) = self.resume(tag, cx, |state| &mut state.settles)
        {
            return polled;
        }
        let Some(flight) = self.land(tag, verdict) else {
            return Poll::Ready(Err(AckError::NotInFlight));
        };
        if let Verdict::NackAfter { delay } = verdict {
            // Held here for `delay`, then given back: see the module docs.
            let shared = Arc::downgrade(&self.shared);
            let spawner = self.shared.spawner.clone();
            let at = spawner.now().checked_add(delay);
            lock(&self.shared.state).delayed += 1;
            self.shared.spawner.spawn(async move {
                if let Some(at) = at {
                    spawner.sleep_until(at).await;
                }
                let _ = send_verdict(flight.live, flight.delivery_tag, verdict).await;
                if let Some(shared) = shared.upgrade() {
                    lock(&shared.state).delayed -= 1;
                }
            });
            return Poll::Ready(Ok(()));
        }
        let sending = Box::pin(send_verdict(flight.live, flight.delivery_tag, verdict));
        self.start(sending, cx, |state, op| {
            state.settles.insert(tag, op);
        })
    }

    fn poll_extend_deadline(
        &self,
        tag: u64,
        extra: Duration,
        _cx: Option<&mut Context<'_>>,
    ) -> Poll<Result<(), AckError>> {
        let Some(deadline) = self.shared.spawner.now().checked_add(extra) else {
            // Too far to represent: no deadline.
            return match lock(&self.shared.state).flights.get_mut(&tag) {
                Some(flight) => {
                    flight.deadline = None;
                    Poll::Ready(Ok(()))
                }
                None => Poll::Ready(Err(AckError::NotInFlight)),
            };
        };
        let watched = {
            let mut state = lock(&self.shared.state);
            let Some(flight) = state.flights.get_mut(&tag) else {
                return Poll::Ready(Err(AckError::NotInFlight));
            };
            flight.deadline.replace(deadline).is_some()
        };
        if !watched {
            self.watch(tag, deadline);
        }
        Poll::Ready(Ok(()))
    }

    fn close(&self) {
        self.shared.closed.store(true, Ordering::Release);
        let subscriptions: Vec<_> = lock(&self.shared.state).consumers.values().cloned().collect();
        for subscription in subscriptions {
            let waker = lock(&subscription).waker.take();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
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
        let (polled, live) = {
            let mut dead = lock(&self.shared.dead);
            if let Some(cx) = cx {
                dead.waker = Some(cx.waker().clone());
            }
            let waker = dead.waker.clone().unwrap_or_else(|| Waker::noop().clone());
            let mut context = Context::from_waker(&waker);
            let polled = loop {
                if dead.live.is_none() {
                    let topology = self.shared.topology.clone();
                    let setup = dead.setup.get_or_insert_with(|| {
                        Box::pin(async move { topology.subscribe(topology.dead.clone()).await })
                    });
                    match setup.as_mut().poll(&mut context) {
                        Poll::Pending => break Poll::Pending,
                        Poll::Ready(Err(err)) => {
                            dead.setup = None;
                            break Poll::Ready(Err(io::Error::other(err)));
                        }
                        Poll::Ready(Ok(live)) => {
                            dead.setup = None;
                            dead.live = Some(live);
                        }
                    }
                }
                let (live, stream) = dead.live.as_mut().expect("subscribed above");
                match Pin::new(stream).poll_next(&mut context) {
                    Poll::Pending => break Poll::Pending,
                    Poll::Ready(Some(Ok(delivery))) => {
                        break Poll::Ready(Ok((delivery, live.clone())));
                    }
                    Poll::Ready(Some(Err(err))) => {
                        let (live, _) = dead.live.take().expect("polled above");
                        if !live.is_loss(&err) {
                            break Poll::Ready(Err(io_error(err)));
                        }
                        self.shared.topology.lost(&live, err);
                    }
                    Poll::Ready(None) => {
                        let (live, _) = dead.live.take().expect("polled above");
                        if !live.is_lost() {
                            break Poll::Ready(Err(io::Error::new(
                                io::ErrorKind::NotConnected,
                                "the broker cancelled the dead-letter consumer",
                            )));
                        }
                    }
                }
            };
            // The waiter got its answer; a `try_` that took a letter leaves
            // the waiter registered (at worst, woken for nothing).
            if polled.is_ready() && cx.is_some() {
                dead.waker = None;
            }
            match polled {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(error)) => {
                    return Poll::Ready(Err(StoreError::NotStored { value: (), error }));
                }
                Poll::Ready(Ok((delivery, live))) => (delivery, live),
            }
        };
        let delivery = polled;
        let take = Box::pin(send_verdict(live, delivery.delivery_tag, Verdict::Ack));
        let _ = self.start(take, None, |_, _| {});
        match self.shared.codec.decode(&delivery.data) {
            Ok(message) => Poll::Ready(Ok(DeadLetter {
                message,
                reason: amqp::dead_reason(&delivery.properties),
                history: Vec::new(),
                properties: amqp::from_amqp(&delivery.properties),
            })),
            Err(e) => Poll::Ready(Err(StoreError::Unknown {
                error: io::Error::new(io::ErrorKind::InvalidData, e),
            })),
        }
    }

    fn spawner(&self) -> Option<Spawner> {
        Some(self.shared.spawner.clone())
    }
}
