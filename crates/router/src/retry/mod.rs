//! Retries: `retry_after` honoured, otherwise exponential backoff with jitter, limited by a
//! retry budget and by the request's deadline.
//!
//! A [`RetryPolicy`] describes retries; a route applies it (see the crate docs for how
//! retries interleave with fallback). [`ChatRetry`] is the same policy as a
//! [`tower::retry::Policy`] for one service on its own:
//!
//! ```
//! use std::sync::Arc;
//! use tollgate_router::retry::{ChatRetry, RetryPolicy};
//!
//! # fn demo(provider: tollgate_core::BoxChatService) -> Result<(), tollgate_router::ConfigError> {
//! let policy = ChatRetry::new(Arc::new(RetryPolicy::default().build()?));
//! let service = tower::retry::Retry::new(policy, provider);
//! # let _ = service; Ok(()) }
//! ```
//!
//! The budget is tower's [`TpsBudget`]: every request deposits, every retry withdraws, so
//! retries stay a fraction of recent traffic (plus a small reserve per second) and an
//! outage cannot multiply load.

mod backoff;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tollgate_core::{ChatReply, ChatRequest, Deadline, Error};
use tower::retry::budget::{Budget, TpsBudget};

pub use self::backoff::{Backoff, Jitter};
use crate::ConfigError;

/// A retry budget: retries may be `percent` of the requests of the last `ttl`, plus
/// `min_per_sec` each second (Finagle's and tower's [`TpsBudget`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryBudget {
    /// How long a request's deposit counts (1–60 s, default 10 s).
    pub ttl: Duration,
    /// Retries allowed per second whatever the traffic (default 1).
    pub min_per_sec: u32,
    /// Retries allowed per request (0–1000; default 0.2, i.e. one retry per five requests).
    pub percent: f32,
}

impl Default for RetryBudget {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(10),
            min_per_sec: 1,
            percent: 0.2,
        }
    }
}

impl RetryBudget {
    /// Builds the budget.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] when `ttl` is outside 1–60 s or `percent` outside 0–1000.
    pub fn build(&self) -> Result<TpsBudget, ConfigError> {
        if self.ttl < Duration::from_secs(1) || self.ttl > Duration::from_secs(60) {
            return Err(ConfigError::invalid(format!(
                "a budget's ttl must be between 1s and 60s, not {:?}",
                self.ttl
            )));
        }
        if !(0.0..=1000.0).contains(&self.percent) {
            return Err(ConfigError::invalid(format!(
                "a budget's percent must be between 0 and 1000, not {}",
                self.percent
            )));
        }
        if self.min_per_sec >= i32::MAX as u32 {
            return Err(ConfigError::invalid("a budget's min_per_sec is too large"));
        }
        Ok(TpsBudget::new(self.ttl, self.min_per_sec, self.percent))
    }
}

/// How a route retries a deployment that failed with a retryable error.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// The most retries for one request, over all its deployments (default 2). Fallbacks
    /// are not retries and do not count.
    pub max_retries: u32,
    /// The wait when the provider did not say how long (`retry_after`).
    pub backoff: Backoff,
    /// The longest wait worth spending on a retry (default 10 s): when `retry_after` or the
    /// backoff is longer, the request does not wait for that deployment.
    pub max_wait: Duration,
    /// The retry budget shared by every request of the route.
    pub budget: RetryBudget,
    /// A seed for the jitter (reproducible tests); `None` seeds from entropy.
    pub seed: Option<u64>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            backoff: Backoff::default(),
            max_wait: Duration::from_secs(10),
            budget: RetryBudget::default(),
            seed: None,
        }
    }
}

impl RetryPolicy {
    /// No retries at all (fallbacks still happen).
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// Builds the shared state (budget and jitter).
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] for an invalid budget.
    pub fn build(&self) -> Result<Retrier, ConfigError> {
        Ok(Retrier {
            budget: self.budget.build()?,
            jitter: self.seed.map_or_else(Jitter::from_entropy, Jitter::seeded),
            policy: self.clone(),
        })
    }
}

/// A [`RetryPolicy`] with its budget and jitter, shared by every request of a route.
#[derive(Debug)]
pub struct Retrier {
    policy: RetryPolicy,
    budget: TpsBudget,
    jitter: Jitter,
}

impl Retrier {
    /// The policy.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// Counts one request into the budget.
    pub fn deposit(&self) {
        self.budget.deposit();
    }

    /// Takes one retry from the budget; `false` when it is spent.
    pub fn withdraw(&self) -> bool {
        self.budget.withdraw()
    }

    /// How long to wait before retry `n` (0-based) after `error`: its `retry_after`
    /// when it has one, else the jittered backoff.
    pub fn wait(&self, n: u32, error: &Error) -> Duration {
        error
            .retry_after()
            .unwrap_or_else(|| self.policy.backoff.delay(n, &self.jitter))
    }
}

/// [`Retrier`] as a [`tower::retry::Policy`] for one chat service: retries retryable
/// errors while the count, `max_wait`, the budget and the request's [`Deadline`] allow.
#[derive(Debug, Clone)]
pub struct ChatRetry {
    retrier: Arc<Retrier>,
    retries: u32,
    deposited: bool,
}

impl ChatRetry {
    /// A policy sharing `retrier` (and so its budget) with its clones.
    pub fn new(retrier: Arc<Retrier>) -> Self {
        Self {
            retrier,
            retries: 0,
            deposited: false,
        }
    }
}

impl tower::retry::Policy<ChatRequest, ChatReply, Error> for ChatRetry {
    type Future = Pin<Box<dyn Future<Output = ()> + Send>>;

    fn retry(
        &mut self,
        req: &mut ChatRequest,
        result: &mut Result<ChatReply, Error>,
    ) -> Option<Self::Future> {
        let Err(error) = result else {
            return None;
        };
        let policy = &self.retrier.policy;
        if !error.is_retryable() || self.retries >= policy.max_retries {
            return None;
        }
        let wait = self.retrier.wait(self.retries, error);
        if wait > policy.max_wait {
            return None;
        }
        let at = Instant::now() + wait;
        if let Some(Deadline(deadline)) = req.extensions.get::<Deadline>()
            && at >= Instant::from_std(*deadline)
        {
            return None;
        }
        if !self.retrier.withdraw() {
            return None;
        }
        self.retries += 1;
        Some(Box::pin(tokio::time::sleep_until(at)))
    }

    fn clone_request(&mut self, req: &ChatRequest) -> Option<ChatRequest> {
        if !self.deposited {
            self.deposited = true;
            self.retrier.deposit();
        }
        Some(req.clone())
    }
}
