//! The stream state machine, fed with SSE text (no network).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use bytes::Bytes;
use futures_util::StreamExt;
use proptest::prelude::*;
use serde_json::json;
use tollgate_core::{AssistantPart, ChatEvent, ErrorKind, FinishReason, ToolCall, Usage};

use support::{KEY, all_items, begin, collect, fixture, sse};

fn message_start() -> String {
    sse(
        "message_start",
        json!({"type": "message_start", "message": {
            "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 10, "cache_creation_input_tokens": 4,
                      "cache_read_input_tokens": 6, "output_tokens": 1}}}),
    )
}

fn block_start(index: u32, block: serde_json::Value) -> String {
    sse(
        "content_block_start",
        json!({"type": "content_block_start", "index": index, "content_block": block}),
    )
}

fn delta(index: u32, delta: serde_json::Value) -> String {
    sse(
        "content_block_delta",
        json!({"type": "content_block_delta", "index": index, "delta": delta}),
    )
}

fn block_stop(index: u32) -> String {
    sse(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": index}),
    )
}

fn message_end(stop_reason: &str, output_tokens: u64) -> String {
    sse(
        "message_delta",
        json!({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": null},
               "usage": {"output_tokens": output_tokens}}),
    ) + &sse("message_stop", json!({"type": "message_stop"}))
}

fn error_event(kind: &str, message: &str) -> String {
    sse(
        "error",
        json!({"type": "error", "error": {"type": kind, "message": message}}),
    )
}

fn thinking_body() -> String {
    [
        message_start(),
        block_start(
            0,
            json!({"type": "thinking", "thinking": "", "signature": ""}),
        ),
        delta(
            0,
            json!({"type": "thinking_delta", "thinking": "Tides follow "}),
        ),
        delta(
            0,
            json!({"type": "thinking_delta", "thinking": "the moon."}),
        ),
        delta(
            0,
            json!({"type": "signature_delta", "signature": "EqQBCgIYAhIM"}),
        ),
        block_stop(0),
        block_start(1, json!({"type": "redacted_thinking", "data": "opaque"})),
        block_stop(1),
        block_start(2, json!({"type": "text", "text": ""})),
        delta(
            2,
            json!({"type": "text_delta", "text": "High tide at 06:12."}),
        ),
        delta(
            2,
            json!({"type": "citations_delta", "citation": {"type": "char_location"}}),
        ),
        block_stop(2),
        sse("brand_new_event", json!({"type": "brand_new_event"})),
        message_end("end_turn", 57),
    ]
    .concat()
}

#[tokio::test]
async fn thinking_deltas_become_reasoning_with_its_signature() {
    let events: Vec<ChatEvent> = all_items(&thinking_body(), None)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let input = Usage {
        input_tokens: 20,
        output_tokens: 1,
        cache_read_tokens: 6,
        cache_write_tokens: 4,
        reasoning_tokens: 0,
    };
    assert_eq!(
        events,
        vec![
            ChatEvent::Start {
                id: "msg_1".into(),
                model: "claude-sonnet-4-5".into()
            },
            ChatEvent::Usage(input),
            ChatEvent::ReasoningDelta {
                text: "Tides follow ".into()
            },
            ChatEvent::ReasoningDelta {
                text: "the moon.".into()
            },
            ChatEvent::ReasoningSignature {
                signature: "EqQBCgIYAhIM".into()
            },
            // The `redacted_thinking` block, whole, in its place.
            ChatEvent::ReasoningRedacted {
                data: "opaque".into()
            },
            ChatEvent::text("High tide at 06:12."),
            ChatEvent::Usage(Usage {
                output_tokens: 57,
                ..input
            }),
            ChatEvent::Finish {
                reason: FinishReason::Stop,
                raw: Some("end_turn".into())
            },
        ]
    );
    let response = collect(&thinking_body(), None).await.unwrap();
    assert_eq!(
        response.message.content,
        vec![
            AssistantPart::Reasoning {
                text: "Tides follow the moon.".into(),
                signature: Some("EqQBCgIYAhIM".into()),
                signed_by: Some("anthropic".into()),
            },
            AssistantPart::RedactedReasoning {
                data: "opaque".into(),
                signed_by: Some("anthropic".into()),
            },
            AssistantPart::Text {
                text: "High tide at 06:12.".into()
            },
        ]
    );
}

