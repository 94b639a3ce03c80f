//! What the catalog knows about one model.

use serde::{Deserialize, Serialize};
use tollgate_core::Price;

/// Facts about one model served by one provider.
///
/// Field names parallel the router's `DeploymentFacts`, which the gateway fills from these.
/// Every fact is optional: an unknown fact is `None`, never a guess.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFacts {
    /// The provider, as a `gen_ai.provider.name` value (`openai`, `anthropic`, `gcp.gemini`,
    /// `groq`, `together`, `mistral_ai`, `deepseek`, `fireworks`, `openrouter`, `x_ai`,
    /// `cerebras`, `perplexity`, or any name an override introduces).
    pub provider: String,
    /// The model's catalog name, without provider prefix (`gpt-4o`,
    /// `claude-sonnet-4-5-20250929`, `gemini-2.5-pro`, `openai/gpt-oss-120b` on Groq).
    pub model: String,
    /// Price in USD per million tokens; `None` when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Price>,
    /// Most input tokens the model accepts (LiteLLM's `max_input_tokens`); `None` when
    /// unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_window: Option<u64>,
    /// Most output tokens the model produces in one reply; `None` when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u64>,
    /// What the model can do, as far as known.
    #[serde(default, skip_serializing_if = "ModelCapabilities::is_unknown")]
    pub capabilities: ModelCapabilities,
}

impl ModelFacts {
    /// Facts with nothing known but the names.
    pub fn new(provider: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            model: model.into(),
            price: None,
            context_window: None,
            max_output_tokens: None,
            capabilities: ModelCapabilities::default(),
        }
    }

    /// True when no fact beyond the names is known.
    pub fn is_empty(&self) -> bool {
        self.price.is_none()
            && self.context_window.is_none()
            && self.max_output_tokens.is_none()
            && self.capabilities.is_unknown()
    }
}

/// What a model can do. `Some(true)`: the table says it can; `Some(false)`: the table says
/// it cannot; `None`: the table does not say.
///
/// The router treats an unknown capability as present (it never excludes a deployment for
/// a fact nobody recorded); the gateway maps `None` accordingly when it builds deployment
/// facts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelCapabilities {
    /// Tool (function) calling — LiteLLM's `supports_function_calling`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<bool>,
    /// Image input — LiteLLM's `supports_vision`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vision: Option<bool>,
    /// JSON-schema structured output — LiteLLM's `supports_response_schema`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_schema: Option<bool>,
    /// Reasoning (thinking) output — LiteLLM's `supports_reasoning`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<bool>,
}

impl ModelCapabilities {
    /// True when nothing is known about any capability.
    pub fn is_unknown(&self) -> bool {
        *self == Self::default()
    }

    /// True when no capability is set (as an override: nothing changes).
    pub fn is_empty(&self) -> bool {
        self.is_unknown()
    }

    /// Takes every capability `changes` sets; the others keep their value.
    pub fn overlay(&mut self, changes: &ModelCapabilities) {
        let set = |slot: &mut Option<bool>, value: Option<bool>| {
            if value.is_some() {
                *slot = value;
            }
        };
        set(&mut self.tools, changes.tools);
        set(&mut self.vision, changes.vision);
        set(&mut self.json_schema, changes.json_schema);
        set(&mut self.reasoning, changes.reasoning);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overlay_changes_only_what_it_sets() {
        let mut known = ModelCapabilities {
            tools: Some(true),
            vision: Some(true),
            json_schema: None,
            reasoning: Some(false),
        };
        known.overlay(&ModelCapabilities {
            vision: Some(false),
            json_schema: Some(true),
            ..ModelCapabilities::default()
        });
        assert_eq!(
            known,
            ModelCapabilities {
                tools: Some(true),
                vision: Some(false),
                json_schema: Some(true),
                reasoning: Some(false),
            }
        );
    }
}
