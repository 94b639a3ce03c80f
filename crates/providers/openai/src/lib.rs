//! OpenAI Chat Completions, and every OpenAI-compatible endpoint, as a Tollgate chat
//! service.
//!
//! [`OpenAiClient`] is a `tower::Service<ChatRequest, Response = ChatReply, Error =
//! tollgate_core::Error>` (a [`ChatService`](tollgate_core::ChatService)) that speaks
//! `POST {base_url}/chat/completions`, complete and streamed. Compatible servers (Groq,
//! Together, Mistral, DeepSeek, Fireworks, OpenRouter, xAI, Cerebras, Perplexity, Ollama,
//! vLLM, LM Studio) are [`Preset`]s: configurations of the same client with their base
//! URL, key variable and [`Quirks`].
//!
//! ```no_run
//! use futures_util::StreamExt;
//! use tollgate_core::{ChatEvent, ChatRequest, Client};
//! use tollgate_openai::{OpenAiClient, OpenAiConfig, Preset};
//!
//! # async fn demo() -> Result<(), tollgate_core::Error> {
//! // OpenAI, from OPENAI_API_KEY (and OPENAI_BASE_URL if set).
//! let openai = Client::new(OpenAiClient::from_env()?);
//! let reply = openai
//!     .chat(ChatRequest::new("gpt-4o-mini").system("Be brief.").user("Say hi"))
//!     .await?;
//! println!("{} ({:?})", reply.text(), reply.usage);
//!
//! // Groq, a configuration of the same client, streamed.
//! let groq = Client::new(OpenAiClient::new(
//!     OpenAiConfig::preset(Preset::Groq).api_key("gsk-…"),
//! )?);
//! let mut stream = groq
//!     .stream(ChatRequest::new("llama-3.3-70b-versatile").user("Count to 3"))
//!     .await?; // resolves at the first event: earlier failures are this Err
//! while let Some(event) = stream.next().await {
//!     if let ChatEvent::TextDelta { text } = event? {
//!         print!("{text}");
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! # Request mapping
//!
//! | `ChatRequest` | Chat Completions |
//! | --- | --- |
//! | `model` | `model` |
//! | `Message::System` | `{"role":"system","content":…}` |
//! | `Message::User`, one text part | `{"role":"user","content":"…"}` (a plain string, which every compatible server reads) |
//! | `Message::User`, several parts or images | `content: [{"type":"text",…}, {"type":"image_url","image_url":{"url","detail"}}]`; base64 images become `data:<media type>;base64,…` URLs |
//! | `Message::Assistant` | `{"role":"assistant","content":"…","tool_calls":[{"id","type":"function","function":{"name","arguments"}}]}`; `content: null` when the turn has tool calls and no text; text parts are joined; **reasoning parts are not sent** (Chat Completions has no field to receive them); empty arguments are sent as `{}` |
//! | `Message::Tool` | `{"role":"tool","tool_call_id","content"}` (`name` and `is_error` have no field: put the failure in the content) |
//! | tool-call ids | rewritten with the preset's `tool_id_rule` (Mistral: exactly 9 alphanumerics), stably, so a call and its result still match |
//! | `tools` | `[{"type":"function","function":{"name","description","parameters","strict"}}]` |
//! | `tool_choice` | `"auto"`, `"none"`, `"required"`, `{"type":"function","function":{"name"}}` |
//! | `parallel_tool_calls` | `parallel_tool_calls` |
//! | `response_format` | `{"type":"text"}`, `{"type":"json_object"}`, `{"type":"json_schema","json_schema":{"name","description","schema","strict"}}` |
//! | `temperature`, `top_p`, `stop`, `presence_penalty`, `frequency_penalty` | same names |
//! | `max_tokens` | `max_completion_tokens` (OpenAI, Groq, xAI, Cerebras: o-series models reject `max_tokens`) or `max_tokens` (other presets) — [`Quirks::max_tokens_field`] |
//! | `seed` | `seed`, or `random_seed` for Mistral — [`Quirks::seed_field`] |
//! | `top_k` | sent only where [`Quirks::top_k`] (Together, Fireworks, OpenRouter, Ollama, vLLM); dropped for OpenAI and the rest |
//! | `reasoning_effort` | `reasoning_effort` (`minimal`, `low`, `medium`, `high`) |
//! | `stream: true` | `stream: true` and `stream_options: {"include_usage": true}` unless [`Quirks::stream_options`] is off (Mistral, Perplexity) |
//! | `metadata` | not sent (tags for routers and telemetry) |
//! | `extra` | merged into the top level last: an `extra` field wins over the translated one |
//!
//! # Response mapping
//!
//! - **Parts**: the first choice only (`n > 1` is not supported). Reasoning
//!   (`reasoning_content` from DeepSeek and vLLM, `reasoning` from Groq, Ollama,
//!   OpenRouter) becomes a reasoning part before the text. Array `content` (Mistral's
//!   thinking models) is split into its text and thinking parts.
//! - **Refusals**: `message.refusal` (and streamed `delta.refusal`) becomes a text part
//!   after any content, and the finish reason is kept **as sent** (OpenAI sends `stop`).
//!   A refusal is the model's answer, not a safety-system block, so it is not turned into
//!   `ContentFilter`; only `finish_reason: "content_filter"` is.
//! - **Finish reasons** ([`decode::finish_reason`]): `stop` → `Stop`, `length` →
//!   `Length`, `tool_calls` / `function_call` → `ToolCalls`, `content_filter` →
//!   `ContentFilter`; compat extras `model_length` / `max_tokens` → `Length`, `eos` /
//!   `eos_token` → `Stop`; anything else → `Other(raw)`. `stop` on a turn with tool calls
//!   is `ToolCalls`. The raw value is always kept in `provider_finish_reason`; a missing
//!   one is inferred and has no raw value.
//! - **Usage** ([`decode::usage`]): `prompt_tokens` → `input_tokens` (it already includes
//!   cached tokens), `prompt_tokens_details.cached_tokens` (DeepSeek:
//!   `prompt_cache_hit_tokens`) → `cache_read_tokens`,
//!   `prompt_tokens_details.cache_write_tokens` → `cache_write_tokens`,
//!   `completion_tokens` → `output_tokens`, `completion_tokens_details.reasoning_tokens`
//!   → `reasoning_tokens`. In streams usage comes from the final `choices: []` chunk, or
//!   from Groq's `x_groq.usage` on the finish chunk, or from running totals on every
//!   chunk (xAI, Perplexity: the last wins); a server that sends none yields no `Usage`
//!   event and `usage: None`.
//! - **Ids**: a missing response id is synthesised (`chatcmpl-tg-…`); a missing tool-call
//!   id gets a stable `call_…` derived from the response id and the call's index; a
//!   missing model is the requested one.
//! - **Meta**: every reply carries `ReplyMeta::for_provider(provider, base_url)`, with the
//!   provider named as OpenTelemetry's `gen_ai.provider.name` spells it: `openai`, `groq`,
//!   `mistral_ai`, `deepseek`, `x_ai`, `perplexity`, and `together`, `fireworks`,
//!   `openrouter`, `cerebras`, `ollama`, `vllm`, `lmstudio`.
//!
//! # Streams
//!
//! See [`stream`]: `Start` from the first chunk, text / reasoning / tool-call deltas as
//! they come, then `Usage` and `Finish` at `data: [DONE]`, so `Finish` is always last. A
//! connection that closes before `[DONE]` ends with an error item, never a clean end; a
//! mid-stream `error` object is an error item (or the call's error if it comes first).
//! Dropping the stream drops the response body and closes the connection.
//!
//! # Errors
//!
//! See [`error`] for the status/code → [`ErrorKind`](tollgate_core::ErrorKind) table and
//! where `retry_after` comes from. Exhausted quota (`insufficient_quota`) is never
//! retryable; `context_length_exceeded` is `ContextLengthExceeded` whatever the status.
//! Error messages quote the provider's message with the API key redacted.
//!
//! # Rate limits
//!
//! Every successful answer's `x-ratelimit-remaining-*` / `x-ratelimit-reset-*` headers
//! (complete and streamed: they arrive before the stream) become
//! [`ReplyMeta::rate_limits`](tollgate_core::ReplyMeta::rate_limits); see [`rate_limits`].
//!
//! # Not supported
//!
//! `n > 1` (only choice 0 is read), audio input and output, file parts, logprobs,
//! predicted outputs, `custom` tools, the Responses API. Pass provider-specific fields
//! (`service_tier`, `logit_bias`, `user`, `safety_identifier`, …) through `extra`.
//! Timeouts are not set on requests: routers own them (the connect timeout is 10 s).

pub mod client;
pub mod config;
pub mod decode;
pub mod encode;
pub mod error;
pub mod presets;
pub mod rate_limits;
pub mod stream;
pub mod wire;

pub use client::{OpenAiClient, ResponseFuture};
pub use config::OpenAiConfig;
pub use error::ErrorMapper;
pub use presets::{MaxTokensField, Preset, PresetInfo, Quirks, SeedField};
pub use stream::ChatEvents;
pub use tollgate_core::Secret;
pub use tollgate_core::tool_ids::ToolIdRule;
