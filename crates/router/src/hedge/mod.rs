//! Hedging: when an attempt has not produced its first token (or, for a complete call,
//! its answer) after a delay, start ONE more attempt on the next choice; the first to
//! answer wins and the other is cancelled (its future is dropped, which closes its
//! connection).
//!
//! The delay is fixed, or a percentile of the route's recent times to first token (no
//! hedging until `min_samples` successes were seen). Hedges are paid from a budget —
//! a fraction of recent requests, tower's [`TpsBudget`] — so a slow provider cannot
//! double the load.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tower::retry::budget::{Budget, TpsBudget};

use crate::ConfigError;
use crate::retry::RetryBudget;

/// When to start the hedge.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HedgeDelay {
    /// After a fixed time.
    Fixed(Duration),
    /// After this percentile (0..1, e.g. 0.95) of recent successful times to first token.
    Percentile {
        /// The percentile.
        percentile: f64,
        /// The fewest samples before hedging starts (default 20).
        min_samples: usize,
    },
}

/// A route's hedging policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HedgePolicy {
    /// When to start the hedge.
    pub delay: HedgeDelay,
    /// How many hedges recent traffic allows (`percent` of requests, default 0.1, plus
    /// `min_per_sec`, default 1).
    pub budget: RetryBudget,
}

impl HedgePolicy {
    /// Hedge after a fixed delay, with the default budget.
    pub fn fixed(delay: Duration) -> Self {
        Self {
            delay: HedgeDelay::Fixed(delay),
            budget: Self::default_budget(),
        }
    }

    /// Hedge after a percentile of recent latencies, with the default budget.
    pub fn percentile(percentile: f64) -> Self {
        Self {
            delay: HedgeDelay::Percentile {
                percentile,
                min_samples: 20,
            },
            budget: Self::default_budget(),
        }
    }

    /// The default hedge budget: 10 % of requests plus one a second.
    pub fn default_budget() -> RetryBudget {
        RetryBudget {
            ttl: Duration::from_secs(10),
            min_per_sec: 1,
            percent: 0.1,
        }
    }

    /// Builds the shared state.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] for an invalid budget or percentile.
    pub fn build(&self) -> Result<Hedger, ConfigError> {
        if let HedgeDelay::Percentile { percentile, .. } = self.delay
            && !(percentile > 0.0 && percentile < 1.0)
        {
            return Err(ConfigError::invalid(format!(
                "a hedge percentile must be between 0 and 1 (exclusive), not {percentile}"
            )));
        }
        Ok(Hedger {
            policy: *self,
            budget: self.budget.build()?,
            latencies: LatencyWindow::new(512),
        })
    }
}

/// A [`HedgePolicy`] with its budget and latency samples, shared by a route's requests.
#[derive(Debug)]
pub struct Hedger {
    policy: HedgePolicy,
    budget: TpsBudget,
    latencies: LatencyWindow,
}

impl Hedger {
    /// The policy.
    pub fn policy(&self) -> &HedgePolicy {
        &self.policy
    }

    /// Counts one request into the hedge budget.
    pub fn deposit(&self) {
        self.budget.deposit();
    }

    /// Takes one hedge from the budget; `false` when it is spent.
    pub fn withdraw(&self) -> bool {
        self.budget.withdraw()
    }

    /// Learns one successful time to first token (or to the answer).
    pub fn record(&self, latency: Duration) {
        self.latencies.record(latency);
    }

    /// The delay after which to hedge now, if hedging applies.
    pub fn delay(&self) -> Option<Duration> {
        match self.policy.delay {
            HedgeDelay::Fixed(d) => Some(d),
            HedgeDelay::Percentile {
                percentile,
                min_samples,
            } => self.latencies.percentile(percentile, min_samples),
        }
    }
}

/// The most recent latencies, for percentiles.
#[derive(Debug)]
pub struct LatencyWindow {
    capacity: usize,
    samples: Mutex<VecDeque<Duration>>,
}

impl LatencyWindow {
    /// A window of the last `capacity` samples.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            samples: Mutex::new(VecDeque::with_capacity(capacity.max(1))),
        }
    }

    /// Adds a sample, forgetting the oldest when full.
    pub fn record(&self, latency: Duration) {
        let mut samples = self.samples.lock().unwrap_or_else(PoisonError::into_inner);
        if samples.len() == self.capacity {
            samples.pop_front();
        }
        samples.push_back(latency);
    }

    /// The `p` percentile (nearest rank) once at least `min_samples` are known.
    pub fn percentile(&self, p: f64, min_samples: usize) -> Option<Duration> {
        let mut sorted: Vec<Duration> = {
            let samples = self.samples.lock().unwrap_or_else(PoisonError::into_inner);
            if samples.is_empty() || samples.len() < min_samples {
                return None;
            }
            samples.iter().copied().collect()
        };
        sorted.sort_unstable();
        let rank = (p.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
        sorted
            .get(rank.saturating_sub(1).min(sorted.len() - 1))
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_need_enough_samples() {
        let w = LatencyWindow::new(100);
        for ms in 1..=100 {
            w.record(Duration::from_millis(ms));
        }
        assert_eq!(w.percentile(0.95, 20), Some(Duration::from_millis(95)));
        assert_eq!(w.percentile(0.5, 200), None);
    }
}
