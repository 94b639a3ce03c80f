//! `[deployments.NAME]`: one provider + model, its credentials and its facts.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use tollgate_catalog::PriceOverride;
use tollgate_openai::Preset;

use super::http::HttpConfig;
use super::interpolate::{EnvString, SecretString};
use crate::simulate::SimulateConfig;

/// `[deployments.NAME]`.
///
/// ```toml
/// [deployments.gpt-4o-mini]
/// provider = "openai"
/// model = "gpt-4o-mini"
/// api_key = "${OPENAI_API_KEY}"     # the default for openai; shown for clarity
/// rpm = 500
/// tags = ["fast"]
///
/// [deployments.gpt-4o-mini.http]   # overrides [http], setting by setting
/// proxy = "none"
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentConfig {
    /// `openai`, `anthropic`, `gemini`, an OpenAI-compatible preset (`groq`, `together`,
    /// `mistral`, `deepseek`, `fireworks`, `openrouter`, `xai`, `cerebras`, `perplexity`,
    /// `ollama`, `vllm`, `lmstudio`), or `simulated`.
    pub provider: String,
    /// The model id sent to the provider.
    pub model: String,
    /// The API key. Interpolated; left out: the provider's standard variable
    /// (`OPENAI_API_KEY`, `ANTHROPIC_API_KEY`, `GEMINI_API_KEY` or `GOOGLE_API_KEY`,
    /// `GROQ_API_KEY`, …; optional for local servers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<SecretString>,
    /// The API's base URL. Interpolated; left out: the provider's default (or its
    /// `*_BASE_URL` variable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<EnvString>,
    /// OpenAI and presets: extra headers on every request (values interpolated, never
    /// printed).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, SecretString>,
    /// OpenAI: the `OpenAI-Organization` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// OpenAI: the `OpenAI-Project` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Anthropic: the `anthropic-version` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anthropic_version: Option<String>,
    /// Anthropic: beta names for the `anthropic-beta` header.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub betas: Vec<String>,
    /// Gemini: the API version path segment (`v1beta`, `v1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Price per million tokens; each rate left out keeps the catalog's. A model the
    /// catalog does not price needs both `input` and `output`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<PriceOverride>,
    /// Context window in tokens (default: the catalog's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_window: Option<u64>,
    /// Most output tokens per reply (default: the catalog's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u64>,
    /// What the deployment can do (default: the catalog's; unknown = capable).
    #[serde(default, skip_serializing_if = "CapabilitiesConfig::is_empty")]
    pub capabilities: CapabilitiesConfig,
    /// Requests per minute the provider allows; the router moves traffic elsewhere first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpm: Option<u32>,
    /// Tokens per minute the provider allows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpm: Option<u64>,
    /// Relative share for the weighted balancer (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
    /// Free labels, for tiered routing (`tags = ["eu", "fast"]`).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub tags: BTreeSet<String>,
    /// Real providers only: this deployment's HTTP client settings (`proxy`, `ca_file`,
    /// `connect_timeout`, `pool_idle_timeout`, `pool_max_idle_per_host`), each given here
    /// overriding `[http]`'s (see [`HttpConfig`]).
    ///
    /// ```toml
    /// [deployments.vllm.http]
    /// ca_file = "/etc/ssl/gpu-cluster-ca.pem"
    /// proxy = "none"
    /// ```
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpConfig>,
    /// `simulated` only: latency, pacing and failure rates of the simulator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulate: Option<SimulateConfig>,
}

impl DeploymentConfig {
    /// A deployment of `model` on `provider` with everything else left out.
    pub fn new(provider: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            model: model.into(),
            api_key: None,
            base_url: None,
            headers: BTreeMap::new(),
            organization: None,
            project: None,
            anthropic_version: None,
            betas: Vec::new(),
            api_version: None,
            price: None,
            context_window: None,
            max_output_tokens: None,
            capabilities: CapabilitiesConfig::default(),
            rpm: None,
            tpm: None,
            weight: None,
            tags: BTreeSet::new(),
            http: None,
            simulate: None,
        }
    }

    /// The provider kind, if `provider` names one.
    pub fn kind(&self) -> Option<ProviderKind> {
        ProviderKind::parse(&self.provider)
    }
}

