//! SSE bodies and scripted timing and faults: byte-exact chunking, delays under paused time,
//! disconnects, hangs, cancelled streams, and shutdown on drop.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use support::{chunks, fixture, openai, openai_body, send_valid};
use tokio::time::Instant;
use tollgate_testkit::{FakeServer, Flavor, Reply};

/// The fixture and the flavor whose server serves it.
const SSE_FIXTURES: [(Flavor, &str); 4] = [
    (Flavor::OpenAi, "openai-chat-stream-text.sse"),
    (Flavor::OpenAi, "openai-chat-stream-tool-call.sse"),
    (Flavor::Anthropic, "anthropic-messages-stream-tool-use.sse"),
    (Flavor::Gemini, "gemini-stream-text.sse"),
];

/// Counts the events in a body: blank lines that end an event (LF, CRLF or CR framing).
fn count_events(body: &[u8]) -> usize {
    let text = String::from_utf8(body.to_vec()).unwrap();
    let normalised = text.replace("\r\n", "\n").replace('\r', "\n");
    normalised
        .split("\n\n")
        .filter(|event| !event.trim().is_empty())
        .count()
}

#[tokio::test]
async fn sse_bodies_arrive_byte_for_byte() {
    for (flavor, name) in SSE_FIXTURES {
        let server = FakeServer::start(flavor).await;
        let body = fixture(name);
        server.push(Reply::sse(body.clone()));

        let response = send_valid(&server).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        let received: Vec<u8> = chunks(response).await.concat();
        assert_eq!(received, body, "{name}");
    }
}

#[tokio::test(start_paused = true)]
async fn each_event_is_written_as_its_own_chunk() {
    for (flavor, name) in SSE_FIXTURES {
        let server = FakeServer::start(flavor).await;
        let body = fixture(name);
        // A pause between events keeps the client from reading two at once.
        server.push(Reply::sse(body.clone()).chunk_interval(Duration::from_millis(10)));

        let received = chunks(send_valid(&server).await).await;
        assert_eq!(received.len(), count_events(&body), "{name}");
        for chunk in &received {
            assert_eq!(count_events(chunk), 1, "{name}: {chunk:?}");
            let ends_with_blank_line = chunk.ends_with(b"\n\n") || chunk.ends_with(b"\r\n\r\n");
            assert!(ends_with_blank_line, "{name}: {chunk:?}");
        }
        assert_eq!(received.concat(), body);
    }
}

#[tokio::test(start_paused = true)]
async fn delay_holds_back_the_response_headers() {
    let server = FakeServer::openai().await;
    server.push(Reply::json(serde_json::json!({})).delay(Duration::from_secs(3)));

    let start = Instant::now();
    let response = openai(&server, &openai_body()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(start.elapsed(), Duration::from_secs(3));
}

#[tokio::test(start_paused = true)]
async fn first_chunk_after_and_chunk_interval_pace_the_events() {
    let server = FakeServer::openai().await;
    let body = fixture("openai-chat-stream-text.sse");
    let events = count_events(&body);
    server.push(
        Reply::sse(body)
            .delay(Duration::from_millis(100))
            .first_chunk_after(Duration::from_secs(2))
            .chunk_interval(Duration::from_millis(250)),
    );

    let start = Instant::now();
    let response = openai(&server, &openai_body()).await;
    assert_eq!(
        start.elapsed(),
        Duration::from_millis(100),
        "headers after the delay"
    );

    let mut stream = response.bytes_stream();
    let mut arrivals = Vec::new();
    while let Some(chunk) = stream.next().await {
        chunk.unwrap();
        arrivals.push(start.elapsed());
    }
    assert_eq!(arrivals.len(), events);
    let expected: Vec<Duration> = (0..events)
        .map(|i| Duration::from_millis(2100 + 250 * i as u64))
        .collect();
    assert_eq!(arrivals, expected);
}

#[tokio::test]
async fn disconnect_after_ends_the_body_with_an_error() {
    let server = FakeServer::anthropic().await;
    let body = fixture("anthropic-messages-stream-tool-use.sse");
    server.push(Reply::sse(body.clone()).disconnect_after(3));

    let response = send_valid(&server).await;
    assert_eq!(response.status(), 200);
    let mut stream = response.bytes_stream();
    let mut received = Vec::new();
    let error = loop {
        match stream.next().await {
            Some(Ok(chunk)) => received.extend_from_slice(&chunk),
            Some(Err(error)) => break error,
            None => panic!("the body ended cleanly after {} bytes", received.len()),
        }
    };
    assert!(error.is_body() || error.is_decode(), "{error:?}");
    assert_eq!(count_events(&received), 3);
    assert!(body.starts_with(&received));
    // A scripted disconnect is not a client cancellation.
    assert_eq!(server.cancelled_streams(), 0);
}

#[tokio::test]
async fn disconnect_after_all_events_still_never_ends_cleanly() {
    let server = FakeServer::gemini().await;
    let body = fixture("gemini-stream-text.sse");
    server.push(Reply::sse(body.clone()).disconnect_after(99));

    let mut stream = send_valid(&server).await.bytes_stream();
    let mut received = Vec::new();
    let mut failed = false;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(chunk) => received.extend_from_slice(&chunk),
            Err(_) => {
                failed = true;
                break;
            }
        }
    }
    assert!(failed, "the body must end with an error");
    assert_eq!(received, body);
}

