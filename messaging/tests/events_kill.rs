//! `kill -9` under the durable event bus (#23), on the real file system: a
//! child process publishes keyed events to a partitioned topic and commits
//! a group's offsets, printing each publish and each commit that returned
//! `Ok` (and each it begins); the parent SIGKILLs it at a seeded moment,
//! reads what it printed to the end of the pipe, reopens the bus (the
//! locks died with the child) and checks:
//!
//! - every publish that returned `Ok` is there, at its partition and
//!   offset; nothing is there that was never published, nor twice;
//! - each partition's offsets run from 0 without a hole, and its end
//!   never goes back from one round to the next;
//! - each committed offset is at least the last commit that returned `Ok`,
//!   at most the highest one begun, and never goes back.
//!
//! The bus carries over from one round to the next. 50 rounds by default,
//! `WEFT_EVENTS_KILL_ITERATIONS=1000` for more.

mod events_support;

use events_support::Bytes;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::task::{Context, Poll, Waker};
use weft::events::{Backend, Durable, EventBus, Offset, Restored, StartAt, Topic, TopicOptions};
use weft_test_support::{Rng, kill};

const CHILD_DIR: &str = "WEFT_EVENTS_KILL_CHILD_DIR";
const CHILD_FIRST: &str = "WEFT_EVENTS_KILL_CHILD_FIRST";
const TOPIC: &str = "orders";
const PARTITIONS: u32 = 2;
const GROUP: &str = "billing";

fn open(dir: &Path) -> Restored<u64> {
    EventBus::builder()
        .retention(1 << 20)
        .open_durable(dir, Bytes)
        .unwrap_or_else(|e| panic!("the bus does not open: {e}"))
}

fn topic(bus: &EventBus<u64>) -> Topic<u64> {
    let options = TopicOptions {
        partitions: PARTITIONS,
        ..TopicOptions::default()
    };
    bus.create_topic(TOPIC, options).unwrap()
}

fn committed(backend: &Durable<u64>, partition: u32) -> Option<u64> {
    let mut cx = Context::from_waker(Waker::noop());
    match backend.poll_committed(&mut cx, GROUP, TOPIC, partition) {
        Poll::Ready(Ok(offset)) => offset.map(Offset::get),
        other => panic!("committed: {other:?}"),
    }
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
        let restored = open(Path::new(&dir));
        let (bus, backend) = (restored.bus, restored.backend);
        let orders = topic(&bus);
        loop {
            if rng.below(4) > 0 {
                let key = format!("customer-{}", rng.below(16));
                let partition = orders.partition_for(&key);
                println!("try {next}");
                let offset = orders.publish_keyed(&key, next).await.unwrap();
                println!("published {partition} {} {next}", offset.get());
                next += 1;
            } else {
                let partition = rng.below(u64::from(PARTITIONS)) as u32;
                let from = committed(&backend, partition).unwrap_or(0);
                let end = orders.end_of(partition).unwrap().get();
                let offset = from + rng.below(end.saturating_sub(from) + 1);
                println!("committing {partition} {offset}");
                let mut cx = Context::from_waker(Waker::noop());
                let commit = backend.poll_commit(&mut cx, GROUP, TOPIC, partition, Offset::new(offset));
                assert!(matches!(commit, Poll::Ready(Ok(()))), "{commit:?}");
                println!("committed {partition} {offset}");
            }
        }
    });
}

/// What the children said, over every round.
#[derive(Debug, Default)]
struct Told {
    tried: BTreeSet<u64>,
    /// (partition, offset) to id.
    published: BTreeMap<(u32, u64), u64>,
    /// By partition: the highest commit begun, and the last that returned.
    committing: BTreeMap<u32, u64>,
    committed: BTreeMap<u32, u64>,
}

