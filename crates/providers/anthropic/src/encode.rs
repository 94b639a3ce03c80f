//! [`ChatRequest`] → the Messages API's request body.
//!
//! The translation rules (also summarised in the crate docs):
//!
//! - **System prompt**: every system message, wherever it stands, is lifted into the
//!   top-level `system` string; several are joined with a blank line (`"\n\n"`) in order.
//! - **Alternation**: consecutive turns of the same role are merged into one (their
//!   blocks concatenated in order). Tool results become `tool_result` blocks of a user
//!   turn, merged with adjacent tool results and user turns; inside a user turn the
//!   `tool_result` blocks are moved (stably) before any text or image, as the API
//!   requires.
//! - **First turn**: the API requires the conversation to start with a user turn. When it
//!   starts with an assistant turn (a chat UI's greeting), a minimal user turn holding
//!   [`LEADING_USER_TEXT`] (`"."`) is inserted before it. A request with no user,
//!   assistant or tool message at all is an [`ErrorKind::InvalidRequest`].
//! - **Empty text** parts are not sent (the API rejects empty text blocks).
//! - **Tool-call ids** of assistant tool calls and tool results are rewritten with
//!   [`TOOL_ID_RULE`] (`[a-zA-Z0-9_-]`, at most 64 characters), so a conversation begun
//!   on another provider continues here; ids Anthropic issued are kept unchanged.
//! - **Tool-call arguments** (JSON text) become the `input` object; empty text reads as
//!   `{}`; invalid JSON or a non-object is an [`ErrorKind::InvalidRequest`] naming the
//!   call.
//! - **Reasoning** parts with a signature are echoed back as `thinking` blocks; parts
//!   without one are dropped (Anthropic rejects unsigned thinking). **Redacted
//!   reasoning** parts are echoed back as `redacted_thinking` blocks with their data
//!   unchanged. Both keep their place among the turn's text blocks, and both are dropped
//!   when another provider produced them (`signed_by`): only Anthropic's own (or those of
//!   unknown origin) come back.
//! - **max_tokens** is always sent: the request's value, else the configured default
//!   ([`DEFAULT_MAX_TOKENS`](crate::config::DEFAULT_MAX_TOKENS), 4096).
//! - **reasoning_effort** becomes `thinking: {type: "enabled", budget_tokens}` with the
//!   budget from [`thinking_budget`]; when `max_tokens` is not above the budget it is
//!   raised to budget + `max_tokens`, so the answer keeps its allowance.
//! - **Structured output**: see [`StructuredOutputMode`].
//! - **Not sent**: `seed`, `presence_penalty`, `frequency_penalty` (Anthropic has none);
//!   metadata tags other than `user` (which becomes `metadata.user_id`); `tool_choice`
//!   when the request has no tools; image `detail`.
//! - **extra** fields are merged last, replacing what the translator wrote.

use serde_json::{Map, Value};
use tollgate_core::tool_ids::ToolIdRule;
use tollgate_core::{
    AssistantMessage, AssistantPart, ChatRequest, Error, ErrorKind, ImageSource, Message,
    ReasoningEffort, ResponseFormat, ToolChoice, UserPart,
};

use crate::PROVIDER;
use crate::config::{AnthropicConfig, STRUCTURED_OUTPUTS_BETA, StructuredOutputMode};
use crate::wire::{
    self, MessagesRequest, OutputConfig, OutputFormat, RequestBlock, RequestMessage,
    RequestMetadata, RequestTool, RequestToolChoice, Role, Thinking, ToolChoiceKind,
};

/// The ids Anthropic accepts for `tool_use` blocks (`^[a-zA-Z0-9_-]+$`); 64 characters
/// keeps rewritten ids short and is what other providers issue at most.
pub const TOOL_ID_RULE: ToolIdRule = ToolIdRule::Charset { max_len: 64 };

/// The text of the user turn inserted before a conversation that starts with an
/// assistant turn.
pub const LEADING_USER_TEXT: &str = ".";

/// The name of the forced tool that carries a [`ResponseFormat::JsonObject`] answer.
pub const JSON_OBJECT_TOOL: &str = "json_object";

/// A request ready to send: its body as a JSON tree ([`encode`], for inspection) or as
/// the bytes sent ([`encode_bytes`]).
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedRequest<B = Value> {
    /// The JSON body, `extra` merged.
    pub body: B,
    /// The name of the synthetic tool carrying a structured answer, when structured
    /// output goes through a forced tool; the decoders turn its input back into text.
    pub answer_tool: Option<String>,
    /// Betas this request needs in `anthropic-beta`, besides the configured ones.
    pub betas: Vec<&'static str>,
}

