//! Rebuilding a complete answer from stream events: the one accumulator every provider,
//! router layer and the gateway share.

use crate::error::{Error, ErrorKind};
use crate::event::ChatEvent;
use crate::message::{AssistantMessage, AssistantPart, ToolCall};
use crate::response::{ChatResponse, FinishReason, ReplyMeta};
use crate::usage::Usage;

/// The most tool calls one reply may carry. A tool-call index at or beyond it is a
/// decoding error rather than an allocation the size of whatever a server sent.
pub const MAX_TOOL_CALLS: u32 = 1024;

/// Folds [`ChatEvent`]s into a [`ChatResponse`].
///
/// Text deltas extend the current text part, reasoning deltas the current reasoning part
/// (a switch between the two starts a new part, so their order is kept). Each
/// `ReasoningRedacted` becomes a redacted-reasoning part of its own, in its place among
/// them. Signed and redacted reasoning is stamped with the provider that answered
/// (`signed_by`), as a complete response's decoder does. Tool calls are
/// gathered by index, so interleaved deltas of parallel calls land on the right call;
/// arguments that stay empty read as `{}`. The last `Usage` wins.
///
/// ```
/// use tollgate_core::{ChatEvent, FinishReason, StreamAccumulator};
///
/// let mut acc = StreamAccumulator::new();
/// for event in [
///     ChatEvent::Start { id: "r1".into(), model: "m".into() },
///     ChatEvent::ToolCallStart { index: 1, id: "b".into(), name: "g".into() },
///     ChatEvent::ToolCallStart { index: 0, id: "a".into(), name: "f".into() },
///     ChatEvent::ToolCallDelta { index: 0, arguments: "{\"x\":".into() },
///     ChatEvent::ToolCallDelta { index: 1, arguments: "{}".into() },
///     ChatEvent::ToolCallDelta { index: 0, arguments: "1}".into() },
///     ChatEvent::Finish { reason: FinishReason::ToolCalls, raw: None },
/// ] {
///     acc.push(event);
/// }
/// let response = acc.finish(Default::default()).unwrap();
/// assert_eq!(response.message.tool_calls[0].arguments, "{\"x\":1}");
/// assert_eq!(response.message.tool_calls[1].name, "g");
/// ```
#[derive(Debug, Default)]
pub struct StreamAccumulator {
    /// The first tool-call index beyond [`MAX_TOOL_CALLS`], if one arrived.
    overflow: Option<u32>,
    id: String,
    model: String,
    content: Vec<AssistantPart>,
    tool_calls: Vec<Option<ToolCall>>,
    usage: Option<Usage>,
    finish: Option<(FinishReason, Option<String>)>,
}

