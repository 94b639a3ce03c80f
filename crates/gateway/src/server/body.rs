//! Reading a request body within the configured limit.

use axum::body::Body;
use bytes::Bytes;
use http::{HeaderMap, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::api::ApiError;

/// The whole body, or 413 once it exceeds `limit` bytes (at once when `content-length`
/// says so, otherwise as soon as the streamed body passes the limit).
///
/// # Errors
///
/// 413 above the limit; 400 when the connection broke while the body was arriving.
pub async fn read_limited(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, ApiError> {
    if let Some(length) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && length > limit as u64
    {
        return Err(ApiError::body_too_large(limit));
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.downcast_ref::<LengthLimitError>().is_some() => {
            Err(ApiError::body_too_large(limit))
        }
        Err(err) => Err(ApiError::invalid_request(
            format!("The request body could not be read: {err}."),
            None,
        )),
    }
}
