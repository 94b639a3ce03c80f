//! Conversion of LiteLLM's `model_prices_and_context_window.json` into catalog facts.
//!
//! `cargo xtask update-catalog` runs this on the pinned file to regenerate the bundled
//! table; it is public so a deployment can convert a newer copy of the same file itself.
//!
//! Rules (LiteLLM prices are USD per token; ours are USD per million tokens):
//!
//! - Only entries whose `mode` is `chat` and whose `litellm_provider` is one of
//!   [`PROVIDERS`](crate::provider::PROVIDERS) are kept; LiteLLM's provider prefix is removed
//!   from the key (`groq/openai/gpt-oss-120b` → `openai/gpt-oss-120b`). When LiteLLM lists a
//!   model both with and without its prefix (`deepseek/deepseek-chat`, `deepseek-chat`), the
//!   prefixed entry wins. Together's parameter-count price buckets (`together-ai-4.1b-8b`)
//!   are not models and are skipped.
//! - `price` exists when both `input_cost_per_token` and `output_cost_per_token` do: an
//!   absent price is unknown, never zero. `cache_read` is `cache_read_input_token_cost`
//!   (else `input_cost_per_token_cache_hit`), `cache_write` is
//!   `cache_creation_input_token_cost` (the 5-minute write). Long-context tiers come from
//!   `…_above_{N}k_tokens` keys and apply above `N × 1000` input tokens; a tier rate LiteLLM
//!   leaves out is the base rate. Batch, priority and flex service tiers, the one-hour cache
//!   write, per-reasoning-token rates and modality rates (audio, image, video) are not kept.
//! - `context_window` is `max_input_tokens`, `max_output_tokens` is `max_output_tokens` (the
//!   legacy, ambiguous `max_tokens` is ignored).
//! - Capabilities: `supports_function_calling` → tools, `supports_vision` → vision,
//!   `supports_response_schema` → json_schema, `supports_reasoning` → reasoning; absent flags
//!   stay unknown.
//! - An entry with no fact at all is skipped.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use tollgate_core::{Price, PriceTier};

use crate::facts::{ModelCapabilities, ModelFacts};
use crate::provider::from_litellm;

/// Converts USD per token, as LiteLLM writes prices, to USD per million tokens without
/// binary floating-point drift: the decimal point of the shortest decimal form of
/// `per_token` is moved six places, so `1.05e-8` becomes exactly the `f64` nearest `0.0105`
/// (where `1.05e-8 * 1e6` is `0.010499999999999999`).
///
/// ```
/// use tollgate_catalog::litellm::per_million_from_per_token;
///
/// assert_eq!(per_million_from_per_token(1.5e-7), 0.15);
/// assert_eq!(per_million_from_per_token(1.05e-8), 0.0105);
/// assert_ne!(1.05e-8 * 1e6, 0.0105);
/// ```
pub fn per_million_from_per_token(per_token: f64) -> f64 {
    if !per_token.is_finite() {
        return per_token * 1e6;
    }
    // `Display` for f64 prints the shortest round-tripping decimal, never in exponent form.
    let text = per_token.to_string();
    shift_decimal_point(&text, 6)
        .parse()
        .unwrap_or(per_token * 1e6)
}

/// Moves the decimal point of a plain decimal number `places` to the right.
fn shift_decimal_point(text: &str, places: usize) -> String {
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let mut fraction = fraction.to_owned();
    while fraction.len() < places {
        fraction.push('0');
    }
    let (moved, rest) = fraction.split_at(places);
    let whole = format!("{whole}{moved}");
    let whole = whole.trim_start_matches('0');
    let whole = if whole.is_empty() { "0" } else { whole };
    if rest.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{rest}")
    }
}

/// Facts for every chat model of the covered providers in a LiteLLM price file, sorted by
/// provider and model. Fails only when the document is not a JSON object.
pub fn convert(document: &Value) -> Result<Vec<ModelFacts>, String> {
    let entries = document
        .as_object()
        .ok_or("the LiteLLM price file is not a JSON object")?;
    // (provider, model) → (facts, came from a prefixed key)
    let mut models: BTreeMap<(String, String), (ModelFacts, bool)> = BTreeMap::new();
    for (key, entry) in entries {
        let Some(entry) = entry.as_object() else {
            continue;
        };
        if entry.get("mode").and_then(Value::as_str) != Some("chat") {
            continue;
        }
        let Some(litellm_provider) = entry.get("litellm_provider").and_then(Value::as_str) else {
            continue;
        };
        let Some(provider) = from_litellm(litellm_provider) else {
            continue;
        };
        if litellm_provider == "together_ai" && key.starts_with("together-ai-") {
            continue;
        }
        let (model, prefixed) = match key
            .strip_prefix(litellm_provider)
            .and_then(|rest| rest.strip_prefix('/'))
        {
            Some(rest) => (rest, true),
            None => (key.as_str(), false),
        };
        if model.is_empty() {
            continue;
        }
        let facts = facts_of(provider, model, entry);
        if facts.is_empty() {
            continue;
        }
        let slot = (provider.to_owned(), model.to_owned());
        match models.get(&slot) {
            Some((_, true)) if !prefixed => {}
            _ => {
                models.insert(slot, (facts, prefixed));
            }
        }
    }
    Ok(models.into_values().map(|(facts, _)| facts).collect())
}

