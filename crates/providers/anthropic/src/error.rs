//! Anthropic's failures — HTTP errors and stream `error` events — as
//! [`tollgate_core::Error`]s.
//!
//! | HTTP | `error.type` | [`ErrorKind`] |
//! | --- | --- | --- |
//! | 400 | `invalid_request_error` | `InvalidRequest`; `ContextLengthExceeded` when the message says the prompt is too long or exceeds the context window; `QuotaExhausted` when it says the credit balance is too low; `ContentFiltered` when it says output was blocked by content filtering |
//! | 401 | `authentication_error` | `Authentication` |
//! | 402 | `billing_error` | `QuotaExhausted` |
//! | 403 | `permission_error` | `PermissionDenied` |
//! | 404 | `not_found_error` | `NotFound` |
//! | 413 | `request_too_large` | `InvalidRequest` (the 32 MB body limit is the same for every Anthropic model, so a larger context window would not help) |
//! | 429 | `rate_limit_error` | `RateLimited` |
//! | 500 | `api_error` | `Server` |
//! | 504 | `timeout_error` | `Timeout` |
//! | 529 | `overloaded_error` | `Overloaded` |
//!
//! An unknown `error.type` (or a body that is not Anthropic's JSON) falls back to the
//! kind the status means. The provider's `error.type` becomes the error's
//! [`code`](Error::code); the `request-id` header (or the body's `request_id`) is
//! appended to the message, so it can be quoted to Anthropic support. Messages are
//! redacted of the API key.
//!
//! `retry_after` comes from `retry-after-ms` / `retry-after`; only when neither is sent,
//! from the latest `anthropic-ratelimit-*-reset` timestamp (RFC 3339) among the limits
//! whose `*-remaining` is `0`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;
use tollgate_core::error::{excerpt, redact};
use tollgate_core::{Error, ErrorKind};
use tollgate_http::HttpFailure;

use crate::PROVIDER;
use crate::wire::{ErrorBody, ErrorEnvelope};

/// The rate limits whose reset headers are read (`anthropic-ratelimit-{name}-reset`).
const RATE_LIMITS: [&str; 4] = ["requests", "tokens", "input-tokens", "output-tokens"];

/// Maps a non-success HTTP answer to an [`Error`], with `now` as the reference for
/// reset timestamps.
pub fn from_http_failure(failure: &HttpFailure, api_key: &str) -> Error {
    from_http_failure_at(failure, api_key, SystemTime::now())
}

