//! The wheel alone, without a driver: placement on the levels, firing,
//! resets and stale keys, the far future, batches, and a reference model.

use super::*;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::task::Wake;

/// Ticks the whole wheel covers: `64^LEVELS`.
const HORIZON: u64 = 1 << (SLOT_BITS * LEVELS as u32);
/// No ids woken.
const NOTHING: [u64; 0] = [];

/// A waker that appends its id to a shared log when woken.
struct LogWaker {
    id: u64,
    log: Arc<Mutex<Vec<u64>>>,
}

impl Wake for LogWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.log.lock().unwrap().push(self.id);
    }
}

/// A wheel plus a wake log, with helpers that return the ids woken.
struct Harness {
    wheel: Wheel,
    log: Arc<Mutex<Vec<u64>>>,
}

impl Harness {
    fn new() -> Harness {
        Harness {
            wheel: Wheel::new(),
            log: Arc::default(),
        }
    }
    fn waker(&self, id: u64) -> Waker {
        Waker::from(Arc::new(LogWaker {
            id,
            log: self.log.clone(),
        }))
    }
    fn insert(&mut self, deadline: u64, id: u64) -> Option<TimerKey> {
        let waker = self.waker(id);
        self.wheel.insert(deadline, waker)
    }
    /// One `process` call; returns whether it finished and the ids woken, in order.
    fn step(&mut self, now: u64, max: usize) -> (bool, Vec<u64>) {
        let mut out = Vec::new();
        let done = self.wheel.process(now, &mut out, max);
        assert!(out.len() <= max.max(1));
        assert!(
            done || out.len() == max.max(1),
            "stopped early without a full batch"
        );
        out.into_iter().for_each(Waker::wake);
        (done, std::mem::take(&mut *self.log.lock().unwrap()))
    }
    /// Processes to `now` in batches of `max` until done; returns the ids woken, in order.
    fn run(&mut self, now: u64, max: usize) -> Vec<u64> {
        let start = self.wheel.elapsed();
        let mut woken = Vec::new();
        loop {
            let (done, batch) = self.step(now, max);
            woken.extend(batch);
            if done {
                assert_eq!(self.wheel.elapsed(), now.max(start));
                return woken;
            }
        }
    }
}

/// The (level, slot) a pending timer is filed in; `None` once it is due or fired.
fn place(wheel: &Wheel, key: TimerKey) -> Option<(usize, usize)> {
    match wheel.entries[key.index as usize].state {
        State::Pending(list) if usize::from(list) != READY => {
            Some((usize::from(list) / SLOTS, usize::from(list) % SLOTS))
        }
        _ => None,
    }
}

// ANCHOR: wheel-cascade-test
#[test]
fn a_five_second_timer_moves_down_two_levels() {
    let mut h = Harness::new();
    // At tick 0, 5000 differs from 0 first in its third 6-bit digit:
    // level 2, where each slot is 4096 ticks wide; 5000 / 4096 = slot 1.
    let key = h.insert(5000, 7).unwrap();
    assert_eq!(place(&h.wheel, key), Some((2, 1)));
    assert_eq!(h.wheel.next_expiration(), Some(4096));
    // At 4096 that slot comes due and cascades: 5000 is now 904 ticks
    // away, on level 1 (64-tick slots), slot (5000 / 64) % 64 = 14.
    assert_eq!(h.run(4096, 64), NOTHING);
    assert_eq!(place(&h.wheel, key), Some((1, 14)));
    // At 4992 (the start of that slot) it cascades again, to level 0,
    // slot 5000 % 64 = 8: one exact tick.
    assert_eq!(h.run(4992, 64), NOTHING);
    assert_eq!(place(&h.wheel, key), Some((0, 8)));
    assert_eq!(h.run(4999, 64), NOTHING);
    assert_eq!(h.run(5000, 64), [7]);
    assert_eq!(place(&h.wheel, key), None);
}
// ANCHOR_END: wheel-cascade-test

/// xorshift64: a tiny deterministic rng.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// Below `2^bits`, with `bits` uniform in `min..min + spread`: spans many magnitudes.
    fn magnitude(&mut self, min: u64, spread: u64) -> u64 {
        let bits = min + self.below(spread);
        self.below(1 << bits)
    }
}

