//! A [`Route`]: the name callers use, its deployments, its balancer and its policies, as
//! one `tower::Service`.
//!
//! See the [crate docs](crate) for the order of checks per request.

mod engine;

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::future::Future;
use std::ops::Range;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use tokio::time::Instant;
use tollgate_core::{ChatReply, ChatRequest, Error};
use tower::Service;

use crate::ConfigError;
use crate::balance::{Balancer, Priority};
use crate::deployment::Deployment;
use crate::fallback::{ContextFallback, FallbackPolicy};
use crate::health::{Health, HealthPolicy, HealthSnapshot};
use crate::hedge::{HedgePolicy, Hedger};
use crate::limit::RateLimiter;
use crate::retry::{Retrier, RetryPolicy};
use crate::timeout::Timeouts;

/// One deployment of a route with its health, limits and in-flight count.
pub(crate) struct Slot {
    pub(crate) deployment: Deployment,
    pub(crate) health: Health,
    pub(crate) limiter: RateLimiter,
    pub(crate) in_flight: AtomicUsize,
}

pub(crate) struct RouteInner {
    pub(crate) name: String,
    pub(crate) slots: Vec<Slot>,
    /// Indices of the slots the balancer chooses among: the first ones (the rest are
    /// reserved for the context-length and content-filter fallbacks).
    pub(crate) pool: Range<usize>,
    pub(crate) balancer: Arc<dyn Balancer>,
    pub(crate) fallback: FallbackPolicy,
    pub(crate) context_list: Vec<usize>,
    pub(crate) content_list: Vec<usize>,
    pub(crate) retrier: Retrier,
    pub(crate) timeouts: Timeouts,
    pub(crate) hedger: Option<Hedger>,
    pub(crate) expected_output_tokens: u32,
}

/// A route: the name callers ask for, the deployments that serve it, the balancer that
/// orders them and the policies around each attempt.
///
/// It is a `tower::Service<ChatRequest, Response = ChatReply, Error = tollgate_core::Error>`,
/// cheap to clone (clones share health, limits, budgets and latency samples).
///
/// ```
/// use std::time::Duration;
/// use tollgate_router::{Route, RetryPolicy, Timeouts};
///
/// # fn demo(primary: tollgate_router::Deployment, backup: tollgate_router::Deployment)
/// #     -> Result<(), tollgate_router::ConfigError> {
/// let route = Route::builder("chat")
///     .deployment(primary)
///     .deployment(backup)
///     .retry(RetryPolicy::default())
///     .timeouts(Timeouts {
///         attempt_first_token: Some(Duration::from_secs(10)),
///         ..Timeouts::default()
///     })
///     .build()?;
/// # let _ = route; Ok(()) }
/// ```
#[derive(Clone)]
pub struct Route {
    inner: Arc<RouteInner>,
}

impl Route {
    /// Starts building a route called `name`.
    pub fn builder(name: impl Into<String>) -> RouteBuilder {
        RouteBuilder::new(name)
    }

    /// The name callers use.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The names of its deployments, pool first, then reserved ones.
    pub fn deployment_names(&self) -> impl Iterator<Item = &str> {
        self.inner.slots.iter().map(|s| s.deployment.name.as_str())
    }

    /// The balancer's name.
    pub fn balancer_name(&self) -> &'static str {
        self.inner.balancer.name()
    }

    /// A health snapshot of every deployment.
    pub fn health(&self) -> Vec<HealthSnapshot> {
        let now = Instant::now();
        self.inner
            .slots
            .iter()
            .map(|slot| {
                let (state, error_ratio, requests, until, reason) = slot.health.snapshot_parts(now);
                let (requests_last_minute, tokens_last_minute) = slot.limiter.usage(now);
                HealthSnapshot {
                    deployment: slot.deployment.name.clone(),
                    state,
                    error_ratio,
                    requests_in_window: requests,
                    unavailable_for_secs: until
                        .map(|at| at.saturating_duration_since(now).as_secs_f64()),
                    reason,
                    in_flight: slot.in_flight.load(Ordering::Relaxed),
                    requests_last_minute,
                    tokens_last_minute,
                }
            })
            .collect()
    }
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Route")
            .field("name", &self.inner.name)
            .field("deployments", &self.deployment_names().collect::<Vec<_>>())
            .field("balancer", &self.inner.balancer.name())
            .finish_non_exhaustive()
    }
}

impl Service<ChatRequest> for Route {
    type Response = ChatReply;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<ChatReply, Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        // Deployments are driven to readiness per attempt (`oneshot`); a route never
        // refuses work up front — it explains instead.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: ChatRequest) -> Self::Future {
        Box::pin(engine::serve(Arc::clone(&self.inner), request))
    }
}

/// Builds a [`Route`].
pub struct RouteBuilder {
    name: String,
    pool: Vec<Deployment>,
    reserve: Vec<Deployment>,
    balancer: Option<Arc<dyn Balancer>>,
    fallback: FallbackPolicy,
    retry: RetryPolicy,
    timeouts: Timeouts,
    hedge: Option<HedgePolicy>,
    health: HealthPolicy,
    expected_output_tokens: u32,
}

