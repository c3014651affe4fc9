// Over ~600 lines on purpose: the work queue's contract, one test per rule,
// most run on every backend by `cases`; the book includes five of them by
// anchor, and the checklist reads in one place against the module docs.
//! The work queue: competing consumers, verdicts, deadlines on the paused
//! clock, dead letters, backpressure, closing, and an at-least-once count
//! under random nacks, drops and deadline expiries.

mod queue_support;
#[path = "../../tests/support/mod.rs"]
mod support;

use queue_support::backends::{BuildOn, STORES, cases};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use support::{Rng, paused_runtimes};
use weft::queue::{
    AckError, Consumer, DeadReason, Outcome, Overflow, PublishError, Queue, RecvError, StoreError,
    TryPublishError,
};
use weft::time::sleep;

/// Polls `consumer` once, by hand: registers it as waiting, in call order.
fn poll_once<T: Clone + Send + 'static>(
    consumer: &mut Consumer<T>,
) -> Poll<Result<weft::queue::Delivery<T>, weft::queue::RecvError>> {
    consumer.poll_recv(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn waiting_consumers_are_served_in_turn() {
    for (flavour, rt, store) in cases() {
        rt.block_on(async {
            let queue = Queue::builder().capacity(16).build_on(store);
            let producer = queue.producer();
            let mut consumers: Vec<_> = (0..3).map(|_| queue.consumer()).collect();
            for c in &mut consumers {
                assert!(poll_once(c).is_pending());
            }
            for n in 0..3 {
                producer.publish(n).await.unwrap();
            }
            let got: Vec<_> = consumers
                .iter_mut()
                .map(|c| match poll_once(c) {
                    Poll::Ready(Ok(d)) => *d,
                    other => panic!("{flavour}: nothing handed: {other:?}"),
                })
                .collect();
            assert_eq!(got, [0, 1, 2], "{flavour}: one each, in the order they waited");
        });
    }
}

// ANCHOR: nack-reject
#[test]
fn nack_redelivers_and_reject_dead_letters_with_the_history() {
    for (flavour, rt, store) in cases() {
        rt.block_on(async {
            let queue = Queue::builder().capacity(16).build_on(store);
            let producer = queue.producer();
            let mut consumer = queue.consumer();
            producer.publish("job").await.unwrap();
            let first = consumer.recv().await.unwrap();
            assert_eq!((first.delivery_count(), first.redelivered()), (1, false));
            first.nack(true).unwrap();
            let second = consumer.recv().await.unwrap();
            assert_eq!(
                (second.delivery_count(), second.redelivered()),
                (2, true),
                "{flavour}"
            );
            second.reject().unwrap();
            let dead = queue.try_dead_letter().unwrap().unwrap();
            assert_eq!((dead.message, dead.reason), ("job", DeadReason::Rejected));
            let outcomes: Vec<_> = dead.history.iter().map(|a| a.outcome).collect();
            assert_eq!(outcomes, [Outcome::Nacked, Outcome::Rejected], "{flavour}");
            assert!(dead.history.iter().all(|a| a.consumer == consumer.id()));
            let stats = queue.stats();
            // The dead letter was taken above.
            assert_eq!((stats.ready, stats.in_flight, stats.dead_lettered), (0, 0, 0));
            assert_eq!((stats.published, stats.acked), (1, 0));
        });
    }
}
// ANCHOR_END: nack-reject

#[test]
fn a_message_past_max_deliveries_is_dead_lettered() {
    for (flavour, rt, store) in cases() {
        rt.block_on(async {
            let queue = Queue::builder().max_deliveries(3).build_on(store);
            queue.producer().publish(7).await.unwrap();
            let mut consumer = queue.consumer();
            for n in 1..=3 {
                let d = consumer.recv().await.unwrap();
                assert_eq!(d.delivery_count(), n, "{flavour}");
                if n == 2 {
                    drop(d); // no verdict: counts as nack(true)
                } else {
                    d.nack(true).unwrap();
                }
            }
            let dead = queue.dead_letter().await.unwrap();
            assert_eq!(dead.reason, DeadReason::MaxDeliveries, "{flavour}");
            let outcomes: Vec<_> = dead.history.iter().map(|a| a.outcome).collect();
            assert_eq!(outcomes, [Outcome::Nacked, Outcome::Dropped, Outcome::Nacked]);
        });
    }
}

// ANCHOR: deadline
#[test]
fn an_expired_ack_deadline_redelivers_and_the_late_ack_fails() {
    for (flavour, rt, store) in cases() {
        rt.block_on(async {
            let queue = Queue::builder()
                .ack_deadline(Duration::from_secs(30))
                .build_on(store);
            let start = weft::time::Instant::now();
            queue.producer().publish("slow").await.unwrap();
            let (mut first, mut second) = (queue.consumer(), queue.consumer());
            let held = first.recv().await.unwrap();
            // Extended at 20 s to 30 s from then: still ours at 40 s, back
            // in the queue at 50 s.
            sleep(Duration::from_secs(20)).await;
            held.extend_deadline(Duration::from_secs(30)).unwrap();
            sleep(Duration::from_secs(20)).await;
            assert_eq!(queue.stats().in_flight, 1, "{flavour}: extended");
            let again = second.recv().await.unwrap();
            let at = weft::time::Instant::now() - start;
            assert!(
                at >= Duration::from_secs(50) && at < Duration::from_secs(51),
                "{flavour}: {at:?}"
            );
            assert_eq!((*again, again.delivery_count()), ("slow", 2), "{flavour}");
            assert_eq!(held.ack(), Err(AckError::NotInFlight), "{flavour}: too late");
            again.ack().unwrap();
            assert_eq!(queue.stats().acked, 1);
        });
    }
}
// ANCHOR_END: deadline

#[test]
fn prefetch_bounds_the_unacked_deliveries_one_consumer_holds() {
    for (flavour, rt, store) in cases() {
        rt.block_on(async {
            let queue = Queue::builder().prefetch(2).build_on(store);
            let producer = queue.producer();
            for n in 0..3 {
                producer.publish(n).await.unwrap();
            }
            let mut consumer = queue.consumer();
            let a = consumer.recv().await.unwrap();
            let _b = consumer.recv().await.unwrap();
            assert!(poll_once(&mut consumer).is_pending(), "{flavour}: at the limit");
            // Another consumer is not limited by this one's deliveries.
            let mut other = queue.consumer();
            let c = other.recv().await.unwrap();
            assert_eq!(*c, 2);
            c.nack(true).unwrap();
            a.ack().unwrap();
            assert_eq!(*consumer.recv().await.unwrap(), 2, "{flavour}: room again");
        });
    }
}

// ANCHOR: overflow
#[test]
fn overflow_policies_wait_reject_or_drop_the_oldest() {
    for (flavour, rt, store) in cases() {
        rt.block_on(async {
            // Wait: the third publish waits until a consumer takes one.
            let queue = Queue::builder().capacity(2).build_on(store);
            let producer = queue.producer();
            producer.publish(1).await.unwrap();
            producer.publish(2).await.unwrap();
            assert!(matches!(producer.try_publish(3), Err(TryPublishError::Full(3))));
            let waiting = weft::spawn({
                let producer = producer.clone();
                async move { producer.publish(3).await }
            });
            let mut consumer = queue.consumer();
            consumer.recv().await.unwrap().ack().unwrap();
            waiting.await.unwrap().unwrap();
            assert_eq!(queue.stats().ready, 2, "{flavour}");

            // Reject: Full, with the message back.
            let queue = Queue::builder()
                .capacity(1)
                .overflow(Overflow::Reject)
                .build_on(store);
            let producer = queue.producer();
            producer.publish("a").await.unwrap();
            match producer.publish("b").await {
                Err(PublishError::Full(m)) => assert_eq!(m, "b"),
                other => panic!("{flavour}: {other:?}"),
            }

            // DropOldest: the oldest goes to the dead-letter queue.
            let queue = Queue::builder()
                .capacity(1)
                .overflow(Overflow::DropOldest)
                .build_on(store);
            let producer = queue.producer();
            producer.publish("old").await.unwrap();
            producer.publish("new").await.unwrap();
            let dead = queue.try_dead_letter().unwrap().unwrap();
            assert_eq!((dead.message, dead.reason), ("old", DeadReason::Overflowed));
            assert_eq!(*queue.consumer().recv().await.unwrap(), "new", "{flavour}");
        });
    }
}
// ANCHOR_END: overflow

#[test]
fn a_rejected_publish_leaves_no_waker_behind() {
    /// Counts the wakes it receives.
    struct CountWakes(AtomicUsize);
    impl std::task::Wake for CountWakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    for store in STORES {
        weft::block_on(async {
            let queue = Queue::builder()
                .capacity(1)
                .overflow(Overflow::Reject)
                .build_on(store);
            let producer = queue.producer();
            producer.publish("a").await.unwrap();
            let wakes = Arc::new(CountWakes(AtomicUsize::new(0)));
            let waker = Waker::from(wakes.clone());
            let mut publish = std::pin::pin!(producer.publish("b"));
            let polled = publish.as_mut().poll(&mut Context::from_waker(&waker));
            assert!(matches!(polled, Poll::Ready(Err(PublishError::Full("b")))));
            // Making room wakes whoever waits for it: nobody, under Reject.
            queue.consumer().recv().await.unwrap().ack().unwrap();
            assert_eq!(
                wakes.0.load(Ordering::SeqCst),
                0,
                "{store:?}: a rejected publish was woken"
            );
        });
    }
}

#[test]
fn a_message_older_than_its_ttl_is_dead_lettered_not_delivered() {
    for (flavour, rt, store) in cases() {
        rt.block_on(async {
            let queue = Queue::builder().ttl(Duration::from_secs(60)).build_on(store);
            let producer = queue.producer();
            producer.publish("stale").await.unwrap();
            sleep(Duration::from_secs(61)).await;
            producer.publish("fresh").await.unwrap();
            let mut consumer = queue.consumer();
            assert_eq!(*consumer.recv().await.unwrap(), "fresh", "{flavour}");
            let dead = queue.try_dead_letter().unwrap().unwrap();
            assert_eq!((dead.message, dead.reason), ("stale", DeadReason::Expired));
            assert!(dead.history.is_empty());
        });
    }
}

#[test]
fn an_expired_message_leaves_the_queue_with_no_consumer_asking() {
    for (flavour, rt, store) in cases() {
        rt.block_on(async {
            // Capacity 1 and `Wait`: without expiry, the second publish
            // would wait for a consumer that never comes.
            let queue = Queue::builder()
                .capacity(1)
                .ttl(Duration::from_secs(60))
                .build_on(store);
            let producer = queue.producer();
            producer.publish("stale").await.unwrap();
            assert_eq!(queue.stats().ready, 1, "{flavour}");
            sleep(Duration::from_secs(59)).await;
            assert_eq!(queue.stats().ready, 1, "{flavour}: expired early");
            assert!(queue.try_dead_letter().unwrap().is_none(), "{flavour}");
            // The TTL timer fires at 60 s, before this sleep ends at 61 s.
            sleep(Duration::from_secs(2)).await;
            assert_eq!(queue.stats().ready, 0, "{flavour}");
            let dead = queue
                .try_dead_letter()
                .unwrap()
                .expect("dead-lettered by the TTL timer");
            assert_eq!(
                (dead.message, dead.reason),
                ("stale", DeadReason::Expired),
                "{flavour}"
            );
            producer.publish("fresh").await.unwrap();
            let mut consumer = queue.consumer();
            assert_eq!(*consumer.recv().await.unwrap(), "fresh", "{flavour}");
        });
    }
}

#[test]
fn a_nacked_message_still_expires_on_time() {
    for (flavour, rt, store) in cases() {
        rt.block_on(async {
            let queue = Queue::builder().ttl(Duration::from_secs(60)).build_on(store);
            queue.producer().publish(7).await.unwrap();
            let mut consumer = queue.consumer();
            let delivery = consumer.recv().await.unwrap();
            sleep(Duration::from_secs(30)).await;
            // Given back with no other message ready: the timer is set again.
            delivery.nack(true).unwrap();
            assert_eq!(queue.stats().ready, 1, "{flavour}");
            sleep(Duration::from_secs(31)).await;
            assert_eq!(queue.stats().ready, 0, "{flavour}");
            let dead = queue.try_dead_letter().unwrap().expect("expired while ready");
            assert_eq!((dead.message, dead.reason), (7, DeadReason::Expired), "{flavour}");
            assert_eq!(dead.history.len(), 1, "{flavour}: the nack is in its history");
        });
    }
}

/// A runtime for the queue whose clock the test moves and whose tasks never
/// run: the TTL timer cannot fire, so only the publish path can expire.
struct FrozenClock(Arc<Mutex<std::time::Instant>>);

impl weft::spawner::Spawn for FrozenClock {
    fn spawn(&self, _future: weft::spawner::BoxFuture) {}
    fn sleep_until(&self, _deadline: std::time::Instant) -> weft::spawner::BoxFuture {
        Box::pin(std::future::pending())
    }
    fn now(&self) -> std::time::Instant {
        *self.0.lock().unwrap()
    }
}

#[test]
fn a_publish_to_a_full_queue_first_expires_what_is_due() {
    for (store, overflow) in STORES
        .into_iter()
        .flat_map(|store| [Overflow::Wait, Overflow::Reject, Overflow::DropOldest].map(|o| (store, o)))
    {
        let clock = Arc::new(Mutex::new(std::time::Instant::now()));
        let spawner = weft::spawner::Spawner::new(FrozenClock(clock.clone()));
        let queue = Queue::builder()
            .capacity(2)
            .overflow(overflow)
            .ttl(Duration::from_secs(10))
            .spawner(&spawner)
            .build_on(store);
        let producer = queue.producer();
        producer.try_publish("old").unwrap();
        *clock.lock().unwrap() += Duration::from_secs(5);
        producer.try_publish("newer").unwrap();
        *clock.lock().unwrap() += Duration::from_secs(5);
        // Full, and "old" has just reached its TTL: it makes room, and is
        // dead-lettered as expired, not as pushed out.
        producer.try_publish("newest").unwrap();
        let dead = queue.try_dead_letter().unwrap().expect("the expired message");
        assert_eq!(
            (dead.message, dead.reason),
            ("old", DeadReason::Expired),
            "{store:?} {overflow:?}"
        );
        assert!(
            queue.try_dead_letter().unwrap().is_none(),
            "{store:?} {overflow:?}"
        );
        assert_eq!(queue.stats().ready, 2, "{store:?} {overflow:?}");
    }
}

#[test]
fn closing_stops_publishes_and_consumers_drain_then_see_none() {
    for (flavour, rt, store) in cases() {
        rt.block_on(async {
            let queue = Queue::builder().capacity(8).build_on(store);
            let producer = queue.producer();
            producer.publish(1).await.unwrap();
            producer.publish(2).await.unwrap();
            let mut consumer = queue.consumer();
            let first = consumer.recv().await.unwrap();
            queue.close();
            assert!(queue.is_closed());
            match producer.publish(3).await {
                Err(PublishError::Closed(m)) => assert_eq!(m, 3),
                other => panic!("{flavour}: {other:?}"),
            }
            assert!(matches!(producer.try_publish(4), Err(TryPublishError::Closed(4))));
            // A message in flight can still come back after the close.
            first.nack(true).unwrap();
            let mut got = Vec::new();
            while let Ok(d) = consumer.recv().await {
                got.push(*d);
                d.ack().unwrap();
            }
            got.sort();
            assert_eq!(got, [1, 2], "{flavour}");
        });
    }
}

#[test]
fn a_consumer_dropped_with_a_handed_delivery_gives_it_back() {
    for (flavour, rt, store) in cases() {
        rt.block_on(async {
            let queue = Queue::builder().capacity(8).build_on(store);
            let mut quitter = queue.consumer();
            assert!(poll_once(&mut quitter).is_pending());
            queue.producer().publish("keep me").await.unwrap();
            drop(quitter); // handed the message, never returned it from recv
            let d = queue.consumer().recv().await.unwrap();
            assert_eq!(*d, "keep me", "{flavour}");
            d.ack().unwrap();
            assert_eq!(queue.stats().in_flight, 0);
        });
    }
}

/// Many producers and consumers; consumers ack, nack, reject, drop, or
/// stall past the ack deadline at random. At the end every message was
/// acked exactly once or dead-lettered exactly once, and none vanished.
#[test]
fn every_message_is_acked_or_dead_lettered_exactly_once() {
    const PRODUCERS: u64 = 4;
    const PER_PRODUCER: u64 = 500;
    const CONSUMERS: u64 = 4;
    for (flavour, rt, store) in cases() {
        let acked = Arc::new(Mutex::new(HashMap::<u64, u32>::new()));
        rt.block_on(async {
            let queue = Queue::builder()
                .capacity(64)
                .max_deliveries(4)
                .ack_deadline(Duration::from_secs(10))
                .prefetch(4)
                .build_on(store);
            let producers: Vec<_> = (0..PRODUCERS)
                .map(|p| {
                    let producer = queue.producer();
                    weft::spawn(async move {
                        for n in 0..PER_PRODUCER {
                            producer.publish(p * PER_PRODUCER + n).await.unwrap();
                        }
                    })
                })
                .collect();
            let consumers: Vec<_> = (0..CONSUMERS)
                .map(|c| {
                    let mut consumer = queue.consumer();
                    let acked = acked.clone();
                    weft::spawn(async move {
                        let mut rng = Rng(0x9e37_79b9 + c);
                        // ANCHOR: random-verdicts
                        while let Ok(d) = consumer.recv().await {
                            match rng.below(10) {
                                0 => d.nack(true).unwrap(),
                                1 => d.reject().unwrap(),
                                2 => drop(d),
                                3 => {
                                    // Stall past the deadline, then ack late.
                                    sleep(Duration::from_secs(11)).await;
                                    let message = *d;
                                    if d.ack().is_ok() {
                                        *acked.lock().unwrap().entry(message).or_default() += 1;
                                    }
                                }
                                _ => {
                                    let message = *d;
                                    d.ack().unwrap();
                                    *acked.lock().unwrap().entry(message).or_default() += 1;
                                }
                            }
                        }
                        // ANCHOR_END: random-verdicts
                    })
                })
                .collect();
            for p in producers {
                p.await.unwrap();
            }
            // Everything published: close, and the consumers drain.
            queue.close();
            for c in consumers {
                c.await.unwrap();
            }
            let mut dead = HashMap::<u64, u32>::new();
            while let Some(letter) = queue.try_dead_letter().unwrap() {
                *dead.entry(letter.message).or_default() += 1;
            }
            let acked = acked.lock().unwrap();
            // ANCHOR: exactly-once
            for m in 0..PRODUCERS * PER_PRODUCER {
                let (a, d) = (acked.get(&m).copied(), dead.get(&m).copied());
                assert!(
                    matches!((a, d), (Some(1), None) | (None, Some(1))),
                    "{flavour}: message {m}: acked {a:?}, dead-lettered {d:?}"
                );
            }
            // ANCHOR_END: exactly-once
            let stats = queue.stats();
            assert_eq!(stats.acked as usize, acked.len(), "{flavour}");
            assert_eq!(stats.published, PRODUCERS * PER_PRODUCER);
            assert_eq!((stats.ready, stats.in_flight), (0, 0));
            assert!(
                !dead.is_empty() && !acked.is_empty(),
                "{flavour}: both paths taken"
            );
        });
    }
}

/// A backend written outside the crate: it wraps the in-memory one and
/// records every verdict, as an auditing or metrics layer would. The
/// queue's front (producers, consumers, deliveries) runs on it unchanged.
#[test]
fn a_user_written_backend_serves_the_same_front() {
    use std::task::{Context, Poll};
    use weft::queue::{Backend, ConsumerStats, DeadLetter, Handed, Memory, PublishOp, Stats, Verdict};

    struct Audited {
        inner: Memory<u32>,
        verdicts: Arc<Mutex<Vec<Verdict>>>,
    }

    impl Backend<u32> for Audited {
        fn poll_publish(
            &self,
            op: &mut PublishOp<u32>,
            cx: Option<&mut Context<'_>>,
        ) -> Poll<Result<(), PublishError<u32>>> {
            self.inner.poll_publish(op, cx)
        }
        fn cancel_publish(&self, op: &mut PublishOp<u32>) {
            self.inner.cancel_publish(op)
        }
        fn add_consumer(&self) -> u64 {
            self.inner.add_consumer()
        }
        fn poll_deliver(
            &self,
            consumer: u64,
            cx: &mut Context<'_>,
        ) -> Poll<Result<Option<Handed<u32>>, StoreError<()>>> {
            self.inner.poll_deliver(consumer, cx)
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
            self.verdicts.lock().unwrap().push(verdict);
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
        fn stats(&self) -> Stats {
            self.inner.stats()
        }
        fn purge(&self) -> usize {
            self.inner.purge()
        }
        fn redrive(&self, choose: &mut dyn FnMut(&DeadLetter<u32>) -> bool) -> usize {
            self.inner.redrive(choose)
        }
        fn consumer_stats(&self, consumer: u64) -> ConsumerStats {
            self.inner.consumer_stats(consumer)
        }
        fn poll_dead_letter(
            &self,
            cx: Option<&Context<'_>>,
        ) -> Poll<Result<DeadLetter<u32>, StoreError<()>>> {
            self.inner.poll_dead_letter(cx)
        }
    }

    // The front over a backend of the user's own: once per runtime.
    for (flavour, rt) in paused_runtimes() {
        rt.block_on(async {
            let verdicts = Arc::new(Mutex::new(Vec::new()));
            let inner = Memory::new(Queue::builder().capacity(8).max_deliveries(2));
            let queue = Queue::with_backend(Audited {
                inner,
                verdicts: verdicts.clone(),
            });
            let producer = queue.producer();
            let mut consumer = queue.consumer();
            for n in 0..3 {
                producer.publish(n).await.unwrap();
            }
            consumer.recv().await.unwrap().ack().unwrap();
            drop(consumer.recv().await.unwrap());
            let again = consumer.recv().await.unwrap();
            assert_eq!(
                (*again, again.delivery_count()),
                (1, 2),
                "{flavour}: the dropped one came back"
            );
            again.ack().unwrap();
            consumer.recv().await.unwrap().reject().unwrap();
            queue.close();
            assert_eq!(consumer.recv().await.unwrap_err(), RecvError::Closed, "{flavour}");
            assert_eq!(
                *verdicts.lock().unwrap(),
                [Verdict::Ack, Verdict::Dropped, Verdict::Ack, Verdict::Reject],
                "{flavour}"
            );
            assert_eq!(
                queue.try_dead_letter().unwrap().map(|l| (l.message, l.reason)),
                Some((2, DeadReason::Rejected))
            );
            assert_eq!(queue.stats().acked, 2, "{flavour}");
        });
    }
}
