//! Retries: retry_after honoured, the retry budget bounds load on a dead provider, and
//! retries plus fallbacks never outlive the end-to-end deadline.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use tokio::time::Instant;
use tollgate_core::{AttemptContext, Deadline, ErrorKind};
use tollgate_router::{Backoff, HealthPolicy, RetryBudget, RetryPolicy, Route, Timeouts};

use support::{Fake, Outcome, answered_by, ms, request, secs, send};

/// A health policy that never opens the circuit, to observe retries alone.
fn no_breaker() -> HealthPolicy {
    HealthPolicy {
        min_requests: u32::MAX,
        rate_limit_cooldown: Duration::ZERO,
        ..HealthPolicy::default()
    }
}

#[tokio::test(start_paused = true)]
async fn a_short_retry_after_is_waited_for_on_the_same_deployment() {
    let only = Fake::new("only", Outcome::answer("second time lucky"));
    only.push(Outcome::rate_limited(secs(2)));
    let route = Route::builder("chat")
        .deployment(only.deployment())
        .build()
        .unwrap();
    let t0 = Instant::now();
    let reply = send(&route, request("chat")).await.unwrap();
    assert_eq!(answered_by(&reply), "only");
    assert_eq!(reply.meta().failed_attempts.len(), 1);
    let times: Vec<Duration> = only.requests().iter().map(|(t, _)| *t - t0).collect();
    assert_eq!(
        times,
        vec![Duration::ZERO, secs(2)],
        "retried exactly at retry_after"
    );
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_longer_than_max_wait_is_not_waited_for() {
    let only = Fake::new("only", Outcome::answer("x"));
    only.push(Outcome::rate_limited(secs(60)));
    let route = Route::builder("chat")
        .deployment(only.deployment())
        .build()
        .unwrap();
    let t0 = Instant::now();
    let err = send(&route, request("chat")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.retry_after(), Some(secs(60)));
    assert_eq!(
        Instant::now(),
        t0,
        "answered at once instead of waiting 60 s"
    );
    assert_eq!(only.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn without_retry_after_the_backoff_is_exponential_with_seeded_jitter() {
    let only = Fake::new("only", Outcome::fail(ErrorKind::Server));
    let route = Route::builder("chat")
        .deployment(only.deployment())
        .health(no_breaker())
        .retry(RetryPolicy {
            max_retries: 3,
            backoff: Backoff {
                base: ms(100),
                max: secs(10),
            },
            seed: Some(7),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    let t0 = Instant::now();
    let err = send(&route, request("chat")).await.unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Server,
        "three retries, then it gives up with the provider's failure"
    );
    let times: Vec<Duration> = only.requests().iter().map(|(t, _)| *t - t0).collect();
    assert_eq!(times.len(), 4);
    for (n, pair) in times.windows(2).enumerate() {
        let gap = pair[1] - pair[0];
        let nominal = ms(100 << n);
        assert!(gap >= nominal / 2 && gap <= nominal, "retry {n}: {gap:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_dead_provider_alone_gets_no_more_than_the_retry_budget_allows() {
    const REQUESTS: usize = 1_000;
    let dead = Fake::new("dead", Outcome::fail(ErrorKind::Server));
    let budget = RetryBudget {
        ttl: secs(10),
        min_per_sec: 1,
        percent: 0.1,
    };
    let route = Route::builder("chat")
        .deployment(dead.deployment())
        .health(no_breaker())
        .retry(RetryPolicy {
            max_retries: 3,
            backoff: Backoff {
                base: ms(10),
                max: ms(100),
            },
            budget,
            seed: Some(1),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    let results =
        futures_util::future::join_all((0..REQUESTS).map(|_| send(&route, request("chat")))).await;
    assert!(results.iter().all(|r| r.is_err()));
    // Without a budget, max_retries = 3 would allow 4 000 attempts.
    let bound = REQUESTS + (REQUESTS as f64 * 0.1) as usize + 10; // percent + min_per_sec × ttl
    let attempts = dead.calls();
    assert!(
        attempts <= bound,
        "{attempts} attempts > budget bound {bound}"
    );
    assert!(
        attempts > REQUESTS,
        "the budget's share was used: {attempts}"
    );
}

#[tokio::test(start_paused = true)]
async fn with_a_healthy_fallback_a_dead_primary_is_tried_only_until_its_circuit_opens() {
    let dead = Fake::new("dead", Outcome::fail(ErrorKind::Server));
    let backup = Fake::new("backup", Outcome::answer("ok"));
    let route = Route::builder("chat")
        .deployment(dead.deployment())
        .deployment(backup.deployment())
        .build()
        .unwrap();
    for _ in 0..1_000 {
        let reply = send(&route, request("chat")).await.unwrap();
        assert_eq!(answered_by(&reply), "backup");
    }
    // Fallback, not retry: one attempt per request until 10 failures open the circuit.
    assert_eq!(dead.calls(), HealthPolicy::default().min_requests as usize);
    assert_eq!(backup.calls(), 1_000);
}

#[tokio::test(start_paused = true)]
async fn retries_and_fallbacks_never_outlive_the_deadline() {
    let fakes: Vec<Fake> = ["a", "b", "c"]
        .iter()
        .map(|n| Fake::new(n, Outcome::fail_after(ms(400), ErrorKind::Server)))
        .collect();
    let route = Route::builder("chat")
        .deployments(fakes.iter().map(Fake::deployment))
        .health(no_breaker())
        .retry(RetryPolicy {
            max_retries: 10,
            ..RetryPolicy::default()
        })
        .timeouts(Timeouts {
            request: Some(secs(1)),
            ..Timeouts::none()
        })
        .build()
        .unwrap();
    let t0 = Instant::now();
    let err = send(&route, request("chat")).await.unwrap_err();
    assert_eq!(
        Instant::now() - t0,
        secs(1),
        "stopped exactly at the deadline"
    );
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.message().contains("deadline"), "{err}");
    // a: 0–0.4 s, b: 0.4–0.8 s, c: cut at 1 s; no retry fits before the deadline.
    let calls: Vec<usize> = fakes.iter().map(Fake::calls).collect();
    assert_eq!(calls, vec![1, 1, 1]);
    assert_eq!(fakes[2].cancelled(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_deadline_in_the_request_wins_when_earlier_than_the_route_s() {
    let slow = Fake::new("slow", Outcome::answer_after(secs(5), "late"));
    let route = Route::builder("chat")
        .deployment(slow.deployment())
        .timeouts(Timeouts::default())
        .build()
        .unwrap();
    let mut req = request("chat");
    req.extensions
        .insert(Deadline((Instant::now() + ms(1500)).into_std()));
    let t0 = Instant::now();
    let err = send(&route, req).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(Instant::now() - t0, ms(1500));
    // The deadline is passed down to the deployment too.
    let (_, seen) = &slow.requests()[0];
    assert!(seen.extensions.get::<Deadline>().is_some());
}

#[tokio::test(start_paused = true)]
async fn retries_per_request_are_capped_across_deployments() {
    let a = Fake::new("a", Outcome::fail(ErrorKind::Server));
    let b = Fake::new("b", Outcome::fail(ErrorKind::Server));
    let route = Route::builder("chat")
        .deployment(a.deployment())
        .deployment(b.deployment())
        .health(no_breaker())
        .retry(RetryPolicy {
            max_retries: 2,
            seed: Some(3),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    let err = send(&route, request("chat")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    // Two first attempts (fallback) + two retries: never 2 × (1 + 2).
    assert_eq!(a.calls() + b.calls(), 4);
}

/// A caller's own fact, carried in the request's extensions.
#[derive(Debug, Clone, PartialEq)]
struct CallerTag(&'static str);

#[tokio::test(start_paused = true)]
async fn every_attempt_resends_the_callers_request_unchanged_but_for_the_model() {
    let first = Fake::new("first", Outcome::answer("done"));
    first.push(Outcome::rate_limited(secs(1)));
    let second = Fake::new("second", Outcome::rate_limited(secs(2)));
    let route = Route::builder("chat")
        .deployment(first.deployment())
        .deployment(second.deployment())
        .health(no_breaker())
        .retry(RetryPolicy {
            max_retries: 1,
            seed: Some(5),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    let mut original = request("chat")
        .system("be brief")
        .user("and again")
        .temperature(0.25)
        .max_tokens(64)
        .stop("END")
        .tag("task", "summary")
        .extra("logprobs", serde_json::json!(true));
    original.extensions.insert(CallerTag("mine"));
    let wire = |r: &tollgate_core::ChatRequest, model: &str| {
        let mut value = serde_json::to_value(r).unwrap();
        value["model"] = serde_json::json!(model);
        value
    };
    let expected = wire(&original, "");

    let reply = send(&route, original).await.unwrap();
    assert_eq!(answered_by(&reply), "first");
    // first: 429 (retry after 1 s); fallback to second: 429 (2 s); retry on first: answers.
    let mut seen: Vec<_> = first
        .requests()
        .into_iter()
        .map(|(at, r)| (at, r, "first-model"))
        .chain(
            second
                .requests()
                .into_iter()
                .map(|(at, r)| (at, r, "second-model")),
        )
        .collect();
    seen.sort_by_key(|(at, r, _)| (*at, r.extensions.get::<AttemptContext>().map(|c| c.attempt)));
    let seen: Vec<_> = seen.into_iter().map(|(_, r, model)| (r, model)).collect();
    assert_eq!(seen.len(), 3);
    for (attempt, (request, model)) in seen.iter().enumerate() {
        assert_eq!(request.model, *model);
        assert_eq!(wire(request, ""), expected, "attempt {}", attempt + 1);
        assert_eq!(
            request.extensions.get::<CallerTag>(),
            Some(&CallerTag("mine"))
        );
        assert!(request.extensions.get::<Deadline>().is_some());
    }
    let attempts: Vec<(String, u32)> = seen
        .iter()
        .map(|(r, _)| {
            let context = r.extensions.get::<AttemptContext>().unwrap();
            (context.deployment.to_string(), context.attempt)
        })
        .collect();
    assert_eq!(
        attempts,
        [
            ("first".to_owned(), 1),
            ("second".to_owned(), 2),
            ("first".to_owned(), 3)
        ]
    );
}
