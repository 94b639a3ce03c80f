//! Gateway authentication: who is calling, may they use this route, and are they within
//! their rate.
//!
//! Callers present a gateway key as `Authorization: Bearer <key>` (what the OpenAI SDKs
//! send) or `x-api-key: <key>`. The key is hashed with SHA-256 and compared against every
//! stored hash in constant time ([`keys::KeyStore::authenticate`], using the `subtle`
//! crate), so neither the keys nor their hashes leak through timing. Keys never appear
//! in logs: a caller is known by its key's `name`.
//!
//! | Failure | Status | `code` |
//! | --- | --- | --- |
//! | no key, or an unknown key | 401 | `invalid_api_key` |
//! | the key may not use the route | 403 | `model_not_allowed` |
//! | the key is over its `rpm` | 429 (`retry-after`) | `rate_limit_exceeded` |
//!
//! A key that may not use a route gets 403, not 404: the key is valid and the caller
//! deserves to know the route exists but is not theirs; unknown routes are 404 for
//! everyone, listing only the routes the key may use.

pub mod keys;

use http::{HeaderMap, StatusCode, header};

use crate::api::ApiError;
use keys::{GatewayKey, KeyStore};

/// The key a request presents, if any (`Authorization: Bearer …` or `x-api-key`).
pub fn presented_key(headers: &HeaderMap) -> Option<&str> {
    if let Some(value) = headers.get(header::AUTHORIZATION)
        && let Ok(text) = value.to_str()
    {
        let text = text.trim();
        if let Some((scheme, key)) = text.split_once(' ')
            && scheme.eq_ignore_ascii_case("bearer")
        {
            return Some(key.trim());
        }
        return None;
    }
    headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// Who is calling: `Ok(None)` when the gateway has no keys (open), `Ok(Some(key))` for
/// a valid key.
///
/// # Errors
///
/// 401 for a missing or unknown key.
pub fn authenticate<'a>(
    keys: &'a KeyStore,
    headers: &HeaderMap,
) -> Result<Option<&'a GatewayKey>, ApiError> {
    if keys.is_empty() {
        return Ok(None);
    }
    let Some(presented) = presented_key(headers) else {
        return Err(ApiError::invalid_api_key(
            "You didn't provide an API key. Send your gateway key as `Authorization: Bearer <key>`.",
        ));
    };
    match keys.authenticate(presented) {
        Some(key) => Ok(Some(key)),
        None => Err(ApiError::invalid_api_key(
            "Incorrect API key provided: it is not one of this gateway's keys.",
        )),
    }
}

/// Whether `caller` may use `route`, and is within its rate.
///
/// # Errors
///
/// 403 when the key may not use the route; 429 with `retry-after` when it is over its
/// requests-per-minute limit.
pub fn authorize(
    keys: &KeyStore,
    caller: Option<&GatewayKey>,
    route: &str,
) -> Result<(), ApiError> {
    let Some(key) = caller else {
        return Ok(());
    };
    if !key.may_use(route) {
        return Err(ApiError {
            param: Some("model".to_owned()),
            ..ApiError::new(
                StatusCode::FORBIDDEN,
                "invalid_request_error",
                "model_not_allowed",
                format!("The key `{}` may not use the model `{route}`.", key.name),
            )
        });
    }
    keys.admit(key).map_err(|wait| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_error",
            "rate_limit_exceeded",
            format!(
                "The key `{}` is over its limit of {} requests per minute.",
                key.name,
                key.rpm.unwrap_or_default()
            ),
        )
        .with_retry_after(wait)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn keys_are_read_from_bearer_or_x_api_key() {
        let mut headers = HeaderMap::new();
        assert_eq!(presented_key(&headers), None);
        headers.insert("x-api-key", HeaderValue::from_static("k2"));
        assert_eq!(presented_key(&headers), Some("k2"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer k1"));
        assert_eq!(presented_key(&headers), Some("k1"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(presented_key(&headers), None);
    }

    #[test]
    fn an_open_gateway_needs_no_key_and_a_closed_one_answers_401() {
        let open = KeyStore::default();
        assert!(authenticate(&open, &HeaderMap::new()).unwrap().is_none());
        let closed = KeyStore::new(vec![GatewayKey::from_plaintext("a", "k")]);
        let err = authenticate(&closed, &HeaderMap::new()).unwrap_err();
        assert_eq!(
            (err.status.as_u16(), err.code.as_str()),
            (401, "invalid_api_key")
        );
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer nope"),
        );
        assert_eq!(authenticate(&closed, &headers).unwrap_err().status, 401);
    }

    #[test]
    fn a_key_limited_to_some_routes_gets_403_elsewhere() {
        let store = KeyStore::new(vec![GatewayKey::from_plaintext("a", "k").routes(["fast"])]);
        let key = store.authenticate("k");
        assert!(authorize(&store, key, "fast").is_ok());
        let err = authorize(&store, key, "slow").unwrap_err();
        assert_eq!(
            (err.status.as_u16(), err.code.as_str()),
            (403, "model_not_allowed")
        );
    }
}
