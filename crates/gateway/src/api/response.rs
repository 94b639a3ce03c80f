//! Writing a complete [`ChatResponse`] as an OpenAI `chat.completion` object, once,
//! straight from the core types (borrowed, not copied), with the hand-written JSON of
//! `tollgate_core::json::write`: the shape is fixed, so its keys are literal text.

use tollgate_core::json::write as json;
use tollgate_core::{AssistantPart, ChatResponse, ToolCall, Usage};

/// Writes OpenAI's `usage` object for a core [`Usage`]: `prompt_tokens` (all input,
/// cached included), `completion_tokens` (all output, reasoning included),
/// `total_tokens`, `prompt_tokens_details` (`cached_tokens`, and `cache_write_tokens`, a
/// tollgate extension), `completion_tokens_details` (`reasoning_tokens`), and
/// `cost_usd` in USD when given (a tollgate extension, written only on streamed usage
/// chunks; complete calls report the cost in the `x-tollgate-cost-usd` header).
pub fn write_usage(out: &mut Vec<u8>, usage: &Usage, cost_usd: Option<f64>) {
    out.extend_from_slice(b"{\"prompt_tokens\":");
    json::uint(out, usage.input_tokens);
    out.extend_from_slice(b",\"completion_tokens\":");
    json::uint(out, usage.output_tokens);
    out.extend_from_slice(b",\"total_tokens\":");
    json::uint(out, usage.total_tokens());
    out.extend_from_slice(b",\"prompt_tokens_details\":{\"cached_tokens\":");
    json::uint(out, usage.cache_read_tokens);
    out.extend_from_slice(b",\"cache_write_tokens\":");
    json::uint(out, usage.cache_write_tokens);
    out.extend_from_slice(b"},\"completion_tokens_details\":{\"reasoning_tokens\":");
    json::uint(out, usage.reasoning_tokens);
    out.push(b'}');
    if let Some(cost) = cost_usd {
        out.extend_from_slice(b",\"cost_usd\":");
        json::float(out, cost);
    }
    out.push(b'}');
}

/// The text (or, with `reasoning`, the reasoning) parts of an assistant turn, in order.
fn texts(parts: &[AssistantPart], reasoning: bool) -> impl Iterator<Item = &str> {
    parts.iter().filter_map(move |part| match part {
        AssistantPart::Text { text } if !reasoning => Some(text.as_str()),
        AssistantPart::Reasoning { text, .. } if reasoning => Some(text.as_str()),
        _ => None,
    })
}

/// Writes `tool_calls` as OpenAI's array of function calls (arguments `{}` when empty).
fn write_tool_calls(out: &mut Vec<u8>, calls: &[ToolCall]) {
    out.push(b'[');
    for (position, call) in calls.iter().enumerate() {
        if position > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"id\":");
        json::string(out, &call.id);
        out.extend_from_slice(b",\"type\":\"function\",\"function\":{\"name\":");
        json::string(out, &call.name);
        out.extend_from_slice(b",\"arguments\":");
        let arguments = if call.arguments.is_empty() {
            "{}"
        } else {
            &call.arguments
        };
        json::string(out, arguments);
        out.extend_from_slice(b"}}");
    }
    out.push(b']');
}

/// The `chat.completion` JSON for `response`, created at `created` (Unix seconds).
pub fn encode(response: &ChatResponse, created: u64) -> Vec<u8> {
    let parts = &response.message.content;
    let has_text = parts
        .iter()
        .any(|p| matches!(p, AssistantPart::Text { .. }));
    let has_reasoning = parts
        .iter()
        .any(|p| matches!(p, AssistantPart::Reasoning { .. }));
    let tool_calls = &response.message.tool_calls;
    // Sized up front so the buffer is not grown (and copied) while it is written.
    let mut out = Vec::with_capacity(encoded_size_hint(response));
    out.extend_from_slice(b"{\"id\":");
    json::string(&mut out, &response.id);
    out.extend_from_slice(b",\"object\":\"chat.completion\",\"created\":");
    json::uint(&mut out, created);
    out.extend_from_slice(b",\"model\":");
    json::string(&mut out, &response.model);
    out.extend_from_slice(
        b",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":",
    );
    // OpenAI sends `content: null` on a turn that only calls tools.
    if has_text || tool_calls.is_empty() {
        json::string_of(&mut out, texts(parts, false));
    } else {
        out.extend_from_slice(b"null");
    }
    if has_reasoning {
        out.extend_from_slice(b",\"reasoning_content\":");
        json::string_of(&mut out, texts(parts, true));
    }
    if !tool_calls.is_empty() {
        out.extend_from_slice(b",\"tool_calls\":");
        write_tool_calls(&mut out, tool_calls);
    }
    out.extend_from_slice(b",\"refusal\":null},\"logprobs\":null,\"finish_reason\":");
    json::string(&mut out, response.finish_reason.as_str());
    out.extend_from_slice(b"}]");
    if let Some(usage) = &response.usage {
        out.extend_from_slice(b",\"usage\":");
        write_usage(&mut out, usage, None);
    }
    out.push(b'}');
    out
}

