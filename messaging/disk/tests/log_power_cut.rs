//! Power cuts over the simulated file system: whatever the cut keeps of
//! the unsynced writes, the reopened log holds every record it confirmed,
//! and nothing that was never appended.
//!
//! `kill -9` cannot catch a missing or misplaced fsync (the kernel keeps a
//! killed process's writes); a simulated power cut can: it keeps only what
//! was synced, plus a seeded, possibly torn, prefix of what was not.

use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;
use weft_disk::fs::SimFs;
use weft_disk::{Log, Options, SyncPolicy};
use weft_test_support::Rng;

const DIR: &str = "/log";

fn payload(seed: u64, offset: u64, filler: usize) -> Vec<u8> {
    let mut bytes = format!("{seed}:{offset}:").into_bytes();
    bytes.resize(bytes.len() + filler, b'a' + (offset % 26) as u8);
    bytes
}

fn policy(rng: &mut Rng) -> SyncPolicy {
    match rng.below(2) {
        0 => SyncPolicy::Always,
        _ => SyncPolicy::GroupCommit {
            max_delay: Duration::ZERO,
        },
    }
}

/// What the test knows about one run before the cut.
struct Written {
    /// The payload of every offset the log handed out.
    payloads: Vec<Vec<u8>>,
    /// Every offset below this was confirmed on disk.
    confirmed: u64,
    /// The log's start before the cut (segments below were removed).
    start: u64,
}

/// Appends one record (waiting for its sync if `wait`), noting what it
/// wrote and what was confirmed.
fn append(log: &Log, rng: &mut Rng, written: &mut Written, seed: u64, policy: SyncPolicy, wait: bool) {
    let offset = log.end();
    let bytes = payload(seed, offset, rng.below(40) as usize);
    let result = if wait {
        log.blocking_append(&bytes)
    } else {
        log.append(&bytes)
    };
    if log.end() > offset {
        written.payloads.push(bytes);
    }
    match result {
        Ok(offset) if wait || policy == SyncPolicy::Always => {
            written.confirmed = written.confirmed.max(offset + 1);
        }
        _ => {}
    }
}

/// Runs random appends, syncs, removals and injected sync failures on a
/// fresh log, then cuts the power; returns what was written and the image.
fn run_until_cut(seed: u64) -> (Written, SimFs) {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let policy = policy(&mut rng);
    let fs = SimFs::new();
    let log = Options::new()
        .segment_bytes(48 + rng.below(200))
        .sync(policy)
        .open_in(fs.clone(), DIR)
        .unwrap()
        .log;
    let mut written = Written {
        payloads: Vec::new(),
        confirmed: 0,
        start: 0,
    };
    for _ in 0..rng.below(40) {
        match rng.below(100) {
            0..50 => append(&log, &mut rng, &mut written, seed, policy, false),
            50..80 => append(&log, &mut rng, &mut written, seed, policy, true),
            80..90 => {
                if let Some(last) = log.end().checked_sub(1)
                    && log.blocking_sync(last).is_ok()
                {
                    written.confirmed = written.confirmed.max(last + 1);
                }
            }
            90..95 => {
                let below = rng.below(written.confirmed + 1);
                let _ = log.remove_before(below);
            }
            95..98 => fs.fail_syncs(1),
            _ => fs.fail_dir_syncs(1),
        }
    }
    written.start = log.start();
    let image = fs.power_cut(seed);
    drop(log);
    (written, image)
}

// ANCHOR: power_cut_check
/// The reopened log holds every confirmed record, each as written, and
/// nothing else.
fn check(seed: u64, written: &Written, image: SimFs) {
    let opened = Options::new()
        .open_in(image, DIR)
        .unwrap_or_else(|error| panic!("seed {seed}: reopen failed: {error}"));
    let log = opened.log;
    assert!(
        log.end() >= written.confirmed,
        "seed {seed}: the log ends at {} but {} records were confirmed ({:?})",
        log.end(),
        written.confirmed,
        opened.recovery,
    );
    assert!(
        log.end() as usize <= written.payloads.len(),
        "seed {seed}: records that were never appended"
    );
    assert!(
        log.start() <= written.start,
        "seed {seed}: start {} moved past {}",
        log.start(),
        written.start
    );
    let records = log.read(log.start(), usize::MAX).unwrap();
    for record in &records {
        assert_eq!(
            record.payload, written.payloads[record.offset as usize],
            "seed {seed}: offset {} holds what was never written there",
            record.offset
        );
    }
    let first_kept = written.start.max(log.start());
    for offset in first_kept..written.confirmed {
        assert!(
            records.iter().any(|r| r.offset == offset),
            "seed {seed}: confirmed offset {offset} lost"
        );
    }
}
// ANCHOR_END: power_cut_check

