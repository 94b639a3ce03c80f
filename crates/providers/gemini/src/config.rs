//! [`GeminiConfig`]: the key, base URL and API version a [`GeminiClient`](crate::GeminiClient)
//! uses.

use tollgate_core::{Error, ErrorKind, Secret};
use tollgate_http::ClientSettings;

/// The Gemini Developer API's address.
pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";

/// The API version path segment used by default (`v1beta` carries every current feature:
/// thinking, `responseJsonSchema`, function-call ids).
pub const DEFAULT_API_VERSION: &str = "v1beta";

/// The environment variable read first for the key.
pub const KEY_VARIABLE: &str = "GEMINI_API_KEY";

/// The environment variable read for the key when [`KEY_VARIABLE`] is unset or empty.
pub const FALLBACK_KEY_VARIABLE: &str = "GOOGLE_API_KEY";

/// The environment variable that overrides the base URL.
pub const BASE_URL_VARIABLE: &str = "GEMINI_BASE_URL";

/// How to reach the Gemini API.
///
/// The key is sent only in the `x-goog-api-key` header, never in the URL, and prints as
/// `*****` in `Debug` output.
///
/// ```
/// use tollgate_gemini::GeminiConfig;
///
/// let config = GeminiConfig::new("my-key")
///     .base_url("http://127.0.0.1:8080/")
///     .api_version("v1");
/// assert_eq!(config.base_url, "http://127.0.0.1:8080");
/// assert!(!format!("{config:?}").contains("my-key"));
/// ```
#[derive(Debug, Clone)]
pub struct GeminiConfig {
    /// The API key (`x-goog-api-key`).
    pub api_key: Secret,
    /// Scheme, host and optional port, without a trailing slash
    /// (default [`DEFAULT_BASE_URL`]).
    pub base_url: String,
    /// The API version path segment (default [`DEFAULT_API_VERSION`]).
    pub api_version: String,
    /// Connection settings of the HTTP client the Gemini client builds.
    pub http: ClientSettings,
}

impl GeminiConfig {
    /// A configuration with `api_key` and the defaults.
    pub fn new(api_key: impl Into<Secret>) -> Self {
        Self {
            api_key: api_key.into(),
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_version: DEFAULT_API_VERSION.to_owned(),
            http: ClientSettings::default(),
        }
    }

    /// Reads `GEMINI_API_KEY` (or, when unset or empty, `GOOGLE_API_KEY`) and the optional
    /// `GEMINI_BASE_URL`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Authentication`] naming both variables when neither holds a key.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) over any variable lookup (tests, config files).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Authentication`] naming both variables when neither holds a key.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let present = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let key = present(KEY_VARIABLE)
            .or_else(|| present(FALLBACK_KEY_VARIABLE))
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Authentication,
                    format!("no Gemini API key: set {KEY_VARIABLE} (or {FALLBACK_KEY_VARIABLE})"),
                )
                .with_provider(crate::PROVIDER)
            })?;
        let mut config = Self::new(key.trim().to_owned());
        if let Some(base_url) = present(BASE_URL_VARIABLE) {
            config = config.base_url(base_url);
        }
        Ok(config)
    }

    /// Sets the base URL (a trailing `/` is removed).
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        let mut base_url = base_url.into();
        while base_url.ends_with('/') {
            base_url.pop();
        }
        self.base_url = base_url;
        self
    }

    /// Sets the API version path segment (`v1beta`, `v1`).
    pub fn api_version(mut self, api_version: impl Into<String>) -> Self {
        self.api_version = api_version.into().trim_matches('/').to_owned();
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
    use std::collections::HashMap;

    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn gemini_api_key_wins_over_google_api_key() {
        let config = GeminiConfig::from_lookup(lookup(&[
            ("GEMINI_API_KEY", "gem"),
            ("GOOGLE_API_KEY", "goo"),
        ]))
        .unwrap();
        assert_eq!(config.api_key.expose(), "gem");
        assert_eq!(config.base_url, DEFAULT_BASE_URL);
        assert_eq!(config.api_version, "v1beta");
    }

    #[test]
    fn google_api_key_is_the_fallback_and_empty_values_count_as_missing() {
        let config = GeminiConfig::from_lookup(lookup(&[
            ("GEMINI_API_KEY", " "),
            ("GOOGLE_API_KEY", "goo"),
            ("GEMINI_BASE_URL", "http://127.0.0.1:9/"),
        ]))
        .unwrap();
        assert_eq!(config.api_key.expose(), "goo");
        assert_eq!(config.base_url, "http://127.0.0.1:9");
    }

    #[test]
    fn a_missing_key_is_an_authentication_error_naming_both_variables() {
        let err = GeminiConfig::from_lookup(lookup(&[])).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Authentication);
        assert!(err.message().contains("GEMINI_API_KEY"), "{err}");
        assert!(err.message().contains("GOOGLE_API_KEY"), "{err}");
    }
}
