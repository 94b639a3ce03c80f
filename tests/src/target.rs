//! The providers under test and what differs between them by design.
//!
//! A [`Target`] is one provider client configuration: OpenAI, Anthropic, Gemini, or an
//! OpenAI-compatible [`Preset`] served by the OpenAI-flavour fake server (the preset's base
//! URL pointed at it, everything else — provider name, quirks — as the preset ships).
//! [`Target::start`] gives a [`Harness`]: the fake server and a type-erased client.

use std::error::Error as StdError;
use std::fmt;

use tollgate_anthropic::{AnthropicClient, AnthropicConfig};
use tollgate_core::tool_ids::ToolIdRule;
use tollgate_core::{BoxChatService, Client, ReplyMeta, boxed};
use tollgate_gemini::{GeminiClient, GeminiConfig};
use tollgate_openai::{OpenAiClient, OpenAiConfig, Preset};
use tollgate_testkit::scenario::ScenarioFinish;
use tollgate_testkit::{FakeServer, Flavor};

/// The API key every harness configures (and its fake server insists on).
pub const KEY: &str = "tg-conformance-key-0123456789";

/// Anthropic's request rule for tool ids (`^[a-zA-Z0-9_-]+$`; the client keeps them at most
/// 64 characters).
const ANTHROPIC_IDS: ToolIdRule = ToolIdRule::Charset { max_len: 64 };

/// One provider client configuration under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// OpenAI itself or an OpenAI-compatible preset (`tollgate-openai`).
    Compatible(Preset),
    /// Anthropic Messages (`tollgate-anthropic`).
    Anthropic,
    /// Gemini `generateContent` (`tollgate-gemini`).
    Gemini,
}

impl Target {
    /// OpenAI.
    pub const OPENAI: Target = Target::Compatible(Preset::OpenAi);
    /// The Mistral preset (9-character alphanumeric tool ids, `random_seed`).
    pub const MISTRAL: Target = Target::Compatible(Preset::Mistral);

    /// The wire format the target speaks, i.e. which fake server serves it.
    pub fn flavor(self) -> Flavor {
        match self {
            Target::Compatible(_) => Flavor::OpenAi,
            Target::Anthropic => Flavor::Anthropic,
            Target::Gemini => Flavor::Gemini,
        }
    }

