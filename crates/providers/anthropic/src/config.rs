//! [`AnthropicConfig`]: the key, endpoint and defaults of an Anthropic client.

use tollgate_core::{Error, ErrorKind, Secret};
use tollgate_http::ClientSettings;

/// The public Anthropic API.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";

/// The `anthropic-version` header sent unless configured otherwise (the official SDKs'
/// constant).
pub const DEFAULT_ANTHROPIC_VERSION: &str = "2023-06-01";

/// The `max_tokens` sent when a request sets none (Anthropic requires the field).
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// The environment variable [`AnthropicConfig::from_env`] reads the key from.
pub const API_KEY_VAR: &str = "ANTHROPIC_API_KEY";

/// The environment variable [`AnthropicConfig::from_env`] reads the base URL from.
pub const BASE_URL_VAR: &str = "ANTHROPIC_BASE_URL";

/// The beta that [`StructuredOutputMode::NativeBeta`] sends.
pub const STRUCTURED_OUTPUTS_BETA: &str = "structured-outputs-2025-11-13";

/// How a [`ResponseFormat::JsonSchema`](tollgate_core::ResponseFormat::JsonSchema)
/// request is carried to Anthropic.
///
/// ([`ResponseFormat::JsonObject`](tollgate_core::ResponseFormat::JsonObject) always uses
/// the forced tool: the native format needs a closed schema.)
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StructuredOutputMode {
    /// [`Native`](Self::Native) for models known to support Anthropic's native structured
    /// output (see [`supports_native_structured_output`]), [`Tool`](Self::Tool) for
    /// every other model.
    #[default]
    Auto,
    /// The native output format: `output_config: {"format": {"type": "json_schema",
    /// "schema": …}}`. The answer arrives as text.
    Native,
    /// The earlier beta form of the native output format: top-level `output_format:
    /// {"type": "json_schema", "schema": …}` with `anthropic-beta:
    /// structured-outputs-2025-11-13`, for endpoints that predate its general
    /// availability. Never chosen by [`Auto`](Self::Auto).
    NativeBeta,
    /// A synthetic tool named after the schema, with the schema as its `input_schema`,
    /// forced with `tool_choice`. Its input is turned back into the answer text with
    /// finish reason `Stop`, in complete and streaming replies alike. Works on every
    /// model that supports tools, but cannot be combined with extended thinking
    /// (Anthropic forbids forced tool use while thinking).
    Tool,
}

impl StructuredOutputMode {
    /// Whether a JSON-schema request for `model` uses the native output format.
    pub fn uses_native(self, model: &str) -> bool {
        match self {
            Self::Auto => supports_native_structured_output(model),
            Self::Native | Self::NativeBeta => true,
            Self::Tool => false,
        }
    }
}

/// Whether `model` is known to support Anthropic's native structured output: Claude Opus
/// 4.1, and every Claude model of generation 4.5 or later (Sonnet 4.5, Opus 4.5,
/// Haiku 4.5, …). Both naming schemes are read (`claude-sonnet-4-5-20250929`,
/// `claude-3-5-sonnet-latest`); a model name that is not a Claude model reads as
/// unsupported, so it gets the forced tool, which works everywhere.
///
/// ```
/// use tollgate_anthropic::config::supports_native_structured_output as native;
///
/// assert!(native("claude-sonnet-4-5-20250929"));
/// assert!(native("claude-opus-4-1"));
/// assert!(native("claude-haiku-4-5"));
/// assert!(native("claude-opus-5"));
/// assert!(!native("claude-sonnet-4-20250514"));
/// assert!(!native("claude-3-7-sonnet-latest"));
/// assert!(!native("my-proxy-alias"));
/// ```
pub fn supports_native_structured_output(model: &str) -> bool {
    let Some(rest) = model.strip_prefix("claude-") else {
        return false;
    };
    // Version numbers are the short numeric segments; a dated snapshot (8 digits) is not.
    let mut numbers = rest
        .split(['-', '.', '@'])
        .filter(|s| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|s| s.parse::<u32>().ok());
    let Some(major) = numbers.next() else {
        return false;
    };
    let minor = numbers.next().unwrap_or(0);
    let opus = rest.contains("opus");
    major > 4 || (major == 4 && (minor >= 5 || (opus && minor >= 1)))
}

/// The settings of an [`AnthropicClient`](crate::AnthropicClient).
///
/// ```
/// use tollgate_anthropic::{AnthropicConfig, StructuredOutputMode};
///
/// let config = AnthropicConfig::new("sk-ant-example")
///     .base_url("http://127.0.0.1:8080")
///     .beta("prompt-caching-2024-07-31")
///     .default_max_tokens(1024)
///     .structured_output(StructuredOutputMode::Tool);
/// assert_eq!(config.base_url, "http://127.0.0.1:8080");
/// assert_eq!(format!("{:?}", config.api_key), "*****");
/// ```
#[derive(Debug, Clone)]
pub struct AnthropicConfig {
    /// The API key, sent as `x-api-key`.
    pub api_key: Secret,
    /// The API root, without `/v1` (requests go to `{base_url}/v1/messages`).
    pub base_url: String,
    /// The `anthropic-version` header.
    pub anthropic_version: String,
    /// Beta names sent in the `anthropic-beta` header (comma-separated) on every request.
    pub betas: Vec<String>,
    /// The `max_tokens` sent when a request sets none.
    pub default_max_tokens: u32,
    /// How JSON-schema output is requested.
    pub structured_output: StructuredOutputMode,
    /// Connection settings of the HTTP client.
    pub http: ClientSettings,
}

