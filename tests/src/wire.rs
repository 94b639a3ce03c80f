//! A provider-neutral reading of recorded request bodies.
//!
//! Each provider puts the same conversation in a different shape: OpenAI keeps system and
//! tool messages in `messages`, Anthropic lifts the system prompt to `system` and puts tool
//! results in user turns, Gemini uses `systemInstruction`, `contents` with role `model` and
//! `functionCall` / `functionResponse` parts. [`WireRequest::parse`] reads any of them into
//! one shape, so a conformance case asserts once what every provider must have sent.
//!
//! Reading is strict about structure it relies on (a missing `messages` array is an error)
//! and records what it does not interpret nowhere: it is a test oracle, not a decoder.

use std::fmt;

use serde_json::{Map, Value};
use tollgate_testkit::{Flavor, RecordedRequest};

/// Who a turn is from, after tool results have been folded into user turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireRole {
    /// The user (and, normalised, tool results).
    User,
    /// The model.
    Assistant,
}

/// An image as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireImage {
    /// A URL the provider fetches.
    Url(String),
    /// Inline bytes.
    Base64 {
        /// The media type.
        media_type: String,
        /// The base64 data.
        data: String,
    },
}

/// A tool call as sent in an assistant turn.
#[derive(Debug, Clone, PartialEq)]
pub struct WireCall {
    /// The id (`None` where the wire carries none, as Gemini may).
    pub id: Option<String>,
    /// The tool name.
    pub name: String,
    /// The arguments, parsed (OpenAI sends JSON text, the others an object).
    pub arguments: Value,
}

/// A tool result as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct WireResult {
    /// The id of the call it answers (`None` where the wire carries none).
    pub id: Option<String>,
    /// The tool name, where the wire carries one (Gemini).
    pub name: Option<String>,
    /// The content: JSON text parsed when it is JSON, else the text as a JSON string;
    /// Gemini's `response` object as it is.
    pub content: Value,
}

/// One part of a turn.
#[derive(Debug, Clone, PartialEq)]
pub enum WirePart {
    /// Text.
    Text(String),
    /// An image.
    Image(WireImage),
    /// An assistant tool call.
    Call(WireCall),
    /// A tool result.
    Result(WireResult),
    /// Reasoning sent back (Anthropic `thinking`, Gemini `thought: true` parts).
    Thinking {
        /// The reasoning text.
        text: String,
    },
}

/// One turn of the conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct WireTurn {
    /// Who it is from.
    pub role: WireRole,
    /// Its parts, in wire order.
    pub parts: Vec<WirePart>,
    /// Opaque reasoning signatures carried by the turn (Anthropic `thinking.signature`,
    /// Gemini `thoughtSignature` on any part).
    pub signatures: Vec<String>,
}

impl WireTurn {
    /// The turn's text parts joined.
    pub fn text(&self) -> String {
        self.parts
            .iter()
            .filter_map(|p| match p {
                WirePart::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }
}

/// A request body read into one shape.
#[derive(Debug, Clone, PartialEq)]
pub struct WireRequest {
    /// The system prompt from where this provider wants it (OpenAI: `system` messages;
    /// Anthropic: `system`; Gemini: `systemInstruction`), joined with `"\n\n"`.
    pub system: Option<String>,
    /// The conversation, consecutive turns of one role merged (OpenAI `tool` messages read
    /// as user turns), system messages excluded.
    pub turns: Vec<WireTurn>,
    /// Whether a stream was asked for (`stream: true`, or Gemini's `streamGenerateContent`).
    pub stream: bool,
    /// The whole body, for provider-specific checks.
    pub body: Value,
}

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError(String);

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unreadable request body: {}", self.0)
    }
}

impl std::error::Error for WireError {}

fn err<T>(message: impl Into<String>) -> Result<T, WireError> {
    Err(WireError(message.into()))
}

