//! The Messages API's JSON, as serde types.
//!
//! Request types serialize exactly the fields Tollgate sends. Response types are
//! lenient: unknown fields are ignored, unknown content-block, delta and event types
//! read as an `Unknown`/`Other` value that the decoders skip, and counts or reasons that
//! are missing or `null` read as absent.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::Value;

// ---------------------------------------------------------------------------------------
// Request

/// The body of `POST /v1/messages`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessagesRequest {
    /// The model.
    pub model: String,
    /// The output limit (required by the API).
    pub max_tokens: u32,
    /// The system prompt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The conversation, alternating user and assistant turns, starting with a user turn.
    pub messages: Vec<RequestMessage>,
    /// Tools the model may call.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<RequestTool>,
    /// Whether and which tool the model must call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<RequestToolChoice>,
    /// Sampling temperature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling mass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Top-k sampling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    /// Sequences that end the answer.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stop_sequences: Vec<String>,
    /// The end user's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<RequestMetadata>,
    /// Extended thinking.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking: Option<Thinking>,
    /// Native structured output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_config: Option<OutputConfig>,
    /// Native structured output, in the earlier beta form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_format: Option<OutputFormat>,
    /// Whether to stream the answer as server-sent events.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stream: bool,
}

/// One turn of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestMessage {
    /// `user` or `assistant`.
    pub role: Role,
    /// The turn's blocks, in order.
    pub content: Vec<RequestBlock>,
}

/// Who wrote a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The end user (and tool results).
    User,
    /// The model.
    Assistant,
}

/// A content block of a request turn.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RequestBlock {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// An image.
    Image {
        /// Where its bytes come from.
        source: ImageSource,
    },
    /// A tool call made by the model in an earlier turn.
    ToolUse {
        /// The call's id.
        id: String,
        /// The tool's name.
        name: String,
        /// The arguments, a JSON object.
        input: Value,
    },
    /// The result of a tool call.
    ToolResult {
        /// The id of the `tool_use` block it answers.
        tool_use_id: String,
        /// The result text.
        content: String,
        /// Whether the tool failed.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        is_error: bool,
    },
    /// Signed reasoning from an earlier turn, echoed back unchanged.
    Thinking {
        /// The reasoning text.
        thinking: String,
        /// Anthropic's signature of it.
        signature: String,
    },
    /// Encrypted reasoning from an earlier turn, echoed back unchanged.
    RedactedThinking {
        /// The opaque data Anthropic sent.
        data: String,
    },
}

impl RequestBlock {
    /// A text block.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text { text: text.into() }
    }
}

/// Where an image's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ImageSource {
    /// Inline bytes.
    Base64 {
        /// The media type.
        media_type: String,
        /// The bytes, base64-encoded.
        data: String,
    },
    /// A URL Anthropic fetches.
    Url {
        /// The address.
        url: String,
    },
}

/// A tool definition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestTool {
    /// The name the model calls it by.
    pub name: String,
    /// What it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON Schema of its input (type `object`).
    pub input_schema: Value,
    /// Strict schema adherence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

/// `tool_choice`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestToolChoice {
    /// `auto`, `any`, `tool` or `none`.
    #[serde(rename = "type")]
    pub kind: ToolChoiceKind,
    /// The tool to call, for `tool`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// At most one tool call per turn (not sent with `none`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_parallel_tool_use: Option<bool>,
}

/// The kinds of `tool_choice`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolChoiceKind {
    /// The model decides.
    Auto,
    /// The model must call some tool.
    Any,
    /// The model must call the named tool.
    Tool,
    /// The model must not call tools.
    None,
}

/// `metadata`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestMetadata {
    /// An opaque id of the end user.
    pub user_id: String,
}

/// `thinking`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Thinking {
    /// Always `enabled` when sent.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Tokens the model may spend thinking (at least 1024, below `max_tokens`).
    pub budget_tokens: u32,
}

/// `output_config`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutputConfig {
    /// The answer's format.
    pub format: OutputFormat,
}

/// `output_config.format` (or the beta's top-level `output_format`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutputFormat {
    /// Always `json_schema`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The JSON Schema the answer must match.
    pub schema: Value,
}