#[test]
fn fires_at_exact_tick() {
    for deadline in [
        1,
        2,
        63,
        64,
        65,
        4095,
        4096,
        4097,
        262_143,
        1 << 24,
        (1 << 30) + 3,
        HORIZON - 1,
    ] {
        let mut h = Harness::new();
        let key = h.insert(deadline, 7).unwrap();
        assert_eq!(h.wheel.len(), 1);
        assert!(h.wheel.next_expiration().unwrap() <= deadline);
        assert_eq!(h.run(deadline - 1, usize::MAX), NOTHING, "deadline {deadline}");
        assert_eq!(h.wheel.next_expiration(), Some(deadline));
        assert_eq!(h.wheel.poll(key, &h.waker(7)), Poll::Pending);
        assert_eq!(h.run(deadline, usize::MAX), [7]);
        assert_eq!((h.wheel.len(), h.wheel.next_expiration()), (0, None));
        assert_eq!(h.wheel.poll(key, &h.waker(7)), Poll::Ready(()));
    }
}

#[test]
fn past_deadline_is_not_inserted() {
    let mut h = Harness::new();
    assert_eq!(h.insert(0, 1), None);
    assert_eq!(h.run(100, 10), NOTHING);
    assert_eq!(h.insert(50, 1), None);
    assert_eq!(h.insert(100, 1), None);
    assert!(h.insert(101, 1).is_some());
    assert_eq!(h.wheel.len(), 1);
    // Processing backwards is a no-op.
    assert!(h.wheel.process(20, &mut Vec::new(), 10));
    assert_eq!(h.wheel.elapsed(), 100);
}

#[test]
fn removed_timer_never_fires() {
    let mut h = Harness::new();
    let a = h.insert(10, 1).unwrap();
    let b = h.insert(10, 2).unwrap();
    let c = h.insert(5000, 3).unwrap();
    h.wheel.remove(a);
    h.wheel.remove(c);
    assert_eq!(h.wheel.len(), 1);
    assert_eq!(h.run(10_000, usize::MAX), [2]);
    h.wheel.remove(b); // fired, then freed
    assert_eq!(h.wheel.poll(a, &h.waker(1)), Poll::Ready(()));
    assert_eq!(h.wheel.next_expiration(), None);
}

#[test]
fn reset_earlier_later_and_into_the_past() {
    let mut h = Harness::new();
    let key = h.insert(1000, 1).unwrap();
    assert!(h.wheel.reset(key, 20).is_none()); // earlier
    assert_eq!(h.run(19, 8), NOTHING);
    assert!(h.wheel.reset(key, 300_000).is_none()); // later
    assert_eq!(h.run(299_999, 8), NOTHING);
    assert_eq!(h.run(300_000, 8), [1]);
    assert_eq!(h.wheel.poll(key, &h.waker(1)), Poll::Ready(()));
    // A fired entry can be re-armed; it has no waker until polled.
    assert!(h.wheel.reset(key, 300_010).is_none());
    assert_eq!(h.wheel.len(), 1);
    assert_eq!(h.wheel.poll(key, &h.waker(2)), Poll::Pending);
    // Into the past: fires now, handing the waker back.
    h.wheel.reset(key, 5).unwrap().wake();
    assert_eq!(h.log.lock().unwrap().as_slice(), [2]);
    assert_eq!((h.wheel.len(), h.wheel.next_expiration()), (0, None));
    assert_eq!(h.wheel.poll(key, &h.waker(2)), Poll::Ready(()));
    assert!(h.wheel.reset(key, 300_000).is_none()); // fired, no waker left
}

#[test]
fn stale_keys_are_ignored() {
    let mut h = Harness::new();
    let old = h.insert(10, 1).unwrap();
    h.wheel.remove(old);
    let new = h.insert(20, 2).unwrap(); // reuses the slab slot
    assert_ne!(old, new);
    assert_eq!(h.wheel.poll(old, &h.waker(1)), Poll::Ready(()));
    assert!(h.wheel.reset(old, 1).is_none());
    h.wheel.remove(old);
    assert_eq!(h.wheel.len(), 1);
    assert_eq!(h.run(20, 1), [2]);
    let bogus = TimerKey {
        index: 99,
        generation: 0,
    };
    assert_eq!(h.wheel.poll(bogus, &h.waker(3)), Poll::Ready(()));
    assert!(h.wheel.reset(bogus, 100).is_none());
    h.wheel.remove(bogus);
}

