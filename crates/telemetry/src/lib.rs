//! OpenTelemetry spans and metrics for LLM calls following the GenAI semantic
//! conventions (v1.41), with what every call cost.
//!
//! - [`TelemetryLayer`] is a tower layer over any
//!   [`ChatService`](tollgate_core::ChatService): [`TelemetryLayer::request`] records one
//!   span per logical request, [`TelemetryLayer::attempt`] one child span per provider
//!   attempt beneath a router. Prices come from a
//!   [`PriceSource`](tollgate_core::pricing::PriceSource); an unknown price records no
//!   cost at all.
//! - [`init`] exports spans and metrics over OTLP (gRPC or HTTP/protobuf), configured
//!   from the standard `OTEL_*` variables, and returns a [`TelemetryGuard`] that flushes
//!   on shutdown.
//!
//! Spans are emitted through `tracing` and bridged to OpenTelemetry by
//! `tracing-opentelemetry`, so they nest under an application's own `tracing` spans and
//! appear to any `tracing` subscriber. Every span, attribute and metric is listed in
//! `docs/telemetry.md`.

mod content;
mod export;
mod future;
mod layer;
mod metrics;
mod record;
pub mod semconv;
mod service;
mod stream;

pub use content::{CAPTURE_ENV, ContentCapture};
pub use export::{Error, InitConfig, Protocol, StderrFormat, TelemetryGuard, build, init};
pub use future::ResponseFuture;
pub use layer::{Mode, TelemetryLayer};
pub use semconv::SemconvVersion;
pub use service::Telemetry;
