//! Wire responses → [`ChatEvent`]s and [`ChatResponse`]s.
//!
//! Complete responses and stream chunks go through the same [`PartDecoder`], and complete
//! responses are folded with the core [`StreamAccumulator`], so a streamed answer collects
//! to exactly what the same answer decodes to in one piece.

use serde_json::Value;
use tollgate_core::stable_id::{Fnv1a, base62};
use tollgate_core::{
    ChatEvent, ChatResponse, Error, ErrorKind, FinishReason, ReplyMeta, StreamAccumulator, Usage,
};

use crate::wire::{Candidate, GenerateContentResponse, Part, PromptFeedback, UsageMetadata};

/// What the accumulator's last content part is, so signatures land on the part they belong
/// to (see [`PartDecoder::push`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Last {
    Nothing,
    Text,
    Reasoning,
    SignedReasoning,
}

/// Turns the parts of the answering candidate into events, chunk after chunk.
#[derive(Debug)]
pub(crate) struct PartDecoder {
    response_id: String,
    last: Last,
    calls: u32,
}

impl PartDecoder {
    /// A decoder for the response `response_id` (used in synthesised call ids).
    pub(crate) fn new(response_id: String) -> Self {
        Self {
            response_id,
            last: Last::Nothing,
            calls: 0,
        }
    }

    /// Whether any function call was seen.
    pub(crate) fn has_calls(&self) -> bool {
        self.calls > 0
    }

    /// Emits the events of `parts`.
    ///
    /// - text → `TextDelta`; thought text → `ReasoningDelta`;
    /// - a `thoughtSignature` on a thought part → `ReasoningSignature` of that reasoning part;
    /// - a `thoughtSignature` on any other part → a signature-only reasoning part after the
    ///   content so far (merged into an unsigned reasoning part right before it), which the
    ///   encoder echoes back on the same kind of part;
    /// - `functionCall` → `ToolCallStart` + one `ToolCallDelta` with the whole arguments.
    pub(crate) fn push(&mut self, parts: Vec<Part>, emit: &mut impl FnMut(ChatEvent)) {
        for part in parts {
            let signature = part.thought_signature.filter(|s| !s.is_empty());
            if let Some(call) = part.function_call {
                let index = self.calls;
                self.calls += 1;
                let arguments = match call.args {
                    None | Some(Value::Null) => "{}".to_owned(),
                    Some(args) => args.to_string(),
                };
                let id = match call.id.filter(|id| !id.is_empty()) {
                    Some(id) => id,
                    None => synthesised_call_id(&self.response_id, index, &call.name, &arguments),
                };
                emit(ChatEvent::ToolCallStart {
                    index,
                    id,
                    name: call.name,
                });
                emit(ChatEvent::ToolCallDelta { index, arguments });
                if let Some(signature) = signature {
                    self.signature(signature, emit);
                }
                continue;
            }
            let Some(text) = part.text else {
                // Media and parts of unknown kinds carry nothing Tollgate models; a
                // signature on them is still kept.
                if let Some(signature) = signature {
                    self.signature(signature, emit);
                }
                continue;
            };
            if part.thought == Some(true) {
                if text.is_empty() && signature.is_none() {
                    continue;
                }
                emit(ChatEvent::ReasoningDelta { text });
                self.last = Last::Reasoning;
                if let Some(signature) = signature {
                    emit(ChatEvent::ReasoningSignature { signature });
                    self.last = Last::SignedReasoning;
                }
            } else {
                if !text.is_empty() {
                    emit(ChatEvent::TextDelta { text });
                    self.last = Last::Text;
                }
                if let Some(signature) = signature {
                    self.signature(signature, emit);
                }
            }
        }
    }

    /// A signature that starts its own reasoning part (never appended to another signature).
    fn signature(&mut self, signature: String, emit: &mut impl FnMut(ChatEvent)) {
        if self.last == Last::SignedReasoning {
            emit(ChatEvent::ReasoningDelta {
                text: String::new(),
            });
        }
        emit(ChatEvent::ReasoningSignature { signature });
        self.last = Last::SignedReasoning;
    }
}

/// A stable id for a call the model gave none: `call_<index>_<hash>`, the hash over the
/// response id, the call's position, name and arguments. The same response always yields
/// the same ids; two calls of one response never share one.
pub(crate) fn synthesised_call_id(
    response_id: &str,
    index: u32,
    name: &str,
    arguments: &str,
) -> String {
    let mut hash = Fnv1a::new();
    hash.write(response_id.as_bytes());
    hash.write(&[0]);
    hash.write(&index.to_le_bytes());
    hash.write(name.as_bytes());
    hash.write(&[0]);
    hash.write(arguments.as_bytes());
    format!("call_{index}_{}", base62(hash.finish(), 10))
}