impl Told {
    fn hear(&mut self, line: &str) {
        // From the keyword on: the harness prints "test kill_child ... "
        // before the child's first line.
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(at) = words
            .iter()
            .position(|w| ["try", "published", "committing", "committed"].contains(w))
        else {
            return;
        };
        let numbers: Vec<u64> = words[at + 1..].iter().map_while(|w| w.parse().ok()).collect();
        match (words[at], &numbers[..]) {
            ("try", &[id]) => {
                self.tried.insert(id);
            }
            ("published", &[partition, offset, id]) => {
                self.published.insert((partition as u32, offset), id);
            }
            ("committing", &[partition, offset]) => {
                let max = self.committing.entry(partition as u32).or_insert(offset);
                *max = (*max).max(offset);
            }
            ("committed", &[partition, offset]) => {
                self.committed.insert(partition as u32, offset);
            }
            _ => {} // a line cut by the kill
        }
    }
}

/// What the bus in `dir` holds: (partition, offset) to id, and the
/// committed offsets by partition.
fn contents(dir: &Path) -> (BTreeMap<(u32, u64), u64>, BTreeMap<u32, u64>) {
    let restored = open(dir);
    let (bus, backend) = (restored.bus, restored.backend);
    let mut sub = topic(&bus).subscribe(StartAt::Start);
    let mut found = BTreeMap::new();
    while let Some(event) = sub.try_recv() {
        let event = event.unwrap();
        let at = (event.partition(), event.offset().get());
        assert!(found.insert(at, *event.payload()).is_none(), "{at:?} read twice");
    }
    let commits = (0..PARTITIONS)
        .filter_map(|p| committed(&backend, p).map(|offset| (p, offset)))
        .collect();
    (found, commits)
}

#[test]
fn every_ok_append_and_commit_survives_kill_9() {
    let rounds: u64 = std::env::var("WEFT_EVENTS_KILL_ITERATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(50);
    let dir: PathBuf = std::env::temp_dir().join(format!("weft-events-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut rng = Rng(0x5EED_0E23);
    let mut told = Told::default();
    let mut ends: BTreeMap<u32, u64> = BTreeMap::new();
    let mut commits_before: BTreeMap<u32, u64> = BTreeMap::new();
    for round in 0..rounds {
        let first = (round * 1_000_000).to_string();
        let envs = [(CHILD_DIR, dir.as_os_str()), (CHILD_FIRST, first.as_ref())];
        kill::run_and_kill("kill_child", &envs, 1 + rng.below(80), |line| told.hear(line));

        let (found, commits) = contents(&dir);
        for (at, id) in &told.published {
            assert_eq!(
                found.get(at),
                Some(id),
                "round {round}: published {id} at {at:?} lost"
            );
        }
        let ids: BTreeSet<u64> = found.values().copied().collect();
        assert_eq!(ids.len(), found.len(), "round {round}: an event twice");
        for id in &ids {
            assert!(
                told.tried.contains(id),
                "round {round}: event {id} was never published"
            );
        }
        for partition in 0..PARTITIONS {
            let offsets: Vec<u64> = found
                .keys()
                .filter(|(p, _)| *p == partition)
                .map(|(_, o)| *o)
                .collect();
            let end = offsets.len() as u64;
            assert!(
                offsets.iter().copied().eq(0..end),
                "round {round}: a hole in {partition}"
            );
            let before = ends.insert(partition, end).unwrap_or(0);
            assert!(
                end >= before,
                "round {round}: partition {partition} went back from {before} to {end}"
            );
            let kept = commits.get(&partition).copied();
            if let Some(ok) = told.committed.get(&partition) {
                assert!(
                    kept.is_some_and(|kept| kept >= *ok),
                    "round {round}: commit {ok} undone: {kept:?}"
                );
            }
            if let Some(kept) = kept {
                let begun = told.committing.get(&partition).copied();
                assert!(
                    begun.is_some_and(|begun| kept <= begun),
                    "round {round}: commit {kept} never made"
                );
                let before = commits_before.insert(partition, kept).unwrap_or(0);
                assert!(
                    kept >= before,
                    "round {round}: commit went back from {before} to {kept}"
                );
            }
        }
    }
    assert!(
        !told.published.is_empty() && !told.committed.is_empty(),
        "{told:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
