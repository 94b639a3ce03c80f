//! The exact request bodies sent for a matrix of requests and presets.
//!
//! `tests/client.rs` checks that what the client puts on the wire is exactly
//! `encode::request_bytes`, with the value of `encode::request_body`. The `Value`
//! snapshots show each body with its keys sorted; the `bytes_` snapshots pin the bytes
//! themselves (key order, escapes, number forms) for a few requests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use tollgate_core::{
    AssistantMessage, AssistantPart, ChatRequest, Image, ImageSource, Message, ReasoningEffort,
    ResponseFormat, Tool, ToolCall, ToolChoice, UserPart,
};
use tollgate_openai::{OpenAiConfig, Preset, Quirks, encode};

fn body(request: &ChatRequest, quirks: Quirks, stream: bool) -> Value {
    encode::request_body(request, &quirks, stream).unwrap()
}

fn openai(request: &ChatRequest) -> Value {
    body(request, Quirks::default(), false)
}

macro_rules! snapshot {
    ($name:literal, $value:expr) => {
        insta::with_settings!({ sort_maps => true, prepend_module_to_snapshot => false }, {
            insta::assert_json_snapshot!($name, $value);
        })
    };
}

fn weather_tool() -> Tool {
    let mut tool = Tool::new(
        "get_tide_times",
        json!({
            "type": "object",
            "properties": {"harbor": {"type": "string"}, "date": {"type": "string"}},
            "required": ["harbor", "date"],
            "additionalProperties": false
        }),
    )
    .description("Tide times for a harbor on a date");
    tool.strict = Some(true);
    tool
}

/// The data of the redacted reasoning in [`tool_conversation`].
const REDACTED_DATA: &str = "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP";

/// A conversation that went through one round of two parallel tool calls, with ids from
/// another provider (Anthropic) that Mistral would reject.
fn tool_conversation() -> ChatRequest {
    ChatRequest::new("gpt-4o")
        .system("You answer questions about tides.")
        .user("When is high tide in Brest and Saint-Malo on 2026-03-14?")
        .message(AssistantMessage {
            content: vec![
                AssistantPart::Reasoning {
                    text: "I should call the tool twice.".into(),
                    signature: Some("sig".into()),
                    signed_by: None,
                },
                // Anthropic's encrypted reasoning: Chat Completions has no field for it,
                // so the snapshots show it gone.
                AssistantPart::RedactedReasoning {
                    data: REDACTED_DATA.into(),
                    signed_by: Some("anthropic".into()),
                },
                AssistantPart::Text {
                    text: "Let me look both up.".into(),
                },
            ],
            tool_calls: vec![
                ToolCall::new(
                    "toolu_01Vx4Np7Rk2Wq9Lc5Tb8Hm3J",
                    "get_tide_times",
                    r#"{"harbor":"Brest","date":"2026-03-14"}"#,
                ),
                ToolCall::new(
                    "toolu_01Ab2Cd3Ef4Gh5Ij6Kl7Mn8O",
                    "get_tide_times",
                    r#"{"harbor":"Saint-Malo","date":"2026-03-14"}"#,
                ),
            ],
        })
        .message(Message::tool_result(
            "toolu_01Vx4Np7Rk2Wq9Lc5Tb8Hm3J",
            "get_tide_times",
            r#"{"high":"06:12"}"#,
        ))
        .message(Message::tool_result(
            "toolu_01Ab2Cd3Ef4Gh5Ij6Kl7Mn8O",
            "get_tide_times",
            r#"{"high":"07:40"}"#,
        ))
        .message(AssistantMessage {
            content: vec![],
            tool_calls: vec![ToolCall::new("call_3", "get_tide_times", "")],
        })
        .message(Message::tool_result("call_3", "get_tide_times", "{}"))
        .tool(weather_tool())
}

#[test]
fn system_and_user() {
    let request = ChatRequest::new("gpt-4o-mini")
        .system("You are terse.")
        .user("What does a lighthouse keeper log?");
    snapshot!("system_and_user", openai(&request));
}

#[test]
fn multi_turn_with_tool_calls_and_results() {
    snapshot!("multi_turn_tools", openai(&tool_conversation()));
}

#[test]
fn images_by_url_and_base64_with_detail() {
    let request = ChatRequest::new("gpt-4o").user_parts([
        UserPart::text("What is in these pictures?"),
        UserPart::image_url("https://example.com/lighthouse.png"),
        UserPart::Image(Image {
            source: ImageSource::Base64 {
                media_type: "image/jpeg".into(),
                data: "/9j/4AAQSkZJRg==".into(),
            },
            detail: Some("low".into()),
        }),
        UserPart::Image(Image {
            source: ImageSource::Url {
                url: "https://example.com/chart.png".into(),
            },
            detail: Some("high".into()),
        }),
    ]);
    snapshot!("images", openai(&request));
}

