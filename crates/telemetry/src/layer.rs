//! [`TelemetryLayer`]: what to record and where, for one position in a stack.

use std::fmt;
use std::sync::Arc;

use opentelemetry::InstrumentationScope;
use opentelemetry::metrics::Meter;
use tollgate_core::pricing::PriceSource;
use tower::Layer;

use crate::content::ContentCapture;
use crate::metrics::Instruments;
use crate::semconv::SemconvVersion;
use crate::service::Telemetry;

/// Where in a stack a [`TelemetryLayer`] sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Around a whole routed stack (or a single provider): one span per logical request,
    /// with the routing outcome from [`ReplyMeta`](tollgate_core::ReplyMeta).
    Request,
    /// Around each deployment beneath a router: one span per provider attempt, with the
    /// [`AttemptContext`](tollgate_core::AttemptContext) the router put in the request.
    Attempt,
}

/// A tower [`Layer`] that records OpenTelemetry GenAI spans and metrics, with cost, for
/// every call through the [`ChatService`](tollgate_core::ChatService) it wraps.
///
/// Use [`TelemetryLayer::request`] around a router (or any service) for one span per
/// logical request, and [`TelemetryLayer::attempt`] around each deployment's service for
/// one child span per provider attempt. With both in place, metrics are recorded once,
/// by the attempt layers (each provider call is one GenAI operation).
///
/// Spans are `tracing` spans (target `tollgate_telemetry`, level INFO): they reach
/// OpenTelemetry through `tracing-opentelemetry` (see [`init`](crate::init)) and any
/// other `tracing` subscriber as they are. Metrics go to the [`Meter`] given with
/// [`TelemetryLayer::meter`], by default the global meter provider's.
///
/// ```
/// use std::sync::Arc;
/// use tollgate_core::pricing::PriceTable;
/// use tollgate_core::Price;
/// use tollgate_telemetry::{ContentCapture, TelemetryLayer};
///
/// let mut prices = PriceTable::default();
/// prices.insert("openai", "gpt-4o-mini", Price::per_million(0.15, 0.60));
/// let layer = TelemetryLayer::request(Arc::new(prices))
///     .capture_content(ContentCapture::Off);
/// # let _ = layer;
/// ```
#[derive(Clone)]
pub struct TelemetryLayer {
    mode: Mode,
    semconv: SemconvVersion,
    capture: ContentCapture,
    provider: Option<String>,
    prices: Option<Arc<dyn PriceSource>>,
    meter: Meter,
    shared: Arc<Shared>,
}

/// What every service of one layer shares.
pub(crate) struct Shared {
    pub(crate) mode: Mode,
    pub(crate) semconv: SemconvVersion,
    pub(crate) capture_content: bool,
    pub(crate) provider: Option<String>,
    pub(crate) prices: Option<Arc<dyn PriceSource>>,
    pub(crate) instruments: Instruments,
}

impl TelemetryLayer {
    /// A layer recording one span per logical request, pricing calls with `prices`.
    pub fn request(prices: Arc<dyn PriceSource>) -> Self {
        Self::with_mode(Mode::Request, Some(prices))
    }

    /// A layer recording one span per provider attempt, to wrap each deployment's service
    /// beneath a router.
    pub fn attempt(prices: Arc<dyn PriceSource>) -> Self {
        Self::with_mode(Mode::Attempt, Some(prices))
    }

    /// A layer in `mode` with no prices: no cost is recorded (never a made-up 0).
    pub fn unpriced(mode: Mode) -> Self {
        Self::with_mode(mode, None)
    }

    fn with_mode(mode: Mode, prices: Option<Arc<dyn PriceSource>>) -> Self {
        let meter = default_meter();
        let semconv = SemconvVersion::from_env();
        let capture = ContentCapture::FromEnv;
        let shared = Arc::new(Shared {
            mode,
            semconv,
            capture_content: capture.enabled(),
            provider: None,
            prices: prices.clone(),
            instruments: Instruments::new(&meter, semconv),
        });
        Self {
            mode,
            semconv,
            capture,
            provider: None,
            prices,
            meter,
            shared,
        }
    }

    /// Records metrics with this meter instead of the global meter provider's.
    pub fn meter(mut self, meter: Meter) -> Self {
        self.meter = meter;
        self.rebuild()
    }

    /// Follows this version of the GenAI conventions (default:
    /// [`SemconvVersion::from_env`]).
    pub fn semconv(mut self, version: SemconvVersion) -> Self {
        self.semconv = version;
        self.rebuild()
    }

    /// Whether prompts and answers are recorded (default: off unless
    /// `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` opts in).
    pub fn capture_content(mut self, capture: ContentCapture) -> Self {
        self.capture = capture;
        self.rebuild()
    }

    /// The `gen_ai.provider.name` to record from the start of each span (so samplers see
    /// it) and when a reply does not name its provider, e.g. for an attempt layer
    /// wrapped around one provider's client.
    pub fn provider(mut self, provider: impl Into<String>) -> Self {
        self.provider = Some(provider.into());
        self.rebuild()
    }

    /// The mode this layer records in.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    fn rebuild(mut self) -> Self {
        self.shared = Arc::new(Shared {
            mode: self.mode,
            semconv: self.semconv,
            capture_content: self.capture.enabled(),
            provider: self.provider.clone(),
            prices: self.prices.clone(),
            instruments: Instruments::new(&self.meter, self.semconv),
        });
        self
    }
}

fn default_meter() -> Meter {
    opentelemetry::global::meter_with_scope(scope())
}

/// The instrumentation scope of Tollgate's spans and metrics.
pub(crate) fn scope() -> InstrumentationScope {
    InstrumentationScope::builder("tollgate-telemetry")
        .with_version(env!("CARGO_PKG_VERSION"))
        .with_schema_url("https://opentelemetry.io/schemas/1.41.0")
        .build()
}

impl<S> Layer<S> for TelemetryLayer {
    type Service = Telemetry<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Telemetry::new(inner, self.shared.clone())
    }
}

impl fmt::Debug for TelemetryLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelemetryLayer")
            .field("mode", &self.mode)
            .field("semconv", &self.semconv)
            .field("capture", &self.capture)
            .field("provider", &self.provider)
            .field("priced", &self.prices.is_some())
            .finish_non_exhaustive()
    }
}
