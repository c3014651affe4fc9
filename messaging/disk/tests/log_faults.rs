//! A full disk and failed syncs: typed errors, and nothing confirmed that
//! is not on disk.

use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex, mpsc};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;
use weft_disk::fs::{FileLock, FileSystem, SegmentFile, SimFs};
use weft_disk::{LogError, Options, SyncPolicy};
use weft_test_support::CountingWaker;

/// A waker that sends on a channel, so a test can block until it is woken
/// (the log wakes after releasing its lock, so after the state changed).
struct ChannelWaker(Mutex<mpsc::Sender<()>>);

impl Wake for ChannelWaker {
    fn wake(self: Arc<Self>) {
        let _ = self.0.lock().unwrap().send(());
    }
}

fn channel_waker() -> (Waker, mpsc::Receiver<()>) {
    let (sender, receiver) = mpsc::channel();
    (Waker::from(Arc::new(ChannelWaker(Mutex::new(sender)))), receiver)
}

const POLICIES: [SyncPolicy; 2] = [
    SyncPolicy::Always,
    SyncPolicy::GroupCommit {
        max_delay: Duration::ZERO,
    },
];

#[test]
fn a_full_disk_refuses_the_record_and_leaves_the_log_usable() {
    for policy in POLICIES {
        let fs = SimFs::new();
        let log = Options::new()
            .sync(policy)
            .open_in(fs.clone(), "/log")
            .unwrap()
            .log;
        log.blocking_append(b"before").unwrap();
        // Room for the header and a little of the payload: a partial write.
        fs.set_capacity(Some(18 + 12 + 3));
        match log.append(b"does not fit") {
            Err(LogError::Io(error)) => assert_eq!(error.kind(), io::ErrorKind::StorageFull),
            other => panic!("{policy:?}: expected Io(StorageFull), got {other:?}"),
        }
        assert_eq!(log.end(), 1, "the record has no offset");
        fs.set_capacity(None);
        assert_eq!(log.blocking_append(b"after").unwrap(), 1);
        drop(log);
        // The partial write was cut out: no corruption mid-segment.
        let opened = Options::new().open_in(fs.power_cut(3), "/log").unwrap();
        assert_eq!(opened.recovery.torn, None);
        let records = opened.log.read(0, 10).unwrap();
        let payloads: Vec<&[u8]> = records.iter().map(|r| &r.payload[..]).collect();
        assert_eq!(payloads, [&b"before"[..], b"after"]);
    }
}

#[test]
fn a_failed_sync_poisons_the_log_for_good() {
    for policy in POLICIES {
        let fs = SimFs::new();
        let log = Options::new()
            .sync(policy)
            .open_in(fs.clone(), "/log")
            .unwrap()
            .log;
        let confirmed = log.blocking_append(b"confirmed").unwrap();
        fs.fail_syncs(1);
        let lost = match policy {
            // The append's own sync fails.
            SyncPolicy::Always => {
                assert!(log.append(b"lost").unwrap_err().is_poisoned());
                1
            }
            // The append is written; its sync fails.
            _ => {
                let offset = log.append(b"lost").unwrap();
                assert!(log.blocking_sync(offset).unwrap_err().is_poisoned());
                offset
            }
        };
        // Every later write fails, though syncs work again; nothing is
        // confirmed that was not confirmed before.
        assert!(log.append(b"later").unwrap_err().is_poisoned(), "{policy:?}");
        assert!(log.remove_before(1).unwrap_err().is_poisoned());
        assert!(log.poisoned().is_some());
        assert_eq!(log.synced(), confirmed + 1);
        log.blocking_sync(confirmed).unwrap();
        let (counter, waker) = CountingWaker::new();
        if lost < log.end() {
            let outcome = log.poll_sync(&mut Context::from_waker(&waker), lost);
            assert!(matches!(outcome, Poll::Ready(Err(LogError::Poisoned(_)))));
        }
        assert_eq!(counter.wakes(), 0);
        let error = log.append(b"x").unwrap_err();
        assert!(
            error.to_string().starts_with("log stopped by a failed sync: "),
            "{error}"
        );
    }
}

#[test]
fn a_waiter_is_woken_with_the_poison() {
    let fs = SimFs::new();
    let log = Options::new().open_in(fs.clone(), "/log").unwrap().log;
    fs.hold_syncs(true);
    fs.fail_syncs(1);
    let offset = log.append(b"x").unwrap();
    fs.wait_held(1);
    let (waker, woken) = channel_waker();
    assert!(
        log.poll_sync(&mut Context::from_waker(&waker), offset)
            .is_pending()
    );
    fs.hold_syncs(false);
    woken.recv().unwrap();
    let outcome = log.poll_sync(&mut Context::from_waker(&waker), offset);
    assert!(matches!(outcome, Poll::Ready(Err(LogError::Poisoned(_)))));
    assert!(woken.try_recv().is_err(), "woken once");
}

