//! The HTTP server: the axum app, and running it with graceful shutdown and reload.
//!
//! # The stack, in order
//!
//! 1. [`dispatch::Dispatch`] hands `POST /v1/chat/completions` (also
//!    `/chat/completions`) straight to its handler, and everything else to axum's router:
//!    the same chat paths, `GET /v1/models` (also `/models`), `GET /healthz`,
//!    `GET /readyz`; any other path is a 404 and any other method a 405, both in
//!    OpenAI's error JSON.
//! 2. Each handler takes one `Arc` snapshot of the [`AppState`] from the
//!    [`SharedState`] (lock-free) and uses it to the end of the request — for a stream,
//!    to the end of the stream. No request extensions are read or written.
//! 3. [`chat::chat_completions`]: auth, body limit, decode, route, call, encode.
//!
//! # Operations
//!
//! [`Gateway::bind`] starts serving and returns a [`RunningGateway`] whose
//! [`ServerHandle`] reloads ([`ServerHandle::reload`]) and shuts down
//! ([`ServerHandle::shutdown`]); [`signals::install`] wires SIGHUP to the first and
//! SIGTERM / Ctrl-C to the second. Shutdown stops accepting connections at once, lets
//! in-flight requests and streams finish for up to the grace period, then drops what is
//! left. A reload builds a new state with the reloader; if that fails the error is
//! logged and returned and the old state keeps serving; if it succeeds new requests use
//! the new state while in-flight ones finish on the old one.

pub mod body;
pub mod chat;
pub mod dispatch;
pub mod log;
pub mod signals;
pub mod sse;

use std::future::IntoFuture;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use http::{HeaderValue, StatusCode, header};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::{self, ApiError};
use crate::auth;
use crate::state::{AppState, ServerSettings, SharedState};

/// The axum app serving `shared`.
pub fn app(shared: SharedState) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(chat::chat_completions))
        .route("/chat/completions", post(chat::chat_completions))
        .route("/v1/models", get(models))
        .route("/models", get(models))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(shared)
}

/// `GET /v1/models`: the routes the caller may use.
async fn models(State(shared): State<SharedState>, request: Request) -> Response {
    let state = shared.load();
    let caller = match auth::authenticate(&state.keys, request.headers()) {
        Ok(caller) => caller,
        Err(error) => return error.into_response(),
    };
    let body = api::models::encode(&state, |route| caller.is_none_or(|k| k.may_use(route)));
    json_response(StatusCode::OK, body)
}

/// `GET /healthz`: the process is alive.
async fn healthz() -> Response {
    json_response(StatusCode::OK, br#"{"status":"ok"}"#.to_vec())
}

/// `GET /readyz`: a config is loaded and at least one route can serve (200), else 503.
async fn readyz(State(shared): State<SharedState>) -> Response {
    let state = shared.load();
    if state.is_ready() {
        let body = format!(
            r#"{{"status":"ready","routes":{},"simulated":{}}}"#,
            state.routes.len(),
            state.simulated
        );
        json_response(StatusCode::OK, body.into_bytes())
    } else {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            "not_ready",
            "The gateway has no route it can serve.",
        )
        .into_response()
    }
}

async fn not_found(request: Request) -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        "unknown_url",
        format!(
            "Unknown request URL: {} {}. The gateway serves POST /v1/chat/completions, GET /v1/models, GET /healthz and GET /readyz.",
            request.method(),
            request.uri().path()
        ),
    )
    .into_response()
}

async fn method_not_allowed(request: Request) -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "invalid_request_error",
        "method_not_allowed",
        format!(
            "Method {} is not allowed on {}.",
            request.method(),
            request.uri().path()
        ),
    )
    .into_response()
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Builds a fresh [`AppState`] for a reload (typically: read the config file again and
/// build from it). An `Err` is a message for the log; the old state keeps serving.
pub type Reloader = Arc<dyn Fn() -> Result<AppState, String> + Send + Sync>;

/// Why a reload did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The gateway was started without a reloader (e.g. from the environment, with no
    /// config file to read again).
    #[error("this gateway has nothing to reload from (it was not started from a config file)")]
    NoReloader,
    /// The new config was rejected; the old one keeps serving.
    #[error("the new configuration was rejected, the old one keeps serving: {0}")]
    Rejected(String),
}

/// How long connections get to close after in-flight requests were aborted.
const ABORT_DRAIN: std::time::Duration = std::time::Duration::from_secs(1);

/// A gateway ready to bind: a state, server settings and an optional reloader.
pub struct Gateway {
    state: AppState,
    settings: ServerSettings,
    reloader: Option<Reloader>,
}

impl Gateway {
    /// A gateway serving `state` with default settings and no reloader.
    pub fn new(state: AppState) -> Self {
        Self {
            state,
            settings: ServerSettings::default(),
            reloader: None,
        }
    }

