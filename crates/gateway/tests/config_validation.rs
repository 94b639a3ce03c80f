//! Validation: every problem names its line and column and says how to fix it; the
//! annotated example passes `check-config`; interpolation resolves or names the variable.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use tollgate_gateway::config::{self, ConfigError};

use support::{at, env, only, reject_config};

fn keys() -> impl Fn(&str) -> Option<String> {
    env(&[
        ("OPENAI_API_KEY", "sk-openai"),
        ("ANTHROPIC_API_KEY", "sk-ant"),
        ("GEMINI_API_KEY", "gm-key"),
        ("GROQ_API_KEY", "gsk"),
    ])
}

fn reject(text: &str) -> ConfigError {
    reject_config(text, &keys())
}

const BASE: &str = r#"
[deployments.gpt-4o-mini]
provider = "openai"
model = "gpt-4o-mini"

[deployments.claude-haiku]
provider = "anthropic"
model = "claude-haiku-4-5"
"#;

#[test]
fn an_unknown_field_names_its_line_and_how_to_fix_it() {
    let error = reject(&format!(
        "{BASE}\n[routes.chat]\ndeployments = [\"gpt-4o-mini\"]\nretries = 3\n"
    ));
    let problem = only(&error);
    assert_eq!(problem.location, at(12, 1), "{error}");
    assert!(
        problem.message.contains("unknown field `retries`"),
        "{error}"
    );
    assert!(
        problem.fix.as_deref().unwrap().contains("remove `retries`"),
        "{error}"
    );
    let shown = error.to_string();
    assert!(
        shown.starts_with("tollgate.toml:12:1: unknown field `retries`"),
        "{shown}"
    );
    assert!(shown.contains("Fix: "), "{shown}");
}

#[test]
fn an_unknown_deployment_in_a_route_lists_the_known_ones_and_suggests_the_closest() {
    let error = reject(&format!(
        "{BASE}\n[routes.chat]\ndeployments = [\"claude-haiku\", \"gpt4o-mini\"]\n"
    ));
    let problem = only(&error);
    assert_eq!(problem.location, at(11, 32), "{error}");
    assert_eq!(
        problem.message,
        "route `chat` uses unknown deployment `gpt4o-mini`; known deployments: claude-haiku, gpt-4o-mini"
    );
    assert!(
        problem
            .fix
            .as_deref()
            .unwrap()
            .contains("did you mean `gpt-4o-mini`?"),
        "{error}"
    );
    assert_eq!(problem.path, "routes.chat.deployments[1]");
}

#[test]
fn an_unknown_provider_kind_lists_the_known_providers() {
    let error = reject("[deployments.x]\nprovider = \"anthropc\"\nmodel = \"m\"\n");
    let problem = only(&error);
    assert_eq!(problem.location, at(2, 12), "{error}");
    assert!(
        problem.message.contains("unknown provider `anthropc`"),
        "{error}"
    );
    assert!(
        problem
            .message
            .contains("openai, anthropic, gemini, simulated, groq"),
        "{error}"
    );
    assert!(
        problem
            .fix
            .as_deref()
            .unwrap()
            .contains("did you mean `anthropic`?"),
        "{error}"
    );
}

#[test]
fn a_bad_duration_names_its_line_and_the_accepted_forms() {
    let error = reject(&format!(
        "{BASE}\n[routes.chat]\ndeployments = [\"gpt-4o-mini\"]\nretry = {{ max_wait = \"5 parsecs\" }}\n"
    ));
    let problem = only(&error);
    assert_eq!(problem.location, at(12, 22), "{error}");
    assert!(
        problem.message.contains("invalid duration `5 parsecs`"),
        "{error}"
    );
    assert!(
        problem.fix.as_deref().unwrap().contains("\"30s\""),
        "{error}"
    );
}

