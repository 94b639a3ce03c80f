//! Helpers shared by the integration tests: a plain reqwest client and valid requests per
//! flavor.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bytes::Bytes;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tollgate_testkit::FakeServer;

pub const KEY: &str = "test-key-123";

pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

pub fn fixture_str(name: &str) -> String {
    String::from_utf8(fixture(name)).unwrap()
}

pub fn client() -> reqwest::Client {
    reqwest::Client::new()
}

pub fn openai_body() -> Value {
    json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}]})
}

pub fn anthropic_body() -> Value {
    json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 256,
        "messages": [{"role": "user", "content": "Hello"}]
    })
}

pub fn gemini_body() -> Value {
    json!({"contents": [{"role": "user", "parts": [{"text": "Hello"}]}]})
}

/// A valid request for `server`'s flavor, sent with the right auth.
pub async fn send_valid(server: &FakeServer) -> reqwest::Response {
    match server.flavor() {
        tollgate_testkit::Flavor::OpenAi => openai(server, &openai_body()).await,
        tollgate_testkit::Flavor::Anthropic => anthropic(server, &anthropic_body()).await,
        tollgate_testkit::Flavor::Gemini => {
            gemini(server, "gemini-2.5-flash", false, &gemini_body()).await
        }
    }
}

pub async fn openai(server: &FakeServer, body: &Value) -> reqwest::Response {
    client()
        .post(format!("{}/chat/completions", server.base_url()))
        .bearer_auth(KEY)
        .json(body)
        .send()
        .await
        .unwrap()
}

pub async fn anthropic(server: &FakeServer, body: &Value) -> reqwest::Response {
    client()
        .post(format!("{}/v1/messages", server.base_url()))
        .header("x-api-key", KEY)
        .header("anthropic-version", "2023-06-01")
        .json(body)
        .send()
        .await
        .unwrap()
}

pub fn gemini_url(server: &FakeServer, model: &str, stream: bool) -> String {
    if stream {
        format!(
            "{}/v1beta/models/{model}:streamGenerateContent?alt=sse",
            server.base_url()
        )
    } else {
        format!(
            "{}/v1beta/models/{model}:generateContent",
            server.base_url()
        )
    }
}

pub async fn gemini(
    server: &FakeServer,
    model: &str,
    stream: bool,
    body: &Value,
) -> reqwest::Response {
    client()
        .post(gemini_url(server, model, stream))
        .header("x-goog-api-key", KEY)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Every body chunk as the client received it; panics if the body ends in an error.
pub async fn chunks(response: reqwest::Response) -> Vec<Bytes> {
    let mut stream = response.bytes_stream();
    let mut chunks = Vec::new();
    while let Some(chunk) = stream.next().await {
        chunks.push(chunk.unwrap());
    }
    chunks
}

/// Status and JSON body.
pub async fn status_json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, body)
}
