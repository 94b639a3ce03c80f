//! When nothing can serve a request: an error listing every deployment and why, with
//! retry_after set to the soonest availability. Its kind is NoRoute when no deployment
//! could be tried, and the last attempt's kind when deployments were tried and failed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use tollgate_core::{ChatRequest, ErrorKind, UserPart};
use tollgate_router::{Capabilities, DeploymentFacts, RetryPolicy, Route};

use support::{Fake, Outcome, answered_by, secs, send};

fn vision_request() -> ChatRequest {
    ChatRequest::new("chat").user_parts([
        UserPart::text("what is in this picture? ".repeat(10)),
        UserPart::image_url("https://example.invalid/cat.png"),
    ])
}

#[tokio::test(start_paused = true)]
async fn no_route_lists_every_deployment_with_its_reason_and_the_soonest_retry_after() {
    let cool = Fake::new("cool", Outcome::answer("cool"));
    cool.push(Outcome::rate_limited(secs(20)));
    let limited = Fake::new("limited", Outcome::answer("limited"));
    let broken = Fake::new("broken", Outcome::fail(tollgate_core::ErrorKind::Server));
    let blind = Fake::new("blind", Outcome::answer("blind"));
    let small = Fake::new("small", Outcome::answer("small"));
    let route = Route::builder("chat")
        .deployment(cool.deployment())
        .deployment(limited.deployment_with(DeploymentFacts {
            rpm: Some(1),
            ..DeploymentFacts::default()
        }))
        .deployment(broken.deployment())
        .deployment(blind.deployment_with(DeploymentFacts {
            capabilities: Capabilities {
                vision: false,
                ..Capabilities::default()
            },
            ..DeploymentFacts::default()
        }))
        .deployment(small.deployment_with(DeploymentFacts {
            context_window: Some(100),
            ..DeploymentFacts::default()
        }))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();

    // First request: `cool` answers 429 (cooldown 20 s), `limited` serves it (rpm used up).
    let reply = send(&route, vision_request()).await.unwrap();
    assert_eq!(answered_by(&reply), "limited");

    tokio::time::advance(secs(5)).await;
    let err = send(&route, vision_request()).await.unwrap_err();
    // `broken` was tried and failed, so the caller sees that failure's kind (a gateway
    // answers 502, not 429); the message still explains every deployment.
    assert_eq!(err.kind(), ErrorKind::Server);
    let message = err.message();
    for expected in [
        "no deployment of route `chat` can serve this request",
        "`cool`: cooling down for 15.0s more (rate_limited with retry-after 20.0s)",
        "`limited`: at its rpm limit of 1 (room again in 55.0s)",
        "`broken`: failed: fake: server: scripted failure",
        "`blind`: lacks the `vision` capability",
        "`small`: context window 100 is too small for ~832 tokens",
    ] {
        assert!(
            message.contains(expected),
            "missing {expected:?} in {message}"
        );
    }
    assert_eq!(
        err.retry_after(),
        Some(secs(15)),
        "the soonest: cool's cooldown"
    );
    assert_eq!(broken.calls(), 1);
    assert_eq!(blind.calls() + small.calls(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_deployment_that_failed_and_now_cools_down_says_both() {
    let only = Fake::new("only", Outcome::rate_limited(secs(45)));
    let route = Route::builder("chat")
        .deployment(only.deployment())
        .build()
        .unwrap();
    let err = send(&route, ChatRequest::new("chat").user("hi"))
        .await
        .unwrap_err();
    // Tried and rate limited: the provider's kind, not NoRoute.
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert!(
        err.message().contains("`only`: failed: fake: rate_limited (HTTP 429): slow down, and is now cooling down for 45.0s more"),
        "{err}"
    );
    assert_eq!(err.retry_after(), Some(secs(45)));
    // The failure that led here is the error's source.
    let source = std::error::Error::source(&err).unwrap().to_string();
    assert!(source.contains("slow down"), "{source}");

    // The next request finds nothing it can even try: that is NoRoute, and the
    // cooling-down deployment receives nothing.
    tokio::time::advance(secs(5)).await;
    let err = send(&route, ChatRequest::new("chat").user("hi"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NoRoute);
    assert!(
        err.message().contains("cooling down for 40.0s more"),
        "{err}"
    );
    assert_eq!(err.retry_after(), Some(secs(40)));
    assert_eq!(only.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_request_no_deployment_could_ever_take_says_so_in_its_kind() {
    let small = Fake::new("small", Outcome::answer("small"));
    let blind = Fake::new("blind", Outcome::answer("blind"));
    let window = |tokens| DeploymentFacts {
        context_window: Some(tokens),
        ..DeploymentFacts::default()
    };
    let route = Route::builder("chat")
        .deployment(small.deployment_with(window(50)))
        .deployment(blind.deployment_with(window(60)))
        .build()
        .unwrap();
    let long = ChatRequest::new("chat").user("x".repeat(1_000));
    let err = send(&route, long).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ContextLengthExceeded, "{err}");
    assert_eq!(err.retry_after(), None);

    let route = Route::builder("chat")
        .deployment(blind.deployment_with(DeploymentFacts {
            capabilities: Capabilities {
                vision: false,
                ..Capabilities::default()
            },
            ..DeploymentFacts::default()
        }))
        .build()
        .unwrap();
    let err = send(&route, vision_request()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert!(
        err.message().contains("lacks the `vision` capability"),
        "{err}"
    );
}
