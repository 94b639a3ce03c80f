//! What the fake server answers to one request: status, headers, body and scripted timing.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderName, HeaderValue};

/// One scripted answer. Build it with a constructor ([`Reply::json`], [`Reply::sse`], …) and
/// adjust it with the modifiers ([`Reply::with_header`], [`Reply::delay`], …).
///
/// Every delay is a `tokio::time::sleep` on the server's runtime, so under
/// `tokio::time::pause()` scripted latency costs no wall time and is exact.
#[derive(Clone)]
pub struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: ReplyBody,
    pub(crate) delay: Duration,
    pub(crate) first_chunk_after: Duration,
    pub(crate) chunk_interval: Duration,
    pub(crate) disconnect_after: Option<usize>,
    /// A scripting mistake (an invalid header) found while building; served as a 500 so the
    /// test that made it sees the message.
    pub(crate) problem: Option<String>,
}

/// The body kinds a reply can have.
#[derive(Clone)]
pub(crate) enum ReplyBody {
    /// Written in one piece.
    Full(Bytes),
    /// A `text/event-stream` body written one event per chunk.
    Sse(Bytes),
    /// No response headers are ever sent.
    Hang,
}

/// Why an error fixture could not be read.
#[derive(Debug)]
pub struct FixtureError {
    message: String,
}

impl fmt::Display for FixtureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid error fixture: {}", self.message)
    }
}

impl std::error::Error for FixtureError {}

impl FixtureError {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl Reply {
    fn with_body(status: u16, content_type: &str, body: ReplyBody) -> Reply {
        let reply = Reply {
            status,
            headers: HeaderMap::new(),
            body,
            delay: Duration::ZERO,
            first_chunk_after: Duration::ZERO,
            chunk_interval: Duration::ZERO,
            disconnect_after: None,
            problem: None,
        };
        reply.with_header(CONTENT_TYPE.as_str(), content_type)
    }

    /// `200 OK` with `content-type: application/json` and `body` serialised compactly.
    pub fn json(body: serde_json::Value) -> Reply {
        Reply::json_with_status(200, &body)
    }

    fn json_with_status(status: u16, body: &serde_json::Value) -> Reply {
        // Serialising a `Value` cannot fail: its map keys are always strings.
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        Reply::raw(status, "application/json", bytes)
    }

    /// Any status, content type and body, written in one piece.
    pub fn raw(status: u16, content_type: &str, body: impl Into<Bytes>) -> Reply {
        Reply::with_body(status, content_type, ReplyBody::Full(body.into()))
    }

    /// `status` with a JSON body (`content-type: application/json`). The flavor's own error
    /// shape is the caller's to build; [`scenario::error_reply`](crate::scenario::error_reply)
    /// builds the real ones.
    pub fn error(status: u16, body: serde_json::Value) -> Reply {
        Reply::json_with_status(status, &body)
    }

    /// Reads a fixture wrapper `{"status": 429, "headers": {"retry-after": "12", …}, "body": {…}}`
    /// and serves `body` (compact JSON) with that status and those headers.
    ///
    /// # Panics
    ///
    /// When the wrapper is not valid (test-only input); [`Reply::try_error_fixture`] returns the
    /// problem instead.
    #[allow(clippy::panic)] // Test-only input; documented above, with a non-panicking twin.
    pub fn error_fixture(wrapper_json: &str) -> Reply {
        match Reply::try_error_fixture(wrapper_json) {
            Ok(reply) => reply,
            Err(error) => panic!("{error}"),
        }
    }

