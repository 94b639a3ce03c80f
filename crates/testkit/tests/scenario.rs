//! Neutral scenarios render into each provider's real wire format, and normalise back to the
//! same answer whichever provider and mode rendered them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use tollgate_core::sse::{SseDecoder, SseEvent};
use tollgate_testkit::scenario::{
    Scenario, ScenarioError, ScenarioFinish, ScenarioToolCall, ScenarioUsage, error_reply,
    error_reply_for_stream,
};
use tollgate_testkit::{FakeServer, Flavor, Reply};

/// What a client should make of any rendering, whatever the provider.
#[derive(Debug, Default, PartialEq, Eq)]
struct Normalised {
    id: String,
    model: String,
    text: String,
    reasoning: String,
    /// (id — empty for Gemini, name, arguments as JSON).
    calls: Vec<(String, String, Value)>,
    usage: ScenarioUsage,
    finish: Option<ScenarioFinish>,
}

fn expected(s: &Scenario, flavor: Flavor) -> Normalised {
    let mut usage = s.usage;
    if flavor == Flavor::Gemini {
        usage.cache_write_tokens = 0;
    }
    Normalised {
        id: s.id.clone(),
        model: s.model.clone(),
        text: s.joined_text(),
        reasoning: if flavor == Flavor::OpenAi {
            String::new()
        } else {
            s.joined_reasoning()
        },
        calls: s
            .tool_calls
            .iter()
            .map(|c| {
                let id = if flavor == Flavor::Gemini {
                    String::new()
                } else {
                    c.id.clone()
                };
                let args = c.arguments_json();
                let args = if args.is_empty() {
                    json!({})
                } else {
                    serde_json::from_str(&args).unwrap()
                };
                (id, c.name.clone(), args)
            })
            .collect(),
        usage,
        finish: Some(s.finish),
    }
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

fn events(body: &[u8]) -> Vec<SseEvent> {
    let mut decoder = SseDecoder::new();
    let mut events = Vec::new();
    decoder.feed(body, &mut events);
    assert!(
        !decoder.has_pending(),
        "the body must end with a complete event"
    );
    events
}

fn openai_usage(usage: &Value) -> ScenarioUsage {
    ScenarioUsage {
        input_tokens: u(&usage["prompt_tokens"]),
        output_tokens: u(&usage["completion_tokens"]),
        cache_read_tokens: u(&usage["prompt_tokens_details"]["cached_tokens"]),
        cache_write_tokens: u(&usage["prompt_tokens_details"]["cache_write_tokens"]),
        reasoning_tokens: u(&usage["completion_tokens_details"]["reasoning_tokens"]),
    }
}

fn openai_finish(reason: &Value) -> Option<ScenarioFinish> {
    Some(match reason.as_str()? {
        "stop" => ScenarioFinish::Stop,
        "length" => ScenarioFinish::Length,
        "tool_calls" => ScenarioFinish::ToolCalls,
        "content_filter" => ScenarioFinish::ContentFilter,
        other => panic!("unknown finish_reason {other}"),
    })
}

fn normalise_openai(body: &[u8], stream: bool) -> Normalised {
    let mut n = Normalised::default();
    if !stream {
        let v: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(v["object"], "chat.completion");
        n.id = v["id"].as_str().unwrap().into();
        n.model = v["model"].as_str().unwrap().into();
        let choice = &v["choices"][0];
        n.text = choice["message"]["content"].as_str().unwrap_or("").into();
        for call in choice["message"]["tool_calls"]
            .as_array()
            .into_iter()
            .flatten()
        {
            assert_eq!(call["type"], "function");
            let args = call["function"]["arguments"].as_str().unwrap();
            // Empty arguments mean `{}`.
            let args: Value = if args.is_empty() {
                json!({})
            } else {
                serde_json::from_str(args).unwrap()
            };
            n.calls.push((
                call["id"].as_str().unwrap().into(),
                call["function"]["name"].as_str().unwrap().into(),
                args,
            ));
        }
        n.finish = openai_finish(&choice["finish_reason"]);
        n.usage = openai_usage(&v["usage"]);
        return n;
    }
    let events = events(body);
    assert!(
        events.iter().all(|e| e.event.is_empty()),
        "OpenAI sends no event names"
    );
    assert_eq!(events.last().unwrap().data, "[DONE]");
    let mut args: Vec<String> = Vec::new();
    for (i, event) in events[..events.len() - 1].iter().enumerate() {
        let chunk: Value = serde_json::from_str(&event.data).unwrap();
        assert_eq!(chunk["object"], "chat.completion.chunk");
        n.id = chunk["id"].as_str().unwrap().into();
        n.model = chunk["model"].as_str().unwrap().into();
        let choices = chunk["choices"].as_array().unwrap();
        if choices.is_empty() {
            n.usage = openai_usage(&chunk["usage"]);
            continue;
        }
        assert!(chunk["usage"].is_null());
        let delta = &choices[0]["delta"];
        if i == 0 {
            assert_eq!(
                delta["role"], "assistant",
                "the first chunk carries the role"
            );
        }
        n.text.push_str(delta["content"].as_str().unwrap_or(""));
        for call in delta["tool_calls"].as_array().into_iter().flatten() {
            let index = call["index"].as_u64().unwrap() as usize;
            if let Some(id) = call["id"].as_str() {
                assert_eq!(index, n.calls.len(), "calls start in index order");
                n.calls.push((
                    id.into(),
                    call["function"]["name"].as_str().unwrap().into(),
                    Value::Null,
                ));
                args.push(String::new());
            } else {
                assert!(
                    call["function"].get("name").is_none(),
                    "the name comes only on the first fragment"
                );
            }
            args[index].push_str(call["function"]["arguments"].as_str().unwrap());
        }
        if let Some(finish) = openai_finish(&choices[0]["finish_reason"]) {
            n.finish = Some(finish);
        }
    }
    for (call, args) in n.calls.iter_mut().zip(args) {
        // Empty arguments mean `{}`.
        call.2 = if args.is_empty() {
            json!({})
        } else {
            serde_json::from_str(&args).unwrap()
        };
    }
    n
}

fn anthropic_usage(usage: &Value, into: &mut ScenarioUsage) {
    let read = u(&usage["cache_read_input_tokens"]);
    let write = u(&usage["cache_creation_input_tokens"]);
    into.input_tokens = u(&usage["input_tokens"]) + read + write;
    into.cache_read_tokens = read;
    into.cache_write_tokens = write;
    into.output_tokens = u(&usage["output_tokens"]);
    into.reasoning_tokens = u(&usage["output_tokens_details"]["thinking_tokens"]);
}

fn anthropic_finish(reason: &Value) -> Option<ScenarioFinish> {
    Some(match reason.as_str()? {
        "end_turn" => ScenarioFinish::Stop,
        "max_tokens" => ScenarioFinish::Length,
        "tool_use" => ScenarioFinish::ToolCalls,
        "refusal" => ScenarioFinish::ContentFilter,
        other => panic!("unknown stop_reason {other}"),
    })
}

fn anthropic_block(n: &mut Normalised, block: &Value) {
    match block["type"].as_str().unwrap() {
        "text" => n.text.push_str(block["text"].as_str().unwrap()),
        "thinking" => {
            n.reasoning.push_str(block["thinking"].as_str().unwrap());
            assert!(
                block["signature"].is_string(),
                "thinking blocks carry a signature"
            );
        }
        "tool_use" => n.calls.push((
            block["id"].as_str().unwrap().into(),
            block["name"].as_str().unwrap().into(),
            block["input"].clone(),
        )),
        other => panic!("unexpected block {other}"),
    }
}

fn normalise_anthropic(body: &[u8], stream: bool) -> Normalised {
    let mut n = Normalised::default();
    if !stream {
        let v: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(
            (v["type"].as_str(), v["role"].as_str()),
            (Some("message"), Some("assistant"))
        );
        n.id = v["id"].as_str().unwrap().into();
        n.model = v["model"].as_str().unwrap().into();
        for block in v["content"].as_array().unwrap() {
            anthropic_block(&mut n, block);
        }
        n.finish = anthropic_finish(&v["stop_reason"]);
        anthropic_usage(&v["usage"], &mut n.usage);
        return n;
    }
    let events = events(body);
    assert_eq!(events.first().unwrap().event, "message_start");
    assert_eq!(events.last().unwrap().event, "message_stop");
    let mut partial_json: Vec<String> = Vec::new();
    let mut kinds: Vec<String> = Vec::new();
    for event in &events {
        let data: Value = serde_json::from_str(&event.data).unwrap();
        assert_eq!(
            data["type"],
            event.event.as_str(),
            "the data repeats the event name"
        );
        match event.event.as_str() {
            "message_start" => {
                let message = &data["message"];
                n.id = message["id"].as_str().unwrap().into();
                n.model = message["model"].as_str().unwrap().into();
                assert!(message["content"].as_array().unwrap().is_empty());
                anthropic_usage(&message["usage"], &mut n.usage);
            }
            "content_block_start" => {
                let index = data["index"].as_u64().unwrap() as usize;
                assert_eq!(index, kinds.len());
                let block = &data["content_block"];
                kinds.push(block["type"].as_str().unwrap().into());
                partial_json.push(String::new());
                anthropic_block(&mut n, block);
            }
            "content_block_delta" => {
                let index = data["index"].as_u64().unwrap() as usize;
                let delta = &data["delta"];
                match (kinds[index].as_str(), delta["type"].as_str().unwrap()) {
                    ("text", "text_delta") => n.text.push_str(delta["text"].as_str().unwrap()),
                    ("thinking", "thinking_delta") => {
                        n.reasoning.push_str(delta["thinking"].as_str().unwrap())
                    }
                    ("thinking", "signature_delta") => {}
                    ("tool_use", "input_json_delta") => {
                        partial_json[index].push_str(delta["partial_json"].as_str().unwrap())
                    }
                    other => panic!("unexpected delta {other:?}"),
                }
            }
            "content_block_stop" => {
                let index = data["index"].as_u64().unwrap() as usize;
                if kinds[index] == "tool_use" {
                    let call = n.calls.iter_mut().rev().find(|c| c.2 == json!({})).unwrap();
                    call.2 = if partial_json[index].is_empty() {
                        json!({})
                    } else {
                        serde_json::from_str(&partial_json[index]).unwrap()
                    };
                }
            }
            "message_delta" => {
                n.finish = anthropic_finish(&data["delta"]["stop_reason"]);
                anthropic_usage(&data["usage"], &mut n.usage);
            }
            "ping" | "message_stop" => {}
            other => panic!("unexpected event {other}"),
        }
    }
    n
}

fn gemini_response(n: &mut Normalised, v: &Value) {
    n.id = v["responseId"].as_str().unwrap().into();
    n.model = v["modelVersion"].as_str().unwrap().into();
    let usage = &v["usageMetadata"];
    let thoughts = u(&usage["thoughtsTokenCount"]);
    n.usage = ScenarioUsage {
        input_tokens: u(&usage["promptTokenCount"]),
        output_tokens: u(&usage["candidatesTokenCount"]) + thoughts,
        cache_read_tokens: u(&usage["cachedContentTokenCount"]),
        cache_write_tokens: 0,
        reasoning_tokens: thoughts,
    };
    let candidate = &v["candidates"][0];
    assert_eq!(candidate["content"]["role"], "model");
    for part in candidate["content"]["parts"].as_array().unwrap() {
        if let Some(call) = part.get("functionCall") {
            assert!(
                call.get("id").is_none(),
                "Gemini function calls carry no id"
            );
            n.calls.push((
                String::new(),
                call["name"].as_str().unwrap().into(),
                call["args"].clone(),
            ));
        } else if part["thought"] == json!(true) {
            n.reasoning.push_str(part["text"].as_str().unwrap());
        } else {
            n.text.push_str(part["text"].as_str().unwrap());
        }
    }
    if let Some(reason) = candidate["finishReason"].as_str() {
        n.finish = Some(match reason {
            "STOP" if n.calls.is_empty() => ScenarioFinish::Stop,
            "STOP" => ScenarioFinish::ToolCalls,
            "MAX_TOKENS" => ScenarioFinish::Length,
            "SAFETY" => ScenarioFinish::ContentFilter,
            other => panic!("unknown finishReason {other}"),
        });
    }
}

fn normalise_gemini(body: &[u8], stream: bool) -> Normalised {
    let mut n = Normalised::default();
    if !stream {
        gemini_response(&mut n, &serde_json::from_slice(body).unwrap());
        return n;
    }
    let text = std::str::from_utf8(body).unwrap();
    assert!(text.ends_with("\r\n\r\n"));
    assert!(
        text.match_indices('\n')
            .all(|(i, _)| i > 0 && &text[i - 1..i] == "\r"),
        "CRLF framing only"
    );
    let events = events(body);
    let last = events.len() - 1;
    for (i, event) in events.iter().enumerate() {
        assert!(event.event.is_empty());
        let chunk: Value = serde_json::from_str(&event.data).unwrap();
        let finish = &chunk["candidates"][0]["finishReason"];
        assert_eq!(
            !finish.is_null(),
            i == last,
            "finishReason only on the last chunk"
        );
        gemini_response(&mut n, &chunk);
    }
    n
}

fn normalise(flavor: Flavor, reply: &Reply, stream: bool) -> Normalised {
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.is_sse(), stream);
    let body = reply.body().unwrap();
    match flavor {
        Flavor::OpenAi => normalise_openai(body, stream),
        Flavor::Anthropic => normalise_anthropic(body, stream),
        Flavor::Gemini => normalise_gemini(body, stream),
    }
}

