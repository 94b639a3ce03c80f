//! The client against tollgate-testkit's fake Anthropic server on 127.0.0.1: headers,
//! complete and streaming replies, tool round trips, every error class, cancellation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;
use tollgate_anthropic::{AnthropicClient, AnthropicConfig, StructuredOutputMode};
use tollgate_core::{
    AssistantMessage, AssistantPart, ChatEvent, ChatReply, ChatRequest, ChatResponse, Client,
    ErrorKind, FinishReason, Message, ReasoningEffort, ResponseFormat, Tool, ToolCall, Usage,
};
use tollgate_http::ClientSettings;
use tollgate_testkit::scenario::{
    Scenario, ScenarioError, ScenarioToolCall, ScenarioUsage, error_reply,
};
use tollgate_testkit::{FakeServer, Flavor, Reply};

use support::{KEY, fixture};

const MODEL: &str = "claude-sonnet-4-5";

fn config(server: &FakeServer) -> AnthropicConfig {
    AnthropicConfig::new(KEY).base_url(server.base_url())
}

fn client(server: &FakeServer) -> Client<AnthropicClient> {
    Client::new(AnthropicClient::new(config(server)).unwrap())
}

fn usage() -> ScenarioUsage {
    ScenarioUsage {
        input_tokens: 40,
        output_tokens: 12,
        cache_read_tokens: 20,
        cache_write_tokens: 5,
        reasoning_tokens: 0,
    }
}

fn normalised(usage: ScenarioUsage) -> Usage {
    Usage {
        input_tokens: usage.input_tokens,
        output_tokens: usage.output_tokens,
        cache_read_tokens: usage.cache_read_tokens,
        cache_write_tokens: usage.cache_write_tokens,
        reasoning_tokens: usage.reasoning_tokens,
    }
}

fn tide_schema() -> ResponseFormat {
    ResponseFormat::JsonSchema {
        name: "tide_report".into(),
        description: None,
        schema: json!({"type": "object", "properties": {"harbor": {"type": "string"}}}),
        strict: true,
    }
}

#[tokio::test]
async fn a_complete_call_sends_anthropics_headers_and_normalises_the_reply() {
    let server = FakeServer::builder(Flavor::Anthropic)
        .api_key(KEY)
        .start()
        .await;
    let scenario = Scenario::text(["Fog horns sound every thirty seconds."])
        .with_id("msg_01")
        .with_model("claude-sonnet-4-5-20250929")
        .with_usage(usage());
    server.push(scenario.reply(Flavor::Anthropic, false));

    let response = client(&server)
        .chat(ChatRequest::new(MODEL).system("Be brief.").user("Fog?"))
        .await
        .unwrap();
    assert_eq!(response.id, "msg_01");
    assert_eq!(response.model, "claude-sonnet-4-5-20250929");
    assert_eq!(response.text(), "Fog horns sound every thirty seconds.");
    assert_eq!(response.finish_reason, FinishReason::Stop);
    assert_eq!(response.provider_finish_reason.as_deref(), Some("end_turn"));
    assert_eq!(response.usage, Some(normalised(usage())));
    assert_eq!(response.meta.provider, "anthropic");
    assert_eq!(response.meta.server_address.as_deref(), Some("127.0.0.1"));
    assert_eq!(response.meta.server_port, Some(server.addr().port()));

    let request = server.last_request().unwrap();
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v1/messages");
    assert_eq!(request.header("x-api-key"), Some(KEY));
    assert_eq!(request.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("anthropic-beta"), None);
    let body = request.json();
    assert_eq!(body["system"], "Be brief.");
    assert_eq!(body["max_tokens"], 4096);
    assert!(body.get("stream").is_none());
}

#[tokio::test]
async fn configured_betas_and_version_are_sent() {
    let server = FakeServer::anthropic().await;
    server.push(Scenario::text(["ok"]).reply(Flavor::Anthropic, false));
    let client = Client::new(
        AnthropicClient::new(
            config(&server)
                .beta("prompt-caching-2024-07-31")
                .beta("token-efficient-tools-2025-02-19")
                .anthropic_version("2023-01-01"),
        )
        .unwrap(),
    );
    client
        .chat(ChatRequest::new(MODEL).user("u"))
        .await
        .unwrap();
    let request = server.last_request().unwrap();
    assert_eq!(
        request.header("anthropic-beta"),
        Some("prompt-caching-2024-07-31,token-efficient-tools-2025-02-19")
    );
    assert_eq!(request.header("anthropic-version"), Some("2023-01-01"));
}

