//! [`AppState`]: everything a running gateway serves from.
//!
//! This is the seam between configuration (`config` + `build`, which turn a TOML file or
//! the environment into an `AppState`) and the HTTP server (`server`, which only reads
//! one). The server holds it in a [`SharedState`]: every request takes one cheap
//! `Arc` snapshot at its start and keeps it to its end, so a reload (SIGHUP or
//! [`crate::server::ServerHandle::reload`]) swaps in a new state atomically while
//! in-flight requests and streams finish on the one they started with.
//!
//! # Building one by hand
//!
//! ```
//! use std::collections::BTreeMap;
//! use std::sync::Arc;
//! use tollgate_core::pricing::PriceTable;
//! use tollgate_gateway::state::{AppState, GatewayKey, KeyStore, Limits, RouteEntry};
//!
//! use tollgate_core::{Error, ErrorKind};
//!
//! // Any `ChatService`, usually a router wrapped in telemetry.
//! let service = tollgate_core::boxed(tower::service_fn(|_request| async {
//!     Err(Error::new(ErrorKind::Unsupported, "demo"))
//! }));
//! let mut routes = BTreeMap::new();
//! routes.insert("fast".to_owned(), RouteEntry::new(service, Vec::new()));
//! let state = AppState {
//!     routes,
//!     keys: KeyStore::new(vec![GatewayKey::from_plaintext("team-a", "tg-secret").routes(["fast"]).rpm(60)]),
//!     limits: Limits::default(),
//!     prices: Arc::new(PriceTable::default()),
//!     log_content: false,
//!     simulated: false,
//! };
//! assert!(state.is_ready());
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::sync::watch;
use tollgate_core::pricing::PriceSource;
use tollgate_core::{BoxChatService, Price};

pub use crate::auth::keys::{GatewayKey, KeyHash, KeyStore};

/// Everything a running gateway serves from; swapped atomically on reload.
pub struct AppState {
    /// Route name (what callers put in `model`) → the service that serves it and the
    /// facts about its deployments.
    pub routes: BTreeMap<String, RouteEntry>,
    /// Gateway API keys (stored as SHA-256 hashes). Empty: no authentication.
    pub keys: KeyStore,
    /// Request limits (body size, …).
    pub limits: Limits,
    /// Prices for the `x-tollgate-cost-usd` header, looked up by the (provider, model)
    /// that answered.
    pub prices: Arc<dyn PriceSource>,
    /// Whether request logs include message content (off by default: prompts may hold
    /// personal data).
    pub log_content: bool,
    /// Whether the routes are the built-in simulated provider (no real provider key was
    /// found); the gateway says so at startup and in `/v1/models`.
    pub simulated: bool,
}

impl AppState {
    /// A state with these routes, no keys, default limits and no prices.
    pub fn with_routes(routes: BTreeMap<String, RouteEntry>) -> Self {
        Self {
            routes,
            keys: KeyStore::default(),
            limits: Limits::default(),
            prices: Arc::new(tollgate_core::pricing::PriceTable::default()),
            log_content: false,
            simulated: false,
        }
    }

    /// Whether the gateway can serve anything (at least one route): `/readyz`.
    pub fn is_ready(&self) -> bool {
        !self.routes.is_empty()
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("routes", &self.routes.keys().collect::<Vec<_>>())
            .field("keys", &self.keys)
            .field("limits", &self.limits)
            .field("log_content", &self.log_content)
            .field("simulated", &self.simulated)
            .finish_non_exhaustive()
    }
}

/// One route: the (routed, instrumented) service that serves it and what it is made of.
#[derive(Clone)]
pub struct RouteEntry {
    /// The service every request for this route is sent to (typically a
    /// `tollgate_router::Router` wrapped in telemetry, boxed).
    pub service: BoxChatService,
    /// The deployments behind the route, for `/v1/models` and `tollgate models`.
    pub deployments: Vec<DeploymentInfo>,
}

impl RouteEntry {
    /// A route served by `service`, described by `deployments`.
    pub fn new(service: BoxChatService, deployments: Vec<DeploymentInfo>) -> Self {
        Self {
            service,
            deployments,
        }
    }

