//! Every recorded Anthropic payload in `tests/data` decodes to exactly the normalised
//! result it stands for.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use tollgate_anthropic::decode::decode_response;
use tollgate_anthropic::error::{from_http_failure, from_http_failure_at, parse_rfc3339};
use tollgate_anthropic::wire::MessagesResponse;
use tollgate_core::{
    AssistantPart, ChatEvent, ErrorKind, FinishReason, ReplyMeta, ToolCall, Usage,
};
use tollgate_http::HttpFailure;

use support::{KEY, all_items, collect, fixture};

fn meta() -> ReplyMeta {
    ReplyMeta::for_provider("anthropic", "https://api.anthropic.com")
}

fn complete(name: &str) -> tollgate_core::ChatResponse {
    let wire: MessagesResponse = serde_json::from_str(&fixture(name)).unwrap();
    decode_response(wire, None, meta())
}

/// A fixture's `{"status", "headers", "body"}` wrapper as the failure the HTTP layer reads.
fn failure(name: &str) -> HttpFailure {
    let wrapper: serde_json::Value = serde_json::from_str(&fixture(name)).unwrap();
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
        body: Bytes::from(wrapper["body"].to_string()),
    }
}

#[test]
fn messages_text_json() {
    let response = complete("messages-text.json");
    assert_eq!(response.id, "msg_01Fq7TzWc2Hk9LmR4bNx8VpA");
    assert_eq!(response.model, "claude-sonnet-4-5-20250929");
    assert_eq!(
        response.text(),
        "A lighthouse keeper's log usually records the weather, the state of the lamp, and any ships sighted during the watch."
    );
    assert!(response.message.tool_calls.is_empty());
    assert_eq!(response.finish_reason, FinishReason::Stop);
    assert_eq!(response.provider_finish_reason.as_deref(), Some("end_turn"));
    assert_eq!(response.usage, Some(Usage::new(31, 29)));
    assert_eq!(response.meta.provider, "anthropic");
    assert_eq!(
        response.meta.server_address.as_deref(),
        Some("api.anthropic.com")
    );
}

#[test]
fn messages_tool_use_json_with_cache_reads_in_the_input_count() {
    let response = complete("messages-tool-use.json");
    assert_eq!(response.id, "msg_01Kd3WvQ8nRt5YbJ2mHc6ZsE");
    assert_eq!(
        response.message.content,
        vec![AssistantPart::Text {
            text: "I'll look up the tide tables for both harbors.".into()
        }]
    );
    assert_eq!(
        response.message.tool_calls,
        vec![
            ToolCall::new(
                "toolu_01Vx4Np7Rk2Wq9Lc5Tb8Hm3J",
                "get_tide_times",
                r#"{"date":"2026-03-14","harbor":"Brest"}"#
            ),
            ToolCall::new(
                "toolu_01Gm8Qs3Yd6Ft1Xk4Pw9Rn2C",
                "get_tide_times",
                r#"{"date":"2026-03-14","harbor":"Saint-Malo"}"#
            ),
        ]
    );
    assert_eq!(response.finish_reason, FinishReason::ToolCalls);
    assert_eq!(response.provider_finish_reason.as_deref(), Some("tool_use"));
    assert_eq!(
        response.usage,
        Some(Usage {
            input_tokens: 190 + 1152,
            output_tokens: 118,
            cache_read_tokens: 1152,
            cache_write_tokens: 0,
            reasoning_tokens: 0,
        })
    );
}

/// The encrypted `data` of the `redacted_thinking` block in the redacted-thinking fixtures.
const REDACTED_DATA: &str = "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2YfWXGmKDxH4mPnZ5sQ7vB5URv/ZvkWGNzH4ZHXLU4nMKhRwV2Um9rJ8Hq3Yd6Ek=";

