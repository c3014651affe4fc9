//! The hasher of the in-memory queue's maps keyed by a number it hands out
//! itself (delivery tags, consumer ids, delayed-message keys).
//!
//! Those keys come from counters, never from a user, so no one can choose
//! keys that collide: SipHash's defence against that is wasted, and its
//! cost (tens of nanoseconds per lookup) is paid several times per
//! delivery. A multiply by the 64-bit golden ratio spreads consecutive
//! keys over both the low bits (the bucket) and the high bits (the
//! hashbrown tag byte).

use std::collections::HashMap;
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

#[cfg(test)]
mod tests {
    use super::TagMap;

    #[test]
    fn consecutive_keys_are_found_again() {
        let mut map = TagMap::default();
        for tag in 0..10_000u64 {
            map.insert(tag, tag * 2);
        }
        assert!((0..10_000u64).all(|tag| map.get(&tag) == Some(&(tag * 2))));
        assert_eq!(map.get(&10_000), None);
    }
}
