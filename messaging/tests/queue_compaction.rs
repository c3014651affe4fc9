//! Copy-forward compaction of the durable queue (#23): when the oldest
//! segment is mostly garbage, its live messages are copied to the end of
//! the log (identity, delivery count, properties and order kept) and the
//! segment is deleted once the copies are synced. Disk use drops, every
//! live message is still delivered once, a crash after the copies are
//! synced but before the old segment is deleted leaves no duplicate, and
//! one while they are written (the log cut at every byte of its tail, the
//! old segment still there) loses nothing.
//! The power-cut test (`queue_power_cut.rs`) cuts the power across
//! copy-forward too.

mod queue_support;

use queue_support::backends::Bytes;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use weft::disk::fs::{FileSystem, SimFs};
use weft::queue::{DeadReason, Delivery, DiskOptions, Properties, Queue, Restored, SyncPolicy};

const DIR: &str = "/queue";

/// Opens the queue with room for every delivery in hand at once.
fn open(fs: &SimFs, disk: DiskOptions) -> Restored<String> {
    let mut builder = Queue::builder();
    builder.prefetch(1 << 20);
    builder
        .open_durable_with(DIR, Bytes, &disk.file_system(fs.clone()))
        .unwrap()
}

/// Synced on every append, 240-byte segments: four of these jobs' publish
/// records (53 to 56 bytes each) fill one.
fn small() -> DiskOptions {
    DiskOptions::new().sync(SyncPolicy::Always).segment_bytes(240)
}

/// The segment files in the queue's directory, oldest first.
fn segments(fs: &SimFs) -> Vec<PathBuf> {
    let mut names: Vec<String> = fs
        .list(Path::new(DIR))
        .unwrap()
        .into_iter()
        .filter(|name| name.ends_with(".log"))
        .collect();
    names.sort();
    names.into_iter().map(|name| Path::new(DIR).join(name)).collect()
}

fn props(n: u32) -> Properties {
    Properties::new()
        .with_id(format!("job-{n}"))
        .with_header("n", n.to_string())
}

/// Publishes `count` jobs with properties, then receives them all.
async fn publish_and_receive(queue: &Queue<String>, count: u32) -> Vec<Delivery<String>> {
    let producer = queue.producer();
    for n in 0..count {
        producer.publish_with(format!("{n}"), props(n)).await.unwrap();
    }
    let mut consumer = queue.consumer();
    let mut held = Vec::new();
    for _ in 0..count {
        held.push(consumer.recv().await.unwrap());
    }
    held
}

/// Receives everything ready in the reopened queue: each job's body,
/// delivery count and properties' id.
async fn drain(queue: &Queue<String>) -> Vec<(String, u32, String)> {
    let mut consumer = queue.consumer();
    let mut found = Vec::new();
    for _ in 0..queue.stats().ready {
        let job = consumer.recv().await.unwrap();
        let id = job
            .properties()
            .map(|p| p.id().as_str().to_owned())
            .unwrap_or_default();
        found.push(((*job).clone(), job.delivery_count(), id));
        job.ack_confirmed().await.unwrap();
    }
    assert_eq!(queue.stats().ready, 0);
    found
}

/// Publishes and receives 40 jobs, acks all but `kept`, and returns the
/// (segments, disk bytes) before the acks and after, and the messages
/// copied forward.
fn ack_all_but(fs: &SimFs, disk: DiskOptions, kept: &BTreeSet<u32>) -> ((usize, u64), (usize, u64), u64) {
    weft::block_on(async {
        let restored = open(fs, disk);
        let (queue, backend) = (restored.queue, restored.backend);
        let held = publish_and_receive(&queue, 40).await;
        let full = (segments(fs).len(), backend.disk_bytes());
        let mut in_hand = Vec::new();
        for job in held {
            let n: u32 = job.parse().unwrap();
            if kept.contains(&n) {
                in_hand.push(job);
            } else {
                job.ack_confirmed().await.unwrap();
            }
        }
        assert_eq!(queue.stats().in_flight, kept.len());
        // The kept jobs are in flight at the "crash" (the queue dropped).
        drop(in_hand);
        (
            full,
            (segments(fs).len(), backend.disk_bytes()),
            backend.copied_forward(),
        )
    })
}

