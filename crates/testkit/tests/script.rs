//! Scripted replies: FIFO order, the default reply, recording, headers and fixtures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::json;
use support::{KEY, fixture_str, openai, openai_body, send_valid, status_json};
use tollgate_testkit::{FakeServer, Flavor, Reply};

#[tokio::test]
async fn scripted_json_reply_is_served_and_the_request_recorded() {
    let server = FakeServer::openai().await;
    server.push(Reply::json(json!({"id": "chatcmpl-1"})).with_header("x-request-id", "req_1"));

    let response = openai(&server, &openai_body()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["x-request-id"], "req_1");
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap(),
        json!({"id": "chatcmpl-1"})
    );

    assert_eq!(server.request_count(), 1);
    let request = server.last_request().unwrap();
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v1/chat/completions");
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(request.json(), openai_body());
    assert_eq!(request.body, serde_json::to_vec(&openai_body()).unwrap());
}

#[tokio::test]
async fn replies_are_served_fifo_then_the_default() {
    let server = FakeServer::openai().await;
    server.push(Reply::json(json!({"n": 1})));
    server.push(Reply::json(json!({"n": 2})));
    assert_eq!(server.pending_replies(), 2);

    for expected in [1, 2] {
        let (status, body) = status_json(openai(&server, &openai_body()).await).await;
        assert_eq!((status, body["n"].clone()), (200, json!(expected)));
    }
    assert_eq!(server.pending_replies(), 0);

    // Empty script: the initial default is a 500 in OpenAI's error shape.
    let (status, body) = status_json(openai(&server, &openai_body()).await).await;
    assert_eq!(status, 500);
    assert_eq!(body["error"]["type"], "server_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no scripted reply")
    );

    server.set_default(Reply::json(json!({"n": "default"})));
    for _ in 0..2 {
        let (status, body) = status_json(openai(&server, &openai_body()).await).await;
        assert_eq!((status, body["n"].clone()), (200, json!("default")));
    }
    // A pushed reply still goes before the default.
    server.push(Reply::json(json!({"n": 3})));
    let (_, body) = status_json(openai(&server, &openai_body()).await).await;
    assert_eq!(body["n"], 3);
    assert_eq!(server.request_count(), 6);
}

#[tokio::test]
async fn initial_default_reply_uses_each_flavors_error_shape() {
    for flavor in Flavor::ALL {
        let server = FakeServer::start(flavor).await;
        let (status, body) = status_json(send_valid(&server).await).await;
        assert_eq!(status, 500, "{flavor}");
        match flavor {
            Flavor::OpenAi => assert_eq!(body["error"]["code"], json!(null)),
            Flavor::Anthropic => {
                assert_eq!(body["type"], "error");
                assert_eq!(body["error"]["type"], "api_error");
            }
            Flavor::Gemini => {
                assert_eq!(body["error"]["code"], 500);
                assert_eq!(body["error"]["status"], "INTERNAL");
            }
        }
    }
}

#[tokio::test]
async fn rejected_requests_are_recorded_but_do_not_consume_the_script() {
    let server = FakeServer::openai().await;
    server.push(Reply::json(json!({"n": 1})));

    let rejected = support::client()
        .post(format!("{}/chat/completions", server.base_url()))
        .json(&openai_body())
        .send()
        .await
        .unwrap();
    assert_eq!(rejected.status(), 401);
    assert_eq!(server.request_count(), 1);
    assert_eq!(server.pending_replies(), 1);

    let (status, body) = status_json(openai(&server, &openai_body()).await).await;
    assert_eq!((status, body), (200, json!({"n": 1})));
    assert_eq!(server.request_count(), 2);
}

