//! [`Weighted`]: traffic split in proportion to each deployment's `weight`.

use tollgate_core::ChatRequest;
use tower::util::rng::Rng;

use super::rng::SharedRng;
use super::{Balancer, Candidate};

/// Splits traffic between deployments in proportion to [`DeploymentFacts::weight`].
///
/// Semantics, per request:
///
/// - The **first choice** is drawn at random with probability `weight / Σ weight` over
///   the eligible candidates whose weight is above zero. With weights 3 and 1, the first
///   gets three requests in four.
/// - The **fallback order** continues the same draw without replacement: each next
///   deployment is drawn among those left, again in proportion to weight. So the
///   fallback after a failure is spread by weight too, rather than always landing on the
///   heaviest survivor.
/// - Candidates with weight `0` are standbys: never a first choice while any weighted
///   candidate is eligible, tried after all of them, in route order. If every candidate
///   has weight `0`, the order is the route order (a plain fallback chain).
///
/// The shares hold over the *eligible* candidates: when the route drops an unhealthy or
/// rate-limited deployment, its share is split among the rest by their weights.
///
/// Randomness comes from a small generator seeded from per-process entropy
/// ([`Weighted::new`]) or from a fixed seed for reproducible tests
/// ([`Weighted::with_seed`]).
///
/// ```
/// use tollgate_core::ChatRequest;
/// use tollgate_router::balance::Weighted;
/// use tollgate_router::{Balancer, Candidate, DeploymentFacts};
///
/// let heavy = DeploymentFacts { weight: 3, ..DeploymentFacts::default() };
/// let light = DeploymentFacts { weight: 1, ..DeploymentFacts::default() };
/// let candidates = [
///     Candidate { index: 0, name: "heavy", facts: &heavy, in_flight: 0 },
///     Candidate { index: 1, name: "light", facts: &light, in_flight: 0 },
/// ];
/// let balancer = Weighted::with_seed(42);
/// let request = ChatRequest::new("chat").user("hi");
/// let heavy_first = (0..1_000)
///     .filter(|_| balancer.order(&request, &candidates)[0] == 0)
///     .count();
/// assert!((700..800).contains(&heavy_first)); // about three in four
/// ```
///
/// [`DeploymentFacts::weight`]: crate::deployment::DeploymentFacts::weight
#[derive(Debug)]
pub struct Weighted {
    rng: SharedRng,
}

impl Weighted {
    /// A weighted balancer seeded from per-process entropy.
    pub fn new() -> Self {
        Self {
            rng: SharedRng::new(None),
        }
    }

    /// A weighted balancer whose draws are fixed by `seed` (for tests and replays).
    pub fn with_seed(seed: u64) -> Self {
        Self {
            rng: SharedRng::new(Some(seed)),
        }
    }
}

impl Default for Weighted {
    fn default() -> Self {
        Self::new()
    }
}

impl Balancer for Weighted {
    fn name(&self) -> &'static str {
        "weighted"
    }

    fn order(&self, _request: &ChatRequest, candidates: &[Candidate<'_>]) -> Vec<usize> {
        let mut order = Vec::with_capacity(candidates.len());
        let mut weighted: Vec<(usize, u64)> = candidates
            .iter()
            .enumerate()
            .filter(|(_, c)| c.facts.weight > 0)
            .map(|(position, c)| (position, u64::from(c.facts.weight)))
            .collect();
        let mut total: u64 = weighted.iter().map(|(_, w)| w).sum();
        self.rng.with(|rng| {
            while total > 0 {
                let mut ticket = rng.next_range(0..total);
                let mut drawn = weighted.len() - 1;
                for (i, (_, weight)) in weighted.iter().enumerate() {
                    if ticket < *weight {
                        drawn = i;
                        break;
                    }
                    ticket -= weight;
                }
                let (position, weight) = weighted.swap_remove(drawn);
                total -= weight;
                order.push(position);
            }
        });
        order.extend(
            candidates
                .iter()
                .enumerate()
                .filter(|(_, c)| c.facts.weight == 0)
                .map(|(position, _)| position),
        );
        order
    }
}
