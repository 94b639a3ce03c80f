//! Each error class as each provider really answers it.

use serde_json::{Value, json};

use super::gemini;
use super::{Scenario, push_event};
use crate::{Flavor, Reply, wire_error};

/// An error class, rendered by [`error_reply`] in each provider's real status, headers and
/// body shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScenarioError {
    /// OpenAI 429 `rate_limit_exceeded` (type `tokens`) with `retry-after` and `x-ratelimit-*`
    /// headers; Anthropic 429 `rate_limit_error` with `retry-after` and
    /// `anthropic-ratelimit-*` headers; Gemini 429 `RESOURCE_EXHAUSTED` with a per-minute
    /// `QuotaFailure` and `RetryInfo.retryDelay` = `"{retry_after_secs}s"` (no header).
    RateLimited {
        /// The delay the provider asks for, in seconds.
        retry_after_secs: u64,
    },
    /// OpenAI 429 `insufficient_quota` (not retryable). Anthropic has no quota error of that
    /// shape: it answers an exhausted prepaid balance with 402 `billing_error` (its documented
    /// status for billing problems). Gemini: 429 `RESOURCE_EXHAUSTED` whose `QuotaFailure`
    /// names a per-day quota (`…PerDay…`) and which carries no `RetryInfo`.
    QuotaExhausted,
    /// OpenAI 503 `server_error` ("overloaded"); Anthropic 529 `overloaded_error`; Gemini 503
    /// `UNAVAILABLE` ("The model is overloaded").
    Overloaded,
    /// OpenAI 500 `server_error`; Anthropic 500 `api_error`; Gemini 500 `INTERNAL`.
    Server,
    /// OpenAI 401 `invalid_api_key`; Anthropic 401 `authentication_error`; Gemini **400**
    /// `INVALID_ARGUMENT` with `ErrorInfo.reason` `API_KEY_INVALID`.
    Authentication,
    /// OpenAI 403 `unsupported_country_region_territory`; Anthropic 403 `permission_error`;
    /// Gemini 403 `PERMISSION_DENIED`.
    PermissionDenied,
    /// OpenAI 404 `model_not_found`; Anthropic 404 `not_found_error`; Gemini 404 `NOT_FOUND`.
    NotFound,
    /// OpenAI 400 `invalid_request_error` / `invalid_type`; Anthropic 400
    /// `invalid_request_error`; Gemini 400 `INVALID_ARGUMENT` with `BadRequest.fieldViolations`.
    InvalidRequest,
    /// OpenAI 400 `context_length_exceeded`; Anthropic 400 `invalid_request_error` "prompt is
    /// too long: N tokens > M maximum"; Gemini 400 `INVALID_ARGUMENT` "The input token count
    /// (N) exceeds the maximum number of tokens allowed (M)."
    ContextLengthExceeded,
    /// OpenAI 400 `invalid_request_error` with code `content_filter` (the code Azure OpenAI and
    /// OpenAI's moderation-backed rejections use). Anthropic 400 `invalid_request_error`
    /// "Output blocked by content filtering policy". Gemini sends no HTTP error for this: it
    /// answers **200** with `promptFeedback.blockReason: "SAFETY"` and no candidates (use
    /// [`error_reply_for_stream`] to get the same as an SSE chunk).
    ContentFiltered,
}

const MODEL_NOT_FOUND: &str = "gpt-4o-mini-nonexistent";

/// The reply `flavor` really sends for `kind` (a non-streaming request; see
/// [`error_reply_for_stream`] for the one class that differs when streaming).
pub fn error_reply(flavor: Flavor, kind: ScenarioError) -> Reply {
    match flavor {
        Flavor::OpenAi => openai(kind),
        Flavor::Anthropic => anthropic(kind),
        Flavor::Gemini => gemini_error(kind, false),
    }
}

/// Like [`error_reply`], for a streaming request. Only Gemini's
/// [`ScenarioError::ContentFiltered`] differs: a 200 SSE body whose one chunk carries
/// `promptFeedback.blockReason`. Every other error arrives before the stream starts.
pub fn error_reply_for_stream(flavor: Flavor, kind: ScenarioError) -> Reply {
    match flavor {
        Flavor::Gemini => gemini_error(kind, true),
        _ => error_reply(flavor, kind),
    }
}

