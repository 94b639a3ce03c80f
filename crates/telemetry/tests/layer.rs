//! Behaviour of the layer beyond the routed scenario: unknown prices, the semantic
//! conventions switch, opt-in content capture, a request layer on its own, and spans
//! seen by a plain `tracing` subscriber.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use support::*;
use tollgate_core::pricing::PriceTable;
use tollgate_core::{ChatRequest, Price, Tool, Usage};
use tollgate_telemetry::semconv::metric;
use tollgate_telemetry::{ContentCapture, Mode, Protocol, SemconvVersion, TelemetryLayer};
use tower::{Layer, ServiceExt};

fn usage() -> Usage {
    Usage {
        input_tokens: 100,
        output_tokens: 20,
        cache_read_tokens: 0,
        cache_write_tokens: 30,
        reasoning_tokens: 0,
    }
}

fn complete(delay_ms: u64) -> Script {
    Script::Complete {
        delay: Duration::from_millis(delay_ms),
        response: response("r1", "gpt-4o-mini", "Paris.", usage()),
    }
}

/// Runs `f` with an HTTP/protobuf exporter to an in-process receiver.
fn exported<F, Fut>(f: F) -> Received
where
    F: FnOnce(opentelemetry::metrics::Meter) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let receivers = Receivers::start();
    run_exported(
        Protocol::HttpProtobuf,
        receivers.http_url(),
        receivers.handle(),
        f,
    );
    let received = receivers.take();
    for (what, body) in &received.raw {
        assert_absent(body, API_KEY, what);
    }
    received
}

/// The request most tests send. It carries the API key in its extensions, as a caller that
/// threads credentials through a stack would, so every "the key never appears" check
/// below has a key that could leak.
fn hi() -> ChatRequest {
    let mut request = ChatRequest::new("gpt-4o-mini").user("Hi");
    request
        .extensions
        .insert(tollgate_core::Secret::new(API_KEY));
    request
}

#[test]
fn an_unknown_price_records_no_cost_at_all() {
    let received = exported(|meter| async move {
        let service = TelemetryLayer::attempt(Arc::new(PriceTable::default()))
            .meter(meter)
            .layer(FakeProvider::new("openai", vec![complete(10)]));
        service.oneshot(hi()).await.unwrap();
    });
    let spans = spans(&received);
    assert_eq!(spans.len(), 1);
    let span = &spans[0];
    assert_eq!(span.attr("gen_ai.usage.input_tokens"), &json!(100));
    for key in [
        "tollgate.cost.usd",
        "tollgate.cost.input_usd",
        "tollgate.cost.output_usd",
        "tollgate.cost.cache_read_usd",
        "tollgate.cost.cache_write_usd",
        "gen_ai.usage.cost",
    ] {
        assert!(
            !span.attrs.contains_key(key),
            "{key} recorded without a price"
        );
    }
    assert!(metric_points(&received, metric::COST).is_empty());
    assert_eq!(
        metric_points(&received, metric::OPERATION_DURATION).len(),
        1
    );
}

#[test]
fn unpriced_layers_record_usage_without_cost() {
    let received = exported(|meter| async move {
        let service = TelemetryLayer::unpriced(Mode::Request)
            .meter(meter)
            .layer(FakeProvider::new("openai", vec![complete(10)]));
        service.oneshot(hi()).await.unwrap();
    });
    let spans = spans(&received);
    assert_eq!(spans[0].attr("gen_ai.usage.output_tokens"), &json!(20));
    assert!(!spans[0].attrs.contains_key("tollgate.cost.usd"));
}

