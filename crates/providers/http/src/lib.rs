//! HTTP plumbing shared by Tollgate's provider crates.
//!
//! Every provider sends a JSON POST, maps transport failures the same way, reads error
//! bodies with a size bound and decodes SSE from the response body. That shared part lives
//! here so that each provider crate holds only what is specific to its wire format:
//!
//! - `client`: the pooled [`HttpClient`], its [`ClientSettings`] and [`Proxy`];
//! - `pool`: the connections it sends through, and the [`ResponseBody`] that hands an
//!   HTTP/1 connection back once read;
//! - `exchange`: one request and its answer ([`send`], [`read_limited`], [`sse`], …);
//! - `error`: transport failures and non-success answers ([`HttpFailure`]) as errors;
//! - `json`: provider bodies written straight to bytes ([`json_body`]).
//!
//! Nothing here ever puts a URL or a header value into an error: transport errors never
//! carry the URL (which may hold a key in a query string), and request headers are never
//! quoted.

mod client;
mod connect;
mod error;
mod exchange;
mod json;
mod pool;

pub use client::{ClientSettings, HttpClient, Proxy, certificates_from_pem};
pub use error::{HttpFailure, transport_error};
pub use exchange::{endpoint, post, read_json, read_limited, send, sse};
pub use json::{json_body, merge_extra};
pub use pool::{Response, ResponseBody};
pub use rustls::pki_types::CertificateDer;

/// The most bytes of an error body read before giving up on the rest.
pub const MAX_ERROR_BODY: usize = 64 * 1024;

/// The most bytes of a complete (non-streaming) response body accepted.
pub const MAX_RESPONSE_BODY: usize = 32 * 1024 * 1024;
