//! HTTP plumbing shared by Tollgate's provider crates.
//!
//! Every provider sends a JSON POST, maps transport failures the same way, reads error
//! bodies with a size bound and decodes SSE from the response body. That shared part lives
//! here so that each provider crate holds only what is specific to its wire format.
//!
//! Nothing here ever puts a URL or a header value into an [`Error`]: transport errors
//! are stripped of their URL (which may carry a key in a query string), and request
//! headers are never quoted.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http::HeaderMap;
use serde_json::{Map, Value};
use tollgate_core::sse::SseStream;
use tollgate_core::{Error, ErrorKind};

/// The most bytes of an error body read before giving up on the rest.
pub const MAX_ERROR_BODY: usize = 64 * 1024;

/// The most bytes of a complete (non-streaming) response body accepted.
pub const MAX_RESPONSE_BODY: usize = 32 * 1024 * 1024;

/// Settings of the HTTP client a provider builds.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// Time allowed to establish a connection.
    pub connect_timeout: Duration,
    /// Idle pooled connections are closed after this long.
    pub pool_idle_timeout: Duration,
    /// Idle connections kept per host.
    pub pool_max_idle_per_host: usize,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            pool_idle_timeout: Duration::from_secs(90),
            pool_max_idle_per_host: 64,
        }
    }
}

/// Builds the reqwest client providers use (rustls, HTTP/2 when the server offers it,
/// no overall timeout: routers own timeouts, so a long stream is not cut by the client).
///
/// # Errors
///
/// [`ErrorKind::Transport`] if the TLS backend cannot be initialised.
pub fn build_client(settings: &ClientSettings) -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .connect_timeout(settings.connect_timeout)
        .pool_idle_timeout(settings.pool_idle_timeout)
        .pool_max_idle_per_host(settings.pool_max_idle_per_host)
        .tcp_nodelay(true)
        .user_agent(concat!("tollgate/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| {
            Error::new(ErrorKind::Transport, "could not build the HTTP client")
                .with_source(e.without_url())
        })
}

/// Maps a reqwest failure to an [`Error`] of the right kind, with its URL removed.
pub fn transport_error(provider: &str, error: reqwest::Error) -> Error {
    // reqwest reports a body cut mid-way (a dropped connection, a chunked body without
    // its last chunk) as a body or decode error. That is a broken transport, retryable
    // like any other: Tollgate parses JSON itself, so reqwest never decodes content.
    let kind = if error.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Transport
    };
    let what = if error.is_connect() {
        "could not connect"
    } else if error.is_timeout() {
        "timed out"
    } else if error.is_body() || error.is_decode() {
        "the response body broke off"
    } else {
        "the request failed"
    };
    let error = error.without_url();
    let mut message = what.to_owned();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(&error);
    // Name the root cause (e.g. "connection refused") without any URL.
    while let Some(cause) = source {
        if cause.source().is_none() {
            message.push_str(": ");
            message.push_str(&cause.to_string());
        }
        source = cause.source();
    }
    Error::new(kind, message)
        .with_provider(provider)
        .with_source(error)
}

/// A non-success HTTP answer, read so a provider can map it to an [`Error`].
#[derive(Debug, Clone)]
pub struct HttpFailure {
    /// The status code.
    pub status: u16,
    /// The response headers.
    pub headers: HeaderMap,
    /// The first [`MAX_ERROR_BODY`] bytes of the body.
    pub body: Bytes,
}

impl HttpFailure {
    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// `retry-after-ms` / `retry-after`, as [`tollgate_core::retry_after::from_headers`].
    pub fn retry_after(&self) -> Option<Duration> {
        tollgate_core::retry_after::from_headers(&self.headers, SystemTime::now())
    }

