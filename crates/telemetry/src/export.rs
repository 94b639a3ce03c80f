//! Export over OTLP: [`init`] sets up `tracing` and OpenTelemetry pipelines for spans and
//! metrics, and returns a [`TelemetryGuard`] that flushes them on shutdown.
//!
//! Configuration follows the OpenTelemetry environment variables, as `opentelemetry-otlp`
//! reads them: `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_PROTOCOL`
//! (`grpc` | `http/protobuf`), `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_EXPORTER_OTLP_TIMEOUT`,
//! their `…_TRACES_…` and `…_METRICS_…` forms, `OTEL_SERVICE_NAME`,
//! `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_METRIC_EXPORT_INTERVAL` and `OTEL_BSP_*`. What
//! [`InitConfig`] sets explicitly wins over the environment.

use std::fmt;
use std::time::Duration;

use opentelemetry::metrics::{Meter, MeterProvider as _};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{MetricExporter, SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{SdkTracerProvider, Tracer};
use tracing_opentelemetry::OpenTelemetryLayer;
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::layer::scope;

/// How OTLP data travels to the collector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// OTLP over gRPC (default port 4317). Needs a Tokio runtime when the exporter is built.
    Grpc,
    /// OTLP over HTTP with protobuf bodies (default port 4318; `/v1/traces`, `/v1/metrics`).
    HttpProtobuf,
}

impl Protocol {
    /// Parses the value of an `OTEL_EXPORTER_OTLP_*PROTOCOL` variable.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for `http/json` (not built in) or an unknown value.
    pub fn parse(value: &str) -> Result<Self, Error> {
        match value.trim() {
            "grpc" => Ok(Self::Grpc),
            "http/protobuf" => Ok(Self::HttpProtobuf),
            other => Err(Error::Config(format!(
                "unsupported OTLP protocol {other:?}: use \"grpc\" or \"http/protobuf\""
            ))),
        }
    }

    /// The protocol for one signal: the signal's variable, then
    /// `OTEL_EXPORTER_OTLP_PROTOCOL`, then `http/protobuf` (the specification's default).
    fn from_env(signal_var: &str) -> Result<Self, Error> {
        let value = std::env::var(signal_var)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .or_else(|| {
                std::env::var("OTEL_EXPORTER_OTLP_PROTOCOL")
                    .ok()
                    .filter(|v| !v.trim().is_empty())
            });
        value.map_or(Ok(Self::HttpProtobuf), |v| Self::parse(&v))
    }

    fn to_otlp(self) -> opentelemetry_otlp::Protocol {
        match self {
            Self::Grpc => opentelemetry_otlp::Protocol::Grpc,
            Self::HttpProtobuf => opentelemetry_otlp::Protocol::HttpBinary,
        }
    }
}

/// What [`init`] and [`build`] set up. Everything left unset comes from the standard
/// `OTEL_*` environment variables.
///
/// ```
/// use std::time::Duration;
/// use tollgate_telemetry::{InitConfig, Protocol};
///
/// let config = InitConfig::new("my-gateway")
///     .protocol(Protocol::Grpc)
///     .endpoint("http://127.0.0.1:4317")
///     .metric_interval(Duration::from_secs(10));
/// # let _ = config;
/// ```
#[derive(Debug, Clone)]
pub struct InitConfig {
    service_name: String,
    protocol: Option<Protocol>,
    endpoint: Option<String>,
    traces: bool,
    metrics: bool,
    metric_interval: Option<Duration>,
    timeout: Option<Duration>,
    filter: Option<String>,
    stderr: bool,
    stderr_format: StderrFormat,
}

/// How [`init`] prints to stderr (with [`InitConfig::stderr`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StderrFormat {
    /// Human-readable lines, coloured when stderr is a terminal.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl Default for InitConfig {
    fn default() -> Self {
        Self::new("tollgate")
    }
}

