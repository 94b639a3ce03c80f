//! Anthropic Messages: `POST /v1/messages`, `x-api-key`, `anthropic-version`, and the
//! conversation rules the API enforces.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{Context, is_valid_tool_id, key_accepted, reject};
use crate::recorded::RecordedRequest;
use crate::reply::Reply;
use crate::wire_error;

const PATH: &str = "/v1/messages";
const ID_PATTERN: &str = "^[a-zA-Z0-9_-]+$";

pub(super) fn check(request: &RecordedRequest, cx: &Context<'_>) -> Result<(), Box<Reply>> {
    let error = |status: u16, kind: &str, message: &str| {
        wire_error::anthropic(status, kind, message, cx.request_id)
    };
    let invalid = |message: &str| error(400, "invalid_request_error", message);

    if request.method != "POST" || request.path_only() != PATH {
        return reject(error(404, "not_found_error", "Not Found"));
    }

    match request.header("x-api-key").map(str::trim) {
        None | Some("") => {
            return reject(error(
                401,
                "authentication_error",
                "x-api-key header is required",
            ));
        }
        Some(key) if !key_accepted(key, cx.api_key) => {
            return reject(error(401, "authentication_error", "invalid x-api-key"));
        }
        Some(_) => {}
    }
    if request
        .header("anthropic-version")
        .is_none_or(|v| v.trim().is_empty())
    {
        return reject(invalid("anthropic-version: header is required"));
    }

    let body: Value = serde_json::from_slice(&request.body).map_err(|e| {
        invalid(&format!(
            "There was an error parsing the body of your request: {e}"
        ))
    })?;
    let Value::Object(body) = body else {
        return reject(invalid("Input should be a valid dictionary"));
    };
    check_body(&body).map_err(|message| Box::new(invalid(&message)))
}

/// The body's field rules; `Err` holds the API's message.
fn check_body(body: &Map<String, Value>) -> Result<(), String> {
    match body.get("model") {
        Some(Value::String(_)) => {}
        None => return Err("model: Field required".to_owned()),
        Some(_) => return Err("model: Input should be a valid string".to_owned()),
    }
    match body.get("max_tokens") {
        Some(Value::Number(n)) if n.is_u64() || n.is_i64() => {}
        None => return Err("max_tokens: Field required".to_owned()),
        Some(_) => return Err("max_tokens: Input should be a valid integer".to_owned()),
    }
    let messages = match body.get("messages") {
        Some(Value::Array(messages)) => messages,
        None => return Err("messages: Field required".to_owned()),
        Some(_) => return Err("messages: Input should be a valid list".to_owned()),
    };
    check_schema(messages)?;
    check_conversation(messages)
}

/// Schema-level rules (checked first, as the API's validator does): roles, content types,
/// tool id grammar.
fn check_schema(messages: &[Value]) -> Result<(), String> {
    for (i, message) in messages.iter().enumerate() {
        let Value::Object(message) = message else {
            return Err(format!("messages.{i}: Input should be a valid dictionary"));
        };
        match message.get("role").and_then(Value::as_str) {
            Some("user" | "assistant") => {}
            Some(_) => {
                return Err(format!(
                    "messages.{i}.role: Input should be 'user' or 'assistant'"
                ));
            }
            None => return Err(format!("messages.{i}.role: Field required")),
        }
        let blocks = match message.get("content") {
            Some(Value::String(_)) => continue,
            Some(Value::Array(blocks)) => blocks,
            None => return Err(format!("messages.{i}.content: Field required")),
            Some(_) => {
                return Err(format!(
                    "messages.{i}.content: Input should be a valid list"
                ));
            }
        };
        for (j, block) in blocks.iter().enumerate() {
            let (kind, field) = match block.get("type").and_then(Value::as_str) {
                Some("tool_use") => ("tool_use", "id"),
                Some("tool_result") => ("tool_result", "tool_use_id"),
                _ => continue,
            };
            match block.get(field) {
                Some(Value::String(id)) if is_valid_tool_id(id) => {}
                Some(Value::String(_)) => {
                    return Err(format!(
                        "messages.{i}.content.{j}.{kind}.{field}: String should match pattern '{ID_PATTERN}'"
                    ));
                }
                None => {
                    return Err(format!(
                        "messages.{i}.content.{j}.{kind}.{field}: Field required"
                    ));
                }
                Some(_) => {
                    return Err(format!(
                        "messages.{i}.content.{j}.{kind}.{field}: Input should be a valid string"
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Conversation-level rules: at least one message, first `user`, roles alternate, every
/// `tool_use` answered by a `tool_result` in the next message and every `tool_result`
/// answering a `tool_use` of the previous one.
fn check_conversation(messages: &[Value]) -> Result<(), String> {
    if messages.is_empty() {
        return Err("messages: at least one message is required".to_owned());
    }
    let role = |i: usize| {
        messages[i]
            .get("role")
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    if role(0) != "user" {
        return Err(r#"messages: first message must use the "user" role"#.to_owned());
    }
    for i in 1..messages.len() {
        if role(i) == role(i - 1) {
            return Err(format!(
                r#"messages: roles must alternate between "user" and "assistant", but found multiple "{}" roles in a row"#,
                role(i)
            ));
        }
    }
    for (i, message) in messages.iter().enumerate() {
        match role(i) {
            "assistant" => {
                let uses = block_ids(message, "tool_use", "id");
                if uses.is_empty() {
                    continue;
                }
                let answered: HashSet<&str> = messages
                    .get(i + 1)
                    .map(|next| block_ids(next, "tool_result", "tool_use_id"))
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(_, id)| id)
                    .collect();
                let missing: Vec<&str> = uses
                    .iter()
                    .map(|(_, id)| *id)
                    .filter(|id| !answered.contains(id))
                    .collect();
                if !missing.is_empty() {
                    return Err(format!(
                        "messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after: {}. Each `tool_use` block must have a corresponding `tool_result` block in the next message.",
                        missing.join(", ")
                    ));
                }
            }
            _ => {
                let results = block_ids(message, "tool_result", "tool_use_id");
                if results.is_empty() {
                    continue;
                }
                let uses: HashSet<&str> = i
                    .checked_sub(1)
                    .map(|prev| block_ids(&messages[prev], "tool_use", "id"))
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(_, id)| id)
                    .collect();
                if let Some((j, id)) = results.iter().find(|(_, id)| !uses.contains(id)) {
                    return Err(format!(
                        "messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` blocks: {id}. Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
                    ));
                }
            }
        }
    }
    Ok(())
}

/// `(block index, id)` of every block of type `kind` in `message`, reading the id from `field`.
fn block_ids<'a>(message: &'a Value, kind: &str, field: &str) -> Vec<(usize, &'a str)> {
    let Some(Value::Array(blocks)) = message.get("content") else {
        return Vec::new();
    };
    blocks
        .iter()
        .enumerate()
        .filter(|(_, block)| block.get("type").and_then(Value::as_str) == Some(kind))
        .filter_map(|(j, block)| Some((j, block.get(field)?.as_str()?)))
        .collect()
}
