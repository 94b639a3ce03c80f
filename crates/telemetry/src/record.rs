//! [`Recorder`]: the span and metric bookkeeping of one call, from `call` to the end of
//! the reply (the end of the stream, for streams).
//!
//! A recorder always ends its span exactly once: on the reply, on the error, at the end
//! of the stream, or — when the future or the stream is dropped first — as cancelled.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::trace::Status;
use opentelemetry::{Array, KeyValue, StringValue, Value};
use tokio::time::Instant;
use tollgate_core::{
    AttemptContext, ChatRequest, ChatResponse, Error, ErrorKind, FinishReason, ReplyMeta,
    ResponseFormat, Usage,
};
use tracing::Span;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::content;
use crate::layer::{Mode, Shared};
use crate::semconv::{SemconvVersion, attr};

/// Put into the request's extensions by a request-mode layer; set by attempt-mode layers
/// beneath it, which then own the metrics so nothing is counted twice.
#[derive(Debug, Clone, Default)]
pub(crate) struct AttemptMetricsSeen(Arc<AtomicBool>);

/// Who records the metrics of this call.
enum MetricsDuty {
    /// This recorder (attempt mode, or request mode with no attempt layer beneath).
    Record,
    /// This recorder unless an attempt layer beneath signalled it records them.
    UnlessAttemptsDid(AttemptMetricsSeen),
}

pub(crate) struct Recorder {
    shared: Arc<Shared>,
    span: Span,
    start: Instant,
    /// The previous chunk of a stream, for time per output chunk.
    last_chunk: Option<Instant>,
    request_model: String,
    provider: Option<String>,
    server_address: Option<String>,
    server_port: Option<u16>,
    route: Option<String>,
    deployment: Option<String>,
    task: Option<String>,
    response_model: Option<String>,
    metrics: MetricsDuty,
    /// Metric attributes, built once the reply's meta is known (streams record per chunk).
    metric_attributes: Vec<KeyValue>,
    done: bool,
}

