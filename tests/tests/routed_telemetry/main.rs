//! Telemetry over the real router and real provider clients: the span tree of a
//! cross-provider fallback, with routing facts from the router's `AttemptContext` and cost
//! from the bundled catalog's price.
//!
//! The telemetry crate's own tests use a hand-built fallback and real OTLP receivers; this
//! test pins the composition users build: provider client → attempt layer → route →
//! router → request layer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::Arc;

use opentelemetry::trace::{SpanKind, Status, TracerProvider as _};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tollgate_anthropic::{AnthropicClient, AnthropicConfig};
use tollgate_catalog::Catalog;
use tollgate_core::pricing::PriceSource;
use tollgate_core::{ChatRequest, Client, Usage, boxed};
use tollgate_openai::{OpenAiClient, OpenAiConfig};
use tollgate_router::{Deployment, Priority, Route, Router};
use tollgate_telemetry::TelemetryLayer;
use tollgate_telemetry::semconv::attr;
use tollgate_testkit::scenario::{Scenario, ScenarioError, ScenarioUsage, error_reply};
use tollgate_testkit::{FakeServer, Flavor};
use tower::Layer;
use tracing_subscriber::layer::SubscriberExt;

const KEY: &str = "sk-routed-telemetry-secret-0123456789";
const ANSWERING_MODEL: &str = "claude-sonnet-4-5";

fn attributes(span: &SpanData) -> HashMap<String, Value> {
    span.attributes
        .iter()
        .map(|KeyValue { key, value, .. }| (key.to_string(), value.clone()))
        .collect()
}

fn int(attrs: &HashMap<String, Value>, key: &str) -> i64 {
    match attrs.get(key) {
        Some(Value::I64(v)) => *v,
        other => panic!("{key}: expected an integer, got {other:?}"),
    }
}

fn text(attrs: &HashMap<String, Value>, key: &str) -> String {
    match attrs.get(key) {
        Some(Value::String(v)) => v.to_string(),
        other => panic!("{key}: expected a string, got {other:?}"),
    }
}

