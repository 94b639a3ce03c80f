//! Model facts for Tollgate: prices, context windows and capabilities, from a bundled,
//! pinned price table overridable from config.
//!
//! - [`Catalog::bundled`] is the table shipped with this crate: every chat model of OpenAI,
//!   Anthropic, Gemini and the OpenAI-compatible presets (Groq, Together, Mistral,
//!   DeepSeek, Fireworks, OpenRouter, xAI, Cerebras, Perplexity) that LiteLLM's pinned price
//!   file lists. Self-hosted servers (Ollama, vLLM, LM Studio) have no prices.
//! - [`Catalog::lookup`] finds a model by provider and the name a caller or a reply uses:
//!   `gpt-4o` and the `gpt-4o-2024-08-06` OpenAI answers with, `claude-…-latest`,
//!   `models/gemini-…`, `groq/…` (see [`resolve`] for the exact rules). An unknown model
//!   has no facts; nothing is guessed.
//! - [`Catalog::with_overrides`] applies [`CatalogOverrides`] from config.
//! - [`Catalog`] implements [`PriceSource`](tollgate_core::pricing::PriceSource), so
//!   telemetry and the gateway price calls without depending on this crate.
//!
//! Prices are USD per **million** tokens ([`tollgate_core::Price`]); LiteLLM's per-token
//! rates are converted without floating-point drift
//! ([`litellm::per_million_from_per_token`]).
//!
//! ```
//! use tollgate_catalog::{Catalog, CatalogOverrides};
//! use tollgate_core::Usage;
//!
//! let overrides: CatalogOverrides = toml::from_str(r#"
//!     [[models]]
//!     provider = "ollama"
//!     model = "llama3.2"
//!     context_window = 131072
//!     price = { input = 0.0, output = 0.0 }
//! "#).unwrap();
//! let catalog = Catalog::bundled().clone().with_overrides(&overrides).unwrap();
//!
//! let mini = catalog.lookup("openai", "gpt-4o-mini").unwrap();
//! let cost = Usage::new(1_000_000, 0).cost(mini.price.as_ref().unwrap());
//! assert!((cost.total() - 0.15).abs() < 1e-9);
//! assert_eq!(catalog.lookup("ollama", "llama3.2").unwrap().context_window, Some(131072));
//! ```
//!
//! # Source and attribution
//!
#![doc = include_str!("../data/SOURCE.md")]

pub mod catalog;
pub mod error;
pub mod facts;
pub mod litellm;
pub mod overrides;
pub mod provider;
pub mod resolve;
pub mod table;

pub use catalog::Catalog;
pub use error::CatalogError;
pub use facts::{ModelCapabilities, ModelFacts};
pub use overrides::{
    CapabilityOverrides, CatalogOverrides, ModelOverride, PriceOverride, TierOverride,
};
pub use table::CatalogSource;
