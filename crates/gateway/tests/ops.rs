//! Operations: reload swaps the configuration without dropping in-flight streams and
//! rejects a bad one; shutdown stops accepting, drains in-flight streams, and gives up
//! after the grace period.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tollgate_core::{ChatEvent, FinishReason};
use tollgate_gateway::server::{Gateway, ReloadError, Reloader};
use tollgate_gateway::state::{AppState, ServerSettings};

use support::*;

fn stream_request(model: &str) -> Value {
    json!({"model": model, "stream": true, "messages": [{"role": "user", "content": "go"}]})
}

/// Reads the response until at least one SSE frame has arrived.
async fn first_frame(response: &mut reqwest::Response) -> String {
    String::from_utf8(response.chunk().await.unwrap().unwrap().to_vec()).unwrap()
}

async fn rest(mut response: reqwest::Response, mut text: String) -> Result<String, reqwest::Error> {
    while let Some(chunk) = response.chunk().await? {
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    Ok(text)
}

fn finish_stream(tx: &tokio::sync::mpsc::UnboundedSender<ChatEvent>) {
    tx.send(ChatEvent::text("still ")).unwrap();
    tx.send(ChatEvent::text("here")).unwrap();
    tx.send(ChatEvent::Finish {
        reason: FinishReason::Stop,
        raw: None,
    })
    .unwrap();
}

#[tokio::test]
async fn reload_swaps_the_config_and_in_flight_streams_finish_on_the_old_one() {
    let scripted = ScriptedStreams::default();
    let old = state(vec![(
        "old-route",
        scripted.service(),
        info("d-old", "scripted", "m", None),
    )]);
    // What the next reload builds: `Err` until the test provides a good state.
    let next: Arc<Mutex<Result<AppState, String>>> = Arc::new(Mutex::new(Err(
        "config.toml:3:1: unknown field `routs`".into(),
    )));
    let reloader: Reloader = {
        let next = next.clone();
        Arc::new(move || std::mem::replace(&mut *next.lock().unwrap(), Err("already used".into())))
    };
    let gateway = Gateway::new(old)
        .reloader(reloader)
        .bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();

    let tx = scripted.queue();
    tx.send(ChatEvent::Start {
        id: "s1".into(),
        model: "m".into(),
    })
    .unwrap();
    let mut in_flight = post_chat(&gateway, &stream_request("old-route")).await;
    assert_eq!(in_flight.status(), 200);
    let head = first_frame(&mut in_flight).await;

    // A bad config is rejected and the old one keeps serving.
    let err = gateway.handle().reload().unwrap_err();
    assert!(
        matches!(err, ReloadError::Rejected(ref m) if m.contains("routs")),
        "{err}"
    );
    assert!(gateway.handle().state().routes.contains_key("old-route"));

    // A good config replaces it for new requests.
    *next.lock().unwrap() = Ok(state(vec![(
        "new-route",
        echo_service(),
        info("d-new", "echo", "m", None),
    )]));
    gateway.handle().reload().unwrap();
    let response = post_chat(
        &gateway,
        &json!({"model": "new-route", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["choices"][0]["message"]["content"], "echo:hi");
    assert_eq!(
        post_chat(&gateway, &stream_request("old-route"))
            .await
            .status(),
        404
    );

    // The stream that began before the reload still completes.
    finish_stream(&tx);
    drop(tx);
    let events = sse_events(&rest(in_flight, head).await.unwrap());
    assert_eq!(streamed_text(&events), "still here");
    assert_eq!(events.last().unwrap(), &json!("[DONE]"));
}

#[tokio::test]
async fn a_gateway_without_a_config_file_has_nothing_to_reload() {
    let gateway = start(state(vec![(
        "chat",
        echo_service(),
        info("d", "echo", "m", None),
    )]))
    .await;
    assert!(matches!(
        gateway.handle().reload(),
        Err(ReloadError::NoReloader)
    ));
    assert!(gateway.handle().state().routes.contains_key("chat"));
}

#[tokio::test]
async fn shutdown_stops_accepting_and_drains_in_flight_streams() {
    let scripted = ScriptedStreams::default();
    let gateway = start(state(vec![(
        "chat",
        scripted.service(),
        info("d", "scripted", "m", None),
    )]))
    .await;
    let tx = scripted.queue();
    tx.send(ChatEvent::Start {
        id: "s1".into(),
        model: "m".into(),
    })
    .unwrap();
    let mut in_flight = post_chat(&gateway, &stream_request("chat")).await;
    let head = first_frame(&mut in_flight).await;

    let handle = gateway.handle().clone();
    let addr = gateway.local_addr();
    handle.shutdown();
    assert!(handle.is_shutting_down());
    let mut stopped = tokio::spawn(gateway.wait());
    // New connections are refused once the accept loop has stopped.
    let mut refused = false;
    for _ in 0..1000 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(
        refused,
        "the gateway still accepts connections after shutdown"
    );
    // The server waits for the stream.
    assert!(futures_util::poll!(&mut stopped).is_pending());

    finish_stream(&tx);
    drop(tx);
    let events = sse_events(&rest(in_flight, head).await.unwrap());
    assert_eq!(streamed_text(&events), "still here");
    assert_eq!(events.last().unwrap(), &json!("[DONE]"));
    stopped.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn shutdown_gives_up_on_streams_after_the_grace_period() {
    let scripted = ScriptedStreams::default();
    let settings = ServerSettings {
        listen: None,
        shutdown_grace: Duration::from_secs(5),
    };
    let gateway = Gateway::new(state(vec![(
        "chat",
        scripted.service(),
        info("d", "scripted", "m", None),
    )]))
    .settings(settings)
    .bind("127.0.0.1:0".parse().unwrap())
    .await
    .unwrap();
    let tx = scripted.queue();
    tx.send(ChatEvent::Start {
        id: "s1".into(),
        model: "m".into(),
    })
    .unwrap();
    let mut in_flight = post_chat(&gateway, &stream_request("chat")).await;
    let head = first_frame(&mut in_flight).await;
    gateway.handle().shutdown();
    // The stream never finishes; the grace period (paused clock) ends the wait.
    gateway.wait().await.unwrap();
    let cut = rest(in_flight, head).await;
    let text = cut.unwrap_or_default();
    assert!(
        !text.contains("[DONE]"),
        "a cut stream must not look complete: {text}"
    );
    let events = sse_events(&text);
    assert_eq!(
        events.last().unwrap()["error"]["code"],
        "shutting_down",
        "{text}"
    );
    drop(tx);
}
