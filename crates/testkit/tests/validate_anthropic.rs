//! The Anthropic flavor rejects what the Messages API rejects, in Anthropic's error shape.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use support::{KEY, anthropic, anthropic_body, client, status_json};
use tollgate_testkit::{FakeServer, Flavor, Reply};

async fn server() -> FakeServer {
    let server = FakeServer::anthropic().await;
    server.set_default(Reply::json(json!({"accepted": true})));
    server
}

fn assert_anthropic_error(status: u16, body: &Value, expected_status: u16, kind: &str) -> String {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["type"], "error", "{body}");
    assert_eq!(body["error"]["type"], kind, "{body}");
    assert!(
        body["request_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("req_")),
        "{body}"
    );
    body["error"]["message"].as_str().unwrap().to_owned()
}

fn with_messages(messages: Value) -> Value {
    json!({"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": messages})
}

async fn rejection(server: &FakeServer, messages: Value) -> String {
    let (status, body) = status_json(anthropic(server, &with_messages(messages)).await).await;
    assert_anthropic_error(status, &body, 400, "invalid_request_error")
}

fn tool_use(id: &str) -> Value {
    json!({"type": "tool_use", "id": id, "name": "get_tide_times", "input": {"harbor": "Brest"}})
}

fn tool_result(id: &str) -> Value {
    json!({"type": "tool_result", "tool_use_id": id, "content": "high tide 06:12"})
}

#[tokio::test]
async fn a_valid_tool_round_trip_is_accepted() {
    let server = server().await;
    let messages = json!([
        {"role": "user", "content": "Tides in Brest?"},
        {"role": "assistant", "content": [{"type": "text", "text": "Looking."}, tool_use("toolu_01A-b_c")]},
        {"role": "user", "content": [tool_result("toolu_01A-b_c"), {"type": "text", "text": "thanks"}]},
    ]);
    let (status, body) = status_json(anthropic(&server, &with_messages(messages)).await).await;
    assert_eq!((status, body), (200, json!({"accepted": true})));
    assert_eq!(
        server.last_request().unwrap().header("anthropic-version"),
        Some("2023-06-01")
    );
}

