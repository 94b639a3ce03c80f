//! [`RouterConfig`]: routes and their policies, declaratively (TOML-friendly).
//!
//! ```toml
//! [defaults.timeouts]            # applies to every route that does not say otherwise
//! attempt_first_token = "20s"
//!
//! [routes.chat]
//! deployments = ["openai/gpt-4o-mini", "anthropic/claude-haiku"]
//! balancer = { kind = "latency", decay = "10s" }
//!
//! [routes.chat.fallbacks]
//! context_length = "larger"       # or "off", or a list of deployment names
//! content_filter = ["local/llama"]
//!
//! [routes.chat.retry]
//! max_retries = 2
//! max_wait = "5s"
//!
//! [routes.chat.hedge]
//! percentile = 0.95
//! ```
//!
//! Every section and field is optional; unknown fields are errors. Durations are text
//! (`"250ms"`, `"30s"`, `"5m"`); `"off"` turns an optional timeout off. A route's section
//! replaces the same section of `[defaults]` as a whole.
//! [`RouterConfig::build`] builds exactly what the programmatic builders build.

mod balancer;
pub mod duration;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tollgate_core::ErrorKind;

pub use self::balancer::{BalancerConfig, ChoicesConfig, ClassifierConfig, TierConfig};
use crate::ConfigError;
use crate::deployment::Deployment;
use crate::fallback::{ContextFallback, FallbackPolicy};
use crate::health::HealthPolicy;
use crate::hedge::{HedgeDelay, HedgePolicy};
use crate::retry::{Backoff, RetryBudget, RetryPolicy};
use crate::route::{DEFAULT_EXPECTED_OUTPUT_TOKENS, Route};
use crate::router::Router;
use crate::timeout::Timeouts;

/// Routes and their policies.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterConfig {
    /// Policies for every route that does not set its own.
    #[serde(default)]
    pub defaults: PolicyConfig,
    /// Routes by the name callers use.
    #[serde(default)]
    pub routes: BTreeMap<String, RouteConfig>,
}

/// Policy sections shared by `[defaults]` and each route.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// The balancer (default priority).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balancer: Option<BalancerConfig>,
    /// Fallback rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallbacks: Option<FallbackConfig>,
    /// Retries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryConfig>,
    /// Timeouts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeouts: Option<TimeoutConfig>,
    /// Hedging (off unless given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hedge: Option<HedgeConfig>,
    /// Circuit breaker and cooldowns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthConfig>,
    /// Output tokens assumed for rpm/tpm accounting when `max_tokens` is unset (default 256).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_output_tokens: Option<u32>,
}

/// One route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// The deployments the balancer orders, by name. Deployments named only in
    /// `fallbacks.context_length` / `fallbacks.content_filter` are reserved for those.
    pub deployments: Vec<String>,
    /// The balancer (default: `[defaults]`'s, else priority).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balancer: Option<BalancerConfig>,
    /// Fallback rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallbacks: Option<FallbackConfig>,
    /// Retries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryConfig>,
    /// Timeouts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeouts: Option<TimeoutConfig>,
    /// Hedging.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hedge: Option<HedgeConfig>,
    /// Circuit breaker and cooldowns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthConfig>,
    /// Output tokens assumed for rpm/tpm accounting when `max_tokens` is unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_output_tokens: Option<u32>,
}

/// `[…fallbacks]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FallbackConfig {
    /// Error kinds that move on down the chain (default: every fallback-eligible kind).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<Vec<ErrorKind>>,
    /// `"larger"` (default), `"off"`, or a list of deployment names.
    #[serde(default)]
    pub context_length: ContextLengthConfig,
    /// Deployments that take content-filter failures, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub content_filter: Vec<String>,
}

/// Where context-length failures go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ContextLengthConfig {
    /// `"larger"` or `"off"`.
    Mode(ContextLengthMode),
    /// These deployments, in order.
    Deployments(Vec<String>),
}

impl Default for ContextLengthConfig {
    fn default() -> Self {
        Self::Mode(ContextLengthMode::Larger)
    }
}

