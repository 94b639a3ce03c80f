//! 1,000 concurrent streams through one gateway: every client gets its own answer, whole,
//! and nothing is lost or mixed up.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::json;

use support::*;

#[tokio::test]
async fn a_thousand_concurrent_streams_each_get_their_own_answer() {
    const STREAMS: usize = 1_000;
    let gateway = start(state(vec![(
        "echo",
        echo_service(),
        info("d", "echo", "m", None),
    )]))
    .await;
    let client = reqwest::Client::new();
    let chat_url = url(&gateway, "/v1/chat/completions");
    let requests = (0..STREAMS).map(|i| {
        let client = client.clone();
        let chat_url = chat_url.clone();
        async move {
            let prompt = format!("request-{i}-payload");
            let response = client
                .post(&chat_url)
                .json(&json!({"model": "echo", "stream": true, "stream_options": {"include_usage": true},
                              "messages": [{"role": "user", "content": prompt}]}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            let events = sse_events(&response.text().await.unwrap());
            assert_eq!(streamed_text(&events), format!("echo:{prompt}"), "request {i}");
            assert_eq!(events[0]["id"], format!("echo-{prompt}"), "request {i}");
            assert!(events.iter().filter_map(|e| e["id"].as_str()).all(|id| id == format!("echo-{prompt}")));
            assert_eq!(events.last().unwrap(), &json!("[DONE]"));
            i
        }
    });
    let done = futures_util::future::join_all(requests).await;
    assert_eq!(done.len(), STREAMS);
    assert!(done.iter().enumerate().all(|(i, d)| i == *d));
}
