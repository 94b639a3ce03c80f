//! Per-deployment health: a circuit breaker on the error ratio over a sliding window, a
//! cooldown that honours `retry_after`, and half-open probes before full re-admission.
//!
//! States, per deployment:
//!
//! - **Closed**: every request is admitted. Each outcome that [counts](counts_against_health)
//!   enters a sliding window; when the window holds at least `min_requests` outcomes and
//!   the share of failures reaches `error_ratio`, the circuit **opens** for `open_for`.
//! - **Open** (circuit open or cooling down): nothing is admitted until `until`. A 429
//!   (or an overload answer that says when to come back) opens it at once for exactly the
//!   `retry_after` the provider gave (capped by `max_cooldown`), or `rate_limit_cooldown`
//!   when it gave none; exhausted quota opens it for `quota_cooldown`.
//! - **Half-open**: after `until`, ONE request at a time is admitted as a probe. A success
//!   closes the circuit (and clears the window); a counted failure opens it again; a probe
//!   that ends without a verdict (cancelled, or an error that says nothing about the
//!   deployment) lets the next request probe.
//!
//! Health is kept out of the caller's way: [`Health::check`] is a cheap read used to
//! filter candidates, and [`Health::admit`] is taken right before the call. Routes keep
//! one [`Health`] per deployment; [`HealthLayer`] puts one around a single service.

mod layer;
mod window;

use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;
use tollgate_core::{Error, ErrorKind};

pub use self::layer::{HealthLayer, HealthService};
use self::window::OutcomeWindow;
use crate::explain::relative;

/// How a deployment's health is judged. See the [module docs](self).
#[derive(Debug, Clone, PartialEq)]
pub struct HealthPolicy {
    /// The sliding window the error ratio is computed over (default 60 s).
    pub window: Duration,
    /// The fewest outcomes in the window before the ratio may open the circuit (default 10).
    pub min_requests: u32,
    /// The share of failures (0..=1) that opens the circuit (default 0.5).
    pub error_ratio: f64,
    /// How long an opened circuit stays open before a probe (default 30 s).
    pub open_for: Duration,
    /// The cooldown after a 429 that did not say how long to wait (default 5 s).
    pub rate_limit_cooldown: Duration,
    /// The cooldown after exhausted quota (default 5 min).
    pub quota_cooldown: Duration,
    /// The longest cooldown any `retry_after` may impose (default 10 min).
    pub max_cooldown: Duration,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(60),
            min_requests: 10,
            error_ratio: 0.5,
            open_for: Duration::from_secs(30),
            rate_limit_cooldown: Duration::from_secs(5),
            quota_cooldown: Duration::from_secs(300),
            max_cooldown: Duration::from_secs(600),
        }
    }
}

/// Whether an error says something about the deployment's health.
///
/// Errors caused by the request itself (`InvalidRequest`, `ContextLengthExceeded`,
/// `ContentFiltered`, `Unsupported`), by the caller (`Cancelled`) or by the router
/// (`BudgetExceeded`, `NoRoute`) do not count; everything else does.
pub fn counts_against_health(kind: ErrorKind) -> bool {
    !matches!(
        kind,
        ErrorKind::InvalidRequest
            | ErrorKind::ContextLengthExceeded
            | ErrorKind::ContentFiltered
            | ErrorKind::Unsupported
            | ErrorKind::Cancelled
            | ErrorKind::BudgetExceeded
            | ErrorKind::NoRoute
    )
}

/// The circuit's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CircuitState {
    /// Admitting everything.
    Closed,
    /// Admitting nothing until a time (circuit open or cooling down).
    Open,
    /// Admitting one probe at a time.
    HalfOpen,
}

/// Why a circuit was opened.
#[derive(Debug, Clone, PartialEq)]
pub enum OpenReason {
    /// The provider said to slow down (429, overload with `retry_after`, exhausted quota).
    Cooldown {
        /// The error's kind.
        kind: ErrorKind,
        /// What the provider asked for, if it said.
        retry_after: Option<Duration>,
    },
    /// Too many failures in the window.
    ErrorRatio {
        /// The share of failures.
        ratio: f64,
        /// Outcomes in the window.
        requests: u32,
    },
    /// A half-open probe failed.
    ProbeFailed {
        /// The probe's error.
        kind: ErrorKind,
    },
}

impl fmt::Display for OpenReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cooldown {
                kind,
                retry_after: Some(after),
            } => write!(f, "{kind} with retry-after {}", secs(*after)),
            Self::Cooldown {
                kind,
                retry_after: None,
            } => write!(f, "{kind}"),
            Self::ErrorRatio { ratio, requests } => write!(
                f,
                "error ratio {:.0}% over the last {requests} requests",
                ratio * 100.0
            ),
            Self::ProbeFailed { kind } => write!(f, "half-open probe failed with {kind}"),
        }
    }
}

