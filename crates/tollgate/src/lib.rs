//! Tollgate: one typed interface to every LLM provider, with routing, resilience and
//! cost-aware telemetry.
//!
//! This facade re-exports the core model and, behind one cargo feature each, the crates
//! you choose: `openai` (default; also every OpenAI-compatible endpoint), `anthropic`,
//! `gemini`, `router`, `telemetry`, `catalog`, or `full`. A crate you do not enable is not
//! compiled.
//!
//! ```toml
//! [dependencies]
//! tollgate = { version = "0.1", default-features = false, features = ["anthropic", "router"] }
//! ```

pub use tollgate_core::*;

/// The core crate, for paths such as `tollgate::core::sse`.
pub use tollgate_core as core;

#[cfg(feature = "openai")]
#[doc(inline)]
pub use tollgate_openai as openai;

#[cfg(feature = "anthropic")]
#[doc(inline)]
pub use tollgate_anthropic as anthropic;

#[cfg(feature = "gemini")]
#[doc(inline)]
pub use tollgate_gemini as gemini;

#[cfg(feature = "router")]
#[doc(inline)]
pub use tollgate_router as router;

#[cfg(feature = "telemetry")]
#[doc(inline)]
pub use tollgate_telemetry as telemetry;

#[cfg(feature = "catalog")]
#[doc(inline)]
pub use tollgate_catalog as catalog;
