//! Overrides from config: they replace individual facts, add models, and reject mistakes
//! with messages that name the model and the fix.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tollgate_catalog::{
    CapabilityOverrides, Catalog, CatalogError, CatalogOverrides, ModelCapabilities, ModelOverride,
    PriceOverride, TierOverride,
};
use tollgate_core::pricing::PriceSource;
use tollgate_core::{PriceTier, Usage};

fn apply(toml_text: &str) -> Result<Catalog, CatalogError> {
    let overrides: CatalogOverrides = toml::from_str(toml_text).unwrap();
    Catalog::bundled().clone().with_overrides(&overrides)
}

#[test]
fn an_override_replaces_only_the_fields_it_names() {
    let catalog = apply(
        r#"
        [[models]]
        provider = "openai"
        model = "gpt-4o-mini"
        max_output_tokens = 4096

        [models.price]
        input = 0.10

        [models.capabilities]
        vision = false
        "#,
    )
    .unwrap();
    let facts = catalog.lookup("openai", "gpt-4o-mini").unwrap();
    let price = facts.price.as_ref().unwrap();
    assert_eq!(price.input, 0.10);
    assert_eq!(price.output, 0.6, "output rate kept");
    assert_eq!(price.cache_read, Some(0.075), "cache rate kept");
    assert_eq!(facts.max_output_tokens, Some(4096));
    assert_eq!(facts.context_window, Some(128_000), "context window kept");
    assert_eq!(
        facts.capabilities,
        ModelCapabilities {
            tools: Some(true),
            vision: Some(false),
            json_schema: Some(true),
            reasoning: None,
        }
    );
    // Other models and the bundled catalog are untouched.
    assert_eq!(
        catalog.lookup("openai", "gpt-4o").unwrap(),
        Catalog::bundled().lookup("openai", "gpt-4o").unwrap()
    );
    assert_eq!(
        Catalog::bundled()
            .price("openai", "gpt-4o-mini")
            .unwrap()
            .input,
        0.15
    );
    assert_eq!(catalog.len(), Catalog::bundled().len());
    assert_eq!(catalog.source(), Catalog::bundled().source());
}

#[test]
fn overrides_add_models_and_providers_the_table_lacks() {
    let catalog = apply(
        r#"
        [[models]]
        provider = "ollama"
        model = "llama3.2"
        context_window = 131072
        price = { input = 0.0, output = 0.0 }

        [[models]]
        provider = "openrouter"
        model = "openrouter/anthropic/claude-sonnet-4.5"
        price = { input = 3.0, output = 15.0, cache_read = 0.3 }
        capabilities = { tools = true }
        "#,
    )
    .unwrap();
    assert_eq!(catalog.len(), Catalog::bundled().len() + 2);
    let ollama = catalog.lookup("ollama", "llama3.2").unwrap();
    assert_eq!(ollama.context_window, Some(131_072));
    assert_eq!(
        Usage::new(1000, 1000)
            .cost(ollama.price.as_ref().unwrap())
            .total(),
        0.0
    );
    let routed = catalog
        .lookup("openrouter", "anthropic/claude-sonnet-4.5")
        .unwrap();
    assert_eq!(
        routed.model, "anthropic/claude-sonnet-4.5",
        "LiteLLM prefix removed"
    );
    assert_eq!(routed.price.as_ref().unwrap().cache_read, Some(0.3));
    assert_eq!(routed.capabilities.tools, Some(true));
    assert_eq!(routed.capabilities.vision, None);
    assert!(catalog.providers().any(|p| p == "ollama"));
}

#[test]
fn provider_aliases_in_overrides_reach_the_canonical_provider() {
    let catalog = apply(
        r#"
        [[models]]
        provider = "gemini"
        model = "models/gemini-2.5-pro"
        price = { output = 12.0 }
        "#,
    )
    .unwrap();
    let price = catalog.price("gcp.gemini", "gemini-2.5-pro").unwrap();
    assert_eq!((price.input, price.output), (1.25, 12.0));
    assert_eq!(price.tiers.len(), 1, "tiers kept");
    assert_eq!(catalog.len(), Catalog::bundled().len());
}

#[test]
fn tiers_given_in_an_override_replace_the_table_tiers() {
    let catalog = apply(
        r#"
        [[models]]
        provider = "gcp.gemini"
        model = "gemini-2.5-pro"

        [[models.price.tiers]]
        above_input_tokens = 500000
        input = 5.0
        output = 20.0

        [[models.price.tiers]]
        above_input_tokens = 100000
        input = 2.0
        output = 12.0
        "#,
    )
    .unwrap();
    let price = catalog.price("gcp.gemini", "gemini-2.5-pro").unwrap();
    let thresholds: Vec<u64> = price.tiers.iter().map(|t| t.above_input_tokens).collect();
    assert_eq!(thresholds, [100_000, 500_000]);
    assert_eq!(price.rates_for(150_000).input, 2.0);
    assert_eq!(price.rates_for(600_000).output, 20.0);
    assert_eq!(price.input, 1.25, "base rate kept");

    let cleared = apply(
        r#"
        [[models]]
        provider = "gcp.gemini"
        model = "gemini-2.5-pro"
        price = { tiers = [] }
        "#,
    )
    .unwrap();
    assert!(
        cleared
            .price("gcp.gemini", "gemini-2.5-pro")
            .unwrap()
            .tiers
            .is_empty()
    );
}

