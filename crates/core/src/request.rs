//! What a caller asks of a model: [`ChatRequest`] and the tool and output settings it carries.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::message::{Message, UserMessage, UserPart};

/// One chat request, provider-neutral.
///
/// Every provider translates the same request into its own wire format; settings a
/// provider lacks are documented per provider (see `docs/providers.md`) and never
/// silently invented.
///
/// ```
/// use tollgate_core::{ChatRequest, Tool};
///
/// let request = ChatRequest::new("gpt-4o-mini")
///     .system("You are terse.")
///     .user("What is the capital of France?")
///     .temperature(0.2)
///     .max_tokens(64)
///     .tool(Tool::new("lookup", serde_json::json!({"type": "object"})))
///     .tag("task", "qa");
/// assert_eq!(request.messages.len(), 2);
/// assert_eq!(request.metadata["task"], "qa");
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The model (or, behind a router, the route name) the caller asks for.
    pub model: String,
    /// The conversation so far.
    pub messages: Vec<Message>,
    /// Tools the model may call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Tool>,
    /// Whether and which tool the model must call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Whether the model may call several tools in one turn (`None`: provider default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// The shape the answer must take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling mass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Top-k sampling (Anthropic, Gemini; not OpenAI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    /// The most output tokens to produce, reasoning included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Sequences that end the answer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
    /// Seed for reproducible sampling where supported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Presence penalty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    /// Frequency penalty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    /// How hard a reasoning model should think.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<ReasoningEffort>,
    /// Whether the caller wants a stream of events rather than one complete answer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stream: bool,
    /// Free tags (`task`, `user`, tenant, …). Routers classify on them and telemetry
    /// records them; providers do not send them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// Provider-specific fields merged into the top level of the wire body untouched
    /// (a field here wins over the one the translator wrote).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
    /// Typed, in-process facts that layers pass down to the services they wrap (e.g. the
    /// router's [`AttemptContext`](crate::context::AttemptContext)). Never serialized,
    /// never sent to a provider.
    #[serde(skip)]
    pub extensions: http::Extensions,
}

impl ChatRequest {
    /// An empty request for `model`.
    pub fn new(model: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            ..Self::default()
        }
    }

    /// Appends a system message.
    pub fn system(mut self, text: impl Into<String>) -> Self {
        self.messages.push(Message::system(text));
        self
    }

    /// Appends a user message with one text part.
    pub fn user(mut self, text: impl Into<String>) -> Self {
        self.messages.push(Message::user(text));
        self
    }

    /// Appends a user message made of several parts (text and images).
    pub fn user_parts(mut self, parts: impl IntoIterator<Item = UserPart>) -> Self {
        self.messages.push(Message::User(UserMessage {
            content: parts.into_iter().collect(),
        }));
        self
    }

    /// Appends an assistant message with one text part.
    pub fn assistant(mut self, text: impl Into<String>) -> Self {
        self.messages.push(Message::assistant(text));
        self
    }

    /// Appends any message.
    pub fn message(mut self, message: impl Into<Message>) -> Self {
        self.messages.push(message.into());
        self
    }

    /// Adds a tool the model may call.
    pub fn tool(mut self, tool: Tool) -> Self {
        self.tools.push(tool);
        self
    }

    /// Sets the tool choice.
    pub fn tool_choice(mut self, choice: ToolChoice) -> Self {
        self.tool_choice = Some(choice);
        self
    }

    /// Sets the response format.
    pub fn response_format(mut self, format: ResponseFormat) -> Self {
        self.response_format = Some(format);
        self
    }

    /// Sets the temperature.
    pub fn temperature(mut self, value: f64) -> Self {
        self.temperature = Some(value);
        self
    }

    /// Sets top-p.
    pub fn top_p(mut self, value: f64) -> Self {
        self.top_p = Some(value);
        self
    }

    /// Sets the output token limit.
    pub fn max_tokens(mut self, value: u32) -> Self {
        self.max_tokens = Some(value);
        self
    }

    /// Adds a stop sequence.
    pub fn stop(mut self, sequence: impl Into<String>) -> Self {
        self.stop.push(sequence.into());
        self
    }

    /// Sets the seed.
    pub fn seed(mut self, value: i64) -> Self {
        self.seed = Some(value);
        self
    }

    /// Sets the reasoning effort.
    pub fn reasoning_effort(mut self, effort: ReasoningEffort) -> Self {
        self.reasoning_effort = Some(effort);
        self
    }

    /// Asks for a stream (`true`) or a complete answer (`false`).
    pub fn streaming(mut self, stream: bool) -> Self {
        self.stream = stream;
        self
    }

    /// Sets a metadata tag such as `task` or `user`.
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Adds a provider-specific top-level field to the wire body.
    pub fn extra(mut self, key: impl Into<String>, value: Value) -> Self {
        self.extra.insert(key.into(), value);
        self
    }

    /// A rough count of input tokens (about four bytes of text a token, a fixed charge per
    /// image and per message), used for routing decisions before any provider counts.
    /// It errs high rather than low so rate limits and context windows are respected.
    pub fn estimate_input_tokens(&self) -> u64 {
        const PER_MESSAGE: u64 = 4;
        const PER_IMAGE: u64 = 765;
        let mut bytes: u64 = 0;
        let mut fixed: u64 = 0;
        for message in &self.messages {
            fixed += PER_MESSAGE;
            match message {
                Message::System(m) => bytes += m.content.len() as u64,
                Message::User(m) => {
                    for part in &m.content {
                        match part {
                            UserPart::Text { text } => bytes += text.len() as u64,
                            UserPart::Image(_) => fixed += PER_IMAGE,
                        }
                    }
                }
                Message::Assistant(m) => {
                    for part in &m.content {
                        match part {
                            crate::AssistantPart::Text { text }
                            | crate::AssistantPart::Reasoning { text, .. } => {
                                bytes += text.len() as u64
                            }
                            // Stands for thinking the provider counts as input when it
                            // is echoed back; its encoded length errs high.
                            crate::AssistantPart::RedactedReasoning { data, .. } => {
                                bytes += data.len() as u64
                            }
                        }
                    }
                    for call in &m.tool_calls {
                        bytes += (call.name.len() + call.arguments.len()) as u64;
                    }
                }
                Message::Tool(m) => bytes += m.content.len() as u64,
            }
        }
        for tool in &self.tools {
            bytes += tool.name.len() as u64;
            bytes += tool.description.as_ref().map_or(0, |d| d.len()) as u64;
            bytes += tool.parameters.to_string().len() as u64;
        }
        bytes.div_ceil(4) + fixed
    }

    /// Whether any user message carries an image.
    pub fn has_images(&self) -> bool {
        self.messages.iter().any(|m| match m {
            Message::User(u) => u.content.iter().any(|p| matches!(p, UserPart::Image(_))),
            _ => false,
        })
    }
}

