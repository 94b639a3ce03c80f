//! `POST /v1/chat/completions`.
//!
//! In order: take a snapshot of the [`AppState`]; authenticate the caller (401); read the
//! body within the limit (413); decode it into a [`ChatRequest`](tollgate_core::ChatRequest) once (400 naming the
//! field); find the route (404 listing the known ones); check the key may use it (403)
//! and is within its rate (429); call the route's service; answer
//! - a complete reply as one `chat.completion` JSON, with `x-tollgate-deployment`,
//!   `x-tollgate-attempts`, `x-tollgate-cost-usd` and `server-timing`;
//! - a stream as `chat.completion.chunk` server-sent events ([`super::sse`]), with the same
//!   headers except the cost, which is only known at the end (see [`crate::api::stream`]);
//! - a failure in OpenAI's error JSON with the status of
//!   [`status_of`](crate::api::status_of) and `retry-after` when the router gave one.
//!
//! A panic inside the route's service is caught and answered as a 500 in the same JSON
//! shape; the gateway itself has no panicking paths.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use tollgate_core::{ChatReply, ChatResponse, ReplyMeta, Usage};
use tower::ServiceExt;

use super::body::read_limited;
use super::log::{LoggedRequest, OptJson};
use super::sse::SseBody;
use crate::api::stream::{ChunkEncoder, format_cost};
use crate::api::{ApiError, request, response};
use crate::auth;
use crate::state::{AppState, RouteEntry, SharedState};

/// The name of the header that reports the deployment that answered.
pub const DEPLOYMENT_HEADER: &str = "x-tollgate-deployment";
/// The name of the header that reports how many attempts the answer took.
pub const ATTEMPTS_HEADER: &str = "x-tollgate-attempts";
/// The name of the header that reports what the call cost, in USD.
pub const COST_HEADER: &str = "x-tollgate-cost-usd";

// The same names, checked once at compile time rather than on every answer.
const DEPLOYMENT: HeaderName = HeaderName::from_static(DEPLOYMENT_HEADER);
const ATTEMPTS: HeaderName = HeaderName::from_static(ATTEMPTS_HEADER);
const COST: HeaderName = HeaderName::from_static(COST_HEADER);
const SERVER_TIMING: HeaderName = HeaderName::from_static("server-timing");

/// The handler.
pub async fn chat_completions(State(shared): State<SharedState>, request: Request) -> Response {
    let started = Instant::now();
    let state = shared.load();
    let (parts, body) = request.into_parts();
    let outcome = tokio::select! {
        biased;
        outcome = serve(&shared, &state, &parts.headers, body, started) => outcome,
        () = shared.aborted() => Err(Failure::early(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            "shutting_down",
            "The gateway is shutting down and could not finish this request in time; retry it.",
        ))),
    };
    match outcome {
        Ok(response) => response,
        Err(failure) => {
            failure.log(started);
            failure.error.into_response()
        }
    }
}

/// A failed request: the answer, and what the log line says about it.
struct Failure {
    error: ApiError,
    route: Option<String>,
    caller: Option<String>,
    core: Option<tollgate_core::Error>,
}

impl Failure {
    fn early(error: ApiError) -> Self {
        Self {
            error,
            route: None,
            caller: None,
            core: None,
        }
    }

    fn log(&self, started: Instant) {
        let status = self.error.status.as_u16();
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        let route = self.route.as_deref().unwrap_or("");
        let caller = self.caller.as_deref().unwrap_or("");
        if self.error.status.is_server_error() {
            tracing::warn!(target: "tollgate::request", route, caller, status, code = %self.error.code,
                error = %OptJson(self.core.as_ref()), elapsed_ms, "request failed");
        } else {
            tracing::info!(target: "tollgate::request", route, caller, status, code = %self.error.code,
                error = %OptJson(self.core.as_ref()), elapsed_ms, "request refused");
        }
    }
}

