//! The log on both file systems: append, read, roll, reopen, lock, remove.

use std::path::{Path, PathBuf};
use weft_disk::fs::{FileSystem, SimFs};
use weft_disk::{Log, LogError, OpenError, Options, SyncPolicy};

/// A fresh directory under the system's temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("weft-disk-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn payload(offset: u64) -> Vec<u8> {
    format!("record {offset}").into_bytes()
}

fn segments(fs: &dyn FileSystem, dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs
        .list(dir)
        .unwrap()
        .into_iter()
        .filter(|n| n.ends_with(".log"))
        .collect();
    names.sort();
    names
}

#[test]
fn append_read_and_reopen_on_disk() {
    let dir = TempDir::new("reopen");
    {
        let log = Options::new().segment_bytes(64).open(&dir.0).unwrap().log;
        for offset in 0..20 {
            assert_eq!(log.blocking_append(&payload(offset)).unwrap(), offset);
        }
        assert_eq!(log.synced(), 20);
    }
    let opened = Log::open(&dir.0).unwrap();
    assert_eq!(opened.recovery.records, 20);
    assert!(opened.recovery.segments > 1, "64-byte segments roll");
    assert_eq!(opened.recovery.torn, None);
    let records = opened.log.read(0, 100).unwrap();
    assert_eq!(records.len(), 20);
    for (offset, record) in records.iter().enumerate() {
        assert_eq!(record.offset, offset as u64);
        assert_eq!(record.payload, payload(offset as u64));
    }
    assert_eq!(opened.log.append(b"next").unwrap(), 20);
}

#[cfg(unix)]
#[test]
fn files_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("modes");
    let log = Options::new().segment_bytes(0).open(&dir.0).unwrap().log;
    log.blocking_append(b"a").unwrap();
    log.blocking_append(b"b").unwrap();
    let mut files = 0;
    for entry in std::fs::read_dir(&dir.0).unwrap() {
        let mode = entry.unwrap().metadata().unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        files += 1;
    }
    assert!(files >= 3, "two segments and the lock file");
}

#[test]
fn a_second_log_on_one_directory_is_refused() {
    let dir = TempDir::new("lock");
    let first = Log::open(&dir.0).unwrap().log;
    match Log::open(&dir.0) {
        Err(OpenError::Locked { dir: locked }) => assert_eq!(locked, dir.0),
        other => panic!("expected Locked, got {other:?}"),
    }
    drop(first);
    Log::open(&dir.0).unwrap();

    let fs = SimFs::new();
    let held = Options::new().open_in(fs.clone(), "/q").unwrap();
    assert!(matches!(
        Options::new().open_in(fs.clone(), "/q"),
        Err(OpenError::Locked { .. })
    ));
    drop(held);
    Options::new().open_in(fs, "/q").unwrap();
}

#[test]
fn the_lock_is_another_process_s_too() {
    // flock is per open file: a second open in this process conflicts as a
    // second process would, and the kernel drops it when the holder dies.
    let dir = TempDir::new("flock");
    let _log = Log::open(&dir.0).unwrap();
    let file = std::fs::File::open(dir.0.join("LOCK")).unwrap();
    assert!(file.try_lock().is_err());
}

#[test]
fn segments_roll_at_the_configured_size_and_are_named_by_first_offset() {
    let fs = SimFs::new();
    let dir = Path::new("/log");
    // "record N" frames are 20 bytes: three fit in 60.
    let log = Options::new()
        .segment_bytes(60)
        .open_in(fs.clone(), dir)
        .unwrap()
        .log;
    for offset in 0..7 {
        log.append(&payload(offset)).unwrap();
    }
    assert_eq!(
        segments(&fs, dir),
        [
            "00000000000000000000.log",
            "00000000000000000003.log",
            "00000000000000000006.log"
        ]
    );
    let huge = vec![7u8; 100];
    assert_eq!(
        log.append(&huge).unwrap(),
        7,
        "a record over the segment size gets one of its own"
    );
    assert_eq!(log.read(7, 1).unwrap()[0].payload, huge);
}

