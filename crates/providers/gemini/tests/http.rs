//! The Gemini client against the testkit's fake Gemini server on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;
use tollgate_core::{
    AssistantPart, ChatEvent, ChatRequest, ChatStream, Client, ErrorKind, FinishReason, Message,
    Tool, Usage,
};
use tollgate_gemini::{GeminiClient, GeminiConfig};
use tollgate_testkit::scenario::{
    Scenario, ScenarioError, ScenarioToolCall, ScenarioUsage, error_reply, error_reply_for_stream,
};
use tollgate_testkit::{FakeServer, Flavor, Reply};

const KEY: &str = "AIzaTestKey-0123456789";
const TEXT_JSON: &str = include_str!("data/generate-content-text.json");
const CALL_JSON: &str = include_str!("data/generate-content-function-call.json");
const TEXT_SSE: &[u8] = include_bytes!("data/stream-text.sse");
const CALL_SSE: &[u8] = include_bytes!("data/stream-function-call.sse");

fn client(server: &FakeServer) -> Client<GeminiClient> {
    let config = GeminiConfig::new(KEY).base_url(server.base_url());
    Client::new(GeminiClient::new(config).unwrap())
}

fn request() -> ChatRequest {
    ChatRequest::new("gemini-2.5-flash").user("Tell me about lighthouses.")
}

async fn server() -> FakeServer {
    FakeServer::builder(Flavor::Gemini)
        .api_key(KEY)
        .start()
        .await
}

#[tokio::test]
async fn a_complete_text_answer_is_read_and_the_key_travels_only_in_the_header() {
    let server = server().await;
    server.push(Reply::json(serde_json::from_str(TEXT_JSON).unwrap()));
    let response = client(&server).chat(request()).await.unwrap();

    assert_eq!(response.id, "q3mVaeK2Ocz4nsEPw9mS-Ak");
    assert_eq!(response.model, "gemini-2.5-flash");
    assert!(response.text().starts_with("A lighthouse keeper's log"));
    assert_eq!(response.finish_reason, FinishReason::Stop);
    assert_eq!(response.usage.unwrap().output_tokens, 297);
    assert_eq!(response.meta.provider, "gcp.gemini");
    assert_eq!(response.meta.server_address.as_deref(), Some("127.0.0.1"));
    assert_eq!(response.meta.server_port, Some(server.addr().port()));

    let sent = server.last_request().unwrap();
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.path, "/v1beta/models/gemini-2.5-flash:generateContent");
    assert_eq!(sent.header("x-goog-api-key"), Some(KEY));
    assert!(!sent.path.contains(KEY));
    assert_eq!(
        sent.json(),
        json!({"contents": [{"role": "user", "parts": [{"text": "Tell me about lighthouses."}]}]})
    );
}

#[tokio::test]
async fn a_complete_function_call_answer_has_stable_synthesised_ids() {
    let server = server().await;
    server.push(Reply::json(serde_json::from_str(CALL_JSON).unwrap()));
    server.push(Reply::json(serde_json::from_str(CALL_JSON).unwrap()));
    let client = client(&server);
    let first = client.chat(request()).await.unwrap();
    let second = client.chat(request()).await.unwrap();

    assert_eq!(first.finish_reason, FinishReason::ToolCalls);
    let ids: Vec<_> = first.message.tool_calls.iter().map(|c| &c.id).collect();
    let again: Vec<_> = second.message.tool_calls.iter().map(|c| &c.id).collect();
    assert_eq!(ids, again, "the same response must yield the same ids");
    assert_ne!(ids[0], ids[1], "different calls must get different ids");
    assert_eq!(first.usage.unwrap().cache_read_tokens, 1024);
}

