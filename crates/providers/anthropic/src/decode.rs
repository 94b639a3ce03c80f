//! A complete Messages response → [`ChatResponse`], and the usage and finish-reason
//! normalisation the stream decoder shares.

use tollgate_core::{
    AssistantMessage, AssistantPart, ChatResponse, FinishReason, ReplyMeta, ToolCall, Usage,
};

use crate::wire::{MessagesResponse, ResponseBlock, WireUsage};

/// Anthropic's usage in Tollgate's normalised form:
///
/// - `input_tokens` = `input_tokens` + `cache_read_input_tokens` +
///   `cache_creation_input_tokens` (Anthropic's `input_tokens` counts only uncached input);
/// - `cache_read_tokens` = `cache_read_input_tokens`;
/// - `cache_write_tokens` = `cache_creation_input_tokens`;
/// - `output_tokens` = `output_tokens` (thinking included, as Anthropic counts it);
/// - `reasoning_tokens` = `output_tokens_details.thinking_tokens` when sent, else 0.
///
/// ```
/// use tollgate_anthropic::decode::normalise_usage;
/// use tollgate_anthropic::wire::WireUsage;
///
/// let usage = normalise_usage(&WireUsage {
///     input_tokens: Some(190),
///     cache_read_input_tokens: Some(1152),
///     cache_creation_input_tokens: Some(8),
///     output_tokens: Some(118),
///     ..WireUsage::default()
/// });
/// assert_eq!(usage.input_tokens, 1350);
/// assert_eq!(usage.cache_read_tokens, 1152);
/// assert_eq!(usage.cache_write_tokens, 8);
/// assert_eq!(usage.output_tokens, 118);
/// ```
pub fn normalise_usage(wire: &WireUsage) -> Usage {
    let cache_read = wire.cache_read_input_tokens.unwrap_or(0);
    let cache_write = wire.cache_creation_input_tokens.unwrap_or(0);
    Usage {
        input_tokens: wire
            .input_tokens
            .unwrap_or(0)
            .saturating_add(cache_read)
            .saturating_add(cache_write),
        output_tokens: wire.output_tokens.unwrap_or(0),
        cache_read_tokens: cache_read,
        cache_write_tokens: cache_write,
        reasoning_tokens: wire
            .output_tokens_details
            .and_then(|d| d.thinking_tokens)
            .unwrap_or(0),
    }
}

/// The normalised finish reason of a `stop_reason`:
///
/// | `stop_reason` | [`FinishReason`] |
/// | --- | --- |
/// | `end_turn`, `stop_sequence` | `Stop` |
/// | `max_tokens`, `model_context_window_exceeded` | `Length` |
/// | `tool_use` | `ToolCalls` (`Stop` when the only call is the structured-output tool) |
/// | `refusal` | `ContentFilter` |
/// | `pause_turn` and anything else | `Other(raw)` |
pub fn finish_reason(raw: &str) -> FinishReason {
    match raw {
        "end_turn" | "stop_sequence" => FinishReason::Stop,
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "refusal" => FinishReason::ContentFilter,
        other => FinishReason::Other(other.to_owned()),
    }
}

/// The finish reason and raw value of a reply, given whether the structured-output
/// tool answered and whether any real tool call was made. A missing `stop_reason` reads
/// as `Other("unknown")` with no raw value.
pub fn finish(
    stop_reason: Option<&str>,
    answered: bool,
    tool_calls: bool,
) -> (FinishReason, Option<String>) {
    match stop_reason {
        Some("tool_use") if answered && !tool_calls => {
            (FinishReason::Stop, Some("tool_use".to_owned()))
        }
        Some(raw) => (finish_reason(raw), Some(raw.to_owned())),
        None => (FinishReason::Other("unknown".to_owned()), None),
    }
}

/// Builds the [`ChatResponse`] of a complete Messages response.
///
/// Adjacent text blocks join into one text part (as a stream's deltas do); `thinking`
/// blocks become reasoning parts with their signature; `redacted_thinking` blocks become
/// redacted-reasoning parts with their data, in their place (both signed by
/// `anthropic`, so they are echoed back here and never to another provider); `tool_use`
/// blocks become tool calls with their `input` as JSON text, except the
/// structured-output tool (`answer_tool`), whose input becomes the answer text. Other
/// blocks (server-tool blocks, types newer than this crate) are skipped, as is a
/// `redacted_thinking` block without data.
pub fn decode_response(
    wire: MessagesResponse,
    answer_tool: Option<&str>,
    meta: ReplyMeta,
) -> ChatResponse {
    let mut content: Vec<AssistantPart> = Vec::with_capacity(wire.content.len());
    let mut tool_calls = Vec::new();
    let mut answered = false;
    for block in wire.content {
        match block {
            ResponseBlock::Text { text } => push_text(&mut content, text),
            ResponseBlock::ToolUse { name, input, .. } if Some(name.as_str()) == answer_tool => {
                answered = true;
                push_text(&mut content, arguments_text(&input));
            }
            ResponseBlock::ToolUse { id, name, input } => {
                tool_calls.push(ToolCall::new(id, name, arguments_text(&input)));
            }
            ResponseBlock::Thinking {
                thinking,
                signature,
            } => {
                let signature = signature.filter(|s| !s.is_empty());
                let signed_by = signature.as_ref().map(|_| crate::PROVIDER.to_owned());
                content.push(AssistantPart::Reasoning {
                    text: thinking,
                    signature,
                    signed_by,
                })
            }
            ResponseBlock::RedactedThinking { data } if data.is_empty() => {}
            ResponseBlock::RedactedThinking { data } => {
                content.push(AssistantPart::RedactedReasoning {
                    data,
                    signed_by: Some(crate::PROVIDER.to_owned()),
                })
            }
            ResponseBlock::Other => {}
        }
    }
    let (finish_reason, provider_finish_reason) = finish(
        wire.stop_reason.as_deref(),
        answered,
        !tool_calls.is_empty(),
    );
    ChatResponse {
        id: wire.id.unwrap_or_default(),
        model: wire.model.unwrap_or_default(),
        message: AssistantMessage {
            content,
            tool_calls,
        },
        finish_reason,
        provider_finish_reason,
        usage: wire.usage.as_ref().map(normalise_usage),
        meta,
    }
}