#[tokio::test]
async fn error_fixture_serves_status_headers_and_compact_body() {
    let server = FakeServer::openai().await;
    let wrapper = fixture_str("openai-error-429.json");
    server.push(Reply::error_fixture(&wrapper));

    let response = openai(&server, &openai_body()).await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["x-ratelimit-reset-tokens"], "1.434s");
    assert_eq!(
        response.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    let wrapper: serde_json::Value = serde_json::from_str(&wrapper).unwrap();
    let text = response.text().await.unwrap();
    assert_eq!(text, serde_json::to_string(&wrapper["body"]).unwrap());
}

#[test]
fn try_error_fixture_reports_bad_wrappers() {
    assert!(Reply::try_error_fixture("not json").is_err());
    assert!(Reply::try_error_fixture(r#"{"status": "429", "body": {}}"#).is_err());
    assert!(Reply::try_error_fixture(r#"{"status": 429}"#).is_err());
    assert!(
        Reply::try_error_fixture(r#"{"status": 429, "body": {}, "headers": {"a": 1}}"#).is_err()
    );
    assert!(
        Reply::try_error_fixture(r#"{"status": 429, "body": {}, "headers": {"bad name": "x"}}"#)
            .is_err()
    );
    let reply = Reply::try_error_fixture(&fixture_str("anthropic-error-429.json")).unwrap();
    assert_eq!(reply.status(), 429);
    assert_eq!(reply.headers()["retry-after"], "12");
}

#[test]
#[should_panic(expected = "invalid error fixture")]
fn error_fixture_panics_on_a_bad_wrapper() {
    let _ = Reply::error_fixture("{");
}

#[tokio::test]
async fn raw_and_error_replies_keep_status_content_type_and_body() {
    let server = FakeServer::openai().await;
    server.push(Reply::raw(502, "text/html", "<html>Bad gateway</html>"));
    server.push(
        Reply::error(418, json!({"error": "teapot"}))
            .with_header("content-type", "application/problem+json"),
    );

    let response = openai(&server, &openai_body()).await;
    assert_eq!(response.status(), 502);
    assert_eq!(response.headers()["content-type"], "text/html");
    assert_eq!(response.text().await.unwrap(), "<html>Bad gateway</html>");

    let response = openai(&server, &openai_body()).await;
    assert_eq!(response.status(), 418);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    assert_eq!(response.text().await.unwrap(), r#"{"error":"teapot"}"#);
}

#[tokio::test]
async fn an_invalid_scripted_header_is_answered_with_a_500_naming_it() {
    let server = FakeServer::openai().await;
    server.push(Reply::json(json!({})).with_header("bad header", "x"));
    let response = openai(&server, &openai_body()).await;
    assert_eq!(response.status(), 500);
    assert!(response.text().await.unwrap().contains("bad header"));
}

#[tokio::test]
async fn base_urls_follow_each_flavors_convention() {
    let openai = FakeServer::openai().await;
    assert_eq!(openai.base_url(), format!("http://{}/v1", openai.addr()));
    let anthropic = FakeServer::anthropic().await;
    assert_eq!(anthropic.base_url(), format!("http://{}", anthropic.addr()));
    let gemini = FakeServer::gemini().await;
    assert_eq!(gemini.base_url(), format!("http://{}", gemini.addr()));
    assert!(openai.addr().ip().is_loopback());
}

#[tokio::test]
async fn debug_output_never_shows_the_api_key() {
    let server = FakeServer::builder(Flavor::OpenAi)
        .api_key("sk-secret-value")
        .start()
        .await;
    assert!(!format!("{server:?}").contains("sk-secret-value"));
    let builder = FakeServer::builder(Flavor::OpenAi).api_key("sk-secret-value");
    assert!(!format!("{builder:?}").contains("sk-secret-value"));
}

#[tokio::test]
async fn clones_share_the_script_and_recordings() {
    let server = FakeServer::openai().await;
    let clone = server.clone();
    clone.push(Reply::json(json!({"from": "clone"})));
    let (_, body) = status_json(openai(&server, &openai_body()).await).await;
    assert_eq!(body["from"], "clone");
    assert_eq!(clone.request_count(), 1);
}
