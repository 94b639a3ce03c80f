//! Each provider's error body shape, status and content type.

use serde_json::{Value, json};

use crate::Flavor;
use crate::reply::Reply;

/// OpenAI: `{"error": {"message", "type", "param", "code"}}`.
pub(crate) fn openai(
    status: u16,
    message: &str,
    kind: &str,
    param: Option<&str>,
    code: Option<&str>,
) -> Reply {
    let body = json!({
        "error": { "message": message, "type": kind, "param": param, "code": code }
    });
    Reply::error(status, body).with_header("content-type", "application/json; charset=utf-8")
}

/// Anthropic: `{"type": "error", "error": {"type", "message"}, "request_id"}`, with the
/// `request-id` header.
pub(crate) fn anthropic(status: u16, kind: &str, message: &str, request_id: &str) -> Reply {
    let body = json!({
        "type": "error",
        "error": { "type": kind, "message": message },
        "request_id": request_id,
    });
    Reply::error(status, body).with_header("request-id", request_id)
}

/// Gemini: google.rpc.Status `{"error": {"code", "message", "status", "details"?}}`.
pub(crate) fn gemini(status: u16, rpc_status: &str, message: &str, details: Vec<Value>) -> Reply {
    let mut error = json!({ "code": status, "message": message, "status": rpc_status });
    if !details.is_empty() {
        error["details"] = Value::Array(details);
    }
    Reply::error(status, json!({ "error": error }))
        .with_header("content-type", "application/json; charset=UTF-8")
}

/// Gemini's `BadRequest` detail with one field violation.
pub(crate) fn gemini_bad_request(field: Option<&str>, description: &str) -> Value {
    let mut violation = json!({ "description": description });
    if let Some(field) = field {
        violation["field"] = json!(field);
    }
    json!({
        "@type": "type.googleapis.com/google.rpc.BadRequest",
        "fieldViolations": [violation],
    })
}

/// Gemini's answer to a key it does not know (a 400, not a 401).
pub(crate) fn gemini_api_key_invalid() -> Reply {
    let message = "API key not valid. Please pass a valid API key.";
    gemini(
        400,
        "INVALID_ARGUMENT",
        message,
        vec![
            json!({
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": { "service": "generativelanguage.googleapis.com" },
            }),
            json!({
                "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                "locale": "en-US",
                "message": message,
            }),
        ],
    )
}

/// The initial default reply: a 500 in the flavor's error shape saying nothing was scripted.
pub(crate) fn no_scripted_reply(flavor: Flavor) -> Reply {
    let message = "tollgate-testkit: no scripted reply for this request \
                   (push one with FakeServer::push or set one with FakeServer::set_default)";
    match flavor {
        Flavor::OpenAi => openai(500, message, "server_error", None, None),
        Flavor::Anthropic => anthropic(500, "api_error", message, "req_testkit_no_scripted_reply"),
        Flavor::Gemini => gemini(500, "INTERNAL", message, Vec::new()),
    }
}