/// As [`from_http_failure`], reading reset timestamps relative to `now`.
pub fn from_http_failure_at(failure: &HttpFailure, api_key: &str, now: SystemTime) -> Error {
    let envelope: Option<ErrorEnvelope> = serde_json::from_slice(&failure.body).ok();
    let body = envelope.as_ref().and_then(|e| e.error.clone());
    let request_id = failure
        .headers
        .get("request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| envelope.as_ref().and_then(|e| e.request_id.clone()));

    let mut message = match body.as_ref().and_then(|b| b.message.as_deref()) {
        Some(message) => message.to_owned(),
        None if failure.body.is_empty() => format!("HTTP {}", failure.status),
        None => excerpt(&failure.body, 200),
    };
    if let Some(id) = &request_id {
        message.push_str(" (request-id ");
        message.push_str(id);
        message.push(')');
    }
    let message = redact(&message, api_key).into_owned();

    let mut error = failure.base_error(PROVIDER, message);
    let kind = body
        .as_ref()
        .and_then(|b| kind_of(b.kind.as_deref()?, b.message.as_deref().unwrap_or("")));
    if let Some(kind) = kind {
        error = error.with_kind(kind);
    } else if failure.status == 413 {
        error = error.with_kind(ErrorKind::InvalidRequest);
    }
    match body.and_then(|b| b.kind) {
        Some(code) => error = error.with_code(code),
        None if failure.status == 413 => error = error.with_code("request_too_large"),
        None => {}
    }
    if error.retry_after().is_none()
        && let Some(delay) = rate_limit_reset(&failure.headers, now)
    {
        error = error.with_retry_after(delay);
    }
    error
}

/// Maps a stream's `error` event (which arrives after HTTP 200) to an [`Error`]:
/// the same kinds as an HTTP answer with the same `error.type`; an unknown type is
/// [`ErrorKind::Server`].
pub fn from_stream_error(body: &ErrorBody, api_key: &str) -> Error {
    let message = body
        .message
        .as_deref()
        .unwrap_or("the stream reported an error");
    let kind = body
        .kind
        .as_deref()
        .and_then(|k| kind_of(k, message))
        .unwrap_or(ErrorKind::Server);
    let mut error = Error::new(kind, redact(message, api_key).into_owned()).with_provider(PROVIDER);
    if let Some(code) = &body.kind {
        error = error.with_code(code.clone());
    }
    error
}

/// The kind an Anthropic `error.type` means, refined by its message; `None` for types
/// this crate does not know.
pub fn kind_of(error_type: &str, message: &str) -> Option<ErrorKind> {
    Some(match error_type {
        "invalid_request_error" => {
            let lower = message.to_ascii_lowercase();
            if is_context_length_message(&lower) {
                ErrorKind::ContextLengthExceeded
            } else if lower.contains("credit balance") {
                ErrorKind::QuotaExhausted
            } else if lower.contains("content filtering") {
                ErrorKind::ContentFiltered
            } else {
                ErrorKind::InvalidRequest
            }
        }
        "authentication_error" => ErrorKind::Authentication,
        "permission_error" => ErrorKind::PermissionDenied,
        "not_found_error" => ErrorKind::NotFound,
        "request_too_large" => ErrorKind::InvalidRequest,
        "rate_limit_error" => ErrorKind::RateLimited,
        "billing_error" => ErrorKind::QuotaExhausted,
        "api_error" => ErrorKind::Server,
        "timeout_error" => ErrorKind::Timeout,
        "overloaded_error" => ErrorKind::Overloaded,
        _ => return None,
    })
}

/// Whether an `invalid_request_error` message says the conversation does not fit the
/// context window (`prompt is too long: 208000 tokens > 200000 maximum`,
/// `input length and max_tokens exceed context limit`, …); `lower` is lowercase.
fn is_context_length_message(lower: &str) -> bool {
    [
        "prompt is too long",
        "context window",
        "context length",
        "context limit",
        "too many tokens",
        "too many total text bytes",
    ]
    .iter()
    .any(|needle| lower.contains(needle))
}

/// The wait until the latest reset among exhausted rate limits, if any limit reports
/// `remaining: 0` with a future reset time.
pub fn rate_limit_reset(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let header = |name: String| {
        headers
            .get(name.as_str())
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    RATE_LIMITS
        .iter()
        .filter(|limit| header(format!("anthropic-ratelimit-{limit}-remaining")) == Some("0"))
        .filter_map(|limit| header(format!("anthropic-ratelimit-{limit}-reset")))
        .filter_map(parse_rfc3339)
        .filter_map(|reset| reset.duration_since(now).ok())
        .filter(|d| !d.is_zero())
        .max()
}

/// Parses an RFC 3339 timestamp (`2026-03-14T09:30:17Z`, `…17.250+01:00`).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use tollgate_anthropic::error::parse_rfc3339;
///
/// assert_eq!(parse_rfc3339("1970-01-02T00:00:01Z"), Some(UNIX_EPOCH + Duration::from_secs(86_401)));
/// assert_eq!(parse_rfc3339("1970-01-01T01:00:00.5+01:00"), Some(UNIX_EPOCH + Duration::from_millis(500)));
/// assert_eq!(parse_rfc3339("tomorrow"), None);
/// ```
pub fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(range)?;
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 60 {
        return None;
    }
    let mut rest = &text[19..];
    let mut nanos: u64 = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        for (i, c) in frac[..digits].bytes().take(9).enumerate() {
            nanos += u64::from(c - b'0') * 10_u64.pow(8 - i as u32);
        }
        rest = &frac[digits..];
    }
    let offset_seconds = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                return None;
            }
            let hours: i64 = rest.get(1..3)?.parse().ok()?;
            let minutes: i64 = rest.get(4..6)?.parse().ok()?;
            sign * (hours * 3600 + minutes * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    let seconds = u64::try_from(seconds).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(seconds) + Duration::from_nanos(nanos))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn failure(status: u16, headers: &[(&'static str, &str)], body: &str) -> HttpFailure {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, value.parse().unwrap());
        }
        HttpFailure {
            status,
            headers: map,
            body: Bytes::from(body.to_owned()),
        }
    }

    fn envelope(kind: &str, message: &str) -> String {
        serde_json::json!({"type": "error", "error": {"type": kind, "message": message}})
            .to_string()
    }

    #[test]
    fn every_documented_error_type_maps_to_its_kind() {
        let cases = [
            (
                400,
                "invalid_request_error",
                "bad",
                ErrorKind::InvalidRequest,
            ),
            (
                400,
                "invalid_request_error",
                "prompt is too long: 208310 tokens > 200000 maximum",
                ErrorKind::ContextLengthExceeded,
            ),
            (
                400,
                "invalid_request_error",
                "input length and `max_tokens` exceed context limit: 198000 + 8192 > 200000",
                ErrorKind::ContextLengthExceeded,
            ),
            (
                400,
                "invalid_request_error",
                "Your credit balance is too low to access the Anthropic API.",
                ErrorKind::QuotaExhausted,
            ),
            (
                400,
                "invalid_request_error",
                "Output blocked by content filtering policy",
                ErrorKind::ContentFiltered,
            ),
            (
                401,
                "authentication_error",
                "invalid x-api-key",
                ErrorKind::Authentication,
            ),
            (402, "billing_error", "pay up", ErrorKind::QuotaExhausted),
            (403, "permission_error", "no", ErrorKind::PermissionDenied),
            (404, "not_found_error", "model: x", ErrorKind::NotFound),
            (
                413,
                "request_too_large",
                "too big",
                ErrorKind::InvalidRequest,
            ),
            (429, "rate_limit_error", "slow", ErrorKind::RateLimited),
            (500, "api_error", "oops", ErrorKind::Server),
            (504, "timeout_error", "late", ErrorKind::Timeout),
            (529, "overloaded_error", "Overloaded", ErrorKind::Overloaded),
            (503, "brand_new_error", "?", ErrorKind::Overloaded),
        ];
        for (status, kind, message, expected) in cases {
            let err = from_http_failure(&failure(status, &[], &envelope(kind, message)), "k");
            assert_eq!(err.kind(), expected, "{status} {kind} {message}");
            assert_eq!(err.code(), Some(kind));
            assert_eq!(err.status(), Some(status));
            assert_eq!(err.provider(), Some("anthropic"));
        }
    }

    #[test]
    fn a_non_json_413_from_the_edge_is_an_invalid_request_quoting_the_body() {
        let err = from_http_failure(
            &failure(413, &[], "<html>413 Request Entity Too Large</html>"),
            "k",
        );
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
        assert_eq!(err.code(), Some("request_too_large"));
        assert!(err.message().contains("Request Entity Too Large"));
    }

    #[test]
    fn the_key_is_redacted_from_messages() {
        let key = "sk-ant-api03-secret";
        let err = from_http_failure(
            &failure(
                401,
                &[],
                &envelope("authentication_error", &format!("bad key {key}")),
            ),
            key,
        );
        assert!(!format!("{err} {err:?}").contains(key));
        let err = from_stream_error(
            &ErrorBody {
                kind: Some("api_error".into()),
                message: Some(format!("echo {key}")),
            },
            key,
        );
        assert!(!format!("{err} {err:?}").contains(key));
    }

    #[test]
    fn reset_headers_are_used_only_without_retry_after() {
        let now = parse_rfc3339("2026-03-14T09:30:05Z").unwrap();
        let headers = [
            ("anthropic-ratelimit-requests-remaining", "3"),
            ("anthropic-ratelimit-requests-reset", "2026-03-14T09:31:00Z"),
            ("anthropic-ratelimit-input-tokens-remaining", "0"),
            (
                "anthropic-ratelimit-input-tokens-reset",
                "2026-03-14T09:30:17Z",
            ),
            ("anthropic-ratelimit-output-tokens-remaining", "0"),
            (
                "anthropic-ratelimit-output-tokens-reset",
                "2026-03-14T09:30:09.500Z",
            ),
        ];
        let body = envelope("rate_limit_error", "slow");
        let err = from_http_failure_at(&failure(429, &headers, &body), "k", now);
        assert_eq!(err.retry_after(), Some(Duration::from_secs(12)));

        let mut with_retry_after = headers.to_vec();
        with_retry_after.push(("retry-after", "3"));
        let err = from_http_failure_at(&failure(429, &with_retry_after, &body), "k", now);
        assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));

        let err = from_http_failure_at(&failure(429, &headers[..2], &body), "k", now);
        assert_eq!(err.retry_after(), None);
    }

    #[test]
    fn rfc3339_parsing_handles_offsets_fractions_and_rejects_garbage() {
        let base = parse_rfc3339("2026-03-14T09:30:17Z").unwrap();
        assert_eq!(parse_rfc3339("2026-03-14T10:30:17+01:00"), Some(base));
        assert_eq!(parse_rfc3339("2026-03-14T08:00:17-01:30"), Some(base));
        assert_eq!(
            parse_rfc3339("2026-03-14T09:30:17.25Z"),
            Some(base + Duration::from_millis(250))
        );
        assert_eq!(
            base.duration_since(UNIX_EPOCH).unwrap().as_secs(),
            1_773_480_617
        );
        for bad in [
            "",
            "2026-03-14",
            "2026-13-14T09:30:17Z",
            "2026-03-14T09:30:17",
            "2026-03-14T09:30:17.Z",
            "2026-03-14T09:30:17+0100",
            "20x6-03-14T09:30:17Z",
            "2026-03-14T09:30:17Zjunk",
            "2026-03-14T09:30:17+01:0é",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