impl StreamAccumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Folds one event in.
    pub fn push(&mut self, event: ChatEvent) {
        match event {
            ChatEvent::Start { id, model } => {
                self.id = id;
                self.model = model;
            }
            ChatEvent::TextDelta { text } => match self.content.last_mut() {
                Some(AssistantPart::Text { text: current }) => current.push_str(&text),
                _ => self.content.push(AssistantPart::Text { text }),
            },
            ChatEvent::ReasoningDelta { text } => match self.content.last_mut() {
                Some(AssistantPart::Reasoning {
                    text: current,
                    signature: None,
                    ..
                }) => current.push_str(&text),
                _ => self.content.push(AssistantPart::Reasoning {
                    text,
                    signature: None,
                    signed_by: None,
                }),
            },
            ChatEvent::ReasoningSignature { signature } => match self.content.last_mut() {
                Some(AssistantPart::Reasoning {
                    signature: slot, ..
                }) => slot.get_or_insert_with(String::new).push_str(&signature),
                _ => self.content.push(AssistantPart::Reasoning {
                    text: String::new(),
                    signature: Some(signature),
                    signed_by: None,
                }),
            },
            ChatEvent::ReasoningRedacted { data } => {
                // A whole block in one event: never merged with its neighbours.
                self.content.push(AssistantPart::RedactedReasoning {
                    data,
                    signed_by: None,
                });
            }
            ChatEvent::ToolCallStart { index, id, name } => {
                let Some(slot) = self.slot(index) else { return };
                match slot {
                    Some(call) => {
                        // A repeated start (some servers resend id/name) keeps what arrived.
                        if call.id.is_empty() {
                            call.id = id;
                        }
                        if call.name.is_empty() {
                            call.name = name;
                        }
                    }
                    None => *slot = Some(ToolCall::new(id, name, String::new())),
                }
            }
            ChatEvent::ToolCallDelta { index, arguments } => {
                let Some(slot) = self.slot(index) else { return };
                slot.get_or_insert_with(|| ToolCall::new("", "", ""))
                    .arguments
                    .push_str(&arguments);
            }
            ChatEvent::Usage(usage) => self.usage = Some(usage),
            ChatEvent::Finish { reason, raw } => self.finish = Some((reason, raw)),
        }
    }

    fn slot(&mut self, index: u32) -> Option<&mut Option<ToolCall>> {
        if index >= MAX_TOOL_CALLS {
            self.overflow.get_or_insert(index);
            return None;
        }
        let index = index as usize;
        if self.tool_calls.len() <= index {
            self.tool_calls.resize(index + 1, None);
        }
        self.tool_calls.get_mut(index)
    }

    /// Whether a `Finish` event has arrived.
    pub fn is_finished(&self) -> bool {
        self.finish.is_some()
    }

    /// The usage seen so far.
    pub fn usage(&self) -> Option<Usage> {
        self.usage
    }

    /// The complete response.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Decode`] when no `Finish` event arrived (the stream was cut), a tool
    /// call never received its name, or a tool-call index exceeded [`MAX_TOOL_CALLS`].
    pub fn finish(self, meta: ReplyMeta) -> Result<ChatResponse, Error> {
        if let Some(index) = self.overflow {
            return Err(Error::new(
                ErrorKind::Decode,
                format!("tool call index {index} is beyond the limit of {MAX_TOOL_CALLS} calls"),
            ));
        }
        let Some((finish_reason, provider_finish_reason)) = self.finish else {
            return Err(Error::new(
                ErrorKind::Decode,
                "the stream ended without a finish event",
            ));
        };
        let mut content = self.content;
        // Signatures and redacted reasoning arrive as bare events; the provider that
        // answered produced them.
        if !meta.provider.is_empty() {
            for part in &mut content {
                match part {
                    AssistantPart::Reasoning {
                        signature: Some(_),
                        signed_by: signed_by @ None,
                        ..
                    }
                    | AssistantPart::RedactedReasoning {
                        signed_by: signed_by @ None,
                        ..
                    } => *signed_by = Some(meta.provider.clone()),
                    _ => {}
                }
            }
        }
        let mut tool_calls = Vec::with_capacity(self.tool_calls.len());
        for (index, call) in self.tool_calls.into_iter().enumerate() {
            // Gaps in the indices are tolerated: some servers number calls sparsely.
            let Some(mut call) = call else { continue };
            if call.name.is_empty() {
                return Err(Error::new(
                    ErrorKind::Decode,
                    format!("tool call {index} has arguments but no name"),
                ));
            }
            if call.arguments.trim().is_empty() {
                call.arguments = "{}".to_owned();
            }
            tool_calls.push(call);
        }
        Ok(ChatResponse {
            id: self.id,
            model: self.model,
            message: AssistantMessage {
                content,
                tool_calls,
            },
            finish_reason,
            provider_finish_reason,
            usage: self.usage,
            meta,
        })
    }
}