/// `"larger"` or `"off"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContextLengthMode {
    /// Deployments with a larger context window, smallest first.
    Larger,
    /// No context-length fallback.
    Off,
}

/// A budget: `percent` of recent requests plus `min_per_sec`, over `ttl`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetConfig {
    /// How long a request's deposit counts (1s–60s, default 10s).
    #[serde(default = "ten_secs", with = "duration")]
    pub ttl: Duration,
    /// Allowed per second whatever the traffic.
    pub min_per_sec: u32,
    /// Allowed per request (0.2: one per five requests).
    pub percent: f64,
}

impl From<RetryBudget> for BudgetConfig {
    fn from(b: RetryBudget) -> Self {
        Self {
            ttl: b.ttl,
            min_per_sec: b.min_per_sec,
            // Shortest decimal form of the f32, so 0.2 stays 0.2 in config files.
            percent: b
                .percent
                .to_string()
                .parse()
                .unwrap_or(f64::from(b.percent)),
        }
    }
}

impl From<BudgetConfig> for RetryBudget {
    fn from(b: BudgetConfig) -> Self {
        Self {
            ttl: b.ttl,
            min_per_sec: b.min_per_sec,
            percent: b.percent as f32,
        }
    }
}

fn ten_secs() -> Duration {
    Duration::from_secs(10)
}

/// `[…retry]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    /// Most retries per request over all deployments (default 2).
    #[serde(default = "RetryConfig::default_max_retries")]
    pub max_retries: u32,
    /// First backoff (default 250ms).
    #[serde(default = "RetryConfig::default_base", with = "duration")]
    pub backoff_base: Duration,
    /// Longest backoff (default 8s).
    #[serde(default = "RetryConfig::default_max", with = "duration")]
    pub backoff_max: Duration,
    /// Longest wait worth a retry (default 10s).
    #[serde(default = "RetryConfig::default_max_wait", with = "duration")]
    pub max_wait: Duration,
    /// The retry budget (default 20 % of requests + 1/s over 10s).
    #[serde(default = "RetryConfig::default_budget")]
    pub budget: BudgetConfig,
    /// Jitter seed for reproducible runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

impl RetryConfig {
    fn default_max_retries() -> u32 {
        RetryPolicy::default().max_retries
    }
    fn default_base() -> Duration {
        Backoff::default().base
    }
    fn default_max() -> Duration {
        Backoff::default().max
    }
    fn default_max_wait() -> Duration {
        RetryPolicy::default().max_wait
    }
    fn default_budget() -> BudgetConfig {
        RetryBudget::default().into()
    }

    /// The policy this describes.
    pub fn policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_retries: self.max_retries,
            backoff: Backoff {
                base: self.backoff_base,
                max: self.backoff_max,
            },
            max_wait: self.max_wait,
            budget: self.budget.into(),
            seed: self.seed,
        }
    }
}

/// `[…timeouts]`; `"off"` disables one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeoutConfig {
    /// Per attempt: time to first token / to the answer (default 120s).
    #[serde(
        default = "TimeoutConfig::default_first_token",
        with = "duration::option"
    )]
    pub attempt_first_token: Option<Duration>,
    /// Per attempt: the whole attempt, stream included (default off).
    #[serde(default, with = "duration::option")]
    pub attempt_total: Option<Duration>,
    /// Per request: the end-to-end deadline (default 600s).
    #[serde(default = "TimeoutConfig::default_request", with = "duration::option")]
    pub request: Option<Duration>,
}

impl TimeoutConfig {
    fn default_first_token() -> Option<Duration> {
        Timeouts::default().attempt_first_token
    }
    fn default_request() -> Option<Duration> {
        Timeouts::default().request
    }

    /// The timeouts this describes.
    pub fn timeouts(&self) -> Timeouts {
        Timeouts {
            attempt_first_token: self.attempt_first_token,
            attempt_total: self.attempt_total,
            request: self.request,
        }
    }
}

