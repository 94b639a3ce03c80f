//! [`Latency`]: peak-EWMA latency estimates, the fastest deployment first.
//!
//! The maths is tower's `load::PeakEwma` (after Finagle's): an estimate jumps up to any
//! slower sample at once and comes down towards faster samples as an exponentially
//! weighted moving average over *time*, and a deployment nobody has heard from decays
//! towards zero so it is tried again. Tower measures by wrapping each service; a route
//! reports attempts to its balancer instead, so this module keeps the same estimate per
//! deployment and feeds it from [`Observation`]s.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;
use tollgate_core::{ChatRequest, Error, ErrorKind};

use super::rng::{SharedRng, SplitMix64, sample_two, shuffle};
use super::{Balancer, Candidate, Observation};

/// How [`Latency`] picks its first choice among the scored candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Choices {
    /// The lowest score of all candidates (random among equal scores). The default:
    /// routes have a handful of deployments, and in-flight counts are exact in-process,
    /// so looking at every candidate is cheap and sends nearly all traffic to the fastest.
    #[default]
    Best,
    /// Power of two choices, as tower's `balance::p2c`: two distinct candidates drawn
    /// uniformly, the lower score wins. It spreads load across large pools and tolerates
    /// stale scores, at a price: a deployment is first choice only when drawn, so the
    /// fastest of `n` gets at most `2/n` of the traffic (two thirds with three).
    PowerOfTwo,
}

/// Parameters of [`Latency`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencyConfig {
    /// Time constant of the moving average and of the decay of idle estimates
    /// (default 10 s). After `decay` without samples, an estimate weighs `1/e` of itself;
    /// a deployment whose estimate is `k` times the best one's is tried again after about
    /// `decay × ln k` without traffic.
    pub decay: Duration,
    /// The estimate a deployment starts from before its first sample (default 500 ms).
    pub default_rtt: Duration,
    /// The least a failed attempt counts as (default 5 s): a failure that the deployment
    /// is to blame for is a sample of `max(its latency, error_penalty)`.
    pub error_penalty: Duration,
    /// How the first choice is picked (default [`Choices::Best`]).
    pub choices: Choices,
}

impl Default for LatencyConfig {
    fn default() -> Self {
        Self {
            decay: Duration::from_secs(10),
            default_rtt: Duration::from_millis(500),
            error_penalty: Duration::from_secs(5),
            choices: Choices::Best,
        }
    }
}

/// Sends requests to the deployment that answers fastest, by peak-EWMA latency.
///
/// **Estimates.** Each deployment keeps two estimates: time to first event for streaming
/// requests and full latency for complete ones (they measure different things — a long
/// answer takes seconds to complete but its first token can come in 300 ms — so they are
/// never mixed). A request is ranked by the estimate of its own kind (`request.stream`).
///
/// **Samples.** After each attempt ([`Balancer::observe`]):
/// - success with latency `l`: if `l` is at or above the current estimate (or is the
///   first sample), the estimate becomes `l` at once (the *peak*); otherwise it moves towards `l` by the weight
///   `1 − e^(−Δ/decay)`, where `Δ` is the time the sample covers (the attempt's duration,
///   or the time since the previous sample if that is shorter) — tower's time-based EWMA;
/// - failure the deployment is to blame for (a kind for which
///   [`Error::is_fallback_eligible`] holds: timeouts, rate limits, overload, server,
///   transport, auth, …): both estimates become at least `max(l, error_penalty)`. Errors
///   that are the request's or the caller's fault (invalid request, context length,
///   content filter, cancellation, budget) teach nothing about the deployment and are
///   ignored.
///
/// **Decay.** Between samples an estimate decays towards zero: its score at time `t` is
/// `estimate × e^(−(t − last sample)/decay)`. A slow or failing deployment therefore
/// gets a probe after about `decay × ln(its estimate / best estimate)` without traffic;
/// if it has recovered the probe pulls its estimate down and traffic comes back, and if
/// not the peak rule puts it straight back where it was. A deployment never observed
/// starts at `default_rtt` (decaying from when the balancer first saw it), so new
/// deployments are explored; its first sample replaces that default outright.
///
/// **Score and order.** `score = decayed estimate × (in_flight + 1)`, tower's load
/// formula: a deployment that is fast but already busy yields to the next one. The first
/// choice follows [`LatencyConfig::choices`]; the fallback order is the remaining
/// candidates by score, ascending, with equal scores in random order.
///
/// Time is [`tokio::time::Instant`], so tests drive it with `tokio::time::pause` and
/// `advance`.
#[derive(Debug)]
pub struct Latency {
    config: LatencyConfig,
    decay_ns: f64,
    default_rtt_ns: f64,
    error_penalty_ns: f64,
    rng: SharedRng,
    estimates: Mutex<HashMap<usize, Estimates>>,
}

