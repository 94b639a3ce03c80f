//! [`ChatRequest`] → the `generateContent` JSON body.
//!
//! The mapping, and every choice it makes, is documented in the crate docs.

use std::collections::HashMap;

use serde_json::{Map, Value};
use tollgate_core::{
    AssistantMessage, AssistantPart, ChatRequest, Error, ErrorKind, ImageSource, Message,
    ReasoningEffort, ResponseFormat, ToolChoice, ToolMessage, UserPart,
};

use crate::wire::{
    Blob, Content, FileData, FunctionCall, FunctionCallingConfig, FunctionDeclaration,
    FunctionResponse, GenerateContentRequest, GenerationConfig, Part, ThinkingConfig, ToolConfig,
    ToolDeclarations,
};

/// Builds the wire body for `request`, `extra` merged last at the top level.
///
/// # Errors
///
/// [`ErrorKind::InvalidRequest`] when the conversation has no user or model turn, or a tool
/// result's function name can be neither read nor recovered.
pub fn encode(request: &ChatRequest) -> Result<Value, Error> {
    let wire = encode_wire(request)?;
    let mut body = serde_json::to_value(&wire)
        .map_err(|e| invalid(format!("the request could not be serialised: {e}")))?;
    tollgate_http::merge_extra(&mut body, &request.extra);
    Ok(body)
}

/// The same body as [`encode`], as the bytes sent: serialized straight from the typed
/// request unless `extra` fields must be merged.
///
/// # Errors
///
/// As [`encode`].
pub fn encode_bytes(request: &ChatRequest) -> Result<Vec<u8>, Error> {
    let wire = encode_wire(request)?;
    tollgate_http::json_body(&wire, &request.extra)
        .map_err(|e| invalid(format!("the request could not be serialised: {e}")))
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidRequest, message).with_provider(crate::PROVIDER)
}

/// The typed wire request, before `extra` is merged.
pub(crate) fn encode_wire(request: &ChatRequest) -> Result<GenerateContentRequest, Error> {
    let names = call_names(&request.messages);
    let mut system = Vec::new();
    let mut contents: Vec<Content> = Vec::new();
    for message in &request.messages {
        match message {
            Message::System(m) => system.push(Part::text(m.content.clone())),
            Message::User(m) => {
                let parts = m.content.iter().map(user_part).collect();
                push_turn(&mut contents, "user", parts);
            }
            Message::Assistant(m) => push_turn(&mut contents, "model", model_parts(m)),
            Message::Tool(m) => {
                let part = function_response(m, &names)?;
                push_turn(&mut contents, "user", vec![part]);
            }
        }
    }
    if contents.is_empty() {
        return Err(invalid(
            "a Gemini request needs at least one user or assistant message",
        ));
    }
    Ok(GenerateContentRequest {
        contents,
        system_instruction: (!system.is_empty()).then_some(Content {
            role: None,
            parts: system,
        }),
        tools: tools(request),
        tool_config: tool_config(request),
        generation_config: generation_config(request),
    })
}

/// Appends parts as a turn of `role`, merging into the previous turn when it has the same
/// role (Gemini expects alternating turns; parallel tool results must share one turn).
fn push_turn(contents: &mut Vec<Content>, role: &str, parts: Vec<Part>) {
    if parts.is_empty() {
        return;
    }
    if let Some(last) = contents.last_mut()
        && last.role.as_deref() == Some(role)
    {
        last.parts.extend(parts);
        return;
    }
    contents.push(Content {
        role: Some(role.to_owned()),
        parts,
    });
}

/// Tool-call id → function name, over every assistant turn of the conversation.
fn call_names(messages: &[Message]) -> HashMap<&str, &str> {
    let mut names = HashMap::new();
    for message in messages {
        if let Message::Assistant(m) = message {
            for call in &m.tool_calls {
                names.insert(call.id.as_str(), call.name.as_str());
            }
        }
    }
    names
}

