//! Reading an OpenAI Chat Completions request body into a [`ChatRequest`], once.
//!
//! The common shape (a model, text messages, sampling numbers) is read directly (the
//! private `read` module says how); anything else is deserialized by serde straight from the bytes (no
//! intermediate `serde_json::Value` for the known fields). A body serde refuses is read
//! again with the field path tracked, so a 400 names the field at fault
//! (`messages[2].tool_calls[0].function.name`).
//! Unknown top-level fields are kept in [`ChatRequest::extra`] and passed through to the
//! provider.
//!
//! | OpenAI field | `ChatRequest` |
//! | --- | --- |
//! | `model` | `model` (the route name) |
//! | `messages` (`system`, `developer`, `user`, `assistant`, `tool`) | `messages`; `developer` reads as `system`; text parts of system/tool messages are concatenated; an assistant `refusal` becomes text; `reasoning_content` becomes a reasoning part; a tool message's `name` comes from the assistant call it answers |
//! | `tools`, `tool_choice`, `parallel_tool_calls`, `response_format` | same |
//! | `temperature`, `top_p`, `top_k`, `seed`, `presence_penalty`, `frequency_penalty`, `reasoning_effort` | same |
//! | `max_completion_tokens`, `max_tokens` | `max_tokens` (`max_completion_tokens` wins when both are given) |
//! | `stop` (string or array) | `stop` |
//! | `stream`, `stream_options.include_usage` | `stream`; [`Decoded::include_usage`] |
//! | `n` | must be 1 (or absent) |
//! | `user` | `metadata["user"]` |
//! | `metadata` | `metadata` (tags) |
//! | anything else | `extra` (passed through untouched) |

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use tollgate_core::{
    AssistantMessage, AssistantPart, ChatRequest, Image, ImageSource, Message, ReasoningEffort,
    ResponseFormat, SystemMessage, Tool, ToolCall, ToolChoice, ToolMessage, UserMessage, UserPart,
};

use super::error::ApiError;

mod read;

/// A decoded request and the stream options that are the gateway's business, not the
/// provider's.
#[derive(Debug)]
pub struct Decoded {
    /// The request in core types.
    pub request: ChatRequest,
    /// `stream_options.include_usage`: end the stream with a usage chunk.
    pub include_usage: bool,
}

/// Reads a Chat Completions request body.
///
/// # Errors
///
/// A 400 [`ApiError`] naming the field path (`param`) for invalid JSON, a field of the
/// wrong type, a missing `model` or `messages`, `n` other than 1, or a message its role
/// cannot carry.
pub fn decode(body: &[u8]) -> Result<Decoded, ApiError> {
    // One UTF-8 check of the whole body is cheaper than serde_json's string by string.
    match std::str::from_utf8(body) {
        Ok(text) => match read::request(text) {
            Ok(wire) => wire.into_core(),
            Err(_declined) => deserialize(body, serde_json::Deserializer::from_str(text)),
        },
        Err(_) => deserialize(body, serde_json::Deserializer::from_slice(body)),
    }
}

fn deserialize<'de, R: serde_json::de::Read<'de>>(
    body: &[u8],
    mut de: serde_json::Deserializer<R>,
) -> Result<Decoded, ApiError> {
    // Tracking the field path costs on every field, so the body is read without it first;
    // only a body that fails is read again, with the path, to name the field at fault.
    let wire = match WireRequest::deserialize(&mut de) {
        Ok(wire) => wire,
        Err(plain) => return Err(decode_failure(body, plain)),
    };
    de.end().map_err(|err| {
        ApiError::invalid_request(
            format!("The request body has trailing characters: {err}."),
            None,
        )
    })?;
    wire.into_core()
}

/// The 400 for a body that did not deserialize: read again with the field path tracked.
fn decode_failure(body: &[u8], plain: serde_json::Error) -> ApiError {
    let mut de = serde_json::Deserializer::from_slice(body);
    let (path, inner) = match serde_path_to_error::deserialize::<_, WireRequest>(&mut de) {
        Err(err) => (err.path().to_string(), err.into_inner()),
        // Deserialization is deterministic, so this does not happen; without a path the
        // first error is still reported.
        Ok(_) => (String::new(), plain),
    };
    if inner.is_syntax() || inner.is_eof() {
        ApiError::invalid_request(
            format!("The request body is not valid JSON: {inner}."),
            None,
        )
    } else if path.is_empty() || path == "." {
        ApiError::invalid_request(
            format!("The request body is not a Chat Completions request object: {inner}."),
            None,
        )
    } else {
        ApiError::invalid_request(format!("Invalid value for `{path}`: {inner}."), Some(path))
    }
}