#[test]
fn segment_create_and_remove_sync_the_directory() {
    let fs = SimFs::new();
    let log = Options::new()
        .segment_bytes(0)
        .sync(SyncPolicy::Always)
        .open_in(fs.clone(), "/log")
        .unwrap()
        .log;
    let before = fs.dir_syncs();
    log.append(b"a").unwrap();
    log.append(b"b").unwrap();
    assert_eq!(fs.dir_syncs(), before + 1, "the roll to the second segment");
    assert_eq!(log.remove_before(1).unwrap(), 1);
    assert_eq!(fs.dir_syncs(), before + 2, "the removal");
    assert_eq!(log.remove_before(1).unwrap(), 0);
    assert_eq!(fs.dir_syncs(), before + 2, "nothing removed, nothing synced");
    log.append(b"c").unwrap();
    log.append(b"d").unwrap();
    assert_eq!(log.remove_before(3).unwrap(), 2);
    assert_eq!(
        fs.dir_syncs(),
        before + 6,
        "two rolls, and a sync after each removal"
    );
    // Removed for good, even across a power cut.
    for seed in 0..32 {
        assert_eq!(
            segments(&fs.power_cut(seed), Path::new("/log")),
            ["00000000000000000003.log"]
        );
    }
}

#[test]
fn out_of_range_offsets_are_errors() {
    let log = Options::new()
        .segment_bytes(0)
        .open_in(SimFs::new(), "/log")
        .unwrap()
        .log;
    log.blocking_append(b"a").unwrap();
    log.blocking_append(b"b").unwrap();
    assert!(matches!(
        log.read(3, 1),
        Err(LogError::OutOfRange {
            offset: 3,
            start: 0,
            end: 2
        })
    ));
    assert!(matches!(
        log.blocking_sync(2),
        Err(LogError::OutOfRange { offset: 2, .. })
    ));
    log.remove_before(1).unwrap();
    assert!(matches!(
        log.read(0, 1),
        Err(LogError::OutOfRange {
            offset: 0,
            start: 1,
            end: 2
        })
    ));
    assert!(log.read(1, 0).unwrap().is_empty());
    assert_eq!(
        LogError::OutOfRange {
            offset: 3,
            start: 0,
            end: 2
        }
        .to_string(),
        "offset 3 not in the log (0..2)"
    );
}

#[test]
fn the_log_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Log>();
    assert_send_sync::<LogError>();
    assert_send_sync::<OpenError>();
}

#[test]
fn located_reads_match_the_scan_across_rolls_and_refuse_removed_segments() {
    let log = Options::new()
        .segment_bytes(64)
        .open_in(SimFs::new(), Path::new("/l"))
        .unwrap()
        .log;
    let mut appended = Vec::new();
    for n in 0..20u32 {
        let payload = format!("record {n}");
        appended.push((
            log.append_located(payload.as_bytes()).unwrap(),
            payload.into_bytes(),
        ));
    }
    let scanned = log.scan(0, usize::MAX).unwrap();
    assert_eq!(
        scanned, appended,
        "the scan finds every record where its append put it"
    );
    assert!(scanned.iter().any(|(at, _)| at.segment > 0), "the log rolled");
    // Every record alone, and every run within one segment, read in place.
    for (i, (first, _)) in appended.iter().enumerate() {
        let run: Vec<_> = appended[i..]
            .iter()
            .take_while(|(at, _)| at.segment == first.segment)
            .collect();
        let last = run.last().unwrap().0;
        let payloads = log.read_located(*first, last).unwrap();
        let expected: Vec<_> = run.iter().map(|(_, payload)| payload.clone()).collect();
        assert_eq!(payloads, expected);
    }
    // A run across two segments is refused, not misread.
    let across = appended.iter().position(|(at, _)| at.segment > 0).unwrap();
    let split = log.read_located(appended[across - 1].0, appended[across].0);
    assert!(matches!(split, Err(LogError::OutOfRange { .. })), "{split:?}");
    // So is a removed segment.
    log.remove_before(appended[across].0.offset).unwrap();
    let gone = log.read_located(appended[0].0, appended[0].0);
    assert!(matches!(gone, Err(LogError::OutOfRange { .. })), "{gone:?}");
}
