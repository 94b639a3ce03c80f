//! The events a streaming reply is made of.

use serde::{Deserialize, Serialize};

use crate::response::FinishReason;
use crate::usage::Usage;

/// One event of a streaming reply, the same for every provider.
///
/// A well-formed stream is `Start`, then any interleaving of deltas, then `Finish`;
/// `Usage` may come anywhere and the last one wins (providers send cumulative counts).
/// Tool-call deltas are keyed by `index`, the call's position in the final list, so
/// several parallel calls may interleave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatEvent {
    /// The reply has begun.
    Start {
        /// The provider's id for the reply.
        id: String,
        /// The model as the provider reported it.
        model: String,
    },
    /// A piece of answer text.
    TextDelta {
        /// The text to append.
        text: String,
    },
    /// A piece of reasoning text.
    ReasoningDelta {
        /// The text to append.
        text: String,
    },
    /// The signature of the reasoning so far (Anthropic thinking blocks).
    ReasoningSignature {
        /// The signature.
        signature: String,
    },
    /// A whole block of reasoning the provider encrypted instead of exposing it
    /// (Anthropic's `redacted_thinking`, which arrives in one piece). The data is opaque,
    /// not text to show; it becomes an
    /// [`AssistantPart::RedactedReasoning`](crate::AssistantPart::RedactedReasoning) of
    /// its own, in its place among the other parts.
    ReasoningRedacted {
        /// The provider's opaque, encrypted reasoning.
        data: String,
    },
    /// A tool call has begun.
    ToolCallStart {
        /// The call's position in the final list of tool calls.
        index: u32,
        /// The provider's id for the call.
        id: String,
        /// The tool's name.
        name: String,
    },
    /// A fragment of a tool call's JSON arguments, to concatenate.
    ToolCallDelta {
        /// The call's position in the final list of tool calls.
        index: u32,
        /// The fragment.
        arguments: String,
    },
    /// Token counts so far (cumulative: the last one wins).
    Usage(Usage),
    /// The reply is complete.
    Finish {
        /// Why the model stopped, normalised.
        reason: FinishReason,
        /// Why the model stopped, exactly as the provider said it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        raw: Option<String>,
    },
}

impl ChatEvent {
    /// A text delta.
    pub fn text(text: impl Into<String>) -> Self {
        Self::TextDelta { text: text.into() }
    }

    /// Whether the event carries output the end user would see (text, reasoning or
    /// tool-call content), as telemetry's time-per-output-chunk counts it. Signatures and
    /// redacted reasoning are not: nobody sees them.
    pub fn is_output(&self) -> bool {
        matches!(
            self,
            Self::TextDelta { .. }
                | Self::ReasoningDelta { .. }
                | Self::ToolCallStart { .. }
                | Self::ToolCallDelta { .. }
        )
    }
}
