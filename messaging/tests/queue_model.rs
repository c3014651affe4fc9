//! A seeded model test of the work queue (#19): each seed runs a random
//! sequence of publish / publish_with (priorities, TTLs of their own, ids
//! from a small pool under a deduplication window) / try_publish / recv and
//! recv_batch polls / cancellations (a pending future dropped) / ack / nack
//! / nack_after / reject / dropped deliveries / deadline extensions / clock
//! moves past ack deadlines, delays and TTLs / purge / redrive / close,
//! over several producers and consumers, on a clock only the test moves,
//! with or without a redelivery back-off; verdicts sent with or without
//! waiting (`settle`), and a store that now and then refuses a verdict or
//! fails a delivery (`Flaky`, over the in-memory backend and over the
//! durable one).
//!
//! After **every** step it checks:
//!
//! - **The stats add up.** Dead letters are never taken out here, so every
//!   message the queue accepted is in exactly one place or has left by
//!   ack or purge: `published == acked + purged + ready + in_flight +
//!   delayed + dead_lettered` (messages pushed out by `DropOldest` and
//!   expired ones are dead letters; redriven ones are ready again). And
//!   `published + deduplicated` equals the publishes that succeeded, and
//!   `acked` the acks that did.
//! - **No waiter is stranded while work is possible.** A consumer pending
//!   in `recv` while a message is ready and it holds fewer than `prefetch`
//!   deliveries, or while the queue is closed and drained, was woken since
//!   it was last polled; of the producers pending in `publish`, at least
//!   as many as there are free slots (all, once the queue is closed) were
//!   woken since they were last polled (ready may exceed the capacity: a
//!   message given back goes to the front whatever the room).
//! - **Nothing is stuck with a consumer that stopped asking.** Every
//!   delivery in flight is held by the test or set aside for a consumer
//!   still waiting in `recv`, and woken to take it: a verdict the store
//!   refused gave its delivery back, and a failed receive left nothing
//!   set aside.
//!
//! 256 seeds run by default; `QUEUE_MODEL_SEEDS=n` runs more, from
//! `QUEUE_MODEL_FIRST` (0 by default), and `QUEUE_MODEL_DEBUG=1` prints
//! each step.

mod queue_support;

use queue_support::backends::{STORES, Store, backend_on};
use queue_support::{Counting, Manual};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use weft::queue::{
    AckError, Backend, Consumer, ConsumerStats, DeadLetter, Delivery, Handed, Overflow, Properties,
    PublishError, PublishOp, Queue, RecvError, Stats, StoreError, TryPublishError, Verdict,
};

/// The in-memory backend behind a store that fails when the model says:
/// a refused verdict (not stored; giving a delivery back still works, as
/// a broker requeues a failed channel's deliveries), a failed delivery
/// (nothing moved, the consumer out of the line, as the contract asks).
struct Flaky {
    inner: Box<dyn Backend<u64>>,
    refuse_verdicts: Arc<AtomicBool>,
    fail_deliveries: Arc<AtomicBool>,
}

impl Flaky {
    fn failed_delivery(&self, consumer: u64) -> Option<StoreError<()>> {
        if !self.fail_deliveries.load(Ordering::SeqCst) {
            return None;
        }
        self.inner.cancel_deliver(consumer);
        Some(StoreError::NotStored {
            value: (),
            error: io::Error::other("read failed"),
        })
    }
}