fn user_part(part: &UserPart) -> Part {
    match part {
        UserPart::Text { text } => Part::text(text.clone()),
        UserPart::Image(image) => match &image.source {
            ImageSource::Base64 { media_type, data } => inline(media_type, data),
            ImageSource::Url { url } => match ImageSource::from_url(url) {
                ImageSource::Base64 { media_type, data } => inline(&media_type, &data),
                ImageSource::Url { url } => Part {
                    file_data: Some(FileData {
                        mime_type: guess_mime_type(&url).map(str::to_owned),
                        file_uri: url,
                    }),
                    ..Part::default()
                },
            },
        },
    }
}

fn inline(media_type: &str, data: &str) -> Part {
    Part {
        inline_data: Some(Blob {
            mime_type: media_type.to_owned(),
            data: data.to_owned(),
        }),
        ..Part::default()
    }
}

/// The media type a URL's extension names (path only; query and fragment ignored), for the
/// image and document types Gemini reads.
pub(crate) fn guess_mime_type(url: &str) -> Option<&'static str> {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let file = path.rsplit('/').next().unwrap_or_default();
    let (_, extension) = file.rsplit_once('.')?;
    Some(match extension.to_ascii_lowercase().as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "heic" => "image/heic",
        "heif" => "image/heif",
        "pdf" => "application/pdf",
        _ => return None,
    })
}

/// The parts of a model turn, thought signatures placed where Gemini expects them.
///
/// - reasoning with text → a `thought: true` text part, carrying its signature;
/// - a signature-only reasoning part (a signature Gemini sent on a non-thought part) →
///   the signature of the text part just before it, else a `{"text": "", thoughtSignature}`
///   part;
/// - when the turn has tool calls, the *last* signature of the turn goes on the first
///   `functionCall` part instead (Gemini 2.5/3 sign the first call of a step and Gemini 3
///   rejects a replayed call without it);
/// - reasoning another provider signed (an Anthropic thinking block) is left out whole:
///   its signature means nothing here and its text is not a Gemini thought;
/// - redacted reasoning (Anthropic's encrypted `redacted_thinking`) is always left out:
///   Gemini has no form for it, and another provider's opaque data is never sent.
fn model_parts(message: &AssistantMessage) -> Vec<Part> {
    let own: Vec<&AssistantPart> = message
        .content
        .iter()
        .filter(|part| !part.is_foreign_reasoning(crate::PROVIDER))
        .collect();
    let call_signature_at = if message.tool_calls.is_empty() {
        None
    } else {
        own.iter().rposition(|p| {
            matches!(
                p,
                AssistantPart::Reasoning {
                    signature: Some(_),
                    ..
                }
            )
        })
    };
    let mut parts: Vec<Part> = Vec::with_capacity(message.content.len() + message.tool_calls.len());
    let mut call_signature = None;
    for (i, part) in own.into_iter().enumerate() {
        match part {
            AssistantPart::Text { text } => {
                if !text.is_empty() {
                    parts.push(Part::text(text.clone()));
                }
            }
            AssistantPart::Reasoning {
                text, signature, ..
            } => {
                let signature = if Some(i) == call_signature_at {
                    call_signature = signature.clone();
                    None
                } else {
                    signature.clone()
                };
                if !text.is_empty() {
                    parts.push(Part {
                        text: Some(text.clone()),
                        thought: Some(true),
                        thought_signature: signature,
                        ..Part::default()
                    });
                } else if let Some(signature) = signature {
                    match parts.last_mut() {
                        Some(last)
                            if last.text.is_some()
                                && last.thought.is_none()
                                && last.thought_signature.is_none() =>
                        {
                            last.thought_signature = Some(signature);
                        }
                        _ => parts.push(Part {
                            text: Some(String::new()),
                            thought_signature: Some(signature),
                            ..Part::default()
                        }),
                    }
                }
            }
            AssistantPart::RedactedReasoning { .. } => {}
        }
    }
    for (i, call) in message.tool_calls.iter().enumerate() {
        parts.push(Part {
            function_call: Some(FunctionCall {
                id: (!call.id.is_empty()).then(|| call.id.clone()),
                name: call.name.clone(),
                args: Some(arguments_object(&call.arguments)),
            }),
            thought_signature: if i == 0 { call_signature.take() } else { None },
            ..Part::default()
        });
    }
    parts
}

