//! The small, seedable random number generator the balancers share.
//!
//! Balancers only need cheap, decent randomness to break ties and sample by weight, and
//! tests need it reproducible. [`SplitMix64`] implements tower's
//! [`Rng`](tower::util::rng::Rng) trait (so `next_f64` and `next_range` come from tower)
//! and is seeded either explicitly or from std's per-process [`RandomState`].

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::{Mutex, PoisonError};

use tower::util::rng::Rng;

/// SplitMix64 (Steele, Lea and Flood 2014): one 64-bit state, a full period, and output
/// good enough for load balancing. Not for cryptography.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose sequence is fixed by `seed`.
    pub(crate) fn seeded(seed: u64) -> Self {
        Self { state: seed }
    }

    /// A generator seeded from std's per-process random hasher keys.
    pub(crate) fn from_entropy() -> Self {
        Self::seeded(RandomState::new().hash_one(0x746f_6c6c_6761_7465_u64))
    }
}

impl Rng for SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// A generator behind a mutex, for balancers that are shared by concurrent requests.
#[derive(Debug)]
pub(crate) struct SharedRng(Mutex<SplitMix64>);

impl SharedRng {
    /// Seeded from `seed` when given, else from per-process entropy.
    pub(crate) fn new(seed: Option<u64>) -> Self {
        Self(Mutex::new(
            seed.map_or_else(SplitMix64::from_entropy, SplitMix64::seeded),
        ))
    }

    /// Runs `f` with exclusive use of the generator. A poisoned lock is recovered: the
    /// generator's state cannot be left invalid by a panic elsewhere.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut SplitMix64) -> T) -> T {
        let mut rng = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut rng)
    }
}

/// Shuffles `items` in place (Fisher–Yates).
pub(crate) fn shuffle<T>(rng: &mut impl Rng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = rng.next_range(0..i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

/// Two distinct indices in `0..length` (`length >= 2`), uniformly: Floyd's combination
/// algorithm for two, as in tower's `balance::p2c` (`sample_floyd2`, which is private).
pub(crate) fn sample_two(rng: &mut impl Rng, length: usize) -> [usize; 2] {
    let length = length as u64;
    let a = rng.next_range(0..length - 1);
    let b = rng.next_range(0..length);
    let a = if a == b { length - 1 } else { a };
    [a as usize, b as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let mut a = SplitMix64::seeded(7);
        let mut b = SplitMix64::seeded(7);
        let xs: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs[0], xs[1]);
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut rng = SplitMix64::seeded(1);
        let mut items: Vec<usize> = (0..10).collect();
        shuffle(&mut rng, &mut items);
        let mut sorted = items.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn sample_two_is_distinct_and_uniform() {
        let mut rng = SplitMix64::seeded(3);
        let mut counts = [0u32; 3];
        for _ in 0..30_000 {
            let [a, b] = sample_two(&mut rng, 3);
            assert_ne!(a, b);
            assert!(a < 3 && b < 3);
            counts[a] += 1;
            counts[b] += 1;
        }
        for count in counts {
            assert!((19_000..21_000).contains(&count), "{counts:?}");
        }
    }
}
