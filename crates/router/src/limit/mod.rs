//! Rate-limit awareness: requests and tokens per minute per deployment, counted BEFORE the
//! call so traffic moves elsewhere before the provider answers 429.
//!
//! Each admitted request is logged with its token estimate (the request's
//! [`estimate_input_tokens`](tollgate_core::ChatRequest::estimate_input_tokens) plus its
//! `max_tokens`, or the route's expected output when unset). A request is admitted when,
//! over the sliding minute ending now, the deployment stays within its `rpm` and `tpm`.
//! The log holds at most one entry per admitted request of the last minute.
//!
//! The limiter also learns from the provider: every successful reply's
//! [`ReplyMeta::rate_limits`](tollgate_core::ReplyMeta::rate_limits) is
//! [observed](RateLimiter::observe). When it reports no requests left, the deployment is
//! over its limit until the reported reset; when it reports fewer tokens left than a
//! request is charged, that request skips it until the reset. Each newer reply replaces
//! what an older one said (per dimension), a reply without a snapshot changes nothing,
//! and the knowledge expires at the reset. A report without a reset time is not acted on
//! (nothing says when it would end), and a reset further away than
//! [`MAX_REPORTED_WAIT`] is cut to it, so one odd header cannot take a deployment out for
//! hours. This catches what local counting cannot: other gateways and apps spending the
//! same key.
//!
//! Routes keep one [`RateLimiter`] per deployment; [`RateLimitLayer`] puts one around a
//! single service.

mod layer;

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::Instant;
use tollgate_core::{ChatRequest, RateLimits};

pub use self::layer::{RateLimitLayer, RateLimitService};
use crate::explain::relative;

/// The tokens a request is charged against a tokens-per-minute limit: its estimated
/// input (`input`, from [`ChatRequest::estimate_input_tokens`]) plus its `max_tokens`,
/// or `expected_output` when it sets none.
pub(crate) fn charged_tokens(request: &ChatRequest, input: u64, expected_output: u32) -> u64 {
    input + u64::from(request.max_tokens.unwrap_or(expected_output))
}

const MINUTE: Duration = Duration::from_secs(60);

/// The longest a provider's reported reset keeps a deployment out (10 minutes, the
/// default `max_cooldown` of a 429); a later reset is cut to it.
pub const MAX_REPORTED_WAIT: Duration = Duration::from_secs(600);

/// Which limit a request would break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Requests per minute.
    Rpm(u32),
    /// Tokens per minute.
    Tpm(u64),
    /// The provider reported, on its last answer, no requests left until its reset.
    ReportedRequests,
    /// The provider reported, on its last answer, only this many tokens left until its
    /// reset.
    ReportedTokens(u64),
}

/// A request that would exceed a deployment's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverLimit {
    /// The limit.
    pub limit: Limit,
    /// The request's token estimate.
    pub tokens: u64,
    /// When enough of the minute has passed for it to fit; `None` if it never fits
    /// (a single request larger than the tpm limit).
    pub available_at: Option<Instant>,
}

impl OverLimit {
    /// A human-readable explanation relative to `now`.
    pub fn describe(&self, now: Instant) -> String {
        let when = match self.available_at {
            Some(at) => format!("room again in {}", relative(at, now)),
            None => "it never fits".to_owned(),
        };
        match self.limit {
            Limit::Rpm(rpm) => format!("at its rpm limit of {rpm} ({when})"),
            Limit::Tpm(tpm) => format!(
                "over its tpm limit of {tpm} for ~{} tokens ({when})",
                self.tokens
            ),
            Limit::ReportedRequests => {
                format!("the provider reported no requests left ({when})")
            }
            Limit::ReportedTokens(left) => format!(
                "the provider reported {left} tokens left, fewer than the ~{} this request \
                 needs ({when})",
                self.tokens
            ),
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rpm(n) => write!(f, "rpm {n}"),
            Self::Tpm(n) => write!(f, "tpm {n}"),
            Self::ReportedRequests => f.write_str("provider-reported requests"),
            Self::ReportedTokens(n) => write!(f, "provider-reported tokens {n}"),
        }
    }
}

/// What the provider last reported, while it holds.
#[derive(Debug, Default)]
struct Reported {
    /// No requests left until then.
    requests_until: Option<Instant>,
    /// This many tokens left until then.
    tokens: Option<(u64, Instant)>,
}

impl Reported {
    fn is_empty(&self) -> bool {
        self.requests_until.is_none() && self.tokens.is_none()
    }
}

#[derive(Debug, Default)]
struct Log {
    entries: VecDeque<(Instant, u64)>,
    tokens: u64,
    reported: Reported,
}

