//! The quota left on the key, from a successful answer's `x-ratelimit-*` headers.
//!
//! OpenAI and the compatibles that copy it (Groq, Together, …) send
//! `x-ratelimit-remaining-requests` / `x-ratelimit-reset-requests` and
//! `x-ratelimit-remaining-tokens` / `x-ratelimit-reset-tokens` on every answer. Resets are
//! Go-style durations (`20ms`, `1s`, `59.5s`, `6m0s`, `1h2m3s`). Reading is lenient: a
//! remaining count that is not a non-negative integer drops that dimension, a reset in an
//! unknown format is `resets_in: None`, and nothing here fails or panics. (Groq's
//! `requests` dimension is per day, its `tokens` per minute; both are read the same way.)

use http::{HeaderMap, HeaderName};
use tollgate_core::retry_after::parse_go_duration;
use tollgate_core::{Quota, RateLimits};

const REMAINING_REQUESTS: HeaderName = HeaderName::from_static("x-ratelimit-remaining-requests");
const RESET_REQUESTS: HeaderName = HeaderName::from_static("x-ratelimit-reset-requests");
const REMAINING_TOKENS: HeaderName = HeaderName::from_static("x-ratelimit-remaining-tokens");
const RESET_TOKENS: HeaderName = HeaderName::from_static("x-ratelimit-reset-tokens");

/// The [`RateLimits`] a response's headers report; `None` when they report neither
/// dimension readably.
///
/// ```
/// use std::time::Duration;
/// use http::HeaderMap;
/// use tollgate_openai::rate_limits::from_headers;
///
/// let mut headers = HeaderMap::new();
/// headers.insert("x-ratelimit-remaining-requests", "0".parse().unwrap());
/// headers.insert("x-ratelimit-reset-requests", "6m0s".parse().unwrap());
/// let limits = from_headers(&headers).unwrap();
/// let requests = limits.requests.unwrap();
/// assert_eq!(requests.remaining, 0);
/// assert_eq!(requests.resets_in, Some(Duration::from_secs(360)));
/// assert_eq!(limits.tokens, None);
/// assert_eq!(from_headers(&HeaderMap::new()), None);
/// ```
pub fn from_headers(headers: &HeaderMap) -> Option<RateLimits> {
    let requests = quota(headers, &REMAINING_REQUESTS, &RESET_REQUESTS);
    let tokens = quota(headers, &REMAINING_TOKENS, &RESET_TOKENS);
    RateLimits::new(requests, tokens)
}

fn quota(headers: &HeaderMap, remaining: &HeaderName, reset: &HeaderName) -> Option<Quota> {
    Quota::from_headers(headers, remaining, reset, parse_go_duration)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    fn reset_of(value: &str) -> Option<Duration> {
        from_headers(&headers(&[
            ("x-ratelimit-remaining-tokens", "10"),
            ("x-ratelimit-reset-tokens", value),
        ]))
        .unwrap()
        .tokens
        .unwrap()
        .resets_in
    }

    #[test]
    fn both_dimensions_are_read_with_their_resets() {
        let limits = from_headers(&headers(&[
            ("x-ratelimit-limit-requests", "10000"),
            ("x-ratelimit-remaining-requests", "9999"),
            ("x-ratelimit-reset-requests", "6m0s"),
            ("x-ratelimit-remaining-tokens", " 149984 "),
            ("x-ratelimit-reset-tokens", "6ms"),
        ]))
        .unwrap();
        assert_eq!(
            limits.requests,
            Some(Quota {
                remaining: 9999,
                resets_in: Some(Duration::from_secs(360))
            })
        );
        assert_eq!(
            limits.tokens,
            Some(Quota {
                remaining: 149_984,
                resets_in: Some(Duration::from_millis(6))
            })
        );
    }

    #[test]
    fn go_durations_of_every_shape_are_read() {
        assert_eq!(reset_of("1s"), Some(Duration::from_secs(1)));
        assert_eq!(reset_of("6m0s"), Some(Duration::from_secs(360)));
        assert_eq!(reset_of("59.5s"), Some(Duration::from_millis(59_500)));
        assert_eq!(reset_of("20ms"), Some(Duration::from_millis(20)));
        assert_eq!(reset_of("1h2m3s"), Some(Duration::from_secs(3723)));
    }

    #[test]
    fn an_unreadable_reset_is_unknown_not_an_error() {
        for bad in [
            "soon",
            "",
            "-1s",
            "5",
            "1x",
            "s",
            "1.2.3s",
            "9999999999999999999999h",
        ] {
            assert_eq!(reset_of(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn an_unreadable_remaining_count_drops_only_its_dimension() {
        for bad in ["-1", "many", "1.5", "", "99999999999999999999999"] {
            let limits = from_headers(&headers(&[
                ("x-ratelimit-remaining-requests", bad),
                ("x-ratelimit-reset-requests", "1s"),
                ("x-ratelimit-remaining-tokens", "7"),
            ]))
            .unwrap();
            assert_eq!(limits.requests, None, "{bad:?}");
            assert_eq!(limits.tokens.unwrap().remaining, 7);
        }
        let only_bad = headers(&[("x-ratelimit-remaining-requests", "lots")]);
        assert_eq!(from_headers(&only_bad), None);
    }

    #[test]
    fn a_reset_without_a_remaining_count_is_no_snapshot() {
        assert_eq!(
            from_headers(&headers(&[("x-ratelimit-reset-requests", "1s")])),
            None
        );
    }

    #[test]
    fn non_ascii_header_values_are_ignored() {
        let mut map = HeaderMap::new();
        map.insert(
            "x-ratelimit-remaining-requests",
            http::HeaderValue::from_bytes(b"\xff1").unwrap(),
        );
        assert_eq!(from_headers(&map), None);
    }
}
