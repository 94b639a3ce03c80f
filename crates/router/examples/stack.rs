//! A routed stack composed by hand: two deployments (each with its own per-attempt
//! timeout layer), a route with fallback, retries, health, hedging and a deadline, a
//! router in front, and the `Client` facade on top.
//!
//! The "providers" are in-process functions so the example runs anywhere:
//! `cargo run -p tollgate-router --example stack`.
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::Duration;

use tollgate_core::{
    AssistantMessage, ChatReply, ChatRequest, ChatResponse, Client, Error, ErrorKind, FinishReason,
    ReplyMeta, boxed,
};
use tollgate_router::timeout::TimeoutLayer;
use tollgate_router::{
    Deployment, DeploymentFacts, FallbackPolicy, HealthPolicy, HedgePolicy, Priority, RetryPolicy,
    Route, Router, Timeouts,
};
use tower::{Layer, service_fn};

/// A provider that is always overloaded.
fn overloaded() -> tollgate_core::BoxChatService {
    boxed(service_fn(|_request: ChatRequest| async {
        Err::<ChatReply, _>(
            Error::new(ErrorKind::Overloaded, "busy")
                .with_provider("example")
                .with_status(529),
        )
    }))
}

/// A provider that answers with its model's name.
fn answering() -> tollgate_core::BoxChatService {
    boxed(service_fn(|request: ChatRequest| async move {
        Ok::<_, Error>(ChatReply::Complete(ChatResponse {
            id: "example-1".into(),
            model: request.model.clone(),
            message: AssistantMessage::text(format!("hello from {}", request.model)),
            finish_reason: FinishReason::Stop,
            provider_finish_reason: None,
            usage: None,
            meta: ReplyMeta {
                provider: "example".into(),
                ..ReplyMeta::default()
            },
        }))
    }))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Per-deployment stacks: any tower layers over the provider service.
    let per_attempt = TimeoutLayer::new(Timeouts {
        attempt_first_token: Some(Duration::from_secs(15)),
        attempt_total: Some(Duration::from_secs(120)),
        request: None,
    });
    let primary = Deployment::new(
        "primary",
        "big-model",
        boxed(per_attempt.layer(overloaded())),
    )
    .with_facts(DeploymentFacts {
        context_window: Some(128_000),
        rpm: Some(500),
        ..DeploymentFacts::default()
    });
    let backup = Deployment::new(
        "backup",
        "small-model",
        boxed(per_attempt.layer(answering())),
    );

    // The route: order, fallback, retries, health, hedging, deadline.
    let route = Route::builder("chat")
        .deployment(primary)
        .deployment(backup)
        .balancer(Arc::new(Priority))
        .fallback(FallbackPolicy::default())
        .retry(RetryPolicy::default())
        .health(HealthPolicy::default())
        .hedge(HedgePolicy::fixed(Duration::from_secs(2)))
        .timeouts(Timeouts {
            request: Some(Duration::from_secs(60)),
            ..Timeouts::default()
        })
        .build()?;
    let router = Router::builder().route(route).build()?;

    // Any tower layer can go around the router too (telemetry, auth, …); then the facade.
    let client = Client::new(boxed(router.clone()));
    let response = client.chat(ChatRequest::new("chat").user("Hi")).await?;
    println!(
        "{} (answered by {:?})",
        response.text(),
        response.meta.deployment
    );
    for attempt in &response.meta.failed_attempts {
        println!(
            "  failed first on {}: {}",
            attempt.deployment, attempt.error
        );
    }
    for (route, deployments) in router.health() {
        for d in deployments {
            println!(
                "  {route}/{}: {:?}, error ratio {:.0}%",
                d.deployment,
                d.state,
                d.error_ratio * 100.0
            );
        }
    }
    Ok(())
}
