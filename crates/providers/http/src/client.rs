//! [`HttpClient`]: the connection pool providers send through.
//!
//! Built on hyper's HTTP/1 and HTTP/2 connections, pooled by our own [`Pool`] (`pool.rs`
//! says why hyper-util's pooled client is not used), hyper-rustls and the platform's
//! certificate verifier. reqwest wraps hyper-util's client in a redirect layer and a
//! `Url` type that it re-parses twice on every request (its redirect bookkeeping runs
//! even with redirects off); providers send one JSON POST to a URL fixed at
//! construction, so that work bought nothing here and cost a sixth of the gateway's
//! instructions per request (see `docs/benchmarks.md`).

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderValue, PROXY_AUTHORIZATION, USER_AGENT};
use http_body_util::Full;
use hyper_rustls::HttpsConnectorBuilder;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::proxy::matcher::Matcher;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls_platform_verifier::{BuilderVerifierExt, Verifier};
use tollgate_core::{Error, ErrorKind, Secret};

use crate::connect::ProxyConnector;
use crate::pool::{Pool, Response, SendError};

/// Settings of the HTTP client a provider builds.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// Time allowed to establish a connection: TCP, a proxy's `CONNECT` tunnel and the
    /// TLS handshake together.
    pub connect_timeout: Duration,
    /// Idle pooled connections are closed after this long.
    pub pool_idle_timeout: Duration,
    /// Idle connections kept per host.
    pub pool_max_idle_per_host: usize,
    /// Which proxy, if any, provider traffic goes through.
    pub proxy: Proxy,
    /// Certificate authorities trusted besides the platform's (a company CA in front of
    /// a self-hosted endpoint); see [`certificates_from_pem`].
    pub extra_root_certificates: Vec<CertificateDer<'static>>,
}

/// Reads every certificate of a PEM file's contents, for
/// [`ClientSettings::extra_root_certificates`].
///
/// # Errors
///
/// [`ErrorKind::InvalidRequest`] if `pem` holds no certificate or a malformed one.
pub fn certificates_from_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            Error::new(
                ErrorKind::InvalidRequest,
                format!("the PEM certificates could not be read: {e}"),
            )
        })?;
    if certificates.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidRequest,
            "the PEM data holds no certificate",
        ));
    }
    Ok(certificates)
}

/// Which proxy provider traffic goes through.
#[derive(Debug, Clone, Default)]
pub enum Proxy {
    /// The one the environment names: `HTTPS_PROXY` for https endpoints, `HTTP_PROXY`
    /// for http ones, `ALL_PROXY` for both, except for hosts in `NO_PROXY` (lower-case
    /// forms too), read once when the client is built. Without them, no proxy.
    #[default]
    FromEnv,
    /// No proxy, whatever the environment says.
    Direct,
    /// Every request through this proxy, `http://[user:password@]host:port` (a
    /// [`Secret`]: its credentials are never shown).
    Url(Secret),
}

impl Proxy {
    /// Whether a plain-`http` endpoint may be proxied: for [`Proxy::FromEnv`], whether
    /// one of the variables that proxy http (`HTTP_PROXY`, `ALL_PROXY`, either case) is set.
    fn may_proxy_http(&self) -> bool {
        match self {
            Self::FromEnv => ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
                .iter()
                .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty())),
            Self::Direct => false,
            Self::Url(_) => true,
        }
    }

    fn matcher(&self) -> Option<Arc<Matcher>> {
        match self {
            Self::FromEnv => Some(Arc::new(Matcher::from_env())),
            Self::Direct => None,
            Self::Url(url) => Some(Arc::new(Matcher::builder().all(url.expose()).build())),
        }
    }
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            pool_idle_timeout: Duration::from_secs(90),
            pool_max_idle_per_host: 64,
            proxy: Proxy::FromEnv,
            extra_root_certificates: Vec::new(),
        }
    }
}

