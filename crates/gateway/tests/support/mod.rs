//! Shared helpers for the gateway's end-to-end tests: provider clients pointed at testkit
//! fake servers, a gateway on 127.0.0.1:0, and an SSE reader.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;
use tollgate_anthropic::{AnthropicClient, AnthropicConfig};
use tollgate_core::pricing::PriceTable;
use tollgate_core::{BoxChatService, Price, boxed};
use tollgate_gateway::config::{ConfigError, Location, Problem};
use tollgate_gateway::server::{Gateway, RunningGateway};
use tollgate_gateway::state::{AppState, DeploymentInfo, RouteEntry};
use tollgate_gemini::{GeminiClient, GeminiConfig};
use tollgate_openai::{OpenAiClient, OpenAiConfig};
use tollgate_testkit::{FakeServer, Flavor};

/// The provider name each flavor's client reports.
pub fn provider_name(flavor: Flavor) -> &'static str {
    match flavor {
        Flavor::OpenAi => "openai",
        Flavor::Anthropic => "anthropic",
        Flavor::Gemini => "gcp.gemini",
    }
}

/// A provider client of `flavor` calling `server`.
pub fn provider_service(server: &FakeServer) -> BoxChatService {
    let base = server.base_url();
    match server.flavor() {
        Flavor::OpenAi => {
            boxed(OpenAiClient::new(OpenAiConfig::new("sk-test").base_url(base)).unwrap())
        }
        Flavor::Anthropic => {
            boxed(AnthropicClient::new(AnthropicConfig::new("sk-ant-test").base_url(base)).unwrap())
        }
        Flavor::Gemini => {
            boxed(GeminiClient::new(GeminiConfig::new("gm-test").base_url(base)).unwrap())
        }
    }
}

/// Facts for one deployment.
pub fn info(name: &str, provider: &str, model: &str, price: Option<Price>) -> DeploymentInfo {
    DeploymentInfo {
        name: name.to_owned(),
        provider: provider.to_owned(),
        model: model.to_owned(),
        price,
        ..DeploymentInfo::default()
    }
}

/// A state with one route per `(route, service, deployment)`.
pub fn state(routes: Vec<(&str, BoxChatService, DeploymentInfo)>) -> AppState {
    let routes: BTreeMap<String, RouteEntry> = routes
        .into_iter()
        .map(|(name, service, info)| (name.to_owned(), RouteEntry::new(service, vec![info])))
        .collect();
    let mut state = AppState::with_routes(routes);
    state.prices = Arc::new(PriceTable::default());
    state
}

/// A state with the single route `route` served by a provider client calling `server`.
pub fn state_for(route: &str, server: &FakeServer, price: Option<Price>) -> AppState {
    let flavor = server.flavor();
    state(vec![(
        route,
        provider_service(server),
        info(
            &format!("{route}-{}", flavor.name()),
            provider_name(flavor),
            "test-model",
            price,
        ),
    )])
}

/// Starts a gateway serving `state` on 127.0.0.1:0.
pub async fn start(state: AppState) -> RunningGateway {
    Gateway::new(state)
        .bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

/// `http://127.0.0.1:P{path}`.
pub fn url(gateway: &RunningGateway, path: &str) -> String {
    format!("http://{}{path}", gateway.local_addr())
}

/// POSTs `body` to `/v1/chat/completions`.
pub async fn post_chat(gateway: &RunningGateway, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(url(gateway, "/v1/chat/completions"))
        .json(body)
        .send()
        .await
        .unwrap()
}

/// The events of an SSE body: each `data:` payload parsed as JSON, `[DONE]` as
/// `Value::String("[DONE]")`, comments as `Value::String(": …")`.
pub fn sse_events(body: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for block in body.split("\n\n").filter(|b| !b.is_empty()) {
        for line in block.lines() {
            if let Some(data) = line.strip_prefix("data: ") {
                if data == "[DONE]" {
                    out.push(Value::String("[DONE]".into()));
                } else {
                    out.push(
                        serde_json::from_str(data)
                            .unwrap_or_else(|e| panic!("bad chunk {data}: {e}")),
                    );
                }
            } else if line.starts_with(':') {
                out.push(Value::String(line.to_owned()));
            }
        }
    }
    out
}

/// The concatenated `delta.content` of a chunk list.
pub fn streamed_text(events: &[Value]) -> String {
    events
        .iter()
        .filter_map(|e| e["choices"][0]["delta"]["content"].as_str())
        .collect()
}

/// The OpenAI error object of a response body.
pub async fn error_of(response: reqwest::Response) -> Value {
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"].is_string(),
        "not an OpenAI error: {body}"
    );
    assert!(
        body["error"]["type"].is_string(),
        "not an OpenAI error: {body}"
    );
    assert!(body["error"].get("param").is_some(), "no param: {body}");
    body["error"].clone()
}

