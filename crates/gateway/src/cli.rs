//! The `tollgate` command line.
//!
//! ```text
//! tollgate serve [--config FILE] [--listen ADDR]   run the gateway
//! tollgate check-config FILE                       validate a config file, print every problem
//! tollgate models [--config FILE]                  list the routes and their deployments
//! ```
//!
//! Without `--config` (or `TOLLGATE_CONFIG`), `serve` and `models` build routes from the
//! provider keys in the environment, and with none at all the built-in simulated
//! providers.

use std::fmt::Write as _;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::build;
use crate::config::{self, Config, LogFormat, process_env};
use crate::server::{Gateway, Reloader, signals};
use crate::state::AppState;

/// One OpenAI-compatible endpoint in front of every LLM provider, with routing,
/// fallback, cost and telemetry.
#[derive(Debug, Parser)]
#[command(name = "tollgate", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway.
    Serve {
        /// The config file (TOML). Default: `TOLLGATE_CONFIG`, else routes from the
        /// provider keys in the environment, else the simulated demo.
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Where to listen, overriding the config (`127.0.0.1:8080`).
        #[arg(long, short)]
        listen: Option<SocketAddr>,
    },
    /// Validate a config file and print every problem with its line and fix.
    CheckConfig {
        /// The config file.
        file: PathBuf,
    },
    /// List the routes (the `model` names callers use) and their deployments.
    Models {
        /// The config file; default as for `serve`.
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
}

/// Runs the command line.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { config, listen } => serve_blocking(config, listen),
        Command::CheckConfig { file } => check_config(&file),
        Command::Models { config } => models(config),
    }
}

/// The config file to use: the flag, else `TOLLGATE_CONFIG`.
fn config_path(flag: Option<PathBuf>) -> Option<PathBuf> {
    flag.or_else(|| process_env("TOLLGATE_CONFIG").map(PathBuf::from))
}

/// The config: the file's, else the one the environment implies.
fn load_config(path: Option<&Path>) -> Result<Config, String> {
    match path {
        Some(path) => config::load(path).map_err(|e| e.to_string()),
        None => Ok(config::from_environment(&process_env)),
    }
}

