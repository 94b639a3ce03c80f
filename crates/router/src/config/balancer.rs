//! [`BalancerConfig`]: which balancing policy a route (or a tier) uses, with its parameters.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ConfigError;
use crate::balance::{
    Balancer, Choices, Cost, CostConfig, DefaultClassifier, Latency, LatencyConfig, LeastInFlight,
    Members, Priority, TierPool, Tiered, Weighted,
};

/// A balancing policy and its parameters (`kind = "…"` in TOML). See
/// `docs/routing-balancers.md` for each policy's semantics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum BalancerConfig {
    /// In the order the route lists its deployments (a plain fallback chain).
    #[default]
    Priority,
    /// Random in proportion to each deployment's `weight`.
    Weighted {
        /// A seed for reproducible draws.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seed: Option<u64>,
    },
    /// The deployment with the fewest requests in flight first (`least_inflight`, or
    /// `least_in_flight`).
    #[serde(alias = "least_in_flight")]
    LeastInflight {
        /// A seed for reproducible tie-breaks.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seed: Option<u64>,
    },
    /// The fastest deployment first, by peak-EWMA latency.
    Latency {
        /// Time constant of the moving average (default 10 s).
        #[serde(default = "default_decay", with = "super::duration")]
        decay: Duration,
        /// Estimate before the first sample (default 500 ms).
        #[serde(default = "default_rtt", with = "super::duration")]
        default_rtt: Duration,
        /// The least a failure counts as (default 5 s).
        #[serde(default = "default_error_penalty", with = "super::duration")]
        error_penalty: Duration,
        /// `best` (default) or `power_of_two`.
        #[serde(default)]
        choices: ChoicesConfig,
        /// A seed for reproducible draws.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seed: Option<u64>,
    },
    /// The cheapest deployment able to serve the request first.
    Cost {
        /// Output tokens a request is expected to produce (default 256).
        #[serde(default = "default_expected_output")]
        expected_output_tokens: u32,
        /// Relative cost difference counted as a tie (default 1e-9).
        #[serde(default = "default_tie_tolerance")]
        tie_tolerance: f64,
        /// A seed for reproducible tie-breaks.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seed: Option<u64>,
    },
    /// A classifier maps each request to a tier; each tier is a pool with its balancer.
    Tiered {
        /// The tiers; the first is used when the classifier names an unknown tier.
        tiers: Vec<TierConfig>,
        /// The default classifier's parameters.
        #[serde(default)]
        classifier: ClassifierConfig,
        /// Whether a request may fall back beyond its tier (default true).
        #[serde(default = "yes")]
        spill_over: bool,
    },
}

/// How [`BalancerConfig::Latency`] picks its first choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ChoicesConfig {
    /// The lowest score.
    #[default]
    Best,
    /// Power of two random choices.
    PowerOfTwo,
}

/// One tier of [`BalancerConfig::Tiered`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierConfig {
    /// The tier's name, as the classifier returns it.
    pub name: String,
    /// Its deployments by name; empty with no `tags` means all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deployments: Vec<String>,
    /// Its deployments by tag (any of them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The tier's balancer (default priority; not itself tiered).
    #[serde(default)]
    pub balancer: BalancerConfig,
}

/// Parameters of the default classifier of [`BalancerConfig::Tiered`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifierConfig {
    /// The tier of simple requests (default `simple`).
    #[serde(default = "simple")]
    pub simple_tier: String,
    /// The tier of complex requests (default `complex`).
    #[serde(default = "complex")]
    pub complex_tier: String,
    /// Estimated input tokens above which a request is complex (default 2000).
    #[serde(default = "long_prompt")]
    pub long_prompt_tokens: u64,
    /// Extra `task` tag → tier mappings (added to the built-in ones).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tasks: BTreeMap<String, String>,
}

impl Default for ClassifierConfig {
    fn default() -> Self {
        Self {
            simple_tier: simple(),
            complex_tier: complex(),
            long_prompt_tokens: long_prompt(),
            tasks: BTreeMap::new(),
        }
    }
}