impl Recorder {
    /// Opens the span of a call and prepares `request` for the layers beneath.
    pub(crate) fn start(shared: Arc<Shared>, request: &mut ChatRequest) -> Self {
        let semconv = shared.semconv;
        let role = match shared.mode {
            Mode::Request => "request",
            Mode::Attempt => "attempt",
        };
        let name = format!("chat {}", request.model);
        let span = tracing::info_span!(
            target: "tollgate_telemetry",
            "chat",
            otel.name = name.as_str(),
            otel.kind = "client",
            otel.status_description = Empty,
            tollgate.span = role,
            gen_ai.operation.name = "chat",
            gen_ai.provider.name = Empty,
            gen_ai.system = Empty,
            gen_ai.request.model = request.model.as_str(),
            gen_ai.request.max_tokens = Empty,
            gen_ai.request.temperature = Empty,
            gen_ai.request.top_p = Empty,
            gen_ai.request.top_k = Empty,
            gen_ai.request.seed = Empty,
            gen_ai.request.frequency_penalty = Empty,
            gen_ai.request.presence_penalty = Empty,
            gen_ai.request.stream = Empty,
            gen_ai.output.type = Empty,
            gen_ai.response.model = Empty,
            gen_ai.response.id = Empty,
            gen_ai.response.time_to_first_chunk = Empty,
            gen_ai.usage.input_tokens = Empty,
            gen_ai.usage.output_tokens = Empty,
            gen_ai.usage.cache_read.input_tokens = Empty,
            gen_ai.usage.cache_creation.input_tokens = Empty,
            gen_ai.usage.cache_write.input_tokens = Empty,
            gen_ai.usage.reasoning.output_tokens = Empty,
            gen_ai.usage.cost = Empty,
            tollgate.cost.usd = Empty,
            tollgate.cost.input_usd = Empty,
            tollgate.cost.output_usd = Empty,
            tollgate.cost.cache_read_usd = Empty,
            tollgate.cost.cache_write_usd = Empty,
            error.type = Empty,
            server.address = Empty,
            server.port = Empty,
            tollgate.route = Empty,
            tollgate.deployment = Empty,
            tollgate.attempt = Empty,
            tollgate.fallback_index = Empty,
            tollgate.hedge = Empty,
            tollgate.attempts = Empty,
            tollgate.task = Empty,
            gen_ai.system_instructions = Empty,
            gen_ai.input.messages = Empty,
            gen_ai.tool.definitions = Empty,
            gen_ai.output.messages = Empty,
        );

        let mut recorder = Self {
            span,
            start: Instant::now(),
            last_chunk: None,
            request_model: request.model.clone(),
            provider: shared.provider.clone(),
            server_address: None,
            server_port: None,
            route: None,
            deployment: None,
            task: request.metadata.get("task").cloned(),
            response_model: None,
            metrics: MetricsDuty::Record,
            metric_attributes: Vec::new(),
            done: false,
            shared,
        };
        if let Some(provider) = &recorder.provider {
            recorder
                .span
                .record(semconv.provider_attribute(), provider.as_str());
        }
        recorder.record_request(request, semconv);

        match recorder.shared.mode {
            Mode::Request => {
                let seen = AttemptMetricsSeen::default();
                request.extensions.insert(seen.clone());
                recorder.metrics = MetricsDuty::UnlessAttemptsDid(seen);
            }
            Mode::Attempt => {
                if let Some(seen) = request.extensions.get::<AttemptMetricsSeen>() {
                    seen.0.store(true, Ordering::Relaxed);
                }
                if let Some(attempt) = request.extensions.get::<AttemptContext>() {
                    let span = &recorder.span;
                    span.record(attr::ROUTE, attempt.route.as_str());
                    span.record(attr::DEPLOYMENT, attempt.deployment.as_str());
                    span.record(attr::ATTEMPT, i64::from(attempt.attempt));
                    span.record(attr::FALLBACK_INDEX, i64::from(attempt.fallback_index));
                    span.record(attr::HEDGE, attempt.hedge);
                    recorder.route = Some(attempt.route.clone());
                    recorder.deployment = Some(attempt.deployment.clone());
                }
            }
        }
        recorder
    }

    fn record_request(&self, request: &ChatRequest, semconv: SemconvVersion) {
        let span = &self.span;
        if let Some(v) = request.max_tokens {
            span.record(attr::REQUEST_MAX_TOKENS, i64::from(v));
        }
        if let Some(v) = request.temperature {
            span.record(attr::REQUEST_TEMPERATURE, v);
        }
        if let Some(v) = request.top_p {
            span.record(attr::REQUEST_TOP_P, v);
        }
        if let Some(v) = request.top_k {
            // A double up to v1.41, an int in the latest conventions.
            match semconv {
                SemconvVersion::LatestExperimental => {
                    span.record(attr::REQUEST_TOP_K, i64::from(v))
                }
                _ => span.record(attr::REQUEST_TOP_K, f64::from(v)),
            };
        }
        if let Some(v) = request.seed {
            span.record(attr::REQUEST_SEED, v);
        }
        if let Some(v) = request.frequency_penalty {
            span.record(attr::REQUEST_FREQUENCY_PENALTY, v);
        }
        if let Some(v) = request.presence_penalty {
            span.record(attr::REQUEST_PRESENCE_PENALTY, v);
        }
        if request.stream {
            span.record(attr::REQUEST_STREAM, true);
        }
        if let Some(format) = &request.response_format {
            let output_type = match format {
                ResponseFormat::Text => "text",
                ResponseFormat::JsonObject | ResponseFormat::JsonSchema { .. } => "json",
            };
            span.record(attr::OUTPUT_TYPE, output_type);
        }
        if !request.stop.is_empty() {
            span.set_attribute(attr::REQUEST_STOP_SEQUENCES, string_array(&request.stop));
        }
        if let Some(task) = &self.task {
            span.record(attr::TASK, task.as_str());
        }
        if self.shared.capture_content {
            let content = content::request_content(request);
            span.record(attr::INPUT_MESSAGES, content.input_messages.as_str());
            if let Some(system) = &content.system_instructions {
                span.record(attr::SYSTEM_INSTRUCTIONS, system.as_str());
            }
            if let Some(tools) = &content.tool_definitions {
                span.record(attr::TOOL_DEFINITIONS, tools.as_str());
            }
        }
    }

