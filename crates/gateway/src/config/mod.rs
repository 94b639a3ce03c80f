//! The gateway's configuration: a TOML file ([`load`]), or, with no file, the provider
//! keys found in the environment ([`zero`]), or with none of those, built-in simulated
//! providers ([`crate::simulate::demo`]).
//!
//! Every way in goes through the same [`validate`], so `tollgate check-config FILE` and
//! `tollgate serve` accept and reject exactly the same files. A rejected file gets every
//! problem at once, each with its line, column and fix (see [`ConfigError`]).
//!
//! # File layout
//!
//! ```toml
//! [server]                  # listen, body_limit, grace_period, deployment_routes
//! [logging]                 # level, format, log_content
//! [telemetry]               # OTLP export (present = on)
//! [[keys]]                  # gateway API keys (none = open gateway on loopback)
//! [[catalog.models]]        # price / context-window overrides and additions
//! [http]                    # proxy, extra CAs, timeouts of every deployment's HTTP client
//! [deployments.NAME]        # provider + model + credentials + facts
//! [deployments.NAME.http]   # that deployment's own [http] settings, each overriding [http]'s
//! [defaults]                # route policies unless a route says otherwise
//! [routes.NAME]             # what callers ask for: deployments + balancer + policies
//! ```
//!
//! `[defaults]` and `[routes.NAME]` are `tollgate_router`'s [`PolicyConfig`] and
//! [`RouteConfig`] exactly: balancers, fallbacks, retries, timeouts, hedging and health
//! mean what `docs/routing.md` says. `crates/gateway/examples/tollgate.example.toml`
//! annotates every setting.
//!
//! # Interpolation
//!
//! `api_key`, `base_url`, `headers` values, `[server] listen`, `[telemetry] endpoint`,
//! `[[keys]] value` and `http` tables' `proxy` and `ca_file` may reference environment
//! variables: `${VAR}` or `${VAR:-default}` (see [`interpolate`]). A variable that is unset
//! or empty is a validation error naming it and where it is used. Secrets (`api_key`,
//! `headers` values, `[[keys]] value`, `proxy`) print as `*****` everywhere.
//!
//! # Relative paths
//!
//! The one path in a config, `http` tables' `ca_file`, is read relative to the directory
//! of the config file when it is relative ([`Config::base_dir`], set by [`load`]); a config
//! parsed from text or built in code has no file, and reads it from the current
//! directory.

pub mod deployment;
pub mod error;
pub mod http;
pub mod interpolate;
pub mod locate;
pub mod sections;
pub mod size;
mod validate;
pub mod zero;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tollgate_catalog::CatalogOverrides;
use tollgate_router::RouterConfig;
use tollgate_router::config::{PolicyConfig, RouteConfig};

pub use self::deployment::{CapabilitiesConfig, DeploymentConfig, ProviderKind};
pub use self::error::{ConfigError, Location, Problem};
pub use self::http::{HttpConfig, HttpSettingError};
pub use self::interpolate::{Env, EnvString, SecretString, process_env};
use self::locate::Locator;
pub use self::sections::{
    KeyConfig, LogFormat, LoggingConfig, OtlpProtocol, ServerConfig, TelemetryConfig,
};
use crate::state::ServerSettings;

