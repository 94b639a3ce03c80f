//! The quota left on the key, from a successful answer's `anthropic-ratelimit-*` headers.
//!
//! Anthropic sends, on every answer, `anthropic-ratelimit-requests-{remaining,reset}` and
//! the same pair for three token limits: `tokens`, `input-tokens` and `output-tokens`.
//! The most constraining token limit (fewest remaining; on a tie the later reset) becomes
//! [`RateLimits::tokens`]. Resets are RFC 3339 timestamps, read with
//! [`parse_rfc3339`] (as the error mapper does) and turned into a duration from now; a
//! reset already past is a zero duration. Reading is lenient: an unreadable remaining
//! count drops that limit, an unreadable reset is `resets_in: None`, and nothing here
//! fails or panics.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, HeaderName};
use tollgate_core::{Quota, RateLimits};

use crate::error::parse_rfc3339;

const REQUESTS: (HeaderName, HeaderName) = (
    HeaderName::from_static("anthropic-ratelimit-requests-remaining"),
    HeaderName::from_static("anthropic-ratelimit-requests-reset"),
);
const TOKENS: [(HeaderName, HeaderName); 3] = [
    (
        HeaderName::from_static("anthropic-ratelimit-tokens-remaining"),
        HeaderName::from_static("anthropic-ratelimit-tokens-reset"),
    ),
    (
        HeaderName::from_static("anthropic-ratelimit-input-tokens-remaining"),
        HeaderName::from_static("anthropic-ratelimit-input-tokens-reset"),
    ),
    (
        HeaderName::from_static("anthropic-ratelimit-output-tokens-remaining"),
        HeaderName::from_static("anthropic-ratelimit-output-tokens-reset"),
    ),
];

/// The [`RateLimits`] a response's headers report, with resets relative to the system
/// clock now; `None` when no limit is reported readably.
pub fn from_headers(headers: &HeaderMap) -> Option<RateLimits> {
    from_headers_at(headers, SystemTime::now())
}

/// [`from_headers`] with `now` as the reference for the reset timestamps.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use http::HeaderMap;
/// use tollgate_anthropic::rate_limits::from_headers_at;
///
/// let now = UNIX_EPOCH + Duration::from_secs(60);
/// let mut headers = HeaderMap::new();
/// headers.insert("anthropic-ratelimit-requests-remaining", "0".parse().unwrap());
/// headers.insert("anthropic-ratelimit-requests-reset", "1970-01-01T00:01:30Z".parse().unwrap());
/// let requests = from_headers_at(&headers, now).unwrap().requests.unwrap();
/// assert_eq!(requests.remaining, 0);
/// assert_eq!(requests.resets_in, Some(Duration::from_secs(30)));
/// ```
pub fn from_headers_at(headers: &HeaderMap, now: SystemTime) -> Option<RateLimits> {
    let requests = quota(headers, &REQUESTS, now);
    let tokens = TOKENS
        .iter()
        .map(|pair| quota(headers, pair, now))
        .fold(None, Quota::tighter);
    RateLimits::new(requests, tokens)
}

fn quota(
    headers: &HeaderMap,
    (remaining, reset): &(HeaderName, HeaderName),
    now: SystemTime,
) -> Option<Quota> {
    Quota::from_headers(headers, remaining, reset, |text| {
        let at = parse_rfc3339(text)?;
        Some(at.duration_since(now).unwrap_or(Duration::ZERO))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    fn now() -> SystemTime {
        parse_rfc3339("2026-03-14T09:30:00Z").unwrap()
    }

    #[test]
    fn requests_and_the_tightest_token_limit_are_read() {
        let limits = from_headers_at(
            &headers(&[
                ("anthropic-ratelimit-requests-limit", "50"),
                ("anthropic-ratelimit-requests-remaining", "49"),
                ("anthropic-ratelimit-requests-reset", "2026-03-14T09:30:01Z"),
                ("anthropic-ratelimit-tokens-remaining", "90000"),
                ("anthropic-ratelimit-tokens-reset", "2026-03-14T09:30:02Z"),
                ("anthropic-ratelimit-input-tokens-remaining", "70000"),
                (
                    "anthropic-ratelimit-input-tokens-reset",
                    "2026-03-14T09:30:03Z",
                ),
                ("anthropic-ratelimit-output-tokens-remaining", "8000"),
                (
                    "anthropic-ratelimit-output-tokens-reset",
                    "2026-03-14T10:30:04.5+01:00",
                ),
            ]),
            now(),
        )
        .unwrap();
        assert_eq!(
            limits.requests,
            Some(Quota {
                remaining: 49,
                resets_in: Some(Duration::from_secs(1))
            })
        );
        assert_eq!(
            limits.tokens,
            Some(Quota {
                remaining: 8000,
                resets_in: Some(Duration::from_millis(4500))
            })
        );
    }

    #[test]
    fn a_reset_in_the_past_is_zero() {
        let limits = from_headers_at(
            &headers(&[
                ("anthropic-ratelimit-requests-remaining", "0"),
                ("anthropic-ratelimit-requests-reset", "2026-03-14T09:29:00Z"),
            ]),
            now(),
        )
        .unwrap();
        assert_eq!(limits.requests.unwrap().resets_in, Some(Duration::ZERO));
    }

    #[test]
    fn malformed_values_are_ignored_not_errors() {
        let limits = from_headers_at(
            &headers(&[
                ("anthropic-ratelimit-requests-remaining", "0"),
                ("anthropic-ratelimit-requests-reset", "in a minute"),
                ("anthropic-ratelimit-tokens-remaining", "-5"),
                ("anthropic-ratelimit-tokens-reset", "2026-03-14T09:30:02Z"),
                ("anthropic-ratelimit-input-tokens-remaining", "lots"),
                ("anthropic-ratelimit-output-tokens-remaining", "300"),
                (
                    "anthropic-ratelimit-output-tokens-reset",
                    "2026-13-45T99:99:99Z",
                ),
            ]),
            now(),
        )
        .unwrap();
        assert_eq!(
            limits.requests,
            Some(Quota {
                remaining: 0,
                resets_in: None
            })
        );
        assert_eq!(
            limits.tokens,
            Some(Quota {
                remaining: 300,
                resets_in: None
            })
        );
        let garbage = headers(&[
            ("anthropic-ratelimit-requests-remaining", ""),
            ("anthropic-ratelimit-tokens-remaining", "1e3"),
        ]);
        assert_eq!(from_headers_at(&garbage, now()), None);
        assert_eq!(from_headers_at(&HeaderMap::new(), now()), None);
    }
}