impl Latency {
    /// A latency balancer with `config`, tie-breaks drawn from per-process entropy.
    pub fn new(config: LatencyConfig) -> Self {
        Self::build(config, None)
    }

    /// A latency balancer whose random draws are fixed by `seed`.
    pub fn with_seed(config: LatencyConfig, seed: u64) -> Self {
        Self::build(config, Some(seed))
    }

    fn build(config: LatencyConfig, seed: Option<u64>) -> Self {
        Self {
            config,
            // A zero decay would divide by zero; one nanosecond means "no memory".
            decay_ns: nanos(config.decay).max(1.0),
            default_rtt_ns: nanos(config.default_rtt),
            error_penalty_ns: nanos(config.error_penalty),
            rng: SharedRng::new(seed),
            estimates: Mutex::new(HashMap::new()),
        }
    }

    /// The parameters this balancer runs with.
    pub fn config(&self) -> &LatencyConfig {
        &self.config
    }

    /// The current (decayed) estimate for deployment `index` for streaming
    /// (`stream = true`, time to first event) or complete requests, or `None` if the
    /// balancer has neither seen nor heard of it. For explanations and tests.
    pub fn estimate(&self, index: usize, stream: bool) -> Option<Duration> {
        let now = Instant::now();
        let estimates = self
            .estimates
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        estimates.get(&index).map(|e| {
            let ns = e.kind(stream).score(now, self.decay_ns);
            Duration::from_nanos(ns as u64)
        })
    }

    fn pick_first(&self, rng: &mut SplitMix64, scores: &[f64], order: &[usize]) -> usize {
        match self.config.choices {
            // `order` is sorted by score with ties shuffled: its head is a random best.
            Choices::Best => order[0],
            Choices::PowerOfTwo => {
                let [a, b] = sample_two(rng, scores.len());
                if scores[b] < scores[a] { b } else { a }
            }
        }
    }
}

impl Default for Latency {
    fn default() -> Self {
        Self::new(LatencyConfig::default())
    }
}

impl Balancer for Latency {
    fn name(&self) -> &'static str {
        "latency"
    }

    fn order(&self, request: &ChatRequest, candidates: &[Candidate<'_>]) -> Vec<usize> {
        if candidates.len() <= 1 {
            return (0..candidates.len()).collect();
        }
        let now = Instant::now();
        let scores: Vec<f64> = {
            let mut estimates = self
                .estimates
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            candidates
                .iter()
                .map(|c| {
                    let estimate = estimates
                        .entry(c.index)
                        .or_insert_with(|| Estimates::new(self.default_rtt_ns, now));
                    let load = (c.in_flight as f64) + 1.0;
                    estimate.kind(request.stream).score(now, self.decay_ns) * load
                })
                .collect()
        };
        let mut order: Vec<usize> = (0..candidates.len()).collect();
        self.rng.with(|rng| {
            shuffle(rng, &mut order);
            order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
            let first = self.pick_first(rng, &scores, &order);
            if let Some(at) = order.iter().position(|&p| p == first) {
                order[..=at].rotate_right(1);
            }
        });
        order
    }

    fn observe(&self, observation: &Observation) {
        let now = Instant::now();
        let latency_ns = nanos(observation.latency);
        let mut estimates = self
            .estimates
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let entry = estimates
            .entry(observation.index)
            .or_insert_with(|| Estimates::new(self.default_rtt_ns, now));
        match observation.error {
            None => entry.kind_mut(observation.stream).record_success(
                now,
                observation.latency,
                latency_ns,
                self.decay_ns,
            ),
            Some(kind) if deployment_is_to_blame(kind) => {
                let floor = latency_ns.max(self.error_penalty_ns);
                entry.stream.record_failure(now, floor, self.decay_ns);
                entry.complete.record_failure(now, floor, self.decay_ns);
            }
            Some(_) => {}
        }
    }
}

/// Whether a failure of this kind says something about the deployment (rather than about
/// the request or the caller). Delegates to the one source of truth,
/// [`Error::is_fallback_eligible`].
fn deployment_is_to_blame(kind: ErrorKind) -> bool {
    Error::new(kind, "").is_fallback_eligible()
}

/// One deployment's estimates, one per kind of request.
#[derive(Debug, Clone, Copy)]
struct Estimates {
    stream: Estimate,
    complete: Estimate,
}

impl Estimates {
    fn new(default_rtt_ns: f64, now: Instant) -> Self {
        let fresh = Estimate {
            rtt_ns: default_rtt_ns,
            updated_at: now,
            observed: false,
        };
        Self {
            stream: fresh,
            complete: fresh,
        }
    }

