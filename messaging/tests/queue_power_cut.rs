//! Power cuts under the durable queue (#23): each seed publishes,
//! receives, acks (confirmed and not), nacks and rejects on a simulated
//! file system, cuts the power at a seeded moment (only what was synced
//! survives, plus a seeded, possibly torn, part of what was not), reopens
//! the queue on what the cut left, and checks:
//!
//! - every publish that returned `Ok` is there (ready or dead-lettered),
//!   unless an ack of it was sent;
//! - no ack confirmed by `ack_confirmed` is undone: that message is gone;
//! - nothing is there that was never published, and nothing twice.
//!
//! The segments are small (3 to 12 records) and the runs long enough that
//! compaction copies live messages forward in many seeds (copy-forward at
//! 25, 50 or 100 %; about 70 % of the seeds): the test asserts that it did
//! in at least half of them, so the cuts land on logs holding `Moved`
//! records and on segments deleted behind them.
//!
//! `kill -9` cannot catch a missing or misplaced fsync (the kernel keeps a
//! killed process's writes); this can. 1 000 seeds by default;
//! `QUEUE_POWER_CUT_SEEDS=n` runs more, from `QUEUE_POWER_CUT_FIRST`.

mod queue_support;

use queue_support::backends::Bytes;
use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;
use weft::disk::fs::SimFs;
use weft::queue::{Delivery, DiskOptions, Queue, SyncPolicy};
use weft_test_support::Rng;

const DIR: &str = "/queue";

/// What the run before the cut was told.
#[derive(Debug, Default)]
struct Told {
    /// Publishes that returned `Ok`.
    published: BTreeSet<u64>,
    /// Acks that `ack_confirmed` confirmed.
    acked: BTreeSet<u64>,
    /// Messages with an ack sent (`ack`) but not confirmed: maybe gone.
    maybe_acked: BTreeSet<u64>,
    /// Ids handed to `publish`, whatever it returned.
    attempted: u64,
    /// Messages compaction copied forward before the cut.
    copied: u64,
}

fn builder() -> weft::queue::Builder {
    let mut builder = Queue::builder();
    builder.prefetch(1 << 20).max_deliveries(3);
    builder
}

fn disk(rng: &mut Rng) -> DiskOptions {
    let policy = match rng.below(2) {
        0 => SyncPolicy::Always,
        _ => SyncPolicy::GroupCommit {
            max_delay: Duration::ZERO,
        },
    };
    let copy_at = [25, 50, 100][rng.below(3) as usize];
    DiskOptions::new()
        .sync(policy)
        .segment_bytes(64 + rng.below(200))
        .copy_forward_at(copy_at)
}

/// Runs seeded operations on a fresh queue and returns what a power cut
/// at the end leaves.
fn run_until_cut(seed: u64, rng: &mut Rng, told: &mut Told) -> SimFs {
    let fs = SimFs::new();
    let options = disk(rng).file_system(fs.clone());
    weft::block_on(async {
        let restored = builder().open_durable_with(DIR, Bytes, &options).unwrap();
        let (queue, backend): (Queue<u64>, _) = (restored.queue, restored.backend);
        let producer = queue.producer();
        let mut consumer = queue.consumer();
        let mut held: VecDeque<Delivery<u64>> = VecDeque::new();
        for _ in 0..1 + rng.below(80) {
            match rng.below(8) {
                0..=2 => {
                    let id = told.attempted;
                    told.attempted += 1;
                    if producer.publish(id).await.is_ok() {
                        told.published.insert(id);
                    }
                }
                3 | 4 if queue.stats().ready > 0 => held.push_back(consumer.recv().await.unwrap()),
                5 => {
                    if let Some(delivery) = held.pop_front() {
                        let id = *delivery;
                        if delivery.ack_confirmed().await.is_ok() {
                            told.acked.insert(id);
                        }
                    }
                }
                6 => {
                    if let Some(delivery) = held.pop_front() {
                        let id = *delivery;
                        if delivery.ack().is_ok() {
                            told.maybe_acked.insert(id);
                        }
                    }
                }
                _ => {
                    if let Some(delivery) = held.pop_back() {
                        match rng.below(3) {
                            0 => delivery.reject().unwrap(),
                            1 => delivery.nack(true).unwrap(),
                            _ => drop(delivery),
                        }
                    }
                }
            }
        }
        // The cut, with the queue still open and deliveries in hand.
        let cut = fs.power_cut(seed);
        told.copied = backend.copied_forward();
        drop(held);
        cut
    })
}

/// Every message the reopened queue holds, ready or dead-lettered.
fn reopen(fs: SimFs, seed: u64) -> Vec<u64> {
    let options = DiskOptions::new().file_system(fs);
    weft::block_on(async {
        let restored = builder()
            .open_durable_with(DIR, Bytes, &options)
            .unwrap_or_else(|e| panic!("seed {seed}: the cut log does not open: {e}"));
        let queue: Queue<u64> = restored.queue;
        let mut consumer = queue.consumer();
        let mut found = Vec::new();
        let mut held = Vec::new();
        for _ in 0..queue.stats().ready {
            let delivery = consumer.recv().await.unwrap();
            found.push(*delivery);
            held.push(delivery);
        }
        while let Some(letter) = queue.try_dead_letter().unwrap() {
            found.push(letter.message);
        }
        found
    })
}

fn check(seed: u64, told: &Told, found: &[u64]) {
    let present: BTreeSet<u64> = found.iter().copied().collect();
    assert_eq!(
        present.len(),
        found.len(),
        "seed {seed}: a message twice: {found:?}"
    );
    for id in &told.published {
        if !told.acked.contains(id) && !told.maybe_acked.contains(id) {
            assert!(
                present.contains(id),
                "seed {seed}: published message {id} lost ({told:?}, found {found:?})"
            );
        }
    }
    for id in &told.acked {
        assert!(
            !present.contains(id),
            "seed {seed}: confirmed ack of {id} undone ({told:?})"
        );
    }
    for id in &present {
        assert!(
            *id < told.attempted,
            "seed {seed}: message {id} was never published"
        );
    }
}

#[test]
fn every_confirmed_publish_and_ack_survives_a_power_cut() {
    let seeds: u64 = std::env::var("QUEUE_POWER_CUT_SEEDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let first: u64 = std::env::var("QUEUE_POWER_CUT_FIRST")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let (mut survived, mut compacted) = (0, 0);
    for seed in first..first + seeds {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut told = Told::default();
        let cut = run_until_cut(seed, &mut rng, &mut told);
        let found = reopen(cut, seed);
        check(seed, &told, &found);
        survived += found.len();
        compacted += u64::from(told.copied > 0);
    }
    assert!(survived > 0, "no run kept anything: the test checks nothing");
    assert!(
        compacted * 2 >= seeds,
        "copy-forward ran in {compacted} of {seeds} seeds: the cuts barely test it"
    );
}
