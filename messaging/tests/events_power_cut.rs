//! Power cuts under the durable event bus (#23): each seed publishes to
//! keyed, partitioned topics and commits group offsets on a simulated file
//! system, cuts the power at a seeded moment (only what was synced
//! survives, plus a seeded, possibly torn, part of what was not), reopens
//! the bus on what the cut left, and checks:
//!
//! - every publish that returned `Ok` is there, at the offset it was
//!   given, in its partition;
//! - every commit that returned `Ok` is there, or a later one of the same
//!   group and partition (commits only move forward here);
//! - nothing is there that was never published or committed, and nothing
//!   twice.
//!
//! `kill -9` cannot catch a missing or misplaced fsync (the kernel keeps a
//! killed process's writes); this can. 1 000 seeds by default;
//! `EVENTS_POWER_CUT_SEEDS=n` runs more, from `EVENTS_POWER_CUT_FIRST`.

mod events_support;

use events_support::Bytes;
use std::collections::{BTreeMap, BTreeSet};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use weft::disk::fs::SimFs;
use weft::events::{Backend, DiskOptions, EventBus, Offset, Restored, StartAt, SyncPolicy, TopicOptions};
use weft_test_support::Rng;

const DIR: &str = "/bus";
const TOPICS: [(&str, u32); 2] = [("orders", 1), ("clicks", 3)];
const GROUPS: [&str; 2] = ["billing", "audit"];

