//! A [`Scenario`] as OpenAI Chat Completions sends it.

use serde_json::{Value, json};

use super::{CREATED, Scenario, ScenarioFinish, push_event};

const FINGERPRINT: &str = "fp_7d4e2a91c3";

fn finish_reason(finish: ScenarioFinish) -> &'static str {
    match finish {
        ScenarioFinish::Stop => "stop",
        ScenarioFinish::Length => "length",
        ScenarioFinish::ToolCalls => "tool_calls",
        ScenarioFinish::ContentFilter => "content_filter",
    }
}

/// `prompt_tokens` includes cached tokens, `completion_tokens` includes reasoning tokens.
fn usage(s: &Scenario) -> Value {
    let u = &s.usage;
    let mut prompt_details = json!({ "cached_tokens": u.cache_read_tokens, "audio_tokens": 0 });
    if u.cache_write_tokens > 0 {
        prompt_details["cache_write_tokens"] = json!(u.cache_write_tokens);
    }
    json!({
        "prompt_tokens": u.input_tokens,
        "completion_tokens": u.output_tokens,
        "total_tokens": u.input_tokens + u.output_tokens,
        "prompt_tokens_details": prompt_details,
        "completion_tokens_details": {
            "reasoning_tokens": u.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    })
}

/// The non-streaming `chat.completion` body.
pub(super) fn body(s: &Scenario) -> Value {
    let content = if s.text.is_empty() && !s.tool_calls.is_empty() {
        Value::Null
    } else {
        Value::String(s.joined_text())
    };
    let mut message = json!({
        "role": "assistant",
        "content": content,
        "refusal": null,
        "annotations": [],
    });
    if !s.tool_calls.is_empty() {
        let calls: Vec<Value> = s
            .tool_calls
            .iter()
            .map(|call| {
                json!({
                    "id": call.id,
                    "type": "function",
                    "function": { "name": call.name, "arguments": call.arguments_json() },
                })
            })
            .collect();
        message["tool_calls"] = Value::Array(calls);
    }
    json!({
        "id": s.id,
        "object": "chat.completion",
        "created": CREATED,
        "model": s.model,
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": finish_reason(s.finish),
        }],
        "usage": usage(s),
        "service_tier": "default",
        "system_fingerprint": FINGERPRINT,
    })
}

/// The first fragment of tool call `index`: id, type and name, empty arguments.
fn call_head(s: &Scenario, index: usize) -> Value {
    let call = &s.tool_calls[index];
    json!({
        "index": index,
        "id": call.id,
        "type": "function",
        "function": { "name": call.name, "arguments": "" },
    })
}

/// The SSE body: role chunk, content deltas, tool-call deltas by index (id and name on the
/// first fragment of each), finish chunk, usage chunk with `choices: []`, `data: [DONE]`.
pub(super) fn stream(s: &Scenario) -> String {
    let chunk = |delta: Value, finish: Option<&str>| {
        json!({
            "id": s.id,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": s.model,
            "service_tier": "default",
            "system_fingerprint": FINGERPRINT,
            "choices": [{ "index": 0, "delta": delta, "logprobs": null, "finish_reason": finish }],
            "usage": null,
        })
        .to_string()
    };
    let mut out = String::new();
    let starts_with_call = s.text.is_empty() && !s.tool_calls.is_empty();
    let role = if starts_with_call {
        json!({
            "role": "assistant",
            "content": null,
            "tool_calls": [call_head(s, 0)],
            "refusal": null,
        })
    } else {
        json!({ "role": "assistant", "content": "", "refusal": null })
    };
    push_event(&mut out, None, &chunk(role, None), "\n");
    for piece in &s.text {
        push_event(
            &mut out,
            None,
            &chunk(json!({ "content": piece }), None),
            "\n",
        );
    }
    for (index, call) in s.tool_calls.iter().enumerate() {
        if !(starts_with_call && index == 0) {
            let head = json!({ "tool_calls": [call_head(s, index)] });
            push_event(&mut out, None, &chunk(head, None), "\n");
        }
        for piece in &call.arguments_json_pieces {
            let delta = json!({
                "tool_calls": [{ "index": index, "function": { "arguments": piece } }]
            });
            push_event(&mut out, None, &chunk(delta, None), "\n");
        }
    }
    let finish = chunk(json!({}), Some(finish_reason(s.finish)));
    push_event(&mut out, None, &finish, "\n");
    let usage_chunk = json!({
        "id": s.id,
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": s.model,
        "service_tier": "default",
        "system_fingerprint": FINGERPRINT,
        "choices": [],
        "usage": usage(s),
    });
    push_event(&mut out, None, &usage_chunk.to_string(), "\n");
    push_event(&mut out, None, "[DONE]", "\n");
    out
}
