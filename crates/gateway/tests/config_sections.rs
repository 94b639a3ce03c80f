//! Every config section survives TOML → Config → TOML → Config unchanged, and secrets never
//! leave a config in Debug, Display or serialized form.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tollgate_gateway::config::{self, Config};

fn round_trip(text: &str) -> Config {
    let first: Config = toml::from_str(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let written = first.to_toml().unwrap();
    let second: Config = toml::from_str(&written).unwrap_or_else(|e| panic!("{e}\n{written}"));
    assert_eq!(first, second, "changed by a round trip:\n{written}");
    first
}

#[test]
fn server_section_round_trips_with_sizes_and_durations() {
    let config = round_trip(
        r#"
        [server]
        listen = "0.0.0.0:${PORT:-9000}"
        body_limit = "512KiB"
        grace_period = "1m30s"
        deployment_routes = false
        "#,
    );
    assert_eq!(config.server.body_limit, 512 * 1024);
    assert_eq!(config.server.grace_period.as_secs(), 90);
    assert_eq!(
        config.server.listen.as_ref().unwrap().template(),
        "0.0.0.0:${PORT:-9000}"
    );
}

#[test]
fn logging_section_round_trips() {
    let config = round_trip(
        r#"
        [logging]
        level = "tollgate=debug,info"
        format = "json"
        log_content = true
        "#,
    );
    assert!(config.logging.log_content);
    assert_eq!(config.logging.format, config::LogFormat::Json);
}

#[test]
fn telemetry_section_round_trips() {
    let config = round_trip(
        r#"
        [telemetry]
        endpoint = "${OTEL_ENDPOINT:-http://127.0.0.1:4317}"
        protocol = "grpc"
        service_name = "edge-gateway"
        capture_content = true
        traces = true
        metrics = false
        metric_interval = "15s"
        attempt_spans = false
        "#,
    );
    let telemetry = config.telemetry.unwrap();
    assert_eq!(telemetry.protocol, Some(config::OtlpProtocol::Grpc));
    assert!(!telemetry.metrics);
}

#[test]
fn keys_section_round_trips_with_env_references() {
    let config = round_trip(
        r#"
        [[keys]]
        name = "team-a"
        value = "${TEAM_A_KEY}"
        routes = ["chat"]
        rpm = 60

        [[keys]]
        name = "ci"
        sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        "#,
    );
    assert_eq!(config.keys.len(), 2);
}

#[test]
fn catalog_section_round_trips() {
    let config = round_trip(
        r#"
        [[catalog.models]]
        provider = "ollama"
        model = "llama3.2"
        context_window = 131072
        price = { input = 0.0, output = 0.0 }

        [[catalog.models]]
        provider = "openai"
        model = "gpt-4o"
        capabilities = { vision = false }
        price = { input = 2.0, tiers = [{ above_input_tokens = 128000, input = 4.0, output = 16.0 }] }
        "#,
    );
    assert_eq!(config.catalog.models.len(), 2);
}

#[test]
fn deployments_section_round_trips_for_every_provider_kind() {
    let config = round_trip(
        r#"
        [deployments.mini]
        provider = "openai"
        model = "gpt-4o-mini"
        api_key = "${OPENAI_API_KEY}"
        base_url = "${OPENAI_PROXY:-https://api.openai.com/v1}"
        organization = "org-1"
        project = "proj-1"
        headers = { "x-team" = "${TEAM}" }
        rpm = 100
        tpm = 100000
        weight = 3
        tags = ["fast", "us"]
        price = { input = 0.1, output = 0.4 }
        context_window = 64000
        max_output_tokens = 4096
        capabilities = { tools = true, vision = false, json_schema = true, streaming = true }

        [deployments.haiku]
        provider = "anthropic"
        model = "claude-haiku-4-5"
        anthropic_version = "2023-06-01"
        betas = ["prompt-caching-2024-07-31"]

        [deployments.flash]
        provider = "gemini"
        model = "gemini-2.5-flash"
        api_version = "v1"

        [deployments.groq]
        provider = "groq"
        model = "openai/gpt-oss-20b"

        [deployments.sim]
        provider = "simulated"
        model = "sim"
        simulate = { first_token = "120ms", tokens_per_second = 30.0, rate_limit_rate = 0.5, retry_after = "3s", error_rate = 0.1, seed = 9 }
        "#,
    );
    assert_eq!(config.deployments.len(), 5);
    assert_eq!(
        config.deployments["sim"].simulate.as_ref().unwrap().seed,
        Some(9)
    );
}

#[test]
fn defaults_and_routes_sections_round_trip() {
    let config = round_trip(
        r#"
        [defaults.timeouts]
        attempt_first_token = "20s"
        attempt_total = "off"
        request = "2m"

        [defaults.retry]
        max_retries = 3
        max_wait = "5s"

        [routes.chat]
        deployments = ["a", "b"]
        balancer = { kind = "latency", decay = "10s", choices = "power_of_two", seed = 4 }

        [routes.chat.fallbacks]
        on = ["rate_limited", "server"]
        context_length = ["b"]
        content_filter = ["a"]

        [routes.chat.hedge]
        delay = "2s"

        [routes.chat.health]
        error_ratio = 0.25

        [routes.tiers]
        deployments = ["a", "b"]
        balancer = { kind = "tiered", tiers = [{ name = "simple", deployments = ["a"] }, { name = "complex", tags = ["big"], balancer = { kind = "cost" } }] }
        "#,
    );
    assert_eq!(config.routes.len(), 2);
    assert_eq!(config.defaults.retry.as_ref().unwrap().max_retries, 3);
}

#[test]
fn the_whole_example_config_round_trips() {
    round_trip(include_str!("../examples/tollgate.example.toml"));
}

const LITERALS: [&str; 3] = [
    "sk-live-LITERAL-111",
    "sk-default-DEFAULT-222",
    "tg-gateway-KEY-333",
];

fn config_with_literal_secrets() -> Config {
    toml::from_str(&format!(
        r#"
        [[keys]]
        name = "plain"
        value = "{}"

        [deployments.a]
        provider = "openai"
        model = "gpt-4o-mini"
        api_key = "{}"
        headers = {{ "x-token" = "{}" }}

        [deployments.b]
        provider = "anthropic"
        model = "claude-haiku-4-5"
        api_key = "${{ANTHROPIC_KEY:-{}}}"
        "#,
        LITERALS[2], LITERALS[0], LITERALS[0], LITERALS[1]
    ))
    .unwrap()
}

#[test]
fn secrets_never_appear_in_debug_display_or_serialized_output() {
    let config = config_with_literal_secrets();
    let outputs = [
        format!("{config:?}"),
        format!("{:#?}", config.deployments),
        config.to_toml().unwrap(),
        serde_json::to_string(&config).unwrap(),
        format!("{}", config.deployments["a"].api_key.as_ref().unwrap()),
    ];
    for output in &outputs {
        for secret in LITERALS {
            assert!(!output.contains(secret), "{secret} leaked in:\n{output}");
        }
    }
    // References stay readable.
    assert!(
        outputs[2].contains("${ANTHROPIC_KEY:-*****}"),
        "{}",
        outputs[2]
    );
}

#[test]
fn secrets_resolved_into_a_state_never_print() {
    let config = config_with_literal_secrets();
    let env = |_: &str| None;
    let state = tollgate_gateway::build::state_with_env(&config, &env).unwrap();
    let shown = format!("{state:?} {:?}", state.routes);
    for secret in LITERALS {
        assert!(!shown.contains(secret), "{secret} leaked in: {shown}");
    }
}
