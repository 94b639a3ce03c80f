//! Child processes pinned to one core, killed when dropped, and what `/proc` says about
//! them (CPU time, resident memory).

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// A running child: pinned with `taskset`, its output in a log file, stopped on drop
/// (SIGTERM, then SIGKILL after a second), so every exit path — errors included — cleans up.
pub struct Running {
    name: String,
    child: Child,
    /// When `spawn` was called: the start of "time to ready".
    pub spawned_at: Instant,
}

impl Running {
    /// Starts `program args…` on `core`, stdout and stderr appended to `log`.
    pub fn spawn(
        name: &str,
        core: usize,
        program: &Path,
        args: &[String],
        envs: &[(String, String)],
        log: &Path,
    ) -> Result<Self, String> {
        let out = File::create(log).map_err(|e| format!("creating {}: {e}", log.display()))?;
        let err = out
            .try_clone()
            .map_err(|e| format!("opening {}: {e}", log.display()))?;
        let mut command = Command::new("taskset");
        command
            .arg("-c")
            .arg(core.to_string())
            .arg(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        for (key, value) in envs {
            command.env(key, value);
        }
        let spawned_at = Instant::now();
        let child = command
            .spawn()
            .map_err(|e| format!("starting {name} ({}): {e}", program.display()))?;
        Ok(Self {
            name: name.to_owned(),
            child,
            spawned_at,
        })
    }

    /// The process id (`taskset` execs the program, so it is the program's).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// An error when the process has already exited (it failed to start).
    pub fn check_alive(&mut self, log: &Path) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(format!(
                "{} exited early ({status}); its log, {}:\n{}",
                self.name,
                log.display(),
                tail(log, 20)
            )),
            Err(e) => Err(format!("{}: {e}", self.name)),
        }
    }

    /// Stops the process: SIGTERM, and SIGKILL if it is still there a second later.
    pub fn stop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(1);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The last `lines` lines of a log file (for error messages).
pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Clock ticks per second of `/proc/<pid>/stat` times (`getconf CLK_TCK`, 100 on Linux).
pub fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse::<f64>().ok())
        .filter(|ticks| *ticks > 0.0)
        .unwrap_or(100.0)
}

/// CPU time (user + system, in ticks) of `pid` and every process below it: LiteLLM's
/// workers are children, nginx and the gateway are one process.
pub fn cpu_ticks(pid: u32) -> Result<u64, String> {
    let mut total = 0;
    for pid in process_tree(pid) {
        if let Some((_, ticks)) = stat(pid) {
            total += ticks;
        }
    }
    if total == 0 && stat(pid).is_none() {
        return Err(format!("process {pid} is gone"));
    }
    Ok(total)
}

/// `pid` and its descendants.
fn process_tree(root: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
                continue;
            };
            if let Some((ppid, _)) = stat(pid) {
                parents.push((pid, ppid));
            }
        }
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            parents
                .iter()
                .filter(|(_, ppid)| *ppid == parent)
                .map(|(pid, _)| *pid),
        );
        i += 1;
    }
    tree
}

/// `(ppid, utime + stime)` from `/proc/<pid>/stat`.
fn stat(pid: u32) -> Option<(u32, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: split after it.
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state): ppid is field 4, utime 14, stime 15.
    let ppid = fields.get(1)?.parse().ok()?;
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((ppid, utime + stime))
}

/// A `/proc/<pid>/status` memory line (`VmRSS`, `VmHWM`) in bytes, summed over the
/// process tree.
pub fn memory(pid: u32, field: &str) -> Result<u64, String> {
    let mut total = 0;
    for pid in process_tree(pid) {
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            continue;
        };
        for line in text.lines() {
            if let Some(value) = line
                .strip_prefix(field)
                .and_then(|rest| rest.strip_prefix(':'))
            {
                let kib: u64 = value
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse()
                    .map_err(|e| format!("/proc/{pid}/status {field}: {e}"))?;
                total += kib * 1024;
            }
        }
    }
    if total == 0 {
        return Err(format!("no {field} for process {pid}"));
    }
    Ok(total)
}

/// `(steal, total)` clock ticks of one CPU from `/proc/stat`: time the hypervisor gave
/// to someone else, which shows when a virtual machine's figures are not to be trusted.
pub fn cpu_steal(core: usize) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    let label = format!("cpu{core}");
    let line = text
        .lines()
        .find(|line| line.split_whitespace().next() == Some(label.as_str()))?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|t| t.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal guest guest_nice; guests are
    // already counted in user and nice.
    let total = ticks.iter().take(8).sum();
    Some((*ticks.get(7)?, total))
}
