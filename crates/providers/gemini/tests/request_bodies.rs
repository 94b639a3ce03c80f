//! Exact request bodies sent to Gemini, snapshotted with insta.

use serde_json::json;
use tollgate_core::{
    AssistantMessage, AssistantPart, ChatRequest, Message, ReasoningEffort, ResponseFormat, Tool,
    ToolCall, ToolChoice, ToolMessage, UserPart,
};
use tollgate_gemini::encode::encode;

fn weather_tool() -> Tool {
    Tool::new(
        "get_weather",
        json!({
            "type": "object",
            "properties": {"city": {"type": "string", "description": "City name"}},
            "required": ["city"],
            "additionalProperties": false
        }),
    )
    .description("Current weather for a city")
}

#[test]
fn system_and_user() {
    let request = ChatRequest::new("gemini-2.5-flash")
        .system("You are terse.")
        .user("What is the capital of France?");
    insta::assert_json_snapshot!(encode(&request).unwrap());
}

#[test]
fn system_messages_anywhere_are_lifted_and_same_role_turns_merge() {
    let request = ChatRequest::new("gemini-2.5-flash")
        .system("First rule.")
        .user("Hello")
        .user("Are you there?")
        .system("Second rule.")
        .assistant("Yes.")
        .assistant("How can I help?");
    insta::assert_json_snapshot!(encode(&request).unwrap());
}

#[test]
fn multi_turn_with_tool_calls_and_results() {
    // A conversation begun on other providers: ids in OpenAI and Anthropic shapes, one tool
    // result without a name (recovered from the assistant call with the same id), one with a
    // non-object result, one failed call, then a user follow-up merged into the results turn.
    let request = ChatRequest::new("gemini-2.5-flash")
        .system("Use tools.")
        .user("Weather in Paris and Brest?")
        .message(AssistantMessage {
            content: vec![AssistantPart::Text {
                text: "Checking both.".into(),
            }],
            tool_calls: vec![
                ToolCall::new("call_Ab12cD34", "get_weather", r#"{"city":"Paris"}"#),
                ToolCall::new("toolu_01XyZ", "get_weather", r#"{"city":"Brest"}"#),
                ToolCall::new("call_now", "now", ""),
            ],
        })
        .message(Message::tool_result(
            "call_Ab12cD34",
            "get_weather",
            r#"{"temp_c": 18, "sky": "clear"}"#,
        ))
        .message(Message::tool_result("toolu_01XyZ", "", "22"))
        .message(ToolMessage {
            tool_call_id: "call_now".into(),
            name: String::new(),
            content: "clock unavailable".into(),
            is_error: true,
        })
        .user("And tomorrow?")
        .tool(weather_tool())
        .tool(Tool::new(
            "now",
            json!({"type": "object", "properties": {}}),
        ));
    insta::assert_json_snapshot!(encode(&request).unwrap());
}

#[test]
fn images_inline_and_by_reference() {
    let request = ChatRequest::new("gemini-2.5-flash").user_parts([
        UserPart::text("Compare these."),
        UserPart::image_base64("image/png", "iVBORw0KGgo="),
        UserPart::image_url("https://example.com/photos/harbor.JPG?size=large"),
        UserPart::image_url("data:image/webp;base64,UklGRg=="),
        UserPart::image_url("https://generativelanguage.googleapis.com/v1beta/files/abc123"),
    ]);
    insta::assert_json_snapshot!(encode(&request).unwrap());
}

#[test]
fn json_schema_output_uses_response_json_schema_unchanged() {
    let request = ChatRequest::new("gemini-2.5-flash")
        .user("Extract the person.")
        .response_format(ResponseFormat::JsonSchema {
            name: "person".into(),
            description: Some("A person".into()),
            schema: json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "age": {"type": ["integer", "null"]}
                },
                "required": ["name", "age"],
                "additionalProperties": false
            }),
            strict: true,
        });
    insta::assert_json_snapshot!(encode(&request).unwrap());
}

#[test]
fn json_object_output_sets_only_the_mime_type() {
    let request = ChatRequest::new("gemini-2.5-flash")
        .user("Give me JSON.")
        .response_format(ResponseFormat::JsonObject);
    insta::assert_json_snapshot!(encode(&request).unwrap());
}