fn invalid(param: impl Into<String>, message: impl Into<String>) -> ApiError {
    ApiError::invalid_request(message, Some(param.into()))
}

/// The top level of a Chat Completions request.
#[cfg_attr(test, derive(Debug, PartialEq))]
#[derive(Default)]
struct WireRequest {
    model: Option<String>,
    messages: Option<Vec<WireMessage>>,
    tools: Option<Vec<WireTool>>,
    tool_choice: Option<WireToolChoice>,
    parallel_tool_calls: Option<bool>,
    response_format: Option<WireResponseFormat>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    top_k: Option<u32>,
    max_tokens: Option<u32>,
    max_completion_tokens: Option<u32>,
    stop: Option<Stop>,
    seed: Option<i64>,
    presence_penalty: Option<f64>,
    frequency_penalty: Option<f64>,
    reasoning_effort: Option<ReasoningEffort>,
    stream: Option<bool>,
    stream_options: Option<StreamOptions>,
    n: Option<u32>,
    user: Option<String>,
    metadata: Option<BTreeMap<String, String>>,
    extra: Map<String, Value>,
}

impl WireRequest {
    fn into_core(self) -> Result<Decoded, ApiError> {
        let model = match self.model {
            Some(model) if !model.is_empty() => model,
            _ => return Err(invalid("model", "The request must name a `model`.")),
        };
        let wire_messages = match self.messages {
            Some(messages) if !messages.is_empty() => messages,
            _ => {
                return Err(invalid(
                    "messages",
                    "The request must carry at least one message in `messages`.",
                ));
            }
        };
        if let Some(n) = self.n
            && n != 1
        {
            return Err(invalid(
                "n",
                format!("`n` must be 1: the gateway returns one choice per request (got {n})."),
            ));
        }
        let messages = convert_messages(wire_messages)?;
        let tools = match self.tools {
            Some(tools) => tools
                .into_iter()
                .enumerate()
                .map(|(i, tool)| tool.into_core(i))
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        let tool_choice = self
            .tool_choice
            .map(WireToolChoice::into_core)
            .transpose()?;
        let mut metadata = self.metadata.unwrap_or_default();
        if let Some(user) = self.user {
            metadata.insert("user".to_owned(), user);
        }
        let request = ChatRequest {
            model,
            messages,
            tools,
            tool_choice,
            parallel_tool_calls: self.parallel_tool_calls,
            response_format: self.response_format.map(WireResponseFormat::into_core),
            temperature: self.temperature,
            top_p: self.top_p,
            top_k: self.top_k,
            max_tokens: self.max_completion_tokens.or(self.max_tokens),
            stop: self.stop.map(|s| s.0).unwrap_or_default(),
            seed: self.seed,
            presence_penalty: self.presence_penalty,
            frequency_penalty: self.frequency_penalty,
            reasoning_effort: self.reasoning_effort,
            stream: self.stream.unwrap_or(false),
            metadata,
            extra: self.extra,
            extensions: http::Extensions::new(),
        };
        Ok(Decoded {
            request,
            include_usage: self
                .stream_options
                .and_then(|o| o.include_usage)
                .unwrap_or(false),
        })
    }
}

enum Field {
    Model,
    Messages,
    Tools,
    ToolChoice,
    ParallelToolCalls,
    ResponseFormat,
    Temperature,
    TopP,
    TopK,
    MaxTokens,
    MaxCompletionTokens,
    Stop,
    Seed,
    PresencePenalty,
    FrequencyPenalty,
    ReasoningEffort,
    Stream,
    StreamOptions,
    N,
    User,
    Metadata,
    Other(String),
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldVisitor;
        impl Visitor<'_> for FieldVisitor {
            type Value = Field;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Field, E> {
                Ok(match name {
                    "model" => Field::Model,
                    "messages" => Field::Messages,
                    "tools" => Field::Tools,
                    "tool_choice" => Field::ToolChoice,
                    "parallel_tool_calls" => Field::ParallelToolCalls,
                    "response_format" => Field::ResponseFormat,
                    "temperature" => Field::Temperature,
                    "top_p" => Field::TopP,
                    "top_k" => Field::TopK,
                    "max_tokens" => Field::MaxTokens,
                    "max_completion_tokens" => Field::MaxCompletionTokens,
                    "stop" => Field::Stop,
                    "seed" => Field::Seed,
                    "presence_penalty" => Field::PresencePenalty,
                    "frequency_penalty" => Field::FrequencyPenalty,
                    "reasoning_effort" => Field::ReasoningEffort,
                    "stream" => Field::Stream,
                    "stream_options" => Field::StreamOptions,
                    "n" => Field::N,
                    "user" => Field::User,
                    "metadata" => Field::Metadata,
                    other => Field::Other(other.to_owned()),
                })
            }
        }
        deserializer.deserialize_identifier(FieldVisitor)
    }
}

