//! The semantic checks every config goes through, after it parsed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::path::Path as FsPath;

use tollgate_catalog::{Catalog, CatalogOverrides};
use tollgate_router::config::{ContextLengthConfig, FallbackConfig};

use super::Config;
use super::deployment::{DeploymentConfig, ProviderKind};
use super::error::Problem;
use super::http::HttpConfig;
use super::interpolate::{Env, InterpolationError};
use super::locate::{Locator, Path, Step, at, dotted};
use crate::auth::keys::KeyHash;

/// Collects problems, each located through the document when there is one.
struct Report<'a> {
    locator: Option<&'a Locator<'a>>,
    problems: Vec<Problem>,
}

impl Report<'_> {
    fn push(&mut self, at: Path, message: impl Into<String>, fix: Option<String>) {
        let mut problem = Problem::new(dotted(&at), message);
        problem.fix = fix;
        problem.location = self.locator.and_then(|l| l.locate(&at));
        self.problems.push(problem);
    }
}

pub(crate) fn check(config: &Config, env: Env<'_>, locator: Option<&Locator<'_>>) -> Vec<Problem> {
    let mut report = Report {
        locator,
        problems: Vec::new(),
    };
    check_server(config, env, &mut report);
    check_logging(config, &mut report);
    check_telemetry(config, env, &mut report);
    let catalog = check_catalog(&config.catalog, &mut report);
    let base_dir = config.base_dir.as_deref();
    check_http(&config.http, at!["http"], env, base_dir, &mut report);
    for (name, deployment) in &config.deployments {
        check_deployment(
            name,
            deployment,
            env,
            base_dir,
            catalog.as_ref(),
            &mut report,
        );
    }
    check_routes(config, &mut report);
    check_keys(config, env, &mut report);
    if report.problems.is_empty() {
        // Everything the router itself checks (balancer and hedge settings, tiers),
        // built exactly as `serve` builds it, with stand-in services.
        if let Err(error) = crate::build::dry_run(config, env) {
            let at = route_named_in(error.message())
                .filter(|r| config.routes.contains_key(r))
                .map_or_else(|| at!["routes"], |route| at!["routes", &route]);
            report.push(at, error.message().to_owned(), None);
        }
    }
    report.problems.sort_by_key(|p| p.location);
    report.problems
}

fn route_named_in(message: &str) -> Option<String> {
    let rest = message.split_once("route `")?.1;
    Some(rest.split_once('`')?.0.to_owned())
}

pub(crate) fn fix_for_parse_error(message: &str) -> Option<String> {
    let first_quoted = || {
        message
            .split_once('`')
            .and_then(|(_, rest)| rest.split_once('`'))
            .map(|(name, _)| name.to_owned())
    };
    if message.starts_with("unknown field") {
        let field = first_quoted().unwrap_or_default();
        return Some(format!(
            "remove `{field}` or correct its spelling (the accepted fields are listed above; every setting is annotated in tollgate.example.toml)"
        ));
    }
    if message.starts_with("unknown variant") {
        return Some("use one of the accepted values listed above".to_owned());
    }
    if message.contains("invalid duration") {
        return Some(
            "write a duration as text with a unit, e.g. \"250ms\", \"30s\", \"5m\" or \"1m30s\""
                .to_owned(),
        );
    }
    if message.contains("invalid size") {
        return Some("write a size such as \"16MiB\", \"512KiB\" or a number of bytes".to_owned());
    }
    if message.starts_with("missing field") {
        let field = first_quoted().unwrap_or_default();
        return Some(format!("add `{field} = …` to this table"));
    }
    if message.contains("duplicate key") {
        return Some(
            "each name may be defined once: merge the two tables or rename one".to_owned(),
        );
    }
    if message.starts_with("invalid type") {
        return Some(
            "give the setting the type named above (text needs quotes, numbers do not)".to_owned(),
        );
    }
    None
}

