//! Through the gateway to each provider (OpenAI, Anthropic, Gemini testkit servers):
//! complete and streamed answers, tools, the reply headers, cost.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use tollgate_core::Price;
use tollgate_testkit::scenario::{Scenario, ScenarioToolCall, ScenarioUsage};
use tollgate_testkit::{FakeServer, Flavor, Reply};

use support::*;

const FLAVORS: [Flavor; 3] = [Flavor::OpenAi, Flavor::Anthropic, Flavor::Gemini];

fn usage() -> ScenarioUsage {
    ScenarioUsage {
        input_tokens: 1_000,
        output_tokens: 200,
        ..ScenarioUsage::default()
    }
}

fn tool_scenario() -> Scenario {
    Scenario::tool_calls([
        ScenarioToolCall::new("call_a", "get_weather", [r#"{"city":"#, r#""Brest"}"#]),
        ScenarioToolCall::new("call_b", "get_time", [r#"{"tz":"UTC"}"#]),
    ])
    .with_usage(usage())
}

fn tools_request(stream: bool) -> Value {
    json!({
        "model": "chat",
        "stream": stream,
        "messages": [{"role": "user", "content": "Weather and time in Brest?"}],
        "tools": [
            {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}},
            {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}}}}
        ],
        "tool_choice": "auto",
        "parallel_tool_calls": true
    })
}