/// The `budget_tokens` of `thinking` for each reasoning effort:
///
/// | effort | budget_tokens |
/// | --- | --- |
/// | minimal | 1024 (the API's minimum) |
/// | low | 4096 |
/// | medium | 10000 |
/// | high | 32000 |
pub fn thinking_budget(effort: ReasoningEffort) -> u32 {
    match effort {
        ReasoningEffort::Minimal => 1024,
        ReasoningEffort::Low => 4096,
        ReasoningEffort::Medium => 10_000,
        ReasoningEffort::High => 32_000,
    }
}

/// How the request's response format is carried.
enum Structured {
    None,
    Native(Value),
    NativeBeta(Value),
    Tool {
        name: String,
        description: String,
        schema: Value,
    },
}

/// Translates a request into the body of `POST /v1/messages`.
///
/// # Errors
///
/// [`ErrorKind::InvalidRequest`] for a conversation without messages or an assistant
/// tool call whose arguments are not a JSON object; [`ErrorKind::Unsupported`] for
/// structured output through a forced tool combined with `reasoning_effort` (Anthropic
/// forbids forced tool use while thinking).
pub fn encode(request: &ChatRequest, config: &AnthropicConfig) -> Result<EncodedRequest, Error> {
    let (wire, answer_tool, betas) = translate(request, config)?;
    let mut body = serde_json::to_value(&wire).map_err(unserializable)?;
    tollgate_http::merge_extra(&mut body, &request.extra);
    Ok(EncodedRequest {
        body,
        answer_tool,
        betas,
    })
}

/// What [`encode`] produces, with the body as the bytes the client sends: written
/// straight from the wire types (`extra` merged), without the JSON tree `encode` builds.
///
/// # Errors
///
/// As [`encode`].
pub fn encode_bytes(
    request: &ChatRequest,
    config: &AnthropicConfig,
) -> Result<EncodedRequest<Vec<u8>>, Error> {
    let (wire, answer_tool, betas) = translate(request, config)?;
    let body = tollgate_http::json_body(&wire, &request.extra).map_err(unserializable)?;
    Ok(EncodedRequest {
        body,
        answer_tool,
        betas,
    })
}

fn unserializable(e: serde_json::Error) -> Error {
    invalid(
        ErrorKind::InvalidRequest,
        format!("the request could not be serialized: {e}"),
    )
}

