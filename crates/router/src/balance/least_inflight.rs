//! [`LeastInFlight`]: the deployment with the fewest unfinished requests first.

use tollgate_core::ChatRequest;

use super::rng::{SharedRng, shuffle};
use super::{Balancer, Candidate};

/// Sends each request to the deployment with the fewest requests in flight.
///
/// Semantics, per request: candidates are ordered by [`Candidate::in_flight`] ascending;
/// that order is also the fallback order. Candidates with equal counts are put in a
/// fresh random order each time, so idle deployments share traffic evenly instead of
/// the first-listed one taking every request that arrives while all are idle.
///
/// The count is raw (not divided by weight or by latency): this policy suits
/// deployments of similar speed where concurrency itself is the scarce resource (a
/// self-hosted vLLM pool, provider concurrency caps). For speed-aware balancing use
/// [`Latency`](super::Latency), whose score multiplies latency by in-flight load.
#[derive(Debug)]
pub struct LeastInFlight {
    rng: SharedRng,
}

impl LeastInFlight {
    /// A least-in-flight balancer with ties broken from per-process entropy.
    pub fn new() -> Self {
        Self {
            rng: SharedRng::new(None),
        }
    }

    /// A least-in-flight balancer whose tie-breaks are fixed by `seed`.
    pub fn with_seed(seed: u64) -> Self {
        Self {
            rng: SharedRng::new(Some(seed)),
        }
    }
}

impl Default for LeastInFlight {
    fn default() -> Self {
        Self::new()
    }
}

impl Balancer for LeastInFlight {
    fn name(&self) -> &'static str {
        "least_in_flight"
    }

    fn order(&self, _request: &ChatRequest, candidates: &[Candidate<'_>]) -> Vec<usize> {
        let mut order: Vec<usize> = (0..candidates.len()).collect();
        self.rng.with(|rng| shuffle(rng, &mut order));
        // Stable: equal counts keep their shuffled order.
        order.sort_by_key(|&position| candidates[position].in_flight);
        order
    }
}
