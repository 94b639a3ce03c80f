//! Every recorded-shape fixture in `tests/data/` read into its exact normalised result,
//! without a network: bodies through `decode::response`, SSE through `ChatEvents`, error
//! wrappers through `ErrorMapper::from_failure`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use bytes::Bytes;
use futures_util::{StreamExt, stream};
use http::{HeaderMap, HeaderName, HeaderValue};
use tollgate_core::sse::SseStream;
use tollgate_core::{
    AssistantPart, ChatEvent, ChatResponse, ChatStream, Error, ErrorKind, FinishReason, ReplyMeta,
    Secret, ToolCall, Usage,
};
use tollgate_http::HttpFailure;
use tollgate_openai::{ChatEvents, ErrorMapper, decode};

fn data(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/data/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn errors(provider: &str) -> ErrorMapper {
    ErrorMapper::new(provider, Secret::new("sk-test-fixture-key"))
}

fn complete(path: &str) -> ChatResponse {
    decode::response(
        &data(path),
        "requested-model",
        &errors("openai"),
        ReplyMeta::for_provider("openai", "https://api.openai.com/v1"),
    )
    .unwrap()
}

async fn stream_events(provider: &str, path: &str) -> Vec<ChatEvent> {
    let sse = SseStream::new(stream::iter([Ok::<_, Error>(Bytes::from(data(path)))]));
    ChatEvents::new(sse, errors(provider), "requested-model")
        .map(Result::unwrap)
        .collect()
        .await
}

async fn stream_response(provider: &str, path: &str) -> ChatResponse {
    let sse = SseStream::new(stream::iter([Ok::<_, Error>(Bytes::from(data(path)))]));
    let events = ChatEvents::new(sse, errors(provider), "requested-model");
    ChatStream::begin(ReplyMeta::default(), events)
        .await
        .unwrap()
        .collect()
        .await
        .unwrap()
}

fn failure(path: &str) -> HttpFailure {
    let wrapper: serde_json::Value = serde_json::from_slice(&data(path)).unwrap();
    let mut headers = HeaderMap::new();
    for (name, value) in wrapper["headers"].as_object().unwrap() {
        headers.insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value.as_str().unwrap()).unwrap(),
        );
    }
    HttpFailure {
        status: u16::try_from(wrapper["status"].as_u64().unwrap()).unwrap(),
        headers,
        body: Bytes::from(serde_json::to_vec(&wrapper["body"]).unwrap()),
    }
}

fn start(id: &str, model: &str) -> ChatEvent {
    ChatEvent::Start {
        id: id.into(),
        model: model.into(),
    }
}

fn finish(reason: FinishReason, raw: &str) -> ChatEvent {
    ChatEvent::Finish {
        reason,
        raw: Some(raw.into()),
    }
}

#[test]
fn openai_chat_text() {
    let r = complete("openai/chat-text.json");
    assert_eq!(r.id, "chatcmpl-CQz7mWb1TqLr8Ka4VnEo2Yd9HsJx");
    assert_eq!(r.model, "gpt-4o-mini-2024-07-18");
    assert_eq!(
        r.message.content,
        vec![AssistantPart::Text {
            text: "A lighthouse keeper's log usually records the weather, the state of the lamp, and any ships sighted during the watch.".into()
        }]
    );
    assert!(r.message.tool_calls.is_empty());
    assert_eq!(r.finish_reason, FinishReason::Stop);
    assert_eq!(r.provider_finish_reason.as_deref(), Some("stop"));
    assert_eq!(r.usage, Some(Usage::new(28, 25)));
    assert_eq!(r.meta.provider, "openai");
    assert_eq!(r.meta.server_address.as_deref(), Some("api.openai.com"));
}