#[test]
fn duplicate_names_are_rejected_where_they_repeat() {
    let error = reject(&format!(
        "{BASE}\n[deployments.gpt-4o-mini]\nprovider = \"openai\"\nmodel = \"x\"\n"
    ));
    let problem = only(&error);
    assert_eq!(problem.location.map(|l| l.line), Some(10), "{error}");
    assert!(
        problem.fix.as_deref().unwrap().contains("defined once"),
        "{error}"
    );

    let error = reject(&format!(
        "{BASE}\n[routes.chat]\ndeployments = [\"gpt-4o-mini\", \"gpt-4o-mini\"]\n"
    ));
    let problem = only(&error);
    assert_eq!(problem.location, at(11, 31), "{error}");
    assert!(
        problem
            .message
            .contains("lists deployment `gpt-4o-mini` twice"),
        "{error}"
    );

    let error = reject(&format!(
        "{BASE}\n[[keys]]\nname = \"a\"\nvalue = \"k1\"\n\n[[keys]]\nname = \"a\"\nvalue = \"k2\"\n"
    ));
    let problem = only(&error);
    assert_eq!(problem.location, at(15, 8), "{error}");
    assert!(
        problem.message.contains("two gateway keys are named `a`"),
        "{error}"
    );
}

#[test]
fn a_route_with_no_deployments_says_which_to_list() {
    let error = reject(&format!("{BASE}\n[routes.chat]\ndeployments = []\n"));
    let problem = only(&error);
    assert_eq!(problem.location, at(11, 15), "{error}");
    assert_eq!(problem.message, "route `chat` has no deployments");
    assert!(
        problem
            .fix
            .as_deref()
            .unwrap()
            .contains("deployments = [\"claude-haiku\"]"),
        "{error}"
    );
}

#[test]
fn a_missing_key_variable_is_named_with_its_location() {
    // Referenced explicitly.
    let text = "[deployments.a]\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\napi_key = \"${TEAM_OPENAI_KEY}\"\n";
    let error = reject(text);
    let problem = only(&error);
    assert_eq!(problem.location, at(4, 11), "{error}");
    assert!(
        problem
            .message
            .contains("`TEAM_OPENAI_KEY`, which is not set"),
        "{error}"
    );
    assert!(
        problem
            .fix
            .as_deref()
            .unwrap()
            .contains("export TEAM_OPENAI_KEY="),
        "{error}"
    );

    // Implicit: the provider's standard variable.
    let error = config::parse(
        "[deployments.m]\nprovider = \"mistral\"\nmodel = \"mistral-small-latest\"\n",
        "t.toml",
        &keys(),
    )
    .unwrap_err();
    let problem = only(&error);
    assert_eq!(problem.location, at(1, 14), "{error}");
    assert!(
        problem.message.contains("`MISTRAL_API_KEY` is not set"),
        "{error}"
    );
    assert!(
        problem
            .fix
            .as_deref()
            .unwrap()
            .contains("export MISTRAL_API_KEY="),
        "{error}"
    );
}

#[test]
fn every_problem_is_reported_at_once_in_file_order() {
    let text = "[deployments.a]\nprovider = \"nope\"\nmodel = \"m\"\n\n[routes.r]\ndeployments = [\"b\"]\n\n[server]\nlisten = \"not an address\"\n";
    let error = reject(text);
    let lines: Vec<usize> = error
        .problems()
        .iter()
        .map(|p| p.location.unwrap().line)
        .collect();
    assert_eq!(lines, [2, 6, 9], "{error}");
    assert_eq!(error.to_string().lines().count(), 3);
}

#[test]
fn router_level_problems_point_at_their_route() {
    let error = reject(&format!(
        "{BASE}\n[routes.chat]\ndeployments = [\"gpt-4o-mini\"]\nhedge = {{ delay = \"1s\", percentile = 0.9 }}\n"
    ));
    let problem = only(&error);
    assert_eq!(problem.location, at(10, 9), "{error}");
    assert!(
        problem.message.contains("give exactly one of `delay`"),
        "{error}"
    );
}