/// The events that replay a complete response as a stream (used where a caller wants a
/// stream from a service that answered in one piece, e.g. a cache or a simulator).
pub fn events_of(response: &ChatResponse) -> Vec<ChatEvent> {
    let mut events = vec![ChatEvent::Start {
        id: response.id.clone(),
        model: response.model.clone(),
    }];
    for part in &response.message.content {
        match part {
            AssistantPart::Text { text } => {
                events.push(ChatEvent::TextDelta { text: text.clone() })
            }
            AssistantPart::Reasoning {
                text, signature, ..
            } => {
                events.push(ChatEvent::ReasoningDelta { text: text.clone() });
                if let Some(signature) = signature {
                    events.push(ChatEvent::ReasoningSignature {
                        signature: signature.clone(),
                    });
                }
            }
            AssistantPart::RedactedReasoning { data, .. } => {
                events.push(ChatEvent::ReasoningRedacted { data: data.clone() });
            }
        }
    }
    for (index, call) in response.message.tool_calls.iter().enumerate() {
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        events.push(ChatEvent::ToolCallStart {
            index,
            id: call.id.clone(),
            name: call.name.clone(),
        });
        events.push(ChatEvent::ToolCallDelta {
            index,
            arguments: call.arguments.clone(),
        });
    }
    if let Some(usage) = response.usage {
        events.push(ChatEvent::Usage(usage));
    }
    events.push(ChatEvent::Finish {
        reason: response.finish_reason.clone(),
        raw: response.provider_finish_reason.clone(),
    });
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> ChatEvent {
        ChatEvent::Start {
            id: "id".into(),
            model: "m".into(),
        }
    }

    fn finish(reason: FinishReason) -> ChatEvent {
        ChatEvent::Finish { reason, raw: None }
    }

    #[test]
    fn text_and_reasoning_keep_their_order() {
        let mut acc = StreamAccumulator::new();
        for e in [
            start(),
            ChatEvent::ReasoningDelta {
                text: "think ".into(),
            },
            ChatEvent::ReasoningDelta {
                text: "more".into(),
            },
            ChatEvent::ReasoningSignature {
                signature: "sig".into(),
            },
            ChatEvent::text("Hel"),
            ChatEvent::text("lo"),
            ChatEvent::Usage(Usage::new(3, 4)),
            ChatEvent::Usage(Usage::new(3, 9)),
            finish(FinishReason::Stop),
        ] {
            acc.push(e);
        }
        let r = acc.finish(ReplyMeta::default()).unwrap();
        assert_eq!(
            r.message.content,
            vec![
                AssistantPart::Reasoning {
                    text: "think more".into(),
                    signature: Some("sig".into()),
                    signed_by: None,
                },
                AssistantPart::Text {
                    text: "Hello".into()
                },
            ]
        );
        assert_eq!(r.usage, Some(Usage::new(3, 9)));
    }

    #[test]
    fn signatures_are_stamped_with_the_provider_that_answered() {
        let mut acc = StreamAccumulator::new();
        for e in [
            start(),
            ChatEvent::ReasoningDelta { text: "hm".into() },
            ChatEvent::ReasoningSignature {
                signature: "sig".into(),
            },
            ChatEvent::ReasoningDelta {
                text: "unsigned".into(),
            },
            finish(FinishReason::Stop),
        ] {
            acc.push(e);
        }
        let meta = ReplyMeta {
            provider: "anthropic".into(),
            ..ReplyMeta::default()
        };
        let r = acc.finish(meta).unwrap();
        let signed = &r.message.content[0];
        assert_eq!(signed.signature_for("anthropic"), Some("sig"));
        assert_eq!(signed.signature_for("gcp.gemini"), None);
        assert!(signed.is_foreign_reasoning("gcp.gemini"));
        assert!(!signed.is_foreign_reasoning("anthropic"));
        // Unsigned reasoning is nobody's: it carries no provenance.
        assert!(matches!(
            &r.message.content[1],
            AssistantPart::Reasoning {
                signed_by: None,
                ..
            }
        ));
    }

    /// Redacted reasoning arriving between two thinking blocks and before the answer
    /// keeps its place, is never merged into its neighbours, and is stamped with the
    /// provider that answered so it can be echoed back to it (and only to it).
    #[test]
    fn redacted_reasoning_keeps_its_place_and_is_stamped_with_the_provider() {
        let mut acc = StreamAccumulator::new();
        for e in [
            start(),
            ChatEvent::ReasoningDelta {
                text: "first".into(),
            },
            ChatEvent::ReasoningSignature {
                signature: "sig1".into(),
            },
            ChatEvent::ReasoningRedacted {
                data: "opaque-1".into(),
            },
            ChatEvent::ReasoningRedacted {
                data: "opaque-2".into(),
            },
            ChatEvent::ReasoningDelta {
                text: "second".into(),
            },
            ChatEvent::ReasoningSignature {
                signature: "sig2".into(),
            },
            ChatEvent::text("Answer."),
            finish(FinishReason::Stop),
        ] {
            acc.push(e);
        }
        let meta = ReplyMeta {
            provider: "anthropic".into(),
            ..ReplyMeta::default()
        };
        let r = acc.finish(meta).unwrap();
        let anthropic = Some("anthropic".to_owned());
        assert_eq!(
            r.message.content,
            vec![
                AssistantPart::Reasoning {
                    text: "first".into(),
                    signature: Some("sig1".into()),
                    signed_by: anthropic.clone(),
                },
                AssistantPart::RedactedReasoning {
                    data: "opaque-1".into(),
                    signed_by: anthropic.clone(),
                },
                AssistantPart::RedactedReasoning {
                    data: "opaque-2".into(),
                    signed_by: anthropic.clone(),
                },
                AssistantPart::Reasoning {
                    text: "second".into(),
                    signature: Some("sig2".into()),
                    signed_by: anthropic,
                },
                AssistantPart::Text {
                    text: "Answer.".into()
                },
            ]
        );
        assert_eq!(
            r.message.reasoning_content().as_deref(),
            Some("firstsecond")
        );
        assert!(!r.message.content[1].may_send_to("gcp.gemini"));

        // Replayed as events, the response rebuilds to itself.
        let mut again = StreamAccumulator::new();
        for e in events_of(&r) {
            again.push(e);
        }
        assert_eq!(again.finish(r.meta.clone()).unwrap(), r);
    }

    #[test]
    fn a_stream_without_finish_is_an_error() {
        let mut acc = StreamAccumulator::new();
        acc.push(start());
        acc.push(ChatEvent::text("partial"));
        let err = acc.finish(ReplyMeta::default()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode);
    }

    #[test]
    fn an_absurd_tool_call_index_is_a_decode_error_not_an_allocation() {
        let mut acc = StreamAccumulator::new();
        acc.push(start());
        acc.push(ChatEvent::ToolCallStart {
            index: u32::MAX,
            id: "c".into(),
            name: "f".into(),
        });
        acc.push(finish(FinishReason::ToolCalls));
        assert!(acc.tool_calls.is_empty());
        let err = acc.finish(ReplyMeta::default()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode);
    }

    #[test]
    fn empty_arguments_become_an_empty_object() {
        let mut acc = StreamAccumulator::new();
        acc.push(start());
        acc.push(ChatEvent::ToolCallStart {
            index: 0,
            id: "c".into(),
            name: "now".into(),
        });
        acc.push(finish(FinishReason::ToolCalls));
        let r = acc.finish(ReplyMeta::default()).unwrap();
        assert_eq!(r.message.tool_calls[0].arguments, "{}");
    }

    #[test]
    fn replaying_a_response_rebuilds_it() {
        let mut acc = StreamAccumulator::new();
        for e in [
            start(),
            ChatEvent::text("a"),
            ChatEvent::ToolCallStart {
                index: 0,
                id: "c".into(),
                name: "f".into(),
            },
            ChatEvent::ToolCallDelta {
                index: 0,
                arguments: "{\"k\":1}".into(),
            },
            ChatEvent::Usage(Usage::new(1, 2)),
            finish(FinishReason::ToolCalls),
        ] {
            acc.push(e);
        }
        let original = acc.finish(ReplyMeta::default()).unwrap();
        let mut again = StreamAccumulator::new();
        for e in events_of(&original) {
            again.push(e);
        }
        assert_eq!(again.finish(ReplyMeta::default()).unwrap(), original);
    }
}
