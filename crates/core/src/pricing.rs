//! Where prices come from: the seam between whoever knows prices (the catalog, a config
//! file) and whoever needs them (telemetry, cost routing, the gateway's cost header).

use std::collections::HashMap;

use crate::usage::Price;

/// Looks up a model's price. Implemented by the catalog; telemetry and the gateway only
/// see this trait, so neither depends on where prices come from.
///
/// An unknown model has no price: cost is then reported as unknown, never invented.
pub trait PriceSource: Send + Sync + 'static {
    /// The price of `model` served by `provider` (a `gen_ai.provider.name` such as
    /// `openai`, `anthropic`, `gcp.gemini`, `groq`), if known.
    fn price(&self, provider: &str, model: &str) -> Option<Price>;
}

/// A fixed table of prices keyed by (provider, model), for tests and small setups.
///
/// ```
/// use tollgate_core::pricing::{PriceSource, PriceTable};
/// use tollgate_core::Price;
///
/// let mut table = PriceTable::default();
/// table.insert("openai", "gpt-4o-mini", Price::per_million(0.15, 0.60));
/// assert!(table.price("openai", "gpt-4o-mini").is_some());
/// assert!(table.price("openai", "unknown").is_none());
/// ```
#[derive(Debug, Clone, Default)]
pub struct PriceTable {
    prices: HashMap<(String, String), Price>,
}

impl PriceTable {
    /// Adds or replaces a price.
    pub fn insert(&mut self, provider: impl Into<String>, model: impl Into<String>, price: Price) {
        self.prices.insert((provider.into(), model.into()), price);
    }
}

impl PriceSource for PriceTable {
    fn price(&self, provider: &str, model: &str) -> Option<Price> {
        self.prices
            .get(&(provider.to_owned(), model.to_owned()))
            .cloned()
    }
}