impl InitConfig {
    /// A configuration whose `service.name` defaults to `service_name` (used only when
    /// neither `OTEL_SERVICE_NAME` nor `service.name` in `OTEL_RESOURCE_ATTRIBUTES` is set).
    pub fn new(service_name: impl Into<String>) -> Self {
        Self {
            service_name: service_name.into(),
            protocol: None,
            endpoint: None,
            traces: true,
            metrics: true,
            metric_interval: None,
            timeout: None,
            filter: None,
            stderr: false,
            stderr_format: StderrFormat::Text,
        }
    }

    /// Uses this protocol for both signals instead of `OTEL_EXPORTER_OTLP_*PROTOCOL`.
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = Some(protocol);
        self
    }

    /// Sends both signals to this collector instead of `OTEL_EXPORTER_OTLP_*ENDPOINT`:
    /// a base URL such as `http://127.0.0.1:4318`, to which HTTP adds `/v1/traces` and
    /// `/v1/metrics` (as it does to `OTEL_EXPORTER_OTLP_ENDPOINT`).
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Whether spans are exported (default: yes).
    pub fn traces(mut self, enabled: bool) -> Self {
        self.traces = enabled;
        self
    }

    /// Whether metrics are exported (default: yes).
    pub fn metrics(mut self, enabled: bool) -> Self {
        self.metrics = enabled;
        self
    }

    /// How often metrics are exported instead of `OTEL_METRIC_EXPORT_INTERVAL` (60 s).
    pub fn metric_interval(mut self, interval: Duration) -> Self {
        self.metric_interval = Some(interval);
        self
    }

    /// The export timeout instead of `OTEL_EXPORTER_OTLP_TIMEOUT` (10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// For [`init`]: the `tracing` filter directives of what is printed to stderr
    /// (default: `RUST_LOG`, else `info`). What is exported does not depend on it: every
    /// span and event at `info` or above, so quieter logs never cost traces.
    pub fn filter(mut self, directives: impl Into<String>) -> Self {
        self.filter = Some(directives.into());
        self
    }

    /// For [`init`]: also print spans' events to stderr with `tracing-subscriber`'s
    /// formatter (default: no).
    pub fn stderr(mut self, enabled: bool) -> Self {
        self.stderr = enabled;
        self
    }

    /// For [`init`]: the format of what is printed to stderr (default: text).
    pub fn stderr_format(mut self, format: StderrFormat) -> Self {
        self.stderr_format = format;
        self
    }

    fn resource(&self) -> Resource {
        let named_by_env = std::env::var("OTEL_SERVICE_NAME").is_ok_and(|v| !v.is_empty())
            || std::env::var("OTEL_RESOURCE_ATTRIBUTES").is_ok_and(|v| {
                v.split(',')
                    .any(|kv| kv.trim().starts_with("service.name="))
            });
        let builder = Resource::builder();
        if named_by_env {
            builder.build()
        } else {
            builder.with_service_name(self.service_name.clone()).build()
        }
    }

    /// The endpoint for one signal, when set in code.
    fn signal_endpoint(&self, protocol: Protocol, path: &str) -> Option<String> {
        let base = self.endpoint.as_deref()?;
        Some(match protocol {
            Protocol::Grpc => base.to_owned(),
            Protocol::HttpProtobuf => format!("{}{path}", base.trim_end_matches('/')),
        })
    }

    fn signal_protocol(&self, signal_var: &str) -> Result<Protocol, Error> {
        match self.protocol {
            Some(protocol) => Ok(protocol),
            None => Protocol::from_env(signal_var),
        }
    }
}

/// Why telemetry could not be set up or shut down.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting is invalid.
    #[error("invalid telemetry configuration: {0}")]
    Config(String),
    /// The OTLP exporter could not be built.
    #[error("could not build the OTLP {signal} exporter: {source}")]
    Exporter {
        /// `traces` or `metrics`.
        signal: &'static str,
        /// The exporter's error.
        source: opentelemetry_otlp::ExporterBuildError,
    },
    /// OTLP over gRPC was asked for outside a Tokio runtime.
    #[error(
        "OTLP over gRPC needs a Tokio runtime: call init() inside one (e.g. in #[tokio::main]) \
         or use OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf"
    )]
    NoRuntime,
    /// A global `tracing` subscriber was already installed.
    #[error("a global tracing subscriber is already installed: {0}")]
    Subscriber(String),
    /// Flushing or shutting down an exporter failed.
    #[error("telemetry {signal} shutdown failed: {message}")]
    Shutdown {
        /// `traces` or `metrics`.
        signal: &'static str,
        /// What went wrong.
        message: String,
    },
}

