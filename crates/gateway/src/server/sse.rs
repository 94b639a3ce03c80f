//! The body of a streamed answer: core events in, OpenAI SSE frames out, one log line at
//! the end.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use futures_core::Stream;
use tollgate_core::ChatStream;

use super::chat::{cost_of, deployment_name};
use super::log::{Json, OptJson};
use crate::api::ApiError;
use crate::api::stream::ChunkEncoder;
use crate::state::AppState;

/// A [`ChatStream`] encoded as `chat.completion.chunk` events.
///
/// It ends with the usage chunk (if asked), the cost comment and `data: [DONE]` when the
/// stream finished, or with one `data: {"error":…}` frame when it broke. Dropping it
/// before the end (the client went away) drops the upstream stream, which cancels the
/// provider call, and logs the request as cancelled.
pub struct SseBody {
    stream: ChatStream,
    abort: Pin<Box<dyn Future<Output = ()> + Send>>,
    encoder: ChunkEncoder,
    state: Arc<AppState>,
    route: String,
    caller: Option<String>,
    started: Instant,
    done: bool,
}

impl SseBody {
    /// Wraps a stream for the route `route` of `state`.
    pub fn new(
        stream: ChatStream,
        abort: Pin<Box<dyn Future<Output = ()> + Send>>,
        encoder: ChunkEncoder,
        state: Arc<AppState>,
        route: String,
        caller: Option<String>,
        started: Instant,
    ) -> Self {
        Self {
            stream,
            abort,
            encoder,
            state,
            route,
            caller,
            started,
            done: false,
        }
    }

    fn cost(&self) -> Option<f64> {
        let usage = self.encoder.usage()?;
        let route = self.state.routes.get(&self.route)?;
        cost_of(
            &self.state,
            route,
            self.stream.meta(),
            self.encoder.model(),
            usage,
        )
    }

    fn log_end(&self, outcome: &str, cost: Option<f64>, error: Option<&tollgate_core::Error>) {
        let meta = self.stream.meta();
        let deployment = self
            .state
            .routes
            .get(&self.route)
            .map_or("", |route| deployment_name(route, meta));
        let elapsed_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        let caller = self.caller.as_deref().unwrap_or("");
        match error {
            None if outcome == "cancelled" => tracing::info!(target: "tollgate::request",
                route = %self.route, caller, stream = true, status = 200u16, outcome,
                deployment, provider = %meta.provider, attempts = meta.attempts(),
                usage = %OptJson(self.encoder.usage()), elapsed_ms,
                "stream cancelled by the client"),
            None => tracing::info!(target: "tollgate::request",
                route = %self.route, caller, stream = true, status = 200u16, outcome,
                deployment, provider = %meta.provider, attempts = meta.attempts(),
                usage = %OptJson(self.encoder.usage()), cost_usd = cost, elapsed_ms,
                "request served"),
            Some(error) => tracing::warn!(target: "tollgate::request",
                route = %self.route, caller, stream = true, status = 200u16, outcome,
                deployment, provider = %meta.provider, attempts = meta.attempts(),
                usage = %OptJson(self.encoder.usage()), error = %Json(error), elapsed_ms,
                "stream broke"),
        }
    }
}

impl Stream for SseBody {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            if this.abort.as_mut().poll(cx).is_ready() {
                this.done = true;
                let error = tollgate_core::Error::new(
                    tollgate_core::ErrorKind::Cancelled,
                    "the gateway shut down before this stream finished",
                );
                this.log_end("aborted", None, Some(&error));
                let frame = this.encoder.error(&ApiError::new(
                    http::StatusCode::SERVICE_UNAVAILABLE,
                    "server_error",
                    "shutting_down",
                    error.message(),
                ));
                return Poll::Ready(Some(Ok(frame)));
            }
            match Pin::new(&mut this.stream).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(event))) => {
                    if let Some(frame) = this.encoder.event(event) {
                        return Poll::Ready(Some(Ok(frame)));
                    }
                }
                Poll::Ready(Some(Err(error))) => {
                    this.done = true;
                    this.log_end("broken", None, Some(&error));
                    let frame = this.encoder.error(&ApiError::from_error(&error));
                    return Poll::Ready(Some(Ok(frame)));
                }
                Poll::Ready(None) => {
                    this.done = true;
                    let cost = this.cost();
                    this.log_end("finished", cost, None);
                    return Poll::Ready(Some(Ok(this.encoder.finish(cost))));
                }
            }
        }
    }
}

impl Drop for SseBody {
    fn drop(&mut self) {
        if !self.done {
            self.log_end("cancelled", None, None);
        }
    }
}