/// A `redacted_thinking` block is kept (Anthropic requires it back in a tool loop), in its
/// place between the signed thinking and the text, and marked as Anthropic's.
#[test]
fn messages_redacted_thinking_json_keeps_every_block_in_order() {
    let response = complete("messages-redacted-thinking.json");
    let anthropic = Some("anthropic".to_owned());
    assert_eq!(
        response.message.content,
        vec![
            AssistantPart::Reasoning {
                text: "The user wants the tides in Brest. I should call the tide tool.".into(),
                signature: Some(
                    "EqQBCkgIBxABGAIiQHt3GmZbQ1Jp8sV2Xk6nYc4TfR9wLd0Ae5Hs7Uq1Io3Kb8Nz2Mv6Pj4Cx9Gy5Rt0Wl1Sd3Fh7Ja=="
                        .into()
                ),
                signed_by: anthropic.clone(),
            },
            AssistantPart::RedactedReasoning {
                data: REDACTED_DATA.into(),
                signed_by: anthropic,
            },
            AssistantPart::Text {
                text: "Let me look that up.".into()
            },
        ]
    );
    assert_eq!(
        response.message.tool_calls,
        vec![ToolCall::new(
            "toolu_01Vx4Np7Rk2Wq9Lc5Tb8Hm3J",
            "get_tide_times",
            r#"{"date":"2026-03-14","harbor":"Brest"}"#
        )]
    );
    assert_eq!(response.finish_reason, FinishReason::ToolCalls);
    // Opaque data is not reasoning text.
    assert_eq!(
        response.message.reasoning_content().as_deref(),
        Some("The user wants the tides in Brest. I should call the tide tool.")
    );
}

/// The stream of the same answer yields the redacted block as one `ReasoningRedacted`
/// event in its place, and collects to exactly the complete response.
#[tokio::test]
async fn messages_stream_redacted_thinking_sse_collects_to_the_complete_response() {
    let body = fixture("messages-stream-redacted-thinking.sse");
    let events: Vec<ChatEvent> = all_items(&body, None)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let signature = events
        .iter()
        .position(|e| matches!(e, ChatEvent::ReasoningSignature { .. }))
        .unwrap();
    assert_eq!(
        events[signature + 1],
        ChatEvent::ReasoningRedacted {
            data: REDACTED_DATA.into()
        }
    );
    assert_eq!(events[signature + 2], ChatEvent::text("Let me look"));

    let streamed = collect(&body, None).await.unwrap();
    let wire: MessagesResponse =
        serde_json::from_str(&fixture("messages-redacted-thinking.json")).unwrap();
    // The meta `collect` gives every stream.
    let complete = decode_response(
        wire,
        None,
        ReplyMeta::for_provider("anthropic", "http://127.0.0.1:1"),
    );
    assert_eq!(streamed, complete);
}

#[tokio::test]
async fn messages_stream_text_sse() {
    let items = all_items(&fixture("messages-stream-text.sse"), None).await;
    let events: Vec<ChatEvent> = items.into_iter().map(Result::unwrap).collect();
    assert_eq!(
        events,
        vec![
            ChatEvent::Start {
                id: "msg_01Pz6RbT9wKq3Hn7Vc2Lx5Ym".into(),
                model: "claude-sonnet-4-5-20250929".into()
            },
            ChatEvent::Usage(Usage::new(22, 1)),
            ChatEvent::text("Fog horns"),
            ChatEvent::text(" sound every"),
            ChatEvent::text(" thirty seconds."),
            ChatEvent::Usage(Usage::new(22, 10)),
            ChatEvent::Finish {
                reason: FinishReason::Stop,
                raw: Some("end_turn".into())
            },
        ]
    );
    let response = collect(&fixture("messages-stream-text.sse"), None)
        .await
        .unwrap();
    assert_eq!(response.text(), "Fog horns sound every thirty seconds.");
    assert_eq!(response.usage, Some(Usage::new(22, 10)));
}