impl<'de> Deserialize<'de> for WireRequest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RequestVisitor;
        impl<'de> Visitor<'de> for RequestVisitor {
            type Value = WireRequest;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Chat Completions request object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WireRequest, A::Error> {
                let mut out = WireRequest::default();
                while let Some(field) = map.next_key::<Field>()? {
                    match field {
                        Field::Model => out.model = map.next_value()?,
                        Field::Messages => out.messages = map.next_value()?,
                        Field::Tools => out.tools = map.next_value()?,
                        Field::ToolChoice => out.tool_choice = map.next_value()?,
                        Field::ParallelToolCalls => out.parallel_tool_calls = map.next_value()?,
                        Field::ResponseFormat => out.response_format = map.next_value()?,
                        Field::Temperature => out.temperature = map.next_value()?,
                        Field::TopP => out.top_p = map.next_value()?,
                        Field::TopK => out.top_k = map.next_value()?,
                        Field::MaxTokens => out.max_tokens = map.next_value()?,
                        Field::MaxCompletionTokens => {
                            out.max_completion_tokens = map.next_value()?;
                        }
                        Field::Stop => out.stop = map.next_value()?,
                        Field::Seed => out.seed = map.next_value()?,
                        Field::PresencePenalty => out.presence_penalty = map.next_value()?,
                        Field::FrequencyPenalty => out.frequency_penalty = map.next_value()?,
                        Field::ReasoningEffort => out.reasoning_effort = map.next_value()?,
                        Field::Stream => out.stream = map.next_value()?,
                        Field::StreamOptions => out.stream_options = map.next_value()?,
                        Field::N => out.n = map.next_value()?,
                        Field::User => out.user = map.next_value()?,
                        Field::Metadata => out.metadata = map.next_value()?,
                        Field::Other(name) => {
                            let value: Value = map.next_value()?;
                            out.extra.insert(name, value);
                        }
                    }
                }
                Ok(out)
            }
        }
        deserializer.deserialize_map(RequestVisitor)
    }
}

#[cfg_attr(test, derive(Debug, PartialEq))]
#[derive(Deserialize)]
struct StreamOptions {
    #[serde(default)]
    include_usage: Option<bool>,
}

/// `stop`: a string or an array of strings.
#[cfg_attr(test, derive(Debug, PartialEq))]
struct Stop(Vec<String>);

