//! Status + headers + body → [`tollgate_core::Error`].
//!
//! | What arrived | [`ErrorKind`] | Retryable |
//! | --- | --- | --- |
//! | `code`/`type` `insufficient_quota` (any status, usually 429) | `QuotaExhausted` | never |
//! | `code` `context_length_exceeded`, or a message about the context length / window (vLLM, Groq, …) | `ContextLengthExceeded` | no |
//! | `code` `content_filter` / `content_policy_violation` | `ContentFiltered` | no |
//! | `code` `invalid_api_key` | `Authentication` | no |
//! | `code` `model_not_found` | `NotFound` | no |
//! | 413 about tokens per minute (Groq: one request larger than the TPM limit) | `RateLimited` | no (another deployment may take it) |
//! | otherwise the status: 400/422 `InvalidRequest`, 401 `Authentication`, 403 `PermissionDenied`, 404 `NotFound`, 408/504 `Timeout`, 413 `ContextLengthExceeded`, 429 `RateLimited`, 503 `Overloaded`, other 5xx `Server` | | as the kind |
//! | an `error` object in a 200 body or mid-stream | from `code`/`type` as above; an integer `code` is read as a status; otherwise `Server` | as the kind |
//!
//! `retry_after` comes from `retry-after-ms`, then `retry-after`, then (for rate limits)
//! the `x-ratelimit-reset-requests` / `-tokens` Go durations of the dimensions whose
//! `x-ratelimit-remaining-*` is 0 (the longest of them), then a "try again in 1.434s" in
//! the message. `x-should-retry` overrides retryability, except for exhausted quota.
//!
//! The message quotes the provider's message (with `param` when given), run through
//! [`redact`] with the API key, and cut to 1000 characters.

use std::fmt;
use std::time::Duration;

use http::HeaderMap;
use serde_json::Value;
use tollgate_core::error::{excerpt, redact};
use tollgate_core::retry_after::parse_go_duration;
use tollgate_core::{Error, ErrorKind, Secret};
use tollgate_http::HttpFailure;

use crate::wire::ErrorBody;

/// The longest provider message quoted in an error.
const MAX_MESSAGE_CHARS: usize = 1000;

/// Builds [`Error`]s for one endpoint: its provider name on every error, its key
/// redacted from every quoted body.
///
/// ```
/// use tollgate_core::{ErrorKind, Secret};
/// use tollgate_openai::ErrorMapper;
///
/// let errors = ErrorMapper::new("openai", Secret::new("sk-live-123"));
/// let body = serde_json::json!({"error": {"message": "bad key sk-live-123", "code": "invalid_api_key"}});
/// let err = errors.from_error_value(&body, Some(401));
/// assert_eq!(err.kind(), ErrorKind::Authentication);
/// assert!(!err.to_string().contains("sk-live-123"));
/// ```
#[derive(Clone)]
pub struct ErrorMapper {
    provider: String,
    key: Secret,
}

impl fmt::Debug for ErrorMapper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorMapper")
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

impl ErrorMapper {
    /// A mapper for `provider` that redacts `key`.
    pub fn new(provider: impl Into<String>, key: Secret) -> Self {
        Self {
            provider: provider.into(),
            key,
        }
    }

    /// The provider name.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// `text` with the key redacted.
    pub fn redact<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        redact(text, self.key.expose())
    }

    /// The error for a non-success HTTP answer.
    pub fn from_failure(&self, failure: &HttpFailure) -> Error {
        let json = failure.json();
        let body = json.as_ref().and_then(ErrorBody::from_value);
        let message = match &body {
            Some(body) => self.message_of(body),
            None if failure.body.is_empty() => "the response had no body".to_owned(),
            None => self.redact(&excerpt(&failure.body, 200)).into_owned(),
        };
        let mut error = failure.base_error(&self.provider, message);
        let body = body.unwrap_or_default();
        if let Some(code) = body.code.as_ref().or(body.kind.as_ref()) {
            error = error.with_code(self.redact(code).into_owned());
        }
        let kind = refine_kind(Some(failure.status), &body);
        error = error.with_kind(kind);
        if failure.status == 413 && kind == ErrorKind::RateLimited {
            // One request larger than the per-minute token budget: waiting cannot help.
            error = error.with_retryable(false);
        }
        finish(error, Some(&failure.headers), &body)
    }

    /// The error for an `error` object in a 200 body or a stream event (`value` is the
    /// whole body or event; a bare error object or string is read too). `status` is the
    /// HTTP status if it was not a success.
    pub fn from_error_value(&self, value: &Value, status: Option<u16>) -> Error {
        let body = ErrorBody::from_value(value)
            .or_else(|| {
                // A bare error object: {"message": …} is covered above, so this is e.g.
                // {"code": …} alone, or a string.
                match value {
                    Value::String(message) => Some(ErrorBody {
                        message: Some(message.clone()),
                        ..ErrorBody::default()
                    }),
                    Value::Object(_) => {
                        ErrorBody::from_value(&serde_json::json!({ "error": value.clone() }))
                    }
                    _ => None,
                }
            })
            .unwrap_or_default();
        let message = self.message_of(&body);
        let kind = refine_kind(status, &body);
        let mut error = Error::new(kind, message).with_provider(self.provider.as_str());
        if let Some(status) = status {
            error = error.with_status(status);
        }
        if let Some(code) = body.code.as_ref().or(body.kind.as_ref()) {
            error = error.with_code(self.redact(code).into_owned());
        }
        finish(error, None, &body)
    }

    /// A [`ErrorKind::Decode`] error quoting the start of what arrived (redacted).
    pub fn decode(&self, what: impl fmt::Display, received: &[u8]) -> Error {
        let quoted = excerpt(received, 200);
        Error::new(
            ErrorKind::Decode,
            format!("{what}; received: {}", self.redact(&quoted)),
        )
        .with_provider(self.provider.as_str())
    }

    /// A transport failure of this endpoint (URL stripped).
    pub fn transport(&self, error: impl std::error::Error + Send + Sync + 'static) -> Error {
        tollgate_http::transport_error(&self.provider, error)
    }

    fn message_of(&self, body: &ErrorBody) -> String {
        let mut message = match &body.message {
            Some(message) => excerpt(message.as_bytes(), MAX_MESSAGE_CHARS),
            None => "the provider gave no message".to_owned(),
        };
        if let Some(param) = &body.param {
            message.push_str(" (param: ");
            message.push_str(param);
            message.push(')');
        }
        self.redact(&message).into_owned()
    }
}

