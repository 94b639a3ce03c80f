//! The gateway as an OpenAI endpoint: tollgate's own OpenAI client (the shape of the
//! OpenAI SDKs) pointed at it, with a gateway key, complete and streamed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use futures_util::StreamExt;
use tollgate_core::{ChatEvent, ChatRequest, Client, ErrorKind, Tool};
use tollgate_gateway::state::{GatewayKey, KeyStore};
use tollgate_openai::{OpenAiClient, OpenAiConfig};
use tollgate_testkit::scenario::{Scenario, ScenarioToolCall};
use tollgate_testkit::{FakeServer, Flavor};

use support::*;

fn client_for(
    gateway: &tollgate_gateway::server::RunningGateway,
    key: &str,
) -> Client<OpenAiClient> {
    Client::new(OpenAiClient::new(OpenAiConfig::new(key).base_url(url(gateway, "/v1"))).unwrap())
}

#[tokio::test]
async fn the_openai_client_chats_and_streams_through_the_gateway() {
    let upstream = FakeServer::anthropic().await;
    upstream.push(Scenario::text(["Bonjour", " !"]).reply(Flavor::Anthropic, false));
    upstream.push(Scenario::text(["Un", ", deux"]).reply(Flavor::Anthropic, true));
    upstream.push(
        Scenario::tool_calls([ScenarioToolCall::new(
            "toolu_1",
            "lookup",
            [r#"{"q":"tides"}"#],
        )])
        .reply(Flavor::Anthropic, true),
    );
    let mut state = state_for("claude", &upstream, None);
    state.keys = KeyStore::new(vec![GatewayKey::from_plaintext("app", "tg-app")]);
    let gateway = start(state).await;
    let client = client_for(&gateway, "tg-app");

    let response = client
        .chat(ChatRequest::new("claude").user("Say hello in French"))
        .await
        .unwrap();
    assert_eq!(response.text(), "Bonjour !");
    assert_eq!(response.usage.unwrap().input_tokens, 12);

    let mut stream = client
        .stream(ChatRequest::new("claude").user("Count"))
        .await
        .unwrap();
    let mut text = String::new();
    while let Some(event) = stream.next().await {
        if let ChatEvent::TextDelta { text: piece } = event.unwrap() {
            text.push_str(&piece);
        }
    }
    assert_eq!(text, "Un, deux");

    let stream = client
        .stream(
            ChatRequest::new("claude")
                .user("Tides?")
                .tool(Tool::new("lookup", serde_json::json!({"type": "object"}))),
        )
        .await
        .unwrap();
    let response = stream.collect().await.unwrap();
    assert_eq!(response.message.tool_calls.len(), 1);
    assert_eq!(response.message.tool_calls[0].name, "lookup");
    assert_eq!(
        response.message.tool_calls[0].arguments_json().unwrap(),
        serde_json::json!({"q": "tides"})
    );
}

#[tokio::test]
async fn the_openai_client_reads_gateway_errors_as_the_right_kinds() {
    let upstream = FakeServer::openai().await;
    let mut state = state_for("chat", &upstream, None);
    state.keys = KeyStore::new(vec![GatewayKey::from_plaintext("app", "tg-app")]);
    let gateway = start(state).await;

    let err = client_for(&gateway, "wrong")
        .chat(ChatRequest::new("chat").user("x"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication, "{err}");
    assert_eq!(err.code(), Some("invalid_api_key"));

    let err = client_for(&gateway, "tg-app")
        .chat(ChatRequest::new("nope").user("x"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}
