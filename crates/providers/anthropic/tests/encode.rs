//! Exact request bodies the client sends, as snapshots, for a matrix of requests.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::json;
use tollgate_anthropic::decode::decode_response;
use tollgate_anthropic::encode::{encode, encode_bytes};
use tollgate_anthropic::wire::MessagesResponse;
use tollgate_anthropic::{AnthropicConfig, StructuredOutputMode};
use tollgate_core::{
    AssistantMessage, AssistantPart, ChatRequest, ErrorKind, Message, ReasoningEffort, ReplyMeta,
    ResponseFormat, Tool, ToolCall, ToolChoice, ToolMessage, UserPart,
};

const MODEL: &str = "claude-sonnet-4-5-20250929";
const OLD_MODEL: &str = "claude-3-7-sonnet-20250219";

fn config() -> AnthropicConfig {
    AnthropicConfig::new("sk-ant-test")
}

/// The body `encode` builds, checked against the bytes `encode_bytes` writes (what the
/// client sends): every test of this file holds for both.
fn body(request: &ChatRequest) -> serde_json::Value {
    let tree = encode(request, &config()).unwrap();
    let bytes = encode_bytes(request, &config()).unwrap();
    let sent: serde_json::Value = serde_json::from_slice(&bytes.body).unwrap();
    assert_eq!(sent, tree.body, "encode_bytes and encode disagree");
    assert_eq!(
        (bytes.answer_tool, bytes.betas),
        (tree.answer_tool, tree.betas)
    );
    tree.body
}

fn weather_tool() -> Tool {
    Tool::new(
        "get_weather",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    )
    .description("Current weather in a city")
}

fn tide_schema() -> ResponseFormat {
    ResponseFormat::JsonSchema {
        name: "tide report".into(),
        description: Some("A tide report".into()),
        schema: json!({
            "type": "object",
            "properties": {"harbor": {"type": "string"}, "high_tide": {"type": "string"}},
            "required": ["harbor", "high_tide"],
            "additionalProperties": false
        }),
        strict: true,
    }
}

#[test]
fn system_and_user() {
    let request = ChatRequest::new(MODEL)
        .system("You are terse.")
        .user("Name a lighthouse.");
    insta::assert_json_snapshot!(body(&request));
}

#[test]
fn several_system_messages_are_joined_and_a_late_one_is_lifted() {
    let request = ChatRequest::new(MODEL)
        .system("Rule one.")
        .system("Rule two.")
        .user("Hi")
        .assistant("Hello")
        .system("Rule three, given late.")
        .user("Again");
    let body = body(&request);
    assert_eq!(
        body["system"],
        "Rule one.\n\nRule two.\n\nRule three, given late."
    );
    assert_eq!(body["messages"].as_array().unwrap().len(), 3);
}

