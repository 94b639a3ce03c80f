//! Opt-in capture of prompts, answers and tool definitions as the JSON the GenAI
//! conventions define (`gen_ai.input.messages`, `gen_ai.output.messages`,
//! `gen_ai.system_instructions`, `gen_ai.tool.definitions`).
//!
//! Nothing here runs unless capture is on (see [`ContentCapture`]). Requests and replies
//! carry no credentials (keys live in the provider clients), so nothing secret can reach
//! these attributes.

use serde_json::{Value, json};
use tollgate_core::{
    AssistantMessage, AssistantPart, ChatRequest, FinishReason, ImageSource, Message, UserPart,
};

/// The environment variable OpenTelemetry's GenAI instrumentations read.
pub const CAPTURE_ENV: &str = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT";

/// Whether message content is recorded on spans. Off unless the user opts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ContentCapture {
    /// Read [`CAPTURE_ENV`] once when the layer is built: `true`, `SPAN_ONLY` or
    /// `SPAN_AND_EVENT` (any case) turn capture on; anything else leaves it off.
    #[default]
    FromEnv,
    /// Never record content, whatever the environment says.
    Off,
    /// Record content on spans.
    On,
}

impl ContentCapture {
    /// Whether content is recorded, resolving [`ContentCapture::FromEnv`].
    pub fn enabled(self) -> bool {
        match self {
            Self::Off => false,
            Self::On => true,
            Self::FromEnv => env_enables(std::env::var(CAPTURE_ENV).ok().as_deref()),
        }
    }
}

/// Whether a value of [`CAPTURE_ENV`] turns span capture on.
pub(crate) fn env_enables(value: Option<&str>) -> bool {
    value.is_some_and(|v| {
        let v = v.trim();
        v.eq_ignore_ascii_case("true")
            || v.eq_ignore_ascii_case("span_only")
            || v.eq_ignore_ascii_case("span_and_event")
    })
}

/// The content attributes of a request, as JSON strings.
pub(crate) struct RequestContent {
    pub(crate) system_instructions: Option<String>,
    pub(crate) input_messages: String,
    pub(crate) tool_definitions: Option<String>,
}

pub(crate) fn request_content(request: &ChatRequest) -> RequestContent {
    let mut system = Vec::new();
    let mut input = Vec::new();
    for message in &request.messages {
        match message {
            Message::System(m) => system.push(json!({"type": "text", "content": m.content})),
            Message::User(m) => input.push(json!({
                "role": "user",
                "parts": m.content.iter().map(user_part).collect::<Vec<_>>(),
            })),
            Message::Assistant(m) => input.push(json!({
                "role": "assistant",
                "parts": assistant_parts(m),
            })),
            Message::Tool(m) => input.push(json!({
                "role": "tool",
                "parts": [{"type": "tool_call_response", "id": m.tool_call_id, "response": m.content}],
            })),
        }
    }
    let tools: Vec<Value> = request
        .tools
        .iter()
        .map(|tool| {
            let mut def =
                json!({"type": "function", "name": tool.name, "parameters": tool.parameters});
            if let Some(description) = &tool.description {
                def["description"] = Value::String(description.clone());
            }
            def
        })
        .collect();
    RequestContent {
        system_instructions: (!system.is_empty()).then(|| Value::Array(system).to_string()),
        input_messages: Value::Array(input).to_string(),
        tool_definitions: (!tools.is_empty()).then(|| Value::Array(tools).to_string()),
    }
}

/// `gen_ai.output.messages` for one answer.
pub(crate) fn output_messages(message: &AssistantMessage, finish: &FinishReason) -> String {
    json!([{
        "role": "assistant",
        "parts": assistant_parts(message),
        "finish_reason": output_finish_reason(finish),
    }])
    .to_string()
}

fn output_finish_reason(finish: &FinishReason) -> &str {
    match finish {
        FinishReason::Stop => "stop",
        FinishReason::Length => "length",
        FinishReason::ToolCalls => "tool_call",
        FinishReason::ContentFilter => "content_filter",
        FinishReason::Other(raw) => raw,
    }
}

fn user_part(part: &UserPart) -> Value {
    match part {
        UserPart::Text { text } => json!({"type": "text", "content": text}),
        UserPart::Image(image) => match &image.source {
            ImageSource::Url { url } => json!({"type": "uri", "modality": "image", "uri": url}),
            ImageSource::Base64 { media_type, data } => json!({
                "type": "blob", "modality": "image", "mime_type": media_type, "content": data,
            }),
        },
    }
}

