//! Provider names: Tollgate's `gen_ai.provider.name` values and LiteLLM's names for them.

/// Every provider the bundled table covers: `(gen_ai.provider.name, LiteLLM provider)`.
///
/// Self-hosted OpenAI-compatible servers (Ollama, vLLM, LM Studio) have no prices and are not
/// listed; add their models through overrides if routing needs their facts.
pub const PROVIDERS: &[(&str, &str)] = &[
    ("anthropic", "anthropic"),
    ("cerebras", "cerebras"),
    ("deepseek", "deepseek"),
    ("fireworks", "fireworks_ai"),
    ("gcp.gemini", "gemini"),
    ("groq", "groq"),
    ("mistral_ai", "mistral"),
    ("openai", "openai"),
    ("openrouter", "openrouter"),
    ("perplexity", "perplexity"),
    ("together", "together_ai"),
    ("x_ai", "xai"),
];

/// Tollgate's name for a provider given either its `gen_ai.provider.name` or LiteLLM's name
/// (`gemini` → `gcp.gemini`, `together_ai` → `together`, `xai` → `x_ai`, …). Names the
/// table does not know pass through unchanged, so overrides can introduce providers.
///
/// ```
/// use tollgate_catalog::provider::canonical_provider;
///
/// assert_eq!(canonical_provider("gemini"), "gcp.gemini");
/// assert_eq!(canonical_provider("together_ai"), "together");
/// assert_eq!(canonical_provider("openai"), "openai");
/// assert_eq!(canonical_provider("ollama"), "ollama");
/// ```
pub fn canonical_provider(name: &str) -> &str {
    match name {
        "gemini" | "google_ai_studio" => "gcp.gemini",
        "together_ai" => "together",
        "mistral" => "mistral_ai",
        "fireworks_ai" => "fireworks",
        "xai" => "x_ai",
        other => other,
    }
}

/// LiteLLM's name for a provider given Tollgate's (`gcp.gemini` → `gemini`), if the table
/// covers it.
pub fn litellm_name(provider: &str) -> Option<&'static str> {
    PROVIDERS
        .iter()
        .find(|(ours, _)| *ours == provider)
        .map(|(_, theirs)| *theirs)
}

/// Tollgate's name for a LiteLLM provider (`xai` → `x_ai`), if the table covers it.
pub fn from_litellm(litellm_provider: &str) -> Option<&'static str> {
    PROVIDERS
        .iter()
        .find(|(_, theirs)| *theirs == litellm_provider)
        .map(|(ours, _)| *ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_provider_round_trips_through_litellm_names() {
        for (ours, theirs) in PROVIDERS {
            assert_eq!(litellm_name(ours), Some(*theirs));
            assert_eq!(from_litellm(theirs), Some(*ours));
            assert_eq!(canonical_provider(theirs), *ours);
            assert_eq!(canonical_provider(ours), *ours);
        }
    }
}
