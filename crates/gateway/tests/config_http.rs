//! `[http]` and `[deployments.NAME.http]`: parsing, the merge rule (a deployment's
//! setting, else `[http]`'s, else the built-in default), and validation errors that name
//! the line and the fix without ever quoting a proxy's credentials or a CA file's contents.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use tollgate_gateway::config::{self, Config, ConfigError};
use tollgate_http::{ClientSettings, Proxy};

use support::{at, env, only, reject_config};

/// In every config below that carries credentials; it must never be printed.
const PASSWORD: &str = "s3cret-PW";

fn keys() -> impl Fn(&str) -> Option<String> {
    env(&[
        ("OPENAI_API_KEY", "sk-openai"),
        ("ANTHROPIC_API_KEY", "sk-ant"),
        ("GEMINI_API_KEY", "gm-key"),
        ("PROXY_PASSWORD", PASSWORD),
    ])
}

fn data(file: &str) -> String {
    format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"))
}

fn accept(text: &str) -> Config {
    config::parse(text, "tollgate.toml", &keys()).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn reject(text: &str) -> ConfigError {
    reject_config(text, &keys())
}

/// The settings deployment `name`'s client is built with.
fn settings(config: &Config, name: &str) -> ClientSettings {
    config
        .http_of(&config.deployments[name])
        .client_settings(&keys(), config.base_dir.as_deref())
        .unwrap()
}

fn proxy_url(settings: &ClientSettings) -> String {
    match &settings.proxy {
        Proxy::Url(url) => url.expose().to_owned(),
        other => panic!("not a proxy URL: {other:?}"),
    }
}

/// Asserts that nothing shown of `error` carries the proxy password.
fn assert_no_password(error: &ConfigError) {
    for shown in [error.to_string(), format!("{error:?}")] {
        assert!(!shown.contains(PASSWORD), "the password leaked: {shown}");
    }
}

#[test]
fn a_deployment_setting_wins_over_http_which_wins_over_the_default() {
    let config = accept(&format!(
        r#"
        [http]
        proxy = "http://tollgate:${{PROXY_PASSWORD}}@proxy.corp.example:3128"
        ca_file = "{ca}"
        connect_timeout = "3s"
        pool_max_idle_per_host = 8

        [deployments.inherits]
        provider = "openai"
        model = "gpt-4o-mini"

        [deployments.overrides]
        provider = "anthropic"
        model = "claude-haiku-4-5"

        [deployments.overrides.http]
        proxy = "none"
        connect_timeout = "250ms"
        pool_idle_timeout = "5s"

        [deployments.back-to-env]
        provider = "gemini"
        model = "gemini-2.5-flash"
        http = {{ proxy = "env" }}
        "#,
        ca = data("ca.pem"),
    ));
    let default = ClientSettings::default();

    // Everything from [http]; what [http] leaves out, from the built-in default.
    let inherits = settings(&config, "inherits");
    assert_eq!(
        proxy_url(&inherits),
        format!("http://tollgate:{PASSWORD}@proxy.corp.example:3128")
    );
    assert_eq!(inherits.extra_root_certificates.len(), 1);
    assert_eq!(inherits.connect_timeout, Duration::from_secs(3));
    assert_eq!(inherits.pool_max_idle_per_host, 8);
    assert_eq!(inherits.pool_idle_timeout, default.pool_idle_timeout);

    // Its own settings win one by one; the others stay [http]'s.
    let overrides = settings(&config, "overrides");
    assert!(matches!(overrides.proxy, Proxy::Direct), "{overrides:?}");
    assert_eq!(overrides.connect_timeout, Duration::from_millis(250));
    assert_eq!(overrides.pool_idle_timeout, Duration::from_secs(5));
    assert_eq!(overrides.pool_max_idle_per_host, 8);
    assert_eq!(overrides.extra_root_certificates.len(), 1);

    // "env" gives a deployment the environment's proxy variables back.
    let back = settings(&config, "back-to-env");
    assert!(matches!(back.proxy, Proxy::FromEnv), "{back:?}");
}

#[test]
fn without_any_http_table_deployments_keep_the_built_in_defaults() {
    let config = accept("[deployments.a]\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\n");
    let a = settings(&config, "a");
    let default = ClientSettings::default();
    assert!(matches!(a.proxy, Proxy::FromEnv));
    assert!(a.extra_root_certificates.is_empty());
    assert_eq!(a.connect_timeout, default.connect_timeout);
    assert_eq!(a.pool_idle_timeout, default.pool_idle_timeout);
    assert_eq!(a.pool_max_idle_per_host, default.pool_max_idle_per_host);
    // Nothing is written back for what was not given.
    assert!(!config.to_toml().unwrap().contains("http"));
}

#[test]
fn http_tables_round_trip_and_never_print_the_proxy_password() {
    let text = format!(
        r#"
        [http]
        proxy = "http://tollgate:{PASSWORD}@proxy.corp.example:3128"
        ca_file = "${{CA_DIR:-/etc/ssl}}/company.pem"
        connect_timeout = "1m30s"
        pool_idle_timeout = "250ms"
        pool_max_idle_per_host = 0

        [deployments.a]
        provider = "openai"
        model = "gpt-4o-mini"

        [deployments.a.http]
        proxy = "http://a:{PASSWORD}@other.proxy:8080"
        "#
    );
    let config: Config = toml::from_str(&text).unwrap();
    assert_eq!(config.http.connect_timeout, Some(Duration::from_secs(90)));
    assert_eq!(config.http.pool_max_idle_per_host, Some(0));
    for shown in [
        format!("{config:?}"),
        format!("{:#?}", config.deployments["a"]),
        format!("{:?}", config.http_of(&config.deployments["a"])),
        config.to_toml().unwrap(),
        serde_json::to_string(&config).unwrap(),
    ] {
        assert!(!shown.contains(PASSWORD), "the password leaked: {shown}");
        assert!(
            !shown.contains("tollgate:"),
            "the user name leaked: {shown}"
        );
    }
    // A proxy read from a variable round-trips as the reference, and the words "none"
    // and "env" as themselves.
    let config: Config = toml::from_str(
        r#"
        [http]
        proxy = "${CORP_PROXY}"
        connect_timeout = "2s"

        [deployments.local]
        provider = "ollama"
        model = "llama3.2"
        http = { proxy = "none", pool_max_idle_per_host = 2 }

        [deployments.b]
        provider = "openai"
        model = "gpt-4o-mini"
        http = { proxy = "env" }
        "#,
    )
    .unwrap();
    let written = config.to_toml().unwrap();
    assert!(written.contains("proxy = \"${CORP_PROXY}\""), "{written}");
    assert!(written.contains("proxy = \"none\""), "{written}");
    assert!(written.contains("proxy = \"env\""), "{written}");
    assert_eq!(toml::from_str::<Config>(&written).unwrap(), config);
}

#[test]
fn an_https_proxy_is_refused_at_its_line_saying_why_and_without_its_password() {
    let error = reject(&format!(
        "[deployments.a]\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\n\n[deployments.a.http]\nproxy = \"https://tollgate:{PASSWORD}@proxy.corp.example:3128\"\n"
    ));
    let problem = only(&error);
    assert_eq!(problem.location, at(6, 9), "{error}");
    assert_eq!(problem.path, "deployments.a.http.proxy");
    assert!(
        problem
            .message
            .starts_with("[deployments.a.http] proxy is an https:// URL"),
        "{error}"
    );
    assert!(problem.message.contains("only http:// proxies"), "{error}");
    assert!(
        problem
            .fix
            .as_deref()
            .unwrap()
            .contains("http://[user:password@]host:port"),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .starts_with("tollgate.toml:6:9: [deployments.a.http] proxy is an https:// URL"),
        "{error}"
    );
    assert_no_password(&error);
    assert!(!error.to_string().contains("proxy.corp.example"), "{error}");
}

#[test]
fn proxies_that_are_not_http_urls_are_refused_without_being_quoted() {
    for (proxy, says) in [
        (
            format!("socks5://tollgate:{PASSWORD}@proxy.corp.example:1080"),
            "proxy is a `socks5` URL; only http:// proxies are supported",
        ),
        (
            format!("tollgate:{PASSWORD}@proxy.corp.example:3128"),
            "proxy is not a URL of the form http://[user:password@]host:port",
        ),
        (
            format!("http://tollgate:{PASSWORD}@proxy.corp.example:3128/squid"),
            "proxy has a path or query, which a proxy does not use",
        ),
        (
            "${UNSET_PROXY}".to_owned(),
            "proxy uses environment variable `UNSET_PROXY`, which is not set",
        ),
    ] {
        let error = reject(&format!("[http]\nproxy = \"{proxy}\"\n"));
        let problem = only(&error);
        assert_eq!(problem.location, at(2, 9), "{error}");
        assert_eq!(problem.path, "http.proxy");
        assert_eq!(problem.message, format!("[http] {says}"), "{error}");
        assert!(problem.fix.is_some(), "{error}");
        assert_no_password(&error);
    }
}

#[test]
fn a_ca_file_that_cannot_be_read_is_named_with_its_line_and_fix() {
    let error =
        reject("[http]\nconnect_timeout = \"5s\"\nca_file = \"/nonexistent/company-ca.pem\"\n");
    let problem = only(&error);
    assert_eq!(problem.location, at(3, 11), "{error}");
    assert_eq!(problem.path, "http.ca_file");
    assert!(
        problem
            .message
            .starts_with("[http] ca_file `/nonexistent/company-ca.pem` cannot be read: "),
        "{error}"
    );
    assert!(
        problem
            .fix
            .as_deref()
            .unwrap()
            .contains("relative path is read from the config file's directory"),
        "{error}"
    );
}

#[test]
fn a_ca_file_without_a_certificate_is_named_but_its_contents_never_shown() {
    // A private key and a text file: PEM without a certificate, and not PEM at all.
    for file in ["server.key", "README.md"] {
        let path = data(file);
        let error = reject(&format!(
            "[deployments.a]\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\nhttp = {{ ca_file = \"{path}\" }}\n"
        ));
        let problem = only(&error);
        assert_eq!(problem.location, at(4, 20), "{error}");
        assert_eq!(problem.path, "deployments.a.http.ca_file");
        assert_eq!(
            problem.message,
            format!("[deployments.a.http] ca_file `{path}` holds no readable PEM certificate")
        );
        assert!(
            problem
                .fix
                .as_deref()
                .unwrap()
                .contains("-----BEGIN CERTIFICATE-----"),
            "{error}"
        );
        let contents = std::fs::read_to_string(&path).unwrap();
        let shown = error.to_string();
        for line in contents.lines().filter(|l| l.trim().len() > 8) {
            assert!(
                !shown.contains(line.trim()),
                "{file}'s contents shown: {shown}"
            );
        }
    }
}

#[test]
fn an_http_table_on_a_simulated_deployment_is_refused() {
    let error = reject(
        "[deployments.sim]\nprovider = \"simulated\"\nmodel = \"sim\"\n\n[deployments.sim.http]\nproxy = \"none\"\n",
    );
    let problem = only(&error);
    assert_eq!(problem.location, at(5, 18), "{error}");
    assert_eq!(problem.path, "deployments.sim.http");
    assert!(
        problem
            .message
            .contains("a `simulated` deployment makes none"),
        "{error}"
    );
    assert_eq!(
        problem.fix.as_deref(),
        Some("remove [deployments.sim.http]")
    );
    // [http] itself does not concern simulated deployments: no error.
    accept(
        "[http]\nproxy = \"none\"\n\n[deployments.sim]\nprovider = \"simulated\"\nmodel = \"sim\"\n",
    );
}

#[test]
fn a_zero_connect_timeout_and_unknown_settings_are_refused() {
    let error = reject("[http]\nconnect_timeout = \"0s\"\n");
    let problem = only(&error);
    assert_eq!(problem.location, at(2, 19), "{error}");
    assert!(problem.message.contains("connect_timeout is 0"), "{error}");

    let error = reject("[http]\nproxy_url = \"http://p:3128\"\n");
    let problem = only(&error);
    assert_eq!(problem.location.map(|l| l.line), Some(2), "{error}");
    assert!(
        problem.message.contains("unknown field `proxy_url`"),
        "{error}"
    );

    let error = reject("[http]\npool_idle_timeout = \"soon\"\n");
    assert!(
        only(&error).message.contains("invalid duration `soon`"),
        "{error}"
    );
}

#[test]
fn every_problem_of_an_http_table_is_reported_at_once() {
    let error = reject(&format!(
        "[http]\nproxy = \"https://u:{PASSWORD}@p:3128\"\nca_file = \"/nonexistent.pem\"\nconnect_timeout = \"0s\"\n"
    ));
    let lines: Vec<usize> = error
        .problems()
        .iter()
        .map(|p| p.location.unwrap().line)
        .collect();
    assert_eq!(lines, [2, 3, 4], "{error}");
    assert_no_password(&error);
}

#[test]
fn a_relative_ca_file_is_read_from_the_config_files_directory() {
    let path = data("relative-ca.toml");
    let config = config::load_with_env(&path, &keys()).unwrap_or_else(|e| panic!("{e}"));
    let base = config.base_dir.clone().unwrap();
    assert!(
        base.is_absolute() && base.ends_with("tests/data"),
        "{base:?}"
    );
    assert_eq!(
        settings(&config, "self-hosted")
            .extra_root_certificates
            .len(),
        1
    );
    // The same text without a file is read from the current directory (the crate's
    // root under `cargo test`), where there is no `ca.pem`.
    let text = std::fs::read_to_string(&path).unwrap();
    let error = config::parse(&text, "relative-ca.toml", &keys()).unwrap_err();
    assert!(
        only(&error)
            .message
            .contains("ca_file `ca.pem` cannot be read"),
        "{error}"
    );
}

#[test]
fn a_state_builds_with_http_settings_and_hides_the_password() {
    let config = accept(&format!(
        r#"
        [http]
        proxy = "http://tollgate:${{PROXY_PASSWORD}}@127.0.0.1:9"
        ca_file = "{ca}"
        connect_timeout = "2s"

        [deployments.a]
        provider = "openai"
        model = "gpt-4o-mini"

        [deployments.b]
        provider = "anthropic"
        model = "claude-haiku-4-5"
        http = {{ proxy = "none" }}

        [deployments.c]
        provider = "gemini"
        model = "gemini-2.5-flash"
        "#,
        ca = data("ca.pem"),
    ));
    let state = tollgate_gateway::build::state_with_env(&config, &keys()).unwrap();
    assert!(state.routes.contains_key("a") && state.routes.contains_key("c"));
    let shown = format!("{state:?} {:?}", state.routes);
    assert!(!shown.contains(PASSWORD), "the password leaked: {shown}");
}

#[test]
fn a_literal_proxy_password_is_warned_about_without_being_shown() {
    let config = accept(&format!(
        r#"
[http]
proxy = "http://bob:{PASSWORD}@proxy.corp.example:3128"

[deployments.a]
provider = "openai"
model = "gpt-4o-mini"

[deployments.b]
provider = "openai"
model = "gpt-4o-mini"
http = {{ proxy = "http://bob:${{PROXY_PASSWORD}}@proxy.corp.example:3128" }}
"#
    ));
    let warnings = config.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let warning = &warnings[0];
    assert_eq!(warning.path, "http.proxy");
    let text = format!("{warning:?}");
    assert!(text.contains("literal password"), "{text}");
    assert!(text.contains("${PROXY_PASSWORD}"), "the fix: {text}");
    assert!(!text.contains(PASSWORD), "{text}");
}