#[tokio::test]
async fn complete_text_answers_come_back_as_chat_completions_with_headers() {
    for flavor in FLAVORS {
        let server = FakeServer::start(flavor).await;
        server.push(
            Scenario::text(["Fog horns", " sound."])
                .with_usage(usage())
                .reply(flavor, false),
        );
        let price = Price::per_million(1.0, 10.0);
        let gateway = start(state_for("chat", &server, Some(price))).await;
        let response = post_chat(
            &gateway,
            &json!({"model": "chat", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What do ships hear?"}], "temperature": 0.3, "max_tokens": 50}),
        )
        .await;
        assert_eq!(response.status(), 200, "{flavor:?}");
        let headers = response.headers().clone();
        assert_eq!(
            headers["x-tollgate-deployment"],
            format!("chat-{}", flavor.name())
        );
        assert_eq!(headers["x-tollgate-attempts"], "1");
        // 1000 input tokens at $1/M + 200 output at $10/M.
        assert_eq!(headers["x-tollgate-cost-usd"], "0.003", "{flavor:?}");
        let timing = headers["server-timing"].to_str().unwrap();
        assert!(
            timing.starts_with("gateway;dur=") && timing.contains("upstream;dur="),
            "{timing}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["object"], "chat.completion");
        assert_eq!(body["choices"][0]["message"]["role"], "assistant");
        assert_eq!(
            body["choices"][0]["message"]["content"], "Fog horns sound.",
            "{flavor:?}"
        );
        assert_eq!(body["choices"][0]["finish_reason"], "stop");
        assert_eq!(body["usage"]["prompt_tokens"], 1000);
        assert_eq!(body["usage"]["completion_tokens"], 200);
        assert_eq!(body["usage"]["total_tokens"], 1200);
        // The provider got the translated request.
        let sent = server.last_request().unwrap();
        let sent = String::from_utf8_lossy(&sent.body).to_string();
        assert!(
            sent.contains("What do ships hear?") && sent.contains("Be brief."),
            "{flavor:?}: {sent}"
        );
    }
}

#[tokio::test]
async fn streamed_text_arrives_as_chunks_with_usage_cost_and_done() {
    for flavor in FLAVORS {
        let server = FakeServer::start(flavor).await;
        server.push(
            Scenario::text(["One", ", two", ", three."])
                .with_usage(usage())
                .reply(flavor, true),
        );
        let gateway = start(state_for(
            "chat",
            &server,
            Some(Price::per_million(1.0, 10.0)),
        ))
        .await;
        let response = post_chat(
            &gateway,
            &json!({"model": "chat", "stream": true, "stream_options": {"include_usage": true},
                    "messages": [{"role": "user", "content": "Count to three"}]}),
        )
        .await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        assert_eq!(
            response.headers()["x-tollgate-deployment"],
            format!("chat-{}", flavor.name())
        );
        assert!(response.headers().contains_key("server-timing"));
        let events = sse_events(&response.text().await.unwrap());
        assert_eq!(
            events[0]["choices"][0]["delta"]["role"], "assistant",
            "{flavor:?}"
        );
        assert_eq!(streamed_text(&events), "One, two, three.", "{flavor:?}");
        let finish = events
            .iter()
            .find(|e| e["choices"][0]["finish_reason"].is_string())
            .unwrap();
        assert_eq!(finish["choices"][0]["finish_reason"], "stop");
        let n = events.len();
        assert_eq!(events[n - 1], json!("[DONE]"), "{flavor:?}");
        assert_eq!(
            events[n - 2],
            json!(": x-tollgate-cost-usd=0.003"),
            "{flavor:?}"
        );
        let usage_chunk = &events[n - 3];
        assert_eq!(usage_chunk["choices"], json!([]));
        assert_eq!(usage_chunk["usage"]["prompt_tokens"], 1000, "{flavor:?}");
        assert_eq!(usage_chunk["usage"]["completion_tokens"], 200);
        assert_eq!(usage_chunk["usage"]["cost_usd"], 0.003);
    }
}

#[tokio::test]
async fn without_include_usage_a_stream_has_no_usage_chunk() {
    let server = FakeServer::openai().await;
    server.push(Scenario::text(["Hi"]).reply(Flavor::OpenAi, true));
    let gateway = start(state_for("chat", &server, None)).await;
    let response = post_chat(
        &gateway,
        &json!({"model": "chat", "stream": true, "messages": [{"role": "user", "content": "x"}]}),
    )
    .await;
    let events = sse_events(&response.text().await.unwrap());
    assert!(events.iter().all(|e| e.get("usage").is_none()));
    assert_eq!(events.last().unwrap(), &json!("[DONE]"));
}

#[tokio::test]
async fn parallel_tool_calls_come_back_complete() {
    for flavor in FLAVORS {
        let server = FakeServer::start(flavor).await;
        server.push(tool_scenario().reply(flavor, false));
        let gateway = start(state_for("chat", &server, None)).await;
        let response = post_chat(&gateway, &tools_request(false)).await;
        assert_eq!(response.status(), 200, "{flavor:?}");
        let body: Value = response.json().await.unwrap();
        let message = &body["choices"][0]["message"];
        assert_eq!(
            body["choices"][0]["finish_reason"], "tool_calls",
            "{flavor:?}"
        );
        assert_eq!(message["content"], Value::Null);
        let calls = message["tool_calls"].as_array().unwrap();
        assert_eq!(calls.len(), 2, "{flavor:?}");
        assert_eq!(calls[0]["type"], "function");
        assert_eq!(calls[0]["function"]["name"], "get_weather");
        let args: Value =
            serde_json::from_str(calls[0]["function"]["arguments"].as_str().unwrap()).unwrap();
        assert_eq!(args, json!({"city": "Brest"}));
        assert_eq!(calls[1]["function"]["name"], "get_time");
        assert!(calls[0]["id"].as_str().is_some_and(|id| !id.is_empty()));
        let sent = String::from_utf8_lossy(&server.last_request().unwrap().body).to_string();
        assert!(
            sent.contains("get_weather") && sent.contains("get_time"),
            "{flavor:?}: {sent}"
        );
    }
}

#[tokio::test]
async fn streamed_tool_calls_arrive_as_indexed_deltas() {
    for flavor in FLAVORS {
        let server = FakeServer::start(flavor).await;
        server.push(tool_scenario().reply(flavor, true));
        let gateway = start(state_for("chat", &server, None)).await;
        let response = post_chat(&gateway, &tools_request(true)).await;
        assert_eq!(response.status(), 200, "{flavor:?}");
        let events = sse_events(&response.text().await.unwrap());
        // Rebuild the calls from the deltas, as an OpenAI client does.
        let mut calls: Vec<(String, String, String)> = Vec::new();
        for event in &events {
            for delta in event["choices"][0]["delta"]["tool_calls"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let index = delta["index"].as_u64().unwrap() as usize;
                if calls.len() <= index {
                    calls.resize(index + 1, Default::default());
                }
                if let Some(id) = delta["id"].as_str() {
                    calls[index].0 = id.to_owned();
                }
                if let Some(name) = delta["function"]["name"].as_str() {
                    calls[index].1 = name.to_owned();
                }
                calls[index]
                    .2
                    .push_str(delta["function"]["arguments"].as_str().unwrap_or(""));
            }
        }
        assert_eq!(calls.len(), 2, "{flavor:?}: {events:?}");
        assert_eq!(calls[0].1, "get_weather");
        assert_eq!(
            serde_json::from_str::<Value>(&calls[0].2).unwrap(),
            json!({"city": "Brest"}),
            "{flavor:?}"
        );
        assert_eq!(calls[1].1, "get_time");
        assert_eq!(
            serde_json::from_str::<Value>(&calls[1].2).unwrap(),
            json!({"tz": "UTC"})
        );
        assert!(!calls[0].0.is_empty() && calls[0].0 != calls[1].0);
        let finish = events
            .iter()
            .find(|e| e["choices"][0]["finish_reason"].is_string())
            .unwrap();
        assert_eq!(
            finish["choices"][0]["finish_reason"], "tool_calls",
            "{flavor:?}"
        );
        assert_eq!(events.last().unwrap(), &json!("[DONE]"));
    }
}

#[tokio::test]
async fn tool_results_images_and_sampling_reach_the_provider() {
    let server = FakeServer::openai().await;
    server.push(Scenario::text(["Sunny."]).reply(Flavor::OpenAi, false));
    let gateway = start(state_for("chat", &server, None)).await;
    let response = post_chat(
        &gateway,
        &json!({
            "model": "chat",
            "messages": [
                {"role": "user", "content": [
                    {"type": "text", "text": "Look"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}}
                ]},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Brest\"}"}}
                ]},
                {"role": "tool", "tool_call_id": "call_1", "content": "{\"sky\":\"clear\"}"}
            ],
            "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
            "response_format": {"type": "json_object"},
            "temperature": 0.2, "top_p": 0.5, "max_completion_tokens": 64, "stop": ["END"],
            "seed": 42, "presence_penalty": 0.1, "frequency_penalty": 0.2,
            "user": "u-7", "logprobs": true
        }),
    )
    .await;
    assert_eq!(response.status(), 200);
    let sent: Value = serde_json::from_slice(&server.last_request().unwrap().body).unwrap();
    assert_eq!(
        sent["messages"][0]["content"][1]["image_url"]["url"],
        "data:image/png;base64,iVBORw0KGgo="
    );
    assert_eq!(sent["messages"][2]["role"], "tool");
    assert_eq!(
        sent["messages"][2]["tool_call_id"],
        sent["messages"][1]["tool_calls"][0]["id"]
    );
    assert_eq!(sent["tool_choice"]["function"]["name"], "get_weather");
    assert_eq!(sent["response_format"], json!({"type": "json_object"}));
    assert_eq!(sent["temperature"], 0.2);
    assert_eq!(sent["top_p"], 0.5);
    assert_eq!(sent["max_completion_tokens"], 64);
    assert_eq!(sent["stop"], json!(["END"]));
    assert_eq!(sent["seed"], 42);
    // An unknown field is passed through untouched.
    assert_eq!(sent["logprobs"], true);
}

