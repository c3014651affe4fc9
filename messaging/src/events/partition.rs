//! Which partition a key goes to: Kafka's default partitioner, so that a
//! Kafka backend (and a Kafka producer beside the bus) puts every key in
//! the same partition as the bus does.

// ANCHOR: partition-for
/// The partition of `key` in a topic of `partitions` partitions:
/// `(murmur2(key) & 0x7fff_ffff) % partitions`, with the 32-bit murmur2
/// (seed `0x9747b28c`) over the key's UTF-8 bytes, exactly as Kafka's
/// default partitioner computes it for a key serialized as a string.
///
/// It is stable: the same key and count give the same partition in every
/// process and every version of weft (tests pin a few values). A
/// `partitions` of 0 is taken as 1.
///
/// # Examples
///
/// ```
/// use weft::events::partition_for;
///
/// assert_eq!(partition_for("user-7", 1), 0);
/// let p = partition_for("user-7", 16);
/// assert!(p < 16);
/// assert_eq!(partition_for("user-7", 16), p, "always the same");
/// ```
pub fn partition_for(key: &str, partitions: u32) -> u32 {
    (murmur2(key.as_bytes()) & 0x7fff_ffff) % partitions.max(1)
}
// ANCHOR_END: partition-for

/// Kafka's `Utils.murmur2`: 32-bit MurmurHash2, seed `0x9747b28c`, the
/// tail bytes read little-endian.
pub(crate) fn murmur2(data: &[u8]) -> u32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    // Kafka hashes an `int` length; a key longer than 2^32 bytes is not a key.
    let mut h = SEED ^ (data.len() as u32);
    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = chunks.remainder();
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if !tail.is_empty() {
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// Kafka's own test vectors (`UtilsTest.testMurmur2`), as Java's signed
    /// ints: the hash is Kafka's, bit for bit.
    #[test]
    fn murmur2_matches_kafka() {
        let cases: [(&[u8], i32); 6] = [
            (b"21", -973_932_308),
            (b"foobar", -790_332_482),
            (b"a-little-bit-long-string", -985_981_536),
            (b"a-little-bit-longer-string", -1_486_304_829),
            (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
            (b"abc", 479_470_107),
        ];
        for (data, expected) in cases {
            assert_eq!(
                murmur2(data) as i32,
                expected,
                "{:?}",
                String::from_utf8_lossy(data)
            );
        }
    }
}