#[test]
fn openai_chat_tool_call() {
    let r = complete("openai/chat-tool-call.json");
    assert_eq!(r.id, "chatcmpl-CQz8Pf3kLm0Zx6RtY2cWq5Vb7NaE");
    assert_eq!(r.model, "gpt-4o-2024-08-06");
    assert!(r.message.content.is_empty());
    assert_eq!(
        r.message.tool_calls,
        vec![
            ToolCall::new(
                "call_Hq2VtR8mXk4Lp0sWn7YbC3dE",
                "get_tide_times",
                r#"{"harbor":"Brest","date":"2026-03-14"}"#
            ),
            ToolCall::new(
                "call_Zr5NfJ1aGu9Qe6TkB8oLm2Xs",
                "get_tide_times",
                r#"{"harbor":"Saint-Malo","date":"2026-03-14"}"#
            ),
        ]
    );
    assert_eq!(r.finish_reason, FinishReason::ToolCalls);
    assert_eq!(r.provider_finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(
        r.usage,
        Some(Usage {
            input_tokens: 1342,
            output_tokens: 61,
            cache_read_tokens: 1152,
            cache_write_tokens: 0,
            reasoning_tokens: 0,
        })
    );
}

#[tokio::test]
async fn openai_chat_stream_text() {
    let events = stream_events("openai", "openai/chat-stream-text.sse").await;
    assert_eq!(
        events,
        vec![
            start(
                "chatcmpl-CQz9aTn4Rw2Ek7Hy1Mv6Up0Jq3Lb",
                "gpt-4o-mini-2024-07-18"
            ),
            ChatEvent::text("Fog"),
            ChatEvent::text(" horns"),
            ChatEvent::text(" sound"),
            ChatEvent::text(" every"),
            ChatEvent::text(" thirty seconds."),
            ChatEvent::Usage(Usage::new(19, 7)),
            finish(FinishReason::Stop, "stop"),
        ]
    );
}

#[tokio::test]
async fn openai_chat_stream_tool_call() {
    let events = stream_events("openai", "openai/chat-stream-tool-call.sse").await;
    let delta = |index: u32, arguments: &str| ChatEvent::ToolCallDelta {
        index,
        arguments: arguments.into(),
    };
    assert_eq!(
        events,
        vec![
            start("chatcmpl-CQzAbUo5Sx3Fl8Iz2Nw7Vq1Kr4Mc", "gpt-4o-2024-08-06"),
            ChatEvent::ToolCallStart {
                index: 0,
                id: "call_Hq2VtR8mXk4Lp0sWn7YbC3dE".into(),
                name: "get_tide_times".into()
            },
            delta(0, "{\"ha"),
            delta(0, "rbor\": \"Br"),
            delta(0, "est\", \"date\": \"2026-03-14\"}"),
            ChatEvent::ToolCallStart {
                index: 1,
                id: "call_Zr5NfJ1aGu9Qe6TkB8oLm2Xs".into(),
                name: "get_tide_times".into()
            },
            delta(1, "{\"harbor\": \"Saint-"),
            delta(1, "Malo\", \"date\": \"2026-03-14\"}"),
            ChatEvent::Usage(Usage {
                input_tokens: 1342,
                output_tokens: 61,
                cache_read_tokens: 1152,
                ..Usage::default()
            }),
            finish(FinishReason::ToolCalls, "tool_calls"),
        ]
    );
    let r = stream_response("openai", "openai/chat-stream-tool-call.sse").await;
    assert_eq!(
        r.message.tool_calls,
        vec![
            ToolCall::new(
                "call_Hq2VtR8mXk4Lp0sWn7YbC3dE",
                "get_tide_times",
                r#"{"harbor": "Brest", "date": "2026-03-14"}"#
            ),
            ToolCall::new(
                "call_Zr5NfJ1aGu9Qe6TkB8oLm2Xs",
                "get_tide_times",
                r#"{"harbor": "Saint-Malo", "date": "2026-03-14"}"#
            ),
        ]
    );
}

#[tokio::test]
async fn groq_stream_usage_comes_from_x_groq() {
    let events = stream_events("groq", "openai-compat/groq-stream-text.sse").await;
    assert_eq!(
        events,
        vec![
            start(
                "chatcmpl-3f1c9a2e-7b4d-4e8a-9c6f-1a2b3c4d5e6f",
                "llama-3.3-70b-versatile"
            ),
            ChatEvent::text("Fog horns sound"),
            ChatEvent::text(" every thirty seconds."),
            ChatEvent::Usage(Usage::new(44, 8)),
            finish(FinishReason::Stop, "stop"),
        ]
    );
}

#[tokio::test]
async fn ollama_whole_tool_call_in_one_chunk() {
    let events = stream_events("ollama", "openai-compat/ollama-stream-tool-call.sse").await;
    assert_eq!(
        events,
        vec![
            start("chatcmpl-412", "qwen3:8b"),
            ChatEvent::ToolCallStart {
                index: 0,
                id: "call_k3v9x2qa".into(),
                name: "get_tide_times".into()
            },
            ChatEvent::ToolCallDelta {
                index: 0,
                arguments: r#"{"date":"2026-03-14","harbor":"Brest"}"#.into()
            },
            ChatEvent::Usage(Usage::new(187, 29)),
            finish(FinishReason::ToolCalls, "tool_calls"),
        ]
    );
}

#[test]
fn openai_error_400_invalid_type() {
    let err = errors("openai").from_failure(&failure("openai/error-400.json"));
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.code(), Some("invalid_type"));
    assert_eq!(
        err.message(),
        "Invalid type for 'max_completion_tokens': expected an integer, but got a string instead. (param: max_completion_tokens)"
    );
    assert_eq!(err.provider(), Some("openai"));
    assert!(!err.is_retryable());
    assert!(!err.is_fallback_eligible());
    assert_eq!(err.retry_after(), None);
}