#[test]
fn poll_replaces_waker_only_when_needed() {
    let mut h = Harness::new();
    let first = Arc::new(LogWaker {
        id: 1,
        log: h.log.clone(),
    });
    let waker = Waker::from(first.clone());
    let key = h.wheel.insert(10, waker.clone()).unwrap();
    let count = Arc::strong_count(&first);
    assert_eq!(h.wheel.poll(key, &waker), Poll::Pending);
    assert_eq!(Arc::strong_count(&first), count, "same waker must not be cloned");
    assert_eq!(h.wheel.poll(key, &h.waker(2)), Poll::Pending);
    assert_eq!(Arc::strong_count(&first), count - 1, "old waker is dropped");
    assert_eq!(h.run(10, 4), [2]);
}

#[test]
fn far_future_and_u64_max() {
    let mut h = Harness::new();
    let deadlines = [
        u64::MAX,
        u64::MAX - 1,
        1 << 62,
        1 << 40,
        3 * HORIZON + 7,
        HORIZON,
        HORIZON + 1,
    ];
    for (id, &deadline) in deadlines.iter().enumerate() {
        h.insert(deadline, id as u64).unwrap();
    }
    let mut sorted: Vec<u64> = deadlines.to_vec();
    sorted.sort_unstable();
    for &deadline in &sorted {
        let next = h.wheel.next_expiration().unwrap();
        assert!(next <= deadline && next > h.wheel.elapsed());
        assert_eq!(h.run(deadline - 1, 1), NOTHING);
        let id = deadlines.iter().position(|&d| d == deadline).unwrap() as u64;
        assert_eq!(h.run(deadline, 1), [id]);
    }
    assert_eq!(h.wheel.elapsed(), u64::MAX);
    assert_eq!(h.insert(u64::MAX, 9), None);
    assert!(h.wheel.process(u64::MAX, &mut Vec::new(), 1));

    // Starting close to the end of time.
    let mut h = Harness::new();
    assert_eq!(h.run(u64::MAX - 100, 1), NOTHING);
    h.insert(u64::MAX, 1).unwrap();
    h.insert(u64::MAX - 64, 2).unwrap();
    h.insert(u64::MAX - 99, 3).unwrap();
    assert_eq!(h.wheel.next_expiration(), Some(u64::MAX - 99));
    assert_eq!(h.run(u64::MAX - 1, 1), [3, 2]);
    assert_eq!(h.run(u64::MAX, 1), [1]);
}

#[test]
fn big_jump_with_few_entries() {
    let mut h = Harness::new();
    for (id, deadline) in [
        (1, 5),
        (2, 3_000_000),
        (3, 3_600_000),
        (4, 3_600_001),
        (5, 1 << 50),
    ] {
        h.insert(deadline, id).unwrap();
    }
    assert_eq!(h.run(3_600_000, usize::MAX), [1, 2, 3]);
    assert_eq!(h.wheel.next_expiration(), Some(3_600_001));
    assert_eq!(h.run((1 << 50) - 1, usize::MAX), [4]);
    assert_eq!(h.run(1 << 60, usize::MAX), [5]);
    assert_eq!(h.wheel.elapsed(), 1 << 60);

    // Many timers parked beyond the horizon are re-filed once, not once per 2^36 ticks passed.
    for id in 0..1000 {
        h.insert(u64::MAX - id, id).unwrap();
    }
    assert_eq!(h.run(u64::MAX - 1000, usize::MAX), NOTHING);
    assert_eq!(h.run(u64::MAX, usize::MAX), (0..1000).rev().collect::<Vec<_>>());
}

#[test]
fn batches_lose_nothing() {
    let mut h = Harness::new();
    for id in 0..10 {
        h.insert(70, id).unwrap(); // same tick, cascades from level 1
    }
    h.insert(71, 10).unwrap();
    h.insert(5000, 11).unwrap();
    let mut out = Vec::new();
    assert!(!h.wheel.process(6000, &mut out, 3));
    assert_eq!((out.len(), h.wheel.elapsed(), h.wheel.len()), (3, 70, 9));
    assert_eq!(h.wheel.next_expiration(), Some(70));
    out.clear();
    assert!(!h.wheel.process(6000, &mut out, 0)); // max 0 still makes progress
    assert_eq!(out.len(), 1);
    out.clear();
    assert!(!h.wheel.process(6000, &mut out, 6));
    assert_eq!((out.len(), h.wheel.len()), (6, 2));
    out.clear();
    assert!(h.wheel.process(6000, &mut out, 6));
    out.into_iter().for_each(Waker::wake);
    assert_eq!(h.log.lock().unwrap().as_slice(), [10, 11]);
    assert_eq!((h.wheel.elapsed(), h.wheel.len()), (6000, 0));
}