/// A tool (function) the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// The name the model calls it by.
    pub name: String,
    /// What it does, for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A JSON Schema (type `object`) for the arguments.
    pub parameters: Value,
    /// Ask the provider to enforce the schema exactly where it can (OpenAI `strict`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

impl Tool {
    /// A tool with a name and a parameters schema.
    pub fn new(name: impl Into<String>, parameters: Value) -> Self {
        Self {
            name: name.into(),
            description: None,
            parameters,
            strict: None,
        }
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }
}

/// Whether and which tool the model must call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolChoice {
    /// The model decides.
    Auto,
    /// The model must not call tools.
    None,
    /// The model must call at least one tool.
    Required,
    /// The model must call this tool.
    Tool {
        /// The tool's name.
        name: String,
    },
}

/// The shape the answer must take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    /// Free text (the default).
    Text,
    /// Any valid JSON object.
    JsonObject,
    /// JSON valid against a schema.
    JsonSchema {
        /// A name for the schema (`[A-Za-z0-9_-]`, at most 64 characters).
        name: String,
        /// What the schema is for, for the model.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        /// The JSON Schema.
        schema: Value,
        /// Ask for exact enforcement where the provider offers it.
        #[serde(default)]
        strict: bool,
    },
}

/// How hard a reasoning model should think.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasoningEffort {
    /// As little as the model allows.
    Minimal,
    /// Little.
    Low,
    /// The usual amount.
    Medium,
    /// A lot.
    High,
}

impl ReasoningEffort {
    /// The lowercase name (`minimal`, `low`, `medium`, `high`), as OpenAI spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Minimal => "minimal",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_json_form_is_stable() {
        let request = ChatRequest::new("m")
            .system("s")
            .user("u")
            .tool_choice(ToolChoice::Tool { name: "f".into() })
            .response_format(ResponseFormat::JsonObject)
            .tag("task", "t");
        insta::assert_json_snapshot!(request);
    }

    #[test]
    fn input_estimate_grows_with_text_and_images() {
        let short = ChatRequest::new("m").user("hi");
        let long = ChatRequest::new("m").user("x".repeat(4000));
        let image = ChatRequest::new("m").user_parts([UserPart::image_url("https://x/y.png")]);
        assert!(short.estimate_input_tokens() < 10);
        assert!(long.estimate_input_tokens() >= 1000);
        assert!(image.estimate_input_tokens() >= 765);
        assert!(image.has_images() && !short.has_images());
    }
}
