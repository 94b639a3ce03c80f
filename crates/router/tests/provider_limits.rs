//! Rate-limit awareness from the provider's own reports: the quota left that a reply's
//! `ReplyMeta::rate_limits` carries keeps traffic away until the reported reset.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use tollgate_core::{ChatRequest, ErrorKind, Quota, RateLimits};
use tollgate_router::Route;

use support::{Fake, Outcome, answered_by, request, secs, send};

fn requests_left(remaining: u64, resets_in: Duration) -> RateLimits {
    RateLimits {
        requests: Some(Quota {
            remaining,
            resets_in: Some(resets_in),
        }),
        tokens: None,
    }
}

fn tokens_left(remaining: u64, resets_in: Duration) -> RateLimits {
    RateLimits {
        requests: None,
        tokens: Some(Quota {
            remaining,
            resets_in: Some(resets_in),
        }),
    }
}

fn route(primary: &Fake, backup: &Fake) -> Route {
    Route::builder("chat")
        .deployment(primary.deployment())
        .deployment(backup.deployment())
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_deployment_that_reported_no_requests_left_is_skipped_until_the_reset() {
    let primary = Fake::new("primary", Outcome::answer("primary"));
    primary.push(Outcome::reporting("primary", requests_left(0, secs(30))));
    let backup = Fake::new("backup", Outcome::answer("backup"));
    let route = route(&primary, &backup);

    let reply = send(&route, request("chat")).await.unwrap();
    assert_eq!(answered_by(&reply), "primary");

    // Until the reset, traffic goes to the fallback without calling `primary`.
    for _ in 0..3 {
        let reply = send(&route, request("chat")).await.unwrap();
        assert_eq!(answered_by(&reply), "backup");
        assert!(reply.meta().failed_attempts.is_empty(), "no 429 was needed");
        tokio::time::advance(secs(9)).await;
    }
    assert_eq!(primary.calls(), 1);

    // 27 s in: still out. At 30 s: back.
    let reply = send(&route, request("chat")).await.unwrap();
    assert_eq!(answered_by(&reply), "backup");
    tokio::time::advance(secs(3)).await;
    let reply = send(&route, request("chat")).await.unwrap();
    assert_eq!(answered_by(&reply), "primary");
    assert_eq!(primary.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_streamed_reply_reports_its_limits_too() {
    let primary = Fake::new("primary", Outcome::answer("primary"));
    primary.push(Outcome::reporting("primary", requests_left(0, secs(30))));
    let backup = Fake::new("backup", Outcome::answer("backup"));
    let route = route(&primary, &backup);

    let reply = send(&route, request("chat").streaming(true)).await.unwrap();
    assert_eq!(answered_by(&reply), "primary");
    reply.into_response().await.unwrap();
    let reply = send(&route, request("chat").streaming(true)).await.unwrap();
    assert_eq!(answered_by(&reply), "backup");
}

/// ~1,000 input tokens and 100 of output: more than a 600-token remainder.
fn big_request() -> ChatRequest {
    ChatRequest::new("chat")
        .user("x".repeat(4_000))
        .max_tokens(100)
}

#[tokio::test(start_paused = true)]
async fn a_small_token_remainder_skips_only_requests_that_need_more() {
    let primary = Fake::new("primary", Outcome::answer("primary"));
    primary.push(Outcome::reporting("primary", tokens_left(600, secs(20))));
    let backup = Fake::new("backup", Outcome::answer("backup"));
    let route = route(&primary, &backup);
    // ~1000 input tokens + 100 output: more than 600. "hello" + 100: less.
    let small = || request("chat").max_tokens(100);
    assert!(big_request().estimate_input_tokens() + 100 > 600);

    assert_eq!(
        answered_by(&send(&route, small()).await.unwrap()),
        "primary"
    );
    assert_eq!(
        answered_by(&send(&route, big_request()).await.unwrap()),
        "backup"
    );
    assert_eq!(
        answered_by(&send(&route, small()).await.unwrap()),
        "primary"
    );
    // The answer to that small request reported nothing: the remainder still holds.
    assert_eq!(
        answered_by(&send(&route, big_request()).await.unwrap()),
        "backup"
    );

    tokio::time::advance(secs(20)).await;
    assert_eq!(
        answered_by(&send(&route, big_request()).await.unwrap()),
        "primary"
    );
}

#[tokio::test(start_paused = true)]
async fn a_newer_reply_replaces_what_an_older_one_reported() {
    let primary = Fake::new("primary", Outcome::answer("primary"));
    primary.push(Outcome::reporting("primary", tokens_left(600, secs(60))));
    primary.push(Outcome::reporting("primary", tokens_left(50_000, secs(60))));
    let backup = Fake::new("backup", Outcome::answer("backup"));
    let route = route(&primary, &backup);

    send(&route, request("chat")).await.unwrap();
    assert_eq!(
        answered_by(&send(&route, big_request()).await.unwrap()),
        "backup"
    );
    // A small request gets the newer, larger remainder back.
    send(&route, request("chat")).await.unwrap();
    assert_eq!(
        answered_by(&send(&route, big_request()).await.unwrap()),
        "primary"
    );
}

#[tokio::test(start_paused = true)]
async fn with_every_deployment_exhausted_the_error_retries_after_the_soonest_reset() {
    let primary = Fake::new("primary", Outcome::answer("primary"));
    primary.push(Outcome::reporting("primary", requests_left(0, secs(40))));
    let backup = Fake::new("backup", Outcome::answer("backup"));
    backup.push(Outcome::reporting("backup", requests_left(0, secs(15))));
    let route = route(&primary, &backup);

    assert_eq!(
        answered_by(&send(&route, request("chat")).await.unwrap()),
        "primary"
    );
    assert_eq!(
        answered_by(&send(&route, request("chat")).await.unwrap()),
        "backup"
    );
    tokio::time::advance(secs(5)).await;
    let err = send(&route, request("chat")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NoRoute);
    assert_eq!(err.retry_after(), Some(secs(10)));
    assert!(
        err.message()
            .contains("`backup`: the provider reported no requests left (room again in 10.0s)"),
        "{err}"
    );
    assert_eq!((primary.calls(), backup.calls()), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn the_rate_limit_layer_refuses_what_the_provider_said_it_would_refuse() {
    use tollgate_core::boxed;
    use tollgate_router::limit::RateLimitLayer;
    use tower::Layer;

    let provider = Fake::new("p", Outcome::answer("ok"));
    provider.push(Outcome::reporting("ok", requests_left(0, secs(12))));
    // No configured limits at all: only the provider's report limits it.
    let service = boxed(RateLimitLayer::new(None, None, 256).layer(provider.clone()));
    send(&service, request("m")).await.unwrap();
    let err = send(&service, request("m")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.retry_after(), Some(secs(12)));
    assert_eq!(provider.calls(), 1);
    tokio::time::advance(secs(12)).await;
    send(&service, request("m")).await.unwrap();
    assert_eq!(provider.calls(), 2);
}