impl Log {
    fn expire(&mut self, now: Instant) {
        if self.reported.requests_until.is_some_and(|at| at <= now) {
            self.reported.requests_until = None;
        }
        if self.reported.tokens.is_some_and(|(_, at)| at <= now) {
            self.reported.tokens = None;
        }
        while let Some(&(at, tokens)) = self.entries.front() {
            if now.saturating_duration_since(at) >= MINUTE {
                self.entries.pop_front();
                self.tokens = self.tokens.saturating_sub(tokens);
            } else {
                break;
            }
        }
    }
}

/// One deployment's rpm and tpm accounting over a sliding minute.
#[derive(Debug)]
pub struct RateLimiter {
    rpm: Option<u32>,
    tpm: Option<u64>,
    log: Mutex<Log>,
    /// Whether `log.reported` may hold something (lets unlimited deployments skip the
    /// lock while the provider has said nothing worth acting on).
    reported: AtomicBool,
}

impl RateLimiter {
    /// A limiter for `rpm` requests and `tpm` tokens a minute (`None`: unlimited).
    pub fn new(rpm: Option<u32>, tpm: Option<u64>) -> Self {
        Self {
            rpm,
            tpm,
            log: Mutex::new(Log::default()),
            reported: AtomicBool::new(false),
        }
    }

    /// Whether it has configured limits (`rpm` or `tpm`); provider-reported limits
    /// apply either way.
    pub fn is_limited(&self) -> bool {
        self.rpm.is_some() || self.tpm.is_some()
    }

    fn lock(&self) -> MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a request of `tokens` would be admitted now (nothing is counted).
    ///
    /// # Errors
    ///
    /// The limit it would break and when it would fit.
    pub fn check(&self, tokens: u64, now: Instant) -> Result<(), OverLimit> {
        if !self.is_limited() && !self.reported.load(Ordering::Relaxed) {
            return Ok(());
        }
        let mut log = self.lock();
        self.expire(&mut log, now);
        self.fits(&log, tokens, now)
    }

    /// Counts a request of `tokens` if it fits.
    ///
    /// # Errors
    ///
    /// The limit it would break and when it would fit.
    pub fn acquire(&self, tokens: u64, now: Instant) -> Result<(), OverLimit> {
        if !self.is_limited() && !self.reported.load(Ordering::Relaxed) {
            return Ok(());
        }
        let mut log = self.lock();
        self.expire(&mut log, now);
        self.fits(&log, tokens, now)?;
        if !self.is_limited() {
            return Ok(());
        }
        log.entries.push_back((now, tokens));
        log.tokens = log.tokens.saturating_add(tokens);
        Ok(())
    }

    /// Learns what a successful reply's provider reported about the quota left, as of
    /// `now`: no requests left keeps the deployment out until the reset, a token remainder
    /// keeps out requests charged more than it until the reset. Each reported dimension
    /// replaces what was known of it; `None` (no snapshot) changes nothing; a dimension
    /// without a future reset clears what was known of it.
    pub fn observe(&self, limits: Option<&RateLimits>, now: Instant) {
        let Some(limits) = limits else {
            return;
        };
        let until = |resets_in: Option<Duration>| {
            resets_in
                .filter(|d| !d.is_zero())
                .map(|d| now + d.min(MAX_REPORTED_WAIT))
        };
        let mut log = self.lock();
        if let Some(requests) = limits.requests {
            log.reported.requests_until = if requests.remaining == 0 {
                until(requests.resets_in)
            } else {
                None
            };
        }
        if let Some(tokens) = limits.tokens {
            log.reported.tokens = until(tokens.resets_in).map(|at| (tokens.remaining, at));
        }
        self.reported
            .store(!log.reported.is_empty(), Ordering::Relaxed);
    }

    fn expire(&self, log: &mut Log, now: Instant) {
        log.expire(now);
        if log.reported.is_empty() {
            self.reported.store(false, Ordering::Relaxed);
        }
    }

