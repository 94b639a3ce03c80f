//! Hedging: a second attempt when the first is slow; the first answer wins, the loser is
//! cancelled; hedges are paid from a budget.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use tokio::time::Instant;
use tollgate_router::{HedgePolicy, RetryBudget, Route, Timeouts};

use support::{Fake, Outcome, answered_by, ms, request, secs, send};

fn hedged(primary: &Fake, backup: &Fake, policy: HedgePolicy) -> Route {
    Route::builder("chat")
        .deployment(primary.deployment())
        .deployment(backup.deployment())
        .hedge(policy)
        .timeouts(Timeouts::none())
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn the_hedge_wins_when_the_first_attempt_is_slow_and_the_loser_is_cancelled() {
    let primary = Fake::new("primary", Outcome::answer_after(secs(5), "slow"));
    let backup = Fake::new("backup", Outcome::answer_after(ms(100), "fast"));
    let route = hedged(&primary, &backup, HedgePolicy::fixed(secs(1)));
    for stream in [false, true] {
        let t0 = Instant::now();
        let reply = send(&route, request("chat").streaming(stream))
            .await
            .unwrap();
        assert_eq!(Instant::now() - t0, ms(1_100));
        assert_eq!(answered_by(&reply), "backup");
        assert!(reply.meta().failed_attempts.is_empty());
        assert_eq!(reply.into_response().await.unwrap().text(), "fast");
    }
    assert_eq!(primary.cancelled(), 2, "each loser was dropped");
    let ctx = &backup.contexts()[0];
    assert!(ctx.hedge);
    assert_eq!((ctx.attempt, ctx.fallback_index), (2, 1));
}

#[tokio::test(start_paused = true)]
async fn a_fast_first_attempt_is_not_hedged() {
    let primary = Fake::new("primary", Outcome::answer_after(ms(500), "fast enough"));
    let backup = Fake::new("backup", Outcome::answer("unused"));
    let route = hedged(&primary, &backup, HedgePolicy::fixed(secs(1)));
    let reply = send(&route, request("chat")).await.unwrap();
    assert_eq!(answered_by(&reply), "primary");
    assert_eq!(backup.calls(), 0);
}

#[tokio::test(start_paused = true)]
async fn the_primary_still_wins_if_it_answers_before_the_hedge() {
    let primary = Fake::new("primary", Outcome::answer_after(ms(1_500), "primary"));
    let backup = Fake::new("backup", Outcome::answer_after(secs(2), "backup"));
    let route = hedged(&primary, &backup, HedgePolicy::fixed(secs(1)));
    let reply = send(&route, request("chat")).await.unwrap();
    assert_eq!(answered_by(&reply), "primary");
    assert_eq!(backup.calls(), 1);
    assert_eq!(backup.cancelled(), 1);
}

#[tokio::test(start_paused = true)]
async fn hedges_are_paid_from_their_budget() {
    let primary = Fake::new("primary", Outcome::answer_after(secs(3), "slow"));
    let backup = Fake::new("backup", Outcome::answer("fast"));
    // One hedge per two requests, no reserve.
    let policy = HedgePolicy {
        budget: RetryBudget {
            ttl: secs(60),
            min_per_sec: 0,
            percent: 0.5,
        },
        ..HedgePolicy::fixed(secs(1))
    };
    let route = hedged(&primary, &backup, policy);
    for _ in 0..8 {
        send(&route, request("chat")).await.unwrap();
    }
    assert_eq!(backup.calls(), 4, "half the requests were hedged");
    assert_eq!(primary.calls(), 8);
}

#[tokio::test(start_paused = true)]
async fn percentile_hedging_waits_for_samples_then_hedges_at_the_percentile() {
    let primary = Fake::new("primary", Outcome::answer_after(ms(200), "usual"));
    let backup = Fake::new("backup", Outcome::answer_after(ms(50), "backup"));
    let mut policy = HedgePolicy::percentile(0.9);
    let tollgate_router::HedgeDelay::Percentile { min_samples, .. } = &mut policy.delay else {
        panic!("HedgePolicy::percentile must give a percentile delay");
    };
    *min_samples = 10;
    let route = hedged(&primary, &backup, policy);
    for _ in 0..10 {
        send(&route, request("chat")).await.unwrap();
    }
    assert_eq!(backup.calls(), 0, "no hedging before enough samples");
    // Now the primary is unusually slow: the hedge starts at p90 = 200 ms.
    primary.push(Outcome::answer_after(secs(10), "stuck"));
    let t0 = Instant::now();
    let reply = send(&route, request("chat")).await.unwrap();
    assert_eq!(answered_by(&reply), "backup");
    assert_eq!(Instant::now() - t0, ms(250));
}
