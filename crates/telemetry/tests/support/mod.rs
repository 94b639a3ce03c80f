//! Test support: a scripted fake provider, a tiny two-deployment fallback that sets
//! `AttemptContext` like the router does, in-process OTLP receivers (gRPC and
//! HTTP/protobuf) that keep every raw request body, and readers for what arrived.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::BodyExt;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point};
use prost::Message as _;
use serde_json::{Value, json};
use tollgate_core::{
    AssistantMessage, Attempt, AttemptContext, BoxChatService, ChatEvent, ChatReply, ChatRequest,
    ChatResponse, ChatStream, Error, ErrorKind, FinishReason, ReplyMeta, Secret, Usage,
};
use tower::{Service, ServiceExt};

/// The API key of the fake provider; it must never appear in anything exported.
pub const API_KEY: &str = "sk-tollgate-test-9f8e7d6c5b4a39281706";

// ===== fake provider =====

/// What the fake provider answers, in order.
pub enum Script {
    /// A complete answer after `delay`.
    Complete {
        delay: Duration,
        response: Box<ChatResponse>,
    },
    /// A stream: each event after its delay.
    Stream(Vec<(Duration, Result<ChatEvent, Error>)>),
    /// A failure after `delay`; its message echoes a body that contained the key, run
    /// through `redact` as real provider crates do.
    Fail { delay: Duration, kind: ErrorKind },
}

/// A provider client stand-in: scripted replies, meta naming provider and server.
#[derive(Clone)]
pub struct FakeProvider {
    provider: &'static str,
    script: Arc<Mutex<VecDeque<Script>>>,
    key: Secret,
}

impl FakeProvider {
    pub fn new(provider: &'static str, script: Vec<Script>) -> Self {
        Self {
            provider,
            script: Arc::new(Mutex::new(script.into())),
            key: Secret::new(API_KEY),
        }
    }

    fn meta(provider: &'static str) -> ReplyMeta {
        ReplyMeta::for_provider(provider, &format!("https://api.{provider}.example:8443/v1"))
    }
}

impl Service<ChatRequest> for FakeProvider {
    type Response = ChatReply;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<ChatReply, Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _request: ChatRequest) -> Self::Future {
        let step = self
            .script
            .lock()
            .unwrap()
            .pop_front()
            .expect("script exhausted");
        let provider = self.provider;
        let key = self.key.clone();
        Box::pin(async move {
            match step {
                Script::Complete {
                    delay,
                    mut response,
                } => {
                    tokio::time::sleep(delay).await;
                    response.meta = Self::meta(provider);
                    Ok(ChatReply::Complete(*response))
                }
                Script::Stream(events) => {
                    let events =
                        futures_util::stream::iter(events).then(|(delay, event)| async move {
                            tokio::time::sleep(delay).await;
                            event
                        });
                    ChatStream::begin(Self::meta(provider), events)
                        .await
                        .map(ChatReply::Stream)
                }
                Script::Fail { delay, kind } => {
                    tokio::time::sleep(delay).await;
                    let body = format!(
                        r#"{{"error":{{"message":"failed for key {}"}}}}"#,
                        key.expose()
                    );
                    let message = tollgate_core::error::redact(&body, key.expose()).into_owned();
                    Err(Error::new(kind, message)
                        .with_provider(provider)
                        .with_status(429))
                }
            }
        })
    }
}

pub fn response(id: &str, model: &str, text: &str, usage: Usage) -> Box<ChatResponse> {
    Box::new(ChatResponse {
        id: id.into(),
        model: model.into(),
        message: AssistantMessage::text(text),
        finish_reason: FinishReason::Stop,
        provider_finish_reason: Some("stop".into()),
        usage: Some(usage),
        meta: ReplyMeta::default(),
    })
}

pub fn stream_events(
    id: &str,
    model: &str,
    ttfc: Duration,
    chunks: &[(Duration, &str)],
    usage: Usage,
) -> Vec<(Duration, Result<ChatEvent, Error>)> {
    let mut events = vec![(
        ttfc,
        Ok(ChatEvent::Start {
            id: id.into(),
            model: model.into(),
        }),
    )];
    for (gap, text) in chunks {
        events.push((*gap, Ok(ChatEvent::text(*text))));
    }
    events.push((Duration::ZERO, Ok(ChatEvent::Usage(usage))));
    events.push((
        Duration::ZERO,
        Ok(ChatEvent::Finish {
            reason: FinishReason::Stop,
            raw: Some("stop".into()),
        }),
    ));
    events
}

// ===== a two-deployment fallback, as the router will do it =====

