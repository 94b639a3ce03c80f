//! The config served when there is no config file and no provider key: three simulated
//! deployments and routes that show routing, fallback and cost at once.
//!
//! The deployments have clearly fictional names, so nobody mistakes a simulated answer for
//! a real model's, but realistic prices and speeds, each modelled on a real model's
//! bundled catalog price:
//!
//! | deployment | like | price in / out per 1M tokens | first token | pace | behaviour |
//! | --- | --- | --- | --- | --- | --- |
//! | `sim-mini` | gpt-4o-mini | $0.15 / $0.60 | 250 ms | 120 tok/s | reliable |
//! | `sim-flash` | gemini-2.5-flash | $0.30 / $2.50 | 150 ms | 200 tok/s | flaky: 30 % of calls get 429 (`retry-after: 2s`) |
//! | `sim-pro` | claude-sonnet-4-5 | $3.00 / $15.00 | 800 ms | 50 tok/s | reliable, 200k context |
//!
//! Routes (besides one per deployment):
//!
//! | route | deployments | shows |
//! | --- | --- | --- |
//! | `chat` | `sim-flash`, then `sim-mini` | fallback: a 429 from the flaky first choice moves on to `sim-mini` (`x-tollgate-attempts: 2`) |
//! | `cheap` | all, `cost` balancer | cost routing: `sim-mini` answers, the cheapest |
//! | `fast` | all, `latency` balancer | latency routing: learns that `sim-flash` answers first |
//! | `smart` | `sim-pro`, then `sim-mini` | a strong model with a cheap fallback |

use std::collections::BTreeMap;
use std::time::Duration;

use tollgate_catalog::PriceOverride;
use tollgate_router::BalancerConfig;
use tollgate_router::config::{ChoicesConfig, RouteConfig};

use super::SimulateConfig;
use crate::config::{Config, DeploymentConfig};

fn deployment(
    name: &str,
    price: (f64, f64),
    context_window: u64,
    simulate: SimulateConfig,
    tag: &str,
) -> DeploymentConfig {
    let mut d = DeploymentConfig::new(super::PROVIDER, name);
    d.price = Some(PriceOverride {
        input: Some(price.0),
        output: Some(price.1),
        ..PriceOverride::default()
    });
    d.context_window = Some(context_window);
    d.simulate = Some(simulate);
    d.tags.insert(tag.to_owned());
    d
}

fn route(deployments: &[&str], balancer: BalancerConfig) -> RouteConfig {
    RouteConfig {
        deployments: deployments.iter().map(|d| (*d).to_owned()).collect(),
        balancer: Some(balancer),
        fallbacks: None,
        retry: None,
        timeouts: None,
        hedge: None,
        health: None,
        expected_output_tokens: None,
    }
}

/// The simulated demo config (see the module docs).
pub fn config() -> Config {
    let mut deployments = BTreeMap::new();
    deployments.insert(
        "sim-mini".to_owned(),
        deployment(
            "sim-mini",
            (0.15, 0.60),
            128_000,
            SimulateConfig {
                first_token: Duration::from_millis(250),
                tokens_per_second: 120.0,
                ..SimulateConfig::default()
            },
            "small",
        ),
    );
    deployments.insert(
        "sim-flash".to_owned(),
        deployment(
            "sim-flash",
            (0.30, 2.50),
            1_048_576,
            SimulateConfig {
                first_token: Duration::from_millis(150),
                tokens_per_second: 200.0,
                rate_limit_rate: 0.3,
                retry_after: Duration::from_secs(2),
                seed: Some(7),
                ..SimulateConfig::default()
            },
            "small",
        ),
    );
    deployments.insert(
        "sim-pro".to_owned(),
        deployment(
            "sim-pro",
            (3.0, 15.0),
            200_000,
            SimulateConfig {
                first_token: Duration::from_millis(800),
                tokens_per_second: 50.0,
                ..SimulateConfig::default()
            },
            "large",
        ),
    );
    let mut routes = BTreeMap::new();
    routes.insert(
        "chat".to_owned(),
        route(&["sim-flash", "sim-mini"], BalancerConfig::Priority),
    );
    routes.insert(
        "cheap".to_owned(),
        route(
            &["sim-pro", "sim-flash", "sim-mini"],
            BalancerConfig::Cost {
                expected_output_tokens: 256,
                tie_tolerance: 1e-9,
                seed: Some(1),
            },
        ),
    );
    routes.insert(
        "fast".to_owned(),
        route(
            &["sim-pro", "sim-flash", "sim-mini"],
            BalancerConfig::Latency {
                decay: Duration::from_secs(10),
                default_rtt: Duration::from_millis(500),
                error_penalty: Duration::from_secs(5),
                choices: ChoicesConfig::Best,
                seed: Some(1),
            },
        ),
    );
    routes.insert(
        "smart".to_owned(),
        route(&["sim-pro", "sim-mini"], BalancerConfig::Priority),
    );
    Config {
        deployments,
        routes,
        ..Config::default()
    }
}