/// The nearest known name to `name`, when it is close enough to be a typo.
pub(crate) fn did_you_mean<'a>(
    name: &str,
    known: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    known
        .into_iter()
        .map(|candidate| (edit_distance(name, candidate), candidate))
        .filter(|(d, candidate)| *d <= 2.max(candidate.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, candidate)| candidate)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            current.push(
                (previous[j] + cost)
                    .min(previous[j + 1] + 1)
                    .min(current[j] + 1),
            );
        }
        previous = current;
    }
    previous[b.len()]
}

fn name_problem(kind: &str, name: &str) -> Option<String> {
    if name.is_empty() {
        return Some(format!("a {kind} name is empty"));
    }
    if name
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || !c.is_ascii())
    {
        return Some(format!(
            "{kind} name `{name}` contains spaces or non-ASCII characters; names travel in HTTP headers"
        ));
    }
    None
}

fn missing_var_fix(name: &str) -> String {
    format!(
        "export {name}=… before starting the gateway, or write `${{{name}:-default}}` to give a default"
    )
}

fn interpolation_problem(
    report: &mut Report<'_>,
    at: Path,
    owner: &str,
    setting: &str,
    error: &InterpolationError,
) {
    match error {
        InterpolationError::Missing { name } => report.push(
            at,
            format!("{owner}: {setting} uses environment variable `{name}`, which is not set"),
            Some(missing_var_fix(name)),
        ),
        InterpolationError::Malformed { reason } => report.push(
            at,
            format!("{owner}: {setting}: {reason}"),
            Some("write `${NAME}` or `${NAME:-default}`; `$$` is a literal `$`".to_owned()),
        ),
    }
}

fn check_server(config: &Config, env: Env<'_>, report: &mut Report<'_>) {
    if let Some(listen) = &config.server.listen {
        match listen.resolve(env) {
            Err(e) => {
                interpolation_problem(report, at!["server", "listen"], "[server]", "listen", &e)
            }
            Ok(value) => {
                if value.trim().parse::<SocketAddr>().is_err() {
                    report.push(
                        at!["server", "listen"],
                        format!("[server] listen `{value}` is not a socket address"),
                        Some(
                            "write an IP and a port, e.g. \"0.0.0.0:8080\" or \"127.0.0.1:8080\""
                                .to_owned(),
                        ),
                    );
                }
            }
        }
    }
    if config.server.body_limit == 0 {
        report.push(
            at!["server", "body_limit"],
            "[server] body_limit is 0, which rejects every request",
            Some("give a size such as \"16MiB\"".to_owned()),
        );
    }
}

fn check_logging(config: &Config, report: &mut Report<'_>) {
    if let Err(e) = tracing_subscriber::EnvFilter::try_new(&config.logging.level) {
        report.push(
            at!["logging", "level"],
            format!("[logging] level `{}` is not a log filter: {e}", config.logging.level),
            Some("write a level (`error`, `warn`, `info`, `debug`, `trace`) or directives such as \"tollgate=debug,info\"".to_owned()),
        );
    }
}

fn check_telemetry(config: &Config, env: Env<'_>, report: &mut Report<'_>) {
    let Some(telemetry) = &config.telemetry else {
        return;
    };
    if let Some(endpoint) = &telemetry.endpoint {
        match endpoint.resolve(env) {
            Err(e) => interpolation_problem(report, at!["telemetry", "endpoint"], "[telemetry]", "endpoint", &e),
            Ok(url) if !is_http_url(&url) => report.push(
                at!["telemetry", "endpoint"],
                format!("[telemetry] endpoint `{url}` is not an http(s) URL"),
                Some("write the collector's base URL, e.g. \"http://127.0.0.1:4318\" (HTTP) or \"http://127.0.0.1:4317\" (gRPC)".to_owned()),
            ),
            Ok(_) => {}
        }
    }
}

fn is_http_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|r| {
        !r.is_empty() && !r.starts_with('/') && !url.chars().any(char::is_whitespace)
    })
}

