//! What the fake server saw of one request.

use bytes::Bytes;
use http::HeaderMap;

/// One request as the fake server received it, recorded whether it was accepted or rejected.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// The HTTP method, e.g. `POST`.
    pub method: String,
    /// The path, followed by `?query` when the request had one
    /// (e.g. `/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`).
    pub path: String,
    /// Every request header, as sent.
    pub headers: HeaderMap,
    /// The request body, byte for byte.
    pub body: Bytes,
}

impl RecordedRequest {
    /// The body parsed as JSON; `Value::Null` when it is not valid JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The value of header `name` (case-insensitive), if present and valid visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }

    /// The path without its query string.
    pub fn path_only(&self) -> &str {
        self.path
            .split_once('?')
            .map_or(&self.path, |(path, _)| path)
    }

    /// The raw query string (without `?`), if any.
    pub fn query(&self) -> Option<&str> {
        self.path.split_once('?').map(|(_, query)| query)
    }
}