fn scenarios() -> Vec<Scenario> {
    let cached = ScenarioUsage {
        input_tokens: 1342,
        output_tokens: 200,
        cache_read_tokens: 1024,
        cache_write_tokens: 100,
        reasoning_tokens: 144,
    };
    vec![
        Scenario::text(["Fog horns", " sound every", " thirty seconds."])
            .with_id("resp_text")
            .with_model("model-a"),
        Scenario::text(["Partial"])
            .with_finish(ScenarioFinish::Length)
            .with_usage(ScenarioUsage {
                input_tokens: 9,
                output_tokens: 4096,
                ..Default::default()
            }),
        Scenario::text(["I can't help with that."]).with_finish(ScenarioFinish::ContentFilter),
        Scenario::tool_calls([
            ScenarioToolCall::new(
                "toolu_01A",
                "get_tide_times",
                [r#"{"harbor": "Br"#, r#"est", "date": "2026-03-14"}"#],
            ),
            ScenarioToolCall::new(
                "toolu_01B",
                "get_tide_times",
                [r#"{"harbor":"Saint-Malo"}"#],
            ),
        ])
        .with_reasoning(["Two harbors", ", two calls."])
        .with_usage(cached),
        Scenario::text(["Checking."])
            .with_tool_calls([ScenarioToolCall::new("call_1", "now", Vec::<String>::new())])
            .with_finish(ScenarioFinish::ToolCalls),
    ]
}

#[test]
fn every_rendering_normalises_back_to_the_scenario() {
    for scenario in scenarios() {
        for flavor in Flavor::ALL {
            for stream in [false, true] {
                let reply = scenario.reply(flavor, stream);
                let got = normalise(flavor, &reply, stream);
                assert_eq!(
                    got,
                    expected(&scenario, flavor),
                    "{flavor} stream={stream} {scenario:?}"
                );
            }
        }
    }
}

#[test]
fn usage_is_denormalised_into_each_providers_semantics() {
    let scenario = Scenario::text(["x"]).with_usage(ScenarioUsage {
        input_tokens: 1000,
        output_tokens: 300,
        cache_read_tokens: 600,
        cache_write_tokens: 100,
        reasoning_tokens: 120,
    });
    let body = |flavor| -> Value {
        serde_json::from_slice(scenario.reply(flavor, false).body().unwrap()).unwrap()
    };

    let openai = &body(Flavor::OpenAi)["usage"];
    assert_eq!(
        openai["prompt_tokens"], 1000,
        "OpenAI prompt_tokens includes cached tokens"
    );
    assert_eq!(openai["prompt_tokens_details"]["cached_tokens"], 600);
    assert_eq!(
        openai["completion_tokens"], 300,
        "completion_tokens includes reasoning"
    );
    assert_eq!(openai["completion_tokens_details"]["reasoning_tokens"], 120);
    assert_eq!(openai["total_tokens"], 1300);

    let anthropic = &body(Flavor::Anthropic)["usage"];
    assert_eq!(
        anthropic["input_tokens"], 300,
        "Anthropic input_tokens excludes cache reads and writes"
    );
    assert_eq!(anthropic["cache_read_input_tokens"], 600);
    assert_eq!(anthropic["cache_creation_input_tokens"], 100);
    assert_eq!(anthropic["output_tokens"], 300);

    let gemini = &body(Flavor::Gemini)["usageMetadata"];
    assert_eq!(
        gemini["promptTokenCount"], 1000,
        "promptTokenCount includes cached content"
    );
    assert_eq!(gemini["cachedContentTokenCount"], 600);
    assert_eq!(
        gemini["candidatesTokenCount"], 180,
        "candidatesTokenCount excludes thoughts"
    );
    assert_eq!(gemini["thoughtsTokenCount"], 120);
    assert_eq!(gemini["totalTokenCount"], 1300);
}

#[test]
fn finish_reasons_use_each_providers_values() {
    let table = [
        (ScenarioFinish::Stop, "stop", "end_turn", "STOP"),
        (ScenarioFinish::Length, "length", "max_tokens", "MAX_TOKENS"),
        (ScenarioFinish::ToolCalls, "tool_calls", "tool_use", "STOP"),
        (
            ScenarioFinish::ContentFilter,
            "content_filter",
            "refusal",
            "SAFETY",
        ),
    ];
    for (finish, openai, anthropic, gemini) in table {
        let scenario = Scenario::text(["x"]).with_finish(finish);
        let body = |flavor| -> Value {
            serde_json::from_slice(scenario.reply(flavor, false).body().unwrap()).unwrap()
        };
        assert_eq!(body(Flavor::OpenAi)["choices"][0]["finish_reason"], openai);
        assert_eq!(body(Flavor::Anthropic)["stop_reason"], anthropic);
        assert_eq!(
            body(Flavor::Gemini)["candidates"][0]["finishReason"],
            gemini
        );
    }
}

#[test]
fn streams_use_each_providers_framing() {
    let scenario = Scenario::text(["a", "b"]);
    let body =
        |flavor| String::from_utf8(scenario.reply(flavor, true).body().unwrap().to_vec()).unwrap();

    let openai = body(Flavor::OpenAi);
    assert!(!openai.contains('\r') && openai.ends_with("data: [DONE]\n\n"));
    assert!(
        openai
            .split("\n\n")
            .filter(|e| !e.is_empty())
            .all(|e| e.starts_with("data: "))
    );

    let anthropic = body(Flavor::Anthropic);
    assert!(!anthropic.contains('\r') && !anthropic.contains("[DONE]"));
    assert!(anthropic.contains("event: ping\ndata: {\"type\": \"ping\"}\n\n"));
    assert!(anthropic.ends_with("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"));

    let gemini = body(Flavor::Gemini);
    assert!(
        gemini.ends_with("}\r\n\r\n") && !gemini.contains("[DONE]") && !gemini.contains("event:")
    );
}

#[test]
fn openai_tool_call_stream_puts_the_first_call_in_the_role_chunk() {
    // As in the recorded fixture chat-stream-tool-call.sse.
    let scenario = Scenario::tool_calls([ScenarioToolCall::new("call_A", "f", ["{}"])]);
    let events = events(scenario.reply(Flavor::OpenAi, true).body().unwrap());
    let first: Value = serde_json::from_str(&events[0].data).unwrap();
    let delta = &first["choices"][0]["delta"];
    assert_eq!(delta["role"], "assistant");
    assert_eq!(delta["content"], Value::Null);
    assert_eq!(delta["tool_calls"][0]["id"], "call_A");
    assert_eq!(delta["tool_calls"][0]["function"]["arguments"], "");
}

#[tokio::test]
async fn scenario_replies_are_served_and_accepted_by_the_server() {
    let scenario = Scenario::text(["Fog", " horns"]);
    for flavor in Flavor::ALL {
        let server = FakeServer::start(flavor).await;
        server.push(scenario.reply(flavor, true));
        let response = support::send_valid(&server).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        let received = support::chunks(response).await.concat();
        assert_eq!(
            received,
            scenario.reply(flavor, true).body().unwrap().to_vec(),
            "{flavor}"
        );
    }
}

fn all_errors() -> Vec<ScenarioError> {
    vec![
        ScenarioError::RateLimited {
            retry_after_secs: 7,
        },
        ScenarioError::QuotaExhausted,
        ScenarioError::Overloaded,
        ScenarioError::Server,
        ScenarioError::Authentication,
        ScenarioError::PermissionDenied,
        ScenarioError::NotFound,
        ScenarioError::InvalidRequest,
        ScenarioError::ContextLengthExceeded,
        ScenarioError::ContentFiltered,
    ]
}

#[test]
fn error_replies_use_each_providers_status() {
    let statuses = |flavor| -> Vec<u16> {
        all_errors()
            .into_iter()
            .map(|kind| error_reply(flavor, kind).status())
            .collect()
    };
    assert_eq!(
        statuses(Flavor::OpenAi),
        [429, 429, 503, 500, 401, 403, 404, 400, 400, 400]
    );
    assert_eq!(
        statuses(Flavor::Anthropic),
        [429, 402, 529, 500, 401, 403, 404, 400, 400, 400]
    );
    assert_eq!(
        statuses(Flavor::Gemini),
        [429, 429, 503, 500, 400, 403, 404, 400, 400, 200]
    );
}

#[test]
fn error_replies_use_each_providers_body_shape() {
    for kind in all_errors() {
        let body = |flavor| -> Value {
            serde_json::from_slice(error_reply(flavor, kind).body().unwrap()).unwrap()
        };

        let openai = body(Flavor::OpenAi);
        let error = openai["error"].as_object().unwrap();
        for field in ["message", "type", "param", "code"] {
            assert!(error.contains_key(field), "{kind:?}: {openai}");
        }

        let anthropic = body(Flavor::Anthropic);
        assert_eq!(anthropic["type"], "error");
        assert!(
            anthropic["error"]["type"].is_string() && anthropic["error"]["message"].is_string()
        );

        let gemini = body(Flavor::Gemini);
        if kind == ScenarioError::ContentFiltered {
            assert_eq!(gemini["promptFeedback"]["blockReason"], "SAFETY");
            assert!(gemini.get("candidates").is_none());
        } else {
            let reply = error_reply(Flavor::Gemini, kind);
            assert_eq!(gemini["error"]["code"], reply.status());
            assert!(
                gemini["error"]["status"].is_string() && gemini["error"]["message"].is_string()
            );
        }
    }
}

#[test]
fn error_replies_carry_the_signals_routers_read() {
    let limited = ScenarioError::RateLimited {
        retry_after_secs: 7,
    };
    let openai = error_reply(Flavor::OpenAi, limited);
    assert_eq!(openai.headers()["retry-after"], "7");
    let body: Value = serde_json::from_slice(openai.body().unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");

    let quota: Value = serde_json::from_slice(
        error_reply(Flavor::OpenAi, ScenarioError::QuotaExhausted)
            .body()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(quota["error"]["code"], "insufficient_quota");

    let context: Value = serde_json::from_slice(
        error_reply(Flavor::OpenAi, ScenarioError::ContextLengthExceeded)
            .body()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(context["error"]["code"], "context_length_exceeded");

    let anthropic = error_reply(Flavor::Anthropic, limited);
    assert_eq!(anthropic.headers()["retry-after"], "7");
    let body: Value = serde_json::from_slice(anthropic.body().unwrap()).unwrap();
    assert_eq!(body["error"]["type"], "rate_limit_error");
    let overloaded: Value = serde_json::from_slice(
        error_reply(Flavor::Anthropic, ScenarioError::Overloaded)
            .body()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(overloaded["error"]["type"], "overloaded_error");

    let gemini: Value =
        serde_json::from_slice(error_reply(Flavor::Gemini, limited).body().unwrap()).unwrap();
    assert_eq!(gemini["error"]["status"], "RESOURCE_EXHAUSTED");
    let retry = gemini["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["@type"] == "type.googleapis.com/google.rpc.RetryInfo")
        .unwrap();
    assert_eq!(retry["retryDelay"], "7s");
    let quota: Value = serde_json::from_slice(
        error_reply(Flavor::Gemini, ScenarioError::QuotaExhausted)
            .body()
            .unwrap(),
    )
    .unwrap();
    let details = quota["error"]["details"].as_array().unwrap();
    assert!(
        details
            .iter()
            .all(|d| d["@type"] != "type.googleapis.com/google.rpc.RetryInfo")
    );
    assert!(
        details[0]["violations"][0]["quotaId"]
            .as_str()
            .unwrap()
            .contains("PerDay")
    );

    let auth: Value = serde_json::from_slice(
        error_reply(Flavor::Gemini, ScenarioError::Authentication)
            .body()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(auth["error"]["details"][0]["reason"], "API_KEY_INVALID");
    let unavailable: Value = serde_json::from_slice(
        error_reply(Flavor::Gemini, ScenarioError::Overloaded)
            .body()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(unavailable["error"]["status"], "UNAVAILABLE");
}

#[test]
fn gemini_blocked_prompt_streams_as_one_crlf_chunk() {
    let reply = error_reply_for_stream(Flavor::Gemini, ScenarioError::ContentFiltered);
    assert!(reply.is_sse());
    let body = reply.body().unwrap();
    assert!(body.ends_with(b"\r\n\r\n"));
    let events = events(body);
    assert_eq!(events.len(), 1);
    let chunk: Value = serde_json::from_str(&events[0].data).unwrap();
    assert_eq!(chunk["promptFeedback"]["blockReason"], "SAFETY");
    // Other flavors answer the same error before any stream.
    assert_eq!(
        error_reply_for_stream(Flavor::OpenAi, ScenarioError::ContentFiltered).status(),
        400
    );
}