/// `capabilities = { tools = false }`: each left out keeps the catalog's value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapabilitiesConfig {
    /// Tool calling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<bool>,
    /// Image input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vision: Option<bool>,
    /// JSON-schema structured output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_schema: Option<bool>,
    /// Streaming (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streaming: Option<bool>,
}

impl CapabilitiesConfig {
    /// True when nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Which client serves a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    /// OpenAI or an OpenAI-compatible preset.
    OpenAi(Preset),
    /// Anthropic's Messages API.
    Anthropic,
    /// Gemini's generateContent API.
    Gemini,
    /// The built-in simulator (no network).
    Simulated,
}

impl ProviderKind {
    /// Reads a `provider` value: `openai`, `anthropic`, `gemini` (or `google`,
    /// `gcp.gemini`), `simulated`, or any name [`Preset::from_name`] knows.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "anthropic" | "claude" => Some(Self::Anthropic),
            "gemini" | "google" | "gcp.gemini" | "google_ai_studio" => Some(Self::Gemini),
            "simulated" | "simulator" | "sim" => Some(Self::Simulated),
            other => Preset::from_name(other).map(Self::OpenAi),
        }
    }

    /// Every accepted provider name (the canonical spellings), for error messages.
    pub fn names() -> Vec<&'static str> {
        let mut names = vec!["openai", "anthropic", "gemini", "simulated"];
        names.extend(
            Preset::ALL
                .iter()
                .filter(|p| **p != Preset::OpenAi)
                .map(|p| preset_config_name(*p)),
        );
        names
    }

    /// The `gen_ai.provider.name` replies carry (`openai`, `anthropic`, `gcp.gemini`,
    /// `groq`, …, `simulated`).
    pub fn provider_name(self) -> &'static str {
        match self {
            Self::OpenAi(preset) => preset.provider(),
            Self::Anthropic => tollgate_anthropic::PROVIDER,
            Self::Gemini => tollgate_gemini::PROVIDER,
            Self::Simulated => crate::simulate::PROVIDER,
        }
    }

    /// The variables the API key is read from when `api_key` is left out, and whether it
    /// may be absent.
    pub fn default_key_vars(self) -> (Vec<&'static str>, bool) {
        match self {
            Self::OpenAi(preset) => {
                let info = preset.info();
                (vec![info.api_key_env], info.api_key_optional)
            }
            Self::Anthropic => (vec![tollgate_anthropic::config::API_KEY_VAR], false),
            Self::Gemini => (
                vec![
                    tollgate_gemini::config::KEY_VARIABLE,
                    tollgate_gemini::config::FALLBACK_KEY_VARIABLE,
                ],
                false,
            ),
            Self::Simulated => (Vec::new(), true),
        }
    }
}

/// The name a config file uses for a preset (`groq`, `mistral`, `xai`, …).
pub fn preset_config_name(preset: Preset) -> &'static str {
    match preset {
        Preset::Mistral => "mistral",
        Preset::XAi => "xai",
        other => other.provider(),
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::OpenAi(preset) => preset_config_name(*preset),
            Self::Anthropic => "anthropic",
            Self::Gemini => "gemini",
            Self::Simulated => "simulated",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_provider_name_parses() {
        for name in ProviderKind::names() {
            assert!(ProviderKind::parse(name).is_some(), "{name}");
        }
        assert_eq!(
            ProviderKind::parse("groq"),
            Some(ProviderKind::OpenAi(Preset::Groq))
        );
        assert_eq!(ProviderKind::parse("Google"), Some(ProviderKind::Gemini));
        assert_eq!(ProviderKind::parse("openaii"), None);
    }
}
