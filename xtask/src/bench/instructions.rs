//! `cargo xtask bench --instructions`: the instructions the gateway executes per request,
//! counted by callgrind.
//!
//! Wall-clock figures on a shared virtual machine move by up to 20% between runs;
//! callgrind's instruction counts repeat to about 0.1%, so they are what an optimisation is
//! measured with, before and after. The setup is the benchmark's: the fake upstream (nginx)
//! on the load core, and the gateway (release build, `bench/tollgate.toml`) alone on the
//! target core, but under `valgrind --tool=callgrind`, with oha sending a fixed number of
//! requests instead of load for a fixed time. At each point:
//!
//! 1. 200 uncounted requests at the point's concurrency (connections opened, pools filled,
//!    code translated by valgrind);
//! 2. `callgrind_control -z`: the counters zeroed;
//! 3. N requests (`--instructions-requests`, default 2000), every one of which must answer
//!    200;
//! 4. `callgrind_control -d`: the counts dumped into a new file; its total ÷ N is the
//!    figure.
//!
//! The points are fixed, so figures compare across runs: non-streaming at c=1 and c=16,
//! streaming (`"stream": true`, route `bench-stream`) at c=4. The count is every
//! user-space instruction of the gateway process (all threads) while the requests are
//! served; the kernel's work is not in it. The dumps stay in
//! `target/bench/run/instructions/callgrind.<pid>.out.<n>` for `callgrind_annotate`.
//!
//! Needs valgrind (`apt-get install valgrind`, which brings `callgrind_control`); the xtask
//! does not install it. A run takes about 20 seconds (valgrind runs the gateway ~50× slower).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::oha::{self, Load, Shot, Until};
use super::process::{self, Running};
use super::{
    CHAT_PATH, LOAD_CORE, TARGET_CORE, build_gateway, chat_body, free_port, gateway_binary,
    gateway_command, loopback, nginx, prepare, start_upstream, wait_ready,
};

/// Uncounted requests before each point.
const WARMUP_REQUESTS: u64 = 200;

/// One fixed measuring point.
struct Spec {
    /// How the table names it.
    label: &'static str,
    /// Open connections.
    concurrency: usize,
    /// `"stream": true` to the `bench-stream` route, or a plain completion to `bench`.
    stream: bool,
}

/// The points, in order.
const POINTS: [Spec; 3] = [
    Spec {
        label: "non-streaming, c=1",
        concurrency: 1,
        stream: false,
    },
    Spec {
        label: "non-streaming, c=16",
        concurrency: 16,
        stream: false,
    },
    Spec {
        label: "streaming, c=4",
        concurrency: 4,
        stream: true,
    },
];

/// What one point measured.
struct Counted {
    label: &'static str,
    /// Instructions over the counted requests.
    total: u64,
    /// The dump the total was read from.
    dump: PathBuf,
}

