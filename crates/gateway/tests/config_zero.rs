//! Zero-config from the environment's provider keys, and the simulated demo with none.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::HashMap;

use tollgate_catalog::Catalog;
use tollgate_core::{ChatRequest, Client};
use tollgate_gateway::config::{self, ProviderKind, zero};

use support::env;

#[test]
fn keys_in_the_environment_become_model_routes_and_convenience_routes() {
    let vars = env(&[
        ("OPENAI_API_KEY", "sk-1"),
        ("GOOGLE_API_KEY", "g-1"),
        ("GROQ_API_KEY", "gsk-1"),
        ("ANTHROPIC_API_KEY", ""), // empty counts as absent
    ]);
    assert_eq!(
        zero::detected_providers(&vars),
        ["openai", "gemini", "groq"]
    );
    let config = zero::from_env(&vars).unwrap();
    let names: Vec<&str> = config.deployments.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "gemini-2.5-flash",
            "gemini-2.5-pro",
            "gpt-4.1",
            "gpt-4o-mini",
            "openai/gpt-oss-120b",
            "openai/gpt-oss-20b"
        ]
    );
    let route = |name: &str| config.routes[name].deployments.clone();
    assert_eq!(
        route("smart"),
        ["gpt-4.1", "gemini-2.5-pro", "openai/gpt-oss-120b"]
    );
    assert_eq!(
        route("fast"),
        ["gpt-4o-mini", "gemini-2.5-flash", "openai/gpt-oss-20b"]
    );
    assert_eq!(route("cheap").len(), 6);
    assert!(matches!(
        config.routes["cheap"].balancer,
        Some(tollgate_router::BalancerConfig::Cost { .. })
    ));
    // No secret is copied into the config: keys are read from their variables.
    assert!(config.deployments.values().all(|d| d.api_key.is_none()));
    config::validate(&config, &vars).unwrap();

    let state = tollgate_gateway::build::state_with_env(&config, &vars).unwrap();
    assert!(!state.simulated);
    for route in [
        "cheap",
        "fast",
        "smart",
        "gpt-4o-mini",
        "gemini-2.5-pro",
        "openai/gpt-oss-20b",
    ] {
        assert!(state.routes.contains_key(route), "{route}");
    }
    assert_eq!(state.routes["gemini-2.5-flash"].owner(), "gcp.gemini");
    assert_eq!(state.routes["openai/gpt-oss-20b"].owner(), "groq");
    // The catalog prices every zero-config model.
    for info in &state.routes["cheap"].deployments {
        assert!(info.price.is_some(), "{} has no price", info.name);
    }
}

#[test]
fn every_well_known_model_is_a_real_provider_with_a_catalog_price() {
    for (provider, model, _) in zero::KNOWN_MODELS {
        let kind = ProviderKind::parse(provider).unwrap();
        if *provider == "openrouter" {
            continue; // The bundled table prices no OpenRouter model.
        }
        assert!(
            Catalog::bundled()
                .lookup(kind.provider_name(), model)
                .and_then(|f| f.price.as_ref())
                .is_some(),
            "{provider}/{model} has no catalog price"
        );
    }
    for provider in zero::detectable_providers() {
        assert!(
            zero::KNOWN_MODELS.iter().any(|(p, _, _)| *p == provider),
            "{provider} is detectable but deploys nothing"
        );
    }
}

#[test]
fn with_no_key_at_all_the_gateway_serves_the_simulated_demo() {
    let vars = env(&[]);
    assert!(zero::from_env(&vars).is_none());
    let config = config::from_environment(&vars);
    assert!(
        config
            .deployments
            .values()
            .all(|d| d.kind() == Some(ProviderKind::Simulated))
    );
    let state = tollgate_gateway::build::state_with_env(&config, &vars).unwrap();
    assert!(state.simulated);
    let routes: Vec<&str> = state.routes.keys().map(String::as_str).collect();
    assert_eq!(
        routes,
        [
            "chat",
            "cheap",
            "fast",
            "sim-flash",
            "sim-mini",
            "sim-pro",
            "smart"
        ]
    );
    // Simulated replies are priced.
    let price = state.prices.price("simulated", "sim-mini").unwrap();
    assert_eq!((price.input, price.output), (0.15, 0.60));
    // And the demo config is a valid file.
    let text = config.to_toml().unwrap();
    assert_eq!(config::parse(&text, "demo.toml", &vars).unwrap(), config);
}

#[tokio::test(start_paused = true)]
async fn the_demo_shows_fallback_and_cost_routing() {
    let vars = env(&[]);
    let state =
        tollgate_gateway::build::state_with_env(&config::from_environment(&vars), &vars).unwrap();

    // `chat` tries the flaky sim-flash first; its 429s fall back to sim-mini.
    let chat = Client::new(state.routes["chat"].service.clone());
    let mut by = HashMap::<String, usize>::new();
    let mut fallbacks = 0;
    for i in 0..20 {
        let reply = chat
            .chat(ChatRequest::new("chat").user(format!("question {i}")))
            .await
            .unwrap();
        *by.entry(reply.meta.deployment.clone().unwrap())
            .or_default() += 1;
        if let Some(failed) = reply.meta.failed_attempts.first() {
            assert_eq!(failed.deployment, "sim-flash");
            assert_eq!(failed.error.status(), Some(429));
            fallbacks += 1;
        }
    }
    assert!(fallbacks > 0, "{by:?}");
    assert!(by.get("sim-flash").copied().unwrap_or(0) > 0, "{by:?}");
    // Every 429 fell back; while sim-flash cools down (its retry-after), sim-mini serves
    // directly, so it answers at least the fallbacks.
    assert!(
        by.get("sim-mini").copied().unwrap_or(0) >= fallbacks,
        "{by:?}"
    );
    assert_eq!(by.values().sum::<usize>(), 20);

    // `cheap` picks the cheapest deployment.
    let cheap = Client::new(state.routes["cheap"].service.clone());
    let reply = cheap
        .chat(ChatRequest::new("cheap").user("hi"))
        .await
        .unwrap();
    assert_eq!(reply.meta.deployment.as_deref(), Some("sim-mini"));
    assert_eq!(reply.meta.provider, "simulated");
}
