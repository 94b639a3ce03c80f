//! Anthropic's Messages API (`POST {base_url}/v1/messages`) as a Tollgate chat service.
//!
//! [`AnthropicClient`] is a `tower::Service<ChatRequest, Response = ChatReply, Error =
//! tollgate_core::Error>`: it translates a provider-neutral [`ChatRequest`] into
//! Anthropic's wire format, sends it with `x-api-key`, `anthropic-version` (default
//! `2023-06-01`) and, when betas are configured, `anthropic-beta`, and translates the
//! answer, the stream or the failure back.
//!
//! ```no_run
//! use tollgate_anthropic::{AnthropicClient, AnthropicConfig};
//! use tollgate_core::{ChatRequest, Client};
//!
//! # async fn demo() -> Result<(), tollgate_core::Error> {
//! // Reads ANTHROPIC_API_KEY (and ANTHROPIC_BASE_URL, if set).
//! let client = Client::new(AnthropicClient::from_env()?);
//! let request = ChatRequest::new("claude-sonnet-4-5")
//!     .system("You are terse.")
//!     .user("Name a lighthouse.");
//! let response = client.chat(request).await?;
//! println!("{} ({:?})", response.text(), response.usage);
//! # Ok(()) }
//! ```
//!
//! The translation can be inspected without a network:
//!
//! ```
//! use tollgate_anthropic::{AnthropicConfig, encode::encode};
//! use tollgate_core::{ChatRequest, ToolChoice};
//!
//! let request = ChatRequest::new("claude-sonnet-4-5")
//!     .system("Be brief.")
//!     .user("Hi")
//!     .stop("END");
//! let body = encode(&request, &AnthropicConfig::new("k"))?.body;
//! assert_eq!(body["system"], "Be brief.");
//! assert_eq!(body["max_tokens"], 4096);
//! assert_eq!(body["stop_sequences"][0], "END");
//! # Ok::<(), tollgate_core::Error>(())
//! ```
//!
//! # Provider notes
//!
//! **Requests** (details in [`encode`]):
//!
//! | Tollgate | Anthropic |
//! | --- | --- |
//! | system messages | top-level `system`, several joined with `"\n\n"`; a system message that is not first is lifted too |
//! | user / assistant turns | `messages[]` with `user` / `assistant`; consecutive same-role turns merged; a leading assistant turn gets a `"."` user turn before it |
//! | tool messages | `tool_result` blocks (`is_error` when set) in a user turn, merged with adjacent tool results and user turns, placed before its text |
//! | image by URL / base64 | `image` with `source: {type: "url", url}` / `{type: "base64", media_type, data}` (a `data:` URL is sent as base64) |
//! | assistant tool calls | `tool_use` blocks, `arguments` parsed into the `input` object (`""` → `{}`) |
//! | tool-call ids | rewritten to `[a-zA-Z0-9_-]{1,64}` ([`encode::TOOL_ID_RULE`]), the same way for calls and results |
//! | reasoning parts | `thinking` blocks when signed by Anthropic (or of unknown origin); unsigned ones and another provider's are dropped |
//! | redacted reasoning parts | `redacted_thinking` blocks with their `data` unchanged, in their place among the turn's blocks; another provider's are dropped |
//! | tools | `tools[]` `{name, description, input_schema, strict}` |
//! | tool_choice auto / required / tool / none | `{type: "auto"}` / `{type: "any"}` / `{type: "tool", name}` / `{type: "none"}` |
//! | `parallel_tool_calls: Some(false)` | `tool_choice.disable_parallel_tool_use: true` (with `auto` when no choice was set) |
//! | max_tokens | `max_tokens`, always sent: the request's, else the configured default (4096) |
//! | temperature, top_p, top_k | `temperature`, `top_p`, `top_k` |
//! | stop | `stop_sequences` |
//! | reasoning_effort minimal / low / medium / high | `thinking: {type: "enabled", budget_tokens: 1024 / 4096 / 10000 / 32000}`, `max_tokens` raised to budget + max_tokens when not above the budget |
//! | metadata `user` | `metadata.user_id` |
//! | response_format json_schema | native `output_config: {format: {type: "json_schema", schema}}` or a forced tool — see [`StructuredOutputMode`] |
//! | response_format json_object | a forced tool `json_object` with the open schema `{"type": "object"}` |
//! | extra | merged into the top level last, replacing translated fields |
//! | seed, presence/frequency penalties, other metadata tags, image `detail` | not sent (Anthropic has no equivalent) |
//!
//! **Structured output.** With [`StructuredOutputMode::Auto`] (the default), models
//! that support Anthropic's native structured output (Opus 4.1 and every generation 4.5
//! or later, see [`config::supports_native_structured_output`]) get `output_config.format`
//! (the generally available form, as the reference wire notes give it; no beta header
//! is needed — [`StructuredOutputMode::NativeBeta`] sends the earlier beta form,
//! top-level `output_format` with `anthropic-beta: structured-outputs-2025-11-13`, for
//! endpoints that predate general availability); every other model gets a
//! forced tool named after the schema, whose input the client turns back into the answer
//! text with finish reason `Stop`, in complete and streaming replies alike. The forced
//! tool cannot be combined with `reasoning_effort` (Anthropic forbids forced tool use
//! while thinking): such requests fail with [`ErrorKind::Unsupported`] before
//! anything is sent. When the request also has tools of its own, `tool_choice` becomes
//! `any`, so the model either calls one of them or answers through the schema tool.
//! The schema's root must be an object (tool inputs are objects).
//!
//! **Replies** (details in [`decode`] and [`stream`]):
//!
//! - Usage: `input_tokens` = `input_tokens + cache_read_input_tokens +
//!   cache_creation_input_tokens`; `cache_read_tokens` = `cache_read_input_tokens`;
//!   `cache_write_tokens` = `cache_creation_input_tokens`; `output_tokens` as given
//!   (thinking included); `reasoning_tokens` = `output_tokens_details.thinking_tokens`
//!   when sent.
//! - Finish: `end_turn`, `stop_sequence` → `Stop`; `max_tokens`,
//!   `model_context_window_exceeded` → `Length`; `tool_use` → `ToolCalls` (the
//!   structured-output tool alone → `Stop`); `refusal` → `ContentFilter`; `pause_turn`
//!   and anything else → `Other(raw)`. The raw value is always kept.
//! - Adjacent text blocks join into one text part; `thinking` blocks become reasoning
//!   parts with their signature; `redacted_thinking` blocks (reasoning Anthropic's safety
//!   systems encrypted) become
//!   [`AssistantPart::RedactedReasoning`](tollgate_core::AssistantPart::RedactedReasoning)
//!   parts with their opaque `data`, in their place — streamed, the whole block arrives in
//!   its `content_block_start` as one `ChatEvent::ReasoningRedacted`. All of them are
//!   marked as Anthropic's (`signed_by`), so pushing the reply back onto the conversation
//!   echoes every thinking block unchanged, as Anthropic requires to continue a tool loop
//!   with extended thinking, while other providers never receive them. Server-tool
//!   blocks and unknown block types are skipped (Tollgate has no place for them).
//! - Streams hold `message_start`'s `Start` until the first content event, so an
//!   `event: error` before any content fails the call itself; after content it is an
//!   `Err` item; a stream cut before `message_stop` ends with an `Err` item.
//! - Rate limits: every successful answer's `anthropic-ratelimit-*-{remaining,reset}`
//!   headers (complete and streamed: they arrive before the stream) become
//!   [`ReplyMeta::rate_limits`](tollgate_core::ReplyMeta::rate_limits); see
//!   [`rate_limits`].
//!
//! **Errors** (details in [`error`]): `error.type` decides the kind (529
//! `overloaded_error` → `Overloaded`, `billing_error` → `QuotaExhausted`, 413 →
//! `InvalidRequest`, a 400 saying the prompt is too long → `ContextLengthExceeded`, …)
//! and is kept as the error's `code`; the `request-id` is quoted in the message;
//! `retry_after` comes from `retry-after`, else from the exhausted
//! `anthropic-ratelimit-*-reset` timestamps. The API key never appears in an error.

pub mod client;
pub mod config;
pub mod decode;
pub mod encode;
pub mod error;
pub mod rate_limits;
pub mod stream;
pub mod wire;

pub use client::AnthropicClient;
pub use config::{AnthropicConfig, StructuredOutputMode};

#[cfg(doc)]
use tollgate_core::{ChatRequest, ErrorKind};

/// The provider name, as OpenTelemetry's `gen_ai.provider.name` spells it.
pub const PROVIDER: &str = "anthropic";
