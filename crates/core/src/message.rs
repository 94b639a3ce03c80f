//! Role-typed conversation messages.
//!
//! A conversation is a `Vec<Message>`. Each role carries only what that role can carry:
//! tool calls live only on [`AssistantMessage`], tool results only in [`ToolMessage`],
//! images only in user turns. A tool result inside an assistant message is therefore
//! unrepresentable, and every provider translator can rely on that.
//!
//! # JSON form
//!
//! Messages serialize with a `role` tag and snake_case fields, e.g.
//! `{"role":"user","content":[{"type":"text","text":"Hi"}]}`. This form is stable: the
//! gateway's logs and evaluation files store it.

use serde::{Deserialize, Serialize};

/// One turn of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Message {
    /// Instructions from the application. Providers with a separate system field
    /// (Anthropic, Gemini) lift these out of the message list.
    System(SystemMessage),
    /// A turn written by the end user.
    User(UserMessage),
    /// A turn produced by the model: text, reasoning and tool calls.
    Assistant(AssistantMessage),
    /// The result of one tool call, answering an earlier assistant tool call.
    Tool(ToolMessage),
}

impl Message {
    /// A system message with the given instructions.
    pub fn system(text: impl Into<String>) -> Self {
        Self::System(SystemMessage {
            content: text.into(),
        })
    }

    /// A user message holding one text part.
    pub fn user(text: impl Into<String>) -> Self {
        Self::User(UserMessage {
            content: vec![UserPart::text(text)],
        })
    }

    /// An assistant message holding one text part and no tool calls.
    pub fn assistant(text: impl Into<String>) -> Self {
        Self::Assistant(AssistantMessage::text(text))
    }

    /// A tool result answering the call with id `tool_call_id` to the tool `name`.
    pub fn tool_result(
        tool_call_id: impl Into<String>,
        name: impl Into<String>,
        content: impl Into<String>,
    ) -> Self {
        Self::Tool(ToolMessage {
            tool_call_id: tool_call_id.into(),
            name: name.into(),
            content: content.into(),
            is_error: false,
        })
    }

    /// The role name as the OpenAI format spells it (`system`, `user`, `assistant`, `tool`).
    pub fn role(&self) -> &'static str {
        match self {
            Self::System(_) => "system",
            Self::User(_) => "user",
            Self::Assistant(_) => "assistant",
            Self::Tool(_) => "tool",
        }
    }
}

impl From<AssistantMessage> for Message {
    fn from(message: AssistantMessage) -> Self {
        Self::Assistant(message)
    }
}

impl From<UserMessage> for Message {
    fn from(message: UserMessage) -> Self {
        Self::User(message)
    }
}

impl From<ToolMessage> for Message {
    fn from(message: ToolMessage) -> Self {
        Self::Tool(message)
    }
}

/// Instructions from the application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemMessage {
    /// The instruction text.
    pub content: String,
}

/// A user turn: text and images, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserMessage {
    /// The parts of the turn, in the order the user gave them.
    pub content: Vec<UserPart>,
}

impl UserMessage {
    /// The concatenated text parts, images skipped.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for part in &self.content {
            if let UserPart::Text { text } = part {
                out.push_str(text);
            }
        }
        out
    }
}

/// One part of a user turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum UserPart {
    /// Plain text.
    Text {
        /// The text.
        text: String,
    },
    /// An image, by URL or inline bytes.
    Image(Image),
}

impl UserPart {
    /// A text part.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text { text: text.into() }
    }

    /// An image part fetched by the provider from `url`.
    pub fn image_url(url: impl Into<String>) -> Self {
        Self::Image(Image {
            source: ImageSource::Url { url: url.into() },
            detail: None,
        })
    }

    /// An image part carried inline as base64 data of the given media type
    /// (`image/png`, `image/jpeg`, `image/gif`, `image/webp`).
    pub fn image_base64(media_type: impl Into<String>, data: impl Into<String>) -> Self {
        Self::Image(Image {
            source: ImageSource::Base64 {
                media_type: media_type.into(),
                data: data.into(),
            },
            detail: None,
        })
    }
}

