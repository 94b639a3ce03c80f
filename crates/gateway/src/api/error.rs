//! Every failure the gateway answers, in OpenAI's error shape:
//! `{"error":{"message","type","param","code"}}` with the right HTTP status.
//!
//! [`status_of`] is the one place that maps a [`tollgate_core::ErrorKind`] to a status,
//! an OpenAI error `type` and a `code`; `docs/gateway.md` lists the same table.

use std::time::Duration;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use tollgate_core::{Error, ErrorKind};

/// How one [`ErrorKind`] is answered: status, OpenAI error `type`, and `code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorClass {
    /// The HTTP status.
    pub status: StatusCode,
    /// OpenAI's error `type` (`invalid_request_error`, `rate_limit_error`, …).
    pub kind: &'static str,
    /// The `code`: the tollgate error kind (`rate_limited`, `overloaded`, …) unless the
    /// error carries a more precise one of OpenAI's (`context_length_exceeded`, …).
    pub code: &'static str,
}

/// The status, `type` and `code` an error of `kind` is answered with.
///
/// Errors the caller can fix are 4xx; failures of the providers behind the gateway are
/// 502 (the upstream failed or answered nonsense), 503 (overloaded) or 504 (timed out).
/// An upstream authentication or permission failure is the gateway's own configuration
/// problem, not the caller's, so it is a 502 rather than a 401/403 that would make
/// clients distrust their gateway key.
pub fn status_of(kind: ErrorKind) -> ErrorClass {
    use ErrorKind as K;
    let (status, kind_str, code) = match kind {
        K::InvalidRequest => (
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "invalid_request",
        ),
        K::ContextLengthExceeded => (
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "context_length_exceeded",
        ),
        K::ContentFiltered => (
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "content_filter",
        ),
        K::Unsupported => (
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "unsupported",
        ),
        K::RateLimited => (
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_error",
            "rate_limited",
        ),
        K::NoRoute => (
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_error",
            "no_route",
        ),
        K::QuotaExhausted => (
            StatusCode::TOO_MANY_REQUESTS,
            "insufficient_quota",
            "insufficient_quota",
        ),
        K::BudgetExceeded => (
            StatusCode::TOO_MANY_REQUESTS,
            "insufficient_quota",
            "budget_exceeded",
        ),
        K::Authentication => (
            StatusCode::BAD_GATEWAY,
            "upstream_error",
            "upstream_authentication",
        ),
        K::PermissionDenied => (
            StatusCode::BAD_GATEWAY,
            "upstream_error",
            "upstream_permission_denied",
        ),
        K::NotFound => (
            StatusCode::BAD_GATEWAY,
            "upstream_error",
            "upstream_not_found",
        ),
        K::Server => (StatusCode::BAD_GATEWAY, "server_error", "server"),
        K::Transport => (StatusCode::BAD_GATEWAY, "server_error", "transport"),
        K::Decode => (StatusCode::BAD_GATEWAY, "server_error", "decode"),
        K::Overloaded => (
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            "overloaded",
        ),
        K::Timeout => (StatusCode::GATEWAY_TIMEOUT, "timeout_error", "timeout"),
        // The caller went away: nobody reads this answer, but logs and metrics do.
        K::Cancelled => (CLIENT_CLOSED_REQUEST, "cancelled", "cancelled"),
        // `ErrorKind` is non-exhaustive: a kind added later is a server error until it
        // gets a row of its own.
        _ => (StatusCode::BAD_GATEWAY, "server_error", "unknown"),
    };
    ErrorClass {
        status,
        kind: kind_str,
        code,
    }
}

/// 499, nginx's "client closed request".
const CLIENT_CLOSED_REQUEST: StatusCode = match StatusCode::from_u16(499) {
    Ok(status) => status,
    Err(_) => StatusCode::BAD_REQUEST,
};

