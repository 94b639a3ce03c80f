//! OpenAI Chat Completions: `POST /v1/chat/completions`, `Authorization: Bearer`.

use serde_json::Value;

use super::{Context, key_accepted, reject};
use crate::recorded::RecordedRequest;
use crate::reply::Reply;
use crate::wire_error;

const PATH: &str = "/v1/chat/completions";

fn invalid_request(message: &str, param: Option<&str>, code: Option<&str>) -> Reply {
    wire_error::openai(400, message, "invalid_request_error", param, code)
}

pub(super) fn check(request: &RecordedRequest, cx: &Context<'_>) -> Result<(), Box<Reply>> {
    if request.method != "POST" || request.path_only() != PATH {
        let message = format!("Invalid URL ({} {})", request.method, request.path_only());
        return reject(wire_error::openai(
            404,
            &message,
            "invalid_request_error",
            None,
            None,
        ));
    }

    let key = request
        .header("authorization")
        .and_then(|value| {
            let (scheme, key) = value.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| key.trim())
        })
        .unwrap_or("");
    if key.is_empty() {
        return reject(wire_error::openai(
            401,
            "You didn't provide an API key. You need to provide your API key in an \
             Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            "invalid_request_error",
            None,
            Some("invalid_api_key"),
        ));
    }
    if !key_accepted(key, cx.api_key) {
        return reject(wire_error::openai(
            401,
            "Incorrect API key provided. You can find your API key at \
             https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            None,
            Some("invalid_api_key"),
        ));
    }

    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&request.body) else {
        return reject(invalid_request(
            "We could not parse the JSON body of your request. (HINT: This likely means you \
             aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, \
             but what was sent was not valid JSON.)",
            None,
            None,
        ));
    };

    match body.get("model") {
        Some(Value::String(model)) if !model.is_empty() => {}
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return reject(invalid_request(
                "you must provide a model parameter",
                None,
                None,
            ));
        }
        Some(other) => {
            return reject(invalid_request(
                &format!(
                    "Invalid type for 'model': expected a string, but got {} instead.",
                    json_type(other)
                ),
                Some("model"),
                Some("invalid_type"),
            ));
        }
    }

    match body.get("messages") {
        Some(Value::Array(_)) => Ok(()),
        None => reject(invalid_request(
            "Missing required parameter: 'messages'.",
            Some("messages"),
            Some("missing_required_parameter"),
        )),
        Some(other) => reject(invalid_request(
            &format!(
                "Invalid type for 'messages': expected an array of objects, but got {} instead.",
                json_type(other)
            ),
            Some("messages"),
            Some("invalid_type"),
        )),
    }
}

/// OpenAI's wording for a JSON value's type in `invalid_type` messages.
fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a decimal",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
