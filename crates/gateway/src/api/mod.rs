//! The OpenAI wire format on the gateway's side: reading Chat Completions requests into
//! core types and writing core replies as Chat Completions responses, chunks and errors.

pub mod error;
pub mod models;
pub mod request;
pub mod response;
pub mod stream;

pub use error::{ApiError, ErrorClass, status_of};
