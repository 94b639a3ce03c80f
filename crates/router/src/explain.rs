//! Explanations: why each deployment of a route did not serve a request.
//!
//! When nothing can serve a request the route answers an error whose message lists every
//! deployment with its reason, and whose `retry_after` is the soonest moment one of them
//! becomes available again. Its kind is [`ErrorKind::NoRoute`] when no deployment could
//! even be tried (the gateway answers 429 with `retry-after`), and the last attempt's kind
//! when deployments were tried and failed (a transport or server failure is a 502, an
//! overload a 503, a provider's rate limit a 429).

use std::fmt::Write as _;
use std::time::Duration;

use tokio::time::Instant;
use tollgate_core::{Error, ErrorKind};

use crate::health::Unavailable;
use crate::limit::OverLimit;

/// Why one deployment did not serve a request.
#[derive(Debug, Clone)]
pub enum Reason {
    /// It lacks a capability the request needs.
    Capability(&'static str),
    /// The request does not fit its context window.
    ContextTooSmall {
        /// Estimated input tokens plus `max_tokens`.
        needed: u64,
        /// Its context window.
        window: u64,
    },
    /// Its circuit is open, it is cooling down, or its probe is running.
    Unavailable(Unavailable),
    /// Admitting the request would break its rpm or tpm limit, or exceed the quota its
    /// provider reported left.
    OverLimit(OverLimit),
    /// It was tried and failed (the last failure, and how many attempts failed).
    Failed {
        /// The last error.
        error: Error,
        /// Failed attempts on it.
        attempts: u32,
    },
    /// The balancer left it out of this request's order.
    LeftOut(&'static str),
    /// It serves only as a context-length or content-filter fallback, and no such
    /// fallback was needed.
    Reserved,
    /// A context-length fallback was needed and its window is no larger than the one that
    /// was exceeded.
    NotLarger {
        /// Its context window, if known.
        window: Option<u64>,
    },
    /// The route ran out of time, retries or candidates before reaching it.
    NotReached,
}

impl Reason {
    /// When this reason stops applying, if it is a matter of time.
    pub fn available_at(&self) -> Option<Instant> {
        match self {
            Self::Unavailable(u) => u.until(),
            Self::OverLimit(o) => o.available_at,
            _ => None,
        }
    }

    /// A human-readable explanation relative to `now`.
    pub fn describe(&self, now: Instant) -> String {
        match self {
            Self::Capability(what) => format!("lacks the `{what}` capability"),
            Self::ContextTooSmall { needed, window } => {
                format!("context window {window} is too small for ~{needed} tokens")
            }
            Self::Unavailable(u) => u.describe(now),
            Self::OverLimit(o) => o.describe(now),
            Self::Failed { error, attempts: 1 } => format!("failed: {error}"),
            Self::Failed { error, attempts } => {
                format!("failed {attempts} attempts, last: {error}")
            }
            Self::LeftOut(balancer) => format!("not chosen by the `{balancer}` balancer"),
            Self::Reserved => "reserved for context-length/content-filter fallback".to_owned(),
            Self::NotLarger { window: Some(w) } => {
                format!("context window {w} is not larger than the one exceeded")
            }
            Self::NotLarger { window: None } => {
                "unknown context window, not a context-length fallback".to_owned()
            }
            Self::NotReached => "not reached".to_owned(),
        }
    }
}

/// A duration from `now` to `at` as `12.5s` (`0.0s` when it has passed).
pub(crate) fn relative(at: Instant, now: Instant) -> String {
    format!("{:.1}s", at.saturating_duration_since(now).as_secs_f64())
}

/// Each deployment's reason, in route order.
#[derive(Debug, Clone, Default)]
pub struct Explanation {
    entries: Vec<(String, Option<Reason>)>,
    /// For deployments that failed: why they are unavailable now, if they are.
    now: Vec<Option<Reason>>,
}

/// Each deployment's reason as a request goes, by route index, without names.
///
/// A route keeps one per request and names it (an [`Explanation`]) only when the request
/// fails: a request that is served, the common case, allocates nothing for it unless a
/// deployment was passed over on the way.
#[derive(Debug, Default)]
pub(crate) struct Reasons {
    /// How many deployments the route has.
    len: usize,
    /// Empty until the first reason is recorded, then `len` long.
    reasons: Vec<Option<Reason>>,
    /// For deployments that failed: why they are unavailable now, if they are. Empty
    /// until the first is recorded, then `len` long.
    now: Vec<Option<Reason>>,
}

impl Reasons {
    /// No reasons yet for a route of `len` deployments.
    pub(crate) fn new(len: usize) -> Self {
        Self {
            len,
            reasons: Vec::new(),
            now: Vec::new(),
        }
    }

    fn slot(&mut self, index: usize) -> Option<&mut Option<Reason>> {
        if self.reasons.is_empty() && index < self.len {
            self.reasons.resize(self.len, None);
        }
        self.reasons.get_mut(index)
    }

    /// Sets deployment `index`'s reason (a failure is never replaced by a lesser reason).
    pub(crate) fn set(&mut self, index: usize, reason: Reason) {
        if let Some(slot) = self.slot(index) {
            if let (Some(Reason::Failed { .. }), false) =
                (&slot, matches!(reason, Reason::Failed { .. }))
            {
                return;
            }
            *slot = Some(reason);
        }
    }

    /// Records a failed attempt on deployment `index`.
    pub(crate) fn failed(&mut self, index: usize, error: Error) {
        if let Some(slot) = self.slot(index) {
            let attempts = match slot {
                Some(Reason::Failed { attempts, .. }) => *attempts + 1,
                _ => 1,
            };
            *slot = Some(Reason::Failed { error, attempts });
        }
    }

    /// Whether deployment `index` failed an attempt.
    pub(crate) fn has_failed(&self, index: usize) -> bool {
        matches!(self.reasons.get(index), Some(Some(Reason::Failed { .. })))
    }

    /// Records why a deployment that failed is unavailable now (a cooldown it caused).
    pub(crate) fn unavailable_now(&mut self, index: usize, reason: Reason) {
        if self.now.is_empty() && index < self.len {
            self.now.resize(self.len, None);
        }
        if let Some(slot) = self.now.get_mut(index) {
            *slot = Some(reason);
        }
    }

    /// The explanation, naming the deployments `names` (in route order, `len` of them).
    pub(crate) fn explain<'a>(self, names: impl IntoIterator<Item = &'a str>) -> Explanation {
        let Self {
            len,
            reasons,
            mut now,
        } = self;
        let mut reasons = reasons.into_iter();
        let entries: Vec<_> = names
            .into_iter()
            .take(len)
            .map(|name| (name.to_owned(), reasons.next().flatten()))
            .collect();
        now.resize(entries.len(), None);
        Explanation { entries, now }
    }
}

impl Explanation {
    /// Each deployment's name and reason (`None`: no reason recorded).
    pub fn entries(&self) -> &[(String, Option<Reason>)] {
        &self.entries
    }