fn secs(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

/// Why a deployment admits nothing right now.
#[derive(Debug, Clone, PartialEq)]
pub enum Unavailable {
    /// Open (circuit open or cooling down) until `until`.
    Open {
        /// When it turns half-open.
        until: Instant,
        /// Why it opened.
        reason: OpenReason,
    },
    /// Half-open with its one probe still running.
    ProbeInFlight {
        /// Why it had opened.
        reason: OpenReason,
    },
}

impl Unavailable {
    /// When the deployment is expected to admit a request again, if known.
    pub fn until(&self) -> Option<Instant> {
        match self {
            Self::Open { until, .. } => Some(*until),
            Self::ProbeInFlight { .. } => None,
        }
    }

    /// A human-readable explanation relative to `now`.
    pub fn describe(&self, now: Instant) -> String {
        match self {
            Self::Open {
                until,
                reason: reason @ OpenReason::Cooldown { .. },
            } => format!("cooling down for {} more ({reason})", relative(*until, now)),
            Self::Open { until, reason } => {
                format!("circuit open for {} more ({reason})", relative(*until, now))
            }
            Self::ProbeInFlight { reason } => {
                format!("half-open, its one probe is still running (opened by {reason})")
            }
        }
    }
}

/// A snapshot of one deployment's health.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthSnapshot {
    /// The deployment.
    pub deployment: String,
    /// Its circuit's state.
    pub state: CircuitState,
    /// Failures / outcomes in the window (0 when the window is empty).
    pub error_ratio: f64,
    /// Outcomes in the window.
    pub requests_in_window: u32,
    /// Seconds until an open circuit turns half-open.
    pub unavailable_for_secs: Option<f64>,
    /// Why the circuit is not closed.
    pub reason: Option<String>,
    /// Requests started and not yet finished (streams count until their end).
    pub in_flight: usize,
    /// Requests admitted in the last minute (for the rpm limit).
    pub requests_last_minute: u32,
    /// Tokens admitted in the last minute (for the tpm limit, estimated before the call).
    pub tokens_last_minute: u64,
}

#[derive(Debug)]
enum Circuit {
    Closed,
    Open { until: Instant, reason: OpenReason },
    HalfOpen { probing: bool, reason: OpenReason },
}

#[derive(Debug)]
struct State {
    window: OutcomeWindow,
    circuit: Circuit,
}

/// An admission to call a deployment: either a normal request or its half-open probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    /// Whether this request is the half-open probe.
    pub probe: bool,
}

/// One deployment's health. Cheap to share behind an `Arc`; all methods take `&self`.
#[derive(Debug)]
pub struct Health {
    policy: HealthPolicy,
    state: Mutex<State>,
}

impl Health {
    /// A closed circuit with an empty window.
    pub fn new(policy: HealthPolicy) -> Self {
        let window = OutcomeWindow::new(policy.window);
        Self {
            policy,
            state: Mutex::new(State {
                window,
                circuit: Circuit::Closed,
            }),
        }
    }