fn default_decay() -> Duration {
    LatencyConfig::default().decay
}
fn default_rtt() -> Duration {
    LatencyConfig::default().default_rtt
}
fn default_error_penalty() -> Duration {
    LatencyConfig::default().error_penalty
}
fn default_expected_output() -> u32 {
    CostConfig::default().expected_output_tokens
}
fn default_tie_tolerance() -> f64 {
    CostConfig::default().tie_tolerance
}
fn yes() -> bool {
    true
}
fn simple() -> String {
    "simple".to_owned()
}
fn complex() -> String {
    "complex".to_owned()
}
fn long_prompt() -> u64 {
    2_000
}

impl BalancerConfig {
    /// Builds the balancer. `deployments` are the route's deployment names, to check the
    /// names a tier lists.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] for a tier naming an unknown deployment, a nested tiered
    /// balancer, or a tiered balancer without tiers.
    pub fn build(&self, deployments: &[&str]) -> Result<Arc<dyn Balancer>, ConfigError> {
        Ok(Arc::from(self.build_boxed(deployments, false)?))
    }

    fn build_boxed(
        &self,
        deployments: &[&str],
        nested: bool,
    ) -> Result<Box<dyn Balancer>, ConfigError> {
        Ok(match self {
            Self::Priority => Box::new(Priority),
            Self::Weighted { seed } => {
                Box::new(seed.map_or_else(Weighted::new, Weighted::with_seed))
            }
            Self::LeastInflight { seed } => {
                Box::new(seed.map_or_else(LeastInFlight::new, LeastInFlight::with_seed))
            }
            Self::Latency {
                decay,
                default_rtt,
                error_penalty,
                choices,
                seed,
            } => {
                let config = LatencyConfig {
                    decay: *decay,
                    default_rtt: *default_rtt,
                    error_penalty: *error_penalty,
                    choices: match choices {
                        ChoicesConfig::Best => Choices::Best,
                        ChoicesConfig::PowerOfTwo => Choices::PowerOfTwo,
                    },
                };
                Box::new(match seed {
                    Some(seed) => Latency::with_seed(config, *seed),
                    None => Latency::new(config),
                })
            }
            Self::Cost {
                expected_output_tokens,
                tie_tolerance,
                seed,
            } => {
                let config = CostConfig {
                    expected_output_tokens: *expected_output_tokens,
                    tie_tolerance: *tie_tolerance,
                };
                Box::new(match seed {
                    Some(seed) => Cost::with_seed(config, *seed),
                    None => Cost::new(config),
                })
            }
            Self::Tiered {
                tiers,
                classifier,
                spill_over,
            } => {
                if nested {
                    return Err(ConfigError::invalid(
                        "a tier's balancer cannot itself be tiered",
                    ));
                }
                if tiers.is_empty() {
                    return Err(ConfigError::invalid(
                        "a tiered balancer needs at least one tier",
                    ));
                }
                let mut pools = Vec::with_capacity(tiers.len());
                for tier in tiers {
                    for name in &tier.deployments {
                        if !deployments.contains(&name.as_str()) {
                            return Err(ConfigError::invalid(format!(
                                "tier `{}` names deployment `{name}`, which the route does not list ({})",
                                tier.name,
                                deployments.join(", ")
                            )));
                        }
                    }
                    let members = match (tier.deployments.is_empty(), tier.tags.is_empty()) {
                        (true, true) => Members::All,
                        (false, _) if !tier.tags.is_empty() => {
                            return Err(ConfigError::invalid(format!(
                                "tier `{}`: give `deployments` or `tags`, not both",
                                tier.name
                            )));
                        }
                        (false, _) => Members::Names(tier.deployments.clone()),
                        (true, false) => Members::Tags(tier.tags.clone()),
                    };
                    pools.push(TierPool::boxed(
                        tier.name.clone(),
                        members,
                        tier.balancer.build_boxed(deployments, true)?,
                    ));
                }
                let mut built = DefaultClassifier::new()
                    .tier_names(
                        classifier.simple_tier.clone(),
                        classifier.complex_tier.clone(),
                    )
                    .long_prompt_tokens(classifier.long_prompt_tokens);
                for (task, tier) in &classifier.tasks {
                    built = built.task(task.clone(), tier.clone());
                }
                Box::new(Tiered::new(built, pools).spill_over(*spill_over))
            }
        })
    }
}