    /// The span, to enter while the inner service runs.
    pub(crate) fn span(&self) -> &Span {
        &self.span
    }

    /// Whether output content is captured (streams then accumulate their events).
    pub(crate) fn captures_content(&self) -> bool {
        self.shared.capture_content
    }

    /// Records who answered: provider, server and, at request level, the routing outcome.
    pub(crate) fn on_meta(&mut self, meta: &ReplyMeta) {
        let span = &self.span;
        if !meta.provider.is_empty() && self.provider.as_deref() != Some(meta.provider.as_str()) {
            span.record(
                self.shared.semconv.provider_attribute(),
                meta.provider.as_str(),
            );
            self.provider = Some(meta.provider.clone());
        }
        if let Some(address) = &meta.server_address {
            span.record(attr::SERVER_ADDRESS, address.as_str());
            self.server_address = Some(address.clone());
        }
        if let Some(port) = meta.server_port {
            span.record(attr::SERVER_PORT, i64::from(port));
            self.server_port = Some(port);
        }
        if self.shared.mode == Mode::Request {
            if let Some(route) = &meta.route {
                span.record(attr::ROUTE, route.as_str());
                self.route = Some(route.clone());
            }
            if let Some(deployment) = &meta.deployment {
                span.record(attr::DEPLOYMENT, deployment.as_str());
                self.deployment = Some(deployment.clone());
            }
            span.record(attr::ATTEMPTS, meta.attempts() as i64);
            if !meta.failed_attempts.is_empty() {
                let deployments: Vec<StringValue> = meta
                    .failed_attempts
                    .iter()
                    .map(|a| StringValue::from(a.deployment.clone()))
                    .collect();
                let kinds: Vec<StringValue> = meta
                    .failed_attempts
                    .iter()
                    .map(|a| StringValue::from(a.error.kind().as_str()))
                    .collect();
                span.set_attribute(
                    attr::FAILED_DEPLOYMENTS,
                    Value::Array(Array::String(deployments)),
                );
                span.set_attribute(attr::FAILED_ERROR_TYPES, Value::Array(Array::String(kinds)));
                for attempt in &meta.failed_attempts {
                    tracing::event!(
                        target: "tollgate_telemetry",
                        parent: span,
                        tracing::Level::INFO,
                        tollgate.deployment = attempt.deployment.as_str(),
                        gen_ai.provider.name = attempt.provider.as_str(),
                        error.type = attempt.error.kind().as_str(),
                        tollgate.elapsed_s = attempt.elapsed.as_secs_f64(),
                        "tollgate.attempt.failed"
                    );
                }
            }
        }
        self.metric_attributes = self.base_metric_attributes();
    }

    /// A stream's first event arrived (the inner future resolved).
    pub(crate) fn on_first_chunk(&mut self) {
        let now = Instant::now();
        let ttfc = now.duration_since(self.start).as_secs_f64();
        self.span.record(attr::RESPONSE_TIME_TO_FIRST_CHUNK, ttfc);
        self.last_chunk = Some(now);
        if self.owns_metrics() {
            self.shared
                .instruments
                .time_to_first_chunk(ttfc, &self.metric_attributes);
        }
    }

