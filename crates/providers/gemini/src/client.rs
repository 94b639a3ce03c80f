//! [`GeminiClient`]: the Gemini API as a `tower::Service<ChatRequest>`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::HeaderMap;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use tollgate_core::{ChatReply, ChatRequest, ChatStream, Error, ErrorKind, ReplyMeta, Secret};
use tollgate_http::{HttpClient, MAX_RESPONSE_BODY};
use tower::Service;

use crate::PROVIDER;
use crate::config::GeminiConfig;
use crate::wire::GenerateContentResponse;

/// A Gemini API client: a [`ChatService`](tollgate_core::ChatService) that answers a
/// [`ChatRequest`] with a complete response or, when `request.stream` is set, a stream
/// whose first event has already arrived.
///
/// Cheap to clone (the HTTP connection pool and settings are shared).
///
/// ```no_run
/// # async fn demo() -> Result<(), tollgate_core::Error> {
/// use tollgate_core::{ChatRequest, Client};
/// use tollgate_gemini::GeminiClient;
///
/// let client = Client::new(GeminiClient::from_env()?);
/// let answer = client
///     .chat(ChatRequest::new("gemini-2.5-flash").user("Name a lighthouse."))
///     .await?;
/// println!("{}", answer.text());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct GeminiClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: HttpClient,
    config: GeminiConfig,
    /// Every request's headers: the key and `content-type`.
    headers: HeaderMap,
    meta: ReplyMeta,
}

impl GeminiClient {
    /// A client for `config`, with its own HTTP connection pool.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Authentication`] when the key is empty or cannot be sent in a header;
    /// [`ErrorKind::Transport`] when the HTTP client cannot be built.
    pub fn new(config: GeminiConfig) -> Result<Self, Error> {
        let http = HttpClient::new(&config.http)?;
        Self::with_http_client(config, http)
    }

