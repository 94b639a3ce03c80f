//! [`OpenAiClient`]: the Chat Completions endpoint as a tower service.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use tollgate_core::{ChatReply, ChatRequest, ChatStream, Error, ErrorKind, ReplyMeta};
use tollgate_http::{HttpClient, MAX_RESPONSE_BODY};

use crate::config::{OpenAiConfig, validate_base_url};
use crate::error::ErrorMapper;
use crate::presets::Preset;
use crate::stream::ChatEvents;
use crate::{decode, encode};

/// The future of [`OpenAiClient`]'s `call`.
pub type ResponseFuture = Pin<Box<dyn Future<Output = Result<ChatReply, Error>> + Send + 'static>>;

/// A Chat Completions client for OpenAI or any compatible endpoint:
/// `tower::Service<ChatRequest, Response = ChatReply, Error = tollgate_core::Error>`,
/// cheap to clone (one shared connection pool), `Send + Sync`.
///
/// A request with `stream: false` answers [`ChatReply::Complete`]; with `stream: true`
/// it answers [`ChatReply::Stream`] once the first event has arrived (every failure
/// before it is the `Err` of the call). The service is always ready.
///
/// ```
/// use tollgate_core::ChatService;
/// use tollgate_openai::{OpenAiClient, OpenAiConfig, Preset};
///
/// fn assert_service<S: ChatService>(_: &S) {}
///
/// let client = OpenAiClient::new(OpenAiConfig::preset(Preset::Ollama))?;
/// assert_service(&client);
/// assert_eq!(client.config().provider, "ollama");
/// # Ok::<(), tollgate_core::Error>(())
/// ```
#[derive(Clone)]
pub struct OpenAiClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: HttpClient,
    config: OpenAiConfig,
    /// Parsed once, here.
    endpoint: http::Uri,
    /// Every request's headers, `content-type` included.
    headers: HeaderMap,
    errors: Arc<ErrorMapper>,
    meta: ReplyMeta,
}

impl OpenAiClient {
    /// A client for `config` with its own connection pool.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidRequest`] for a base URL that is not http(s) or a header
    /// (name or value, the key included) that cannot be sent;
    /// [`ErrorKind::Transport`] if the HTTP client cannot be built.
    pub fn new(config: OpenAiConfig) -> Result<Self, Error> {
        let http = HttpClient::new(&config.http)?;
        Self::with_http_client(config, http)
    }

    /// A client for `config` sharing an existing [`HttpClient`] (and its pool);
    /// `config.http` is not used, the given client's settings apply.
    ///
    /// # Errors
    ///
    /// As [`OpenAiClient::new`], except for building the HTTP client.
    pub fn with_http_client(config: OpenAiConfig, http: HttpClient) -> Result<Self, Error> {
        let invalid = |message: String| {
            Error::new(ErrorKind::InvalidRequest, message).with_provider(config.provider.as_str())
        };
        validate_base_url(&config.base_url)
            .map_err(|problem| invalid(format!("the base URL {problem}")))?;
        let mut headers = HeaderMap::new();
        if !config.api_key.is_empty() {
            let mut value = HeaderValue::try_from(format!("Bearer {}", config.api_key.expose()))
                .map_err(|_| {
                    invalid("the API key contains characters not allowed in a header".to_owned())
                })?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        let named = [
            ("openai-organization", config.organization.as_deref()),
            ("openai-project", config.project.as_deref()),
        ];
        let extra = config
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), Some(value.as_str())));
        for (name, value) in named.into_iter().chain(extra) {
            let Some(value) = value else { continue };
            let name = HeaderName::try_from(name)
                .map_err(|_| invalid(format!("`{name}` is not a valid header name")))?;
            let mut value = HeaderValue::try_from(value)
                .map_err(|_| invalid(format!("the value of header `{name}` is not valid")))?;
            value.set_sensitive(true);
            headers.append(name, value);
        }
        headers.append(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let endpoint = tollgate_http::endpoint(config.provider.as_str(), &config.endpoint())?;
        let errors = Arc::new(ErrorMapper::new(
            config.provider.clone(),
            config.api_key.clone(),
        ));
        let meta = ReplyMeta::for_provider(config.provider.clone(), &config.base_url);
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                endpoint,
                config,
                headers,
                errors,
                meta,
            }),
        })
    }

    /// OpenAI from the environment (see [`OpenAiConfig::from_env`]).
    ///
    /// # Errors
    ///
    /// As [`OpenAiConfig::from_env`] and [`OpenAiClient::new`].
    pub fn from_env() -> Result<Self, Error> {
        Self::new(OpenAiConfig::from_env()?)
    }

    /// A preset from the environment (see [`OpenAiConfig::preset_from_env`]).
    ///
    /// # Errors
    ///
    /// As [`OpenAiConfig::preset_from_env`] and [`OpenAiClient::new`].
    pub fn preset_from_env(preset: Preset) -> Result<Self, Error> {
        Self::new(OpenAiConfig::preset_from_env(preset)?)
    }

    /// The configuration.
    pub fn config(&self) -> &OpenAiConfig {
        &self.inner.config
    }

    /// The meta every reply of this client carries (provider, server address and port).
    pub fn meta(&self) -> &ReplyMeta {
        &self.inner.meta
    }
}