/// A stable response id for a response that carries none, from its bytes.
pub(crate) fn synthesised_response_id(body: &[u8]) -> String {
    let mut hash = Fnv1a::new();
    hash.write(body);
    format!("gemini-{}", base62(hash.finish(), 16))
}

/// Gemini's finish reason, normalised: `STOP` with function calls → tool calls, `STOP` →
/// stop, `MAX_TOKENS` → length, the safety family → content filter, anything else kept
/// as [`FinishReason::Other`].
pub(crate) fn finish_reason(raw: &str, has_calls: bool) -> FinishReason {
    match raw {
        "STOP" if has_calls => FinishReason::ToolCalls,
        "STOP" => FinishReason::Stop,
        "MAX_TOKENS" => FinishReason::Length,
        "SAFETY"
        | "RECITATION"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT"
        | "IMAGE_RECITATION" => FinishReason::ContentFilter,
        other => FinishReason::Other(other.to_owned()),
    }
}

/// `usageMetadata` in Tollgate's normalised shape: input = prompt + tool-use prompt (cache
/// included), output = candidates + thoughts.
pub(crate) fn usage(metadata: &UsageMetadata) -> Usage {
    Usage {
        input_tokens: metadata.prompt_token_count + metadata.tool_use_prompt_token_count,
        output_tokens: metadata.candidates_token_count + metadata.thoughts_token_count,
        cache_read_tokens: metadata.cached_content_token_count,
        cache_write_tokens: 0,
        reasoning_tokens: metadata.thoughts_token_count,
    }
}

/// The error for a prompt Gemini blocked (`promptFeedback.blockReason`, no candidates).
pub(crate) fn blocked(feedback: &PromptFeedback) -> Option<Error> {
    let reason = feedback.block_reason.as_deref()?;
    let mut message = format!("the prompt was blocked ({reason})");
    if let Some(detail) = feedback.block_reason_message.as_deref() {
        message.push_str(": ");
        message.push_str(detail);
    }
    Some(
        Error::new(ErrorKind::ContentFiltered, message)
            .with_provider(crate::PROVIDER)
            .with_code(reason),
    )
}

/// The answering candidate (index 0, else the first).
pub(crate) fn take_candidate(candidates: Vec<Candidate>) -> Option<Candidate> {
    let position = candidates
        .iter()
        .position(|c| c.index.unwrap_or(0) == 0)
        .unwrap_or(0);
    candidates.into_iter().nth(position)
}

/// A complete `generateContent` response → [`ChatResponse`].
///
/// `body` is the raw body, hashed for an id when the response has no `responseId`;
/// `requested_model` stands in for a missing `modelVersion`.
///
/// # Errors
///
/// [`ErrorKind::ContentFiltered`] for a blocked prompt, the mapped error for an error body,
/// [`ErrorKind::Decode`] for a response without candidates.
pub(crate) fn decode_response(
    response: GenerateContentResponse,
    body: &[u8],
    requested_model: &str,
    meta: ReplyMeta,
    api_key: &str,
) -> Result<ChatResponse, Error> {
    if let Some(status) = &response.error {
        return Err(crate::error::from_status(status, None, None, api_key));
    }
    let id = match response.response_id {
        Some(id) if !id.is_empty() => id,
        _ => synthesised_response_id(body),
    };
    let Some(candidate) = take_candidate(response.candidates) else {
        if let Some(error) = response.prompt_feedback.as_ref().and_then(blocked) {
            return Err(error);
        }
        return Err(
            Error::decode("the response has no candidates", body).with_provider(crate::PROVIDER)
        );
    };
    let mut acc = StreamAccumulator::new();
    acc.push(ChatEvent::Start {
        id: id.clone(),
        model: response
            .model_version
            .unwrap_or_else(|| requested_model.to_owned()),
    });
    let mut decoder = PartDecoder::new(id);
    if let Some(content) = candidate.content {
        decoder.push(content.parts, &mut |event| acc.push(event));
    }
    if let Some(metadata) = &response.usage_metadata {
        acc.push(ChatEvent::Usage(usage(metadata)));
    }
    let (reason, raw) = match candidate.finish_reason {
        Some(raw) => (finish_reason(&raw, decoder.has_calls()), Some(raw)),
        None => (
            FinishReason::Other("FINISH_REASON_UNSPECIFIED".to_owned()),
            None,
        ),
    };
    acc.push(ChatEvent::Finish { reason, raw });
    acc.finish(meta)
}

#[cfg(test)]
mod tests {
    use tollgate_core::{AssistantPart, ToolCall};

    use super::*;

    fn decode(body: &str) -> Result<ChatResponse, Error> {
        let response: GenerateContentResponse = serde_json::from_str(body).unwrap();
        decode_response(
            response,
            body.as_bytes(),
            "asked-model",
            ReplyMeta::for_provider(crate::PROVIDER, "https://generativelanguage.googleapis.com"),
            "k",
        )
    }