/// Counts the gateway's instructions per request at each point and prints a table.
/// `requests` is N per point; `build` runs `cargo build --release` first.
pub fn run(requests: u64, build: bool) -> Result<(), String> {
    if requests == 0 {
        return Err("--instructions-requests must be at least 1".to_owned());
    }
    let valgrind = require("valgrind")?;
    require("callgrind_control")?;
    let paths = prepare()?;
    let nginx = nginx::ensure()?;
    let oha = oha::ensure(&paths.bench)?;
    if build {
        build_gateway()?;
    }
    let binary = gateway_binary(&paths)?;

    // Only this mode's own directory is cleared: the last full run's logs stay.
    let dir = paths.bench.join("run").join("instructions");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| format!("clearing {}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;

    let upstream = start_upstream(&paths, &nginx, &dir)?;
    let port = free_port()?;
    let (serve, envs) = gateway_command(&paths, port, (upstream.port, upstream.stream_port));
    let mut args = vec![
        "--tool=callgrind".to_owned(),
        format!(
            "--callgrind-out-file={}",
            dir.join("callgrind.%p.out").display()
        ),
        "--dump-instr=no".to_owned(),
        "--compress-strings=no".to_owned(),
        "--compress-pos=no".to_owned(),
        "--trace-children=no".to_owned(),
        binary.display().to_string(),
    ];
    args.extend(serve);
    // valgrind's own messages and the gateway's output.
    let log = dir.join("tollgate.log");
    println!(
        "xtask bench: starting the gateway under callgrind on core {TARGET_CORE} (takes seconds)"
    );
    let mut gateway = Running::spawn(
        "tollgate under callgrind",
        TARGET_CORE,
        Path::new("valgrind"),
        &args,
        &envs,
        &log,
    )?;
    let addr = loopback(port);
    let ready = wait_ready(&mut gateway, &log, addr, "GET", "/readyz", "")?;
    println!(
        "xtask bench: ready after {:.1} s; {requests} counted requests per point",
        ready.as_secs_f64()
    );

    // `taskset` execs valgrind, which runs the gateway in its own process: one pid.
    let pid = gateway.pid();
    let url = format!("http://{addr}{CHAT_PATH}");
    let mut last_part = 0;
    let mut counted = Vec::new();
    for spec in &POINTS {
        let label = spec.label;
        let route = if spec.stream { "bench-stream" } else { "bench" };
        let body = chat_body(route, spec.stream);
        let send = |n: u64| {
            oha::run(
                &oha,
                &Shot {
                    url: &url,
                    body: &body,
                    concurrency: spec.concurrency,
                    until: Until::Requests(n),
                    core: LOAD_CORE,
                },
            )
            .and_then(|load| all_answered(&load, n))
            .map_err(|e| {
                format!(
                    "{label}: {e}; the gateway's log, {}:\n{}",
                    log.display(),
                    process::tail(&log, 20)
                )
            })
        };
        println!("xtask bench: {label}");
        send(WARMUP_REQUESTS).map_err(|e| format!("warm-up, {e}"))?;
        callgrind_control("-z", pid)?;
        send(requests)?;
        gateway.check_alive(&log)?;
        callgrind_control("-d", pid)?;
        let (part, dump) = new_dump(&dir, pid, last_part)?;
        last_part = part;
        let total = total_instructions(&dump)?;
        println!(
            "  {:.0} instructions per request ({})",
            total as f64 / requests as f64,
            dump.display()
        );
        counted.push(Counted { label, total, dump });
    }
    drop(gateway);
    drop(upstream);

    println!(
        "\nInstructions per request of `{}` ({valgrind}, callgrind `Ir`: user-space instructions of the gateway process over {requests} requests ÷ {requests}, after {WARMUP_REQUESTS} uncounted).\n",
        binary.display()
    );
    println!("| Point | Requests | Instructions / request |");
    println!("|---|---:|---:|");
    for point in &counted {
        println!(
            "| {} | {} | {} |",
            point.label,
            super::report::thousands(requests as f64),
            super::report::thousands(point.total as f64 / requests as f64)
        );
    }
    println!("\nDumps (open with `callgrind_annotate <file>`):");
    for point in &counted {
        println!("  {}: {}", point.label, point.dump.display());
    }
    Ok(())
}

/// An error unless `program --version` runs; returns its first line.
fn require(program: &str) -> Result<String, String> {
    match Command::new(program).arg("--version").output() {
        Ok(out) if out.status.success() => Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or(program)
            .trim()
            .to_owned()),
        Ok(out) => Err(format!(
            "`{program} --version` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!(
            "--instructions needs valgrind, and `{program}` is not on PATH: install it with `apt-get install valgrind` (it brings callgrind_control)"
        )),
        Err(e) => Err(format!("running `{program} --version`: {e}")),
    }
}

/// An error unless every one of `requests` answered 200, naming what came back instead.
fn all_answered(load: &Load, requests: u64) -> Result<(), String> {
    if load.ok == requests {
        return Ok(());
    }
    let others = if load.failures.is_empty() {
        "oha reported no status or error for the rest".to_owned()
    } else {
        format!("the others: {}", load.failures)
    };
    Err(format!(
        "{} of {requests} requests answered 200; {others}",
        load.ok
    ))
}