/// The parts of an assistant turn. Redacted reasoning is left out: its data is encrypted
/// reasoning, opaque and possibly sensitive, never message content to record.
fn assistant_parts(message: &AssistantMessage) -> Vec<Value> {
    let mut parts: Vec<Value> = message
        .content
        .iter()
        .filter_map(|part| match part {
            AssistantPart::Text { text } => Some(json!({"type": "text", "content": text})),
            AssistantPart::Reasoning { text, .. } => {
                Some(json!({"type": "reasoning", "content": text}))
            }
            AssistantPart::RedactedReasoning { .. } => None,
        })
        .collect();
    parts.extend(message.tool_calls.iter().map(|call| {
        let arguments = call
            .arguments_json()
            .unwrap_or_else(|_| Value::String(call.arguments.clone()));
        json!({"type": "tool_call", "id": call.id, "name": call.name, "arguments": arguments})
    }));
    parts
}

#[cfg(test)]
mod tests {
    use tollgate_core::{Tool, ToolCall};

    use super::*;

    #[test]
    fn env_values_that_turn_span_capture_on() {
        for on in ["true", "TRUE", "span_only", "SPAN_AND_EVENT"] {
            assert!(env_enables(Some(on)), "{on}");
        }
        for off in ["false", "NO_CONTENT", "EVENT_ONLY", "", "1"] {
            assert!(!env_enables(Some(off)), "{off}");
        }
        assert!(!env_enables(None));
    }

    #[test]
    fn request_content_follows_the_genai_message_schema() {
        let request = ChatRequest::new("m")
            .system("Be terse.")
            .user_parts([
                UserPart::text("Look:"),
                UserPart::image_url("https://x/y.png"),
            ])
            .message(AssistantMessage {
                content: vec![AssistantPart::Text {
                    text: "Calling.".into(),
                }],
                tool_calls: vec![ToolCall::new("c1", "lookup", r#"{"q":"x"}"#)],
            })
            .message(Message::tool_result("c1", "lookup", "42"))
            .tool(Tool::new("lookup", json!({"type": "object"})).description("Looks up"));
        let content = request_content(&request);
        let input: Value = serde_json::from_str(&content.input_messages).unwrap();
        assert_eq!(
            input,
            json!([
                {"role": "user", "parts": [
                    {"type": "text", "content": "Look:"},
                    {"type": "uri", "modality": "image", "uri": "https://x/y.png"}]},
                {"role": "assistant", "parts": [
                    {"type": "text", "content": "Calling."},
                    {"type": "tool_call", "id": "c1", "name": "lookup", "arguments": {"q": "x"}}]},
                {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "response": "42"}]}
            ])
        );
        let system: Value = serde_json::from_str(&content.system_instructions.unwrap()).unwrap();
        assert_eq!(system, json!([{"type": "text", "content": "Be terse."}]));
        let tools: Value = serde_json::from_str(&content.tool_definitions.unwrap()).unwrap();
        assert_eq!(
            tools,
            json!([{"type": "function", "name": "lookup", "description": "Looks up",
                    "parameters": {"type": "object"}}])
        );
    }

    /// Redacted reasoning is encrypted and may be sensitive: its data never reaches the
    /// captured input or output messages, while the parts around it still do.
    #[test]
    fn redacted_reasoning_data_is_never_recorded() {
        let turn = AssistantMessage {
            content: vec![
                AssistantPart::Reasoning {
                    text: "Thinking.".into(),
                    signature: Some("sig".into()),
                    signed_by: Some("anthropic".into()),
                },
                AssistantPart::RedactedReasoning {
                    data: "ENCRYPTED-REASONING-DATA".into(),
                    signed_by: Some("anthropic".into()),
                },
                AssistantPart::Text {
                    text: "Calling.".into(),
                },
            ],
            tool_calls: vec![],
        };
        let expected = json!([
            {"type": "reasoning", "content": "Thinking."},
            {"type": "text", "content": "Calling."}
        ]);

        let output = output_messages(&turn, &FinishReason::Stop);
        assert!(!output.contains("ENCRYPTED-REASONING-DATA"), "{output}");
        let output: Value = serde_json::from_str(&output).unwrap();
        assert_eq!(output[0]["parts"], expected);

        let request = ChatRequest::new("m").user("Go.").message(turn);
        let input = request_content(&request).input_messages;
        assert!(!input.contains("ENCRYPTED-REASONING-DATA"), "{input}");
        let input: Value = serde_json::from_str(&input).unwrap();
        assert_eq!(input[1]["parts"], expected);
    }

    #[test]
    fn output_finish_reason_uses_the_schema_spelling() {
        let out = output_messages(&AssistantMessage::text("hi"), &FinishReason::ToolCalls);
        let out: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            out,
            json!([{"role": "assistant", "parts": [{"type": "text", "content": "hi"}], "finish_reason": "tool_call"}])
        );
    }
}
