//! Every failure answers in OpenAI's error JSON with the right status: malformed requests,
//! auth, unknown routes, the body limit, rate limits, upstream failures, broken streams.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use tollgate_core::{BoxChatService, Error, ErrorKind, boxed};
use tollgate_gateway::state::{GatewayKey, KeyStore};
use tollgate_testkit::scenario::{Scenario, ScenarioError, error_reply};
use tollgate_testkit::{FakeServer, Flavor};

use support::*;

fn hello(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "hello"}]})
}

/// A service that always fails with `error`.
fn failing(error: Error) -> BoxChatService {
    boxed(tower::service_fn(move |_request| {
        let error = error.clone();
        async move { Err(error) }
    }))
}

async fn gateway_failing_with(error: Error) -> tollgate_gateway::server::RunningGateway {
    start(state(vec![(
        "chat",
        failing(error),
        info("d1", "openai", "m", None),
    )]))
    .await
}

#[tokio::test]
async fn malformed_json_is_a_400() {
    let gateway = gateway_failing_with(Error::new(ErrorKind::Server, "unused")).await;
    let response = reqwest::Client::new()
        .post(url(&gateway, "/v1/chat/completions"))
        .header("content-type", "application/json")
        .body("{\"model\": \"chat\", ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let error = error_of(response).await;
    assert_eq!(error["type"], "invalid_request_error");
    assert_eq!(error["param"], Value::Null);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("not valid JSON")
    );
}

