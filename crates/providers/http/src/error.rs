//! Transport failures and non-success answers as [`Error`]s of the right kind.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::HeaderMap;
use serde_json::Value;
use tollgate_core::{Error, ErrorKind};

/// Maps a failure to send a request to an [`Error`] of the right kind, naming its root
/// cause (e.g. "connection refused"). hyper's errors never carry the URL.
pub fn transport_error(
    provider: &str,
    error: impl std::error::Error + Send + Sync + 'static,
) -> Error {
    classify(provider, error, false)
}

/// Maps a failure while reading a response body: a body cut mid-way (a dropped
/// connection, a chunked body without its last chunk) is a broken transport,
/// retryable like any other.
pub(crate) fn body_error(provider: &str, error: hyper::Error) -> Error {
    classify(provider, error, true)
}

fn classify(
    provider: &str,
    error: impl std::error::Error + Send + Sync + 'static,
    mut body: bool,
) -> Error {
    let mut timed_out = false;
    let mut connect = false;
    let mut root = None;
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(current) = cause {
        if let Some(e) = current.downcast_ref::<crate::pool::SendError>() {
            connect |= e.is_connect();
        }
        if let Some(e) = current.downcast_ref::<hyper::Error>() {
            timed_out |= e.is_timeout();
            body |= e.is_incomplete_message();
        }
        if let Some(e) = current.downcast_ref::<std::io::Error>() {
            timed_out |= e.kind() == std::io::ErrorKind::TimedOut;
        }
        if current.source().is_none() {
            root = Some(current.to_string());
        }
        cause = current.source();
    }
    let kind = if timed_out {
        ErrorKind::Timeout
    } else {
        ErrorKind::Transport
    };
    let what = if connect {
        "could not connect"
    } else if timed_out {
        "timed out"
    } else if body {
        "the response body broke off"
    } else {
        "the request failed"
    };
    let message = match root {
        Some(root) => format!("{what}: {root}"),
        None => what.to_owned(),
    };
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
    /// The first [`MAX_ERROR_BODY`](crate::MAX_ERROR_BODY) bytes of the body.
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
