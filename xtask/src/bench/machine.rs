//! What the figures were measured on: the machine and the versions of everything in the
//! request path.

use std::process::Command;

/// Machine and software facts, printed above the tables.
pub struct Machine {
    /// Online CPUs.
    pub nproc: usize,
    /// `/proc/cpuinfo`'s model name.
    pub cpu: String,
    /// `/proc/sys/kernel/osrelease`.
    pub kernel: String,
    /// `rustc --version`.
    pub rustc: String,
    /// The tollgate commit (`+dirty` with uncommitted changes).
    pub commit: String,
    /// UTC date of the run.
    pub date: String,
}

impl Machine {
    /// Reads the facts; unknown ones say so.
    pub fn probe() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|line| {
                line.strip_prefix("model name")
                    .and_then(|rest| rest.split_once(':'))
                    .map(|(_, name)| name.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".to_owned());
        let nproc = std::thread::available_parallelism().map_or(1, usize::from);
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_or_else(|_| "unknown".to_owned(), |s| s.trim().to_owned());
        let commit = output("git", &["rev-parse", "--short=12", "HEAD"]);
        let dirty = !output("git", &["status", "--porcelain"]).is_empty();
        Self {
            nproc: online_cpus().unwrap_or(nproc),
            cpu,
            kernel,
            rustc: output("rustc", &["--version"]),
            commit: if dirty {
                format!("{commit}+dirty")
            } else {
                commit
            },
            date: output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        }
    }
}

/// `/sys/devices/system/cpu/online` (`0-1`) as a count: unlike the affinity mask, it does
/// not shrink when the xtask pins itself.
fn online_cpus() -> Option<usize> {
    let text = std::fs::read_to_string("/sys/devices/system/cpu/online").ok()?;
    let mut count = 0;
    for range in text.trim().split(',') {
        match range.split_once('-') {
            Some((a, b)) => count += b.parse::<usize>().ok()? - a.parse::<usize>().ok()? + 1,
            None => count += 1,
        }
    }
    Some(count)
}

/// A command's trimmed stdout, or `unknown`.
pub fn output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}
