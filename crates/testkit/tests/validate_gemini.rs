//! The Gemini flavor rejects what the Gemini API rejects, as google.rpc.Status errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use support::{KEY, client, gemini, gemini_body, gemini_url, status_json};
use tollgate_testkit::{FakeServer, Flavor, Reply};

async fn server() -> FakeServer {
    let server = FakeServer::gemini().await;
    server.set_default(Reply::json(json!({"accepted": true})));
    server
}

fn assert_status(status: u16, body: &Value, expected: u16, rpc_status: &str) -> String {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["error"]["code"], expected, "{body}");
    assert_eq!(body["error"]["status"], rpc_status, "{body}");
    body["error"]["message"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn both_methods_are_served_and_the_model_is_in_the_path() {
    let server = server().await;
    for stream in [false, true] {
        let (status, body) =
            status_json(gemini(&server, "gemini-2.5-flash", stream, &gemini_body()).await).await;
        assert_eq!((status, body), (200, json!({"accepted": true})));
    }
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        [
            "/v1beta/models/gemini-2.5-flash:generateContent",
            "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
        ]
    );
}

#[tokio::test]
async fn the_key_may_come_as_a_query_parameter() {
    let server = server().await;
    let url = format!(
        "{}/v1beta/models/gemini-2.5-flash:generateContent?key={KEY}",
        server.base_url()
    );
    let response = client()
        .post(url)
        .json(&gemini_body())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn wrong_path_method_or_verb_is_404() {
    let server = server().await;
    let base = server.base_url();
    let urls = [
        format!("{base}/v1beta/models/gemini-2.5-flash:countTokens"),
        format!("{base}/v1beta/models/gemini-2.5-flash"),
        format!("{base}/v1/models/gemini-2.5-flash:generateContent"),
        format!("{base}/v1beta/models/:generateContent"),
    ];
    for url in urls {
        let response = client()
            .post(&url)
            .header("x-goog-api-key", KEY)
            .json(&gemini_body())
            .send()
            .await
            .unwrap();
        let (status, body) = status_json(response).await;
        assert_status(status, &body, 404, "NOT_FOUND");
    }
    let response = client()
        .get(gemini_url(&server, "gemini-2.5-flash", false))
        .header("x-goog-api-key", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn streaming_requires_alt_sse() {
    let server = server().await;
    let url = format!(
        "{}/v1beta/models/gemini-2.5-flash:streamGenerateContent",
        server.base_url()
    );
    let response = client()
        .post(url)
        .header("x-goog-api-key", KEY)
        .json(&gemini_body())
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(response).await;
    let message = assert_status(status, &body, 400, "INVALID_ARGUMENT");
    assert!(message.contains("alt=sse"), "{message}");
}

#[tokio::test]
async fn a_missing_key_is_403_permission_denied() {
    let server = server().await;
    let response = client()
        .post(gemini_url(&server, "gemini-2.5-flash", false))
        .json(&gemini_body())
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(response).await;
    assert_status(status, &body, 403, "PERMISSION_DENIED");
}

#[tokio::test]
async fn a_wrong_key_is_400_api_key_invalid() {
    let server = FakeServer::builder(Flavor::Gemini)
        .api_key("AIza-right")
        .start()
        .await;
    server.set_default(Reply::json(json!({})));
    let url = gemini_url(&server, "gemini-2.5-flash", false);
    let response = client()
        .post(&url)
        .header("x-goog-api-key", "AIza-wrong")
        .json(&gemini_body())
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(response).await;
    assert_status(status, &body, 400, "INVALID_ARGUMENT");
    // The same answer as fixtures/gemini/error-400-api-key-invalid.json.
    let fixture: Value = serde_json::from_str(&support::fixture_str(
        "gemini-error-400-api-key-invalid.json",
    ))
    .unwrap();
    assert_eq!(body, fixture["body"]);
    assert!(!body.to_string().contains("AIza-wrong"));

    let right = client()
        .post(&url)
        .header("x-goog-api-key", "AIza-right")
        .json(&gemini_body())
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_400() {
    let server = server().await;
    let response = client()
        .post(gemini_url(&server, "gemini-2.5-flash", false))
        .header("x-goog-api-key", KEY)
        .body("{\"contents\": [")
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(response).await;
    assert_status(status, &body, 400, "INVALID_ARGUMENT");
    assert_eq!(
        body["error"]["details"][0]["@type"],
        "type.googleapis.com/google.rpc.BadRequest"
    );
}

#[tokio::test]
async fn missing_contents_is_400() {
    let server = server().await;
    for body in [
        json!({}),
        json!({"contents": []}),
        json!({"systemInstruction": {"parts": [{"text": "Be brief"}]}}),
    ] {
        let (status, error) =
            status_json(gemini(&server, "gemini-2.5-flash", false, &body).await).await;
        let message = assert_status(status, &error, 400, "INVALID_ARGUMENT");
        assert!(message.contains("contents is not specified"), "{message}");
    }
}

#[tokio::test]
async fn a_function_response_without_name_is_400() {
    let server = server().await;
    let body = json!({"contents": [
        {"role": "user", "parts": [{"text": "Tides?"}]},
        {"role": "model", "parts": [{"functionCall": {"name": "get_tide_times", "args": {}}}]},
        {"role": "user", "parts": [{"functionResponse": {"response": {"high": "06:12"}}}]},
    ]});
    let (status, error) =
        status_json(gemini(&server, "gemini-2.5-flash", false, &body).await).await;
    let message = assert_status(status, &error, 400, "INVALID_ARGUMENT");
    assert!(
        message.contains("contents[2].parts[0].function_response.name"),
        "{message}"
    );

    let mut named = body.clone();
    named["contents"][2]["parts"][0]["functionResponse"]["name"] = json!("get_tide_times");
    let response = gemini(&server, "gemini-2.5-flash", false, &named).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn roles_must_be_user_or_model() {
    let server = server().await;
    let body = json!({"contents": [{"role": "assistant", "parts": [{"text": "Hi"}]}]});
    let (status, error) =
        status_json(gemini(&server, "gemini-2.5-flash", false, &body).await).await;
    let message = assert_status(status, &error, 400, "INVALID_ARGUMENT");
    assert!(
        message.contains("Please use a valid role: user, model."),
        "{message}"
    );
}