#[tokio::test]
async fn wrong_path_or_method_is_404_not_found_error() {
    let server = server().await;
    let response = client()
        .post(format!("{}/v1/message", server.base_url()))
        .header("x-api-key", KEY)
        .header("anthropic-version", "2023-06-01")
        .json(&anthropic_body())
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(response).await;
    assert_anthropic_error(status, &body, 404, "not_found_error");

    let response = client()
        .get(format!("{}/v1/messages", server.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn missing_or_wrong_x_api_key_is_401_authentication_error() {
    let server = FakeServer::builder(Flavor::Anthropic)
        .api_key("sk-ant-right")
        .start()
        .await;
    server.set_default(Reply::json(json!({})));
    let url = format!("{}/v1/messages", server.base_url());
    let requests = [
        client()
            .post(&url)
            .header("anthropic-version", "2023-06-01"),
        client()
            .post(&url)
            .header("anthropic-version", "2023-06-01")
            .header("x-api-key", ""),
        client()
            .post(&url)
            .header("anthropic-version", "2023-06-01")
            .bearer_auth("sk-ant-right"),
        client()
            .post(&url)
            .header("anthropic-version", "2023-06-01")
            .header("x-api-key", "sk-ant-wrong"),
    ];
    for request in requests {
        let (status, body) =
            status_json(request.json(&anthropic_body()).send().await.unwrap()).await;
        let message = assert_anthropic_error(status, &body, 401, "authentication_error");
        assert!(
            !message.contains("sk-ant"),
            "the key must not be echoed: {message}"
        );
    }
    let right = client()
        .post(&url)
        .header("anthropic-version", "2023-06-01")
        .header("x-api-key", "sk-ant-right")
        .json(&anthropic_body())
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
}

#[tokio::test]
async fn missing_anthropic_version_is_400() {
    let server = server().await;
    let response = client()
        .post(format!("{}/v1/messages", server.base_url()))
        .header("x-api-key", KEY)
        .json(&anthropic_body())
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(response).await;
    let message = assert_anthropic_error(status, &body, 400, "invalid_request_error");
    assert!(message.contains("anthropic-version"), "{message}");
}

#[tokio::test]
async fn a_body_that_is_not_json_is_400() {
    let server = server().await;
    let response = client()
        .post(format!("{}/v1/messages", server.base_url()))
        .header("x-api-key", KEY)
        .header("anthropic-version", "2023-06-01")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(response).await;
    assert_anthropic_error(status, &body, 400, "invalid_request_error");
}

#[tokio::test]
async fn missing_max_tokens_is_400() {
    let server = server().await;
    let body =
        json!({"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "Hi"}]});
    let (status, error) = status_json(anthropic(&server, &body).await).await;
    let message = assert_anthropic_error(status, &error, 400, "invalid_request_error");
    assert_eq!(message, "max_tokens: Field required");
}

#[tokio::test]
async fn roles_must_be_user_or_assistant() {
    let server = server().await;
    let message = rejection(
        &server,
        json!([
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
        ]),
    )
    .await;
    assert_eq!(
        message,
        "messages.0.role: Input should be 'user' or 'assistant'"
    );
}

#[tokio::test]
async fn the_first_message_must_be_from_the_user() {
    let server = server().await;
    let message = rejection(&server, json!([{"role": "assistant", "content": "Hi"}])).await;
    assert!(
        message.contains("first message must use the \"user\" role"),
        "{message}"
    );
}

#[tokio::test]
async fn roles_must_alternate() {
    let server = server().await;
    let message = rejection(
        &server,
        json!([
            {"role": "user", "content": "Hi"},
            {"role": "user", "content": "Anyone?"},
        ]),
    )
    .await;
    assert!(message.contains("roles must alternate"), "{message}");
    assert!(message.contains("multiple \"user\" roles"), "{message}");
}

#[tokio::test]
async fn a_tool_result_needs_a_matching_tool_use_in_the_previous_message() {
    let server = server().await;
    let message = rejection(
        &server,
        json!([
            {"role": "user", "content": "Tides?"},
            {"role": "assistant", "content": [tool_use("toolu_01A")]},
            {"role": "user", "content": [tool_result("toolu_01A"), tool_result("toolu_99Z")]},
        ]),
    )
    .await;
    assert!(
        message.starts_with("messages.2.content.1: unexpected `tool_use_id`"),
        "{message}"
    );
    assert!(message.contains("toolu_99Z"), "{message}");

    // A matching id two messages back does not count.
    let message = rejection(
        &server,
        json!([
            {"role": "user", "content": "Tides?"},
            {"role": "assistant", "content": [tool_use("toolu_01A")]},
            {"role": "user", "content": [tool_result("toolu_01A")]},
            {"role": "assistant", "content": "Anything else?"},
            {"role": "user", "content": [tool_result("toolu_01A")]},
        ]),
    )
    .await;
    assert!(
        message.starts_with("messages.4.content.0: unexpected `tool_use_id`"),
        "{message}"
    );
}

#[tokio::test]
async fn a_tool_use_needs_a_tool_result_in_the_next_message() {
    let server = server().await;
    let message = rejection(
        &server,
        json!([
            {"role": "user", "content": "Tides?"},
            {"role": "assistant", "content": [tool_use("toolu_01A"), tool_use("toolu_01B")]},
            {"role": "user", "content": [tool_result("toolu_01A")]},
        ]),
    )
    .await;
    assert!(
        message.starts_with("messages.1: `tool_use` ids were found without `tool_result`"),
        "{message}"
    );
    assert!(message.contains("toolu_01B"), "{message}");
}

#[tokio::test]
async fn tool_ids_must_match_anthropics_pattern() {
    let server = server().await;
    let message = rejection(
        &server,
        json!([
            {"role": "user", "content": "Tides?"},
            {"role": "assistant", "content": [tool_use("call:abc.1")]},
            {"role": "user", "content": [tool_result("call:abc.1")]},
        ]),
    )
    .await;
    // The wording of fixtures/anthropic/error-400.json.
    assert_eq!(
        message,
        "messages.1.content.0.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'"
    );

    let message = rejection(
        &server,
        json!([
            {"role": "user", "content": "Tides?"},
            {"role": "assistant", "content": [tool_use("toolu_01A")]},
            {"role": "user", "content": [tool_result("toolu 01A")]},
        ]),
    )
    .await;
    assert_eq!(
        message,
        "messages.2.content.0.tool_result.tool_use_id: String should match pattern '^[a-zA-Z0-9_-]+$'"
    );
}
