//! A [`Scenario`] as the Gemini API sends it.

use serde_json::{Value, json};

use super::{Scenario, ScenarioFinish, push_event};

/// Gemini's JSON content type.
pub(super) const JSON_TYPE: &str = "application/json; charset=UTF-8";

/// The `thoughtSignature` Gemini 2.5+ attaches to the first function call part.
const THOUGHT_SIGNATURE: &str = "CiQBjz1rX3Rlc3RraXQtdGhvdWdodC1zaWduYXR1cmUtZm9yLWNhbGxz";

fn finish_reason(finish: ScenarioFinish) -> &'static str {
    match finish {
        ScenarioFinish::Stop | ScenarioFinish::ToolCalls => "STOP",
        ScenarioFinish::Length => "MAX_TOKENS",
        ScenarioFinish::ContentFilter => "SAFETY",
    }
}

/// `promptTokenCount` includes `cachedContentTokenCount`; `candidatesTokenCount` excludes
/// `thoughtsTokenCount`. Gemini has no cache-write count.
pub(super) fn usage(s: &Scenario) -> Value {
    let u = &s.usage;
    let mut usage = json!({
        "promptTokenCount": u.input_tokens,
        "candidatesTokenCount": u.visible_output_tokens(),
        "totalTokenCount": u.input_tokens + u.output_tokens,
    });
    if u.cache_read_tokens > 0 {
        usage["cachedContentTokenCount"] = json!(u.cache_read_tokens);
    }
    usage["promptTokensDetails"] = json!([{ "modality": "TEXT", "tokenCount": u.input_tokens }]);
    if u.cache_read_tokens > 0 {
        usage["cacheTokensDetails"] =
            json!([{ "modality": "TEXT", "tokenCount": u.cache_read_tokens }]);
    }
    if u.reasoning_tokens > 0 {
        usage["thoughtsTokenCount"] = json!(u.reasoning_tokens);
    }
    usage
}

/// Function call parts, whole, without ids; the first carries a `thoughtSignature`.
fn call_parts(s: &Scenario) -> impl Iterator<Item = Value> + '_ {
    s.tool_calls.iter().enumerate().map(|(i, call)| {
        let mut part = json!({
            "functionCall": { "name": call.name, "args": call.arguments_value() }
        });
        if i == 0 {
            part["thoughtSignature"] = json!(THOUGHT_SIGNATURE);
        }
        part
    })
}

fn response(s: &Scenario, parts: Vec<Value>, finish: bool) -> Value {
    let mut candidate = json!({
        "content": { "parts": parts, "role": "model" },
    });
    if finish {
        candidate["finishReason"] = json!(finish_reason(s.finish));
    }
    candidate["index"] = json!(0);
    if finish && !s.tool_calls.is_empty() {
        candidate["finishMessage"] = json!("Model generated function call(s).");
    }
    json!({
        "candidates": [candidate],
        "usageMetadata": usage(s),
        "modelVersion": s.model,
        "responseId": s.id,
    })
}

/// The non-streaming `GenerateContentResponse`: thought part, text part, function calls.
pub(super) fn body(s: &Scenario) -> Value {
    let mut parts = Vec::new();
    if !s.reasoning.is_empty() {
        parts.push(json!({ "text": s.joined_reasoning(), "thought": true }));
    }
    if !s.text.is_empty() {
        parts.push(json!({ "text": s.joined_text() }));
    }
    parts.extend(call_parts(s));
    if parts.is_empty() {
        parts.push(json!({ "text": "" }));
    }
    response(s, parts, true)
}

/// The SSE body, CRLF-framed: one chunk per reasoning and text piece, all function calls whole
/// in one chunk, `finishReason` on the last chunk (a final empty-text chunk after function
/// calls, as the API sends), `usageMetadata` on every chunk, no terminator.
pub(super) fn stream(s: &Scenario) -> String {
    let mut chunks: Vec<Vec<Value>> = Vec::new();
    for piece in &s.reasoning {
        chunks.push(vec![json!({ "text": piece, "thought": true })]);
    }
    for piece in &s.text {
        chunks.push(vec![json!({ "text": piece })]);
    }
    if !s.tool_calls.is_empty() {
        chunks.push(call_parts(s).collect());
        chunks.push(vec![json!({ "text": "" })]);
    }
    if chunks.is_empty() {
        chunks.push(vec![json!({ "text": "" })]);
    }
    let last = chunks.len() - 1;
    let mut out = String::new();
    for (i, parts) in chunks.into_iter().enumerate() {
        let data = response(s, parts, i == last).to_string();
        push_event(&mut out, None, &data, "\r\n");
    }
    out
}
