//! The OpenAI flavor rejects what Chat Completions rejects, in OpenAI's error shape.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use support::{KEY, client, openai, openai_body, status_json};
use tollgate_testkit::{FakeServer, Flavor, Reply};

async fn server() -> FakeServer {
    let server = FakeServer::openai().await;
    server.set_default(Reply::json(json!({"accepted": true})));
    server
}

fn assert_openai_error(body: &Value, kind: &str, code: Option<&str>) {
    let error = &body["error"];
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert_eq!(error["type"], kind, "{body}");
    assert!(error.as_object().unwrap().contains_key("param"), "{body}");
    assert_eq!(error["code"], json!(code), "{body}");
}

#[tokio::test]
async fn a_valid_request_is_accepted() {
    let server = server().await;
    let (status, body) = status_json(openai(&server, &openai_body()).await).await;
    assert_eq!((status, body), (200, json!({"accepted": true})));
}

#[tokio::test]
async fn wrong_path_or_method_is_404() {
    let server = server().await;
    let response = client()
        .post(format!("{}/chat/completion", server.base_url()))
        .bearer_auth(KEY)
        .json(&openai_body())
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(response).await;
    assert_eq!(status, 404);
    assert_openai_error(&body, "invalid_request_error", None);
    assert_eq!(
        body["error"]["message"],
        "Invalid URL (POST /v1/chat/completion)"
    );

    let response = client()
        .get(format!("{}/chat/completions", server.base_url()))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn missing_or_empty_bearer_key_is_401_invalid_api_key() {
    let server = server().await;
    let url = format!("{}/chat/completions", server.base_url());
    let requests = [
        client().post(&url).json(&openai_body()),
        client()
            .post(&url)
            .header("authorization", "Bearer ")
            .json(&openai_body()),
        client()
            .post(&url)
            .header("authorization", KEY)
            .json(&openai_body()),
        client()
            .post(&url)
            .header("x-api-key", KEY)
            .json(&openai_body()),
    ];
    for request in requests {
        let (status, body) = status_json(request.send().await.unwrap()).await;
        assert_eq!(status, 401);
        assert_openai_error(&body, "invalid_request_error", Some("invalid_api_key"));
    }
}

#[tokio::test]
async fn only_the_configured_key_is_accepted() {
    let server = FakeServer::builder(Flavor::OpenAi)
        .api_key("sk-right")
        .start()
        .await;
    server.set_default(Reply::json(json!({})));
    let url = format!("{}/chat/completions", server.base_url());

    let wrong = client()
        .post(&url)
        .bearer_auth("sk-wrong")
        .json(&openai_body())
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(wrong).await;
    assert_eq!(status, 401);
    assert_openai_error(&body, "invalid_request_error", Some("invalid_api_key"));
    assert!(
        !body.to_string().contains("sk-wrong"),
        "the key must not be echoed"
    );

    let right = client()
        .post(&url)
        .bearer_auth("sk-right")
        .json(&openai_body())
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_400() {
    let server = server().await;
    for body in ["{\"model\": ", "", "[1, 2]"] {
        let response = client()
            .post(format!("{}/chat/completions", server.base_url()))
            .bearer_auth(KEY)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let (status, error) = status_json(response).await;
        assert_eq!(status, 400, "{body:?}");
        assert_openai_error(&error, "invalid_request_error", None);
    }
}

#[tokio::test]
async fn missing_model_is_400() {
    let server = server().await;
    for body in [
        json!({"messages": []}),
        json!({"model": "", "messages": []}),
    ] {
        let (status, error) = status_json(openai(&server, &body).await).await;
        assert_eq!(status, 400);
        assert_openai_error(&error, "invalid_request_error", None);
        assert!(
            error["error"]["message"]
                .as_str()
                .unwrap()
                .contains("model")
        );
    }
    let (status, error) =
        status_json(openai(&server, &json!({"model": 4, "messages": []})).await).await;
    assert_eq!(status, 400);
    assert_openai_error(&error, "invalid_request_error", Some("invalid_type"));
}

#[tokio::test]
async fn missing_or_non_array_messages_is_400() {
    let server = server().await;
    let (status, error) = status_json(openai(&server, &json!({"model": "gpt-4o"})).await).await;
    assert_eq!(status, 400);
    assert_openai_error(
        &error,
        "invalid_request_error",
        Some("missing_required_parameter"),
    );
    assert_eq!(error["error"]["param"], "messages");

    let body = json!({"model": "gpt-4o", "messages": "Hello"});
    let (status, error) = status_json(openai(&server, &body).await).await;
    assert_eq!(status, 400);
    assert_openai_error(&error, "invalid_request_error", Some("invalid_type"));
    assert_eq!(error["error"]["param"], "messages");
}