fn facts_of(provider: &str, model: &str, entry: &Map<String, Value>) -> ModelFacts {
    let flag = |key: &str| entry.get(key).and_then(Value::as_bool);
    ModelFacts {
        provider: provider.to_owned(),
        model: model.to_owned(),
        price: price_of(entry),
        context_window: tokens(entry, "max_input_tokens"),
        max_output_tokens: tokens(entry, "max_output_tokens"),
        capabilities: ModelCapabilities {
            tools: flag("supports_function_calling"),
            vision: flag("supports_vision"),
            json_schema: flag("supports_response_schema"),
            reasoning: flag("supports_reasoning"),
        },
    }
}

fn rate(entry: &Map<String, Value>, key: &str) -> Option<f64> {
    entry
        .get(key)
        .and_then(Value::as_f64)
        .filter(|value| value.is_finite() && *value >= 0.0)
        .map(per_million_from_per_token)
}

fn tokens(entry: &Map<String, Value>, key: &str) -> Option<u64> {
    let value = entry.get(key)?;
    value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|v| v.fract() == 0.0 && *v >= 0.0 && *v <= u64::MAX as f64)
            .map(|v| v as u64)
    })
}

fn price_of(entry: &Map<String, Value>) -> Option<Price> {
    let input = rate(entry, "input_cost_per_token")?;
    let output = rate(entry, "output_cost_per_token")?;
    let mut price = Price::per_million(input, output);
    price.cache_read = rate(entry, "cache_read_input_token_cost")
        .or_else(|| rate(entry, "input_cost_per_token_cache_hit"));
    price.cache_write = rate(entry, "cache_creation_input_token_cost");
    for threshold in tier_thresholds(entry) {
        let key = |base: &str| format!("{base}_above_{threshold}k_tokens");
        let tier_input = rate(entry, &key("input_cost_per_token"));
        let tier_output = rate(entry, &key("output_cost_per_token"));
        let cache_read = rate(entry, &key("cache_read_input_token_cost"));
        let cache_write = rate(entry, &key("cache_creation_input_token_cost"));
        if tier_input.is_none() && tier_output.is_none() {
            continue;
        }
        price = price.with_tier(PriceTier {
            above_input_tokens: threshold * 1000,
            input: tier_input.unwrap_or(input),
            output: tier_output.unwrap_or(output),
            cache_read,
            cache_write,
        });
    }
    Some(price)
}

