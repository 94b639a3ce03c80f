//! Writing a complete [`ChatResponse`] as an OpenAI `chat.completion` object, once,
//! straight from the core types (borrowed, not copied).

use std::fmt;

use serde::Serialize;
use serde::ser::{SerializeSeq, Serializer};
use tollgate_core::{AssistantPart, ChatResponse, ToolCall, Usage};

/// OpenAI's `usage` object for a core [`Usage`].
#[derive(Debug, Serialize)]
pub struct WireUsage {
    /// All input tokens (cached included).
    pub prompt_tokens: u64,
    /// All output tokens (reasoning included).
    pub completion_tokens: u64,
    /// Their sum.
    pub total_tokens: u64,
    /// `cached_tokens`, and `cache_write_tokens` (a tollgate extension).
    pub prompt_tokens_details: PromptDetails,
    /// `reasoning_tokens`.
    pub completion_tokens_details: CompletionDetails,
    /// The cost of the call in USD, when the gateway knows the price (a tollgate
    /// extension, present only on streamed usage chunks; complete calls report it in
    /// the `x-tollgate-cost-usd` header).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
}

/// Details of the input tokens.
#[derive(Debug, Serialize)]
pub struct PromptDetails {
    /// Input tokens read from the provider's cache.
    pub cached_tokens: u64,
    /// Input tokens written to the provider's cache.
    pub cache_write_tokens: u64,
}

/// Details of the output tokens.
#[derive(Debug, Serialize)]
pub struct CompletionDetails {
    /// Output tokens spent on reasoning.
    pub reasoning_tokens: u64,
}

impl WireUsage {
    /// The OpenAI form of `usage`.
    pub fn new(usage: &Usage, cost_usd: Option<f64>) -> Self {
        Self {
            prompt_tokens: usage.input_tokens,
            completion_tokens: usage.output_tokens,
            total_tokens: usage.total_tokens(),
            prompt_tokens_details: PromptDetails {
                cached_tokens: usage.cache_read_tokens,
                cache_write_tokens: usage.cache_write_tokens,
            },
            completion_tokens_details: CompletionDetails {
                reasoning_tokens: usage.reasoning_tokens,
            },
            cost_usd,
        }
    }
}

/// A `chat.completion` object borrowing from a [`ChatResponse`].
#[derive(Serialize)]
struct Completion<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    choices: [CompletionChoice<'a>; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<WireUsage>,
}

#[derive(Serialize)]
struct CompletionChoice<'a> {
    index: u32,
    message: WireMessage<'a>,
    logprobs: (),
    finish_reason: &'a str,
}

#[derive(Serialize)]
struct WireMessage<'a> {
    role: &'static str,
    content: Option<Joined<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_content: Option<Joined<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_calls: Option<WireToolCalls<'a>>,
    refusal: (),
}

/// The text (or reasoning) parts of an assistant turn, serialized as one string without
/// building it first.
struct Joined<'a> {
    parts: &'a [AssistantPart],
    reasoning: bool,
}

impl Joined<'_> {
    fn texts(&self) -> impl Iterator<Item = &str> {
        let reasoning = self.reasoning;
        self.parts.iter().filter_map(move |part| match part {
            AssistantPart::Text { text } if !reasoning => Some(text.as_str()),
            AssistantPart::Reasoning { text, .. } if reasoning => Some(text.as_str()),
            _ => None,
        })
    }
}

impl fmt::Display for Joined<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for text in self.texts() {
            f.write_str(text)?;
        }
        Ok(())
    }
}

impl Serialize for Joined<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut texts = self.texts();
        match (texts.next(), texts.next()) {
            (None, _) => serializer.serialize_str(""),
            (Some(only), None) => serializer.serialize_str(only),
            _ => serializer.collect_str(self),
        }
    }
}

struct WireToolCalls<'a>(&'a [ToolCall]);

impl Serialize for WireToolCalls<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for call in self.0 {
            seq.serialize_element(&WireToolCall {
                id: &call.id,
                kind: "function",
                function: WireFunction {
                    name: &call.name,
                    arguments: if call.arguments.is_empty() {
                        "{}"
                    } else {
                        &call.arguments
                    },
                },
            })?;
        }
        seq.end()
    }
}

#[derive(Serialize)]
struct WireToolCall<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: WireFunction<'a>,
}

#[derive(Serialize)]
struct WireFunction<'a> {
    name: &'a str,
    arguments: &'a str,
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
    let completion = Completion {
        id: &response.id,
        object: "chat.completion",
        created,
        model: &response.model,
        choices: [CompletionChoice {
            index: 0,
            message: WireMessage {
                role: "assistant",
                // OpenAI sends `content: null` on a turn that only calls tools.
                content: (has_text || tool_calls.is_empty()).then_some(Joined {
                    parts,
                    reasoning: false,
                }),
                reasoning_content: has_reasoning.then_some(Joined {
                    parts,
                    reasoning: true,
                }),
                tool_calls: (!tool_calls.is_empty()).then_some(WireToolCalls(tool_calls)),
                refusal: (),
            },
            logprobs: (),
            finish_reason: response.finish_reason.as_str(),
        }],
        usage: response.usage.as_ref().map(|u| WireUsage::new(u, None)),
    };
    // Sized up front so the buffer is not grown (and copied) while it is written.
    let mut out = Vec::with_capacity(encoded_size_hint(response));
    // Serializing borrowed strings and numbers into a Vec cannot fail.
    if serde_json::to_writer(&mut out, &completion).is_err() {
        out.clear();
    }
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
