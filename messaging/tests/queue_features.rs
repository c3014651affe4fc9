//! What RabbitMQ and SQS users look for (#19): priorities, delayed
//! redelivery and back-off, per-message TTL, batches, purge, redrive,
//! deduplication, an end when every producer is gone, per-consumer stats.
//! Hand-polled on a clock only the test moves.

mod queue_support;

use queue_support::backends::{BuildOn, STORES};
use queue_support::{Counting, Manual};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;
use weft::queue::{
    Consumer, DeadReason, Delivery, Outcome, Overflow, Properties, PublishError, Queue, RecvError,
};
use weft::spawner::Spawner;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// A delivery that is ready now.
fn next<T: Clone + Send + std::fmt::Debug + 'static>(consumer: &mut Consumer<T>) -> Delivery<T> {
    match Counting::new().poll(pin!(consumer.recv())) {
        Poll::Ready(Ok(d)) => d,
        other => panic!("no delivery ready: {other:?}"),
    }
}

fn nothing_ready<T: Clone + Send + std::fmt::Debug + 'static>(consumer: &mut Consumer<T>) -> bool {
    Counting::new().poll(pin!(consumer.recv())).is_pending()
}

fn publish_with<T: Clone + Send + 'static>(queue: &Queue<T>, message: T, props: Properties) {
    let producer = queue.producer();
    assert!(matches!(
        Counting::new().poll(pin!(producer.publish_with(message, props))),
        Poll::Ready(Ok(()))
    ));
}

fn queue(spawner: &Spawner) -> weft::queue::Builder {
    let mut builder = Queue::builder();
    builder.spawner(spawner);
    builder
}

#[test]
fn higher_priorities_go_first_and_fifo_within_a_priority() {
    for store in STORES {
        let (_rt, spawner) = Manual::new();
        let queue = queue(&spawner).build_on(store);
        for (message, priority) in [
            ("low a", 0),
            ("high a", 9),
            ("mid", 4),
            ("low b", 0),
            ("high b", 9),
        ] {
            publish_with(&queue, message, Properties::new().with_priority(priority));
        }
        queue.producer().try_publish("plain").unwrap(); // priority 0
        let mut consumer = queue.consumer();
        let order: Vec<_> = (0..6)
            .map(|_| {
                let d = next(&mut consumer);
                let m = *d;
                d.ack().unwrap();
                m
            })
            .collect();
        assert_eq!(order, ["high a", "high b", "mid", "low a", "low b", "plain"]);
    }
}

#[test]
fn drop_oldest_pushes_out_the_lowest_priority_first() {
    for store in STORES {
        let (_rt, spawner) = Manual::new();
        let queue = queue(&spawner)
            .capacity(2)
            .overflow(Overflow::DropOldest)
            .build_on(store);
        publish_with(&queue, "urgent", Properties::new().with_priority(9));
        publish_with(&queue, "routine", Properties::new().with_priority(1));
        publish_with(&queue, "newer", Properties::new().with_priority(5));
        let dead = queue.try_dead_letter().unwrap().unwrap();
        assert_eq!((dead.message, dead.reason), ("routine", DeadReason::Overflowed));
    }
}

#[test]
fn a_message_with_its_own_shorter_ttl_expires_on_time_behind_an_older_one() {
    for store in STORES {
        let (rt, spawner) = Manual::new();
        let queue = queue(&spawner).ttl(secs(60)).build_on(store);
        queue.producer().try_publish("queue ttl").unwrap(); // expires at 60 s
        publish_with(&queue, "own ttl", Properties::new().with_ttl(secs(10)));
        rt.advance(secs(9));
        assert_eq!(queue.stats().ready, 2);
        rt.advance(secs(2));
        assert_eq!(queue.stats().ready, 1, "expired at 10 s, with no consumer asking");
        let dead = queue.try_dead_letter().unwrap().unwrap();
        assert_eq!((dead.message, dead.reason), ("own ttl", DeadReason::Expired));
        // A longer TTL of its own does not outlive the queue's.
        publish_with(&queue, "long", Properties::new().with_ttl(secs(600)));
        rt.advance(secs(61));
        assert_eq!(queue.stats().ready, 0);
    }
}