/// The `N` of every `input_cost_per_token_above_{N}k_tokens` or
/// `output_cost_per_token_above_{N}k_tokens` key, ascending, without duplicates.
fn tier_thresholds(entry: &Map<String, Value>) -> Vec<u64> {
    let mut thresholds: Vec<u64> = entry
        .keys()
        .filter_map(|key| {
            key.strip_prefix("input_cost_per_token_above_")
                .or_else(|| key.strip_prefix("output_cost_per_token_above_"))
        })
        .filter_map(|rest| rest.strip_suffix("k_tokens"))
        .filter_map(|n| n.parse().ok())
        .collect();
    thresholds.sort_unstable();
    thresholds.dedup();
    thresholds
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn per_token_prices_become_exact_per_million_decimals() {
        let cases = [
            (1.5e-7, 0.15),
            (6e-7, 0.6),
            (2.5e-6, 2.5),
            (1e-5, 10.0),
            (3e-7, 0.3),
            (3.75e-6, 3.75),
            (6e-9, 0.006),
            (1.25e-7, 0.125),
            (0.0, 0.0),
            (1.0, 1_000_000.0),
            (0.00012, 120.0),
            (1.2345678e-10, 0.00012345678),
        ];
        for (per_token, per_million) in cases {
            let converted = per_million_from_per_token(per_token);
            assert_eq!(converted, per_million, "{per_token}");
            assert!((converted - per_million).abs() < 1e-9);
        }
        // The naive product drifts; the conversion does not.
        for (per_token, per_million) in [(1.05e-8, 0.0105), (6.25e-9, 0.00625), (1.3e-9, 0.0013)] {
            assert_ne!(per_token * 1e6, per_million);
            assert_eq!(per_million_from_per_token(per_token), per_million);
        }
    }

    #[test]
    fn decimal_point_shifts_pad_and_trim() {
        assert_eq!(shift_decimal_point("0.00000015", 6), "0.15");
        assert_eq!(shift_decimal_point("0.000003", 6), "3");
        assert_eq!(shift_decimal_point("12", 6), "12000000");
        assert_eq!(shift_decimal_point("-0.0000015", 6), "-1.5");
        assert_eq!(shift_decimal_point("0", 6), "0");
    }

    #[test]
    fn chat_models_of_covered_providers_are_converted_with_tiers_and_flags() {
        let document = json!({
            "sample_spec": {"mode": "chat", "litellm_provider": "one of …"},
            "gemini/gemini-x": {
                "litellm_provider": "gemini", "mode": "chat",
                "input_cost_per_token": 1.25e-6, "output_cost_per_token": 1e-5,
                "cache_read_input_token_cost": 1.25e-7,
                "input_cost_per_token_above_200k_tokens": 2.5e-6,
                "output_cost_per_token_above_200k_tokens": 1.5e-5,
                "cache_read_input_token_cost_above_200k_tokens": 2.5e-7,
                "input_cost_per_token_above_200k_tokens_priority": 9.0,
                "max_input_tokens": 1048576, "max_output_tokens": 65536, "max_tokens": 1,
                "supports_function_calling": true, "supports_vision": false
            },
            "gemini-x": {
                "litellm_provider": "gemini", "mode": "chat",
                "input_cost_per_token": 0, "output_cost_per_token": 0
            },
            "gemini/embedding": {"litellm_provider": "gemini", "mode": "embedding",
                "input_cost_per_token": 1e-7},
            "bedrock/claude": {"litellm_provider": "bedrock", "mode": "chat",
                "input_cost_per_token": 1e-6, "output_cost_per_token": 1e-6},
            "together-ai-4.1b-8b": {"litellm_provider": "together_ai", "mode": "chat",
                "input_cost_per_token": 2e-7, "output_cost_per_token": 2e-7},
            "openai/container": {"litellm_provider": "openai", "mode": "chat",
                "code_interpreter_cost_per_session": 0.03},
            "gpt-half": {"litellm_provider": "openai", "mode": "chat",
                "input_cost_per_token": 1e-6, "max_input_tokens": 8192.0},
            "deepseek-chat": {"litellm_provider": "deepseek", "mode": "chat",
                "input_cost_per_token": 2.8e-7, "output_cost_per_token": 4.2e-7,
                "input_cost_per_token_cache_hit": 2.8e-8}
        });
        let facts = convert(&document).unwrap();
        let names: Vec<_> = facts
            .iter()
            .map(|f| format!("{}/{}", f.provider, f.model))
            .collect();
        assert_eq!(
            names,
            [
                "deepseek/deepseek-chat",
                "gcp.gemini/gemini-x",
                "openai/gpt-half"
            ]
        );

        let gemini = &facts[1];
        let price = gemini.price.as_ref().unwrap();
        assert_eq!(
            (price.input, price.output, price.cache_read),
            (1.25, 10.0, Some(0.125))
        );
        assert_eq!(price.cache_write, None);
        assert_eq!(
            price.tiers,
            [PriceTier {
                above_input_tokens: 200_000,
                input: 2.5,
                output: 15.0,
                cache_read: Some(0.25),
                cache_write: None,
            }]
        );
        assert_eq!(gemini.context_window, Some(1_048_576));
        assert_eq!(gemini.max_output_tokens, Some(65_536));
        assert_eq!(
            gemini.capabilities,
            ModelCapabilities {
                tools: Some(true),
                vision: Some(false),
                json_schema: None,
                reasoning: None,
            }
        );

        let half = &facts[2];
        assert_eq!(half.price, None, "an input price alone is no price");
        assert_eq!(half.context_window, Some(8192));

        let deepseek = facts[0].price.as_ref().unwrap();
        assert_eq!(deepseek.cache_read, Some(0.028));
    }

    #[test]
    fn a_tier_rate_litellm_leaves_out_is_the_base_rate() {
        let document = json!({
            "m": {"litellm_provider": "openai", "mode": "chat",
                "input_cost_per_token": 1e-6, "output_cost_per_token": 4e-6,
                "input_cost_per_token_above_128k_tokens": 2e-6}
        });
        let facts = convert(&document).unwrap();
        let tier = &facts[0].price.as_ref().unwrap().tiers[0];
        assert_eq!(
            (tier.above_input_tokens, tier.input, tier.output),
            (128_000, 2.0, 4.0)
        );
    }

    #[test]
    fn a_document_that_is_not_an_object_is_an_error() {
        assert!(convert(&json!([1, 2])).is_err());
    }
}