// ---------------------------------------------------------------------------------------
// Response

/// A complete Messages response.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct MessagesResponse {
    /// `msg_…`.
    pub id: Option<String>,
    /// The model that answered (a dated snapshot).
    pub model: Option<String>,
    /// The answer's blocks.
    pub content: Vec<ResponseBlock>,
    /// Why the model stopped.
    pub stop_reason: Option<String>,
    /// The stop sequence matched, if any.
    pub stop_sequence: Option<String>,
    /// Token counts.
    pub usage: Option<WireUsage>,
}

/// A content block of a response.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseBlock {
    /// Text.
    Text {
        /// The text.
        #[serde(default)]
        text: String,
    },
    /// A tool call.
    ToolUse {
        /// The call's id.
        #[serde(default)]
        id: String,
        /// The tool's name.
        #[serde(default)]
        name: String,
        /// The arguments (a JSON object).
        #[serde(default)]
        input: Value,
    },
    /// Reasoning.
    Thinking {
        /// The reasoning text.
        #[serde(default)]
        thinking: String,
        /// Its signature.
        #[serde(default)]
        signature: Option<String>,
    },
    /// Reasoning Anthropic encrypted (its safety systems flagged it): opaque data that
    /// must be echoed back unchanged.
    RedactedThinking {
        /// The encrypted reasoning.
        #[serde(default)]
        data: String,
    },
    /// Any other block (server tool blocks, newer types): skipped.
    #[serde(other)]
    Other,
}

/// Token counts as Anthropic reports them (`input_tokens` excludes cache reads and writes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct WireUsage {
    /// Uncached input tokens.
    pub input_tokens: Option<u64>,
    /// Output tokens, thinking included.
    pub output_tokens: Option<u64>,
    /// Input tokens written to the cache.
    pub cache_creation_input_tokens: Option<u64>,
    /// Input tokens read from the cache.
    pub cache_read_input_tokens: Option<u64>,
    /// Breakdown of the output, when sent.
    pub output_tokens_details: Option<OutputTokensDetails>,
}

/// `usage.output_tokens_details`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct OutputTokensDetails {
    /// Output tokens spent thinking.
    pub thinking_tokens: Option<u64>,
}

impl WireUsage {
    /// Overwrites every count `later` carries (a stream's `message_delta` is cumulative
    /// but may omit the input counts `message_start` gave).
    pub fn update(&mut self, later: &WireUsage) {
        fn take(slot: &mut Option<u64>, value: Option<u64>) {
            if value.is_some() {
                *slot = value;
            }
        }
        take(&mut self.input_tokens, later.input_tokens);
        take(&mut self.output_tokens, later.output_tokens);
        take(
            &mut self.cache_creation_input_tokens,
            later.cache_creation_input_tokens,
        );
        take(
            &mut self.cache_read_input_tokens,
            later.cache_read_input_tokens,
        );
        if later.output_tokens_details.is_some() {
            self.output_tokens_details = later.output_tokens_details;
        }
    }
}

/// The error envelope: `{"type":"error","error":{"type","message"},"request_id"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ErrorEnvelope {
    /// The error.
    pub error: Option<ErrorBody>,
    /// The request id, when the body carries it.
    pub request_id: Option<String>,
}

/// `error` of an [`ErrorEnvelope`] or of a stream's `error` event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ErrorBody {
    /// `invalid_request_error`, `overloaded_error`, …
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The human-readable message.
    pub message: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Stream events (each parsed by the SSE `event:` name, or the `type` field without one)

/// Only the `type` of an event, for servers that omit the `event:` line.
#[derive(Debug, Deserialize)]
pub struct EventType<'a> {
    /// The event's type.
    #[serde(borrow, rename = "type", default)]
    pub kind: Cow<'a, str>,
}

/// `message_start`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MessageStart {
    /// The message, with empty content.
    pub message: MessagesResponse,
}

/// `content_block_start`.
#[derive(Debug, Deserialize)]
pub struct ContentBlockStart {
    /// The block's position among the message's blocks.
    pub index: u32,
    /// The block, empty.
    pub content_block: StartBlock,
}

