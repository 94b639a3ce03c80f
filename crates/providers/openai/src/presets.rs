//! OpenAI-compatible endpoints as configurations of this crate.
//!
//! A [`Preset`] is data, not code: a provider name (as OpenTelemetry's
//! `gen_ai.provider.name` spells it), a default base URL, the environment variables that
//! hold its key and base URL, and the [`Quirks`] its server needs. Every preset is served
//! by the same [`OpenAiClient`](crate::OpenAiClient).
//!
//! ```
//! use tollgate_openai::{OpenAiConfig, Preset};
//!
//! let groq = OpenAiConfig::preset(Preset::Groq).api_key("gsk-test");
//! assert_eq!(groq.provider, "groq");
//! assert_eq!(groq.base_url, "https://api.groq.com/openai/v1");
//! assert_eq!(Preset::from_name("mistral"), Some(Preset::Mistral));
//! assert!(!OpenAiConfig::preset(Preset::Mistral).quirks.stream_options);
//! ```
//!
//! Decoding deviations (Groq's `x_groq.usage`, `reasoning_content` / `reasoning`,
//! whole tool calls in one chunk, missing ids, integer error codes, flat error envelopes)
//! are accepted for every preset, so they are not quirks: only what the client *sends*
//! differs between presets.

use std::fmt;

use tollgate_core::tool_ids::ToolIdRule;

/// How a server wants a request's output token limit spelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MaxTokensField {
    /// `max_completion_tokens` (OpenAI; o-series models reject `max_tokens`).
    MaxCompletionTokens,
    /// `max_tokens` (most compatible servers).
    MaxTokens,
}

impl MaxTokensField {
    /// The JSON field name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MaxCompletionTokens => "max_completion_tokens",
            Self::MaxTokens => "max_tokens",
        }
    }
}

/// How a server wants the sampling seed spelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeedField {
    /// `seed` (OpenAI and most compatible servers).
    Seed,
    /// `random_seed` (Mistral).
    RandomSeed,
}

impl SeedField {
    /// The JSON field name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Seed => "seed",
            Self::RandomSeed => "random_seed",
        }
    }
}

/// What a server needs to differ from OpenAI in the requests it receives.
///
/// `Quirks::default()` is OpenAI's own behaviour. Fields are public so a custom endpoint
/// can adjust them; the struct is `non_exhaustive` so new quirks can be added.
///
/// ```
/// use tollgate_openai::{MaxTokensField, Quirks};
///
/// let mut quirks = Quirks::default();
/// quirks.max_tokens_field = MaxTokensField::MaxTokens;
/// quirks.top_k = true;
/// assert!(quirks.stream_options);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Quirks {
    /// Which field carries `ChatRequest::max_tokens`.
    pub max_tokens_field: MaxTokensField,
    /// Which field carries `ChatRequest::seed`.
    pub seed_field: SeedField,
    /// Whether the server accepts `stream_options: {"include_usage": true}`. Servers
    /// that reject unknown fields get no `stream_options`; they either send usage
    /// anyway or the stream has no `Usage` event.
    pub stream_options: bool,
    /// Whether the server accepts `top_k`. When false, `ChatRequest::top_k` is not sent.
    pub top_k: bool,
    /// The tool-call ids the server accepts. Every tool-call id and `tool_call_id` of an
    /// outgoing request is rewritten with it (a stable, pure rewrite, so a call and its
    /// result still match).
    pub tool_id_rule: ToolIdRule,
}

impl Default for Quirks {
    fn default() -> Self {
        Self::OPENAI
    }
}

impl Quirks {
    /// OpenAI's own behaviour.
    pub const OPENAI: Self = Self {
        max_tokens_field: MaxTokensField::MaxCompletionTokens,
        seed_field: SeedField::Seed,
        stream_options: true,
        top_k: false,
        tool_id_rule: ToolIdRule::Any,
    };

    /// A typical compatible server: `max_tokens`, `stream_options` accepted, no `top_k`.
    pub const COMPATIBLE: Self = Self {
        max_tokens_field: MaxTokensField::MaxTokens,
        ..Self::OPENAI
    };
}

