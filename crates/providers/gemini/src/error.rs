//! Gemini failures (`google.rpc.Status` bodies) → [`tollgate_core::Error`].
//!
//! | HTTP | `status` | [`ErrorKind`] |
//! | --- | --- | --- |
//! | 400 | `INVALID_ARGUMENT` + `ErrorInfo.reason` `API_KEY_INVALID` / `API_KEY_EXPIRED` | `Authentication` |
//! | 400 | `INVALID_ARGUMENT`, message about the input token count / context | `ContextLengthExceeded` |
//! | 400 | `INVALID_ARGUMENT`, `FAILED_PRECONDITION`, `OUT_OF_RANGE` | `InvalidRequest` |
//! | 401 | `UNAUTHENTICATED` | `Authentication` |
//! | 403 | `PERMISSION_DENIED` | `PermissionDenied` |
//! | 404 | `NOT_FOUND` | `NotFound` |
//! | 429 | `RESOURCE_EXHAUSTED` | `RateLimited`; `QuotaExhausted` when every `QuotaFailure` violation is a per-day quota (`quotaId` containing `PerDay`) or the message names billing or depleted credit explicitly (every Gemini 429 says "check your plan and billing details", which alone means nothing) |
//! | 500 | `INTERNAL` | `Server` |
//! | 503 | `UNAVAILABLE` | `Overloaded` |
//! | 504 | `DEADLINE_EXCEEDED` | `Timeout` |
//!
//! The error's code is the `status` string; `retry_after` comes from `RetryInfo.retryDelay`,
//! else the `retry-after` header, else a "Please retry in 21.3s" sentence in the message.
//! Messages are redacted of the API key.

use std::time::Duration;

use http::HeaderMap;
use tollgate_core::error::{excerpt, redact};
use tollgate_core::{Error, ErrorKind};
use tollgate_http::HttpFailure;

use crate::PROVIDER;
use crate::wire::{ErrorBody, Status};

/// Maps a non-success HTTP answer.
pub(crate) fn from_failure(failure: &HttpFailure, api_key: &str) -> Error {
    let parsed = serde_json::from_slice::<ErrorBody>(&failure.body)
        .ok()
        .and_then(|b| b.error);
    match parsed {
        Some(status) => from_status(
            &status,
            Some(failure.status),
            Some(&failure.headers),
            api_key,
        ),
        None => {
            let text = excerpt(&failure.body, 200);
            let message = if text.trim().is_empty() {
                format!("HTTP {} with an empty body", failure.status)
            } else {
                redact(&text, api_key).into_owned()
            };
            failure.base_error(PROVIDER, message)
        }
    }
}

/// Maps a `google.rpc.Status`, from an error response (`http_status`, `headers`) or from an
/// error object inside a stream (neither); the message is redacted of `api_key`.
pub(crate) fn from_status(
    status: &Status,
    http_status: Option<u16>,
    headers: Option<&HeaderMap>,
    api_key: &str,
) -> Error {
    let http = http_status
        .or_else(|| status.code.and_then(|c| u16::try_from(c).ok()))
        .unwrap_or(500);
    let canonical = status.status.as_deref().unwrap_or_default();
    let reason = error_info_reason(status);
    let mut kind = kind_of(http, canonical, reason, &status.message);
    if kind == ErrorKind::RateLimited && only_daily_quotas(status) {
        kind = ErrorKind::QuotaExhausted;
    }
    let mut message = redact(&status.message, api_key).into_owned();
    if let Some(reason) = reason {
        message.push_str(&format!(" [{reason}]"));
    }
    let mut error = Error::new(kind, message)
        .with_provider(PROVIDER)
        .with_status(http);
    if !canonical.is_empty() {
        error = error.with_code(canonical.to_owned());
    }
    let header_delay = headers
        .and_then(|h| tollgate_core::retry_after::from_headers(h, std::time::SystemTime::now()));
    if let Some(delay) = retry_info(status)
        .or(header_delay)
        .or_else(|| delay_in_message(&status.message))
    {
        error = error.with_retry_after(delay);
    }
    if let Some(retry) = headers.and_then(tollgate_core::retry_after::should_retry) {
        error = error.with_retryable(retry);
    }
    error
}