/// A conversation begun on OpenAI (ids with characters Anthropic rejects), with two
/// parallel tool calls answered by two consecutive tool messages, then a user follow-up.
#[test]
fn multi_turn_with_tool_calls_and_results() {
    let request = ChatRequest::new(MODEL)
        .system("You look up tides.")
        .user("Tides in Brest and Saint-Malo?")
        .message(AssistantMessage {
            content: vec![AssistantPart::Text {
                text: "Looking both up.".into(),
            }],
            tool_calls: vec![
                ToolCall::new("call_abc.123", "get_tide_times", r#"{"harbor":"Brest"}"#),
                ToolCall::new("toolu_01Gm8Qs3Yd6Ft1Xk4Pw9Rn2C", "get_tide_times", ""),
            ],
        })
        .message(Message::tool_result(
            "call_abc.123",
            "get_tide_times",
            r#"{"high":"06:12"}"#,
        ))
        .message(ToolMessage {
            tool_call_id: "toolu_01Gm8Qs3Yd6Ft1Xk4Pw9Rn2C".into(),
            name: "get_tide_times".into(),
            content: "harbor unknown".into(),
            is_error: true,
        })
        .user("And tomorrow?")
        .tool(Tool::new(
            "get_tide_times",
            json!({"type": "object", "properties": {"harbor": {"type": "string"}}}),
        ));
    let body = body(&request);
    insta::assert_json_snapshot!(body);

    // The rewritten id is the same on the call and on its result, and valid.
    let call_id = &body["messages"][1]["content"][1]["id"];
    let result_id = &body["messages"][2]["content"][0]["tool_use_id"];
    assert_eq!(call_id, result_id);
    let id = call_id.as_str().unwrap();
    assert!(
        id.len() <= 64
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    );
}

#[test]
fn consecutive_turns_merge_and_tool_results_come_first_in_a_user_turn() {
    let request = ChatRequest::new(MODEL)
        .user("One")
        .user("Two")
        .message(AssistantMessage {
            content: vec![],
            tool_calls: vec![ToolCall::new("t1", "f", "{}")],
        })
        .assistant("Also text")
        .user("A note written before the result arrived")
        .message(Message::tool_result("t1", "f", "ok"));
    insta::assert_json_snapshot!(body(&request));
}

#[test]
fn a_conversation_starting_with_the_assistant_gets_a_minimal_user_turn() {
    let request = ChatRequest::new(MODEL)
        .system("s")
        .assistant("How can I help?")
        .user("Tell me a joke");
    let body = body(&request);
    assert_eq!(
        body["messages"][0],
        json!({"role": "user", "content": [{"type": "text", "text": "."}]})
    );
    assert_eq!(body["messages"][1]["role"], "assistant");
    assert_eq!(body["messages"][2]["role"], "user");
}

#[test]
fn a_conversation_without_turns_is_an_invalid_request() {
    let err = encode(&ChatRequest::new(MODEL).system("only"), &config()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
}

#[test]
fn invalid_tool_arguments_are_an_invalid_request_naming_the_call() {
    for arguments in [r#"{"harbor": "Bre"#, "[1, 2]"] {
        let request = ChatRequest::new(MODEL).user("u").message(AssistantMessage {
            content: vec![],
            tool_calls: vec![ToolCall::new("call_7", "get_tide_times", arguments)],
        });
        let err = encode(&request, &config()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
        assert!(err.message().contains("call_7"), "{err}");
        assert!(err.message().contains("get_tide_times"), "{err}");
    }
}

#[test]
fn images_by_url_and_base64() {
    let request = ChatRequest::new(MODEL).user_parts([
        UserPart::text("What is in these?"),
        UserPart::image_url("https://example.com/lighthouse.jpg"),
        UserPart::image_base64("image/png", "iVBORw0KGgo="),
        UserPart::image_url("data:image/webp;base64,UklGRg=="),
    ]);
    insta::assert_json_snapshot!(body(&request));
}

#[test]
fn signed_reasoning_is_echoed_and_unsigned_reasoning_dropped() {
    let request = ChatRequest::new(MODEL)
        .user("u")
        .message(AssistantMessage {
            content: vec![
                AssistantPart::Reasoning {
                    text: "Let me think.".into(),
                    signature: Some("EqQBCgIYAhIM".into()),
                    signed_by: Some("anthropic".into()),
                },
                AssistantPart::Reasoning {
                    text: "From another provider, unsigned.".into(),
                    signature: None,
                    signed_by: None,
                },
                // A Gemini thought signature must never reach Anthropic: it would be
                // rejected as an invalid thinking signature. The snapshot shows it gone.
                AssistantPart::Reasoning {
                    text: String::new(),
                    signature: Some("gemini-thought-signature".into()),
                    signed_by: Some("gcp.gemini".into()),
                },
                AssistantPart::Text {
                    text: "Answer.".into(),
                },
            ],
            tool_calls: vec![],
        })
        .user("More");
    insta::assert_json_snapshot!(body(&request));
}

/// The next request of a tool loop whose answer had a `thinking`, a `redacted_thinking`,
/// a text and a `tool_use` block: Anthropic requires every thinking block of the turn
/// back unchanged, so both come back, in their order, before the text and the call.
#[test]
fn a_tool_loop_replays_thinking_and_redacted_thinking_in_order() {
    let wire: MessagesResponse =
        serde_json::from_str(&support::fixture("messages-redacted-thinking.json")).unwrap();
    let answer = decode_response(
        wire,
        None,
        ReplyMeta::for_provider("anthropic", "https://api.anthropic.com"),
    );
    let call_id = answer.message.tool_calls[0].id.clone();
    let request = ChatRequest::new(MODEL)
        .user("When is high tide in Brest on 2026-03-14?")
        .message(answer.message)
        .message(Message::tool_result(
            call_id,
            "get_tide_times",
            r#"{"high":"06:12"}"#,
        ))
        .tool(Tool::new(
            "get_tide_times",
            json!({"type": "object", "properties": {"harbor": {"type": "string"},
                   "date": {"type": "string"}}}),
        ))
        .reasoning_effort(ReasoningEffort::Low);
    insta::assert_json_snapshot!(body(&request));
}

/// Redacted reasoning goes back only to the provider that produced it (or when its origin
/// is unknown); another provider's encrypted data is never sent, and empty data is not a
/// block Anthropic accepts.
#[test]
fn redacted_reasoning_of_another_provider_is_dropped() {
    let request = ChatRequest::new(MODEL)
        .user("u")
        .message(AssistantMessage {
            content: vec![
                AssistantPart::RedactedReasoning {
                    data: "from-elsewhere".into(),
                    signed_by: Some("gcp.gemini".into()),
                },
                AssistantPart::RedactedReasoning {
                    data: "unknown-origin".into(),
                    signed_by: None,
                },
                AssistantPart::RedactedReasoning {
                    data: String::new(),
                    signed_by: Some("anthropic".into()),
                },
                AssistantPart::Text {
                    text: "Answer.".into(),
                },
            ],
            tool_calls: vec![],
        })
        .user("More");
    let body = body(&request);
    assert_eq!(
        body["messages"][1]["content"],
        json!([
            {"type": "redacted_thinking", "data": "unknown-origin"},
            {"type": "text", "text": "Answer."}
        ])
    );
}

#[test]
fn json_schema_native_for_a_recent_model() {
    let request = ChatRequest::new(MODEL)
        .user("Tides in Brest?")
        .response_format(tide_schema());
    let encoded = encode(&request, &config()).unwrap();
    assert_eq!(encoded.answer_tool, None);
    insta::assert_json_snapshot!(encoded.body);
}

#[test]
fn json_schema_through_a_forced_tool_for_an_older_model() {
    let request = ChatRequest::new(OLD_MODEL)
        .user("Tides in Brest?")
        .response_format(tide_schema());
    let encoded = encode(&request, &config()).unwrap();
    assert_eq!(encoded.answer_tool.as_deref(), Some("tide_report"));
    insta::assert_json_snapshot!(encoded.body);
}

#[test]
fn structured_output_mode_overrides_the_model_default() {
    let request = ChatRequest::new(MODEL)
        .user("u")
        .response_format(tide_schema());
    let forced = encode(
        &request,
        &config().structured_output(StructuredOutputMode::Tool),
    )
    .unwrap();
    assert!(forced.body.get("output_config").is_none());
    assert_eq!(forced.body["tool_choice"]["name"], "tide_report");
    let old = ChatRequest::new(OLD_MODEL)
        .user("u")
        .response_format(tide_schema());
    let native = encode(
        &old,
        &config().structured_output(StructuredOutputMode::Native),
    )
    .unwrap();
    assert!(native.body["output_config"]["format"]["schema"].is_object());
    assert!(native.answer_tool.is_none());
}

#[test]
fn json_schema_native_beta_form() {
    let request = ChatRequest::new(OLD_MODEL)
        .user("Tides in Brest?")
        .response_format(tide_schema());
    let encoded = encode(
        &request,
        &config().structured_output(StructuredOutputMode::NativeBeta),
    )
    .unwrap();
    assert_eq!(encoded.betas, ["structured-outputs-2025-11-13"]);
    assert_eq!(encoded.answer_tool, None);
    insta::assert_json_snapshot!(encoded.body);
}

#[test]
fn json_schema_forced_tool_with_tools_of_the_callers_own() {
    let request = ChatRequest::new(OLD_MODEL)
        .user("Weather, then a report")
        .tool(weather_tool())
        .response_format(tide_schema());
    let body = body(&request);
    assert_eq!(body["tool_choice"], json!({"type": "any"}));
    let names: Vec<_> = body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["get_weather", "tide_report"]);
}

#[test]
fn json_object_through_a_forced_open_object_tool() {
    let request = ChatRequest::new(MODEL)
        .user("Give me JSON")
        .response_format(ResponseFormat::JsonObject);
    let encoded = encode(&request, &config()).unwrap();
    assert_eq!(encoded.answer_tool.as_deref(), Some("json_object"));
    insta::assert_json_snapshot!(encoded.body);
}

#[test]
fn forced_tool_structured_output_with_thinking_is_unsupported() {
    let request = ChatRequest::new(OLD_MODEL)
        .user("u")
        .response_format(tide_schema())
        .reasoning_effort(ReasoningEffort::Low);
    let err = encode(&request, &config()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
}

#[test]
fn every_parameter() {
    let mut request = ChatRequest::new(MODEL)
        .system("s")
        .user("u")
        .temperature(0.3)
        .top_p(0.9)
        .max_tokens(512)
        .stop("END")
        .stop("STOP")
        .seed(7)
        .tag("user", "user-42")
        .tag("task", "qa")
        .streaming(true);
    request.top_k = Some(40);
    request.presence_penalty = Some(0.5);
    request.frequency_penalty = Some(0.5);
    insta::assert_json_snapshot!(body(&request));
}

#[test]
fn max_tokens_defaults_to_the_configured_value() {
    let request = ChatRequest::new(MODEL).user("u");
    assert_eq!(body(&request)["max_tokens"], 4096);
    let custom = encode(&request, &config().default_max_tokens(1000)).unwrap();
    assert_eq!(custom.body["max_tokens"], 1000);
}

#[test]
fn extra_fields_are_merged_last() {
    let request = ChatRequest::new(MODEL)
        .user("u")
        .max_tokens(100)
        .extra("max_tokens", json!(200))
        .extra("service_tier", json!("standard_only"))
        .extra("cache_control", json!({"type": "ephemeral"}));
    insta::assert_json_snapshot!(body(&request));
}

#[test]
fn reasoning_effort_becomes_a_thinking_budget() {
    let request = ChatRequest::new(MODEL)
        .user("Prove it.")
        .reasoning_effort(ReasoningEffort::Medium);
    insta::assert_json_snapshot!(body(&request));
}

#[test]
fn max_tokens_is_raised_above_the_thinking_budget_only_when_needed() {
    let cases = [
        (ReasoningEffort::Minimal, None, 1024, 4096),
        (ReasoningEffort::Low, None, 4096, 8192),
        (ReasoningEffort::Medium, Some(20_000), 10_000, 20_000),
        (ReasoningEffort::High, Some(2000), 32_000, 34_000),
    ];
    for (effort, max_tokens, budget, expected_max) in cases {
        let mut request = ChatRequest::new(MODEL).user("u").reasoning_effort(effort);
        request.max_tokens = max_tokens;
        let body = body(&request);
        assert_eq!(body["thinking"]["budget_tokens"], budget, "{effort:?}");
        assert_eq!(body["max_tokens"], expected_max, "{effort:?}");
    }
}

#[test]
fn each_tool_choice() {
    let choices = [
        ("unset", None, None),
        ("auto", Some(ToolChoice::Auto), None),
        ("required", Some(ToolChoice::Required), None),
        ("none", Some(ToolChoice::None), None),
        (
            "tool",
            Some(ToolChoice::Tool {
                name: "get_weather".into(),
            }),
            None,
        ),
        ("unset_no_parallel", None, Some(false)),
        (
            "required_no_parallel",
            Some(ToolChoice::Required),
            Some(false),
        ),
        ("none_no_parallel", Some(ToolChoice::None), Some(false)),
        ("auto_parallel_allowed", Some(ToolChoice::Auto), Some(true)),
    ];
    let mut all = serde_json::Map::new();
    for (label, choice, parallel) in choices {
        let mut request = ChatRequest::new(MODEL).user("u").tool(weather_tool());
        request.tool_choice = choice;
        request.parallel_tool_calls = parallel;
        let body = body(&request);
        all.insert(
            label.to_owned(),
            body.get("tool_choice").cloned().unwrap_or(json!(null)),
        );
    }
    insta::assert_json_snapshot!(all);
}

#[test]
fn tools_with_full_definitions() {
    let mut strict = weather_tool();
    strict.strict = Some(true);
    let request = ChatRequest::new(MODEL)
        .user("u")
        .tool(strict)
        .tool(Tool::new("now", serde_json::Value::Null));
    insta::assert_json_snapshot!(body(&request));
}

#[test]
fn tool_choice_is_not_sent_without_tools() {
    let request = ChatRequest::new(MODEL)
        .user("u")
        .tool_choice(ToolChoice::Required);
    assert!(body(&request).get("tool_choice").is_none());
}
