//! The simulated provider: realistic pacing, seeded 429s, deterministic answers under
//! paused time.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use futures_util::StreamExt;
use tokio::time::Instant;
use tollgate_core::{
    ChatEvent, ChatRequest, Client, ErrorKind, FinishReason, ResponseFormat, Tool,
};
use tollgate_gateway::simulate::{SimulateConfig, SimulatedProvider};

fn config(rate_limit_rate: f64, seed: u64) -> SimulateConfig {
    SimulateConfig {
        first_token: Duration::from_millis(300),
        tokens_per_second: 50.0, // 20ms a token
        rate_limit_rate,
        retry_after: Duration::from_secs(2),
        error_rate: 0.0,
        seed: Some(seed),
    }
}

#[tokio::test(start_paused = true)]
async fn a_stream_arrives_after_the_first_token_delay_then_token_by_token() {
    let sim = Client::new(SimulatedProvider::new("sim", config(0.0, 1)));
    let start = Instant::now();
    let mut stream = sim
        .stream(ChatRequest::new("sim-mini").user("Hello there"))
        .await
        .unwrap();
    assert_eq!(
        start.elapsed(),
        Duration::from_millis(300),
        "time to first token"
    );
    let mut events = Vec::new();
    let mut times = Vec::new();
    while let Some(event) = stream.next().await {
        events.push(event.unwrap());
        times.push(start.elapsed());
    }
    assert!(matches!(&events[0], ChatEvent::Start { model, .. } if model == "sim-mini"));
    let deltas = events
        .iter()
        .filter(|e| matches!(e, ChatEvent::TextDelta { .. }))
        .count();
    assert!(deltas > 5);
    // Each delta after the first comes 20ms after the one before.
    let last_delta = events
        .iter()
        .rposition(|e| matches!(e, ChatEvent::TextDelta { .. }))
        .unwrap();
    assert_eq!(
        times[last_delta],
        Duration::from_millis(300 + 20 * (deltas as u64 - 1))
    );
    assert!(matches!(
        events.last(),
        Some(ChatEvent::Finish {
            reason: FinishReason::Stop,
            ..
        })
    ));
    let usage = events.iter().find_map(|e| match e {
        ChatEvent::Usage(u) => Some(*u),
        _ => None,
    });
    assert_eq!(usage.unwrap().output_tokens, deltas as u64);
}

#[tokio::test(start_paused = true)]
async fn a_complete_answer_takes_as_long_as_the_stream_and_says_the_same() {
    let sim = Client::new(SimulatedProvider::new("sim", config(0.0, 1)));
    let request = ChatRequest::new("sim-mini").user("Summarise the plan");
    let start = Instant::now();
    let complete = sim.chat(request.clone()).await.unwrap();
    let took = start.elapsed();
    let streamed = sim.stream(request).await.unwrap().collect().await.unwrap();
    assert_eq!(complete.text(), streamed.text());
    assert!(
        complete.text().contains("\"Summarise the plan\""),
        "{}",
        complete.text()
    );
    let tokens = complete.usage.unwrap().output_tokens;
    assert_eq!(took, Duration::from_millis(300 + 20 * (tokens - 1)));
    assert_eq!(complete.meta.provider, "simulated");
}

async fn outcomes(rate: f64, seed: u64, calls: usize) -> Vec<bool> {
    let sim = Client::new(SimulatedProvider::new("sim", config(rate, seed)));
    let mut out = Vec::with_capacity(calls);
    for _ in 0..calls {
        match sim
            .chat(ChatRequest::new("m").user("x").max_tokens(1))
            .await
        {
            Ok(_) => out.push(true),
            Err(error) => {
                assert_eq!(error.kind(), ErrorKind::RateLimited);
                assert_eq!(error.status(), Some(429));
                assert_eq!(error.retry_after(), Some(Duration::from_secs(2)));
                assert_eq!(error.provider(), Some("simulated"));
                out.push(false);
            }
        }
    }
    out
}

#[tokio::test(start_paused = true)]
async fn rate_limits_come_at_the_configured_rate_reproducibly() {
    let first = outcomes(0.25, 42, 2000).await;
    let limited = first.iter().filter(|ok| !**ok).count();
    assert!((400..600).contains(&limited), "{limited} of 2000 at 25%");
    // Same seed, same sequence; another seed, another sequence.
    assert_eq!(outcomes(0.25, 42, 2000).await, first);
    assert_ne!(outcomes(0.25, 43, 2000).await, first);
    assert!(outcomes(0.0, 42, 200).await.iter().all(|ok| *ok));
}

#[tokio::test(start_paused = true)]
async fn answers_and_timings_are_identical_from_run_to_run() {
    async fn run() -> Vec<(Duration, ChatEvent)> {
        let sim = Client::new(SimulatedProvider::new("sim", config(0.3, 5)));
        let start = Instant::now();
        let mut out = Vec::new();
        for i in 0..5 {
            if let Ok(mut stream) = sim
                .stream(ChatRequest::new("m").user(format!("q{i}")))
                .await
            {
                while let Some(event) = stream.next().await {
                    out.push((start.elapsed(), event.unwrap()));
                }
            }
        }
        out
    }
    let first = run().await;
    assert!(!first.is_empty());
    assert_eq!(run().await, first);
}

#[tokio::test(start_paused = true)]
async fn tools_get_a_call_and_json_schema_gets_valid_json() {
    let sim = Client::new(SimulatedProvider::new("sim", config(0.0, 1)));
    let tool = Tool::new(
        "lookup",
        serde_json::json!({"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}),
    );
    let reply = sim
        .chat(ChatRequest::new("m").user("find rust").tool(tool))
        .await
        .unwrap();
    assert_eq!(reply.finish_reason, FinishReason::ToolCalls);
    let call = &reply.message.tool_calls[0];
    assert_eq!(call.name, "lookup");
    assert_eq!(
        call.arguments_json().unwrap(),
        serde_json::json!({"query": "find rust"})
    );

    let schema = serde_json::json!({"type": "object", "properties": {"n": {"type": "integer"}}});
    let reply =
        sim.stream(ChatRequest::new("m").user("count").response_format(
            ResponseFormat::JsonSchema {
                name: "c".into(),
                description: None,
                schema,
                strict: true,
            },
        ))
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let value: serde_json::Value = serde_json::from_str(&reply.text()).unwrap();
    assert_eq!(value, serde_json::json!({"n": 1}));
}