#[test]
fn json_schema_response_format() {
    let request = ChatRequest::new("gpt-4o-2024-08-06")
        .user("Give me a tide record.")
        .response_format(ResponseFormat::JsonSchema {
            name: "tide_record".into(),
            description: Some("One high tide".into()),
            schema: json!({
                "type": "object",
                "properties": {"harbor": {"type": "string"}, "time": {"type": "string"}},
                "required": ["harbor", "time"],
                "additionalProperties": false
            }),
            strict: true,
        });
    snapshot!("json_schema", openai(&request));
}

#[test]
fn json_object_and_text_response_formats() {
    let json_object = ChatRequest::new("gpt-4o-mini")
        .user("A JSON object, please.")
        .response_format(ResponseFormat::JsonObject);
    snapshot!("json_object", openai(&json_object));
    let text = ChatRequest::new("gpt-4o-mini")
        .user("Plain text.")
        .response_format(ResponseFormat::Text);
    assert_eq!(openai(&text)["response_format"], json!({"type": "text"}));
}

fn every_parameter() -> ChatRequest {
    let mut request = ChatRequest::new("o4-mini")
        .user("Hi")
        .temperature(0.3)
        .top_p(0.9)
        .max_tokens(256)
        .stop("END")
        .stop("STOP")
        .seed(42)
        .reasoning_effort(ReasoningEffort::Low)
        .tool(weather_tool())
        .tool_choice(ToolChoice::Auto)
        .tag("task", "summarise")
        .tag("user", "u-1");
    request.top_k = Some(40);
    request.presence_penalty = Some(0.5);
    request.frequency_penalty = Some(-0.25);
    request.parallel_tool_calls = Some(false);
    request
}

#[test]
fn every_parameter_for_openai_streaming() {
    // top_k is not an OpenAI parameter and metadata is never sent.
    let sent = body(&every_parameter(), Quirks::default(), true);
    assert!(sent.get("top_k").is_none());
    assert!(sent.get("metadata").is_none());
    assert!(sent.get("max_tokens").is_none());
    snapshot!("every_parameter_openai_stream", sent);
}

#[test]
fn extra_fields_are_merged_last_and_win() {
    let request = ChatRequest::new("gpt-4o-mini")
        .user("Hi")
        .max_tokens(10)
        .extra("max_completion_tokens", json!(99))
        .extra("service_tier", json!("flex"))
        .extra("stream_options", json!({"include_usage": false}));
    let sent = body(&request, Quirks::default(), true);
    assert_eq!(sent["max_completion_tokens"], 99);
    snapshot!("extra_overrides", sent);
}

#[test]
fn each_tool_choice() {
    let choices = [
        ToolChoice::Auto,
        ToolChoice::None,
        ToolChoice::Required,
        ToolChoice::Tool {
            name: "get_tide_times".into(),
        },
    ];
    let sent: Vec<Value> = choices
        .into_iter()
        .map(|choice| {
            let request = ChatRequest::new("gpt-4o")
                .user("Tides?")
                .tool(Tool::new("get_tide_times", json!({"type": "object"})))
                .tool_choice(choice);
            openai(&request)["tool_choice"].clone()
        })
        .collect();
    snapshot!("tool_choices", sent);
}

#[test]
fn mistral_rewrites_every_tool_id_to_nine_alphanumerics() {
    let quirks = OpenAiConfig::preset(Preset::Mistral).quirks;
    let mut request = tool_conversation();
    request.model = "mistral-large-latest".into();
    request.seed = Some(7);
    request.max_tokens = Some(100);
    let sent = body(&request, quirks, true);
    // The assistant's calls and the tool results that answer them still match.
    let messages = sent["messages"].as_array().unwrap();
    let call_ids: Vec<&str> = messages
        .iter()
        .filter_map(|m| m.get("tool_calls"))
        .flat_map(|calls| calls.as_array().unwrap())
        .map(|call| call["id"].as_str().unwrap())
        .collect();
    let result_ids: Vec<&str> = messages
        .iter()
        .filter_map(|m| m.get("tool_call_id"))
        .map(|id| id.as_str().unwrap())
        .collect();
    assert_eq!(call_ids, result_ids);
    for id in &call_ids {
        assert!(
            id.len() == 9 && id.bytes().all(|b| b.is_ascii_alphanumeric()),
            "{id}"
        );
    }
    // No stream_options (Mistral rejects unknown fields), random_seed, max_tokens.
    assert!(sent.get("stream_options").is_none());
    assert_eq!(sent["random_seed"], 7);
    assert_eq!(sent["max_tokens"], 100);
    snapshot!("mistral_rewritten_ids", sent);
}

#[test]
fn presets_with_max_tokens_top_k_and_without_stream_options() {
    let perplexity = body(
        &every_parameter(),
        OpenAiConfig::preset(Preset::Perplexity).quirks,
        true,
    );
    assert!(perplexity.get("stream_options").is_none());
    assert!(perplexity.get("top_k").is_none());
    snapshot!("perplexity_stream", perplexity);
    let together = body(
        &every_parameter(),
        OpenAiConfig::preset(Preset::Together).quirks,
        true,
    );
    assert_eq!(together["top_k"], 40);
    assert_eq!(together["max_tokens"], 256);
    assert_eq!(together["stream_options"], json!({"include_usage": true}));
    snapshot!("together_stream", together);
}