#[tokio::test]
async fn messages_stream_tool_use_sse_indexes_tool_calls_not_blocks() {
    let items = all_items(&fixture("messages-stream-tool-use.sse"), None).await;
    let events: Vec<ChatEvent> = items.into_iter().map(Result::unwrap).collect();
    let expected_usage = |output| Usage {
        input_tokens: 190 + 1152,
        output_tokens: output,
        cache_read_tokens: 1152,
        ..Usage::default()
    };
    assert_eq!(
        events,
        vec![
            ChatEvent::Start {
                id: "msg_01Tn2QyW5cLr8Js4Dk7Hb1Xv".into(),
                model: "claude-sonnet-4-5-20250929".into()
            },
            ChatEvent::Usage(expected_usage(2)),
            ChatEvent::text("I'll look up"),
            ChatEvent::text(" the tide tables for Brest."),
            // Content block 1 is tool call 0.
            ChatEvent::ToolCallStart {
                index: 0,
                id: "toolu_01Vx4Np7Rk2Wq9Lc5Tb8Hm3J".into(),
                name: "get_tide_times".into()
            },
            ChatEvent::ToolCallDelta {
                index: 0,
                arguments: "{\"harbor\": \"Br".into()
            },
            ChatEvent::ToolCallDelta {
                index: 0,
                arguments: "est\", \"date\": \"2026".into()
            },
            ChatEvent::ToolCallDelta {
                index: 0,
                arguments: "-03-14\"}".into()
            },
            ChatEvent::Usage(expected_usage(71)),
            ChatEvent::Finish {
                reason: FinishReason::ToolCalls,
                raw: Some("tool_use".into())
            },
        ]
    );
    let response = collect(&fixture("messages-stream-tool-use.sse"), None)
        .await
        .unwrap();
    assert_eq!(
        response.message.tool_calls,
        vec![ToolCall::new(
            "toolu_01Vx4Np7Rk2Wq9Lc5Tb8Hm3J",
            "get_tide_times",
            r#"{"harbor": "Brest", "date": "2026-03-14"}"#
        )]
    );
    assert_eq!(response.usage, Some(expected_usage(71)));
}

#[tokio::test]
async fn messages_stream_error_overloaded_sse_ends_with_an_overloaded_item() {
    let items = all_items(&fixture("messages-stream-error-overloaded.sse"), None).await;
    assert_eq!(items.len(), 4, "{items:?}");
    assert_eq!(items[2].as_ref().unwrap(), &ChatEvent::text("Fog horns"));
    let err = items[3].as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Overloaded);
    assert_eq!(err.code(), Some("overloaded_error"));
    assert_eq!(err.provider(), Some("anthropic"));
    assert!(err.is_retryable());

    let err = collect(&fixture("messages-stream-error-overloaded.sse"), None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Overloaded);
}

#[test]
fn error_529_json_is_overloaded() {
    let err = from_http_failure(&failure("error-529.json"), KEY);
    assert_eq!(err.kind(), ErrorKind::Overloaded);
    assert_eq!(err.status(), Some(529));
    assert_eq!(err.code(), Some("overloaded_error"));
    assert_eq!(
        err.message(),
        "Overloaded (request-id req_011CXa6Mh5Yc1Gv8Rf3Qn7Tw)"
    );
    assert_eq!(err.retry_after(), None);
    assert!(err.is_retryable());
}

#[test]
fn error_429_json_is_rate_limited_with_retry_after() {
    let failure = failure("error-429.json");
    let err = from_http_failure(&failure, KEY);
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.status(), Some(429));
    assert_eq!(err.code(), Some("rate_limit_error"));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(12)));
    assert!(err.message().starts_with(
        "This request would exceed your organization's rate limit of 30,000 input tokens per minute"
    ));
    assert!(
        err.message()
            .ends_with("(request-id req_011CXa4Rz8Tn2Lq6Wb9Hk3Ym)")
    );
    assert!(err.is_retryable());
}

#[test]
fn error_429_json_without_retry_after_waits_for_the_exhausted_limit() {
    let mut failure = failure("error-429.json");
    failure.headers.remove("retry-after");
    // Input tokens are exhausted until 09:30:17; the other limits have room left.
    let now = parse_rfc3339("2026-03-14T09:30:02Z").unwrap();
    let err = from_http_failure_at(&failure, KEY, now);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(15)));
}

#[test]
fn error_400_json_is_an_invalid_request() {
    let err = from_http_failure(&failure("error-400.json"), KEY);
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.code(), Some("invalid_request_error"));
    assert_eq!(
        err.message(),
        "messages.1.content.0.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$' \
         (request-id req_011CXa5Bq2Wd7Kt9Np4Ls1Vr)"
    );
    assert!(!err.is_retryable());
    assert!(!err.is_fallback_eligible());
}