/// Checks `[catalog]`; returns the catalog with its overrides when they are valid.
fn check_catalog(overrides: &CatalogOverrides, report: &mut Report<'_>) -> Option<Catalog> {
    match Catalog::bundled().clone().with_overrides(overrides) {
        Ok(catalog) => Some(catalog),
        Err(error) => {
            // Find the entry at fault to point at it.
            let message = error.to_string();
            let index = overrides.models.iter().position(|m| {
                message.contains(&format!("`{}`", m.model)) || message.contains(&m.model)
            });
            let at = index.map_or_else(|| at!["catalog"], |i| at!["catalog", "models", i]);
            report.push(at, format!("[catalog]: {message}"), None);
            None
        }
    }
}

/// Checks an `http` table (`[http]` or `[deployments.NAME.http]`, at `table`): every
/// problem at the setting it concerns, named with its table. Never quotes the proxy.
fn check_http(
    http: &HttpConfig,
    table: Path,
    env: Env<'_>,
    base_dir: Option<&FsPath>,
    report: &mut Report<'_>,
) {
    let shown = format!("[{}]", dotted(&table));
    for problem in http.problems(env, base_dir) {
        let mut at = table.clone();
        at.push(Step::from(problem.setting()));
        report.push(at, format!("{shown} {problem}"), Some(problem.fix()));
    }
}

