//! Fake provider servers that speak each real wire format, with scripted latency and faults, for Tollgate's tests, benchmarks and demos.
//!
//! A [`FakeServer`] listens on `127.0.0.1:<ephemeral port>` inside the caller's tokio runtime
//! (so `tokio::time::pause()` applies to every scripted delay) and answers like OpenAI Chat
//! Completions, Anthropic Messages or Gemini `generateContent`, depending on its [`Flavor`]:
//!
//! * **It checks what it receives** the way the real API does: path and method, auth headers,
//!   JSON syntax and the rules a translator most easily breaks (Anthropic's alternating roles and
//!   tool-result pairing, Gemini's `functionResponse.name`, …). A rejected request is answered
//!   in that provider's own error JSON and status, is recorded, and consumes no scripted reply.
//! * **It answers from a script**: [`Reply`] values pushed with [`FakeServer::push`] are served
//!   first-in first-out, one per accepted request, then [`FakeServer::set_default`]'s reply.
//! * **It injects faults**: delays before headers, a delay before the first SSE event and between
//!   events, an abrupt disconnect after N events, a request that never gets an answer.
//! * **It records** every request ([`RecordedRequest`]) and counts SSE bodies the client dropped
//!   early ([`FakeServer::cancelled_streams`]).
//!
//! [`scenario`] renders one provider-neutral answer ([`scenario::Scenario`]) into each
//! provider's exact wire body, so a conformance suite can script the same logical answer on
//! every provider and compare normalised results.

mod flavor;
pub mod json_text;
mod recorded;
mod reply;
pub mod scenario;
mod server;
mod sse_split;
mod stream_body;
mod validate;
mod wire_error;

pub use flavor::Flavor;
pub use recorded::RecordedRequest;
pub use reply::{FixtureError, Reply};
pub use server::{FakeServer, FakeServerBuilder};
