//! Timeouts: time to first token and total, per attempt and per request.
//!
//! - **first token** (per attempt): the call must resolve within it. A streaming call
//!   resolves at its first event and a complete call at its whole answer, so for a
//!   complete call this is the time to the answer.
//! - **total** (per attempt): bounds the whole attempt. For a complete call it is one more
//!   bound on resolution; for a stream it keeps running after the first event, and when it
//!   passes the stream ends with an `Err(Timeout)` item (never a clean end).
//! - **request** (per request): the end-to-end deadline that every attempt, retry wait,
//!   fallback and stream of the request shares. A [`Deadline`] in the request's extensions
//!   overrides it when earlier.
//!
//! [`TimeoutLayer`] applies the per-attempt pair to any single [`ChatService`](tollgate_core::ChatService); routes
//! apply all three themselves.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::{Instant, Timeout};
use tollgate_core::{ChatReply, ChatRequest, ChatStream, Deadline, Error, ErrorKind};
use tower::{Layer, Service};

use crate::stream::Bounded;

/// The timeouts of a route. See the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Per attempt: time to first token (streams) or to the answer (complete calls).
    /// Default 120 s.
    pub attempt_first_token: Option<Duration>,
    /// Per attempt: the whole attempt, stream included. Default none.
    pub attempt_total: Option<Duration>,
    /// Per request: the end-to-end deadline shared by all attempts. Default 600 s.
    pub request: Option<Duration>,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            attempt_first_token: Some(Duration::from_secs(120)),
            attempt_total: None,
            request: Some(Duration::from_secs(600)),
        }
    }
}

impl Timeouts {
    /// No timeouts at all.
    pub fn none() -> Self {
        Self {
            attempt_first_token: None,
            attempt_total: None,
            request: None,
        }
    }

    /// The request's deadline: the earlier of `request` from `start` and a [`Deadline`]
    /// in the request's extensions.
    pub fn deadline(&self, request: &ChatRequest, start: Instant) -> Option<Instant> {
        let own = self.request.map(|d| start + d);
        let given = request
            .extensions
            .get::<Deadline>()
            .map(|Deadline(at)| Instant::from_std(*at));
        match (own, given) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// Which bound a timeout came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bound {
    FirstToken(Duration),
    Total(Duration),
    Deadline,
}

impl Bound {
    /// The error of a call that did not resolve within this bound.
    pub(crate) fn expired(self) -> Error {
        Error::new(ErrorKind::Timeout, self.resolve_message())
    }

    fn resolve_message(self) -> String {
        match self {
            Self::FirstToken(d) => format!(
                "no first token within the attempt's {:.1}s time-to-first-token timeout",
                d.as_secs_f64()
            ),
            Self::Total(d) => format!(
                "no answer within the attempt's {:.1}s total timeout",
                d.as_secs_f64()
            ),
            Self::Deadline => "the request's deadline passed".to_owned(),
        }
    }