/// The span and metric pipelines; flushes and shuts them down on [`shutdown`](Self::shutdown)
/// or when dropped. Keep it alive for as long as telemetry should be exported (in `main`).
pub struct TelemetryGuard {
    tracer_provider: Option<SdkTracerProvider>,
    meter_provider: Option<SdkMeterProvider>,
    shut_down: bool,
}

impl TelemetryGuard {
    /// A tracer of the span pipeline, if spans are exported.
    pub fn tracer(&self) -> Option<Tracer> {
        self.tracer_provider
            .as_ref()
            .map(|provider| provider.tracer_with_scope(scope()))
    }

    /// A `tracing` layer that sends spans to the span pipeline, for composing a subscriber
    /// yourself (what [`init`] installs globally). `None` if spans are not exported.
    pub fn tracing_layer<S>(&self) -> Option<OpenTelemetryLayer<S, Tracer>>
    where
        S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
    {
        self.tracer()
            .map(|tracer| tracing_opentelemetry::layer().with_tracer(tracer))
    }

    /// A meter of the metric pipeline, for [`TelemetryLayer::meter`](crate::TelemetryLayer::meter).
    /// `None` if metrics are not exported.
    pub fn meter(&self) -> Option<Meter> {
        self.meter_provider
            .as_ref()
            .map(|provider| provider.meter_with_scope(scope()))
    }

    /// The span pipeline's provider.
    pub fn tracer_provider(&self) -> Option<&SdkTracerProvider> {
        self.tracer_provider.as_ref()
    }

    /// The metric pipeline's provider.
    pub fn meter_provider(&self) -> Option<&SdkMeterProvider> {
        self.meter_provider.as_ref()
    }

    /// Exports everything recorded so far, without shutting down. Blocks until done.
    ///
    /// # Errors
    ///
    /// [`Error::Shutdown`] if an export failed.
    pub fn force_flush(&self) -> Result<(), Error> {
        if let Some(provider) = &self.tracer_provider {
            provider.force_flush().map_err(|e| Error::Shutdown {
                signal: "traces",
                message: e.to_string(),
            })?;
        }
        if let Some(provider) = &self.meter_provider {
            provider.force_flush().map_err(|e| Error::Shutdown {
                signal: "metrics",
                message: e.to_string(),
            })?;
        }
        Ok(())
    }

    /// Exports everything still buffered and stops the pipelines. Blocks until done (call
    /// it from `spawn_blocking` or after the runtime's work, not on a busy async thread).
    ///
    /// # Errors
    ///
    /// [`Error::Shutdown`] if the final export failed.
    pub fn shutdown(mut self) -> Result<(), Error> {
        self.shutdown_inner()
    }

    fn shutdown_inner(&mut self) -> Result<(), Error> {
        if self.shut_down {
            return Ok(());
        }
        self.shut_down = true;
        let traces = self.tracer_provider.as_ref().map(|p| {
            p.shutdown().map_err(|e| Error::Shutdown {
                signal: "traces",
                message: e.to_string(),
            })
        });
        let metrics = self.meter_provider.as_ref().map(|p| {
            p.shutdown().map_err(|e| Error::Shutdown {
                signal: "metrics",
                message: e.to_string(),
            })
        });
        traces.unwrap_or(Ok(())).and(metrics.unwrap_or(Ok(())))
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        // Errors have nowhere to go here; `shutdown()` reports them.
        let _ = self.shutdown_inner();
    }
}

impl fmt::Debug for TelemetryGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelemetryGuard")
            .field("traces", &self.tracer_provider.is_some())
            .field("metrics", &self.meter_provider.is_some())
            .field("shut_down", &self.shut_down)
            .finish()
    }
}