/// The wire request, the answer tool and the betas a request needs.
type Translated = (MessagesRequest, Option<String>, Vec<&'static str>);

fn translate(request: &ChatRequest, config: &AnthropicConfig) -> Result<Translated, Error> {
    let (system, messages) = encode_messages(&request.messages)?;

    let structured = match &request.response_format {
        None | Some(ResponseFormat::Text) => Structured::None,
        Some(ResponseFormat::JsonObject) => Structured::Tool {
            name: JSON_OBJECT_TOOL.to_owned(),
            description: "Respond with your answer as a JSON object: the input of this tool."
                .to_owned(),
            schema: serde_json::json!({"type": "object"}),
        },
        Some(ResponseFormat::JsonSchema {
            name,
            description,
            schema,
            ..
        }) => {
            if config.structured_output == StructuredOutputMode::NativeBeta {
                Structured::NativeBeta(schema.clone())
            } else if config.structured_output.uses_native(&request.model) {
                Structured::Native(schema.clone())
            } else {
                Structured::Tool {
                    name: tool_name(name),
                    description: description.clone().unwrap_or_else(|| {
                        "Respond with your answer as the input of this tool.".to_owned()
                    }),
                    schema: schema.clone(),
                }
            }
        }
    };
    if matches!(structured, Structured::Tool { .. }) && request.reasoning_effort.is_some() {
        return Err(invalid(
            ErrorKind::Unsupported,
            "structured output through a forced tool cannot be combined with \
             reasoning_effort: Anthropic forbids forced tool use while thinking; use a model \
             with native structured output or drop reasoning_effort",
        ));
    }

    let mut tools: Vec<RequestTool> = request
        .tools
        .iter()
        .map(|tool| RequestTool {
            name: tool.name.clone(),
            description: tool.description.clone(),
            input_schema: object_schema(&tool.parameters),
            strict: tool.strict,
        })
        .collect();

    let disable_parallel = request.parallel_tool_calls == Some(false);
    let mut tool_choice = match (&request.tool_choice, tools.is_empty()) {
        (_, true) => None,
        (None, false) => disable_parallel
            .then_some(ToolChoiceKind::Auto)
            .map(|k| (k, None)),
        (Some(ToolChoice::Auto), false) => Some((ToolChoiceKind::Auto, None)),
        (Some(ToolChoice::Required), false) => Some((ToolChoiceKind::Any, None)),
        (Some(ToolChoice::None), false) => Some((ToolChoiceKind::None, None)),
        (Some(ToolChoice::Tool { name }), false) => Some((ToolChoiceKind::Tool, Some(name))),
    }
    .map(|(kind, name)| RequestToolChoice {
        kind,
        name: name.cloned(),
        disable_parallel_tool_use: (disable_parallel && kind != ToolChoiceKind::None)
            .then_some(true),
    });

    let mut output_config = None;
    let mut output_format = None;
    let mut answer_tool = None;
    let mut betas = Vec::new();
    match structured {
        Structured::None => {}
        Structured::NativeBeta(schema) => {
            output_format = Some(OutputFormat {
                kind: "json_schema",
                schema,
            });
            betas.push(STRUCTURED_OUTPUTS_BETA);
        }
        Structured::Native(schema) => {
            output_config = Some(OutputConfig {
                format: OutputFormat {
                    kind: "json_schema",
                    schema,
                },
            });
        }
        Structured::Tool {
            name,
            description,
            schema,
        } => {
            let caller_tools = !tools.is_empty();
            tool_choice = match &request.tool_choice {
                // The caller asked for one of its own tools: keep that.
                Some(ToolChoice::Tool { .. }) if caller_tools => tool_choice,
                // The caller's tools stay callable; the answer tool is one more choice.
                Some(ToolChoice::Auto | ToolChoice::Required) | None if caller_tools => {
                    Some(RequestToolChoice {
                        kind: ToolChoiceKind::Any,
                        name: None,
                        disable_parallel_tool_use: disable_parallel.then_some(true),
                    })
                }
                // No tools of the caller's (or none allowed): force the answer tool.
                _ => Some(RequestToolChoice {
                    kind: ToolChoiceKind::Tool,
                    name: Some(name.clone()),
                    disable_parallel_tool_use: Some(true),
                }),
            };
            tools.push(RequestTool {
                name: name.clone(),
                description: Some(description),
                input_schema: schema,
                strict: None,
            });
            answer_tool = Some(name);
        }
    }

    let mut max_tokens = request.max_tokens.unwrap_or(config.default_max_tokens);
    let thinking = request.reasoning_effort.map(|effort| {
        let budget = thinking_budget(effort);
        if max_tokens <= budget {
            max_tokens = budget.saturating_add(max_tokens);
        }
        Thinking {
            kind: "enabled",
            budget_tokens: budget,
        }
    });

    let wire = MessagesRequest {
        model: request.model.clone(),
        max_tokens,
        system,
        messages,
        tools,
        tool_choice,
        temperature: request.temperature,
        top_p: request.top_p,
        top_k: request.top_k,
        stop_sequences: request.stop.clone(),
        metadata: request.metadata.get("user").map(|user| RequestMetadata {
            user_id: user.clone(),
        }),
        thinking,
        output_config,
        output_format,
        stream: request.stream,
    };
    Ok((wire, answer_tool, betas))
}

/// The system prompt and the alternating turns of a conversation.
fn encode_messages(messages: &[Message]) -> Result<(Option<String>, Vec<RequestMessage>), Error> {
    let mut system: Option<String> = None;
    let mut turns: Vec<RequestMessage> = Vec::with_capacity(messages.len());
    for (position, message) in messages.iter().enumerate() {
        match message {
            Message::System(s) => match &mut system {
                Some(text) => {
                    text.push_str("\n\n");
                    text.push_str(&s.content);
                }
                None => system = Some(s.content.clone()),
            },
            Message::User(user) => {
                let blocks = user.content.iter().filter_map(user_block).collect();
                push_turn(&mut turns, Role::User, blocks);
            }
            Message::Assistant(assistant) => {
                let blocks = assistant_blocks(assistant, position)?;
                push_turn(&mut turns, Role::Assistant, blocks);
            }
            Message::Tool(tool) => {
                let block = RequestBlock::ToolResult {
                    tool_use_id: TOOL_ID_RULE.rewrite(&tool.tool_call_id),
                    content: tool.content.clone(),
                    is_error: tool.is_error,
                };
                push_turn(&mut turns, Role::User, vec![block]);
            }
        }
    }
    if turns.is_empty() {
        return Err(invalid(
            ErrorKind::InvalidRequest,
            "the conversation has no user, assistant or tool message",
        ));
    }
    if turns.first().is_some_and(|t| t.role == Role::Assistant) {
        turns.insert(
            0,
            RequestMessage {
                role: Role::User,
                content: vec![RequestBlock::text(LEADING_USER_TEXT)],
            },
        );
    }
    for turn in &mut turns {
        if turn.role == Role::User {
            // Stable: tool results first, everything else after, each in its order.
            turn.content
                .sort_by_key(|b| !matches!(b, RequestBlock::ToolResult { .. }));
        }
    }
    Ok((system, turns))
}

fn push_turn(turns: &mut Vec<RequestMessage>, role: Role, blocks: Vec<RequestBlock>) {
    if blocks.is_empty() {
        return;
    }
    match turns.last_mut() {
        Some(last) if last.role == role => last.content.extend(blocks),
        _ => turns.push(RequestMessage {
            role,
            content: blocks,
        }),
    }
}

fn user_block(part: &UserPart) -> Option<RequestBlock> {
    match part {
        UserPart::Text { text } if text.is_empty() => None,
        UserPart::Text { text } => Some(RequestBlock::text(text.clone())),
        UserPart::Image(image) => {
            let source = match &image.source {
                ImageSource::Url { url } => match ImageSource::from_url(url) {
                    ImageSource::Base64 { media_type, data } => {
                        wire::ImageSource::Base64 { media_type, data }
                    }
                    ImageSource::Url { url } => wire::ImageSource::Url { url },
                },
                ImageSource::Base64 { media_type, data } => wire::ImageSource::Base64 {
                    media_type: media_type.clone(),
                    data: data.clone(),
                },
            };
            Some(RequestBlock::Image { source })
        }
    }
}

fn assistant_blocks(
    assistant: &AssistantMessage,
    position: usize,
) -> Result<Vec<RequestBlock>, Error> {
    let mut blocks = Vec::with_capacity(assistant.content.len() + assistant.tool_calls.len());
    for part in &assistant.content {
        match part {
            AssistantPart::Text { text } if text.is_empty() => {}
            AssistantPart::Text { text } => blocks.push(RequestBlock::text(text.clone())),
            // Only signatures Anthropic issued may come back (a Gemini thought signature
            // would be rejected); unsigned or foreign reasoning is dropped.
            AssistantPart::Reasoning { text, .. } => {
                if let Some(signature) = part
                    .signature_for(crate::PROVIDER)
                    .filter(|s| !s.is_empty())
                {
                    blocks.push(RequestBlock::Thinking {
                        thinking: text.clone(),
                        signature: signature.to_owned(),
                    });
                }
            }
            // Anthropic requires every thinking block of the turn back, redacted ones
            // included, in their order; another provider's encrypted data is dropped.
            AssistantPart::RedactedReasoning { data, .. } => {
                if !data.is_empty() && part.may_send_to(crate::PROVIDER) {
                    blocks.push(RequestBlock::RedactedThinking { data: data.clone() });
                }
            }
        }
    }
    for call in &assistant.tool_calls {
        let input = match call.arguments_json() {
            Ok(Value::Object(map)) => Value::Object(map),
            Ok(Value::Null) => Value::Object(Map::new()),
            Ok(other) => {
                return Err(invalid(
                    ErrorKind::InvalidRequest,
                    format!(
                        "messages[{position}]: the arguments of tool call `{}` ({}) are {}, \
                         not a JSON object",
                        call.id,
                        call.name,
                        json_type(&other)
                    ),
                ));
            }
            Err(e) => {
                return Err(invalid(
                    ErrorKind::InvalidRequest,
                    format!(
                        "messages[{position}]: the arguments of tool call `{}` ({}) are not \
                         valid JSON: {e}",
                        call.id, call.name
                    ),
                ));
            }
        };
        blocks.push(RequestBlock::ToolUse {
            id: TOOL_ID_RULE.rewrite(&call.id),
            name: call.name.clone(),
            input,
        });
    }
    Ok(blocks)
}

/// A tool's parameters as an `input_schema` (which must be an object schema): a missing
/// schema reads as an object without properties.
fn object_schema(parameters: &Value) -> Value {
    match parameters {
        Value::Null => serde_json::json!({"type": "object", "properties": {}}),
        other => other.clone(),
    }
}

/// A schema name as a tool name (`[a-zA-Z0-9_-]`, at most 64 characters).
fn tool_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if cleaned.is_empty() {
        "json_response".to_owned()
    } else {
        cleaned
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn invalid(kind: ErrorKind, message: impl Into<String>) -> Error {
    Error::new(kind, message).with_provider(PROVIDER)
}
