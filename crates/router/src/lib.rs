//! Tower layers and services for routing and resilience across LLM deployments.
//!
//! A [`Router`] maps the model a caller asks for to a [`Route`]; a route holds
//! [`Deployment`]s (one provider service + model + facts), a [`Balancer`] that orders them,
//! and the policies around each attempt: [`fallback`], [retries](retry),
//! [`health`] (circuit breaker, cooldowns, half-open probes),
//! [rate limits](limit), [timeouts](timeout), [hedging](hedge) and
//! [explanations](explain). Both are
//! `tower::Service<ChatRequest, Response = ChatReply, Error = tollgate_core::Error>`,
//! `Clone + Send + Sync`. [`RouterConfig`] builds the same thing from TOML.
//!
//! # What a route does with one request, in order
//!
//! 1. **Deadline.** The end-to-end deadline is the earlier of the route's
//!    `timeouts.request` and a [`tollgate_core::Deadline`] in the request's extensions.
//!    Every attempt, retry wait, fallback and stream of the request lives within it.
//! 2. **Budgets.** The request deposits into the route's retry budget (and hedge budget).
//! 3. **Eligibility**, per pool deployment, first failing check wins (and is what the
//!    explanation says): lacks a capability the request needs → request does not fit the
//!    context window (estimated input + `max_tokens`) → circuit open / cooling down /
//!    half-open probe already running → over its rpm or tpm limit this minute.
//! 4. **Order.** The balancer orders the eligible deployments: the first is the first
//!    choice, the rest are the fallback chain.
//! 5. **Attempt.** Right before each call the deployment is admitted again (health may
//!    have changed meanwhile; a half-open deployment admits this request as its one probe)
//!    and the request is counted against its rpm/tpm. The request is cloned, its `model`
//!    rewritten to the deployment's, and an [`tollgate_core::AttemptContext`] put into its
//!    extensions. The call must resolve within the attempt's first-token timeout, its
//!    total timeout and the deadline.
//! 6. **Hedge** (if enabled): if the attempt has not resolved after the hedge delay and the
//!    hedge budget allows, the next deployment of the chain is started too; the first to
//!    resolve wins and the other is dropped (cancelled).
//! 7. **Outcome.** Success: health and balancer learn it, the reply's
//!    [`tollgate_core::ReplyMeta`] gets `route`, `deployment` and `failed_attempts`, and a
//!    stream is wrapped so the total timeout / deadline still apply to it. Failure:
//!    - `ContextLengthExceeded` → the rest of the plan is replaced by the context-length
//!      fallback (larger windows, smallest first, or a configured list);
//!    - `ContentFiltered` → replaced by the configured content-filter deployments;
//!    - a kind the fallback policy moves on for (default
//!      [`tollgate_core::Error::is_fallback_eligible`]) → next in the chain; if it is also
//!      retryable, the deployment becomes a retry candidate ready after its
//!      `retry_after` or its jittered backoff;
//!    - anything else → returned to the caller as is.
//! 8. **Retries come after fallbacks.** A different deployment is tried at once, because
//!    waiting to retry the one that just failed is slower and more likely to fail again.
//!    Only when the chain is exhausted does the route retry: the candidate ready soonest,
//!    if its wait is at most `retry.max_wait`, it is ready before the deadline, the
//!    request has retries left (`retry.max_retries`, counted over all deployments), and
//!    the retry budget gives a token. Counts never multiply: one request makes at most
//!    `chain length + max_retries` attempts (a hedge is the next chain step started
//!    early), and all of them within the deadline.
//! 9. **Explanation.** When the plan is exhausted the error is `NoRoute`, listing each
//!    deployment and why it did not serve (with `retry_after` = the soonest moment one
//!    becomes available); when the deadline passes it is `Timeout`, with the same list.
//!
//! # Hand-composed stacks
//!
//! Every policy is usable on its own. [`timeout::TimeoutLayer`], [`health::HealthLayer`],
//! [`limit::RateLimitLayer`] and [`retry::ChatRetry`] wrap a single provider service:
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use tollgate_core::{BoxChatService, boxed};
//! use tollgate_router::health::{HealthLayer, HealthPolicy};
//! use tollgate_router::limit::RateLimitLayer;
//! use tollgate_router::retry::{ChatRetry, RetryPolicy};
//! use tollgate_router::timeout::{TimeoutLayer, Timeouts};
//! use tower::ServiceBuilder;
//!
//! fn resilient(provider: BoxChatService) -> Result<BoxChatService, tollgate_router::ConfigError> {
//!     let retry = ChatRetry::new(Arc::new(RetryPolicy::default().build()?));
//!     let stack = ServiceBuilder::new()
//!         .retry(retry) // outermost: every retry passes the breaker and the limiter again
//!         .layer(HealthLayer::new(HealthPolicy::default()))
//!         .layer(RateLimitLayer::new(Some(500), Some(200_000), 256))
//!         .layer(TimeoutLayer::new(Timeouts {
//!             attempt_first_token: Some(Duration::from_secs(10)),
//!             attempt_total: Some(Duration::from_secs(120)),
//!             request: None,
//!         }))
//!         .service(provider);
//!     Ok(boxed(stack))
//! }
//! ```
//!
//! `crates/router/examples/stack.rs` composes a full route by hand.

pub mod balance;
pub mod config;
pub mod deployment;
pub mod explain;
pub mod fallback;
pub mod health;
pub mod hedge;
pub mod limit;
pub mod retry;
pub mod route;
pub mod router;
mod stream;
pub mod timeout;

use std::fmt;

pub use balance::{Balancer, Candidate, Observation, Priority};
pub use config::{BalancerConfig, RouterConfig};
pub use deployment::{Capabilities, Deployment, DeploymentFacts};
pub use explain::{Explanation, Reason};
pub use fallback::{ContextFallback, FallbackPolicy};
pub use health::{CircuitState, HealthPolicy, HealthSnapshot};
pub use hedge::{HedgeDelay, HedgePolicy};
pub use retry::{Backoff, RetryBudget, RetryPolicy};
pub use route::{Route, RouteBuilder};
pub use router::{Router, RouterBuilder};
pub use timeout::Timeouts;

/// A route or router that cannot be built as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    message: String,
}

impl ConfigError {
    /// An error with a message saying what is wrong and how to fix it.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Prefixes the message with the route it concerns (unless it already names it).
    pub(crate) fn in_route(self, route: &str) -> Self {
        if self.message.contains(&format!("route `{route}`")) {
            self
        } else {
            Self::invalid(format!("route `{route}`: {}", self.message))
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}