/// A tool call's JSON-text arguments as the object Gemini needs: `""` → `{}`, a JSON
/// object as it is, other JSON → `{"value": <json>}`, text that is not JSON →
/// `{"raw": "<text>"}`.
fn arguments_object(arguments: &str) -> Value {
    if arguments.trim().is_empty() {
        return Value::Object(Map::new());
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(Value::Object(map)) => Value::Object(map),
        Ok(other) => single("value", other),
        Err(_) => single("raw", Value::String(arguments.to_owned())),
    }
}

fn single(key: &str, value: Value) -> Value {
    let mut map = Map::new();
    map.insert(key.to_owned(), value);
    Value::Object(map)
}

/// A tool result as a `functionResponse` part: its name from the message or, when empty,
/// from the assistant call with the same id; its content as a JSON object, or wrapped as
/// `{"result": …}` (`{"error": …}` when the tool failed).
fn function_response(message: &ToolMessage, names: &HashMap<&str, &str>) -> Result<Part, Error> {
    let name = if message.name.is_empty() {
        names
            .get(message.tool_call_id.as_str())
            .map(|n| (*n).to_owned())
            .filter(|n| !n.is_empty())
            .ok_or_else(|| {
                invalid(format!(
                    "the tool result for call `{}` has no name and no assistant tool call \
                     with that id names it (Gemini needs the function name)",
                    message.tool_call_id
                ))
            })?
    } else {
        message.name.clone()
    };
    let key = if message.is_error { "error" } else { "result" };
    let response = match serde_json::from_str::<Value>(&message.content) {
        Ok(Value::Object(map)) => Value::Object(map),
        Ok(other) => single(key, other),
        Err(_) => single(key, Value::String(message.content.clone())),
    };
    Ok(Part {
        function_response: Some(FunctionResponse {
            id: (!message.tool_call_id.is_empty()).then(|| message.tool_call_id.clone()),
            name,
            response,
        }),
        ..Part::default()
    })
}

fn tools(request: &ChatRequest) -> Vec<ToolDeclarations> {
    if request.tools.is_empty() {
        return Vec::new();
    }
    let function_declarations = request
        .tools
        .iter()
        .map(|tool| FunctionDeclaration {
            name: tool.name.clone(),
            description: tool.description.clone(),
            parameters: parameters_schema(&tool.parameters),
        })
        .collect();
    vec![ToolDeclarations {
        function_declarations,
    }]
}

fn tool_config(request: &ChatRequest) -> Option<ToolConfig> {
    if request.tools.is_empty() {
        return None;
    }
    let (mode, allowed_function_names) = match request.tool_choice.as_ref()? {
        ToolChoice::Auto => ("AUTO", Vec::new()),
        ToolChoice::None => ("NONE", Vec::new()),
        ToolChoice::Required => ("ANY", Vec::new()),
        ToolChoice::Tool { name } => ("ANY", vec![name.clone()]),
    };
    Some(ToolConfig {
        function_calling_config: FunctionCallingConfig {
            mode,
            allowed_function_names,
        },
    })
}

fn generation_config(request: &ChatRequest) -> Option<GenerationConfig> {
    let (response_mime_type, response_json_schema) = match &request.response_format {
        None | Some(ResponseFormat::Text) => (None, None),
        Some(ResponseFormat::JsonObject) => (Some("application/json"), None),
        Some(ResponseFormat::JsonSchema { schema, .. }) => {
            (Some("application/json"), Some(schema.clone()))
        }
    };
    let config = GenerationConfig {
        temperature: request.temperature,
        top_p: request.top_p,
        top_k: request.top_k,
        max_output_tokens: request.max_tokens,
        stop_sequences: request.stop.clone(),
        seed: request.seed,
        presence_penalty: request.presence_penalty,
        frequency_penalty: request.frequency_penalty,
        response_mime_type,
        response_json_schema,
        thinking_config: request
            .reasoning_effort
            .map(|effort| thinking_config(&request.model, effort)),
    };
    (config != GenerationConfig::default()).then_some(config)
}