#[tokio::test]
async fn the_structured_output_beta_joins_the_configured_betas() {
    let server = FakeServer::anthropic().await;
    server.push(Scenario::text([r#"{"harbor":"Brest"}"#]).reply(Flavor::Anthropic, false));
    server.push(Scenario::text(["plain"]).reply(Flavor::Anthropic, false));
    let client = Client::new(
        AnthropicClient::new(
            config(&server)
                .beta("prompt-caching-2024-07-31")
                .structured_output(StructuredOutputMode::NativeBeta),
        )
        .unwrap(),
    );
    let response = client
        .chat(
            ChatRequest::new(MODEL)
                .user("u")
                .response_format(tide_schema()),
        )
        .await
        .unwrap();
    assert_eq!(response.text(), r#"{"harbor":"Brest"}"#);
    let request = server.last_request().unwrap();
    assert_eq!(
        request.header("anthropic-beta"),
        Some("prompt-caching-2024-07-31,structured-outputs-2025-11-13")
    );
    assert!(request.json()["output_format"]["schema"].is_object());

    // A request without structured output sends only the configured beta.
    client
        .chat(ChatRequest::new(MODEL).user("u"))
        .await
        .unwrap();
    assert_eq!(
        server.last_request().unwrap().header("anthropic-beta"),
        Some("prompt-caching-2024-07-31")
    );
}

#[tokio::test]
async fn a_streaming_call_collects_to_the_same_answer() {
    let server = FakeServer::anthropic().await;
    let scenario = Scenario::text(["Fog", " horns", " sound."])
        .with_reasoning(["Think ", "first."])
        .with_usage(ScenarioUsage {
            reasoning_tokens: 4,
            ..usage()
        });
    server.push(scenario.reply(Flavor::Anthropic, true));

    let stream = client(&server)
        .stream(ChatRequest::new(MODEL).user("Fog?"))
        .await
        .unwrap();
    let response = stream.collect().await.unwrap();
    assert_eq!(response.text(), "Fog horns sound.");
    assert_eq!(
        response.message.reasoning_content().as_deref(),
        Some("Think first.")
    );
    assert!(matches!(
        &response.message.content[0],
        AssistantPart::Reasoning { signature: Some(s), .. } if !s.is_empty()
    ));
    assert_eq!(
        response.usage,
        Some(normalised(ScenarioUsage {
            reasoning_tokens: 4,
            ..usage()
        }))
    );
    assert_eq!(response.finish_reason, FinishReason::Stop);
    assert_eq!(server.last_request().unwrap().json()["stream"], true);
}

#[tokio::test]
async fn parallel_tool_calls_complete_and_streamed() {
    let calls = [
        ScenarioToolCall::new(
            "toolu_a",
            "get_tide_times",
            [r#"{"harbor":"#, r#""Brest"}"#],
        ),
        ScenarioToolCall::new("toolu_b", "get_tide_times", [r#"{"harbor":"Saint-Malo"}"#]),
    ];
    let scenario = Scenario::tool_calls(calls).with_text(["Looking up both."]);
    for stream in [false, true] {
        let server = FakeServer::anthropic().await;
        server.push(scenario.reply(Flavor::Anthropic, stream));
        let request = ChatRequest::new(MODEL)
            .user("Tides?")
            .tool(Tool::new("get_tide_times", json!({"type": "object"})))
            .streaming(stream);
        let response = client(&server)
            .call(request)
            .await
            .unwrap()
            .into_response()
            .await
            .unwrap();
        assert_eq!(response.text(), "Looking up both.", "stream: {stream}");
        assert_eq!(response.finish_reason, FinishReason::ToolCalls);
        let calls: Vec<(String, serde_json::Value)> = response
            .message
            .tool_calls
            .iter()
            .map(|c| (c.id.clone(), c.arguments_json().unwrap()))
            .collect();
        assert_eq!(
            calls,
            [
                ("toolu_a".to_owned(), json!({"harbor": "Brest"})),
                ("toolu_b".to_owned(), json!({"harbor": "Saint-Malo"})),
            ],
            "stream: {stream}"
        );
    }
}

/// A conversation begun on OpenAI continues here: the fake server enforces Anthropic's
/// id grammar, role alternation and tool-result pairing.
#[tokio::test]
async fn a_tool_loop_begun_on_another_provider_is_accepted() {
    let server = FakeServer::anthropic().await;
    server.push(Scenario::text(["High tide at 06:12."]).reply(Flavor::Anthropic, false));
    let request = ChatRequest::new(MODEL)
        .system("You look up tides.")
        .user("Tides in Brest and Saint-Malo?")
        .message(AssistantMessage {
            content: vec![],
            tool_calls: vec![
                ToolCall::new("call_Xy7.a/b", "get_tide_times", r#"{"harbor":"Brest"}"#),
                ToolCall::new("call_Xy7.c/d", "get_tide_times", ""),
            ],
        })
        .message(Message::tool_result(
            "call_Xy7.a/b",
            "get_tide_times",
            "06:12",
        ))
        .message(Message::tool_result(
            "call_Xy7.c/d",
            "get_tide_times",
            "07:40",
        ))
        .tool(Tool::new("get_tide_times", json!({"type": "object"})));
    let response = client(&server).chat(request).await.unwrap();
    assert_eq!(response.text(), "High tide at 06:12.");
    let body = server.last_request().unwrap().json();
    assert_eq!(body["messages"].as_array().unwrap().len(), 3);
    assert_eq!(
        body["messages"][2]["content"][1]["tool_use_id"],
        body["messages"][1]["content"][1]["id"]
    );
}

/// A tool loop with extended thinking through the client, complete and streamed: an
/// answer with a `redacted_thinking` block collects to the same response both ways, and
/// the next request sends the `thinking` and `redacted_thinking` blocks back unchanged
/// and in order, as Anthropic requires to continue the loop.
#[tokio::test]
async fn a_tool_loop_with_redacted_thinking_echoes_every_thinking_block() {
    let complete: serde_json::Value =
        serde_json::from_str(&fixture("messages-redacted-thinking.json")).unwrap();
    let server = FakeServer::anthropic().await;
    let client = client(&server);
    let first = ChatRequest::new(MODEL)
        .user("When is high tide in Brest on 2026-03-14?")
        .tool(Tool::new("get_tide_times", json!({"type": "object"})))
        .reasoning_effort(ReasoningEffort::Low);

    let mut answers = Vec::new();
    for stream in [false, true] {
        server.push(if stream {
            Reply::sse(fixture("messages-stream-redacted-thinking.sse"))
        } else {
            Reply::json(complete.clone())
        });
        let answer = client
            .call(first.clone().streaming(stream))
            .await
            .unwrap()
            .into_response()
            .await
            .unwrap();
        answers.push(answer);
    }
    assert_eq!(
        answers[0], answers[1],
        "complete and streamed answers differ"
    );
    let answer = answers.pop().unwrap();
    assert!(matches!(
        &answer.message.content[1],
        AssistantPart::RedactedReasoning { signed_by: Some(by), .. } if by == "anthropic"
    ));

    server.push(Scenario::text(["High tide is at 06:12."]).reply(Flavor::Anthropic, false));
    let call_id = answer.message.tool_calls[0].id.clone();
    let next = first.message(answer.message).message(Message::tool_result(
        call_id,
        "get_tide_times",
        "06:12",
    ));
    let response = client.chat(next).await.unwrap();
    assert_eq!(response.text(), "High tide is at 06:12.");

    // Exactly the blocks Anthropic sent, in its order (`input` re-encoded as an object).
    let sent = server.last_request().unwrap().json();
    assert_eq!(sent["messages"][1]["role"], "assistant");
    assert_eq!(sent["messages"][1]["content"], complete["content"]);
}

#[tokio::test]
async fn structured_output_through_the_forced_tool_reads_as_text_both_ways() {
    let answer = json!({"type": "tool_use", "id": "toolu_s", "name": "tide_report",
                        "input": {"harbor": "Brest"}});
    let complete = json!({
        "id": "msg_s", "type": "message", "role": "assistant", "model": "claude-3-7-sonnet",
        "content": [answer], "stop_reason": "tool_use", "stop_sequence": null,
        "usage": {"input_tokens": 9, "output_tokens": 7}
    });
    let streamed = [
        r#"{"type":"message_start","message":{"id":"msg_s","type":"message","role":"assistant","model":"claude-3-7-sonnet","content":[],"stop_reason":null,"usage":{"input_tokens":9,"output_tokens":1}}}"#,
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_s","name":"tide_report","input":{}}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"harbor\":"}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"\"Brest\"}"}}"#,
        r#"{"type":"content_block_stop","index":0}"#,
        r#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":7}}"#,
        r#"{"type":"message_stop"}"#,
    ]
    .iter()
    .map(|data| {
        let kind: serde_json::Value = serde_json::from_str(data).unwrap();
        format!("event: {}\ndata: {data}\n\n", kind["type"].as_str().unwrap())
    })
    .collect::<String>();

    for stream in [false, true] {
        let server = FakeServer::anthropic().await;
        server.push(if stream {
            Reply::sse(streamed.clone())
        } else {
            Reply::json(complete.clone())
        });
        let client = Client::new(
            AnthropicClient::new(config(&server).structured_output(StructuredOutputMode::Tool))
                .unwrap(),
        );
        let request = ChatRequest::new("claude-3-7-sonnet")
            .user("Tides?")
            .response_format(tide_schema())
            .streaming(stream);
        let response = client
            .call(request)
            .await
            .unwrap()
            .into_response()
            .await
            .unwrap();
        let text: serde_json::Value = serde_json::from_str(&response.text()).unwrap();
        assert_eq!(text, json!({"harbor": "Brest"}), "stream: {stream}");
        assert!(response.message.tool_calls.is_empty());
        assert_eq!(response.finish_reason, FinishReason::Stop);
        let sent = server.last_request().unwrap().json();
        assert_eq!(
            sent["tool_choice"],
            json!({"type": "tool", "name": "tide_report", "disable_parallel_tool_use": true})
        );
    }
}

#[tokio::test]
async fn every_error_class_maps_to_its_kind_for_complete_and_streaming_calls() {
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
        (ScenarioError::ContentFiltered, ErrorKind::ContentFiltered),
    ];
    // One connection pool for every case (building a TLS-capable client is slow in debug).
    let http = tollgate_http::HttpClient::new(&ClientSettings::default()).unwrap();
    for stream in [false, true] {
        for (scenario, kind) in cases {
            let server = FakeServer::anthropic().await;
            server.push(error_reply(Flavor::Anthropic, scenario));
            let client = AnthropicClient::with_http_client(config(&server), http.clone()).unwrap();
            let err = Client::new(client)
                .call(ChatRequest::new(MODEL).user("u").streaming(stream))
                .await
                .unwrap_err();
            assert_eq!(err.kind(), kind, "{scenario:?} stream: {stream}");
            assert_eq!(err.provider(), Some("anthropic"));
            assert!(err.code().is_some(), "{scenario:?}");
            assert!(err.message().contains("request-id req_"), "{err}");
            if let ScenarioError::RateLimited { retry_after_secs } = scenario {
                assert_eq!(
                    err.retry_after(),
                    Some(Duration::from_secs(retry_after_secs))
                );
            }
        }
    }
}

#[tokio::test]
async fn fixture_errors_over_http() {
    let cases = [
        ("error-429.json", ErrorKind::RateLimited, Some(12)),
        ("error-529.json", ErrorKind::Overloaded, None),
        ("error-400.json", ErrorKind::InvalidRequest, None),
    ];
    for (name, kind, retry_after) in cases {
        let server = FakeServer::anthropic().await;
        server.push(Reply::error_fixture(&fixture(name)));
        let err = client(&server)
            .chat(ChatRequest::new(MODEL).user("u"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{name}");
        assert_eq!(err.retry_after(), retry_after.map(Duration::from_secs));
    }
}

#[tokio::test]
async fn an_error_event_in_a_200_stream_before_content_fails_the_call() {
    let server = FakeServer::anthropic().await;
    let body = fixture("messages-stream-text.sse");
    let message_start = &body[..body.find("event: content_block_start").unwrap()];
    server.push(Reply::sse(format!(
        "{message_start}event: error\ndata: {}\n\n",
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    )));
    let err = client(&server)
        .stream(ChatRequest::new(MODEL).user("u"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Overloaded);
    assert!(err.is_retryable());
}

#[tokio::test]
async fn an_error_event_after_content_is_an_error_item() {
    let server = FakeServer::anthropic().await;
    server.push(Reply::sse(fixture("messages-stream-error-overloaded.sse")));
    let mut stream = client(&server)
        .stream(ChatRequest::new(MODEL).user("u"))
        .await
        .unwrap();
    let mut items = Vec::new();
    while let Some(item) = stream.next().await {
        items.push(item);
    }
    assert_eq!(items[2].as_ref().unwrap(), &ChatEvent::text("Fog horns"));
    assert_eq!(
        items.last().unwrap().as_ref().unwrap_err().kind(),
        ErrorKind::Overloaded
    );
}

#[tokio::test]
async fn a_connection_cut_mid_stream_ends_with_an_error_item() {
    let server = FakeServer::anthropic().await;
    server.push(Reply::sse(fixture("messages-stream-text.sse")).disconnect_after(4));
    let stream = client(&server)
        .stream(ChatRequest::new(MODEL).user("u"))
        .await
        .unwrap();
    let items: Vec<_> = StreamExt::collect::<Vec<_>>(stream).await;
    let err = items.last().unwrap().as_ref().unwrap_err();
    // A cut connection is a retryable transport failure, and the stream must not end as
    // if finished.
    assert_eq!(err.kind(), ErrorKind::Transport, "{err:?} after {items:?}");
    assert!(err.is_retryable());
    assert_eq!(err.provider(), Some("anthropic"));
    assert!(
        !items
            .iter()
            .any(|i| matches!(i, Ok(ChatEvent::Finish { .. })))
    );
}

#[tokio::test(start_paused = true)]
async fn dropping_the_stream_closes_the_connection() {
    let server = FakeServer::anthropic().await;
    server.push(
        Reply::sse(fixture("messages-stream-text.sse")).chunk_interval(Duration::from_secs(1)),
    );
    let settings = ClientSettings {
        connect_timeout: Duration::from_secs(24 * 3600),
        ..ClientSettings::default()
    };
    let client = Client::new(AnthropicClient::new(config(&server).http(settings)).unwrap());
    let mut stream = client
        .stream(ChatRequest::new(MODEL).user("u"))
        .await
        .unwrap();
    assert!(matches!(
        stream.next().await,
        Some(Ok(ChatEvent::Start { .. }))
    ));
    drop(stream);
    server.wait_for_cancelled_streams(1).await;
    assert_eq!(server.cancelled_streams(), 1);
}

#[tokio::test]
async fn the_api_key_never_appears_in_errors() {
    // The server rejects the key and echoes it back in its message.
    let server = FakeServer::anthropic().await;
    server.push(Reply::error(
        401,
        json!({"type": "error", "error": {"type": "authentication_error",
               "message": format!("invalid x-api-key: {KEY}")}}),
    ));
    let err = client(&server)
        .chat(ChatRequest::new(MODEL).user("u"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(KEY), "{shown}");
    assert!(shown.contains("[REDACTED]"), "{shown}");

    // A server that only accepts another key.
    let strict = FakeServer::builder(Flavor::Anthropic)
        .api_key("sk-ant-another")
        .start()
        .await;
    let err = client(&strict)
        .chat(ChatRequest::new(MODEL).user("u"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert!(!format!("{err} {err:?}").contains(KEY));

    // Nor in the client's or the config's Debug output.
    let client = AnthropicClient::new(config(&strict)).unwrap();
    assert!(!format!("{client:?} {:?}", client.config()).contains(KEY));
}

#[tokio::test]
async fn an_unreadable_body_is_a_decode_error_quoting_it() {
    let server = FakeServer::anthropic().await;
    server.push(Reply::raw(
        200,
        "application/json",
        "<html>gateway says hello</html>",
    ));
    let err = client(&server)
        .chat(ChatRequest::new(MODEL).user("u"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.message().contains("gateway says hello"), "{err}");
}

#[tokio::test]
async fn a_closed_port_is_a_transport_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client =
        AnthropicClient::new(AnthropicConfig::new(KEY).base_url(format!("http://{addr}"))).unwrap();
    let err = Client::new(client)
        .chat(ChatRequest::new(MODEL).user("u"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert_eq!(err.provider(), Some("anthropic"));
}

#[tokio::test]
async fn the_service_is_usable_through_tower() {
    use tower::ServiceExt;

    let server = FakeServer::anthropic().await;
    server.push(Scenario::text(["ok"]).reply(Flavor::Anthropic, false));
    let service = tollgate_core::boxed(AnthropicClient::new(config(&server)).unwrap());
    let reply = service
        .oneshot(ChatRequest::new(MODEL).user("u"))
        .await
        .unwrap();
    let ChatReply::Complete(ChatResponse { message, .. }) = reply else {
        panic!("a complete reply was asked for");
    };
    assert_eq!(message.text_content(), "ok");
}

/// Rate-limit headers as Anthropic sends them on a 200, resetting well after now.
fn with_rate_limit_headers(reply: Reply) -> Reply {
    reply
        .with_header("anthropic-ratelimit-requests-limit", "50")
        .with_header("anthropic-ratelimit-requests-remaining", "0")
        .with_header("anthropic-ratelimit-requests-reset", "2999-01-01T00:00:00Z")
        .with_header("anthropic-ratelimit-tokens-remaining", "9000")
        .with_header("anthropic-ratelimit-tokens-reset", "2999-01-01T00:00:00Z")
        .with_header("anthropic-ratelimit-input-tokens-remaining", "5000")
        .with_header(
            "anthropic-ratelimit-input-tokens-reset",
            "2999-01-01T00:00:00Z",
        )
        .with_header("anthropic-ratelimit-output-tokens-remaining", "700")
        .with_header(
            "anthropic-ratelimit-output-tokens-reset",
            "2000-01-01T00:00:00Z",
        )
}

fn assert_reported(meta: &tollgate_core::ReplyMeta) {
    let limits = meta.rate_limits.expect("a rate-limit snapshot");
    let requests = limits.requests.unwrap();
    assert_eq!(requests.remaining, 0);
    assert!(requests.resets_in.unwrap() > Duration::from_secs(3600));
    // Output tokens are the tightest; their reset has passed.
    assert_eq!(
        limits.tokens,
        Some(tollgate_core::Quota {
            remaining: 700,
            resets_in: Some(Duration::ZERO)
        })
    );
}

#[tokio::test]
async fn a_complete_reply_carries_the_rate_limits_its_headers_report() {
    let server = FakeServer::anthropic().await;
    server.push(with_rate_limit_headers(
        Scenario::text(["Hi."]).reply(Flavor::Anthropic, false),
    ));
    let response = client(&server)
        .chat(ChatRequest::new(MODEL).user("Hi"))
        .await
        .unwrap();
    assert_reported(&response.meta);
}

#[tokio::test]
async fn a_streamed_reply_carries_the_rate_limits_its_headers_report() {
    let server = FakeServer::anthropic().await;
    server.push(with_rate_limit_headers(
        Scenario::text(["Hi", " there."]).reply(Flavor::Anthropic, true),
    ));
    let stream = client(&server)
        .stream(ChatRequest::new(MODEL).user("Hi"))
        .await
        .unwrap();
    assert_reported(stream.meta());
    let response = stream.collect().await.unwrap();
    assert_reported(&response.meta);
}

#[tokio::test]
async fn a_reply_without_rate_limit_headers_carries_no_snapshot() {
    let server = FakeServer::anthropic().await;
    server.push(Scenario::text(["Hi."]).reply(Flavor::Anthropic, false));
    let response = client(&server)
        .chat(ChatRequest::new(MODEL).user("Hi"))
        .await
        .unwrap();
    assert_eq!(response.meta.rate_limits, None);
}
