//! Provider-neutral answers rendered into each provider's exact wire body.
//!
//! A conformance suite scripts the same logical answer on every provider and compares the
//! normalised results: describe the answer once as a [`Scenario`] (normalised usage, unified
//! finish reason), then [`Scenario::reply`] renders what OpenAI, Anthropic or Gemini would
//! really send for it, streamed or not, with usage *de-normalised* into that provider's own
//! semantics. [`error_reply`] does the same for each error class.
//!
//! ```
//! use tollgate_testkit::Flavor;
//! use tollgate_testkit::scenario::{Scenario, ScenarioToolCall, ScenarioUsage};
//!
//! let answer = Scenario::text(["Fog horns", " sound."])
//!     .with_usage(ScenarioUsage { input_tokens: 20, output_tokens: 5, ..Default::default() });
//! let reply = answer.reply(Flavor::Anthropic, true);
//! assert!(reply.is_sse());
//!
//! let call = Scenario::tool_calls([ScenarioToolCall::new(
//!     "call_1",
//!     "get_tide_times",
//!     [r#"{"harbor":"#, r#""Brest"}"#],
//! )]);
//! let body: serde_json::Value = serde_json::from_slice(call.reply(Flavor::Gemini, false).body().unwrap()).unwrap();
//! assert_eq!(body["candidates"][0]["content"]["parts"][0]["functionCall"]["args"]["harbor"], "Brest");
//! ```

mod anthropic;
mod error;
mod gemini;
mod openai;

pub use error::{ScenarioError, error_reply, error_reply_for_stream};

use serde_json::Value;

use crate::{Flavor, Reply};

/// The `created` timestamp (Unix seconds) on rendered OpenAI bodies.
const CREATED: u64 = 1_767_225_600;

/// One logical assistant answer, independent of any provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// The response id each provider reports (`id`, or Gemini's `responseId`).
    pub id: String,
    /// The model each provider reports (`model`, or Gemini's `modelVersion`).
    pub model: String,
    /// The answer text, in the pieces it is streamed in (joined when not streamed).
    pub text: Vec<String>,
    /// Reasoning text pieces. Anthropic renders them as a `thinking` block, Gemini as
    /// `thought: true` parts; OpenAI Chat Completions never returns reasoning text, so there
    /// they only show as `reasoning_tokens` in usage.
    pub reasoning: Vec<String>,
    /// Tool calls, in order.
    pub tool_calls: Vec<ScenarioToolCall>,
    /// Normalised usage (see [`ScenarioUsage`]).
    pub usage: ScenarioUsage,
    /// The unified finish reason.
    pub finish: ScenarioFinish,
}

/// One tool call of a [`Scenario`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioToolCall {
    /// The call id (OpenAI `call_…`, Anthropic `toolu_…`). Gemini sends no ids on the wire, so
    /// it is not rendered there. Use `[a-zA-Z0-9_-]` only if the id must survive Anthropic.
    pub id: String,
    /// The function name.
    pub name: String,
    /// The arguments as JSON text, in the pieces it is streamed in. Joined, they should form a
    /// JSON object; an empty join means `{}`. Anthropic and Gemini carry arguments as a JSON
    /// object, so there a join that is not valid JSON is sent as a JSON string instead (and a
    /// client will notice).
    pub arguments_json_pieces: Vec<String>,
}

impl ScenarioToolCall {
    /// A call with its arguments split into `pieces`.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        pieces: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            arguments_json_pieces: pieces.into_iter().map(Into::into).collect(),
        }
    }

    /// The whole arguments text.
    pub fn arguments_json(&self) -> String {
        self.arguments_json_pieces.concat()
    }

    /// The arguments as a JSON value: `{}` when empty, the parsed JSON when valid, else the
    /// text as a JSON string.
    pub(crate) fn arguments_value(&self) -> Value {
        let text = self.arguments_json();
        if text.trim().is_empty() {
            return Value::Object(serde_json::Map::new());
        }
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    }
}

/// Usage in Tollgate's normalised form (the same as `tollgate_core::Usage`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScenarioUsage {
    /// All input tokens, cache reads and writes included.
    pub input_tokens: u64,
    /// All output tokens, reasoning included.
    pub output_tokens: u64,
    /// Input tokens read from the cache (a subset of `input_tokens`).
    pub cache_read_tokens: u64,
    /// Input tokens written to the cache (a subset of `input_tokens`). Gemini has no such
    /// count: it is not rendered there.
    pub cache_write_tokens: u64,
    /// Reasoning tokens (a subset of `output_tokens`).
    pub reasoning_tokens: u64,
}

impl ScenarioUsage {
    /// Input tokens neither read from nor written to the cache.
    pub fn uncached_input_tokens(&self) -> u64 {
        self.input_tokens
            .saturating_sub(self.cache_read_tokens)
            .saturating_sub(self.cache_write_tokens)
    }

