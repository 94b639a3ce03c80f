//! Streams: text and tool-call events, a connection cut mid-answer, cancellation by drop,
//! and the rule that a streaming call resolves only at its first event.

use std::time::Duration;

use futures_util::StreamExt;
use tollgate_core::{ChatEvent, ChatRequest, ErrorKind};
use tollgate_testkit::scenario::Scenario;
use tollgate_testkit::{Flavor, Reply};
use tollgate_tests::{Harness, Target};

use crate::support::{
    REPORTED_MODEL, RESPONSE_ID, answer, assert_conforms, calls_answer, drain, expected, question,
    rebuild, start, text_answer, tide_tool, wire,
};

/// The events of a stream that must end cleanly.
async fn clean_events(h: &Harness, request: ChatRequest) -> Vec<ChatEvent> {
    let stream = h.client.stream(request).await.unwrap();
    assert_eq!(stream.meta(), &h.expected_meta());
    drain(stream)
        .await
        .into_iter()
        .map(|item| item.unwrap_or_else(|e| panic!("{}: {e}", h.target)))
        .collect()
}

/// Asserts the stream's shape: `Start` first (id and model), `Finish` last, nothing after.
fn assert_framed(h: &Harness, events: &[ChatEvent]) {
    assert_eq!(
        events.first(),
        Some(&ChatEvent::Start {
            id: RESPONSE_ID.into(),
            model: REPORTED_MODEL.into()
        }),
        "{}: {events:?}",
        h.target
    );
    assert!(
        matches!(events.last(), Some(ChatEvent::Finish { .. })),
        "{}: {events:?}",
        h.target
    );
    let finishes = events
        .iter()
        .filter(|e| matches!(e, ChatEvent::Finish { .. }))
        .count();
    assert_eq!(finishes, 1, "{}: {events:?}", h.target);
}

/// Asserts the streaming request asked for a stream (and for usage where the preset
/// accepts `stream_options`).
fn assert_stream_requested(h: &Harness) {
    let sent = wire(h, 0);
    assert!(sent.stream, "{}: {}", h.target, sent.body);
    let include_usage = sent.body.pointer("/stream_options/include_usage");
    if h.target.asks_for_stream_usage() {
        assert_eq!(include_usage, Some(&serde_json::Value::Bool(true)));
    } else {
        assert_eq!(sent.body.get("stream_options"), None, "{}", sent.body);
    }
    if h.target.flavor() == Flavor::Gemini {
        let path = &h.server.requests()[0].path;
        assert!(path.ends_with(":streamGenerateContent?alt=sse"), "{path}");
    }
}

