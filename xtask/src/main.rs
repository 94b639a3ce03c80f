//! `cargo xtask`: Tollgate's own automation.
//!
//! - `cargo xtask ci` — everything CI checks, in the order a developer wants to learn of
//!   failures: formatting, clippy with warnings denied on all targets, the whole test
//!   suite (with the external tools it needs installed first), and the docs with warnings
//!   denied.
//! - `cargo xtask update-catalog` — regenerates the bundled model catalog
//!   (`crates/catalog/data/`) from the pinned LiteLLM price file.

#![allow(clippy::print_stdout)]

use std::process::{Command, ExitCode};

use clap::{Parser, Subcommand};

mod bench;
mod tools;
mod update_catalog;

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Tollgate's own automation")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Format check, clippy (-D warnings), the whole test suite, docs (-D warnings).
    Ci {
        /// Skip fmt, clippy and docs; run only the tests.
        #[arg(long)]
        tests_only: bool,
    },
    /// Regenerate crates/catalog/data/ from the pinned LiteLLM price file.
    UpdateCatalog,
    /// Benchmark the gateway against the upstream alone and a bare nginx proxy (writes
    /// docs/benchmarks.md), or count its instructions per request (`--instructions`).
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Task::Ci { tests_only } => ci(tests_only),
        Task::UpdateCatalog => update_catalog::run(),
        Task::Bench(args) => bench::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

fn ci(tests_only: bool) -> Result<(), String> {
    if !tests_only {
        step("fmt", cargo(&["fmt", "--all", "--", "--check"]))?;
        step(
            "clippy",
            cargo(&[
                "clippy",
                "--workspace",
                "--all-targets",
                "--all-features",
                "--locked",
                "--",
                "-D",
                "warnings",
            ]),
        )?;
    }
    let mut test = cargo(&["test", "--workspace", "--all-features", "--locked"]);
    for (key, value) in tools::prepare()? {
        test.env(key, value);
    }
    step("test", test)?;
    if !tests_only {
        let mut doc = cargo(&[
            "doc",
            "--workspace",
            "--all-features",
            "--no-deps",
            "--locked",
        ]);
        doc.env("RUSTDOCFLAGS", "-D warnings");
        step("doc", doc)?;
    }
    println!("xtask ci: all steps passed");
    Ok(())
}

fn cargo(args: &[&str]) -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.args(args);
    command
}

fn step(name: &str, mut command: Command) -> Result<(), String> {
    println!("xtask ci: {name}");
    let status = command
        .status()
        .map_err(|e| format!("{name}: could not start: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{name} failed ({status})"))
    }
}