/// A known OpenAI-compatible endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Preset {
    /// OpenAI itself.
    OpenAi,
    /// Groq.
    Groq,
    /// Together AI.
    Together,
    /// Mistral AI (La Plateforme).
    Mistral,
    /// DeepSeek.
    DeepSeek,
    /// Fireworks AI.
    Fireworks,
    /// OpenRouter.
    OpenRouter,
    /// xAI (Grok).
    XAi,
    /// Cerebras.
    Cerebras,
    /// Perplexity.
    Perplexity,
    /// A local Ollama server.
    Ollama,
    /// A vLLM server.
    Vllm,
    /// A local LM Studio server.
    LmStudio,
}

/// The facts of one preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PresetInfo {
    /// The provider name, as `gen_ai.provider.name` spells it (`groq`, `mistral_ai`, …).
    pub provider: &'static str,
    /// The base URL requests go to (`{base_url}/chat/completions`).
    pub base_url: &'static str,
    /// The environment variable holding the API key.
    pub api_key_env: &'static str,
    /// Whether the server works without a key (local servers).
    pub api_key_optional: bool,
    /// The environment variable that overrides the base URL.
    pub base_url_env: &'static str,
    /// What the server needs to differ from OpenAI.
    pub quirks: Quirks,
}

impl Preset {
    /// Every preset, in a stable order.
    pub const ALL: [Preset; 13] = [
        Self::OpenAi,
        Self::Groq,
        Self::Together,
        Self::Mistral,
        Self::DeepSeek,
        Self::Fireworks,
        Self::OpenRouter,
        Self::XAi,
        Self::Cerebras,
        Self::Perplexity,
        Self::Ollama,
        Self::Vllm,
        Self::LmStudio,
    ];

    /// The preset's facts.
    pub const fn info(self) -> PresetInfo {
        const fn remote(
            provider: &'static str,
            base_url: &'static str,
            api_key_env: &'static str,
            base_url_env: &'static str,
            quirks: Quirks,
        ) -> PresetInfo {
            PresetInfo {
                provider,
                base_url,
                api_key_env,
                api_key_optional: false,
                base_url_env,
                quirks,
            }
        }
        const fn local(
            provider: &'static str,
            base_url: &'static str,
            api_key_env: &'static str,
            base_url_env: &'static str,
            quirks: Quirks,
        ) -> PresetInfo {
            PresetInfo {
                api_key_optional: true,
                ..remote(provider, base_url, api_key_env, base_url_env, quirks)
            }
        }
        const COMPAT: Quirks = Quirks::COMPATIBLE;
        const COMPAT_TOP_K: Quirks = Quirks {
            top_k: true,
            ..Quirks::COMPATIBLE
        };
        // Servers that document `max_completion_tokens` get it, like OpenAI.
        const COMPLETION_TOKENS: Quirks = Quirks::OPENAI;
        match self {
            Self::OpenAi => remote(
                "openai",
                "https://api.openai.com/v1",
                "OPENAI_API_KEY",
                "OPENAI_BASE_URL",
                Quirks::OPENAI,
            ),
            Self::Groq => remote(
                "groq",
                "https://api.groq.com/openai/v1",
                "GROQ_API_KEY",
                "GROQ_BASE_URL",
                COMPLETION_TOKENS,
            ),
            Self::Together => remote(
                "together",
                "https://api.together.xyz/v1",
                "TOGETHER_API_KEY",
                "TOGETHER_BASE_URL",
                COMPAT_TOP_K,
            ),
            Self::Mistral => remote(
                "mistral_ai",
                "https://api.mistral.ai/v1",
                "MISTRAL_API_KEY",
                "MISTRAL_BASE_URL",
                // Mistral rejects unknown fields (so no `stream_options`; it sends usage
                // on the last chunk anyway), spells the seed `random_seed` and accepts
                // only 9-character alphanumeric tool-call ids.
                Quirks {
                    seed_field: SeedField::RandomSeed,
                    stream_options: false,
                    tool_id_rule: ToolIdRule::ExactAlphanumeric { len: 9 },
                    ..Quirks::COMPATIBLE
                },
            ),
            Self::DeepSeek => remote(
                "deepseek",
                "https://api.deepseek.com",
                "DEEPSEEK_API_KEY",
                "DEEPSEEK_BASE_URL",
                COMPAT,
            ),
            Self::Fireworks => remote(
                "fireworks",
                "https://api.fireworks.ai/inference/v1",
                "FIREWORKS_API_KEY",
                "FIREWORKS_BASE_URL",
                COMPAT_TOP_K,
            ),
            Self::OpenRouter => remote(
                "openrouter",
                "https://openrouter.ai/api/v1",
                "OPENROUTER_API_KEY",
                "OPENROUTER_BASE_URL",
                COMPAT_TOP_K,
            ),
            Self::XAi => remote(
                "x_ai",
                "https://api.x.ai/v1",
                "XAI_API_KEY",
                "XAI_BASE_URL",
                COMPLETION_TOKENS,
            ),
            Self::Cerebras => remote(
                "cerebras",
                "https://api.cerebras.ai/v1",
                "CEREBRAS_API_KEY",
                "CEREBRAS_BASE_URL",
                COMPLETION_TOKENS,
            ),
            Self::Perplexity => remote(
                "perplexity",
                "https://api.perplexity.ai",
                "PERPLEXITY_API_KEY",
                "PERPLEXITY_BASE_URL",
                // Perplexity reports usage on its chunks without being asked.
                Quirks {
                    stream_options: false,
                    ..Quirks::COMPATIBLE
                },
            ),
            Self::Ollama => local(
                "ollama",
                "http://localhost:11434/v1",
                "OLLAMA_API_KEY",
                "OLLAMA_BASE_URL",
                COMPAT_TOP_K,
            ),
            Self::Vllm => local(
                "vllm",
                "http://localhost:8000/v1",
                "VLLM_API_KEY",
                "VLLM_BASE_URL",
                COMPAT_TOP_K,
            ),
            Self::LmStudio => local(
                "lmstudio",
                "http://localhost:1234/v1",
                "LMSTUDIO_API_KEY",
                "LMSTUDIO_BASE_URL",
                COMPAT,
            ),
        }
    }