/// An image given to the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    /// Where the image bytes come from.
    pub source: ImageSource,
    /// OpenAI's resolution hint (`auto`, `low`, `high`); ignored by providers without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Where an image's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ImageSource {
    /// A URL the provider fetches (`https://…`; Gemini needs a file URI it can reach).
    Url {
        /// The address.
        url: String,
    },
    /// Inline bytes.
    Base64 {
        /// The IANA media type, e.g. `image/png`.
        media_type: String,
        /// The bytes, base64-encoded (standard alphabet, no `data:` prefix).
        data: String,
    },
}

impl ImageSource {
    /// The image as a `data:` URL for inline bytes, or the URL itself.
    pub fn to_url(&self) -> String {
        match self {
            Self::Url { url } => url.clone(),
            Self::Base64 { media_type, data } => format!("data:{media_type};base64,{data}"),
        }
    }

    /// Reads a `data:<media type>;base64,<data>` URL as inline bytes; any other URL is
    /// kept as a URL.
    pub fn from_url(url: &str) -> Self {
        if let Some(rest) = url.strip_prefix("data:")
            && let Some((media_type, data)) = rest.split_once(";base64,")
        {
            return Self::Base64 {
                media_type: media_type.to_owned(),
                data: data.to_owned(),
            };
        }
        Self::Url {
            url: url.to_owned(),
        }
    }
}

/// A turn produced by the model.
///
/// A [`ChatResponse`](crate::ChatResponse) holds one, ready to be pushed back onto the
/// conversation: `request.messages.push(response.message.into())`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssistantMessage {
    /// Text and reasoning, in the order the model produced them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub content: Vec<AssistantPart>,
    /// The tools the model asked to call, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
}

impl AssistantMessage {
    /// An assistant turn holding one text part.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            content: vec![AssistantPart::Text { text: text.into() }],
            tool_calls: Vec::new(),
        }
    }

    /// The concatenated text parts (reasoning excluded).
    pub fn text_content(&self) -> String {
        let mut out = String::new();
        for part in &self.content {
            if let AssistantPart::Text { text } = part {
                out.push_str(text);
            }
        }
        out
    }

    /// The concatenated reasoning parts, if the model exposed any. Redacted reasoning
    /// ([`AssistantPart::RedactedReasoning`]) is opaque data, not text, and is never part
    /// of it.
    pub fn reasoning_content(&self) -> Option<String> {
        let mut out: Option<String> = None;
        for part in &self.content {
            if let AssistantPart::Reasoning { text, .. } = part {
                out.get_or_insert_with(String::new).push_str(text);
            }
        }
        out
    }
}

/// One part of an assistant turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AssistantPart {
    /// Answer text.
    Text {
        /// The text.
        text: String,
    },
    /// Reasoning the provider exposed (Anthropic thinking, DeepSeek `reasoning_content`,
    /// Gemini thoughts).
    Reasoning {
        /// The reasoning text (may be empty when the provider only sent a signature).
        text: String,
        /// The provider's opaque signature (Anthropic thinking, Gemini thought
        /// signatures), which must be echoed back unchanged when a tool loop continues.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<String>,
        /// The provider that signed it (`anthropic`, `gcp.gemini`, … as in
        /// [`ReplyMeta::provider`](crate::ReplyMeta::provider)). A signature is only
        /// valid for its signer: encoders replay their own and drop others', so a
        /// conversation can move between providers. `None` means unknown (e.g. a
        /// conversation stored without it) and is replayed as is.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signed_by: Option<String>,
    },
    /// Reasoning the provider encrypted instead of exposing it (Anthropic's
    /// `redacted_thinking` blocks, produced when its safety systems flag the model's
    /// thinking). The data is opaque and only means something to its signer: it is not
    /// text, is never shown or joined into [`AssistantMessage::reasoning_content`], and
    /// must be echoed back unchanged, in its place among the turn's other parts, when a
    /// tool loop continues on the provider that produced it.
    RedactedReasoning {
        /// The provider's opaque, encrypted reasoning.
        data: String,
        /// The provider that produced it, with the same meaning as on
        /// [`AssistantPart::Reasoning`]: encoders replay their own and drop others';
        /// `None` (unknown origin) is replayed by an encoder that has a form for it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signed_by: Option<String>,
    },
}

