//! Chat Completions response → [`ChatResponse`]: parts, tool calls, usage normalisation,
//! finish reasons.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use tollgate_core::tool_ids::ToolIdRule;
use tollgate_core::{
    AssistantMessage, AssistantPart, ChatResponse, Error, FinishReason, ReplyMeta, ToolCall, Usage,
};

use crate::error::ErrorMapper;
use crate::wire::{Completion, Content, ContentPart, WireMessage, WireUsage};

/// Reads a complete (non-streaming) response body.
///
/// The first choice is read (`n > 1` is not supported). Its parts are, in order: the
/// reasoning (`reasoning_content` or `reasoning`, as DeepSeek, Groq, vLLM and Ollama send
/// it), the content, and the refusal, if any, as a text part. An `error` object in the
/// body is returned as the error it describes, even under HTTP 200.
///
/// # Errors
///
/// [`ErrorKind::Decode`](tollgate_core::ErrorKind::Decode) quoting the start of the body
/// when it is not a readable completion, has no choice, or a tool call has no name; the
/// error the body describes when it carries one.
pub fn response(
    body: &[u8],
    requested_model: &str,
    errors: &ErrorMapper,
    meta: ReplyMeta,
) -> Result<ChatResponse, Error> {
    let parsed = match std::str::from_utf8(body) {
        Ok(text) => Completion::from_json(text),
        Err(_) => serde_json::from_slice(body),
    };
    let mut completion: Completion<'_> =
        parsed.map_err(|e| errors.decode(format_args!("unexpected response body ({e})"), body))?;
    if let Some(error) = completion.error() {
        return Err(errors.from_error_value(error, None));
    }
    let id = completion.id.take().unwrap_or_else(synthetic_id);
    let model = completion
        .model
        .take()
        .unwrap_or_else(|| requested_model.to_owned());
    let usage = completion.usage().map(usage);
    let Some(mut choice) = completion.take_first_choice() else {
        return Err(errors.decode("the response has no choices", body));
    };
    let mut message = choice
        .message
        .take()
        .or(choice.delta.take())
        .unwrap_or_default();
    let content = parts(&mut message);
    let mut tool_calls = Vec::with_capacity(message.tool_calls.len());
    for (position, call) in message.tool_calls.into_iter().enumerate() {
        let Some(mut function) = call.function else {
            // Not a function call (e.g. `custom`): nothing this crate asked for.
            continue;
        };
        let index = u32::try_from(position).unwrap_or(u32::MAX);
        let Some(name) = function.name.take() else {
            return Err(errors.decode(format_args!("tool call {position} has no name"), body));
        };
        let mut call_id = call.id;
        let call_id = call_id
            .take()
            .unwrap_or_else(|| synthetic_tool_id(&id, index));
        tool_calls.push(ToolCall {
            id: call_id,
            name,
            arguments: arguments(function.arguments.0),
        });
    }
    let (finish_reason, provider_finish_reason) =
        finish_reason(choice.finish_reason.take(), !tool_calls.is_empty());
    Ok(ChatResponse {
        id,
        model,
        message: AssistantMessage {
            content,
            tool_calls,
        },
        finish_reason,
        provider_finish_reason,
        usage,
        meta,
    })
}

/// The text and reasoning parts of a complete message, in order: reasoning, content,
/// refusal.
fn parts(message: &mut WireMessage<'_>) -> Vec<AssistantPart> {
    let mut out = Vec::new();
    if let Some(reasoning) = message
        .reasoning_content
        .take()
        .or_else(|| message.reasoning.take())
    {
        out.push(AssistantPart::Reasoning {
            text: reasoning,
            signature: None,
            signed_by: None,
        });
    }
    match std::mem::take(&mut message.content) {
        Content::None => {}
        Content::Text(text) => {
            if !text.is_empty() {
                out.push(AssistantPart::Text {
                    text: text.into_owned(),
                });
            }
        }
        Content::Parts(items) => {
            for item in items {
                match item {
                    ContentPart::Text(text) => push_text(&mut out, text),
                    ContentPart::Reasoning(text) => out.push(AssistantPart::Reasoning {
                        text,
                        signature: None,
                        signed_by: None,
                    }),
                }
            }
        }
    }
    if let Some(refusal) = message.refusal.take() {
        push_text(&mut out, refusal);
    }
    out
}

/// Appends text, extending a text part that is already last.
fn push_text(out: &mut Vec<AssistantPart>, text: String) {
    if text.is_empty() {
        return;
    }
    match out.last_mut() {
        Some(AssistantPart::Text { text: last }) => last.push_str(&text),
        _ => out.push(AssistantPart::Text { text }),
    }
}

fn arguments(text: Option<std::borrow::Cow<'_, str>>) -> String {
    match text {
        Some(text) if !text.trim().is_empty() => text.into_owned(),
        _ => "{}".to_owned(),
    }
}