#[test]
fn invalid_overrides_are_rejected_with_the_model_and_the_fix() {
    let half_price = apply(
        r#"
        [[models]]
        provider = "ollama"
        model = "llama3.2"
        price = { input = 0.5 }
        "#,
    )
    .unwrap_err();
    let message = half_price.to_string();
    assert!(message.contains("ollama/llama3.2"), "{message}");
    assert!(message.contains("price.output"), "{message}");

    let negative = apply(
        r#"
        [[models]]
        provider = "openai"
        model = "gpt-4o"
        price = { cache_read = -1.0 }
        "#,
    )
    .unwrap_err();
    assert!(
        negative.to_string().contains("price.cache_read"),
        "{negative}"
    );

    let twice = apply(
        r#"
        [[models]]
        provider = "openai"
        model = "gpt-4o"
        context_window = 1

        [[models]]
        provider = "openai"
        model = "openai/gpt-4o"
        context_window = 2
        "#,
    )
    .unwrap_err();
    assert!(twice.to_string().contains("listed twice"), "{twice}");

    let same_threshold = apply(
        r#"
        [[models]]
        provider = "openai"
        model = "gpt-4o"
        price = { tiers = [
            { above_input_tokens = 1000, input = 1.0, output = 1.0 },
            { above_input_tokens = 1000, input = 2.0, output = 2.0 },
        ] }
        "#,
    )
    .unwrap_err();
    assert!(
        same_threshold.to_string().contains("1000"),
        "{same_threshold}"
    );

    let empty = apply(
        r#"
        [[models]]
        provider = ""
        model = "x"
        "#,
    )
    .unwrap_err();
    assert!(matches!(empty, CatalogError::Override { .. }));
}

#[test]
fn unknown_fields_in_override_config_are_errors() {
    let typo = toml::from_str::<CatalogOverrides>(
        r#"
        [[models]]
        provider = "openai"
        model = "gpt-4o"
        contex_window = 1
        "#,
    );
    assert!(typo.unwrap_err().to_string().contains("contex_window"));
    let price_typo = toml::from_str::<CatalogOverrides>(
        r#"
        [[models]]
        provider = "openai"
        model = "gpt-4o"
        price = { inptu = 1.0 }
        "#,
    );
    assert!(price_typo.is_err());
    let tier_typo = toml::from_str::<CatalogOverrides>(
        r#"
        [[models]]
        provider = "openai"
        model = "gpt-4o"
        price = { tiers = [{ above = 1, input = 1.0, output = 1.0 }] }
        "#,
    );
    assert!(tier_typo.is_err());
}

#[test]
fn overrides_round_trip_through_toml() {
    let overrides = CatalogOverrides {
        models: vec![
            ModelOverride {
                price: Some(PriceOverride {
                    input: Some(2.0),
                    output: Some(8.0),
                    cache_read: Some(0.5),
                    cache_write: None,
                    tiers: Some(vec![TierOverride {
                        above_input_tokens: 200_000,
                        input: 4.0,
                        output: 16.0,
                        cache_read: Some(1.0),
                        cache_write: None,
                    }]),
                }),
                context_window: Some(128_000),
                max_output_tokens: Some(16_384),
                capabilities: CapabilityOverrides {
                    tools: Some(true),
                    vision: Some(false),
                    json_schema: None,
                    reasoning: Some(true),
                },
                ..ModelOverride::new("openai", "gpt-4o")
            },
            ModelOverride::new("ollama", "llama3.2"),
        ],
    };
    let text = toml::to_string(&overrides).unwrap();
    let back: CatalogOverrides = toml::from_str(&text).unwrap();
    assert_eq!(back, overrides, "{text}");
    assert_eq!(
        toml::from_str::<CatalogOverrides>("").unwrap(),
        CatalogOverrides::default()
    );
}

#[test]
fn an_overridden_price_is_what_price_source_reports() {
    let catalog = apply(
        r#"
        [[models]]
        provider = "anthropic"
        model = "claude-sonnet-4-5"
        price = { tiers = [{ above_input_tokens = 200000, input = 6.0, output = 22.5, cache_read = 0.6 }] }
        "#,
    )
    .unwrap();
    let price = catalog
        .price("anthropic", "claude-sonnet-4-5-latest")
        .unwrap();
    assert_eq!(
        price.tiers,
        [PriceTier {
            above_input_tokens: 200_000,
            input: 6.0,
            output: 22.5,
            cache_read: Some(0.6),
            cache_write: None,
        }]
    );
    let cost = Usage::new(300_000, 0).cost(&price);
    assert!((cost.input - 1.8).abs() < 1e-9);
    // The dated entry is separate and keeps the table's price.
    assert!(
        catalog
            .price("anthropic", "claude-sonnet-4-5-20250929")
            .unwrap()
            .tiers
            .is_empty()
    );
}