/// Tries each deployment in order, putting an `AttemptContext` into each attempt's
/// request, and reports the attempts in the reply's meta.
#[derive(Clone)]
pub struct TinyFallback {
    pub route: &'static str,
    pub deployments: Vec<(&'static str, &'static str, BoxChatService)>,
}

impl Service<ChatRequest> for TinyFallback {
    type Response = ChatReply;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<ChatReply, Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: ChatRequest) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let mut failed = Vec::new();
            let mut last = None;
            for (index, (name, model, service)) in this.deployments.into_iter().enumerate() {
                let mut attempt = request.clone();
                attempt.model = model.to_owned();
                attempt.extensions.insert(AttemptContext {
                    route: this.route.to_owned(),
                    deployment: name.to_owned(),
                    attempt: index as u32 + 1,
                    fallback_index: index as u32,
                    hedge: false,
                });
                let started = tokio::time::Instant::now();
                match service.oneshot(attempt).await {
                    Ok(mut reply) => {
                        let meta = reply.meta_mut();
                        meta.route = Some(this.route.to_owned());
                        meta.deployment = Some(name.to_owned());
                        meta.failed_attempts = failed;
                        return Ok(reply);
                    }
                    Err(error) => {
                        failed.push(Attempt {
                            deployment: name.to_owned(),
                            provider: error.provider().unwrap_or_default().to_owned(),
                            elapsed: started.elapsed(),
                            error: error.clone(),
                        });
                        last = Some(error);
                    }
                }
            }
            Err(last.unwrap_or_else(|| Error::new(ErrorKind::NoRoute, "no deployments")))
        })
    }
}

// ===== in-process OTLP receivers =====

/// Everything the receivers got.
#[derive(Default)]
pub struct Received {
    /// (transport and path, raw request body) for every request.
    pub raw: Vec<(String, Bytes)>,
    pub traces: Vec<ExportTraceServiceRequest>,
    pub metrics: Vec<ExportMetricsServiceRequest>,
}

/// gRPC and HTTP/protobuf OTLP receivers on 127.0.0.1, on their own runtime thread.
pub struct Receivers {
    pub grpc: SocketAddr,
    pub http: SocketAddr,
    pub received: Arc<Mutex<Received>>,
    runtime: tokio::runtime::Runtime,
}

impl Receivers {
    pub fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let received = Arc::new(Mutex::new(Received::default()));
        let (grpc, http) = runtime.block_on(async {
            let grpc_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let http_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let grpc = grpc_listener.local_addr().unwrap();
            let http = http_listener.local_addr().unwrap();

            let sink = Sink(received.clone());
            let capture = CaptureLayer(received.clone());
            tokio::spawn(
                tonic::transport::Server::builder()
                    .layer(capture)
                    .add_service(TraceServiceServer::new(sink.clone()))
                    .add_service(MetricsServiceServer::new(sink.clone()))
                    .serve_with_incoming(tonic::transport::server::TcpIncoming::from(
                        grpc_listener,
                    )),
            );

            let app = axum::Router::new()
                .route("/v1/traces", axum::routing::post(http_traces))
                .route("/v1/metrics", axum::routing::post(http_metrics))
                .with_state(received.clone());
            tokio::spawn(async move { axum::serve(http_listener, app).await });
            (grpc, http)
        });
        Self {
            grpc,
            http,
            received,
            runtime,
        }
    }

    /// The runtime the gRPC exporter must be built in (an unpaused one).
    pub fn handle(&self) -> tokio::runtime::Handle {
        self.runtime.handle().clone()
    }

    pub fn grpc_url(&self) -> String {
        format!("http://{}", self.grpc)
    }

    pub fn http_url(&self) -> String {
        format!("http://{}", self.http)
    }

    pub fn take(&self) -> Received {
        std::mem::take(&mut *self.received.lock().unwrap())
    }
}

#[derive(Clone)]
struct Sink(Arc<Mutex<Received>>);

