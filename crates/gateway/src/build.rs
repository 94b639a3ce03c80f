//! [`state`]: turns a validated [`Config`] into the [`AppState`] the server runs on.
//!
//! In order:
//!
//! 1. [`validate`](crate::config::validate) the config (the same checks as
//!    `check-config`);
//! 2. the **catalog**: the bundled table, then `[[catalog.models]]`, then each deployment's
//!    own `price` / `context_window` / `max_output_tokens` / `capabilities` (so replies of
//!    that provider and model are priced at the deployment's rate; when two deployments of
//!    the same model disagree, the last by name prices replies);
//! 3. one **provider client** per deployment (`tollgate-openai` with its preset,
//!    `tollgate-anthropic`, `tollgate-gemini`, or a [`SimulatedProvider`]), its secrets
//!    interpolated now, its HTTP client built from its `http` table over `[http]`
//!    ([`Config::http_of`], then [`HttpConfig::client_settings`]: the proxy parsed, the
//!    CA file read); with `[telemetry]`, wrapped in an attempt-span layer;
//! 4. its **facts** ([`DeploymentFacts`]) from the catalog and the deployment's settings
//!    (a capability the catalog does not record counts as present);
//! 5. the **routes** through [`tollgate_router::RouterConfig::build`]; each route's service
//!    is the route itself, with `[telemetry]` wrapped in a request-span layer;
//! 6. the **keys** (plain-text values hashed here and dropped), limits, prices (the
//!    catalog), `log_content`, and `simulated` (every deployment is simulated — logged
//!    loudly).

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use tollgate_anthropic::{AnthropicClient, AnthropicConfig};
use tollgate_catalog::{CapabilityOverrides, Catalog, CatalogOverrides, ModelFacts, ModelOverride};
use tollgate_core::pricing::PriceSource;
use tollgate_core::{BoxChatService, boxed};
use tollgate_gemini::{GeminiClient, GeminiConfig};
use tollgate_http::ClientSettings;
use tollgate_openai::{OpenAiClient, OpenAiConfig};
use tollgate_router::{Capabilities, Deployment, DeploymentFacts};
use tollgate_telemetry::{ContentCapture, TelemetryLayer};
use tower::Layer;

use crate::auth::keys::{GatewayKey, KeyHash, KeyStore};
use crate::config::{
    Config, ConfigError, DeploymentConfig, Env, HttpConfig, ProviderKind, process_env,
};
use crate::simulate::{SimulateConfig, SimulatedProvider};
use crate::state::{AppState, DeploymentInfo, Limits, RouteEntry};

/// Why a state could not be built.
#[derive(Debug)]
pub enum BuildError {
    /// The config does not validate (every problem, located).
    Config(ConfigError),
    /// A provider client could not be created for a deployment.
    Client {
        /// The deployment.
        deployment: String,
        /// Why.
        error: tollgate_core::Error,
    },
    /// The catalog overrides could not be applied.
    Catalog(String),
    /// The router rejected the routes.
    Router(tollgate_router::ConfigError),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(e) => fmt::Display::fmt(e, f),
            Self::Client { deployment, error } => {
                write!(
                    f,
                    "deployment `{deployment}`: cannot create its client: {error}"
                )
            }
            Self::Catalog(message) => write!(f, "catalog: {message}"),
            Self::Router(e) => write!(f, "routes: {e}"),
        }
    }
}

impl std::error::Error for BuildError {}

impl From<ConfigError> for BuildError {
    fn from(e: ConfigError) -> Self {
        Self::Config(e)
    }
}

/// Builds the state for `config`, reading `${VAR}`s from the process environment.
///
/// Call `tollgate_telemetry::init` (with [`Config::telemetry_init`]) first when
/// `[telemetry]` is on, so the layers built here record to the exporting meter.
///
/// # Errors
///
/// A [`BuildError`]: the config does not validate, or a client cannot be created.
pub fn state(config: &Config) -> Result<AppState, BuildError> {
    state_with_env(config, &process_env)
}

