//! Request logs: one `tracing` event per request on the `tollgate::request` target.
//!
//! - At `info`: one line when a request ends — route, caller (the key's *name*, never the
//!   key), whether it streamed, status, deployment, attempts, usage and cost, total time
//!   and the gateway's own overhead. Structured values (`usage`, `error`) are written in
//!   the core types' stable JSON form, lazily: only when a subscriber records the event.
//! - At `debug`: the decoded request in its core JSON form before it is sent. Message
//!   content (text, images, tool arguments and results) is left out unless the config
//!   sets `log_content`; then the whole request is logged.

use std::fmt;

use serde::Serialize;
use tollgate_core::ChatRequest;

/// Lazily formats a value as JSON when the log event is recorded.
pub struct Json<'a, T: Serialize>(pub &'a T);

impl<T: Serialize> fmt::Display for Json<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match serde_json::to_string(self.0) {
            Ok(text) => f.write_str(&text),
            Err(_) => f.write_str("null"),
        }
    }
}

/// A request as logged: the core JSON form, message content included only when
/// `content` is true (otherwise each message is its role and the size of what it held).
pub struct LoggedRequest<'a> {
    /// The request.
    pub request: &'a ChatRequest,
    /// Whether to include message content.
    pub content: bool,
}

impl fmt::Display for LoggedRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.content {
            return Json(self.request).fmt(f);
        }
        let Ok(mut value) = serde_json::to_value(self.request) else {
            return f.write_str("null");
        };
        if let Some(messages) = value.get_mut("messages").and_then(|m| m.as_array_mut()) {
            for message in messages {
                redact_message(message);
            }
        }
        fmt::Display::fmt(&value, f)
    }
}

/// Replaces every string inside a message but its role, ids and tool names with its
/// length, so logs show the shape of a conversation without its content.
fn redact_message(message: &mut serde_json::Value) {
    const KEPT: [&str; 8] = [
        "role",
        "type",
        "kind",
        "id",
        "tool_call_id",
        "name",
        "media_type",
        "detail",
    ];
    fn walk(value: &mut serde_json::Value, key: &str) {
        match value {
            serde_json::Value::String(text) if !KEPT.contains(&key) => {
                *value = serde_json::Value::String(format!("[{} bytes]", text.len()));
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| walk(v, key)),
            serde_json::Value::Object(map) => map.iter_mut().for_each(|(k, v)| walk(v, k)),
            _ => {}
        }
    }
    walk(message, "");
}

/// An optional value as JSON, or `null`.
pub struct OptJson<'a, T: Serialize>(pub Option<&'a T>);

impl<T: Serialize> fmt::Display for OptJson<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(value) => Json(value).fmt(f),
            None => f.write_str("null"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_left_out_unless_asked_for() {
        let request = ChatRequest::new("fast")
            .system("secret instructions")
            .user("my password is hunter2")
            .tag("task", "qa");
        let redacted = LoggedRequest {
            request: &request,
            content: false,
        }
        .to_string();
        assert!(
            !redacted.contains("hunter2") && !redacted.contains("secret instructions"),
            "{redacted}"
        );
        assert!(
            redacted.contains("\"role\":\"user\"") && redacted.contains("[22 bytes]"),
            "{redacted}"
        );
        assert!(redacted.contains("\"task\":\"qa\""));
        let full = LoggedRequest {
            request: &request,
            content: true,
        }
        .to_string();
        assert!(full.contains("hunter2"));
    }
}
