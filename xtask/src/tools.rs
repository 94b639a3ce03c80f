//! External tools the test suite starts for real, installed on demand.
//!
//! Each returns the environment variables that tell the tests where to find it. Tools are
//! installed under `target/tools/` so a fresh clone needs nothing but the package
//! registries.
//!
//! - **rotel** (`TOLLGATE_ROTEL_AGENT`): a real OpenTelemetry collector (PyPI
//!   `rotel==0.0.1a15`, whose wheel ships the `rotel-agent` binary), used by
//!   `tollgate-telemetry`'s end-to-end export test. Installed into a Python venv at
//!   `target/tools/venv`. The test installs it the same way by itself when run with plain
//!   `cargo test`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The rotel release the telemetry end-to-end test is written against.
const ROTEL_VERSION: &str = "0.0.1a15";

/// Installs what the tests need and returns the environment for the test run.
pub fn prepare() -> Result<Vec<(String, String)>, String> {
    let agent = rotel_agent(&tools_dir())?;
    Ok(vec![(
        "TOLLGATE_ROTEL_AGENT".to_owned(),
        agent.display().to_string(),
    )])
}

/// `target/tools`, honouring `CARGO_TARGET_DIR`.
fn tools_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("target")
        },
        PathBuf::from,
    );
    target.join("tools")
}

/// The `rotel-agent` binary, installing rotel into `tools/venv` unless it is there.
fn rotel_agent(tools: &Path) -> Result<PathBuf, String> {
    let venv = tools.join("venv");
    if let Some(agent) = find_agent(&venv) {
        return Ok(agent);
    }
    std::fs::create_dir_all(tools).map_err(|e| format!("creating {}: {e}", tools.display()))?;
    eprintln!(
        "xtask: installing rotel {ROTEL_VERSION} into {}",
        venv.display()
    );
    run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    run(Command::new(venv.join("bin").join("pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .arg(format!("rotel=={ROTEL_VERSION}")))?;
    find_agent(&venv).ok_or_else(|| {
        format!(
            "rotel {ROTEL_VERSION} installed into {} but its rotel-agent binary was not found",
            venv.display()
        )
    })
}

/// `venv/lib/python3.*/site-packages/rotel/rotel-agent`, if installed at the pinned version.
fn find_agent(venv: &Path) -> Option<PathBuf> {
    let lib = std::fs::read_dir(venv.join("lib")).ok()?;
    for entry in lib.flatten() {
        let site = entry.path().join("site-packages");
        let agent = site.join("rotel").join("rotel-agent");
        let pinned = site.join(format!("rotel-{ROTEL_VERSION}.dist-info"));
        if agent.is_file() && pinned.is_dir() {
            return Some(agent);
        }
    }
    None
}

fn run(command: &mut Command) -> Result<(), String> {
    let status = command
        .status()
        .map_err(|e| format!("could not start {command:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed ({status})"))
    }
}