/// `[…hedge]`: give `delay` or `percentile`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HedgeConfig {
    /// Hedge after this fixed delay.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "duration::option"
    )]
    pub delay: Option<Duration>,
    /// Hedge after this percentile (0..1) of recent times to first token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percentile: Option<f64>,
    /// Samples needed before percentile hedging starts (default 20).
    #[serde(default = "HedgeConfig::default_min_samples")]
    pub min_samples: usize,
    /// The hedge budget (default 10 % of requests + 1/s over 10s).
    #[serde(default = "HedgeConfig::default_budget")]
    pub budget: BudgetConfig,
}

impl HedgeConfig {
    fn default_min_samples() -> usize {
        20
    }
    fn default_budget() -> BudgetConfig {
        HedgePolicy::default_budget().into()
    }

    /// The policy this describes.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] unless exactly one of `delay` and `percentile` is given.
    pub fn policy(&self) -> Result<HedgePolicy, ConfigError> {
        let delay = match (self.delay, self.percentile) {
            (Some(d), None) => HedgeDelay::Fixed(d),
            (None, Some(p)) => HedgeDelay::Percentile {
                percentile: p,
                min_samples: self.min_samples,
            },
            _ => {
                return Err(ConfigError::invalid(
                    "hedge: give exactly one of `delay` (e.g. \"2s\") and `percentile` (e.g. 0.95)",
                ));
            }
        };
        Ok(HedgePolicy {
            delay,
            budget: self.budget.into(),
        })
    }
}

/// `[…health]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthConfig {
    /// The error-ratio window (default 60s).
    #[serde(default = "HealthConfig::d_window", with = "duration")]
    pub window: Duration,
    /// Outcomes needed in the window before it may open (default 10).
    #[serde(default = "HealthConfig::d_min_requests")]
    pub min_requests: u32,
    /// Failure share that opens the circuit (default 0.5).
    #[serde(default = "HealthConfig::d_error_ratio")]
    pub error_ratio: f64,
    /// How long an opened circuit stays open before a probe (default 30s).
    #[serde(default = "HealthConfig::d_open_for", with = "duration")]
    pub open_for: Duration,
    /// Cooldown after a 429 without retry-after (default 5s).
    #[serde(default = "HealthConfig::d_rate_limit_cooldown", with = "duration")]
    pub rate_limit_cooldown: Duration,
    /// Cooldown after exhausted quota (default 5m).
    #[serde(default = "HealthConfig::d_quota_cooldown", with = "duration")]
    pub quota_cooldown: Duration,
    /// Longest cooldown a retry-after may impose (default 10m).
    #[serde(default = "HealthConfig::d_max_cooldown", with = "duration")]
    pub max_cooldown: Duration,
}

impl HealthConfig {
    fn d_window() -> Duration {
        HealthPolicy::default().window
    }
    fn d_min_requests() -> u32 {
        HealthPolicy::default().min_requests
    }
    fn d_error_ratio() -> f64 {
        HealthPolicy::default().error_ratio
    }
    fn d_open_for() -> Duration {
        HealthPolicy::default().open_for
    }
    fn d_rate_limit_cooldown() -> Duration {
        HealthPolicy::default().rate_limit_cooldown
    }
    fn d_quota_cooldown() -> Duration {
        HealthPolicy::default().quota_cooldown
    }
    fn d_max_cooldown() -> Duration {
        HealthPolicy::default().max_cooldown
    }

    /// The policy this describes.
    pub fn policy(&self) -> HealthPolicy {
        HealthPolicy {
            window: self.window,
            min_requests: self.min_requests,
            error_ratio: self.error_ratio,
            open_for: self.open_for,
            rate_limit_cooldown: self.rate_limit_cooldown,
            quota_cooldown: self.quota_cooldown,
            max_cooldown: self.max_cooldown,
        }
    }
}