    /// The policy.
    pub fn policy(&self) -> &HealthPolicy {
        &self.policy
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a request would be admitted now (no state is taken).
    ///
    /// # Errors
    ///
    /// Why it would not be.
    pub fn check(&self, now: Instant) -> Result<(), Unavailable> {
        let mut state = self.lock();
        Self::tick(&mut state, now);
        match &state.circuit {
            Circuit::Closed | Circuit::HalfOpen { probing: false, .. } => Ok(()),
            Circuit::Open { until, reason } => Err(Unavailable::Open {
                until: *until,
                reason: reason.clone(),
            }),
            Circuit::HalfOpen {
                probing: true,
                reason,
            } => Err(Unavailable::ProbeInFlight {
                reason: reason.clone(),
            }),
        }
    }

    /// Admits a request now, taking the probe slot when half-open. Report its outcome
    /// with [`record`](Self::record), or give the probe slot back with
    /// [`release`](Self::release) if it ends without one.
    ///
    /// # Errors
    ///
    /// Why it is not admitted.
    pub fn admit(&self, now: Instant) -> Result<Admission, Unavailable> {
        let mut state = self.lock();
        Self::tick(&mut state, now);
        match &mut state.circuit {
            Circuit::Closed => Ok(Admission { probe: false }),
            Circuit::HalfOpen { probing, reason } => {
                if *probing {
                    Err(Unavailable::ProbeInFlight {
                        reason: reason.clone(),
                    })
                } else {
                    *probing = true;
                    Ok(Admission { probe: true })
                }
            }
            Circuit::Open { until, reason } => Err(Unavailable::Open {
                until: *until,
                reason: reason.clone(),
            }),
        }
    }

    /// Gives back a probe slot whose request ended without a verdict.
    pub fn release(&self, admission: Admission) {
        if !admission.probe {
            return;
        }
        let mut state = self.lock();
        if let Circuit::HalfOpen { probing, .. } = &mut state.circuit {
            *probing = false;
        }
    }

    /// Records the outcome of an admitted request (`None`: success).
    pub fn record(&self, admission: Admission, error: Option<&Error>, now: Instant) {
        let mut state = self.lock();
        Self::tick(&mut state, now);
        let Some(error) = error else {
            state.window.record(now, false);
            if let Circuit::HalfOpen { .. } = state.circuit {
                // Any success while half-open (the probe's, normally) re-admits it.
                state.circuit = Circuit::Closed;
                state.window.clear();
            }
            return;
        };
        if !counts_against_health(error.kind()) {
            drop(state);
            self.release(admission);
            return;
        }
        state.window.record(now, true);
        let policy = &self.policy;
        let cooldown = match error.kind() {
            ErrorKind::RateLimited => {
                Some(error.retry_after().unwrap_or(policy.rate_limit_cooldown))
            }
            ErrorKind::Overloaded => error.retry_after(),
            ErrorKind::QuotaExhausted => Some(error.retry_after().unwrap_or(policy.quota_cooldown)),
            _ => None,
        };
        let opening = if let Some(cooldown) = cooldown {
            Some((
                now + cooldown.min(policy.max_cooldown),
                OpenReason::Cooldown {
                    kind: error.kind(),
                    retry_after: error.retry_after(),
                },
            ))
        } else if matches!(state.circuit, Circuit::HalfOpen { .. }) {
            Some((
                now + policy.open_for,
                OpenReason::ProbeFailed { kind: error.kind() },
            ))
        } else {
            let (total, failed) = state.window.counts(now);
            let ratio = ratio(total, failed);
            (matches!(state.circuit, Circuit::Closed)
                && total >= policy.min_requests.max(1)
                && ratio >= policy.error_ratio)
                .then(|| {
                    (
                        now + policy.open_for,
                        OpenReason::ErrorRatio {
                            ratio,
                            requests: total,
                        },
                    )
                })
        };
        if let Some((until, reason)) = opening {
            // Never shorten a cooldown already in force.
            let keep =
                matches!(&state.circuit, Circuit::Open { until: current, .. } if *current > until);
            if !keep {
                state.circuit = Circuit::Open { until, reason };
            }
        } else if admission.probe
            && let Circuit::HalfOpen { probing, .. } = &mut state.circuit
        {
            *probing = false;
        }
    }

    /// Moves an expired open circuit to half-open.
    fn tick(state: &mut State, now: Instant) {
        if let Circuit::Open { until, reason } = &state.circuit
            && now >= *until
        {
            state.circuit = Circuit::HalfOpen {
                probing: false,
                reason: reason.clone(),
            };
        }
    }

    /// `(state, error ratio, outcomes in window, open until, reason)` now.
    pub(crate) fn snapshot_parts(
        &self,
        now: Instant,
    ) -> (CircuitState, f64, u32, Option<Instant>, Option<String>) {
        let mut state = self.lock();
        Self::tick(&mut state, now);
        let (total, failed) = state.window.counts(now);
        let (circuit, until, reason) = match &state.circuit {
            Circuit::Closed => (CircuitState::Closed, None, None),
            Circuit::Open { until, reason } => (
                CircuitState::Open,
                Some(*until),
                Some(
                    Unavailable::Open {
                        until: *until,
                        reason: reason.clone(),
                    }
                    .describe(now),
                ),
            ),
            Circuit::HalfOpen { probing, reason } => (
                CircuitState::HalfOpen,
                None,
                Some(if *probing {
                    format!("half-open, probe running (opened by {reason})")
                } else {
                    format!("half-open, waiting for a probe (opened by {reason})")
                }),
            ),
        };
        (circuit, ratio(total, failed), total, until, reason)
    }
}

fn ratio(total: u32, failed: u32) -> f64 {
    if total == 0 {
        0.0
    } else {
        f64::from(failed) / f64::from(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(kind: ErrorKind) -> Error {
        Error::new(kind, "x")
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_cools_down_for_its_retry_after_then_admits_one_probe() {
        let health = Health::new(HealthPolicy::default());
        let now = Instant::now();
        let a = health.admit(now).unwrap();
        let e = err(ErrorKind::RateLimited).with_retry_after(Duration::from_secs(30));
        health.record(a, Some(&e), now);
        let later = now + Duration::from_secs(29);
        assert!(matches!(health.check(later), Err(Unavailable::Open { .. })));
        let at = now + Duration::from_secs(30);
        let probe = health.admit(at).unwrap();
        assert!(probe.probe);
        assert!(matches!(
            health.admit(at),
            Err(Unavailable::ProbeInFlight { .. })
        ));
        health.record(probe, None, at);
        assert_eq!(health.admit(at).unwrap(), Admission { probe: false });
    }

    #[tokio::test(start_paused = true)]
    async fn request_errors_do_not_count() {
        let health = Health::new(HealthPolicy {
            min_requests: 1,
            ..HealthPolicy::default()
        });
        let now = Instant::now();
        for kind in [
            ErrorKind::InvalidRequest,
            ErrorKind::ContextLengthExceeded,
            ErrorKind::ContentFiltered,
            ErrorKind::Cancelled,
        ] {
            let a = health.admit(now).unwrap();
            health.record(a, Some(&err(kind)), now);
        }
        assert!(health.check(now).is_ok());
        assert_eq!(health.snapshot_parts(now).2, 0);
    }
}
