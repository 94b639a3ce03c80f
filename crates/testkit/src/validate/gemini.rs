//! Gemini API: `POST /v1beta/models/{model}:generateContent` and
//! `:streamGenerateContent?alt=sse`, `x-goog-api-key` or `?key=`.

use serde_json::{Map, Value};

use super::{Context, key_accepted, percent_decode, query_param, reject};
use crate::recorded::RecordedRequest;
use crate::reply::Reply;
use crate::wire_error::{self, gemini_bad_request};

const PREFIX: &str = "/v1beta/models/";

/// The two methods the fake serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Generate,
    Stream,
}

/// Splits `/v1beta/models/{model}:{method}` into the model and method. The method is what
/// follows the *last* `:` of the last segment (a `%3A` counts as `:`).
pub(crate) fn parse_path(path: &str) -> Option<(String, Method)> {
    let rest = path.strip_prefix(PREFIX)?;
    if rest.contains('/') {
        return None;
    }
    let rest = percent_decode(rest);
    let (model, method) = rest.rsplit_once(':')?;
    if model.is_empty() {
        return None;
    }
    let method = match method {
        "generateContent" => Method::Generate,
        "streamGenerateContent" => Method::Stream,
        _ => return None,
    };
    Some((model.to_owned(), method))
}

fn invalid(message: &str, details: Vec<Value>) -> Reply {
    wire_error::gemini(400, "INVALID_ARGUMENT", message, details)
}

pub(super) fn check(request: &RecordedRequest, cx: &Context<'_>) -> Result<(), Box<Reply>> {
    let path = request.path_only();
    let parsed = parse_path(path).filter(|_| request.method == "POST");
    let Some((_model, method)) = parsed else {
        let message = format!(
            "The requested URL {} {path} was not found on this server. The fake Gemini API serves \
             POST /v1beta/models/{{model}}:generateContent and :streamGenerateContent?alt=sse.",
            request.method
        );
        return reject(wire_error::gemini(404, "NOT_FOUND", &message, Vec::new()));
    };

    let key = request
        .header("x-goog-api-key")
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty())
        .or_else(|| query_param(request.query(), "key").filter(|k| !k.is_empty()));
    let Some(key) = key else {
        return reject(wire_error::gemini(
            403,
            "PERMISSION_DENIED",
            "Method doesn't allow unregistered callers (callers without established identity). \
             Please use API Key or other form of API consumer identity to call this API.",
            Vec::new(),
        ));
    };
    if !key_accepted(&key, cx.api_key) {
        return reject(wire_error::gemini_api_key_invalid());
    }

    if method == Method::Stream && query_param(request.query(), "alt").as_deref() != Some("sse") {
        return reject(invalid(
            "tollgate-testkit: streamGenerateContent is served only as server-sent events; \
             add the query parameter alt=sse (without it the real API streams one JSON array).",
            Vec::new(),
        ));
    }

    let body = match serde_json::from_slice::<Value>(&request.body) {
        Ok(Value::Object(body)) => body,
        Ok(_) | Err(_) => {
            let message = "Invalid JSON payload received. Unexpected token.";
            return reject(invalid(message, vec![gemini_bad_request(None, message)]));
        }
    };
    check_body(&body).map_err(|message| {
        let text = format!("* {message}\n");
        Box::new(invalid(&text, Vec::new()))
    })
}

/// The body rules; `Err` holds the API's message (without the leading `* `).
fn check_body(body: &Map<String, Value>) -> Result<(), String> {
    let contents = match body.get("contents") {
        Some(Value::Array(contents)) if !contents.is_empty() => contents,
        Some(Value::Array(_)) | None | Some(Value::Null) => {
            return Err("GenerateContentRequest.contents: contents is not specified".to_owned());
        }
        Some(_) => {
            return Err(
                "GenerateContentRequest.contents: Invalid value, expected a list of Content"
                    .to_owned(),
            );
        }
    };
    for (i, content) in contents.iter().enumerate() {
        match content.get("role") {
            None | Some(Value::Null) => {}
            Some(Value::String(role)) if matches!(role.as_str(), "" | "user" | "model") => {}
            Some(_) => {
                return Err(format!(
                    "GenerateContentRequest.contents[{i}].role: Please use a valid role: user, model."
                ));
            }
        }
        let Some(parts) = content
            .get("parts")
            .and_then(Value::as_array)
            .filter(|parts| !parts.is_empty())
        else {
            return Err(format!(
                "GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty."
            ));
        };
        for (j, part) in parts.iter().enumerate() {
            let response = part
                .get("functionResponse")
                .or_else(|| part.get("function_response"));
            if let Some(response) = response {
                let named = response
                    .get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|name| !name.is_empty());
                if !named {
                    return Err(format!(
                        "GenerateContentRequest.contents[{i}].parts[{j}].function_response.name: Name cannot be empty."
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_at_the_last_colon() {
        assert_eq!(
            parse_path("/v1beta/models/gemini-2.5-flash:generateContent"),
            Some(("gemini-2.5-flash".to_owned(), Method::Generate))
        );
        assert_eq!(
            parse_path("/v1beta/models/tuned:v1:streamGenerateContent"),
            Some(("tuned:v1".to_owned(), Method::Stream))
        );
        assert_eq!(
            parse_path("/v1beta/models/gemini-2.5-flash%3AgenerateContent"),
            Some(("gemini-2.5-flash".to_owned(), Method::Generate))
        );
        assert_eq!(parse_path("/v1beta/models/gemini-2.5-flash"), None);
        assert_eq!(parse_path("/v1beta/models/:generateContent"), None);
        assert_eq!(parse_path("/v1beta/models/a/b:generateContent"), None);
        assert_eq!(parse_path("/v1/models/m:generateContent"), None);
        assert_eq!(parse_path("/v1beta/models/m:countTokens"), None);
    }
}
