//! RouterConfig: TOML round trips per section, building routers, and errors that say
//! what to fix.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use tollgate_core::ErrorKind;
use tollgate_router::config::{
    BudgetConfig, ContextLengthConfig, ContextLengthMode, FallbackConfig, HealthConfig,
    HedgeConfig, PolicyConfig, RetryConfig, RouteConfig, TimeoutConfig,
};
use tollgate_router::{BalancerConfig, RouterConfig};

use support::{Fake, Outcome, answered_by, request, secs, send};

/// TOML → config → TOML → config: both configs and both texts are equal.
fn round_trip(text: &str) -> RouterConfig {
    let config: RouterConfig = toml::from_str(text).unwrap();
    let written = toml::to_string(&config).unwrap();
    let again: RouterConfig = toml::from_str(&written).unwrap();
    assert_eq!(config, again, "config changed through {written}");
    assert_eq!(toml::to_string(&again).unwrap(), written);
    config
}

fn route<'a>(config: &'a RouterConfig, name: &str) -> &'a RouteConfig {
    &config.routes[name]
}

#[test]
fn routes_and_balancers_round_trip() {
    let config = round_trip(
        r#"
        [routes.chat]
        deployments = ["a", "b"]
        balancer = { kind = "latency", decay = "10s", choices = "power_of_two", seed = 7 }

        [routes.cheap]
        deployments = ["a", "b"]
        balancer = { kind = "cost", expected_output_tokens = 512 }

        [routes.spread]
        deployments = ["a", "b"]
        balancer = { kind = "weighted", seed = 1 }

        [routes.busy]
        deployments = ["a"]
        balancer = { kind = "least_inflight" }

        [routes.tiers]
        deployments = ["a", "b"]
        [routes.tiers.balancer]
        kind = "tiered"
        spill_over = false
        classifier = { long_prompt_tokens = 1000, tasks = { chat = "simple" } }
        tiers = [
            { name = "simple", deployments = ["a"] },
            { name = "complex", tags = ["frontier"], balancer = { kind = "latency" } },
        ]
        "#,
    );
    assert_eq!(route(&config, "chat").deployments, ["a", "b"]);
    assert!(matches!(
        route(&config, "chat").balancer,
        Some(BalancerConfig::Latency { decay, seed: Some(7), .. }) if decay == secs(10)
    ));
    assert!(matches!(
        route(&config, "cheap").balancer,
        Some(BalancerConfig::Cost {
            expected_output_tokens: 512,
            ..
        })
    ));
    assert!(matches!(
        &route(&config, "tiers").balancer,
        Some(BalancerConfig::Tiered { tiers, spill_over: false, .. }) if tiers.len() == 2
    ));
}

#[test]
fn fallbacks_round_trip() {
    let config = round_trip(
        r#"
        [routes.chat]
        deployments = ["a"]
        [routes.chat.fallbacks]
        on = ["rate_limited", "server"]
        context_length = ["big"]
        content_filter = ["lenient"]

        [routes.off]
        deployments = ["a"]
        fallbacks = { context_length = "off" }
        "#,
    );
    assert_eq!(
        route(&config, "chat").fallbacks,
        Some(FallbackConfig {
            on: Some(vec![ErrorKind::RateLimited, ErrorKind::Server]),
            context_length: ContextLengthConfig::Deployments(vec!["big".into()]),
            content_filter: vec!["lenient".into()],
        })
    );
    assert_eq!(
        route(&config, "off")
            .fallbacks
            .as_ref()
            .unwrap()
            .context_length,
        ContextLengthConfig::Mode(ContextLengthMode::Off)
    );
}

#[test]
fn retry_round_trips_with_defaults_filled_in() {
    let config = round_trip(
        r#"
        [routes.chat]
        deployments = ["a"]
        retry = { max_retries = 3, backoff_base = "100ms", max_wait = "1m30s", budget = { min_per_sec = 2, percent = 0.1 } }
        "#,
    );
    assert_eq!(
        route(&config, "chat").retry,
        Some(RetryConfig {
            max_retries: 3,
            backoff_base: Duration::from_millis(100),
            backoff_max: secs(8),
            max_wait: secs(90),
            budget: BudgetConfig {
                ttl: secs(10),
                min_per_sec: 2,
                percent: 0.1,
            },
            seed: None,
        })
    );
}

#[test]
fn timeouts_round_trip_and_off_disables_one() {
    let config = round_trip(
        r#"
        [routes.chat]
        deployments = ["a"]
        timeouts = { attempt_first_token = "off", attempt_total = "5m", request = "2h" }
        "#,
    );
    assert_eq!(
        route(&config, "chat").timeouts,
        Some(TimeoutConfig {
            attempt_first_token: None,
            attempt_total: Some(secs(300)),
            request: Some(secs(7200)),
        })
    );
}

