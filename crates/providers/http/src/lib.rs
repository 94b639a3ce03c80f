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
/// Redirects are not followed: a provider API does not redirect its endpoints, and the
/// router owns retries. A 3xx answer is a failure like any other non-success status.
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
        .redirect(reqwest::redirect::Policy::none())
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
/// A body that arrives in one chunk is returned as it is, without a copy; a longer one
/// is gathered into a buffer sized from `content-length` when the server sent it.
///
/// # Errors
///
/// A transport error if the body breaks off.
pub async fn read_limited(
    provider: &str,
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Bytes, Error> {
    let expected = response
        .content_length()
        .and_then(|length| usize::try_from(length).ok())
        .unwrap_or(0);
    let Some(first) = next_chunk(provider, &mut response).await? else {
        return Ok(Bytes::new());
    };
    if first.len() >= limit {
        return Ok(first.slice(..limit));
    }
    let Some(mut chunk) = next_chunk(provider, &mut response).await? else {
        return Ok(first);
    };
    let mut out = Vec::with_capacity(expected.max(first.len() + chunk.len()).min(limit));
    out.extend_from_slice(&first);
    loop {
        let room = limit.saturating_sub(out.len());
        out.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if out.len() >= limit {
            break;
        }
        match next_chunk(provider, &mut response).await? {
            Some(next) => chunk = next,
            None => break,
        }
    }
    Ok(Bytes::from(out))
}

/// The next chunk of a body, `None` at its end.
async fn next_chunk(
    provider: &str,
    response: &mut reqwest::Response,
) -> Result<Option<Bytes>, Error> {
    response
        .chunk()
        .await
        .map_err(|e| transport_error(provider, e))
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

/// Serializes a provider's wire body with the request's `extra` fields merged into its top
/// level. Without `extra` (the usual case) the body is written straight into bytes; only
/// a request with `extra` pays for an intermediate JSON tree.
///
/// # Errors
///
/// Whatever serialization fails with (a non-finite float, a map with non-string keys).
pub fn json_body<T: serde::Serialize>(
    wire: &T,
    extra: &Map<String, Value>,
) -> Result<Vec<u8>, serde_json::Error> {
    // Most requests fit without growing (and copying) the buffer; larger ones double.
    let mut out = Vec::with_capacity(1024);
    if extra.is_empty() {
        serde_json::to_writer(&mut out, wire)?;
    } else {
        let mut body = serde_json::to_value(wire)?;
        merge_extra(&mut body, extra);
        serde_json::to_writer(&mut out, &body)?;
    }
    Ok(out)
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
    use std::net::SocketAddr;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::task::JoinHandle;

    use super::*;

    #[test]
    fn json_bodies_are_the_same_with_or_without_the_shortcut() {
        let wire = serde_json::json!({"model": "a", "n": 1});
        let plain: Value = serde_json::from_slice(&json_body(&wire, &Map::new()).unwrap()).unwrap();
        assert_eq!(plain, wire);
        let mut extra = Map::new();
        extra.insert("n".into(), Value::from(2));
        let merged: Value = serde_json::from_slice(&json_body(&wire, &extra).unwrap()).unwrap();
        assert_eq!(merged, serde_json::json!({"model": "a", "n": 2}));
    }

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

    /// Serves each raw HTTP/1.1 answer in `answers` to one connection in turn, and
    /// returns the request heads it read.
    async fn serve(answers: Vec<&'static str>) -> (SocketAddr, JoinHandle<Vec<String>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let mut heads = Vec::new();
            for answer in answers {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    socket.read_exact(&mut byte).await.unwrap();
                    head.push(byte[0]);
                }
                heads.push(String::from_utf8(head).unwrap());
                socket.write_all(answer.as_bytes()).await.unwrap();
                socket.shutdown().await.unwrap();
            }
            heads
        });
        (addr, task)
    }

    #[tokio::test]
    async fn redirects_are_failures_not_followed() {
        let (addr, server) = serve(vec![
            "HTTP/1.1 307 Temporary Redirect\r\nlocation: /elsewhere\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        ])
        .await;
        let client = build_client(&ClientSettings::default()).unwrap();
        let err = send(
            "openai",
            client.post(format!("http://{addr}/v1/chat")),
            |f| f.base_error("openai", "redirected"),
        )
        .await
        .unwrap_err();
        assert_eq!(err.status(), Some(307));
        let heads = server.await.unwrap();
        assert_eq!(heads.len(), 1);
        assert!(heads[0].starts_with("POST /v1/chat "), "{heads:?}");
    }

    #[tokio::test]
    async fn bodies_in_many_chunks_are_read_whole_or_cut_at_the_limit() {
        const CHUNKED: &str = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n2\r\nhi\r\n0\r\n\r\n";
        const ONE_PIECE: &str =
            "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello";
        let (addr, _server) = serve(vec![CHUNKED, CHUNKED, ONE_PIECE, ONE_PIECE]).await;
        let client = build_client(&ClientSettings::default()).unwrap();
        let url = format!("http://{addr}/");
        let read = async |limit| {
            let response = client.get(&url).send().await.unwrap();
            read_limited("openai", response, limit).await.unwrap()
        };
        assert_eq!(read(100).await, "abcdefghi");
        assert_eq!(read(5).await, "abcde");
        assert_eq!(read(100).await, "hello");
        assert_eq!(read(2).await, "he");
    }

    fn unreachable_failure() -> Error {
        Error::new(ErrorKind::Server, "a failure mapping that must not run")
    }
}