#[test]
fn a_failed_directory_sync_at_a_roll_poisons_the_log() {
    let fs = SimFs::new();
    let log = Options::new()
        .segment_bytes(0)
        .sync(SyncPolicy::Always)
        .open_in(fs.clone(), "/log")
        .unwrap()
        .log;
    log.append(b"a").unwrap();
    // The roll syncs the old segment (ok), then the directory (fails).
    let base = fs.syncs();
    fs.fail_dir_syncs(1);
    assert!(log.append(b"b").unwrap_err().is_poisoned());
    assert_eq!(fs.syncs(), base + 1, "the old segment was synced");
    assert_eq!(log.end(), 1);
    log.blocking_sync(0).unwrap();
    assert!(log.append(b"c").unwrap_err().is_poisoned());
}

#[test]
fn reopening_after_a_poison_keeps_what_was_confirmed() {
    let fs = SimFs::new();
    let log = Options::new().open_in(fs.clone(), "/log").unwrap().log;
    for n in 0..3u8 {
        log.blocking_append(&[n]).unwrap();
    }
    fs.fail_syncs(1);
    let offset = log.append(b"maybe").unwrap();
    assert!(log.blocking_sync(offset).is_err());
    let image = fs.power_cut(11);
    drop(log);
    let reopened = Options::new().open_in(image, "/log").unwrap().log;
    let records = reopened.read(0, 10).unwrap();
    assert!(records.len() >= 3);
    for (n, record) in records.iter().take(3).enumerate() {
        assert_eq!(record.payload, [n as u8]);
    }
}

/// The channels of a parked sync: it sends when it parks, and returns on
/// the next receive.
type Park = (mpsc::Sender<()>, mpsc::Receiver<()>);

/// A file system that parks a *failed* file sync after it failed and
/// before it returns, so a test can append while the log does not know yet.
#[derive(Debug, Clone)]
struct ParkFailedSync {
    inner: SimFs,
    /// Taken by the first failed sync.
    parked: Arc<Mutex<Option<Park>>>,
}

#[derive(Debug)]
struct ParkFile {
    inner: Box<dyn SegmentFile>,
    fs: ParkFailedSync,
}

impl SegmentFile for ParkFile {
    fn append(&self, bytes: &[u8]) -> io::Result<()> {
        self.inner.append(bytes)
    }

    fn sync_data(&self) -> io::Result<()> {
        let result = self.inner.sync_data();
        if result.is_err()
            && let Some((parked, resume)) = self.fs.parked.lock().unwrap().take()
        {
            parked.send(()).unwrap();
            resume.recv().unwrap();
        }
        result
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.inner.set_len(len)
    }

    fn size(&self) -> io::Result<u64> {
        self.inner.size()
    }
}

impl FileSystem for ParkFailedSync {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        self.inner.create_dir_all(dir)
    }

    fn open(&self, path: &Path, create: bool) -> io::Result<Box<dyn SegmentFile>> {
        let inner = self.inner.open(path, create)?;
        Ok(Box::new(ParkFile {
            inner,
            fs: self.clone(),
        }))
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.inner.read(path)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.inner.rename(from, to)
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        self.inner.remove(path)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.inner.sync_dir(dir)
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        self.inner.list(dir)
    }

    fn lock(&self, path: &Path) -> io::Result<Box<dyn FileLock>> {
        self.inner.lock(path)
    }
}

#[test]
fn a_write_racing_a_failed_sync_leaves_no_hole_behind_the_poison() {
    // Linux drops the pages a failed fdatasync could not write, but a write
    // made just after it lands normally: on disk, a hole of lost bytes with
    // a valid record behind it. The log must not leave that for the next
    // open to call corruption.
    let sim = SimFs::new();
    let (parked_tx, parked_rx) = mpsc::channel();
    let (resume_tx, resume_rx) = mpsc::channel();
    let fs = ParkFailedSync {
        inner: sim.clone(),
        parked: Arc::new(Mutex::new(Some((parked_tx, resume_rx)))),
    };
    let log = Options::new().open_in(fs, "/log").unwrap().log;
    log.blocking_append(b"confirmed").unwrap();
    sim.fail_syncs(1);
    let lost = log.append(b"its sync fails").unwrap();
    parked_rx.recv().unwrap(); // the sync failed; the log does not know yet
    let behind = log.append(b"written behind the hole").unwrap();
    resume_tx.send(()).unwrap();
    assert!(log.blocking_sync(lost).unwrap_err().is_poisoned());
    assert!(log.blocking_sync(behind).unwrap_err().is_poisoned());
    for seed in 0..64 {
        let opened = Options::new()
            .open_in(sim.power_cut(seed), "/log")
            .unwrap_or_else(|error| panic!("seed {seed}: {error}"));
        assert_eq!(opened.log.read(0, 1).unwrap()[0].payload, b"confirmed");
    }
}
