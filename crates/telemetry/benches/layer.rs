//! What the telemetry layer costs per call: without a subscriber (spans disabled, metrics
//! to the no-op global meter), and with the full pipeline (tracing-opentelemetry, a batch
//! span processor and an SDK meter provider) exporting to an in-process sink.
//!
//! `cargo bench -p tollgate-telemetry --bench layer`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use tollgate_core::pricing::PriceTable;
use tollgate_core::{
    AssistantMessage, ChatEvent, ChatReply, ChatRequest, ChatResponse, ChatStream, Error,
    FinishReason, Price, ReplyMeta, Usage,
};
use tollgate_telemetry::{ContentCapture, TelemetryLayer};
use tower::{Layer, ServiceExt, service_fn};
use tracing_subscriber::layer::SubscriberExt as _;

/// A span exporter that drops every batch: measures the pipeline, not a network.
#[derive(Debug)]
struct Sink;

impl SpanExporter for Sink {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        std::hint::black_box(batch);
        Ok(())
    }
}

const CHUNKS: usize = 20;

fn meta() -> ReplyMeta {
    ReplyMeta::for_provider("openai", "https://api.openai.com/v1")
}

fn usage() -> Usage {
    Usage {
        input_tokens: 500,
        output_tokens: 200,
        cache_read_tokens: 100,
        ..Usage::default()
    }
}

async fn provider(request: ChatRequest) -> Result<ChatReply, Error> {
    if request.stream {
        let mut events = vec![Ok(ChatEvent::Start {
            id: "r".into(),
            model: request.model.clone(),
        })];
        events.extend((0..CHUNKS).map(|_| Ok(ChatEvent::text("token "))));
        events.push(Ok(ChatEvent::Usage(usage())));
        events.push(Ok(ChatEvent::Finish {
            reason: FinishReason::Stop,
            raw: None,
        }));
        ChatStream::begin(meta(), futures_util::stream::iter(events))
            .await
            .map(ChatReply::Stream)
    } else {
        Ok(ChatReply::Complete(ChatResponse {
            id: "r".into(),
            model: request.model,
            message: AssistantMessage::text("hello"),
            finish_reason: FinishReason::Stop,
            provider_finish_reason: None,
            usage: Some(usage()),
            meta: meta(),
        }))
    }
}

fn prices() -> Arc<PriceTable> {
    let mut table = PriceTable::default();
    table.insert("openai", "gpt-4o-mini", Price::per_million(0.15, 0.60));
    Arc::new(table)
}

fn request(stream: bool) -> ChatRequest {
    ChatRequest::new("gpt-4o-mini")
        .user("Hello")
        .max_tokens(100)
        .temperature(0.5)
        .streaming(stream)
        .tag("task", "bench")
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("telemetry");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));

    for stream in [false, true] {
        let kind = if stream {
            "stream_20_chunks"
        } else {
            "complete"
        };
        let run = |service: &tollgate_core::BoxChatService| {
            runtime.block_on(async {
                let reply = service.clone().oneshot(request(stream)).await.unwrap();
                reply.into_response().await.unwrap()
            })
        };

        let bare = tollgate_core::boxed(service_fn(provider));
        group.bench_function(format!("{kind}/no_layer"), |b| b.iter(|| run(&bare)));

        let noop = tollgate_core::boxed(
            TelemetryLayer::attempt(prices())
                .capture_content(ContentCapture::Off)
                .layer(service_fn(provider)),
        );
        group.bench_function(format!("{kind}/layer_no_subscriber"), |b| {
            b.iter(|| run(&noop))
        });

        let tracer_provider = SdkTracerProvider::builder()
            .with_batch_exporter(Sink)
            .build();
        let reader = PeriodicReader::builder(InMemoryMetricExporter::default())
            .with_interval(Duration::from_secs(3600))
            .build();
        let meter_provider = SdkMeterProvider::builder().with_reader(reader).build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(tracer_provider.tracer("bench")));
        let exported = tollgate_core::boxed(
            TelemetryLayer::attempt(prices())
                .meter(meter_provider.meter("bench"))
                .capture_content(ContentCapture::Off)
                .layer(service_fn(provider)),
        );
        tracing::subscriber::with_default(subscriber, || {
            group.bench_function(format!("{kind}/layer_otlp_pipeline"), |b| {
                b.iter(|| run(&exported))
            });
        });
        tracer_provider.shutdown().unwrap();
        meter_provider.shutdown().unwrap();
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