impl FallbackConfig {
    /// The policy this describes.
    pub fn policy(&self) -> FallbackPolicy {
        FallbackPolicy {
            on: self
                .on
                .as_ref()
                .map(|kinds| kinds.iter().copied().collect::<HashSet<_>>()),
            context_length: match &self.context_length {
                ContextLengthConfig::Mode(ContextLengthMode::Larger) => ContextFallback::Larger,
                ContextLengthConfig::Mode(ContextLengthMode::Off) => ContextFallback::Off,
                ContextLengthConfig::Deployments(names) => {
                    ContextFallback::Deployments(names.clone())
                }
            },
            content_filter: self.content_filter.clone(),
        }
    }
}

impl RouterConfig {
    /// Builds the router from `deployments` (looked up by name).
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the route and what is wrong: an unknown or repeated
    /// deployment name, an invalid policy.
    pub fn build(
        &self,
        deployments: impl IntoIterator<Item = Deployment>,
    ) -> Result<Router, ConfigError> {
        let mut by_name: HashMap<String, Deployment> = HashMap::new();
        for deployment in deployments {
            let name = deployment.name.clone();
            if by_name.insert(name.clone(), deployment).is_some() {
                return Err(ConfigError::invalid(format!(
                    "two deployments are called `{name}`"
                )));
            }
        }
        let mut known: Vec<&str> = by_name.keys().map(String::as_str).collect();
        known.sort_unstable();
        let lookup = |route: &str, name: &str| -> Result<Deployment, ConfigError> {
            by_name.get(name).cloned().ok_or_else(|| {
                ConfigError::invalid(format!(
                    "route `{route}` names deployment `{name}`, which is not defined (defined: {})",
                    known.join(", ")
                ))
            })
        };
        let mut builder = Router::builder();
        for (name, route) in &self.routes {
            builder = builder.route(self.build_route(name, route, &lookup)?);
        }
        builder.build()
    }

    fn build_route(
        &self,
        name: &str,
        route: &RouteConfig,
        lookup: &dyn Fn(&str, &str) -> Result<Deployment, ConfigError>,
    ) -> Result<Route, ConfigError> {
        let d = &self.defaults;
        let fallback = route
            .fallbacks
            .as_ref()
            .or(d.fallbacks.as_ref())
            .map(FallbackConfig::policy)
            .unwrap_or_default();
        let mut builder = Route::builder(name);
        let mut pool_names: Vec<&str> = Vec::new();
        for deployment in &route.deployments {
            builder = builder.deployment(lookup(name, deployment)?);
            pool_names.push(deployment);
        }
        let mut reserved: Vec<&str> = Vec::new();
        let specials = match &fallback.context_length {
            ContextFallback::Deployments(names) => names.iter().collect::<Vec<_>>(),
            _ => Vec::new(),
        };
        for special in specials.into_iter().chain(&fallback.content_filter) {
            if !pool_names.contains(&special.as_str()) && !reserved.contains(&special.as_str()) {
                builder = builder.reserve(lookup(name, special)?);
                reserved.push(special);
            }
        }
        let all_names: Vec<&str> = pool_names.iter().chain(&reserved).copied().collect();
        let balancer = route
            .balancer
            .as_ref()
            .or(d.balancer.as_ref())
            .cloned()
            .unwrap_or_default()
            .build(&all_names)
            .map_err(|e| e.in_route(name))?;
        builder = builder.balancer(balancer).fallback(fallback);
        if let Some(retry) = route.retry.as_ref().or(d.retry.as_ref()) {
            builder = builder.retry(retry.policy());
        }
        if let Some(timeouts) = route.timeouts.as_ref().or(d.timeouts.as_ref()) {
            builder = builder.timeouts(timeouts.timeouts());
        }
        if let Some(hedge) = route.hedge.as_ref().or(d.hedge.as_ref()) {
            builder = builder.hedge(hedge.policy().map_err(|e| e.in_route(name))?);
        }
        if let Some(health) = route.health.as_ref().or(d.health.as_ref()) {
            builder = builder.health(health.policy());
        }
        builder = builder.expected_output_tokens(
            route
                .expected_output_tokens
                .or(d.expected_output_tokens)
                .unwrap_or(DEFAULT_EXPECTED_OUTPUT_TOKENS),
        );
        builder.build()
    }
}