#[test]
fn a_mostly_dead_segment_is_copied_forward_and_each_live_message_delivered_once() {
    let kept: BTreeSet<u32> = [0, 17, 33].into();
    // Without copy-forward, job 0 alone keeps every segment.
    let (full, pinned, copied) = ack_all_but(&SimFs::new(), small().copy_forward_at(0), &kept);
    assert_eq!(copied, 0);
    assert!(
        pinned.0 >= full.0 && pinned.1 > full.1,
        "{pinned:?}, was {full:?}"
    );

    let fs = SimFs::new();
    let (full, now, copied) = ack_all_but(&fs, small(), &kept);
    assert!(full.0 >= 10, "{full:?}");
    // Each kept job was copied forward (some more than once: a copy lands
    // among acks that later die around it), and the segments behind
    // deleted: disk use is less than half of what it is without.
    assert!(copied >= kept.len() as u64, "{copied}");
    assert!(
        now.1 * 2 < pinned.1,
        "disk use {now:?}, {pinned:?} without copy-forward"
    );
    assert!(
        now.0 * 2 < pinned.0,
        "segments {now:?}, {pinned:?} without copy-forward"
    );
    assert!(now.1 < full.1, "disk use {now:?}, was {full:?} before the acks");
    weft::block_on(async {
        let restored = open(&fs, small());
        assert_eq!(restored.ready, kept.len());
        let found = drain(&restored.queue).await;
        let expected: Vec<_> = kept
            .iter()
            .map(|n| (n.to_string(), 2, format!("job-{n}")))
            .collect();
        assert_eq!(
            found, expected,
            "each once, in order, redelivered, with properties"
        );
    });
}

/// Publishes jobs 0 to 7, holds job 0 and acks jobs 1 to 3: job 0 alone
/// in the first segment, it is copied forward and the segment deleted.
/// Returns the first segment's path and its bytes before the deletion.
fn copy_job_zero_forward(fs: &SimFs) -> (PathBuf, Vec<u8>) {
    weft::block_on(async {
        let queue = open(fs, small()).queue;
        let mut held = publish_and_receive(&queue, 8).await.into_iter();
        let first = segments(fs)[0].clone();
        let old = fs.read(&first).unwrap();
        let job0 = held.next().unwrap();
        for job in held.by_ref().take(3) {
            job.ack_confirmed().await.unwrap();
        }
        assert!(
            fs.open(&first, false).is_err(),
            "job 0 alone in it: copied forward, the segment deleted"
        );
        drop((job0, held));
        (first, old)
    })
}

/// Puts the deleted segment back in `fs`, synced, as if the power was cut
/// before its removal reached the disk.
fn put_back(fs: &SimFs, path: &Path, bytes: &[u8]) {
    let file = fs.open(path, true).unwrap();
    file.append(bytes).unwrap();
    file.sync_data().unwrap();
    fs.sync_dir(Path::new(DIR)).unwrap();
}

#[test]
fn a_crash_after_the_copies_are_synced_and_before_the_delete_keeps_one_of_each() {
    let fs = SimFs::new();
    let (first, old) = copy_job_zero_forward(&fs);
    put_back(&fs, &first, &old);
    weft::block_on(async {
        let restored = open(&fs, small());
        assert_eq!(
            restored.ready, 5,
            "job 0 (original and copy) once, and jobs 4 to 7"
        );
        let found = drain(&restored.queue).await;
        let bodies: Vec<&str> = found.iter().map(|(body, ..)| body.as_str()).collect();
        assert_eq!(bodies, ["0", "4", "5", "6", "7"]);
        assert_eq!(found[0], ("0".to_owned(), 2, "job-0".to_owned()));
    });
}

