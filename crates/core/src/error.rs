//! One error type for every provider and every router policy.
//!
//! [`Error::is_retryable`] and [`Error::is_fallback_eligible`] are the single source of
//! truth every router policy consults; nothing else in Tollgate decides from status codes.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A shorthand for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, in terms a caller and a router can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request is malformed or asks for something the model rejects.
    InvalidRequest,
    /// The credentials are missing or wrong.
    Authentication,
    /// The credentials may not do this.
    PermissionDenied,
    /// The model or endpoint does not exist.
    NotFound,
    /// Too many requests or tokens for now; try again later.
    RateLimited,
    /// The account is out of credit or quota; waiting will not help.
    QuotaExhausted,
    /// The conversation does not fit the model's context window.
    ContextLengthExceeded,
    /// The provider's safety system refused the request or the answer.
    ContentFiltered,
    /// No answer (or no first token) within the time allowed.
    Timeout,
    /// The provider is overloaded (Anthropic 529, Gemini 503 `UNAVAILABLE`).
    Overloaded,
    /// The provider failed internally (5xx).
    Server,
    /// The connection failed or broke.
    Transport,
    /// The provider answered something that could not be read.
    Decode,
    /// The caller gave up (dropped the stream or the future).
    Cancelled,
    /// A spending limit would be exceeded.
    BudgetExceeded,
    /// No deployment can serve the request (all cooling down, over limits, unfit).
    NoRoute,
    /// The provider cannot do what the request asks (a feature it lacks).
    Unsupported,
}