fn check_deployment(
    name: &str,
    d: &DeploymentConfig,
    env: Env<'_>,
    base_dir: Option<&FsPath>,
    catalog: Option<&Catalog>,
    report: &mut Report<'_>,
) {
    let at = |field: &str| at!["deployments", name, field];
    let owner = format!("deployment `{name}`");
    if let Some(problem) = name_problem("deployment", name) {
        report.push(
            at!["deployments", name],
            problem,
            Some("use letters, digits, `-`, `_`, `.` or `/`".to_owned()),
        );
    }
    let Some(kind) = d.kind() else {
        let names = ProviderKind::names();
        let fix = match did_you_mean(&d.provider.to_ascii_lowercase(), names.iter().copied()) {
            Some(guess) => format!("did you mean `{guess}`? For any other OpenAI-compatible server use provider = \"openai\" with its base_url"),
            None => "use one of the known providers; for any other OpenAI-compatible server use provider = \"openai\" with its base_url".to_owned(),
        };
        report.push(
            at("provider"),
            format!(
                "{owner} has unknown provider `{}`; known providers: {}",
                d.provider,
                names.join(", ")
            ),
            Some(fix),
        );
        return;
    };
    if d.model.trim().is_empty() {
        report.push(
            at("model"),
            format!("{owner} has an empty model"),
            Some("give the provider's model id, e.g. model = \"gpt-4o-mini\"".to_owned()),
        );
    }
    // Settings that belong to another provider.
    let misplaced: [(&str, bool, &str); 9] = [
        ("headers", !d.headers.is_empty(), "openai"),
        ("organization", d.organization.is_some(), "openai"),
        ("project", d.project.is_some(), "openai"),
        (
            "anthropic_version",
            d.anthropic_version.is_some(),
            "anthropic",
        ),
        ("betas", !d.betas.is_empty(), "anthropic"),
        ("api_version", d.api_version.is_some(), "gemini"),
        ("simulate", d.simulate.is_some(), "simulated"),
        ("api_key", d.api_key.is_some(), "network"),
        ("base_url", d.base_url.is_some(), "network"),
    ];
    for (field, present, belongs) in misplaced {
        let fits = match belongs {
            "openai" => matches!(kind, ProviderKind::OpenAi(_)),
            "anthropic" => kind == ProviderKind::Anthropic,
            "gemini" => kind == ProviderKind::Gemini,
            "simulated" => kind == ProviderKind::Simulated,
            _ => kind != ProviderKind::Simulated,
        };
        if present && !fits {
            let which = if belongs == "network" {
                "real providers (not `simulated`)"
            } else {
                belongs
            };
            report.push(
                at(field),
                format!("{owner}: `{field}` applies only to {which} deployments, and this one is `{kind}`"),
                Some(format!("remove `{field}` from [deployments.{name}]")),
            );
        }
    }
    if let Some(http) = &d.http {
        if kind == ProviderKind::Simulated {
            report.push(
                at("http"),
                format!("{owner}: an `http` table applies only to deployments that make HTTP requests, and a `simulated` deployment makes none"),
                Some(format!("remove [deployments.{name}.http]")),
            );
        } else {
            check_http(
                http,
                at!["deployments", name, "http"],
                env,
                base_dir,
                report,
            );
        }
    }
    // Credentials.
    match &d.api_key {
        Some(key) => match key.resolve(env) {
            Err(e) => interpolation_problem(report, at("api_key"), &owner, "api_key", &e),
            Ok(secret) if secret.is_empty() => report.push(
                at("api_key"),
                format!("{owner}: api_key is empty"),
                Some("set it to `${VARIABLE}` holding the key, or leave it out to use the provider's standard variable".to_owned()),
            ),
            Ok(_) => {}
        },
        None => {
            let (vars, optional) = kind.default_key_vars();
            let present = vars.iter().any(|v| env(v).is_some_and(|value| !value.trim().is_empty()));
            if !optional && !present {
                let shown = vars.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(" or ");
                let first = vars.first().copied().unwrap_or("API_KEY");
                report.push(
                    at!["deployments", name],
                    format!("{owner} ({kind}) has no api_key and the environment variable {shown} is not set"),
                    Some(format!("export {first}=…, or set api_key = \"${{MY_VARIABLE}}\" in [deployments.{name}]")),
                );
            }
        }
    }
    if let Some(base_url) = &d.base_url {
        match base_url.resolve(env) {
            Err(e) => interpolation_problem(report, at("base_url"), &owner, "base_url", &e),
            Ok(url) if !is_http_url(&url) => report.push(
                at("base_url"),
                format!("{owner}: base_url `{url}` is not an http(s) URL"),
                Some(
                    "write the API's base URL with its scheme, e.g. \"https://api.example.com/v1\""
                        .to_owned(),
                ),
            ),
            Ok(_) => {}
        }
    }
    for (header, value) in &d.headers {
        if let Err(e) = value.resolve(env) {
            interpolation_problem(
                report,
                at!["deployments", name, "headers", header],
                &owner,
                &format!("header `{header}`"),
                &e,
            );
        }
    }
    if let Some(sim) = &d.simulate
        && let Some((field, problem)) = sim.problem()
    {
        report.push(
            at!["deployments", name, "simulate", field],
            format!("{owner}: {problem}"),
            None,
        );
    }
    if d.weight == Some(0) {
        report.push(
            at("weight"),
            format!("{owner}: weight 0 means the weighted balancer never picks it"),
            Some("give a weight of 1 or more, or remove the deployment from the route".to_owned()),
        );
    }
    // Facts: a price override must make sense against the catalog.
    if let (Some(catalog), Some(_)) = (catalog, &d.price) {
        let override_ = crate::build::facts_override(kind, d);
        if let Err(e) = catalog.clone().with_overrides(&CatalogOverrides {
            models: vec![override_],
        }) {
            report.push(at("price"), format!("{owner}: {e}"), None);
        }
    }
}

fn fallback_names(fallbacks: &FallbackConfig) -> Vec<(Vec<Step>, &str)> {
    let mut out = Vec::new();
    if let ContextLengthConfig::Deployments(names) = &fallbacks.context_length {
        for (i, name) in names.iter().enumerate() {
            out.push((at!["context_length", i], name.as_str()));
        }
    }
    for (i, name) in fallbacks.content_filter.iter().enumerate() {
        out.push((at!["content_filter", i], name.as_str()));
    }
    out
}

