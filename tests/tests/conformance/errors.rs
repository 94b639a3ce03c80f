//! Every error class, as each provider really answers it, maps to the same `ErrorKind`,
//! retryability and `retry_after` — for complete and streaming calls alike (a streaming
//! call fails before its first event, so the error is the call's, not a stream item).

use std::time::Duration;

use tollgate_core::{Error, ErrorKind};
use tollgate_testkit::scenario::{ScenarioError, error_reply, error_reply_for_stream};
use tollgate_tests::Target;

use crate::support::{assert_no_key, question, start};

/// What a class must become.
struct Expect {
    kind: ErrorKind,
    retryable: bool,
    retry_after: Option<Duration>,
}

fn check(target: Target, class: ScenarioError, error: &Error, expect: &Expect, how: &str) {
    let context = format!("{target} {class:?} ({how}): {error}");
    assert_eq!(error.kind(), expect.kind, "{context}");
    assert_eq!(error.is_retryable(), expect.retryable, "{context}");
    assert_eq!(error.retry_after(), expect.retry_after, "{context}");
    assert_eq!(error.provider(), Some(target.provider()), "{context}");
    assert_no_key(error);
}

async fn error_class(target: Target, class: ScenarioError, expect: Expect) {
    let h = start(target).await;

    h.server.push(error_reply(target.flavor(), class));
    let error = h.client.chat(question(target)).await.unwrap_err();
    check(target, class, &error, &expect, "complete");

    h.server
        .push(error_reply_for_stream(target.flavor(), class));
    let error = h.client.stream(question(target)).await.unwrap_err();
    check(target, class, &error, &expect, "streaming");

    assert_eq!(h.server.request_count(), 2);
}

fn not_retryable(kind: ErrorKind) -> Expect {
    Expect {
        kind,
        retryable: false,
        retry_after: None,
    }
}

fn retryable(kind: ErrorKind) -> Expect {
    Expect {
        kind,
        retryable: true,
        retry_after: None,
    }
}

/// 429 rate limits are retryable and carry the delay the provider asked for (a
/// `retry-after` header, or Gemini's `RetryInfo.retryDelay`).
pub async fn rate_limited(target: Target) {
    let expect = Expect {
        retry_after: Some(Duration::from_secs(17)),
        ..retryable(ErrorKind::RateLimited)
    };
    error_class(
        target,
        ScenarioError::RateLimited {
            retry_after_secs: 17,
        },
        expect,
    )
    .await;
}

/// Exhausted quota or credit (OpenAI 429 `insufficient_quota`, Anthropic 402
/// `billing_error`, Gemini per-day `RESOURCE_EXHAUSTED`) is never retryable.
pub async fn quota_exhausted(target: Target) {
    error_class(
        target,
        ScenarioError::QuotaExhausted,
        not_retryable(ErrorKind::QuotaExhausted),
    )
    .await;
}

/// Overload (OpenAI 503, Anthropic 529, Gemini 503 `UNAVAILABLE`) is retryable.
pub async fn overloaded(target: Target) {
    error_class(
        target,
        ScenarioError::Overloaded,
        retryable(ErrorKind::Overloaded),
    )
    .await;
}

/// A 500 is retryable.
pub async fn server(target: Target) {
    error_class(target, ScenarioError::Server, retryable(ErrorKind::Server)).await;
}

/// A bad key (Gemini: 400 `API_KEY_INVALID`) is an authentication error.
pub async fn authentication(target: Target) {
    error_class(
        target,
        ScenarioError::Authentication,
        not_retryable(ErrorKind::Authentication),
    )
    .await;
}

/// 403.
pub async fn permission_denied(target: Target) {
    error_class(
        target,
        ScenarioError::PermissionDenied,
        not_retryable(ErrorKind::PermissionDenied),
    )
    .await;
}

/// An unknown model.
pub async fn not_found(target: Target) {
    error_class(
        target,
        ScenarioError::NotFound,
        not_retryable(ErrorKind::NotFound),
    )
    .await;
}

/// A malformed request.
pub async fn invalid_request(target: Target) {
    error_class(
        target,
        ScenarioError::InvalidRequest,
        not_retryable(ErrorKind::InvalidRequest),
    )
    .await;
}

/// A prompt over the context window, recognised from each provider's wording.
pub async fn context_length_exceeded(target: Target) {
    error_class(
        target,
        ScenarioError::ContextLengthExceeded,
        not_retryable(ErrorKind::ContextLengthExceeded),
    )
    .await;
}

/// A safety block: an HTTP 400 for OpenAI and Anthropic; for Gemini a 200 whose
/// `promptFeedback.blockReason` leaves no answer, which the client must still turn into
/// an error (of the call, also when streaming).
pub async fn content_filtered(target: Target) {
    error_class(
        target,
        ScenarioError::ContentFiltered,
        not_retryable(ErrorKind::ContentFiltered),
    )
    .await;
}