/// [`state`] with variables looked up in `env`.
///
/// # Errors
///
/// As [`state`].
pub fn state_with_env(config: &Config, env: Env<'_>) -> Result<AppState, BuildError> {
    crate::config::validate(config, env)?;
    let base = base_catalog(config)?;
    let prices = Arc::new(reply_catalog(config, base.clone())?);
    let telemetry = config.telemetry.as_ref().filter(|t| t.enabled);
    let capture = match telemetry {
        Some(t) if t.capture_content => ContentCapture::On,
        _ => ContentCapture::Off,
    };
    let price_source: Arc<dyn PriceSource> = prices.clone();

    let mut deployments = Vec::with_capacity(config.deployments.len());
    let mut infos: BTreeMap<&str, DeploymentInfo> = BTreeMap::new();
    for (name, d) in &config.deployments {
        let kind = kind_of(name, d)?;
        let http = (config.http_of(d), config.base_dir.as_deref());
        let mut service = client(kind, name, d, http, env)?;
        if let Some(t) = telemetry
            && t.attempt_spans
        {
            let layer = TelemetryLayer::attempt(price_source.clone())
                .capture_content(capture)
                .provider(kind.provider_name());
            service = boxed(layer.layer(service));
        }
        let facts = facts(kind, d, &base);
        infos.insert(
            name,
            DeploymentInfo {
                name: name.clone(),
                provider: kind.provider_name().to_owned(),
                model: d.model.clone(),
                price: facts.price.clone(),
                context_window: facts.context_window,
                rpm: facts.rpm,
                tpm: facts.tpm,
            },
        );
        deployments.push(Deployment::new(name.clone(), d.model.clone(), service).with_facts(facts));
    }

    let router_config = config.router_config();
    let router = router_config
        .build(deployments)
        .map_err(BuildError::Router)?;
    let mut routes = BTreeMap::new();
    for (name, route_config) in &router_config.routes {
        let Some(route) = router.route(name) else {
            continue;
        };
        let mut service = boxed(route.clone());
        if telemetry.is_some() {
            let layer = TelemetryLayer::request(price_source.clone()).capture_content(capture);
            service = boxed(layer.layer(service));
        }
        let described = route_config
            .deployments
            .iter()
            .filter_map(|d| infos.get(d.as_str()).cloned())
            .collect();
        routes.insert(name.clone(), RouteEntry::new(service, described));
    }

    let simulated = !config.deployments.is_empty()
        && config
            .deployments
            .values()
            .all(|d| d.kind() == Some(ProviderKind::Simulated));
    if simulated {
        tracing::warn!(
            "SERVING SIMULATED PROVIDERS: no provider key was found, so every answer comes from \
             Tollgate's built-in simulator (routes: {}). Set OPENAI_API_KEY, ANTHROPIC_API_KEY \
             or GEMINI_API_KEY, or pass a config file, to reach real models.",
            routes.keys().cloned().collect::<Vec<_>>().join(", ")
        );
    }

    Ok(AppState {
        routes,
        keys: keys(config, env),
        limits: Limits {
            max_body_bytes: usize::try_from(config.server.body_limit).unwrap_or(usize::MAX),
        },
        prices: price_source,
        log_content: config.logging.log_content,
        simulated,
    })
}

/// Builds the routes exactly as [`state`] does, over stand-in services: what
/// [`validate`](crate::config::validate) uses to run the router's own checks.
pub(crate) fn dry_run(config: &Config, _env: Env<'_>) -> Result<(), tollgate_router::ConfigError> {
    let base = Catalog::bundled()
        .clone()
        .with_overrides(&config.catalog)
        .unwrap_or_else(|_| Catalog::bundled().clone());
    let deployments = config.deployments.iter().filter_map(|(name, d)| {
        let kind = d.kind()?;
        let stand_in = boxed(SimulatedProvider::new(
            name.clone(),
            SimulateConfig::default(),
        ));
        Some(
            Deployment::new(name.clone(), d.model.clone(), stand_in)
                .with_facts(facts(kind, d, &base)),
        )
    });
    config.router_config().build(deployments).map(|_| ())
}

fn kind_of(name: &str, d: &DeploymentConfig) -> Result<ProviderKind, BuildError> {
    d.kind().ok_or_else(|| BuildError::Client {
        deployment: name.to_owned(),
        error: tollgate_core::Error::new(
            tollgate_core::ErrorKind::InvalidRequest,
            format!("unknown provider `{}`", d.provider),
        ),
    })
}