#[test]
fn every_confirmed_record_survives_a_thousand_power_cuts() {
    let mut torn = 0;
    let mut lost_unconfirmed = 0;
    for seed in 0..1000 {
        let (written, image) = run_until_cut(seed);
        let reopened = Options::new().open_in(image.clone(), DIR);
        if let Ok(opened) = &reopened {
            torn += usize::from(opened.recovery.torn.is_some());
            lost_unconfirmed += usize::from((opened.log.end() as usize) < written.payloads.len());
        }
        drop(reopened);
        check(seed, &written, image);
    }
    // The cuts do bite: tails get torn and unconfirmed records get lost.
    assert!(torn > 50, "only {torn} torn tails");
    assert!(
        lost_unconfirmed > 50,
        "only {lost_unconfirmed} runs lost unconfirmed records"
    );
}

#[test]
fn concurrent_appenders_keep_what_was_confirmed_before_the_cut() {
    for seed in 0..100 {
        let mut rng = Rng(seed * 7919 + 1);
        let fs = SimFs::new();
        let log = Arc::new(
            Options::new()
                .segment_bytes(64 + rng.below(128))
                .sync(policy(&mut rng))
                .open_in(fs.clone(), DIR)
                .unwrap()
                .log,
        );
        let confirmed = Arc::new(Mutex::new(Vec::new()));
        let (progress, confirmations) = mpsc::channel();
        let threads: Vec<_> = (0..4)
            .map(|thread| {
                let (log, confirmed, progress) = (Arc::clone(&log), Arc::clone(&confirmed), progress.clone());
                std::thread::spawn(move || {
                    for n in 0..20u64 {
                        let bytes = format!("t{thread}n{n}").into_bytes();
                        match log.blocking_append(&bytes) {
                            Ok(offset) => {
                                confirmed.lock().unwrap().push((offset, bytes));
                                let _ = progress.send(());
                            }
                            Err(_) => return,
                        }
                    }
                })
            })
            .collect();
        drop(progress);
        // Cut after a seeded number of confirmations, while the others run.
        for _ in 0..rng.below(60) {
            if confirmations.recv().is_err() {
                break;
            }
        }
        let before_cut = confirmed.lock().unwrap().clone();
        let image = fs.power_cut(seed);
        for thread in threads {
            thread.join().unwrap();
        }
        drop(log);
        let log = Options::new().open_in(image, DIR).unwrap().log;
        let records = log.read(0, usize::MAX).unwrap();
        for (offset, bytes) in before_cut {
            let found = records.iter().find(|r| r.offset == offset);
            assert_eq!(
                found.map(|r| &r.payload),
                Some(&bytes),
                "seed {seed}: offset {offset}"
            );
        }
    }
}

#[test]
fn records_found_on_open_are_synced_before_they_count_as_synced() {
    // A process killed before it synced leaves its writes in the page
    // cache: the next open reads them, and must make them durable before
    // it reports them synced.
    for seed in 0..64 {
        let fs = SimFs::new();
        let killed = Options::new()
            .sync(SyncPolicy::Never)
            .open_in(fs.clone(), DIR)
            .unwrap()
            .log;
        for n in 0..3u8 {
            killed.append(&[n; 20]).unwrap();
        }
        drop(killed); // `Never`: nothing synced, not even the directory

        let restarted = Options::new().open_in(fs.clone(), DIR).unwrap().log;
        assert_eq!(restarted.synced(), 3);
        restarted.blocking_sync(2).unwrap();
        let after = Options::new().open_in(fs.power_cut(seed), DIR).unwrap().log;
        let records = after.read(0, 10).unwrap();
        assert_eq!(records.len(), 3, "seed {seed}");
        for (n, record) in records.iter().enumerate() {
            assert_eq!(record.payload, [n as u8; 20]);
        }
        drop(restarted);
    }
}

#[test]
fn a_second_cut_after_recovery_keeps_both_runs() {
    for seed in 0..300 {
        let (_, image) = run_until_cut(seed);
        let mut rng = Rng(seed.wrapping_mul(31) | 1);
        // The restart: whatever it found is synced by the open.
        let log = Options::new()
            .segment_bytes(48 + rng.below(200))
            .sync(policy(&mut rng))
            .open_in(image.clone(), DIR)
            .unwrap_or_else(|error| panic!("seed {seed}: {error}"))
            .log;
        let mut expected = log.read(log.start(), usize::MAX).unwrap();
        for n in 0..rng.below(10) {
            let bytes = format!("second run {n}").into_bytes();
            let offset = log.blocking_append(&bytes).unwrap();
            expected.push(weft_disk::Record {
                offset,
                payload: bytes,
            });
        }
        let second = image.power_cut(seed ^ 0xA5A5);
        drop(log);
        let log = Options::new().open_in(second, DIR).unwrap().log;
        let start = expected.first().map_or(log.start(), |record| record.offset);
        assert!(log.start() <= start, "seed {seed}");
        assert_eq!(log.read(start, usize::MAX).unwrap(), expected, "seed {seed}");
    }
}