    /// The provider name (`openai`, `groq`, `mistral_ai`, `x_ai`, …).
    pub const fn provider(self) -> &'static str {
        self.info().provider
    }

    /// Finds a preset by its provider name or a common alias, case-insensitively:
    /// `groq`, `mistral` or `mistral_ai`, `xai`, `x_ai` or `grok`, `lm_studio`, …
    pub fn from_name(name: &str) -> Option<Self> {
        let name = name
            .trim()
            .to_ascii_lowercase()
            .replace(['-', ' ', '.'], "_");
        let preset = match name.as_str() {
            "openai" => Self::OpenAi,
            "groq" => Self::Groq,
            "together" | "together_ai" | "togetherai" => Self::Together,
            "mistral" | "mistral_ai" | "mistralai" => Self::Mistral,
            "deepseek" | "deep_seek" => Self::DeepSeek,
            "fireworks" | "fireworks_ai" | "fireworksai" => Self::Fireworks,
            "openrouter" | "open_router" => Self::OpenRouter,
            "xai" | "x_ai" | "grok" => Self::XAi,
            "cerebras" => Self::Cerebras,
            "perplexity" | "perplexity_ai" | "pplx" => Self::Perplexity,
            "ollama" => Self::Ollama,
            "vllm" => Self::Vllm,
            "lmstudio" | "lm_studio" => Self::LmStudio,
            _ => return None,
        };
        Some(preset)
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.provider())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_found_by_its_provider_name() {
        for preset in Preset::ALL {
            assert_eq!(Preset::from_name(preset.provider()), Some(preset));
        }
        assert_eq!(Preset::from_name("LM-Studio"), Some(Preset::LmStudio));
        assert_eq!(Preset::from_name("nope"), None);
    }

    #[test]
    fn provider_names_follow_the_genai_conventions() {
        let names: Vec<_> = Preset::ALL.iter().map(|p| p.provider()).collect();
        assert_eq!(
            names,
            [
                "openai",
                "groq",
                "together",
                "mistral_ai",
                "deepseek",
                "fireworks",
                "openrouter",
                "x_ai",
                "cerebras",
                "perplexity",
                "ollama",
                "vllm",
                "lmstudio"
            ]
        );
    }

    #[test]
    fn only_openai_like_servers_get_max_completion_tokens() {
        let completion: Vec<_> = Preset::ALL
            .iter()
            .filter(|p| p.info().quirks.max_tokens_field == MaxTokensField::MaxCompletionTokens)
            .map(|p| p.provider())
            .collect();
        assert_eq!(completion, ["openai", "groq", "x_ai", "cerebras"]);
    }

    #[test]
    fn only_local_servers_work_without_a_key() {
        let optional: Vec<_> = Preset::ALL
            .iter()
            .filter(|p| p.info().api_key_optional)
            .map(|p| p.provider())
            .collect();
        assert_eq!(optional, ["ollama", "vllm", "lmstudio"]);
    }
}