/// Normalises token usage (DESIGN §2): `prompt_tokens` already includes cached tokens,
/// so it is `input_tokens` as it is; `prompt_tokens_details.cached_tokens` (or DeepSeek's
/// `prompt_cache_hit_tokens`) is `cache_read_tokens`; `prompt_tokens_details.
/// cache_write_tokens` is `cache_write_tokens`; `completion_tokens` is `output_tokens`
/// and `completion_tokens_details.reasoning_tokens` is `reasoning_tokens`.
///
/// Two server deviations are repaired: a missing `completion_tokens` is
/// `total_tokens - prompt_tokens`; and when `total_tokens` shows that
/// `completion_tokens` excluded the reasoning (total = prompt + completion + reasoning,
/// as xAI reports), the reasoning is added to `output_tokens`. Subsets are clamped to
/// their totals.
///
/// ```
/// use tollgate_openai::decode::usage;
/// use tollgate_openai::wire::WireUsage;
///
/// let wire: WireUsage = serde_json::from_str(r#"{"prompt_tokens": 100, "completion_tokens": 30,
///     "prompt_tokens_details": {"cached_tokens": 64},
///     "completion_tokens_details": {"reasoning_tokens": 20}}"#).unwrap();
/// let usage = usage(&wire);
/// assert_eq!((usage.input_tokens, usage.cache_read_tokens), (100, 64));
/// assert_eq!((usage.output_tokens, usage.reasoning_tokens), (30, 20));
/// ```
pub fn usage(wire: &WireUsage) -> Usage {
    let input = wire.prompt_tokens.unwrap_or(0);
    let total = wire.total_tokens;
    let completion = wire
        .completion_tokens
        .or_else(|| total.map(|t| t.saturating_sub(input)))
        .unwrap_or(0);
    let details = wire.prompt_tokens_details.unwrap_or_default();
    let cache_read = details
        .cached_tokens
        .or(wire.prompt_cache_hit_tokens)
        .unwrap_or(0)
        .min(input);
    let cache_write = details
        .cache_write_tokens
        .unwrap_or(0)
        .min(input - cache_read);
    let reasoning = wire
        .completion_tokens_details
        .and_then(|d| d.reasoning_tokens)
        .unwrap_or(0);
    let reasoning_excluded = reasoning > 0
        && wire.completion_tokens.is_some()
        && total == Some(input + completion + reasoning);
    let output = if reasoning_excluded {
        completion + reasoning
    } else {
        completion
    };
    Usage {
        input_tokens: input,
        output_tokens: output,
        cache_read_tokens: cache_read,
        cache_write_tokens: cache_write,
        reasoning_tokens: reasoning.min(output),
    }
}

/// Normalises a finish reason, keeping the raw value.
///
/// OpenAI's values map as [`FinishReason::from_openai`]; compatible servers' extras too:
/// `model_length` (Mistral) and `max_tokens` are `Length`, `eos` / `eos_token`
/// (Together, some local servers) are `Stop`. Anything else is `Other(raw)` (e.g.
/// Mistral's `error`). A `stop` on a turn that holds tool calls is `ToolCalls` (some
/// servers do not say `tool_calls`). A missing finish reason is inferred the same way
/// (`ToolCalls` with calls, `Stop` otherwise) and has no raw value.
pub fn finish_reason(raw: Option<String>, has_tool_calls: bool) -> (FinishReason, Option<String>) {
    let reason = match raw.as_deref() {
        None => FinishReason::Stop,
        Some("model_length" | "max_tokens") => FinishReason::Length,
        Some("eos" | "eos_token") => FinishReason::Stop,
        Some(other) => FinishReason::from_openai(other),
    };
    let reason = if has_tool_calls && reason == FinishReason::Stop {
        FinishReason::ToolCalls
    } else {
        reason
    };
    (reason, raw)
}

/// An id for a response that came without one (`chatcmpl-tg-…`, unique in the process).
pub fn synthetic_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("chatcmpl-tg-{nanos:x}-{n}")
}

/// A stable id for a tool call that came without one: `call_` and 24 alphanumerics
/// derived from the response id and the call's index.
pub fn synthetic_tool_id(response_id: &str, index: u32) -> String {
    let digest =
        ToolIdRule::ExactAlphanumeric { len: 24 }.rewrite(&format!("{response_id}#{index}"));
    format!("call_{digest}")
}

#[cfg(test)]
mod tests {
    use tollgate_core::{ErrorKind, Secret};

    use super::*;

    fn decode(body: &str) -> Result<ChatResponse, Error> {
        response(
            body.as_bytes(),
            "asked-model",
            &ErrorMapper::new("openai", Secret::new("sk-key-xyz")),
            ReplyMeta::default(),
        )
    }

