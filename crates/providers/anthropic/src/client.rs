//! [`AnthropicClient`]: the Messages API as a [`ChatService`](tollgate_core::ChatService).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use tollgate_core::{ChatReply, ChatRequest, ChatStream, Error, ErrorKind, ReplyMeta};

use crate::PROVIDER;
use crate::config::AnthropicConfig;
use crate::decode::decode_response;
use crate::encode::{EncodedRequest, encode, encode_bytes};
use crate::error::from_http_failure;
use crate::stream::ChatEvents;
use crate::wire::MessagesResponse;

/// A client of the Anthropic Messages API.
///
/// It is a `tower::Service<ChatRequest, Response = ChatReply, Error = tollgate_core::Error>`,
/// cheap to clone (clones share one connection pool) and `Send + Sync`. Its
/// [`ReplyMeta`] names the provider `anthropic` and the host of the base URL.
///
/// ```
/// use tollgate_anthropic::{AnthropicClient, AnthropicConfig};
/// use tollgate_core::ChatService;
///
/// fn assert_service<S: ChatService>(_: &S) {}
///
/// let client = AnthropicClient::new(AnthropicConfig::new("sk-ant-example"))?;
/// assert_service(&client);
/// # Ok::<(), tollgate_core::Error>(())
/// ```
#[derive(Clone)]
pub struct AnthropicClient {
    inner: Arc<Inner>,
}

struct Inner {
    config: AnthropicConfig,
    http: tollgate_http::HttpClient,
    /// Parsed once, here.
    url: http::Uri,
    headers: HeaderMap,
    meta: ReplyMeta,
}

impl AnthropicClient {
    /// A client with its own connection pool.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Authentication`] if the key cannot be sent as a header;
    /// [`ErrorKind::InvalidRequest`] for a version or beta name that cannot, or a base URL
    /// that is not a URL; [`ErrorKind::Transport`] if the HTTP client cannot be built.
    pub fn new(config: AnthropicConfig) -> Result<Self, Error> {
        let http = tollgate_http::HttpClient::new(&config.http)?;
        Self::with_http_client(config, http)
    }

    /// A client configured from `ANTHROPIC_API_KEY` and `ANTHROPIC_BASE_URL`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Authentication`] naming the variable when the key is missing, or any
    /// error of [`new`](Self::new).
    pub fn from_env() -> Result<Self, Error> {
        Self::new(AnthropicConfig::from_env()?)
    }

    /// A client sharing an existing [`HttpClient`](tollgate_http::HttpClient) (and its
    /// connection pool); `config.http` is not used, the given client's settings apply.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new), except for building the HTTP client.
    pub fn with_http_client(
        config: AnthropicConfig,
        http: tollgate_http::HttpClient,
    ) -> Result<Self, Error> {
        let headers = headers(&config)?;
        let base = config.base_url.trim_end_matches('/');
        let url = tollgate_http::endpoint(PROVIDER, &format!("{base}/v1/messages"))?;
        let meta = ReplyMeta::for_provider(PROVIDER, &config.base_url);
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                http,
                url,
                headers,
                meta,
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &AnthropicConfig {
        &self.inner.config
    }

    /// The body this client would send for `request` (for inspection and tests).
    ///
    /// # Errors
    ///
    /// As [`encode`].
    pub fn encode(&self, request: &ChatRequest) -> Result<EncodedRequest, Error> {
        encode(request, &self.inner.config)
    }

    /// Sends `request`; its `stream` flag chooses a complete or a streaming reply.
    ///
    /// # Errors
    ///
    /// Every failure before the reply (or, for a stream, before its first content event).
    pub async fn send(&self, request: ChatRequest) -> Result<ChatReply, Error> {
        let inner = &self.inner;
        let EncodedRequest {
            body: bytes,
            answer_tool,
            betas,
        } = encode_bytes(&request, &inner.config)?;
        let mut headers = inner.headers.clone();
        if !betas.is_empty() {
            let mut all: Vec<&str> = inner.config.betas.iter().map(String::as_str).collect();
            for beta in betas {
                if !all.contains(&beta) {
                    all.push(beta);
                }
            }
            headers.insert(
                HeaderName::from_static("anthropic-beta"),
                header_value("anthropic-beta", &all.join(","))?,
            );
        }
        let http_request = tollgate_http::post(&inner.url, headers, bytes);
        let key = inner.config.api_key.clone();
        let response = tollgate_http::send(PROVIDER, &inner.http, http_request, |failure| {
            from_http_failure(&failure, key.expose())
        })
        .await?;
        let mut meta = inner.meta.clone();
        meta.rate_limits = crate::rate_limits::from_headers(response.headers());
        if request.stream {
            let events = ChatEvents::new(tollgate_http::sse(PROVIDER, response), answer_tool, key);
            let stream = ChatStream::begin(meta, events).await?;
            Ok(ChatReply::Stream(stream))
        } else {
            let wire: MessagesResponse = tollgate_http::read_json(PROVIDER, response).await?;
            Ok(ChatReply::Complete(decode_response(
                wire,
                answer_tool.as_deref(),
                meta,
            )))
        }
    }
}

fn headers(config: &AnthropicConfig) -> Result<HeaderMap, Error> {
    let mut headers = HeaderMap::new();
    let mut key = HeaderValue::from_str(config.api_key.expose()).map_err(|_| {
        Error::new(
            ErrorKind::Authentication,
            "the API key contains characters that cannot be sent in an HTTP header",
        )
        .with_provider(PROVIDER)
    })?;
    key.set_sensitive(true);
    headers.insert(HeaderName::from_static("x-api-key"), key);
    headers.insert(
        HeaderName::from_static("anthropic-version"),
        header_value("anthropic-version", &config.anthropic_version)?,
    );
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if !config.betas.is_empty() {
        headers.insert(
            HeaderName::from_static("anthropic-beta"),
            header_value("anthropic-beta", &config.betas.join(","))?,
        );
    }
    Ok(headers)
}

fn header_value(name: &str, value: &str) -> Result<HeaderValue, Error> {
    HeaderValue::from_str(value).map_err(|_| {
        Error::new(
            ErrorKind::InvalidRequest,
            format!("the configured `{name}` header value {value:?} is not a valid header value"),
        )
        .with_provider(PROVIDER)
    })
}

impl fmt::Debug for AnthropicClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnthropicClient")
            .field("url", &self.inner.url)
            .field("anthropic_version", &self.inner.config.anthropic_version)
            .field("betas", &self.inner.config.betas)
            .finish_non_exhaustive()
    }
}

impl tower::Service<ChatRequest> for AnthropicClient {
    type Response = ChatReply;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<ChatReply, Error>> + Send + 'static>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: ChatRequest) -> Self::Future {
        let client = self.clone();
        Box::pin(async move { client.send(request).await })
    }
}