#[test]
fn settings_of_another_provider_are_rejected() {
    let error = reject(
        "[deployments.a]\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\nbetas = [\"x\"]\n",
    );
    let problem = only(&error);
    assert_eq!(problem.location, at(4, 9), "{error}");
    assert!(
        problem
            .message
            .contains("`betas` applies only to anthropic"),
        "{error}"
    );
}

#[test]
fn interpolation_resolves_present_variables_and_defaults() {
    let text = r#"
        [server]
        listen = "127.0.0.1:${PORT:-8181}"

        [deployments.a]
        provider = "openai"
        model = "gpt-4o-mini"
        api_key = "${MY_KEY}"
        base_url = "https://${REGION:-eu}.proxy.example/v1"
    "#;
    let vars = env(&[("MY_KEY", "sk-1")]);
    let config = config::parse(text, "t.toml", &vars).unwrap();
    assert_eq!(config.server_settings(&vars).listen.unwrap().port(), 8181);
    let secret = config.deployments["a"]
        .api_key
        .as_ref()
        .unwrap()
        .resolve(&vars)
        .unwrap();
    assert_eq!(secret.expose(), "sk-1");
    assert_eq!(
        config.deployments["a"]
            .base_url
            .as_ref()
            .unwrap()
            .resolve(&vars)
            .unwrap(),
        "https://eu.proxy.example/v1"
    );
    let vars = env(&[("MY_KEY", "sk-1"), ("PORT", "9999")]);
    assert_eq!(config.server_settings(&vars).listen.unwrap().port(), 9999);
}

fn example_env() -> impl Fn(&str) -> Option<String> {
    env(&[
        ("OPENAI_API_KEY", "sk-openai"),
        ("ANTHROPIC_API_KEY", "sk-ant"),
        ("GEMINI_API_KEY", "gm-key"),
        ("GROQ_API_KEY", "gsk"),
        ("TEAM_HEADER", "platform"),
        ("TOLLGATE_KEY_TEAM_A", "tg-team-a"),
    ])
}

#[test]
fn the_annotated_example_passes_check_config() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/tollgate.example.toml"
    );
    let config = config::load_with_env(path, &example_env()).unwrap_or_else(|e| panic!("{e}"));
    assert!(config.routes.contains_key("chat"));
    assert!(config.warnings().is_empty(), "{:?}", config.warnings());
}

#[test]
fn the_annotated_example_builds_a_state() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/tollgate.example.toml"
    );
    let vars = example_env();
    let config = config::load_with_env(path, &vars).unwrap();
    let state = tollgate_gateway::build::state_with_env(&config, &vars).unwrap();
    // Declared routes plus one per deployment.
    for route in [
        "chat",
        "cheap",
        "smart",
        "spread",
        "tiered",
        "demo",
        "gpt-4o-mini",
        "local-llama",
    ] {
        assert!(
            state.routes.contains_key(route),
            "{route}: {:?}",
            state.routes.keys()
        );
    }
    assert_eq!(state.keys.len(), 2);
    assert_eq!(state.limits.max_body_bytes, 16 << 20);
    assert!(!state.simulated);
    // Deployment price overrides price replies; catalog overrides too.
    assert_eq!(state.prices.price("ollama", "llama3.2").unwrap().input, 0.0);
    assert_eq!(
        state.prices.price("simulated", "sim-flaky").unwrap().output,
        2.5
    );
    assert_eq!(
        state
            .prices
            .price("openai", "gpt-4o-mini")
            .unwrap()
            .cache_read,
        Some(0.075)
    );
    let cheap = &state.routes["cheap"].deployments;
    assert_eq!(cheap.len(), 4);
    assert_eq!(cheap[0].provider, "openai");
    assert_eq!(cheap[2].provider, "gcp.gemini");
    assert_eq!(cheap[0].rpm, Some(500));
}

#[test]
fn a_missing_file_is_a_readable_error() {
    let error = config::load_with_env("/nonexistent/tollgate.toml", &keys()).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("/nonexistent/tollgate.toml: cannot read"),
        "{error}"
    );
}