#[test]
fn every_sampling_parameter() {
    let mut request = ChatRequest::new("gemini-2.5-flash")
        .user("Write a haiku.")
        .temperature(0.7)
        .top_p(0.9)
        .max_tokens(256)
        .stop("END")
        .stop("STOP")
        .seed(42);
    request.top_k = Some(40);
    request.presence_penalty = Some(0.5);
    request.frequency_penalty = Some(-0.25);
    request.parallel_tool_calls = Some(false);
    request = request.tag("task", "poetry");
    insta::assert_json_snapshot!(encode(&request).unwrap());
}

#[test]
fn extra_is_merged_last_at_the_top_level() {
    let request = ChatRequest::new("gemini-2.5-flash")
        .user("Hi")
        .temperature(0.1)
        .extra(
            "safetySettings",
            json!([{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]),
        )
        .extra("cachedContent", json!("cachedContents/abc"))
        .extra(
            "generationConfig",
            json!({"temperature": 1.5, "candidateCount": 1}),
        );
    insta::assert_json_snapshot!(encode(&request).unwrap());
}

#[test]
fn each_tool_choice() {
    let bodies: Vec<_> = [
        ToolChoice::Auto,
        ToolChoice::None,
        ToolChoice::Required,
        ToolChoice::Tool {
            name: "get_weather".into(),
        },
    ]
    .into_iter()
    .map(|choice| {
        let request = ChatRequest::new("gemini-2.5-flash")
            .user("Weather?")
            .tool(weather_tool())
            .tool_choice(choice);
        encode(&request).unwrap()["toolConfig"].clone()
    })
    .collect();
    insta::assert_json_snapshot!(bodies);
}

#[test]
fn a_tool_choice_without_tools_sends_no_tool_config() {
    let request = ChatRequest::new("gemini-2.5-flash")
        .user("Hi")
        .tool_choice(ToolChoice::None);
    let body = encode(&request).unwrap();
    assert!(body.get("toolConfig").is_none(), "{body}");
    assert!(body.get("tools").is_none(), "{body}");
}

#[test]
fn reasoning_effort_becomes_thinking_config() {
    let cases = [
        ("gemini-2.5-flash", ReasoningEffort::Minimal),
        ("gemini-2.5-flash", ReasoningEffort::Low),
        ("gemini-2.5-flash", ReasoningEffort::Medium),
        ("gemini-2.5-flash", ReasoningEffort::High),
        ("gemini-2.5-pro", ReasoningEffort::Minimal),
        ("gemini-3-pro-preview", ReasoningEffort::Low),
        ("gemini-3-flash-preview", ReasoningEffort::Minimal),
        ("models/gemini-3-pro-preview", ReasoningEffort::High),
    ];
    let bodies: Vec<_> = cases
        .into_iter()
        .map(|(model, effort)| {
            let request = ChatRequest::new(model)
                .user("Think.")
                .reasoning_effort(effort);
            json!({
                "model": model,
                "effort": effort.as_str(),
                "generationConfig": encode(&request).unwrap()["generationConfig"].clone(),
            })
        })
        .collect();
    insta::assert_json_snapshot!(bodies);
}

#[test]
fn tool_schemas_are_converted_to_gemini_subset() {
    let schema = json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://example.com/search",
        "type": "object",
        "title": "Search",
        "additionalProperties": false,
        "properties": {
            "query": {"type": "string", "minLength": 1, "format": "uri", "examples": ["x"]},
            "when": {"type": "string", "format": "date-time"},
            "limit": {"type": "integer", "format": "int32", "exclusiveMinimum": 0, "maximum": 50, "multipleOf": 1},
            "score": {"type": "number", "format": "float"},
            "mode": {"const": "fast"},
            "kind": {"enum": ["a", "b"]},
            "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": true, "maxItems": 5},
            "owner": {"anyOf": [{"$ref": "#/$defs/Person"}, {"type": "null"}], "description": "Who owns it"},
            "either": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
            "maybe": {"type": ["string", "null"]},
            "merged": {"allOf": [
                {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
                {"properties": {"b": {"type": "boolean"}}, "required": ["b"]}
            ]},
            "meta": {"type": "object", "additionalProperties": {"type": "string"}, "patternProperties": {"^x-": {}}}
        },
        "required": ["query", "ghost"],
        "$defs": {
            "Person": {
                "type": "object",
                "properties": {"name": {"type": "string"}},
                "required": ["name"],
                "additionalProperties": false
            }
        }
    });
    let request = ChatRequest::new("gemini-2.5-flash")
        .user("Search.")
        .tool(Tool::new("search", schema).description("Search things"));
    insta::assert_json_snapshot!(encode(&request).unwrap()["tools"]);
}

