//! `[http]` and `[deployments.NAME.http]`: the HTTP client every real deployment sends
//! through — its proxy, extra CA certificates, connect timeout and connection pool.
//!
//! `[http]` gives the defaults; a deployment's own `http` table overrides them setting by
//! setting (see [`HttpConfig::over`]), and a setting given in neither keeps the built-in
//! default of [`tollgate_http::ClientSettings::default`]:
//!
//! ```toml
//! [http]
//! proxy = "${CORP_PROXY}"               # http://[user:password@]host:port
//! ca_file = "certs/company-ca.pem"      # relative to the config file's directory
//! connect_timeout = "5s"
//!
//! [deployments.local-llama.http]
//! proxy = "none"                        # direct; ca_file and connect_timeout stay [http]'s
//! ```
//!
//! Simulated deployments make no HTTP requests: an `http` table on one is an error, and
//! `[http]` does not concern them.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tollgate_core::Secret;
use tollgate_http::{CertificateDer, ClientSettings, Proxy, certificates_from_pem};

use super::interpolate::{Env, EnvString, InterpolationError, SecretString};

/// The largest `ca_file` read: far above any CA bundle (the whole Mozilla bundle is about
/// 220 KB), and a bound on what a wrong path (`/dev/zero`) can cost.
pub const MAX_CA_FILE_BYTES: u64 = 16 << 20;

/// `[http]` or `[deployments.NAME.http]`: HTTP client settings. Every setting is optional:
/// left out in a deployment's table, it keeps `[http]`'s; left out there too, the built-in
/// default.
///
/// ```toml
/// [http]
/// # The proxy for provider traffic: http://[user:password@]host:port (interpolated, and a
/// # secret: it never prints), "none" to connect directly whatever HTTPS_PROXY, HTTP_PROXY
/// # and ALL_PROXY say, or "env" for those variables (what leaving it out means).
/// proxy = "http://${PROXY_USER}:${PROXY_PASSWORD}@proxy.corp.example:3128"
/// # A PEM file of CA certificates trusted besides the platform's roots (interpolated; a
/// # relative path is read from the config file's directory).
/// ca_file = "certs/company-ca.pem"
/// connect_timeout = "10s"               # default 10s
/// pool_idle_timeout = "90s"             # default 90s
/// pool_max_idle_per_host = 64           # default 64
///
/// [deployments.vllm.http]
/// proxy = "none"
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// The proxy: `"http://[user:password@]host:port"`, `"none"` (connect directly,
    /// ignoring `HTTPS_PROXY`, `HTTP_PROXY` and `ALL_PROXY`) or `"env"` (those variables,
    /// with `NO_PROXY`). Interpolated like `api_key`, and a [`SecretString`]: the URL may
    /// carry credentials, so it never prints. Only `http://` proxies are supported; https
    /// endpoints are reached through them in a `CONNECT` tunnel, TLS end to end. Left out:
    /// `"env"`.
    ///
    /// ```toml
    /// proxy = "${HTTPS_PROXY_FOR_LLMS:-none}"
    /// ```
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_proxy"
    )]
    pub proxy: Option<SecretString>,
    /// A PEM file holding one or more CA certificates to trust in addition to the
    /// platform's roots (a company CA in front of a self-hosted endpoint). Interpolated
    /// like `base_url`; a relative path is read from the directory of the config file (see
    /// [`Config::base_dir`](super::Config::base_dir)).
    ///
    /// ```toml
    /// ca_file = "${CA_DIR:-/etc/ssl/company}/root-ca.pem"
    /// ```
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<EnvString>,
    /// Time allowed to establish a connection, a proxy's included (default `"10s"`; not
    /// zero).
    ///
    /// ```toml
    /// connect_timeout = "3s"
    /// ```
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "some_duration"
    )]
    pub connect_timeout: Option<Duration>,
    /// Idle pooled connections are closed after this long (default `"90s"`).
    ///
    /// ```toml
    /// pool_idle_timeout = "30s"
    /// ```
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "some_duration"
    )]
    pub pool_idle_timeout: Option<Duration>,
    /// Idle connections kept per host (default 64; 0 keeps none).
    ///
    /// ```toml
    /// pool_max_idle_per_host = 16
    /// ```
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_max_idle_per_host: Option<usize>,
}