impl Backend<u64> for Flaky {
    fn poll_publish(
        &self,
        op: &mut PublishOp<u64>,
        cx: Option<&mut Context<'_>>,
    ) -> Poll<Result<(), PublishError<u64>>> {
        self.inner.poll_publish(op, cx)
    }
    fn cancel_publish(&self, op: &mut PublishOp<u64>) {
        self.inner.cancel_publish(op)
    }
    fn add_consumer(&self) -> u64 {
        self.inner.add_consumer()
    }
    fn poll_deliver(
        &self,
        consumer: u64,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<Handed<u64>>, StoreError<()>>> {
        match self.failed_delivery(consumer) {
            Some(e) => Poll::Ready(Err(e)),
            None => self.inner.poll_deliver(consumer, cx),
        }
    }
    fn poll_deliver_batch(
        &self,
        consumer: u64,
        max: usize,
        cx: &mut Context<'_>,
        out: &mut dyn FnMut(Handed<u64>),
    ) -> Poll<Result<Option<usize>, StoreError<()>>> {
        match self.failed_delivery(consumer) {
            Some(e) => Poll::Ready(Err(e)),
            None => self.inner.poll_deliver_batch(consumer, max, cx, out),
        }
    }
    fn cancel_deliver(&self, consumer: u64) {
        self.inner.cancel_deliver(consumer)
    }
    fn remove_consumer(&self, consumer: u64) {
        self.inner.remove_consumer(consumer)
    }
    fn poll_settle(
        &self,
        tag: u64,
        verdict: Verdict,
        cx: Option<&mut Context<'_>>,
    ) -> Poll<Result<(), AckError>> {
        if verdict != Verdict::Dropped && self.refuse_verdicts.load(Ordering::SeqCst) {
            return Poll::Ready(Err(AckError::Store(StoreError::NotStored {
                value: verdict,
                error: io::Error::other("write failed"),
            })));
        }
        self.inner.poll_settle(tag, verdict, cx)
    }
    fn poll_extend_deadline(
        &self,
        tag: u64,
        extra: Duration,
        cx: Option<&mut Context<'_>>,
    ) -> Poll<Result<(), AckError>> {
        self.inner.poll_extend_deadline(tag, extra, cx)
    }
    fn close(&self) {
        self.inner.close()
    }
    fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }
    fn purge(&self) -> usize {
        self.inner.purge()
    }
    fn redrive(&self, choose: &mut dyn FnMut(&DeadLetter<u64>) -> bool) -> usize {
        self.inner.redrive(choose)
    }
    fn stats(&self) -> Stats {
        self.inner.stats()
    }
    fn consumer_stats(&self, consumer: u64) -> ConsumerStats {
        self.inner.consumer_stats(consumer)
    }
    fn poll_dead_letter(&self, cx: Option<&Context<'_>>) -> Poll<Result<DeadLetter<u64>, StoreError<()>>> {
        self.inner.poll_dead_letter(cx)
    }
    fn spawner(&self) -> Option<weft::spawner::Spawner> {
        self.inner.spawner()
    }
}

/// xorshift64*: small, seeded, good enough to pick steps.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

