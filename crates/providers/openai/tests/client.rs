//! `OpenAiClient` against `tollgate-testkit`'s fake OpenAI server on 127.0.0.1: what goes
//! on the wire, complete and streamed answers, every error class, stream failures before
//! and after the first event, timeouts under paused time, and cancellation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;
use tollgate_core::{
    ChatEvent, ChatReply, ChatRequest, ChatStream, Client, Error, ErrorKind, FinishReason, Quota,
    RateLimits, Usage,
};
use tollgate_openai::{OpenAiClient, OpenAiConfig, Preset, Quirks, encode};
use tollgate_testkit::{FakeServer, Reply};
use tower::ServiceExt;

const KEY: &str = "sk-test-0123456789abcdef";

fn data(path: &str) -> String {
    let full = format!("{}/tests/data/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn client_for(server: &FakeServer) -> OpenAiClient {
    OpenAiClient::new(OpenAiConfig::new(KEY).base_url(server.base_url())).unwrap()
}

fn preset_for(server: &FakeServer, preset: Preset) -> OpenAiClient {
    OpenAiClient::new(
        OpenAiConfig::preset(preset)
            .api_key(KEY)
            .base_url(server.base_url()),
    )
    .unwrap()
}

async fn call(client: &OpenAiClient, request: ChatRequest) -> Result<ChatReply, Error> {
    client.clone().oneshot(request).await
}

async fn stream(client: &OpenAiClient, request: ChatRequest) -> Result<ChatStream, Error> {
    match call(client, request.streaming(true)).await? {
        ChatReply::Stream(stream) => Ok(stream),
        ChatReply::Complete(_) => panic!("asked for a stream, got a complete reply"),
    }
}

async fn chat_error(server: &FakeServer, reply: Reply) -> Error {
    server.push(reply);
    call(
        &client_for(server),
        ChatRequest::new("gpt-4o-mini").user("Hi"),
    )
    .await
    .unwrap_err()
}

/// Every item of a stream (`ChatStream::collect` would rebuild the response instead).
trait Items {
    async fn items(self) -> Vec<Result<ChatEvent, Error>>;
}

impl Items for ChatStream {
    async fn items(self) -> Vec<Result<ChatEvent, Error>> {
        StreamExt::collect(self).await
    }
}

fn text_sse() -> String {
    data("openai/chat-stream-text.sse")
}

#[tokio::test]
async fn a_complete_call_sends_exactly_the_encoded_body_with_auth_and_headers() {
    let server = FakeServer::openai().await;
    server.push(Reply::json(
        serde_json::from_str(&data("openai/chat-text.json")).unwrap(),
    ));
    let client = OpenAiClient::new(
        OpenAiConfig::new(KEY)
            .base_url(server.base_url())
            .organization("org-1")
            .project("proj-1")
            .header("x-tenant", "blue"),
    )
    .unwrap();
    let request = ChatRequest::new("gpt-4o-mini")
        .system("Be brief.")
        .user("What does a keeper log?")
        .max_tokens(50)
        .extra("service_tier", json!("flex"));
    let ChatReply::Complete(response) = call(&client, request.clone()).await.unwrap() else {
        panic!("expected a complete reply")
    };
    assert_eq!(response.id, "chatcmpl-CQz7mWb1TqLr8Ka4VnEo2Yd9HsJx");
    assert!(response.text().starts_with("A lighthouse keeper's log"));
    assert_eq!(response.usage, Some(Usage::new(28, 25)));
    assert_eq!(response.meta.provider, "openai");
    assert_eq!(response.meta.server_address.as_deref(), Some("127.0.0.1"));
    assert_eq!(response.meta.server_port, Some(server.addr().port()));

    let sent = server.last_request().unwrap();
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(
        sent.header("authorization"),
        Some(&*format!("Bearer {KEY}"))
    );
    assert_eq!(sent.header("openai-organization"), Some("org-1"));
    assert_eq!(sent.header("openai-project"), Some("proj-1"));
    assert_eq!(sent.header("x-tenant"), Some("blue"));
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(
        sent.json(),
        encode::request_body(&request, &Quirks::default(), false).unwrap()
    );
    assert_eq!(
        sent.body,
        encode::request_bytes(&request, &Quirks::default(), false).unwrap()
    );
    assert_eq!(sent.json()["service_tier"], "flex");
}

#[tokio::test]
async fn a_streamed_call_asks_for_usage_and_yields_every_event_with_finish_last() {
    let server = FakeServer::openai().await;
    server.push(Reply::sse(text_sse()));
    let client = client_for(&server);
    let request = ChatRequest::new("gpt-4o-mini").user("Fog?");
    let events: Vec<ChatEvent> = stream(&client, request.clone())
        .await
        .unwrap()
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(events.len(), 8);
    assert_eq!(events[6], ChatEvent::Usage(Usage::new(19, 7)));
    assert_eq!(
        events[7],
        ChatEvent::Finish {
            reason: FinishReason::Stop,
            raw: Some("stop".into())
        }
    );
    let sent = server.last_request().unwrap();
    assert_eq!(
        sent.body,
        encode::request_bytes(&request, &Quirks::default(), true).unwrap()
    );
    let sent = sent.json();
    assert_eq!(sent["stream"], true);
    assert_eq!(sent["stream_options"], json!({"include_usage": true}));
    assert_eq!(
        sent,
        encode::request_body(&request.streaming(true), &Quirks::default(), true).unwrap()
    );
}

#[tokio::test]
async fn the_client_facade_collects_streamed_tool_calls() {
    let server = FakeServer::openai().await;
    server
        .push(Reply::sse(data("openai/chat-stream-tool-call.sse")).chunk_interval(Duration::ZERO));
    let client = Client::new(client_for(&server));
    let stream = client
        .stream(ChatRequest::new("gpt-4o").user("Tides?"))
        .await
        .unwrap();
    let response = stream.collect().await.unwrap();
    assert_eq!(response.finish_reason, FinishReason::ToolCalls);
    assert_eq!(response.message.tool_calls.len(), 2);
    assert_eq!(
        response.message.tool_calls[1].arguments,
        r#"{"harbor": "Saint-Malo", "date": "2026-03-14"}"#
    );
    assert_eq!(response.usage.unwrap().cache_read_tokens, 1152);
}

#[tokio::test]
async fn presets_report_their_provider_and_read_their_dialect() {
    let server = FakeServer::openai().await;
    server.push(Reply::sse(data("openai-compat/groq-stream-text.sse")));
    let groq = preset_for(&server, Preset::Groq);
    let groq_stream = stream(
        &groq,
        ChatRequest::new("llama-3.3-70b-versatile").user("Fog?"),
    )
    .await
    .unwrap();
    assert_eq!(groq_stream.meta().provider, "groq");
    let response = groq_stream.collect().await.unwrap();
    assert_eq!(response.usage, Some(Usage::new(44, 8)));
    assert_eq!(response.meta.provider, "groq");

    server.push(Reply::sse(data(
        "openai-compat/ollama-stream-tool-call.sse",
    )));
    let ollama = preset_for(&server, Preset::Ollama);
    let response = stream(&ollama, ChatRequest::new("qwen3:8b").user("Tides?"))
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert_eq!(response.meta.provider, "ollama");
    assert_eq!(response.message.tool_calls[0].id, "call_k3v9x2qa");
    assert_eq!(
        response.message.tool_calls[0].arguments,
        r#"{"date":"2026-03-14","harbor":"Brest"}"#
    );
}

#[tokio::test]
async fn a_server_that_ignores_stream_and_answers_json_still_streams() {
    let server = FakeServer::openai().await;
    server.push(Reply::json(
        serde_json::from_str(&data("openai/chat-text.json")).unwrap(),
    ));
    let response = stream(&client_for(&server), ChatRequest::new("m").user("x"))
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert_eq!(response.id, "chatcmpl-CQz7mWb1TqLr8Ka4VnEo2Yd9HsJx");
    assert_eq!(response.usage, Some(Usage::new(28, 25)));
}

// ----------------------------------------------------------------------------------------
// Errors
// ----------------------------------------------------------------------------------------

#[tokio::test]
async fn error_fixtures_map_to_kind_code_retry_after_and_retryability() {
    let server = FakeServer::openai().await;
    // (fixture, kind, code, retry_after, retryable)
    type Case = (
        &'static str,
        ErrorKind,
        Option<&'static str>,
        Option<Duration>,
        bool,
    );
    let cases: [Case; 6] = [
        (
            "openai/error-400.json",
            ErrorKind::InvalidRequest,
            Some("invalid_type"),
            None,
            false,
        ),
        (
            "openai/error-429.json",
            ErrorKind::RateLimited,
            Some("rate_limit_exceeded"),
            Some(Duration::from_millis(1434)),
            true,
        ),
        (
            "openai/error-429-insufficient-quota.json",
            ErrorKind::QuotaExhausted,
            Some("insufficient_quota"),
            None,
            false,
        ),
        (
            "openai-compat/groq-error-429.json",
            ErrorKind::RateLimited,
            Some("rate_limit_exceeded"),
            Some(Duration::from_secs(7)),
            true,
        ),
        (
            "openai-compat/mistral-error-400.json",
            ErrorKind::InvalidRequest,
            Some("3280"),
            None,
            false,
        ),
        (
            "openai-compat/vllm-error-400.json",
            ErrorKind::ContextLengthExceeded,
            Some("400"),
            None,
            false,
        ),
    ];
    for (fixture, kind, code, retry_after, retryable) in cases {
        let err = chat_error(&server, Reply::error_fixture(&data(fixture))).await;
        assert_eq!(err.kind(), kind, "{fixture}: {err}");
        assert_eq!(err.code(), code, "{fixture}");
        assert_eq!(err.retry_after(), retry_after, "{fixture}");
        assert_eq!(err.is_retryable(), retryable, "{fixture}");
        assert_eq!(err.provider(), Some("openai"), "{fixture}");
    }
}

#[tokio::test]
async fn statuses_and_codes_map_to_kinds() {
    let server = FakeServer::openai().await;
    let error = |message: &str, code: Option<&str>| json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": code}});
    let cases = [
        (
            401,
            error("Incorrect API key", Some("invalid_api_key")),
            ErrorKind::Authentication,
            false,
        ),
        (
            403,
            error(
                "Country not supported",
                Some("unsupported_country_region_territory"),
            ),
            ErrorKind::PermissionDenied,
            false,
        ),
        (
            404,
            error("The model `x` does not exist", Some("model_not_found")),
            ErrorKind::NotFound,
            false,
        ),
        (
            400,
            error(
                "This model's maximum context length is 128000 tokens.",
                Some("context_length_exceeded"),
            ),
            ErrorKind::ContextLengthExceeded,
            false,
        ),
        (
            400,
            error(
                "Your request was rejected by our safety system",
                Some("content_policy_violation"),
            ),
            ErrorKind::ContentFiltered,
            false,
        ),
        (
            400,
            error("The response was filtered", Some("content_filter")),
            ErrorKind::ContentFiltered,
            false,
        ),
        (
            500,
            json!({"error": {"message": "The server had an error", "type": "server_error", "param": null, "code": null}}),
            ErrorKind::Server,
            true,
        ),
        (
            502,
            json!({"error": {"message": "Bad gateway", "type": "server_error", "param": null, "code": null}}),
            ErrorKind::Server,
            true,
        ),
        (
            503,
            json!({"error": {"message": "The engine is currently overloaded", "type": "server_error", "param": null, "code": null}}),
            ErrorKind::Overloaded,
            true,
        ),
        (
            504,
            json!({"error": {"message": "Gateway timeout", "type": "server_error"}}),
            ErrorKind::Timeout,
            true,
        ),
    ];
    for (status, body, kind, retryable) in cases {
        let err = chat_error(&server, Reply::error(status, body)).await;
        assert_eq!(err.kind(), kind, "{status}: {err}");
        assert_eq!(err.status(), Some(status));
        assert_eq!(err.is_retryable(), retryable, "{status}: {err}");
    }
}

#[tokio::test]
async fn retry_after_ms_is_preferred_over_every_other_source() {
    let server = FakeServer::openai().await;
    let reply = Reply::error(
        429,
        json!({"error": {"message": "Please try again in 20s.", "code": "rate_limit_exceeded"}}),
    )
    .with_header("retry-after-ms", "250")
    .with_header("retry-after", "3")
    .with_header("x-ratelimit-remaining-tokens", "0")
    .with_header("x-ratelimit-reset-tokens", "9s");
    let err = chat_error(&server, reply).await;
    assert_eq!(err.retry_after(), Some(Duration::from_millis(250)));
}

#[tokio::test]
async fn the_api_key_never_appears_in_an_error_even_when_the_body_echoes_it() {
    let server = FakeServer::openai().await;
    let echo = format!("Incorrect API key provided: {KEY}. You can find your API key at …");
    let err = chat_error(
        &server,
        Reply::error(
            401,
            json!({"error": {"message": echo, "type": "invalid_request_error", "code": KEY}}),
        ),
    )
    .await;
    assert_eq!(err.kind(), ErrorKind::Authentication);
    let shown = format!("{err} | {err:?} | {}", serde_json::to_string(&err).unwrap());
    assert!(!shown.contains(KEY), "{shown}");
    assert!(shown.contains("[REDACTED]"), "{shown}");

    // A non-JSON body that echoes the key.
    let err = chat_error(
        &server,
        Reply::raw(500, "text/plain", format!("upstream said {KEY}")),
    )
    .await;
    let shown = format!("{err} | {err:?}");
    assert!(!shown.contains(KEY), "{shown}");
}

#[tokio::test]
async fn a_connect_failure_is_a_retryable_transport_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client =
        OpenAiClient::new(OpenAiConfig::new(KEY).base_url(format!("http://{addr}/v1"))).unwrap();
    let err = call(&client, ChatRequest::new("m").user("x"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert!(err.is_retryable());
    assert_eq!(err.provider(), Some("openai"));
}

#[tokio::test]
async fn a_malformed_body_is_a_decode_error_quoting_what_arrived() {
    let server = FakeServer::openai().await;
    let err = chat_error(
        &server,
        Reply::raw(
            200,
            "application/json",
            r#"{"id": "chatcmpl-1", "choices": [oops"#,
        ),
    )
    .await;
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(
        err.message()
            .contains(r#"{"id": "chatcmpl-1", "choices": [oops"#),
        "{err}"
    );
    assert!(err.is_fallback_eligible());
}

#[tokio::test]
async fn an_error_object_in_a_200_body_is_that_error() {
    let server = FakeServer::openai().await;
    let err = chat_error(
        &server,
        Reply::json(json!({"error": {"message": "Provider returned error", "code": 429}})),
    )
    .await;
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.message(), "Provider returned error");
}

// ----------------------------------------------------------------------------------------
// Stream failures
// ----------------------------------------------------------------------------------------

#[tokio::test]
async fn a_mid_stream_disconnect_is_an_error_item() {
    let server = FakeServer::openai().await;
    server.push(Reply::sse(text_sse()).disconnect_after(3));
    let items: Vec<Result<ChatEvent, Error>> =
        stream(&client_for(&server), ChatRequest::new("m").user("x"))
            .await
            .unwrap()
            .items()
            .await;
    // Start, "Fog", " horns", then the break.
    assert_eq!(items.len(), 4, "{items:?}");
    assert!(items[..3].iter().all(Result::is_ok));
    let err = items[3].as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_stream_that_closes_before_done_ends_with_an_error_not_a_clean_end() {
    let server = FakeServer::openai().await;
    let without_done = text_sse().replace("data: [DONE]\n\n", "");
    server.push(Reply::sse(without_done));
    let items: Vec<Result<ChatEvent, Error>> =
        stream(&client_for(&server), ChatRequest::new("m").user("x"))
            .await
            .unwrap()
            .items()
            .await;
    let last = items.last().unwrap().as_ref().unwrap_err();
    assert_eq!(last.kind(), ErrorKind::Transport);
    assert!(last.message().contains("[DONE]"), "{last}");
    // The held-back finish was never emitted.
    assert!(
        !items
            .iter()
            .any(|i| matches!(i, Ok(ChatEvent::Finish { .. })))
    );
}

#[tokio::test]
async fn a_stream_that_fails_before_its_first_event_fails_the_call() {
    let server = FakeServer::openai().await;
    server.push(Reply::sse(text_sse()).disconnect_after(0));
    let err = stream(&client_for(&server), ChatRequest::new("m").user("x"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);

    // An error object as the first event is the call's error, with its own kind.
    server.push(Reply::sse(
        "data: {\"error\":{\"message\":\"The engine is currently overloaded\",\"type\":\"server_error\",\"code\":503}}\n\n",
    ));
    let err = stream(&client_for(&server), ChatRequest::new("m").user("x"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Overloaded);

    // An HTTP error on a streaming request is the call's error too.
    server.push(Reply::error_fixture(&data(
        "openai/error-429-insufficient-quota.json",
    )));
    let err = stream(&client_for(&server), ChatRequest::new("m").user("x"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::QuotaExhausted);
}

#[tokio::test]
async fn a_mid_stream_error_object_is_an_error_item() {
    let server = FakeServer::openai().await;
    let body = text_sse().replacen(
        "data: {\"id\":\"chatcmpl-CQz9aTn4Rw2Ek7Hy1Mv6Up0Jq3Lb\",\"object\":\"chat.completion.chunk\",\"created\":1767225700,\"model\":\"gpt-4o-mini-2024-07-18\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_7d4e2a91c3\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" sound\"}",
        "data: {\"error\":{\"message\":\"The server had an error while processing your request.\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\ndata: {\"ignored\":{\"content\":\" sound\"}",
        1,
    );
    server.push(Reply::sse(body));
    let items: Vec<Result<ChatEvent, Error>> =
        stream(&client_for(&server), ChatRequest::new("m").user("x"))
            .await
            .unwrap()
            .items()
            .await;
    assert_eq!(items.len(), 4, "{items:?}");
    let err = items[3].as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(
        err.message(),
        "The server had an error while processing your request."
    );
}

#[tokio::test(start_paused = true)]
async fn a_hanging_server_is_cut_by_a_timeout_under_paused_time() {
    let server = FakeServer::openai().await;
    server.push(Reply::hang());
    let client = client_for(&server);
    let started = tokio::time::Instant::now();
    let outcome = tokio::time::timeout(
        Duration::from_secs(30),
        call(&client, ChatRequest::new("m").user("x")),
    )
    .await;
    assert!(outcome.is_err(), "the call should still be pending");
    assert_eq!(started.elapsed(), Duration::from_secs(30));
}

#[tokio::test(start_paused = true)]
async fn a_slow_first_token_keeps_the_streaming_call_pending() {
    let server = FakeServer::openai().await;
    server.push(Reply::sse(text_sse()).first_chunk_after(Duration::from_secs(20)));
    let client = client_for(&server);
    // Time to first token is the time to resolution: 5 s is not enough...
    let too_short = tokio::time::timeout(
        Duration::from_secs(5),
        stream(&client, ChatRequest::new("m").user("x")),
    )
    .await;
    assert!(too_short.is_err());
    // ...and 25 s is.
    server.push(Reply::sse(text_sse()).first_chunk_after(Duration::from_secs(20)));
    let started = tokio::time::Instant::now();
    let resolved = tokio::time::timeout(
        Duration::from_secs(25),
        stream(&client, ChatRequest::new("m").user("x")),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(started.elapsed() >= Duration::from_secs(20));
    drop(resolved);
}

#[tokio::test(start_paused = true)]
async fn dropping_a_stream_closes_the_connection() {
    let server = FakeServer::openai().await;
    server.push(Reply::sse(text_sse()).chunk_interval(Duration::from_secs(1)));
    let mut open = stream(&client_for(&server), ChatRequest::new("m").user("x"))
        .await
        .unwrap();
    let first = open.next().await.unwrap().unwrap();
    assert!(matches!(first, ChatEvent::Start { .. }));
    assert_eq!(server.cancelled_streams(), 0);
    drop(open);
    tokio::time::timeout(
        Duration::from_secs(30),
        server.wait_for_cancelled_streams(1),
    )
    .await
    .expect("the server should see the stream cancelled");
    assert_eq!(server.cancelled_streams(), 1);
}

#[tokio::test]
async fn clones_share_one_client_and_calls_run_concurrently() {
    let server = FakeServer::openai().await;
    for _ in 0..4 {
        server.push(Reply::json(
            serde_json::from_str(&data("openai/chat-text.json")).unwrap(),
        ));
    }
    let client = client_for(&server);
    let calls = (0..4).map(|i| {
        let client = client.clone();
        async move { call(&client, ChatRequest::new(format!("m{i}")).user("x")).await }
    });
    let results = futures_util::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(server.request_count(), 4);
}

#[tokio::test]
async fn the_configured_http_settings_are_the_ones_used() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    // A "proxy" that records the request line and refuses: `config.http` must reach the
    // client, or the request would go straight to the (unresolvable) endpoint.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy = listener.local_addr().unwrap();
    let seen = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            socket.read_exact(&mut byte).await.unwrap();
            head.push(byte[0]);
        }
        socket
            .write_all(
                b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            )
            .await
            .unwrap();
        String::from_utf8(head).unwrap()
    });
    let settings = tollgate_http::ClientSettings {
        proxy: tollgate_http::Proxy::Url(format!("http://{proxy}").into()),
        ..tollgate_http::ClientSettings::default()
    };
    let config = OpenAiConfig::preset(Preset::Vllm)
        .base_url("http://models.invalid:8000/v1")
        .http(settings);
    let client = OpenAiClient::new(config).unwrap();
    let err = client
        .oneshot(ChatRequest::new("m").user("hi"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(502));
    let head = seen.await.unwrap();
    assert!(
        head.starts_with("POST http://models.invalid:8000/v1/chat/completions HTTP/1.1\r\n"),
        "{head}"
    );
}

fn with_rate_limit_headers(reply: Reply) -> Reply {
    reply
        .with_header("x-ratelimit-limit-requests", "500")
        .with_header("x-ratelimit-remaining-requests", "0")
        .with_header("x-ratelimit-reset-requests", "59.5s")
        .with_header("x-ratelimit-remaining-tokens", "1200")
        .with_header("x-ratelimit-reset-tokens", "1h2m3s")
}

fn expected_rate_limits() -> RateLimits {
    RateLimits {
        requests: Some(Quota {
            remaining: 0,
            resets_in: Some(Duration::from_millis(59_500)),
        }),
        tokens: Some(Quota {
            remaining: 1200,
            resets_in: Some(Duration::from_secs(3723)),
        }),
    }
}

#[tokio::test]
async fn a_complete_reply_carries_the_rate_limits_its_headers_report() {
    let server = FakeServer::openai().await;
    server.push(with_rate_limit_headers(Reply::json(
        serde_json::from_str(&data("openai/chat-text.json")).unwrap(),
    )));
    let reply = call(
        &client_for(&server),
        ChatRequest::new("gpt-4o-mini").user("Hi"),
    )
    .await
    .unwrap();
    assert_eq!(reply.meta().rate_limits, Some(expected_rate_limits()));
}

#[tokio::test]
async fn a_streamed_reply_carries_the_rate_limits_its_headers_report() {
    let server = FakeServer::openai().await;
    server.push(with_rate_limit_headers(Reply::sse(text_sse())));
    let stream = stream(
        &client_for(&server),
        ChatRequest::new("gpt-4o-mini").user("Hi"),
    )
    .await
    .unwrap();
    assert_eq!(stream.meta().rate_limits, Some(expected_rate_limits()));
    let response = stream.collect().await.unwrap();
    assert_eq!(response.meta.rate_limits, Some(expected_rate_limits()));
}

#[tokio::test]
async fn a_reply_without_rate_limit_headers_carries_no_snapshot() {
    let server = FakeServer::openai().await;
    server.push(
        Reply::json(serde_json::from_str(&data("openai/chat-text.json")).unwrap())
            .with_header("x-ratelimit-remaining-requests", "plenty"),
    );
    let reply = call(
        &client_for(&server),
        ChatRequest::new("gpt-4o-mini").user("Hi"),
    )
    .await
    .unwrap();
    assert_eq!(reply.meta().rate_limits, None);
}