/// The HTTP client providers use: a shared connection pool, cheap to clone.
///
/// rustls with the platform's certificate verifier, HTTP/2 when the server offers it
/// (ALPN), HTTP/1.1 otherwise, `TCP_NODELAY`, a [`Proxy`] (by default the environment's).
/// There is no
/// overall timeout (routers own timeouts, so a long stream is not cut by the client),
/// and redirects are not followed: a provider API does not redirect its endpoints, and
/// the router owns retries, so a 3xx is a failure like any other non-success status.
///
/// ```
/// let http = tollgate_http::HttpClient::new(&tollgate_http::ClientSettings::default())?;
/// let shared = http.clone(); // the same pool
/// # drop(shared);
/// # Ok::<(), tollgate_core::Error>(())
/// ```
#[derive(Clone)]
pub struct HttpClient {
    pool: Pool,
    proxies: Option<Arc<Matcher>>,
    /// Whether a plain-`http` request may go to a proxy (and so may need
    /// `proxy-authorization`): decided once, so direct requests pay nothing for it.
    http_proxied: bool,
}

impl HttpClient {
    /// Builds a client with its own connection pool.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidRequest`] for a [`Proxy::Url`] that is not an absolute `http://`
    /// URL (an `https://` proxy is not supported);
    /// [`ErrorKind::Transport`] if the platform's certificate verifier cannot be set up.
    pub fn new(settings: &ClientSettings) -> Result<Self, Error> {
        if let Proxy::Url(url) = &settings.proxy {
            check_proxy_url(url)?;
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .and_then(|builder| {
                if settings.extra_root_certificates.is_empty() {
                    return builder.with_platform_verifier();
                }
                let verifier = Verifier::new_with_extra_roots(
                    settings.extra_root_certificates.iter().cloned(),
                    provider,
                )?;
                Ok(builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(verifier)))
            })
            .map_err(|e| {
                Error::new(
                    ErrorKind::Transport,
                    "could not set up TLS certificate verification",
                )
                .with_source(e)
            })?
            .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(settings.connect_timeout));
        let proxies = settings.proxy.matcher();
        let connector = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(ProxyConnector::new(http, proxies.clone()));
        let pool = Pool::new(
            connector,
            settings.connect_timeout,
            settings.pool_idle_timeout,
            settings.pool_max_idle_per_host,
        );
        let http_proxied = proxies.is_some() && settings.proxy.may_proxy_http();
        Ok(Self {
            pool,
            proxies,
            http_proxied,
        })
    }

    /// Sends `request` and returns the response head; the body is read by the caller.
    /// Adds `user-agent` unless the request has one, and `proxy-authorization` when a
    /// plain-`http` request goes to a proxy with credentials.
    ///
    /// # Errors
    ///
    /// The transport's error, mapped by [`crate::transport_error`].
    pub(crate) fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> impl Future<Output = Result<Response, SendError>> + Send + '_ {
        let mut request = request.map(Full::new);
        let headers = request.headers_mut();
        if !headers.contains_key(USER_AGENT) {
            headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        }
        if self.http_proxied
            && let Some(proxies) = &self.proxies
            && request.uri().scheme() == Some(&http::uri::Scheme::HTTP)
            && let Some(auth) = proxies
                .intercept(request.uri())
                .and_then(|i| i.basic_auth().cloned())
        {
            request.headers_mut().insert(PROXY_AUTHORIZATION, auth);
        }
        self.pool.send(request)
    }
}

/// Refuses a [`Proxy::Url`] the client could not use, without quoting it (it may carry
/// credentials): one that is not an absolute URL, or an `https://` one.
fn check_proxy_url(url: &Secret) -> Result<(), Error> {
    let invalid = |message: &str| Err(Error::new(ErrorKind::InvalidRequest, message.to_owned()));
    let Ok(uri) = crate::endpoint("proxy", url.expose()) else {
        return invalid("the proxy URL is not an absolute http://host:port URL");
    };
    if uri.scheme() == Some(&http::uri::Scheme::HTTPS) {
        return invalid(HTTPS_PROXY_UNSUPPORTED);
    }
    Ok(())
}

/// Why an `https://` proxy is refused, and what to use instead.
pub(crate) const HTTPS_PROXY_UNSUPPORTED: &str = "https:// proxies (TLS to the proxy itself) \
     are not supported: give the proxy as http://host:port; https endpoints are still \
     reached through it in a CONNECT tunnel, with TLS end to end";

const USER_AGENT_VALUE: &str = concat!("tollgate/", env!("CARGO_PKG_VERSION"));

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The proxy matcher may hold credentials: only say whether there is one.
        f.debug_struct("HttpClient")
            .field("proxied", &self.proxies.is_some())
            .finish_non_exhaustive()
    }
}