    #[test]
    fn text_fixture_decodes_to_exact_values() {
        let r = decode(include_str!("../tests/data/generate-content-text.json")).unwrap();
        assert_eq!(r.id, "q3mVaeK2Ocz4nsEPw9mS-Ak");
        assert_eq!(r.model, "gemini-2.5-flash");
        assert_eq!(
            r.text(),
            "A lighthouse keeper's log usually records the weather, the state of the lamp, \
             and any ships sighted during the watch."
        );
        assert_eq!(r.finish_reason, FinishReason::Stop);
        assert_eq!(r.provider_finish_reason.as_deref(), Some("STOP"));
        assert_eq!(
            r.usage,
            Some(Usage {
                input_tokens: 14,
                output_tokens: 26 + 271,
                cache_read_tokens: 0,
                cache_write_tokens: 0,
                reasoning_tokens: 271,
            })
        );
        assert!(r.message.tool_calls.is_empty());
    }

    #[test]
    fn function_call_fixture_decodes_to_exact_values() {
        let r = decode(include_str!(
            "../tests/data/generate-content-function-call.json"
        ))
        .unwrap();
        assert_eq!(r.id, "r4mVabHkFuT3nsEPpe6D0Qw");
        assert_eq!(r.finish_reason, FinishReason::ToolCalls);
        assert_eq!(r.provider_finish_reason.as_deref(), Some("STOP"));
        let calls = &r.message.tool_calls;
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].name, "get_tide_times");
        assert_eq!(
            calls[0].arguments_json().unwrap(),
            serde_json::json!({"harbor": "Brest", "date": "2026-03-14"})
        );
        assert_eq!(
            calls[1].arguments_json().unwrap(),
            serde_json::json!({"harbor": "Saint-Malo", "date": "2026-03-14"})
        );
        assert!(calls[0].id.starts_with("call_0_"), "{}", calls[0].id);
        assert!(calls[1].id.starts_with("call_1_"), "{}", calls[1].id);
        assert_ne!(calls[0].id, calls[1].id);
        // The signature of the first call is kept as a signature-only reasoning part.
        assert_eq!(r.message.content.len(), 1);
        match &r.message.content[0] {
            AssistantPart::Reasoning {
                text,
                signature,
                signed_by,
            } => {
                assert_eq!(signed_by.as_deref(), Some("gcp.gemini"));
                assert!(text.is_empty());
                assert!(
                    signature
                        .as_deref()
                        .unwrap()
                        .starts_with("CiQBjz1rX0wN9c6q")
                );
            }
            other => panic!("unexpected part {other:?}"),
        }
        assert_eq!(
            r.usage,
            Some(Usage {
                input_tokens: 1342,
                output_tokens: 38 + 144,
                cache_read_tokens: 1024,
                cache_write_tokens: 0,
                reasoning_tokens: 144,
            })
        );
    }

    #[test]
    fn the_same_response_yields_the_same_ids_and_other_responses_other_ids() {
        let body = include_str!("../tests/data/generate-content-function-call.json");
        let a = decode(body).unwrap();
        let b = decode(body).unwrap();
        let ids = |r: &ChatResponse| -> Vec<String> {
            r.message.tool_calls.iter().map(|c| c.id.clone()).collect()
        };
        assert_eq!(ids(&a), ids(&b));
        let other = body.replace("r4mVabHkFuT3nsEPpe6D0Qw", "another-response");
        let c = decode(&other).unwrap();
        assert_ne!(ids(&a), ids(&c));
    }

    #[test]
    fn identical_calls_in_one_response_get_different_ids() {
        let body = r#"{"candidates":[{"content":{"role":"model","parts":[
            {"functionCall":{"name":"f","args":{"a":1}}},
            {"functionCall":{"name":"f","args":{"a":1}}}]},"finishReason":"STOP"}],
            "responseId":"r"}"#;
        let r = decode(body).unwrap();
        assert_ne!(r.message.tool_calls[0].id, r.message.tool_calls[1].id);
    }

    #[test]
    fn ids_the_model_gave_are_kept() {
        let body = r#"{"candidates":[{"content":{"role":"model","parts":[
            {"functionCall":{"id":"fc-1","name":"f"}}]},"finishReason":"STOP"}]}"#;
        let r = decode(body).unwrap();
        assert_eq!(r.message.tool_calls, vec![ToolCall::new("fc-1", "f", "{}")]);
        assert_eq!(r.model, "asked-model");
        assert!(r.id.starts_with("gemini-"));
        assert_eq!(r.id, decode(body).unwrap().id);
    }

    #[test]
    fn thoughts_become_reasoning_and_signatures_stay_with_their_parts() {
        let body = r#"{"candidates":[{"content":{"role":"model","parts":[
            {"text":"Let me think","thought":true},
            {"text":" harder","thought":true},
            {"functionCall":{"name":"f","args":{}},"thoughtSignature":"sig-call"}
        ]},"finishReason":"STOP"}],"responseId":"r"}"#;
        let r = decode(body).unwrap();
        assert_eq!(
            r.message.content,
            vec![AssistantPart::Reasoning {
                text: "Let me think harder".into(),
                signature: Some("sig-call".into()),
                signed_by: Some("gcp.gemini".into()),
            }]
        );
        let body = r#"{"candidates":[{"content":{"role":"model","parts":[
            {"text":"plan","thought":true,"thoughtSignature":"s1"},
            {"text":"Answer"},
            {"text":"","thoughtSignature":"s2"}
        ]},"finishReason":"STOP"}],"responseId":"r"}"#;
        let r = decode(body).unwrap();
        assert_eq!(
            r.message.content,
            vec![
                AssistantPart::Reasoning {
                    text: "plan".into(),
                    signature: Some("s1".into()),
                    signed_by: Some("gcp.gemini".into()),
                },
                AssistantPart::Text {
                    text: "Answer".into()
                },
                AssistantPart::Reasoning {
                    text: String::new(),
                    signature: Some("s2".into()),
                    signed_by: Some("gcp.gemini".into()),
                },
            ]
        );
        assert_eq!(r.text(), "Answer");
    }

    #[test]
    fn two_signatures_in_a_row_stay_separate() {
        let body = r#"{"candidates":[{"content":{"role":"model","parts":[
            {"text":"plan","thought":true,"thoughtSignature":"s1"},
            {"functionCall":{"name":"f"},"thoughtSignature":"s2"}
        ]},"finishReason":"STOP"}],"responseId":"r"}"#;
        let r = decode(body).unwrap();
        assert_eq!(r.message.content.len(), 2);
        assert_eq!(
            r.message.content[1],
            AssistantPart::Reasoning {
                text: String::new(),
                signature: Some("s2".into()),
                signed_by: Some("gcp.gemini".into()),
            }
        );
    }

    #[test]
    fn finish_reasons_are_normalised_and_kept_raw() {
        assert_eq!(finish_reason("STOP", false), FinishReason::Stop);
        assert_eq!(finish_reason("STOP", true), FinishReason::ToolCalls);
        assert_eq!(finish_reason("MAX_TOKENS", true), FinishReason::Length);
        for raw in [
            "SAFETY",
            "RECITATION",
            "BLOCKLIST",
            "PROHIBITED_CONTENT",
            "SPII",
            "IMAGE_SAFETY",
            "IMAGE_PROHIBITED_CONTENT",
            "IMAGE_RECITATION",
        ] {
            assert_eq!(
                finish_reason(raw, false),
                FinishReason::ContentFilter,
                "{raw}"
            );
        }
        assert_eq!(
            finish_reason("MALFORMED_FUNCTION_CALL", false),
            FinishReason::Other("MALFORMED_FUNCTION_CALL".into())
        );
        assert_eq!(
            finish_reason("BRAND_NEW", false),
            FinishReason::Other("BRAND_NEW".into())
        );
    }

    #[test]
    fn tool_use_prompt_tokens_count_as_input() {
        let metadata = UsageMetadata {
            prompt_token_count: 10,
            tool_use_prompt_token_count: 5,
            candidates_token_count: 3,
            thoughts_token_count: 2,
            cached_content_token_count: 4,
            total_token_count: 20,
        };
        assert_eq!(
            usage(&metadata),
            Usage {
                input_tokens: 15,
                output_tokens: 5,
                cache_read_tokens: 4,
                cache_write_tokens: 0,
                reasoning_tokens: 2
            }
        );
    }

    #[test]
    fn a_blocked_prompt_is_a_content_filtered_error() {
        let err = decode(
            r#"{"promptFeedback":{"blockReason":"PROHIBITED_CONTENT","blockReasonMessage":"no"},
                "usageMetadata":{"promptTokenCount":5},"responseId":"r"}"#,
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ContentFiltered);
        assert_eq!(err.code(), Some("PROHIBITED_CONTENT"));
    }

    #[test]
    fn a_response_without_candidates_or_block_reason_is_a_decode_error() {
        let err = decode(r#"{"responseId":"r"}"#).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode);
    }

    #[test]
    fn a_safety_stop_without_content_is_a_content_filter_finish() {
        let r = decode(r#"{"candidates":[{"finishReason":"SAFETY","index":0}],"responseId":"r"}"#)
            .unwrap();
        assert_eq!(r.finish_reason, FinishReason::ContentFilter);
        assert_eq!(r.provider_finish_reason.as_deref(), Some("SAFETY"));
        assert!(r.message.content.is_empty());
    }
}
