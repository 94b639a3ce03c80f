//! Zero-config: with no config file, routes over whichever provider keys the environment
//! holds.
//!
//! For each provider whose key variable is set (non-empty), the gateway deploys its
//! well-known models ([`KNOWN_MODELS`]), each reachable as a route of the model's name
//! (`gpt-4o-mini`, `claude-sonnet-4-5`, …; `provider/model` if two providers share a
//! name), plus three convenience routes:
//!
//! | route | deployments | balancer |
//! | --- | --- | --- |
//! | `cheap` | every deployment | `cost`: the cheapest able to serve the request first, the rest as fallbacks |
//! | `fast` | the small models | `latency`: the fastest first (peak-EWMA), the rest as fallbacks |
//! | `smart` | the large models | `priority`: in the order of [`KNOWN_MODELS`] (Anthropic, OpenAI, Gemini, …), falling back across providers |
//!
//! Detected keys: `OPENAI_API_KEY`, `ANTHROPIC_API_KEY`, `GEMINI_API_KEY` or
//! `GOOGLE_API_KEY`, and each OpenAI-compatible preset's variable (`GROQ_API_KEY`,
//! `MISTRAL_API_KEY`, `DEEPSEEK_API_KEY`, `TOGETHER_API_KEY`, `FIREWORKS_API_KEY`,
//! `OPENROUTER_API_KEY`, `XAI_API_KEY`, `CEREBRAS_API_KEY`, `PERPLEXITY_API_KEY`). Base URL
//! variables (`OPENAI_BASE_URL`, …) apply as usual. Local servers (Ollama, vLLM, LM
//! Studio) need no key, so nothing reveals them: declare them in a config file.
//!
//! The config built here is an ordinary [`Config`] (keys stay `${VAR}` references), so
//! `tollgate print-config` can show it as the starting point of a real file.

use std::collections::BTreeMap;

use tollgate_openai::Preset;
use tollgate_router::BalancerConfig;
use tollgate_router::config::{ChoicesConfig, RouteConfig};

use super::Config;
use super::deployment::{DeploymentConfig, ProviderKind, preset_config_name};
use super::interpolate::Env;

/// Whether a well-known model is a small (fast, cheap) or a large (smart) one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// Fast and cheap: the `fast` route.
    Small,
    /// The provider's strongest general model: the `smart` route.
    Large,
}

/// A model deployed when its provider's key is present: `(provider as written in config,
/// model id, tier)`, in order of preference for the `smart` route.
pub const KNOWN_MODELS: &[(&str, &str, Tier)] = &[
    ("anthropic", "claude-sonnet-4-5", Tier::Large),
    ("anthropic", "claude-haiku-4-5", Tier::Small),
    ("openai", "gpt-4.1", Tier::Large),
    ("openai", "gpt-4o-mini", Tier::Small),
    ("gemini", "gemini-2.5-pro", Tier::Large),
    ("gemini", "gemini-2.5-flash", Tier::Small),
    ("mistral", "mistral-large-latest", Tier::Large),
    ("mistral", "mistral-small-latest", Tier::Small),
    ("deepseek", "deepseek-chat", Tier::Large),
    ("xai", "grok-4.3", Tier::Large),
    ("groq", "openai/gpt-oss-120b", Tier::Large),
    ("groq", "openai/gpt-oss-20b", Tier::Small),
    ("cerebras", "llama-3.3-70b", Tier::Large),
    ("cerebras", "llama3.1-8b", Tier::Small),
    (
        "together",
        "meta-llama/Llama-3.3-70B-Instruct-Turbo",
        Tier::Large,
    ),
    (
        "fireworks",
        "accounts/fireworks/models/llama-v3p3-70b-instruct",
        Tier::Large,
    ),
    ("perplexity", "sonar-pro", Tier::Large),
    ("perplexity", "sonar", Tier::Small),
    ("openrouter", "openai/gpt-4o-mini", Tier::Small),
    ("openrouter", "anthropic/claude-sonnet-4.5", Tier::Large),
];

/// The providers (as written in config) whose key is in `env`, in [`KNOWN_MODELS`] order.
pub fn detected_providers(env: Env<'_>) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for (provider, _, _) in KNOWN_MODELS {
        if out.contains(provider) {
            continue;
        }
        let Some(kind) = ProviderKind::parse(provider) else {
            continue;
        };
        let (vars, _) = kind.default_key_vars();
        if vars
            .iter()
            .any(|v| env(v).is_some_and(|value| !value.trim().is_empty()))
        {
            out.push(provider);
        }
    }
    out
}

/// The zero-config for the keys in `env`, or `None` when no provider key is set.
pub fn from_env(env: Env<'_>) -> Option<Config> {
    let providers = detected_providers(env);
    if providers.is_empty() {
        return None;
    }
    let mut config = Config::default();
    let mut small = Vec::new();
    let mut large = Vec::new();
    let mut all = Vec::new();
    for (provider, model, tier) in KNOWN_MODELS {
        if !providers.contains(provider) {
            continue;
        }
        let mut name = (*model).to_owned();
        if config.deployments.contains_key(&name) {
            name = format!("{provider}/{model}");
        }
        config
            .deployments
            .insert(name.clone(), DeploymentConfig::new(*provider, *model));
        all.push(name.clone());
        match tier {
            Tier::Small => small.push(name),
            Tier::Large => large.push(name),
        }
    }
    let mut routes = BTreeMap::new();
    routes.insert(
        "cheap".to_owned(),
        route(
            all.clone(),
            BalancerConfig::Cost {
                expected_output_tokens: 256,
                tie_tolerance: 1e-9,
                seed: None,
            },
        ),
    );
    routes.insert(
        "fast".to_owned(),
        route(
            if small.is_empty() { all.clone() } else { small },
            BalancerConfig::Latency {
                decay: std::time::Duration::from_secs(10),
                default_rtt: std::time::Duration::from_millis(500),
                error_penalty: std::time::Duration::from_secs(5),
                choices: ChoicesConfig::Best,
                seed: None,
            },
        ),
    );
    routes.insert(
        "smart".to_owned(),
        route(
            if large.is_empty() { all } else { large },
            BalancerConfig::Priority,
        ),
    );
    config.routes = routes;
    Some(config)
}

fn route(deployments: Vec<String>, balancer: BalancerConfig) -> RouteConfig {
    RouteConfig {
        deployments,
        balancer: Some(balancer),
        fallbacks: None,
        retry: None,
        timeouts: None,
        hedge: None,
        health: None,
        expected_output_tokens: None,
    }
}

/// Every provider zero-config can detect, as written in config.
pub fn detectable_providers() -> Vec<&'static str> {
    let mut out = vec!["anthropic", "openai", "gemini"];
    out.extend(
        Preset::ALL
            .iter()
            .filter(|p| !p.info().api_key_optional && **p != Preset::OpenAi)
            .map(|p| preset_config_name(*p)),
    );
    out
}