async fn serve(
    shared: &SharedState,
    state: &Arc<AppState>,
    headers: &HeaderMap,
    body: Body,
    started: Instant,
) -> Result<Response, Failure> {
    let caller = auth::authenticate(&state.keys, headers).map_err(Failure::early)?;
    let caller_name = caller.map(|k| k.name.clone());
    let fail = |error: ApiError, route: Option<&str>| Failure {
        error,
        route: route.map(str::to_owned),
        caller: caller_name.clone(),
        core: None,
    };
    let bytes = read_limited(headers, body, state.limits.max_body_bytes)
        .await
        .map_err(|e| fail(e, None))?;
    let decoded = request::decode(&bytes).map_err(|e| fail(e, None))?;
    drop(bytes);
    let chat = decoded.request;
    let Some(route) = state.routes.get(&chat.model) else {
        let known = state
            .routes
            .keys()
            .map(String::as_str)
            .filter(|name| caller.is_none_or(|k| k.may_use(name)));
        return Err(fail(
            ApiError::unknown_model(&chat.model, known),
            Some(&chat.model),
        ));
    };
    auth::authorize(&state.keys, caller, &chat.model).map_err(|e| fail(e, Some(&chat.model)))?;
    let route_name = chat.model.clone();
    tracing::debug!(target: "tollgate::request", route = %route_name, request = %LoggedRequest {
        request: &chat, content: state.log_content }, "request received");

    let stream = chat.stream;
    let called = Instant::now();
    let outcome = AssertUnwindSafe(route.service.clone().oneshot(chat))
        .catch_unwind()
        .await;
    let upstream = called.elapsed();
    let reply = match outcome {
        Ok(Ok(reply)) => reply,
        Ok(Err(error)) => {
            return Err(Failure {
                error: ApiError::from_error(&error),
                route: Some(route_name),
                caller: caller_name,
                core: Some(error),
            });
        }
        Err(_panic) => {
            return Err(Failure {
                error: ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "internal_error",
                    "The gateway failed while serving this request (a bug: please report it).",
                ),
                route: Some(route_name),
                caller: caller_name,
                core: None,
            });
        }
    };
    match reply {
        ChatReply::Complete(complete) if !stream => Ok(complete_response(
            state,
            route,
            &route_name,
            caller_name.as_deref(),
            &complete,
            started,
            upstream,
        )),
        ChatReply::Complete(complete) => {
            // The service answered a streaming request in one piece: replay it.
            let reply = ChatReply::Complete(complete);
            Ok(stream_response(
                shared,
                state,
                route,
                route_name,
                caller_name,
                reply,
                decoded.include_usage,
                started,
                upstream,
            ))
        }
        ChatReply::Stream(chat_stream) if stream => Ok(stream_response(
            shared,
            state,
            route,
            route_name,
            caller_name,
            ChatReply::Stream(chat_stream),
            decoded.include_usage,
            started,
            upstream,
        )),
        ChatReply::Stream(chat_stream) => {
            // The service streamed a complete request: collect it.
            match chat_stream.collect().await {
                Ok(complete) => Ok(complete_response(
                    state,
                    route,
                    &route_name,
                    caller_name.as_deref(),
                    &complete,
                    started,
                    called.elapsed(),
                )),
                Err(error) => Err(Failure {
                    error: ApiError::from_error(&error),
                    route: Some(route_name),
                    caller: caller_name,
                    core: Some(error),
                }),
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn complete_response(
    state: &AppState,
    route: &RouteEntry,
    route_name: &str,
    caller: Option<&str>,
    complete: &ChatResponse,
    started: Instant,
    upstream: Duration,
) -> Response {
    let body = response::encode(complete, response::unix_now());
    let cost = complete
        .usage
        .as_ref()
        .and_then(|usage| cost_of(state, route, &complete.meta, &complete.model, usage));
    let mut response = Response::new(Body::from(body));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    reply_headers(headers, route, &complete.meta);
    if let Some(cost) = cost
        && let Ok(value) = HeaderValue::try_from(format_cost(cost))
    {
        headers.insert(COST, value);
    }
    let total = started.elapsed();
    let overhead = total.saturating_sub(upstream);
    headers.insert(SERVER_TIMING, server_timing(overhead, upstream));
    tracing::info!(target: "tollgate::request",
        route = route_name, caller = caller.unwrap_or(""), stream = false, status = 200u16,
        deployment = deployment_name(route, &complete.meta), provider = %complete.meta.provider,
        attempts = complete.meta.attempts(), finish_reason = %complete.finish_reason,
        usage = %OptJson(complete.usage.as_ref()), cost_usd = cost,
        elapsed_ms = total.as_secs_f64() * 1000.0, overhead_us = overhead.as_micros() as u64,
        "request served");
    response
}

#[allow(clippy::too_many_arguments)]
fn stream_response(
    shared: &SharedState,
    state: &Arc<AppState>,
    route: &RouteEntry,
    route_name: String,
    caller: Option<String>,
    reply: ChatReply,
    include_usage: bool,
    started: Instant,
    upstream: Duration,
) -> Response {
    let chat_stream = reply.into_stream();
    let mut builder = Response::builder()
        .header(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        )
        .header(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Some(headers) = builder.headers_mut() {
        reply_headers(headers, route, chat_stream.meta());
        let overhead = started.elapsed().saturating_sub(upstream);
        headers.insert(SERVER_TIMING, server_timing(overhead, upstream));
    }
    let body = SseBody::new(
        chat_stream,
        Box::pin(shared.aborted()),
        ChunkEncoder::new(response::unix_now(), include_usage),
        Arc::clone(state),
        route_name,
        caller,
        started,
    );
    builder.body(Body::from_stream(body)).unwrap_or_else(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "internal_error",
            "The gateway could not build the stream response.",
        )
        .into_response()
    })
}

/// `x-tollgate-deployment` and `x-tollgate-attempts`.
fn reply_headers(headers: &mut HeaderMap, route: &RouteEntry, meta: &ReplyMeta) {
    if let Ok(value) = HeaderValue::from_str(deployment_name(route, meta)) {
        headers.insert(DEPLOYMENT, value);
    }
    headers.insert(ATTEMPTS, HeaderValue::from(meta.attempts()));
}

/// The deployment that answered: the router's word for it, else the route's only
/// deployment, else the provider.
pub(crate) fn deployment_name<'a>(route: &'a RouteEntry, meta: &'a ReplyMeta) -> &'a str {
    match (&meta.deployment, route.deployments.as_slice()) {
        (Some(name), _) => name,
        (None, [only]) => &only.name,
        (None, _) => &meta.provider,
    }
}

/// What a call cost: the answering deployment's configured price, else the price source's
/// price for its (provider, model), else for the (provider, reported model).
pub(crate) fn cost_of(
    state: &AppState,
    route: &RouteEntry,
    meta: &ReplyMeta,
    reported_model: &str,
    usage: &Usage,
) -> Option<f64> {
    let deployment = match &meta.deployment {
        Some(name) => route.deployments.iter().find(|d| &d.name == name),
        None if route.deployments.len() == 1 => route.deployments.first(),
        None => None,
    };
    if let Some(deployment) = deployment {
        if let Some(price) = &deployment.price {
            return Some(usage.cost(price).total());
        }
        if let Some(price) = state.prices.price(&deployment.provider, &deployment.model) {
            return Some(usage.cost(&price).total());
        }
    }
    let price = state.prices.price(&meta.provider, reported_model)?;
    Some(usage.cost(&price).total())
}

/// `server-timing: gateway;dur=<ms>, upstream;dur=<ms>`, to the microsecond.
fn server_timing(overhead: Duration, upstream: Duration) -> HeaderValue {
    // Printed from integer microseconds with `itoa`: `format!` with fixed-precision
    // floats takes a slow exact path, and even with integers its machinery cost ~1,300
    // instructions per header, a percent of a whole proxied request.
    let mut text = Vec::with_capacity(48);
    text.extend_from_slice(b"gateway;dur=");
    push_millis(&mut text, overhead.as_micros());
    text.extend_from_slice(b", upstream;dur=");
    push_millis(&mut text, upstream.as_micros());
    HeaderValue::from_maybe_shared(bytes::Bytes::from(text))
        .unwrap_or_else(|_| HeaderValue::from_static("gateway"))
}

/// Appends `micros` as milliseconds with three decimals (`1234` → `1.234`).
fn push_millis(out: &mut Vec<u8>, micros: u128) {
    let mut digits = itoa::Buffer::new();
    out.extend_from_slice(digits.format(micros / 1000).as_bytes());
    let fraction = micros % 1000;
    out.push(b'.');
    if fraction < 100 {
        out.push(b'0');
    }
    if fraction < 10 {
        out.push(b'0');
    }
    out.extend_from_slice(digits.format(fraction).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_timing_prints_milliseconds_with_three_decimals() {
        let timing = |gateway: u64, upstream: u64| {
            server_timing(
                Duration::from_micros(gateway),
                Duration::from_micros(upstream),
            )
        };
        assert_eq!(timing(61, 1_234), "gateway;dur=0.061, upstream;dur=1.234");
        assert_eq!(timing(0, 5), "gateway;dur=0.000, upstream;dur=0.005");
        assert_eq!(
            timing(100, 12_000_050),
            "gateway;dur=0.100, upstream;dur=12000.050"
        );
    }
}