    /// Output tokens that are not reasoning.
    pub fn visible_output_tokens(&self) -> u64 {
        self.output_tokens.saturating_sub(self.reasoning_tokens)
    }
}

/// The unified finish reason, rendered as each provider's own value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScenarioFinish {
    /// OpenAI `stop`, Anthropic `end_turn`, Gemini `STOP`.
    Stop,
    /// OpenAI `length`, Anthropic `max_tokens`, Gemini `MAX_TOKENS`.
    Length,
    /// OpenAI `tool_calls`, Anthropic `tool_use`, Gemini `STOP` with `functionCall` parts.
    ToolCalls,
    /// OpenAI `content_filter`, Anthropic `refusal`, Gemini `SAFETY`.
    ContentFilter,
}

impl Scenario {
    fn empty() -> Self {
        Scenario {
            id: "scenario-0001".to_owned(),
            model: "test-model".to_owned(),
            text: Vec::new(),
            reasoning: Vec::new(),
            tool_calls: Vec::new(),
            usage: ScenarioUsage {
                input_tokens: 12,
                output_tokens: 8,
                ..ScenarioUsage::default()
            },
            finish: ScenarioFinish::Stop,
        }
    }

    /// A text answer in `pieces`, finishing with [`ScenarioFinish::Stop`].
    pub fn text(pieces: impl IntoIterator<Item = impl Into<String>>) -> Scenario {
        Scenario::empty().with_text(pieces)
    }

    /// An answer made of tool `calls`, finishing with [`ScenarioFinish::ToolCalls`].
    pub fn tool_calls(calls: impl IntoIterator<Item = ScenarioToolCall>) -> Scenario {
        Scenario {
            tool_calls: calls.into_iter().collect(),
            finish: ScenarioFinish::ToolCalls,
            ..Scenario::empty()
        }
    }

    /// Sets the response id.
    pub fn with_id(mut self, id: impl Into<String>) -> Scenario {
        self.id = id.into();
        self
    }

    /// Sets the reported model.
    pub fn with_model(mut self, model: impl Into<String>) -> Scenario {
        self.model = model.into();
        self
    }

    /// Replaces the text pieces.
    pub fn with_text(mut self, pieces: impl IntoIterator<Item = impl Into<String>>) -> Scenario {
        self.text = pieces.into_iter().map(Into::into).collect();
        self
    }

    /// Replaces the reasoning pieces.
    pub fn with_reasoning(
        mut self,
        pieces: impl IntoIterator<Item = impl Into<String>>,
    ) -> Scenario {
        self.reasoning = pieces.into_iter().map(Into::into).collect();
        self
    }

    /// Replaces the tool calls (the finish reason is left as it is).
    pub fn with_tool_calls(
        mut self,
        calls: impl IntoIterator<Item = ScenarioToolCall>,
    ) -> Scenario {
        self.tool_calls = calls.into_iter().collect();
        self
    }

    /// Sets the normalised usage.
    pub fn with_usage(mut self, usage: ScenarioUsage) -> Scenario {
        self.usage = usage;
        self
    }

    /// Sets the finish reason.
    pub fn with_finish(mut self, finish: ScenarioFinish) -> Scenario {
        self.finish = finish;
        self
    }

    /// The whole text.
    pub fn joined_text(&self) -> String {
        self.text.concat()
    }

    /// The whole reasoning text.
    pub fn joined_reasoning(&self) -> String {
        self.reasoning.concat()
    }

    /// The exact body `flavor` would send for this answer: a JSON body, or with `stream` an
    /// SSE body in that provider's framing (OpenAI and Anthropic LF, Gemini CRLF).
    pub fn reply(&self, flavor: Flavor, stream: bool) -> Reply {
        match (flavor, stream) {
            (Flavor::OpenAi, false) => Reply::json(openai::body(self)),
            (Flavor::OpenAi, true) => Reply::sse(openai::stream(self)),
            (Flavor::Anthropic, false) => Reply::json(anthropic::body(self)),
            (Flavor::Anthropic, true) => Reply::sse(anthropic::stream(self)),
            (Flavor::Gemini, false) => {
                Reply::json(gemini::body(self)).with_header("content-type", gemini::JSON_TYPE)
            }
            (Flavor::Gemini, true) => Reply::sse(gemini::stream(self)),
        }
    }
}

/// Appends one SSE event to `out`: optional `event:` line, one `data:` line, blank line, all
/// ending in `eol`.
fn push_event(out: &mut String, event: Option<&str>, data: &str, eol: &str) {
    if let Some(event) = event {
        out.push_str("event: ");
        out.push_str(event);
        out.push_str(eol);
    }
    out.push_str("data: ");
    out.push_str(data);
    out.push_str(eol);
    out.push_str(eol);
}