impl AssistantPart {
    /// Whether this part carries a signature that `provider` may receive back: one it
    /// signed itself, or one of unknown origin. Foreign signatures are never replayed.
    ///
    /// Only [`AssistantPart::Reasoning`] has a signature; whether a
    /// [`AssistantPart::RedactedReasoning`] may go back is [`AssistantPart::may_send_to`].
    pub fn signature_for(&self, provider: &str) -> Option<&str> {
        match self {
            Self::Reasoning {
                signature: Some(signature),
                signed_by,
                ..
            } if signed_by.as_deref().is_none_or(|by| by == provider) => Some(signature),
            _ => None,
        }
    }

    /// Whether this part may be sent to `provider` at all: text always; reasoning and
    /// redacted reasoning unless another provider signed it (a signature or encrypted
    /// reasoning is only valid for its signer). Unknown origin (`signed_by: None`) may go.
    ///
    /// An encoder still leaves out what its wire format cannot carry: Anthropic drops
    /// unsigned reasoning, OpenAI drops all reasoning, and OpenAI and Gemini drop
    /// redacted reasoning whoever produced it.
    ///
    /// ```
    /// use tollgate_core::AssistantPart;
    ///
    /// let redacted = AssistantPart::RedactedReasoning {
    ///     data: "EmwKAhgBEgy3va3pzix/LafPsn4a".into(),
    ///     signed_by: Some("anthropic".into()),
    /// };
    /// assert!(redacted.may_send_to("anthropic"));
    /// assert!(!redacted.may_send_to("gcp.gemini"));
    /// ```
    pub fn may_send_to(&self, provider: &str) -> bool {
        match self {
            Self::Text { .. } => true,
            Self::Reasoning {
                signed_by,
                signature,
                ..
            } => signature.is_none() || signed_by.as_deref().is_none_or(|by| by == provider),
            Self::RedactedReasoning { signed_by, .. } => {
                signed_by.as_deref().is_none_or(|by| by == provider)
            }
        }
    }

    /// Whether this is reasoning (signed or redacted) that a provider other than
    /// `provider` produced: it must not be sent to `provider` at all (its text without
    /// the signature, or its encrypted data, is rejected or meaningless there). The
    /// negation of [`AssistantPart::may_send_to`].
    pub fn is_foreign_reasoning(&self, provider: &str) -> bool {
        !self.may_send_to(provider)
    }
}

/// A request by the model to call a tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The provider's id for the call; tool results refer to it.
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The arguments as JSON text exactly as the model wrote them. Kept as text because
    /// models sometimes write invalid JSON, and a caller deserves to see it.
    pub arguments: String,
}

impl ToolCall {
    /// A tool call with JSON-text arguments.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        arguments: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            arguments: arguments.into(),
        }
    }

    /// The arguments parsed as JSON; empty text reads as `{}`.
    ///
    /// # Errors
    ///
    /// Returns the parse error when the model wrote invalid JSON.
    pub fn arguments_json(&self) -> Result<serde_json::Value, serde_json::Error> {
        if self.arguments.trim().is_empty() {
            return Ok(serde_json::Value::Object(serde_json::Map::new()));
        }
        serde_json::from_str(&self.arguments)
    }
}

