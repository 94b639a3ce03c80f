//! Sends the telemetry of a simulated routed call (a rate-limited first deployment, then a
//! fallback that answers) to the OTLP collector named by the standard variables.
//!
//! ```text
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 \
//! OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf \
//! OTEL_SERVICE_NAME=tollgate-example \
//!     cargo run -p tollgate-telemetry --example otlp
//! ```
//!
//! No provider is called: both deployments are simulated in process.
#![allow(clippy::print_stdout)]

use std::sync::Arc;

use tollgate_core::pricing::PriceTable;
use tollgate_core::{
    AssistantMessage, AttemptContext, BoxChatService, ChatReply, ChatRequest, ChatResponse, Client,
    Error, ErrorKind, FinishReason, Price, ReplyMeta, Usage, boxed,
};
use tollgate_telemetry::{InitConfig, TelemetryLayer};
use tower::{Layer, ServiceExt, service_fn};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // Spans and metrics go to OTEL_EXPORTER_OTLP_ENDPOINT (default http://localhost:4318).
    let telemetry = tollgate_telemetry::init(InitConfig::new("tollgate-example").stderr(true))?;

    let mut prices = PriceTable::default();
    prices.insert("openai", "gpt-4o-mini", Price::per_million(0.15, 0.60));
    prices.insert(
        "anthropic",
        "claude-haiku-4-5",
        Price::per_million(1.0, 5.0).with_cache_read(0.10),
    );
    let prices = Arc::new(prices);

    // Each deployment gets an attempt span.
    let attempt = TelemetryLayer::attempt(prices.clone());
    let primary = boxed(attempt.layer(service_fn(|_: ChatRequest| async {
        Err::<ChatReply, _>(
            Error::new(ErrorKind::RateLimited, "simulated 429")
                .with_provider("openai")
                .with_status(429),
        )
    })));
    let backup = boxed(attempt.layer(service_fn(|request: ChatRequest| async move {
        Ok::<_, Error>(ChatReply::Complete(ChatResponse {
            id: "msg_simulated".into(),
            model: request.model,
            message: AssistantMessage::text("Hello from the fallback."),
            finish_reason: FinishReason::Stop,
            provider_finish_reason: Some("end_turn".into()),
            usage: Some(Usage {
                input_tokens: 1_200,
                output_tokens: 80,
                cache_read_tokens: 1_000,
                ..Usage::default()
            }),
            meta: ReplyMeta::for_provider("anthropic", "https://api.anthropic.com"),
        }))
    })));

    // A two-step fallback standing in for tollgate-router.
    let route = service_fn(move |request: ChatRequest| {
        let chain: [(&str, &str, BoxChatService); 2] = [
            ("openai-mini", "gpt-4o-mini", primary.clone()),
            ("haiku", "claude-haiku-4-5", backup.clone()),
        ];
        async move {
            let mut failed = Vec::new();
            for (index, (deployment, model, service)) in chain.into_iter().enumerate() {
                let mut attempt = request.clone();
                attempt.model = model.into();
                attempt.extensions.insert(AttemptContext {
                    route: "smart".into(),
                    deployment: deployment.into(),
                    attempt: index as u32 + 1,
                    fallback_index: index as u32,
                    hedge: false,
                });
                match service.oneshot(attempt).await {
                    Ok(mut reply) => {
                        let meta = reply.meta_mut();
                        meta.route = Some("smart".into());
                        meta.deployment = Some(deployment.into());
                        meta.failed_attempts = failed;
                        return Ok(reply);
                    }
                    Err(error) => failed.push(tollgate_core::Attempt {
                        deployment: deployment.into(),
                        provider: error.provider().unwrap_or_default().into(),
                        elapsed: std::time::Duration::ZERO,
                        error,
                    }),
                }
            }
            Err(Error::new(ErrorKind::NoRoute, "every deployment failed"))
        }
    });

    // The logical request gets the parent span.
    let client = Client::new(boxed(TelemetryLayer::request(prices).layer(route)));
    let response = client
        .chat(
            ChatRequest::new("smart")
                .user("Say hello")
                .tag("task", "greeting"),
        )
        .await?;
    println!(
        "{} (answered by {:?} after {} attempts)",
        response.text(),
        response.meta.deployment,
        response.meta.attempts()
    );

    // Flush everything before exiting.
    tokio::task::spawn_blocking(move || telemetry.shutdown()).await??;
    Ok(())
}