#[tokio::test(start_paused = true)]
async fn hang_never_answers() {
    let server = FakeServer::openai().await;
    server.push(Reply::hang());

    let start = Instant::now();
    let outcome =
        tokio::time::timeout(Duration::from_secs(30), openai(&server, &openai_body())).await;
    assert!(outcome.is_err(), "a hung request must not get a response");
    assert_eq!(start.elapsed(), Duration::from_secs(30));
    assert_eq!(server.request_count(), 1);
}

#[tokio::test(start_paused = true)]
async fn dropping_a_response_body_mid_stream_counts_as_cancelled() {
    let server = FakeServer::openai().await;
    server.push(
        Reply::sse(fixture("openai-chat-stream-text.sse")).chunk_interval(Duration::from_secs(1)),
    );
    assert_eq!(server.cancelled_streams(), 0);

    let mut stream = openai(&server, &openai_body()).await.bytes_stream();
    stream.next().await.unwrap().unwrap();
    drop(stream);

    server.wait_for_cancelled_streams(1).await;
    assert_eq!(server.cancelled_streams(), 1);
}

#[tokio::test]
async fn a_fully_read_stream_is_not_cancelled() {
    let server = FakeServer::openai().await;
    server.push(Reply::sse(fixture("openai-chat-stream-text.sse")));
    chunks(openai(&server, &openai_body()).await).await;
    // The next request is answered only after the first connection's body finished.
    server.push(Reply::json(serde_json::json!({})));
    openai(&server, &openai_body()).await;
    assert_eq!(server.cancelled_streams(), 0);
}

#[tokio::test(start_paused = true)]
async fn wait_for_cancelled_streams_waits_for_the_count() {
    let server = FakeServer::openai().await;
    for _ in 0..2 {
        server.push(
            Reply::sse(fixture("openai-chat-stream-text.sse"))
                .chunk_interval(Duration::from_secs(1)),
        );
    }
    let waiter = {
        let server = server.clone();
        tokio::spawn(async move { server.wait_for_cancelled_streams(2).await })
    };
    for _ in 0..2 {
        let mut stream = openai(&server, &openai_body()).await.bytes_stream();
        stream.next().await.unwrap().unwrap();
        drop(stream);
        tokio::task::yield_now().await;
    }
    waiter.await.unwrap();
    assert_eq!(server.cancelled_streams(), 2);
}

#[tokio::test(start_paused = true)]
async fn dropping_the_server_fails_a_hung_request() {
    let server = FakeServer::openai().await;
    server.push(Reply::hang());
    let url = format!("{}/chat/completions", server.base_url());
    let request = tokio::spawn(async move {
        support::client()
            .post(url)
            .bearer_auth(support::KEY)
            .json(&openai_body())
            .send()
            .await
    });
    while server.request_count() == 0 {
        tokio::task::yield_now().await;
    }
    drop(server);
    let outcome = tokio::time::timeout(Duration::from_secs(60), request).await;
    let result = outcome
        .expect("the client must see the server go away")
        .unwrap();
    assert!(result.is_err(), "{result:?}");
}

#[tokio::test]
async fn sse_reply_for_a_raw_body_without_trailing_blank_line_keeps_it() {
    let server = FakeServer::openai().await;
    let body = Bytes::from_static(b"data: {\"a\":1}\n\ndata: [DONE]");
    server.push(Reply::sse(body.clone()));
    let received = chunks(openai(&server, &openai_body()).await).await.concat();
    assert_eq!(received, body);
}

#[tokio::test(start_paused = true)]
async fn disconnect_after_zero_sends_headers_then_fails_the_body_after_the_first_pause() {
    let server = FakeServer::openai().await;
    server.push(
        Reply::sse(fixture("openai-chat-stream-text.sse"))
            .first_chunk_after(Duration::from_secs(5))
            .disconnect_after(0),
    );
    let start = Instant::now();
    let response = openai(&server, &openai_body()).await;
    assert_eq!(response.status(), 200);
    let mut stream = response.bytes_stream();
    let first = stream.next().await.expect("the body must fail, not end");
    assert!(first.is_err(), "{first:?}");
    assert_eq!(start.elapsed(), Duration::from_secs(5));
}