impl WireRequest {
    /// Reads a request a fake server of `flavor` recorded.
    ///
    /// # Errors
    ///
    /// When the body is not the JSON shape of that flavour.
    pub fn parse(flavor: Flavor, request: &RecordedRequest) -> Result<Self, WireError> {
        let body = request.json();
        let Value::Object(map) = &body else {
            return err("the body is not a JSON object");
        };
        let (system, turns, stream) = match flavor {
            Flavor::OpenAi => {
                let (system, turns) = openai(map)?;
                (system, turns, map.get("stream") == Some(&Value::Bool(true)))
            }
            Flavor::Anthropic => {
                let (system, turns) = anthropic(map)?;
                (system, turns, map.get("stream") == Some(&Value::Bool(true)))
            }
            Flavor::Gemini => {
                let (system, turns) = gemini(map)?;
                (
                    system,
                    turns,
                    request.path_only().ends_with(":streamGenerateContent"),
                )
            }
        };
        Ok(Self {
            system,
            turns: merged(turns),
            stream,
            body,
        })
    }

    /// Every tool call of every assistant turn, in order.
    pub fn calls(&self) -> Vec<&WireCall> {
        self.parts()
            .filter_map(|p| match p {
                WirePart::Call(c) => Some(c),
                _ => None,
            })
            .collect()
    }

    /// Every tool result, in order.
    pub fn results(&self) -> Vec<&WireResult> {
        self.parts()
            .filter_map(|p| match p {
                WirePart::Result(r) => Some(r),
                _ => None,
            })
            .collect()
    }

    /// Every image, in order.
    pub fn images(&self) -> Vec<&WireImage> {
        self.parts()
            .filter_map(|p| match p {
                WirePart::Image(i) => Some(i),
                _ => None,
            })
            .collect()
    }

    /// Every reasoning signature sent back, in order.
    pub fn signatures(&self) -> Vec<&str> {
        self.turns
            .iter()
            .flat_map(|t| t.signatures.iter().map(String::as_str))
            .collect()
    }

    /// `(role, text)` of every turn.
    pub fn texts(&self) -> Vec<(WireRole, String)> {
        self.turns.iter().map(|t| (t.role, t.text())).collect()
    }

    fn parts(&self) -> impl Iterator<Item = &WirePart> {
        self.turns.iter().flat_map(|t| t.parts.iter())
    }
}

/// Merges consecutive turns of one role, as Anthropic and Gemini require and as OpenAI's
/// separate `tool` messages read.
fn merged(turns: Vec<WireTurn>) -> Vec<WireTurn> {
    let mut out: Vec<WireTurn> = Vec::with_capacity(turns.len());
    for turn in turns {
        match out.last_mut() {
            Some(last) if last.role == turn.role => {
                last.parts.extend(turn.parts);
                last.signatures.extend(turn.signatures);
            }
            _ => out.push(turn),
        }
    }
    out
}

fn field<'a>(map: &'a Map<String, Value>, name: &str) -> Result<&'a Value, WireError> {
    map.get(name)
        .ok_or_else(|| WireError(format!("missing `{name}`")))
}

fn array<'a>(value: &'a Value, what: &str) -> Result<&'a Vec<Value>, WireError> {
    value
        .as_array()
        .ok_or_else(|| WireError(format!("`{what}` is not an array")))
}

fn string(value: Option<&Value>, what: &str) -> Result<String, WireError> {
    value
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| WireError(format!("`{what}` is not a string")))
}