    /// The soonest moment after `now` a deployment becomes available, if any reason is a
    /// matter of time.
    pub fn soonest(&self, now: Instant) -> Option<Duration> {
        self.entries
            .iter()
            .map(|(_, r)| r)
            .chain(&self.now)
            .filter_map(|r| r.as_ref().and_then(Reason::available_at))
            .filter(|at| *at > now)
            .min()
            .map(|at| at - now)
    }

    /// `a: reason; b: reason; …`.
    pub fn describe(&self, now: Instant) -> String {
        let mut out = String::new();
        for (i, (name, reason)) in self.entries.iter().enumerate() {
            if i > 0 {
                out.push_str("; ");
            }
            let text = reason
                .as_ref()
                .map_or_else(|| Reason::NotReached.describe(now), |r| r.describe(now));
            let _ = write!(out, "`{name}`: {text}");
            if let Some(Some(current)) = self.now.get(i) {
                let _ = write!(out, ", and is now {}", current.describe(now));
            }
        }
        out
    }

    /// The [`ErrorKind::NoRoute`] error for route `route`, with `retry_after` set to the
    /// soonest availability.
    ///
    /// When no deployment could ever take the request as it is — every reason is a
    /// missing capability or a too-small context window — the kind is
    /// [`ErrorKind::Unsupported`] or [`ErrorKind::ContextLengthExceeded`] instead: waiting
    /// will not help, changing the request will.
    pub fn into_error(self, route: &str, now: Instant) -> Error {
        let reasons = || self.entries.iter().filter_map(|(_, r)| r.as_ref());
        let unfit = |r: &Reason| {
            matches!(
                r,
                Reason::Capability(_) | Reason::ContextTooSmall { .. } | Reason::Reserved
            )
        };
        let kind = if reasons().all(unfit) && reasons().any(|r| !matches!(r, Reason::Reserved)) {
            if reasons().any(|r| matches!(r, Reason::Capability(_))) {
                ErrorKind::Unsupported
            } else {
                ErrorKind::ContextLengthExceeded
            }
        } else {
            ErrorKind::NoRoute
        };
        let mut error = Error::new(
            kind,
            format!(
                "no deployment of route `{route}` can serve this request: {}",
                self.describe(now)
            ),
        );
        if let Some(after) = self.soonest(now) {
            error = error.with_retry_after(after);
        }
        error
    }
}
