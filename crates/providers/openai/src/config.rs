//! [`OpenAiConfig`]: where to send requests, with which credentials and quirks.

use std::fmt;
use tollgate_http::ClientSettings;

use tollgate_core::{Error, ErrorKind, Secret};

use crate::presets::{Preset, Quirks};

/// Everything an [`OpenAiClient`](crate::OpenAiClient) needs to reach one endpoint.
///
/// Build it for OpenAI with [`OpenAiConfig::new`], for a compatible server with
/// [`OpenAiConfig::preset`], or from the environment with [`OpenAiConfig::from_env`] /
/// [`OpenAiConfig::preset_from_env`]; then adjust it with the chainable setters.
///
/// ```
/// use tollgate_openai::{OpenAiConfig, Preset};
///
/// let config = OpenAiConfig::new("sk-test")
///     .base_url("http://127.0.0.1:8080/v1/")
///     .organization("org-1")
///     .header("x-tenant", "blue");
/// assert_eq!(config.base_url, "http://127.0.0.1:8080/v1");
/// assert_eq!(config.provider, "openai");
/// // The key never prints.
/// assert!(!format!("{config:?}").contains("sk-test"));
///
/// let ollama = OpenAiConfig::preset(Preset::Ollama);
/// assert!(ollama.api_key.is_empty());
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct OpenAiConfig {
    /// The provider name reported in replies and errors (`gen_ai.provider.name`).
    pub provider: String,
    /// The API key, sent as `Authorization: Bearer …`; empty sends no `Authorization`.
    pub api_key: Secret,
    /// The base URL without a trailing slash; requests go to `{base_url}/chat/completions`.
    pub base_url: String,
    /// Sent as `OpenAI-Organization` when set.
    pub organization: Option<String>,
    /// Sent as `OpenAI-Project` when set.
    pub project: Option<String>,
    /// Extra headers sent with every request (their values never print).
    pub headers: Vec<(String, String)>,
    /// What the server needs to differ from OpenAI.
    pub quirks: Quirks,
    /// The HTTP client's settings (timeouts, pool, proxy, extra CAs) for
    /// [`OpenAiClient::new`](crate::OpenAiClient::new).
    pub http: ClientSettings,
}

impl OpenAiConfig {
    /// OpenAI with the given key.
    pub fn new(api_key: impl Into<Secret>) -> Self {
        Self::preset(Preset::OpenAi).api_key(api_key)
    }

    /// A preset's defaults (provider name, base URL, quirks), without a key.
    pub fn preset(preset: Preset) -> Self {
        let info = preset.info();
        Self {
            provider: info.provider.to_owned(),
            api_key: Secret::default(),
            base_url: info.base_url.to_owned(),
            organization: None,
            project: None,
            headers: Vec::new(),
            quirks: info.quirks,
            http: ClientSettings::default(),
        }
    }

    /// OpenAI from `OPENAI_API_KEY`, `OPENAI_BASE_URL` (optional), `OPENAI_ORG_ID`
    /// (optional) and `OPENAI_PROJECT_ID` (optional).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Authentication`] naming the variable when the key is missing or
    /// empty; [`ErrorKind::InvalidRequest`] when the base URL is not an http(s) URL.
    pub fn from_env() -> Result<Self, Error> {
        Self::preset_from_env(Preset::OpenAi)
    }

    /// A preset from its environment variables (see [`PresetInfo`](crate::PresetInfo):
    /// e.g. `GROQ_API_KEY` and `GROQ_BASE_URL`; `OLLAMA_BASE_URL` with an optional key).
    ///
    /// # Errors
    ///
    /// As [`OpenAiConfig::from_env`].
    pub fn preset_from_env(preset: Preset) -> Result<Self, Error> {
        Self::preset_from_vars(preset, |name| std::env::var(name).ok())
    }

    /// A preset from variables looked up by `lookup` (the environment, a config file's
    /// table, a test's map).
    ///
    /// ```
    /// use tollgate_core::ErrorKind;
    /// use tollgate_openai::{OpenAiConfig, Preset};
    ///
    /// let vars = |name: &str| (name == "GROQ_API_KEY").then(|| "gsk-1".to_owned());
    /// let groq = OpenAiConfig::preset_from_vars(Preset::Groq, vars).unwrap();
    /// assert_eq!(groq.api_key.expose(), "gsk-1");
    ///
    /// let err = OpenAiConfig::preset_from_vars(Preset::OpenAi, |_| None).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Authentication);
    /// assert!(err.to_string().contains("OPENAI_API_KEY"));
    /// ```
    ///
    /// # Errors
    ///
    /// As [`OpenAiConfig::from_env`].
    pub fn preset_from_vars(
        preset: Preset,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, Error> {
        let info = preset.info();
        let non_empty = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut config = Self::preset(preset);
        match non_empty(info.api_key_env) {
            Some(key) => config.api_key = Secret::new(key.trim()),
            None if info.api_key_optional => {}
            None => {
                return Err(Error::new(
                    ErrorKind::Authentication,
                    format!(
                        "no API key: set the environment variable {}",
                        info.api_key_env
                    ),
                )
                .with_provider(info.provider));
            }
        }
        if let Some(url) = non_empty(info.base_url_env) {
            validate_base_url(&url).map_err(|problem| {
                Error::new(
                    ErrorKind::InvalidRequest,
                    format!("{} {problem}", info.base_url_env),
                )
                .with_provider(info.provider)
            })?;
            config = config.base_url(url);
        }
        if preset == Preset::OpenAi {
            config.organization = non_empty("OPENAI_ORG_ID");
            config.project = non_empty("OPENAI_PROJECT_ID");
        }
        Ok(config)
    }

    /// Sets the API key.
    pub fn api_key(mut self, api_key: impl Into<Secret>) -> Self {
        self.api_key = api_key.into();
        self
    }

    /// Sets the base URL (a trailing `/` is removed).
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        let mut url: String = base_url.into().trim().to_owned();
        while url.ends_with('/') {
            url.pop();
        }
        self.base_url = url;
        self
    }

