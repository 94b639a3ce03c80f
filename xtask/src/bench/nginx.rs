//! nginx, twice: the fake OpenAI upstream and the bare reverse proxy. Both configs are
//! rendered from `bench/*.conf.template` into a run directory under `target/bench/run`.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::process::Running;

/// The nginx binary, installed with `apt-get` (Debian's package) when missing.
pub fn ensure() -> Result<PathBuf, String> {
    if let Some(nginx) = find() {
        return Ok(nginx);
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .is_some_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0");
    let sudo: &[&str] = if root { &[] } else { &["sudo", "-n"] };
    eprintln!("xtask bench: nginx is missing; installing Debian's package (apt-get)");
    for args in [
        &["apt-get", "update", "-qq"][..],
        &["apt-get", "install", "-y", "-qq", "nginx"][..],
    ] {
        let all: Vec<&str> = sudo.iter().chain(args).copied().collect();
        let status = Command::new(all[0])
            .args(&all[1..])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map_err(|e| format!("{}: {e} (install nginx yourself)", all.join(" ")))?;
        if !status.success() {
            return Err(format!(
                "{} failed ({status}); install nginx yourself (apt-get install nginx)",
                all.join(" ")
            ));
        }
    }
    find().ok_or_else(|| "nginx was installed but is not on PATH or in /usr/sbin".to_owned())
}

fn find() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from));
    dirs.into_iter()
        .map(|dir| dir.join("nginx"))
        .find(|path| path.is_file())
}

/// `nginx -v` (it prints to stderr): `nginx/1.22.1`.
pub fn version(nginx: &Path) -> String {
    Command::new(nginx)
        .arg("-v")
        .output()
        .ok()
        .map(|out| {
            let text = String::from_utf8_lossy(&out.stderr).into_owned();
            text.trim()
                .trim_start_matches("nginx version:")
                .trim()
                .to_owned()
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Fills a template's `{{NAME}}` placeholders; an error names any left unfilled.
pub fn render(template: &str, values: &[(&str, String)]) -> Result<String, String> {
    let mut text = template.to_owned();
    for (name, value) in values {
        text = text.replace(&format!("{{{{{name}}}}}"), value);
    }
    if let Some(start) = text.find("{{") {
        let rest = &text[start..];
        let end = rest.find("}}").map_or(rest.len(), |e| e + 2);
        return Err(format!(
            "template placeholder {} has no value",
            &rest[..end]
        ));
    }
    Ok(text)
}

/// A body as an nginx single-quoted string's content (`return 200 '…'`).
///
/// nginx expands `$name` in `return` text, so a body holding `$` is refused rather than
/// silently changed.
pub fn quote(body: &str) -> Result<String, String> {
    if body.contains('$') {
        return Err("a fixed response body holds `$`, which nginx would expand".to_owned());
    }
    let mut out = String::with_capacity(body.len() + 64);
    for c in body.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Writes `config` into `run_dir` (creating the temp directories nginx wants) and starts
/// nginx on `core` in the foreground.
pub fn start(
    name: &str,
    nginx: &Path,
    run_dir: &Path,
    config: &str,
    core: usize,
) -> Result<Running, String> {
    for sub in ["client_body", "proxy", "fastcgi", "uwsgi", "scgi", "logs"] {
        std::fs::create_dir_all(run_dir.join(sub))
            .map_err(|e| format!("creating {}: {e}", run_dir.join(sub).display()))?;
    }
    let conf = run_dir.join("nginx.conf");
    std::fs::write(&conf, config).map_err(|e| format!("writing {}: {e}", conf.display()))?;
    let test = Command::new(nginx)
        .arg("-t")
        .arg("-q")
        .arg("-p")
        .arg(run_dir)
        .arg("-e")
        .arg(run_dir.join("error.log"))
        .arg("-c")
        .arg(&conf)
        .output()
        .map_err(|e| format!("nginx -t: {e}"))?;
    if !test.status.success() {
        return Err(format!(
            "{name}: nginx rejects {}: {}",
            conf.display(),
            String::from_utf8_lossy(&test.stderr)
        ));
    }
    Running::spawn(
        name,
        core,
        nginx,
        &[
            "-p".to_owned(),
            run_dir.display().to_string(),
            "-e".to_owned(),
            run_dir.join("error.log").display().to_string(),
            "-c".to_owned(),
            conf.display().to_string(),
        ],
        &[],
        &run_dir.join("stderr.log"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_quoted_for_nginx_and_dollars_are_refused() {
        assert_eq!(
            quote("data: {\"a\":\"it's\"}\n\n").unwrap(),
            "data: {\"a\":\"it\\'s\"}\\n\\n"
        );
        assert_eq!(quote("a\\b").unwrap(), "a\\\\b");
        assert!(quote("costs $5").is_err());
    }

    #[test]
    fn rendering_fills_every_placeholder_or_names_the_missing_one() {
        let text = render(
            "listen {{PORT}}; root {{DIR}};",
            &[("PORT", "80".into()), ("DIR", "/x".into())],
        );
        assert_eq!(text.unwrap(), "listen 80; root /x;");
        let missing = render("listen {{PORT}}; {{OTHER}}", &[("PORT", "80".into())]);
        assert_eq!(
            missing.unwrap_err(),
            "template placeholder {{OTHER}} has no value"
        );
    }
}