/// A chat service whose streams the test drives by hand: each call takes the next
/// event channel queued with [`ScriptedStreams::queue`], and resolves once that channel's
/// first event has arrived (as every provider does).
#[derive(Clone, Default)]
pub struct ScriptedStreams {
    queue: Arc<
        std::sync::Mutex<
            std::collections::VecDeque<
                tokio::sync::mpsc::UnboundedReceiver<tollgate_core::ChatEvent>,
            >,
        >,
    >,
}

impl ScriptedStreams {
    /// Queues a stream for the next call; send its events on the returned sender, and drop
    /// the sender to end it.
    pub fn queue(&self) -> tokio::sync::mpsc::UnboundedSender<tollgate_core::ChatEvent> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        self.queue.lock().unwrap().push_back(rx);
        tx
    }

    /// The service.
    pub fn service(&self) -> BoxChatService {
        let queue = self.queue.clone();
        boxed(tower::service_fn(
            move |_request: tollgate_core::ChatRequest| {
                let rx = queue.lock().unwrap().pop_front();
                async move {
                    let rx = rx.expect("no stream queued");
                    let events = futures_util::stream::unfold(rx, |mut rx| async move {
                        rx.recv().await.map(|event| (Ok(event), rx))
                    });
                    let meta = tollgate_core::ReplyMeta {
                        provider: "scripted".into(),
                        ..Default::default()
                    };
                    tollgate_core::ChatStream::begin(meta, events)
                        .await
                        .map(tollgate_core::ChatReply::Stream)
                }
            },
        ))
    }
}

/// A service that streams back, in three pieces, the text of the request's last user
/// message prefixed with `echo:`; with `stream: false` it answers the same in one piece.
pub fn echo_service() -> BoxChatService {
    use tollgate_core::{
        ChatEvent, ChatReply, ChatStream, FinishReason, Message, ReplyMeta, Usage,
    };
    boxed(tower::service_fn(
        |request: tollgate_core::ChatRequest| async move {
            let text = match request.messages.last() {
                Some(Message::User(user)) => user.text(),
                _ => String::new(),
            };
            let mid = text.len() / 2;
            let events = vec![
                ChatEvent::Start {
                    id: format!("echo-{text}"),
                    model: "echo".into(),
                },
                ChatEvent::text("echo:"),
                ChatEvent::text(&text[..mid]),
                ChatEvent::text(&text[mid..]),
                ChatEvent::Usage(Usage::new(text.len() as u64, text.len() as u64)),
                ChatEvent::Finish {
                    reason: FinishReason::Stop,
                    raw: None,
                },
            ];
            let meta = ReplyMeta {
                provider: "echo".into(),
                ..ReplyMeta::default()
            };
            let stream =
                ChatStream::begin(meta, futures_util::stream::iter(events.into_iter().map(Ok)))
                    .await?;
            if request.stream {
                Ok(ChatReply::Stream(stream))
            } else {
                Ok(ChatReply::Complete(stream.collect().await?))
            }
        },
    ))
}

/// An environment for config interpolation and zero-config, from `(name, value)` pairs:
/// tests never read or set the process's own variables.
pub fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: std::collections::HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

/// Parses `text` as `tollgate.toml` with `env`, expecting it to be refused.
pub fn reject_config(text: &str, env: tollgate_gateway::config::Env<'_>) -> ConfigError {
    match tollgate_gateway::config::parse(text, "tollgate.toml", env) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e,
    }
}

/// The single problem of a refused config.
pub fn only(error: &ConfigError) -> &Problem {
    assert_eq!(error.problems().len(), 1, "{error}");
    &error.problems()[0]
}

/// A problem's location, 1-based.
pub fn at(line: usize, column: usize) -> Option<Location> {
    Some(Location { line, column })
}
