//! The circuit breaker: opens on the error ratio over the window once the minimum
//! request count is reached, probes once when half-open, closes on success.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use tollgate_core::ErrorKind;
use tollgate_router::{CircuitState, HealthPolicy, RetryPolicy, Route};

use support::{Fake, Outcome, answered_by, request, secs, send};

fn policy() -> HealthPolicy {
    HealthPolicy {
        window: secs(10),
        min_requests: 4,
        error_ratio: 0.5,
        open_for: secs(5),
        ..HealthPolicy::default()
    }
}

fn route(primary: &Fake, backup: &Fake) -> Route {
    Route::builder("chat")
        .deployment(primary.deployment())
        .deployment(backup.deployment())
        .health(policy())
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn the_circuit_opens_on_the_error_ratio_probes_once_and_closes_on_success() {
    let primary = Fake::new("primary", Outcome::answer("p"));
    for outcome in [
        Outcome::answer("p"),
        Outcome::fail(ErrorKind::Server),
        Outcome::answer("p"),
        Outcome::fail(ErrorKind::Server),
    ] {
        primary.push(outcome);
    }
    let backup = Fake::new("backup", Outcome::answer("b"));
    let route = route(&primary, &backup);
    for _ in 0..4 {
        send(&route, request("chat")).await.unwrap();
    }
    // 2 failures out of 4 requests = 50 %: open.
    let health = route.health();
    assert_eq!(health[0].state, CircuitState::Open);
    assert_eq!(health[0].error_ratio, 0.5);
    assert_eq!(health[0].requests_in_window, 4);
    assert!(
        health[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("error ratio 50%")
    );
    assert_eq!(health[1].state, CircuitState::Closed);

    let reply = send(&route, request("chat")).await.unwrap();
    assert_eq!(answered_by(&reply), "backup");
    assert_eq!(primary.calls(), 4, "nothing reaches an open circuit");

    // After open_for, one probe; it succeeds and the circuit closes.
    tokio::time::advance(secs(5)).await;
    assert_eq!(route.health()[0].state, CircuitState::HalfOpen);
    let reply = send(&route, request("chat")).await.unwrap();
    assert_eq!(answered_by(&reply), "primary");
    assert_eq!(route.health()[0].state, CircuitState::Closed);
    assert_eq!(
        route.health()[0].requests_in_window,
        0,
        "the window starts afresh"
    );
}

#[tokio::test(start_paused = true)]
async fn below_the_minimum_request_count_the_circuit_stays_closed() {
    let primary = Fake::new("primary", Outcome::fail(ErrorKind::Server));
    let backup = Fake::new("backup", Outcome::answer("b"));
    let route = route(&primary, &backup);
    for _ in 0..3 {
        send(&route, request("chat")).await.unwrap();
    }
    assert_eq!(route.health()[0].state, CircuitState::Closed);
    assert_eq!(route.health()[0].error_ratio, 1.0);
    send(&route, request("chat")).await.unwrap();
    assert_eq!(route.health()[0].state, CircuitState::Open);
    assert_eq!(primary.calls(), 4);
}

#[tokio::test(start_paused = true)]
async fn a_failed_probe_reopens_the_circuit() {
    let primary = Fake::new("primary", Outcome::fail(ErrorKind::Server));
    let backup = Fake::new("backup", Outcome::answer("b"));
    let route = route(&primary, &backup);
    for _ in 0..4 {
        send(&route, request("chat")).await.unwrap();
    }
    tokio::time::advance(secs(5)).await;
    send(&route, request("chat")).await.unwrap();
    assert_eq!(primary.calls(), 5, "one probe");
    let health = &route.health()[0];
    assert_eq!(health.state, CircuitState::Open);
    assert!(health.reason.as_deref().unwrap().contains("probe failed"));
    send(&route, request("chat")).await.unwrap();
    assert_eq!(primary.calls(), 5);
}

#[tokio::test(start_paused = true)]
async fn old_failures_leave_the_window() {
    let primary = Fake::new("primary", Outcome::answer("p"));
    for _ in 0..3 {
        primary.push(Outcome::fail(ErrorKind::Server));
    }
    let backup = Fake::new("backup", Outcome::answer("b"));
    let route = route(&primary, &backup);
    for _ in 0..3 {
        send(&route, request("chat")).await.unwrap();
    }
    tokio::time::advance(secs(11)).await;
    send(&route, request("chat")).await.unwrap();
    let health = &route.health()[0];
    assert_eq!(health.state, CircuitState::Closed);
    assert_eq!((health.requests_in_window, health.error_ratio), (1, 0.0));
}

#[tokio::test(start_paused = true)]
async fn request_errors_never_open_the_circuit() {
    let primary = Fake::new("primary", Outcome::fail(ErrorKind::InvalidRequest));
    let backup = Fake::new("backup", Outcome::answer("b"));
    let route = route(&primary, &backup);
    for _ in 0..10 {
        send(&route, request("chat")).await.unwrap_err();
    }
    assert_eq!(route.health()[0].state, CircuitState::Closed);
    assert_eq!(primary.calls(), 10);
}