    /// A client for `config` that sends through `http` (to share a pool with other
    /// clients); `config.http` is not used, the given client's settings apply.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Authentication`] when the key is empty or cannot be sent in a header;
    /// [`ErrorKind::InvalidRequest`] when the base URL is not an http(s) URL.
    pub fn with_http_client(config: GeminiConfig, http: HttpClient) -> Result<Self, Error> {
        let mut headers = HeaderMap::with_capacity(2);
        headers.insert(
            HeaderName::from_static("x-goog-api-key"),
            key_header(&config.api_key)?,
        );
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let meta = ReplyMeta::for_provider(PROVIDER, &config.base_url);
        let inner = Inner {
            http,
            config,
            headers,
            meta,
        };
        // The URL depends on the model; check the part that does not, once.
        tollgate_http::endpoint(PROVIDER, &inner.endpoint("m", false))?;
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// A client configured from the environment (see [`GeminiConfig::from_env`]).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Authentication`] naming `GEMINI_API_KEY` and `GOOGLE_API_KEY` when
    /// neither is set; as [`GeminiClient::new`] otherwise.
    pub fn from_env() -> Result<Self, Error> {
        Self::new(GeminiConfig::from_env()?)
    }

    /// The configuration.
    pub fn config(&self) -> &GeminiConfig {
        &self.inner.config
    }

    /// The URL a request for `model` is sent to (`stream`: `streamGenerateContent?alt=sse`).
    /// It never carries the key.
    pub fn endpoint(&self, model: &str, stream: bool) -> String {
        self.inner.endpoint(model, stream)
    }
}

impl fmt::Debug for GeminiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeminiClient")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

fn key_header(key: &Secret) -> Result<HeaderValue, Error> {
    let unusable = || {
        Error::new(
            ErrorKind::Authentication,
            "the Gemini API key is empty or holds characters a header cannot carry",
        )
        .with_provider(PROVIDER)
    };
    if key.is_empty() {
        return Err(unusable());
    }
    let mut value = HeaderValue::from_str(key.expose()).map_err(|_| unusable())?;
    value.set_sensitive(true);
    Ok(value)
}

/// `models/{model}` with the name percent-encoded; names already starting with `models/` or
/// `tunedModels/` keep their prefix.
fn model_path(model: &str) -> String {
    let (prefix, name) = if let Some(name) = model.strip_prefix("models/") {
        ("models/", name)
    } else if let Some(name) = model.strip_prefix("tunedModels/") {
        ("tunedModels/", name)
    } else {
        ("models/", model)
    };
    let mut out = String::with_capacity(prefix.len() + name.len());
    out.push_str(prefix);
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

impl Inner {
    async fn call(self: Arc<Self>, request: ChatRequest) -> Result<ChatReply, Error> {
        if request.model.trim().is_empty() {
            return Err(
                Error::new(ErrorKind::InvalidRequest, "the request names no model")
                    .with_provider(PROVIDER),
            );
        }
        let body = crate::encode::encode_bytes(&request)?;
        let url =
            tollgate_http::endpoint(PROVIDER, &self.endpoint(&request.model, request.stream))?;
        let http_request = tollgate_http::post(&url, self.headers.clone(), body);
        let key = self.config.api_key.expose();
        let response = tollgate_http::send(PROVIDER, &self.http, http_request, |failure| {
            crate::error::from_failure(&failure, key)
        })
        .await?;
        if request.stream {
            let sse = tollgate_http::sse(PROVIDER, response);
            let events = crate::stream::events(sse, request.model, self.config.api_key.clone());
            let stream = ChatStream::begin(self.meta.clone(), events).await?;
            return Ok(ChatReply::Stream(stream));
        }
        let bytes = tollgate_http::read_limited(PROVIDER, response, MAX_RESPONSE_BODY).await?;
        let wire: GenerateContentResponse = serde_json::from_slice(&bytes).map_err(|e| {
            Error::decode(format_args!("unexpected response body ({e})"), &bytes)
                .with_provider(PROVIDER)
        })?;
        let response =
            crate::decode::decode_response(wire, &bytes, &request.model, self.meta.clone(), key)?;
        Ok(ChatReply::Complete(response))
    }

    fn endpoint(&self, model: &str, stream: bool) -> String {
        let method = if stream {
            "streamGenerateContent?alt=sse"
        } else {
            "generateContent"
        };
        format!(
            "{}/{}/{}:{method}",
            self.config.base_url,
            self.config.api_version,
            model_path(model)
        )
    }
}

impl Service<ChatRequest> for GeminiClient {
    type Response = ChatReply;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<ChatReply, Error>> + Send + 'static>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: ChatRequest) -> Self::Future {
        Box::pin(Arc::clone(&self.inner).call(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names_are_path_safe() {
        assert_eq!(model_path("gemini-2.5-flash"), "models/gemini-2.5-flash");
        assert_eq!(model_path("models/gemini-2.5-pro"), "models/gemini-2.5-pro");
        assert_eq!(model_path("tunedModels/my-1"), "tunedModels/my-1");
        assert_eq!(model_path("a/b?key=x#y"), "models/a%2Fb%3Fkey%3Dx%23y");
    }

    #[test]
    fn endpoints_never_carry_the_key() {
        let client =
            GeminiClient::new(GeminiConfig::new("AIzaSECRET").base_url("http://127.0.0.1:1"))
                .unwrap();
        let url = client.endpoint("gemini-2.5-flash", true);
        assert_eq!(
            url,
            "http://127.0.0.1:1/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
        );
        assert!(!url.contains("AIzaSECRET"));
        assert_eq!(
            client.endpoint("gemini-2.5-flash", false),
            "http://127.0.0.1:1/v1beta/models/gemini-2.5-flash:generateContent"
        );
        assert!(!format!("{client:?}").contains("AIzaSECRET"));
    }

    #[test]
    fn an_empty_key_is_rejected_up_front() {
        let err = GeminiClient::new(GeminiConfig::new("")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Authentication);
        let err = GeminiClient::new(GeminiConfig::new("bad\nkey")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Authentication);
        assert!(!err.to_string().contains("bad\nkey"));
    }

    fn assert_chat_service<S: tollgate_core::ChatService>(_: &S) {}

    #[test]
    fn the_client_is_a_chat_service() {
        let client = GeminiClient::new(GeminiConfig::new("k")).unwrap();
        assert_chat_service(&client);
    }
}
