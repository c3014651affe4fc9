//! A small, fast, non-cryptographic random number generator, used to pick
//! which worker to steal from so that thieves spread out.

use std::hash::{BuildHasher, RandomState};

/// xorshift64*: a few cycles per number, good enough to spread victims.
#[derive(Debug, Clone)]
pub(crate) struct FastRand {
    state: u64,
}

impl FastRand {
    /// A generator seeded from std's per-process random keys and `salt`.
    pub(crate) fn new(salt: u64) -> FastRand {
        let seed = RandomState::new().hash_one(salt);
        FastRand { state: seed | 1 }
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::FastRand;

    #[test]
    fn stays_below_the_bound_and_covers_it() {
        let mut rng = FastRand::new(7);
        let mut seen = [false; 5];
        for _ in 0..1_000 {
            let n = rng.below(5);
            seen[n] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }
}