impl AnthropicConfig {
    /// A configuration for the public API with `api_key` and every default.
    pub fn new(api_key: impl Into<Secret>) -> Self {
        Self {
            api_key: api_key.into(),
            base_url: DEFAULT_BASE_URL.to_owned(),
            anthropic_version: DEFAULT_ANTHROPIC_VERSION.to_owned(),
            betas: Vec::new(),
            default_max_tokens: DEFAULT_MAX_TOKENS,
            structured_output: StructuredOutputMode::Auto,
            http: ClientSettings::default(),
        }
    }

    /// Reads `ANTHROPIC_API_KEY` (required) and `ANTHROPIC_BASE_URL` (optional).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Authentication`] naming the variable when the key is missing or empty.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`from_env`](Self::from_env), reading variables through `lookup` (for tests and
    /// for configuration sources other than the process environment).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Authentication`] naming the variable when the key is missing or empty.
    ///
    /// ```
    /// use tollgate_anthropic::AnthropicConfig;
    /// use tollgate_core::ErrorKind;
    ///
    /// let err = AnthropicConfig::from_lookup(|_| None).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Authentication);
    /// assert!(err.to_string().contains("ANTHROPIC_API_KEY"));
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let key = lookup(API_KEY_VAR)
            .map(|k| k.trim().to_owned())
            .filter(|k| !k.is_empty())
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Authentication,
                    format!("{API_KEY_VAR} is not set; export it or configure the key explicitly"),
                )
                .with_provider(crate::PROVIDER)
            })?;
        let mut config = Self::new(key);
        if let Some(base_url) = lookup(BASE_URL_VAR)
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty())
        {
            config.base_url = base_url;
        }
        Ok(config)
    }

    /// Sets the API root (without `/v1`).
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// Sets the `anthropic-version` header.
    pub fn anthropic_version(mut self, version: impl Into<String>) -> Self {
        self.anthropic_version = version.into();
        self
    }

    /// Adds a beta name to the `anthropic-beta` header.
    pub fn beta(mut self, beta: impl Into<String>) -> Self {
        self.betas.push(beta.into());
        self
    }

    /// Sets the `max_tokens` sent when a request sets none.
    pub fn default_max_tokens(mut self, max_tokens: u32) -> Self {
        self.default_max_tokens = max_tokens;
        self
    }

    /// Sets how JSON-schema output is requested.
    pub fn structured_output(mut self, mode: StructuredOutputMode) -> Self {
        self.structured_output = mode;
        self
    }

    /// Sets the HTTP client's settings (timeouts, pool, proxy, extra CAs).
    pub fn http(mut self, settings: ClientSettings) -> Self {
        self.http = settings;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_key_names_the_variable_and_an_empty_one_counts_as_missing() {
        for value in [None, Some(String::new()), Some("   ".to_owned())] {
            let err = AnthropicConfig::from_lookup(|_| value.clone()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Authentication);
            assert!(err.message().contains(API_KEY_VAR), "{err}");
        }
    }

    #[test]
    fn the_environment_sets_key_and_base_url() {
        let config = AnthropicConfig::from_lookup(|name| match name {
            API_KEY_VAR => Some("sk-ant-env".into()),
            BASE_URL_VAR => Some("http://127.0.0.1:9".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(config.api_key.expose(), "sk-ant-env");
        assert_eq!(config.base_url, "http://127.0.0.1:9");
        let defaults =
            AnthropicConfig::from_lookup(|name| (name == API_KEY_VAR).then(|| "k".into())).unwrap();
        assert_eq!(defaults.base_url, DEFAULT_BASE_URL);
        assert_eq!(defaults.anthropic_version, "2023-06-01");
        assert_eq!(defaults.default_max_tokens, 4096);
    }

    #[test]
    fn native_structured_output_is_keyed_on_the_model_generation() {
        for model in [
            "claude-sonnet-4-5",
            "claude-sonnet-4-5-20250929",
            "claude-opus-4-1-20250805",
            "claude-opus-4-5",
            "claude-haiku-4-5-20251001",
            "claude-sonnet-4-6",
            "claude-opus-5",
        ] {
            assert!(supports_native_structured_output(model), "{model}");
        }
        for model in [
            "claude-sonnet-4-20250514",
            "claude-sonnet-4-0",
            "claude-opus-4-20250514",
            "claude-3-7-sonnet-20250219",
            "claude-3-5-haiku-latest",
            "claude-3-opus-20240229",
            "gpt-4o",
            "claude-",
        ] {
            assert!(!supports_native_structured_output(model), "{model}");
        }
        assert!(StructuredOutputMode::Native.uses_native("claude-3-haiku"));
        assert!(!StructuredOutputMode::Tool.uses_native("claude-sonnet-4-5"));
    }
}