/// A proxy as a [`SecretString`] writes it (references kept, literal text masked), except
/// that the words `none` and `env`, which are no secret, are written as they are: a
/// config saying `proxy = "none"` writes back what it read.
fn serialize_proxy<S: serde::Serializer>(
    value: &Option<SecretString>,
    s: S,
) -> Result<S::Ok, S::Error> {
    let Some(proxy) = value else {
        return s.serialize_none();
    };
    if proxy.variables().is_empty()
        && let Ok(word) = proxy.resolve(&|_| None)
        && ["none", "env"]
            .iter()
            .any(|w| word.expose().trim().eq_ignore_ascii_case(w))
    {
        return s.serialize_str(word.expose());
    }
    proxy.serialize(s)
}

/// `Option<Duration>` where `None` means "left out" (so, unlike
/// `tollgate_router::config::duration::option`, `"off"` is not a value).
mod some_duration {
    use std::time::Duration;

    use serde::{Deserializer, Serializer};
    use tollgate_router::config::duration;

    pub(super) fn serialize<S: Serializer>(
        value: &Option<Duration>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => duration::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        duration::deserialize(d).map(Some)
    }
}

impl HttpConfig {
    /// True when no setting is given.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// This table over `defaults`: each setting given here wins, each left out keeps
    /// `defaults`' (so `[deployments.NAME.http]` over `[http]`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use tollgate_gateway::config::HttpConfig;
    ///
    /// let defaults: HttpConfig = toml::from_str("proxy = \"none\"\nconnect_timeout = \"5s\"").unwrap();
    /// let own: HttpConfig = toml::from_str("connect_timeout = \"2s\"").unwrap();
    /// let merged = own.over(&defaults);
    /// assert_eq!(merged.connect_timeout, Some(Duration::from_secs(2)));
    /// assert!(merged.proxy.is_some());
    /// ```
    pub fn over(&self, defaults: &Self) -> Self {
        Self {
            proxy: self.proxy.clone().or_else(|| defaults.proxy.clone()),
            ca_file: self.ca_file.clone().or_else(|| defaults.ca_file.clone()),
            connect_timeout: self.connect_timeout.or(defaults.connect_timeout),
            pool_idle_timeout: self.pool_idle_timeout.or(defaults.pool_idle_timeout),
            pool_max_idle_per_host: self
                .pool_max_idle_per_host
                .or(defaults.pool_max_idle_per_host),
        }
    }

    /// The client settings these settings describe, each left out as in
    /// [`ClientSettings::default`]: variables interpolated, the proxy parsed, the CA file
    /// read (a relative path from `base_dir`, else from the current directory).
    ///
    /// # Errors
    ///
    /// The first [`HttpSettingError`] (what [`validate`](super::validate) reports, all at
    /// once).
    pub fn client_settings(
        &self,
        env: Env<'_>,
        base_dir: Option<&Path>,
    ) -> Result<ClientSettings, HttpSettingError> {
        let (settings, mut problems) = self.resolve(env, base_dir);
        if problems.is_empty() {
            Ok(settings)
        } else {
            Err(problems.swap_remove(0))
        }
    }

    /// Every problem with these settings, in field order.
    pub(crate) fn problems(&self, env: Env<'_>, base_dir: Option<&Path>) -> Vec<HttpSettingError> {
        self.resolve(env, base_dir).1
    }

    fn resolve(
        &self,
        env: Env<'_>,
        base_dir: Option<&Path>,
    ) -> (ClientSettings, Vec<HttpSettingError>) {
        let mut settings = ClientSettings::default();
        let mut problems = Vec::new();
        if let Some(proxy) = &self.proxy {
            match resolve_proxy(proxy, env) {
                Ok(proxy) => settings.proxy = proxy,
                Err(e) => problems.push(e),
            }
        }
        if let Some(ca_file) = &self.ca_file {
            match read_ca_file(ca_file, env, base_dir) {
                Ok(certificates) => settings.extra_root_certificates = certificates,
                Err(e) => problems.push(e),
            }
        }
        if let Some(timeout) = self.connect_timeout {
            if timeout.is_zero() {
                problems.push(HttpSettingError::ZeroConnectTimeout);
            } else {
                settings.connect_timeout = timeout;
            }
        }
        if let Some(timeout) = self.pool_idle_timeout {
            settings.pool_idle_timeout = timeout;
        }
        if let Some(max) = self.pool_max_idle_per_host {
            settings.pool_max_idle_per_host = max;
        }
        (settings, problems)
    }
}