/// An error answer: status, OpenAI error body, and a `retry-after` when waiting helps.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The human-readable message.
    pub message: String,
    /// OpenAI's error `type`.
    pub kind: &'static str,
    /// The request field at fault (`messages[0].content`), if any.
    pub param: Option<String>,
    /// A machine-readable code.
    pub code: String,
    /// How long to wait before trying again, sent as `retry-after` (whole seconds,
    /// rounded up) and `retry-after-ms`.
    pub retry_after: Option<Duration>,
}

impl ApiError {
    /// An error with every field given.
    pub fn new(
        status: StatusCode,
        kind: &'static str,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            message: message.into(),
            kind,
            param: None,
            code: code.into(),
            retry_after: None,
        }
    }

    /// 400 for a request the gateway cannot read; `param` names the field path.
    pub fn invalid_request(message: impl Into<String>, param: Option<String>) -> Self {
        Self {
            param,
            ..Self::new(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "invalid_request",
                message,
            )
        }
    }

    /// 401: a missing or unknown gateway key (OpenAI's exact shape).
    pub fn invalid_api_key(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "invalid_api_key",
            message,
        )
    }

    /// 404: an unknown route, listing the ones the caller may use.
    pub fn unknown_model<'a>(model: &str, known: impl IntoIterator<Item = &'a str>) -> Self {
        let mut list = String::new();
        for name in known {
            if !list.is_empty() {
                list.push_str(", ");
            }
            list.push_str(name);
        }
        let message = if list.is_empty() {
            format!("The model `{model}` does not exist: this gateway serves no routes.")
        } else {
            format!("The model `{model}` does not exist. Known models (routes): {list}.")
        };
        Self {
            param: Some("model".to_owned()),
            ..Self::new(
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                "model_not_found",
                message,
            )
        }
    }

    /// 413: the body is larger than the gateway accepts.
    pub fn body_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            "request_too_large",
            format!("The request body exceeds the gateway's limit of {limit} bytes."),
        )
    }

    /// The answer for a tollgate error from the route's service: its status, type and
    /// code from [`status_of`] (a provider's own code wins for 4xx it explains), its
    /// full text (provider, kind, upstream status, message — the router's per-deployment
    /// explanation when a route ran out of deployments) and its `retry_after`.
    pub fn from_error(error: &Error) -> Self {
        let class = status_of(error.kind());
        let code = match error.code() {
            Some(code) if class.status.is_client_error() && error.kind() != ErrorKind::NoRoute => {
                code.to_owned()
            }
            _ => class.code.to_owned(),
        };
        Self {
            status: class.status,
            message: error.to_string(),
            kind: class.kind,
            param: None,
            code,
            retry_after: error.retry_after(),
        }
    }

    /// Sets how long to wait before trying again.
    pub fn with_retry_after(mut self, retry_after: Duration) -> Self {
        self.retry_after = Some(retry_after);
        self
    }

    /// The OpenAI error body, `{"error":{…}}`.
    pub fn body(&self) -> ErrorBody<'_> {
        ErrorBody {
            error: ErrorObject {
                message: &self.message,
                kind: self.kind,
                param: self.param.as_deref(),
                code: &self.code,
            },
        }
    }

    /// The body serialized as JSON.
    pub fn to_json(&self) -> Vec<u8> {
        // Serializing these plain string fields cannot fail.
        serde_json::to_vec(&self.body()).unwrap_or_default()
    }
}

/// `{"error": {...}}`.
#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    /// The error.
    pub error: ErrorObject<'a>,
}

/// OpenAI's error object.
#[derive(Debug, Serialize)]
pub struct ErrorObject<'a> {
    /// What went wrong, for a person.
    pub message: &'a str,
    /// The class of error.
    #[serde(rename = "type")]
    pub kind: &'a str,
    /// The request field at fault, or `null`.
    pub param: Option<&'a str>,
    /// A machine-readable code.
    pub code: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = Response::new(Body::from(self.to_json()));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(wait) = self.retry_after {
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
            let ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
            headers.insert("retry-after-ms", HeaderValue::from(ms));
        }
        response
    }
}

