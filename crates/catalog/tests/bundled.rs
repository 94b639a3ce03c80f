//! The bundled table: it parses, it is canonical, and known models resolve to the exact
//! facts of the pinned LiteLLM file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tollgate_catalog::provider::PROVIDERS;
use tollgate_catalog::{Catalog, ModelCapabilities, ModelFacts, table};
use tollgate_core::pricing::PriceSource;
use tollgate_core::{Price, PriceTier, Usage};

const TABLE: &str = include_str!("../data/catalog.jsonl");

fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() < 1e-9
}

fn price(provider: &str, model: &str) -> Price {
    Catalog::bundled()
        .price(provider, model)
        .unwrap_or_else(|| panic!("{provider}/{model} has no price"))
}

fn resolved(provider: &str, model: &str) -> String {
    Catalog::bundled()
        .lookup(provider, model)
        .map(|facts| format!("{}/{}", facts.provider, facts.model))
        .unwrap_or_else(|| panic!("{provider}/{model} does not resolve"))
}

#[test]
fn bundled_table_parses_without_error() {
    assert_eq!(Catalog::bundled_error(), None);
    let catalog = Catalog::from_table(TABLE).unwrap();
    assert_eq!(catalog.len(), Catalog::bundled().len());
    assert!(catalog.len() > 500, "only {} models", catalog.len());
}

#[test]
fn bundled_table_is_compact() {
    assert!(TABLE.len() < 512 * 1024, "{} bytes", TABLE.len());
}

#[test]
fn bundled_table_is_canonical_so_regeneration_diffs_are_reviewable() {
    let catalog = Catalog::bundled();
    let models: Vec<ModelFacts> = catalog
        .providers()
        .flat_map(|provider| catalog.models(provider))
        .cloned()
        .collect();
    let source = catalog.source().unwrap();
    assert_eq!(table::render(source, &models).unwrap(), TABLE);
}

#[test]
fn source_records_the_pinned_litellm_wheel() {
    let source = Catalog::bundled().source().unwrap();
    assert_eq!(source.name, "litellm");
    assert_eq!(source.version, "1.106.2");
    assert_eq!(
        source.file,
        "litellm/model_prices_and_context_window_backup.json"
    );
    assert_eq!(
        source.artifact,
        "litellm-1.106.2-cp310-abi3-manylinux_2_28_x86_64.whl"
    );
    assert_eq!(
        source.sha256,
        "cb1a2a1e55a4a8350ae2167525dc0d06f59b078cd685fb3e0f5419f02da5420e"
    );
    let notice = include_str!("../data/SOURCE.md");
    assert!(notice.contains("Copyright (c) 2023 Berri AI"));
    assert!(notice.contains("MIT"));
    assert!(notice.contains(&source.sha256));
}

#[test]
fn every_covered_provider_but_openrouter_has_models() {
    // The pinned LiteLLM file lists no OpenRouter chat models; its models are reached
    // through overrides.
    let catalog = Catalog::bundled();
    for (provider, _) in PROVIDERS.iter().filter(|(p, _)| *p != "openrouter") {
        assert!(
            catalog.models(provider).count() > 0,
            "{provider} has no models"
        );
        for facts in catalog.models(provider) {
            assert_eq!(facts.provider, *provider);
        }
    }
}

#[test]
fn gpt_4o_mini_has_its_exact_facts() {
    let facts = Catalog::bundled().lookup("openai", "gpt-4o-mini").unwrap();
    let price = facts.price.as_ref().unwrap();
    assert!(close(price.input, 0.15) && close(price.output, 0.60));
    assert!(close(price.cache_read.unwrap(), 0.075));
    assert_eq!(price.cache_write, None);
    assert!(price.tiers.is_empty());
    assert_eq!(facts.context_window, Some(128_000));
    assert_eq!(facts.max_output_tokens, Some(16_384));
    assert_eq!(
        facts.capabilities,
        ModelCapabilities {
            tools: Some(true),
            vision: Some(true),
            json_schema: Some(true),
            reasoning: None,
        }
    );
}