#[test]
fn openai_error_429_rate_limit_waits_for_the_exhausted_tokens_dimension() {
    let err = errors("openai").from_failure(&failure("openai/error-429.json"));
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.status(), Some(429));
    assert_eq!(err.code(), Some("rate_limit_exceeded"));
    // remaining-tokens is 0 (reset 1.434s); remaining-requests is 498 (its 240ms is ignored).
    assert_eq!(err.retry_after(), Some(Duration::from_millis(1434)));
    assert!(err.is_retryable());
    assert!(
        err.message()
            .starts_with("Rate limit reached for gpt-4o-mini")
    );
}

#[test]
fn openai_error_429_insufficient_quota_is_not_retryable() {
    let err = errors("openai").from_failure(&failure("openai/error-429-insufficient-quota.json"));
    assert_eq!(err.kind(), ErrorKind::QuotaExhausted);
    assert_eq!(err.status(), Some(429));
    assert_eq!(err.code(), Some("insufficient_quota"));
    assert!(!err.is_retryable());
    assert!(err.is_fallback_eligible());
    assert_eq!(err.retry_after(), None);
}

#[test]
fn groq_error_429_prefers_retry_after() {
    let err = errors("groq").from_failure(&failure("openai-compat/groq-error-429.json"));
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.provider(), Some("groq"));
    assert_eq!(err.code(), Some("rate_limit_exceeded"));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    assert!(err.is_retryable());
}

#[test]
fn mistral_flat_error_envelope() {
    let err = errors("mistral_ai").from_failure(&failure("openai-compat/mistral-error-400.json"));
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert_eq!(err.code(), Some("3280"));
    assert_eq!(
        err.message(),
        "Tool call id was toolu_01Vx4Np7Rk2Wq9Lc5Tb8Hm3J but must be a-z, A-Z, 0-9, with a length of 9."
    );
    assert!(!err.is_retryable());
}

#[test]
fn vllm_integer_code_and_context_length_message() {
    let err = errors("vllm").from_failure(&failure("openai-compat/vllm-error-400.json"));
    assert_eq!(err.kind(), ErrorKind::ContextLengthExceeded);
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.code(), Some("400"));
    assert!(
        err.message()
            .starts_with("This model's maximum context length is 32768 tokens.")
    );
}