/// About how many bytes the `chat.completion` for `response` takes: its fixed part, with
/// usage, plus the strings it carries (a little more when they need escaping).
fn encoded_size_hint(response: &ChatResponse) -> usize {
    let text: usize = response
        .message
        .content
        .iter()
        .map(|part| match part {
            AssistantPart::Text { text } | AssistantPart::Reasoning { text, .. } => text.len(),
            // Not sent: OpenAI's format has no field for encrypted reasoning.
            AssistantPart::RedactedReasoning { .. } => 0,
        })
        .sum();
    let calls: usize = response
        .message
        .tool_calls
        .iter()
        .map(|call| 64 + call.id.len() + call.name.len() + call.arguments.len())
        .sum();
    let strings = response.id.len() + response.model.len() + text + calls;
    448 + strings + strings / 8
}

/// The current time in Unix seconds (`created`).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use tollgate_core::{AssistantMessage, FinishReason, ReplyMeta};

    fn response(message: AssistantMessage, finish: FinishReason) -> ChatResponse {
        ChatResponse {
            id: "chatcmpl-1".into(),
            model: "gpt-4o-mini-2024-07-18".into(),
            message,
            finish_reason: finish,
            provider_finish_reason: None,
            usage: Some(Usage {
                input_tokens: 10,
                output_tokens: 5,
                cache_read_tokens: 4,
                cache_write_tokens: 0,
                reasoning_tokens: 2,
            }),
            meta: ReplyMeta::default(),
        }
    }

    #[test]
    fn a_text_answer_is_a_chat_completion() {
        let mut message = AssistantMessage::text("Hello");
        message.content.push(AssistantPart::Text {
            text: ", world".into(),
        });
        message.content.insert(
            0,
            AssistantPart::Reasoning {
                text: "think".into(),
                signature: None,
                signed_by: None,
            },
        );
        let body: serde_json::Value =
            serde_json::from_slice(&encode(&response(message, FinishReason::Stop), 1700000000))
                .unwrap();
        assert_eq!(
            body,
            json!({
                "id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000,
                "model": "gpt-4o-mini-2024-07-18",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello, world",
                    "reasoning_content": "think", "refusal": null}, "logprobs": null, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15,
                    "prompt_tokens_details": {"cached_tokens": 4, "cache_write_tokens": 0},
                    "completion_tokens_details": {"reasoning_tokens": 2}}
            })
        );
    }

    /// Redacted reasoning is encrypted data OpenAI's format has no field for: it is not
    /// written, and alone it does not make a `reasoning_content`.
    #[test]
    fn redacted_reasoning_is_not_written() {
        let message = AssistantMessage {
            content: vec![
                AssistantPart::RedactedReasoning {
                    data: "opaque-data".into(),
                    signed_by: Some("anthropic".into()),
                },
                AssistantPart::Text {
                    text: "Hello".into(),
                },
            ],
            tool_calls: vec![],
        };
        let bytes = encode(&response(message, FinishReason::Stop), 1);
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(!text.contains("opaque-data"), "{text}");
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let msg = &body["choices"][0]["message"];
        assert_eq!(msg["content"], "Hello");
        assert!(msg.get("reasoning_content").is_none(), "{msg}");
    }

    /// The exact bytes, pinned: compact, fields in OpenAI's order, strings escaped as
    /// serde_json escapes them.
    #[test]
    fn the_completion_is_written_byte_for_byte() {
        let message = AssistantMessage {
            content: vec![
                AssistantPart::Reasoning {
                    text: "step \"one\"\n".into(),
                    signature: None,
                    signed_by: None,
                },
                AssistantPart::Text {
                    text: "Caf\u{e9}\t\u{1}".into(),
                },
            ],
            tool_calls: vec![ToolCall::new("c1", "f", "{\"x\":1}")],
        };
        let bytes = encode(&response(message, FinishReason::ToolCalls), 1700000000);
        insta::assert_snapshot!(std::str::from_utf8(&bytes).unwrap());
    }

    #[test]
    fn a_tool_turn_has_null_content_and_function_calls() {
        let message = AssistantMessage {
            content: Vec::new(),
            tool_calls: vec![
                ToolCall::new("c1", "f", "{\"x\":1}"),
                ToolCall::new("c2", "g", ""),
            ],
        };
        let body: serde_json::Value =
            serde_json::from_slice(&encode(&response(message, FinishReason::ToolCalls), 1))
                .unwrap();
        let msg = &body["choices"][0]["message"];
        assert_eq!(msg["content"], serde_json::Value::Null);
        assert_eq!(
            msg["tool_calls"],
            json!([
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"x\":1}"}},
                {"id": "c2", "type": "function", "function": {"name": "g", "arguments": "{}"}}
            ])
        );
        assert_eq!(body["choices"][0]["finish_reason"], "tool_calls");
    }
}