    fn kind(&self, stream: bool) -> &Estimate {
        if stream { &self.stream } else { &self.complete }
    }

    fn kind_mut(&mut self, stream: bool) -> &mut Estimate {
        if stream {
            &mut self.stream
        } else {
            &mut self.complete
        }
    }
}

/// A peak-EWMA estimate in nanoseconds and when it last took a sample.
#[derive(Debug, Clone, Copy)]
struct Estimate {
    rtt_ns: f64,
    updated_at: Instant,
    /// False while `rtt_ns` is still the configured default.
    observed: bool,
}

impl Estimate {
    /// The estimate decayed towards zero for the time since its last sample.
    fn score(&self, now: Instant, decay_ns: f64) -> f64 {
        let idle = nanos(now.saturating_duration_since(self.updated_at));
        self.rtt_ns * (-idle / decay_ns).exp()
    }

    /// Tower's update, with the "read" placed where the attempt started: the estimate
    /// decays over the idle time before the attempt, then the sample either becomes the
    /// new peak or is averaged in with the weight of the time it covers. The first sample
    /// replaces the default outright: the default is a placeholder, not a measurement.
    fn record_success(&mut self, now: Instant, latency: Duration, sample_ns: f64, decay_ns: f64) {
        let started = now.checked_sub(latency).unwrap_or(now);
        let current = self.score(started, decay_ns);
        let covered = nanos(now.saturating_duration_since(started.max(self.updated_at)));
        let keep = (-covered / decay_ns).exp();
        self.rtt_ns = if !self.observed || sample_ns >= current {
            sample_ns
        } else {
            current * keep + sample_ns * (1.0 - keep)
        };
        self.updated_at = now;
        self.observed = true;
    }

    /// A failure never makes a deployment look faster: the estimate becomes at least
    /// `floor_ns`.
    fn record_failure(&mut self, now: Instant, floor_ns: f64, decay_ns: f64) {
        self.rtt_ns = self.score(now, decay_ns).max(floor_ns);
        self.updated_at = now;
        self.observed = true;
    }
}

fn nanos(d: Duration) -> f64 {
    d.as_nanos() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(base: Instant, ms: u64) -> Instant {
        base + Duration::from_millis(ms)
    }

    #[tokio::test(start_paused = true)]
    async fn slower_sample_is_taken_at_once() {
        let t0 = Instant::now();
        let decay = nanos(Duration::from_secs(10));
        let mut e = Estimate {
            rtt_ns: 50e6,
            updated_at: t0,
            observed: true,
        };
        e.record_success(at(t0, 1_000), Duration::from_millis(900), 900e6, decay);
        assert_eq!(e.rtt_ns, 900e6);
    }

    #[tokio::test(start_paused = true)]
    async fn faster_sample_is_averaged_by_the_time_it_covers() {
        let t0 = Instant::now();
        let decay = nanos(Duration::from_secs(10));
        let mut e = Estimate {
            rtt_ns: 1_000e6,
            updated_at: t0,
            observed: true,
        };
        // A 10 s call that started right after the last sample: weight 1 - 1/e.
        e.record_success(at(t0, 10_000), Duration::from_secs(10), 100e6, decay);
        let keep = (-1.0f64).exp();
        let expected = 1_000e6 * keep + 100e6 * (1.0 - keep);
        assert!(
            (e.rtt_ns - expected).abs() < 1.0,
            "{} vs {expected}",
            e.rtt_ns
        );
    }

    #[tokio::test(start_paused = true)]
    async fn idle_estimate_decays_towards_zero() {
        let t0 = Instant::now();
        let decay = nanos(Duration::from_secs(10));
        let e = Estimate {
            rtt_ns: 800e6,
            updated_at: t0,
            observed: true,
        };
        let later = e.score(at(t0, 10_000), decay);
        assert!((later - 800e6 / std::f64::consts::E).abs() < 1.0);
    }

    #[tokio::test(start_paused = true)]
    async fn failure_never_lowers_the_estimate() {
        let t0 = Instant::now();
        let decay = nanos(Duration::from_secs(10));
        let mut e = Estimate {
            rtt_ns: 20e9,
            updated_at: t0,
            observed: true,
        };
        e.record_failure(t0, 5e9, decay);
        assert_eq!(e.rtt_ns, 20e9);
    }

    #[test]
    fn caller_faults_do_not_blame_the_deployment() {
        assert!(deployment_is_to_blame(ErrorKind::Timeout));
        assert!(deployment_is_to_blame(ErrorKind::Server));
        assert!(!deployment_is_to_blame(ErrorKind::InvalidRequest));
        assert!(!deployment_is_to_blame(ErrorKind::Cancelled));
        assert!(!deployment_is_to_blame(ErrorKind::ContextLengthExceeded));
    }
}
