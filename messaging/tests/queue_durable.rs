//! What only the durable queue does (#23): a restart brings back ready,
//! in-flight and dead-lettered messages; a torn tail is cut and reported;
//! settled segments are deleted (copy-forward: `queue_compaction.rs`); a disk bound refuses or holds publishes;
//! concurrent publishes share a sync; a failed sync is never reported as
//! success. The contract every backend keeps runs in `queue.rs`,
//! `queue_features.rs` and `queue_model.rs`, over both backends.

mod queue_support;

use queue_support::Counting;
use queue_support::backends::Bytes;
use std::path::Path;
use std::pin::pin;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;
use weft::disk::fs::{FileSystem, SimFs};
use weft::queue::{
    AckError, DeadReason, DiskFull, DiskOptions, Overflow, Properties, PublishError, Queue, Restored,
    StoreError, SyncPolicy,
};

const DIR: &str = "/queue";

fn open<T: queue_support::backends::Message>(
    fs: &SimFs,
    builder: &weft::queue::Builder,
    disk: DiskOptions,
) -> Restored<T> {
    builder
        .open_durable_with(DIR, Bytes, &disk.file_system(fs.clone()))
        .unwrap()
}

fn always() -> DiskOptions {
    DiskOptions::new().sync(SyncPolicy::Always)
}

/// The segment files in the queue's directory.
fn segments(fs: &SimFs) -> usize {
    fs.list(Path::new(DIR))
        .unwrap()
        .iter()
        .filter(|name| name.ends_with(".log"))
        .count()
}

#[test]
fn a_restart_brings_back_ready_in_flight_and_dead_letters() {
    let fs = SimFs::new();
    weft::block_on(async {
        let queue: Queue<String> = open(&fs, &Queue::builder(), always()).queue;
        let producer = queue.producer();
        for n in 0..5 {
            let props = Properties::new()
                .with_id(format!("job-{n}"))
                .with_header("n", n.to_string());
            producer.publish_with(format!("job {n}"), props).await.unwrap();
        }
        let mut consumer = queue.consumer();
        consumer.recv().await.unwrap().ack_confirmed().await.unwrap();
        let in_flight = consumer.recv().await.unwrap();
        consumer.recv().await.unwrap().reject().unwrap();
        // A crash: the queue goes with the delivery still in hand.
        drop((queue, producer, consumer));
        drop(in_flight);
    });
    weft::block_on(async {
        let restored: Restored<String> = open(&fs, &Queue::builder(), always());
        assert_eq!((restored.ready, restored.dead_lettered), (3, 1));
        assert_eq!(restored.recovery.torn, None);
        let queue = restored.queue;
        let stats = queue.stats();
        assert_eq!((stats.ready, stats.in_flight, stats.dead_lettered), (3, 0, 1));
        let mut consumer = queue.consumer();
        let again = consumer.recv().await.unwrap();
        assert_eq!(
            (again.as_str(), again.delivery_count(), again.redelivered()),
            ("job 1", 2, true),
            "in flight at the crash: back first, its count raised"
        );
        let props = again.properties().unwrap();
        assert_eq!((props.id().as_str(), props.header("n")), ("job-1", Some("1")));
        assert!(props.timestamp().is_some());
        again.ack().unwrap();
        for n in [3, 4] {
            let job = consumer.recv().await.unwrap();
            assert_eq!(
                (job.as_str(), job.delivery_count()),
                (format!("job {n}").as_str(), 1)
            );
            job.ack().unwrap();
        }
        let dead = queue.try_dead_letter().unwrap().unwrap();
        assert_eq!(
            (dead.message.as_str(), dead.reason),
            ("job 2", DeadReason::Rejected)
        );
        assert_eq!(dead.properties.unwrap().id().as_str(), "job-2");
    });
    // Everything settled: a third run finds nothing.
    weft::block_on(async {
        let restored: Restored<String> = open(&fs, &Queue::builder(), always());
        assert_eq!((restored.ready, restored.dead_lettered), (0, 0));
    });
}