    pub(crate) fn stream_message(self) -> String {
        match self {
            Self::Total(d) => format!(
                "the stream did not finish within the attempt's {:.1}s total timeout",
                d.as_secs_f64()
            ),
            _ => "the request's deadline passed mid-stream".to_owned(),
        }
    }
}

/// An instant and the bound it comes from.
pub(crate) type Limit = (Instant, Bound);

/// The earliest of the bounds that apply, with its cause.
pub(crate) fn earliest(
    bounds: impl IntoIterator<Item = (Instant, Bound)>,
) -> Option<(Instant, Bound)> {
    bounds.into_iter().min_by_key(|(at, _)| *at)
}

/// The per-attempt bounds from `start`, and the request deadline.
pub(crate) fn attempt_bounds(
    timeouts: &Timeouts,
    start: Instant,
    deadline: Option<Instant>,
) -> (Option<Limit>, Option<Limit>) {
    let first = timeouts
        .attempt_first_token
        .map(|d| (start + d, Bound::FirstToken(d)));
    let total = timeouts.attempt_total.map(|d| (start + d, Bound::Total(d)));
    let end = deadline.map(|at| (at, Bound::Deadline));
    (
        earliest([first, total, end].into_iter().flatten()),
        earliest([total, end].into_iter().flatten()),
    )
}

/// Resolves `call` within `bound`, turning expiry into an [`ErrorKind::Timeout`] error.
pub(crate) async fn resolve_within<F>(
    call: F,
    bound: Option<(Instant, Bound)>,
) -> Result<ChatReply, Error>
where
    F: Future<Output = Result<ChatReply, Error>>,
{
    match bound {
        None => call.await,
        Some((at, why)) => match tokio::time::timeout_at(at, call).await {
            Ok(result) => result,
            Err(_) => Err(why.expired()),
        },
    }
}

/// A boxed call to a deployment.
pub(crate) type CallFuture = Pin<Box<dyn Future<Output = Result<ChatReply, Error>> + Send>>;

/// A route's call to a deployment, resolved within a bound: [`resolve_within`] for an
/// already boxed call, without an `async` wrapper that would hold the call twice.
pub(crate) enum AttemptCall {
    /// No bound applies.
    Unbounded(CallFuture),
    /// Turns expiry into an [`ErrorKind::Timeout`] error naming the bound.
    Bounded(Pin<Box<Timeout<CallFuture>>>, Bound),
}

impl AttemptCall {
    /// `call`, bounded by `bound` if there is one.
    pub(crate) fn new(call: CallFuture, bound: Option<(Instant, Bound)>) -> Self {
        match bound {
            None => Self::Unbounded(call),
            Some((at, why)) => Self::Bounded(Box::pin(tokio::time::timeout_at(at, call)), why),
        }
    }
}

impl Future for AttemptCall {
    type Output = Result<ChatReply, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Self::Unbounded(call) => call.as_mut().poll(cx),
            Self::Bounded(call, why) => match call.as_mut().poll(cx) {
                Poll::Ready(Ok(result)) => Poll::Ready(result),
                Poll::Ready(Err(_elapsed)) => Poll::Ready(Err(why.expired())),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

/// Wraps a stream reply so it ends with `Err(Timeout)` at `bound`.
pub(crate) fn bound_stream(
    reply: ChatReply,
    bound: Option<(Instant, Bound)>,
    hook: Option<Box<dyn crate::stream::OnStreamError>>,
) -> ChatReply {
    match reply {
        ChatReply::Stream(stream) if bound.is_some() || hook.is_some() => {
            let (meta, events) = stream.into_parts();
            let limit = bound.map(|(at, why)| (at, why.stream_message()));
            ChatReply::Stream(ChatStream::from_parts(
                meta,
                Box::pin(Bounded::new(events, limit, hook)),
            ))
        }
        other => other,
    }
}

/// Applies per-attempt first-token and total timeouts (and a [`Deadline`] in the
/// request's extensions) to one service.
#[derive(Debug, Clone, Copy)]
pub struct TimeoutLayer {
    timeouts: Timeouts,
}

impl TimeoutLayer {
    /// A layer applying `attempt_first_token` and `attempt_total` of `timeouts`; its
    /// `request` field is ignored (a single service has no retries to share it with):
    /// put a [`Deadline`] into the request instead.
    pub fn new(timeouts: Timeouts) -> Self {
        Self { timeouts }
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = TimeoutService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TimeoutService {
            inner,
            timeouts: self.timeouts,
        }
    }
}

/// The service of [`TimeoutLayer`].
#[derive(Debug, Clone)]
pub struct TimeoutService<S> {
    inner: S,
    timeouts: Timeouts,
}

impl<S> Service<ChatRequest> for TimeoutService<S>
where
    S: Service<ChatRequest, Response = ChatReply, Error = Error>,
    S::Future: Send + 'static,
{
    type Response = ChatReply;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<ChatReply, Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: ChatRequest) -> Self::Future {
        let start = Instant::now();
        let deadline = request
            .extensions
            .get::<Deadline>()
            .map(|Deadline(at)| Instant::from_std(*at));
        let (resolve, stream) = attempt_bounds(&self.timeouts, start, deadline);
        let call = self.inner.call(request);
        Box::pin(async move {
            let reply = resolve_within(call, resolve).await?;
            Ok(bound_stream(reply, stream, None))
        })
    }
}
