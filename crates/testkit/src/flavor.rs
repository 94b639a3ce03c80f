//! Which provider API a fake server imitates.

use std::fmt;

/// The wire format a [`FakeServer`](crate::FakeServer) speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavor {
    /// OpenAI Chat Completions: `POST {base}/chat/completions` with `base = http://127.0.0.1:P/v1`,
    /// `Authorization: Bearer`.
    OpenAi,
    /// Anthropic Messages: `POST {base}/v1/messages`, `x-api-key` and `anthropic-version`.
    Anthropic,
    /// Gemini API: `POST {base}/v1beta/models/{model}:generateContent` and
    /// `:streamGenerateContent?alt=sse`, `x-goog-api-key` (or `?key=`).
    Gemini,
}

impl Flavor {
    /// Every flavor, in the order OpenAI, Anthropic, Gemini.
    pub const ALL: [Flavor; 3] = [Flavor::OpenAi, Flavor::Anthropic, Flavor::Gemini];

    /// A short lowercase name: `openai`, `anthropic` or `gemini`.
    pub fn name(self) -> &'static str {
        match self {
            Flavor::OpenAi => "openai",
            Flavor::Anthropic => "anthropic",
            Flavor::Gemini => "gemini",
        }
    }
}

impl fmt::Display for Flavor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