    /// The provider name replies and errors carry (`gen_ai.provider.name`).
    ///
    /// The expectations below are written out for every target of the suite rather than
    /// read from the preset's own quirks, so a wrong quirk fails the suite; presets not
    /// listed fall back to what the preset declares.
    pub fn provider(self) -> &'static str {
        match self {
            Target::Compatible(Preset::OpenAi) => "openai",
            Target::Compatible(Preset::Groq) => "groq",
            Target::Compatible(Preset::Mistral) => "mistral_ai",
            Target::Compatible(Preset::DeepSeek) => "deepseek",
            Target::Compatible(Preset::Together) => "together",
            Target::Compatible(Preset::Ollama) => "ollama",
            Target::Compatible(Preset::Vllm) => "vllm",
            Target::Compatible(preset) => preset.provider(),
            Target::Anthropic => "anthropic",
            Target::Gemini => "gcp.gemini",
        }
    }

    /// A model name typical of the provider, sent in requests.
    pub fn model(self) -> &'static str {
        match self {
            Target::Compatible(Preset::OpenAi) => "gpt-4o-mini",
            Target::Compatible(Preset::Groq) => "llama-3.3-70b-versatile",
            Target::Compatible(Preset::Mistral) => "mistral-large-latest",
            Target::Compatible(Preset::DeepSeek) => "deepseek-chat",
            Target::Compatible(Preset::Together) => "meta-llama/Llama-3.3-70B-Instruct-Turbo",
            Target::Compatible(Preset::Ollama) => "llama3.2",
            Target::Compatible(Preset::Vllm) => "Qwen/Qwen2.5-7B-Instruct",
            Target::Compatible(_) => "compatible-model",
            // A model with native structured output (so `json_schema` needs no forced tool).
            Target::Anthropic => "claude-sonnet-4-5",
            Target::Gemini => "gemini-2.5-flash",
        }
    }

    /// The tool-call ids the provider accepts in requests.
    pub fn tool_id_rule(self) -> ToolIdRule {
        match self {
            Target::Compatible(Preset::Mistral) => ToolIdRule::ExactAlphanumeric { len: 9 },
            Target::Compatible(
                Preset::OpenAi
                | Preset::Groq
                | Preset::DeepSeek
                | Preset::Together
                | Preset::Ollama
                | Preset::Vllm,
            ) => ToolIdRule::Any,
            Target::Compatible(preset) => preset.info().quirks.tool_id_rule,
            Target::Anthropic => ANTHROPIC_IDS,
            // Gemini ids are optional and free-form; any non-empty one is echoed.
            Target::Gemini => ToolIdRule::Any,
        }
    }

    /// Whether the provider issues tool-call ids itself. Gemini usually does not: the
    /// client synthesises `call_<index>_<hash>`.
    pub fn issues_tool_ids(self) -> bool {
        !matches!(self, Target::Gemini)
    }

    /// A tool-call id for call `index` in this provider's own style, as its API would issue
    /// it (Gemini: an id that is not rendered on the wire at all).
    pub fn native_call_id(self, index: usize) -> String {
        match self {
            Target::Compatible(Preset::Mistral) => format!("Mst{index}x7Lq9"),
            Target::Compatible(_) => format!("call_Rk{index}mZ8vQ2wXy5nB"),
            Target::Anthropic => format!("toolu_01Hq{index}Xv7Ly3Nc9WtDe"),
            Target::Gemini => format!("not-on-the-wire-{index}"),
        }
    }

    /// The provider's raw finish reason for a unified one, as the scenario renders it.
    pub fn raw_finish(self, finish: ScenarioFinish) -> &'static str {
        match (self.flavor(), finish) {
            (Flavor::OpenAi, ScenarioFinish::Stop) => "stop",
            (Flavor::OpenAi, ScenarioFinish::Length) => "length",
            (Flavor::OpenAi, ScenarioFinish::ToolCalls) => "tool_calls",
            (Flavor::OpenAi, ScenarioFinish::ContentFilter) => "content_filter",
            (Flavor::Anthropic, ScenarioFinish::Stop) => "end_turn",
            (Flavor::Anthropic, ScenarioFinish::Length) => "max_tokens",
            (Flavor::Anthropic, ScenarioFinish::ToolCalls) => "tool_use",
            (Flavor::Anthropic, ScenarioFinish::ContentFilter) => "refusal",
            (Flavor::Gemini, ScenarioFinish::Stop | ScenarioFinish::ToolCalls) => "STOP",
            (Flavor::Gemini, ScenarioFinish::Length) => "MAX_TOKENS",
            (Flavor::Gemini, ScenarioFinish::ContentFilter) => "SAFETY",
        }
    }

    /// Where the request's output-token limit must appear: a JSON pointer into the body.
    pub fn max_tokens_pointer(self) -> &'static str {
        match self {
            // o-series models reject `max_tokens`; Groq documents `max_completion_tokens`.
            Target::Compatible(Preset::OpenAi | Preset::Groq) => "/max_completion_tokens",
            Target::Compatible(
                Preset::Mistral
                | Preset::DeepSeek
                | Preset::Together
                | Preset::Ollama
                | Preset::Vllm,
            ) => "/max_tokens",
            Target::Compatible(preset) => match preset.info().quirks.max_tokens_field {
                tollgate_openai::MaxTokensField::MaxCompletionTokens => "/max_completion_tokens",
                _ => "/max_tokens",
            },
            Target::Anthropic => "/max_tokens",
            Target::Gemini => "/generationConfig/maxOutputTokens",
        }
    }

    /// Where the request's seed must appear, or `None` where the provider has no seed.
    pub fn seed_pointer(self) -> Option<&'static str> {
        match self {
            Target::Compatible(Preset::Mistral) => Some("/random_seed"),
            Target::Compatible(
                Preset::OpenAi
                | Preset::Groq
                | Preset::DeepSeek
                | Preset::Together
                | Preset::Ollama
                | Preset::Vllm,
            ) => Some("/seed"),
            Target::Compatible(preset) => match preset.info().quirks.seed_field {
                tollgate_openai::SeedField::RandomSeed => Some("/random_seed"),
                _ => Some("/seed"),
            },
            Target::Anthropic => None,
            Target::Gemini => Some("/generationConfig/seed"),
        }
    }

    /// Where the request's temperature must appear.
    pub fn temperature_pointer(self) -> &'static str {
        match self {
            Target::Gemini => "/generationConfig/temperature",
            _ => "/temperature",
        }
    }

    /// Whether a streaming request must ask for usage with `stream_options`.
    pub fn asks_for_stream_usage(self) -> bool {
        match self {
            // Mistral rejects unknown fields and sends usage on its last chunk anyway.
            Target::Compatible(Preset::Mistral) => false,
            Target::Compatible(
                Preset::OpenAi
                | Preset::Groq
                | Preset::DeepSeek
                | Preset::Together
                | Preset::Ollama
                | Preset::Vllm,
            ) => true,
            Target::Compatible(preset) => preset.info().quirks.stream_options,
            Target::Anthropic | Target::Gemini => false,
        }
    }

    /// Starts a fake server of the target's flavour (accepting only [`KEY`]) and a client
    /// pointed at it.
    ///
    /// # Errors
    ///
    /// When the server cannot bind or the client cannot be built.
    pub async fn start(self) -> Result<Harness, HarnessError> {
        let server = FakeServer::builder(self.flavor())
            .api_key(KEY)
            .try_start()
            .await
            .map_err(HarnessError::new)?;
        let base_url = server.base_url();
        let service = match self {
            Target::Compatible(preset) => boxed(
                OpenAiClient::new(
                    OpenAiConfig::preset(preset)
                        .api_key(KEY)
                        .base_url(base_url.as_str()),
                )
                .map_err(HarnessError::new)?,
            ),
            Target::Anthropic => boxed(
                AnthropicClient::new(AnthropicConfig::new(KEY).base_url(base_url.as_str()))
                    .map_err(HarnessError::new)?,
            ),
            Target::Gemini => boxed(
                GeminiClient::new(GeminiConfig::new(KEY).base_url(base_url.as_str()))
                    .map_err(HarnessError::new)?,
            ),
        };
        Ok(Harness {
            target: self,
            server,
            client: Client::new(service),
        })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.provider())
    }
}

/// A provider client wired to its fake server.
#[derive(Debug, Clone)]
pub struct Harness {
    /// Which provider this is.
    pub target: Target,
    /// The fake server the client calls.
    pub server: FakeServer,
    /// The client, type-erased as routers hold it.
    pub client: Client<BoxChatService>,
}

impl Harness {
    /// The [`ReplyMeta`] every reply of this client must carry.
    pub fn expected_meta(&self) -> ReplyMeta {
        ReplyMeta::for_provider(self.target.provider(), &self.server.base_url())
    }
}

/// Why a [`Harness`] could not be started.
#[derive(Debug)]
pub struct HarnessError(Box<dyn StdError + Send + Sync>);

impl HarnessError {
    fn new(error: impl StdError + Send + Sync + 'static) -> Self {
        Self(Box::new(error))
    }
}

impl fmt::Display for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the harness could not start: {}", self.0)
    }
}

impl StdError for HarnessError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.0)
    }
}
