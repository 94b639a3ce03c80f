//! The fake server: listener, shared script and recordings, and the request handler.

mod conn;

use std::collections::VecDeque;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use http::StatusCode;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::reply::{Reply, ReplyBody};
use crate::stream_body::{self, Script};
use crate::validate::{self, Context};
use crate::{Flavor, RecordedRequest, sse_split, wire_error};

/// Largest request body the fake reads (a request above it is answered 413).
const MAX_BODY: usize = 64 * 1024 * 1024;

/// A fake provider server on `127.0.0.1:<ephemeral port>`.
///
/// It runs on the runtime that started it (`tokio::spawn`), so under `tokio::time::pause()`
/// every scripted delay is virtual. The handle is cheap to clone; the server stops, and its
/// open connections are closed, when the last clone is dropped.
///
/// Requests are checked the way the real API checks them (path, auth, JSON, key fields; see
/// [`Flavor`]); a rejected request gets that provider's error answer, is recorded, and does
/// not consume a scripted reply. Accepted requests get the scripted replies in FIFO order,
/// then the default reply (initially a 500 saying nothing was scripted).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use serde_json::json;
/// use tollgate_testkit::{FakeServer, Reply};
///
/// let server = FakeServer::openai().await;
/// server.push(Reply::json(json!({"id": "chatcmpl-1", "object": "chat.completion"})));
///
/// let response = reqwest::Client::new()
///     .post(format!("{}/chat/completions", server.base_url()))
///     .bearer_auth("sk-test")
///     .json(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}))
///     .send()
///     .await?;
/// assert_eq!(response.status(), 200);
/// assert_eq!(response.json::<serde_json::Value>().await?["id"], "chatcmpl-1");
///
/// let request = server.last_request().expect("one request was recorded");
/// assert_eq!(request.path, "/v1/chat/completions");
/// assert_eq!(request.json()["model"], "gpt-4o-mini");
///
/// // Nothing left in the script: the default reply is a 500 in OpenAI's error shape.
/// let response = reqwest::Client::new()
///     .post(format!("{}/chat/completions", server.base_url()))
///     .bearer_auth("sk-test")
///     .json(&json!({"model": "gpt-4o-mini", "messages": []}))
///     .send()
///     .await?;
/// assert_eq!(response.status(), 500);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct FakeServer {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    addr: SocketAddr,
    /// Dropped with the last handle; the server task and every connection watch for that.
    _shutdown: watch::Sender<()>,
}

/// State shared by the handle and the request handler.
struct Shared {
    flavor: Flavor,
    api_key: Option<String>,
    script: Mutex<VecDeque<Reply>>,
    default: Mutex<Reply>,
    requests: Mutex<Vec<RecordedRequest>>,
    cancelled: watch::Sender<usize>,
    next_request: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Configures a [`FakeServer`] before it starts.
#[derive(Clone)]
pub struct FakeServerBuilder {
    flavor: Flavor,
    api_key: Option<String>,
}

impl fmt::Debug for FakeServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeServerBuilder")
            .field("flavor", &self.flavor)
            .field("api_key", &self.api_key.as_ref().map(|_| "*****"))
            .finish()
    }
}

impl FakeServerBuilder {
    /// Accept only this key (any other gets the flavor's authentication error). Without it,
    /// any non-empty key is accepted.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Binds `127.0.0.1:0` and starts serving on the current tokio runtime.
    ///
    /// # Panics
    ///
    /// When the loopback port cannot be bound, or outside a tokio runtime;
    /// [`FakeServerBuilder::try_start`] returns the bind error instead.
    #[allow(clippy::expect_used)] // Test infrastructure; documented, with a fallible twin.
    pub async fn start(self) -> FakeServer {
        self.try_start()
            .await
            .expect("tollgate-testkit: cannot bind 127.0.0.1:0 for a fake server")
    }

    /// Like [`FakeServerBuilder::start`], returning the bind error.
    pub async fn try_start(self) -> std::io::Result<FakeServer> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let (shutdown, shutdown_rx) = watch::channel(());
        let shared = Arc::new(Shared {
            flavor: self.flavor,
            api_key: self.api_key,
            script: Mutex::new(VecDeque::new()),
            default: Mutex::new(wire_error::no_scripted_reply(self.flavor)),
            requests: Mutex::new(Vec::new()),
            cancelled: watch::Sender::new(0),
            next_request: AtomicU64::new(1),
        });
        let router = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let listener = conn::ShutdownListener::new(listener, shutdown_rx.clone());
        let mut stop = shutdown_rx;
        tokio::spawn(async move {
            tokio::select! {
                _ = axum::serve(listener, router).into_future() => {}
                _ = stop.changed() => {}
            }
        });
        Ok(FakeServer {
            inner: Arc::new(Inner {
                shared,
                addr,
                _shutdown: shutdown,
            }),
        })
    }
}

impl FakeServer {
    /// Starts a server of `flavor` that accepts any non-empty key.
    ///
    /// # Panics
    ///
    /// See [`FakeServerBuilder::start`].
    pub async fn start(flavor: Flavor) -> FakeServer {
        FakeServer::builder(flavor).start().await
    }

    /// Starts an OpenAI Chat Completions server.
    pub async fn openai() -> FakeServer {
        FakeServer::start(Flavor::OpenAi).await
    }