impl fmt::Debug for RouteBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouteBuilder")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The output tokens assumed for rate-limit accounting when a request sets no
/// `max_tokens` (default 256).
pub const DEFAULT_EXPECTED_OUTPUT_TOKENS: u32 = 256;

impl RouteBuilder {
    fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            pool: Vec::new(),
            reserve: Vec::new(),
            balancer: None,
            fallback: FallbackPolicy::default(),
            retry: RetryPolicy::default(),
            timeouts: Timeouts::default(),
            hedge: None,
            health: HealthPolicy::default(),
            expected_output_tokens: DEFAULT_EXPECTED_OUTPUT_TOKENS,
        }
    }

    /// Adds a deployment to the pool the balancer orders (the first added is the first
    /// choice of [`Priority`]).
    pub fn deployment(mut self, deployment: Deployment) -> Self {
        self.pool.push(deployment);
        self
    }

    /// Adds several deployments to the pool.
    pub fn deployments(mut self, deployments: impl IntoIterator<Item = Deployment>) -> Self {
        self.pool.extend(deployments);
        self
    }

    /// Adds a deployment used only as a context-length or content-filter fallback.
    pub fn reserve(mut self, deployment: Deployment) -> Self {
        self.reserve.push(deployment);
        self
    }

    /// Sets the balancer (default [`Priority`]: the order deployments were added).
    pub fn balancer(mut self, balancer: Arc<dyn Balancer>) -> Self {
        self.balancer = Some(balancer);
        self
    }

    /// Sets the fallback policy.
    pub fn fallback(mut self, fallback: FallbackPolicy) -> Self {
        self.fallback = fallback;
        self
    }

    /// Sets the retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the timeouts.
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Enables hedging.
    pub fn hedge(mut self, hedge: HedgePolicy) -> Self {
        self.hedge = Some(hedge);
        self
    }

    /// Sets the health policy of every deployment.
    pub fn health(mut self, health: HealthPolicy) -> Self {
        self.health = health;
        self
    }

    /// Sets the output tokens assumed for rate limits when `max_tokens` is unset.
    pub fn expected_output_tokens(mut self, tokens: u32) -> Self {
        self.expected_output_tokens = tokens;
        self
    }

    /// Builds the route.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] when the pool is empty, a name repeats, a fallback names an
    /// unknown deployment, or a policy is invalid.
    pub fn build(self) -> Result<Route, ConfigError> {
        let route = self.name;
        if self.pool.is_empty() {
            return Err(ConfigError::invalid(format!(
                "route `{route}` has no deployments"
            )));
        }
        validate_health(&self.health).map_err(|e| e.in_route(&route))?;
        let pool = 0..self.pool.len();
        let mut seen = BTreeSet::new();
        let mut slots = Vec::with_capacity(self.pool.len() + self.reserve.len());
        for deployment in self.pool.into_iter().chain(self.reserve) {
            if !seen.insert(deployment.name.clone()) {
                return Err(ConfigError::invalid(format!(
                    "route `{route}` lists deployment `{}` twice",
                    deployment.name
                )));
            }
            let limiter = RateLimiter::new(deployment.facts.rpm, deployment.facts.tpm);
            slots.push(Slot {
                deployment,
                health: Health::new(self.health.clone()),
                limiter,
                in_flight: AtomicUsize::new(0),
            });
        }
        let index: HashMap<&str, usize> = slots
            .iter()
            .enumerate()
            .map(|(i, s)| (s.deployment.name.as_str(), i))
            .collect();
        let resolve = |names: &[String], what: &str| -> Result<Vec<usize>, ConfigError> {
            names
                .iter()
                .map(|n| {
                    index.get(n.as_str()).copied().ok_or_else(|| {
                        ConfigError::invalid(format!(
                            "route `{route}`: {what} fallback `{n}` is not one of its deployments ({})",
                            index.keys().copied().collect::<BTreeSet<_>>().into_iter().collect::<Vec<_>>().join(", ")
                        ))
                    })
                })
                .collect()
        };
        let context_list = match &self.fallback.context_length {
            ContextFallback::Deployments(names) => resolve(names, "context-length")?,
            _ => Vec::new(),
        };
        let content_list = resolve(&self.fallback.content_filter, "content-filter")?;
        let retrier = self.retry.build().map_err(|e| e.in_route(&route))?;
        let hedger = self
            .hedge
            .map(|h| h.build())
            .transpose()
            .map_err(|e| e.in_route(&route))?;
        Ok(Route {
            inner: Arc::new(RouteInner {
                name: route,
                slots,
                pool,
                balancer: self.balancer.unwrap_or_else(|| Arc::new(Priority)),
                fallback: self.fallback,
                context_list,
                content_list,
                retrier,
                timeouts: self.timeouts,
                hedger,
                expected_output_tokens: self.expected_output_tokens,
            }),
        })
    }
}

fn validate_health(policy: &HealthPolicy) -> Result<(), ConfigError> {
    if !(policy.error_ratio > 0.0 && policy.error_ratio <= 1.0) {
        return Err(ConfigError::invalid(format!(
            "health.error_ratio must be in (0, 1], not {}",
            policy.error_ratio
        )));
    }
    if policy.window.is_zero() {
        return Err(ConfigError::invalid("health.window must be positive"));
    }
    Ok(())
}