impl fmt::Debug for OpenAiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiClient")
            .field("provider", &self.inner.config.provider)
            .field("endpoint", &self.inner.endpoint)
            .finish_non_exhaustive()
    }
}

impl tower::Service<ChatRequest> for OpenAiClient {
    type Response = ChatReply;
    type Error = Error;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: ChatRequest) -> ResponseFuture {
        // The request is encoded (and dropped) here, so the future that waits on the
        // network holds only the encoded exchange, not the request's 368 bytes, which
        // every move of the future would copy.
        match self.inner.prepare(request) {
            Ok(prepared) => Box::pin(Arc::clone(&self.inner).exchange(prepared)),
            Err(error) => Box::pin(std::future::ready(Err(error))),
        }
    }
}

/// A request ready to send: what a call needs once the body is encoded.
struct Prepared {
    http_request: http::Request<bytes::Bytes>,
    /// The model asked for (a reply that names none reports it).
    model: String,
    stream: bool,
}

impl Inner {
    fn prepare(&self, mut request: ChatRequest) -> Result<Prepared, Error> {
        let stream = request.stream;
        let body = encode::request_bytes(&request, &self.config.quirks, stream)
            .map_err(|e| e.with_provider(self.errors.provider()))?;
        Ok(Prepared {
            http_request: tollgate_http::post(&self.endpoint, self.headers.clone(), body),
            model: std::mem::take(&mut request.model),
            stream,
        })
    }

    async fn exchange(self: Arc<Self>, prepared: Prepared) -> Result<ChatReply, Error> {
        let Prepared {
            http_request,
            model,
            stream,
        } = prepared;
        let errors = &self.errors;
        let provider = errors.provider();
        let response = tollgate_http::send(provider, &self.http, http_request, |failure| {
            errors.from_failure(&failure)
        })
        .await?;
        let mut meta = self.meta.clone();
        meta.rate_limits = crate::rate_limits::from_headers(response.headers());
        if !stream || is_json(response.headers()) {
            // A server that ignores `stream: true` and answers JSON is still understood.
            let body = tollgate_http::read_limited(provider, response, MAX_RESPONSE_BODY).await?;
            let response = decode::response(&body, &model, errors, meta)?;
            return Ok(if stream {
                ChatReply::Stream(ChatStream::from_response(response))
            } else {
                ChatReply::Complete(response)
            });
        }
        let sse = tollgate_http::sse(provider, response);
        let events = ChatEvents::new(sse, Arc::clone(errors), model);
        let stream = ChatStream::begin(meta, events).await?;
        Ok(ChatReply::Stream(stream))
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_settings_are_invalid_requests_that_do_not_quote_values() {
        let err = OpenAiClient::new(OpenAiConfig::new("sk-1").base_url("ftp://x")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
        let err = OpenAiClient::new(OpenAiConfig::new("sk-bad\nkey")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
        assert!(!format!("{err} {err:?}").contains("sk-bad"));
        let err = OpenAiClient::new(OpenAiConfig::new("sk-1").header("x-token", "v\u{7f}secret"))
            .unwrap_err();
        assert!(err.to_string().contains("x-token"), "{err}");
        assert!(!err.to_string().contains("secret"), "{err}");
    }

    #[test]
    fn replies_name_the_provider_and_server() {
        let client = OpenAiClient::new(
            OpenAiConfig::preset(Preset::Vllm).base_url("http://10.1.2.3:8001/v1"),
        )
        .unwrap();
        let meta = client.meta();
        assert_eq!(meta.provider, "vllm");
        assert_eq!(meta.server_address.as_deref(), Some("10.1.2.3"));
        assert_eq!(meta.server_port, Some(8001));
    }

    #[test]
    fn debug_shows_no_key() {
        let client = OpenAiClient::new(OpenAiConfig::new("sk-top-secret")).unwrap();
        assert!(!format!("{client:?}").contains("sk-top-secret"));
    }
}