#[test]
fn claude_sonnet_4_5_has_cache_read_and_write_prices() {
    for model in ["claude-sonnet-4-5", "claude-sonnet-4-5-20250929"] {
        let facts = Catalog::bundled().lookup("anthropic", model).unwrap();
        assert_eq!(facts.model, model, "both names are entries of their own");
        let price = facts.price.as_ref().unwrap();
        assert!(close(price.input, 3.0) && close(price.output, 15.0));
        assert!(close(price.cache_read.unwrap(), 0.30));
        assert!(close(price.cache_write.unwrap(), 3.75));
        assert_eq!(facts.context_window, Some(200_000));
        assert_eq!(facts.max_output_tokens, Some(64_000));
        assert_eq!(facts.capabilities.reasoning, Some(true));
    }
}

#[test]
fn gemini_2_5_pro_has_a_tier_above_200k_input_tokens() {
    let price = price("gcp.gemini", "gemini-2.5-pro");
    assert!(close(price.input, 1.25) && close(price.output, 10.0));
    assert!(close(price.cache_read.unwrap(), 0.125));
    assert_eq!(price.tiers.len(), 1);
    let tier = &price.tiers[0];
    assert_eq!(tier.above_input_tokens, 200_000);
    assert!(close(tier.input, 2.5) && close(tier.output, 15.0));
    assert!(close(tier.cache_read.unwrap(), 0.25));
    let facts = Catalog::bundled()
        .lookup("gcp.gemini", "gemini-2.5-pro")
        .unwrap();
    assert_eq!(facts.context_window, Some(1_048_576));
    assert_eq!(facts.max_output_tokens, Some(65_536));
}

#[test]
fn usage_cost_switches_to_the_long_context_tier_above_its_threshold() {
    let price = price("gcp.gemini", "gemini-2.5-pro");
    let short = Usage::new(200_000, 1_000).cost(&price);
    assert!(close(short.input, 200_000.0 * 1.25 / 1e6));
    assert!(close(short.output, 1_000.0 * 10.0 / 1e6));
    let long = Usage::new(200_001, 1_000).cost(&price);
    assert!(close(long.input, 200_001.0 * 2.5 / 1e6));
    assert!(close(long.output, 1_000.0 * 15.0 / 1e6));
    let cached = Usage {
        input_tokens: 300_000,
        cache_read_tokens: 100_000,
        output_tokens: 0,
        ..Usage::default()
    }
    .cost(&price);
    assert!(close(cached.cache_read, 100_000.0 * 0.25 / 1e6));
    assert!(close(cached.input, 200_000.0 * 2.5 / 1e6));
}

#[test]
fn gpt_5_4_has_a_tier_above_272k_input_tokens() {
    let price = price("openai", "gpt-5.4");
    assert_eq!(
        price.tiers,
        [PriceTier {
            above_input_tokens: 272_000,
            input: 5.0,
            output: 22.5,
            cache_read: Some(0.5),
            cache_write: None,
        }]
    );
}

#[test]
fn dated_names_resolve_to_their_entry_or_the_undated_model() {
    // Exact dated entry when the table has one.
    assert_eq!(
        resolved("openai", "gpt-4o-2024-08-06"),
        "openai/gpt-4o-2024-08-06"
    );
    assert_eq!(resolved("openai", "gpt-4o"), "openai/gpt-4o");
    // Otherwise the date is removed.
    assert_eq!(resolved("openai", "gpt-4o-2031-02-03"), "openai/gpt-4o");
    assert_eq!(
        resolved("anthropic", "claude-sonnet-4-6-20260301"),
        "anthropic/claude-sonnet-4-6"
    );
    // Anthropic's `-latest` aliases.
    assert_eq!(
        resolved("anthropic", "claude-sonnet-4-5-latest"),
        "anthropic/claude-sonnet-4-5"
    );
    // OpenAI fine-tunes are priced as fine-tunes of their base.
    assert_eq!(
        resolved("openai", "ft:gpt-4o-mini-2024-07-18:acme:support:9xYz"),
        "openai/ft:gpt-4o-mini-2024-07-18"
    );
    // A model the pinned file dropped stays unknown even when dated.
    assert!(
        Catalog::bundled()
            .lookup("anthropic", "claude-3-5-sonnet-20241022")
            .is_none()
    );
}