fn serve_blocking(config: Option<PathBuf>, listen: Option<SocketAddr>) -> ExitCode {
    // On one core (a container's CPU limit, `taskset`), a work-stealing scheduler has
    // nobody to steal from and only costs: run every task on this thread instead.
    let one_core = std::thread::available_parallelism().is_ok_and(|n| n.get() == 1);
    let mut builder = if one_core {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            report(&format!("cannot start the async runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(config_path(config), listen)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            report(&message);
            ExitCode::FAILURE
        }
    }
}

/// `tollgate serve`: load, build, bind, serve until SIGTERM / Ctrl-C.
///
/// # Errors
///
/// A message for the user: the config is invalid, the state cannot be built, the
/// address cannot be bound.
pub async fn serve(path: Option<PathBuf>, listen: Option<SocketAddr>) -> Result<(), String> {
    let config = load_config(path.as_deref())?;
    let telemetry = init_logging(&config)?;
    let warnings = config.warnings();
    if !warnings.is_empty() {
        let origin = path
            .as_deref()
            .map_or_else(|| "<environment>".to_owned(), |p| p.display().to_string());
        for line in config::ConfigError::new(origin, warnings)
            .to_string()
            .lines()
        {
            tracing::warn!(target: "tollgate::config", "{line}");
        }
    }
    let state = build::state(&config).map_err(|e| e.to_string())?;
    log_state(&state, path.as_deref());
    let mut settings = config.server_settings(&process_env);
    if listen.is_some() {
        settings.listen = listen;
    }
    let mut gateway = Gateway::new(state).settings(settings);
    if let Some(path) = path.clone() {
        let reloader: Reloader = Arc::new(move || {
            let config = config::load(&path).map_err(|e| e.to_string())?;
            build::state(&config).map_err(|e| e.to_string())
        });
        gateway = gateway.reloader(reloader);
    }
    let addr = gateway.listen_addr();
    let running = gateway
        .bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    tracing::info!(target: "tollgate::server", addr = %running.local_addr(),
        "tollgate is listening: POST http://{}/v1/chat/completions", running.local_addr());
    signals::install(running.handle().clone())
        .map_err(|e| format!("cannot install signal handlers: {e}"))?;
    let result = running.wait().await;
    tracing::info!(target: "tollgate::server", "stopped");
    if let Some(guard) = telemetry {
        // Flushing the exporters blocks; keep it off the async workers.
        let _ = tokio::task::spawn_blocking(move || guard.shutdown()).await;
    }
    result.map_err(|e| format!("the server failed: {e}"))
}

fn log_state(state: &AppState, path: Option<&Path>) {
    let source = path.map_or_else(|| "the environment".to_owned(), |p| p.display().to_string());
    let routes: Vec<&str> = state.routes.keys().map(String::as_str).collect();
    tracing::info!(target: "tollgate::server", config = %source, routes = ?routes,
        keys = state.keys.len(), "configuration loaded");
    if state.keys.is_empty() {
        tracing::warn!(target: "tollgate::server",
            "no gateway keys are configured: anyone who can reach the gateway can use it (it listens on loopback unless `listen` says otherwise)");
    }
    if state.simulated {
        tracing::warn!(target: "tollgate::server",
            "no provider keys found: serving the built-in SIMULATED provider (answers are made up). Set OPENAI_API_KEY, ANTHROPIC_API_KEY or GEMINI_API_KEY, or pass --config");
    }
}

/// Installs the log subscriber: `[telemetry]`'s (logs + OTLP export) when configured,
/// else a plain one writing `[logging] format` lines to stderr. `RUST_LOG` wins over
/// `[logging] level`.
fn init_logging(config: &Config) -> Result<Option<tollgate_telemetry::TelemetryGuard>, String> {
    let level = process_env("RUST_LOG").unwrap_or_else(|| config.logging.level.clone());
    if let Some(init) = config.telemetry_init(&process_env) {
        let format = match config.logging.format {
            LogFormat::Json => tollgate_telemetry::StderrFormat::Json,
            LogFormat::Text => tollgate_telemetry::StderrFormat::Text,
        };
        let guard = tollgate_telemetry::init(init.filter(level).stderr(true).stderr_format(format))
            .map_err(|e| format!("cannot start telemetry: {e}"))?;
        return Ok(Some(guard));
    }
    let filter = tracing_subscriber::EnvFilter::try_new(&level)
        .map_err(|e| format!("invalid log level {level:?}: {e}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(io::IsTerminal::is_terminal(&io::stderr()));
    let installed = match config.logging.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
    installed.map_err(|e| format!("cannot install the logger: {e}"))?;
    Ok(None)
}

/// `tollgate check-config FILE`.
fn check_config(file: &Path) -> ExitCode {
    match config::load(file) {
        Ok(config) => {
            let mut out = format!(
                "{}: OK ({} deployments, {} routes, {} keys)\n",
                file.display(),
                config.deployments.len(),
                config.routes.len(),
                config.keys.len()
            );
            let warnings = config.warnings();
            if !warnings.is_empty() {
                let listed = config::ConfigError::new(file.display().to_string(), warnings);
                for line in listed.to_string().lines() {
                    let _ = writeln!(out, "warning: {line}");
                }
            }
            print(&out);
            ExitCode::SUCCESS
        }
        Err(error) => {
            report(&error.to_string());
            ExitCode::FAILURE
        }
    }
}

/// `tollgate models`.
fn models(flag: Option<PathBuf>) -> ExitCode {
    let path = config_path(flag);
    let state = load_config(path.as_deref()).and_then(|config| {
        // Provider clients may need a runtime context to be built.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let _guard = runtime.enter();
        build::state(&config).map_err(|e| e.to_string())
    });
    match state {
        Ok(state) => {
            print(&models_table(&state));
            ExitCode::SUCCESS
        }
        Err(message) => {
            report(&message);
            ExitCode::FAILURE
        }
    }
}

/// The `tollgate models` listing: one block per route, one line per deployment.
pub fn models_table(state: &AppState) -> String {
    let mut out = String::new();
    if state.simulated {
        out.push_str("(simulated providers: no provider keys were found)\n");
    }
    for (name, route) in &state.routes {
        let _ = writeln!(out, "{name}");
        for d in &route.deployments {
            let price = d.price.as_ref().map_or_else(
                || "price unknown".to_owned(),
                |p| format!("${}/${} per 1M in/out", p.input, p.output),
            );
            let context = d
                .context_window
                .map_or_else(String::new, |c| format!(", context {c}"));
            let _ = writeln!(
                out,
                "  - {} ({} {}): {price}{context}",
                d.name, d.provider, d.model
            );
        }
    }
    out
}

#[allow(clippy::print_stdout)]
fn print(text: &str) {
    print!("{text}");
}

fn report(message: &str) {
    eprintln!("tollgate: {message}");
}
