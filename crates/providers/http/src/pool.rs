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
//!   its end or dropped; no task, no channel;
//! - an HTTP/2 connection is one per endpoint, its sender cloned for each request, and
//!   its own task (hyper's connection future) is spawned once per connection;
//! - idle connections are closed by one sweeping task per busy period, which holds only
//!   a [`Weak`] to the pool, sleeps until the oldest idle connection expires, and ends
//!   when nothing is left to sweep;
//! - a request hyper hands back unsent (a pooled connection the server had just closed)
//!   is sent again on another connection; one that may have reached the server never is.
//!
//! # HTTP/1 connections are driven by their user, not by a task of their own
//!
//! hyper's HTTP/1 connection is two halves: a sender that queues requests, and a
//! connection future that does the I/O. Spawned as a task of its own, that future cost
//! the gateway (callgrind, one small JSON completion per request, ~84,000 instructions)
//! six task polls per request where two would do: the server task three times and the
//! connection task three times, because the request is handed to the connection task
//! (a wake), the response head comes back through a oneshot (a wake), and hyper's body
//! channel only reads the body once its reader asks for it, which wakes the connection
//! task again and then the server task again. Every server-task poll re-enters the
//! whole chain of futures above the pool (axum, the handler, the router, the provider),
//! and every wake is scheduler work and cache misses.
//!
//! So an HTTP/1 connection future ([`Http1`]) is owned by whoever is using the
//! connection and polled in its task:
//!
//! - while the response head is awaited, [`Http1::send`] polls the connection future,
//!   then the response future;
//! - the connection then moves into the [`ResponseBody`], whose `poll_frame` takes
//!   what hyper has already handed over, and otherwise polls the connection future (which
//!   reads the socket) before looking again: the body is read in the reader's task;
//! - read to its end, the body hands the connection back to the idle list, once hyper
//!   is ready for the next request on it (one poll of the connection future without a
//!   waker, then the sender's `poll_ready`); closed, broken or not ready, it is dropped,
//!   which closes it;
//! - dropped before its end, the body lets hyper finish the response if the rest of it
//!   was already buffered (the same poll), and hands the connection back only if it is
//!   then ready: an abandoned stream is closed, not left running. Provider stream
//!   decoders stop at their end marker (`data: [DONE]`, `message_stop`) without asking
//!   for the end of the body after it; the end is in the buffer by then, and their
//!   connections are reused;
//! - nobody polls an idle connection. A checkout polls it once without a waker, which
//!   reads a close the server sent meanwhile: a finished connection future means a
//!   closed connection, which is dropped. The sweeper closes expired ones by dropping
//!   them;
//! - dropping a request future or a body mid-way drops the connection, which closes it:
//!   nothing is left running.
//!
//! Wakes are what this is about, so the connection is polled through a [`Driver`]: the
//! futures under it (hyper's connection, the response future, the body channel) get a
//! waker of the connection's own, which forwards to the task that polls the connection
//! — except while that task is polling it. Most of hyper's wakes are then the
//! connection waking itself (the response head handed over, a body chunk handed over
//! or taken); they would make the task poll the whole chain again for nothing, so they
//! only make the driver poll the connection again, at once, a bounded number of times.
//! The task is woken only by the socket (or by a wake it cannot account for).

use std::error::Error as StdError;
use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, Wake, Waker, ready};
use std::time::Duration;

use bytes::Bytes;
use futures_util::task::AtomicWaker;
use http::header::{HOST, HeaderValue};
use http::uri::{Authority, PathAndQuery, Scheme, Uri};
use http_body_util::Full;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::client::conn::{TrySendError, http1, http2};
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::Connection;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::runtime::Handle;
use tokio::time::Instant;
use tower::ServiceExt;

use crate::connect::ProxyConnector;

type BoxError = Box<dyn StdError + Send + Sync>;
type Connector = HttpsConnector<ProxyConnector>;
type Request = http::Request<Full<Bytes>>;
type Http2 = http2::SendRequest<Full<Bytes>>;

/// What an HTTP/1 connection reads and writes: the connector's stream (in tests, that
/// or a scripted one).
#[cfg(not(test))]
type Io = MaybeHttpsStream<crate::connect::Conn>;
#[cfg(test)]
type Io = tests::Io;

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
    conn: Box<Http1>,
    since: Instant,
}