type Pending<O> = Pin<Box<dyn Future<Output = O>>>;
/// A pending `recv`: it owns its consumer's borrow and gives it back.
type Recv = Waiting<(&'static mut Consumer<u64>, Result<Vec<Delivery<u64>>, RecvError>)>;
type Publish = Waiting<Result<(), PublishError<u64>>>;

/// A future in flight, its waker, and the wakes it had seen when last
/// polled.
struct Waiting<O> {
    future: Pending<O>,
    waker: Counting,
    seen: usize,
}

impl<O> Waiting<O> {
    fn new(future: Pending<O>) -> Waiting<O> {
        Waiting {
            future,
            waker: Counting::new(),
            seen: 0,
        }
    }

    fn poll(&mut self) -> Poll<O> {
        self.seen = self.waker.wakes();
        self.waker.poll(self.future.as_mut())
    }

    fn woken_since_poll(&self) -> bool {
        self.waker.wakes() > self.seen
    }
}

const PRODUCERS: usize = 3;
const CONSUMERS: usize = 3;
const STEPS: usize = 120;

fn run_seed(seed: u64, store: Store) {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let (rt, spawner) = Manual::new();
    let capacity = 1 + rng.below(4) as usize;
    let prefetch = 1 + rng.below(3) as usize;
    let overflow = [
        Overflow::Wait,
        Overflow::Wait,
        Overflow::Reject,
        Overflow::DropOldest,
    ][rng.below(4) as usize];
    let mut builder = Queue::builder();
    builder
        .capacity(capacity)
        .prefetch(prefetch)
        .max_deliveries(1 + rng.below(4) as u32)
        .overflow(overflow)
        .spawner(&spawner);
    if rng.below(3) > 0 {
        builder.ack_deadline(Duration::from_secs(5 + rng.below(10)));
    }
    if rng.below(2) == 0 {
        builder.ttl(Duration::from_secs(5 + rng.below(20)));
    }
    if rng.below(3) == 0 {
        builder.redelivery_backoff(Duration::from_secs(1), Duration::from_secs(1 + rng.below(8)));
    }
    if rng.below(3) == 0 {
        builder.dedup_window(Duration::from_secs(1 + rng.below(30)));
    }
    let refuse_verdicts = Arc::new(AtomicBool::new(false));
    let fail_deliveries = Arc::new(AtomicBool::new(false));
    let queue: Queue<u64> = Queue::with_backend(Flaky {
        inner: backend_on(&builder, store),
        refuse_verdicts: refuse_verdicts.clone(),
        fail_deliveries: fail_deliveries.clone(),
    });
    if std::env::var("QUEUE_MODEL_DEBUG").is_ok() {
        eprintln!("{builder:?}");
    }
    let producer = queue.producer();
    // Leaked, so a pending `recv` can borrow its consumer across steps.
    let consumers: Vec<&'static mut Consumer<u64>> = (0..CONSUMERS)
        .map(|_| Box::leak(Box::new(queue.consumer())))
        .collect();
    let mut consumers: Vec<Option<&'static mut Consumer<u64>>> = consumers.into_iter().map(Some).collect();
    let mut recvs: Vec<Option<Recv>> = (0..CONSUMERS).map(|_| None).collect();
    let mut publishes: Vec<Option<Publish>> = (0..PRODUCERS).map(|_| None).collect();
    let mut held: Vec<(usize, Delivery<u64>)> = Vec::new();
    let (mut published, mut acked, mut next) = (0u64, 0u64, 0u64);
    let mut trace = Vec::new();

    for step in 0..STEPS {
        let op = rng.below(100);
        trace.push(op);
        if std::env::var("QUEUE_MODEL_DEBUG").is_ok() {
            eprintln!("step {step}: op {op} {:?}", queue.stats());
        }
        match op {
            // Publish (start, or poll again).
            0..=19 => {
                let p = rng.below(PRODUCERS as u64) as usize;
                if publishes[p].is_none() {
                    let producer = producer.clone();
                    let message = next;
                    next += 1;
                    let future: Pending<_> = if rng.below(2) == 0 {
                        Box::pin(async move { producer.publish(message).await })
                    } else {
                        // A priority, sometimes a TTL of its own, and an id
                        // from a small pool, so that duplicates happen.
                        let mut props = Properties::new()
                            .with_id(format!("m{}", rng.below(8)))
                            .with_priority(rng.below(10) as u8);
                        if rng.below(3) == 0 {
                            props = props.with_ttl(Duration::from_secs(1 + rng.below(15)));
                        }
                        Box::pin(async move { producer.publish_with(message, props).await })
                    };
                    publishes[p] = Some(Waiting::new(future));
                }
                let waiting = publishes[p].as_mut().expect("set above");
                match waiting.poll() {
                    Poll::Ready(Ok(())) => {
                        published += 1;
                        publishes[p] = None;
                    }
                    Poll::Ready(Err(PublishError::Full(_) | PublishError::Closed(_))) => publishes[p] = None,
                    Poll::Ready(Err(e)) => panic!("seed {seed}: {e}"),
                    Poll::Pending => {}
                }
            }
            20..=24 => {
                match producer.try_publish(next) {
                    Ok(()) => published += 1,
                    Err(TryPublishError::Full(_) | TryPublishError::Closed(_)) => {}
                    Err(e) => panic!("seed {seed}: {e}"),
                }
                next += 1;
            }
            // Cancel a pending publish.
            25..=29 => {
                let p = rng.below(PRODUCERS as u64) as usize;
                publishes[p] = None;
            }
            // Receive (start, or poll again).
            30..=49 => {
                let c = rng.below(CONSUMERS as u64) as usize;
                if recvs[c].is_none() {
                    let Some(consumer) = consumers[c].take() else {
                        continue;
                    };
                    let batch = rng.below(3) == 0;
                    let (max, wait) = (1 + rng.below(4) as usize, Duration::from_secs(rng.below(10)));
                    recvs[c] = Some(Waiting::new(Box::pin(async move {
                        let got = if batch {
                            consumer.recv_batch(max, wait).await
                        } else {
                            consumer.recv().await.map(|d| vec![d])
                        };
                        (consumer, got)
                    })));
                }
                let waiting = recvs[c].as_mut().expect("set above");
                // Now and then the store fails this poll.
                fail_deliveries.store(rng.below(8) == 0, Ordering::SeqCst);
                let polled = waiting.poll();
                fail_deliveries.store(false, Ordering::SeqCst);
                if let Poll::Ready((consumer, got)) = polled {
                    recvs[c] = None;
                    consumers[c] = Some(consumer);
                    for delivery in got.into_iter().flatten() {
                        held.push((c, delivery));
                    }
                }
            }
            // Cancel a pending receive: its consumer is given back.
            50..=54 => {
                let c = rng.below(CONSUMERS as u64) as usize;
                if recvs[c].take().is_some() {
                    // The future owned the only borrow; the consumer is
                    // gone with it, so make a fresh one in its place.
                    consumers[c] = Some(Box::leak(Box::new(queue.consumer())));
                }
            }
            // Settle a held delivery.
            55..=79 if !held.is_empty() => {
                let (_, delivery) = held.swap_remove(rng.below(held.len() as u64) as usize);
                // Now and then the store refuses the verdict: the delivery
                // is given back at once.
                refuse_verdicts.store(rng.below(6) == 0, Ordering::SeqCst);
                match rng.below(9) {
                    0 | 1 => {
                        if delivery.ack().is_ok() {
                            acked += 1;
                        }
                    }
                    2 => drop(delivery.nack(true)),
                    3 => drop(delivery.nack(false)),
                    4 => drop(delivery.reject()),
                    5 => drop(delivery.nack_after(Duration::from_secs(rng.below(8)))),
                    // Sent and awaited: the in-memory store records it on
                    // the first poll.
                    6 | 7 => {
                        let verdict = [Verdict::Ack, Verdict::Reject, Verdict::Nack { requeue: true }]
                            [rng.below(3) as usize];
                        match Counting::new().poll(std::pin::pin!(delivery.settle(verdict))) {
                            Poll::Ready(Ok(())) if verdict == Verdict::Ack => acked += 1,
                            Poll::Ready(_) => {}
                            Poll::Pending => panic!("seed {seed}: the in-memory store waited"),
                        }
                    }
                    _ => drop(delivery),
                }
                refuse_verdicts.store(false, Ordering::SeqCst);
            }
            80..=84 if !held.is_empty() => {
                let at = rng.below(held.len() as u64) as usize;
                let _ = held[at].1.extend_deadline(Duration::from_secs(1 + rng.below(10)));
            }
            // Time passes: ack deadlines and TTLs come due.
            85..=97 => rt.advance(Duration::from_secs(1 + rng.below(12))),
            98 if rng.below(4) == 0 => queue.close(),
            99 => match rng.below(3) {
                0 => drop(queue.purge()),
                1 => drop(queue.redrive(|letter| letter.message % 2 == 0)),
                _ => drop(queue.redrive_all()),
            },
            _ => {}
        }
        check(
            seed, step, &trace, &queue, published, acked, capacity, prefetch, &held, &recvs, &publishes,
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn check<R, P>(
    seed: u64,
    step: usize,
    trace: &[u64],
    queue: &Queue<u64>,
    published: u64,
    acked: u64,
    capacity: usize,
    prefetch: usize,
    held: &[(usize, Delivery<u64>)],
    recvs: &[Option<Waiting<R>>],
    publishes: &[Option<Waiting<P>>],
) {
    let at = || format!("seed {seed}, step {step}, trace {trace:?}");
    let stats = queue.stats();
    // A duplicate publish succeeds and is counted apart.
    assert_eq!(
        stats.published + stats.deduplicated,
        published,
        "{}: published",
        at()
    );
    assert_eq!(stats.acked, acked, "{}: acked", at());
    assert_eq!(
        stats.published,
        stats.acked
            + stats.purged
            + (stats.ready + stats.in_flight + stats.delayed + stats.dead_lettered) as u64,
        "{}: the stats do not add up: {stats:?}",
        at()
    );
    // Every delivery in flight is in a consumer's hands, or set aside for a
    // consumer still waiting in `recv` (and woken to take it): none is
    // stuck with a consumer that stopped asking.
    let woken_recvs = recvs.iter().flatten().filter(|r| r.woken_since_poll()).count();
    assert!(
        stats.in_flight <= held.len() + woken_recvs,
        "{}: {} in flight, {} held, {woken_recvs} waiting consumers woken",
        at(),
        stats.in_flight,
        held.len()
    );
    let drained = queue.is_closed() && stats.ready == 0 && stats.in_flight == 0 && stats.delayed == 0;
    for (c, recv) in recvs.iter().enumerate() {
        let Some(recv) = recv else { continue };
        let in_hand = held.iter().filter(|(h, _)| *h == c).count();
        if (stats.ready > 0 && in_hand < prefetch) || drained {
            assert!(
                recv.woken_since_poll(),
                "{}: consumer {c} is stranded ({stats:?}, {in_hand} in hand)",
                at()
            );
        }
    }
    // One producer is woken per free slot (all of them on close).
    let pending: Vec<_> = publishes.iter().flatten().collect();
    let woken = pending.iter().filter(|p| p.woken_since_poll()).count();
    let room = capacity.saturating_sub(stats.ready);
    let owed = if queue.is_closed() {
        pending.len()
    } else {
        room.min(pending.len())
    };
    assert!(
        woken >= owed,
        "{}: producers are stranded: {} pending, {woken} woken, room for {room} ({stats:?})",
        at(),
        pending.len()
    );
}

#[test]
fn the_queue_keeps_its_books_and_strands_no_waiter() {
    let seeds = std::env::var("QUEUE_MODEL_SEEDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(256u64);
    let first = std::env::var("QUEUE_MODEL_FIRST")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0u64);
    for store in STORES {
        for seed in first..first + seeds {
            let run = std::panic::catch_unwind(|| run_seed(seed, store));
            if let Err(panic) = run {
                eprintln!("the failing seed ran on the {store:?} store");
                std::panic::resume_unwind(panic);
            }
        }
    }
}
