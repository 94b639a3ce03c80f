//! LiteLLM's proxy, the optional peer: PyPI `litellm[proxy]` at a pinned version in a venv
//! under `target/bench/litellm` (never committed), configured with the same two
//! OpenAI-compatible deployments as the gateway.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::process::Running;

/// The LiteLLM release measured.
pub const LITELLM_VERSION: &str = "1.80.0";

/// The venv holding LiteLLM at the pinned version, created on first use.
pub fn ensure(bench_dir: &Path) -> Result<PathBuf, String> {
    let venv = bench_dir.join("litellm").join("venv");
    if installed(&venv) {
        return Ok(venv);
    }
    eprintln!(
        "xtask bench: installing litellm[proxy]=={LITELLM_VERSION} into {} (pip, once)",
        venv.display()
    );
    run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    run(Command::new(venv.join("bin").join("pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .arg(format!("litellm[proxy]=={LITELLM_VERSION}")))?;
    if installed(&venv) {
        Ok(venv)
    } else {
        Err(format!(
            "litellm {LITELLM_VERSION} was installed into {} but its `litellm` command is missing",
            venv.display()
        ))
    }
}

/// Whether `venv` holds the `litellm` command at the pinned version.
fn installed(venv: &Path) -> bool {
    if !venv.join("bin").join("litellm").is_file() {
        return false;
    }
    let Ok(lib) = std::fs::read_dir(venv.join("lib")) else {
        return false;
    };
    lib.flatten().any(|python| {
        python
            .path()
            .join("site-packages")
            .join(format!("litellm-{LITELLM_VERSION}.dist-info"))
            .is_dir()
    })
}

/// Writes the proxy's config into `dir` and starts it (one worker) on `core`; returns the
/// process and its log file.
pub fn start(
    venv: &Path,
    dir: &Path,
    port: u16,
    (upstream_port, upstream_stream_port): (u16, u16),
    core: usize,
) -> Result<(Running, PathBuf), String> {
    let config = format!(
        "model_list:
  - model_name: bench
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: http://127.0.0.1:{upstream_port}/v1
      api_key: sk-bench
  - model_name: bench-stream
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: http://127.0.0.1:{upstream_stream_port}/v1
      api_key: sk-bench
litellm_settings:
  telemetry: false
  set_verbose: false
"
    );
    let path = dir.join("litellm.yaml");
    std::fs::write(&path, config).map_err(|e| format!("writing {}: {e}", path.display()))?;
    let log = dir.join("litellm.log");
    let running = Running::spawn(
        "litellm",
        core,
        &venv.join("bin").join("litellm"),
        &[
            "--config".to_owned(),
            path.display().to_string(),
            "--host".to_owned(),
            "127.0.0.1".to_owned(),
            "--port".to_owned(),
            port.to_string(),
            "--num_workers".to_owned(),
            "1".to_owned(),
            "--telemetry".to_owned(),
            "False".to_owned(),
        ],
        &[
            ("LITELLM_LOG".to_owned(), "ERROR".to_owned()),
            // The bundled price map: no fetch from GitHub at start.
            ("LITELLM_LOCAL_MODEL_COST_MAP".to_owned(), "True".to_owned()),
            ("LITELLM_TELEMETRY".to_owned(), "False".to_owned()),
        ],
        &log,
    )?;
    Ok((running, log))
}

fn run(command: &mut Command) -> Result<(), String> {
    let status = command.status().map_err(|e| format!("{command:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed ({status})"))
    }
}