#[test]
fn hedge_and_health_round_trip() {
    let config = round_trip(
        r#"
        [defaults]
        hedge = { percentile = 0.95, min_samples = 50 }
        health = { window = "30s", min_requests = 20, error_ratio = 0.25, open_for = "1m" }
        expected_output_tokens = 128

        [routes.chat]
        deployments = ["a"]
        hedge = { delay = "750ms", budget = { min_per_sec = 0, percent = 0.05, ttl = "30s" } }
        "#,
    );
    let defaults: &PolicyConfig = &config.defaults;
    assert_eq!(defaults.hedge.as_ref().unwrap().percentile, Some(0.95));
    assert_eq!(
        defaults.health,
        Some(HealthConfig {
            window: secs(30),
            min_requests: 20,
            error_ratio: 0.25,
            open_for: secs(60),
            rate_limit_cooldown: secs(5),
            quota_cooldown: secs(300),
            max_cooldown: secs(600),
        })
    );
    let hedge: &HedgeConfig = route(&config, "chat").hedge.as_ref().unwrap();
    assert_eq!(hedge.delay, Some(Duration::from_millis(750)));
}

#[test]
fn unknown_fields_and_bad_durations_are_rejected_with_their_name() {
    let err = toml::from_str::<RouterConfig>(
        r#"
        [routes.chat]
        deployments = ["a"]
        retry = { max_retry = 3 }
        "#,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("max_retry"), "{err}");
    let err = toml::from_str::<RouterConfig>(
        r#"
        [routes.chat]
        deployments = ["a"]
        timeouts = { request = "30" }
        "#,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("invalid duration `30`"), "{err}");
    let err = toml::from_str::<RouterConfig>(
        r#"
        [routes.chat]
        deployments = ["a"]
        balancer = { kind = "fastest" }
        "#,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("fastest"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn a_config_builds_working_routes_with_reserved_fallbacks_and_defaults() {
    let a = Fake::new("a", Outcome::fail(ErrorKind::ContentFiltered));
    let b = Fake::new("b", Outcome::answer("b"));
    let lenient = Fake::new("lenient", Outcome::answer("lenient"));
    let config: RouterConfig = toml::from_str(
        r#"
        [defaults]
        timeouts = { attempt_first_token = "5s", request = "20s" }

        [routes.chat]
        deployments = ["a", "b"]
        fallbacks = { content_filter = ["lenient"] }

        [routes.direct]
        deployments = ["b"]
        "#,
    )
    .unwrap();
    let router = config
        .build([a.deployment(), b.deployment(), lenient.deployment()])
        .unwrap();
    let reply = send(&router, request("chat")).await.unwrap();
    assert_eq!(answered_by(&reply), "lenient");
    let names: Vec<&str> = router.route("chat").unwrap().deployment_names().collect();
    assert_eq!(names, ["a", "b", "lenient"]);
    let reply = send(&router, request("direct")).await.unwrap();
    assert_eq!(answered_by(&reply), "b");
}

#[test]
fn building_names_what_is_wrong() {
    let a = Fake::new("a", Outcome::answer("a"));
    let build = |text: &str| {
        toml::from_str::<RouterConfig>(text)
            .unwrap()
            .build([a.deployment()])
            .unwrap_err()
            .to_string()
    };
    let err = build("[routes.chat]\ndeployments = [\"a\", \"ghost\"]");
    assert!(
        err.contains("route `chat` names deployment `ghost`, which is not defined (defined: a)"),
        "{err}"
    );
    let err = build("[routes.chat]\ndeployments = []");
    assert!(err.contains("route `chat` has no deployments"), "{err}");
    let err =
        build("[routes.chat]\ndeployments = [\"a\"]\nhedge = { delay = \"1s\", percentile = 0.9 }");
    assert!(
        err.contains("route `chat`: hedge: give exactly one of"),
        "{err}"
    );
    let err = build(
        "[routes.chat]\ndeployments = [\"a\"]\nretry = { budget = { ttl = \"2m\", min_per_sec = 1, percent = 0.2 } }",
    );
    assert!(err.contains("ttl must be between 1s and 60s"), "{err}");
    let err = build(
        "[routes.chat]\ndeployments = [\"a\"]\n[routes.chat.balancer]\nkind = \"tiered\"\ntiers = [{ name = \"x\", deployments = [\"nope\"] }]",
    );
    assert!(err.contains("tier `x` names deployment `nope`"), "{err}");
}