/// Why an `http` setting cannot be used. The text never contains the proxy URL (it may
/// carry credentials) nor anything read from the CA file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpSettingError {
    /// `proxy` or `ca_file` references a variable that is unset, or is malformed.
    Interpolation {
        /// `proxy` or `ca_file`.
        setting: &'static str,
        /// Why.
        error: InterpolationError,
    },
    /// `proxy` is empty once interpolated.
    EmptyProxy,
    /// `proxy` is an `https://` URL: a TLS connection to the proxy is not supported.
    HttpsProxy,
    /// `proxy` is not an `http://host[:port]` URL.
    NotHttpProxy {
        /// The scheme it has, when it has one (`socks5`); never the rest of the URL.
        scheme: Option<String>,
    },
    /// `proxy` has a path or query, which a proxy URL does not use.
    ProxyPath,
    /// `ca_file` cannot be read.
    UnreadableCaFile {
        /// The path read.
        path: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
    /// `ca_file` is larger than [`MAX_CA_FILE_BYTES`].
    LargeCaFile {
        /// The path read.
        path: PathBuf,
    },
    /// `ca_file` holds no PEM certificate (or a malformed one).
    NoCertificate {
        /// The path read.
        path: PathBuf,
    },
    /// `connect_timeout` is zero: every connection would fail.
    ZeroConnectTimeout,
}

const PROXY_FORM: &str = "http://[user:password@]host:port";

impl HttpSettingError {
    /// The setting at fault: `proxy`, `ca_file` or `connect_timeout`.
    pub fn setting(&self) -> &'static str {
        match self {
            Self::Interpolation { setting, .. } => setting,
            Self::EmptyProxy | Self::HttpsProxy | Self::NotHttpProxy { .. } | Self::ProxyPath => {
                "proxy"
            }
            Self::UnreadableCaFile { .. }
            | Self::LargeCaFile { .. }
            | Self::NoCertificate { .. } => "ca_file",
            Self::ZeroConnectTimeout => "connect_timeout",
        }
    }

    /// How to fix it.
    pub fn fix(&self) -> String {
        match self {
            Self::Interpolation {
                error: InterpolationError::Missing { name },
                ..
            } => format!(
                "export {name}=… before starting the gateway, or write `${{{name}:-default}}` to give a default"
            ),
            Self::Interpolation { .. } => {
                "write `${NAME}` or `${NAME:-default}`; `$$` is a literal `$`".to_owned()
            }
            Self::EmptyProxy => format!(
                "write the proxy as {PROXY_FORM}, \"none\" to connect directly, or leave `proxy` out to use the environment's HTTPS_PROXY / HTTP_PROXY / ALL_PROXY"
            ),
            Self::HttpsProxy => format!(
                "write the proxy as {PROXY_FORM}: https endpoints still get TLS end to end, through a CONNECT tunnel"
            ),
            Self::NotHttpProxy { .. } => format!(
                "write the proxy as {PROXY_FORM} (percent-encode `@`, `:` and `/` in the user name and password), or \"none\" to connect directly"
            ),
            Self::ProxyPath => format!("write only {PROXY_FORM}, without a path or query"),
            Self::UnreadableCaFile { .. } => "check the path and the file's permissions; a relative path is read from the config file's directory".to_owned(),
            Self::LargeCaFile { .. } | Self::NoCertificate { .. } => "point ca_file at a PEM file of one or more `-----BEGIN CERTIFICATE-----` blocks (convert a DER certificate with: openssl x509 -inform der -in ca.der -out ca.pem)".to_owned(),
            Self::ZeroConnectTimeout => {
                "give a duration such as \"10s\" (the default), or leave it out".to_owned()
            }
        }
    }
}

impl fmt::Display for HttpSettingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Interpolation {
                setting,
                error: InterpolationError::Missing { name },
            } => write!(
                f,
                "{setting} uses environment variable `{name}`, which is not set"
            ),
            Self::Interpolation {
                setting,
                error: InterpolationError::Malformed { reason },
            } => write!(f, "{setting}: {reason}"),
            Self::EmptyProxy => f.write_str("proxy is empty"),
            Self::HttpsProxy => f.write_str(
                "proxy is an https:// URL, and the HTTP client does not support TLS to the proxy itself (only http:// proxies)",
            ),
            Self::NotHttpProxy {
                scheme: Some(scheme),
            } => write!(
                f,
                "proxy is a `{scheme}` URL; only http:// proxies are supported"
            ),
            Self::NotHttpProxy { scheme: None } => {
                write!(f, "proxy is not a URL of the form {PROXY_FORM}")
            }
            Self::ProxyPath => f.write_str("proxy has a path or query, which a proxy does not use"),
            Self::UnreadableCaFile { path, reason } => {
                write!(f, "ca_file `{}` cannot be read: {reason}", path.display())
            }
            Self::LargeCaFile { path } => write!(
                f,
                "ca_file `{}` is larger than {} MiB, so it is not a CA certificate file",
                path.display(),
                MAX_CA_FILE_BYTES >> 20
            ),
            Self::NoCertificate { path } => write!(
                f,
                "ca_file `{}` holds no readable PEM certificate",
                path.display()
            ),
            Self::ZeroConnectTimeout => {
                f.write_str("connect_timeout is 0, which fails every connection")
            }
        }
    }
}