fn float(attrs: &HashMap<String, Value>, key: &str) -> f64 {
    match attrs.get(key) {
        Some(Value::F64(v)) => *v,
        other => panic!("{key}: expected a float, got {other:?}"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_cross_provider_fallback_is_one_request_span_with_two_attempt_children() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("routed-telemetry")));
    let _guard = tracing::subscriber::set_default(subscriber);

    // The primary is rate limited; the fallback, on another provider, answers.
    let openai = FakeServer::openai().await;
    openai.push(error_reply(
        Flavor::OpenAi,
        ScenarioError::RateLimited {
            retry_after_secs: 30,
        },
    ));
    let anthropic = FakeServer::anthropic().await;
    let usage = ScenarioUsage {
        input_tokens: 1_000,
        cache_read_tokens: 200,
        output_tokens: 50,
        ..ScenarioUsage::default()
    };
    anthropic.push(
        Scenario::text(["Low tide ", "at noon."])
            .with_model(ANSWERING_MODEL)
            .with_usage(usage)
            .reply(Flavor::Anthropic, false),
    );

    let prices: Arc<dyn PriceSource> = Arc::new(Catalog::bundled().clone());
    let attempt = TelemetryLayer::attempt(Arc::clone(&prices));
    let primary = OpenAiClient::new(OpenAiConfig::new(KEY).base_url(openai.base_url())).unwrap();
    let fallback =
        AnthropicClient::new(AnthropicConfig::new(KEY).base_url(anthropic.base_url())).unwrap();
    let route = Route::builder("smart")
        .deployment(Deployment::new(
            "openai/gpt-4o-mini",
            "gpt-4o-mini",
            boxed(attempt.clone().layer(primary)),
        ))
        .deployment(Deployment::new(
            "anthropic/sonnet",
            ANSWERING_MODEL,
            boxed(attempt.layer(fallback)),
        ))
        .balancer(Arc::new(Priority))
        .build()
        .unwrap();
    let router = Router::builder().route(route).build().unwrap();
    let client = Client::new(TelemetryLayer::request(Arc::clone(&prices)).layer(router));

    let response = client
        .chat(
            ChatRequest::new("smart")
                .user("When is low tide?")
                .tag("task", "tides"),
        )
        .await
        .unwrap();
    assert_eq!(response.text(), "Low tide at noon.");
    assert_eq!(
        response.meta.deployment.as_deref(),
        Some("anthropic/sonnet")
    );
    provider.force_flush().unwrap();

    let spans = exporter.get_finished_spans().unwrap();
    assert_eq!(spans.len(), 3, "{spans:#?}");
    let request = spans
        .iter()
        .find(|s| s.name == "chat smart")
        .expect("a request span named after the route");
    let mut attempts: Vec<&SpanData> = spans
        .iter()
        .filter(|s| s.parent_span_id == request.span_context.span_id())
        .collect();
    assert_eq!(
        attempts.len(),
        2,
        "both attempts are children of the request span"
    );
    attempts.sort_by_key(|s| int(&attributes(s), attr::ATTEMPT));

    for span in [request, attempts[0], attempts[1]] {
        assert_eq!(span.span_kind, SpanKind::Client, "{}", span.name);
        assert_eq!(
            span.span_context.trace_id(),
            request.span_context.trace_id()
        );
    }

    // The failed attempt: which deployment, its position, and why it failed.
    let failed = attributes(attempts[0]);
    assert_eq!(attempts[0].name, "chat gpt-4o-mini");
    assert_eq!(text(&failed, attr::DEPLOYMENT), "openai/gpt-4o-mini");
    assert_eq!(text(&failed, attr::ROUTE), "smart");
    assert_eq!(int(&failed, attr::FALLBACK_INDEX), 0);
    assert_eq!(text(&failed, attr::ERROR_TYPE), "rate_limited");
    assert!(matches!(attempts[0].status, Status::Error { .. }));

    // The answering attempt: the other provider, its usage and its cost.
    let answered = attributes(attempts[1]);
    assert_eq!(attempts[1].name, format!("chat {ANSWERING_MODEL}"));
    assert_eq!(text(&answered, attr::DEPLOYMENT), "anthropic/sonnet");
    assert_eq!(int(&answered, attr::ATTEMPT), 2);
    assert_eq!(int(&answered, attr::FALLBACK_INDEX), 1);
    assert_eq!(text(&answered, attr::PROVIDER_NAME), "anthropic");
    assert_eq!(int(&answered, attr::USAGE_INPUT_TOKENS), 1_000);
    assert_eq!(int(&answered, attr::USAGE_CACHE_READ_INPUT_TOKENS), 200);
    assert!(!answered.contains_key(attr::ERROR_TYPE));

    // Cost is exactly Usage::cost at the catalog's price, on the attempt and the request.
    let price = Catalog::bundled()
        .price("anthropic", ANSWERING_MODEL)
        .expect("the catalog prices the answering model");
    let expected = Usage {
        input_tokens: 1_000,
        cache_read_tokens: 200,
        output_tokens: 50,
        ..Usage::default()
    }
    .cost(&price);
    let on_request = attributes(request);
    for attrs in [&answered, &on_request] {
        assert!((float(attrs, attr::COST_USD) - expected.total()).abs() < 1e-12);
        assert!((float(attrs, attr::USAGE_COST) - expected.total()).abs() < 1e-12);
        assert!((float(attrs, attr::COST_CACHE_READ_USD) - expected.cache_read).abs() < 1e-12);
    }
    assert_eq!(text(&on_request, attr::DEPLOYMENT), "anthropic/sonnet");
    assert_eq!(int(&on_request, attr::ATTEMPTS), 2);

    // No exported attribute carries the key, in any span.
    for span in &spans {
        for KeyValue { value, .. } in &span.attributes {
            assert!(!value.as_str().contains(KEY), "{}: key leaked", span.name);
        }
    }
}
