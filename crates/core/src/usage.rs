//! Token usage, normalised one way for every provider, and what it cost.

use std::ops::{Add, AddAssign};

use serde::{Deserialize, Serialize};

/// Tokens one call consumed, normalised the same way for every provider.
///
/// - `input_tokens` counts **all** input tokens, cached ones included;
///   `cache_read_tokens` and `cache_write_tokens` are subsets of it.
/// - `output_tokens` counts **all** output, reasoning included; `reasoning_tokens` is a
///   subset of it.
///
/// Providers differ: OpenAI's `prompt_tokens` already includes cached tokens, Anthropic's
/// `input_tokens` excludes cache reads and writes, Gemini's `candidatesTokenCount` excludes
/// thoughts. Each provider crate normalises into this shape.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// All input tokens, cache reads and writes included.
    pub input_tokens: u64,
    /// All output tokens, reasoning included.
    pub output_tokens: u64,
    /// Input tokens served from the provider's prompt cache (subset of `input_tokens`).
    #[serde(default)]
    pub cache_read_tokens: u64,
    /// Input tokens written to the provider's prompt cache (subset of `input_tokens`).
    #[serde(default)]
    pub cache_write_tokens: u64,
    /// Output tokens spent on reasoning (subset of `output_tokens`).
    #[serde(default)]
    pub reasoning_tokens: u64,
}

impl Usage {
    /// Usage with only input and output counts.
    pub fn new(input_tokens: u64, output_tokens: u64) -> Self {
        Self {
            input_tokens,
            output_tokens,
            ..Self::default()
        }
    }

    /// Input plus output.
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens + self.output_tokens
    }

    /// Input tokens neither read from nor written to a cache.
    pub fn uncached_input_tokens(&self) -> u64 {
        self.input_tokens
            .saturating_sub(self.cache_read_tokens)
            .saturating_sub(self.cache_write_tokens)
    }

    /// What this usage cost at `price`.
    ///
    /// Uncached input is charged at the input price, cache reads and writes at their own
    /// prices (the input price where the table has none), and all output, reasoning
    /// included, at the output price. A long-context tier applies when `input_tokens`
    /// exceeds its threshold.
    ///
    /// ```
    /// use tollgate_core::{Price, Usage};
    ///
    /// let price = Price::per_million(2.50, 10.00).with_cache_read(1.25);
    /// let usage = Usage { input_tokens: 1_000, cache_read_tokens: 400, output_tokens: 100, ..Usage::default() };
    /// let cost = usage.cost(&price);
    /// assert!((cost.input - 600.0 * 2.50 / 1e6).abs() < 1e-12);
    /// assert!((cost.cache_read - 400.0 * 1.25 / 1e6).abs() < 1e-12);
    /// assert!((cost.output - 100.0 * 10.0 / 1e6).abs() < 1e-12);
    /// assert!((cost.total() - (cost.input + cost.cache_read + cost.output)).abs() < 1e-15);
    /// ```
    pub fn cost(&self, price: &Price) -> Cost {
        let rates = price.rates_for(self.input_tokens);
        let per_token = |per_million: f64, tokens: u64| per_million * tokens as f64 / 1_000_000.0;
        Cost {
            input: per_token(rates.input, self.uncached_input_tokens()),
            output: per_token(rates.output, self.output_tokens),
            cache_read: per_token(
                rates.cache_read.unwrap_or(rates.input),
                self.cache_read_tokens,
            ),
            cache_write: per_token(
                rates.cache_write.unwrap_or(rates.input),
                self.cache_write_tokens,
            ),
        }
    }
}

impl Add for Usage {
    type Output = Usage;

    fn add(mut self, rhs: Usage) -> Usage {
        self += rhs;
        self
    }
}

impl AddAssign for Usage {
    fn add_assign(&mut self, rhs: Usage) {
        self.input_tokens += rhs.input_tokens;
        self.output_tokens += rhs.output_tokens;
        self.cache_read_tokens += rhs.cache_read_tokens;
        self.cache_write_tokens += rhs.cache_write_tokens;
        self.reasoning_tokens += rhs.reasoning_tokens;
    }
}

/// A model's price in USD per million tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Price {
    /// USD per million uncached input tokens.
    pub input: f64,
    /// USD per million output tokens (reasoning included).
    pub output: f64,
    /// USD per million input tokens read from cache (`None`: charged as input).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read: Option<f64>,
    /// USD per million input tokens written to cache (`None`: charged as input).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<f64>,
    /// Higher rates that apply once a request's input exceeds a threshold, ascending.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<PriceTier>,
}

