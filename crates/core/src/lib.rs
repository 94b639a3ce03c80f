//! Tollgate's core: one typed model of chat requests, replies, streams, usage, cost and
//! errors, and the service contract every provider client and router implements.
//!
//! - [`ChatRequest`] and role-typed [`Message`]s go in;
//! - a [`ChatReply`] comes out: a complete [`ChatResponse`] or a [`ChatStream`] of
//!   [`ChatEvent`]s, with [`Usage`] normalised the same way for every provider;
//! - every failure is an [`Error`] whose [`ErrorKind`] routers act on.
//!
//! Every provider client, and every routed stack built from them, is a
//! [`ChatService`]: a `tower::Service<ChatRequest, Response = ChatReply, Error = Error>`
//! that is `Clone + Send + Sync + 'static`. Streams follow two rules (see [`stream`]):
//! a streaming call resolves only once its first event has arrived, and after that a
//! failure is a stream item, never a silent end.
//!
//! This crate has no HTTP client; providers bring their own.

pub mod accumulate;
pub mod context;
pub mod error;
pub mod event;
pub mod json;
pub mod message;
pub mod pricing;
pub mod rate_limits;
pub mod request;
pub mod response;
pub mod retry_after;
pub mod secret;
pub mod service;
pub mod sse;
pub mod stable_id;
pub mod stream;
pub mod tool_ids;
pub mod usage;

pub use accumulate::StreamAccumulator;
pub use context::{AttemptContext, Deadline};
pub use error::{Error, ErrorKind, Result};
pub use event::ChatEvent;
pub use message::{
    AssistantMessage, AssistantPart, Image, ImageSource, Message, SystemMessage, ToolCall,
    ToolMessage, UserMessage, UserPart,
};
pub use rate_limits::{Quota, RateLimits};
pub use request::{ChatRequest, ReasoningEffort, ResponseFormat, Tool, ToolChoice};
pub use response::{Attempt, ChatResponse, FinishReason, ReplyMeta};
pub use secret::Secret;
pub use service::{BoxChatService, ChatReply, ChatService, Client, boxed};
pub use stream::{ChatStream, EventStream};
pub use usage::{Cost, Price, PriceTier, Rates, Usage};