/// The kind for an error with this status (if any) and body.
fn refine_kind(status: Option<u16>, body: &ErrorBody) -> ErrorKind {
    let code = body.code.as_deref().unwrap_or_default();
    let kind = body.kind.as_deref().unwrap_or_default();
    let is = |value: &str| code == value || kind == value;
    if is("insufficient_quota") {
        return ErrorKind::QuotaExhausted;
    }
    if is("context_length_exceeded") || mentions_context_length(body.message.as_deref()) {
        return ErrorKind::ContextLengthExceeded;
    }
    if is("content_filter") || is("content_policy_violation") {
        return ErrorKind::ContentFiltered;
    }
    if is("invalid_api_key") {
        return ErrorKind::Authentication;
    }
    if is("model_not_found") {
        return ErrorKind::NotFound;
    }
    // An integer code (vLLM, OpenRouter) is an HTTP status.
    let status = status
        .filter(|s| !(200..300).contains(s))
        .or_else(|| code.parse::<u16>().ok().filter(|s| (400..600).contains(s)));
    match status {
        Some(413) if mentions_token_rate(body.message.as_deref()) => ErrorKind::RateLimited,
        Some(status) => ErrorKind::from_status(status),
        None => {
            if is("rate_limit_exceeded") || is("rate_limited") || is("rate_limit_error") {
                ErrorKind::RateLimited
            } else if is("overloaded") || is("overloaded_error") || is("service_unavailable") {
                ErrorKind::Overloaded
            } else if is("invalid_request_error") {
                ErrorKind::InvalidRequest
            } else {
                // A failure reported inside a successful answer is the server's.
                ErrorKind::Server
            }
        }
    }
}

fn mentions_context_length(message: Option<&str>) -> bool {
    let Some(message) = message else { return false };
    let lower = message.to_ascii_lowercase();
    lower.contains("context length")
        || lower.contains("context_length_exceeded")
        || lower.contains("context window")
}

fn mentions_token_rate(message: Option<&str>) -> bool {
    let Some(message) = message else { return false };
    message.contains("(TPM)") || message.to_ascii_lowercase().contains("tokens per minute")
}

/// Adds what every error gets once its kind is known: `retry_after` for rate limits and
/// non-retryability for exhausted quota.
fn finish(mut error: Error, headers: Option<&HeaderMap>, body: &ErrorBody) -> Error {
    match error.kind() {
        ErrorKind::QuotaExhausted => error = error.with_retryable(false),
        ErrorKind::RateLimited if error.retry_after().is_none() => {
            let delay = headers
                .and_then(rate_limit_reset)
                .or_else(|| body.message.as_deref().and_then(try_again_in));
            if let Some(delay) = delay {
                error = error.with_retry_after(delay);
            }
        }
        _ => {}
    }
    error
}

/// The longest `x-ratelimit-reset-{requests,tokens}` among the dimensions whose
/// `x-ratelimit-remaining-*` is 0.
pub fn rate_limit_reset(headers: &HeaderMap) -> Option<Duration> {
    ["requests", "tokens"]
        .into_iter()
        .filter(|dimension| {
            header(headers, &format!("x-ratelimit-remaining-{dimension}"))
                .and_then(|v| v.parse::<f64>().ok())
                .is_some_and(|remaining| remaining <= 0.0)
        })
        .filter_map(|dimension| {
            header(headers, &format!("x-ratelimit-reset-{dimension}")).and_then(parse_go_duration)
        })
        .max()
}