fn kind_of(http: u16, canonical: &str, reason: Option<&str>, message: &str) -> ErrorKind {
    if matches!(reason, Some("API_KEY_INVALID" | "API_KEY_EXPIRED")) {
        return ErrorKind::Authentication;
    }
    let lower = message.to_ascii_lowercase();
    match canonical {
        "INVALID_ARGUMENT" | "OUT_OF_RANGE" if mentions_context_length(&lower) => {
            ErrorKind::ContextLengthExceeded
        }
        "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE" => ErrorKind::InvalidRequest,
        "UNAUTHENTICATED" => ErrorKind::Authentication,
        "PERMISSION_DENIED" => ErrorKind::PermissionDenied,
        "NOT_FOUND" => ErrorKind::NotFound,
        "RESOURCE_EXHAUSTED" if mentions_billing(&lower) => ErrorKind::QuotaExhausted,
        "RESOURCE_EXHAUSTED" => ErrorKind::RateLimited,
        "INTERNAL" | "UNKNOWN" | "DATA_LOSS" => ErrorKind::Server,
        "UNAVAILABLE" => ErrorKind::Overloaded,
        "DEADLINE_EXCEEDED" => ErrorKind::Timeout,
        "CANCELLED" | "ABORTED" => ErrorKind::Server,
        _ => ErrorKind::from_status(http),
    }
}

fn mentions_context_length(lower: &str) -> bool {
    (lower.contains("token count") && lower.contains("exceeds"))
        || lower.contains("exceeds the maximum number of tokens")
        || lower.contains("context window")
        || lower.contains("context length")
        || lower.contains("too many tokens")
}

/// Only explicit billing / credit wording: every Gemini 429 says "check your plan and
/// billing details", which alone does not mean the account is out of credit.
fn mentions_billing(lower: &str) -> bool {
    lower.contains("credits are depleted")
        || lower.contains("prepayment")
        || lower.contains("billing account")
        || lower.contains("enable billing")
        || lower.contains("insufficient balance")
}

fn error_info_reason(status: &Status) -> Option<&str> {
    status.details.iter().find_map(|detail| {
        let kind = detail.get("@type")?.as_str()?;
        kind.ends_with("google.rpc.ErrorInfo")
            .then(|| detail.get("reason")?.as_str())
            .flatten()
    })
}

/// Whether the `QuotaFailure` details name only per-day quotas (`…PerDay…` quota ids):
/// waiting seconds or minutes will not help until the day's quota resets.
fn only_daily_quotas(status: &Status) -> bool {
    let mut ids = status
        .details
        .iter()
        .filter(|d| {
            d.get("@type")
                .and_then(|t| t.as_str())
                .is_some_and(|t| t.ends_with("google.rpc.QuotaFailure"))
        })
        .filter_map(|d| d.get("violations")?.as_array())
        .flatten()
        .filter_map(|v| v.get("quotaId")?.as_str())
        .peekable();
    ids.peek().is_some() && ids.all(|id| id.contains("PerDay"))
}

fn retry_info(status: &Status) -> Option<Duration> {
    status.details.iter().find_map(|detail| {
        let kind = detail.get("@type")?.as_str()?;
        if !kind.ends_with("google.rpc.RetryInfo") {
            return None;
        }
        parse_proto_duration(detail.get("retryDelay")?.as_str()?)
    })
}

/// A protobuf JSON `Duration`: `"21s"`, `"1.5s"`, `"0.250s"`.
pub(crate) fn parse_proto_duration(text: &str) -> Option<Duration> {
    let seconds: f64 = text.trim().strip_suffix('s')?.parse().ok()?;
    (0.0..1e9)
        .contains(&seconds)
        .then(|| Duration::from_secs_f64(seconds))
        .filter(|d| !d.is_zero())
}