/// The block announced by `content_block_start`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StartBlock {
    /// `text`, `tool_use`, `thinking`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The call id, for `tool_use`.
    pub id: Option<String>,
    /// The tool name, for `tool_use`.
    pub name: Option<String>,
    /// The initial input (`{}`), for `tool_use`.
    pub input: Option<Value>,
    /// Initial text (usually empty), for `text`.
    pub text: Option<String>,
    /// Initial reasoning (usually empty), for `thinking`.
    pub thinking: Option<String>,
    /// The whole encrypted reasoning, for `redacted_thinking` (it has no deltas).
    pub data: Option<String>,
}

/// `content_block_delta`, read in one pass without buffering (the stream's hot path).
#[derive(Debug, Deserialize)]
pub struct ContentBlockDelta<'a> {
    /// The block's position among the message's blocks.
    pub index: u32,
    /// The fragment.
    #[serde(borrow)]
    pub delta: Delta<'a>,
}

/// The fragment carried by a `content_block_delta`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Delta<'a> {
    /// `text_delta`, `input_json_delta`, `thinking_delta`, `signature_delta`, …
    #[serde(borrow, rename = "type")]
    pub kind: Cow<'a, str>,
    /// For `text_delta`.
    pub text: Option<String>,
    /// For `input_json_delta`.
    pub partial_json: Option<String>,
    /// For `thinking_delta`.
    pub thinking: Option<String>,
    /// For `signature_delta`.
    pub signature: Option<String>,
}

/// `content_block_stop`.
#[derive(Debug, Deserialize)]
pub struct ContentBlockStop {
    /// The block's position among the message's blocks.
    pub index: u32,
}

/// `message_delta`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MessageDelta {
    /// The stop reason.
    pub delta: MessageDeltaBody,
    /// Cumulative usage.
    pub usage: Option<WireUsage>,
}

/// `message_delta.delta`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MessageDeltaBody {
    /// Why the model stopped.
    pub stop_reason: Option<String>,
}

/// A stream's `error` event.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ErrorEvent {
    /// The error.
    pub error: ErrorBody,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_blocks_and_fields_are_tolerated() {
        let body = r#"{
            "id": "msg_1", "model": "m", "brand_new_field": {"x": 1},
            "content": [
                {"type": "text", "text": "hi", "citations": null},
                {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}},
                {"type": "redacted_thinking", "data": "abc"}
            ],
            "stop_reason": null,
            "usage": {"input_tokens": 1, "output_tokens": 2, "cache_read_input_tokens": null}
        }"#;
        let parsed: MessagesResponse = serde_json::from_str(body).unwrap();
        assert_eq!(parsed.content.len(), 3);
        assert_eq!(parsed.content[1], ResponseBlock::Other);
        assert_eq!(
            parsed.content[2],
            ResponseBlock::RedactedThinking { data: "abc".into() }
        );
        assert_eq!(parsed.stop_reason, None);
        assert_eq!(parsed.usage.unwrap().cache_read_input_tokens, None);
    }

    #[test]
    fn later_usage_keeps_counts_it_does_not_carry() {
        let mut usage = WireUsage {
            input_tokens: Some(10),
            cache_read_input_tokens: Some(5),
            output_tokens: Some(1),
            ..WireUsage::default()
        };
        usage.update(&WireUsage {
            output_tokens: Some(42),
            ..WireUsage::default()
        });
        assert_eq!(usage.input_tokens, Some(10));
        assert_eq!(usage.cache_read_input_tokens, Some(5));
        assert_eq!(usage.output_tokens, Some(42));
    }

    #[test]
    fn deltas_parse_in_one_pass_and_keep_unknown_kinds() {
        let delta: ContentBlockDelta<'_> = serde_json::from_str(
            r#"{"type":"content_block_delta","index":2,"delta":{"type":"citations_delta","citation":{}}}"#,
        )
        .unwrap();
        assert_eq!(delta.index, 2);
        assert_eq!(delta.delta.kind, "citations_delta");
    }
}