    #[test]
    fn reasoning_comes_before_text_and_a_refusal_is_text() {
        let r = decode(
            r#"{"id":"r","model":"m","choices":[{"message":{"content":"Answer.",
                "reasoning_content":"Think.","refusal":" I can't."},"finish_reason":"stop"}]}"#,
        )
        .unwrap();
        assert_eq!(
            r.message.content,
            vec![
                AssistantPart::Reasoning {
                    text: "Think.".into(),
                    signature: None,
                    signed_by: None,
                },
                AssistantPart::Text {
                    text: "Answer. I can't.".into()
                }
            ]
        );
        assert_eq!(r.finish_reason, FinishReason::Stop);
        assert_eq!(r.provider_finish_reason.as_deref(), Some("stop"));
    }

    #[test]
    fn missing_ids_model_and_finish_reason_are_filled_in() {
        let r = decode(
            r#"{"choices":[{"message":{"tool_calls":[{"function":{"name":"f","arguments":""}}]}}]}"#,
        )
        .unwrap();
        assert!(r.id.starts_with("chatcmpl-tg-"));
        assert_eq!(r.model, "asked-model");
        let call = &r.message.tool_calls[0];
        assert!(
            call.id.starts_with("call_") && call.id.len() == 29,
            "{}",
            call.id
        );
        assert_eq!(call.arguments, "{}");
        assert_eq!(r.finish_reason, FinishReason::ToolCalls);
        assert_eq!(r.provider_finish_reason, None);
        assert_eq!(r.usage, None);
    }

    #[test]
    fn a_tool_call_without_a_name_is_a_decode_error() {
        let err = decode(r#"{"choices":[{"message":{"tool_calls":[{"id":"c","function":{"arguments":"{}"}}]}}]}"#)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode);
    }

    #[test]
    fn an_error_in_a_200_body_is_that_error() {
        let err = decode(r#"{"error":{"message":"upstream failed","code":502}}"#).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert_eq!(err.code(), Some("502"));
    }

    #[test]
    fn malformed_bodies_are_decode_errors_with_an_excerpt() {
        let err = decode("<html>oops sk-key-xyz</html>").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode);
        assert!(err.message().contains("<html>oops"), "{err}");
        assert!(!err.message().contains("sk-key-xyz"), "{err}");
        let err = decode(r#"{"id":"x","choices":[]}"#).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode);
    }

    #[test]
    fn compat_finish_reasons_are_normalised_and_kept_raw() {
        assert_eq!(
            finish_reason(Some("model_length".into()), false),
            (FinishReason::Length, Some("model_length".into()))
        );
        assert_eq!(
            finish_reason(Some("eos".into()), false).0,
            FinishReason::Stop
        );
        assert_eq!(
            finish_reason(Some("error".into()), false).0,
            FinishReason::Other("error".into())
        );
        assert_eq!(
            finish_reason(Some("content_filter".into()), false).0,
            FinishReason::ContentFilter
        );
        assert_eq!(
            finish_reason(Some("stop".into()), true),
            (FinishReason::ToolCalls, Some("stop".into()))
        );
    }

    #[test]
    fn usage_repairs_known_deviations() {
        let read = |json: &str| usage(&serde_json::from_str::<WireUsage>(json).unwrap());
        // DeepSeek cache hits.
        let deepseek = read(
            r#"{"prompt_tokens":100,"completion_tokens":5,"prompt_cache_hit_tokens":80,"prompt_cache_miss_tokens":20}"#,
        );
        assert_eq!(deepseek.cache_read_tokens, 80);
        assert_eq!(deepseek.input_tokens, 100);
        // Reasoning reported outside completion_tokens (total tells).
        let xai = read(
            r#"{"prompt_tokens":10,"completion_tokens":5,"total_tokens":35,"completion_tokens_details":{"reasoning_tokens":20}}"#,
        );
        assert_eq!((xai.output_tokens, xai.reasoning_tokens), (25, 20));
        // Reasoning inside completion_tokens (OpenAI): unchanged.
        let openai = read(
            r#"{"prompt_tokens":10,"completion_tokens":25,"total_tokens":35,"completion_tokens_details":{"reasoning_tokens":20}}"#,
        );
        assert_eq!((openai.output_tokens, openai.reasoning_tokens), (25, 20));
        // Missing completion count.
        assert_eq!(
            read(r#"{"prompt_tokens":10,"total_tokens":12}"#).output_tokens,
            2
        );
        // Cache subsets never exceed the input.
        let odd = read(
            r#"{"prompt_tokens":10,"prompt_tokens_details":{"cached_tokens":50,"cache_write_tokens":5}}"#,
        );
        assert_eq!((odd.cache_read_tokens, odd.cache_write_tokens), (10, 0));
    }

    #[test]
    fn synthetic_tool_ids_are_stable() {
        assert_eq!(synthetic_tool_id("r1", 0), synthetic_tool_id("r1", 0));
        assert_ne!(synthetic_tool_id("r1", 0), synthetic_tool_id("r1", 1));
    }
}