    fn fits(&self, log: &Log, tokens: u64, now: Instant) -> Result<(), OverLimit> {
        if let Some(rpm) = self.rpm
            && log.entries.len() >= rpm as usize
        {
            // The oldest entries must leave until one slot is free.
            let excess = log.entries.len() + 1 - rpm as usize;
            let available_at = log.entries.get(excess - 1).map(|&(at, _)| at + MINUTE);
            return Err(OverLimit {
                limit: Limit::Rpm(rpm),
                tokens,
                available_at,
            });
        }
        if let Some(tpm) = self.tpm
            && log.tokens.saturating_add(tokens) > tpm
        {
            let available_at = if tokens > tpm {
                None
            } else {
                let mut remaining = log.tokens;
                log.entries.iter().find_map(|&(at, t)| {
                    remaining = remaining.saturating_sub(t);
                    (remaining.saturating_add(tokens) <= tpm).then_some(at + MINUTE)
                })
            };
            return Err(OverLimit {
                limit: Limit::Tpm(tpm),
                tokens,
                available_at,
            });
        }
        if let Some(until) = log.reported.requests_until
            && until > now
        {
            return Err(OverLimit {
                limit: Limit::ReportedRequests,
                tokens,
                available_at: Some(until),
            });
        }
        if let Some((left, until)) = log.reported.tokens
            && until > now
            && tokens > left
        {
            return Err(OverLimit {
                limit: Limit::ReportedTokens(left),
                tokens,
                available_at: Some(until),
            });
        }
        Ok(())
    }

    /// `(requests, tokens)` admitted over the minute ending `now`.
    pub fn usage(&self, now: Instant) -> (u32, u64) {
        let mut log = self.lock();
        self.expire(&mut log, now);
        (
            u32::try_from(log.entries.len()).unwrap_or(u32::MAX),
            log.tokens,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn rpm_frees_a_slot_a_minute_after_the_oldest_request() {
        let limiter = RateLimiter::new(Some(2), None);
        let t0 = Instant::now();
        limiter.acquire(1, t0).unwrap();
        limiter.acquire(1, t0 + Duration::from_secs(10)).unwrap();
        let over = limiter
            .acquire(1, t0 + Duration::from_secs(20))
            .unwrap_err();
        assert_eq!(over.limit, Limit::Rpm(2));
        assert_eq!(over.available_at, Some(t0 + MINUTE));
        limiter.acquire(1, t0 + MINUTE).unwrap();
    }

    fn reported(requests: Option<(u64, u64)>, tokens: Option<(u64, u64)>) -> RateLimits {
        let quota = |(remaining, secs): (u64, u64)| tollgate_core::Quota {
            remaining,
            resets_in: Some(Duration::from_secs(secs)),
        };
        RateLimits {
            requests: requests.map(quota),
            tokens: tokens.map(quota),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_newer_report_replaces_an_older_one_and_no_snapshot_changes_nothing() {
        let limiter = RateLimiter::new(None, None);
        let t0 = Instant::now();
        limiter.observe(Some(&reported(Some((0, 30)), None)), t0);
        let over = limiter.check(1, t0).unwrap_err();
        assert_eq!(over.limit, Limit::ReportedRequests);
        assert_eq!(over.available_at, Some(t0 + Duration::from_secs(30)));
        limiter.observe(None, t0);
        assert!(limiter.check(1, t0).is_err(), "no snapshot changes nothing");
        limiter.observe(Some(&reported(None, Some((1_000, 30)))), t0);
        assert!(
            limiter.check(1, t0).is_err(),
            "tokens say nothing of requests"
        );
        limiter.observe(Some(&reported(Some((4, 30)), None)), t0);
        limiter.check(1, t0).unwrap();
        // Nothing was counted for an unlimited deployment.
        limiter.acquire(1, t0).unwrap();
        assert_eq!(limiter.usage(t0), (0, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn reports_without_a_future_reset_are_not_acted_on_and_far_resets_are_capped() {
        let limiter = RateLimiter::new(None, None);
        let t0 = Instant::now();
        let mut limits = reported(Some((0, 0)), None);
        limiter.observe(Some(&limits), t0);
        limiter.check(1, t0).unwrap();
        limits.requests = Some(tollgate_core::Quota {
            remaining: 0,
            resets_in: None,
        });
        limiter.observe(Some(&limits), t0);
        limiter.check(1, t0).unwrap();
        limiter.observe(Some(&reported(Some((0, 86_400)), None)), t0);
        let over = limiter.check(1, t0).unwrap_err();
        assert_eq!(over.available_at, Some(t0 + MAX_REPORTED_WAIT));
        limiter.check(1, t0 + MAX_REPORTED_WAIT).unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn tpm_counts_estimates_and_reports_when_they_fit() {
        let limiter = RateLimiter::new(None, Some(100));
        let t0 = Instant::now();
        limiter.acquire(60, t0).unwrap();
        limiter.acquire(30, t0 + Duration::from_secs(5)).unwrap();
        let over = limiter.check(50, t0 + Duration::from_secs(6)).unwrap_err();
        assert_eq!(over.available_at, Some(t0 + MINUTE));
        let never = limiter.check(101, t0).unwrap_err();
        assert_eq!(never.available_at, None);
    }
}
