//! One exchange with a provider: the request sent ([`post`], [`send`]) and the answer
//! read ([`read_limited`], [`read_json`], [`sse`]).

use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http::HeaderMap;
use http::header::CONTENT_LENGTH;
use http_body_util::{BodyDataStream, BodyExt};
use tollgate_core::sse::SseStream;
use tollgate_core::{Error, ErrorKind};

use crate::error::body_error;
use crate::{
    HttpClient, HttpFailure, MAX_ERROR_BODY, MAX_RESPONSE_BODY, Response, ResponseBody,
    transport_error,
};

/// A `POST` of `body` to `uri` with `headers`: what every provider sends.
pub fn post(uri: &http::Uri, headers: HeaderMap, body: impl Into<Bytes>) -> http::Request<Bytes> {
    let mut request = http::Request::new(body.into());
    *request.method_mut() = http::Method::POST;
    *request.uri_mut() = uri.clone();
    *request.headers_mut() = headers;
    request
}

/// Parses an endpoint URL once, when a client is built; the error says what is wrong
/// without quoting the URL (it may carry a key in its query).
///
/// # Errors
///
/// [`ErrorKind::InvalidRequest`] naming `provider` if `url` is not an absolute http(s) URL.
pub fn endpoint(provider: &str, url: &str) -> Result<http::Uri, Error> {
    let invalid = |problem: &str| {
        Error::new(
            ErrorKind::InvalidRequest,
            format!("the base URL is not a valid URL ({problem})"),
        )
        .with_provider(provider)
    };
    let uri: http::Uri = url
        .parse()
        .map_err(|e: http::uri::InvalidUri| invalid(&e.to_string()))?;
    match uri.scheme_str() {
        Some("http" | "https") if uri.host().is_some() => Ok(uri),
        _ => Err(invalid("it must be an absolute http:// or https:// URL")),
    }
}

/// Sends a request; a 2xx response is returned, anything else is read into an
/// [`HttpFailure`] and handed to `map_failure`.
///
/// # Errors
///
/// A transport error, or whatever `map_failure` makes of a non-success answer.
pub async fn send(
    provider: &str,
    client: &HttpClient,
    request: http::Request<Bytes>,
    map_failure: impl FnOnce(HttpFailure) -> Error,
) -> Result<Response, Error> {
    let response = client
        .send(request)
        .await
        .map_err(|e| transport_error(provider, e))?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let headers = response.headers().clone();
    let body = read_limited(provider, response, MAX_ERROR_BODY)
        .await
        .unwrap_or_default();
    Err(map_failure(HttpFailure {
        status: status.as_u16(),
        headers,
        body,
    }))
}

/// Reads at most `limit` bytes of a body; the rest is dropped unread.
///
/// A body that arrives in one chunk is returned as it is, without a copy; a longer one
/// is gathered into a buffer sized from `content-length` when the server sent it.
///
/// # Errors
///
/// A transport error if the body breaks off.
pub async fn read_limited(
    provider: &str,
    response: Response,
    limit: usize,
) -> Result<Bytes, Error> {
    let expected = response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = response.into_body();
    let Some(first) = next_chunk(provider, &mut body).await? else {
        return Ok(Bytes::new());
    };
    if first.len() >= limit {
        return Ok(first.slice(..limit));
    }
    let Some(mut chunk) = next_chunk(provider, &mut body).await? else {
        return Ok(first);
    };
    let mut out = Vec::with_capacity(expected.max(first.len() + chunk.len()).min(limit));
    out.extend_from_slice(&first);
    loop {
        let room = limit.saturating_sub(out.len());
        out.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if out.len() >= limit {
            break;
        }
        match next_chunk(provider, &mut body).await? {
            Some(next) => chunk = next,
            None => break,
        }
    }
    Ok(Bytes::from(out))
}

/// The next non-empty data chunk of a body (trailers are skipped), `None` at its end.
async fn next_chunk(provider: &str, body: &mut ResponseBody) -> Result<Option<Bytes>, Error> {
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| body_error(provider, e))?;
        if let Ok(data) = frame.into_data()
            && !data.is_empty()
        {
            return Ok(Some(data));
        }
    }
    Ok(None)
}

/// Reads a complete JSON response body into `T`.
///
/// # Errors
///
/// A transport error if the body breaks off, [`ErrorKind::Decode`] (quoting the start of
/// the body) if it is not the expected JSON.
pub async fn read_json<T: serde::de::DeserializeOwned>(
    provider: &str,
    response: Response,
) -> Result<T, Error> {
    let body = read_limited(provider, response, MAX_RESPONSE_BODY).await?;
    serde_json::from_slice(&body).map_err(|e| {
        Error::decode(format_args!("unexpected response body ({e})"), &body).with_provider(provider)
    })
}