fn unknown_deployment(
    report: &mut Report<'_>,
    at: Path,
    used_by: &str,
    name: &str,
    known: &BTreeMap<String, DeploymentConfig>,
) {
    let names: Vec<&str> = known.keys().map(String::as_str).collect();
    let listed = if names.is_empty() {
        "none are defined".to_owned()
    } else {
        format!("known deployments: {}", names.join(", "))
    };
    let fix = match did_you_mean(name, names.iter().copied()) {
        Some(guess) => {
            format!("did you mean `{guess}`? Use a known name or define [deployments.{name}]")
        }
        None => format!("use a known name or define [deployments.{name}]"),
    };
    report.push(
        at,
        format!("{used_by} uses unknown deployment `{name}`; {listed}"),
        Some(fix),
    );
}

fn check_routes(config: &Config, report: &mut Report<'_>) {
    let known = &config.deployments;
    if let Some(fallbacks) = &config.defaults.fallbacks {
        for (sub, name) in fallback_names(fallbacks) {
            if !known.contains_key(name) {
                let mut at = at!["defaults", "fallbacks"];
                at.extend(sub);
                unknown_deployment(report, at, "[defaults] fallbacks", name, known);
            }
        }
    }
    for (route_name, route) in &config.routes {
        let owner = format!("route `{route_name}`");
        if let Some(problem) = name_problem("route", route_name) {
            report.push(
                at!["routes", route_name],
                problem,
                Some("use letters, digits, `-`, `_`, `.` or `/`".to_owned()),
            );
        }
        if route.deployments.is_empty() {
            let defined: Vec<&str> = known.keys().map(String::as_str).collect();
            let example = defined.first().copied().unwrap_or("my-deployment");
            report.push(
                at!["routes", route_name, "deployments"],
                format!("{owner} has no deployments"),
                Some(format!(
                    "list at least one, e.g. deployments = [\"{example}\"] (defined: {})",
                    if defined.is_empty() {
                        "none".to_owned()
                    } else {
                        defined.join(", ")
                    }
                )),
            );
        }
        let mut seen = HashSet::new();
        for (i, name) in route.deployments.iter().enumerate() {
            if !known.contains_key(name) {
                unknown_deployment(
                    report,
                    at!["routes", route_name, "deployments", i],
                    &owner,
                    name,
                    known,
                );
            } else if !seen.insert(name.as_str()) {
                report.push(
                    at!["routes", route_name, "deployments", i],
                    format!("{owner} lists deployment `{name}` twice"),
                    Some(
                        "list each deployment once (use `weight` on the deployment to favour it)"
                            .to_owned(),
                    ),
                );
            }
        }
        if let Some(fallbacks) = &route.fallbacks {
            for (sub, name) in fallback_names(fallbacks) {
                if !known.contains_key(name) {
                    let mut at = at!["routes", route_name, "fallbacks"];
                    at.extend(sub);
                    unknown_deployment(report, at, &format!("{owner} fallbacks"), name, known);
                }
            }
        }
    }
}