fn openai(kind: ScenarioError) -> Reply {
    let invalid = "invalid_request_error";
    let reply = match kind {
        ScenarioError::RateLimited { retry_after_secs } => {
            let message = format!(
                "Rate limit reached for gpt-4o-mini in organization org-exampleorg000000000000 on \
                 tokens per min (TPM): Limit 30000, Used 29522, Requested 1195. Please try again \
                 in {retry_after_secs}s. Visit https://platform.openai.com/account/rate-limits to \
                 learn more."
            );
            let reset = format!("{retry_after_secs}s");
            wire_error::openai(429, &message, "tokens", None, Some("rate_limit_exceeded"))
                .with_header("retry-after", &retry_after_secs.to_string())
                .with_header("x-ratelimit-limit-requests", "500")
                .with_header("x-ratelimit-limit-tokens", "30000")
                .with_header("x-ratelimit-remaining-requests", "498")
                .with_header("x-ratelimit-remaining-tokens", "0")
                .with_header("x-ratelimit-reset-requests", "240ms")
                .with_header("x-ratelimit-reset-tokens", &reset)
        }
        ScenarioError::QuotaExhausted => wire_error::openai(
            429,
            "You exceeded your current quota, please check your plan and billing details. For \
             more information on this error, read the docs: \
             https://platform.openai.com/docs/guides/error-codes/api-errors.",
            "insufficient_quota",
            None,
            Some("insufficient_quota"),
        ),
        ScenarioError::Overloaded => wire_error::openai(
            503,
            "The engine is currently overloaded, please try again later.",
            "server_error",
            None,
            None,
        ),
        ScenarioError::Server => wire_error::openai(
            500,
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
            None,
            None,
        ),
        ScenarioError::Authentication => wire_error::openai(
            401,
            "Incorrect API key provided. You can find your API key at \
             https://platform.openai.com/account/api-keys.",
            invalid,
            None,
            Some("invalid_api_key"),
        ),
        ScenarioError::PermissionDenied => wire_error::openai(
            403,
            "Country, region, or territory not supported",
            "request_forbidden",
            None,
            Some("unsupported_country_region_territory"),
        ),
        ScenarioError::NotFound => wire_error::openai(
            404,
            &format!(
                "The model `{MODEL_NOT_FOUND}` does not exist or you do not have access to it."
            ),
            invalid,
            None,
            Some("model_not_found"),
        ),
        ScenarioError::InvalidRequest => wire_error::openai(
            400,
            "Invalid type for 'max_completion_tokens': expected an integer, but got a string \
             instead.",
            invalid,
            Some("max_completion_tokens"),
            Some("invalid_type"),
        ),
        ScenarioError::ContextLengthExceeded => wire_error::openai(
            400,
            "This model's maximum context length is 128000 tokens. However, your messages \
             resulted in 131072 tokens. Please reduce the length of the messages.",
            invalid,
            Some("messages"),
            Some("context_length_exceeded"),
        ),
        ScenarioError::ContentFiltered => wire_error::openai(
            400,
            "The response was filtered due to the prompt triggering the content management \
             policy. Please modify your prompt and retry.",
            invalid,
            Some("prompt"),
            Some("content_filter"),
        ),
    };
    reply.with_header("x-request-id", "req_5f0c2d9a7b1e4c3f8a6d0b2e9c7f1a34")
}

fn anthropic(kind: ScenarioError) -> Reply {
    let id = "req_011CXa4Rz8Tn2Lq6Wb9Hk3Ym";
    let invalid = |message: &str| wire_error::anthropic(400, "invalid_request_error", message, id);
    match kind {
        ScenarioError::RateLimited { retry_after_secs } => wire_error::anthropic(
            429,
            "rate_limit_error",
            "This request would exceed your organization's rate limit of 30,000 input tokens per \
             minute (org: 00000000-0000-4000-8000-000000000000, model: \
             claude-sonnet-4-5-20250929). For details, refer to: \
             https://docs.claude.com/en/api/rate-limits. You can see the response headers for \
             current usage. Please reduce the prompt length or the maximum tokens requested, or \
             try again later.",
            id,
        )
        .with_header("retry-after", &retry_after_secs.to_string())
        .with_header("anthropic-ratelimit-input-tokens-limit", "30000")
        .with_header("anthropic-ratelimit-input-tokens-remaining", "0")
        .with_header(
            "anthropic-ratelimit-input-tokens-reset",
            "2026-03-14T09:30:17Z",
        )
        .with_header("anthropic-ratelimit-requests-limit", "50")
        .with_header("anthropic-ratelimit-requests-remaining", "48")
        .with_header("anthropic-ratelimit-requests-reset", "2026-03-14T09:30:05Z"),
        ScenarioError::QuotaExhausted => wire_error::anthropic(
            402,
            "billing_error",
            "Your credit balance is too low to access the Anthropic API. Please go to Plans & \
             Billing to upgrade or purchase credits.",
            id,
        ),
        ScenarioError::Overloaded => {
            wire_error::anthropic(529, "overloaded_error", "Overloaded", id)
        }
        ScenarioError::Server => {
            wire_error::anthropic(500, "api_error", "Internal server error", id)
        }
        ScenarioError::Authentication => {
            wire_error::anthropic(401, "authentication_error", "invalid x-api-key", id)
        }
        ScenarioError::PermissionDenied => wire_error::anthropic(
            403,
            "permission_error",
            "Your API key does not have permission to use the specified resource.",
            id,
        ),
        ScenarioError::NotFound => wire_error::anthropic(
            404,
            "not_found_error",
            "model: claude-nonexistent-model",
            id,
        ),
        ScenarioError::InvalidRequest => invalid(
            "messages.1.content.0.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'",
        ),
        ScenarioError::ContextLengthExceeded => {
            invalid("prompt is too long: 212045 tokens > 200000 maximum")
        }
        ScenarioError::ContentFiltered => invalid("Output blocked by content filtering policy"),
    }
}

