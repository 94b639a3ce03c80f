//! What the simulator answers: a deterministic function of the request.
//!
//! - the last message is a tool result → a sentence quoting it;
//! - tools are offered (and `tool_choice` is not `none`) → a call to the chosen tool (the
//!   forced one, else the first) with arguments generated from its JSON Schema;
//! - `response_format` is `json_schema` → a JSON value valid for the schema;
//!   `json_object` → `{"answer": …, "simulated": true}`;
//! - otherwise → a sentence echoing the start of the last user message.
//!
//! `max_tokens` cuts the answer (finish reason `length`). A "token" is a word with its
//! trailing space, so streams arrive word by word.

use serde_json::{Map, Value, json};
use tollgate_core::{
    ChatEvent, ChatRequest, FinishReason, Message, ResponseFormat, ToolChoice, Usage,
};

use super::rng::stable_hash;

/// The events of one answer, in order, without timing.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// Output events: text deltas or a tool call's start and argument fragments.
    pub deltas: Vec<ChatEvent>,
    /// Why it stopped.
    pub finish: FinishReason,
    /// Token counts.
    pub usage: Usage,
}

const ECHO_WORDS: usize = 24;

/// The answer `model` gives to `request`.
pub fn answer(request: &ChatRequest, model: &str) -> Answer {
    let input_tokens = request.estimate_input_tokens();
    let last = request.messages.last();
    if let Some(Message::Tool(result)) = last {
        let mut content: String = result.content.chars().take(200).collect();
        if result.content.chars().count() > 200 {
            content.push('…');
        }
        let text = format!(
            "The `{}` tool returned: {content} (simulated answer from {model})",
            result.name
        );
        return text_answer(&text, request, input_tokens);
    }
    if let Some(call) = tool_call(request) {
        return call;
    }
    let prompt = last_user_text(request);
    let text = match &request.response_format {
        Some(ResponseFormat::JsonSchema { schema, .. }) => {
            sample(schema, "answer", &prompt, 0).to_string()
        }
        Some(ResponseFormat::JsonObject) => {
            json!({"answer": echo(&prompt), "simulated": true}).to_string()
        }
        _ => {
            let words = prompt.split_whitespace().count();
            format!(
                "Simulated answer from {model}. You asked: \"{}\" ({words} words). \
                 Tollgate's built-in simulator echoes your prompt; set OPENAI_API_KEY, \
                 ANTHROPIC_API_KEY or GEMINI_API_KEY to reach a real model.",
                echo(&prompt)
            )
        }
    };
    text_answer(&text, request, input_tokens)
}

fn text_answer(text: &str, request: &ChatRequest, input_tokens: u64) -> Answer {
    let mut chunks = chunks(text);
    let mut finish = FinishReason::Stop;
    if let Some(max) = request.max_tokens {
        let max = usize::try_from(max).unwrap_or(usize::MAX).max(1);
        if chunks.len() > max {
            chunks.truncate(max);
            finish = FinishReason::Length;
        }
    }
    let output_tokens = chunks.len() as u64;
    Answer {
        deltas: chunks.into_iter().map(ChatEvent::text).collect(),
        finish,
        usage: Usage::new(input_tokens, output_tokens),
    }
}

fn tool_call(request: &ChatRequest) -> Option<Answer> {
    if request.tools.is_empty() {
        return None;
    }
    let tool = match &request.tool_choice {
        Some(ToolChoice::None) => return None,
        Some(ToolChoice::Tool { name }) => request.tools.iter().find(|t| &t.name == name)?,
        _ => request.tools.first()?,
    };
    let prompt = last_user_text(request);
    let arguments = sample(&tool.parameters, &tool.name, &prompt, 0).to_string();
    let id = format!(
        "call_sim_{:08x}",
        stable_hash(&format!("{}\u{0}{prompt}", tool.name)) & 0xFFFF_FFFF
    );
    let mut deltas = vec![ChatEvent::ToolCallStart {
        index: 0,
        id,
        name: tool.name.clone(),
    }];
    let pieces = split_every(&arguments, 16);
    let output_tokens = pieces.len() as u64 + 1;
    deltas.extend(pieces.into_iter().map(|fragment| ChatEvent::ToolCallDelta {
        index: 0,
        arguments: fragment,
    }));
    Some(Answer {
        deltas,
        finish: FinishReason::ToolCalls,
        usage: Usage::new(request.estimate_input_tokens(), output_tokens),
    })
}

fn last_user_text(request: &ChatRequest) -> String {
    request
        .messages
        .iter()
        .rev()
        .find_map(|m| match m {
            Message::User(user) => Some(user.text()),
            _ => None,
        })
        .unwrap_or_default()
}

fn echo(prompt: &str) -> String {
    let words: Vec<&str> = prompt.split_whitespace().collect();
    let mut out = words
        .iter()
        .take(ECHO_WORDS)
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    if words.len() > ECHO_WORDS {
        out.push('…');
    }
    out
}

/// Words with their trailing whitespace: `"a b"` → `["a ", "b"]`.
fn chunks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut in_space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            in_space = true;
        } else if in_space {
            out.push(std::mem::take(&mut current));
            in_space = false;
        }
        current.push(c);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn split_every(text: &str, chars: usize) -> Vec<String> {
    let all: Vec<char> = text.chars().collect();
    all.chunks(chars.max(1))
        .map(|c| c.iter().collect())
        .collect()
}

