//! [`ChatRequest`] → Chat Completions request body.

use std::borrow::Cow;

use serde_json::Value;
use tollgate_core::tool_ids::ToolIdRule;
use tollgate_core::{
    AssistantMessage, AssistantPart, ChatRequest, Error, ErrorKind, Message, ResponseFormat,
    ToolChoice, UserMessage, UserPart,
};

use crate::presets::{MaxTokensField, Quirks, SeedField};
use crate::wire::{
    ChatCompletionRequest, ImageUrl, JsonSchema, NamedFunction, RequestFunction,
    RequestFunctionCall, RequestMessage, RequestResponseFormat, RequestTool, RequestToolCall,
    RequestToolChoice, StreamOptions, UserContent, UserContentPart,
};

/// The JSON body for `request`, with the quirks of the target server applied and the
/// request's `extra` fields merged in last (an `extra` field wins).
///
/// `stream` decides `stream` / `stream_options` (the request's own flag is not read, so
/// the client decides the reply's form in one place).
///
/// ```
/// use tollgate_core::ChatRequest;
/// use tollgate_openai::{Quirks, encode};
///
/// let request = ChatRequest::new("gpt-4o-mini").user("Hi").max_tokens(5);
/// let body = encode::request_body(&request, &Quirks::default(), false).unwrap();
/// assert_eq!(body["max_completion_tokens"], 5);
/// assert_eq!(body["messages"][0], serde_json::json!({"role": "user", "content": "Hi"}));
/// ```
///
/// # Errors
///
/// [`ErrorKind::InvalidRequest`] if the body cannot be built (a non-finite float).
pub fn request_body(request: &ChatRequest, quirks: &Quirks, stream: bool) -> Result<Value, Error> {
    let wire = wire_request(request, quirks, stream);
    let mut body = serde_json::to_value(&wire).map_err(|e| {
        Error::new(
            ErrorKind::InvalidRequest,
            format!("the request cannot be encoded as JSON: {e}"),
        )
    })?;
    tollgate_http::merge_extra(&mut body, &request.extra);
    Ok(body)
}

/// The JSON body for `request` as bytes, as [`request_body`] builds it.
///
/// Without `extra` fields to merge (the usual case) the typed request is written by
/// hand ([`ChatCompletionRequest::write_json`]), byte for byte what serde_json writes
/// for it, without serde's per-key escaping; with `extra`, it goes through a
/// [`Value`] to merge them.
///
/// # Errors
///
/// As [`request_body`].
pub fn request_bytes(
    request: &ChatRequest,
    quirks: &Quirks,
    stream: bool,
) -> Result<Vec<u8>, Error> {
    let wire = wire_request(request, quirks, stream);
    let written = if request.extra.is_empty() {
        // Most requests fit without growing (and copying) the buffer; larger ones double.
        let mut out = Vec::with_capacity(1024);
        wire.write_json(&mut out).map(|()| out)
    } else {
        tollgate_http::json_body(&wire, &request.extra)
    };
    written.map_err(|e| {
        Error::new(
            ErrorKind::InvalidRequest,
            format!("the request cannot be encoded as JSON: {e}"),
        )
    })
}

/// The typed wire request, borrowing from `request`.
pub fn wire_request<'a>(
    request: &'a ChatRequest,
    quirks: &Quirks,
    stream: bool,
) -> ChatCompletionRequest<'a> {
    let rule = quirks.tool_id_rule;
    let (max_completion_tokens, max_tokens) = match quirks.max_tokens_field {
        MaxTokensField::MaxCompletionTokens => (request.max_tokens, None),
        MaxTokensField::MaxTokens => (None, request.max_tokens),
    };
    let (seed, random_seed) = match quirks.seed_field {
        SeedField::Seed => (request.seed, None),
        SeedField::RandomSeed => (None, request.seed),
    };
    ChatCompletionRequest {
        model: &request.model,
        messages: request
            .messages
            .iter()
            .map(|message| encode_message(message, rule))
            .collect(),
        tools: request
            .tools
            .iter()
            .map(|tool| RequestTool {
                kind: "function",
                function: RequestFunction {
                    name: &tool.name,
                    description: tool.description.as_deref(),
                    parameters: &tool.parameters,
                    strict: tool.strict,
                },
            })
            .collect(),
        tool_choice: request.tool_choice.as_ref().map(encode_tool_choice),
        parallel_tool_calls: request.parallel_tool_calls,
        response_format: request.response_format.as_ref().map(encode_response_format),
        temperature: request.temperature,
        top_p: request.top_p,
        top_k: request.top_k.filter(|_| quirks.top_k),
        max_completion_tokens,
        max_tokens,
        stop: &request.stop,
        seed,
        random_seed,
        presence_penalty: request.presence_penalty,
        frequency_penalty: request.frequency_penalty,
        reasoning_effort: request.reasoning_effort.map(|e| e.as_str()),
        stream: stream.then_some(true),
        stream_options: (stream && quirks.stream_options).then_some(StreamOptions {
            include_usage: true,
        }),
    }
}

fn encode_message(message: &Message, rule: ToolIdRule) -> RequestMessage<'_> {
    match message {
        Message::System(system) => RequestMessage::System {
            content: &system.content,
        },
        Message::User(user) => RequestMessage::User {
            content: encode_user(user),
        },
        Message::Assistant(assistant) => encode_assistant(assistant, rule),
        Message::Tool(tool) => RequestMessage::Tool {
            tool_call_id: tool_id(&tool.tool_call_id, rule),
            content: &tool.content,
        },
    }
}

