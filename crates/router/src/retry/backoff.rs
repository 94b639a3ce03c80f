//! Exponential backoff with jitter, from a seedable generator.

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A small, lock-free, seedable random generator (SplitMix64) for jitter.
///
/// Seed it for reproducible tests; [`Jitter::from_entropy`] seeds it from the process's
/// hasher keys otherwise.
#[derive(Debug)]
pub struct Jitter {
    state: AtomicU64,
}

impl Jitter {
    /// A generator with a fixed seed: the same seed yields the same sequence.
    pub fn seeded(seed: u64) -> Self {
        Self {
            state: AtomicU64::new(seed),
        }
    }

    /// A generator seeded differently in every process.
    pub fn from_entropy() -> Self {
        Self::seeded(RandomState::new().hash_one(0x7011_6a7e_u64))
    }

    /// The next number in `[0, 1)`.
    pub fn next_f64(&self) -> f64 {
        const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut z = self
            .state
            .fetch_add(GOLDEN, Ordering::Relaxed)
            .wrapping_add(GOLDEN);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // 53 random bits → [0, 1).
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Exponential backoff: retry `n` (0-based) waits `base × 2ⁿ`, capped at `max`, then
/// scaled by a random factor in `[0.5, 1)` ("equal jitter": never less than half, so a
/// crowd of clients spreads out without retrying at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first retry's nominal wait (default 250 ms).
    pub base: Duration,
    /// The longest nominal wait (default 8 s).
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(250),
            max: Duration::from_secs(8),
        }
    }
}

impl Backoff {
    /// The wait before retry `n` (0-based).
    pub fn delay(&self, n: u32, jitter: &Jitter) -> Duration {
        let factor = 2u32.saturating_pow(n.min(31));
        let nominal = self.base.saturating_mul(factor).min(self.max);
        nominal.mul_f64(0.5 + 0.5 * jitter.next_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_jitter_and_caps() {
        let jitter = Jitter::seeded(7);
        let b = Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_millis(1000),
        };
        for n in 0..8 {
            let nominal = (100u64 << n).min(1000);
            let d = b.delay(n, &jitter).as_millis() as u64;
            assert!(
                d >= nominal / 2 && d <= nominal,
                "retry {n}: {d}ms vs {nominal}ms"
            );
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_waits() {
        let b = Backoff::default();
        let (x, y) = (Jitter::seeded(42), Jitter::seeded(42));
        let xs: Vec<_> = (0..5).map(|n| b.delay(n, &x)).collect();
        let ys: Vec<_> = (0..5).map(|n| b.delay(n, &y)).collect();
        assert_eq!(xs, ys);
    }
}
