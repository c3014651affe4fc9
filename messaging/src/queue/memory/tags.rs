//! The in-memory queue's maps keyed by a number it hands out itself
//! (delivery tags, consumer ids, delayed-message keys): [`TagMap`], a
//! `HashMap` with a cheap hasher, and [`TagRing`], the deliveries in
//! flight by tag.
//!
//! Those keys come from counters, never from a user, so no one can choose
//! keys that collide: SipHash's defence against that is wasted, and its
//! cost (tens of nanoseconds per lookup) is paid several times per
//! delivery. A multiply by the 64-bit golden ratio spreads consecutive
//! keys over both the low bits (the bucket) and the high bits (the
//! hashbrown tag byte).

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

/// A map from a queue-made `u64` key.
pub(super) type TagMap<V> = HashMap<u64, V, BuildHasherDefault<TagHasher>>;

/// Hashes one `u64` with a multiply; see the module docs.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct TagHasher(u64);

impl Hasher for TagHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Not reached for `u64` keys; kept correct for any other.
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// Slots the ring may keep beyond twice its live entries before it moves
/// its oldest entries to the map.
const SLACK: usize = 64;

/// A map from delivery tag to the delivery in flight.
///
/// Tags are handed out in increasing order, one apart, and deliveries are
/// mostly settled in about the order they were made: so most entries live
/// in a ring indexed by `tag - base`, where an insert is a push and a
/// look-up an index, with no hashing or probing. A delivery held for long
/// while thousands pass would make the ring keep a slot for every tag
/// since: when the ring holds more than twice as many slots as live
/// entries (plus [`SLACK`]), its front moves on and the live entries it
/// passes go to `old`, a [`TagMap`]. So the ring never holds more than
/// `2 × live + SLACK + 1` slots.
///
/// Invariant: every key in `old` is below `base`; the ring covers tags
/// `base .. base + ring.len()`, and its first slot, if any, is full.
pub(super) struct TagRing<V> {
    /// The tag of `ring[0]`.
    base: u64,
    ring: VecDeque<Option<V>>,
    /// Full slots of `ring`.
    in_ring: usize,
    /// Entries the ring's front passed while they were still live.
    old: TagMap<V>,
}

impl<V> Default for TagRing<V> {
    fn default() -> TagRing<V> {
        TagRing {
            base: 0,
            ring: VecDeque::new(),
            in_ring: 0,
            old: TagMap::default(),
        }
    }
}

impl<V> TagRing<V> {
    /// The ring's index of `tag`, if the ring covers it.
    #[inline]
    fn slot(&self, tag: u64) -> Option<usize> {
        let index = usize::try_from(tag.checked_sub(self.base)?).ok()?;
        (index < self.ring.len()).then_some(index)
    }

    /// Inserts `value` under `tag`, returning the value it replaces. Made
    /// for increasing tags, one apart; any other order is still right, if
    /// slower.
    #[inline]
    pub(super) fn insert(&mut self, tag: u64, value: V) -> Option<V> {
        if self.ring.is_empty() && tag >= self.base {
            self.base = tag;
        }
        if tag == self.base + self.ring.len() as u64 {
            self.ring.push_back(Some(value));
            self.in_ring += 1;
            return None;
        }
        self.insert_elsewhere(tag, value)
    }

    /// [`insert`](Self::insert) of a tag that is not the ring's next.
    #[cold]
    fn insert_elsewhere(&mut self, tag: u64, value: V) -> Option<V> {
        if tag < self.base {
            return self.old.insert(tag, value);
        }
        if let Some(index) = self.slot(tag) {
            let replaced = self.ring[index].replace(value);
            if replaced.is_none() {
                self.in_ring += 1;
            }
            return replaced;
        }
        // Past the ring's end: a gap of more than the ring could keep
        // empties the ring into `old` and starts it again at `tag`.
        let gap = tag - self.base - self.ring.len() as u64;
        if gap > (2 * self.in_ring + SLACK) as u64 {
            let (base, ring) = (self.base, std::mem::take(&mut self.ring));
            for (index, value) in ring.into_iter().enumerate() {
                if let Some(value) = value {
                    self.old.insert(base + index as u64, value);
                }
            }
            self.in_ring = 0;
            self.base = tag;
        } else {
            self.ring.extend((0..gap).map(|_| None));
        }
        self.ring.push_back(Some(value));
        self.in_ring += 1;
        self.pass_stragglers();
        None
    }

    /// The entry of `tag`.
    #[inline]
    pub(super) fn get(&self, tag: &u64) -> Option<&V> {
        match self.slot(*tag) {
            Some(index) => self.ring[index].as_ref(),
            None => self.old.get(tag),
        }
    }

    /// The entry of `tag`, to change.
    #[inline]
    pub(super) fn get_mut(&mut self, tag: &u64) -> Option<&mut V> {
        match self.slot(*tag) {
            Some(index) => self.ring[index].as_mut(),
            None => self.old.get_mut(tag),
        }
    }