fn check_keys(config: &Config, env: Env<'_>, report: &mut Report<'_>) {
    let routes = config.router_config().routes;
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut hashes: HashMap<KeyHash, &str> = HashMap::new();
    for (i, key) in config.keys.iter().enumerate() {
        let owner = format!("key `{}`", key.name);
        if key.name.trim().is_empty() {
            report.push(
                at!["keys", i, "name"],
                "a gateway key has an empty name",
                Some("name it after its owner, e.g. name = \"team-a\"".to_owned()),
            );
        } else if names.insert(key.name.as_str(), i).is_some() {
            report.push(
                at!["keys", i, "name"],
                format!("two gateway keys are named `{}`", key.name),
                Some("give each key its own name".to_owned()),
            );
        }
        let hash = match (&key.sha256, &key.value) {
            (Some(_), Some(_)) | (None, None) => {
                report.push(
                    at!["keys", i],
                    format!("{owner}: give exactly one of `sha256` and `value`"),
                    Some("write sha256 = \"<64 hex digits>\" (printf %s \"$KEY\" | sha256sum) or value = \"${MY_KEY_VARIABLE}\"".to_owned()),
                );
                None
            }
            (Some(hex), None) => {
                let hash = KeyHash::from_hex(hex.trim());
                if hash.is_none() {
                    report.push(
                        at!["keys", i, "sha256"],
                        format!("{owner}: sha256 is not 64 hex digits"),
                        Some("compute it with: printf %s \"$KEY\" | sha256sum".to_owned()),
                    );
                }
                hash
            }
            (None, Some(value)) => match value.resolve(env) {
                Err(e) => {
                    interpolation_problem(report, at!["keys", i, "value"], &owner, "value", &e);
                    None
                }
                Ok(secret) if secret.is_empty() => {
                    report.push(
                        at!["keys", i, "value"],
                        format!("{owner}: value is empty"),
                        Some("set it to a variable holding the key".to_owned()),
                    );
                    None
                }
                Ok(secret) => Some(KeyHash::of(secret.expose())),
            },
        };
        if let Some(hash) = hash
            && let Some(other) = hashes.insert(hash, key.name.as_str())
        {
            report.push(
                at!["keys", i],
                format!("keys `{other}` and `{}` are the same key", key.name),
                Some("give every client its own key".to_owned()),
            );
        }
        for (j, route) in key.routes.iter().flatten().enumerate() {
            if !routes.contains_key(route) {
                let known: Vec<&str> = routes.keys().map(String::as_str).collect();
                let fix = match did_you_mean(route, known.iter().copied()) {
                    Some(guess) => format!("did you mean `{guess}`?"),
                    None => "use the name of a route the gateway serves".to_owned(),
                };
                report.push(
                    at!["keys", i, "routes", j],
                    format!(
                        "{owner} allows unknown route `{route}`; routes: {}",
                        known.join(", ")
                    ),
                    Some(fix),
                );
            }
        }
    }
}

pub(crate) fn warnings(config: &Config) -> Vec<Problem> {
    let mut out = Vec::new();
    for (name, d) in &config.deployments {
        if d.api_key.as_ref().is_some_and(|k| k.has_literal()) {
            out.push(
                Problem::new(
                    dotted(&at!["deployments", name, "api_key"]),
                    format!("deployment `{name}` has a literal API key in the config file"),
                )
                .fix("move it to an environment variable and write api_key = \"${VARIABLE}\""),
            );
        }
    }
    let proxies = std::iter::once((at!["http", "proxy"], &config.http)).chain(
        config.deployments.iter().filter_map(|(name, d)| {
            Some((at!["deployments", name, "http", "proxy"], d.http.as_ref()?))
        }),
    );
    for (path, http) in proxies {
        if http
            .proxy
            .as_ref()
            .is_some_and(|p| p.has_literal_password())
        {
            let path = dotted(&path);
            out.push(
                Problem::new(
                    path.clone(),
                    format!("`{path}` has a literal password in the config file"),
                )
                .fix(
                    "move it to an environment variable: proxy = \"http://user:${PROXY_PASSWORD}@host:port\"",
                ),
            );
        }
    }
    for (i, key) in config.keys.iter().enumerate() {
        if key.value.as_ref().is_some_and(|k| k.has_literal()) {
            out.push(
                Problem::new(
                    dotted(&at!["keys", i, "value"]),
                    format!(
                        "gateway key `{}` is written in plain text in the config file",
                        key.name
                    ),
                )
                .fix(
                    "store its sha256 instead, or read it from a variable: value = \"${VARIABLE}\"",
                ),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_find_close_names_only() {
        assert_eq!(
            did_you_mean("gpt4o-mini", ["gpt-4o-mini", "claude"]),
            Some("gpt-4o-mini")
        );
        assert_eq!(
            did_you_mean("anthropc", ["openai", "anthropic"]),
            Some("anthropic")
        );
        assert_eq!(did_you_mean("zzz", ["openai", "anthropic"]), None);
    }
}
