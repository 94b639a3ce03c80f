//! Deployments: one provider service and model, with the facts routing decides on.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use tollgate_core::{BoxChatService, ChatRequest, Price, ResponseFormat};

/// One provider service serving one model, with the facts routing decides on.
#[derive(Clone)]
pub struct Deployment {
    /// Unique name, e.g. `openai/gpt-4o-mini` or `groq-llama-70b`.
    pub name: String,
    /// The model sent to the provider (replaces the route name in `ChatRequest::model`).
    pub model: String,
    /// The provider client (or any stack over it).
    pub service: BoxChatService,
    /// What routing needs to know about it.
    pub facts: DeploymentFacts,
}

impl Deployment {
    /// A deployment with default facts (no price, unknown context window, all capabilities).
    pub fn new(name: impl Into<String>, model: impl Into<String>, service: BoxChatService) -> Self {
        Self {
            name: name.into(),
            model: model.into(),
            service,
            facts: DeploymentFacts::default(),
        }
    }

    /// Replaces the facts.
    pub fn with_facts(mut self, facts: DeploymentFacts) -> Self {
        self.facts = facts;
        self
    }
}

impl fmt::Debug for Deployment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deployment")
            .field("name", &self.name)
            .field("model", &self.model)
            .field("facts", &self.facts)
            .finish_non_exhaustive()
    }
}

/// What routing needs to know about a deployment. Every field is optional in config:
/// unknown facts never exclude a deployment, they only make it unrankable by cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentFacts {
    /// Price per million tokens; `None` when unknown (cost routing ranks it last).
    #[serde(default)]
    pub price: Option<Price>,
    /// Context window in tokens (input + output); `None` when unknown.
    #[serde(default)]
    pub context_window: Option<u64>,
    /// Most output tokens the model produces; `None` when unknown.
    #[serde(default)]
    pub max_output_tokens: Option<u64>,
    /// What the deployment can do.
    #[serde(default)]
    pub capabilities: Capabilities,
    /// Requests per minute the provider allows this deployment.
    #[serde(default)]
    pub rpm: Option<u32>,
    /// Tokens per minute the provider allows this deployment.
    #[serde(default)]
    pub tpm: Option<u64>,
    /// Relative share for weighted balancing (default 1).
    #[serde(default = "default_weight")]
    pub weight: u32,
    /// Free labels (`eu`, `fast`, `frontier`, …).
    #[serde(default)]
    pub tags: BTreeSet<String>,
}

fn default_weight() -> u32 {
    1
}

impl Default for DeploymentFacts {
    fn default() -> Self {
        Self {
            price: None,
            context_window: None,
            max_output_tokens: None,
            capabilities: Capabilities::default(),
            rpm: None,
            tpm: None,
            weight: 1,
            tags: BTreeSet::new(),
        }
    }
}

/// What a deployment can do. Defaults to everything, so a deployment is excluded for a
/// capability only when config says it lacks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capabilities {
    /// Tool calling.
    #[serde(default = "yes")]
    pub tools: bool,
    /// Image input.
    #[serde(default = "yes")]
    pub vision: bool,
    /// JSON-schema structured output.
    #[serde(default = "yes")]
    pub json_schema: bool,
    /// Streaming.
    #[serde(default = "yes")]
    pub streaming: bool,
}

fn yes() -> bool {
    true
}

impl Default for Capabilities {
    fn default() -> Self {
        Self {
            tools: true,
            vision: true,
            json_schema: true,
            streaming: true,
        }
    }
}

impl Capabilities {
    /// The first capability `request` needs that this deployment lacks, by name.
    pub fn missing_for(&self, request: &ChatRequest) -> Option<&'static str> {
        if !request.tools.is_empty() && !self.tools {
            return Some("tools");
        }
        if !self.vision && request.has_images() {
            return Some("vision");
        }
        if !self.json_schema
            && matches!(
                request.response_format,
                Some(ResponseFormat::JsonSchema { .. })
            )
        {
            return Some("json_schema");
        }
        if request.stream && !self.streaming {
            return Some("streaming");
        }
        None
    }
}
