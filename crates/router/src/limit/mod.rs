//! Rate-limit awareness: requests and tokens per minute per deployment, counted BEFORE the
//! call so traffic moves elsewhere before the provider answers 429.
//!
//! Each admitted request is logged with its token estimate (the request's
//! [`estimate_input_tokens`](tollgate_core::ChatRequest::estimate_input_tokens) plus its
//! `max_tokens`, or the route's expected output when unset). A request is admitted when,
//! over the sliding minute ending now, the deployment stays within its `rpm` and `tpm`.
//! The log holds at most one entry per admitted request of the last minute.
//!
//! Routes keep one [`RateLimiter`] per deployment; [`RateLimitLayer`] puts one around a
//! single service.

mod layer;

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::Instant;
use tollgate_core::ChatRequest;

pub use self::layer::{RateLimitLayer, RateLimitService};
use crate::explain::relative;

/// The tokens a request is charged against a tokens-per-minute limit: its estimated
/// input (`input`, from [`ChatRequest::estimate_input_tokens`]) plus its `max_tokens`,
/// or `expected_output` when it sets none.
pub(crate) fn charged_tokens(request: &ChatRequest, input: u64, expected_output: u32) -> u64 {
    input + u64::from(request.max_tokens.unwrap_or(expected_output))
}

const MINUTE: Duration = Duration::from_secs(60);

/// Which limit a request would break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Requests per minute.
    Rpm(u32),
    /// Tokens per minute.
    Tpm(u64),
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
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rpm(n) => write!(f, "rpm {n}"),
            Self::Tpm(n) => write!(f, "tpm {n}"),
        }
    }
}

#[derive(Debug, Default)]
struct Log {
    entries: VecDeque<(Instant, u64)>,
    tokens: u64,
}

impl Log {
    fn expire(&mut self, now: Instant) {
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
}

impl RateLimiter {
    /// A limiter for `rpm` requests and `tpm` tokens a minute (`None`: unlimited).
    pub fn new(rpm: Option<u32>, tpm: Option<u64>) -> Self {
        Self {
            rpm,
            tpm,
            log: Mutex::new(Log::default()),
        }
    }

    /// Whether it limits anything at all.
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
        if !self.is_limited() {
            return Ok(());
        }
        let mut log = self.lock();
        log.expire(now);
        self.fits(&log, tokens)
    }

    /// Counts a request of `tokens` if it fits.
    ///
    /// # Errors
    ///
    /// The limit it would break and when it would fit.
    pub fn acquire(&self, tokens: u64, now: Instant) -> Result<(), OverLimit> {
        if !self.is_limited() {
            return Ok(());
        }
        let mut log = self.lock();
        log.expire(now);
        self.fits(&log, tokens)?;
        log.entries.push_back((now, tokens));
        log.tokens = log.tokens.saturating_add(tokens);
        Ok(())
    }

    fn fits(&self, log: &Log, tokens: u64) -> Result<(), OverLimit> {
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
        Ok(())
    }

    /// `(requests, tokens)` admitted over the minute ending `now`.
    pub fn usage(&self, now: Instant) -> (u32, u64) {
        let mut log = self.lock();
        log.expire(now);
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