#[test]
fn latest_experimental_conventions_rename_cache_write_and_duration_metrics() {
    let received = exported(|meter| async move {
        let mut table = PriceTable::default();
        table.insert("openai", "gpt-4o-mini", Price::per_million(1.0, 2.0));
        let service = TelemetryLayer::attempt(Arc::new(table))
            .meter(meter)
            .semconv(SemconvVersion::LatestExperimental)
            .layer(FakeProvider::new("openai", vec![complete(250)]));
        service.oneshot(hi()).await.unwrap();
    });
    let span = &spans(&received)[0];
    assert_eq!(
        span.attr("gen_ai.usage.cache_write.input_tokens"),
        &json!(30)
    );
    assert!(
        !span
            .attrs
            .contains_key("gen_ai.usage.cache_creation.input_tokens")
    );
    assert_eq!(span.attr("gen_ai.provider.name"), &json!("openai"));
    let durations = metric_points(&received, metric::INFERENCE_DURATION);
    assert_eq!(durations.len(), 1);
    assert!(approx(durations[0].sum, 0.25));
    assert!(metric_points(&received, metric::OPERATION_DURATION).is_empty());
}

#[test]
fn v1_36_conventions_name_the_provider_gen_ai_system() {
    let received = exported(|meter| async move {
        let service = TelemetryLayer::unpriced(Mode::Attempt)
            .meter(meter)
            .semconv(SemconvVersion::V1_36)
            .layer(FakeProvider::new("openai", vec![complete(10)]));
        service.oneshot(hi()).await.unwrap();
    });
    let span = &spans(&received)[0];
    assert_eq!(span.attr("gen_ai.system"), &json!("openai"));
    assert!(!span.attrs.contains_key("gen_ai.provider.name"));
    let points = metric_points(&received, metric::OPERATION_DURATION);
    assert_eq!(points[0].attrs["gen_ai.system"], json!("openai"));
}

#[test]
fn content_is_recorded_only_when_opted_in() {
    let request = || {
        ChatRequest::new("gpt-4o-mini")
            .system("Answer in one word.")
            .user("Capital of France?")
            .tool(Tool::new("lookup", json!({"type": "object"})))
    };
    let received = exported(|meter| async move {
        let on = TelemetryLayer::unpriced(Mode::Attempt)
            .meter(meter.clone())
            .capture_content(ContentCapture::On)
            .layer(FakeProvider::new(
                "openai",
                vec![
                    complete(10),
                    Script::Stream(stream_events(
                        "r2",
                        "gpt-4o-mini",
                        Duration::from_millis(5),
                        &[(Duration::ZERO, "Par"), (Duration::from_millis(5), "is.")],
                        usage(),
                    )),
                ],
            ));
        on.clone()
            .oneshot(request().tag("task", "complete"))
            .await
            .unwrap();
        let reply = on
            .oneshot(request().streaming(true).tag("task", "stream"))
            .await
            .unwrap();
        reply.into_response().await.unwrap();
        let off = TelemetryLayer::unpriced(Mode::Attempt)
            .meter(meter)
            .capture_content(ContentCapture::Off)
            .layer(FakeProvider::new("openai", vec![complete(10)]));
        off.oneshot(request().tag("task", "off")).await.unwrap();
    });
    let spans = spans(&received);
    let by_task = |task: &str| {
        spans
            .iter()
            .find(|s| s.attrs["tollgate.task"] == json!(task))
            .unwrap()
    };
    let parse = |v: &Value| -> Value { serde_json::from_str(v.as_str().unwrap()).unwrap() };
    for task in ["complete", "stream"] {
        let span = by_task(task);
        assert_eq!(
            parse(span.attr("gen_ai.input.messages")),
            json!([{"role": "user", "parts": [{"type": "text", "content": "Capital of France?"}]}])
        );
        assert_eq!(
            parse(span.attr("gen_ai.system_instructions")),
            json!([{"type": "text", "content": "Answer in one word."}])
        );
        assert_eq!(
            parse(span.attr("gen_ai.tool.definitions")),
            json!([{"type": "function", "name": "lookup", "parameters": {"type": "object"}}])
        );
    }
    assert_eq!(
        parse(by_task("complete").attr("gen_ai.output.messages")),
        json!([{"role": "assistant", "parts": [{"type": "text", "content": "Paris."}], "finish_reason": "stop"}])
    );
    assert_eq!(
        parse(by_task("stream").attr("gen_ai.output.messages")),
        json!([{"role": "assistant", "parts": [{"type": "text", "content": "Paris."}], "finish_reason": "stop"}])
    );
    let off = by_task("off");
    for key in [
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
        "gen_ai.tool.definitions",
    ] {
        assert!(
            !off.attrs.contains_key(key),
            "{key} captured without opt-in"
        );
    }
}