#[tokio::test]
async fn a_tool_loop_replays_calls_results_and_the_thought_signature() {
    let server = server().await;
    server.push(Reply::json(serde_json::from_str(CALL_JSON).unwrap()));
    server.push(Reply::json(serde_json::from_str(TEXT_JSON).unwrap()));
    let client = client(&server);
    let tool = Tool::new(
        "get_tide_times",
        json!({"type": "object", "properties": {"harbor": {"type": "string"}, "date": {"type": "string"}}}),
    );
    let mut conversation = request().tool(tool);
    let answer = client.chat(conversation.clone()).await.unwrap();
    let calls = answer.message.tool_calls.clone();
    conversation.messages.push(answer.message.into());
    for call in &calls {
        // Name left empty on purpose: the client recovers it from the call with this id.
        conversation.messages.push(Message::tool_result(
            call.id.clone(),
            "",
            r#"{"high":"06:12"}"#,
        ));
    }
    client.chat(conversation).await.unwrap();

    let body = server.requests()[1].json();
    let model_turn = &body["contents"][1];
    assert_eq!(model_turn["role"], "model");
    let parts = model_turn["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    assert!(
        parts[0]["thoughtSignature"]
            .as_str()
            .unwrap()
            .starts_with("CiQBjz1rX0wN9c6q"),
        "the first call must carry its signature: {body}"
    );
    assert_eq!(parts[0]["functionCall"]["id"], json!(calls[0].id));
    assert!(parts[1].get("thoughtSignature").is_none());
    let results = &body["contents"][2];
    assert_eq!(results["role"], "user");
    assert_eq!(
        results["parts"][1]["functionResponse"]["name"],
        "get_tide_times"
    );
    assert_eq!(
        results["parts"][1]["functionResponse"]["id"],
        json!(calls[1].id)
    );
}

async fn stream_items(stream: ChatStream) -> Vec<Result<ChatEvent, tollgate_core::Error>> {
    StreamExt::collect::<Vec<_>>(stream).await
}

#[tokio::test]
async fn a_text_stream_is_read_from_the_crlf_fixture() {
    let server = server().await;
    server.push(Reply::sse(TEXT_SSE));
    let stream = client(&server).stream(request()).await.unwrap();
    assert_eq!(stream.meta().provider, "gcp.gemini");
    let events: Vec<ChatEvent> = stream_items(stream)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        events.first(),
        Some(&ChatEvent::Start {
            id: "s5mVaczLI7v6nsEP0fKL2Ao".into(),
            model: "gemini-2.5-flash".into()
        })
    );
    assert_eq!(
        events[events.len() - 2],
        ChatEvent::Usage(Usage {
            input_tokens: 9,
            output_tokens: 198,
            cache_read_tokens: 0,
            cache_write_tokens: 0,
            reasoning_tokens: 188
        })
    );
    assert_eq!(
        events.last(),
        Some(&ChatEvent::Finish {
            reason: FinishReason::Stop,
            raw: Some("STOP".into())
        })
    );
    let sent = server.last_request().unwrap();
    assert_eq!(
        sent.path,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    );
    assert_eq!(sent.header("x-goog-api-key"), Some(KEY));
}

#[tokio::test]
async fn a_function_call_stream_collects_to_calls_with_stable_ids() {
    let server = server().await;
    server.push(Reply::sse(CALL_SSE));
    server.push(Reply::sse(CALL_SSE));
    let client = client(&server);
    let first = client
        .stream(request())
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let second = client
        .stream(request())
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert_eq!(first.finish_reason, FinishReason::ToolCalls);
    assert_eq!(first.message.tool_calls.len(), 2);
    assert_eq!(first.message.tool_calls, second.message.tool_calls);
    assert_ne!(
        first.message.tool_calls[0].id,
        first.message.tool_calls[1].id
    );
    assert!(matches!(
        first.message.content[..],
        [AssistantPart::Reasoning {
            signature: Some(_),
            ..
        }]
    ));
}

#[tokio::test]
async fn a_stream_ending_without_finish_reason_ends_with_an_error_item() {
    let server = server().await;
    let body = "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Fog\"}],\"role\":\"model\"},\"index\":0}],\"responseId\":\"r1\"}\r\n\r\n";
    server.push(Reply::sse(body));
    let stream = client(&server).stream(request()).await.unwrap();
    let items = stream_items(stream).await;
    assert_eq!(items.len(), 3, "{items:?}");
    assert_eq!(
        items.last().unwrap().as_ref().unwrap_err().kind(),
        ErrorKind::Transport
    );
}

