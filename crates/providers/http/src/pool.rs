//! The connection pool [`HttpClient`](crate::HttpClient) sends through, built on hyper's
//! own HTTP/1 and HTTP/2 connections.
//!
//! # Why the pool is ours
//!
//! The client used to be hyper-util's legacy pooled client. Profiling the gateway
//! (callgrind) showed that client's own bookkeeping costing about 8,000 of the ~99,000
//! instructions of a proxied request: a pool checkout hashing a `(Scheme, Authority)` key
//! with SipHash and keeping waiter lists, the pooled handle's drop and the pool's `put`,
//! a `format!` of the `host` header, re-built URIs and per-request extension
//! envelopes — and, for every HTTP/1 response whose body was not read yet, a spawned
//! task and a oneshot channel whose only job was to put the connection back once it
//! was ready again. A provider client talks to one to three endpoints, sends one request
//! at a time per HTTP/1 connection and never needs waiters, so this pool does much less:
//!
//! - endpoints are a `Vec` of `(scheme, authority)` scanned linearly, never hashed, each
//!   with its `host` header computed once;
//! - one short lock checks a connection out, one puts it back; nothing else is shared;
//! - an HTTP/1 connection goes back from the response body itself, when it is read to
//!   its end or dropped; no task, no channel. A connection is only used again once hyper
//!   says it is ready for a request, which it does only when the previous response was
//!   read whole: a body dropped before its end has hyper read what is already buffered
//!   and close the connection if that is not the end. Provider stream decoders stop at
//!   their end marker (`data: [DONE]`, `message_stop`) and never ask for the end of the
//!   body after it: their connections are reused all the same;
//! - an HTTP/2 connection is one per endpoint, its sender cloned for each request;
//! - a connection's own task (hyper's connection future) is spawned once per connection;
//!   idle connections are closed by one sweeping task per busy period, which holds only
//!   a [`Weak`] to the pool, sleeps until the oldest idle connection expires, and ends
//!   when nothing is left to sweep;
//! - a request hyper hands back unsent (a pooled connection the server had just closed)
//!   is sent again on another connection; one that may have reached the server never is.

use std::error::Error as StdError;
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, Waker, ready};
use std::time::Duration;

use bytes::Bytes;
use http::header::{HOST, HeaderValue};
use http::uri::{Authority, PathAndQuery, Scheme, Uri};
use http_body_util::Full;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::client::conn::{http1, http2};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::Connection;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::runtime::Handle;
use tokio::time::Instant;
use tower::ServiceExt;

use crate::connect::ProxyConnector;

type BoxError = Box<dyn StdError + Send + Sync>;
type Connector = HttpsConnector<ProxyConnector>;
type Http1 = http1::SendRequest<Full<Bytes>>;
type Http2 = http2::SendRequest<Full<Bytes>>;

/// The longest idle timeout honoured; a longer one is as good as "never", and this
/// bound keeps deadline arithmetic from overflowing.
const MAX_IDLE_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// A response whose body has not been read yet.
pub type Response = http::Response<ResponseBody>;

/// Connections to every endpoint a client talks to; cheap to clone (one `Arc`).
#[derive(Clone)]
pub(crate) struct Pool {
    shared: Arc<Shared>,
}

struct Shared {
    connector: Connector,
    /// Time allowed for a whole connection: TCP, a proxy's `CONNECT` tunnel and TLS.
    connect_timeout: Duration,
    idle_timeout: Duration,
    max_idle: usize,
    /// Whether connections are kept at all: not with `pool_max_idle_per_host = 0` (as
    /// hyper-util's client) or a zero idle timeout (which expired every idle connection
    /// of hyper-util's client at once).
    keep: bool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Never shrinks, so an index into it stays valid: a client talks to the few
    /// endpoints its configuration names.
    endpoints: Vec<Endpoint>,
    /// Whether a sweeping task is running (or about to).
    sweeping: bool,
    /// Tells HTTP/2 connections apart, to forget the one that failed.
    next_id: u64,
}

struct Endpoint {
    scheme: Scheme,
    authority: Authority,
    /// The `host` header of HTTP/1 requests: the host, and the port unless it is the
    /// scheme's default.
    host: Option<HeaderValue>,
    /// Idle HTTP/1 connections, the most recently returned last (checked out first).
    idle: Vec<Idle>,
    /// The HTTP/2 connection requests share.
    http2: Option<SharedHttp2>,
}