/// Builds the OTLP span and metric pipelines without installing anything globally: use
/// [`TelemetryGuard::tracing_layer`] and [`TelemetryGuard::meter`] to wire them up.
///
/// # Errors
///
/// [`Error::Config`] for an unsupported protocol, [`Error::NoRuntime`] for gRPC outside a
/// Tokio runtime, [`Error::Exporter`] if an exporter cannot be built (e.g. a malformed
/// endpoint).
pub fn build(config: &InitConfig) -> Result<TelemetryGuard, Error> {
    let resource = config.resource();
    let tracer_provider = if config.traces {
        let protocol = config.signal_protocol("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")?;
        let exporter = span_exporter(config, protocol).map_err(|source| Error::Exporter {
            signal: "traces",
            source,
        })?;
        Some(
            SdkTracerProvider::builder()
                .with_resource(resource.clone())
                .with_batch_exporter(exporter)
                .build(),
        )
    } else {
        None
    };
    let meter_provider = if config.metrics {
        let protocol = config.signal_protocol("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL")?;
        let exporter = metric_exporter(config, protocol).map_err(|source| Error::Exporter {
            signal: "metrics",
            source,
        })?;
        let mut reader = PeriodicReader::builder(exporter);
        if let Some(interval) = config.metric_interval {
            reader = reader.with_interval(interval);
        }
        Some(
            SdkMeterProvider::builder()
                .with_resource(resource)
                .with_reader(reader.build())
                .build(),
        )
    } else {
        None
    };
    Ok(TelemetryGuard {
        tracer_provider,
        meter_provider,
        shut_down: false,
    })
}

fn check_runtime(protocol: Protocol) -> Result<(), opentelemetry_otlp::ExporterBuildError> {
    if protocol == Protocol::Grpc && tokio::runtime::Handle::try_current().is_err() {
        return Err(
            opentelemetry_otlp::ExporterBuildError::InvalidConfiguration(
                Error::NoRuntime.to_string(),
            ),
        );
    }
    Ok(())
}

fn span_exporter(
    config: &InitConfig,
    protocol: Protocol,
) -> Result<SpanExporter, opentelemetry_otlp::ExporterBuildError> {
    check_runtime(protocol)?;
    let endpoint = config.signal_endpoint(protocol, "/v1/traces");
    match protocol {
        Protocol::Grpc => export_settings(
            SpanExporter::builder().with_tonic(),
            config,
            protocol,
            endpoint,
        )
        .build(),
        Protocol::HttpProtobuf => export_settings(
            SpanExporter::builder().with_http(),
            config,
            protocol,
            endpoint,
        )
        .build(),
    }
}

fn metric_exporter(
    config: &InitConfig,
    protocol: Protocol,
) -> Result<MetricExporter, opentelemetry_otlp::ExporterBuildError> {
    check_runtime(protocol)?;
    let endpoint = config.signal_endpoint(protocol, "/v1/metrics");
    match protocol {
        Protocol::Grpc => export_settings(
            MetricExporter::builder().with_tonic(),
            config,
            protocol,
            endpoint,
        )
        .build(),
        Protocol::HttpProtobuf => export_settings(
            MetricExporter::builder().with_http(),
            config,
            protocol,
            endpoint,
        )
        .build(),
    }
}

/// The settings every exporter shares, whatever its signal and transport.
fn export_settings<B: WithExportConfig>(
    builder: B,
    config: &InitConfig,
    protocol: Protocol,
    endpoint: Option<String>,
) -> B {
    let mut builder = builder.with_protocol(protocol.to_otlp());
    if let Some(endpoint) = endpoint {
        builder = builder.with_endpoint(endpoint);
    }
    if let Some(timeout) = config.timeout {
        builder = builder.with_timeout(timeout);
    }
    builder
}

