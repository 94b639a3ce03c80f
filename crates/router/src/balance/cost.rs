//! [`Cost`]: the cheapest deployment able to serve this request first.

use tollgate_core::{ChatRequest, Usage};

use super::rng::{SharedRng, shuffle};
use super::{Balancer, Candidate};
use crate::deployment::DeploymentFacts;

/// The metadata tag through which a caller tells [`Cost`] what share of the input it
/// expects the provider's prompt cache to serve (`"0.8"`: 80 %).
pub const CACHE_HIT_RATIO_TAG: &str = "cache_hit_ratio";

/// Parameters of [`Cost`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostConfig {
    /// Output tokens a request is expected to produce (default 256). A request's
    /// `max_tokens` caps it: the expected output is `min(max_tokens, this)`.
    pub expected_output_tokens: u32,
    /// Relative difference under which two estimated costs count as equal and share
    /// traffic (default `1e-9`: equal up to float rounding). `0.05` treats deployments
    /// within 5 % of the cheapest as equally cheap.
    pub tie_tolerance: f64,
}

impl Default for CostConfig {
    fn default() -> Self {
        Self {
            expected_output_tokens: 256,
            tie_tolerance: 1e-9,
        }
    }
}

/// Sends each request to the cheapest deployment that can serve it.
///
/// (Not to be confused with [`tollgate_core::Cost`], the price of one call, which this
/// balancer uses for its arithmetic.)
///
/// Per request:
///
/// 1. **Filter.** A candidate is left out of the order (not tried at all) when
///    - it lacks a capability the request needs
///      ([`Capabilities::missing_for`](crate::deployment::Capabilities::missing_for):
///      tools, vision, json_schema, streaming);
///    - its context window is known and smaller than
///      `estimated input tokens + max_tokens` (`max_tokens` counted as 0 when unset);
///    - its `max_output_tokens` is known and below the request's `max_tokens`.
///
///    Unknown facts never exclude a deployment.
/// 2. **Estimate.** The expected usage is
///    `input = ChatRequest::estimate_input_tokens()`,
///    `output = min(max_tokens, expected_output_tokens)` (or `expected_output_tokens`
///    when `max_tokens` is unset), and, when the request carries the
///    [`CACHE_HIT_RATIO_TAG`] metadata tag `r` (a number in `0..=1`; anything else is
///    ignored), `cache_read = ⌊input × r⌋`. The cost is
///    [`Usage::cost`](tollgate_core::Usage::cost) at the deployment's price — the same
///    arithmetic that bills the call, long-context tiers and cache rates included.
/// 3. **Order.** Priced candidates by estimated cost ascending; candidates whose costs
///    are equal within [`CostConfig::tie_tolerance`] of the cheapest of their group are
///    put in random order, so equally cheap deployments share traffic instead of the
///    first listed taking it all. Candidates with no price come last, in random order.
///
/// The fallback order is therefore "next cheapest that fits".
#[derive(Debug)]
pub struct Cost {
    config: CostConfig,
    rng: SharedRng,
}

impl Cost {
    /// A cost balancer with `config`, ties spread with per-process entropy.
    pub fn new(config: CostConfig) -> Self {
        Self {
            config,
            rng: SharedRng::new(None),
        }
    }

    /// A cost balancer whose tie-spreading is fixed by `seed`.
    pub fn with_seed(config: CostConfig, seed: u64) -> Self {
        Self {
            config,
            rng: SharedRng::new(Some(seed)),
        }
    }

    /// The parameters this balancer runs with.
    pub fn config(&self) -> &CostConfig {
        &self.config
    }

    /// The usage this balancer expects `request` to consume (see the type's docs).
    pub fn expected_usage(&self, request: &ChatRequest) -> Usage {
        let input_tokens = request.estimate_input_tokens();
        let expected = self.config.expected_output_tokens;
        let output_tokens = request.max_tokens.map_or(expected, |max| max.min(expected));
        let cache_hit_ratio = request
            .metadata
            .get(CACHE_HIT_RATIO_TAG)
            .and_then(|raw| raw.trim().parse::<f64>().ok())
            .filter(|ratio| (0.0..=1.0).contains(ratio))
            .unwrap_or(0.0);
        Usage {
            input_tokens,
            output_tokens: u64::from(output_tokens),
            cache_read_tokens: (input_tokens as f64 * cache_hit_ratio).floor() as u64,
            ..Usage::default()
        }
    }

    /// Why a deployment with `facts` cannot serve `request` (`"tools"`,
    /// `"context_window"`, `"max_output_tokens"`, …), or `None` if it can.
    pub fn unfit_reason(request: &ChatRequest, facts: &DeploymentFacts) -> Option<&'static str> {
        if let Some(missing) = facts.capabilities.missing_for(request) {
            return Some(missing);
        }
        let max_tokens = request.max_tokens.map(u64::from);
        if let Some(window) = facts.context_window {
            let needed = request
                .estimate_input_tokens()
                .saturating_add(max_tokens.unwrap_or(0));
            if needed > window {
                return Some("context_window");
            }
        }
        if let (Some(limit), Some(asked)) = (facts.max_output_tokens, max_tokens)
            && asked > limit
        {
            return Some("max_output_tokens");
        }
        None
    }

    /// What `request` is expected to cost in USD on a deployment with `facts`, or `None`
    /// when its price is unknown.
    pub fn estimated_cost(&self, request: &ChatRequest, facts: &DeploymentFacts) -> Option<f64> {
        let usage = self.expected_usage(request);
        facts.price.as_ref().map(|price| usage.cost(price).total())
    }
}

impl Default for Cost {
    fn default() -> Self {
        Self::new(CostConfig::default())
    }
}

impl Balancer for Cost {
    fn name(&self) -> &'static str {
        "cost"
    }

    fn order(&self, request: &ChatRequest, candidates: &[Candidate<'_>]) -> Vec<usize> {
        let usage = self.expected_usage(request);
        let mut priced: Vec<(usize, f64)> = Vec::with_capacity(candidates.len());
        let mut unpriced: Vec<usize> = Vec::new();
        for (position, candidate) in candidates.iter().enumerate() {
            if Self::unfit_reason(request, candidate.facts).is_some() {
                continue;
            }
            match &candidate.facts.price {
                Some(price) => priced.push((position, usage.cost(price).total())),
                None => unpriced.push(position),
            }
        }
        let tolerance = self.config.tie_tolerance.max(0.0);
        self.rng.with(|rng| {
            shuffle(rng, &mut priced);
            priced.sort_by(|a, b| a.1.total_cmp(&b.1));
            let mut start = 0;
            while start < priced.len() {
                let ceiling = priced[start].1 * (1.0 + tolerance);
                // The group always holds `start` itself, whatever the numbers (a
                // negative or NaN price from a config must not stall this loop).
                let end = priced[start + 1..]
                    .iter()
                    .position(|(_, cost)| *cost > ceiling)
                    .map_or(priced.len(), |offset| start + 1 + offset);
                shuffle(rng, &mut priced[start..end]);
                start = end;
            }
            shuffle(rng, &mut unpriced);
        });
        priced
            .into_iter()
            .map(|(position, _)| position)
            .chain(unpriced)
            .collect()
    }
}
