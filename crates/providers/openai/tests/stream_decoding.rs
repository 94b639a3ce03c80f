//! The stream state machine fed with SSE text: interleaved parallel tool calls, servers
//! without usage or ids, and the property that how the bytes are split into network
//! chunks never changes the result.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bytes::Bytes;
use futures_util::{StreamExt, stream};
use proptest::prelude::*;
use tollgate_core::sse::SseStream;
use tollgate_core::{
    AssistantPart, ChatEvent, ChatResponse, ChatStream, Error, FinishReason, ReplyMeta, Secret,
    ToolCall, Usage,
};
use tollgate_openai::{ChatEvents, ErrorMapper};

fn chunk(json: &str) -> String {
    format!("data: {json}\n\n")
}

/// Two parallel calls whose argument fragments interleave, with reasoning and text first.
fn interleaved_body() -> String {
    let c = |delta: &str| {
        chunk(&format!(
            r#"{{"id":"chatcmpl-int","object":"chat.completion.chunk","model":"deepseek-chat","choices":[{{"index":0,"delta":{delta},"finish_reason":null}}],"usage":null,"obfuscation":"zz"}}"#
        ))
    };
    [
        c(r#"{"role":"assistant","content":"","reasoning_content":"Two harbors, "}"#),
        c(r#"{"reasoning_content":"two calls."}"#),
        c(r#"{"content":"Checking é…"}"#),
        c(r#"{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"tides","arguments":""}}]}"#),
        c(r#"{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"weather","arguments":"{\"ci"}}]}"#),
        c(r#"{"tool_calls":[{"index":0,"function":{"arguments":"{\"harbor\":"}}]}"#),
        c(r#"{"tool_calls":[{"index":1,"function":{"arguments":"ty\":\"Brest\"}"}}]}"#),
        c(r#"{"tool_calls":[{"index":0,"function":{"arguments":"\"Saint-Malo\"}"}}]}"#),
        chunk(r#"{"id":"chatcmpl-int","model":"deepseek-chat","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#),
        chunk(r#"{"id":"chatcmpl-int","model":"deepseek-chat","choices":[],"usage":{"prompt_tokens":50,"completion_tokens":20,"total_tokens":70,"prompt_cache_hit_tokens":32,"completion_tokens_details":{"reasoning_tokens":6}}}"#),
        "data: [DONE]\n\n".to_owned(),
    ]
    .concat()
}

fn expected_interleaved() -> (Vec<AssistantPart>, Vec<ToolCall>, Usage) {
    (
        vec![
            AssistantPart::Reasoning {
                text: "Two harbors, two calls.".into(),
                signature: None,
                signed_by: None,
            },
            AssistantPart::Text {
                text: "Checking é…".into(),
            },
        ],
        vec![
            ToolCall::new("call_a", "tides", r#"{"harbor":"Saint-Malo"}"#),
            ToolCall::new("call_b", "weather", r#"{"city":"Brest"}"#),
        ],
        Usage {
            input_tokens: 50,
            output_tokens: 20,
            cache_read_tokens: 32,
            cache_write_tokens: 0,
            reasoning_tokens: 6,
        },
    )
}

async fn collect_chunks(chunks: Vec<Vec<u8>>) -> Result<ChatResponse, Error> {
    let sse = SseStream::new(stream::iter(
        chunks.into_iter().map(|c| Ok::<_, Error>(Bytes::from(c))),
    ));
    let events = ChatEvents::new(
        sse,
        ErrorMapper::new("deepseek", Secret::default()),
        "asked",
    );
    ChatStream::begin(ReplyMeta::default(), events)
        .await?
        .collect()
        .await
}

fn run<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

#[tokio::test]
async fn interleaved_parallel_tool_calls_land_on_their_own_call() {
    let r = collect_chunks(vec![interleaved_body().into_bytes()])
        .await
        .unwrap();
    let (content, calls, usage) = expected_interleaved();
    assert_eq!(r.id, "chatcmpl-int");
    assert_eq!(r.model, "deepseek-chat");
    assert_eq!(r.message.content, content);
    assert_eq!(r.message.tool_calls, calls);
    assert_eq!(r.usage, Some(usage));
    assert_eq!(r.finish_reason, FinishReason::ToolCalls);
}

#[tokio::test]
async fn finish_is_always_the_last_event() {
    let sse = SseStream::new(stream::iter([Ok::<_, Error>(Bytes::from(
        interleaved_body(),
    ))]));
    let events: Vec<ChatEvent> =
        ChatEvents::new(sse, ErrorMapper::new("x", Secret::default()), "m")
            .map(Result::unwrap)
            .collect()
            .await;
    assert!(matches!(events.first(), Some(ChatEvent::Start { .. })));
    assert!(matches!(events.last(), Some(ChatEvent::Finish { .. })));
    assert!(matches!(events[events.len() - 2], ChatEvent::Usage(_)));
}

#[tokio::test]
async fn servers_without_usage_or_ids_still_give_a_response() {
    let body = [
        chunk(r#"{"choices":[{"delta":{"content":"Hi"}}]}"#),
        chunk(r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"name":"f","arguments":"{}"}}]}}]}"#),
        chunk(r#"{"choices":[{"delta":{},"finish_reason":"stop"}]}"#),
        "data: [DONE]\n\n".to_owned(),
    ]
    .concat();
    let sse = SseStream::new(stream::iter([Ok::<_, Error>(Bytes::from(body))]));
    let events: Vec<ChatEvent> = ChatEvents::new(
        sse,
        ErrorMapper::new("lmstudio", Secret::default()),
        "local-model",
    )
    .map(Result::unwrap)
    .collect()
    .await;
    assert!(!events.iter().any(|e| matches!(e, ChatEvent::Usage(_))));
    let ChatEvent::Start { id, model } = &events[0] else {
        panic!("{events:?}")
    };
    assert!(id.starts_with("chatcmpl-tg-"), "{id}");
    assert_eq!(model, "local-model");
    let ChatEvent::ToolCallStart { id: call_id, .. } = &events[2] else {
        panic!("{events:?}")
    };
    assert!(call_id.starts_with("call_"), "{call_id}");
    // `stop` with tool calls is normalised to ToolCalls, the raw value kept.
    assert_eq!(
        events.last(),
        Some(&ChatEvent::Finish {
            reason: FinishReason::ToolCalls,
            raw: Some("stop".into())
        })
    );
}

#[tokio::test]
async fn arguments_for_a_call_that_never_gets_a_name_fail_the_collected_response() {
    let body = [
        chunk(r#"{"id":"x","choices":[{"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"f","arguments":"{}"}}]}}]}"#),
        chunk(r#"{"id":"x","choices":[{"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"orphan\":1}"}}]}}]}"#),
        chunk(r#"{"id":"x","choices":[{"delta":{},"finish_reason":"tool_calls"}]}"#),
        "data: [DONE]\n\n".to_owned(),
    ]
    .concat();
    let err = collect_chunks(vec![body.into_bytes()]).await.unwrap_err();
    assert_eq!(err.kind(), tollgate_core::ErrorKind::Decode);
    assert!(err.message().contains("no name"), "{err}");
}

#[tokio::test]
async fn groq_and_ollama_reasoning_deltas_become_reasoning() {
    let body = [
        chunk(
            r#"{"id":"x","choices":[{"delta":{"role":"assistant","reasoning":"Let me think."}}]}"#,
        ),
        chunk(r#"{"id":"x","choices":[{"delta":{"content":"Done."},"finish_reason":"stop"}]}"#),
        "data: [DONE]\n\n".to_owned(),
    ]
    .concat();
    let r = collect_chunks(vec![body.into_bytes()]).await.unwrap();
    assert_eq!(
        r.message.reasoning_content().as_deref(),
        Some("Let me think.")
    );
    assert_eq!(r.text(), "Done.");
}

#[tokio::test]
async fn running_usage_totals_keep_the_last() {
    let body = [
        chunk(r#"{"id":"x","choices":[{"delta":{"content":"a"}}],"usage":{"prompt_tokens":5,"completion_tokens":1}}"#),
        chunk(r#"{"id":"x","choices":[{"delta":{"content":"b"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2}}"#),
        "data: [DONE]\n\n".to_owned(),
    ]
    .concat();
    let r = collect_chunks(vec![body.into_bytes()]).await.unwrap();
    assert_eq!(r.usage, Some(Usage::new(5, 2)));
    assert_eq!(r.text(), "ab");
}

#[tokio::test]
async fn openrouter_comments_and_crlf_framing_are_understood() {
    let body = ": OPENROUTER PROCESSING\r\n\r\ndata: {\"id\":\"or-1\",\"model\":\"m\",\"choices\":[{\"delta\":{\"content\":\"ok\"},\"finish_reason\":\"stop\"}]}\r\n\r\ndata: [DONE]\r\n\r\n";
    let r = collect_chunks(vec![body.as_bytes().to_vec()])
        .await
        .unwrap();
    assert_eq!(r.text(), "ok");
    assert_eq!(r.id, "or-1");
}

fn split(body: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (body.len() + 1)).collect();
    cuts.sort_unstable();
    let mut chunks = Vec::new();
    let mut last = 0;
    for cut in cuts {
        chunks.push(body[last..cut].to_vec());
        last = cut;
    }
    chunks.push(body[last..].to_vec());
    chunks
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_split_into_network_chunks_gives_the_same_response(
        cuts in proptest::collection::vec(0usize..5000, 0..40)
    ) {
        let body = interleaved_body().into_bytes();
        let whole = run(collect_chunks(vec![body.clone()])).unwrap();
        let pieces = run(collect_chunks(split(&body, &cuts))).unwrap();
        prop_assert_eq!(pieces, whole);
    }

    #[test]
    fn any_split_of_the_recorded_tool_call_stream_gives_the_same_response(
        cuts in proptest::collection::vec(0usize..5000, 0..40)
    ) {
        let path = format!("{}/tests/data/openai/chat-stream-tool-call.sse", env!("CARGO_MANIFEST_DIR"));
        let body = std::fs::read(path).unwrap();
        let whole = run(collect_chunks(vec![body.clone()])).unwrap();
        let pieces = run(collect_chunks(split(&body, &cuts))).unwrap();
        prop_assert_eq!(pieces, whole);
    }
}