/// The result of one tool call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolMessage {
    /// The id of the assistant tool call this answers.
    pub tool_call_id: String,
    /// The tool's name (Gemini needs it; others ignore it).
    pub name: String,
    /// The result, usually JSON text.
    pub content: String,
    /// Whether the tool failed (Anthropic's `is_error`; others see only the content).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_error: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_urls_round_trip_to_base64_sources() {
        let source = ImageSource::from_url("data:image/png;base64,AAAA");
        assert_eq!(
            source,
            ImageSource::Base64 {
                media_type: "image/png".into(),
                data: "AAAA".into()
            }
        );
        assert_eq!(source.to_url(), "data:image/png;base64,AAAA");
        assert_eq!(
            ImageSource::from_url("https://x/y.png"),
            ImageSource::Url {
                url: "https://x/y.png".into()
            }
        );
    }

    #[test]
    fn empty_tool_arguments_read_as_empty_object() {
        let call = ToolCall::new("c1", "f", "");
        assert_eq!(call.arguments_json().unwrap(), serde_json::json!({}));
    }

    /// The stored JSON form of redacted reasoning is stable and round-trips, so a
    /// conversation saved between turns can still echo it back to its signer.
    #[test]
    fn redacted_reasoning_round_trips_through_its_json_form() {
        let message = Message::Assistant(AssistantMessage {
            content: vec![
                AssistantPart::RedactedReasoning {
                    data: "EmwKAhgBEgy3va3pzix".into(),
                    signed_by: Some("anthropic".into()),
                },
                AssistantPart::RedactedReasoning {
                    data: "unknown-origin".into(),
                    signed_by: None,
                },
            ],
            tool_calls: vec![],
        });
        let json = serde_json::to_value(&message).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"role": "assistant", "content": [
                {"type": "redacted_reasoning", "data": "EmwKAhgBEgy3va3pzix",
                 "signed_by": "anthropic"},
                {"type": "redacted_reasoning", "data": "unknown-origin"}
            ]})
        );
        let back: Message = serde_json::from_value(json).unwrap();
        assert_eq!(back, message);
    }

    /// Redacted reasoning goes back only to its signer (or anywhere when its origin is
    /// unknown), and its opaque data never reads as reasoning text.
    #[test]
    fn redacted_reasoning_goes_only_to_its_signer_and_is_not_text() {
        let anthropic = AssistantPart::RedactedReasoning {
            data: "opaque".into(),
            signed_by: Some("anthropic".into()),
        };
        assert!(anthropic.may_send_to("anthropic"));
        assert!(!anthropic.may_send_to("gcp.gemini"));
        assert!(anthropic.is_foreign_reasoning("openai"));
        assert!(!anthropic.is_foreign_reasoning("anthropic"));
        assert_eq!(anthropic.signature_for("anthropic"), None);
        let unknown = AssistantPart::RedactedReasoning {
            data: "opaque".into(),
            signed_by: None,
        };
        assert!(unknown.may_send_to("anthropic") && unknown.may_send_to("gcp.gemini"));

        let message = AssistantMessage {
            content: vec![
                anthropic,
                AssistantPart::Reasoning {
                    text: "visible".into(),
                    signature: None,
                    signed_by: None,
                },
                AssistantPart::Text {
                    text: "answer".into(),
                },
            ],
            tool_calls: vec![],
        };
        assert_eq!(message.reasoning_content().as_deref(), Some("visible"));
        assert_eq!(message.text_content(), "answer");
        let only_redacted = AssistantMessage {
            content: vec![unknown],
            tool_calls: vec![],
        };
        assert_eq!(only_redacted.reasoning_content(), None);
    }

    #[test]
    fn messages_serialize_with_role_tags() {
        let json = serde_json::to_value(Message::user("Hi")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"role":"user","content":[{"type":"text","text":"Hi"}]})
        );
        let back: Message = serde_json::from_value(json).unwrap();
        assert_eq!(back, Message::user("Hi"));
    }
}
