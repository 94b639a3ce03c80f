//! Rate-limit awareness: requests are counted against rpm/tpm before the call.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use tollgate_core::ChatRequest;
use tollgate_router::{DeploymentFacts, Route};

use support::{Fake, Outcome, answered_by, ms, request, secs, send};

#[tokio::test(start_paused = true)]
async fn the_61st_request_in_a_minute_to_an_rpm_60_deployment_goes_elsewhere() {
    // The fake answers 429 once its 61 scripted answers are used up.
    let limited = Fake::new("limited", Outcome::rate_limited(secs(60)));
    for _ in 0..61 {
        limited.push(Outcome::answer("limited"));
    }
    let other = Fake::new("other", Outcome::answer("other"));
    let route = Route::builder("chat")
        .deployment(limited.deployment_with(DeploymentFacts {
            rpm: Some(60),
            ..DeploymentFacts::default()
        }))
        .deployment(other.deployment())
        .build()
        .unwrap();
    for _ in 0..60 {
        let reply = send(&route, request("chat")).await.unwrap();
        assert_eq!(answered_by(&reply), "limited");
        tokio::time::advance(ms(500)).await;
    }
    // 30 s into the minute: the 61st goes elsewhere, without a call to `limited`.
    let reply = send(&route, request("chat")).await.unwrap();
    assert_eq!(answered_by(&reply), "other");
    assert_eq!(limited.calls(), 60);
    assert!(reply.meta().failed_attempts.is_empty(), "no 429 was needed");
    assert_eq!(route.health()[0].requests_last_minute, 60);

    // A minute after the first request its slot frees up.
    tokio::time::advance(secs(30)).await;
    let reply = send(&route, request("chat")).await.unwrap();
    assert_eq!(answered_by(&reply), "limited");
}

#[tokio::test(start_paused = true)]
async fn tpm_counts_the_input_estimate_plus_max_tokens_before_the_call() {
    let limited = Fake::new("limited", Outcome::answer("limited"));
    let other = Fake::new("other", Outcome::answer("other"));
    let route = Route::builder("chat")
        .deployment(limited.deployment_with(DeploymentFacts {
            tpm: Some(2_500),
            ..DeploymentFacts::default()
        }))
        .deployment(other.deployment())
        .build()
        .unwrap();
    // ~1000 input tokens + 100 output: two fit in 2 500, the third does not.
    let big = || {
        ChatRequest::new("chat")
            .user("x".repeat(4_000))
            .max_tokens(100)
    };
    let by: Vec<String> = {
        let mut by = Vec::new();
        for _ in 0..3 {
            by.push(answered_by(&send(&route, big()).await.unwrap()));
        }
        by
    };
    assert_eq!(by, ["limited", "limited", "other"]);
    assert_eq!(
        route.health()[0].tokens_last_minute,
        2 * big().estimate_input_tokens() + 200
    );
}
