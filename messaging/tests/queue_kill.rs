//! `kill -9` under the durable queue (#23), on the real file system: a
//! child process publishes, receives, acks (and now and then nacks or
//! drops a delivery), printing each publish and each ack that returned
//! `Ok` (and each ack it begins); the parent SIGKILLs it at a seeded moment, reads what it printed
//! to the end of the pipe, reopens the queue (the lock died with the
//! child) and checks:
//!
//! - every publish that returned `Ok` is in the queue, or an ack of it
//!   was begun;
//! - every ack that returned `Ok` is not delivered again;
//! - nothing is in the queue that was never published, and nothing twice.
//!
//! The queue carries over from one round to the next, so each child also
//! consumes what earlier ones left. Its segments are small (1 KiB), so
//! compaction deletes segments and copies live messages forward (requeued
//! and dropped deliveries stay live) while the children are killed. 50 rounds by default,
//! `WEFT_QUEUE_KILL_ITERATIONS=1000` for more.

mod queue_support;

use queue_support::backends::Bytes;
use std::collections::BTreeSet;
use std::path::PathBuf;
use weft::queue::{DiskOptions, Queue};
use weft_test_support::{Rng, kill};

const CHILD_DIR: &str = "WEFT_QUEUE_KILL_CHILD_DIR";
const CHILD_FIRST: &str = "WEFT_QUEUE_KILL_CHILD_FIRST";

fn builder() -> weft::queue::Builder {
    let mut builder = Queue::builder();
    // Nothing is dead-lettered: every message stays to be counted; and
    // room for all, so that the child never waits on itself.
    builder
        .capacity(1 << 20)
        .prefetch(1 << 20)
        .max_deliveries(u32::MAX);
    builder
}

/// Small segments, so that compaction runs.
fn disk() -> DiskOptions {
    DiskOptions::new().segment_bytes(1024)
}

/// The child's body; a no-op test unless the parent set the variables.
#[test]
fn kill_child() {
    let (Some(dir), Some(first)) = (std::env::var_os(CHILD_DIR), std::env::var(CHILD_FIRST).ok()) else {
        return;
    };
    let mut next: u64 = first.parse().unwrap();
    let mut rng = Rng(next | 1);
    weft::block_on(async {
        let queue: Queue<u64> = builder().open_durable_with(&dir, Bytes, &disk()).unwrap().queue;
        let producer = queue.producer();
        let mut consumer = queue.consumer();
        loop {
            match rng.below(4) {
                0 | 1 => {
                    println!("try {next}");
                    producer.publish(next).await.unwrap();
                    println!("published {next}");
                    next += 1;
                }
                _ if queue.stats().ready > 0 => {
                    let delivery = consumer.recv().await.unwrap();
                    let id = *delivery;
                    match rng.below(4) {
                        0 => delivery.nack(true).unwrap(),
                        1 => drop(delivery),
                        _ => {
                            // Said first: a kill between the ack and the
                            // line after it must not look like a loss.
                            println!("acking {id}");
                            delivery.ack().unwrap();
                            println!("acked {id}");
                        }
                    }
                }
                _ => {}
            }
        }
    });
}

/// What the children said, over every round.
#[derive(Debug, Default)]
struct Told {
    tried: BTreeSet<u64>,
    published: BTreeSet<u64>,
    /// Acks begun: the message may be gone whatever the ack returned.
    acking: BTreeSet<u64>,
    acked: BTreeSet<u64>,
}

impl Told {
    fn hear(&mut self, line: &str) {
        // The last two words: the harness prints "test kill_child ... "
        // before the child's first line.
        let mut words = line.split_whitespace().rev();
        let (Some(id), Some(what)) = (words.next(), words.next()) else {
            return;
        };
        let Ok(id) = id.parse::<u64>() else {
            return; // a line cut by the kill
        };
        match what {
            "try" => self.tried.insert(id),
            "published" => self.published.insert(id),
            "acking" => self.acking.insert(id),
            "acked" => self.acked.insert(id),
            _ => false,
        };
    }
}

/// Every message the queue in `dir` holds.
fn contents(dir: &PathBuf, round: u64) -> Vec<u64> {
    weft::block_on(async {
        let restored = builder()
            .open_durable_with(dir, Bytes, &disk())
            .unwrap_or_else(|e| panic!("round {round}: the queue does not open: {e}"));
        let queue: Queue<u64> = restored.queue;
        let mut consumer = queue.consumer();
        let mut found = Vec::new();
        let mut held = Vec::new();
        for _ in 0..queue.stats().ready {
            let delivery = consumer.recv().await.unwrap();
            found.push(*delivery);
            held.push(delivery);
        }
        // The queue goes first: the deliveries' drops then record nothing.
        drop((queue, consumer));
        found
    })
}

#[test]
fn every_ok_publish_and_ack_survives_kill_9() {
    let rounds: u64 = std::env::var("WEFT_QUEUE_KILL_ITERATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(50);
    let dir: PathBuf = std::env::temp_dir().join(format!("weft-queue-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut rng = Rng(0x5EED_0023);
    let mut told = Told::default();
    for round in 0..rounds {
        let first = (round * 1_000_000).to_string();
        let envs = [(CHILD_DIR, dir.as_os_str()), (CHILD_FIRST, first.as_ref())];
        kill::run_and_kill("kill_child", &envs, 1 + rng.below(80), |line| told.hear(line));

        let found = contents(&dir, round);
        let present: BTreeSet<u64> = found.iter().copied().collect();
        assert_eq!(
            present.len(),
            found.len(),
            "round {round}: a message twice: {found:?}"
        );
        for id in &told.published {
            assert!(
                present.contains(id) || told.acking.contains(id),
                "round {round}: published message {id} lost"
            );
        }
        for id in &told.acked {
            assert!(!present.contains(id), "round {round}: acked message {id} is back");
        }
        for id in &present {
            assert!(
                told.tried.contains(id),
                "round {round}: message {id} was never published"
            );
        }
    }
    assert!(!told.published.is_empty() && !told.acked.is_empty(), "{told:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