    /// Sets the `OpenAI-Organization` header.
    pub fn organization(mut self, organization: impl Into<String>) -> Self {
        self.organization = Some(organization.into());
        self
    }

    /// Sets the `OpenAI-Project` header.
    pub fn project(mut self, project: impl Into<String>) -> Self {
        self.project = Some(project.into());
        self
    }

    /// Adds a header sent with every request (e.g. OpenRouter's `HTTP-Referer`).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the HTTP client's settings (timeouts, pool, proxy, extra CAs).
    pub fn http(mut self, settings: ClientSettings) -> Self {
        self.http = settings;
        self
    }

    /// Sets the provider name reported in replies and errors.
    pub fn provider(mut self, provider: impl Into<String>) -> Self {
        self.provider = provider.into();
        self
    }

    /// Replaces the quirks.
    pub fn quirks(mut self, quirks: Quirks) -> Self {
        self.quirks = quirks;
        self
    }

    /// The URL requests are posted to.
    pub fn endpoint(&self) -> String {
        format!("{}/chat/completions", self.base_url)
    }
}

impl fmt::Debug for OpenAiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("OpenAiConfig")
            .field("provider", &self.provider)
            .field("api_key", &self.api_key)
            .field("base_url", &self.base_url)
            .field("organization", &self.organization)
            .field("project", &self.project)
            .field("headers", &header_names)
            .field("quirks", &self.quirks)
            .field("http", &self.http)
            .finish()
    }
}

/// Why `url` is not a usable base URL, if it is not.
pub(crate) fn validate_base_url(url: &str) -> Result<(), &'static str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("must start with http:// or https://")?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err("has no host");
    }
    if url.chars().any(char::is_whitespace) {
        return Err("contains whitespace");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn openai_reads_key_base_url_org_and_project() {
        let config = OpenAiConfig::preset_from_vars(
            Preset::OpenAi,
            vars(&[
                ("OPENAI_API_KEY", "sk-1"),
                ("OPENAI_BASE_URL", "http://proxy:9/v1/"),
                ("OPENAI_ORG_ID", "org-9"),
                ("OPENAI_PROJECT_ID", "proj-9"),
            ]),
        )
        .unwrap();
        assert_eq!(config.api_key.expose(), "sk-1");
        assert_eq!(config.base_url, "http://proxy:9/v1");
        assert_eq!(config.organization.as_deref(), Some("org-9"));
        assert_eq!(config.project.as_deref(), Some("proj-9"));
        assert_eq!(config.endpoint(), "http://proxy:9/v1/chat/completions");
    }

    #[test]
    fn a_missing_or_empty_key_names_the_variable() {
        for lookup in [vars(&[]), vars(&[("MISTRAL_API_KEY", "  ")])] {
            let err = OpenAiConfig::preset_from_vars(Preset::Mistral, lookup).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Authentication);
            assert!(err.to_string().contains("MISTRAL_API_KEY"), "{err}");
        }
    }

    #[test]
    fn local_servers_need_no_key_and_read_their_base_url() {
        let config = OpenAiConfig::preset_from_vars(
            Preset::Ollama,
            vars(&[("OLLAMA_BASE_URL", "http://gpu-box:11434/v1")]),
        )
        .unwrap();
        assert!(config.api_key.is_empty());
        assert_eq!(config.base_url, "http://gpu-box:11434/v1");
        assert_eq!(config.provider, "ollama");
    }

    #[test]
    fn a_bad_base_url_is_an_invalid_request_naming_the_variable() {
        let err = OpenAiConfig::preset_from_vars(
            Preset::OpenAi,
            vars(&[
                ("OPENAI_API_KEY", "sk-1"),
                ("OPENAI_BASE_URL", "api.openai.com"),
            ]),
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
        assert!(err.to_string().contains("OPENAI_BASE_URL"), "{err}");
    }

    #[test]
    fn debug_hides_the_key_and_header_values() {
        let config = OpenAiConfig::new("sk-secret-123").header("x-api-key", "hidden-value");
        let shown = format!("{config:?}");
        assert!(!shown.contains("sk-secret-123"), "{shown}");
        assert!(!shown.contains("hidden-value"), "{shown}");
        assert!(shown.contains("x-api-key"), "{shown}");
    }
}