#[test]
fn thought_signatures_are_echoed_where_gemini_put_them() {
    // What decoding produces for: [thought "plan" (unsigned), functionCall(sig-call),
    // functionCall] and for a text answer signed on its last part.
    let request = ChatRequest::new("gemini-3-pro-preview")
        .user("Tides for Brest and Saint-Malo?")
        .message(AssistantMessage {
            content: vec![AssistantPart::Reasoning {
                text: "I should call the tool twice.".into(),
                signature: Some("sig-call".into()),
                signed_by: Some("gcp.gemini".into()),
            }],
            tool_calls: vec![
                ToolCall::new("call_0_abc", "get_tide_times", r#"{"harbor":"Brest"}"#),
                ToolCall::new("call_1_def", "get_tide_times", r#"{"harbor":"Saint-Malo"}"#),
            ],
        })
        .message(Message::tool_result(
            "call_0_abc",
            "get_tide_times",
            r#"{"high":"06:12"}"#,
        ))
        .message(Message::tool_result(
            "call_1_def",
            "get_tide_times",
            r#"{"high":"06:40"}"#,
        ))
        .message(AssistantMessage {
            content: vec![
                AssistantPart::Text {
                    text: "High tide is at 06:12 and 06:40.".into(),
                },
                AssistantPart::Reasoning {
                    text: String::new(),
                    signature: Some("sig-text".into()),
                    signed_by: Some("gcp.gemini".into()),
                },
            ],
            tool_calls: Vec::new(),
        })
        .user("Thanks!");
    insta::assert_json_snapshot!(encode(&request).unwrap()["contents"]);
}

/// A tool loop begun on Anthropic continues on Gemini: Anthropic's thinking and its
/// encrypted `redacted_thinking` are left out (Gemini has no form for redacted reasoning
/// and another provider's opaque data is never sent), whoever produced it; the text and
/// the call remain.
#[test]
fn redacted_reasoning_is_never_sent_to_gemini() {
    let request = ChatRequest::new("gemini-2.5-flash")
        .user("When is high tide in Brest?")
        .message(AssistantMessage {
            content: vec![
                AssistantPart::Reasoning {
                    text: "I should call the tide tool.".into(),
                    signature: Some("anthropic-signature".into()),
                    signed_by: Some("anthropic".into()),
                },
                AssistantPart::RedactedReasoning {
                    data: "anthropic-encrypted-data".into(),
                    signed_by: Some("anthropic".into()),
                },
                AssistantPart::RedactedReasoning {
                    data: "unknown-origin-data".into(),
                    signed_by: None,
                },
                AssistantPart::Text {
                    text: "Let me look that up.".into(),
                },
            ],
            tool_calls: vec![ToolCall::new(
                "toolu_01Vx4Np7Rk2Wq9Lc5Tb8Hm3J",
                "get_tide_times",
                r#"{"harbor":"Brest"}"#,
            )],
        })
        .message(Message::tool_result(
            "toolu_01Vx4Np7Rk2Wq9Lc5Tb8Hm3J",
            "get_tide_times",
            r#"{"high":"06:12"}"#,
        ));
    let body = encode(&request).unwrap();
    let text = body.to_string();
    assert!(
        !text.contains("encrypted-data") && !text.contains("unknown-origin-data"),
        "{text}"
    );
    insta::assert_json_snapshot!(body["contents"]);
}