impl std::error::Error for HttpSettingError {}

/// Reads a `proxy` setting: `"none"`, `"env"`, or an `http://` URL. Nothing of the URL
/// but its scheme ever reaches an error.
fn resolve_proxy(template: &SecretString, env: Env<'_>) -> Result<Proxy, HttpSettingError> {
    let secret = template
        .resolve(env)
        .map_err(|error| HttpSettingError::Interpolation {
            setting: "proxy",
            error,
        })?;
    let value = secret.expose().trim();
    if value.is_empty() {
        return Err(HttpSettingError::EmptyProxy);
    }
    if value.eq_ignore_ascii_case("none") {
        return Ok(Proxy::Direct);
    }
    if value.eq_ignore_ascii_case("env") {
        return Ok(Proxy::FromEnv);
    }
    check_proxy_url(value)?;
    Ok(Proxy::Url(Secret::new(value)))
}

/// Whether `url` is `http://[user[:password]@]host[:port][/]`, in a form the HTTP client's
/// proxy matcher reads (it drops a URL it cannot read, which would mean no proxy at all).
fn check_proxy_url(url: &str) -> Result<(), HttpSettingError> {
    let not_http = |scheme: Option<&str>| HttpSettingError::NotHttpProxy {
        scheme: scheme.map(str::to_owned),
    };
    match url
        .split_once("://")
        .map(|(scheme, _)| scheme.to_ascii_lowercase())
    {
        Some(s) if s == "http" => {}
        Some(s) if s == "https" => return Err(HttpSettingError::HttpsProxy),
        // Named only when it is a proxy scheme people write: never echo anything else.
        Some(s)
            if s.starts_with("socks")
                && s.len() <= 7
                && s.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            return Err(not_http(Some(&s)));
        }
        _ => return Err(not_http(None)),
    }
    let uri: http::Uri = url.parse().map_err(|_| not_http(None))?;
    let authority = uri.authority().ok_or_else(|| not_http(None))?;
    // The matcher splits the credentials off at the first `@`; what follows must be a
    // host and port.
    let host_port = authority
        .as_str()
        .split_once('@')
        .map_or(authority.as_str(), |(_, rest)| rest);
    let _: http::uri::Authority = host_port.parse().map_err(|_| not_http(None))?;
    if !is_host_and_port(host_port) {
        return Err(not_http(None));
    }
    if uri.query().is_some() || !matches!(uri.path(), "" | "/") {
        return Err(HttpSettingError::ProxyPath);
    }
    Ok(())
}

/// Whether `text` is `host`, `host:port`, `[ipv6]` or `[ipv6]:port`, with a port from 1
/// to 65535.
fn is_host_and_port(text: &str) -> bool {
    let (host, port) = match text.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((ip, "")) => (ip, None),
            Some((ip, after)) => match after.strip_prefix(':') {
                Some(port) => (ip, Some(port)),
                None => return false,
            },
            None => return false,
        },
        None => match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        },
    };
    !host.is_empty()
        && !host.contains('@')
        && port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0))
}

/// The path `ca_file` names, relative paths joined to `base_dir`.
fn ca_path(
    template: &EnvString,
    env: Env<'_>,
    base_dir: Option<&Path>,
) -> Result<PathBuf, HttpSettingError> {
    let written = template
        .resolve(env)
        .map_err(|error| HttpSettingError::Interpolation {
            setting: "ca_file",
            error,
        })?;
    let path = PathBuf::from(written);
    Ok(match base_dir {
        Some(dir) if path.is_relative() => dir.join(path),
        _ => path,
    })
}

