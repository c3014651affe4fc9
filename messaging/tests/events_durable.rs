//! What only the durable event bus does (#23): a restart brings back
//! topics, partitions, offsets and commits; retention deletes whole
//! segment files; reads go by the position index, never re-reading a
//! segment whole; concurrent publishers share a sync; a torn tail is cut
//! and reported; a failed sync is never reported as stored; a second
//! process is locked out.

mod events_support;

use events_support::Bytes;
use std::future::Future;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Waker};
use std::time::Duration;
use weft::disk::OpenError;
use weft::disk::fs::{FileLock, FileSystem, SegmentFile, SimFs};
use weft::events::{
    DiskOptions, EventBus, Offset, OpenDurableError, PublishError, RecvError, Restored, StartAt, SyncPolicy,
    TopicOptions,
};

fn open(fs: &SimFs, disk: DiskOptions) -> Restored<u64> {
    EventBus::builder()
        .open_durable_with("/bus", Bytes, &disk.file_system(fs.clone()))
        .unwrap()
}

fn always() -> DiskOptions {
    DiskOptions::new().sync(SyncPolicy::Always)
}

/// `segment`'s segment files, of the topic `name`'s partition.
fn segments(fs: &impl FileSystem, name: &str, partition: u32) -> usize {
    let hex: String = name.bytes().map(|b| format!("{b:02x}")).collect();
    let dir = format!("/bus/topics/{hex}/{partition}");
    let files = fs.list(Path::new(&dir)).unwrap();
    files.iter().filter(|name| name.ends_with(".log")).count()
}

#[test]
fn a_restart_brings_back_topics_partitions_offsets_and_commits() {
    let fs = SimFs::new();
    {
        let bus = open(&fs, always()).bus;
        let options = TopicOptions {
            partitions: 3,
            ..TopicOptions::default()
        };
        let orders = bus.create_topic("order.placed", options).unwrap();
        for n in 0..30 {
            orders.try_publish_keyed(&format!("c{}", n % 7), n).unwrap();
        }
        let mut member = bus.join("billing", "order.placed", StartAt::Start).unwrap();
        for _ in 0..5 {
            member.try_recv().unwrap().unwrap().ack().unwrap();
        }
    }
    let restored = open(&fs, always());
    assert_eq!((restored.topics, restored.events), (1, 30));
    let bus = restored.bus;
    assert_eq!(
        bus.topic("order.placed").unwrap().partitions(),
        3,
        "the count it was made with"
    );
    let orders = bus.topic("order.placed").unwrap();
    let ends: u64 = (0..3).map(|p| orders.end_of(p).unwrap().get()).sum();
    assert_eq!(ends, 30);
    let mut replay = orders.subscribe(StartAt::Start);
    let mut seen: Vec<u64> = std::iter::from_fn(|| replay.try_recv())
        .map(|e| *e.unwrap().payload())
        .collect();
    seen.sort();
    assert_eq!(seen, (0..30).collect::<Vec<_>>());
    // The group resumes after what it acked: 25 events are left for it.
    let mut member = bus.join("billing", "order.placed", StartAt::Start).unwrap();
    let left = std::iter::from_fn(|| member.try_recv().and_then(Result::ok)).count();
    assert_eq!(left, 25);
    // And the next publish goes on from the offsets found.
    let at = orders.try_publish_keyed("c0", 99).unwrap();
    assert!(at.get() >= 1);
}

#[test]
fn retention_deletes_whole_segments_and_a_reader_behind_gets_the_exact_lag() {
    let fs = SimFs::new();
    let restored = EventBus::builder()
        .retention(10)
        .open_durable_with(
            "/bus",
            Bytes,
            &always().segment_bytes(100).file_system(fs.clone()),
        )
        .unwrap();
    let bus: EventBus<u64> = restored.bus;
    let log = bus.topic("log").unwrap();
    let mut slow = log.subscribe(StartAt::Start);
    log.try_publish(0).unwrap();
    let one = segments(&fs, "log", 0);
    for n in 1..100 {
        log.try_publish(n).unwrap();
    }
    assert_eq!(log.start(), Offset::new(90), "exact retention, as in memory");
    let left = segments(&fs, "log", 0);
    assert!(
        (1..10).contains(&left),
        "whole segments deleted, a few kept: {left} (one had {one})"
    );
    match slow.try_recv() {
        Some(Err(RecvError::Lagged { skipped, .. })) => assert_eq!(skipped, 90),
        other => panic!("expected a lag of 90, got {other:?}"),
    }
    let rest: Vec<u64> = std::iter::from_fn(|| slow.try_recv())
        .map(|e| *e.unwrap().payload())
        .collect();
    assert_eq!(rest, (90..100).collect::<Vec<_>>());
    drop((slow, log, bus));
    // On open, the retention the bus asks for applies to what is on disk.
    let restored: Restored<u64> = EventBus::builder()
        .retention(5)
        .open_durable_with(
            "/bus",
            Bytes,
            &always().segment_bytes(100).file_system(fs.clone()),
        )
        .unwrap();
    let log = restored.bus.topic("log").unwrap();
    assert_eq!(log.start(), Offset::new(95));
    assert_eq!(log.end(), Offset::new(100));
}

/// A file system that counts whole-file reads and positioned reads.
#[derive(Debug, Clone)]
struct Counting {
    fs: SimFs,
    whole: Arc<AtomicUsize>,
    positioned: Arc<AtomicUsize>,
}