/// Gemini 3 models take a `thinkingLevel`; earlier ones (2.5) a `thinkingBudget`.
fn thinking_config(model: &str, effort: ReasoningEffort) -> ThinkingConfig {
    if model.contains("gemini-3") {
        let level = match effort {
            ReasoningEffort::Minimal => "MINIMAL",
            ReasoningEffort::Low => "LOW",
            ReasoningEffort::Medium => "MEDIUM",
            ReasoningEffort::High => "HIGH",
        };
        return ThinkingConfig {
            thinking_budget: None,
            thinking_level: Some(level),
            include_thoughts: Some(true),
        };
    }
    let budget = match effort {
        // 2.5 Pro cannot turn thinking off; 128 is its smallest budget.
        ReasoningEffort::Minimal if model.contains("pro") => 128,
        ReasoningEffort::Minimal => 0,
        ReasoningEffort::Low => 1024,
        ReasoningEffort::Medium => 8192,
        ReasoningEffort::High => 24576,
    };
    ThinkingConfig {
        thinking_budget: Some(budget),
        thinking_level: None,
        include_thoughts: Some(budget > 0),
    }
}

/// The keywords of Gemini's OpenAPI-subset `Schema` that are sent; every other keyword is
/// dropped.
const SCHEMA_KEYWORDS: &[&str] = &[
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "default",
    "items",
    "minimum",
    "maximum",
];

/// How deep `$ref`s are expanded before a (recursive) reference is cut to `{"type":"object"}`.
const MAX_REF_DEPTH: usize = 8;

/// A tool's JSON Schema converted to Gemini's `Schema` subset; `None` for a function
/// without parameters (an object schema with no properties, which Gemini rejects).
pub(crate) fn parameters_schema(schema: &Value) -> Option<Value> {
    let converted = gemini_schema(schema);
    let no_properties = converted
        .get("properties")
        .and_then(Value::as_object)
        .is_none_or(Map::is_empty);
    let is_object = converted
        .get("type")
        .and_then(Value::as_str)
        .is_none_or(|t| t.eq_ignore_ascii_case("object"));
    if is_object && no_properties && converted.get("anyOf").is_none() {
        return None;
    }
    Some(converted)
}

/// JSON Schema → Gemini `Schema` (see the crate docs for the exact rules).
pub(crate) fn gemini_schema(schema: &Value) -> Value {
    let definitions = definitions(schema);
    convert(schema, &definitions, &mut Vec::new())
}

fn definitions(root: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    for key in ["$defs", "definitions"] {
        if let Some(defs) = root.get(key).and_then(Value::as_object) {
            for (name, schema) in defs {
                out.insert(format!("#/{key}/{name}"), schema.clone());
            }
        }
    }
    out
}