/// A value valid for `schema` (the common JSON Schema keywords), named `name` in its
/// parent, using `prompt` for free text.
pub fn sample(schema: &Value, name: &str, prompt: &str, depth: usize) -> Value {
    if depth > 8 {
        return Value::Null;
    }
    let Some(schema) = schema.as_object() else {
        return Value::Object(Map::new());
    };
    if let Some(value) = schema.get("const") {
        return value.clone();
    }
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|v| v.first())
    {
        return first.clone();
    }
    if let Some(value) = schema.get("default") {
        return value.clone();
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(first) = schema
            .get(key)
            .and_then(Value::as_array)
            .and_then(|v| v.iter().find(|s| s.get("type") != Some(&json!("null"))))
        {
            return sample(first, name, prompt, depth + 1);
        }
    }
    let kind = match schema.get("type") {
        Some(Value::String(kind)) => kind.as_str(),
        Some(Value::Array(kinds)) => kinds
            .iter()
            .filter_map(Value::as_str)
            .find(|k| *k != "null")
            .unwrap_or("null"),
        _ if schema.contains_key("properties") => "object",
        _ if schema.contains_key("items") => "array",
        _ => "object",
    };
    match kind {
        "object" => {
            let mut out = Map::new();
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (key, property) in properties {
                    out.insert(key.clone(), sample(property, key, prompt, depth + 1));
                }
            }
            Value::Object(out)
        }
        "array" => {
            let items = schema.get("items").cloned().unwrap_or(json!({}));
            let count = schema
                .get("minItems")
                .and_then(Value::as_u64)
                .unwrap_or(1)
                .clamp(1, 3);
            Value::Array(
                (0..count)
                    .map(|_| sample(&items, name, prompt, depth + 1))
                    .collect(),
            )
        }
        "string" => Value::String(sample_string(schema, name, prompt)),
        "integer" => {
            let min = schema.get("minimum").and_then(Value::as_i64).unwrap_or(1);
            json!(
                min.max(1).min(
                    schema
                        .get("maximum")
                        .and_then(Value::as_i64)
                        .unwrap_or(i64::MAX)
                )
            )
        }
        "number" => {
            let min = schema.get("minimum").and_then(Value::as_f64).unwrap_or(1.5);
            json!(min)
        }
        "boolean" => Value::Bool(true),
        _ => Value::Null,
    }
}

fn sample_string(schema: &Map<String, Value>, name: &str, prompt: &str) -> String {
    match schema.get("format").and_then(Value::as_str) {
        Some("date") => return "2025-01-01".to_owned(),
        Some("date-time") => return "2025-01-01T00:00:00Z".to_owned(),
        Some("email") => return "someone@example.com".to_owned(),
        Some("uri" | "url") => return "https://example.com/".to_owned(),
        Some("uuid") => return "00000000-0000-4000-8000-000000000000".to_owned(),
        _ => {}
    }
    let lower = name.to_ascii_lowercase();
    let text = if ["city", "location", "place"]
        .iter()
        .any(|k| lower.contains(k))
    {
        "Paris".to_owned()
    } else if prompt.trim().is_empty() {
        format!("simulated {name}")
    } else {
        echo(prompt)
    };
    match schema.get("maxLength").and_then(Value::as_u64) {
        Some(max) => text
            .chars()
            .take(usize::try_from(max).unwrap_or(usize::MAX))
            .collect(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use tollgate_core::Tool;

    use super::*;

    #[test]
    fn text_answers_echo_the_prompt_word_by_word() {
        let a = answer(&ChatRequest::new("m").user("Hello there"), "sim-mini");
        let text: String = a
            .deltas
            .iter()
            .map(|e| match e {
                ChatEvent::TextDelta { text } => text.as_str(),
                _ => "",
            })
            .collect();
        assert!(
            text.starts_with("Simulated answer from sim-mini."),
            "{text}"
        );
        assert!(text.contains("\"Hello there\""), "{text}");
        assert_eq!(a.usage.output_tokens, a.deltas.len() as u64);
        assert_eq!(a.finish, FinishReason::Stop);
    }

    #[test]
    fn max_tokens_cuts_the_answer_with_length() {
        let a = answer(&ChatRequest::new("m").user("Hi").max_tokens(3), "x");
        assert_eq!(a.deltas.len(), 3);
        assert_eq!(a.finish, FinishReason::Length);
    }

    #[test]
    fn offered_tools_are_called_with_schema_valid_arguments() {
        let tool = Tool::new(
            "get_weather",
            json!({"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer","minimum":2}},"required":["city"]}),
        );
        let request = ChatRequest::new("m").user("Weather in Paris?").tool(tool);
        let a = answer(&request, "x");
        assert_eq!(a.finish, FinishReason::ToolCalls);
        let args: String = a
            .deltas
            .iter()
            .filter_map(|e| match e {
                ChatEvent::ToolCallDelta { arguments, .. } => Some(arguments.as_str()),
                _ => None,
            })
            .collect();
        let args: Value = serde_json::from_str(&args).unwrap();
        assert_eq!(args, json!({"city": "Paris", "days": 2}));
        // Same request, same call id.
        assert_eq!(answer(&request, "x"), a);
    }

    #[test]
    fn json_schema_requests_get_json_matching_the_schema() {
        let schema = json!({"type":"object","properties":{"title":{"type":"string"},"tags":{"type":"array","items":{"type":"string"}},"score":{"type":"number"},"ok":{"type":"boolean"},"kind":{"enum":["a","b"]}}});
        let request =
            ChatRequest::new("m")
                .user("Summarise")
                .response_format(ResponseFormat::JsonSchema {
                    name: "s".into(),
                    description: None,
                    schema,
                    strict: true,
                });
        let a = answer(&request, "x");
        let text: String = a
            .deltas
            .iter()
            .map(|e| match e {
                ChatEvent::TextDelta { text } => text.as_str(),
                _ => "",
            })
            .collect();
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            value,
            json!({"title":"Summarise","tags":["Summarise"],"score":1.5,"ok":true,"kind":"a"})
        );
    }
}
