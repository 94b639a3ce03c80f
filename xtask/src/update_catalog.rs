//! `cargo xtask update-catalog`: regenerates `crates/catalog/data/` from LiteLLM's price
//! file, read out of a pinned litellm wheel.
//!
//! The wheel is fetched with `pip download --no-deps` (never installed, never run) into
//! `target/catalog-source/`, its SHA-256 is checked against the pin below, and python3's
//! standard `zipfile` module reads the price file and the licence out of it. The conversion
//! itself is `tollgate_catalog::litellm::convert`, so the generator and the loader share one
//! definition of the format.
//!
//! To move to a newer LiteLLM release, change the four pins, run this task, and review the
//! diff of `crates/catalog/data/catalog.jsonl`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use tollgate_catalog::CatalogSource;
use tollgate_catalog::litellm;
use tollgate_catalog::table;

/// The pinned litellm release.
const LITELLM_VERSION: &str = "1.106.2";
/// The wheel of that release we read (pip is told this exact platform, so every machine
/// downloads the same file).
const WHEEL: &str = "litellm-1.106.2-cp310-abi3-manylinux_2_28_x86_64.whl";
/// SHA-256 of that wheel.
const WHEEL_SHA256: &str = "cb1a2a1e55a4a8350ae2167525dc0d06f59b078cd685fb3e0f5419f02da5420e";
/// The price file inside the wheel.
const PRICE_FILE: &str = "litellm/model_prices_and_context_window_backup.json";
/// The licence inside the wheel.
const LICENSE_FILE: &str = "litellm-1.106.2.dist-info/licenses/LICENSE";

/// Reads one member of a zip archive: `python3 -c READ_MEMBER ARCHIVE MEMBER` writes it to stdout.
const READ_MEMBER: &str = "import sys, zipfile\n\
with zipfile.ZipFile(sys.argv[1]) as wheel:\n    sys.stdout.buffer.write(wheel.read(sys.argv[2]))\n";

/// Prints the SHA-256 of a file: `python3 -c SHA256 FILE`.
const SHA256: &str = "import hashlib, sys\n\
print(hashlib.sha256(open(sys.argv[1], 'rb').read()).hexdigest())\n";

pub fn run() -> Result<(), String> {
    let root = workspace_root()?;
    let download_dir = root.join("target").join("catalog-source");
    std::fs::create_dir_all(&download_dir)
        .map_err(|e| format!("cannot create {}: {e}", download_dir.display()))?;
    let wheel = download_dir.join(WHEEL);
    if !wheel.exists() {
        download(&download_dir)?;
    }
    let sha256 = python(SHA256, &[wheel.as_os_str()])?;
    let sha256 = String::from_utf8_lossy(&sha256).trim().to_owned();
    if sha256 != WHEEL_SHA256 {
        return Err(format!(
            "{} has sha256 {sha256}, the pin is {WHEEL_SHA256}; delete it to download again, \
             or update the pins in xtask/src/update_catalog.rs after checking the new wheel",
            wheel.display()
        ));
    }

    let prices = python(READ_MEMBER, &[wheel.as_os_str(), PRICE_FILE.as_ref()])?;
    let document: serde_json::Value = serde_json::from_slice(&prices)
        .map_err(|e| format!("{PRICE_FILE} in {WHEEL} is not JSON: {e}"))?;
    let license = python(READ_MEMBER, &[wheel.as_os_str(), LICENSE_FILE.as_ref()])?;
    let license = String::from_utf8(license).map_err(|e| format!("{LICENSE_FILE}: {e}"))?;

    let models = litellm::convert(&document)?;
    let source = CatalogSource {
        name: "litellm".to_owned(),
        version: LITELLM_VERSION.to_owned(),
        file: PRICE_FILE.to_owned(),
        artifact: WHEEL.to_owned(),
        sha256,
    };
    let text = table::render(&source, &models).map_err(|e| e.to_string())?;

    let data_dir = root.join("crates").join("catalog").join("data");
    write(&data_dir.join("catalog.jsonl"), &text)?;
    write(
        &data_dir.join("SOURCE.md"),
        &source_notice(&source, &license),
    )?;

    let mut per_provider: BTreeMap<&str, usize> = BTreeMap::new();
    for facts in &models {
        *per_provider.entry(facts.provider.as_str()).or_default() += 1;
    }
    println!(
        "update-catalog: {} models, {} bytes, from {WHEEL} (sha256 {WHEEL_SHA256})",
        models.len(),
        text.len()
    );
    for (provider, count) in per_provider {
        println!("  {provider:<12} {count}");
    }
    Ok(())
}

fn download(dir: &Path) -> Result<(), String> {
    println!("update-catalog: pip download litellm=={LITELLM_VERSION} (not installed)");
    let status = Command::new("python3")
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
        .args([
            "--platform",
            "manylinux_2_28_x86_64",
            "--python-version",
            "3.10",
        ])
        .args(["--implementation", "cp", "--abi", "abi3"])
        .arg(format!("litellm=={LITELLM_VERSION}"))
        .arg("-d")
        .arg(dir)
        .status()
        .map_err(|e| format!("cannot run python3 -m pip: {e}"))?;
    if !status.success() {
        return Err(format!("pip download failed ({status})"));
    }
    if !dir.join(WHEEL).exists() {
        return Err(format!(
            "pip did not download {WHEEL} into {}",
            dir.display()
        ));
    }
    Ok(())
}

fn python(script: &str, args: &[&std::ffi::OsStr]) -> Result<Vec<u8>, String> {
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "python3 failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(output.stdout)
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn workspace_root() -> Result<PathBuf, String> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| "xtask has no parent directory".to_owned())
}

/// `SOURCE.md`: where the bundled table comes from, how it was made, and the MIT notice.
/// It is also the "Source and attribution" section of the crate docs, so it has no
/// top-level heading and its one code block is marked `text` (rustdoc tests the others).
fn source_notice(source: &CatalogSource, license: &str) -> String {
    let license = license.trim_end();
    format!(
        "The bundled table `data/catalog.jsonl` is derived from LiteLLM's price file\n\
`{file}`, read out of the wheel `{artifact}` of\n\
[litellm](https://github.com/BerriAI/litellm) {version} (PyPI), whose SHA-256 is\n\
`{sha256}`.\n\
It keeps only chat models of the providers Tollgate supports and only the facts Tollgate\n\
uses, with prices converted from USD per token to USD per million tokens (see\n\
`tollgate_catalog::litellm` for the exact rules). It is regenerated, never edited by hand,\n\
with `cargo xtask update-catalog`, which downloads that wheel with\n\
`pip download --no-deps` (litellm is never installed or run) and checks its SHA-256.\n\
\n\
The price file is part of LiteLLM, Copyright (c) 2023 Berri AI, used under the MIT\n\
License. The licence file shipped in the wheel reads:\n\
\n\
```text\n\
{license}\n\
```\n",
        file = source.file,
        artifact = source.artifact,
        version = source.version,
        sha256 = source.sha256,
    )
}