impl FileSystem for Counting {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        self.fs.create_dir_all(dir)
    }
    fn open(&self, path: &Path, create: bool) -> io::Result<Box<dyn SegmentFile>> {
        self.fs.open(path, create)
    }
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.whole.fetch_add(1, Ordering::SeqCst);
        self.fs.read(path)
    }
    fn read_at(&self, path: &Path, position: u64, len: usize) -> io::Result<Vec<u8>> {
        self.positioned.fetch_add(1, Ordering::SeqCst);
        self.fs.read_at(path, position, len)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.fs.rename(from, to)
    }
    fn remove(&self, path: &Path) -> io::Result<()> {
        self.fs.remove(path)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.fs.sync_dir(dir)
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        self.fs.list(dir)
    }
    fn lock(&self, path: &Path) -> io::Result<Box<dyn FileLock>> {
        self.fs.lock(path)
    }
}

#[test]
fn reads_go_by_the_index_and_never_read_a_segment_whole() {
    let counting = Counting {
        fs: SimFs::new(),
        whole: Arc::default(),
        positioned: Arc::default(),
    };
    let disk = always().segment_bytes(1 << 10).file_system(counting.clone());
    for round in 0..2 {
        let bus: EventBus<u64> = EventBus::builder()
            .open_durable_with("/bus", Bytes, &disk)
            .unwrap()
            .bus;
        // Opening scans each log once; after that, no whole reads.
        let whole = counting.whole.load(Ordering::SeqCst);
        let topic = bus.topic("t").unwrap();
        for n in 0..200 {
            topic.try_publish(round * 1000 + n).unwrap();
        }
        let mut sub = topic.subscribe(StartAt::Start);
        let read = std::iter::from_fn(|| sub.try_recv()).count();
        assert_eq!(read, 200 * (round as usize + 1));
        assert_eq!(
            counting.whole.load(Ordering::SeqCst),
            whole,
            "round {round}: a segment read whole"
        );
        assert!(counting.positioned.load(Ordering::SeqCst) > 0);
    }
}

#[test]
fn concurrent_publishers_share_one_sync() {
    let fs = SimFs::new();
    let disk = DiskOptions::new().sync(SyncPolicy::GroupCommit {
        max_delay: Duration::ZERO,
    });
    let bus = open(&fs, disk).bus;
    let topic = bus.topic("t").unwrap();
    weft::block_on(topic.publish(0)).unwrap(); // the topic's own syncs done
    fs.hold_syncs(true);
    let mut publishes: Vec<_> = (1..=8).map(|n| Box::pin(topic.publish(n))).collect();
    let mut cx = Context::from_waker(Waker::noop());
    for publish in &mut publishes {
        // Written, waiting for a sync.
        assert!(publish.as_mut().poll(&mut cx).is_pending());
    }
    fs.wait_held(1);
    let before = fs.syncs();
    fs.hold_syncs(false);
    let offsets: Vec<u64> = publishes
        .into_iter()
        .map(|p| weft::block_on(p).unwrap().get())
        .collect();
    assert_eq!(offsets, (1..=8).collect::<Vec<_>>());
    // The held sync, and at most one more for what came after it began.
    assert!(
        fs.syncs() - before <= 2,
        "{} syncs for 8 publishes",
        fs.syncs() - before
    );
}

#[test]
fn a_failed_sync_is_never_reported_as_stored() {
    let fs = SimFs::new();
    let bus = open(&fs, always()).bus;
    let topic = bus.topic("t").unwrap();
    topic.try_publish(1).unwrap();
    fs.fail_syncs(1);
    match weft::block_on(topic.publish(2)) {
        Err(PublishError::Store(error)) => assert!(error.is_unknown(), "{error:?}"),
        other => panic!("a failed sync reported as {other:?}"),
    }
    // The partition is poisoned: later publishes are refused too.
    assert!(weft::block_on(topic.publish(3)).is_err());
    let mut sub = topic.subscribe(StartAt::Start);
    let seen: Vec<u64> = std::iter::from_fn(|| sub.try_recv())
        .map(|e| *e.unwrap().payload())
        .collect();
    assert_eq!(seen, [1], "readers never saw what was not synced");
}

#[test]
fn a_torn_tail_is_cut_and_reported_on_open() {
    let fs = SimFs::new();
    {
        let bus = open(&fs, always()).bus;
        let topic = bus.topic("t").unwrap();
        topic.try_publish(1).unwrap();
        topic.try_publish(2).unwrap();
    }
    // Half a record at the end of the partition's segment.
    let segment = Path::new("/bus/topics/74/0/00000000000000000000.log");
    fs.open(segment, false).unwrap().append(&[7; 9]).unwrap();
    let restored = open(&fs, always());
    let torn: Vec<_> = restored.recovery.iter().filter_map(|r| r.torn.as_ref()).collect();
    assert_eq!(torn.len(), 1);
    assert_eq!((torn[0].segment.as_path(), torn[0].bytes), (segment, 9));
    assert_eq!(restored.events, 2);
}

#[test]
fn a_second_open_of_the_directory_is_refused() {
    let fs = SimFs::new();
    let _first = open(&fs, always());
    let second: Result<Restored<u64>, _> =
        EventBus::builder().open_durable_with("/bus", Bytes, &always().file_system(fs.clone()));
    assert!(
        matches!(second, Err(OpenDurableError::Open(OpenError::Locked { .. }))),
        "{second:?}"
    );
}