struct Idle {
    tx: Http1,
    proxied: bool,
    since: Instant,
}

struct SharedHttp2 {
    tx: Http2,
    id: u64,
    last_used: Instant,
}

/// What a checkout found.
enum Checkout {
    /// A connection ready for a request.
    Ready(Conn),
    /// None ready, but some whose last exchange is still finishing.
    Finishing,
    /// Nothing to use.
    Empty,
}

/// A connection a request can go out on.
enum Conn {
    Http1 {
        tx: Http1,
        /// Whether it leads to a forwarding proxy (requests then go in absolute form).
        proxied: bool,
    },
    Http2 {
        tx: Http2,
        id: u64,
    },
}

impl Pool {
    /// A pool connecting with `connector`, each connection (TCP, proxy tunnel and TLS)
    /// within `connect_timeout`; idle connections are closed after `idle_timeout`, and
    /// at most `max_idle` are kept per endpoint.
    pub(crate) fn new(
        connector: Connector,
        connect_timeout: Duration,
        idle_timeout: Duration,
        max_idle: usize,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                connector,
                connect_timeout,
                idle_timeout: idle_timeout.min(MAX_IDLE_TIMEOUT),
                max_idle,
                keep: max_idle > 0 && !idle_timeout.is_zero(),
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// Sends `request` (whose URI must be absolute) on a pooled connection or a new one,
    /// and returns the response head; the body hands its connection back when read.
    ///
    /// HTTP/1 requests get a `host` header unless they have one, and go in origin form
    /// (`/path?query`), or in absolute form to a forwarding proxy. A request hyper hands
    /// back unsent from a pooled connection is sent again on another one.
    pub(crate) async fn send(
        &self,
        mut request: http::Request<Full<Bytes>>,
    ) -> Result<Response, SendError> {
        let uri = std::mem::take(request.uri_mut());
        let (Some(scheme), Some(authority)) = (uri.scheme(), uri.authority()) else {
            return Err(SendError::new(SendErrorKind::NotAbsolute, None));
        };
        let shared = &self.shared;
        let mut index = None;
        let mut host = None;
        loop {
            let mut checked_out = shared.checkout(&mut index, scheme, authority, &mut host);
            if let Checkout::Finishing = checked_out {
                // A connection whose response was just read (or dropped) is ready, or
                // closed, once its task has run: give it that turn rather than open
                // another connection.
                tokio::task::yield_now().await;
                checked_out = shared.checkout(&mut index, scheme, authority, &mut host);
            }
            let Some(at) = index else {
                // `checkout` always finds or adds the endpoint.
                return Err(SendError::new(SendErrorKind::NotAbsolute, None));
            };
            let (conn, reused) = match checked_out {
                Checkout::Ready(conn) => (conn, true),
                Checkout::Finishing | Checkout::Empty => (
                    Box::pin(shared.connect(at, scheme, authority)).await?,
                    false,
                ),
            };
            match conn {
                Conn::Http1 { mut tx, proxied } => {
                    if let Some(host) = &host
                        && !request.headers().contains_key(HOST)
                    {
                        request.headers_mut().insert(HOST, host.clone());
                    }
                    *request.uri_mut() = if proxied {
                        uri.clone()
                    } else {
                        origin_form(&uri)
                    };
                    match tx.try_send_request(request).await {
                        Ok(response) => {
                            return Ok(Shared::http1_response(shared, response, tx, at, proxied));
                        }
                        Err(mut error) => match error.take_message() {
                            // Never written: the connection closed first. Try another.
                            Some(unsent) if reused => request = unsent,
                            _ => return Err(SendError::request(error.into_error())),
                        },
                    }
                }
                Conn::Http2 { mut tx, id } => {
                    *request.uri_mut() = uri.clone();
                    match tx.try_send_request(request).await {
                        Ok(response) => {
                            return Ok(response.map(|inner| ResponseBody {
                                inner,
                                give_back: None,
                            }));
                        }
                        Err(mut error) => match error.take_message() {
                            Some(unsent) if reused => {
                                shared.forget_http2(at, id);
                                request = unsent;
                            }
                            _ => return Err(SendError::request(error.into_error())),
                        },
                    }
                }
            }
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; should it ever, the state is still whole.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn expired(&self, since: Instant, now: Instant) -> bool {
        now.saturating_duration_since(since) >= self.idle_timeout
    }

    /// Under one lock: finds (or adds) the endpoint of `scheme://authority`, caching its
    /// index in `index` and its `host` header in `host`, and takes a connection ready for
    /// a request, if one is pooled. Closed and expired connections met on the way are
    /// dropped; an HTTP/1 connection not ready yet (its last exchange still finishing)
    /// is left for later.
    fn checkout(
        &self,
        index: &mut Option<usize>,
        scheme: &Scheme,
        authority: &Authority,
        host: &mut Option<HeaderValue>,
    ) -> Checkout {
        // Declared before the lock guard, so that they are dropped after it is released.
        let mut dead_http1 = Vec::new();
        let mut dead_http2 = None;
        let mut state = self.lock();
        let at = match *index {
            Some(at) => at,
            None => {
                let at = state.index_of(scheme, authority);
                *index = Some(at);
                at
            }
        };
        let Some(endpoint) = state.endpoints.get_mut(at) else {
            return Checkout::Empty;
        };
        if host.is_none() {
            host.clone_from(&endpoint.host);
        }
        if !self.keep {
            return Checkout::Empty;
        }
        let mut finishing = false;
        if endpoint.http2.is_some() || !endpoint.idle.is_empty() {
            let now = Instant::now();
            if let Some(shared) = &mut endpoint.http2 {
                if !shared.tx.is_closed() && !self.expired(shared.last_used, now) {
                    shared.last_used = now;
                    return Checkout::Ready(Conn::Http2 {
                        tx: shared.tx.clone(),
                        id: shared.id,
                    });
                }
                dead_http2 = endpoint.http2.take();
            }
            let mut cx = Context::from_waker(Waker::noop());
            for _ in 0..endpoint.idle.len() {
                let Some(mut idle) = endpoint.idle.pop() else {
                    break;
                };
                if self.expired(idle.since, now) {
                    dead_http1.push(idle);
                    continue;
                }
                match idle.tx.poll_ready(&mut cx) {
                    Poll::Ready(Ok(())) => {
                        return Checkout::Ready(Conn::Http1 {
                            tx: idle.tx,
                            proxied: idle.proxied,
                        });
                    }
                    Poll::Ready(Err(_closed)) => dead_http1.push(idle),
                    // Not closed, but hyper has not asked for the next request yet: keep
                    // it, behind the others.
                    Poll::Pending => {
                        finishing = true;
                        endpoint.idle.insert(0, idle);
                    }
                }
            }
        }
        drop(state);
        drop(dead_http2);
        if finishing {
            Checkout::Finishing
        } else {
            Checkout::Empty
        }
    }

    /// Opens a connection to `scheme://authority` and spawns its task; an HTTP/2 one is
    /// shared from then on.
    async fn connect(
        self: &Arc<Self>,
        index: usize,
        scheme: &Scheme,
        authority: &Authority,
    ) -> Result<Conn, SendError> {
        // Checked first: connecting needs the runtime's reactor, and would panic without.
        let runtime = Handle::try_current().map_err(SendError::request)?;
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(scheme.clone());
        parts.authority = Some(authority.clone());
        parts.path_and_query = Some(PathAndQuery::from_static("/"));
        let destination = Uri::from_parts(parts).map_err(SendError::connect)?;
        // The TCP connector times its own part; a proxy that never answers `CONNECT`, or
        // a server that never finishes the TLS handshake, is only caught here.
        let connecting = self.connector.clone().oneshot(destination);
        let io = tokio::time::timeout(self.connect_timeout, connecting)
            .await
            .map_err(|_| {
                SendError::connect(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "connection not established within the connect timeout",
                ))
            })?
            .map_err(SendError::connect)?;
        let connected = io.connected();
        if connected.is_negotiated_h2() {
            let (tx, conn) = http2::Builder::new(TokioExecutor::new())
                .timer(TokioTimer::new())
                .handshake(io)
                .await
                .map_err(SendError::request)?;
            drop(runtime.spawn(conn));
            let id = self.share_http2(index, &tx);
            Ok(Conn::Http2 { tx, id })
        } else {
            let (tx, conn) = http1::Builder::new()
                .handshake(io)
                .await
                .map_err(SendError::request)?;
            drop(runtime.spawn(conn));
            Ok(Conn::Http1 {
                tx,
                proxied: connected.is_proxied(),
            })
        }
    }

    /// Makes a new HTTP/2 connection the endpoint's shared one, unless a live one is
    /// already there (then this one serves its request and closes); returns its id.
    fn share_http2(self: &Arc<Self>, index: usize, tx: &Http2) -> u64 {
        let mut replaced = None;
        let mut state = self.lock();
        let id = state.next_id;
        state.next_id = id.wrapping_add(1);
        if !self.keep {
            return id;
        }
        let runtime = match self.start_sweeping(&mut state) {
            Ok(runtime) => runtime,
            Err(NoRuntime) => return id,
        };
        if let Some(endpoint) = state.endpoints.get_mut(index)
            && endpoint.http2.as_ref().is_none_or(|h2| h2.tx.is_closed())
        {
            replaced = endpoint.http2.replace(SharedHttp2 {
                tx: tx.clone(),
                id,
                last_used: Instant::now(),
            });
        }
        drop(state);
        drop(replaced);
        self.spawn_sweeper(runtime);
        id
    }

    /// Forgets the shared HTTP/2 connection `id` of an endpoint (it refused a request).
    fn forget_http2(&self, index: usize, id: u64) {
        let mut state = self.lock();
        let forgotten = state
            .endpoints
            .get_mut(index)
            .filter(|endpoint| endpoint.http2.as_ref().is_some_and(|h2| h2.id == id))
            .and_then(|endpoint| endpoint.http2.take());
        drop(state);
        drop(forgotten);
    }

    /// Wraps an HTTP/1 response so that its body hands `tx` back once read to the end
    /// (or dropped); a response without a body hands it back at once.
    fn http1_response(
        this: &Arc<Self>,
        response: http::Response<Incoming>,
        tx: Http1,
        index: usize,
        proxied: bool,
    ) -> Response {
        response.map(|inner| {
            if inner.is_end_stream() {
                this.put(index, tx, proxied);
                return ResponseBody {
                    inner,
                    give_back: None,
                };
            }
            ResponseBody {
                inner,
                give_back: Some(GiveBack {
                    pool: Arc::clone(this),
                    index,
                    tx,
                    proxied,
                }),
            }
        })
    }

    /// Returns an HTTP/1 connection whose response was read (or dropped) to its
    /// endpoint's idle list, unless it is closed or the list is full (then it is
    /// dropped, which closes it). It is used again only once hyper is ready for a request
    /// on it: see [`Shared::checkout`].
    fn put(self: &Arc<Self>, index: usize, tx: Http1, proxied: bool) {
        if !self.keep || tx.is_closed() {
            return;
        }
        let now = Instant::now();
        // `tx` is a parameter: on an early return it is dropped after the lock guard.
        let mut state = self.lock();
        if state
            .endpoints
            .get(index)
            .is_none_or(|endpoint| endpoint.idle.len() >= self.max_idle)
        {
            return;
        }
        let Ok(runtime) = self.start_sweeping(&mut state) else {
            // No runtime to close it on time: do not keep it.
            return;
        };
        if let Some(endpoint) = state.endpoints.get_mut(index) {
            endpoint.idle.push(Idle {
                tx,
                proxied,
                since: now,
            });
        }
        drop(state);
        self.spawn_sweeper(runtime);
    }

    /// Marks the sweeper running if it was not, returning the runtime to spawn it on
    /// (`None`: it already runs); `Err` when no runtime is at hand to run it.
    fn start_sweeping(&self, state: &mut State) -> Result<Option<Handle>, NoRuntime> {
        if state.sweeping {
            return Ok(None);
        }
        let runtime = Handle::try_current().map_err(|_| NoRuntime)?;
        state.sweeping = true;
        Ok(Some(runtime))
    }

    /// Spawns the sweeper on `runtime`, if there is one; called without the lock held
    /// (a runtime shutting down drops the task at once, and its guard takes the lock).
    fn spawn_sweeper(self: &Arc<Self>, runtime: Option<Handle>) {
        if let Some(runtime) = runtime {
            let pool = Arc::downgrade(self);
            let guard = SweepGuard {
                pool: Weak::clone(&pool),
            };
            drop(runtime.spawn(sweep(pool, guard)));
        }
    }

    /// Drops every closed or expired idle connection; returns when the next one
    /// expires, or `None` (and marks the sweeper stopped) when none is left.
    fn evict(&self) -> Option<Instant> {
        let mut dead_http1 = Vec::new();
        let mut dead_http2 = Vec::new();
        let mut state = self.lock();
        let now = Instant::now();
        let mut next: Option<Instant> = None;
        let mut expiry = |since: Instant| {
            // Cannot overflow with the timeout bounded; one that did would never come.
            if let Some(at) = since.checked_add(self.idle_timeout) {
                next = Some(next.map_or(at, |next| next.min(at)));
            }
        };
        for endpoint in &mut state.endpoints {
            dead_http1.extend(endpoint.idle.extract_if(.., |idle| {
                idle.tx.is_closed() || self.expired(idle.since, now)
            }));
            for idle in &endpoint.idle {
                expiry(idle.since);
            }
            match &endpoint.http2 {
                Some(h2) if h2.tx.is_closed() || self.expired(h2.last_used, now) => {
                    dead_http2.extend(endpoint.http2.take());
                }
                Some(h2) => expiry(h2.last_used),
                None => {}
            }
        }
        if next.is_none() {
            state.sweeping = false;
        }
        drop(state);
        next
    }
}

impl State {
    /// The index of the endpoint `scheme://authority`, added if new.
    fn index_of(&mut self, scheme: &Scheme, authority: &Authority) -> usize {
        if let Some(at) = self
            .endpoints
            .iter()
            .position(|e| e.authority == *authority && e.scheme == *scheme)
        {
            return at;
        }
        self.endpoints.push(Endpoint {
            scheme: scheme.clone(),
            authority: authority.clone(),
            host: host_header(scheme, authority),
            idle: Vec::new(),
            http2: None,
        });
        self.endpoints.len() - 1
    }
}

/// No tokio runtime is running on this thread.
struct NoRuntime;

/// Closes idle connections as they expire, for as long as there are any.
async fn sweep(pool: Weak<Shared>, mut guard: SweepGuard) {
    loop {
        let Some(shared) = pool.upgrade() else {
            return;
        };
        let next = shared.evict();
        // Hold no strong reference while asleep: dropping the last client closes all.
        drop(shared);
        match next {
            Some(at) => tokio::time::sleep_until(at).await,
            None => {
                // `evict` marked the sweeper stopped; a new one may already run.
                guard.disarm();
                return;
            }
        }
    }
}

/// Marks the sweeper stopped if its task is dropped before it ends by itself (its
/// runtime shut down), so that the next idle connection starts another.
struct SweepGuard {
    pool: Weak<Shared>,
}

impl SweepGuard {
    fn disarm(&mut self) {
        self.pool = Weak::new();
    }
}

impl Drop for SweepGuard {
    fn drop(&mut self) {
        if let Some(shared) = self.pool.upgrade() {
            shared.lock().sweeping = false;
        }
    }
}

/// `/path?query` of an absolute URI (`/` for none): what goes on the request line of
/// an HTTP/1 request sent straight to the server.
fn origin_form(uri: &Uri) -> Uri {
    match uri.path_and_query() {
        Some(path) if path.as_str() != "/" => {
            let mut parts = http::uri::Parts::default();
            parts.path_and_query = Some(path.clone());
            // A path alone always makes a URI; absolute form is valid HTTP/1.1 anyway.
            Uri::from_parts(parts).unwrap_or_else(|_| uri.clone())
        }
        _ => Uri::default(),
    }
}

/// The `host` header for an endpoint, as hyper-util's client writes it: the host, and
/// the port as written unless it is the scheme's default.
fn host_header(scheme: &Scheme, authority: &Authority) -> Option<HeaderValue> {
    let default_port = if *scheme == Scheme::HTTPS { 443 } else { 80 };
    let value = match authority.port_u16() {
        // `host:port` as written, without any `user:password@`.
        Some(port) if port != default_port => authority
            .as_str()
            .rsplit_once('@')
            .map_or(authority.as_str(), |(_, host_port)| host_port),
        _ => authority.host(),
    };
    HeaderValue::from_str(value).ok()
}

/// The body of a [`Response`]: hyper's, which hands its HTTP/1 connection back to the
/// pool once read to its end.
///
/// Dropped before its end, it hands the connection back too, but the connection is
/// used again only if the rest of the response had already arrived: otherwise hyper
/// closes it (an abandoned stream is not left running). Provider stream decoders stop
/// at their end marker and drop the body before its very end; their connections are
/// reused.
pub struct ResponseBody {
    inner: Incoming,
    give_back: Option<GiveBack>,
}

/// An HTTP/1 connection, and where it goes back to.
struct GiveBack {
    pool: Arc<Shared>,
    index: usize,
    tx: Http1,
    proxied: bool,
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        let frame = ready!(Pin::new(&mut this.inner).poll_frame(cx));
        match &frame {
            Some(Ok(_)) => {}
            None => this.give_back(),
            // A broken body leaves its connection unusable.
            Some(Err(_)) => this.give_back = None,
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl ResponseBody {
    fn give_back(&mut self) {
        if let Some(back) = self.give_back.take() {
            back.pool.put(back.index, back.tx, back.proxied);
        }
    }
}

impl Drop for ResponseBody {
    fn drop(&mut self) {
        // Before its end: hyper drains what is buffered or closes the connection, and
        // the pool uses it only once hyper is ready for another request on it.
        self.give_back();
    }
}

impl fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseBody")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

/// Why a request got no response: no connection could be made (TCP, proxy tunnel, TLS),
/// or the exchange failed. Its [`source`](StdError::source) chain leads to the root
/// cause; neither the URL nor any header is ever part of it.
#[derive(Debug)]
pub(crate) struct SendError {
    kind: SendErrorKind,
    source: Option<BoxError>,
}

#[derive(Debug, Clone, Copy)]
enum SendErrorKind {
    Connect,
    Request,
    NotAbsolute,
}

impl SendError {
    fn new(kind: SendErrorKind, source: Option<BoxError>) -> Self {
        Self { kind, source }
    }

    fn connect(source: impl Into<BoxError>) -> Self {
        Self::new(SendErrorKind::Connect, Some(source.into()))
    }

    fn request(source: impl Into<BoxError>) -> Self {
        Self::new(SendErrorKind::Request, Some(source.into()))
    }

    /// Whether no connection could be made.
    pub(crate) fn is_connect(&self) -> bool {
        matches!(self.kind, SendErrorKind::Connect)
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            SendErrorKind::Connect => "could not connect",
            SendErrorKind::Request => "the request failed",
            SendErrorKind::NotAbsolute => "the request URI has no scheme or host",
        })
    }
}

impl StdError for SendError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    //! The pool's internals: what no test through the public API can set up
    //! deterministically (`tests/pool.rs` covers the rest).

    use futures_util::FutureExt;
    use http_body_util::BodyExt;
    use hyper_rustls::HttpsConnectorBuilder;
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::rt::TokioIo;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    fn pool() -> Pool {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
        let connector = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(ProxyConnector::new(HttpConnector::new(), None));
        Pool::new(
            connector,
            Duration::from_secs(10),
            Duration::from_secs(90),
            8,
        )
    }

    /// A server answering each connection's first request with `fresh` and keeping
    /// the connection open; sends the request head it read for each connection.
    async fn server() -> (Uri, tokio::sync::mpsc::UnboundedReceiver<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let uri = format!("http://{}/v1/chat", listener.local_addr().unwrap())
            .parse()
            .unwrap();
        let (heads, received) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut head = Vec::new();
                while !head.ends_with(b"\r\n\r\n") {
                    head.push(socket.read_u8().await.unwrap());
                }
                let mut body = [0u8; 2];
                socket.read_exact(&mut body).await.unwrap();
                socket
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfresh")
                    .await
                    .unwrap();
                heads.send(String::from_utf8(head).unwrap()).unwrap();
                open.push(socket);
            }
        });
        (uri, received)
    }

    fn request(uri: &Uri) -> http::Request<Full<Bytes>> {
        http::Request::post(uri.clone())
            .body(Full::new(Bytes::from_static(b"{}")))
            .unwrap()
    }

    fn plant(pool: &Pool, uri: &Uri, tx: Http1) {
        let mut state = pool.shared.lock();
        let at = state.index_of(uri.scheme().unwrap(), uri.authority().unwrap());
        state.endpoints[at].idle.push(Idle {
            tx,
            proxied: false,
            since: Instant::now(),
        });
    }

    fn idle_count(pool: &Pool) -> usize {
        pool.shared
            .lock()
            .endpoints
            .iter()
            .map(|e| e.idle.len())
            .sum()
    }

    /// The stale keep-alive race, made deterministic: a pooled connection looks ready
    /// (hyper asked for its next request) but its server has gone; the request is
    /// queued on it, then its task reads the end of the stream before writing the
    /// request, and hands the request back. It must go out on a new connection.
    #[tokio::test]
    async fn a_request_handed_back_unsent_goes_out_on_a_new_connection() {
        let (uri, mut heads) = server().await;
        let pool = pool();
        let (near, far) = tokio::io::duplex(4096);
        let (stale, mut conn) = http1::handshake::<_, Full<Bytes>>(TokioIo::new(near))
            .await
            .unwrap();
        // One poll: the connection is idle and asks for a request.
        assert!((&mut conn).now_or_never().is_none());
        assert!(stale.is_ready());
        // Its server goes away; its task has not run since, so nothing has noticed.
        drop(far);
        assert!(!stale.is_closed());
        plant(&pool, &uri, stale);

        let (response, stale_conn) = tokio::join!(pool.send(request(&uri)), async move {
            // By now the request sits queued on the stale connection.
            tokio::task::yield_now().await;
            conn.await
        });
        // The stale connection ended without an error of its own: it never wrote.
        stale_conn.unwrap();
        let body = response.unwrap().into_body().collect().await.unwrap();
        assert_eq!(body.to_bytes(), "fresh");
        let head = heads.recv().await.unwrap();
        assert!(head.starts_with("POST /v1/chat HTTP/1.1\r\n"), "{head}");
        assert!(heads.is_empty(), "one new connection");
        // The new connection went back to the pool once its body was read.
        assert_eq!(idle_count(&pool), 1);
    }

    /// A pooled HTTP/1 connection whose last exchange is not over yet (hyper has not
    /// asked for the next request) is passed over, and kept.
    #[tokio::test]
    async fn a_connection_not_ready_yet_is_passed_over_and_kept() {
        let (uri, mut heads) = server().await;
        let pool = pool();
        let (near, _far) = tokio::io::duplex(4096);
        let (busy, _conn) = http1::handshake::<_, Full<Bytes>>(TokioIo::new(near))
            .await
            .unwrap();
        // Never polled: it has not asked for a request.
        assert!(!busy.is_ready() && !busy.is_closed());
        plant(&pool, &uri, busy);

        // Were it used, the request would wait forever on a connection whose task
        // never runs.
        let sent = tokio::time::timeout(Duration::from_secs(10), pool.send(request(&uri)));
        let response = sent.await.expect("a new connection").unwrap();
        let body = response.into_body().collect().await.unwrap();
        assert_eq!(body.to_bytes(), "fresh");
        assert!(heads.recv().await.is_some() && heads.is_empty());
        // The one passed over, and the new one returned after it.
        assert_eq!(idle_count(&pool), 2);
    }

    #[test]
    fn host_headers_name_the_port_only_when_it_is_not_the_default() {
        let host = |uri: &str| {
            let uri: Uri = uri.parse().unwrap();
            host_header(uri.scheme().unwrap(), uri.authority().unwrap()).unwrap()
        };
        assert_eq!(host("http://example.com/"), "example.com");
        assert_eq!(host("http://example.com:80/"), "example.com");
        assert_eq!(host("https://example.com:443/"), "example.com");
        assert_eq!(host("https://example.com:80/"), "example.com:80");
        assert_eq!(host("http://u:p@127.0.0.1:8080/"), "127.0.0.1:8080");
        assert_eq!(host("http://[::1]:8080/"), "[::1]:8080");
        assert_eq!(host("http://[::1]/"), "[::1]");
    }

    #[test]
    fn origin_form_keeps_the_path_and_query_only() {
        let origin = |uri: &str| origin_form(&uri.parse().unwrap()).to_string();
        assert_eq!(origin("https://h/v1/x?key=k"), "/v1/x?key=k");
        assert_eq!(origin("https://h"), "/");
        assert_eq!(origin("https://h/"), "/");
    }
}