/// `callgrind_control <command> <pid>` (`-z` zeroes the counters, `-d` dumps them).
/// It exits 0 even when it cannot reach the process, so its `OK.` is checked for.
fn callgrind_control(command: &str, pid: u32) -> Result<(), String> {
    let out = Command::new("callgrind_control")
        .args([command, &pid.to_string()])
        .output()
        .map_err(|e| format!("running callgrind_control {command} {pid}: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.success() && stdout.lines().any(|line| line.trim() == "OK.") {
        return Ok(());
    }
    Err(format!(
        "callgrind_control {command} {pid} failed ({}): {} {}",
        out.status,
        stdout.trim(),
        String::from_utf8_lossy(&out.stderr).trim()
    ))
}

/// The dump `callgrind_control -d` just wrote: the highest-numbered
/// `callgrind.<pid>.out.<n>` in `dir`, which must be above `after` (the previous point's).
fn new_dump(dir: &Path, pid: u32, after: u64) -> Result<(u64, PathBuf), String> {
    let prefix = format!("callgrind.{pid}.out.");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let entries =
            std::fs::read_dir(dir).map_err(|e| format!("listing {}: {e}", dir.display()))?;
        let newest = entries
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name();
                let part = name.to_str()?.strip_prefix(&prefix)?.parse::<u64>().ok()?;
                Some((part, entry.path()))
            })
            .max_by_key(|(part, _)| *part);
        match newest {
            Some((part, path)) if part > after => return Ok((part, path)),
            _ if Instant::now() >= deadline => {
                return Err(format!(
                    "callgrind_control -d {pid} said OK but no new {}{prefix}<n> appeared within 10 s",
                    dir.join("").display()
                ));
            }
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// The `Ir` total of a callgrind dump: its `summary:` line (in the header), else its
/// `totals:` line (at the end), at the column `events:` gives `Ir`.
fn total_instructions(dump: &Path) -> Result<u64, String> {
    let file = File::open(dump).map_err(|e| format!("opening {}: {e}", dump.display()))?;
    let mut column = None;
    let mut totals = None;
    for line in BufReader::new(file).lines() {
        let line = line.map_err(|e| format!("reading {}: {e}", dump.display()))?;
        if let Some(events) = line.strip_prefix("events:") {
            column = events.split_whitespace().position(|event| event == "Ir");
        } else if let Some(values) = line.strip_prefix("summary:") {
            return value_at(values, column, dump);
        } else if let Some(values) = line.strip_prefix("totals:") {
            totals = Some(value_at(values, column, dump)?);
        }
    }
    totals.ok_or_else(|| {
        format!(
            "{} has no summary: or totals: line (an incomplete dump?)",
            dump.display()
        )
    })
}

/// The `column`th number of a `summary:` / `totals:` line.
fn value_at(values: &str, column: Option<usize>, dump: &Path) -> Result<u64, String> {
    let column = column.ok_or_else(|| {
        format!(
            "{} counts no Ir (its events: line is missing or lacks it)",
            dump.display()
        )
    })?;
    let value = values.split_whitespace().nth(column).ok_or_else(|| {
        format!(
            "{}: the total line {values:?} has no Ir column",
            dump.display()
        )
    })?;
    value
        .parse()
        .map_err(|e| format!("{}: Ir total {value:?}: {e}", dump.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_total_is_read_from_the_summary_else_the_totals_at_the_ir_column() {
        let dir = std::env::temp_dir().join(format!("xtask-callgrind-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let summary = dir.join("summary");
        std::fs::write(
            &summary,
            "# callgrind format\nevents: Dr Ir\nsummary: 7 1234\n\nfn=main\n0 5 6\ntotals: 7 1235\n",
        )
        .unwrap();
        assert_eq!(total_instructions(&summary).unwrap(), 1234);
        let totals = dir.join("totals");
        std::fs::write(&totals, "events: Ir\nfn=main\n0 5\ntotals: 99\n").unwrap();
        assert_eq!(total_instructions(&totals).unwrap(), 99);
        let empty = dir.join("empty");
        std::fs::write(&empty, "events: Ir\nfn=main\n").unwrap();
        assert!(
            total_instructions(&empty)
                .unwrap_err()
                .contains("no summary")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_short_count_names_what_came_back() {
        let load = Load {
            ok: 1990,
            failed: 10,
            failures: "10× HTTP 502".to_owned(),
            rps: 0.0,
            p50: 0.0,
            p99: 0.0,
        };
        assert_eq!(
            all_answered(&load, 2000).unwrap_err(),
            "1990 of 2000 requests answered 200; the others: 10× HTTP 502"
        );
        assert!(all_answered(&load, 1990).is_ok());
    }
}