/// "… Please retry in 21.318845s." in a message.
fn delay_in_message(message: &str) -> Option<Duration> {
    let lower = message.to_ascii_lowercase();
    let start = lower.find("retry in ")? + "retry in ".len();
    let rest = &lower[start..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let number: f64 = rest[..end].parse().ok()?;
    let unit = rest[end..].trim_start();
    let seconds = if unit.starts_with("ms") {
        number / 1000.0
    } else if unit.starts_with('s') {
        number
    } else {
        return None;
    };
    (seconds.is_finite() && seconds > 0.0 && seconds < 1e9)
        .then(|| Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use serde_json::Value;

    use super::*;

    /// A fixture's `{"status","headers","body"}` wrapper as an [`HttpFailure`].
    fn failure(wrapper: &str) -> HttpFailure {
        let wrapper: Value = serde_json::from_str(wrapper).unwrap();
        let mut headers = HeaderMap::new();
        for (name, value) in wrapper["headers"].as_object().unwrap() {
            headers.insert(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.as_str().unwrap().parse().unwrap(),
            );
        }
        HttpFailure {
            status: u16::try_from(wrapper["status"].as_u64().unwrap()).unwrap(),
            headers,
            body: Bytes::from(serde_json::to_vec(&wrapper["body"]).unwrap()),
        }
    }

    #[test]
    fn a_bad_key_is_a_400_that_means_authentication() {
        let err = from_failure(
            &failure(include_str!("../tests/data/error-400-api-key-invalid.json")),
            "k",
        );
        assert_eq!(err.kind(), ErrorKind::Authentication);
        assert_eq!(err.status(), Some(400));
        assert_eq!(err.code(), Some("INVALID_ARGUMENT"));
        assert_eq!(err.provider(), Some("gcp.gemini"));
        assert!(err.message().contains("API key not valid"), "{err}");
        assert!(err.message().contains("API_KEY_INVALID"), "{err}");
        assert!(!err.is_retryable());
        assert!(err.is_fallback_eligible());
    }

    #[test]
    fn an_unknown_field_is_an_invalid_request() {
        let err = from_failure(&failure(include_str!("../tests/data/error-400.json")), "k");
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
        assert_eq!(err.code(), Some("INVALID_ARGUMENT"));
        assert!(err.message().contains("max_tokens"), "{err}");
    }

    #[test]
    fn resource_exhausted_is_a_rate_limit_with_the_retry_info_delay() {
        let err = from_failure(&failure(include_str!("../tests/data/error-429.json")), "k");
        assert_eq!(err.kind(), ErrorKind::RateLimited);
        assert_eq!(err.status(), Some(429));
        assert_eq!(err.code(), Some("RESOURCE_EXHAUSTED"));
        assert_eq!(err.retry_after(), Some(Duration::from_secs(21)));
        assert!(err.is_retryable());
    }

    #[test]
    fn unavailable_is_overloaded() {
        let err = from_failure(&failure(include_str!("../tests/data/error-503.json")), "k");
        assert_eq!(err.kind(), ErrorKind::Overloaded);
        assert_eq!(err.code(), Some("UNAVAILABLE"));
        assert_eq!(
            err.message(),
            "The model is overloaded. Please try again later."
        );
        assert!(err.is_retryable());
    }

    fn status(code: i64, canonical: &str, message: &str) -> Status {
        Status {
            code: Some(code),
            message: message.into(),
            status: Some(canonical.into()),
            details: Vec::new(),
        }
    }

    #[test]
    fn a_per_day_quota_is_exhausted_quota_and_a_per_minute_one_a_rate_limit() {
        let quota = |id: &str| {
            serde_json::json!({"@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [{"quotaId": id, "quotaMetric": "m"}]})
        };
        let mut daily = status(
            429,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota, please check your plan and billing details.",
        );
        daily.details = vec![quota("GenerateRequestsPerDayPerProjectPerModel-FreeTier")];
        let err = from_status(&daily, None, None, "k");
        assert_eq!(err.kind(), ErrorKind::QuotaExhausted);
        assert!(!err.is_retryable());
        let mut minute = daily.clone();
        minute.details = vec![quota(
            "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
        )];
        assert_eq!(
            from_status(&minute, None, None, "k").kind(),
            ErrorKind::RateLimited
        );
        let mut both = daily.clone();
        both.details.push(quota(
            "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
        ));
        assert_eq!(
            from_status(&both, None, None, "k").kind(),
            ErrorKind::RateLimited
        );
    }

    #[test]
    fn canonical_codes_map_to_kinds() {
        let cases = [
            (
                400,
                "INVALID_ARGUMENT",
                "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
                ErrorKind::ContextLengthExceeded,
            ),
            (
                400,
                "FAILED_PRECONDITION",
                "User location is not supported for the API use.",
                ErrorKind::InvalidRequest,
            ),
            (
                403,
                "PERMISSION_DENIED",
                "Method doesn't allow unregistered callers",
                ErrorKind::PermissionDenied,
            ),
            (
                404,
                "NOT_FOUND",
                "models/nope is not found for API version v1beta",
                ErrorKind::NotFound,
            ),
            (
                429,
                "RESOURCE_EXHAUSTED",
                "Your prepayment credits are depleted.",
                ErrorKind::QuotaExhausted,
            ),
            (
                500,
                "INTERNAL",
                "An internal error has occurred.",
                ErrorKind::Server,
            ),
            (
                503,
                "UNAVAILABLE",
                "The model is overloaded.",
                ErrorKind::Overloaded,
            ),
            (
                504,
                "DEADLINE_EXCEEDED",
                "Deadline expired.",
                ErrorKind::Timeout,
            ),
            (
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials.",
                ErrorKind::Authentication,
            ),
            (502, "", "bad gateway", ErrorKind::Server),
        ];
        for (code, canonical, message, kind) in cases {
            let err = from_status(&status(code, canonical, message), None, None, "k");
            assert_eq!(err.kind(), kind, "{canonical}: {message}");
            assert_eq!(err.status(), Some(u16::try_from(code).unwrap()));
        }
    }

    #[test]
    fn retry_delays_parse_from_proto_durations_headers_and_messages() {
        assert_eq!(parse_proto_duration("21s"), Some(Duration::from_secs(21)));
        assert_eq!(
            parse_proto_duration("1.5s"),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(parse_proto_duration("soon"), None);
        assert_eq!(
            delay_in_message("Quota exceeded. Please retry in 34.4s."),
            Some(Duration::from_secs_f64(34.4))
        );
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", "7".parse().unwrap());
        let err = from_status(
            &status(429, "RESOURCE_EXHAUSTED", "slow down"),
            Some(429),
            Some(&headers),
            "k",
        );
        assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    }

    #[test]
    fn the_key_is_redacted_from_error_messages() {
        let body = serde_json::json!({"error": {"code": 400, "status": "INVALID_ARGUMENT",
            "message": "bad key AIzaSECRETKEY123 given"}});
        let failure = HttpFailure {
            status: 400,
            headers: HeaderMap::new(),
            body: Bytes::from(body.to_string()),
        };
        let err = from_failure(&failure, "AIzaSECRETKEY123");
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("AIzaSECRETKEY123"), "{shown}");
        assert!(shown.contains("[REDACTED]"), "{shown}");
        assert_eq!(err.code(), Some("INVALID_ARGUMENT"));

        let failure = HttpFailure {
            status: 502,
            headers: HeaderMap::new(),
            body: Bytes::from_static(b"<html>proxy saw AIzaSECRETKEY123</html>"),
        };
        let err = from_failure(&failure, "AIzaSECRETKEY123");
        assert_eq!(err.kind(), ErrorKind::Server);
        assert!(!format!("{err:?}").contains("AIzaSECRETKEY123"));
    }
}