    /// Starts an Anthropic Messages server.
    pub async fn anthropic() -> FakeServer {
        FakeServer::start(Flavor::Anthropic).await
    }

    /// Starts a Gemini API server.
    pub async fn gemini() -> FakeServer {
        FakeServer::start(Flavor::Gemini).await
    }

    /// A builder, to require a specific key.
    pub fn builder(flavor: Flavor) -> FakeServerBuilder {
        FakeServerBuilder {
            flavor,
            api_key: None,
        }
    }

    /// The flavor this server speaks.
    pub fn flavor(&self) -> Flavor {
        self.inner.shared.flavor
    }

    /// The base URL a provider client is configured with:
    /// OpenAI `http://127.0.0.1:P/v1` (clients POST `{base}/chat/completions`);
    /// Anthropic `http://127.0.0.1:P` (`{base}/v1/messages`);
    /// Gemini `http://127.0.0.1:P` (`{base}/v1beta/models/{model}:generateContent`).
    pub fn base_url(&self) -> String {
        match self.flavor() {
            Flavor::OpenAi => format!("http://{}/v1", self.inner.addr),
            Flavor::Anthropic | Flavor::Gemini => format!("http://{}", self.inner.addr),
        }
    }

    /// The socket address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// Appends a reply to the script; each accepted request takes the oldest one.
    pub fn push(&self, reply: Reply) {
        lock(&self.inner.shared.script).push_back(reply);
    }

    /// Sets the reply served (repeatedly) once the script is empty.
    pub fn set_default(&self, reply: Reply) {
        *lock(&self.inner.shared.default) = reply;
    }

    /// Every request received so far, accepted or rejected, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.inner.shared.requests).clone()
    }

    /// How many requests were received.
    pub fn request_count(&self) -> usize {
        lock(&self.inner.shared.requests).len()
    }

    /// The most recent request, if any.
    pub fn last_request(&self) -> Option<RecordedRequest> {
        lock(&self.inner.shared.requests).last().cloned()
    }

    /// How many scripted replies are still waiting to be served.
    pub fn pending_replies(&self) -> usize {
        lock(&self.inner.shared.script).len()
    }

    /// How many SSE bodies were dropped (the client went away) after their headers were sent
    /// and before the scripted body ended. A scripted disconnect does not count.
    pub fn cancelled_streams(&self) -> usize {
        *self.inner.shared.cancelled.borrow()
    }

    /// Resolves once [`FakeServer::cancelled_streams`] is at least `n` (no polling).
    pub async fn wait_for_cancelled_streams(&self, n: usize) {
        let mut rx = self.inner.shared.cancelled.subscribe();
        // The sender lives in `Shared`, which `self` keeps alive, so this cannot fail.
        let _ = rx.wait_for(|count| *count >= n).await;
    }
}

impl fmt::Debug for FakeServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeServer")
            .field("flavor", &self.flavor())
            .field("addr", &self.inner.addr)
            .field(
                "api_key",
                &self.inner.shared.api_key.as_ref().map(|_| "*****"),
            )
            .finish_non_exhaustive()
    }
}

/// Every request lands here: record, check, then answer from the script.
async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let request_number = shared.next_request.fetch_add(1, Ordering::Relaxed);
    let request_id = format!("req_011Testkit{request_number:012}");
    let path = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(body) => body,
        Err(_) => {
            return plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                "tollgate-testkit: request body unreadable or too large",
            );
        }
    };
    let recorded = RecordedRequest {
        method: parts.method.as_str().to_owned(),
        path,
        headers: parts.headers,
        body,
    };
    let cx = Context {
        api_key: shared.api_key.as_deref(),
        request_id: &request_id,
    };
    let verdict = validate::check(shared.flavor, &recorded, &cx);
    lock(&shared.requests).push(recorded);
    let reply = match verdict {
        Err(rejection) => *rejection,
        Ok(()) => {
            let scripted = lock(&shared.script).pop_front();
            scripted.unwrap_or_else(|| lock(&shared.default).clone())
        }
    };
    serve(reply, &shared).await
}

/// Plays one reply: delay, then headers and body as scripted.
async fn serve(reply: Reply, shared: &Shared) -> Response {
    if let Some(problem) = reply.problem {
        return plain(StatusCode::INTERNAL_SERVER_ERROR, &problem);
    }
    let Ok(status) = StatusCode::from_u16(reply.status) else {
        let message = format!("tollgate-testkit: invalid scripted status {}", reply.status);
        return plain(StatusCode::INTERNAL_SERVER_ERROR, &message);
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let body = match reply.body {
        ReplyBody::Hang => return std::future::pending().await,
        ReplyBody::Full(bytes) => Body::from(bytes),
        ReplyBody::Sse(bytes) => stream_body::sse_body(
            sse_split::split_events(&bytes),
            Script {
                first_chunk_after: reply.first_chunk_after,
                chunk_interval: reply.chunk_interval,
                disconnect_after: reply.disconnect_after,
            },
            shared.cancelled.clone(),
        ),
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = reply.headers;
    response
}

fn plain(status: StatusCode, message: &str) -> Response {
    let mut response = Response::new(Body::from(message.to_owned()));
    *response.status_mut() = status;
    response
}