impl From<&Error> for ApiError {
    fn from(error: &Error) -> Self {
        Self::from_error(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_kind_maps_to_its_status_type_and_code() {
        use ErrorKind as K;
        let table = [
            (
                K::InvalidRequest,
                400,
                "invalid_request_error",
                "invalid_request",
            ),
            (
                K::ContextLengthExceeded,
                400,
                "invalid_request_error",
                "context_length_exceeded",
            ),
            (
                K::ContentFiltered,
                400,
                "invalid_request_error",
                "content_filter",
            ),
            (K::Unsupported, 400, "invalid_request_error", "unsupported"),
            (K::RateLimited, 429, "rate_limit_error", "rate_limited"),
            (K::NoRoute, 429, "rate_limit_error", "no_route"),
            (
                K::QuotaExhausted,
                429,
                "insufficient_quota",
                "insufficient_quota",
            ),
            (
                K::BudgetExceeded,
                429,
                "insufficient_quota",
                "budget_exceeded",
            ),
            (
                K::Authentication,
                502,
                "upstream_error",
                "upstream_authentication",
            ),
            (
                K::PermissionDenied,
                502,
                "upstream_error",
                "upstream_permission_denied",
            ),
            (K::NotFound, 502, "upstream_error", "upstream_not_found"),
            (K::Server, 502, "server_error", "server"),
            (K::Transport, 502, "server_error", "transport"),
            (K::Decode, 502, "server_error", "decode"),
            (K::Overloaded, 503, "server_error", "overloaded"),
            (K::Timeout, 504, "timeout_error", "timeout"),
            (K::Cancelled, 499, "cancelled", "cancelled"),
        ];
        for (kind, status, kind_str, code) in table {
            let class = status_of(kind);
            assert_eq!(
                (class.status.as_u16(), class.kind, class.code),
                (status, kind_str, code),
                "{kind:?}"
            );
        }
    }

    #[test]
    fn no_kind_is_answered_with_a_bare_500() {
        use ErrorKind as K;
        for kind in [
            K::InvalidRequest,
            K::Authentication,
            K::PermissionDenied,
            K::NotFound,
            K::RateLimited,
            K::QuotaExhausted,
            K::ContextLengthExceeded,
            K::ContentFiltered,
            K::Timeout,
            K::Overloaded,
            K::Server,
            K::Transport,
            K::Decode,
            K::Cancelled,
            K::BudgetExceeded,
            K::NoRoute,
            K::Unsupported,
        ] {
            assert_ne!(status_of(kind).status, StatusCode::INTERNAL_SERVER_ERROR);
        }
    }

    #[test]
    fn provider_codes_explain_client_errors_but_not_upstream_failures() {
        let ctx = Error::new(ErrorKind::ContextLengthExceeded, "too long")
            .with_provider("openai")
            .with_code("context_length_exceeded");
        assert_eq!(ApiError::from_error(&ctx).code, "context_length_exceeded");
        let quota =
            Error::new(ErrorKind::QuotaExhausted, "no credit").with_code("insufficient_quota");
        assert_eq!(ApiError::from_error(&quota).code, "insufficient_quota");
        let server = Error::new(ErrorKind::Server, "boom").with_code("internal_error");
        assert_eq!(ApiError::from_error(&server).code, "server");
    }

    #[test]
    fn the_body_has_openais_shape_and_retry_after_rounds_up() {
        let err = ApiError::from_error(
            &Error::new(ErrorKind::RateLimited, "slow down")
                .with_provider("openai")
                .with_status(429)
                .with_retry_after(Duration::from_millis(1500)),
        );
        let body: serde_json::Value = serde_json::from_slice(&err.to_json()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"error": {
                "message": "openai: rate_limited (HTTP 429): slow down",
                "type": "rate_limit_error",
                "param": null,
                "code": "rate_limited"
            }})
        );
        let response = err.into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()["retry-after"], "2");
        assert_eq!(response.headers()["retry-after-ms"], "1500");
    }
}