/// A google.rpc `QuotaFailure` detail for `quota_id`.
fn quota_failure(quota_id: &str, metric: &str) -> Value {
    json!({
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        "violations": [{
            "quotaMetric": metric,
            "quotaId": quota_id,
            "quotaDimensions": { "location": "global", "model": "gemini-2.5-flash" },
            "quotaValue": "10",
        }],
    })
}

fn quota_help() -> Value {
    json!({
        "@type": "type.googleapis.com/google.rpc.Help",
        "links": [{
            "description": "Learn more about Gemini API quotas",
            "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
        }],
    })
}

fn gemini_error(kind: ScenarioError, stream: bool) -> Reply {
    let status = |code: u16, status: &str, message: &str, details: Vec<Value>| {
        wire_error::gemini(code, status, message, details)
    };
    match kind {
        ScenarioError::RateLimited { retry_after_secs } => status(
            429,
            "RESOURCE_EXHAUSTED",
            &format!(
                "You exceeded your current quota, please check your plan and billing details. \
                 For more information on this error, head to: \
                 https://ai.google.dev/gemini-api/docs/rate-limits. \n* Quota exceeded for \
                 metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, \
                 limit: 10, model: gemini-2.5-flash\nPlease retry in {retry_after_secs}s."
            ),
            vec![
                quota_failure(
                    "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                    "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                ),
                quota_help(),
                json!({
                    "@type": "type.googleapis.com/google.rpc.RetryInfo",
                    "retryDelay": format!("{retry_after_secs}s"),
                }),
            ],
        ),
        ScenarioError::QuotaExhausted => status(
            429,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota, please check your plan and billing details. For \
             more information on this error, head to: \
             https://ai.google.dev/gemini-api/docs/rate-limits. \n* Quota exceeded for metric: \
             generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 250, \
             model: gemini-2.5-flash",
            vec![
                quota_failure(
                    "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
                    "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                ),
                quota_help(),
            ],
        ),
        ScenarioError::Overloaded => status(
            503,
            "UNAVAILABLE",
            "The model is overloaded. Please try again later.",
            Vec::new(),
        ),
        ScenarioError::Server => status(
            500,
            "INTERNAL",
            "An internal error has occurred. Please retry or report in \
             https://developers.generativeai.google/guide/troubleshooting",
            Vec::new(),
        ),
        ScenarioError::Authentication => wire_error::gemini_api_key_invalid(),
        ScenarioError::PermissionDenied => status(
            403,
            "PERMISSION_DENIED",
            "Permission denied: Consumer 'api_key:*****' has been suspended.",
            Vec::new(),
        ),
        ScenarioError::NotFound => status(
            404,
            "NOT_FOUND",
            "models/gemini-nonexistent is not found for API version v1beta, or is not \
             supported for generateContent. Call ListModels to see the list of available \
             models and their supported methods.",
            Vec::new(),
        ),
        ScenarioError::InvalidRequest => {
            let message = "Invalid JSON payload received. Unknown name \"max_tokens\" at \
                           'generation_config': Cannot find field.";
            status(
                400,
                "INVALID_ARGUMENT",
                message,
                vec![wire_error::gemini_bad_request(
                    Some("generation_config"),
                    message,
                )],
            )
        }
        ScenarioError::ContextLengthExceeded => status(
            400,
            "INVALID_ARGUMENT",
            "The input token count (1200000) exceeds the maximum number of tokens allowed \
             (1048576).",
            Vec::new(),
        ),
        ScenarioError::ContentFiltered => {
            let blocked = Scenario::text(Vec::<String>::new())
                .with_id("blocked-prompt-0001")
                .with_model("gemini-2.5-flash");
            let mut usage = gemini::usage(&blocked);
            usage["candidatesTokenCount"] = json!(0);
            usage["totalTokenCount"] = usage["promptTokenCount"].clone();
            let body = json!({
                "promptFeedback": {
                    "blockReason": "SAFETY",
                    "safetyRatings": [
                        { "category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "NEGLIGIBLE" },
                        { "category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE" },
                        { "category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE" },
                        { "category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH" },
                    ],
                },
                "usageMetadata": usage,
                "modelVersion": blocked.model,
                "responseId": blocked.id,
            });
            if stream {
                let mut out = String::new();
                push_event(&mut out, None, &body.to_string(), "\r\n");
                Reply::sse(out)
            } else {
                Reply::json(body).with_header("content-type", gemini::JSON_TYPE)
            }
        }
    }
}