#[test]
fn a_message_in_flight_on_its_last_delivery_is_dead_lettered_on_restart() {
    let fs = SimFs::new();
    let mut builder = Queue::builder();
    builder.max_deliveries(1);
    weft::block_on(async {
        let queue: Queue<u32> = open(&fs, &builder, always()).queue;
        queue.producer().publish(7).await.unwrap();
        let held = queue.consumer().recv().await.unwrap();
        drop(queue);
        drop(held);
    });
    weft::block_on(async {
        let restored: Restored<u32> = open(&fs, &builder, always());
        assert_eq!((restored.ready, restored.dead_lettered), (0, 1));
        let dead = restored.queue.try_dead_letter().unwrap().unwrap();
        assert_eq!((dead.message, dead.reason), (7, DeadReason::MaxDeliveries));
    });
    weft::block_on(async {
        let restored: Restored<u32> = open(&fs, &builder, always());
        assert_eq!(
            (restored.ready, restored.dead_lettered),
            (0, 0),
            "the taken dead letter stays gone"
        );
    });
}

#[test]
fn a_torn_tail_is_cut_and_reported_and_the_rest_restored() {
    let fs = SimFs::new();
    weft::block_on(async {
        let queue: Queue<u32> = open(&fs, &Queue::builder(), always()).queue;
        for n in 0..3 {
            queue.producer().publish(n).await.unwrap();
        }
    });
    // A crash in the middle of the next append.
    let mut frame = Vec::new();
    weft::disk::frame::encode(b"\x01\x00half a publish", &mut frame).unwrap();
    let name = fs
        .list(Path::new(DIR))
        .unwrap()
        .into_iter()
        .find(|n| n.ends_with(".log"))
        .unwrap();
    let segment = fs.open(&Path::new(DIR).join(name), false).unwrap();
    segment.append(&frame[..frame.len() / 2]).unwrap();
    weft::block_on(async {
        let restored: Restored<u32> = open(&fs, &Queue::builder(), always());
        let torn = restored.recovery.torn.clone().expect("the torn tail is reported");
        assert_eq!(torn.bytes, (frame.len() / 2) as u64);
        assert!(torn.to_string().starts_with("cut a torn tail of"), "{torn}");
        assert_eq!(restored.ready, 3);
        let mut consumer = restored.queue.consumer();
        for n in 0..3 {
            let job = consumer.recv().await.unwrap();
            assert_eq!(*job, n);
            job.ack().unwrap();
        }
    });
}

#[test]
fn segments_whose_messages_all_settled_are_deleted() {
    let fs = SimFs::new();
    weft::block_on(async {
        // Without copy-forward (tests/queue_compaction.rs), a segment with a
        // live message in it stays.
        let disk = always().segment_bytes(100).copy_forward_at(0);
        let restored: Restored<u64> = open(&fs, &Queue::builder(), disk);
        let (queue, backend) = (restored.queue, restored.backend);
        let producer = queue.producer();
        for n in 0..40 {
            producer.publish(n).await.unwrap();
        }
        let full = (segments(&fs), backend.disk_bytes());
        assert!(full.0 >= 10, "{full:?}");
        let first = Path::new(DIR).join(format!("{:020}.log", 0));
        let mut consumer = queue.consumer();
        for _ in 0..4 {
            assert!(fs.open(&first, false).is_ok(), "a live message's segment is kept");
            consumer.recv().await.unwrap().ack_confirmed().await.unwrap();
        }
        assert!(
            fs.open(&first, false).is_err(),
            "its four messages acked, the first segment is gone"
        );
        for _ in 4..40 {
            consumer.recv().await.unwrap().ack_confirmed().await.unwrap();
        }
        // Nothing live: every segment but the one appended to goes (the
        // acks' records with them).
        assert_eq!(segments(&fs), 1, "only the active segment is left");
        assert!(backend.disk_bytes() <= 100);
    });
}

