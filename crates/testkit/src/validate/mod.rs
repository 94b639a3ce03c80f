//! Request checks: each flavor rejects what its real API rejects, in its own error shape.
//!
//! Order, as the real services do it: path and method (404), authentication, required
//! headers, JSON syntax (400), then the body's fields.

mod anthropic;
mod gemini;
mod openai;

use crate::Flavor;
use crate::recorded::RecordedRequest;
use crate::reply::Reply;

/// What a check needs besides the request.
pub(crate) struct Context<'a> {
    /// The only key accepted, if the server was built with one; otherwise any non-empty key.
    pub(crate) api_key: Option<&'a str>,
    /// The id to put in error bodies that carry one (Anthropic's `request_id`).
    pub(crate) request_id: &'a str,
}

/// `Ok` when the request would be accepted, otherwise the error reply the real API sends.
pub(crate) fn check(
    flavor: Flavor,
    request: &RecordedRequest,
    cx: &Context<'_>,
) -> Result<(), Box<Reply>> {
    match flavor {
        Flavor::OpenAi => openai::check(request, cx),
        Flavor::Anthropic => anthropic::check(request, cx),
        Flavor::Gemini => gemini::check(request, cx),
    }
}

/// A rejection (boxed: replies are large and rejections rare).
fn reject<T>(reply: Reply) -> Result<T, Box<Reply>> {
    Err(Box::new(reply))
}

/// Whether `key` is accepted: equal to the configured key, or any non-empty key.
fn key_accepted(key: &str, expected: Option<&str>) -> bool {
    match expected {
        Some(expected) => key == expected,
        None => !key.is_empty(),
    }
}

/// Anthropic's tool id grammar `^[a-zA-Z0-9_-]+$`.
pub(crate) fn is_valid_tool_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The decoded value of query parameter `name` in `query`, if present.
fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(key) == name).then(|| percent_decode(value))
    })
}

/// Decodes `%XX` escapes and `+` (as in form-encoded query strings); malformed escapes stay
/// as they are.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(byte) = hex {
                    out.push(byte);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b'+' => out.push(b' '),
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_params_are_found_and_decoded() {
        assert_eq!(
            query_param(Some("alt=sse&key=a%2Fb"), "key").as_deref(),
            Some("a/b")
        );
        assert_eq!(query_param(Some("alt=sse"), "alt").as_deref(), Some("sse"));
        assert_eq!(query_param(Some("alt=sse"), "key"), None);
        assert_eq!(query_param(None, "key"), None);
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }

    #[test]
    fn tool_id_grammar_is_anthropics() {
        assert!(is_valid_tool_id("toolu_01Vx-4"));
        assert!(!is_valid_tool_id("call:1"));
        assert!(!is_valid_tool_id(""));
        assert!(!is_valid_tool_id("fc.1"));
    }
}