impl Price {
    /// A price with input and output rates in USD per million tokens.
    pub fn per_million(input: f64, output: f64) -> Self {
        Self {
            input,
            output,
            cache_read: None,
            cache_write: None,
            tiers: Vec::new(),
        }
    }

    /// Sets the cache-read rate.
    pub fn with_cache_read(mut self, per_million: f64) -> Self {
        self.cache_read = Some(per_million);
        self
    }

    /// Sets the cache-write rate.
    pub fn with_cache_write(mut self, per_million: f64) -> Self {
        self.cache_write = Some(per_million);
        self
    }

    /// Adds a long-context tier.
    pub fn with_tier(mut self, tier: PriceTier) -> Self {
        self.tiers.push(tier);
        self.tiers.sort_by_key(|t| t.above_input_tokens);
        self
    }

    /// The rates that apply to a request with `input_tokens` input tokens.
    pub fn rates_for(&self, input_tokens: u64) -> Rates {
        let base = Rates {
            input: self.input,
            output: self.output,
            cache_read: self.cache_read,
            cache_write: self.cache_write,
        };
        self.tiers
            .iter()
            .rev()
            .find(|tier| input_tokens > tier.above_input_tokens)
            .map_or(base, |tier| Rates {
                input: tier.input,
                output: tier.output,
                cache_read: tier.cache_read.or(base.cache_read),
                cache_write: tier.cache_write.or(base.cache_write),
            })
    }
}

/// Rates that apply once a request's input exceeds `above_input_tokens`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceTier {
    /// The tier applies when input tokens are strictly more than this.
    pub above_input_tokens: u64,
    /// USD per million uncached input tokens.
    pub input: f64,
    /// USD per million output tokens.
    pub output: f64,
    /// USD per million cache-read tokens (`None`: the base cache-read rate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read: Option<f64>,
    /// USD per million cache-write tokens (`None`: the base cache-write rate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<f64>,
}

/// The rates in force for one request, after tier selection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    /// USD per million uncached input tokens.
    pub input: f64,
    /// USD per million output tokens.
    pub output: f64,
    /// USD per million cache-read tokens, if priced separately.
    pub cache_read: Option<f64>,
    /// USD per million cache-write tokens, if priced separately.
    pub cache_write: Option<f64>,
}

/// What one call cost, in USD, by part.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    /// Uncached input.
    pub input: f64,
    /// Output, reasoning included.
    pub output: f64,
    /// Input read from cache.
    pub cache_read: f64,
    /// Input written to cache.
    pub cache_write: f64,
}

impl Cost {
    /// The sum of all parts.
    pub fn total(&self) -> f64 {
        self.input + self.output + self.cache_read + self.cache_write
    }
}

impl Add for Cost {
    type Output = Cost;

    fn add(self, rhs: Cost) -> Cost {
        Cost {
            input: self.input + rhs.input,
            output: self.output + rhs.output,
            cache_read: self.cache_read + rhs.cache_read,
            cache_write: self.cache_write + rhs.cache_write,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_tokens_are_not_charged_twice() {
        let price = Price::per_million(3.0, 15.0)
            .with_cache_read(0.3)
            .with_cache_write(3.75);
        let usage = Usage {
            input_tokens: 1_000_000,
            cache_read_tokens: 500_000,
            cache_write_tokens: 250_000,
            output_tokens: 0,
            reasoning_tokens: 0,
        };
        let cost = usage.cost(&price);
        assert!((cost.input - 0.75).abs() < 1e-9);
        assert!((cost.cache_read - 0.15).abs() < 1e-9);
        assert!((cost.cache_write - 0.9375).abs() < 1e-9);
        assert!((cost.total() - 1.8375).abs() < 1e-9);
    }

    #[test]
    fn long_context_tier_applies_strictly_above_its_threshold() {
        let price = Price::per_million(1.25, 10.0).with_tier(PriceTier {
            above_input_tokens: 200_000,
            input: 2.5,
            output: 15.0,
            cache_read: None,
            cache_write: None,
        });
        assert_eq!(price.rates_for(200_000).input, 1.25);
        assert_eq!(price.rates_for(200_001).input, 2.5);
        assert_eq!(price.rates_for(200_001).output, 15.0);
    }

    #[test]
    fn missing_cache_rates_fall_back_to_input_rate() {
        let price = Price::per_million(2.0, 8.0);
        let usage = Usage {
            input_tokens: 1_000_000,
            cache_read_tokens: 1_000_000,
            ..Usage::default()
        };
        let cost = usage.cost(&price);
        assert_eq!(cost.input, 0.0);
        assert!((cost.cache_read - 2.0).abs() < 1e-9);
    }
}
