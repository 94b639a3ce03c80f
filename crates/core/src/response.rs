//! A complete answer ([`ChatResponse`]) and the facts about who produced it ([`ReplyMeta`]).

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;
use crate::message::AssistantMessage;
use crate::rate_limits::RateLimits;
use crate::usage::Usage;

/// A complete answer from a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// The provider's id for the answer (synthesised where the provider sends none).
    pub id: String,
    /// The model as the provider reported it (often a dated snapshot of the one asked for).
    pub model: String,
    /// The assistant turn: text, reasoning and tool calls.
    pub message: AssistantMessage,
    /// Why the model stopped, normalised.
    pub finish_reason: FinishReason,
    /// Why the model stopped, exactly as the provider said it (`end_turn`, `SAFETY`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_finish_reason: Option<String>,
    /// Tokens consumed; `None` when the provider did not report them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Who answered, and how the router got there.
    #[serde(default)]
    pub meta: ReplyMeta,
}

impl ChatResponse {
    /// The answer's text (reasoning excluded).
    pub fn text(&self) -> String {
        self.message.text_content()
    }
}

/// Why a model stopped producing output.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FinishReason {
    /// A natural end or a stop sequence.
    Stop,
    /// The output token limit was reached.
    Length,
    /// The model is waiting for tool results.
    ToolCalls,
    /// The provider's safety system stopped the answer.
    ContentFilter,
    /// Anything else, with the provider's raw value.
    Other(String),
}

impl FinishReason {
    /// The OpenAI spelling (`stop`, `length`, `tool_calls`, `content_filter`), or the raw
    /// value for [`FinishReason::Other`].
    pub fn as_str(&self) -> &str {
        match self {
            Self::Stop => "stop",
            Self::Length => "length",
            Self::ToolCalls => "tool_calls",
            Self::ContentFilter => "content_filter",
            Self::Other(raw) => raw,
        }
    }

    /// Reads the OpenAI spelling; anything else becomes [`FinishReason::Other`].
    pub fn from_openai(value: &str) -> Self {
        match value {
            "stop" => Self::Stop,
            "length" => Self::Length,
            "tool_calls" | "function_call" => Self::ToolCalls,
            "content_filter" => Self::ContentFilter,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for FinishReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for FinishReason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FinishReason {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Ok(Self::from_openai(&raw))
    }
}

/// Facts about who produced a reply: the provider that answered and, behind a router,
/// the route, the deployment and every attempt made on the way.
///
/// Provider clients fill `provider`, `server_address`, `server_port` and `rate_limits`;
/// routers fill `route`, `deployment` and `attempts`. Telemetry and the gateway read all
/// of it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReplyMeta {
    /// The provider that answered, as the OpenTelemetry GenAI `gen_ai.provider.name`
    /// spells it (`openai`, `anthropic`, `gcp.gemini`, `groq`, …).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub provider: String,
    /// The host the provider client called.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_address: Option<String>,
    /// The port the provider client called.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_port: Option<u16>,
    /// The route the caller asked for, behind a router.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// The deployment that answered, behind a router.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
    /// Every attempt that failed before the one that answered, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_attempts: Vec<Attempt>,
    /// The quota the provider reported left on this answer's response headers, when it
    /// sent any (OpenAI and compatibles, Anthropic); routers use it to keep traffic away
    /// from a deployment until its limit resets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limits: Option<RateLimits>,
}

impl ReplyMeta {
    /// Meta for a provider client: its provider name and the base URL it calls.
    pub fn for_provider(provider: impl Into<String>, base_url: &str) -> Self {
        let (server_address, server_port) = host_and_port(base_url);
        Self {
            provider: provider.into(),
            server_address,
            server_port,
            ..Self::default()
        }
    }

    /// How many attempts were made in all, the answering one included.
    pub fn attempts(&self) -> usize {
        self.failed_attempts.len() + 1
    }
}

/// One failed attempt on the way to a reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// The deployment tried.
    pub deployment: String,
    /// Its provider.
    pub provider: String,
    /// How long the attempt took until it failed.
    #[serde(with = "duration_ms")]
    pub elapsed: Duration,
    /// Why it failed.
    pub error: Error,
}

/// Splits `scheme://host:port/path` into host and port (the scheme's default port when
/// none is written). Returns `None`s for text that is not a URL.
pub(crate) fn host_and_port(url: &str) -> (Option<String>, Option<u16>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (None, None);
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit('@').next().unwrap_or_default();
    let default_port = match scheme {
        "https" => Some(443),
        "http" => Some(80),
        _ => None,
    };
    // Bracketed IPv6 literal.
    if let Some(rest) = authority.strip_prefix('[') {
        let Some((host, after)) = rest.split_once(']') else {
            return (None, None);
        };
        let port = after
            .strip_prefix(':')
            .and_then(|p| p.parse().ok())
            .or(default_port);
        return (Some(host.to_owned()), port);
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => (Some(host.to_owned()), port.parse().ok().or(default_port)),
        None if authority.is_empty() => (None, None),
        None => (Some(authority.to_owned()), default_port),
    }
}

pub(crate) mod duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(value: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(value.as_millis()).unwrap_or(u64::MAX))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_reasons_keep_unknown_raw_values() {
        assert_eq!(
            FinishReason::from_openai("tool_calls"),
            FinishReason::ToolCalls
        );
        let other = FinishReason::from_openai("eos_token");
        assert_eq!(other.as_str(), "eos_token");
        let json = serde_json::to_string(&other).unwrap();
        assert_eq!(json, "\"eos_token\"");
    }

    #[test]
    fn server_address_comes_from_the_base_url() {
        assert_eq!(
            host_and_port("https://api.openai.com/v1"),
            (Some("api.openai.com".into()), Some(443))
        );
        assert_eq!(
            host_and_port("http://127.0.0.1:8080/v1"),
            (Some("127.0.0.1".into()), Some(8080))
        );
        assert_eq!(
            host_and_port("http://[::1]:11434"),
            (Some("::1".into()), Some(11434))
        );
        assert_eq!(host_and_port("not a url"), (None, None));
    }
}