#[test]
fn operations_between_batches() {
    let mut h = Harness::new();
    let keys: Vec<TimerKey> = (0..6).map(|id| h.insert(70, id).unwrap()).collect();
    let (done, first) = h.step(100, 2);
    assert!(!done && first.len() == 2 && h.wheel.elapsed() == 70);
    let left: Vec<u64> = (0..6).filter(|id| !first.contains(id)).collect();
    let key = |id: u64| keys[id as usize];
    h.wheel.remove(key(left[0]));
    assert!(h.wheel.reset(key(left[1]), 90).is_none());
    h.wheel.reset(key(left[2]), 70).unwrap().wake(); // due already: handed back
    assert_eq!(h.wheel.poll(key(left[3]), &h.waker(left[3])), Poll::Pending);
    assert_eq!(h.insert(70, 9), None);
    h.insert(71, 9).unwrap();
    assert_eq!(h.wheel.len(), 3);
    assert_eq!(h.run(100, 2), [left[2], left[3], 9, left[1]]);
}

#[test]
fn many_timers_fire_in_deadline_order() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut h = Harness::new();
    let deadlines: Vec<u64> = (0..100_000).map(|_| 1 + rng.magnitude(8, 30)).collect();
    for (id, &deadline) in deadlines.iter().enumerate() {
        h.insert(deadline, id as u64).unwrap();
    }
    let mut fired = Vec::new();
    let mut now = 0;
    while h.wheel.len() > 0 {
        now += rng.below(1 << 30);
        fired.extend(h.run(now, 1000));
    }
    assert_eq!(fired.len(), deadlines.len());
    assert!(
        fired
            .windows(2)
            .all(|w| deadlines[w[0] as usize] <= deadlines[w[1] as usize])
    );
}

#[test]
fn insert_remove_cycles_do_not_grow() {
    let mut h = Harness::new();
    let waker = h.waker(0);
    let keep = h.insert(1 << 20, 1).unwrap();
    for i in 0..1_000_000u64 {
        let key = h.wheel.insert(1 + i % 100_000, waker.clone()).unwrap();
        h.wheel.remove(key);
    }
    assert!(h.wheel.entries.capacity() <= 4);
    assert_eq!(h.wheel.len(), 1);
    assert_eq!(h.wheel.poll(keep, &waker), Poll::Pending);
}

#[test]
fn debug_summarises() {
    let mut h = Harness::new();
    h.insert(5, 1);
    assert_eq!(format!("{:?}", h.wheel), "Wheel { elapsed: 0, len: 1, .. }");
}

/// What the model knows about a live (not removed) timer.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Model {
    Pending(u64),
    Fired,
}