impl ErrorKind {
    /// The snake_case name (`rate_limited`, …), used as `error.type` in telemetry.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::Authentication => "authentication",
            Self::PermissionDenied => "permission_denied",
            Self::NotFound => "not_found",
            Self::RateLimited => "rate_limited",
            Self::QuotaExhausted => "quota_exhausted",
            Self::ContextLengthExceeded => "context_length_exceeded",
            Self::ContentFiltered => "content_filtered",
            Self::Timeout => "timeout",
            Self::Overloaded => "overloaded",
            Self::Server => "server",
            Self::Transport => "transport",
            Self::Decode => "decode",
            Self::Cancelled => "cancelled",
            Self::BudgetExceeded => "budget_exceeded",
            Self::NoRoute => "no_route",
            Self::Unsupported => "unsupported",
        }
    }

    /// The kind an HTTP status means when the body says nothing more specific.
    pub fn from_status(status: u16) -> Self {
        match status {
            400 | 422 => Self::InvalidRequest,
            401 => Self::Authentication,
            403 => Self::PermissionDenied,
            404 => Self::NotFound,
            408 => Self::Timeout,
            409 => Self::Server,
            413 => Self::ContextLengthExceeded,
            429 => Self::RateLimited,
            503 | 529 => Self::Overloaded,
            504 => Self::Timeout,
            500..=599 => Self::Server,
            _ => Self::InvalidRequest,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error from a provider, a router policy or the transport between them.
///
/// It carries its [`ErrorKind`], the provider, the HTTP status and provider error code
/// when there were any, how long the provider asked to wait (`retry_after`), and the
/// underlying cause. It is cheap to clone (routers keep the errors of failed attempts).
/// Its message never contains credentials: provider crates build it from response bodies
/// with the key redacted and from transport errors with their URL removed.
///
/// ```
/// use std::time::Duration;
/// use tollgate_core::{Error, ErrorKind};
///
/// let err = Error::new(ErrorKind::RateLimited, "slow down")
///     .with_provider("openai")
///     .with_status(429)
///     .with_retry_after(Duration::from_secs(2));
/// assert!(err.is_retryable());
/// assert!(err.is_fallback_eligible());
/// assert_eq!(err.to_string(), "openai: rate_limited (HTTP 429): slow down");
/// ```
#[derive(Clone)]
pub struct Error {
    inner: Box<Inner>,
}

#[derive(Clone)]
struct Inner {
    kind: ErrorKind,
    message: String,
    provider: Option<String>,
    status: Option<u16>,
    code: Option<String>,
    retry_after: Option<Duration>,
    retryable: Option<bool>,
    source: Option<Arc<dyn StdError + Send + Sync>>,
}

impl Error {
    /// An error of `kind` with a human-readable message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                provider: None,
                status: None,
                code: None,
                retry_after: None,
                retryable: None,
                source: None,
            }),
        }
    }

    /// A [`ErrorKind::Decode`] error for a body that could not be read, quoting at most
    /// the first 200 characters of what arrived.
    pub fn decode(what: impl fmt::Display, body: &[u8]) -> Self {
        Self::new(
            ErrorKind::Decode,
            format!("{what}; received: {}", excerpt(body, 200)),
        )
    }

    /// Sets the provider (`openai`, `anthropic`, …).
    pub fn with_provider(mut self, provider: impl Into<String>) -> Self {
        self.inner.provider = Some(provider.into());
        self
    }

    /// Sets the HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.inner.status = Some(status);
        self
    }

    /// Sets the provider's error code (`insufficient_quota`, `overloaded_error`, …).
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.inner.code = Some(code.into());
        self
    }

    /// Sets how long the provider asked to wait before trying again.
    pub fn with_retry_after(mut self, retry_after: Duration) -> Self {
        self.inner.retry_after = Some(retry_after);
        self
    }

    /// Overrides [`is_retryable`](Self::is_retryable), as a provider's
    /// `x-should-retry` header does.
    pub fn with_retryable(mut self, retryable: bool) -> Self {
        self.inner.retryable = Some(retryable);
        self
    }

    /// Sets the underlying cause.
    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.inner.source = Some(Arc::new(source));
        self
    }

    /// Changes the kind, keeping everything else.
    pub fn with_kind(mut self, kind: ErrorKind) -> Self {
        self.inner.kind = kind;
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The message, without provider, kind or status.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// The provider, if the error came from one.
    pub fn provider(&self) -> Option<&str> {
        self.inner.provider.as_deref()
    }

    /// The HTTP status, if the error came from a response.
    pub fn status(&self) -> Option<u16> {
        self.inner.status
    }

    /// The provider's error code, if it gave one.
    pub fn code(&self) -> Option<&str> {
        self.inner.code.as_deref()
    }

    /// How long the provider asked to wait, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        self.inner.retry_after
    }

    /// Whether sending the same request to the same deployment again may succeed.
    ///
    /// True for rate limits, overload, server and transport errors and timeouts (unless a
    /// provider said otherwise); false for everything a retry cannot fix, including
    /// exhausted quota.
    pub fn is_retryable(&self) -> bool {
        if let Some(explicit) = self.inner.retryable {
            return explicit;
        }
        matches!(
            self.inner.kind,
            ErrorKind::RateLimited
                | ErrorKind::Overloaded
                | ErrorKind::Server
                | ErrorKind::Transport
                | ErrorKind::Timeout
        )
    }

    /// Whether another deployment of the same route may succeed where this one failed.
    ///
    /// True for everything retryable, and also for errors tied to one deployment rather
    /// than to the request: exhausted quota, bad or unauthorised credentials, an unknown
    /// model, an unreadable answer, an unsupported feature. False for requests that are
    /// wrong everywhere (`InvalidRequest`), for the caller's own cancellation, budget and
    /// routing errors, and for context-length and content-filter errors, which routers
    /// send to their dedicated fallbacks (larger context windows, a content-policy
    /// fallback) rather than down the general chain.
    pub fn is_fallback_eligible(&self) -> bool {
        self.is_retryable()
            || matches!(
                self.inner.kind,
                ErrorKind::RateLimited
                    | ErrorKind::Overloaded
                    | ErrorKind::Server
                    | ErrorKind::Transport
                    | ErrorKind::Timeout
                    | ErrorKind::QuotaExhausted
                    | ErrorKind::Authentication
                    | ErrorKind::PermissionDenied
                    | ErrorKind::NotFound
                    | ErrorKind::Decode
                    | ErrorKind::Unsupported
            )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(provider) = &self.inner.provider {
            write!(f, "{provider}: ")?;
        }
        write!(f, "{}", self.inner.kind)?;
        if let Some(status) = self.inner.status {
            write!(f, " (HTTP {status})")?;
        }
        if !self.inner.message.is_empty() {
            write!(f, ": {}", self.inner.message)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind)
            .field("message", &self.inner.message);
        if let Some(provider) = &self.inner.provider {
            d.field("provider", provider);
        }
        if let Some(status) = self.inner.status {
            d.field("status", &status);
        }
        if let Some(code) = &self.inner.code {
            d.field("code", code);
        }
        if let Some(retry_after) = self.inner.retry_after {
            d.field("retry_after", &retry_after);
        }
        if let Some(source) = &self.inner.source {
            d.field("source", &source.to_string());
        }
        d.finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_ref()
            .map(|s| s.as_ref() as &(dyn StdError + 'static))
    }
}

impl PartialEq for Error {
    /// Errors compare equal when everything but the source is equal.
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (&self.inner, &other.inner);
        a.kind == b.kind
            && a.message == b.message
            && a.provider == b.provider
            && a.status == b.status
            && a.code == b.code
            && a.retry_after == b.retry_after
    }
}