    /// Removes and returns the entry of `tag`.
    #[inline]
    pub(super) fn remove(&mut self, tag: &u64) -> Option<V> {
        let Some(index) = self.slot(*tag) else {
            return self.old.remove(tag);
        };
        let value = self.ring[index].take()?;
        self.in_ring -= 1;
        if self.ring.len() > 2 * self.in_ring + SLACK {
            self.pass_stragglers();
        }
        // The front moves past empty slots: the first slot stays full.
        while let Some(None) = self.ring.front() {
            self.ring.pop_front();
            self.base += 1;
        }
        Some(value)
    }

    /// Live entries.
    pub(super) fn len(&self) -> usize {
        self.in_ring + self.old.len()
    }

    /// No live entry.
    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Room for `additional` more inserts without growing the ring.
    pub(super) fn reserve(&mut self, additional: usize) {
        self.ring.reserve(additional);
    }

    /// Moves the ring's front on while it keeps too many empty slots,
    /// passing the live entries it meets to `old`, then past empty slots:
    /// the first slot stays full.
    #[cold]
    fn pass_stragglers(&mut self) {
        while self.ring.len() > 2 * self.in_ring + SLACK {
            if let Some(Some(value)) = self.ring.pop_front() {
                self.in_ring -= 1;
                self.old.insert(self.base, value);
            }
            self.base += 1;
        }
        while let Some(None) = self.ring.front() {
            self.ring.pop_front();
            self.base += 1;
        }
    }

    /// Slots the ring holds, full or not (for the tests' bound).
    #[cfg(test)]
    fn slots(&self) -> usize {
        self.ring.len()
    }
}

#[cfg(test)]
mod tests {
    use super::{SLACK, TagMap, TagRing};
    use std::collections::BTreeMap;

    #[test]
    fn consecutive_keys_are_found_again() {
        let mut map = TagMap::default();
        for tag in 0..10_000u64 {
            map.insert(tag, tag * 2);
        }
        assert!((0..10_000u64).all(|tag| map.get(&tag) == Some(&(tag * 2))));
        assert_eq!(map.get(&10_000), None);
    }

    /// Random inserts (increasing tags, as the queue makes them, and now
    /// and then any tag), look-ups and removals, checked after every step
    /// against a `BTreeMap`, with the ring's size bound.
    #[test]
    fn a_ring_agrees_with_a_map_and_stays_small() {
        for seed in 1..=200u64 {
            let mut rng = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
            let mut next = || {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                rng
            };
            let (mut ring, mut model) = (TagRing::default(), BTreeMap::new());
            let mut next_tag = next() % 1_000;
            for step in 0..2_000 {
                match next() % 10 {
                    // Mostly: the next tag, or a jump ahead.
                    0..=4 => {
                        next_tag += if next() % 50 == 0 { next() % 500 } else { 1 };
                        assert_eq!(ring.insert(next_tag, step), model.insert(next_tag, step));
                    }
                    // Settle one in flight: usually among the oldest.
                    5..=7 if !model.is_empty() => {
                        let nth = if next() % 4 == 0 {
                            next() % model.len() as u64
                        } else {
                            0
                        };
                        let pick = *model.keys().nth(nth as usize).unwrap();
                        assert_eq!(ring.remove(&pick), model.remove(&pick));
                    }
                    // Any tag at all: inserted, read, or removed.
                    8 => {
                        let tag = next() % (next_tag + 10);
                        assert_eq!(ring.insert(tag, step), model.insert(tag, step));
                    }
                    _ => {
                        let tag = next() % (next_tag + 10);
                        assert_eq!(ring.get(&tag), model.get(&tag));
                        if let Some(value) = ring.get_mut(&tag) {
                            *value += 1;
                            *model.get_mut(&tag).unwrap() += 1;
                        }
                        assert_eq!(ring.remove(&(tag + 1)), model.remove(&(tag + 1)));
                    }
                }
                assert_eq!(ring.len(), model.len(), "seed {seed} step {step}");
                assert_eq!(ring.is_empty(), model.is_empty());
                assert!(
                    ring.slots() <= 2 * ring.len() + SLACK + 1,
                    "seed {seed} step {step}"
                );
            }
            for (tag, value) in model {
                assert_eq!(ring.get(&tag), Some(&value));
            }
        }
    }

    /// One delivery held while thousands pass: the ring does not keep a
    /// slot for each of them.
    #[test]
    fn a_straggler_does_not_keep_the_ring_long() {
        let mut ring = TagRing::default();
        ring.insert(0, "held");
        for tag in 1..100_000u64 {
            ring.insert(tag, "quick");
            assert_eq!(ring.remove(&tag), Some("quick"));
            assert!(ring.slots() <= SLACK + 3);
        }
        assert_eq!(ring.len(), 1);
        assert_eq!(ring.remove(&0), Some("held"));
        assert!(ring.is_empty());
    }
}