#[tonic::async_trait]
impl TraceService for Sink {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.0.lock().unwrap().traces.push(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

#[tonic::async_trait]
impl MetricsService for Sink {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        self.0.lock().unwrap().metrics.push(request.into_inner());
        Ok(tonic::Response::new(ExportMetricsServiceResponse {
            partial_success: None,
        }))
    }
}

/// Keeps the raw body of every gRPC request before tonic decodes it.
#[derive(Clone)]
struct CaptureLayer(Arc<Mutex<Received>>);

impl<S> tower::Layer<S> for CaptureLayer {
    type Service = Capture<S>;
    fn layer(&self, inner: S) -> Capture<S> {
        Capture {
            inner,
            received: self.0.clone(),
        }
    }
}

#[derive(Clone)]
struct Capture<S> {
    inner: S,
    received: Arc<Mutex<Received>>,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<S, R> Service<http::Request<tonic::body::Body>> for Capture<S>
where
    S: Service<http::Request<tonic::body::Body>, Response = http::Response<R>>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
{
    type Response = http::Response<R>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        let mut inner = self.inner.clone();
        std::mem::swap(&mut inner, &mut self.inner);
        let received = self.received.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let bytes = body
                .collect()
                .await
                .map_err(Into::<BoxError>::into)?
                .to_bytes();
            received
                .lock()
                .unwrap()
                .raw
                .push((format!("grpc {}", parts.uri.path()), bytes.clone()));
            let request = http::Request::from_parts(
                parts,
                tonic::body::Body::new(http_body_util::Full::new(bytes)),
            );
            inner.call(request).await.map_err(Into::into)
        })
    }
}