#[test]
fn a_disk_bound_refuses_a_publish_or_holds_it_until_compaction_makes_room() {
    // A segment per record, so each ack can free its message's segment.
    let disk = || always().segment_bytes(0).max_bytes(300);
    let message = || "x".repeat(50); // a 64-byte record

    // Reject: a typed error, and the message back.
    let fs = SimFs::new();
    let mut reject = Queue::builder();
    reject.overflow(Overflow::Reject);
    weft::block_on(async {
        let queue: Queue<String> = open(&fs, &reject, disk()).queue;
        let producer = queue.producer();
        for _ in 0..4 {
            producer.publish(message()).await.unwrap();
        }
        match producer.publish(message()).await {
            Err(PublishError::Store(error @ StoreError::NotStored { .. })) => {
                assert_eq!(error.io_error().kind(), std::io::ErrorKind::StorageFull);
                let full = error
                    .io_error()
                    .get_ref()
                    .unwrap()
                    .downcast_ref::<DiskFull>()
                    .unwrap();
                assert_eq!((full.used, full.limit), (256, 300));
                assert_eq!(error.into_value(), Some(message()));
            }
            other => panic!("published past the bound: {other:?}"),
        }
        assert_eq!(queue.stats().ready, 4);
    });

    // Wait: backpressure until acks free segments.
    let fs = SimFs::new();
    weft::block_on(async {
        let queue: Queue<String> = open(&fs, &Queue::builder(), disk()).queue;
        let producer = queue.producer();
        for _ in 0..4 {
            producer.publish(message()).await.unwrap();
        }
        let waker = Counting::new();
        let mut held = pin!(producer.publish(message()));
        assert!(waker.poll(held.as_mut()).is_pending(), "the bound holds it");
        let mut consumer = queue.consumer();
        consumer.recv().await.unwrap().ack_confirmed().await.unwrap();
        assert!(waker.is_woken(), "a segment deleted: the publish tries again");
        // One ack's records cost almost what it frees: not enough yet.
        assert!(waker.poll(held.as_mut()).is_pending());
        waker.reset();
        consumer.recv().await.unwrap().ack_confirmed().await.unwrap();
        assert!(waker.is_woken(), "compaction made room and woke the publish");
        assert!(matches!(waker.poll(held.as_mut()), Poll::Ready(Ok(()))));
        assert_eq!(queue.stats().ready, 3);
    });
}

/// Sends on a channel when woken, so the test can block until it is.
struct Signal(Mutex<mpsc::Sender<usize>>, usize);

impl Wake for Signal {
    fn wake(self: Arc<Self>) {
        let _ = self.0.lock().unwrap().send(self.1);
    }
}

#[test]
fn concurrent_publishes_share_one_sync_and_none_completes_before_it() {
    let fs = SimFs::new();
    let group = DiskOptions::new().sync(SyncPolicy::GroupCommit {
        max_delay: Duration::ZERO,
    });
    weft::block_on(async {
        let queue: Queue<u32> = open(&fs, &Queue::builder(), group).queue;
        let producer = queue.producer();
        let (tx, rx) = mpsc::channel();
        // The first publish's sync is held, so the others pile up behind it.
        fs.hold_syncs(true);
        let mut publishes: Vec<_> = (0..8).map(|n| Box::pin(producer.publish(n))).collect();
        let wakers: Vec<Waker> = (0..8)
            .map(|n| Waker::from(Arc::new(Signal(Mutex::new(tx.clone()), n))))
            .collect();
        let syncs = fs.syncs();
        for (publish, waker) in publishes.iter_mut().zip(&wakers) {
            let polled = publish.as_mut().poll(&mut Context::from_waker(waker));
            assert!(polled.is_pending(), "complete before its sync");
        }
        assert_eq!(queue.stats().ready, 0, "nothing deliverable before its sync");
        fs.wait_held(1);
        fs.hold_syncs(false);
        let mut done = 0;
        while done < 8 {
            let n = rx.recv().unwrap();
            if let Poll::Ready(result) = publishes[n].as_mut().poll(&mut Context::from_waker(&wakers[n])) {
                result.unwrap();
                done += 1;
            }
        }
        let used = fs.syncs() - syncs;
        assert!(used <= 2, "8 publishes took {used} syncs");
        assert_eq!(queue.stats().ready, 8);
    });
}

#[test]
fn a_failed_sync_is_never_reported_as_a_publish_or_an_ack() {
    let fs = SimFs::new();
    weft::block_on(async {
        let queue: Queue<u32> = open(&fs, &Queue::builder(), always()).queue;
        let producer = queue.producer();
        producer.publish(1).await.unwrap();
        let delivery = queue.consumer().recv().await.unwrap();
        fs.fail_syncs(1);
        match producer.publish(2).await {
            Err(PublishError::Store(error)) => assert!(error.is_unknown(), "{error:?}"),
            other => panic!("a failed sync reported as {other:?}"),
        }
        match delivery.ack_confirmed().await {
            Err(AckError::Store(error)) => assert!(error.is_unknown(), "{error:?}"),
            other => panic!("an ack on a stopped log reported as {other:?}"),
        }
        assert!(matches!(producer.publish(3).await, Err(PublishError::Store(_))));
    });
}