fn convert(node: &Value, defs: &Map<String, Value>, refs: &mut Vec<String>) -> Value {
    let Some(object) = node.as_object() else {
        // `true` / `{}`-like schemas: anything goes; Gemini has no such type.
        return Value::Object(Map::new());
    };
    let mut object = object.clone();

    // `$ref` → the definition inlined, sibling keywords winning.
    if let Some(reference) = object
        .remove("$ref")
        .and_then(|r| r.as_str().map(str::to_owned))
    {
        let target = defs.get(&reference);
        let resolved = match target {
            Some(target) if !refs.contains(&reference) && refs.len() < MAX_REF_DEPTH => {
                refs.push(reference);
                let resolved = convert(target, defs, refs);
                refs.pop();
                resolved
            }
            _ => serde_json::json!({"type": "object"}),
        };
        if let Value::Object(mut resolved) = resolved {
            for (key, value) in object {
                resolved.insert(key, value);
            }
            object = resolved;
        }
    }

    // `allOf` → its members merged into the node.
    if let Some(Value::Array(all)) = object.remove("allOf") {
        for member in &all {
            if let Value::Object(member) = convert(member, defs, refs) {
                merge_schema(&mut object, member);
            }
        }
    }

    // `oneOf` is read as `anyOf`; a `null` alternative becomes `nullable`.
    let alternatives = match (object.remove("anyOf"), object.remove("oneOf")) {
        (Some(Value::Array(a)), _) | (None, Some(Value::Array(a))) => Some(a),
        _ => None,
    };
    if let Some(alternatives) = alternatives {
        let mut kept = Vec::new();
        for alternative in &alternatives {
            if alternative.get("type").and_then(Value::as_str) == Some("null") {
                object.insert("nullable".into(), Value::Bool(true));
            } else {
                kept.push(convert(alternative, defs, refs));
            }
        }
        if kept.len() == 1 {
            if let Some(Value::Object(only)) = kept.pop() {
                merge_schema(&mut object, only);
            }
        } else if !kept.is_empty() {
            object.insert("anyOf".into(), Value::Array(kept));
        }
    }

    // `type: ["string", "null"]` → `type: "string", nullable: true`.
    if let Some(Value::Array(types)) = object.get("type").cloned() {
        let mut rest: Vec<Value> = types
            .into_iter()
            .filter(|t| {
                let null = t.as_str() == Some("null");
                if null {
                    object.insert("nullable".into(), Value::Bool(true));
                }
                !null
            })
            .collect();
        object.remove("type");
        match rest.len() {
            0 => {}
            1 => {
                if let Some(t) = rest.pop() {
                    object.insert("type".into(), t);
                }
            }
            _ => {
                let any_of = rest.into_iter().map(|t| single("type", t)).collect();
                object.insert("anyOf".into(), Value::Array(any_of));
            }
        }
    }

    // `const` → a one-value `enum`.
    if let Some(constant) = object.remove("const")
        && !object.contains_key("enum")
    {
        object.insert("enum".into(), Value::Array(vec![constant]));
    }
    if object.contains_key("enum") && !object.contains_key("type") {
        object.insert("type".into(), Value::String("string".into()));
    }

    // `format` only where Gemini accepts it.
    if let Some(format) = object.get("format").and_then(Value::as_str) {
        let kind = object
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_ascii_lowercase();
        let accepted = matches!(
            (kind.as_str(), format),
            ("string", "enum" | "date-time")
                | ("number", "float" | "double")
                | ("integer", "int32" | "int64")
        );
        if !accepted {
            object.remove("format");
        }
    }

    let mut out = Map::new();
    for (key, value) in object {
        if !SCHEMA_KEYWORDS.contains(&key.as_str()) {
            continue;
        }
        let value = match key.as_str() {
            "properties" => match value {
                Value::Object(properties) => Value::Object(
                    properties
                        .iter()
                        .map(|(name, schema)| (name.clone(), convert(schema, defs, refs)))
                        .collect(),
                ),
                _ => continue,
            },
            "items" => match &value {
                Value::Array(tuple) => match tuple.first() {
                    Some(first) => convert(first, defs, refs),
                    None => continue,
                },
                other => convert(other, defs, refs),
            },
            // Already converted above.
            "anyOf" => value,
            _ => value,
        };
        out.insert(key, value);
    }
    // `required` may only name declared properties.
    if let Some(Value::Array(required)) = out.get("required") {
        let declared = out.get("properties").and_then(Value::as_object);
        let kept: Vec<Value> = required
            .iter()
            .filter(|name| {
                name.as_str()
                    .is_some_and(|n| declared.is_some_and(|d| d.contains_key(n)))
            })
            .cloned()
            .collect();
        if kept.is_empty() {
            out.remove("required");
        } else {
            out.insert("required".into(), Value::Array(kept));
        }
    }
    Value::Object(out)
}