/// The bundled catalog with `[[catalog.models]]` applied.
///
/// # Errors
///
/// [`BuildError::Catalog`] for overrides the catalog rejects.
pub fn base_catalog(config: &Config) -> Result<Catalog, BuildError> {
    Catalog::bundled()
        .clone()
        .with_overrides(&config.catalog)
        .map_err(|e| BuildError::Catalog(e.to_string()))
}

/// The catalog that prices replies: [`base_catalog`] plus each deployment's own facts.
fn reply_catalog(config: &Config, mut catalog: Catalog) -> Result<Catalog, BuildError> {
    for d in config.deployments.values() {
        let Some(kind) = d.kind() else { continue };
        if !has_fact_overrides(d) {
            continue;
        }
        let overrides = CatalogOverrides {
            models: vec![facts_override(kind, d)],
        };
        catalog = catalog
            .with_overrides(&overrides)
            .map_err(|e| BuildError::Catalog(e.to_string()))?;
    }
    Ok(catalog)
}

fn has_fact_overrides(d: &DeploymentConfig) -> bool {
    d.price.is_some()
        || d.context_window.is_some()
        || d.max_output_tokens.is_some()
        || d.capabilities.tools.is_some()
        || d.capabilities.vision.is_some()
        || d.capabilities.json_schema.is_some()
}

/// A deployment's own facts as a catalog override of its provider and model.
pub(crate) fn facts_override(kind: ProviderKind, d: &DeploymentConfig) -> ModelOverride {
    let mut change = ModelOverride::new(kind.provider_name(), d.model.clone());
    change.price = d.price.clone();
    change.context_window = d.context_window;
    change.max_output_tokens = d.max_output_tokens;
    change.capabilities = CapabilityOverrides {
        tools: d.capabilities.tools,
        vision: d.capabilities.vision,
        json_schema: d.capabilities.json_schema,
        reasoning: None,
    };
    change
}

/// The catalog's facts for a deployment's model with the deployment's settings applied.
/// An unknown model has no price and no context window; an unrecorded capability is
/// present.
pub fn facts(kind: ProviderKind, d: &DeploymentConfig, catalog: &Catalog) -> DeploymentFacts {
    let provider = kind.provider_name();
    let mut model = catalog
        .lookup(provider, &d.model)
        .cloned()
        .unwrap_or_else(|| ModelFacts::new(provider, d.model.clone()));
    if has_fact_overrides(d) {
        let mut one = Catalog::empty();
        model.provider = provider.to_owned();
        model.model.clone_from(&d.model);
        one.insert(model.clone());
        if let Ok(applied) = one.with_overrides(&CatalogOverrides {
            models: vec![facts_override(kind, d)],
        }) && let Some(found) = applied.lookup(provider, &d.model)
        {
            model = found.clone();
        }
    }
    DeploymentFacts {
        price: model.price,
        context_window: model.context_window,
        max_output_tokens: model.max_output_tokens,
        capabilities: Capabilities {
            tools: model.capabilities.tools.unwrap_or(true),
            vision: model.capabilities.vision.unwrap_or(true),
            json_schema: model.capabilities.json_schema.unwrap_or(true),
            streaming: d.capabilities.streaming.unwrap_or(true),
        },
        rpm: d.rpm,
        tpm: d.tpm,
        weight: d.weight.unwrap_or(1),
        tags: d.tags.clone(),
    }
}

/// An environment in which the provider's key variable holds the deployment's `api_key`
/// (when it sets one), so each provider crate's own `from_lookup` reads key, base URL and
/// extras exactly as it does from the process environment.
fn with_key<'a>(
    env: Env<'a>,
    key_var: &'a str,
    key: Option<String>,
) -> impl Fn(&str) -> Option<String> + 'a {
    move |name: &str| {
        if name == key_var
            && let Some(key) = &key
        {
            return Some(key.clone());
        }
        env(name)
    }
}