/// Reads the certificates of `ca_file` (at most [`MAX_CA_FILE_BYTES`]).
fn read_ca_file(
    template: &EnvString,
    env: Env<'_>,
    base_dir: Option<&Path>,
) -> Result<Vec<CertificateDer<'static>>, HttpSettingError> {
    let path = ca_path(template, env, base_dir)?;
    let unreadable = |e: std::io::Error, path: &Path| HttpSettingError::UnreadableCaFile {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    let file = std::fs::File::open(&path).map_err(|e| unreadable(e, &path))?;
    let mut pem = Vec::new();
    file.take(MAX_CA_FILE_BYTES + 1)
        .read_to_end(&mut pem)
        .map_err(|e| unreadable(e, &path))?;
    if pem.len() as u64 > MAX_CA_FILE_BYTES {
        return Err(HttpSettingError::LargeCaFile { path });
    }
    certificates_from_pem(&pem).map_err(|_| HttpSettingError::NoCertificate { path })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn proxy(value: &str) -> Result<Proxy, HttpSettingError> {
        resolve_proxy(&SecretString::new(value), &no_env)
    }

    #[test]
    fn proxy_literals_and_http_urls_are_read() {
        assert!(matches!(proxy("none"), Ok(Proxy::Direct)));
        assert!(matches!(proxy(" NONE "), Ok(Proxy::Direct)));
        assert!(matches!(proxy("env"), Ok(Proxy::FromEnv)));
        for url in [
            "http://proxy.corp:3128",
            "http://proxy.corp:3128/",
            "http://proxy.corp",
            "HTTP://10.0.0.1:8080",
            "http://user:p%40ss@proxy.corp:3128",
            "http://user@[::1]:3128",
        ] {
            match proxy(url) {
                Ok(Proxy::Url(secret)) => assert_eq!(secret.expose(), url.trim()),
                other => panic!("{url}: {other:?}"),
            }
        }
    }

    #[test]
    fn proxies_the_client_cannot_use_are_refused_without_echoing_them() {
        let cases = [
            (
                "https://user:hunter2@proxy.corp:3128",
                HttpSettingError::HttpsProxy,
            ),
            (
                "socks5://user:hunter2@proxy.corp:1080",
                HttpSettingError::NotHttpProxy {
                    scheme: Some("socks5".into()),
                },
            ),
            (
                "proxy.corp:3128",
                HttpSettingError::NotHttpProxy { scheme: None },
            ),
            (
                "user:hunter2@proxy.corp:3128",
                HttpSettingError::NotHttpProxy { scheme: None },
            ),
            ("http://", HttpSettingError::NotHttpProxy { scheme: None }),
            (
                "http://user:hun@ter2@proxy.corp:3128",
                HttpSettingError::NotHttpProxy { scheme: None },
            ),
            (
                "http://proxy.corp:port",
                HttpSettingError::NotHttpProxy { scheme: None },
            ),
            (
                "http://proxy.corp:99999",
                HttpSettingError::NotHttpProxy { scheme: None },
            ),
            (
                "http://user:hunter2@proxy.corp:3128/path",
                HttpSettingError::ProxyPath,
            ),
            (
                "http://proxy.corp:3128/?x=hunter2",
                HttpSettingError::ProxyPath,
            ),
            ("", HttpSettingError::EmptyProxy),
        ];
        for (url, expected) in cases {
            let Err(error) = proxy(url) else {
                panic!("accepted: {url}");
            };
            assert_eq!(error, expected, "{url}");
            let shown = format!("{error} {} {error:?}", error.fix());
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(!shown.contains("proxy.corp"), "{shown}");
        }
    }

    #[test]
    fn merging_takes_each_setting_from_the_nearest_table() {
        let defaults = HttpConfig {
            proxy: Some(SecretString::new("none")),
            ca_file: Some(EnvString::new("a.pem")),
            connect_timeout: Some(Duration::from_secs(5)),
            pool_idle_timeout: None,
            pool_max_idle_per_host: Some(8),
        };
        let own = HttpConfig {
            ca_file: Some(EnvString::new("b.pem")),
            pool_idle_timeout: Some(Duration::from_secs(1)),
            ..HttpConfig::default()
        };
        let merged = own.over(&defaults);
        assert_eq!(merged.proxy, Some(SecretString::new("none")));
        assert_eq!(merged.ca_file, Some(EnvString::new("b.pem")));
        assert_eq!(merged.connect_timeout, Some(Duration::from_secs(5)));
        assert_eq!(merged.pool_idle_timeout, Some(Duration::from_secs(1)));
        assert_eq!(merged.pool_max_idle_per_host, Some(8));
        assert_eq!(
            HttpConfig::default().over(&HttpConfig::default()),
            HttpConfig::default()
        );
    }

    #[test]
    fn relative_ca_files_are_read_from_the_base_directory() {
        let file = EnvString::new("certs/ca.pem");
        assert_eq!(
            ca_path(&file, &no_env, Some(Path::new("/etc/tollgate"))).unwrap(),
            Path::new("/etc/tollgate/certs/ca.pem")
        );
        assert_eq!(
            ca_path(&file, &no_env, None).unwrap(),
            Path::new("certs/ca.pem")
        );
        let absolute = EnvString::new("/opt/ca.pem");
        assert_eq!(
            ca_path(&absolute, &no_env, Some(Path::new("/etc/tollgate"))).unwrap(),
            Path::new("/opt/ca.pem")
        );
    }
}