/// Merges `from` into `into`: properties and required lists are unioned, other keywords
/// already in `into` win.
fn merge_schema(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (key, value) in from {
        match (key.as_str(), into.get_mut(&key), value) {
            ("properties", Some(Value::Object(existing)), Value::Object(more)) => {
                for (name, schema) in more {
                    existing.entry(name).or_insert(schema);
                }
            }
            ("required", Some(Value::Array(existing)), Value::Array(more)) => {
                for name in more {
                    if !existing.contains(&name) {
                        existing.push(name);
                    }
                }
            }
            (_, Some(_), _) => {}
            (_, None, value) => {
                into.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use tollgate_core::{Tool, ToolCall};

    use super::*;

    #[test]
    fn the_bytes_sent_are_the_encoded_body_with_or_without_extra() {
        let plain = ChatRequest::new("gemini-2.5-flash")
            .system("s")
            .user("u")
            .temperature(0.2);
        let with_extra = plain
            .clone()
            .extra("generationConfig", json!({"temperature": 0.9}));
        for request in [plain, with_extra] {
            let sent: Value = serde_json::from_slice(&encode_bytes(&request).unwrap()).unwrap();
            assert_eq!(sent, encode(&request).unwrap());
        }
    }

    #[test]
    fn mime_types_are_guessed_from_the_path_only() {
        assert_eq!(guess_mime_type("https://x/a.PNG?sig=1"), Some("image/png"));
        assert_eq!(guess_mime_type("gs://b/c/photo.jpeg"), Some("image/jpeg"));
        assert_eq!(guess_mime_type("https://x/files/abc"), None);
        assert_eq!(guess_mime_type("https://x.com/a#b.png"), None);
    }

    #[test]
    fn arguments_become_objects() {
        assert_eq!(arguments_object(""), json!({}));
        assert_eq!(arguments_object(" {\"a\":1} "), json!({"a": 1}));
        assert_eq!(arguments_object("[1]"), json!({"value": [1]}));
        assert_eq!(arguments_object("{oops"), json!({"raw": "{oops"}));
    }

    #[test]
    fn a_tool_result_without_a_recoverable_name_is_an_invalid_request() {
        let request = ChatRequest::new("gemini-2.5-flash")
            .user("hi")
            .message(Message::tool_result("call_1", "", "{}"));
        let err = encode(&request).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
        assert!(err.message().contains("call_1"), "{err}");
    }

    #[test]
    fn a_conversation_of_only_system_messages_is_an_invalid_request() {
        let err = encode(&ChatRequest::new("m").system("s")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    }

    #[test]
    fn a_parameterless_tool_sends_no_parameters() {
        assert_eq!(
            parameters_schema(&json!({"type": "object", "properties": {}})),
            None
        );
        assert_eq!(parameters_schema(&json!({})), None);
        let request = ChatRequest::new("m").user("now?").tool(Tool::new(
            "now",
            json!({"type": "object", "additionalProperties": false}),
        ));
        let body = encode(&request).unwrap();
        assert_eq!(
            body["tools"],
            json!([{"functionDeclarations": [{"name": "now"}]}])
        );
    }

    #[test]
    fn recursive_refs_are_cut() {
        let schema = json!({
            "type": "object",
            "properties": {"node": {"$ref": "#/$defs/Node"}},
            "$defs": {"Node": {
                "type": "object",
                "properties": {"child": {"$ref": "#/$defs/Node"}, "v": {"type": "integer"}}
            }}
        });
        let out = gemini_schema(&schema);
        assert_eq!(
            out["properties"]["node"]["properties"]["child"],
            json!({"type": "object"})
        );
        assert_eq!(
            out["properties"]["node"]["properties"]["v"],
            json!({"type": "integer"})
        );
    }

    #[test]
    fn the_last_signature_goes_on_the_first_call() {
        let message = AssistantMessage {
            content: vec![
                AssistantPart::Reasoning {
                    text: "plan".into(),
                    signature: Some("s1".into()),
                    signed_by: Some("gcp.gemini".into()),
                },
                AssistantPart::Reasoning {
                    text: String::new(),
                    signature: Some("s2".into()),
                    signed_by: None,
                },
            ],
            tool_calls: vec![ToolCall::new("a", "f", "{}"), ToolCall::new("b", "f", "{}")],
        };
        let parts = model_parts(&message);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].thought_signature.as_deref(), Some("s1"));
        assert_eq!(parts[1].thought_signature.as_deref(), Some("s2"));
        assert!(parts[1].function_call.is_some());
        assert_eq!(parts[2].thought_signature, None);
    }

    #[test]
    fn reasoning_another_provider_signed_is_left_out() {
        let message = AssistantMessage {
            content: vec![
                AssistantPart::Reasoning {
                    text: "Anthropic thinking".into(),
                    signature: Some("anthropic-signature".into()),
                    signed_by: Some("anthropic".into()),
                },
                AssistantPart::Text {
                    text: "Checking.".into(),
                },
            ],
            tool_calls: vec![ToolCall::new("a", "f", "{}")],
        };
        let parts = model_parts(&message);
        assert_eq!(parts.len(), 2, "{parts:?}");
        assert!(parts.iter().all(|p| p.thought.is_none()));
        assert!(parts.iter().all(|p| p.thought_signature.is_none()));
    }
}