/// The delay in "… Please try again in 1.434s." (OpenAI, Groq).
fn try_again_in(message: &str) -> Option<Duration> {
    let (_, rest) = message.split_once("try again in ")?;
    let token = rest.split_whitespace().next()?;
    let token = token.trim_end_matches(['.', ',', ';', ')']);
    parse_go_duration(token).filter(|d| !d.is_zero())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name)?.to_str().ok().map(str::trim)
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
            body: Bytes::copy_from_slice(body.as_bytes()),
        }
    }

    fn mapper() -> ErrorMapper {
        ErrorMapper::new("openai", Secret::new("sk-test-key-123"))
    }

    #[test]
    fn the_reset_of_the_exhausted_dimension_is_the_delay() {
        let f = failure(
            429,
            &[
                ("x-ratelimit-remaining-requests", "3"),
                ("x-ratelimit-remaining-tokens", "0"),
                ("x-ratelimit-reset-requests", "20s"),
                ("x-ratelimit-reset-tokens", "1.5s"),
            ],
            r#"{"error":{"message":"slow down","code":"rate_limit_exceeded"}}"#,
        );
        let err = mapper().from_failure(&f);
        assert_eq!(err.kind(), ErrorKind::RateLimited);
        assert_eq!(err.retry_after(), Some(Duration::from_millis(1500)));
    }

    #[test]
    fn when_both_dimensions_are_exhausted_the_longer_reset_wins() {
        let f = failure(
            429,
            &[
                ("x-ratelimit-remaining-requests", "0"),
                ("x-ratelimit-remaining-tokens", "0"),
                ("x-ratelimit-reset-requests", "6m0s"),
                ("x-ratelimit-reset-tokens", "1.5s"),
            ],
            r#"{"error":{"message":"slow down"}}"#,
        );
        assert_eq!(
            mapper().from_failure(&f).retry_after(),
            Some(Duration::from_secs(360))
        );
    }

    #[test]
    fn the_message_is_the_last_resort_for_the_delay() {
        let f = failure(
            429,
            &[],
            r#"{"error":{"message":"Limit 10. Please try again in 2.5s. Visit x","code":"rate_limit_exceeded"}}"#,
        );
        assert_eq!(
            mapper().from_failure(&f).retry_after(),
            Some(Duration::from_millis(2500))
        );
    }

    #[test]
    fn exhausted_quota_is_never_retryable_even_when_the_server_says_retry() {
        let f = failure(
            429,
            &[("x-should-retry", "true")],
            r#"{"error":{"message":"quota","type":"insufficient_quota","code":"insufficient_quota"}}"#,
        );
        let err = mapper().from_failure(&f);
        assert_eq!(err.kind(), ErrorKind::QuotaExhausted);
        assert!(!err.is_retryable());
        assert!(err.is_fallback_eligible());
    }

    #[test]
    fn a_groq_413_over_the_token_rate_is_a_rate_limit_that_waiting_cannot_fix() {
        let f = failure(
            413,
            &[],
            r#"{"error":{"message":"Request too large for model `x` on tokens per minute (TPM): Limit 6000, Requested 9000","type":"tokens","code":"rate_limit_exceeded"}}"#,
        );
        let err = mapper().from_failure(&f);
        assert_eq!(err.kind(), ErrorKind::RateLimited);
        assert!(!err.is_retryable());
        assert!(err.is_fallback_eligible());
    }

    #[test]
    fn a_non_json_body_is_quoted_redacted() {
        let f = failure(502, &[], "<html>bad gateway for sk-test-key-123</html>");
        let err = mapper().from_failure(&f);
        assert_eq!(err.kind(), ErrorKind::Server);
        let shown = err.to_string();
        assert!(shown.contains("bad gateway"), "{shown}");
        assert!(!shown.contains("sk-test-key-123"), "{shown}");
    }

    #[test]
    fn mid_stream_errors_use_code_type_or_integer_code() {
        let m = mapper();
        let server = m.from_error_value(
            &serde_json::json!({"error": {"message": "boom", "type": "server_error"}}),
            None,
        );
        assert_eq!(server.kind(), ErrorKind::Server);
        assert_eq!(server.status(), None);
        let overloaded = m.from_error_value(
            &serde_json::json!({"error": {"message": "busy", "code": 503}}),
            None,
        );
        assert_eq!(overloaded.kind(), ErrorKind::Overloaded);
        let limited = m.from_error_value(
            &serde_json::json!({"error": {"message": "x", "code": "rate_limit_exceeded"}}),
            None,
        );
        assert_eq!(limited.kind(), ErrorKind::RateLimited);
        let bare = m.from_error_value(&serde_json::json!("oops"), None);
        assert_eq!(bare.message(), "oops");
    }
}