/// Anthropic's encrypted `redacted_thinking` has no field in OpenAI's format: the gateway
/// sends nothing of it, complete or streamed, and a stream carrying it still ends with its
/// finish chunk and `[DONE]` (the visible thinking still arrives as `reasoning_content`).
#[tokio::test]
async fn anthropic_redacted_thinking_is_left_out_and_the_stream_still_finishes() {
    const DATA: &str = "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP";
    let complete = json!({
        "id": "msg_r", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [
            {"type": "thinking", "thinking": "Fog.", "signature": "sig"},
            {"type": "redacted_thinking", "data": DATA},
            {"type": "text", "text": "Fog horns."}
        ],
        "stop_reason": "end_turn", "stop_sequence": null,
        "usage": {"input_tokens": 9, "output_tokens": 7}
    });
    let streamed = [
        json!({"type": "message_start", "message": {"id": "msg_r", "type": "message",
            "role": "assistant", "model": "claude-sonnet-4-5", "content": [],
            "stop_reason": null, "usage": {"input_tokens": 9, "output_tokens": 1}}}),
        json!({"type": "content_block_start", "index": 0,
            "content_block": {"type": "redacted_thinking", "data": DATA}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "content_block_start", "index": 1,
            "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
        json!({"type": "content_block_delta", "index": 1,
            "delta": {"type": "thinking_delta", "thinking": "Fog."}}),
        json!({"type": "content_block_delta", "index": 1,
            "delta": {"type": "signature_delta", "signature": "sig"}}),
        json!({"type": "content_block_stop", "index": 1}),
        json!({"type": "content_block_start", "index": 2,
            "content_block": {"type": "redacted_thinking", "data": DATA}}),
        json!({"type": "content_block_stop", "index": 2}),
        json!({"type": "content_block_start", "index": 3,
            "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_delta", "index": 3,
            "delta": {"type": "text_delta", "text": "Fog horns."}}),
        json!({"type": "content_block_stop", "index": 3}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": 7}}),
        json!({"type": "message_stop"}),
    ]
    .iter()
    .map(|data| {
        format!(
            "event: {}\ndata: {data}\n\n",
            data["type"].as_str().unwrap()
        )
    })
    .collect::<String>();

    let server = FakeServer::anthropic().await;
    server.push(Reply::json(complete));
    server.push(Reply::sse(streamed));
    let gateway = start(state_for("chat", &server, None)).await;
    let ask = |stream: bool| {
        json!({"model": "chat", "stream": stream,
               "messages": [{"role": "user", "content": "What do ships hear?"}]})
    };

    let response = post_chat(&gateway, &ask(false)).await;
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    assert!(!body.contains(DATA), "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    let message = &body["choices"][0]["message"];
    assert_eq!(message["content"], "Fog horns.");
    assert_eq!(message["reasoning_content"], "Fog.");

    let response = post_chat(&gateway, &ask(true)).await;
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    assert!(!body.contains(DATA), "{body}");
    let events = sse_events(&body);
    assert_eq!(streamed_text(&events), "Fog horns.");
    let reasoning: String = events
        .iter()
        .filter_map(|e| e["choices"][0]["delta"]["reasoning_content"].as_str())
        .collect();
    assert_eq!(reasoning, "Fog.");
    let n = events.len();
    assert_eq!(events[n - 1], json!("[DONE]"), "{body}");
    assert_eq!(
        events[n - 2]["choices"][0]["finish_reason"],
        "stop",
        "{body}"
    );
    assert!(events.iter().all(|e| e.get("error").is_none()), "{body}");
}