/// The stable JSON form of an error (the source is summarised as text).
#[derive(Serialize, Deserialize)]
struct ErrorRecord {
    kind: ErrorKind,
    message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after_ms: Option<u64>,
}

impl Serialize for Error {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ErrorRecord {
            kind: self.inner.kind,
            message: self.inner.message.clone(),
            provider: self.inner.provider.clone(),
            status: self.inner.status,
            code: self.inner.code.clone(),
            retry_after_ms: self
                .inner
                .retry_after
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Error {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let record = ErrorRecord::deserialize(deserializer)?;
        let mut error = Error::new(record.kind, record.message);
        error.inner.provider = record.provider;
        error.inner.status = record.status;
        error.inner.code = record.code;
        error.inner.retry_after = record.retry_after_ms.map(Duration::from_millis);
        Ok(error)
    }
}

/// At most `max_chars` characters of `body` as lossy UTF-8, with `…` when cut.
pub fn excerpt(body: &[u8], max_chars: usize) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out: String = text.chars().take(max_chars).collect();
    if text.chars().nth(max_chars).is_some() {
        out.push('…');
    }
    out
}

/// `text` with every occurrence of `secret` replaced by `[REDACTED]`. Provider crates run
/// error bodies through this with their API key before quoting them.
pub fn redact<'a>(text: &'a str, secret: &str) -> Cow<'a, str> {
    if secret.len() < 4 || !text.contains(secret) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.replace(secret, "[REDACTED]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_exhaustion_is_not_retryable_but_falls_back() {
        let err = Error::new(ErrorKind::QuotaExhausted, "no credit");
        assert!(!err.is_retryable());
        assert!(err.is_fallback_eligible());
    }

    #[test]
    fn invalid_requests_neither_retry_nor_fall_back() {
        let err = Error::new(ErrorKind::InvalidRequest, "bad");
        assert!(!err.is_retryable());
        assert!(!err.is_fallback_eligible());
        let ctx = Error::new(ErrorKind::ContextLengthExceeded, "too long");
        assert!(!ctx.is_fallback_eligible());
    }

    #[test]
    fn an_explicit_should_retry_overrides_the_kind() {
        let err = Error::new(ErrorKind::Server, "x").with_retryable(false);
        assert!(!err.is_retryable());
        let err = Error::new(ErrorKind::InvalidRequest, "x").with_retryable(true);
        assert!(err.is_retryable());
    }

    #[test]
    fn statuses_map_to_kinds() {
        assert_eq!(ErrorKind::from_status(529), ErrorKind::Overloaded);
        assert_eq!(ErrorKind::from_status(502), ErrorKind::Server);
        assert_eq!(ErrorKind::from_status(401), ErrorKind::Authentication);
        assert_eq!(ErrorKind::from_status(429), ErrorKind::RateLimited);
    }

    #[test]
    fn errors_round_trip_through_json() {
        let err = Error::new(ErrorKind::RateLimited, "slow")
            .with_provider("groq")
            .with_status(429)
            .with_code("rate_limit_exceeded")
            .with_retry_after(Duration::from_millis(1500));
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(json["retry_after_ms"], 1500);
        let back: Error = serde_json::from_value(json).unwrap();
        assert_eq!(back, err);
    }

    #[test]
    fn redaction_and_excerpts() {
        assert_eq!(
            redact("key sk-abcdef bad", "sk-abcdef"),
            "key [REDACTED] bad"
        );
        assert_eq!(excerpt(b"abcdef", 3), "abc…");
        assert_eq!(excerpt(b"abc", 3), "abc");
    }
}