    /// Like [`Reply::error_fixture`], returning an error when the wrapper is not a JSON object
    /// with an integer `status`, an optional object of string `headers`, and a `body`.
    pub fn try_error_fixture(wrapper_json: &str) -> Result<Reply, FixtureError> {
        let wrapper: serde_json::Value = serde_json::from_str(wrapper_json)
            .map_err(|e| FixtureError::new(format!("not JSON: {e}")))?;
        let status = wrapper
            .get("status")
            .and_then(serde_json::Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .filter(|s| (100..=999).contains(s))
            .ok_or_else(|| FixtureError::new("`status` must be an HTTP status number"))?;
        let body = wrapper
            .get("body")
            .ok_or_else(|| FixtureError::new("`body` is missing"))?;
        let mut reply = Reply::json_with_status(status, body);
        if let Some(headers) = wrapper.get("headers") {
            let headers = headers
                .as_object()
                .ok_or_else(|| FixtureError::new("`headers` must be an object"))?;
            for (name, value) in headers {
                let value = value.as_str().ok_or_else(|| {
                    FixtureError::new(format!("header `{name}` must be a string"))
                })?;
                reply = reply.with_header(name, value);
                if let Some(problem) = reply.problem.take() {
                    return Err(FixtureError::new(problem));
                }
            }
        }
        Ok(reply)
    }

    /// `200 OK`, `content-type: text/event-stream`, and `body` as given.
    ///
    /// The server splits the body into events after each blank line (`LF LF`, `CRLF CRLF` or
    /// `CR CR`, including mixed forms), keeping every byte exactly, and writes each event as its
    /// own chunk; bytes after the last blank line form a final chunk.
    pub fn sse(body: impl Into<Bytes>) -> Reply {
        Reply::with_body(200, "text/event-stream", ReplyBody::Sse(body.into()))
    }

    /// Never sends response headers: the request stays pending until the client gives up (or
    /// the server is dropped).
    pub fn hang() -> Reply {
        let mut reply = Reply::with_body(200, "text/plain", ReplyBody::Hang);
        reply.headers.clear();
        reply
    }

    /// Sets header `name` to `value`, replacing any value set earlier for the same name
    /// (including the constructor's `content-type`). An invalid name or value makes the server
    /// answer this reply with a 500 that names the mistake.
    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(name), Ok(value)) => {
                self.headers.insert(name, value);
            }
            _ => {
                self.problem = Some(format!(
                    "tollgate-testkit: invalid scripted header {name:?}: {value:?}"
                ));
            }
        }
        self
    }

    /// Waits `d` before sending the response headers.
    pub fn delay(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }

    /// SSE only: waits `d` after the headers before the first event.
    pub fn first_chunk_after(mut self, d: Duration) -> Reply {
        self.first_chunk_after = d;
        self
    }

    /// SSE only: waits `d` before every event after the first.
    pub fn chunk_interval(mut self, d: Duration) -> Reply {
        self.chunk_interval = d;
        self
    }

    /// SSE only: sends the first `events` events (all of them if there are fewer), then aborts
    /// the connection in place of the next one (after the same pause that event would have
    /// had): the body ends with an error, never cleanly. Response headers are always sent, so
    /// `disconnect_after(0)` is a 200 whose body fails at once.
    pub fn disconnect_after(mut self, events: usize) -> Reply {
        self.disconnect_after = Some(events);
        self
    }

    /// The HTTP status this reply answers with.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The response headers this reply sends.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The whole body (for SSE: every event, concatenated); `None` for [`Reply::hang`].
    pub fn body(&self) -> Option<&Bytes> {
        match &self.body {
            ReplyBody::Full(bytes) | ReplyBody::Sse(bytes) => Some(bytes),
            ReplyBody::Hang => None,
        }
    }

    /// Whether the body is served as a stream of SSE events.
    pub fn is_sse(&self) -> bool {
        matches!(self.body, ReplyBody::Sse(_))
    }
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let body = match &self.body {
            ReplyBody::Full(bytes) => format!("full({} bytes)", bytes.len()),
            ReplyBody::Sse(bytes) => format!("sse({} bytes)", bytes.len()),
            ReplyBody::Hang => "hang".to_owned(),
        };
        f.debug_struct("Reply")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", &body)
            .field("delay", &self.delay)
            .field("first_chunk_after", &self.first_chunk_after)
            .field("chunk_interval", &self.chunk_interval)
            .field("disconnect_after", &self.disconnect_after)
            .finish_non_exhaustive()
    }
}