#[tokio::test]
async fn a_mid_stream_disconnect_is_an_error_item() {
    let server = server().await;
    server.push(Reply::sse(TEXT_SSE).disconnect_after(1));
    let stream = client(&server).stream(request()).await.unwrap();
    let items = stream_items(stream).await;
    assert!(items[0].is_ok());
    let last = items.last().unwrap().as_ref().unwrap_err();
    assert_eq!(last.kind(), ErrorKind::Transport, "{last}");
    assert!(!format!("{last} {last:?}").contains(KEY));
}

#[tokio::test]
async fn an_error_chunk_first_is_the_error_of_the_call() {
    let server = server().await;
    server.push(Reply::sse(
        "data: {\"error\":{\"code\":503,\"message\":\"The model is overloaded. Please try again later.\",\"status\":\"UNAVAILABLE\"}}\r\n\r\n",
    ));
    let err = client(&server).stream(request()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Overloaded);
    assert_eq!(err.code(), Some("UNAVAILABLE"));
}

#[tokio::test]
async fn a_blocked_prompt_is_a_content_filtered_error_streamed_or_not() {
    let server = server().await;
    server.push(error_reply(Flavor::Gemini, ScenarioError::ContentFiltered));
    server.push(error_reply_for_stream(
        Flavor::Gemini,
        ScenarioError::ContentFiltered,
    ));
    let client = client(&server);
    let err = client.chat(request()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ContentFiltered);
    let err = client.stream(request()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ContentFiltered);
}

#[tokio::test(start_paused = true)]
async fn dropping_the_stream_closes_the_connection() {
    let server = server().await;
    server.push(Reply::sse(TEXT_SSE).chunk_interval(Duration::from_secs(5)));
    let mut stream = client(&server).stream(request()).await.unwrap();
    assert!(matches!(
        stream.next().await,
        Some(Ok(ChatEvent::Start { .. }))
    ));
    drop(stream);
    server.wait_for_cancelled_streams(1).await;
    assert_eq!(server.cancelled_streams(), 1);
}

#[tokio::test]
async fn error_fixtures_map_to_kinds_codes_and_delays() {
    let server = server().await;
    let client = client(&server);
    let cases = [
        (
            include_str!("data/error-400-api-key-invalid.json"),
            ErrorKind::Authentication,
            400,
            "INVALID_ARGUMENT",
        ),
        (
            include_str!("data/error-400.json"),
            ErrorKind::InvalidRequest,
            400,
            "INVALID_ARGUMENT",
        ),
        (
            include_str!("data/error-429.json"),
            ErrorKind::RateLimited,
            429,
            "RESOURCE_EXHAUSTED",
        ),
        (
            include_str!("data/error-503.json"),
            ErrorKind::Overloaded,
            503,
            "UNAVAILABLE",
        ),
    ];
    for (fixture, kind, status, code) in cases {
        server.push(Reply::error_fixture(fixture));
        let err = client.chat(request()).await.unwrap_err();
        assert_eq!(err.kind(), kind, "{err}");
        assert_eq!(err.status(), Some(status));
        assert_eq!(err.code(), Some(code));
        assert_eq!(err.provider(), Some("gcp.gemini"));
        if kind == ErrorKind::RateLimited {
            assert_eq!(err.retry_after(), Some(Duration::from_secs(21)));
        }
        // The same failure before a stream's first event is the error of the call.
        server.push(Reply::error_fixture(fixture));
        let err = client.stream(request()).await.unwrap_err();
        assert_eq!(err.kind(), kind, "{err}");
    }
}

