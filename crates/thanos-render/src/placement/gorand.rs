//! Go's `math/rand` source, exactly: Thanos's shuffle sharding picks a tenant's ingestors with
//! `rand.New(rand.NewSource(seed)).Uint64()` (`getTenantShard` in `pkg/receive/hashring.go`),
//! so reproducing its shards means reproducing this generator bit for bit.
//!
//! The generator is an additive lagged Fibonacci generator over 607 words with a tap at 273:
//! each output is the sum (wrapping) of two state words, stored back into the first. Seeding
//! runs a Park–Miller generator (multiplier 48271 modulo 2^31−1) from the seed and mixes its
//! values with a fixed table of 607 words ([`COOKED`], the state Go's authors reached after a
//! long warm-up). That table is generated from Go itself (`tests/placement_vectors`, see its
//! README), and the tests compare outputs of real Go sources (`go_rand` in the vectors).

use super::gorand_cooked::COOKED;

/// State words.
const LEN: usize = 607;
/// Distance between the two words summed.
const TAP: usize = 273;
/// 2^31 − 1, the Park–Miller modulus.
const M: i64 = (1 << 31) - 1;
/// What Go seeds with instead of 0 (mod M).
const ZERO_SEED: i64 = 89_482_311;

/// A Go `rngSource`.
#[derive(Clone)]
pub struct GoRand {
    tap: usize,
    feed: usize,
    state: [u64; LEN],
}

impl GoRand {
    /// `rand.NewSource(seed)`.
    pub fn new(seed: i64) -> GoRand {
        // Go reduces the seed with `%` (the sign follows the dividend), then makes it positive.
        let mut seed = seed % M;
        if seed < 0 {
            seed += M;
        }
        if seed == 0 {
            seed = ZERO_SEED;
        }
        let mut x = seed as i32;
        let mut state = [0u64; LEN];
        for i in -20..LEN as i64 {
            x = park_miller(x);
            if i >= 0 {
                let mut u = i64::from(x) << 40;
                x = park_miller(x);
                u ^= i64::from(x) << 20;
                x = park_miller(x);
                u ^= i64::from(x);
                state[i as usize] = (u as u64) ^ COOKED[i as usize];
            }
        }
        GoRand {
            tap: 0,
            feed: LEN - TAP,
            state,
        }
    }

    /// `Uint64()`: the source's next 64 bits.
    pub fn uint64(&mut self) -> u64 {
        self.tap = if self.tap == 0 { LEN - 1 } else { self.tap - 1 };
        self.feed = if self.feed == 0 {
            LEN - 1
        } else {
            self.feed - 1
        };
        let x = self.state[self.feed].wrapping_add(self.state[self.tap]);
        self.state[self.feed] = x;
        x
    }
}

/// One Park–Miller step in 32-bit arithmetic (Schrage's decomposition, as Go computes it).
fn park_miller(x: i32) -> i32 {
    const A: i32 = 48_271;
    const Q: i32 = 44_488;
    const R: i32 = 3_399;
    let hi = x / Q;
    let lo = x % Q;
    let mut x = A * lo - R * hi;
    if x < 0 {
        x += M as i32;
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn park_miller_matches_the_definition() {
        // Schrage's method computes 48271 x mod (2^31 - 1) without overflow.
        for x in [1i32, 2, 12345, 44_488, 1 << 30, i32::MAX - 1] {
            let want = (i64::from(x) * 48_271 % M) as i32;
            assert_eq!(park_miller(x), want, "{x}");
        }
    }

    #[test]
    fn seeds_equal_modulo_m_give_equal_sources() {
        let mut a = GoRand::new(5);
        let mut b = GoRand::new(5 + M);
        let mut zero = GoRand::new(0);
        let mut z = GoRand::new(ZERO_SEED);
        for _ in 0..1000 {
            assert_eq!(a.uint64(), b.uint64());
            assert_eq!(zero.uint64(), z.uint64());
        }
    }
}