/// Crates whose own `tracing` output must not become spans: they run inside the export
/// itself, and exporting their spans would feed the exporter its own traffic.
const EXPORT_PLUMBING: [&str; 8] = [
    "opentelemetry",
    "tonic",
    "h2",
    "hyper",
    "hyper_util",
    "reqwest",
    "tower",
    "rustls",
];

/// Whether `target` belongs to the export's own plumbing ([`EXPORT_PLUMBING`]).
fn is_export_plumbing(target: &str) -> bool {
    EXPORT_PLUMBING.iter().any(|prefix| {
        target
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with("::") || rest.starts_with('_'))
    })
}

/// Builds the pipelines ([`build`]), makes them OpenTelemetry's global providers (with
/// W3C trace-context propagation), and installs a global `tracing` subscriber that
/// bridges spans to OpenTelemetry (and, with [`InitConfig::stderr`], prints them).
///
/// Call it once, early in `main`, inside the Tokio runtime, and keep the guard:
///
/// ```no_run
/// # async fn demo() -> Result<(), tollgate_telemetry::Error> {
/// let telemetry = tollgate_telemetry::init(tollgate_telemetry::InitConfig::new("my-app"))?;
/// // … build TelemetryLayer::request(prices) after this, so it uses the global meter …
/// tokio::task::spawn_blocking(move || telemetry.shutdown()).await.ok();
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// Those of [`build`], and [`Error::Subscriber`] if a global subscriber is already set.
pub fn init(config: InitConfig) -> Result<TelemetryGuard, Error> {
    let guard = build(&config)?;
    let printed = match &config.filter {
        Some(directives) => tracing_subscriber::EnvFilter::try_new(directives)
            .map_err(|e| Error::Config(format!("invalid tracing filter {directives:?}: {e}")))?,
        None => tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
    };
    // Each layer filters for itself: the log level chooses what is printed, and the
    // export takes every span at `info` or above whatever the log level (a gateway logging
    // at `warn` still traces its requests).
    let otel = guard.tracing_layer().map(|layer| {
        layer.with_filter(tracing_subscriber::filter::filter_fn(|metadata| {
            *metadata.level() <= tracing::Level::INFO && !is_export_plumbing(metadata.target())
        }))
    });
    let fmt = config.stderr.then(|| {
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
        match config.stderr_format {
            StderrFormat::Text => layer.with_filter(printed).boxed(),
            StderrFormat::Json => layer.json().with_filter(printed).boxed(),
        }
    });
    tracing_subscriber::registry()
        .with(otel)
        .with(fmt)
        .try_init()
        .map_err(|e| Error::Subscriber(e.to_string()))?;
    if let Some(provider) = &guard.tracer_provider {
        opentelemetry::global::set_tracer_provider(provider.clone());
    }
    if let Some(provider) = &guard.meter_provider {
        opentelemetry::global::set_meter_provider(provider.clone());
    }
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    Ok(guard)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_parse_as_the_otlp_variables_spell_them() {
        assert_eq!(Protocol::parse("grpc").unwrap(), Protocol::Grpc);
        assert_eq!(
            Protocol::parse(" http/protobuf ").unwrap(),
            Protocol::HttpProtobuf
        );
        assert!(matches!(
            Protocol::parse("http/json"),
            Err(Error::Config(_))
        ));
    }

    #[test]
    fn an_endpoint_set_in_code_gets_the_signal_path_over_http_only() {
        let config = InitConfig::new("t").endpoint("http://127.0.0.1:4318/");
        assert_eq!(
            config
                .signal_endpoint(Protocol::HttpProtobuf, "/v1/traces")
                .as_deref(),
            Some("http://127.0.0.1:4318/v1/traces")
        );
        assert_eq!(
            config
                .signal_endpoint(Protocol::Grpc, "/v1/traces")
                .as_deref(),
            Some("http://127.0.0.1:4318/")
        );
    }

    #[test]
    fn grpc_outside_a_runtime_is_a_clear_error() {
        let config = InitConfig::new("t").protocol(Protocol::Grpc).metrics(false);
        let err = build(&config).unwrap_err();
        assert!(err.to_string().contains("Tokio runtime"), "{err}");
    }
}
