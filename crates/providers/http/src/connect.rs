//! The connector under TLS: a TCP connection to the provider, or through the proxy the
//! environment names (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`).
//!
//! - An `https` endpoint behind a proxy is reached through a `CONNECT` tunnel (with the
//!   proxy's basic credentials if its URL carries them); TLS then runs end to end.
//! - An `http` endpoint behind a proxy is sent to the proxy itself, in absolute form; the
//!   [`HttpClient`](crate::HttpClient) adds `proxy-authorization` to such requests.
//! - Everything else connects directly.

use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tower::ServiceExt;

type BoxError = Box<dyn StdError + Send + Sync>;

/// Connects to a destination directly or through the configured proxy.
#[derive(Clone)]
pub(crate) struct ProxyConnector {
    http: HttpConnector,
    proxies: Option<Arc<Matcher>>,
}

impl ProxyConnector {
    pub(crate) fn new(http: HttpConnector, proxies: Option<Arc<Matcher>>) -> Self {
        Self { http, proxies }
    }
}

impl tower::Service<Uri> for ProxyConnector {
    type Response = Conn;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Conn, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let intercept = self.proxies.as_ref().and_then(|m| m.intercept(&dst));
        let http = self.http.clone();
        Box::pin(async move {
            let Some(intercept) = intercept else {
                let io = http.oneshot(dst).await?;
                return Ok(Conn { io, proxied: false });
            };
            // Only an environment variable can name one here (`HttpClient::new` refuses
            // an explicit one); speaking plain HTTP to a TLS port would fail obscurely.
            if intercept.uri().scheme() == Some(&http::uri::Scheme::HTTPS) {
                return Err(format!(
                    "the environment's proxy (HTTPS_PROXY, HTTP_PROXY or ALL_PROXY) is an \
                     {}",
                    crate::client::HTTPS_PROXY_UNSUPPORTED
                )
                .into());
            }
            if dst.scheme() == Some(&http::uri::Scheme::HTTPS) {
                let mut tunnel = Tunnel::new(intercept.uri().clone(), http);
                if let Some(auth) = intercept.basic_auth() {
                    tunnel = tunnel.with_auth(auth.clone());
                }
                let io = tunnel.oneshot(dst).await?;
                Ok(Conn { io, proxied: false })
            } else {
                let io = http.oneshot(intercept.uri().clone()).await?;
                Ok(Conn { io, proxied: true })
            }
        })
    }
}

/// A TCP connection that knows whether it leads to a forwarding proxy (requests on it
/// then go out in absolute form).
pub(crate) struct Conn {
    io: TokioIo<TcpStream>,
    proxied: bool,
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.proxied)
    }
}

impl Read for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl Write for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}

#[cfg(test)]
mod tests {
    use tower::Service;

    use super::*;

    #[tokio::test]
    async fn an_https_proxy_from_the_environment_fails_naming_the_fix() {
        // What `Matcher::from_env` builds for `HTTPS_PROXY=https://…` (tests must not set
        // the process environment, so the matcher is built directly).
        let matcher = Matcher::builder()
            .all("https://user:s3cret@127.0.0.1:9")
            .build();
        let mut connector = ProxyConnector::new(HttpConnector::new(), Some(Arc::new(matcher)));
        let Err(err) = connector
            .call(Uri::from_static("https://api.openai.com/"))
            .await
        else {
            panic!("an https proxy must not be used");
        };
        let message = err.to_string();
        assert!(message.contains("HTTPS_PROXY"), "{message}");
        assert!(message.contains("http://host:port"), "{message}");
        assert!(!message.contains("s3cret"), "{message}");
    }
}