fn encode_user(user: &UserMessage) -> UserContent<'_> {
    if let [UserPart::Text { text }] = user.content.as_slice() {
        return UserContent::Text(text);
    }
    UserContent::Parts(
        user.content
            .iter()
            .map(|part| match part {
                UserPart::Text { text } => UserContentPart::Text { text },
                UserPart::Image(image) => UserContentPart::ImageUrl {
                    image_url: ImageUrl {
                        url: match &image.source {
                            tollgate_core::ImageSource::Url { url } => Cow::Borrowed(url.as_str()),
                            source => Cow::Owned(source.to_url()),
                        },
                        detail: image.detail.as_deref(),
                    },
                },
            })
            .collect(),
    )
}

/// Reasoning parts are not sent: Chat Completions has no field to receive them. Redacted
/// reasoning is another provider's encrypted data and is never sent either.
fn encode_assistant(assistant: &AssistantMessage, rule: ToolIdRule) -> RequestMessage<'_> {
    let mut texts = assistant.content.iter().filter_map(|part| match part {
        AssistantPart::Text { text } => Some(text.as_str()),
        AssistantPart::Reasoning { .. } | AssistantPart::RedactedReasoning { .. } => None,
    });
    let text: Option<Cow<'_, str>> = match (texts.next(), texts.next()) {
        (None, _) => None,
        (Some(one), None) => Some(Cow::Borrowed(one)),
        (Some(first), Some(second)) => {
            let mut joined = String::from(first);
            joined.push_str(second);
            texts.for_each(|t| joined.push_str(t));
            Some(Cow::Owned(joined))
        }
    };
    let content = match text {
        Some(text) => Some(text),
        // A turn with tool calls and no text is sent with `content: null`.
        None if !assistant.tool_calls.is_empty() => None,
        None => Some(Cow::Borrowed("")),
    };
    RequestMessage::Assistant {
        content,
        tool_calls: assistant
            .tool_calls
            .iter()
            .map(|call| RequestToolCall {
                id: tool_id(&call.id, rule),
                kind: "function",
                function: RequestFunctionCall {
                    name: &call.name,
                    arguments: if call.arguments.trim().is_empty() {
                        "{}"
                    } else {
                        &call.arguments
                    },
                },
            })
            .collect(),
    }
}

fn tool_id(id: &str, rule: ToolIdRule) -> Cow<'_, str> {
    if rule.accepts(id) {
        Cow::Borrowed(id)
    } else {
        Cow::Owned(rule.rewrite(id))
    }
}

fn encode_tool_choice(choice: &ToolChoice) -> RequestToolChoice<'_> {
    match choice {
        ToolChoice::Auto => RequestToolChoice::Mode("auto"),
        ToolChoice::None => RequestToolChoice::Mode("none"),
        ToolChoice::Required => RequestToolChoice::Mode("required"),
        ToolChoice::Tool { name } => RequestToolChoice::Named {
            kind: "function",
            function: NamedFunction { name },
        },
    }
}

fn encode_response_format(format: &ResponseFormat) -> RequestResponseFormat<'_> {
    match format {
        ResponseFormat::Text => RequestResponseFormat::Text,
        ResponseFormat::JsonObject => RequestResponseFormat::JsonObject,
        ResponseFormat::JsonSchema {
            name,
            description,
            schema,
            strict,
        } => RequestResponseFormat::JsonSchema {
            json_schema: JsonSchema {
                name,
                description: description.as_deref(),
                schema,
                strict: *strict,
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use tollgate_core::ToolCall;

    use super::*;

    #[test]
    fn an_assistant_turn_with_only_tool_calls_has_null_content_and_no_reasoning() {
        let request = ChatRequest::new("m").message(AssistantMessage {
            content: vec![AssistantPart::Reasoning {
                text: "secret thoughts".into(),
                signature: None,
                signed_by: None,
            }],
            tool_calls: vec![ToolCall::new("call_1", "f", "")],
        });
        let body = request_body(&request, &Quirks::default(), false).unwrap();
        assert_eq!(
            body["messages"][0],
            serde_json::json!({
                "role": "assistant",
                "content": null,
                "tool_calls": [{"id": "call_1", "type": "function",
                                "function": {"name": "f", "arguments": "{}"}}]
            })
        );
    }

    #[test]
    fn several_text_parts_are_joined_in_an_assistant_turn() {
        let request = ChatRequest::new("m").message(AssistantMessage {
            content: vec![
                AssistantPart::Text { text: "a".into() },
                AssistantPart::Text { text: "b".into() },
                AssistantPart::Text { text: "c".into() },
            ],
            tool_calls: vec![],
        });
        let body = request_body(&request, &Quirks::default(), false).unwrap();
        assert_eq!(body["messages"][0]["content"], "abc");
    }

    #[test]
    fn a_non_finite_float_is_an_invalid_request_not_a_panic() {
        let request = ChatRequest::new("m").user("x").temperature(f64::NAN);
        // serde_json writes NaN as null rather than failing; either way nothing panics.
        let body = request_body(&request, &Quirks::default(), false).unwrap();
        assert_eq!(body["temperature"], Value::Null);
    }
}