/// JSON text parsed, or the text itself as a JSON string.
fn json_text(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

fn openai(map: &Map<String, Value>) -> Result<(Option<String>, Vec<WireTurn>), WireError> {
    let mut system: Vec<String> = Vec::new();
    let mut turns = Vec::new();
    for message in array(field(map, "messages")?, "messages")? {
        let role = message.get("role").and_then(Value::as_str).unwrap_or("");
        match role {
            "system" | "developer" => system.push(openai_text(message.get("content"))?),
            "user" => {
                let mut parts = Vec::new();
                match message.get("content") {
                    Some(Value::String(text)) => parts.push(WirePart::Text(text.clone())),
                    Some(Value::Array(items)) => {
                        for item in items {
                            match item.get("type").and_then(Value::as_str) {
                                Some("text") => parts.push(WirePart::Text(string(
                                    item.get("text"),
                                    "content[].text",
                                )?)),
                                Some("image_url") => {
                                    let url = string(
                                        item.pointer("/image_url/url"),
                                        "content[].image_url.url",
                                    )?;
                                    parts.push(WirePart::Image(image_from_url(&url)));
                                }
                                other => return err(format!("user content part {other:?}")),
                            }
                        }
                    }
                    other => return err(format!("user content {other:?}")),
                }
                turns.push(turn(WireRole::User, parts));
            }
            "assistant" => {
                let mut parts = Vec::new();
                match message.get("content") {
                    None | Some(Value::Null) => {}
                    content => {
                        let text = openai_text(content)?;
                        if !text.is_empty() {
                            parts.push(WirePart::Text(text));
                        }
                    }
                }
                if let Some(calls) = message.get("tool_calls") {
                    for call in array(calls, "tool_calls")? {
                        let arguments = string(
                            call.pointer("/function/arguments"),
                            "tool_calls[].function.arguments",
                        )?;
                        parts.push(WirePart::Call(WireCall {
                            id: call.get("id").and_then(Value::as_str).map(str::to_owned),
                            name: string(
                                call.pointer("/function/name"),
                                "tool_calls[].function.name",
                            )?,
                            arguments: json_text(&arguments),
                        }));
                    }
                }
                turns.push(turn(WireRole::Assistant, parts));
            }
            "tool" => {
                let content = openai_text(message.get("content"))?;
                turns.push(turn(
                    WireRole::User,
                    vec![WirePart::Result(WireResult {
                        id: message
                            .get("tool_call_id")
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                        name: None,
                        content: json_text(&content),
                    })],
                ));
            }
            other => return err(format!("message role {other:?}")),
        }
    }
    let system = (!system.is_empty()).then(|| system.join("\n\n"));
    Ok((system, turns))
}

/// OpenAI content that must be text: a string or an array of text parts.
fn openai_text(content: Option<&Value>) -> Result<String, WireError> {
    match content {
        Some(Value::String(text)) => Ok(text.clone()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| string(item.get("text"), "content[].text"))
            .collect(),
        other => err(format!("text content {other:?}")),
    }
}

fn image_from_url(url: &str) -> WireImage {
    if let Some(rest) = url.strip_prefix("data:")
        && let Some((media_type, data)) = rest.split_once(";base64,")
    {
        return WireImage::Base64 {
            media_type: media_type.to_owned(),
            data: data.to_owned(),
        };
    }
    WireImage::Url(url.to_owned())
}

fn turn(role: WireRole, parts: Vec<WirePart>) -> WireTurn {
    WireTurn {
        role,
        parts,
        signatures: Vec::new(),
    }
}

fn anthropic(map: &Map<String, Value>) -> Result<(Option<String>, Vec<WireTurn>), WireError> {
    let system = match map.get("system") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(Value::Array(blocks)) => Some(
            blocks
                .iter()
                .map(|b| string(b.get("text"), "system[].text"))
                .collect::<Result<Vec<_>, _>>()?
                .join("\n\n"),
        ),
        Some(other) => return err(format!("system {other}")),
    };
    let mut turns = Vec::new();
    for message in array(field(map, "messages")?, "messages")? {
        let role = match message.get("role").and_then(Value::as_str) {
            Some("user") => WireRole::User,
            Some("assistant") => WireRole::Assistant,
            other => return err(format!("message role {other:?}")),
        };
        let mut out = turn(role, Vec::new());
        match message.get("content") {
            Some(Value::String(text)) => out.parts.push(WirePart::Text(text.clone())),
            Some(Value::Array(blocks)) => {
                for block in blocks {
                    anthropic_block(block, &mut out)?;
                }
            }
            other => return err(format!("message content {other:?}")),
        }
        turns.push(out);
    }
    Ok((system, turns))
}