/// Text streams as deltas that join into the answer; the collected response is the same
/// one a complete call returns.
pub async fn streaming_text(target: Target) {
    let h = start(target).await;
    let scenario = text_answer();
    h.server.push(scenario.reply(target.flavor(), true));

    let events = clean_events(&h, question(target)).await;

    assert_framed(&h, &events);
    let deltas: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            ChatEvent::TextDelta { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(deltas.concat(), scenario.joined_text());
    assert_conforms(&h, &rebuild(&h, &events), &expected(&h, &scenario));
    assert_stream_requested(&h);
}

/// Tool calls stream as `ToolCallStart` (index, id, name) and argument fragments; the
/// collected calls equal the complete call's.
pub async fn streaming_tool_calls(target: Target) {
    let h = start(target).await;
    let scenario = calls_answer(target, &["Brest", "Saint-Malo"]);
    h.server.push(scenario.reply(target.flavor(), true));

    let events = clean_events(&h, question(target).tool(tide_tool())).await;

    assert_framed(&h, &events);
    let starts: Vec<(u32, &str)> = events
        .iter()
        .filter_map(|e| match e {
            ChatEvent::ToolCallStart { index, name, .. } => Some((*index, name.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(starts, [(0, "get_tide_times"), (1, "get_tide_times")]);
    let collected = rebuild(&h, &events);
    assert_conforms(&h, &collected, &expected(&h, &scenario));

    // The same answer, not streamed, gives the same calls (Gemini's synthesised ids too).
    h.server.push(scenario.reply(target.flavor(), false));
    let complete = h
        .client
        .chat(question(target).tool(tide_tool()))
        .await
        .unwrap();
    assert_eq!(complete.message.tool_calls, collected.message.tool_calls);
}

/// How many SSE events of `reply` come before the one carrying `needle`, that one included.
fn events_through(reply: &Reply, needle: &str) -> usize {
    let body = String::from_utf8(reply.body().unwrap().to_vec()).unwrap();
    let body = body.replace("\r\n", "\n");
    let events: Vec<&str> = body.split("\n\n").filter(|e| !e.is_empty()).collect();
    events.iter().position(|e| e.contains(needle)).unwrap() + 1
}

/// A connection cut after the first text arrived ends the stream with an `Err` item,
/// never a clean end, whatever the provider's framing.
pub async fn mid_stream_break_is_an_error_item(target: Target) {
    let h = start(target).await;
    let scenario = answer(Scenario::text(["Low water ", "at six, ", "high at noon."]));
    let reply = scenario.reply(target.flavor(), true);
    let cut = events_through(&reply, "Low water ");
    h.server.push(reply.disconnect_after(cut));

    let stream = h.client.stream(question(target)).await.unwrap();
    let items = drain(stream).await;

    let (last, before) = items.split_last().unwrap();
    let error = last
        .as_ref()
        .expect_err("the stream must end with an error");
    assert!(
        matches!(error.kind(), ErrorKind::Transport | ErrorKind::Decode),
        "{}: {error}",
        target
    );
    let events: Vec<&ChatEvent> = before.iter().map(|i| i.as_ref().unwrap()).collect();
    assert!(
        events.contains(&&ChatEvent::text("Low water ")),
        "{target}: {events:?}"
    );
    assert!(
        !events.iter().any(|e| matches!(e, ChatEvent::Finish { .. })),
        "{target}: a cut stream must not finish: {events:?}"
    );
    // And collecting such a stream fails rather than returning half an answer.
    h.server
        .push(scenario.reply(target.flavor(), true).disconnect_after(cut));
    let stream = h.client.stream(question(target)).await.unwrap();
    assert!(stream.collect().await.is_err());
}

/// A failure before the first event is the `Err` of the call itself, not a stream item:
/// an HTTP error on a streaming request, and a connection cut before any event.
pub async fn failure_before_the_first_event_fails_the_call(target: Target) {
    let h = start(target).await;
    h.server
        .push(tollgate_testkit::scenario::error_reply_for_stream(
            target.flavor(),
            tollgate_testkit::scenario::ScenarioError::Overloaded,
        ));
    let error = h.client.stream(question(target)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Overloaded, "{target}: {error}");

    h.server.push(
        text_answer()
            .reply(target.flavor(), true)
            .disconnect_after(0),
    );
    let error = h.client.stream(question(target)).await.unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Transport | ErrorKind::Decode),
        "{target}: {error}"
    );
    assert!(error.is_retryable(), "{target}: {error}");
}

/// Dropping a stream mid-answer closes the connection: the server sees its SSE body
/// abandoned while it still had events to send.
pub async fn dropping_a_stream_closes_the_connection(target: Target) {
    let h = start(target).await;
    let pieces: Vec<String> = (0..20).map(|i| format!("piece {i}. ")).collect();
    let scenario = answer(Scenario::text(pieces));
    h.server.push(
        scenario
            .reply(target.flavor(), true)
            .chunk_interval(Duration::from_secs(1)),
    );

    let mut stream = h.client.stream(question(target)).await.unwrap();
    let mut seen_text = false;
    while let Some(item) = stream.next().await {
        if let ChatEvent::TextDelta { .. } = item.unwrap() {
            seen_text = true;
            break;
        }
    }
    assert!(seen_text, "{target}");
    assert_eq!(h.server.cancelled_streams(), 0);
    drop(stream);

    tokio::time::timeout(
        Duration::from_secs(5),
        h.server.wait_for_cancelled_streams(1),
    )
    .await
    .unwrap_or_else(|_| panic!("{target}: the dropped stream's connection stayed open"));
    assert_eq!(h.server.cancelled_streams(), 1);
}

/// A streaming call resolves when its first event arrives, not when headers do: with the
/// first event 30 s after the headers, the call takes 30 s (paused time) and then yields the
/// whole answer.
pub async fn a_stream_resolves_at_its_first_event(target: Target) {
    let h = start(target).await;
    let scenario = text_answer();
    h.server.push(
        scenario
            .reply(target.flavor(), true)
            .first_chunk_after(Duration::from_secs(30)),
    );

    let began = tokio::time::Instant::now();
    let stream = h.client.stream(question(target)).await.unwrap();
    assert!(
        began.elapsed() >= Duration::from_secs(30),
        "{target}: resolved after {:?}, before the first event",
        began.elapsed()
    );
    let response = stream.collect().await.unwrap();
    assert_conforms(&h, &response, &expected(&h, &scenario));
}