    /// The provider of the first deployment (the `owned_by` of `/v1/models`).
    pub fn owner(&self) -> &str {
        self.deployments
            .first()
            .map_or("tollgate", |d| d.provider.as_str())
    }
}

impl std::fmt::Debug for RouteEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteEntry")
            .field("deployments", &self.deployments)
            .finish_non_exhaustive()
    }
}

/// Facts about one deployment of a route, for listing (not for routing: the router has
/// its own copy).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeploymentInfo {
    /// The deployment's name (`x-tollgate-deployment` reports it).
    pub name: String,
    /// The provider, as `gen_ai.provider.name` spells it (`openai`, `anthropic`,
    /// `gcp.gemini`, `simulated`, …).
    pub provider: String,
    /// The provider's model id.
    pub model: String,
    /// Its price, if known.
    pub price: Option<Price>,
    /// Its context window in tokens, if known.
    pub context_window: Option<u64>,
    /// Its requests-per-minute limit, if configured.
    pub rpm: Option<u32>,
    /// Its tokens-per-minute limit, if configured.
    pub tpm: Option<u64>,
}

/// Limits the gateway enforces on every request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// The largest request body accepted, in bytes; above it the answer is 413.
    pub max_body_bytes: usize,
}

impl Limits {
    /// The default body limit: 16 MiB, enough for a few inline images.
    pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: Self::DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// Settings read once at startup (changing them needs a restart, not a reload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    /// Where to listen. `None`: `127.0.0.1:8080` when no gateway keys are configured
    /// (an open gateway stays on loopback), else `0.0.0.0:8080`.
    pub listen: Option<SocketAddr>,
    /// How long shutdown waits for in-flight requests and streams to finish.
    pub shutdown_grace: Duration,
}

impl ServerSettings {
    /// The default shutdown grace period: 30 seconds.
    pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

    /// The address to listen on, given whether gateway keys are configured.
    pub fn listen_addr(&self, has_keys: bool) -> SocketAddr {
        self.listen.unwrap_or_else(|| default_listen(has_keys))
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            listen: None,
            shutdown_grace: Self::DEFAULT_SHUTDOWN_GRACE,
        }
    }
}

/// `127.0.0.1:8080` without keys (loopback only), `0.0.0.0:8080` with keys.
pub fn default_listen(has_keys: bool) -> SocketAddr {
    let ip = if has_keys {
        std::net::Ipv4Addr::UNSPECIFIED
    } else {
        std::net::Ipv4Addr::LOCALHOST
    };
    SocketAddr::from((ip, 8080))
}

/// The current [`AppState`], swappable atomically: readers take an `Arc` snapshot
/// ([`SharedState::load`]) without locking; a reload [`SharedState::store`]s a new one.
///
/// It also carries the server's "abort in-flight requests" signal, raised when the
/// shutdown grace period is over.
#[derive(Clone)]
pub struct SharedState {
    inner: Arc<ArcSwap<AppState>>,
    abort: Arc<watch::Sender<bool>>,
}

impl SharedState {
    /// Wraps the first state.
    pub fn new(state: AppState) -> Self {
        Self {
            inner: Arc::new(ArcSwap::from_pointee(state)),
            abort: Arc::new(watch::channel(false).0),
        }
    }

    /// Tells every in-flight request and stream to stop now (the shutdown grace period
    /// is over): streams end with an error event, waiting calls answer 503.
    pub fn abort_in_flight(&self) {
        self.abort.send_replace(true);
    }

    /// Resolves once [`SharedState::abort_in_flight`] has been called.
    pub fn aborted(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.abort.subscribe();
        async move {
            // An error means the sender is gone: nobody can abort any more.
            if rx.wait_for(|abort| *abort).await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    /// A snapshot of the current state; keep it for the whole request.
    pub fn load(&self) -> Arc<AppState> {
        self.inner.load_full()
    }

    /// Replaces the state; requests already running keep the snapshot they took.
    pub fn store(&self, state: AppState) {
        self.inner.store(Arc::new(state));
    }
}

impl std::fmt::Debug for SharedState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SharedState").field(&*self.load()).finish()
    }
}