/// The whole gateway configuration, as written (secrets still as `${VAR}` references;
/// [`crate::build::state`] resolves them).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[server]`.
    #[serde(default)]
    pub server: ServerConfig,
    /// `[logging]`.
    #[serde(default)]
    pub logging: LoggingConfig,
    /// `[telemetry]`: present turns OTLP export and spans on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telemetry: Option<TelemetryConfig>,
    /// `[[keys]]`: gateway API keys; none means no authentication.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<KeyConfig>,
    /// `[[catalog.models]]`: overrides of the bundled model facts.
    #[serde(default, skip_serializing_if = "is_default_catalog")]
    pub catalog: CatalogOverrides,
    /// `[http]`: the HTTP client settings of every real deployment (proxy, extra CA
    /// certificates, timeouts, pool), each of which a deployment's own `http` table may
    /// override.
    ///
    /// ```toml
    /// [http]
    /// proxy = "${CORP_PROXY:-none}"
    /// ca_file = "company-ca.pem"
    /// ```
    #[serde(default, skip_serializing_if = "HttpConfig::is_empty")]
    pub http: HttpConfig,
    /// `[deployments.NAME]`.
    #[serde(default)]
    pub deployments: BTreeMap<String, DeploymentConfig>,
    /// `[defaults]`: policies for every route that does not set its own.
    #[serde(default, skip_serializing_if = "is_default_policy")]
    pub defaults: PolicyConfig,
    /// `[routes.NAME]`.
    #[serde(default)]
    pub routes: BTreeMap<String, RouteConfig>,
    /// The directory relative paths in the config (`ca_file`) are read from: the config
    /// file's directory when it was [`load`]ed, else `None` (the current directory). Not
    /// a setting: it is never read from or written to TOML.
    #[serde(skip)]
    pub base_dir: Option<PathBuf>,
}

fn is_default_catalog(catalog: &CatalogOverrides) -> bool {
    catalog.models.is_empty()
}

fn is_default_policy(policy: &PolicyConfig) -> bool {
    *policy == PolicyConfig::default()
}

impl Config {
    /// The routes the gateway serves: `[routes]`, plus (with `server.deployment_routes`,
    /// the default) one single-deployment route per deployment whose name no route
    /// already uses, all with `[defaults]`.
    pub fn router_config(&self) -> RouterConfig {
        let mut routes = self.routes.clone();
        if self.server.deployment_routes {
            for name in self.deployments.keys() {
                routes
                    .entry(name.clone())
                    .or_insert_with(|| single_route(name));
            }
        }
        RouterConfig {
            defaults: self.defaults.clone(),
            routes,
        }
    }

    /// The config as TOML (secrets masked: `${VAR}` references stay, literal keys become
    /// `*****`).
    ///
    /// # Errors
    ///
    /// Should a value not be representable in TOML.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string_pretty(self)
    }

    /// The HTTP client settings of deployment `d`: its own `http` table over `[http]`
    /// ([`HttpConfig::over`]); [`HttpConfig::client_settings`] turns them into the client's.
    pub fn http_of(&self, d: &DeploymentConfig) -> HttpConfig {
        d.http
            .as_ref()
            .map_or_else(|| self.http.clone(), |own| own.over(&self.http))
    }

    /// Settings read once at startup. An invalid `listen` (which [`validate`] rejects)
    /// reads as the default.
    pub fn server_settings(&self, env: Env<'_>) -> ServerSettings {
        let listen = self
            .server
            .listen
            .as_ref()
            .and_then(|l| l.resolve(env).ok())
            .and_then(|l| l.trim().parse::<SocketAddr>().ok());
        ServerSettings {
            listen,
            shutdown_grace: self.server.grace_period,
        }
    }

    /// The OTLP export settings for `tollgate_telemetry::init`, when `[telemetry]` is
    /// present and enabled. Call `init` before [`crate::build::state`], so the layers it
    /// builds record to the exporting meter.
    pub fn telemetry_init(&self, env: Env<'_>) -> Option<tollgate_telemetry::InitConfig> {
        let telemetry = self.telemetry.as_ref().filter(|t| t.enabled)?;
        let mut init = tollgate_telemetry::InitConfig::new(telemetry.service_name.clone())
            .traces(telemetry.traces)
            .metrics(telemetry.metrics)
            .filter(self.logging.level.clone());
        if let Some(endpoint) = telemetry
            .endpoint
            .as_ref()
            .and_then(|e| e.resolve(env).ok())
        {
            init = init.endpoint(endpoint);
        }
        if let Some(protocol) = telemetry.protocol {
            init = init.protocol(match protocol {
                OtlpProtocol::Grpc => tollgate_telemetry::Protocol::Grpc,
                OtlpProtocol::HttpProtobuf => tollgate_telemetry::Protocol::HttpProtobuf,
            });
        }
        if let Some(interval) = telemetry.metric_interval {
            init = init.metric_interval(interval);
        }
        Some(init)
    }

    /// Things that work but deserve attention: literal secrets in the file, deployments
    /// with no known price. (`check-config` prints them; `serve` logs them.)
    pub fn warnings(&self) -> Vec<Problem> {
        validate::warnings(self)
    }
}