fn client(
    kind: ProviderKind,
    name: &str,
    d: &DeploymentConfig,
    (http, base_dir): (HttpConfig, Option<&Path>),
    env: Env<'_>,
) -> Result<BoxChatService, BuildError> {
    let fail = |error: tollgate_core::Error| BuildError::Client {
        deployment: name.to_owned(),
        error,
    };
    let invalid = |message: String| {
        fail(tollgate_core::Error::new(
            tollgate_core::ErrorKind::InvalidRequest,
            message,
        ))
    };
    let key = match &d.api_key {
        Some(key) => Some(
            key.resolve(env)
                .map_err(|e| invalid(format!("api_key: {e}")))?
                .expose()
                .to_owned(),
        ),
        None => None,
    };
    let base_url = match &d.base_url {
        Some(url) => Some(
            url.resolve(env)
                .map_err(|e| invalid(format!("base_url: {e}")))?,
        ),
        None => None,
    };
    // Real providers only: a simulated deployment makes no HTTP requests.
    let settings = || -> Result<ClientSettings, BuildError> {
        http.client_settings(env, base_dir)
            .map_err(|e| invalid(format!("http: {e}")))
    };
    Ok(match kind {
        ProviderKind::OpenAi(preset) => {
            let info = preset.info();
            let lookup = with_key(env, info.api_key_env, key);
            let mut config = OpenAiConfig::preset_from_vars(preset, lookup).map_err(fail)?;
            if let Some(url) = base_url {
                config = config.base_url(url);
            }
            if let Some(org) = &d.organization {
                config = config.organization(org.clone());
            }
            if let Some(project) = &d.project {
                config = config.project(project.clone());
            }
            for (header, value) in &d.headers {
                let value = value
                    .resolve(env)
                    .map_err(|e| invalid(format!("header `{header}`: {e}")))?;
                config = config.header(header.clone(), value.expose().to_owned());
            }
            config = config.http(settings()?);
            boxed(OpenAiClient::new(config).map_err(fail)?)
        }
        ProviderKind::Anthropic => {
            let lookup = with_key(env, tollgate_anthropic::config::API_KEY_VAR, key);
            let mut config = AnthropicConfig::from_lookup(lookup).map_err(fail)?;
            if let Some(url) = base_url {
                config = config.base_url(url.trim_end_matches('/').to_owned());
            }
            if let Some(version) = &d.anthropic_version {
                config = config.anthropic_version(version.clone());
            }
            for beta in &d.betas {
                config = config.beta(beta.clone());
            }
            config = config.http(settings()?);
            boxed(AnthropicClient::new(config).map_err(fail)?)
        }
        ProviderKind::Gemini => {
            let lookup = with_key(env, tollgate_gemini::config::KEY_VARIABLE, key);
            let mut config = GeminiConfig::from_lookup(lookup).map_err(fail)?;
            if let Some(url) = base_url {
                config = config.base_url(url);
            }
            if let Some(version) = &d.api_version {
                config = config.api_version(version.clone());
            }
            config = config.http(settings()?);
            boxed(GeminiClient::new(config).map_err(fail)?)
        }
        ProviderKind::Simulated => boxed(SimulatedProvider::new(
            name.to_owned(),
            d.simulate.clone().unwrap_or_default(),
        )),
    })
}

/// The gateway keys: `sha256` as given, `value` interpolated and hashed (the plain text
/// is dropped here). Invalid entries (which validation rejects) are skipped.
fn keys(config: &Config, env: Env<'_>) -> KeyStore {
    let mut out = Vec::with_capacity(config.keys.len());
    for key in &config.keys {
        let hash = match (&key.sha256, &key.value) {
            (Some(hex), None) => KeyHash::from_hex(hex.trim()),
            (None, Some(value)) => value
                .resolve(env)
                .ok()
                .filter(|s| !s.is_empty())
                .map(|s| KeyHash::of(s.expose())),
            _ => None,
        };
        let Some(hash) = hash else { continue };
        let mut gateway_key = GatewayKey::from_hash(key.name.clone(), hash);
        if let Some(routes) = &key.routes {
            gateway_key = gateway_key.routes(routes.iter().cloned());
        }
        if let Some(rpm) = key.rpm {
            gateway_key = gateway_key.rpm(rpm);
        }
        out.push(gateway_key);
    }
    KeyStore::new(out)
}
