//! The load generator: `oha`, installed on demand under `target/bench/tools`, run pinned
//! to the load core with JSON output.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

/// The oha release the harness is written against (its JSON output and flags).
pub const OHA_VERSION: &str = "1.16.0";

/// The `oha` binary: `target/bench/tools/bin/oha`, built with
/// `cargo install oha --locked` (a few minutes, once) unless it is there at the pinned
/// version.
pub fn ensure(bench_dir: &Path) -> Result<PathBuf, String> {
    let root = bench_dir.join("tools");
    let oha = root.join("bin").join("oha");
    if version(&oha).is_some_and(|v| v.contains(OHA_VERSION)) {
        return Ok(oha);
    }
    eprintln!(
        "xtask bench: installing oha {OHA_VERSION} into {} (cargo install --locked; takes a few minutes, once)",
        root.display()
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "install",
            "oha",
            "--locked",
            "--version",
            OHA_VERSION,
            "--root",
        ])
        .arg(&root)
        .arg("--target-dir")
        .arg(bench_dir.join("oha-build"))
        .status()
        .map_err(|e| format!("cargo install oha: {e}"))?;
    if !status.success() {
        return Err(format!("cargo install oha failed ({status})"));
    }
    if version(&oha).is_none() {
        return Err(format!(
            "oha was installed but {} does not run",
            oha.display()
        ));
    }
    Ok(oha)
}

/// `oha --version`'s first line.
pub fn version(oha: &Path) -> Option<String> {
    let out = Command::new(oha).arg("--version").output().ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8(out.stdout)
        .ok()
        .map(|s| s.lines().next().unwrap_or("").trim().to_owned())
}

/// One load point: what oha measured.
#[derive(Debug, Clone)]
pub struct Load {
    /// Requests answered 200.
    pub ok: u64,
    /// Requests answered anything else, or failed (requests cut at the deadline excluded).
    pub failed: u64,
    /// The first few non-200 statuses / errors, for the error message.
    pub failures: String,
    /// 200s per second over the run.
    pub rps: f64,
    /// Latency percentiles, in seconds.
    pub p50: f64,
    /// 99th percentile latency, in seconds.
    pub p99: f64,
}

/// What to send.
pub struct Shot<'a> {
    /// `http://127.0.0.1:PORT/v1/chat/completions`.
    pub url: &'a str,
    /// The JSON request body.
    pub body: &'a str,
    /// Open connections (= requests in flight).
    pub concurrency: usize,
    /// When to stop sending.
    pub until: Until,
    /// The core oha runs on.
    pub core: usize,
}

/// When oha stops sending.
#[derive(Debug, Clone, Copy)]
pub enum Until {
    /// After this long (`-z`); requests still in flight then are cut, not counted as failed.
    Elapsed(Duration),
    /// After this many requests in all (`-n`).
    Requests(u64),
}

/// Runs oha until `shot.until` at `shot.concurrency` and parses its JSON summary.
pub fn run(oha: &Path, shot: &Shot<'_>) -> Result<Load, String> {
    let (flag, amount) = match shot.until {
        Until::Elapsed(duration) => ("-z", format!("{}ms", duration.as_millis().max(1))),
        Until::Requests(n) => ("-n", n.to_string()),
    };
    let out = Command::new("taskset")
        .arg("-c")
        .arg(shot.core.to_string())
        .arg(oha)
        .args([
            "--no-tui",
            "--output-format",
            "json",
            "--worker-threads",
            "1",
        ])
        .args([flag, &amount])
        .args(["-c", &shot.concurrency.to_string()])
        .args(["-m", "POST", "-T", "application/json"])
        .args(["-d", shot.body])
        .arg(shot.url)
        .output()
        .map_err(|e| format!("starting oha: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "oha failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let json: Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "oha's output is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })?;
    parse(&json)
}

fn parse(json: &Value) -> Result<Load, String> {
    let mut ok = 0;
    let mut failed = 0;
    let mut failures = Vec::new();
    if let Some(statuses) = json["statusCodeDistribution"].as_object() {
        for (status, count) in statuses {
            let count = count.as_u64().unwrap_or(0);
            if status == "200" {
                ok += count;
            } else {
                failed += count;
                failures.push(format!("{count}× HTTP {status}"));
            }
        }
    }
    if let Some(errors) = json["errorDistribution"].as_object() {
        for (error, count) in errors {
            // With `-z`, requests still in flight at the deadline are cut: not failures.
            if error.contains("deadline") {
                continue;
            }
            let count = count.as_u64().unwrap_or(0);
            failed += count;
            failures.push(format!("{count}× {error}"));
        }
    }
    let total = json["summary"]["total"].as_f64().unwrap_or(0.0);
    let percentile = |key: &str| {
        json["latencyPercentilesSuccessful"][key]
            .as_f64()
            .or_else(|| json["latencyPercentiles"][key].as_f64())
            .ok_or_else(|| format!("oha's output has no {key} latency: {json}"))
    };
    if ok == 0 {
        return Err(format!(
            "no request succeeded: {}",
            if failures.is_empty() {
                "oha reported nothing".to_owned()
            } else {
                failures.join(", ")
            }
        ));
    }
    failures.truncate(5);
    Ok(Load {
        ok,
        failed,
        failures: failures.join(", "),
        rps: if total > 0.0 { ok as f64 / total } else { 0.0 },
        p50: percentile("p50")?,
        p99: percentile("p99")?,
    })
}