async fn http_traces(
    axum::extract::State(received): axum::extract::State<Arc<Mutex<Received>>>,
    body: Bytes,
) -> ([(http::header::HeaderName, &'static str); 1], Vec<u8>) {
    let decoded = ExportTraceServiceRequest::decode(body.clone()).unwrap();
    let mut received = received.lock().unwrap();
    received.raw.push(("http /v1/traces".into(), body));
    received.traces.push(decoded);
    (
        [(http::header::CONTENT_TYPE, "application/x-protobuf")],
        ExportTraceServiceResponse {
            partial_success: None,
        }
        .encode_to_vec(),
    )
}

async fn http_metrics(
    axum::extract::State(received): axum::extract::State<Arc<Mutex<Received>>>,
    body: Bytes,
) -> ([(http::header::HeaderName, &'static str); 1], Vec<u8>) {
    let decoded = ExportMetricsServiceRequest::decode(body.clone()).unwrap();
    let mut received = received.lock().unwrap();
    received.raw.push(("http /v1/metrics".into(), body));
    received.metrics.push(decoded);
    (
        [(http::header::CONTENT_TYPE, "application/x-protobuf")],
        ExportMetricsServiceResponse {
            partial_success: None,
        }
        .encode_to_vec(),
    )
}

// ===== reading what arrived =====

/// One exported span, flattened for assertions.
#[derive(Debug, Clone)]
pub struct SpanView {
    pub name: String,
    pub kind: i32,
    pub trace_id: Vec<u8>,
    pub span_id: Vec<u8>,
    pub parent_span_id: Vec<u8>,
    pub status_code: i32,
    pub status_message: String,
    pub attrs: BTreeMap<String, Value>,
    pub events: Vec<(String, BTreeMap<String, Value>)>,
    pub service_name: Option<Value>,
}

impl SpanView {
    pub fn attr(&self, key: &str) -> &Value {
        self.attrs.get(key).unwrap_or_else(|| {
            panic!(
                "span {:?} has no attribute {key}: {:#?}",
                self.name, self.attrs
            )
        })
    }

    pub fn f64(&self, key: &str) -> f64 {
        self.attr(key)
            .as_f64()
            .unwrap_or_else(|| panic!("{key} is not a number"))
    }
}

pub fn value(any: &AnyValue) -> Value {
    match &any.value {
        Some(any_value::Value::StringValue(s)) => json!(s),
        Some(any_value::Value::BoolValue(b)) => json!(b),
        Some(any_value::Value::IntValue(i)) => json!(i),
        Some(any_value::Value::DoubleValue(d)) => json!(d),
        Some(any_value::Value::ArrayValue(a)) => Value::Array(a.values.iter().map(value).collect()),
        Some(any_value::Value::KvlistValue(kv)) => Value::Object(
            kv.values
                .iter()
                .map(|kv| {
                    (
                        kv.key.clone(),
                        kv.value.as_ref().map(value).unwrap_or(Value::Null),
                    )
                })
                .collect(),
        ),
        Some(any_value::Value::BytesValue(b)) => json!(b),
        Some(other) => panic!("unexpected value {other:?}"),
        None => Value::Null,
    }
}

pub fn attrs(kvs: &[KeyValue]) -> BTreeMap<String, Value> {
    kvs.iter()
        .map(|kv| {
            (
                kv.key.clone(),
                kv.value.as_ref().map(value).unwrap_or(Value::Null),
            )
        })
        .collect()
}

pub fn spans(received: &Received) -> Vec<SpanView> {
    let mut out = Vec::new();
    for request in &received.traces {
        for resource_spans in &request.resource_spans {
            let resource = resource_spans
                .resource
                .as_ref()
                .map(|r| attrs(&r.attributes))
                .unwrap_or_default();
            for scope in &resource_spans.scope_spans {
                for span in &scope.spans {
                    out.push(SpanView {
                        name: span.name.clone(),
                        kind: span.kind,
                        trace_id: span.trace_id.clone(),
                        span_id: span.span_id.clone(),
                        parent_span_id: span.parent_span_id.clone(),
                        status_code: span.status.as_ref().map_or(0, |s| s.code),
                        status_message: span
                            .status
                            .as_ref()
                            .map(|s| s.message.clone())
                            .unwrap_or_default(),
                        attrs: attrs(&span.attributes),
                        events: span
                            .events
                            .iter()
                            .map(|e| (e.name.clone(), attrs(&e.attributes)))
                            .collect(),
                        service_name: resource.get("service.name").cloned(),
                    });
                }
            }
        }
    }
    out
}

/// One data point of a metric.
#[derive(Debug, Clone)]
pub struct Point {
    pub unit: String,
    pub attrs: BTreeMap<String, Value>,
    /// Sum of a histogram, or the value of a sum.
    pub sum: f64,
    /// Count of a histogram (1 for a sum).
    pub count: u64,
    pub bounds: Vec<f64>,
    pub monotonic: Option<bool>,
}

/// The points of `name` in the most recent export that has it (exports are cumulative).
pub fn metric_points(received: &Received, name: &str) -> Vec<Point> {
    let mut latest = Vec::new();
    for request in &received.metrics {
        let mut here = Vec::new();
        for rm in &request.resource_metrics {
            for sm in &rm.scope_metrics {
                for m in sm.metrics.iter().filter(|m| m.name == name) {
                    match &m.data {
                        Some(metric::Data::Histogram(h)) => {
                            for p in &h.data_points {
                                here.push(Point {
                                    unit: m.unit.clone(),
                                    attrs: attrs(&p.attributes),
                                    sum: p.sum.unwrap_or_default(),
                                    count: p.count,
                                    bounds: p.explicit_bounds.clone(),
                                    monotonic: None,
                                });
                            }
                        }
                        Some(metric::Data::Sum(s)) => {
                            for p in &s.data_points {
                                let sum = match p.value {
                                    Some(number_data_point::Value::AsDouble(d)) => d,
                                    Some(number_data_point::Value::AsInt(i)) => i as f64,
                                    None => 0.0,
                                };
                                here.push(Point {
                                    unit: m.unit.clone(),
                                    attrs: attrs(&p.attributes),
                                    sum,
                                    count: 1,
                                    bounds: Vec::new(),
                                    monotonic: Some(s.is_monotonic),
                                });
                            }
                        }
                        other => panic!("unexpected data for {name}: {other:?}"),
                    }
                }
            }
        }
        if !here.is_empty() {
            latest = here;
        }
    }
    latest
}

/// Asserts `needle` appears nowhere in `haystack`.
pub fn assert_absent(haystack: &[u8], needle: &str, what: &str) {
    let needle = needle.as_bytes();
    assert!(
        !haystack.windows(needle.len()).any(|w| w == needle),
        "the API key leaked into {what}"
    );
}

pub fn approx(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1.0)
}

// ===== running a scenario against an exporter =====

/// Builds OTLP pipelines to `endpoint` over `protocol` (in the receivers' runtime, so gRPC
/// has an unpaused one), runs `scenario` on a paused current-thread runtime with the
/// pipeline's `tracing` layer installed on this thread, then shuts the pipelines down
/// (flushing everything).
pub fn run_exported<F, Fut>(
    protocol: tollgate_telemetry::Protocol,
    endpoint: String,
    handle: tokio::runtime::Handle,
    scenario: F,
) where
    F: FnOnce(opentelemetry::metrics::Meter) -> Fut,
    Fut: Future<Output = ()>,
{
    use tracing_subscriber::layer::SubscriberExt as _;

    let config = tollgate_telemetry::InitConfig::new("telemetry-test")
        .protocol(protocol)
        .endpoint(endpoint)
        .metric_interval(Duration::from_secs(3600))
        .timeout(Duration::from_secs(10));
    let guard = {
        let _entered = handle.enter();
        tollgate_telemetry::build(&config).unwrap()
    };
    let subscriber = tracing_subscriber::registry().with(guard.tracing_layer());
    let meter = guard.meter().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    tracing::subscriber::with_default(subscriber, || runtime.block_on(scenario(meter)));
    drop(runtime);
    guard.shutdown().unwrap();
}