#[test]
fn nack_after_delays_the_redelivery_and_keeps_the_history() {
    for store in STORES {
        let (rt, spawner) = Manual::new();
        let queue = queue(&spawner).max_deliveries(2).build_on(store);
        queue.producer().try_publish(7).unwrap();
        let mut consumer = queue.consumer();
        next(&mut consumer).nack_after(secs(30)).unwrap();
        assert_eq!((queue.stats().ready, queue.stats().delayed), (0, 1));
        assert!(nothing_ready(&mut consumer));
        rt.advance(secs(29));
        assert!(nothing_ready(&mut consumer), "not before its delay");
        rt.advance(secs(1));
        let again = next(&mut consumer);
        assert_eq!(again.delivery_count(), 2);
        // The last delivery: a delayed nack dead-letters it, with its history.
        again.nack_after(secs(30)).unwrap();
        let dead = queue.try_dead_letter().unwrap().unwrap();
        assert_eq!(dead.reason, DeadReason::MaxDeliveries);
        let outcomes: Vec<_> = dead.history.iter().map(|a| a.outcome).collect();
        assert_eq!(outcomes, [Outcome::Nacked, Outcome::Nacked]);
    }
}

#[test]
fn a_backoff_doubles_the_delay_of_each_redelivery_up_to_its_cap() {
    for store in STORES {
        let (rt, spawner) = Manual::new();
        let queue = queue(&spawner)
            .max_deliveries(10)
            .redelivery_backoff(secs(1), secs(4))
            .build_on(store);
        queue.producer().try_publish("flaky").unwrap();
        let mut consumer = queue.consumer();
        let mut waited = Vec::new();
        drop(next(&mut consumer)); // dropped: counts as nack(true), backs off too
        for _ in 0..4 {
            let mut n = 0;
            let delivery = loop {
                match Counting::new().poll(pin!(consumer.recv())) {
                    Poll::Ready(Ok(d)) => break d,
                    Poll::Ready(Err(e)) => panic!("{e}"),
                    Poll::Pending => {}
                }
                rt.advance(secs(1));
                n += 1;
            };
            waited.push(n);
            delivery.nack(true).unwrap();
        }
        assert_eq!(waited, [1, 2, 4, 4], "1 s, doubled, capped at 4 s");
    }
}

#[test]
fn publish_batch_gives_one_verdict_per_message() {
    for store in STORES {
        let (_rt, spawner) = Manual::new();
        let queue = queue(&spawner)
            .capacity(2)
            .overflow(Overflow::Reject)
            .build_on(store);
        let producer = queue.producer();
        let Poll::Ready(verdicts) = Counting::new().poll(pin!(producer.publish_batch(["a", "b", "c"])))
        else {
            panic!("Reject never waits");
        };
        assert!(verdicts[0].is_ok() && verdicts[1].is_ok());
        assert!(matches!(verdicts[2], Err(PublishError::Full("c"))));
        queue.close();
        let Poll::Ready(verdicts) = Counting::new().poll(pin!(producer.publish_batch(["d"]))) else {
            panic!("closed");
        };
        assert!(matches!(verdicts[..], [Err(PublishError::Closed("d"))]));
    }
}

#[test]
fn recv_batch_takes_what_is_ready_within_prefetch_each_with_its_own_verdict() {
    for store in STORES {
        let (rt, spawner) = Manual::new();
        let queue = queue(&spawner).prefetch(8).build_on(store);
        let producer = queue.producer();
        for n in 0..12 {
            producer.try_publish(n).unwrap();
        }
        let mut consumer = queue.consumer();
        let waker = Counting::new();
        let Poll::Ready(Ok(batch)) = waker.poll(pin!(consumer.recv_batch(10, secs(20)))) else {
            panic!("ready at once");
        };
        let got: Vec<_> = batch.iter().map(|d| **d).collect();
        assert_eq!(got, [0, 1, 2, 3, 4, 5, 6, 7], "bounded by the prefetch");
        for d in batch {
            if *d % 2 == 0 {
                d.ack().unwrap();
            } else {
                d.nack(true).unwrap();
            }
        }
        assert_eq!(queue.stats().acked, 4);
        assert_eq!(consumer.stats().nacked, 4);
        // Nothing ready: waits up to `wait`, then an empty batch.
        queue.purge();
        {
            let mut batch = pin!(consumer.recv_batch(10, secs(20)));
            assert!(waker.poll(batch.as_mut()).is_pending());
            rt.advance(secs(20));
            assert!(matches!(waker.poll(batch.as_mut()), Poll::Ready(Ok(b)) if b.is_empty()));
        }
        queue.close();
        assert!(matches!(
            waker.poll(pin!(consumer.recv_batch(10, secs(20)))),
            Poll::Ready(Err(RecvError::Closed))
        ));
    }
}