#[test]
fn presets_send_top_k_only_where_accepted() {
    let mut request = ChatRequest::new("m").user("x");
    request.top_k = Some(5);
    let with_top_k: Vec<&str> = Preset::ALL
        .into_iter()
        .filter(|preset| {
            body(&request, OpenAiConfig::preset(*preset).quirks, false)
                .get("top_k")
                .is_some()
        })
        .map(Preset::provider)
        .collect();
    assert_eq!(
        with_top_k,
        ["together", "fireworks", "openrouter", "ollama", "vllm"]
    );
}

/// Redacted reasoning is another provider's encrypted data: no preset ever receives it,
/// whoever produced it (an unknown origin included), as text or in any other field.
#[test]
fn redacted_reasoning_is_never_sent() {
    let mut request = tool_conversation();
    request.messages.push(Message::Assistant(AssistantMessage {
        content: vec![
            AssistantPart::RedactedReasoning {
                data: "unknown-origin-data".into(),
                signed_by: None,
            },
            AssistantPart::Text {
                text: "Done.".into(),
            },
        ],
        tool_calls: vec![],
    }));
    for preset in Preset::ALL {
        let body = body(&request, OpenAiConfig::preset(preset).quirks, false).to_string();
        assert!(
            !body.contains(REDACTED_DATA) && !body.contains("unknown-origin-data"),
            "{}: {body}",
            preset.provider()
        );
        assert!(body.contains(r#""content":"Done.""#), "{body}");
    }
}

/// The bytes `request_bytes` writes, as text.
fn sent_bytes(request: &ChatRequest, quirks: Quirks, stream: bool) -> String {
    String::from_utf8(encode::request_bytes(request, &quirks, stream).unwrap()).unwrap()
}

macro_rules! bytes_snapshot {
    ($name:literal, $text:expr) => {
        insta::with_settings!({ prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!($name, $text);
        })
    };
}

/// Text that needs every kind of escape JSON has, and some that needs none.
const AWKWARD: &str =
    "Quote \"this\", a back\\slash, a tab\t, a new\nline, a bell \u{7}, </script>, é, € and 🦀";

/// The exact bytes servers receive (the snapshots above are `Value`s with sorted keys,
/// so they show neither the key order nor the escapes): key order, omissions, number
/// forms and escapes, with and without the quirks that change the body.
#[test]
fn the_exact_bytes_sent() {
    bytes_snapshot!(
        "bytes_multi_turn_tools",
        sent_bytes(&tool_conversation(), Quirks::default(), false)
    );
    let mut mistral = tool_conversation();
    mistral.model = "mistral-large-latest".into();
    mistral.seed = Some(-7);
    mistral.max_tokens = Some(100);
    bytes_snapshot!(
        "bytes_mistral_stream",
        sent_bytes(&mistral, OpenAiConfig::preset(Preset::Mistral).quirks, true)
    );
    bytes_snapshot!(
        "bytes_every_parameter_openai_stream",
        sent_bytes(&every_parameter(), Quirks::default(), true)
    );
    bytes_snapshot!(
        "bytes_every_parameter_together",
        sent_bytes(
            &every_parameter(),
            OpenAiConfig::preset(Preset::Together).quirks,
            false
        )
    );
    let awkward = ChatRequest::new("gpt-4o")
        .system(AWKWARD)
        .user_parts([
            UserPart::text(AWKWARD),
            UserPart::image_url("https://example.com/a \"b\".png"),
            UserPart::Image(Image {
                source: ImageSource::Base64 {
                    media_type: "image/png".into(),
                    data: "iVBORw0KGgo=".into(),
                },
                detail: Some("low".into()),
            }),
        ])
        .user("")
        .message(AssistantMessage {
            content: vec![AssistantPart::Text {
                text: AWKWARD.into(),
            }],
            tool_calls: vec![ToolCall::new("call \"1\"", "look\tup", "  ")],
        })
        .message(Message::tool_result("call \"1\"", "look\tup", AWKWARD))
        .assistant("")
        .stop(AWKWARD)
        .temperature(f64::NAN)
        .top_p(1e-7)
        .response_format(ResponseFormat::JsonSchema {
            name: "record".into(),
            description: None,
            schema: json!({"type": "object", "description": AWKWARD, "minimum": 0.5}),
            strict: false,
        })
        .tool(Tool::new(
            "look\tup",
            json!({"type": "object", "properties": {}}),
        ))
        .tool_choice(ToolChoice::Tool {
            name: "look\tup".into(),
        });
    bytes_snapshot!(
        "bytes_escapes",
        sent_bytes(&awkward, Quirks::default(), false)
    );
    // With `extra`, the body goes through a `Value` (keys sorted) to merge it.
    let extra = ChatRequest::new("gpt-4o-mini")
        .user("Hi")
        .max_tokens(10)
        .extra("service_tier", json!("flex"));
    bytes_snapshot!("bytes_extra", sent_bytes(&extra, Quirks::default(), true));
}
