//! Each balancer end to end through a `Route`: the engine's candidates, in-flight counts
//! and observations drive the same behaviour as the direct tests.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod balance_support;

use std::sync::Arc;
use std::time::Duration;

use balance_support::fake::FakeModel;
use balance_support::{priced, share, weighted};
use tollgate_core::{ChatReply, ChatRequest, Tool};
use tollgate_router::balance::{
    Cost, CostConfig, DefaultClassifier, Latency, LatencyConfig, LeastInFlight, Members, TierPool,
    Tiered, Weighted,
};
use tollgate_router::{Balancer, Capabilities, DeploymentFacts, Priority, Route};
use tower::ServiceExt;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn route(models: &[(&FakeModel, DeploymentFacts)], balancer: impl Balancer) -> Route {
    Route::builder("chat")
        .deployments(models.iter().map(|(m, facts)| m.deployment(facts.clone())))
        .balancer(Arc::new(balancer))
        .build()
        .expect("valid route")
}

async fn send(route: &Route, request: ChatRequest) -> String {
    let reply: ChatReply = route.clone().oneshot(request).await.expect("answered");
    reply
        .meta()
        .deployment
        .clone()
        .expect("deployment reported")
}

#[tokio::test(start_paused = true)]
async fn weighted_route_splits_by_weight() {
    let (a, b) = (FakeModel::new("a", ms(0)), FakeModel::new("b", ms(0)));
    let route = route(
        &[(&a, weighted(3)), (&b, weighted(1))],
        Weighted::with_seed(1),
    );
    const N: usize = 2_000;
    for _ in 0..N {
        send(&route, ChatRequest::new("chat").user("hi")).await;
    }
    let got = share(a.calls(), N);
    assert!((got - 0.75).abs() < 0.03, "a got {got:.3}");
}

#[tokio::test(start_paused = true)]
async fn least_in_flight_route_spreads_concurrent_requests() {
    let models: Vec<FakeModel> = (0..4)
        .map(|i| FakeModel::new(&format!("d{i}"), ms(1_000)))
        .collect();
    let facts = DeploymentFacts::default();
    let pairs: Vec<_> = models.iter().map(|m| (m, facts.clone())).collect();
    let route = route(&pairs, LeastInFlight::with_seed(2));
    let requests = (0..8).map(|_| send(&route, ChatRequest::new("chat").user("hi")));
    futures_util::future::join_all(requests).await;
    for model in &models {
        assert_eq!(
            model.calls(),
            2,
            "eight concurrent requests, two per deployment"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn latency_route_learns_the_fastest_and_follows_a_degradation() {
    let models = [
        FakeModel::new("fast", ms(50)),
        FakeModel::new("medium", ms(200)),
        FakeModel::new("slow", ms(800)),
    ];
    let pairs: Vec<_> = models
        .iter()
        .map(|m| (m, DeploymentFacts::default()))
        .collect();
    let route = route(&pairs, Latency::with_seed(LatencyConfig::default(), 3));
    let request = || ChatRequest::new("chat").user("hi");
    for _ in 0..100 {
        send(&route, request()).await;
    }
    let mut fast = 0;
    for _ in 0..500 {
        fast += usize::from(send(&route, request()).await == "fast");
    }
    assert!(share(fast, 500) >= 0.90, "fast got {fast}/500");

    models[0].set_delay(ms(1_000));
    send(&route, request()).await; // the request that discovers the slowness
    let mut medium = 0;
    for _ in 0..200 {
        medium += usize::from(send(&route, request()).await == "medium");
    }
    assert!(
        share(medium, 200) >= 0.90,
        "medium got {medium}/200 after the degradation"
    );
}

fn no_tools(facts: DeploymentFacts) -> DeploymentFacts {
    DeploymentFacts {
        capabilities: Capabilities {
            tools: false,
            ..Capabilities::default()
        },
        ..facts
    }
}

#[tokio::test(start_paused = true)]
async fn cost_route_picks_the_cheapest_that_can_serve() {
    let tiny = FakeModel::new("tiny", ms(0));
    let mini = FakeModel::new("mini", ms(0));
    let big = FakeModel::new("big", ms(0));
    let route = route(
        &[
            (&big, priced(2.50, 10.00)),
            (&tiny, no_tools(priced(0.05, 0.10))),
            (&mini, priced(0.15, 0.60)),
        ],
        Cost::with_seed(CostConfig::default(), 4),
    );
    assert_eq!(
        send(&route, ChatRequest::new("chat").user("hi")).await,
        "tiny"
    );
    let with_tools = ChatRequest::new("chat")
        .user("look it up")
        .tool(Tool::new("lookup", serde_json::json!({"type": "object"})));
    assert_eq!(send(&route, with_tools).await, "mini");
}

#[tokio::test(start_paused = true)]
async fn tiered_route_sends_each_tier_to_its_pool() {
    let mini = FakeModel::new("gpt-4o-mini", ms(0));
    let big = FakeModel::new("gpt-4o", ms(0));
    let route = route(
        &[(&big, priced(2.50, 10.00)), (&mini, priced(0.15, 0.60))],
        Tiered::new(
            DefaultClassifier::new(),
            vec![
                TierPool::new("complex", Members::Names(vec!["gpt-4o".into()]), Priority),
                TierPool::new(
                    "simple",
                    Members::Names(vec!["gpt-4o-mini".into()]),
                    Priority,
                ),
            ],
        ),
    );
    let simple = ChatRequest::new("chat").user("Say hi.");
    let complex = ChatRequest::new("chat")
        .user("Refactor this.")
        .tag("task", "coding");
    assert_eq!(send(&route, simple).await, "gpt-4o-mini");
    assert_eq!(send(&route, complex).await, "gpt-4o");
}
