//! What a provider said, on a successful answer, about the quota left on its key
//! ([`RateLimits`]).
//!
//! OpenAI (and its compatibles) and Anthropic report on every answer how many requests
//! and tokens the key may still spend before its limits reset. Provider clients read those
//! headers into a [`RateLimits`] on [`ReplyMeta::rate_limits`](crate::ReplyMeta); routers
//! use it to stop sending traffic that the provider has already announced it would
//! refuse with a 429 (several gateways or apps sharing one key see each other's spending
//! only this way).

use std::time::Duration;

use http::{HeaderMap, HeaderName};
use serde::{Deserialize, Serialize};

/// The quota a provider reported left, per dimension, as of the answer that carried it.
///
/// `tokens` is the most constraining of the provider's token limits: Anthropic reports
/// separate limits for all tokens, input tokens and output tokens, and the one with the
/// fewest tokens remaining is kept (on a tie, the one resetting last). A dimension the
/// provider did not report (or reported in a form that could not be read) is `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimits {
    /// Requests left before the request limit resets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<Quota>,
    /// Tokens left before the most constraining token limit resets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<Quota>,
}

impl RateLimits {
    /// A snapshot of the given dimensions, or `None` when neither was reported (so a
    /// reply without rate-limit headers carries no snapshot at all).
    pub fn new(requests: Option<Quota>, tokens: Option<Quota>) -> Option<Self> {
        (requests.is_some() || tokens.is_some()).then_some(Self { requests, tokens })
    }
}

/// How much of one limit is left, and when it resets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quota {
    /// Units (requests or tokens) left.
    pub remaining: u64,
    /// How long after the answer the limit resets (its window refills); `None` when the
    /// provider did not say or said it in an unreadable form.
    #[serde(
        default,
        rename = "resets_in_ms",
        skip_serializing_if = "Option::is_none",
        with = "opt_duration_ms"
    )]
    pub resets_in: Option<Duration>,
}

impl Quota {
    /// The quota one limit's pair of response headers report: `remaining` read as a
    /// count, `reset` read by `parse_reset` (each provider writes resets its own way).
    /// `None` when `remaining` is absent or not a non-negative integer; an unreadable
    /// reset is `resets_in: None`. Nothing here fails or allocates.
    ///
    /// ```
    /// use std::time::Duration;
    /// use http::{HeaderMap, HeaderName};
    /// use tollgate_core::Quota;
    ///
    /// let (left, reset) = (HeaderName::from_static("x-left"), HeaderName::from_static("x-reset"));
    /// let mut headers = HeaderMap::new();
    /// headers.insert(&left, "7".parse().unwrap());
    /// headers.insert(&reset, "30".parse().unwrap());
    /// let seconds = |text: &str| text.parse().ok().map(Duration::from_secs);
    /// let quota = Quota::from_headers(&headers, &left, &reset, seconds).unwrap();
    /// assert_eq!(quota, Quota { remaining: 7, resets_in: Some(Duration::from_secs(30)) });
    /// ```
    pub fn from_headers(
        headers: &HeaderMap,
        remaining: &HeaderName,
        reset: &HeaderName,
        parse_reset: impl FnOnce(&str) -> Option<Duration>,
    ) -> Option<Self> {
        let text = |name| headers.get(name)?.to_str().ok().map(str::trim);
        Some(Self {
            remaining: text(remaining)?.parse().ok()?,
            resets_in: text(reset).and_then(parse_reset),
        })
    }

    /// The more constraining of two quotas: fewer remaining, or on a tie the one that
    /// resets later (an unknown reset counts as sooner than any known one).
    ///
    /// ```
    /// use std::time::Duration;
    /// use tollgate_core::Quota;
    ///
    /// let a = Quota { remaining: 10, resets_in: Some(Duration::from_secs(5)) };
    /// let b = Quota { remaining: 3, resets_in: Some(Duration::from_secs(1)) };
    /// assert_eq!(Quota::tighter(Some(a), Some(b)), Some(b));
    /// assert_eq!(Quota::tighter(Some(a), None), Some(a));
    /// ```
    pub fn tighter(a: Option<Self>, b: Option<Self>) -> Option<Self> {
        match (a, b) {
            (Some(a), Some(b)) => Some(
                if b.remaining < a.remaining
                    || (b.remaining == a.remaining && b.resets_in > a.resets_in)
                {
                    b
                } else {
                    a
                },
            ),
            (a, None) => a,
            (None, b) => b,
        }
    }
}

mod opt_duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    // `skip_serializing_if` guarantees `Some` here; `None` is written as null anyway.
    #[allow(clippy::ref_option)]
    pub(super) fn serialize<S: Serializer>(
        value: &Option<Duration>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota(remaining: u64, secs: Option<u64>) -> Quota {
        Quota {
            remaining,
            resets_in: secs.map(Duration::from_secs),
        }
    }

    #[test]
    fn the_tighter_quota_has_fewer_remaining_then_the_later_reset() {
        let few = quota(3, Some(60));
        let many = quota(300, Some(1));
        assert_eq!(Quota::tighter(Some(many), Some(few)), Some(few));
        assert_eq!(Quota::tighter(Some(few), Some(many)), Some(few));
        let soon = quota(3, Some(1));
        assert_eq!(Quota::tighter(Some(soon), Some(few)), Some(few));
        assert_eq!(Quota::tighter(Some(few), Some(soon)), Some(few));
        assert_eq!(Quota::tighter(Some(quota(3, None)), Some(soon)), Some(soon));
        assert_eq!(Quota::tighter(None, None), None);
    }

    #[test]
    fn a_snapshot_exists_only_when_something_was_reported() {
        assert_eq!(RateLimits::new(None, None), None);
        let tokens = quota(5, None);
        assert_eq!(
            RateLimits::new(None, Some(tokens)),
            Some(RateLimits {
                requests: None,
                tokens: Some(tokens)
            })
        );
    }

    #[test]
    fn snapshots_serialize_resets_in_milliseconds_and_skip_what_is_absent() {
        let limits = RateLimits {
            requests: Some(Quota {
                remaining: 0,
                resets_in: Some(Duration::from_millis(1500)),
            }),
            tokens: Some(quota(7, None)),
        };
        let json = serde_json::to_value(limits).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "requests": {"remaining": 0, "resets_in_ms": 1500},
                "tokens": {"remaining": 7}
            })
        );
        assert_eq!(serde_json::from_value::<RateLimits>(json).unwrap(), limits);
    }
}