#[test]
fn a_crash_while_the_copies_are_written_loses_nothing_and_doubles_nothing() {
    let fs = SimFs::new();
    let (first, old) = copy_job_zero_forward(&fs);
    let last = segments(&fs).pop().unwrap();
    let bytes = fs.read(&last).unwrap();
    let len = bytes.len();
    assert!(
        bytes.windows(5).any(|w| w == b"job-0"),
        "the copy of job 0 is in the last segment"
    );
    // The old segment still there, and the log cut at every byte of its
    // last segment (the copy of job 0 among what it holds): a torn tail.
    for cut in 0..=len {
        let image = fs.power_cut(0); // all synced: a copy of `fs`
        put_back(&image, &first, &old);
        let file = image.open(&last, false).unwrap();
        file.set_len(cut as u64).unwrap();
        file.sync_data().unwrap();
        weft::block_on(async {
            let restored = open(&image, small());
            let found = drain(&restored.queue).await;
            let bodies: Vec<u32> = found.iter().map(|(body, ..)| body.parse().unwrap()).collect();
            let unique: BTreeSet<u32> = bodies.iter().copied().collect();
            assert_eq!(
                unique.len(),
                bodies.len(),
                "cut at {cut}: a job twice: {bodies:?}"
            );
            // Acks cut off with the tail may bring jobs 1 to 3 back;
            // nothing else may come or go.
            for n in [0, 4, 5, 6, 7] {
                assert!(unique.contains(&n), "cut at {cut}: job {n} lost: {bodies:?}");
            }
            assert!(unique.iter().all(|&n| n < 8), "cut at {cut}: {bodies:?}");
            let zero = found.iter().find(|(body, ..)| body == "0").unwrap();
            assert_eq!(zero.2, "job-0", "cut at {cut}: job 0's properties");
        });
    }
}

#[test]
fn a_dead_letter_copied_forward_stays_a_dead_letter() {
    let fs = SimFs::new();
    weft::block_on(async {
        let restored = open(&fs, small());
        let (queue, backend) = (restored.queue, restored.backend);
        let mut held = publish_and_receive(&queue, 12).await.into_iter();
        held.next().unwrap().reject().unwrap();
        for job in held {
            job.ack_confirmed().await.unwrap();
        }
        assert!(backend.copied_forward() >= 1);
        assert_eq!(queue.stats().dead_lettered, 1);
    });
    weft::block_on(async {
        let restored = open(&fs, small());
        assert_eq!((restored.ready, restored.dead_lettered), (0, 1));
        let letter = restored.queue.try_dead_letter().unwrap().unwrap();
        assert_eq!(
            (letter.message.as_str(), letter.reason),
            ("0", DeadReason::Rejected)
        );
        assert_eq!(letter.properties.unwrap().id().as_str(), "job-0");
    });
}

#[test]
fn a_segment_above_the_threshold_is_not_copied() {
    let fs = SimFs::new();
    weft::block_on(async {
        // Jobs 0 and 1 of the first segment's four stay: half of it live.
        let restored = open(&fs, small());
        let (queue, backend) = (restored.queue, restored.backend);
        let mut held = publish_and_receive(&queue, 8).await.into_iter();
        let first = segments(&fs)[0].clone();
        let kept: Vec<_> = held.by_ref().take(2).collect();
        for job in held {
            job.ack_confirmed().await.unwrap();
        }
        assert_eq!(backend.copied_forward(), 0);
        assert!(fs.open(&first, false).is_ok(), "the first segment is kept");
        drop(kept);
    });
    weft::block_on(async {
        // At 50 %, the same state is copied forward on open.
        let restored = open(&fs, small().copy_forward_at(50));
        assert_eq!(restored.backend.copied_forward(), 2);
        assert_eq!(restored.ready, 2);
        let found = drain(&restored.queue).await;
        assert_eq!(found[0], ("0".to_owned(), 2, "job-0".to_owned()));
        assert_eq!(found[1], ("1".to_owned(), 2, "job-1".to_owned()));
    });
}