struct SharedHttp2 {
    tx: Http2,
    id: u64,
    last_used: Instant,
}

/// A connection a request can go out on.
enum Conn {
    Http1(Box<Http1>),
    Http2 { tx: Http2, id: u64 },
}

impl Pool {
    /// A pool connecting with `connector`; idle connections are closed after
    /// `idle_timeout`, and at most `max_idle` are kept per endpoint.
    pub(crate) fn new(connector: Connector, idle_timeout: Duration, max_idle: usize) -> Self {
        Self {
            shared: Arc::new(Shared {
                connector,
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
    pub(crate) async fn send(&self, mut request: Request) -> Result<Response, SendError> {
        let uri = std::mem::take(request.uri_mut());
        let (Some(scheme), Some(authority)) = (uri.scheme(), uri.authority()) else {
            return Err(SendError::new(SendErrorKind::NotAbsolute, None));
        };
        let shared = &self.shared;
        let mut index = None;
        let mut host = None;
        loop {
            let checked_out = shared.checkout(&mut index, scheme, authority, &mut host);
            let Some(at) = index else {
                // `checkout` always finds or adds the endpoint.
                return Err(SendError::new(SendErrorKind::NotAbsolute, None));
            };
            let (conn, reused) = match checked_out {
                Some(conn) => (conn, true),
                None => (
                    Box::pin(shared.connect(at, scheme, authority)).await?,
                    false,
                ),
            };
            match conn {
                Conn::Http1(mut conn) => {
                    if let Some(host) = &host
                        && !request.headers().contains_key(HOST)
                    {
                        request.headers_mut().insert(HOST, host.clone());
                    }
                    *request.uri_mut() = if conn.proxied {
                        uri.clone()
                    } else {
                        origin_form(&uri)
                    };
                    match conn.send(request).await {
                        Ok(response) => {
                            return Ok(Shared::http1_response(shared, response, conn, at));
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
                                inner: Some(inner),
                                lease: None,
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

    /// Finds (or adds) the endpoint of `scheme://authority`, caching its index in
    /// `index` and its `host` header in `host`, and takes a pooled connection ready for
    /// a request, if there is one: the shared HTTP/2 one, or the most recently returned
    /// idle HTTP/1 one that is still open once polled (see [`Http1::ready`]). Closed and
    /// expired connections met on the way are dropped, which closes them.
    fn checkout(
        &self,
        index: &mut Option<usize>,
        scheme: &Scheme,
        authority: &Authority,
        host: &mut Option<HeaderValue>,
    ) -> Option<Conn> {
        loop {
            match self.take(index, scheme, authority, host)? {
                // Polled without the lock held: it may read from its socket.
                Conn::Http1(mut conn) => {
                    if conn.ready() {
                        return Some(Conn::Http1(conn));
                    }
                    // Dropped here, closed: look at the next one.
                }
                http2 @ Conn::Http2 { .. } => return Some(http2),
            }
        }
    }

    /// Under one lock: finds (or adds) the endpoint as [`Shared::checkout`] says, and
    /// takes its live HTTP/2 connection, or else its most recently returned idle HTTP/1
    /// connection that has not expired. Expired ones met on the way are dropped once the
    /// lock is released.
    fn take(
        &self,
        index: &mut Option<usize>,
        scheme: &Scheme,
        authority: &Authority,
        host: &mut Option<HeaderValue>,
    ) -> Option<Conn> {
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
        let endpoint = state.endpoints.get_mut(at)?;
        if host.is_none() {
            host.clone_from(&endpoint.host);
        }
        if !self.keep || (endpoint.http2.is_none() && endpoint.idle.is_empty()) {
            return None;
        }
        let now = Instant::now();
        if let Some(shared) = &mut endpoint.http2 {
            if !shared.tx.is_closed() && !self.expired(shared.last_used, now) {
                shared.last_used = now;
                return Some(Conn::Http2 {
                    tx: shared.tx.clone(),
                    id: shared.id,
                });
            }
            dead_http2 = endpoint.http2.take();
        }
        let mut found = None;
        while let Some(idle) = endpoint.idle.pop() {
            if self.expired(idle.since, now) {
                dead_http1.push(idle);
            } else {
                found = Some(Conn::Http1(idle.conn));
                break;
            }
        }
        drop(state);
        drop(dead_http2);
        found
    }

    /// Opens a connection to `scheme://authority`: an HTTP/2 one gets its own task and
    /// is shared from then on; an HTTP/1 one is driven by whoever uses it.
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
        let io = self
            .connector
            .clone()
            .oneshot(destination)
            .await
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
                .handshake(net_io(io))
                .await
                .map_err(SendError::request)?;
            Ok(Conn::Http1(Box::new(Http1::new(
                tx,
                conn,
                connected.is_proxied(),
            ))))
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

    /// Wraps an HTTP/1 response: its body drives `conn` and hands it back once read to
    /// the end (or dropped); a response without a body hands it back at once.
    fn http1_response(
        this: &Arc<Self>,
        response: http::Response<Incoming>,
        conn: Box<Http1>,
        index: usize,
    ) -> Response {
        response.map(|inner| {
            let lease = if inner.is_end_stream() {
                this.give_back(index, conn);
                None
            } else {
                Some(Lease {
                    conn,
                    pool: Arc::clone(this),
                    index,
                })
            };
            ResponseBody {
                inner: Some(inner),
                lease,
            }
        })
    }

    /// Takes back an HTTP/1 connection whose response was read (or dropped): it goes
    /// to its endpoint's idle list if hyper is ready for another request on it, and is
    /// dropped (closed) otherwise.
    fn give_back(self: &Arc<Self>, index: usize, mut conn: Box<Http1>) {
        if self.keep && conn.ready() {
            self.put(index, conn);
        }
    }

    /// Adds an HTTP/1 connection ready for a request to its endpoint's idle list, unless
    /// the list is full (then it is dropped, which closes it).
    fn put(self: &Arc<Self>, index: usize, conn: Box<Http1>) {
        let now = Instant::now();
        // `conn` is a parameter: on an early return it is dropped after the lock guard.
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
            endpoint.idle.push(Idle { conn, since: now });
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

    /// Drops every expired idle connection (and a closed HTTP/2 one); returns when the
    /// next one expires, or `None` (and marks the sweeper stopped) when none is left.
    ///
    /// Idle HTTP/1 connections are not polled here: one the server closed is found
    /// out at checkout, or dropped when it expires.
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
            dead_http1.extend(
                endpoint
                    .idle
                    .extract_if(.., |idle| self.expired(idle.since, now)),
            );
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

/// The body of a [`Response`]: hyper's, which over HTTP/1 drives its connection as it
/// is read and hands it back to the pool once read to its end.
///
/// Dropped before its end, it hands the connection back too, but only if the rest of
/// the response had already arrived: otherwise the connection is closed (an abandoned
/// stream is not left running). Provider stream decoders stop at their end marker and
/// drop the body before its very end; their connections are reused.
pub struct ResponseBody {
    /// `None` only while dropping: hyper must see the body gone before the connection
    /// is polled a last time.
    inner: Option<Incoming>,
    /// The HTTP/1 connection the body is read from, until it goes back.
    lease: Option<Lease>,
}

/// An HTTP/1 connection in use by a response body, and where it goes back to.
struct Lease {
    conn: Box<Http1>,
    pool: Arc<Shared>,
    index: usize,
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        let Some(inner) = &mut this.inner else {
            return Poll::Ready(None);
        };
        let Some(lease) = &mut this.lease else {
            return Pin::new(inner).poll_frame(cx);
        };
        let Http1 { conn, driver, .. } = &mut *lease.conn;
        let frame = ready!(driver.drive(cx, |cx| {
            // What hyper has already handed over first: a whole small body usually came
            // with the head, and the connection has nothing more to do for it.
            if let Poll::Ready(frame) = Pin::new(&mut *inner).poll_frame(cx) {
                return Poll::Ready(frame);
            }
            // Nothing yet: the connection reads the socket, in this task.
            poll_connection(conn, cx);
            Pin::new(&mut *inner).poll_frame(cx)
        }));
        match &frame {
            Some(Ok(_)) => {}
            None => this.give_back(),
            // A broken body leaves its connection unusable.
            Some(Err(_)) => this.lease = None,
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(Incoming::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Incoming::size_hint)
    }
}

impl ResponseBody {
    fn give_back(&mut self) {
        if let Some(lease) = self.lease.take() {
            lease.pool.give_back(lease.index, lease.conn);
        }
    }
}

impl Drop for ResponseBody {
    fn drop(&mut self) {
        // Before its end: hyper, seeing nobody will read the rest, takes the end of the
        // response from what is buffered, or closes the connection; the pool keeps it
        // only if it is then ready for another request.
        drop(self.inner.take());
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

/// An HTTP/1 connection: the sender hyper queues requests on, and the connection future
/// that does the I/O, polled by whoever uses the connection (see the module doc).
struct Http1 {
    tx: http1::SendRequest<Full<Bytes>>,
    /// `None` once it has finished (the connection closed, or failed). Dropped then at
    /// once, which hands back a request queued on it but never written.
    conn: Option<http1::Connection<Io, Full<Bytes>>>,
    driver: Driver,
    /// Whether it leads to a forwarding proxy (requests then go in absolute form).
    proxied: bool,
}

impl Http1 {
    fn new(
        tx: http1::SendRequest<Full<Bytes>>,
        conn: http1::Connection<Io, Full<Bytes>>,
        proxied: bool,
    ) -> Self {
        Self {
            tx,
            conn: Some(conn),
            driver: Driver::new(),
            proxied,
        }
    }

    /// Sends `request` and returns the response head, polling the connection in this
    /// task until it comes. Dropped before, the connection is left unusable (hyper
    /// closes a connection whose request was abandoned) and is dropped by its owner.
    async fn send(
        &mut self,
        request: Request,
    ) -> Result<http::Response<Incoming>, TrySendError<Request>> {
        let mut response = pin!(self.tx.try_send_request(request));
        let Self { conn, driver, .. } = self;
        poll_fn(|cx| {
            driver.drive(cx, |cx| {
                // The connection first: it writes the request, and reads the response.
                poll_connection(conn, cx);
                response.as_mut().poll(cx)
            })
        })
        .await
    }

    /// Whether hyper is ready for a request on the connection. Polled once without a
    /// waker (nobody polls it while it is idle), it finishes what it can with what is
    /// already buffered or readable — the end of a response, or the server's close —
    /// and then either asks for a request, or has finished: closed or broken.
    fn ready(&mut self) -> bool {
        // Idle, it has no task to wake.
        self.driver.forget_task();
        let mut cx = Context::from_waker(Waker::noop());
        if let Some(conn) = &mut self.conn {
            // The task's cooperative budget does not apply: this is not a wait, and an
            // exhausted budget would make a connection that is ready look busy.
            let mut unconstrained = tokio::task::unconstrained(conn);
            if Pin::new(&mut unconstrained).poll(&mut cx).is_ready() {
                self.conn = None;
                return false;
            }
        }
        matches!(self.tx.poll_ready(&mut cx), Poll::Ready(Ok(())))
    }
}

/// Polls an HTTP/1 connection future, dropping it once it has finished.
fn poll_connection(conn: &mut Option<http1::Connection<Io, Full<Bytes>>>, cx: &mut Context<'_>) {
    if let Some(future) = conn
        && Pin::new(future).poll(cx).is_ready()
    {
        // Closed or failed; a failure has reached whoever awaited the response or
        // body. Dropped, it hands back a request still queued.
        *conn = None;
    }
}

/// Polls what hangs on an HTTP/1 connection (its connection future, the response
/// future, the body channel) on behalf of the task polling it, with a waker of the
/// connection's own: a wake while the task is polling is the connection waking itself
/// (hyper handing over the response head or a body chunk, or taking one), answered by
/// polling again at once rather than by waking the task, whose next poll would run
/// through every future above the pool for nothing. Any other wake goes to the task.
struct Driver {
    wakes: Arc<Wakes>,
    /// A waker of `wakes`.
    waker: Waker,
}

/// The most times [`Driver::drive`] polls in a row while woken each time; then the
/// task is woken instead, to yield to the others (this is what tokio's cooperative
/// budget asks for when it runs out: every poll of a tokio resource wakes at once).
const MAX_ROUNDS: usize = 3;

impl Driver {
    fn new() -> Self {
        let wakes = Arc::new(Wakes::default());
        let waker = Waker::from(Arc::clone(&wakes));
        Self { wakes, waker }
    }

    /// Polls `round` for the task of `cx`, with the driver's waker; polls it again
    /// (up to [`MAX_ROUNDS`] times) while it is `Pending` and was woken meanwhile.
    fn drive<T>(
        &self,
        cx: &mut Context<'_>,
        mut round: impl FnMut(&mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        // Registered first: a wake from now on reaches the task if it is not noted.
        self.wakes.task.register(cx.waker());
        let mut inner = Context::from_waker(&self.waker);
        for _ in 0..MAX_ROUNDS {
            self.wakes.state.store(POLLING, Ordering::Relaxed);
            let poll = round(&mut inner);
            let woken = self.wakes.state.swap(IDLE, Ordering::AcqRel) == WOKEN;
            // Ready, nothing is owed: whoever polled will poll again if it wants more.
            if poll.is_ready() || !woken {
                return poll;
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// Forgets the task: wakes of an idle connection go nowhere.
    fn forget_task(&self) {
        drop(self.wakes.task.take());
    }
}

/// Not polling; a wake goes to the task.
const IDLE: u8 = 0;
/// Polling; a wake is noted, and answered by polling again.
const POLLING: u8 = 1;
/// Polling, and woken since it began.
const WOKEN: u8 = 2;

/// The state behind a [`Driver`]'s waker.
#[derive(Default)]
struct Wakes {
    /// [`IDLE`], [`POLLING`] or [`WOKEN`].
    state: AtomicU8,
    /// The task that last polled the connection.
    task: AtomicWaker,
}

impl Wake for Wakes {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        match self
            .state
            .compare_exchange(POLLING, WOKEN, Ordering::AcqRel, Ordering::Acquire)
        {
            // Noted: the driver polls again before it returns.
            Ok(_) | Err(WOKEN) => {}
            Err(_) => self.task.wake(),
        }
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

/// The connector's stream, as an HTTP/1 connection's [`Io`].
#[cfg(not(test))]
fn net_io(io: MaybeHttpsStream<crate::connect::Conn>) -> Io {
    io
}

#[cfg(test)]
fn net_io(io: MaybeHttpsStream<crate::connect::Conn>) -> Io {
    tests::Io::Net(io)
}

#[cfg(test)]
mod tests {
    //! The pool's internals: what no test through the public API can set up
    //! deterministically (`tests/pool.rs` covers the rest).

    use std::io;
    use std::sync::atomic::AtomicUsize;

    use http_body_util::BodyExt;
    use hyper::rt::{Read, ReadBufCursor, Write};
    use hyper_rustls::HttpsConnectorBuilder;
    use hyper_util::client::legacy::connect::HttpConnector;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// An HTTP/1 connection's stream: the connector's, or a scripted one.
    #[allow(
        clippy::large_enum_variant,
        reason = "the connector's stream is kept as it is in the pool outside tests"
    )]
    pub(super) enum Io {
        Net(MaybeHttpsStream<crate::connect::Conn>),
        Script(Script),
    }

    /// A stream whose other end is the test: it keeps what is written to it, answers
    /// the first request with [`ScriptState::answer`], and can be made to read the end of
    /// the stream.
    #[derive(Clone, Default)]
    pub(super) struct Script(Arc<Mutex<ScriptState>>);

    #[derive(Default)]
    struct ScriptState {
        written: Vec<u8>,
        /// Read once something was written.
        answer: Option<&'static [u8]>,
        /// Once set, how many more reads find nothing before one reads the end.
        gone_after: Option<usize>,
        /// The waker of the last read that found nothing.
        reader: Option<Waker>,
    }

    impl Script {
        fn answering(answer: &'static [u8]) -> Self {
            let script = Self::default();
            script.state().answer = Some(answer);
            script
        }

        fn state(&self) -> MutexGuard<'_, ScriptState> {
            self.0.lock().unwrap()
        }

        /// From now on, `reads` more reads find nothing, then one reads the end (the
        /// server closed, and the client sees it only then). Wakes nobody: the server's
        /// close is noticed when the connection is next polled.
        fn go_away_after(&self, reads: usize) {
            self.state().gone_after = Some(reads);
        }

        fn requests(&self) -> usize {
            let written = String::from_utf8(self.state().written.clone()).unwrap();
            written.matches(" HTTP/1.1\r\n").count()
        }

        fn read(&self, cx: &Context<'_>, mut buf: ReadBufCursor<'_>) -> Poll<io::Result<()>> {
            let mut state = self.state();
            if !state.written.is_empty()
                && let Some(answer) = state.answer.take()
            {
                buf.put_slice(answer);
                return Poll::Ready(Ok(()));
            }
            match &mut state.gone_after {
                // The end of the stream: nothing put in `buf`.
                Some(0) => Poll::Ready(Ok(())),
                Some(reads) => {
                    *reads -= 1;
                    Poll::Pending
                }
                None => {
                    state.reader = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        }

        fn write(&self, bytes: &[u8]) -> usize {
            let mut state = self.state();
            state.written.extend_from_slice(bytes);
            if state.answer.is_some()
                && let Some(reader) = state.reader.take()
            {
                reader.wake();
            }
            bytes.len()
        }
    }

    impl Read for Io {
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: ReadBufCursor<'_>,
        ) -> Poll<io::Result<()>> {
            match self.get_mut() {
                Self::Net(io) => Pin::new(io).poll_read(cx, buf),
                Self::Script(script) => script.read(cx, buf),
            }
        }
    }

    impl Write for Io {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            match self.get_mut() {
                Self::Net(io) => Pin::new(io).poll_write(cx, buf),
                Self::Script(script) => Poll::Ready(Ok(script.write(buf))),
            }
        }

        fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            match self.get_mut() {
                Self::Net(io) => Pin::new(io).poll_flush(cx),
                Self::Script(_) => Poll::Ready(Ok(())),
            }
        }

        fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            match self.get_mut() {
                Self::Net(io) => Pin::new(io).poll_shutdown(cx),
                Self::Script(_) => Poll::Ready(Ok(())),
            }
        }

        fn is_write_vectored(&self) -> bool {
            match self {
                Self::Net(io) => io.is_write_vectored(),
                Self::Script(_) => false,
            }
        }

        fn poll_write_vectored(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            bufs: &[io::IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            match self.get_mut() {
                Self::Net(io) => Pin::new(io).poll_write_vectored(cx, bufs),
                Self::Script(script) => {
                    let bytes: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
                    Poll::Ready(Ok(script.write(&bytes)))
                }
            }
        }
    }

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
        Pool::new(connector, Duration::from_secs(90), 8)
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

    fn request(uri: &Uri) -> Request {
        http::Request::post(uri.clone())
            .body(Full::new(Bytes::from_static(b"{}")))
            .unwrap()
    }

    /// An HTTP/1 connection over `script`, not polled yet.
    async fn scripted(script: &Script) -> Box<Http1> {
        let (tx, conn) = http1::handshake(Io::Script(script.clone())).await.unwrap();
        Box::new(Http1::new(tx, conn, false))
    }

    fn plant(pool: &Pool, uri: &Uri, conn: Box<Http1>) {
        let mut state = pool.shared.lock();
        let at = state.index_of(uri.scheme().unwrap(), uri.authority().unwrap());
        state.endpoints[at].idle.push(Idle {
            conn,
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

    const EMPTY_OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";

    /// A pool holding one idle connection over a script, which has served one request.
    async fn pool_with_a_used_connection(uri: &Uri) -> (Pool, Script) {
        let pool = pool();
        let script = Script::answering(EMPTY_OK);
        plant(&pool, uri, scripted(&script).await);
        let response = pool.send(request(uri)).await.unwrap();
        let body = response.into_body().collect().await.unwrap();
        assert!(body.to_bytes().is_empty());
        assert_eq!(script.requests(), 1);
        assert_eq!(idle_count(&pool), 1, "back in the pool");
        (pool, script)
    }

    /// The stale keep-alive race, made deterministic: a pooled connection looks open
    /// when checked out (its server's close has not been read yet), the request is
    /// queued on it, then the connection reads the end of the stream before writing the
    /// request, finishes, and hands the request back. It must go out on a new
    /// connection.
    #[tokio::test]
    async fn a_request_handed_back_unsent_goes_out_on_a_new_connection() {
        let (uri, mut heads) = server().await;
        let (pool, stale) = pool_with_a_used_connection(&uri).await;
        // The checkout's look finds nothing; the next read, sending, finds the end.
        stale.go_away_after(1);

        let sent = tokio::time::timeout(Duration::from_secs(10), pool.send(request(&uri)));
        let response = sent.await.expect("the request is handed back").unwrap();
        let body = response.into_body().collect().await.unwrap();
        assert_eq!(body.to_bytes(), "fresh");
        assert_eq!(stale.requests(), 1, "never written on the stale connection");
        let head = heads.recv().await.unwrap();
        assert!(head.starts_with("POST /v1/chat HTTP/1.1\r\n"), "{head}");
        assert!(heads.is_empty(), "one new connection");
        // The new connection went back to the pool once its body was read.
        assert_eq!(idle_count(&pool), 1);
    }

    /// A pooled connection whose server closed while it was idle is polled at checkout,
    /// reads the close, and is dropped rather than used.
    #[tokio::test]
    async fn an_idle_connection_its_server_closed_is_dropped_at_checkout() {
        let uri: Uri = "http://127.0.0.1:9/v1/chat".parse().unwrap();
        let (pool, closed) = pool_with_a_used_connection(&uri).await;
        closed.go_away_after(0);
        let (mut index, mut host) = (None, None);
        let checked_out = pool.shared.checkout(
            &mut index,
            uri.scheme().unwrap(),
            uri.authority().unwrap(),
            &mut host,
        );
        assert!(checked_out.is_none(), "the closed connection is not used");
        assert_eq!(idle_count(&pool), 0, "nor kept");
        assert_eq!(closed.requests(), 1);
    }

    /// Counts the wakes of a task's waker.
    #[derive(Default)]
    struct Wakes(AtomicUsize);

    impl Wake for Wakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn counting() -> (Arc<Wakes>, Waker) {
        let wakes = Arc::new(Wakes::default());
        (Arc::clone(&wakes), Waker::from(wakes))
    }

    #[test]
    fn wakes_while_driving_are_answered_by_polling_again_not_by_the_task() {
        let driver = Driver::new();
        let (task, waker) = counting();
        let mut cx = Context::from_waker(&waker);
        let mut rounds = 0;
        let poll = driver.drive(&mut cx, |cx| {
            rounds += 1;
            if rounds == 1 {
                // What hyper does handing the response head over to the response future.
                cx.waker().wake_by_ref();
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        });
        assert_eq!((poll, rounds), (Poll::Ready(()), 2));
        assert_eq!(task.0.load(Ordering::Relaxed), 0, "the task is not woken");

        // Ready even though woken: nothing is owed to the task.
        let poll = driver.drive(&mut cx, |cx| {
            cx.waker().wake_by_ref();
            Poll::Ready(())
        });
        assert_eq!(poll, Poll::Ready(()));
        assert_eq!(task.0.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn wakes_after_driving_reach_the_task_that_drove_last() {
        let driver = Driver::new();
        let (first, first_waker) = counting();
        let (second, second_waker) = counting();
        let registered = Mutex::new(None);
        let round = |cx: &mut Context<'_>| {
            // What a socket does when it has nothing to read.
            *registered.lock().unwrap() = Some(cx.waker().clone());
            Poll::<()>::Pending
        };
        assert!(
            driver
                .drive(&mut Context::from_waker(&first_waker), round)
                .is_pending()
        );
        // Moved to another task (a body polled from elsewhere).
        assert!(
            driver
                .drive(&mut Context::from_waker(&second_waker), round)
                .is_pending()
        );
        registered.lock().unwrap().take().unwrap().wake();
        assert_eq!(first.0.load(Ordering::Relaxed), 0);
        assert_eq!(second.0.load(Ordering::Relaxed), 1);

        // Idle in the pool: nobody to wake.
        assert!(
            driver
                .drive(&mut Context::from_waker(&second_waker), round)
                .is_pending()
        );
        driver.forget_task();
        registered.lock().unwrap().take().unwrap().wake();
        assert_eq!(second.0.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn a_connection_woken_every_time_it_is_polled_yields_to_the_task() {
        // What tokio's resources do once the task's cooperative budget is spent: each
        // poll wakes at once and returns `Pending`. Polling on would never end.
        let driver = Driver::new();
        let (task, waker) = counting();
        let mut rounds = 0;
        let poll = driver.drive(&mut Context::from_waker(&waker), |cx| {
            rounds += 1;
            assert!(rounds <= MAX_ROUNDS, "polled on and on");
            cx.waker().wake_by_ref();
            Poll::<()>::Pending
        });
        assert!(poll.is_pending());
        assert_eq!(rounds, MAX_ROUNDS);
        assert_eq!(
            task.0.load(Ordering::Relaxed),
            1,
            "the task polls again later"
        );
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