#[test]
fn matches_a_reference_model() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut h = Harness::new();
    let mut live: Vec<(u64, TimerKey)> = Vec::new(); // (id, key); removed keys go to `stale`
    let mut state: BTreeMap<u64, Model> = BTreeMap::new();
    let mut due: BTreeSet<(u64, u64)> = BTreeSet::new(); // (deadline, id) of pending timers
    let mut stale: Vec<TimerKey> = Vec::new();
    let mut next_id = 0;
    let mut deadline_of = BTreeMap::new();
    let pick_deadline = |rng: &mut Rng, elapsed: u64| -> u64 {
        match rng.below(100) {
            0..=4 => elapsed.saturating_sub(rng.below(3)),
            5..=24 => elapsed.saturating_add(1 + rng.below(8)), // clusters: batches split ties
            25..=49 => elapsed.saturating_add(1 + rng.below(100)),
            50..=84 => elapsed.saturating_add(1 + rng.below(100_000)),
            85..=97 => elapsed.saturating_add(1 + rng.magnitude(20, 30)),
            _ => u64::MAX - rng.below(2),
        }
    };
    for _ in 0..100_000 {
        let elapsed = h.wheel.elapsed();
        match rng.below(100) {
            0..=29 => {
                let deadline = pick_deadline(&mut rng, elapsed);
                let id = next_id;
                next_id += 1;
                match h.insert(deadline, id) {
                    None => assert!(deadline <= elapsed),
                    Some(key) => {
                        assert!(deadline > elapsed);
                        live.push((id, key));
                        state.insert(id, Model::Pending(deadline));
                        due.insert((deadline, id));
                        deadline_of.insert(id, deadline);
                    }
                }
            }
            30..=44 if !live.is_empty() => {
                let (id, key) = live.swap_remove(rng.below(live.len() as u64) as usize);
                h.wheel.remove(key);
                if let Some(Model::Pending(deadline)) = state.remove(&id) {
                    due.remove(&(deadline, id));
                }
                stale.push(key);
            }
            45..=59 if !live.is_empty() => {
                let (id, key) = live[rng.below(live.len() as u64) as usize];
                let deadline = pick_deadline(&mut rng, elapsed);
                let was = state[&id];
                if let Model::Pending(old) = was {
                    due.remove(&(old, id));
                }
                let woken = h.wheel.reset(key, deadline);
                if deadline <= elapsed {
                    // Every pending timer holds a waker; fired ones do not.
                    assert_eq!(woken.is_some(), matches!(was, Model::Pending(_)));
                    state.insert(id, Model::Fired);
                } else {
                    assert!(woken.is_none());
                    state.insert(id, Model::Pending(deadline));
                    due.insert((deadline, id));
                    deadline_of.insert(id, deadline);
                    // Like a timer future would: re-register after re-arming.
                    assert_eq!(h.wheel.poll(key, &h.waker(id)), Poll::Pending);
                }
            }
            60..=69 if !live.is_empty() => {
                let (id, key) = live[rng.below(live.len() as u64) as usize];
                let expect = match state[&id] {
                    Model::Pending(_) => Poll::Pending,
                    Model::Fired => Poll::Ready(()),
                };
                assert_eq!(h.wheel.poll(key, &h.waker(id)), expect);
            }
            70..=74 if !stale.is_empty() => {
                let key = stale[rng.below(stale.len() as u64) as usize];
                assert_eq!(h.wheel.poll(key, &h.waker(0)), Poll::Ready(()));
                assert!(h.wheel.reset(key, elapsed.saturating_add(5)).is_none());
                h.wheel.remove(key);
            }
            _ => {
                let now = match rng.below(1000) {
                    0..=49 => elapsed.saturating_sub(1 + rng.below(10)),
                    // Exactly at, or just before, one of the next few deadlines.
                    50..=249 => match due.iter().nth(rng.below(3) as usize) {
                        Some(&(d, _)) if d - elapsed < 1 << 32 => d - rng.below(2),
                        _ => elapsed,
                    },
                    250..=799 => elapsed.saturating_add(rng.below(200)),
                    800..=979 => elapsed.saturating_add(rng.below(200_000)),
                    980..=998 => elapsed.saturating_add(rng.magnitude(20, 20)),
                    _ => elapsed.saturating_add(rng.magnitude(40, 22)),
                };
                let max = [1, 2, 5, usize::MAX][rng.below(4) as usize];
                // Sometimes stop after one call, so other operations meet a half-done batch.
                let (done, fired) = match rng.below(4) {
                    0 => h.step(now, max),
                    _ => (true, h.run(now, max)),
                };
                let got: Vec<u64> = fired.iter().map(|id| deadline_of[id]).collect();
                assert!(got.windows(2).all(|w| w[0] <= w[1]), "out of order: {got:?}");
                for (&id, &deadline) in fired.iter().zip(&got) {
                    assert!(
                        deadline <= now && due.remove(&(deadline, id)),
                        "{id} fired wrongly"
                    );
                    state.insert(id, Model::Fired);
                }
                let first_left = due.first().map_or(u64::MAX, |&(deadline, _)| deadline);
                assert!(got.last().is_none_or(|&last| last <= first_left));
                assert!(
                    !done || first_left > now || now < elapsed,
                    "{first_left} left behind"
                );
            }
        }
        assert_eq!(h.wheel.len(), due.len());
        let next = h.wheel.next_expiration();
        assert_eq!(next.is_some(), !due.is_empty());
        if let (Some(next), Some(&(earliest, _))) = (next, due.first()) {
            assert!(
                next >= h.wheel.elapsed() && next <= earliest,
                "{next} vs {earliest}"
            );
        }
    }
}