fn single_route(deployment: &str) -> RouteConfig {
    RouteConfig {
        deployments: vec![deployment.to_owned()],
        balancer: None,
        fallbacks: None,
        retry: None,
        timeouts: None,
        hedge: None,
        health: None,
        expected_output_tokens: None,
    }
}

/// Reads, parses and validates the config file at `path`, with the process environment.
///
/// # Errors
///
/// A [`ConfigError`] listing every problem with its line, column and fix: the file
/// cannot be read, is not valid TOML, has an unknown field or a bad value, names an
/// unknown deployment, provider or route, or references an unset variable.
pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
    load_with_env(path, &process_env)
}

/// [`load`] with variables looked up in `env`.
///
/// # Errors
///
/// As [`load`].
pub fn load_with_env(path: impl AsRef<Path>, env: Env<'_>) -> Result<Config, ConfigError> {
    let path = path.as_ref();
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::single(
            origin.clone(),
            Problem::new("", format!("cannot read the config file: {e}")).fix(
                "check the path, or run without a file to use the environment's provider keys",
            ),
        )
    })?;
    // Made absolute now, so a later change of directory cannot move what it names.
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
    parse_in(&text, &origin, env, Some(dir))
}

/// Parses and validates config `text` read from `origin` (a file name for messages).
/// Relative paths in it are read from the current directory; use [`parse_in`] to give
/// the directory.
///
/// # Errors
///
/// As [`load`].
pub fn parse(text: &str, origin: &str, env: Env<'_>) -> Result<Config, ConfigError> {
    parse_in(text, origin, env, None)
}

/// [`parse`], with relative paths read from `base_dir` (which becomes
/// [`Config::base_dir`]): what [`load`] does with the file's directory.
///
/// # Errors
///
/// As [`load`].
pub fn parse_in(
    text: &str,
    origin: &str,
    env: Env<'_>,
    base_dir: Option<PathBuf>,
) -> Result<Config, ConfigError> {
    let mut config: Config = toml::from_str(text).map_err(|e| {
        let mut problem = Problem::new("", e.message().trim().to_owned());
        problem.fix = validate::fix_for_parse_error(e.message());
        problem.location = e.span().map(|span| Location::of_offset(text, span.start));
        ConfigError::single(origin, problem)
    })?;
    config.base_dir = base_dir;
    let locator = Locator::new(text);
    let problems = validate::check(&config, env, locator.as_ref());
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(ConfigError::new(origin, problems))
    }
}

/// Validates a config built in code (zero-config, tests): the same checks as [`load`],
/// with problems located by their dotted path instead of a line.
///
/// # Errors
///
/// A [`ConfigError`] listing every problem.
pub fn validate(config: &Config, env: Env<'_>) -> Result<(), ConfigError> {
    let problems = validate::check(config, env, None);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ConfigError::new("<config>", problems))
    }
}

/// The config to serve when no file is given: routes over the provider keys found in
/// `env` ([`zero::from_env`]), or, with none, the simulated demo
/// ([`crate::simulate::demo::config`]).
pub fn from_environment(env: Env<'_>) -> Config {
    zero::from_env(env).unwrap_or_else(crate::simulate::demo::config)
}