#[tokio::test]
async fn parallel_tool_calls_are_numbered_among_tool_calls() {
    let body = [
        message_start(),
        block_start(0, json!({"type": "text", "text": ""})),
        delta(0, json!({"type": "text_delta", "text": "Both."})),
        block_stop(0),
        block_start(
            1,
            json!({"type": "tool_use", "id": "toolu_a", "name": "tide", "input": {}}),
        ),
        delta(1, json!({"type": "input_json_delta", "partial_json": ""})),
        delta(
            1,
            json!({"type": "input_json_delta", "partial_json": "{\"harbor\":\"Brest\"}"}),
        ),
        block_stop(1),
        block_start(
            2,
            json!({"type": "tool_use", "id": "toolu_b", "name": "clock", "input": {}}),
        ),
        block_stop(2),
        message_end("tool_use", 40),
    ]
    .concat();
    let response = collect(&body, None).await.unwrap();
    assert_eq!(
        response.message.tool_calls,
        vec![
            ToolCall::new("toolu_a", "tide", r#"{"harbor":"Brest"}"#),
            ToolCall::new("toolu_b", "clock", "{}"),
        ]
    );
    assert_eq!(response.finish_reason, FinishReason::ToolCalls);
    let starts: Vec<u32> = all_items(&body, None)
        .await
        .into_iter()
        .filter_map(|item| match item.unwrap() {
            ChatEvent::ToolCallStart { index, .. } => Some(index),
            _ => None,
        })
        .collect();
    assert_eq!(starts, [0, 1]);
}

#[tokio::test]
async fn the_structured_output_tool_streams_as_text_and_stops() {
    let body = [
        message_start(),
        block_start(
            0,
            json!({"type": "tool_use", "id": "toolu_x", "name": "tide_report", "input": {}}),
        ),
        delta(0, json!({"type": "input_json_delta", "partial_json": ""})),
        delta(
            0,
            json!({"type": "input_json_delta", "partial_json": "{\"harbor\": "}),
        ),
        delta(
            0,
            json!({"type": "input_json_delta", "partial_json": "\"Brest\"}"}),
        ),
        block_stop(0),
        message_end("tool_use", 12),
    ]
    .concat();
    let response = collect(&body, Some("tide_report")).await.unwrap();
    assert_eq!(response.text(), r#"{"harbor": "Brest"}"#);
    assert!(response.message.tool_calls.is_empty());
    assert_eq!(response.finish_reason, FinishReason::Stop);
    assert_eq!(response.provider_finish_reason.as_deref(), Some("tool_use"));

    // A schema tool called with no input still answers `{}`.
    let empty = [
        message_start(),
        block_start(
            0,
            json!({"type": "tool_use", "id": "toolu_x", "name": "json_object", "input": {}}),
        ),
        block_stop(0),
        message_end("tool_use", 3),
    ]
    .concat();
    let response = collect(&empty, Some("json_object")).await.unwrap();
    assert_eq!(response.text(), "{}");
    assert_eq!(response.finish_reason, FinishReason::Stop);
}

#[tokio::test]
async fn an_error_event_before_content_fails_the_call() {
    // Right after message_start: the held-back Start is never released.
    let body = message_start() + &error_event("overloaded_error", "Overloaded");
    let err = begin(vec![Bytes::from(body)], None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Overloaded);
    assert_eq!(err.code(), Some("overloaded_error"));

    // A ping and an empty text block are not content either.
    let body = [
        message_start(),
        sse("ping", json!({"type": "ping"})),
        block_start(0, json!({"type": "text", "text": ""})),
        error_event("api_error", "Internal server error"),
    ]
    .concat();
    let err = begin(vec![Bytes::from(body)], None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);

    // As the very first event.
    let err = begin(
        vec![Bytes::from(error_event("rate_limit_error", "slow down"))],
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
}

#[tokio::test]
async fn an_error_event_after_content_is_the_last_item() {
    let body = [
        message_start(),
        block_start(0, json!({"type": "text", "text": ""})),
        delta(0, json!({"type": "text_delta", "text": "Hal"})),
        error_event("api_error", &format!("failure near {KEY}")),
        // Nothing after the error is read.
        delta(0, json!({"type": "text_delta", "text": "f"})),
        message_end("end_turn", 3),
    ]
    .concat();
    let stream = begin(vec![Bytes::from(body)], None).await.unwrap();
    let items: Vec<_> = StreamExt::collect::<Vec<_>>(stream).await;
    let last = items.last().unwrap().as_ref().unwrap_err();
    assert_eq!(last.kind(), ErrorKind::Server);
    assert!(!format!("{last} {last:?}").contains(KEY));
    assert_eq!(items.iter().filter(|i| i.is_err()).count(), 1);
    assert!(
        !items
            .iter()
            .any(|i| matches!(i, Ok(ChatEvent::Finish { .. })))
    );
}

#[tokio::test]
async fn a_stream_cut_before_message_stop_ends_with_an_error_item() {
    let full = fixture("messages-stream-text.sse");
    let cut = &full[..full.find("event: message_delta").unwrap()];
    let stream = begin(vec![Bytes::from(cut.to_owned())], None)
        .await
        .unwrap();
    let items: Vec<_> = StreamExt::collect::<Vec<_>>(stream).await;
    let err = items.last().unwrap().as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert!(err.message().contains("message_stop"), "{err}");
    assert_eq!(items.iter().filter(|i| i.is_ok()).count(), 5);

    // Cut after message_delta (the finish reason is known but message_stop never came).
    let cut = &full[..full.find("event: message_stop").unwrap()];
    let err = collect(cut, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);

    // Cut before any content: the call itself fails.
    let err = begin(vec![Bytes::from(message_start())], None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
}

#[tokio::test]
async fn unreadable_event_json_is_a_decode_error_quoting_it() {
    let body = message_start()
        + &block_start(0, json!({"type": "text", "text": ""}))
        + &delta(0, json!({"type": "text_delta", "text": "ok"}))
        + "event: content_block_delta\ndata: {\"index\": \"not a number\"\n\n";
    let items = all_items(&body, None).await;
    let err = items.last().unwrap().as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.message().contains("not a number"), "{err}");
}

#[tokio::test]
async fn events_without_an_event_line_are_read_by_their_type() {
    let body = fixture("messages-stream-text.sse")
        .lines()
        .filter(|line| !line.starts_with("event:"))
        .map(|line| format!("{line}\n"))
        .collect::<String>();
    let response = collect(&body, None).await.unwrap();
    assert_eq!(response.text(), "Fog horns sound every thirty seconds.");
    assert_eq!(response.finish_reason, FinishReason::Stop);
}

fn split(body: &[u8], cuts: &[usize]) -> Vec<Bytes> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (body.len() + 1)).collect();
    cuts.sort_unstable();
    let mut chunks = Vec::new();
    let mut last = 0;
    for cut in cuts {
        chunks.push(Bytes::copy_from_slice(&body[last..cut]));
        last = cut;
    }
    chunks.push(Bytes::copy_from_slice(&body[last..]));
    chunks
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// However the bytes of a stream are cut into chunks, the same response comes out.
    #[test]
    fn any_split_of_the_bytes_gives_the_same_response(
        cuts in proptest::collection::vec(0usize..10_000, 0..24),
        which in 0usize..4,
    ) {
        let body = match which {
            0 => fixture("messages-stream-text.sse"),
            1 => fixture("messages-stream-tool-use.sse"),
            2 => fixture("messages-stream-redacted-thinking.sse"),
            _ => thinking_body().replace('\n', "\r\n"),
        };
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let (whole, pieces) = runtime.block_on(async {
            let whole = collect(&body, None).await.unwrap();
            let chunks = split(body.as_bytes(), &cuts);
            let pieces = begin(chunks, None).await.unwrap().collect().await.unwrap();
            (whole, pieces)
        });
        prop_assert_eq!(whole, pieces);
    }
}