fn push_text(content: &mut Vec<AssistantPart>, text: String) {
    if text.is_empty() {
        return;
    }
    match content.last_mut() {
        Some(AssistantPart::Text { text: current }) => current.push_str(&text),
        _ => content.push(AssistantPart::Text { text }),
    }
}

/// A tool input as JSON text; a missing input reads as `{}`.
fn arguments_text(input: &serde_json::Value) -> String {
    if input.is_null() {
        return "{}".to_owned();
    }
    input.to_string()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn decode(body: serde_json::Value, answer_tool: Option<&str>) -> ChatResponse {
        let wire: MessagesResponse = serde_json::from_value(body).unwrap();
        decode_response(wire, answer_tool, ReplyMeta::default())
    }

    #[test]
    fn stop_reasons_normalise_and_keep_their_raw_value() {
        let cases = [
            ("end_turn", FinishReason::Stop),
            ("stop_sequence", FinishReason::Stop),
            ("max_tokens", FinishReason::Length),
            ("model_context_window_exceeded", FinishReason::Length),
            ("tool_use", FinishReason::ToolCalls),
            ("refusal", FinishReason::ContentFilter),
            ("pause_turn", FinishReason::Other("pause_turn".into())),
            ("brand_new", FinishReason::Other("brand_new".into())),
        ];
        for (raw, expected) in cases {
            let response = decode(json!({"stop_reason": raw, "content": []}), None);
            assert_eq!(response.finish_reason, expected, "{raw}");
            assert_eq!(response.provider_finish_reason.as_deref(), Some(raw));
        }
        let missing = decode(json!({"content": []}), None);
        assert_eq!(missing.finish_reason, FinishReason::Other("unknown".into()));
        assert_eq!(missing.provider_finish_reason, None);
        assert_eq!(missing.usage, None);
    }

    #[test]
    fn thinking_text_and_tool_use_keep_their_order_and_signature() {
        let response = decode(
            json!({
                "id": "msg_1", "model": "claude-sonnet-4-5",
                "content": [
                    {"type": "thinking", "thinking": "Hmm.", "signature": "sig=="},
                    {"type": "redacted_thinking", "data": "opaque"},
                    {"type": "text", "text": "Part one, "},
                    {"type": "text", "text": "part two."},
                    {"type": "tool_use", "id": "toolu_1", "name": "f"}
                ],
                "stop_reason": "tool_use",
                "usage": {"input_tokens": 3, "output_tokens": 9,
                          "output_tokens_details": {"thinking_tokens": 4}}
            }),
            None,
        );
        assert_eq!(
            response.message.content,
            vec![
                AssistantPart::Reasoning {
                    text: "Hmm.".into(),
                    signature: Some("sig==".into()),
                    signed_by: Some("anthropic".into()),
                },
                AssistantPart::RedactedReasoning {
                    data: "opaque".into(),
                    signed_by: Some("anthropic".into()),
                },
                AssistantPart::Text {
                    text: "Part one, part two.".into()
                },
            ]
        );
        assert_eq!(
            response.message.tool_calls,
            vec![ToolCall::new("toolu_1", "f", "{}")]
        );
        assert_eq!(response.usage.unwrap().reasoning_tokens, 4);
    }

    #[test]
    fn the_structured_output_tool_becomes_the_answer_text() {
        let body = json!({
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "report",
                         "input": {"harbor": "Brest"}}],
            "stop_reason": "tool_use"
        });
        let response = decode(body.clone(), Some("report"));
        assert_eq!(response.text(), r#"{"harbor":"Brest"}"#);
        assert!(response.message.tool_calls.is_empty());
        assert_eq!(response.finish_reason, FinishReason::Stop);
        assert_eq!(response.provider_finish_reason.as_deref(), Some("tool_use"));

        // Without the structured-output setting the same block is a tool call.
        let plain = decode(body, None);
        assert_eq!(plain.finish_reason, FinishReason::ToolCalls);
        assert_eq!(plain.message.tool_calls.len(), 1);
    }

    #[test]
    fn a_real_tool_call_next_to_the_answer_tool_keeps_tool_calls() {
        let response = decode(
            json!({
                "content": [
                    {"type": "tool_use", "id": "toolu_1", "name": "report", "input": {}},
                    {"type": "tool_use", "id": "toolu_2", "name": "weather", "input": {"c": 1}}
                ],
                "stop_reason": "tool_use"
            }),
            Some("report"),
        );
        assert_eq!(response.finish_reason, FinishReason::ToolCalls);
        assert_eq!(response.text(), "{}");
        assert_eq!(response.message.tool_calls[0].name, "weather");
    }
}