    /// A base error for this failure: the kind its status means, the status, the
    /// provider, `retry_after` and `x-should-retry`. Providers refine kind, code and
    /// message from the body.
    pub fn base_error(&self, provider: &str, message: impl Into<String>) -> Error {
        let mut error = Error::new(ErrorKind::from_status(self.status), message)
            .with_provider(provider)
            .with_status(self.status);
        if let Some(delay) = self.retry_after() {
            error = error.with_retry_after(delay);
        }
        if let Some(retry) = tollgate_core::retry_after::should_retry(&self.headers) {
            error = error.with_retryable(retry);
        }
        error
    }
}

/// Sends a request; a 2xx response is returned, anything else is read into an
/// [`HttpFailure`] and handed to `map_failure`.
///
/// # Errors
///
/// A transport error, or whatever `map_failure` makes of a non-success answer.
pub async fn send(
    provider: &str,
    request: reqwest::RequestBuilder,
    map_failure: impl FnOnce(HttpFailure) -> Error,
) -> Result<reqwest::Response, Error> {
    let response = request
        .send()
        .await
        .map_err(|e| transport_error(provider, e))?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let headers = response.headers().clone();
    let body = read_limited(provider, response, MAX_ERROR_BODY)
        .await
        .unwrap_or_default();
    Err(map_failure(HttpFailure {
        status: status.as_u16(),
        headers,
        body,
    }))
}

/// Reads at most `limit` bytes of a body; the rest is dropped unread.
///
/// # Errors
///
/// A transport error if the body breaks off.
pub async fn read_limited(
    provider: &str,
    response: reqwest::Response,
    limit: usize,
) -> Result<Bytes, Error> {
    let mut stream = response.bytes_stream();
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| transport_error(provider, e))?;
        let room = limit.saturating_sub(out.len());
        out.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if out.len() >= limit {
            break;
        }
    }
    Ok(Bytes::from(out))
}

/// Reads a complete JSON response body into `T`.
///
/// # Errors
///
/// A transport error if the body breaks off, [`ErrorKind::Decode`] (quoting the start of
/// the body) if it is not the expected JSON.
pub async fn read_json<T: serde::de::DeserializeOwned>(
    provider: &str,
    response: reqwest::Response,
) -> Result<T, Error> {
    let body = read_limited(provider, response, MAX_RESPONSE_BODY).await?;
    serde_json::from_slice(&body).map_err(|e| {
        Error::decode(format_args!("unexpected response body ({e})"), &body).with_provider(provider)
    })
}

/// The server-sent events of a response body; transport failures become [`Error`]s
/// naming `provider` (a `&'static str` or a name from config alike).
pub fn sse(
    provider: impl Into<Arc<str>>,
    response: reqwest::Response,
) -> SseStream<impl Stream<Item = Result<Bytes, Error>> + Send + 'static> {
    let provider: Arc<str> = provider.into();
    SseStream::new(
        response
            .bytes_stream()
            .map(move |chunk| chunk.map_err(|e| transport_error(&provider, e))),
    )
}

/// Merges a request's `extra` fields into the top level of a wire body; a field in
/// `extra` replaces the one the translator wrote.
pub fn merge_extra(body: &mut Value, extra: &Map<String, Value>) {
    if let Value::Object(map) = body {
        for (key, value) in extra {
            map.insert(key.clone(), value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_fields_win_over_translated_ones() {
        let mut body = serde_json::json!({"model": "a", "n": 1});
        let mut extra = Map::new();
        extra.insert("n".into(), Value::from(2));
        extra.insert("service_tier".into(), Value::from("flex"));
        merge_extra(&mut body, &extra);
        assert_eq!(
            body,
            serde_json::json!({"model": "a", "n": 2, "service_tier": "flex"})
        );
    }

    #[tokio::test]
    async fn connect_failures_are_transport_errors_without_the_url() {
        // Bind then drop a listener so the port is (almost certainly) closed.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let client = build_client(&ClientSettings::default()).unwrap();
        let url = format!("http://{addr}/v1/chat?key=sk-secret-in-query");
        let err = send("openai", client.post(url), |_| unreachable_failure())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transport);
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("sk-secret-in-query"), "{shown}");
    }

    fn unreachable_failure() -> Error {
        Error::new(ErrorKind::Server, "a failure mapping that must not run")
    }
}