fn anthropic_block(block: &Value, out: &mut WireTurn) -> Result<(), WireError> {
    match block.get("type").and_then(Value::as_str) {
        Some("text") => out
            .parts
            .push(WirePart::Text(string(block.get("text"), "text.text")?)),
        Some("image") => {
            let source = block.get("source").unwrap_or(&Value::Null);
            let image = match source.get("type").and_then(Value::as_str) {
                Some("url") => WireImage::Url(string(source.get("url"), "source.url")?),
                Some("base64") => WireImage::Base64 {
                    media_type: string(source.get("media_type"), "source.media_type")?,
                    data: string(source.get("data"), "source.data")?,
                },
                other => return err(format!("image source {other:?}")),
            };
            out.parts.push(WirePart::Image(image));
        }
        Some("tool_use") => out.parts.push(WirePart::Call(WireCall {
            id: Some(string(block.get("id"), "tool_use.id")?),
            name: string(block.get("name"), "tool_use.name")?,
            arguments: block.get("input").cloned().unwrap_or(Value::Null),
        })),
        Some("tool_result") => {
            let content = match block.get("content") {
                Some(Value::String(text)) => json_text(text),
                Some(Value::Array(items)) => json_text(
                    &items
                        .iter()
                        .map(|i| string(i.get("text"), "tool_result.content[].text"))
                        .collect::<Result<String, _>>()?,
                ),
                None => Value::Null,
                Some(other) => return err(format!("tool_result content {other}")),
            };
            out.parts.push(WirePart::Result(WireResult {
                id: Some(string(block.get("tool_use_id"), "tool_result.tool_use_id")?),
                name: None,
                content,
            }));
        }
        Some("thinking") => {
            out.parts.push(WirePart::Thinking {
                text: string(block.get("thinking"), "thinking.thinking")?,
            });
            out.signatures
                .push(string(block.get("signature"), "thinking.signature")?);
        }
        other => return err(format!("content block {other:?}")),
    }
    Ok(())
}

fn gemini(map: &Map<String, Value>) -> Result<(Option<String>, Vec<WireTurn>), WireError> {
    let system = match map.get("systemInstruction") {
        None | Some(Value::Null) => None,
        Some(instruction) => Some(
            array(
                instruction.get("parts").unwrap_or(&Value::Null),
                "systemInstruction.parts",
            )?
            .iter()
            .map(|p| string(p.get("text"), "systemInstruction.parts[].text"))
            .collect::<Result<Vec<_>, _>>()?
            .join("\n\n"),
        ),
    };
    let mut turns = Vec::new();
    for content in array(field(map, "contents")?, "contents")? {
        let role = match content.get("role").and_then(Value::as_str) {
            Some("user") | None => WireRole::User,
            Some("model") => WireRole::Assistant,
            other => return err(format!("content role {other:?}")),
        };
        let mut out = turn(role, Vec::new());
        for part in array(
            content.get("parts").unwrap_or(&Value::Null),
            "contents[].parts",
        )? {
            gemini_part(part, &mut out)?;
        }
        turns.push(out);
    }
    Ok((system, turns))
}

fn gemini_part(part: &Value, out: &mut WireTurn) -> Result<(), WireError> {
    if let Some(signature) = part.get("thoughtSignature").and_then(Value::as_str) {
        out.signatures.push(signature.to_owned());
    }
    let id = |v: &Value| v.get("id").and_then(Value::as_str).map(str::to_owned);
    if let Some(text) = part.get("text").and_then(Value::as_str) {
        if part.get("thought") == Some(&Value::Bool(true)) {
            out.parts.push(WirePart::Thinking {
                text: text.to_owned(),
            });
        } else if !text.is_empty() {
            out.parts.push(WirePart::Text(text.to_owned()));
        }
    } else if let Some(inline) = part.get("inlineData") {
        out.parts.push(WirePart::Image(WireImage::Base64 {
            media_type: string(inline.get("mimeType"), "inlineData.mimeType")?,
            data: string(inline.get("data"), "inlineData.data")?,
        }));
    } else if let Some(file) = part.get("fileData") {
        out.parts.push(WirePart::Image(WireImage::Url(string(
            file.get("fileUri"),
            "fileData.fileUri",
        )?)));
    } else if let Some(call) = part.get("functionCall") {
        out.parts.push(WirePart::Call(WireCall {
            id: id(call),
            name: string(call.get("name"), "functionCall.name")?,
            arguments: call.get("args").cloned().unwrap_or(Value::Null),
        }));
    } else if let Some(response) = part.get("functionResponse") {
        out.parts.push(WirePart::Result(WireResult {
            id: id(response),
            name: response
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_owned),
            content: response.get("response").cloned().unwrap_or(Value::Null),
        }));
    } else {
        return err(format!("Gemini part {part}"));
    }
    Ok(())
}
