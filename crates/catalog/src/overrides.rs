//! Overrides and additions from config: replace individual facts of bundled models, or add
//! models the table lacks (self-hosted ones, negotiated prices, brand-new releases).
//!
//! ```toml
//! [[models]]
//! provider = "openai"
//! model = "gpt-4o-2024-08-06"
//! context_window = 128000
//!
//! [models.price]
//! input = 2.0
//! output = 8.0
//!
//! [models.capabilities]
//! vision = false
//!
//! [[models]]
//! provider = "ollama"
//! model = "llama3.2"
//! price = { input = 0.0, output = 0.0 }
//! ```
//!
//! An override names one catalog entry exactly (after provider prefixes are removed); it is
//! not resolved through aliases. OpenAI and Anthropic report dated names
//! (`gpt-4o-2024-08-06`) that the table lists as entries of their own, so override those
//! names too if replies should be priced at the overridden rate.

use serde::{Deserialize, Serialize};
use tollgate_core::{Price, PriceTier};

use crate::error::CatalogError;
use crate::facts::{ModelCapabilities, ModelFacts};

/// Overrides and additions to a catalog, as read from config.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogOverrides {
    /// One entry per model to change or add.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<ModelOverride>,
}

/// Changes to one model. Every field left out keeps the catalog's value; a model the
/// catalog lacks is added with just the facts given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelOverride {
    /// The provider: a `gen_ai.provider.name` (`openai`, `gcp.gemini`, `x_ai`, …), LiteLLM's
    /// name for it (`gemini`, `xai`, …) or a provider the table does not know (`ollama`).
    pub provider: String,
    /// The model's catalog name (a LiteLLM prefix such as `groq/` is removed).
    pub model: String,
    /// Price changes, in USD per million tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<PriceOverride>,
    /// Most input tokens the model accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_window: Option<u64>,
    /// Most output tokens the model produces in one reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u64>,
    /// Capability changes.
    #[serde(default, skip_serializing_if = "CapabilityOverrides::is_empty")]
    pub capabilities: CapabilityOverrides,
}

impl ModelOverride {
    /// An override of nothing yet for `provider` / `model`.
    pub fn new(provider: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            model: model.into(),
            price: None,
            context_window: None,
            max_output_tokens: None,
            capabilities: CapabilityOverrides::default(),
        }
    }
}

/// Price changes in USD per million tokens. A field left out keeps the catalog's rate; a
/// model without a price in the catalog needs at least `input` and `output`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceOverride {
    /// Uncached input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<f64>,
    /// Output, reasoning included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<f64>,
    /// Input read from cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read: Option<f64>,
    /// Input written to cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<f64>,
    /// Long-context tiers; when given, they replace all of the catalog's tiers (`[]`
    /// removes them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tiers: Option<Vec<TierOverride>>,
}

/// A long-context tier in config, in USD per million tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierOverride {
    /// The tier applies when input tokens are strictly more than this.
    pub above_input_tokens: u64,
    /// Uncached input.
    pub input: f64,
    /// Output.
    pub output: f64,
    /// Cache reads (left out: the base cache-read rate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read: Option<f64>,
    /// Cache writes (left out: the base cache-write rate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<f64>,
}

/// Capability changes: the same fields as [`ModelCapabilities`], where a field left out
/// (`None`) keeps the catalog's value ([`ModelCapabilities::overlay`]).
pub type CapabilityOverrides = ModelCapabilities;

/// `facts` with `change` applied. `facts` carries the canonical provider and model names.
pub(crate) fn apply(
    change: &ModelOverride,
    mut facts: ModelFacts,
) -> Result<ModelFacts, CatalogError> {
    let invalid =
        |message: String| CatalogError::with_override(&change.provider, &change.model, message);
    if let Some(price) = &change.price {
        facts.price = Some(apply_price(price, facts.price.take()).map_err(invalid)?);
    }
    if let Some(context_window) = change.context_window {
        facts.context_window = Some(context_window);
    }
    if let Some(max_output_tokens) = change.max_output_tokens {
        facts.max_output_tokens = Some(max_output_tokens);
    }
    facts.capabilities.overlay(&change.capabilities);
    Ok(facts)
}

fn apply_price(change: &PriceOverride, current: Option<Price>) -> Result<Price, String> {
    let rate = |name: &str, value: Option<f64>| -> Result<Option<f64>, String> {
        match value {
            Some(v) if !v.is_finite() || v < 0.0 => Err(format!(
                "price.{name} is {v}; a rate is a finite, non-negative USD amount per million tokens"
            )),
            other => Ok(other),
        }
    };
    let input = rate("input", change.input)?;
    let output = rate("output", change.output)?;
    let cache_read = rate("cache_read", change.cache_read)?;
    let cache_write = rate("cache_write", change.cache_write)?;
    let mut price = match current {
        Some(mut price) => {
            price.input = input.unwrap_or(price.input);
            price.output = output.unwrap_or(price.output);
            price
        }
        None => match (input, output) {
            (Some(input), Some(output)) => Price::per_million(input, output),
            _ => {
                return Err(
                    "the catalog has no price for this model; set both price.input and price.output"
                        .to_owned(),
                );
            }
        },
    };
    if cache_read.is_some() {
        price.cache_read = cache_read;
    }
    if cache_write.is_some() {
        price.cache_write = cache_write;
    }
    if let Some(tiers) = &change.tiers {
        price.tiers.clear();
        for (index, tier) in tiers.iter().enumerate() {
            let field = |name: &str| format!("tiers[{index}].{name}");
            price = price.with_tier(PriceTier {
                above_input_tokens: tier.above_input_tokens,
                input: rate(&field("input"), Some(tier.input))?.unwrap_or(tier.input),
                output: rate(&field("output"), Some(tier.output))?.unwrap_or(tier.output),
                cache_read: rate(&field("cache_read"), tier.cache_read)?,
                cache_write: rate(&field("cache_write"), tier.cache_write)?,
            });
        }
        let thresholds = price.tiers.windows(2);
        if let Some(pair) = thresholds
            .into_iter()
            .find(|pair| pair[0].above_input_tokens == pair[1].above_input_tokens)
        {
            return Err(format!(
                "two tiers start above {} input tokens; give each threshold once",
                pair[0].above_input_tokens
            ));
        }
    }
    Ok(price)
}
