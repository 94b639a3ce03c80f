//! The policies as layers around a single service, for hand-composed stacks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use tollgate_core::{ErrorKind, boxed};
use tollgate_router::HealthPolicy;
use tollgate_router::health::HealthLayer;
use tollgate_router::limit::RateLimitLayer;
use tower::Layer;

use support::{Fake, Outcome, request, secs, send};

#[tokio::test(start_paused = true)]
async fn the_health_layer_keeps_calls_away_during_a_cooldown_then_probes() {
    let provider = Fake::new("p", Outcome::answer("ok"));
    provider.push(Outcome::rate_limited(secs(10)));
    let layer = HealthLayer::new(HealthPolicy::default());
    let service = boxed(layer.layer(provider.clone()));

    let err = send(&service, request("m")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    let err = send(&service, request("m")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NoRoute);
    assert_eq!(err.retry_after(), Some(secs(10)));
    assert!(err.message().contains("cooling down"), "{err}");
    assert_eq!(provider.calls(), 1);

    tokio::time::advance(secs(10)).await;
    send(&service, request("m")).await.unwrap();
    assert_eq!(provider.calls(), 2);
    // The probe succeeded: closed again, every call goes through.
    assert!(layer.health().check(tokio::time::Instant::now()).is_ok());
    send(&service, request("m")).await.unwrap();
    assert_eq!(provider.calls(), 3);
}

#[tokio::test(start_paused = true)]
async fn the_rate_limit_layer_refuses_before_the_provider_would() {
    let provider = Fake::new("p", Outcome::answer("ok"));
    let service = boxed(RateLimitLayer::new(Some(2), None, 256).layer(provider.clone()));
    send(&service, request("m")).await.unwrap();
    tokio::time::advance(secs(20)).await;
    send(&service, request("m")).await.unwrap();
    let err = send(&service, request("m")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.retry_after(), Some(secs(40)));
    assert_eq!(provider.calls(), 2);
    tokio::time::advance(secs(40)).await;
    send(&service, request("m")).await.unwrap();
}