#[test]
fn gemini_names_resolve_with_version_suffix_and_resource_prefix() {
    assert_eq!(
        resolved("gcp.gemini", "gemini-2.5-flash-001"),
        "gcp.gemini/gemini-2.5-flash"
    );
    assert_eq!(
        resolved("gcp.gemini", "models/gemini-2.5-pro"),
        "gcp.gemini/gemini-2.5-pro"
    );
    assert_eq!(
        resolved("gcp.gemini", "gemini/gemini-2.5-pro"),
        "gcp.gemini/gemini-2.5-pro"
    );
    assert_eq!(
        resolved("gemini", "gemini-2.5-pro"),
        "gcp.gemini/gemini-2.5-pro"
    );
}

#[test]
fn litellm_provider_prefixes_resolve_for_every_openai_compatible_preset() {
    let cases = [
        (
            "groq",
            "groq/openai/gpt-oss-120b",
            "groq/openai/gpt-oss-120b",
        ),
        ("groq", "openai/gpt-oss-120b", "groq/openai/gpt-oss-120b"),
        (
            "together",
            "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo",
            "together/meta-llama/Llama-3.3-70B-Instruct-Turbo",
        ),
        (
            "mistral_ai",
            "mistral/mistral-large-latest",
            "mistral_ai/mistral-large-latest",
        ),
        (
            "deepseek",
            "deepseek/deepseek-chat",
            "deepseek/deepseek-chat",
        ),
        ("deepseek", "deepseek-chat", "deepseek/deepseek-chat"),
        (
            "fireworks",
            "fireworks_ai/accounts/fireworks/models/code-llama-13b",
            "fireworks/accounts/fireworks/models/code-llama-13b",
        ),
        ("x_ai", "xai/grok-4.3", "x_ai/grok-4.3"),
        ("x_ai", "grok-4.3", "x_ai/grok-4.3"),
        ("cerebras", "cerebras/llama3.1-8b", "cerebras/llama3.1-8b"),
        ("perplexity", "perplexity/sonar", "perplexity/sonar"),
        ("xai", "grok-4.3", "x_ai/grok-4.3"),
        (
            "together_ai",
            "openai/gpt-oss-120b",
            "together/openai/gpt-oss-120b",
        ),
    ];
    for (provider, model, expected) in cases {
        assert_eq!(resolved(provider, model), expected, "{provider} {model}");
    }
    let groq = price("groq", "groq/openai/gpt-oss-120b");
    assert!(close(groq.input, 0.15) && close(groq.output, 0.60));
    let deepseek = price("deepseek", "deepseek-chat");
    assert!(close(deepseek.cache_read.unwrap(), 0.028));
}

#[test]
fn unknown_models_and_providers_have_no_price() {
    let catalog = Catalog::bundled();
    assert_eq!(catalog.price("openai", "gpt-4o-mini-turbo-ultra"), None);
    assert_eq!(catalog.price("ollama", "llama3.2"), None);
    assert_eq!(
        catalog.price("openrouter", "openrouter/openai/gpt-4o"),
        None
    );
    // No cross-provider guessing: a model of one provider is unknown at another.
    assert_eq!(catalog.price("groq", "gpt-4o-mini"), None);
    assert_eq!(catalog.price("anthropic", "gpt-4o-mini"), None);
    // No near matches.
    assert_eq!(catalog.lookup("openai", "gpt-4o-min"), None);
    assert_eq!(catalog.lookup("openai", "GPT-4O-MINI"), None);
}
