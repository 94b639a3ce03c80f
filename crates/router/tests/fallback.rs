//! Fallback chains, cooldowns after 429, streaming before/after the first token,
//! context-length and content-filter fallbacks, and what the reply's meta reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use futures_util::StreamExt;
use tollgate_core::{ChatEvent, ChatReply, Error, ErrorKind};
use tollgate_router::{ContextFallback, DeploymentFacts, FallbackPolicy, Route, Router, Timeouts};

use support::{Fake, Outcome, answered_by, ms, request, secs, send, start};

#[tokio::test(start_paused = true)]
async fn a_429_cools_the_primary_down_for_its_retry_after_then_admits_exactly_one_probe() {
    let primary = Fake::new("primary", Outcome::answer_after(secs(1), "from primary"));
    primary.push(Outcome::rate_limited(secs(30)));
    let backup = Fake::new("backup", Outcome::answer("from backup"));
    let route = Route::builder("chat")
        .deployment(primary.deployment())
        .deployment(backup.deployment())
        .build()
        .unwrap();

    let reply = send(&route, request("chat")).await.unwrap();
    assert_eq!(answered_by(&reply), "backup");
    assert_eq!(primary.calls(), 1);

    // For the whole cooldown, the primary receives nothing.
    for _ in 0..29 {
        tokio::time::advance(secs(1)).await;
        let reply = send(&route, request("chat")).await.unwrap();
        assert_eq!(answered_by(&reply), "backup");
    }
    assert_eq!(primary.calls(), 1, "no request during the 30 s cooldown");

    // At 30 s: three concurrent requests, exactly one of them probes the primary.
    tokio::time::advance(secs(1)).await;
    let replies =
        futures_util::future::join_all((0..3).map(|_| send(&route, request("chat")))).await;
    let by: Vec<String> = replies
        .iter()
        .map(|r| answered_by(r.as_ref().unwrap()))
        .collect();
    assert_eq!(by.iter().filter(|d| *d == "primary").count(), 1, "{by:?}");
    assert_eq!(primary.calls(), 2);

    // The probe succeeded: the primary is fully re-admitted.
    let reply = send(&route, request("chat")).await.unwrap();
    assert_eq!(answered_by(&reply), "primary");
    assert_eq!(primary.calls(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_stream_failing_before_its_first_token_falls_back() {
    let primary = Fake::new(
        "primary",
        Outcome::Stream(vec![(
            ms(50),
            Err(Error::new(ErrorKind::Overloaded, "busy")),
        )]),
    );
    let backup = Fake::new("backup", Outcome::answer("hello from backup"));
    let route = Route::builder("chat")
        .deployment(primary.deployment())
        .deployment(backup.deployment())
        .build()
        .unwrap();
    let reply = send(&route, request("chat").streaming(true)).await.unwrap();
    assert!(matches!(reply, ChatReply::Stream(_)));
    assert_eq!(answered_by(&reply), "backup");
    assert_eq!(reply.meta().failed_attempts.len(), 1);
    let response = reply.into_response().await.unwrap();
    assert_eq!(response.text(), "hello from backup");
}

#[tokio::test(start_paused = true)]
async fn a_stream_failing_after_its_first_token_ends_with_an_error_item_and_is_not_retried() {
    let primary = Fake::new(
        "primary",
        Outcome::Stream(vec![
            (ms(10), Ok(start("m"))),
            (ms(10), Ok(ChatEvent::text("partial"))),
            (
                ms(10),
                Err(Error::new(ErrorKind::Transport, "connection reset")),
            ),
        ]),
    );
    let backup = Fake::new("backup", Outcome::answer("never"));
    let route = Route::builder("chat")
        .deployment(primary.deployment())
        .deployment(backup.deployment())
        .build()
        .unwrap();
    let reply = send(&route, request("chat").streaming(true)).await.unwrap();
    assert_eq!(answered_by(&reply), "primary");
    let items: Vec<_> = StreamExt::collect::<Vec<_>>(reply.into_stream()).await;
    assert_eq!(items.len(), 3);
    assert_eq!(
        items.last().unwrap().as_ref().unwrap_err().kind(),
        ErrorKind::Transport
    );
    assert_eq!(backup.calls(), 0, "no fallback after the first token");
}

#[tokio::test(start_paused = true)]
async fn a_stream_that_stops_without_finishing_never_ends_cleanly() {
    let primary = Fake::new(
        "primary",
        Outcome::Stream(vec![
            (ms(10), Ok(start("m"))),
            (ms(10), Ok(ChatEvent::text("par"))),
        ]),
    );
    let route = Route::builder("chat")
        .deployment(primary.deployment())
        .build()
        .unwrap();
    let reply = send(&route, request("chat").streaming(true)).await.unwrap();
    let items: Vec<_> = StreamExt::collect::<Vec<_>>(reply.into_stream()).await;
    assert!(items.last().unwrap().is_err());
}

#[tokio::test(start_paused = true)]
async fn the_reply_meta_carries_route_deployment_and_failed_attempts_with_their_errors() {
    let first = Fake::new("first", Outcome::fail_after(ms(100), ErrorKind::Server));
    let second = Fake::new("second", Outcome::fail(ErrorKind::Overloaded));
    let third = Fake::new("third", Outcome::answer("ok"));
    let router = Router::builder()
        .route(
            Route::builder("chat")
                .deployment(first.deployment())
                .deployment(second.deployment())
                .deployment(third.deployment())
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let reply = send(&router, request("chat")).await.unwrap();
    let meta = reply.meta();
    assert_eq!(meta.route.as_deref(), Some("chat"));
    assert_eq!(meta.deployment.as_deref(), Some("third"));
    let failed: Vec<(&str, ErrorKind)> = meta
        .failed_attempts
        .iter()
        .map(|a| (a.deployment.as_str(), a.error.kind()))
        .collect();
    assert_eq!(
        failed,
        vec![
            ("first", ErrorKind::Server),
            ("second", ErrorKind::Overloaded)
        ]
    );
    assert_eq!(meta.failed_attempts[0].elapsed, ms(100));
    assert_eq!(meta.failed_attempts[0].provider, "fake");

    // Each deployment saw its own model and an attempt context.
    let (_, seen) = &third.requests()[0];
    assert_eq!(seen.model, "third-model");
    let ctx = &third.contexts()[0];
    assert_eq!(
        (
            ctx.route.as_str(),
            ctx.deployment.as_str(),
            ctx.attempt,
            ctx.fallback_index,
            ctx.hedge
        ),
        ("chat", "third", 3, 2, false)
    );
    assert_eq!(first.contexts()[0].attempt, 1);
}

#[tokio::test(start_paused = true)]
async fn an_unknown_route_is_not_found_and_lists_the_known_routes() {
    let a = Fake::new("a", Outcome::answer("x"));
    let router = Router::builder()
        .route(
            Route::builder("chat")
                .deployment(a.deployment())
                .build()
                .unwrap(),
        )
        .route(
            Route::builder("code")
                .deployment(a.deployment())
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let err = send(&router, request("nope")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.message().contains("`nope`"), "{err}");
    assert!(err.message().contains("chat, code"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn invalid_requests_are_returned_at_once_without_falling_back() {
    let primary = Fake::new("primary", Outcome::fail(ErrorKind::InvalidRequest));
    let backup = Fake::new("backup", Outcome::answer("x"));
    let route = Route::builder("chat")
        .deployment(primary.deployment())
        .deployment(backup.deployment())
        .build()
        .unwrap();
    let err = send(&route, request("chat")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert_eq!(backup.calls(), 0);
}

#[tokio::test(start_paused = true)]
async fn the_set_of_kinds_that_fall_back_is_configurable() {
    let primary = Fake::new("primary", Outcome::fail(ErrorKind::Authentication));
    let backup = Fake::new("backup", Outcome::answer("x"));
    let route = Route::builder("chat")
        .deployment(primary.deployment())
        .deployment(backup.deployment())
        .fallback(FallbackPolicy {
            on: Some(
                [ErrorKind::RateLimited, ErrorKind::Server]
                    .into_iter()
                    .collect(),
            ),
            ..FallbackPolicy::default()
        })
        .build()
        .unwrap();
    let err = send(&route, request("chat")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert_eq!(backup.calls(), 0);
}

fn window(tokens: u64) -> DeploymentFacts {
    DeploymentFacts {
        context_window: Some(tokens),
        ..DeploymentFacts::default()
    }
}

#[tokio::test(start_paused = true)]
async fn context_length_errors_go_to_the_smallest_larger_window() {
    let small = Fake::new("small", Outcome::fail(ErrorKind::ContextLengthExceeded));
    let tiny = Fake::new("tiny", Outcome::answer("tiny"));
    let huge = Fake::new("huge", Outcome::answer("huge"));
    let medium = Fake::new("medium", Outcome::answer("medium"));
    let route = Route::builder("chat")
        .deployment(small.deployment_with(window(8_000)))
        .deployment(tiny.deployment_with(window(4_000)))
        .deployment(huge.deployment_with(window(1_000_000)))
        .reserve(medium.deployment_with(window(32_000)))
        .build()
        .unwrap();
    let reply = send(&route, request("chat")).await.unwrap();
    assert_eq!(answered_by(&reply), "medium");
    assert_eq!(tiny.calls(), 0);
    assert_eq!(huge.calls(), 0);
    assert_eq!(
        reply.meta().failed_attempts[0].error.kind(),
        ErrorKind::ContextLengthExceeded
    );
}

#[tokio::test(start_paused = true)]
async fn context_length_fallback_can_be_a_list_or_off() {
    let small = Fake::new("small", Outcome::fail(ErrorKind::ContextLengthExceeded));
    let big = Fake::new("big", Outcome::answer("big"));
    let listed = Fake::new("listed", Outcome::answer("listed"));
    let build = |policy: ContextFallback| {
        Route::builder("chat")
            .deployment(small.deployment_with(window(8_000)))
            .deployment(big.deployment_with(window(200_000)))
            .reserve(listed.deployment())
            .fallback(FallbackPolicy {
                context_length: policy,
                ..FallbackPolicy::default()
            })
            .build()
            .unwrap()
    };
    let route = build(ContextFallback::Deployments(vec!["listed".into()]));
    assert_eq!(
        answered_by(&send(&route, request("chat")).await.unwrap()),
        "listed"
    );
    let route = build(ContextFallback::Off);
    let err = send(&route, request("chat")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ContextLengthExceeded);
    assert_eq!(big.calls(), 0);
}

#[tokio::test(start_paused = true)]
async fn requests_too_large_for_a_window_skip_it_before_calling() {
    let small = Fake::new("small", Outcome::answer("small"));
    let big = Fake::new("big", Outcome::answer("big"));
    let route = Route::builder("chat")
        .deployment(small.deployment_with(window(100)))
        .deployment(big.deployment_with(window(100_000)))
        .build()
        .unwrap();
    let long = tollgate_core::ChatRequest::new("chat").user("x".repeat(4_000));
    assert_eq!(answered_by(&send(&route, long).await.unwrap()), "big");
    assert_eq!(small.calls(), 0);
}

#[tokio::test(start_paused = true)]
async fn content_filter_errors_go_to_the_configured_deployments_only() {
    let strict = Fake::new("strict", Outcome::fail(ErrorKind::ContentFiltered));
    let backup = Fake::new("backup", Outcome::answer("backup"));
    let lenient = Fake::new("lenient", Outcome::answer("lenient"));
    let route = Route::builder("chat")
        .deployment(strict.deployment())
        .deployment(backup.deployment())
        .reserve(lenient.deployment())
        .fallback(FallbackPolicy {
            content_filter: vec!["lenient".into()],
            ..FallbackPolicy::default()
        })
        .timeouts(Timeouts::none())
        .build()
        .unwrap();
    assert_eq!(
        answered_by(&send(&route, request("chat")).await.unwrap()),
        "lenient"
    );
    assert_eq!(backup.calls(), 0);

    // Without a content-filter fallback the error goes back to the caller.
    let route = Route::builder("chat")
        .deployment(strict.deployment())
        .deployment(backup.deployment())
        .build()
        .unwrap();
    let err = send(&route, request("chat")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ContentFiltered);
    assert_eq!(backup.calls(), 0);
}

#[tokio::test(start_paused = true)]
async fn reserved_deployments_never_serve_ordinary_traffic() {
    let primary = Fake::new("primary", Outcome::fail(ErrorKind::Server));
    let lenient = Fake::new("lenient", Outcome::answer("x"));
    let route = Route::builder("chat")
        .deployment(primary.deployment())
        .reserve(lenient.deployment())
        .fallback(FallbackPolicy {
            content_filter: vec!["lenient".into()],
            ..FallbackPolicy::default()
        })
        .retry(tollgate_router::RetryPolicy::none())
        .build()
        .unwrap();
    let err = send(&route, request("chat")).await.unwrap_err();
    // The primary was tried and failed: its kind reaches the caller.
    assert_eq!(err.kind(), ErrorKind::Server);
    assert!(err.message().contains("reserved"), "{err}");
    assert_eq!(lenient.calls(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_special_fallback_skips_deployments_that_cannot_take_the_request() {
    let strict = Fake::new("strict", Outcome::fail(ErrorKind::ContentFiltered));
    let narrow = Fake::new("narrow", Outcome::answer("narrow"));
    let lenient = Fake::new("lenient", Outcome::answer("lenient"));
    let route = Route::builder("chat")
        .deployment(strict.deployment())
        .reserve(narrow.deployment_with(window(1)))
        .reserve(lenient.deployment())
        .fallback(FallbackPolicy {
            content_filter: vec!["narrow".into(), "lenient".into()],
            ..FallbackPolicy::default()
        })
        .build()
        .unwrap();
    assert_eq!(
        answered_by(&send(&route, request("chat")).await.unwrap()),
        "lenient"
    );
    assert_eq!(narrow.calls(), 0);
}