impl<'de> Deserialize<'de> for Stop {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StopVisitor;
        impl<'de> Visitor<'de> for StopVisitor {
            type Value = Stop;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Stop, E> {
                Ok(Stop(vec![v.to_owned()]))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Stop, E> {
                Ok(Stop(vec![v]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Stop, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    out.push(item);
                }
                Ok(Stop(out))
            }
        }
        deserializer.deserialize_any(StopVisitor)
    }
}

#[cfg_attr(test, derive(Debug, PartialEq))]
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Role {
    System,
    Developer,
    User,
    Assistant,
    Tool,
    Function,
}

#[cfg_attr(test, derive(Debug, PartialEq))]
#[derive(Deserialize)]
struct WireMessage {
    role: Role,
    #[serde(default)]
    content: Option<Content>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<WireToolCall>>,
    #[serde(default)]
    tool_call_id: Option<String>,
    #[serde(default)]
    reasoning_content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
}

/// Message content: a string or an array of parts.
#[cfg_attr(test, derive(Debug, PartialEq))]
enum Content {
    Text(String),
    Parts(Vec<WirePart>),
}

impl<'de> Deserialize<'de> for Content {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ContentVisitor;
        impl<'de> Visitor<'de> for ContentVisitor {
            type Value = Content;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of content parts")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Content, E> {
                Ok(Content::Text(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Content, E> {
                Ok(Content::Text(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Content, A::Error> {
                let mut parts = Vec::with_capacity(seq.size_hint().unwrap_or(1));
                while let Some(part) = seq.next_element::<WirePart>()? {
                    parts.push(part);
                }
                Ok(Content::Parts(parts))
            }
        }
        deserializer.deserialize_any(ContentVisitor)
    }
}

#[cfg_attr(test, derive(Debug, PartialEq))]
#[derive(Deserialize)]
struct WirePart {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    image_url: Option<WireImageUrl>,
    #[serde(default)]
    refusal: Option<String>,
}

#[cfg_attr(test, derive(Debug, PartialEq))]
#[derive(Deserialize)]
#[serde(untagged)]
enum WireImageUrl {
    Object {
        url: String,
        #[serde(default)]
        detail: Option<String>,
    },
    Url(String),
}

#[cfg_attr(test, derive(Debug, PartialEq))]
#[derive(Deserialize)]
struct WireToolCall {
    id: String,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    function: WireFunctionCall,
}

#[cfg_attr(test, derive(Debug, PartialEq))]
#[derive(Deserialize)]
struct WireFunctionCall {
    name: String,
    #[serde(default)]
    arguments: Option<String>,
}

#[cfg_attr(test, derive(Debug, PartialEq))]
#[derive(Deserialize)]
struct WireTool {
    #[serde(rename = "type")]
    kind: String,
    function: Option<WireFunction>,
}

#[cfg_attr(test, derive(Debug, PartialEq))]
#[derive(Deserialize)]
struct WireFunction {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    parameters: Option<Value>,
    #[serde(default)]
    strict: Option<bool>,
}

impl WireTool {
    fn into_core(self, index: usize) -> Result<Tool, ApiError> {
        if self.kind != "function" {
            return Err(invalid(
                format!("tools[{index}].type"),
                format!(
                    "Unsupported tool type `{}`: only `function` tools are supported.",
                    self.kind
                ),
            ));
        }
        let Some(function) = self.function else {
            return Err(invalid(
                format!("tools[{index}].function"),
                "A function tool needs a `function` object.",
            ));
        };
        Ok(Tool {
            name: function.name,
            description: function.description,
            parameters: function
                .parameters
                .unwrap_or_else(|| serde_json::json!({"type": "object", "properties": {}})),
            strict: function.strict,
        })
    }
}

#[cfg_attr(test, derive(Debug, PartialEq))]
#[derive(Deserialize)]
#[serde(untagged)]
enum WireToolChoice {
    Mode(String),
    Named { function: NamedFunction },
}

#[cfg_attr(test, derive(Debug, PartialEq))]
#[derive(Deserialize)]
struct NamedFunction {
    name: String,
}

impl WireToolChoice {
    fn into_core(self) -> Result<ToolChoice, ApiError> {
        match self {
            Self::Mode(mode) => match mode.as_str() {
                "auto" => Ok(ToolChoice::Auto),
                "none" => Ok(ToolChoice::None),
                "required" => Ok(ToolChoice::Required),
                other => Err(invalid(
                    "tool_choice",
                    format!(
                        "Unknown `tool_choice` `{other}`: expected `auto`, `none`, `required` or {{\"type\":\"function\",\"function\":{{\"name\":…}}}}."
                    ),
                )),
            },
            Self::Named { function } => Ok(ToolChoice::Tool {
                name: function.name,
            }),
        }
    }
}

#[cfg_attr(test, derive(Debug, PartialEq))]
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireResponseFormat {
    Text,
    JsonObject,
    JsonSchema { json_schema: WireJsonSchema },
}

#[cfg_attr(test, derive(Debug, PartialEq))]
#[derive(Deserialize)]
struct WireJsonSchema {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    schema: Option<Value>,
    #[serde(default)]
    strict: Option<bool>,
}

impl WireResponseFormat {
    fn into_core(self) -> ResponseFormat {
        match self {
            Self::Text => ResponseFormat::Text,
            Self::JsonObject => ResponseFormat::JsonObject,
            Self::JsonSchema { json_schema } => ResponseFormat::JsonSchema {
                name: json_schema.name,
                description: json_schema.description,
                schema: json_schema
                    .schema
                    .unwrap_or_else(|| Value::Object(Map::new())),
                strict: json_schema.strict.unwrap_or(false),
            },
        }
    }
}

fn convert_messages(wire: Vec<WireMessage>) -> Result<Vec<Message>, ApiError> {
    // Tool messages carry only the call id; their tool name comes from the call.
    let mut names: HashMap<String, String> = HashMap::new();
    let mut out = Vec::with_capacity(wire.len());
    for (i, message) in wire.into_iter().enumerate() {
        let converted = match message.role {
            Role::System | Role::Developer => Message::System(SystemMessage {
                content: text_only(message.content, i)?,
            }),
            Role::User => Message::User(UserMessage {
                content: user_parts(message.content, i)?,
            }),
            Role::Assistant => {
                let assistant = assistant_message(message, i)?;
                for call in &assistant.tool_calls {
                    names.insert(call.id.clone(), call.name.clone());
                }
                Message::Assistant(assistant)
            }
            Role::Tool => {
                let Some(tool_call_id) = message.tool_call_id else {
                    return Err(invalid(
                        format!("messages[{i}].tool_call_id"),
                        "A tool message needs the `tool_call_id` of the call it answers.",
                    ));
                };
                let name = names
                    .get(&tool_call_id)
                    .cloned()
                    .or(message.name)
                    .unwrap_or_default();
                Message::Tool(ToolMessage {
                    content: text_only(message.content, i)?,
                    tool_call_id,
                    name,
                    is_error: false,
                })
            }
            Role::Function => {
                return Err(invalid(
                    format!("messages[{i}].role"),
                    "The deprecated `function` role is not supported: use `tool` messages.",
                ));
            }
        };
        out.push(converted);
    }
    Ok(out)
}

/// The text of a system or tool message: a string, or its text parts concatenated.
fn text_only(content: Option<Content>, i: usize) -> Result<String, ApiError> {
    match content {
        None => Ok(String::new()),
        Some(Content::Text(text)) => Ok(text),
        Some(Content::Parts(parts)) => {
            let mut out = String::new();
            for (j, part) in parts.into_iter().enumerate() {
                match (part.kind.as_str(), part.text) {
                    ("text", Some(text)) => out.push_str(&text),
                    (kind, _) => return Err(unsupported_part(i, j, kind)),
                }
            }
            Ok(out)
        }
    }
}

fn user_parts(content: Option<Content>, i: usize) -> Result<Vec<UserPart>, ApiError> {
    match content {
        None => Err(invalid(
            format!("messages[{i}].content"),
            "A user message needs `content`.",
        )),
        Some(Content::Text(text)) => Ok(vec![UserPart::Text { text }]),
        Some(Content::Parts(parts)) => parts
            .into_iter()
            .enumerate()
            .map(
                |(j, part)| match (part.kind.as_str(), part.text, part.image_url) {
                    ("text", Some(text), _) => Ok(UserPart::Text { text }),
                    ("image_url", _, Some(image)) => {
                        let (url, detail) = match image {
                            WireImageUrl::Object { url, detail } => (url, detail),
                            WireImageUrl::Url(url) => (url, None),
                        };
                        Ok(UserPart::Image(Image {
                            source: ImageSource::from_url(&url),
                            detail,
                        }))
                    }
                    (kind, _, _) => Err(unsupported_part(i, j, kind)),
                },
            )
            .collect(),
    }
}

fn assistant_message(message: WireMessage, i: usize) -> Result<AssistantMessage, ApiError> {
    let mut content = Vec::new();
    if let Some(reasoning) = message.reasoning_content
        && !reasoning.is_empty()
    {
        content.push(AssistantPart::Reasoning {
            text: reasoning,
            signature: None,
            signed_by: None,
        });
    }
    match message.content {
        None => {}
        Some(Content::Text(text)) if !text.is_empty() => {
            content.push(AssistantPart::Text { text });
        }
        Some(Content::Text(_)) => {}
        Some(Content::Parts(parts)) => {
            for (j, part) in parts.into_iter().enumerate() {
                match (part.kind.as_str(), part.text, part.refusal) {
                    ("text", Some(text), _) | ("refusal", _, Some(text)) => {
                        content.push(AssistantPart::Text { text });
                    }
                    (kind, _, _) => return Err(unsupported_part(i, j, kind)),
                }
            }
        }
    }
    if let Some(refusal) = message.refusal
        && !refusal.is_empty()
    {
        content.push(AssistantPart::Text { text: refusal });
    }
    let tool_calls = message
        .tool_calls
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(j, call)| {
            if let Some(kind) = call.kind.as_deref()
                && kind != "function"
            {
                return Err(invalid(
                    format!("messages[{i}].tool_calls[{j}].type"),
                    format!(
                        "Unsupported tool call type `{kind}`: only `function` calls are supported."
                    ),
                ));
            }
            Ok(ToolCall {
                id: call.id,
                name: call.function.name,
                arguments: call.function.arguments.unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(AssistantMessage {
        content,
        tool_calls,
    })
}

fn unsupported_part(i: usize, j: usize, kind: &str) -> ApiError {
    invalid(
        format!("messages[{i}].content[{j}]"),
        format!(
            "Unsupported or incomplete content part of type `{kind}` for this role: user messages take `text` and `image_url` parts, assistant messages `text` and `refusal`, system and tool messages `text`."
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decode_json(value: serde_json::Value) -> Result<Decoded, ApiError> {
        decode(&serde_json::to_vec(&value).unwrap())
    }

    #[test]
    fn a_full_request_decodes_into_core_types() {
        let decoded = decode_json(json!({
            "model": "fast",
            "messages": [
                {"role": "developer", "content": [{"type": "text", "text": "Be "}, {"type": "text", "text": "brief."}]},
                {"role": "user", "content": [
                    {"type": "text", "text": "What is in this image?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "low"}}
                ]},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{\"q\":1}"}},
                    {"id": "call_2", "type": "function", "function": {"name": "other", "arguments": ""}}
                ]},
                {"role": "tool", "tool_call_id": "call_1", "content": "{\"a\":1}"},
                {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "ok"}]}
            ],
            "tools": [{"type": "function", "function": {"name": "lookup", "description": "d", "parameters": {"type": "object"}, "strict": true}}],
            "tool_choice": {"type": "function", "function": {"name": "lookup"}},
            "parallel_tool_calls": false,
            "response_format": {"type": "json_schema", "json_schema": {"name": "out", "schema": {"type": "object"}, "strict": true}},
            "temperature": 0.5, "top_p": 0.9, "max_tokens": 10, "max_completion_tokens": 20,
            "stop": "END", "seed": 7, "presence_penalty": 0.1, "frequency_penalty": 0.2,
            "reasoning_effort": "low", "n": 1, "user": "u-1", "metadata": {"task": "qa"},
            "stream": true, "stream_options": {"include_usage": true},
            "logit_bias": {"50256": -100}
        }))
        .unwrap();
        assert!(decoded.include_usage);
        let r = decoded.request;
        assert_eq!(r.model, "fast");
        assert!(r.stream);
        assert_eq!(r.messages[0], Message::system("Be brief."));
        let Message::User(user) = &r.messages[1] else {
            panic!("user")
        };
        assert_eq!(
            user.content[1],
            UserPart::Image(Image {
                source: ImageSource::Base64 {
                    media_type: "image/png".into(),
                    data: "AAAA".into()
                },
                detail: Some("low".into())
            })
        );
        let Message::Assistant(assistant) = &r.messages[2] else {
            panic!("assistant")
        };
        assert!(assistant.content.is_empty());
        assert_eq!(
            assistant.tool_calls[0],
            ToolCall::new("call_1", "lookup", "{\"q\":1}")
        );
        let Message::Tool(tool) = &r.messages[3] else {
            panic!("tool")
        };
        assert_eq!(
            (tool.name.as_str(), tool.content.as_str()),
            ("lookup", "{\"a\":1}")
        );
        let Message::Tool(tool) = &r.messages[4] else {
            panic!("tool")
        };
        assert_eq!((tool.name.as_str(), tool.content.as_str()), ("other", "ok"));
        assert_eq!(r.tools[0].strict, Some(true));
        assert_eq!(
            r.tool_choice,
            Some(ToolChoice::Tool {
                name: "lookup".into()
            })
        );
        assert_eq!(r.parallel_tool_calls, Some(false));
        assert!(matches!(
            r.response_format,
            Some(ResponseFormat::JsonSchema { strict: true, .. })
        ));
        assert_eq!(r.max_tokens, Some(20), "max_completion_tokens wins");
        assert_eq!(r.stop, vec!["END".to_owned()]);
        assert_eq!(
            (r.seed, r.temperature, r.top_p),
            (Some(7), Some(0.5), Some(0.9))
        );
        assert_eq!(
            (r.presence_penalty, r.frequency_penalty),
            (Some(0.1), Some(0.2))
        );
        assert_eq!(r.reasoning_effort, Some(ReasoningEffort::Low));
        assert_eq!(r.metadata["user"], "u-1");
        assert_eq!(r.metadata["task"], "qa");
        assert_eq!(r.extra["logit_bias"], json!({"50256": -100}));
        assert_eq!(r.extra.len(), 1);
    }

    #[test]
    fn nulls_read_as_unset_and_stop_takes_arrays() {
        let r = decode_json(json!({
            "model": "m", "messages": [{"role": "user", "content": "hi"}],
            "temperature": null, "tools": null, "stop": ["a", "b"], "stream": null, "metadata": null
        }))
        .unwrap()
        .request;
        assert_eq!(r.temperature, None);
        assert!(r.tools.is_empty() && !r.stream);
        assert_eq!(r.stop, vec!["a".to_owned(), "b".to_owned()]);
    }

    #[test]
    fn errors_name_the_field_path() {
        let err = decode_json(json!({"model": "m", "messages": [{"role": "user", "content": "x"}, {"role": "robot"}]})).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("messages[1].role"));
        assert_eq!(err.status, 400);
        let err = decode_json(json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": "hot"})).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("temperature"));
        let err = decode_json(json!({"model": "m", "messages": [{"role": "assistant", "tool_calls": [{"id": "c", "function": {"arguments": "{}"}}]}]})).unwrap_err();
        assert_eq!(
            err.param.as_deref(),
            Some("messages[0].tool_calls[0].function")
        );
        assert!(err.message.contains("name"), "{}", err.message);
        let err = decode_json(json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "input_audio"}]}]})).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("messages[0].content[0]"));
    }

    #[test]
    fn the_gateway_refuses_what_it_cannot_serve() {
        let ok_messages = json!([{"role": "user", "content": "x"}]);
        let err = decode_json(json!({"messages": ok_messages})).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("model"));
        let err = decode_json(json!({"model": "m", "messages": []})).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("messages"));
        let err = decode_json(json!({"model": "m", "messages": ok_messages, "n": 2})).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("n"));
        let err =
            decode_json(json!({"model": "m", "messages": ok_messages, "tool_choice": "sometimes"}))
                .unwrap_err();
        assert_eq!(err.param.as_deref(), Some("tool_choice"));
        let err =
            decode_json(json!({"model": "m", "messages": [{"role": "tool", "content": "r"}]}))
                .unwrap_err();
        assert_eq!(err.param.as_deref(), Some("messages[0].tool_call_id"));
    }

    #[test]
    fn malformed_json_is_a_400_without_a_param() {
        let err = decode(b"{\"model\": ").unwrap_err();
        assert_eq!(err.status, 400);
        assert_eq!(err.param, None);
        let err = decode(b"[1,2]").unwrap_err();
        assert_eq!(err.status, 400);
        let err =
            decode(b"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]} x")
                .unwrap_err();
        assert!(err.message.contains("trailing"));
    }
}
