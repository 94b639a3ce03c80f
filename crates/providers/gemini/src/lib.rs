//! Google's Gemini API (`generateContent` / `streamGenerateContent`) as a Tollgate
//! [`ChatService`](tollgate_core::ChatService).
//!
//! ```no_run
//! use tollgate_core::{ChatRequest, Client};
//! use tollgate_gemini::{GeminiClient, GeminiConfig};
//!
//! # async fn demo() -> Result<(), tollgate_core::Error> {
//! // GEMINI_API_KEY (or GOOGLE_API_KEY), optional GEMINI_BASE_URL:
//! let from_env = GeminiClient::from_env()?;
//! // or explicitly:
//! let client = Client::new(GeminiClient::new(GeminiConfig::new("AIza…"))?);
//! let answer = client
//!     .chat(ChatRequest::new("gemini-2.5-flash").system("Be brief.").user("Hi!"))
//!     .await?;
//! println!("{} ({:?})", answer.text(), answer.usage);
//! # drop(from_env);
//! # Ok(()) }
//! ```
//!
//! # Transport
//!
//! `POST {base_url}/{api_version}/models/{model}:generateContent`, and
//! `…:streamGenerateContent?alt=sse` for streams (`base_url` defaults to
//! `https://generativelanguage.googleapis.com`, `api_version` to `v1beta`). The key travels
//! only in the `x-goog-api-key` header (marked sensitive), never in the URL, and is redacted
//! from every error message. Replies carry
//! `ReplyMeta::for_provider("gcp.gemini", base_url)`; errors name the provider `gcp.gemini`.
//!
//! # Request mapping
//!
//! | Tollgate | Gemini |
//! | --- | --- |
//! | `model` | URL path `models/{model}` (percent-encoded; a `models/` or `tunedModels/` prefix is kept) |
//! | system messages (anywhere in the conversation) | `systemInstruction.parts[]`, one text part each, in order |
//! | user message | `{role: "user", parts}`: text → `{text}`; base64 image → `inlineData{mimeType, data}`; image URL → `fileData{mimeType?, fileUri}` (`data:` URLs become `inlineData`) |
//! | assistant message | `{role: "model", parts}`: text, reasoning (see *thought signatures*), then one `functionCall{id?, name, args}` per tool call |
//! | tool message | `functionResponse{id?, name, response}` in a `user` turn |
//! | consecutive turns of one role | merged into one turn (parallel tool results share one `user` turn; a user message right after tool results joins them) |
//! | `tools` | `tools: [{functionDeclarations: [{name, description?, parameters?}]}]` |
//! | `tool_choice` auto / none / required / tool `f` | `toolConfig.functionCallingConfig.mode` `AUTO` / `NONE` / `ANY` / `ANY` + `allowedFunctionNames: ["f"]` (sent only when there are tools) |
//! | `response_format` json_object | `generationConfig.responseMimeType: "application/json"` |
//! | `response_format` json_schema | `responseMimeType: "application/json"` + `responseJsonSchema: <schema as given>` |
//! | `temperature`, `top_p`, `top_k`, `max_tokens`, `stop`, `seed`, `presence_penalty`, `frequency_penalty` | `generationConfig.temperature`, `topP`, `topK`, `maxOutputTokens`, `stopSequences`, `seed`, `presencePenalty`, `frequencyPenalty` |
//! | `reasoning_effort` | `generationConfig.thinkingConfig` (below) |
//! | `extra` | merged last into the top level of the body (a key there replaces the whole field, e.g. `generationConfig`, `safetySettings`, `cachedContent`) |
//!
//! Details:
//!
//! - **Image URLs.** `fileData.mimeType` is guessed from the URL path's extension (`png`,
//!   `jpg`/`jpeg`, `gif`, `webp`, `heic`, `heif`, `pdf`) and omitted otherwise. Gemini reads
//!   `fileUri`s it can reach: Files API URIs, `gs://` on Vertex, public `https` on recent
//!   models. `detail` is ignored.
//! - **Tool calls in history.** `args` is the call's JSON text parsed: `""` → `{}`, an object
//!   as is, other JSON → `{"value": <json>}`, text that is not JSON → `{"raw": "<text>"}`.
//!   Ids are sent on `functionCall.id` / `functionResponse.id` whatever provider made them.
//! - **Tool results.** `name` is the tool message's name or, when empty, the name of the
//!   assistant tool call with the same id; if neither exists the request fails with
//!   `InvalidRequest` before anything is sent. `response` is the content parsed as JSON when
//!   it is an object; anything else is wrapped: `{"result": <json value or the raw text>}`,
//!   or `{"error": …}` when `is_error` is set (Gemini has no error flag; `error` is the key
//!   its docs name for failures).
//! - **Structured output** uses `responseJsonSchema`, which takes standard JSON Schema
//!   (`$ref`/`$defs`, `additionalProperties`, `anyOf`, …) unchanged, rather than
//!   `responseSchema` (OpenAPI subset). The schema's `name`, `description` and `strict` are
//!   not sent (Gemini has no such fields; it always constrains decoding to the schema).
//! - **Tool parameter schemas** go in `parameters`, Gemini's OpenAPI-3.0 subset, converted
//!   from JSON Schema:
//!   - kept: `type`, `format`, `title`, `description`, `nullable`, `enum`, `items`,
//!     `properties`, `required`, `propertyOrdering`, `anyOf`, `minItems`, `maxItems`,
//!     `minProperties`, `maxProperties`, `minLength`, `maxLength`, `pattern`, `minimum`,
//!     `maximum`, `example`, `default`;
//!   - converted: `$ref` → the `$defs`/`definitions` entry inlined (recursive references
//!     are cut to `{"type": "object"}` after 8 levels); `allOf` → members merged;
//!     `oneOf` → `anyOf`; a `{"type": "null"}` alternative or a `"null"` in a type array →
//!     `nullable: true` (a single remaining alternative is inlined, several types become
//!     `anyOf`); `const` → one-value `enum`; `enum` without `type` → `type: "string"`;
//!     `items: [..]` (tuples) → its first schema; `required` keeps only declared properties;
//!   - `format` is kept only where Gemini accepts it (`string`: `enum`, `date-time`;
//!     `number`: `float`, `double`; `integer`: `int32`, `int64`);
//!   - every other keyword is stripped, at every level: `$schema`, `$id`, `$defs`,
//!     `definitions`, `additionalProperties`, `patternProperties`, `unevaluatedProperties`,
//!     `examples`, `exclusiveMinimum`, `exclusiveMaximum`, `multipleOf`, `uniqueItems`,
//!     `contains`, `not`, `if`/`then`/`else`, `dependent*`, `readOnly`, `writeOnly`,
//!     `deprecated`, `strict`, …;
//!   - an object schema with no properties (a function without parameters) sends no
//!     `parameters` at all, as Gemini rejects an `OBJECT` with empty `properties`.
//! - **Reasoning effort.** Models whose name contains `gemini-3` get
//!   `thinkingConfig.thinkingLevel` `MINIMAL` / `LOW` / `MEDIUM` / `HIGH` (Gemini 3 Pro
//!   accepts only `LOW` and `HIGH` and answers the others with a 400). Other models (2.5)
//!   get `thinkingBudget`: minimal → 0 (thinking off; 128 for `pro` models, which cannot
//!   turn it off), low → 1024, medium → 8192, high → 24576. `includeThoughts: true` is set
//!   whenever thinking is on, so thought summaries come back as reasoning parts.
//! - **Not supported:** `parallel_tool_calls` (Gemini has no switch; ignored),
//!   `metadata` (never sent), more than one candidate (`candidateCount` is never sent, so
//!   it is 1), built-in tools (`googleSearch`, `codeExecution`, …: pass them via `extra`
//!   `tools`), and Vertex AI (OAuth, different URL).
//!
//! # Response mapping
//!
//! | Gemini | Tollgate |
//! | --- | --- |
//! | `responseId` | `id` (absent: `gemini-` + a hash of the body / first chunk, stable) |
//! | `modelVersion` | `model` (absent: the model asked for) |
//! | `candidates[0].content.parts[].text` | text parts (consecutive deltas joined) |
//! | parts with `thought: true` | reasoning parts / `ReasoningDelta` |
//! | `thoughtSignature` | `AssistantPart::Reasoning { signature }` (see below) |
//! | `functionCall{id?, name, args}` | `ToolCall{id, name, arguments: args as JSON text}` |
//! | `finishReason` | `finish_reason` normalised, raw value in `provider_finish_reason` |
//! | `usageMetadata` | `usage` normalised |
//!
//! **Synthesised call ids.** Gemini usually sends calls without `id`. Such a call gets
//! `call_<index>_<hash>`, where `index` is its position among the response's calls and the
//! hash (FNV-1a, 10 base62 characters) covers the response id, the index, the name and the
//! arguments. The same response therefore always yields the same ids, streamed or not, and
//! two calls never share one, even with equal names and arguments.
//!
//! **Thought signatures.** Gemini 2.5/3 attach an opaque `thoughtSignature` to parts and
//! Gemini 3 rejects a replayed function call whose signature was dropped. Tollgate keeps
//! each signature in an [`AssistantPart::Reasoning`](tollgate_core::AssistantPart) so that
//! pushing the response back onto the conversation echoes it:
//! - on a thought part: that reasoning part's `signature`;
//! - on any other part (text, function call): a reasoning part with empty text and the
//!   signature, placed after the content before it — or, when that content is an unsigned
//!   reasoning part, that part's signature;
//! - when replayed: a reasoning part with text becomes a `thought: true` part with its
//!   signature; a signature-only part goes on the preceding text part, else on an empty
//!   text part; and in a turn with tool calls, the last signature of the turn goes on the
//!   first `functionCall` part (where Gemini puts it) instead.
//!
//! **Finish reasons.** `STOP` → `ToolCalls` when the answer has function calls, else
//! `Stop`; `MAX_TOKENS` → `Length`; `SAFETY`, `RECITATION`, `BLOCKLIST`,
//! `PROHIBITED_CONTENT`, `SPII`, `IMAGE_SAFETY`, `IMAGE_PROHIBITED_CONTENT`,
//! `IMAGE_RECITATION` → `ContentFilter`; anything else (`MALFORMED_FUNCTION_CALL`,
//! `UNEXPECTED_TOOL_CALL`, `TOO_MANY_TOOL_CALLS`, `LANGUAGE`, `OTHER`, new values) →
//! `Other(raw)`. A complete response without `finishReason` reads as
//! `Other("FINISH_REASON_UNSPECIFIED")`.
//!
//! **Blocked prompts.** A response with `promptFeedback.blockReason` and no candidates is
//! an `Err` of kind `ContentFiltered` whose code is the block reason (not a response with a
//! content-filter finish): there is no answer at all, and routers send content-filter
//! errors to their content-policy fallback. In a stream it is the error of the call.
//!
//! **Usage.** `input_tokens` = `promptTokenCount` (cached tokens included) +
//! `toolUsePromptTokenCount`; `cache_read_tokens` = `cachedContentTokenCount`;
//! `output_tokens` = `candidatesTokenCount` + `thoughtsTokenCount`; `reasoning_tokens` =
//! `thoughtsTokenCount`; `cache_write_tokens` = 0 (Gemini reports none).
//!
//! # Streaming
//!
//! See [`stream`] for the state machine: CRLF-framed SSE, no end marker;
//! `Start` from the first chunk; an error object or blocked prompt as the first chunk is
//! the `Err` of the call; afterwards errors are stream items; `usageMetadata` may come on
//! every chunk or only the last (the last wins); the final `Usage` and then `Finish` are
//! emitted when the body ends, and a body that ends without any `finishReason` ends with a
//! `Transport` error item. Function calls arrive whole, as one `ToolCallStart` and one
//! `ToolCallDelta` each. Dropping the stream closes the connection.
//!
//! # Errors
//!
//! See [`error`] for the `google.rpc.Status` mapping (400 `API_KEY_INVALID` →
//! `Authentication`, 429 `RESOURCE_EXHAUSTED` → `RateLimited` with `RetryInfo.retryDelay`,
//! 503 `UNAVAILABLE` → `Overloaded`, …).

pub mod client;
pub mod config;
pub(crate) mod decode;
pub mod encode;
pub mod error;
pub mod stream;
pub mod wire;

pub use client::GeminiClient;
pub use config::GeminiConfig;

/// The provider name, as OpenTelemetry's `gen_ai.provider.name` spells it.
pub const PROVIDER: &str = "gcp.gemini";