    /// The stream's `Start` event.
    pub(crate) fn on_start(&mut self, id: &str, model: &str) {
        self.span.record(attr::RESPONSE_ID, id);
        self.span.record(attr::RESPONSE_MODEL, model);
        if self.response_model.as_deref() != Some(model) {
            self.response_model = Some(model.to_owned());
        }
    }

    /// An output chunk of a stream after the first chunk (no allocation).
    pub(crate) fn on_output_chunk(&mut self) {
        let now = Instant::now();
        if let Some(previous) = self.last_chunk.replace(now)
            && self.owns_metrics()
        {
            self.shared.instruments.time_per_output_chunk(
                now.duration_since(previous).as_secs_f64(),
                &self.metric_attributes,
            );
        }
    }

    /// A complete answer arrived.
    pub(crate) fn finish_complete(&mut self, response: &ChatResponse) {
        self.on_meta(&response.meta);
        self.on_start(&response.id, &response.model);
        if self.shared.capture_content {
            let out = content::output_messages(&response.message, &response.finish_reason);
            self.span.record(attr::OUTPUT_MESSAGES, out.as_str());
        }
        self.finish_ok(Some(&response.finish_reason), response.usage);
    }

    /// A successful end: finish reason, usage, cost, metrics; closes the span.
    pub(crate) fn finish_ok(&mut self, finish: Option<&FinishReason>, usage: Option<Usage>) {
        if self.done {
            return;
        }
        self.done = true;
        if let Some(finish) = finish {
            self.span.set_attribute(
                attr::RESPONSE_FINISH_REASONS,
                Value::Array(Array::String(vec![StringValue::from(
                    finish.as_str().to_owned(),
                )])),
            );
        }
        self.record_usage(usage);
        self.record_duration();
        self.close();
    }

    /// Records captured output content of a stream.
    pub(crate) fn record_output(&self, response: &ChatResponse) {
        let out = content::output_messages(&response.message, &response.finish_reason);
        self.span.record(attr::OUTPUT_MESSAGES, out.as_str());
    }

    /// A failed end; `usage` is what a broken or cancelled stream had reported so far.
    pub(crate) fn finish_error(&mut self, error: &Error, usage: Option<Usage>) {
        self.finish_failed(error.kind(), error.message(), error.provider(), usage);
    }

    /// The caller dropped the future or the stream before the end.
    pub(crate) fn finish_cancelled(&mut self, usage: Option<Usage>) {
        self.finish_failed(
            ErrorKind::Cancelled,
            "the caller dropped the reply before it ended",
            None,
            usage,
        );
    }

    fn finish_failed(
        &mut self,
        kind: ErrorKind,
        message: &str,
        provider: Option<&str>,
        usage: Option<Usage>,
    ) {
        if self.done {
            return;
        }
        self.done = true;
        if self.provider.is_none()
            && let Some(provider) = provider
        {
            self.span
                .record(self.shared.semconv.provider_attribute(), provider);
            self.provider = Some(provider.to_owned());
        }
        if self.metric_attributes.is_empty() {
            self.metric_attributes = self.base_metric_attributes();
        }
        self.span.record(attr::ERROR_TYPE, kind.as_str());
        self.span.set_status(Status::error(message.to_owned()));
        // Every metric of a failed call carries its error.type.
        self.metric_attributes
            .push(KeyValue::new(attr::ERROR_TYPE, kind.as_str()));
        self.record_usage(usage);
        self.record_duration();
        self.close();
    }

