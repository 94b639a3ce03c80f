//! Balancing policies: which deployment a route tries first, and in which order it falls
//! back to the others.
//!
//! A route hands its [`Balancer`] the candidates that are eligible for this request
//! (healthy, under their rate limits, able to serve it) and tries them in the order the
//! balancer returns: the first is the first choice, the rest are the fallback order. After
//! each attempt the route reports what happened with [`Balancer::observe`], which is how
//! latency-aware policies learn.

use std::time::Duration;

use tollgate_core::{ChatRequest, ErrorKind};

use crate::deployment::DeploymentFacts;

mod cost;
mod latency;
mod least_inflight;
mod rng;
mod tiered;
mod weighted;

pub use cost::{CACHE_HIT_RATIO_TAG, Cost, CostConfig};
pub use latency::{Choices, Latency, LatencyConfig};
pub use least_inflight::LeastInFlight;
pub use tiered::{Classifier, DefaultClassifier, Members, TASK_TAG, TIER_TAG, TierPool, Tiered};
pub use weighted::Weighted;

/// One eligible deployment, as a balancer sees it.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// The deployment's index in its route (stable for the route's lifetime).
    pub index: usize,
    /// Its name.
    pub name: &'a str,
    /// Its facts.
    pub facts: &'a DeploymentFacts,
    /// Requests to it that have started and not yet finished.
    pub in_flight: usize,
}

/// What one attempt on a deployment came to, reported after it ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    /// The deployment's index in its route.
    pub index: usize,
    /// Whether the call was a stream (then `latency` is the time to first event).
    pub stream: bool,
    /// Time to resolution: to the first event for streams, to the full answer otherwise.
    pub latency: Duration,
    /// `None` on success, the error's kind on failure (timeouts included).
    pub error: Option<ErrorKind>,
}

/// Orders a route's eligible deployments for one request.
///
/// Implementations keep their own state behind `&self` (atomics, a mutex) because a
/// route shares one balancer between all concurrent requests.
pub trait Balancer: Send + Sync + 'static {
    /// A short name for explanations and telemetry (`priority`, `weighted`, `latency`, …).
    fn name(&self) -> &'static str;

    /// Returns candidate positions (indices into `candidates`, not deployment indices)
    /// in the order to try them. Positions left out are not tried for this request.
    fn order(&self, request: &ChatRequest, candidates: &[Candidate<'_>]) -> Vec<usize>;

    /// Learns from one finished attempt. The default ignores it.
    fn observe(&self, observation: &Observation) {
        let _ = observation;
    }
}

/// Tries deployments in the order the route lists them: a plain fallback chain.
#[derive(Debug, Clone, Copy, Default)]
pub struct Priority;

impl Balancer for Priority {
    fn name(&self) -> &'static str {
        "priority"
    }

    fn order(&self, _request: &ChatRequest, candidates: &[Candidate<'_>]) -> Vec<usize> {
        (0..candidates.len()).collect()
    }
}