/// The timers the runtime holds, as its `Debug` shows them.
fn timers(spawner: &Spawner) -> usize {
    let shown = format!("{spawner:?}");
    let count = shown
        .split("timers: ")
        .nth(1)
        .expect("the event loop shows its timers");
    count[..count.find(|c: char| !c.is_ascii_digit()).unwrap_or(count.len())]
        .parse()
        .expect("a count")
}

#[test]
fn a_batch_sets_one_deadline_timer_and_an_extended_delivery_gets_its_own() {
    for store in STORES {
        let (rt, spawner) = Manual::new();
        let queue = queue(&spawner).ack_deadline(secs(10)).build_on(store);
        let producer = queue.producer();
        for n in 0..5 {
            producer.try_publish(n).unwrap();
        }
        let mut consumer = queue.consumer();
        let waker = Counting::new();
        let Poll::Ready(batch) = waker.poll(pin!(consumer.recv_batch(3, Duration::ZERO))) else {
            panic!("a batch is ready");
        };
        let mut batch = batch.unwrap();
        assert_eq!(batch.iter().map(|d| **d).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(timers(&spawner), 1, "one deadline timer for the whole batch");

        // Extended, a delivery gets its own deadline; the others keep the
        // batch's.
        batch[0].extend_deadline(secs(30)).unwrap();
        assert_eq!(timers(&spawner), 2);
        rt.advance(secs(10));
        let stats = queue.stats();
        assert_eq!((stats.in_flight, stats.ready), (1, 4), "two came back: {stats:?}");
        let extended = batch.remove(0);
        for late in batch {
            assert_eq!(late.ack(), Err(weft::queue::AckError::NotInFlight));
        }
        extended.ack().unwrap();
        assert_eq!(
            timers(&spawner),
            0,
            "the extension's timer is cancelled by the ack"
        );

        // Settled in time, the batch's timer goes with its last delivery.
        let Poll::Ready(batch) = waker.poll(pin!(consumer.recv_batch(2, Duration::ZERO))) else {
            panic!("a batch is ready");
        };
        let mut batch = batch.unwrap();
        assert_eq!(
            batch
                .iter()
                .map(|d| (**d, d.delivery_count()))
                .collect::<Vec<_>>(),
            [(1, 2), (2, 2)]
        );
        assert_eq!(timers(&spawner), 1);
        batch.pop().unwrap().ack().unwrap();
        assert_eq!(timers(&spawner), 1, "still held by the first");
        batch.pop().unwrap().ack().unwrap();
        assert_eq!(timers(&spawner), 0);
        rt.advance(secs(10));
        assert_eq!(queue.stats().in_flight, 0);
        assert_eq!(queue.stats().acked, 3);
    }
}

#[test]
fn a_timed_out_recv_batch_is_not_handed_messages_later() {
    for store in STORES {
        let (rt, spawner) = Manual::new();
        let queue = queue(&spawner).build_on(store);
        let (mut quitter, mut other) = (queue.consumer(), queue.consumer());
        let waker = Counting::new();
        {
            let mut batch = pin!(quitter.recv_batch(10, secs(5)));
            assert!(waker.poll(batch.as_mut()).is_pending());
            rt.advance(secs(5));
            assert!(matches!(waker.poll(batch), Poll::Ready(Ok(b)) if b.is_empty()));
        }
        queue.producer().try_publish("job").unwrap();
        assert_eq!(*next(&mut other), "job");
    }
}

#[test]
fn purge_removes_ready_and_delayed_messages_not_those_in_flight() {
    for store in STORES {
        let (_rt, spawner) = Manual::new();
        let queue = queue(&spawner).build_on(store);
        for n in 0..4 {
            queue.producer().try_publish(n).unwrap();
        }
        let mut consumer = queue.consumer();
        let held = next(&mut consumer);
        next(&mut consumer).nack_after(secs(10)).unwrap();
        assert_eq!(queue.purge(), 3, "two ready, one delayed");
        let stats = queue.stats();
        assert_eq!(
            (stats.ready, stats.delayed, stats.in_flight, stats.purged),
            (0, 0, 1, 3)
        );
        held.ack().unwrap();
        assert!(
            queue.try_dead_letter().unwrap().is_none(),
            "purged, not dead-lettered"
        );
    }
}

#[test]
fn redrive_moves_chosen_dead_letters_back_with_their_history() {
    for store in STORES {
        let (_rt, spawner) = Manual::new();
        let queue = queue(&spawner).max_deliveries(1).build_on(store);
        for n in 0..4 {
            queue.producer().try_publish(n).unwrap();
        }
        let mut consumer = queue.consumer();
        for _ in 0..4 {
            next(&mut consumer).reject().unwrap();
        }
        assert_eq!(queue.redrive(|letter| letter.message % 2 == 0), 2);
        assert_eq!((queue.stats().ready, queue.stats().dead_lettered), (2, 2));
        let again = next(&mut consumer);
        assert_eq!((*again, again.delivery_count()), (0, 1), "delivered afresh");
        again.nack(true).unwrap(); // max_deliveries 1: dead again
        let dead = queue.try_dead_letter().unwrap().unwrap();
        assert_eq!(dead.message, 1, "the ones left keep their place");
        let _ = queue.try_dead_letter(); // 3
        let twice = queue.try_dead_letter().unwrap().unwrap();
        assert_eq!((twice.message, twice.reason), (0, DeadReason::MaxDeliveries));
        let outcomes: Vec<_> = twice.history.iter().map(|a| a.outcome).collect();
        assert_eq!(
            outcomes,
            [Outcome::Rejected, Outcome::Nacked],
            "both lives recorded"
        );
        assert_eq!(
            queue.redrive_all(),
            0,
            "nothing left but message 2, which is ready"
        );
        queue.close();
        assert_eq!(queue.redrive_all(), 0);
    }
}

#[test]
fn duplicates_within_the_window_are_dropped_and_counted() {
    for store in STORES {
        let (rt, spawner) = Manual::new();
        let queue = queue(&spawner).dedup_window(secs(300)).build_on(store);
        for _ in 0..3 {
            publish_with(&queue, "charge", Properties::new().with_id("order-7"));
        }
        publish_with(&queue, "charge", Properties::new().with_id("order-8"));
        queue.producer().try_publish("plain").unwrap(); // no id: never a duplicate
        queue.producer().try_publish("plain").unwrap();
        let stats = queue.stats();
        assert_eq!((stats.published, stats.deduplicated, stats.ready), (4, 2, 4));
        rt.advance(secs(300));
        publish_with(&queue, "charge", Properties::new().with_id("order-7"));
        assert_eq!(queue.stats().published, 5, "the window passed");
    }
}

#[test]
fn a_duplicate_to_a_full_queue_does_not_wait_for_room() {
    for store in STORES {
        let (_rt, spawner) = Manual::new();
        let queue = queue(&spawner)
            .capacity(1)
            .dedup_window(secs(300))
            .build_on(store);
        publish_with(&queue, 1, Properties::new().with_id("a"));
        let producer = queue.producer();
        let publish = pin!(producer.publish_with(1, Properties::new().with_id("a")));
        assert!(matches!(Counting::new().poll(publish), Poll::Ready(Ok(()))));
        assert_eq!(queue.stats().deduplicated, 1);
    }
}

#[test]
fn consumers_see_the_end_when_every_producer_is_gone_if_asked() {
    for store in STORES {
        let (_rt, spawner) = Manual::new();
        let queue = queue(&spawner).end_when_producers_gone(true).build_on(store);
        let mut consumer = queue.consumer();
        let waker = Counting::new();
        let producer = queue.producer();
        let clone = producer.clone();
        let d = {
            let mut recv = pin!(consumer.recv());
            assert!(waker.poll(recv.as_mut()).is_pending());
            producer.try_publish(1).unwrap();
            drop(producer);
            let Poll::Ready(Ok(d)) = waker.poll(recv.as_mut()) else {
                panic!("delivered");
            };
            d
        };
        d.nack(true).unwrap();
        drop(clone);
        assert!(queue.is_closed(), "the last producer closed it");
        let Poll::Ready(Ok(d)) = waker.poll(pin!(consumer.recv())) else {
            panic!("what remains is still delivered");
        };
        d.ack().unwrap();
        assert!(matches!(
            waker.poll(pin!(consumer.recv())),
            Poll::Ready(Err(RecvError::Closed))
        ));

        // Without the mode, dropping every producer ends nothing.
        let queue: Queue<u8> = Queue::builder().spawner(&spawner).build_on(store);
        drop(queue.producer());
        assert!(!queue.is_closed());
    }
}

#[test]
fn each_consumer_counts_its_own_verdicts() {
    for store in STORES {
        let (_rt, spawner) = Manual::new();
        let queue = queue(&spawner).build_on(store);
        for n in 0..5 {
            queue.producer().try_publish(n).unwrap();
        }
        let (mut a, mut b) = (queue.consumer(), queue.consumer());
        next(&mut a).ack().unwrap();
        next(&mut a).nack(true).unwrap();
        let held = next(&mut a);
        next(&mut b).reject().unwrap();
        next(&mut b).nack_after(secs(1)).unwrap();
        let (sa, sb) = (a.stats(), b.stats());
        assert_eq!((sa.in_hand, sa.acked, sa.nacked, sa.rejected), (1, 1, 1, 0));
        assert_eq!((sb.in_hand, sb.acked, sb.nacked, sb.rejected), (0, 0, 1, 1));
        drop(held);
        assert_eq!(a.stats().in_hand, 0);
    }
}

/// For a developer's eyes only (never run in CI, never asserted): the cost
/// of taking 10 ready messages with ten `recv`s and with one
/// `recv_batch(10, _)`, as benches/queue's `queue/receive_10` measures it,
/// without criterion. `cargo test --release -p weft-messaging --test
/// queue_features -- --ignored --nocapture receive_10`.
#[test]
#[ignore = "a timing for the developer, not a check"]
fn receive_10_timing() {
    use std::time::Instant;
    let rt = weft::Runtime::builder().worker_threads(1).build().unwrap();
    let spawner = rt.handle().spawner().clone();
    let ready = || {
        let queue = Queue::builder()
            .capacity(16)
            .prefetch(16)
            .spawner(&spawner)
            .build();
        let producer = queue.producer();
        for n in 0..10u64 {
            producer.try_publish(n).unwrap();
        }
        let consumer = queue.consumer();
        (queue, consumer)
    };
    const ROUNDS: u32 = 50_000;
    let (mut single, mut batch) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..3 {
        for _ in 0..ROUNDS {
            let (queue, mut consumer) = ready();
            let start = Instant::now();
            let got = futures_lite::future::block_on(async {
                let mut got = Vec::with_capacity(10);
                for _ in 0..10 {
                    got.push(consumer.recv().await.unwrap());
                }
                got
            });
            single += start.elapsed();
            drop((got, consumer, queue));

            let (queue, mut consumer) = ready();
            let start = Instant::now();
            let got = futures_lite::future::block_on(consumer.recv_batch(10, Duration::ZERO)).unwrap();
            batch += start.elapsed();
            assert_eq!(got.len(), 10);
            drop((got, consumer, queue));
        }
    }
    let rounds = 3 * ROUNDS;
    println!(
        "ten recv: {:?}, recv_batch(10): {:?}, ratio {:.2}",
        single / rounds,
        batch / rounds,
        single.as_secs_f64() / batch.as_secs_f64()
    );
}