#[tokio::test]
async fn a_wrong_field_is_a_400_naming_its_path() {
    let gateway = gateway_failing_with(Error::new(ErrorKind::Server, "unused")).await;
    let cases = [
        (
            json!({"model": "chat", "messages": [{"role": "user", "content": "x"}], "temperature": "warm"}),
            "temperature",
        ),
        (
            json!({"model": "chat", "messages": [{"role": "user", "content": "x"}, {"role": "wizard", "content": "y"}]}),
            "messages[1].role",
        ),
        (
            json!({"model": "chat", "messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]}),
            "messages[0].content[0].text",
        ),
        (
            json!({"model": "chat", "messages": [{"role": "user", "content": "x"}], "n": 3}),
            "n",
        ),
        (
            json!({"messages": [{"role": "user", "content": "x"}]}),
            "model",
        ),
    ];
    for (body, param) in cases {
        let response = post_chat(&gateway, &body).await;
        assert_eq!(response.status(), 400, "{body}");
        let error = error_of(response).await;
        assert_eq!(error["param"], param, "{error}");
        assert!(
            error["message"].as_str().unwrap().contains(param),
            "{error}"
        );
    }
}

#[tokio::test]
async fn gateway_keys_are_required_when_configured() {
    let server = FakeServer::openai().await;
    server.set_default(Scenario::text(["ok"]).reply(Flavor::OpenAi, false));
    let mut state = state_for("chat", &server, None);
    state.keys = KeyStore::new(vec![
        GatewayKey::from_plaintext("team-a", "tg-key-a"),
        GatewayKey::from_plaintext("team-b", "tg-key-b").routes(["other"]),
    ]);
    let gateway = start(state).await;
    let client = reqwest::Client::new();
    let chat_url = url(&gateway, "/v1/chat/completions");

    let missing = client
        .post(&chat_url)
        .json(&hello("chat"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 401);
    let error = error_of(missing).await;
    assert_eq!(error["code"], "invalid_api_key");
    assert_eq!(error["type"], "invalid_request_error");
    assert_eq!(error["param"], Value::Null);

    let wrong = client
        .post(&chat_url)
        .bearer_auth("tg-key-x")
        .json(&hello("chat"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let text = wrong.text().await.unwrap();
    assert!(!text.contains("tg-key-x"), "the key is echoed: {text}");

    let ok = client
        .post(&chat_url)
        .bearer_auth("tg-key-a")
        .json(&hello("chat"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let ok = client
        .post(&chat_url)
        .header("x-api-key", "tg-key-a")
        .json(&hello("chat"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);

    // team-b may not use `chat`.
    let forbidden = client
        .post(&chat_url)
        .bearer_auth("tg-key-b")
        .json(&hello("chat"))
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), 403);
    assert_eq!(error_of(forbidden).await["code"], "model_not_allowed");

    // The model list needs a key too, and shows only what the key may use.
    let models = client
        .get(url(&gateway, "/v1/models"))
        .send()
        .await
        .unwrap();
    assert_eq!(models.status(), 401);
    let models: Value = client
        .get(url(&gateway, "/v1/models"))
        .bearer_auth("tg-key-b")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(models["data"], json!([]));
}

#[tokio::test]
async fn a_key_over_its_rpm_gets_429_with_retry_after() {
    let server = FakeServer::openai().await;
    server.set_default(Scenario::text(["ok"]).reply(Flavor::OpenAi, false));
    let mut state = state_for("chat", &server, None);
    state.keys = KeyStore::new(vec![GatewayKey::from_plaintext("slow", "tg-slow").rpm(2)]);
    let gateway = start(state).await;
    let client = reqwest::Client::new();
    let send = || {
        client
            .post(url(&gateway, "/v1/chat/completions"))
            .bearer_auth("tg-slow")
            .json(&hello("chat"))
            .send()
    };
    assert_eq!(send().await.unwrap().status(), 200);
    assert_eq!(send().await.unwrap().status(), 200);
    let limited = send().await.unwrap();
    assert_eq!(limited.status(), 429);
    let wait: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&wait), "{wait}");
    let error = error_of(limited).await;
    assert_eq!(error["code"], "rate_limit_exceeded");
    assert_eq!(
        server.request_count(),
        2,
        "a limited request must not reach the provider"
    );
}

#[tokio::test]
async fn an_unknown_model_is_a_404_listing_the_routes() {
    let gateway = start(state(vec![
        (
            "fast",
            failing(Error::new(ErrorKind::Server, "x")),
            info("d1", "openai", "m", None),
        ),
        (
            "smart",
            failing(Error::new(ErrorKind::Server, "x")),
            info("d2", "openai", "m", None),
        ),
    ]))
    .await;
    let response = post_chat(&gateway, &hello("gpt-5")).await;
    assert_eq!(response.status(), 404);
    let error = error_of(response).await;
    assert_eq!(error["code"], "model_not_found");
    assert_eq!(error["param"], "model");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("gpt-5") && message.contains("fast, smart"),
        "{message}"
    );
}

#[tokio::test]
async fn bodies_above_the_limit_are_a_413() {
    let server = FakeServer::openai().await;
    server.set_default(Scenario::text(["ok"]).reply(Flavor::OpenAi, false));
    let mut state = state_for("chat", &server, None);
    state.limits.max_body_bytes = 2048;
    let gateway = start(state).await;
    let big = json!({"model": "chat", "messages": [{"role": "user", "content": "x".repeat(4096)}]});
    let response = post_chat(&gateway, &big).await;
    assert_eq!(response.status(), 413);
    assert_eq!(error_of(response).await["code"], "request_too_large");

    // Without a content-length (chunked), the limit still holds.
    let bytes = serde_json::to_vec(&big).unwrap();
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        bytes.chunks(512).map(|c| Ok(c.to_vec())).collect();
    let response = reqwest::Client::new()
        .post(url(&gateway, "/v1/chat/completions"))
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);

    // A body just under the limit is served.
    let small =
        json!({"model": "chat", "messages": [{"role": "user", "content": "x".repeat(1000)}]});
    assert_eq!(post_chat(&gateway, &small).await.status(), 200);
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn upstream_failures_map_to_their_status_type_and_code() {
    struct Case {
        flavor: Flavor,
        error: ScenarioError,
        status: u16,
        kind: &'static str,
        code: &'static str,
    }
    let cases = [
        Case {
            flavor: Flavor::OpenAi,
            error: ScenarioError::RateLimited {
                retry_after_secs: 3,
            },
            status: 429,
            kind: "rate_limit_error",
            code: "rate_limit_exceeded",
        },
        Case {
            flavor: Flavor::OpenAi,
            error: ScenarioError::QuotaExhausted,
            status: 429,
            kind: "insufficient_quota",
            code: "insufficient_quota",
        },
        Case {
            flavor: Flavor::OpenAi,
            error: ScenarioError::Server,
            status: 502,
            kind: "server_error",
            code: "server",
        },
        Case {
            flavor: Flavor::Anthropic,
            error: ScenarioError::Overloaded,
            status: 503,
            kind: "server_error",
            code: "overloaded",
        },
        Case {
            flavor: Flavor::Gemini,
            error: ScenarioError::Authentication,
            status: 502,
            kind: "upstream_error",
            code: "upstream_authentication",
        },
        Case {
            flavor: Flavor::OpenAi,
            error: ScenarioError::ContextLengthExceeded,
            status: 400,
            kind: "invalid_request_error",
            code: "context_length_exceeded",
        },
    ];
    for case in cases {
        let server = FakeServer::start(case.flavor).await;
        server.push(error_reply(case.flavor, case.error));
        let gateway = start(state_for("chat", &server, None)).await;
        let response = post_chat(&gateway, &hello("chat")).await;
        assert_eq!(response.status(), case.status, "{:?}", case.error);
        if case.status == 429 && matches!(case.error, ScenarioError::RateLimited { .. }) {
            assert_eq!(response.headers()["retry-after"], "3");
        }
        let error = error_of(response).await;
        assert_eq!(error["type"], case.kind, "{:?}: {error}", case.error);
        assert_eq!(error["code"], case.code, "{:?}: {error}", case.error);
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(provider_name(case.flavor)), "{message}");
        assert!(
            !message.contains("sk-test") && !message.contains("gm-test"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn no_route_is_a_429_with_the_soonest_retry_and_the_explanation() {
    let explanation = "no deployment of route `chat` can serve: gpt (openai): cooling down for 7s after a 429; claude (anthropic): over its rpm limit";
    let gateway = gateway_failing_with(
        Error::new(ErrorKind::NoRoute, explanation).with_retry_after(Duration::from_millis(6500)),
    )
    .await;
    let response = post_chat(&gateway, &hello("chat")).await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "7");
    assert_eq!(response.headers()["retry-after-ms"], "6500");
    let error = error_of(response).await;
    assert_eq!(error["code"], "no_route");
    assert!(error["message"].as_str().unwrap().contains(explanation));
}

#[tokio::test]
async fn timeouts_are_504_and_transport_failures_502() {
    let gateway =
        gateway_failing_with(Error::new(ErrorKind::Timeout, "no first token within 10s")).await;
    let response = post_chat(&gateway, &hello("chat")).await;
    assert_eq!(response.status(), 504);
    assert_eq!(error_of(response).await["type"], "timeout_error");
    let gateway =
        gateway_failing_with(Error::new(ErrorKind::Transport, "connection refused")).await;
    let response = post_chat(&gateway, &hello("chat")).await;
    assert_eq!(response.status(), 502);
    assert_eq!(error_of(response).await["code"], "transport");
}

#[tokio::test]
async fn a_stream_that_breaks_ends_with_an_error_event_and_no_done() {
    let server = FakeServer::openai().await;
    server.push(
        Scenario::text(["a", "b", "c", "d", "e"])
            .reply(Flavor::OpenAi, true)
            .disconnect_after(3),
    );
    let gateway = start(state_for("chat", &server, None)).await;
    let response = post_chat(
        &gateway,
        &json!({"model": "chat", "stream": true, "messages": [{"role": "user", "content": "x"}]}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let events = sse_events(&response.text().await.unwrap());
    let last = events.last().unwrap();
    assert!(last["error"]["message"].is_string(), "{events:?}");
    assert_eq!(last["error"]["type"], "server_error");
    assert!(!events.contains(&json!("[DONE]")), "{events:?}");
    assert!(
        events
            .iter()
            .all(|e| e["choices"][0]["finish_reason"].is_null())
    );
}

#[tokio::test]
async fn a_failure_before_the_first_event_of_a_stream_is_a_plain_error_response() {
    let server = FakeServer::anthropic().await;
    server.push(error_reply(Flavor::Anthropic, ScenarioError::Overloaded));
    let gateway = start(state_for("chat", &server, None)).await;
    let response = post_chat(
        &gateway,
        &json!({"model": "chat", "stream": true, "messages": [{"role": "user", "content": "x"}]}),
    )
    .await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(error_of(response).await["code"], "overloaded");
}

#[tokio::test]
async fn a_panicking_service_is_a_500_in_openai_shape() {
    let panicking: BoxChatService = boxed(tower::service_fn(|_request| async move {
        if true {
            panic!("bug in a layer");
        }
        Err::<tollgate_core::ChatReply, Error>(Error::new(ErrorKind::Server, "unreachable"))
    }));
    let gateway = start(state(vec![(
        "chat",
        panicking,
        info("d", "openai", "m", None),
    )]))
    .await;
    let response = post_chat(&gateway, &hello("chat")).await;
    assert_eq!(response.status(), 500);
    assert_eq!(error_of(response).await["code"], "internal_error");
    // The gateway keeps serving.
    assert_eq!(
        reqwest::get(url(&gateway, "/healthz"))
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_in_openai_shape() {
    let gateway = gateway_failing_with(Error::new(ErrorKind::Server, "unused")).await;
    let response = reqwest::get(url(&gateway, "/v1/embeddings")).await.unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(error_of(response).await["code"], "unknown_url");
    let response = reqwest::get(url(&gateway, "/v1/chat/completions"))
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(error_of(response).await["code"], "method_not_allowed");
}

/// Chat completions skip axum's router (`server::dispatch`); the router must still answer
/// whatever the shortcut does not take, exactly as before.
#[tokio::test]
async fn chat_completions_answer_on_both_paths_and_only_to_post() {
    let gateway = gateway_failing_with(Error::new(ErrorKind::Server, "unused")).await;
    let client = reqwest::Client::new();
    for path in ["/v1/chat/completions", "/chat/completions"] {
        let response = client
            .post(url(&gateway, path))
            .body("{\"model\": ")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{path}");
        assert!(
            error_of(response).await["message"]
                .as_str()
                .unwrap()
                .contains("not valid JSON")
        );
        let response = client.put(url(&gateway, path)).send().await.unwrap();
        assert_eq!(response.status(), 405, "{path}");
        assert_eq!(error_of(response).await["code"], "method_not_allowed");
    }
    for path in [
        "/v1/chat/completions/",
        "/v1/chat/completionsx",
        "/v2/chat/completions",
    ] {
        let response = client
            .post(url(&gateway, path))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(error_of(response).await["code"], "unknown_url");
    }
}

#[tokio::test]
async fn health_readiness_and_models() {
    let gateway = gateway_failing_with(Error::new(ErrorKind::Server, "unused")).await;
    assert_eq!(
        reqwest::get(url(&gateway, "/healthz"))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        reqwest::get(url(&gateway, "/readyz"))
            .await
            .unwrap()
            .status(),
        200
    );
    let models: Value = reqwest::get(url(&gateway, "/v1/models"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        models,
        json!({"object": "list", "data": [{"id": "chat", "object": "model", "created": 0, "owned_by": "openai"}]})
    );
    let empty = start(state(Vec::new())).await;
    assert_eq!(
        reqwest::get(url(&empty, "/healthz"))
            .await
            .unwrap()
            .status(),
        200
    );
    let response = reqwest::get(url(&empty, "/readyz")).await.unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(error_of(response).await["code"], "not_ready");
}