/// The server-sent events of a response body; transport failures become [`Error`]s
/// naming `provider` (a `&'static str` or a name from config alike).
pub fn sse(
    provider: impl Into<Arc<str>>,
    response: Response,
) -> SseStream<impl Stream<Item = Result<Bytes, Error>> + Send + 'static> {
    let provider: Arc<str> = provider.into();
    SseStream::new(
        BodyDataStream::new(response.into_body())
            .map(move |chunk| chunk.map_err(|e| body_error(&provider, e))),
    )
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::task::JoinHandle;
    use tollgate_core::Secret;

    use super::*;
    use crate::{ClientSettings, Proxy};

    fn client() -> HttpClient {
        HttpClient::new(&ClientSettings {
            proxy: Proxy::Direct,
            ..ClientSettings::default()
        })
        .unwrap()
    }

    fn get(url: &str) -> http::Request<Bytes> {
        let mut request = post(&url.parse().unwrap(), HeaderMap::new(), Bytes::new());
        *request.method_mut() = http::Method::GET;
        request
    }

    #[tokio::test]
    async fn connect_failures_are_transport_errors_without_the_url() {
        // Bind then drop a listener so the port is (almost certainly) closed.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let url = format!("http://{addr}/v1/chat?key=sk-secret-in-query");
        let request = post(&url.parse().unwrap(), HeaderMap::new(), "{}");
        let err = send("openai", &client(), request, |_| unreachable_failure())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transport);
        assert!(err.is_retryable());
        let shown = format!("{err} {err:?}");
        assert!(shown.contains("could not connect"), "{shown}");
        assert!(!shown.contains("sk-secret-in-query"), "{shown}");
    }

    /// Serves each raw HTTP/1.1 answer in `answers` to one connection in turn, and
    /// returns the request heads it read.
    async fn serve(answers: Vec<&'static str>) -> (SocketAddr, JoinHandle<Vec<String>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let mut heads = Vec::new();
            for answer in answers {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    socket.read_exact(&mut byte).await.unwrap();
                    head.push(byte[0]);
                }
                heads.push(String::from_utf8(head).unwrap());
                socket.write_all(answer.as_bytes()).await.unwrap();
                socket.shutdown().await.unwrap();
            }
            heads
        });
        (addr, task)
    }

    #[tokio::test]
    async fn requests_carry_their_headers_body_and_a_user_agent() {
        let (addr, server) = serve(vec![
            "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
        ])
        .await;
        let mut headers = HeaderMap::new();
        headers.insert("x-api-key", "k-1".parse().unwrap());
        let uri = format!("http://{addr}/v1/messages").parse().unwrap();
        let response = send(
            "anthropic",
            &client(),
            post(&uri, headers, "{\"a\":1}"),
            |_| unreachable_failure(),
        )
        .await
        .unwrap();
        assert_eq!(
            read_limited("anthropic", response, 100).await.unwrap(),
            "{}"
        );
        let heads = server.await.unwrap();
        let head = heads[0].to_ascii_lowercase();
        assert!(head.starts_with("post /v1/messages http/1.1\r\n"), "{head}");
        assert!(head.contains("\r\nx-api-key: k-1\r\n"), "{head}");
        assert!(head.contains("\r\ncontent-length: 7\r\n"), "{head}");
        assert!(head.contains("\r\nuser-agent: tollgate/"), "{head}");
    }

    #[tokio::test]
    async fn redirects_are_failures_not_followed() {
        let (addr, server) = serve(vec![
            "HTTP/1.1 307 Temporary Redirect\r\nlocation: /elsewhere\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        ])
        .await;
        let uri = format!("http://{addr}/v1/chat").parse().unwrap();
        let err = send(
            "openai",
            &client(),
            post(&uri, HeaderMap::new(), "{}"),
            |f| f.base_error("openai", "redirected"),
        )
        .await
        .unwrap_err();
        assert_eq!(err.status(), Some(307));
        let heads = server.await.unwrap();
        assert_eq!(heads.len(), 1);
        assert!(heads[0].starts_with("POST /v1/chat "), "{heads:?}");
    }

    #[tokio::test]
    async fn bodies_in_many_chunks_are_read_whole_or_cut_at_the_limit() {
        const CHUNKED: &str = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n2\r\nhi\r\n0\r\n\r\n";
        const ONE_PIECE: &str =
            "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello";
        let (addr, _server) = serve(vec![CHUNKED, CHUNKED, ONE_PIECE, ONE_PIECE]).await;
        let client = client();
        let url = format!("http://{addr}/");
        let read = async |limit| {
            let response = client.send(get(&url)).await.unwrap();
            read_limited("openai", response, limit).await.unwrap()
        };
        assert_eq!(read(100).await, "abcdefghi");
        assert_eq!(read(5).await, "abcde");
        assert_eq!(read(100).await, "hello");
        assert_eq!(read(2).await, "he");
    }

    #[tokio::test]
    async fn a_body_cut_short_is_a_retryable_transport_error() {
        let (addr, _server) = serve(vec![
            "HTTP/1.1 200 OK\r\ncontent-length: 50\r\nconnection: close\r\n\r\nonly part",
        ])
        .await;
        let response = client()
            .send(get(&format!("http://{addr}/")))
            .await
            .unwrap();
        let err = read_limited("openai", response, 100).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transport);
        assert!(err.is_retryable());
        assert!(err.to_string().contains("broke off"), "{err}");
    }

    fn through(proxy: SocketAddr) -> HttpClient {
        HttpClient::new(&ClientSettings {
            proxy: Proxy::Url(Secret::new(format!("http://user:pa55@{proxy}"))),
            ..ClientSettings::default()
        })
        .unwrap()
    }

    #[tokio::test]
    async fn http_endpoints_behind_a_proxy_are_sent_to_it_in_absolute_form() {
        let (proxy, server) = serve(vec![
            "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
        ])
        .await;
        let uri = "http://models.internal:8000/v1/chat/completions"
            .parse()
            .unwrap();
        let response = send(
            "vllm",
            &through(proxy),
            post(&uri, HeaderMap::new(), "{}"),
            |_| unreachable_failure(),
        )
        .await
        .unwrap();
        assert_eq!(read_limited("vllm", response, 10).await.unwrap(), "ok");
        let head = server.await.unwrap().remove(0).to_ascii_lowercase();
        assert!(
            head.starts_with("post http://models.internal:8000/v1/chat/completions http/1.1\r\n"),
            "{head}"
        );
        // base64("user:pa55")
        assert!(
            head.contains("\r\nproxy-authorization: basic dxnlcjpwytu1\r\n"),
            "{head}"
        );
    }

    #[tokio::test]
    async fn https_endpoints_behind_a_proxy_are_tunnelled_with_connect() {
        let (proxy, server) = serve(vec![
            "HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        ])
        .await;
        let uri = "https://api.openai.com/v1/chat/completions"
            .parse()
            .unwrap();
        let err = send(
            "openai",
            &through(proxy),
            post(&uri, HeaderMap::new(), "{}"),
            |_| unreachable_failure(),
        )
        .await
        .unwrap_err();
        // The proxy refused the tunnel: a transport failure, never the proxy's credentials.
        assert_eq!(err.kind(), ErrorKind::Transport);
        assert!(!format!("{err} {err:?}").contains("pa55"), "{err:?}");
        let head = server.await.unwrap().remove(0).to_ascii_lowercase();
        assert!(
            head.starts_with("connect api.openai.com:443 http/1.1\r\n"),
            "{head}"
        );
        assert!(
            head.contains("\r\nproxy-authorization: basic dxnlcjpwytu1\r\n"),
            "{head}"
        );
    }

    #[tokio::test]
    async fn https_endpoints_speak_tls() {
        // A server that answers whatever it is sent with plain HTTP: the TLS handshake
        // must fail, which shows the request did not go out in the clear.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut first = [0u8; 1];
            socket.read_exact(&mut first).await.unwrap();
            socket
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                .await
                .unwrap();
            socket.shutdown().await.unwrap();
            first[0]
        });
        let uri = format!("https://localhost:{port}/v1/chat").parse().unwrap();
        let err = send(
            "openai",
            &client(),
            post(&uri, HeaderMap::new(), "{}"),
            |_| unreachable_failure(),
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transport);
        // 0x16: a TLS handshake record, the ClientHello.
        assert_eq!(server.await.unwrap(), 0x16);
    }

    #[test]
    fn proxy_urls_are_checked_and_never_shown() {
        let settings = ClientSettings {
            proxy: Proxy::Url(Secret::new("not a url with s3cret")),
            ..ClientSettings::default()
        };
        let err = HttpClient::new(&settings).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
        assert!(!format!("{err} {err:?}").contains("s3cret"), "{err:?}");
        let settings = ClientSettings {
            proxy: Proxy::Url(Secret::new("http://u:s3cret@proxy:3128")),
            ..ClientSettings::default()
        };
        assert!(!format!("{settings:?}").contains("s3cret"));
        let client = HttpClient::new(&settings).unwrap();
        assert!(!format!("{client:?}").contains("s3cret"));
    }

    #[test]
    fn https_proxies_are_refused_with_the_fix() {
        // The client cannot speak TLS to a proxy: refused when built, not at the first
        // request with an obscure handshake error.
        let settings = ClientSettings {
            proxy: Proxy::Url(Secret::new("https://u:s3cret@proxy.corp.example:3128")),
            ..ClientSettings::default()
        };
        let err = HttpClient::new(&settings).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
        let text = format!("{err} {err:?}");
        assert!(
            text.contains("give the proxy as http://host:port"),
            "{text}"
        );
        assert!(
            !text.contains("s3cret") && !text.contains("corp.example"),
            "{text}"
        );
    }

    fn unreachable_failure() -> Error {
        Error::new(ErrorKind::Server, "a failure mapping that must not run")
    }
}
