//! A route built with tollgate-router falls back across providers; the gateway reports
//! the deployment that answered and the attempts it took, and the router's explanation
//! when nothing can serve.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use tollgate_core::{Price, boxed};
use tollgate_gateway::state::RouteEntry;
use tollgate_router::{Deployment, Route};
use tollgate_testkit::scenario::{Scenario, ScenarioError, error_reply};
use tollgate_testkit::{FakeServer, Flavor};

use support::*;

#[tokio::test]
async fn a_failing_provider_falls_back_to_another_and_the_headers_say_so() {
    let openai = FakeServer::openai().await;
    let anthropic = FakeServer::anthropic().await;
    openai.set_default(error_reply(Flavor::OpenAi, ScenarioError::Server));
    anthropic.set_default(
        Scenario::text(["Saved by ", "the fallback."]).reply(Flavor::Anthropic, false),
    );
    let route = Route::builder("chat")
        .deployment(Deployment::new(
            "gpt",
            "gpt-4o-mini",
            provider_service(&openai),
        ))
        .deployment(Deployment::new(
            "claude",
            "claude-haiku",
            provider_service(&anthropic),
        ))
        .build()
        .unwrap();
    let mut routes = std::collections::BTreeMap::new();
    routes.insert(
        "chat".to_owned(),
        RouteEntry::new(
            boxed(route),
            vec![
                info(
                    "gpt",
                    "openai",
                    "gpt-4o-mini",
                    Some(Price::per_million(0.15, 0.6)),
                ),
                info(
                    "claude",
                    "anthropic",
                    "claude-haiku",
                    Some(Price::per_million(1.0, 5.0)),
                ),
            ],
        ),
    );
    let gateway = start(tollgate_gateway::state::AppState::with_routes(routes)).await;
    let response = post_chat(
        &gateway,
        &json!({"model": "chat", "messages": [{"role": "user", "content": "help"}]}),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-tollgate-deployment"], "claude");
    assert_eq!(response.headers()["x-tollgate-attempts"], "2");
    // Priced at the answering deployment's rate: 12 in × $1/M + 8 out × $5/M.
    assert_eq!(response.headers()["x-tollgate-cost-usd"], "0.000052");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Saved by the fallback."
    );
    assert!(openai.request_count() >= 1);
}