#[test]
fn a_publish_dropped_while_its_sync_is_held_is_in_the_queue_as_after_a_restart() {
    let fs = SimFs::new();
    let group = || {
        DiskOptions::new().sync(SyncPolicy::GroupCommit {
            max_delay: Duration::ZERO,
        })
    };
    weft::block_on(async {
        let queue: Queue<u32> = open(&fs, &Queue::builder(), group()).queue;
        let producer = queue.producer();
        fs.hold_syncs(true);
        let waker = Counting::new();
        {
            let mut publish = pin!(producer.publish(1));
            assert!(waker.poll(publish.as_mut()).is_pending());
            fs.wait_held(1);
            assert_eq!(queue.stats().ready, 0);
        }
        // Its record was written: the queue holds it now, as a restart
        // would find it.
        assert_eq!(queue.stats().ready, 1);
        // `try_publish` does not wait for the sync either: sent.
        producer.try_publish(2).unwrap();
        assert_eq!(queue.stats().ready, 2);
        fs.hold_syncs(false);
        let mut consumer = queue.consumer();
        for n in [1, 2] {
            let job = consumer.recv().await.unwrap();
            assert_eq!(*job, n);
            job.ack_confirmed().await.unwrap();
        }
    });
    weft::block_on(async {
        let restored: Restored<u32> = open(&fs, &Queue::builder(), group());
        assert_eq!(restored.ready, 0, "both acks were confirmed");
    });
}

#[test]
fn a_publish_dropped_while_it_waits_for_disk_room_leaves_nothing_behind() {
    let fs = SimFs::new();
    let disk = always().segment_bytes(0).max_bytes(300);
    weft::block_on(async {
        let queue: Queue<String> = open(&fs, &Queue::builder(), disk).queue;
        let producer = queue.producer();
        for _ in 0..4 {
            producer.publish("x".repeat(50)).await.unwrap();
        }
        let (first, second) = (Counting::new(), Counting::new());
        let mut kept = pin!(producer.publish("y".repeat(50)));
        {
            let mut dropped = pin!(producer.publish("z".repeat(50)));
            assert!(first.poll(dropped.as_mut()).is_pending());
            assert!(second.poll(kept.as_mut()).is_pending());
            let mut consumer = queue.consumer();
            for _ in 0..2 {
                consumer.recv().await.unwrap().ack_confirmed().await.unwrap();
            }
            assert!(
                first.is_woken() && second.is_woken(),
                "room made: both may try again"
            );
        }
        assert!(matches!(second.poll(kept.as_mut()), Poll::Ready(Ok(()))));
        assert_eq!(queue.stats().ready, 3, "the dropped publish left nothing behind");
    });
    weft::block_on(async {
        let restored: Restored<String> = open(&fs, &Queue::builder(), always());
        assert_eq!(restored.ready, 3, "nor on disk");
    });
}

#[test]
fn a_segment_stays_until_the_record_of_its_message_leaving_is_synced() {
    // Group commit that would wait an hour: only segment rolls sync here.
    let lazy = || {
        DiskOptions::new()
            .sync(SyncPolicy::GroupCommit {
                max_delay: Duration::from_secs(3600),
            })
            .segment_bytes(0)
    };
    let first = Path::new(DIR).join(format!("{:020}.log", 0));
    for seed in 0..20 {
        let fs = SimFs::new();
        let cut = weft::block_on(async {
            let queue: Queue<u32> = open(&fs, &Queue::builder(), lazy()).queue;
            queue.producer().try_publish(7).unwrap(); // sent, not awaited
            let delivery = queue.consumer().recv().await.unwrap(); // a roll syncs the publish
            delivery.ack().unwrap(); // written (a roll syncs the delivery), not synced
            queue.purge(); // compacts
            assert!(
                fs.open(&first, false).is_ok(),
                "the publish's segment went before the ack was synced"
            );
            fs.power_cut(seed)
        });
        weft::block_on(async {
            let restored: Restored<u32> = open(&cut, &Queue::builder(), lazy());
            let ack_kept = restored.recovery.records == 3;
            assert!(
                ack_kept || restored.ready == 1,
                "seed {seed}: the ack was lost and the message with it"
            );
        });
    }
}
