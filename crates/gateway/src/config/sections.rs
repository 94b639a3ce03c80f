//! The small sections of the config: `[server]`, `[logging]`, `[telemetry]`, `[[keys]]`.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tollgate_router::config::duration;

use super::interpolate::{EnvString, SecretString};
use super::size;

/// `[server]`: where and how the gateway listens. Read once at startup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// The socket address to listen on (`"0.0.0.0:8080"`). Interpolated (`"0.0.0.0:${PORT:-8080}"`).
    /// Left out: `127.0.0.1:8080` without gateway keys (an open gateway stays on
    /// loopback), `0.0.0.0:8080` with keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listen: Option<EnvString>,
    /// The largest request body accepted (`"16MiB"`, `"512KiB"`, `"1MB"`, or bytes as an
    /// integer); larger requests get 413. Default 16 MiB.
    #[serde(default = "default_body_limit", with = "size")]
    pub body_limit: u64,
    /// How long shutdown waits for in-flight requests and streams (default `"30s"`).
    #[serde(default = "default_grace", with = "duration")]
    pub grace_period: Duration,
    /// Whether every deployment is also a route of its own name (default `true`), so
    /// callers can ask for one deployment directly. A route of the same name wins.
    #[serde(default = "yes")]
    pub deployment_routes: bool,
}

fn default_body_limit() -> u64 {
    crate::state::Limits::DEFAULT_MAX_BODY_BYTES as u64
}

fn default_grace() -> Duration {
    crate::state::ServerSettings::DEFAULT_SHUTDOWN_GRACE
}

fn yes() -> bool {
    true
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: None,
            body_limit: default_body_limit(),
            grace_period: default_grace(),
            deployment_routes: true,
        }
    }
}

/// How request logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// `[logging]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoggingConfig {
    /// A `tracing` filter (`"info"`, `"tollgate=debug,info"`); `RUST_LOG` wins when set.
    #[serde(default = "default_level")]
    pub level: String,
    /// `"text"` (default) or `"json"`.
    #[serde(default)]
    pub format: LogFormat,
    /// Whether request logs include prompts and answers (default `false`: they may hold
    /// personal data). Opt in deliberately.
    #[serde(default)]
    pub log_content: bool,
}

fn default_level() -> String {
    "info".to_owned()
}

impl Default for LoggingConfig {
    fn default() -> Self {
        Self {
            level: default_level(),
            format: LogFormat::Text,
            log_content: false,
        }
    }
}

/// How OTLP data travels to the collector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OtlpProtocol {
    /// OTLP over gRPC (port 4317).
    #[serde(rename = "grpc")]
    Grpc,
    /// OTLP over HTTP/protobuf (port 4318).
    #[serde(rename = "http/protobuf")]
    HttpProtobuf,
}

/// `[telemetry]`: OpenTelemetry spans and metrics over OTLP. Present: on (unless
/// `enabled = false`); settings left out come from the standard `OTEL_*` variables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Turns telemetry off without deleting the section.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The collector's base URL (`"http://127.0.0.1:4318"`); default
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`. Interpolated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<EnvString>,
    /// `"grpc"` or `"http/protobuf"`; default `OTEL_EXPORTER_OTLP_PROTOCOL`, else
    /// `"http/protobuf"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<OtlpProtocol>,
    /// `service.name` unless `OTEL_SERVICE_NAME` says otherwise (default `"tollgate"`).
    #[serde(default = "default_service_name")]
    pub service_name: String,
    /// Whether prompts and answers are recorded on spans (default `false`).
    #[serde(default)]
    pub capture_content: bool,
    /// Export spans (default `true`).
    #[serde(default = "yes")]
    pub traces: bool,
    /// Export metrics (default `true`).
    #[serde(default = "yes")]
    pub metrics: bool,
    /// How often metrics are exported (default `OTEL_METRIC_EXPORT_INTERVAL`, else 60s).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "duration::option"
    )]
    pub metric_interval: Option<Duration>,
    /// Spans per provider attempt beneath each route, as children of the request span
    /// (default `true`).
    #[serde(default = "yes")]
    pub attempt_spans: bool,
}

fn default_service_name() -> String {
    "tollgate".to_owned()
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            endpoint: None,
            protocol: None,
            service_name: default_service_name(),
            capture_content: false,
            traces: true,
            metrics: true,
            metric_interval: None,
            attempt_spans: true,
        }
    }
}

/// `[[keys]]`: one gateway API key. Give `sha256` (the hex SHA-256 of the key, e.g.
/// `printf %s "$KEY" | sha256sum`) or `value` (the key itself, normally `"${ENV}"`; it is
/// hashed at load and never kept in plain text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// A name for logs and errors (`team-a`); never the key.
    pub name: String,
    /// The key's SHA-256 as 64 hex digits (an optional `sha256:` prefix is accepted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The key in plain text, interpolated (`"${TOLLGATE_KEY_TEAM_A}"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<SecretString>,
    /// The routes it may use (left out: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routes: Option<Vec<String>>,
    /// Its requests-per-minute limit (left out: unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpm: Option<u32>,
}