/// (topic, partition).
type Place = (&'static str, u32);

/// What the run before the cut was told.
#[derive(Debug, Default)]
struct Told {
    /// Publishes that returned `Ok`: where, at which offset, which id.
    published: BTreeMap<(Place, u64), u64>,
    /// Ids handed to `publish`, whatever it returned.
    attempted: u64,
    /// The last commit that returned `Ok`, by (group, place).
    committed: BTreeMap<(&'static str, Place), u64>,
    /// The highest offset handed to a commit, by (group, place).
    commit_attempted: BTreeMap<(&'static str, Place), u64>,
}

fn disk(rng: &mut Rng) -> DiskOptions {
    let policy = match rng.below(2) {
        0 => SyncPolicy::Always,
        _ => SyncPolicy::GroupCommit {
            max_delay: Duration::ZERO,
        },
    };
    DiskOptions::new().sync(policy).segment_bytes(64 + rng.below(400))
}

fn options(partitions: u32) -> TopicOptions {
    TopicOptions {
        partitions,
        ..TopicOptions::default()
    }
}

/// Runs seeded operations on a fresh bus and returns what a power cut at
/// the end leaves.
fn run_until_cut(seed: u64, rng: &mut Rng, told: &mut Told) -> SimFs {
    let fs = SimFs::new();
    let disk = disk(rng).file_system(fs.clone());
    weft::block_on(async {
        let restored: Restored<u64> = EventBus::builder()
            .retention(1 << 20)
            .open_durable_with(DIR, Bytes, &disk)
            .unwrap();
        let (bus, backend) = (restored.bus, restored.backend);
        let topics: Vec<_> = TOPICS
            .iter()
            .map(|&(name, partitions)| (name, bus.create_topic(name, options(partitions)).unwrap()))
            .collect();
        for _ in 0..1 + rng.below(40) {
            let (name, topic) = &topics[rng.below(topics.len() as u64) as usize];
            if rng.below(4) > 0 {
                let id = told.attempted;
                told.attempted += 1;
                let key = format!("k{}", rng.below(8));
                let partition = topic.partition_for(&key);
                if let Ok(offset) = topic.publish_keyed(&key, id).await {
                    told.published.insert(((*name, partition), offset.get()), id);
                }
            } else {
                let group = GROUPS[rng.below(2) as usize];
                let partition = rng.below(u64::from(topic.partitions())) as u32;
                let place = (*name, partition);
                let end = topic.end_of(partition).unwrap().get();
                let last = told.commit_attempted.get(&(group, place)).copied().unwrap_or(0);
                let offset = last.max(rng.below(end + 1));
                told.commit_attempted.insert((group, place), offset);
                let mut cx = Context::from_waker(Waker::noop());
                let commit = backend.poll_commit(&mut cx, group, name, partition, Offset::new(offset));
                if let Poll::Ready(Ok(())) = commit {
                    told.committed.insert((group, place), offset);
                }
            }
        }
        // The cut, with the bus still open.
        fs.power_cut(seed)
    })
}

/// Every event the reopened bus holds, by place and offset.
type Events = BTreeMap<(Place, u64), u64>;

/// The committed offsets the reopened bus holds, by group and place.
type Commits = BTreeMap<(&'static str, Place), u64>;

/// What the reopened bus holds: every event by place and offset, and the
/// committed offsets.
fn reopen(fs: SimFs, seed: u64, told: &Told) -> (Events, Commits) {
    let disk = DiskOptions::new().file_system(fs);
    let restored: Restored<u64> = EventBus::builder()
        .retention(1 << 20)
        .open_durable_with(DIR, Bytes, &disk)
        .unwrap_or_else(|e| panic!("seed {seed}: the cut bus does not open: {e}"));
    let (bus, backend) = (restored.bus, restored.backend);
    let mut found = BTreeMap::new();
    for (name, partitions) in TOPICS {
        let Ok(topic) = bus.create_topic(name, options(partitions)) else {
            continue;
        };
        assert_eq!(topic.partitions(), partitions, "seed {seed}");
        let mut sub = topic.subscribe(StartAt::Start);
        while let Some(event) = sub.try_recv() {
            let event = event.unwrap_or_else(|e| panic!("seed {seed}: {e:?}"));
            let at = ((name, event.partition()), event.offset().get());
            assert!(
                found.insert(at, *event.payload()).is_none(),
                "seed {seed}: {at:?} twice"
            );
        }
    }
    let mut commits = BTreeMap::new();
    for &(group, place) in told.commit_attempted.keys() {
        let mut cx = Context::from_waker(Waker::noop());
        let Poll::Ready(Ok(Some(offset))) = backend.poll_committed(&mut cx, group, place.0, place.1) else {
            continue;
        };
        commits.insert((group, place), offset.get());
    }
    (found, commits)
}

fn check(
    seed: u64,
    told: &Told,
    found: &BTreeMap<(Place, u64), u64>,
    commits: &BTreeMap<(&'static str, Place), u64>,
) {
    for (at, id) in &told.published {
        assert_eq!(
            found.get(at),
            Some(id),
            "seed {seed}: published {id} at {at:?} lost ({told:?})"
        );
    }
    let ids: BTreeSet<u64> = found.values().copied().collect();
    assert_eq!(ids.len(), found.len(), "seed {seed}: an event twice: {found:?}");
    for id in &ids {
        assert!(
            *id < told.attempted,
            "seed {seed}: event {id} was never published"
        );
    }
    for (key, offset) in &told.committed {
        let kept = commits.get(key).copied();
        assert!(
            kept.is_some_and(|kept| kept >= *offset),
            "seed {seed}: commit {offset} of {key:?} undone: {kept:?}"
        );
    }
    for (key, offset) in commits {
        let attempted = told.commit_attempted.get(key).copied();
        assert!(
            attempted.is_some_and(|attempted| *offset <= attempted),
            "seed {seed}: commit {offset} of {key:?} never made"
        );
    }
}

#[test]
fn every_confirmed_append_and_commit_survives_a_power_cut() {
    let seeds: u64 = std::env::var("EVENTS_POWER_CUT_SEEDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let first: u64 = std::env::var("EVENTS_POWER_CUT_FIRST")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let (mut events, mut commits) = (0, 0);
    for seed in first..first + seeds {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut told = Told::default();
        let cut = run_until_cut(seed, &mut rng, &mut told);
        let (found, kept) = reopen(cut, seed, &told);
        check(seed, &told, &found, &kept);
        events += found.len();
        commits += kept.len();
    }
    assert!(
        events > 0 && commits > 0,
        "no run kept anything: the test checks nothing"
    );
}