#[tokio::test]
async fn every_scenario_error_class_maps_to_its_kind() {
    let server = server().await;
    let client = client(&server);
    let cases = [
        (
            ScenarioError::RateLimited {
                retry_after_secs: 7,
            },
            ErrorKind::RateLimited,
        ),
        (ScenarioError::QuotaExhausted, ErrorKind::QuotaExhausted),
        (ScenarioError::Overloaded, ErrorKind::Overloaded),
        (ScenarioError::Server, ErrorKind::Server),
        (ScenarioError::Authentication, ErrorKind::Authentication),
        (ScenarioError::PermissionDenied, ErrorKind::PermissionDenied),
        (ScenarioError::NotFound, ErrorKind::NotFound),
        (ScenarioError::InvalidRequest, ErrorKind::InvalidRequest),
        (
            ScenarioError::ContextLengthExceeded,
            ErrorKind::ContextLengthExceeded,
        ),
    ];
    for (scenario, kind) in cases {
        server.push(error_reply(Flavor::Gemini, scenario));
        let err = client.chat(request()).await.unwrap_err();
        assert_eq!(err.kind(), kind, "{scenario:?}: {err}");
        if let ScenarioError::RateLimited { retry_after_secs } = scenario {
            assert_eq!(
                err.retry_after(),
                Some(Duration::from_secs(retry_after_secs))
            );
        }
    }
}

#[tokio::test]
async fn a_wrong_key_is_an_authentication_error_that_never_shows_the_key() {
    let server = server().await;
    let wrong = "AIzaWrongKey-9876543210";
    let config = GeminiConfig::new(wrong).base_url(server.base_url());
    let client = Client::new(GeminiClient::new(config).unwrap());
    let err = client.chat(request()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert_eq!(err.status(), Some(400));
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(wrong), "{shown}");
    let sent = server.last_request().unwrap();
    assert!(!sent.path.contains(wrong));
}

#[tokio::test]
async fn a_key_echoed_in_an_error_body_is_redacted() {
    let server = server().await;
    server.push(Reply::error(
        400,
        json!({"error": {"code": 400, "status": "INVALID_ARGUMENT",
            "message": format!("key {KEY} is malformed")}}),
    ));
    server.push(Reply::raw(
        502,
        "text/html",
        format!("<html>upstream saw {KEY}</html>"),
    ));
    let client = client(&server);
    for _ in 0..2 {
        let err = client.chat(request()).await.unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains(KEY), "{shown}");
        assert!(shown.contains("[REDACTED]"), "{shown}");
    }
}

#[tokio::test]
async fn scenarios_render_and_read_back_identically_streamed_or_not() {
    let scenario = Scenario::tool_calls([ScenarioToolCall::new(
        "ignored-by-gemini",
        "get_tide_times",
        [r#"{"harbor":"#, r#""Brest"}"#],
    )])
    .with_usage(ScenarioUsage {
        input_tokens: 120,
        output_tokens: 30,
        cache_read_tokens: 100,
        reasoning_tokens: 10,
        ..Default::default()
    });
    let server = server().await;
    server.push(scenario.reply(Flavor::Gemini, false));
    server.push(scenario.reply(Flavor::Gemini, true));
    let client = client(&server);
    let complete = client.chat(request()).await.unwrap();
    let streamed = client
        .stream(request())
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert_eq!(complete.finish_reason, FinishReason::ToolCalls);
    assert_eq!(
        complete.usage,
        Some(Usage {
            input_tokens: 120,
            output_tokens: 30,
            cache_read_tokens: 100,
            cache_write_tokens: 0,
            reasoning_tokens: 10
        })
    );
    assert_eq!(
        complete.message.tool_calls[0].arguments_json().unwrap(),
        json!({"harbor": "Brest"})
    );
    assert_eq!(streamed.message.tool_calls, complete.message.tool_calls);
    assert_eq!(streamed.usage, complete.usage);
}

#[tokio::test]
async fn a_missing_tool_name_fails_before_anything_is_sent() {
    let server = server().await;
    let request = request().message(Message::tool_result("unknown-call", "", "{}"));
    let err = client(&server).chat(request).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert_eq!(server.request_count(), 0);
}