    /// Sets the server settings (listen address, shutdown grace period).
    pub fn settings(mut self, settings: ServerSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Sets how a reload builds the new state.
    pub fn reloader(mut self, reloader: Reloader) -> Self {
        self.reloader = Some(reloader);
        self
    }

    /// The address [`Gateway::bind`] uses by default: the configured one, else loopback
    /// when there are no keys, else all interfaces (port 8080).
    pub fn listen_addr(&self) -> SocketAddr {
        self.settings.listen_addr(!self.state.keys.is_empty())
    }

    /// Binds `addr` (port 0 picks a free port) and starts serving in a task.
    ///
    /// # Errors
    ///
    /// The bind error.
    pub async fn bind(self, addr: SocketAddr) -> io::Result<RunningGateway> {
        let listener = TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        let shared = SharedState::new(self.state);
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let handle = ServerHandle {
            shared: shared.clone(),
            reloader: self.reloader,
            shutdown: Arc::new(shutdown_tx),
            local_addr,
        };
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let mut stop_accepting = shutdown_rx.clone();
        let service = dispatch::Dispatch::new(shared.clone());
        let serve = axum::serve(listener, axum::ServiceExt::into_make_service(service))
            .with_graceful_shutdown(async move {
                let _ = stop_accepting.wait_for(|stop| *stop).await;
            })
            .into_future();
        let grace = self.settings.shutdown_grace;
        let mut grace_start = shutdown_rx;
        let task = tokio::spawn(async move {
            let mut serve = std::pin::pin!(serve);
            tokio::select! {
                result = &mut serve => return result,
                () = async move {
                    let _ = grace_start.wait_for(|stop| *stop).await;
                    tokio::time::sleep(grace).await;
                } => {}
            }
            tracing::warn!(target: "tollgate::server", grace_secs = grace.as_secs_f64(),
                "shutdown grace period over: ending the requests still in flight");
            // Streams end with an error event and waiting calls answer 503, so every
            // connection finishes its response and closes; a connection that still does
            // not close (a client that stopped reading) is left behind after a second.
            shared.abort_in_flight();
            match tokio::time::timeout(ABORT_DRAIN, &mut serve).await {
                Ok(result) => result,
                Err(_) => Ok(()),
            }
        });
        Ok(RunningGateway { handle, task })
    }
}

/// A gateway serving in a task.
pub struct RunningGateway {
    handle: ServerHandle,
    task: JoinHandle<io::Result<()>>,
}

impl RunningGateway {
    /// The handle that reloads and shuts down this gateway.
    pub fn handle(&self) -> &ServerHandle {
        &self.handle
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.handle.local_addr
    }

    /// Waits until the gateway has shut down (after [`ServerHandle::shutdown`] and the
    /// drain).
    ///
    /// # Errors
    ///
    /// An accept-loop I/O error, or the serving task's failure.
    pub async fn wait(self) -> io::Result<()> {
        match self.task.await {
            Ok(result) => result,
            Err(join) => Err(io::Error::other(join)),
        }
    }
}

/// Reloads and shuts down a running gateway; cheap to clone.
#[derive(Clone)]
pub struct ServerHandle {
    shared: SharedState,
    reloader: Option<Reloader>,
    shutdown: Arc<watch::Sender<bool>>,
    local_addr: SocketAddr,
}

impl ServerHandle {
    /// Builds a new state with the reloader and swaps it in; in-flight requests finish on
    /// the old one. Per-key rate windows carry over for keys that did not change.
    ///
    /// # Errors
    ///
    /// [`ReloadError::NoReloader`], or [`ReloadError::Rejected`] when the new config is
    /// invalid; either way the old state keeps serving.
    pub fn reload(&self) -> Result<(), ReloadError> {
        let Some(reloader) = &self.reloader else {
            tracing::warn!(target: "tollgate::server", "reload asked, but there is no config file to reload");
            return Err(ReloadError::NoReloader);
        };
        match reloader() {
            Ok(state) => {
                self.replace(state);
                Ok(())
            }
            Err(message) => {
                tracing::error!(target: "tollgate::server", error = %message,
                    "reload rejected: the old configuration keeps serving");
                Err(ReloadError::Rejected(message))
            }
        }
    }

    /// Swaps in `state` (as a successful reload does).
    pub fn replace(&self, mut state: AppState) {
        let old = self.shared.load();
        state.keys.inherit_limits(&old.keys);
        let routes = state.routes.len();
        self.shared.store(state);
        tracing::info!(target: "tollgate::server", routes, "configuration reloaded");
    }

    /// Stops accepting connections and drains in-flight requests (up to the grace
    /// period); [`RunningGateway::wait`] returns when done.
    pub fn shutdown(&self) {
        tracing::info!(target: "tollgate::server", "shutting down: draining in-flight requests");
        self.shutdown.send_replace(true);
    }

    /// Whether shutdown has begun.
    pub fn is_shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// The state new requests are served from.
    pub fn state(&self) -> Arc<AppState> {
        self.shared.load()
    }

    /// The address the gateway listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }
}

impl std::fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerHandle")
            .field("local_addr", &self.local_addr)
            .field("reloadable", &self.reloader.is_some())
            .finish_non_exhaustive()
    }
}