#[test]
fn a_request_layer_alone_records_the_metrics() {
    let received = exported(|meter| async move {
        let service = TelemetryLayer::unpriced(Mode::Request)
            .meter(meter)
            .layer(FakeProvider::new("openai", vec![complete(40)]));
        service.oneshot(hi().tag("task", "t")).await.unwrap();
    });
    let points = metric_points(&received, metric::OPERATION_DURATION);
    assert_eq!(points.len(), 1);
    assert!(approx(points[0].sum, 0.04));
    assert_eq!(points[0].attrs["tollgate.task"], json!("t"));
    assert_eq!(metric_points(&received, metric::TOKEN_USAGE).len(), 2);
}

/// A `tracing` layer that keeps every span's name and fields, as any subscriber sees them.
type SpanRecord = (String, BTreeMap<String, String>);

#[derive(Clone, Default)]
struct Recording(Arc<Mutex<Vec<SpanRecord>>>);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S> tracing_subscriber::Layer<S> for Recording
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        _: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let mut spans = self.0.lock().unwrap();
        spans.push((attrs.metadata().name().to_owned(), fields));
        // Remember which entry belongs to this span id.
        spans
            .last_mut()
            .unwrap()
            .1
            .insert("__id".into(), id.into_u64().to_string());
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        _: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut spans = self.0.lock().unwrap();
        let key = id.into_u64().to_string();
        if let Some((_, fields)) = spans
            .iter_mut()
            .rev()
            .find(|(_, f)| f.get("__id") == Some(&key))
        {
            values.record(&mut Fields(fields));
        }
    }
}

#[tokio::test(start_paused = true)]
async fn spans_also_appear_to_a_plain_tracing_subscriber() {
    use tracing_subscriber::layer::SubscriberExt as _;

    let recording = Recording::default();
    let subscriber = tracing_subscriber::registry().with(recording.clone());
    let _default = tracing::subscriber::set_default(subscriber);
    let mut table = PriceTable::default();
    table.insert("openai", "gpt-4o-mini", Price::per_million(1.0, 2.0));
    let service = TelemetryLayer::attempt(Arc::new(table))
        .layer(FakeProvider::new("openai", vec![complete(10)]));
    service.oneshot(hi()).await.unwrap();

    let spans = recording.0.lock().unwrap().clone();
    assert_eq!(spans.len(), 1);
    let (name, fields) = &spans[0];
    assert_eq!(name, "chat");
    assert_eq!(fields["otel.name"], "chat gpt-4o-mini");
    assert_eq!(fields["gen_ai.request.model"], "gpt-4o-mini");
    assert_eq!(fields["gen_ai.provider.name"], "openai");
    assert_eq!(fields["gen_ai.usage.input_tokens"], "100");
    assert_eq!(fields["gen_ai.response.id"], "r1");
    assert!(fields.contains_key("tollgate.cost.usd"));
    let all: String = format!("{spans:?}");
    assert!(!all.contains(API_KEY));
}

#[test]
fn a_call_abandoned_before_its_reply_ends_its_span_as_cancelled() {
    let received = exported(|meter| async move {
        let service = TelemetryLayer::unpriced(Mode::Attempt)
            .meter(meter)
            .layer(FakeProvider::new("openai", vec![complete(1_000)]));
        let call = service.oneshot(hi());
        // A caller-side timeout drops the future after 300 ms.
        assert!(
            tokio::time::timeout(Duration::from_millis(300), call)
                .await
                .is_err()
        );
    });
    let span = &spans(&received)[0];
    assert_eq!(span.attr("error.type"), &json!("cancelled"));
    assert_eq!(span.status_code, 2);
    assert!(!span.attrs.contains_key("gen_ai.usage.input_tokens"));
    let points = metric_points(&received, metric::OPERATION_DURATION);
    assert_eq!(points[0].attrs["error.type"], json!("cancelled"));
    assert!(approx(points[0].sum, 0.3), "{}", points[0].sum);
}