    fn record_usage(&mut self, usage: Option<Usage>) {
        let Some(usage) = usage else { return };
        let span = &self.span;
        span.record(attr::USAGE_INPUT_TOKENS, saturating_i64(usage.input_tokens));
        span.record(
            attr::USAGE_OUTPUT_TOKENS,
            saturating_i64(usage.output_tokens),
        );
        if usage.cache_read_tokens > 0 {
            span.record(
                attr::USAGE_CACHE_READ_INPUT_TOKENS,
                saturating_i64(usage.cache_read_tokens),
            );
        }
        if usage.cache_write_tokens > 0 {
            span.record(
                self.shared.semconv.cache_write_attribute(),
                saturating_i64(usage.cache_write_tokens),
            );
        }
        if usage.reasoning_tokens > 0 {
            span.record(
                attr::USAGE_REASONING_OUTPUT_TOKENS,
                saturating_i64(usage.reasoning_tokens),
            );
        }
        let cost = self.price().map(|price| usage.cost(&price));
        if let Some(cost) = &cost {
            span.record(attr::COST_USD, cost.total());
            span.record(attr::COST_INPUT_USD, cost.input);
            span.record(attr::COST_OUTPUT_USD, cost.output);
            span.record(attr::COST_CACHE_READ_USD, cost.cache_read);
            span.record(attr::COST_CACHE_WRITE_USD, cost.cache_write);
            span.record(attr::USAGE_COST, cost.total());
        }
        if self.owns_metrics() {
            let instruments = &self.shared.instruments;
            instruments.tokens(&usage, &mut self.metric_attributes);
            if let Some(cost) = &cost {
                instruments.cost(cost, &self.metric_attributes);
            }
        }
    }

    /// The price of the call: the requested model first (a deployment's model at attempt
    /// level), then the model the provider reported (behind a router the request names a
    /// route, not a model).
    fn price(&self) -> Option<tollgate_core::Price> {
        let prices = self.shared.prices.as_ref()?;
        let provider = self.provider.as_deref()?;
        prices
            .price(provider, &self.request_model)
            .or_else(|| prices.price(provider, self.response_model.as_deref()?))
    }

    fn record_duration(&self) {
        if !self.owns_metrics() {
            return;
        }
        let seconds = Instant::now().duration_since(self.start).as_secs_f64();
        self.shared
            .instruments
            .duration(seconds, &self.metric_attributes);
    }

    fn owns_metrics(&self) -> bool {
        match &self.metrics {
            MetricsDuty::Record => true,
            MetricsDuty::UnlessAttemptsDid(seen) => !seen.0.load(Ordering::Relaxed),
        }
    }

    fn base_metric_attributes(&self) -> Vec<KeyValue> {
        let semconv = self.shared.semconv;
        let mut attributes = Vec::with_capacity(10);
        attributes.push(KeyValue::new(attr::OPERATION_NAME, "chat"));
        attributes.push(KeyValue::new(
            semconv.provider_attribute(),
            self.provider.clone().unwrap_or_else(|| "_OTHER".to_owned()),
        ));
        attributes.push(KeyValue::new(
            attr::REQUEST_MODEL,
            self.request_model.clone(),
        ));
        if let Some(address) = &self.server_address {
            attributes.push(KeyValue::new(attr::SERVER_ADDRESS, address.clone()));
        }
        if let Some(port) = self.server_port {
            attributes.push(KeyValue::new(attr::SERVER_PORT, i64::from(port)));
        }
        if let Some(route) = &self.route {
            attributes.push(KeyValue::new(attr::ROUTE, route.clone()));
        }
        if let Some(deployment) = &self.deployment {
            attributes.push(KeyValue::new(attr::DEPLOYMENT, deployment.clone()));
        }
        if let Some(task) = &self.task {
            attributes.push(KeyValue::new(attr::TASK, task.clone()));
        }
        attributes
    }

    fn close(&mut self) {
        // Dropping the last handle closes the span now rather than when the recorder goes.
        self.span = Span::none();
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if !self.done {
            self.finish_cancelled(None);
        }
    }
}

fn saturating_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn string_array(values: &[String]) -> Value {
    Value::Array(Array::String(
        values
            .iter()
            .map(|v| StringValue::from(v.clone()))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_counts_saturate_instead_of_wrapping() {
        assert_eq!(saturating_i64(u64::MAX), i64::MAX);
        assert_eq!(saturating_i64(7), 7);
    }
}
