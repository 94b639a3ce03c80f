//! `cargo xtask bench`: the gateway against its peers, on one machine, over loopback.
//!
//! Targets, each in front of the same fake OpenAI upstream (nginx answering a fixed
//! `chat.completion`, or a fixed chunk stream):
//!
//! - `direct` — the upstream alone: the floor every other target adds to;
//! - `nginx` — a bare nginx reverse proxy: the floor of one proxy hop;
//! - `tollgate` — the gateway (`tollgate serve`, release build);
//! - `litellm` — LiteLLM's proxy (PyPI, pinned, in a venv under `target/bench`), opt-in.
//!
//! The target runs alone on one core (`taskset -c 1`); oha, the upstream and this harness
//! share the other (`taskset -c 0`). For each target: time to ready, idle RSS, then
//! closed-loop load at each concurrency (RPS, p50/p99, CPU time per request from
//! `/proc/<pid>/stat`), peak RSS, and streaming time to first token. The results are
//! printed as markdown and written into `docs/benchmarks.md` between its result markers.
//!
//! `cargo xtask bench --instructions` measures something else: the instructions the
//! gateway executes per request, counted by callgrind (valgrind), which repeat to about
//! 0.1% between runs where wall-clock figures on a shared machine move by 20%. It is the
//! figure to compare before and after an optimisation. See [`instructions`].

mod http;
mod instructions;
mod litellm;
mod machine;
mod nginx;
mod oha;
mod process;
mod report;
mod ttft;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::Args;

use self::http::Connection;
use self::oha::{Load, Shot, Until};
use self::process::Running;
use self::ttft::Ttft;

/// The core the load generator, the upstream and the harness share.
const LOAD_CORE: usize = 0;
/// The core the target under test runs alone on.
const TARGET_CORE: usize = 1;
/// The chat endpoint every target serves.
const CHAT_PATH: &str = "/v1/chat/completions";

/// `cargo xtask bench` options.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Seconds of load per concurrency point.
    #[arg(long, default_value_t = 8.0)]
    duration: f64,
    /// Seconds of untimed load before a target's first point.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// A fast, noisier run: 2 s per point, 0.5 s warm-up, 100 TTFT samples.
    #[arg(long)]
    quick: bool,
    /// Concurrency points (open connections).
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    concurrency: Vec<usize>,
    /// Targets to run, in order: direct, nginx, tollgate, litellm.
    #[arg(long, value_delimiter = ',', default_value = "direct,nginx,tollgate")]
    targets: Vec<String>,
    /// Also run LiteLLM's proxy (installs it into target/bench/litellm on first use).
    #[arg(long)]
    litellm: bool,
    /// Streaming requests timed per target for time to first token.
    #[arg(long, default_value_t = 500)]
    ttft_samples: usize,
    /// Record a CPU profile of the gateway (perf) during one more run at the highest
    /// concurrency, and print its top symbols.
    #[arg(long)]
    profile: bool,
    /// Use the gateway binary as it is: do not run `cargo build --release` first.
    #[arg(long)]
    no_build: bool,
    /// Print the results only; leave docs/benchmarks.md alone.
    #[arg(long)]
    no_write: bool,
    /// Instead of the benchmark: count the gateway's instructions per request under
    /// callgrind (needs valgrind), at fixed points (c=1, c=16, streaming c=4); prints a
    /// table, writes no docs.
    #[arg(
        long,
        conflicts_with_all = ["duration", "warmup", "quick", "concurrency", "targets", "litellm", "ttft_samples", "profile"]
    )]
    instructions: bool,
    /// Requests counted per point with --instructions (after 200 uncounted).
    #[arg(long, default_value_t = 2000, requires = "instructions")]
    instructions_requests: u64,
}

/// One load point of one target.
pub struct Point {
    /// Open connections.
    pub concurrency: usize,
    /// What oha measured.
    pub load: Load,
    /// CPU seconds the target spent per request.
    pub cpu_per_request: f64,
    /// CPU seconds per wall second: how busy the target's core was.
    pub busy: f64,
    /// Share of the target core's time the hypervisor stole during the point.
    pub steal: Option<f64>,
}

/// Everything measured for one target.
pub struct Measured {
    /// The target's name (`direct`, `nginx`, `tollgate`, `litellm`).
    pub name: String,
    /// Spawn to first successful answer.
    pub ready: Duration,
    /// VmRSS before any load.
    pub idle_rss: u64,
    /// VmHWM after every load point.
    pub peak_rss: u64,
    /// The load points, in `--concurrency` order.
    pub points: Vec<Point>,
    /// Streaming time to first token.
    pub ttft: Ttft,
}

/// A target's result: measured, or why not.
pub enum Outcome {
    /// It ran.
    Measured(Measured),
    /// It could not be measured.
    Failed {
        /// The target's name.
        name: String,
        /// Why.
        error: String,
    },
}

/// Where everything lives.
struct Paths {
    /// The workspace root.
    root: PathBuf,
    /// `target/bench`.
    bench: PathBuf,
    /// The gateway binary.
    tollgate: PathBuf,
}

/// How one target is reached.
struct Endpoint {
    addr: SocketAddr,
    stream_addr: SocketAddr,
    body: String,
    stream_body: String,
}

/// Runs the benchmark.
pub fn run(mut args: BenchArgs) -> Result<(), String> {
    if args.instructions {
        return instructions::run(args.instructions_requests, !args.no_build);
    }
    if args.quick {
        args.duration = 2.0;
        args.warmup = 0.5;
        args.ttft_samples = args.ttft_samples.min(100);
    }
    if args.litellm && !args.targets.iter().any(|t| t == "litellm") {
        args.targets.push("litellm".to_owned());
    }
    if let Some(unknown) = args
        .targets
        .iter()
        .find(|t| !["direct", "nginx", "tollgate", "litellm"].contains(&t.as_str()))
    {
        return Err(format!(
            "unknown target {unknown:?}: choose from direct, nginx, tollgate, litellm"
        ));
    }
    if args.concurrency.is_empty() || args.concurrency.contains(&0) {
        return Err("--concurrency needs positive numbers".to_owned());
    }
    if args.duration.is_nan() || args.duration <= 0.0 || args.warmup.is_nan() || args.warmup < 0.0 {
        return Err("--duration must be positive and --warmup not negative".to_owned());
    }
    let paths = prepare()?;
    let nginx = nginx::ensure()?;
    let oha = oha::ensure(&paths.bench)?;
    if args.targets.iter().any(|t| t == "tollgate") && !args.no_build {
        build_gateway()?;
    }
    let litellm = if args.targets.iter().any(|t| t == "litellm") {
        Some(litellm::ensure(&paths.bench))
    } else {
        None
    };

    let run_dir = paths.bench.join("run");
    let _ = std::fs::remove_dir_all(&run_dir);
    std::fs::create_dir_all(&run_dir)
        .map_err(|e| format!("creating {}: {e}", run_dir.display()))?;

    let Upstream {
        running: mut upstream,
        port: upstream_port,
        stream_port: upstream_stream_port,
        ready: upstream_ready,
    } = start_upstream(&paths, &nginx, &run_dir)?;
    let direct = Endpoint {
        addr: loopback(upstream_port),
        stream_addr: loopback(upstream_stream_port),
        body: chat_body("bench", false),
        stream_body: chat_body("bench", true),
    };

    let harness = Harness {
        args: &args,
        oha: &oha,
        nginx: &nginx,
        run_dir: &run_dir,
        paths: &paths,
        upstream_port,
        upstream_stream_port,
    };
    let mut outcomes = Vec::new();
    for name in &args.targets {
        println!("xtask bench: {name}");
        let result = match name.as_str() {
            "direct" => harness.measure("direct", &mut upstream, upstream_ready, &direct),
            "nginx" => harness.nginx_proxy(),
            "tollgate" => harness.tollgate(),
            _ => match &litellm {
                Some(Ok(venv)) => harness.litellm(venv),
                Some(Err(e)) => Err(e.clone()),
                None => Err("LiteLLM was not prepared".to_owned()),
            },
        };
        outcomes.push(match result {
            Ok(measured) => Outcome::Measured(measured),
            Err(error) => {
                eprintln!("xtask bench: {name} failed: {error}");
                Outcome::Failed {
                    name: name.clone(),
                    error,
                }
            }
        });
    }
    drop(upstream);

    let versions = report::Versions {
        machine: machine::Machine::probe(),
        nginx: nginx::version(&nginx),
        oha: oha::version(&oha).unwrap_or_else(|| "unknown".to_owned()),
        litellm: litellm
            .and_then(Result::ok)
            .map(|_| litellm::LITELLM_VERSION.to_owned()),
    };
    let settings = report::Settings {
        duration: args.duration,
        warmup: args.warmup,
        ttft_samples: args.ttft_samples,
        quick: args.quick,
    };
    let markdown = report::render(&versions, &settings, &outcomes);
    println!("\n{markdown}");
    if !args.no_write {
        let doc = paths.root.join("docs").join("benchmarks.md");
        report::write_into(&doc, &markdown)?;
        println!("xtask bench: wrote {}", doc.display());
    }
    if outcomes.iter().any(|o| matches!(o, Outcome::Failed { .. })) {
        return Err("some targets could not be measured (see above)".to_owned());
    }
    Ok(())
}

/// What every target run needs.
struct Harness<'a> {
    args: &'a BenchArgs,
    oha: &'a Path,
    nginx: &'a Path,
    run_dir: &'a Path,
    paths: &'a Paths,
    upstream_port: u16,
    upstream_stream_port: u16,
}

impl Harness<'_> {
    /// The bare nginx reverse proxy.
    fn nginx_proxy(&self) -> Result<Measured, String> {
        let port = free_port()?;
        let stream_port = free_port()?;
        let dir = self.run_dir.join("nginx");
        let conf = nginx::render(
            &read_asset(&self.paths.root, "nginx-proxy.conf.template")?,
            &[
                ("RUN_DIR", dir.display().to_string()),
                ("PORT", port.to_string()),
                ("STREAM_PORT", stream_port.to_string()),
                ("UPSTREAM_COMPLETION_PORT", self.upstream_port.to_string()),
                (
                    "UPSTREAM_STREAM_PORT",
                    self.upstream_stream_port.to_string(),
                ),
            ],
        )?;
        let mut proxy = nginx::start("nginx proxy", self.nginx, &dir, &conf, TARGET_CORE)?;
        let endpoint = Endpoint {
            addr: loopback(port),
            stream_addr: loopback(stream_port),
            body: chat_body("bench", false),
            stream_body: chat_body("bench", true),
        };
        let ready = wait_ready(
            &mut proxy,
            &dir.join("stderr.log"),
            endpoint.addr,
            "POST",
            CHAT_PATH,
            &endpoint.body,
        )?;
        self.measure("nginx", &mut proxy, ready, &endpoint)
    }

    /// The gateway: `tollgate serve --config bench/tollgate.toml`.
    fn tollgate(&self) -> Result<Measured, String> {
        let binary = gateway_binary(self.paths)?;
        let port = free_port()?;
        let log = self.run_dir.join("tollgate.log");
        let (args, envs) = gateway_command(
            self.paths,
            port,
            (self.upstream_port, self.upstream_stream_port),
        );
        let mut gateway = Running::spawn("tollgate", TARGET_CORE, binary, &args, &envs, &log)?;
        let endpoint = Endpoint {
            addr: loopback(port),
            stream_addr: loopback(port),
            body: chat_body("bench", false),
            stream_body: chat_body("bench-stream", true),
        };
        let ready = wait_ready(&mut gateway, &log, endpoint.addr, "GET", "/readyz", "")?;
        // Ready is not enough: the bench route must answer.
        probe(endpoint.addr, CHAT_PATH, &endpoint.body).map_err(|e| {
            format!(
                "tollgate is ready but cannot serve the bench route: {e}; its log:\n{}",
                process::tail(&log, 20)
            )
        })?;
        let measured = self.measure("tollgate", &mut gateway, ready, &endpoint)?;
        if self.args.profile {
            self.profile(&gateway, &endpoint)?;
        }
        Ok(measured)
    }

    /// LiteLLM's proxy, one worker.
    fn litellm(&self, venv: &Path) -> Result<Measured, String> {
        let port = free_port()?;
        let dir = self.run_dir.join("litellm");
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let (mut proxy, log) = litellm::start(
            venv,
            &dir,
            port,
            (self.upstream_port, self.upstream_stream_port),
            TARGET_CORE,
        )?;
        let endpoint = Endpoint {
            addr: loopback(port),
            stream_addr: loopback(port),
            body: chat_body("bench", false),
            stream_body: chat_body("bench-stream", true),
        };
        let ready = wait_ready(
            &mut proxy,
            &log,
            endpoint.addr,
            "POST",
            CHAT_PATH,
            &endpoint.body,
        )?;
        self.measure("litellm", &mut proxy, ready, &endpoint)
    }

    /// One oha run against `endpoint`.
    fn load(&self, endpoint: &Endpoint, concurrency: usize, seconds: f64) -> Result<Load, String> {
        let url = format!("http://{}{CHAT_PATH}", endpoint.addr);
        oha::run(
            self.oha,
            &Shot {
                url: &url,
                body: &endpoint.body,
                concurrency,
                until: Until::Elapsed(Duration::from_secs_f64(seconds)),
                core: LOAD_CORE,
            },
        )
    }

    /// Idle RSS, warm-up, every load point, peak RSS, time to first token.
    fn measure(
        &self,
        name: &str,
        target: &mut Running,
        ready: Duration,
        endpoint: &Endpoint,
    ) -> Result<Measured, String> {
        let args = self.args;
        let pid = target.pid();
        let idle_rss = process::memory(pid, "VmRSS")?;
        let top = args.concurrency.iter().copied().max().unwrap_or(1);
        if args.warmup > 0.0 {
            // A slow target may finish nothing within a short warm-up: not an error.
            if let Err(e) = self.load(endpoint, top, args.warmup) {
                eprintln!("xtask bench: {name} warm-up: {e}");
            }
        }
        let ticks = process::clock_ticks_per_second();
        let mut points = Vec::new();
        for &concurrency in &args.concurrency {
            let before = process::cpu_ticks(pid)?;
            let steal_before = process::cpu_steal(TARGET_CORE);
            let started = Instant::now();
            let load = self
                .load(endpoint, concurrency, args.duration)
                .map_err(|e| format!("c={concurrency}: {e}"))?;
            let wall = started.elapsed().as_secs_f64();
            let cpu = process::cpu_ticks(pid)?.saturating_sub(before) as f64 / ticks;
            let steal = match (steal_before, process::cpu_steal(TARGET_CORE)) {
                (Some((s0, t0)), Some((s1, t1))) if t1 > t0 => {
                    Some(s1.saturating_sub(s0) as f64 / (t1 - t0) as f64)
                }
                _ => None,
            };
            if load.failed > 0 {
                eprintln!(
                    "xtask bench: {name} c={concurrency}: {} requests failed: {}",
                    load.failed, load.failures
                );
            }
            let requests = (load.ok + load.failed).max(1) as f64;
            let point = Point {
                concurrency,
                cpu_per_request: cpu / requests,
                busy: cpu / wall,
                steal,
                load,
            };
            println!(
                "  c={concurrency:<3} {:>8.0} rps  p50 {:>7.3} ms  p99 {:>7.3} ms  cpu/req {:>6.1} µs  core {:>3.0}%  steal {:>2.0}%",
                point.load.rps,
                point.load.p50 * 1e3,
                point.load.p99 * 1e3,
                point.cpu_per_request * 1e6,
                point.busy * 100.0,
                point.steal.unwrap_or(0.0) * 100.0
            );
            points.push(point);
        }
        let peak_rss = process::memory(pid, "VmHWM")?;
        let ttft = ttft::measure(
            endpoint.stream_addr,
            CHAT_PATH,
            &endpoint.stream_body,
            args.ttft_samples / 10 + 1,
            args.ttft_samples,
        )?;
        println!(
            "  ready {:.1} ms  idle RSS {:.1} MiB  peak RSS {:.1} MiB  TTFT p50 {:.3} ms p99 {:.3} ms",
            ready.as_secs_f64() * 1e3,
            mib(idle_rss),
            mib(peak_rss),
            ttft.p50 * 1e3,
            ttft.p99 * 1e3
        );
        Ok(Measured {
            name: name.to_owned(),
            ready,
            idle_rss,
            peak_rss,
            points,
            ttft,
        })
    }

    /// Samples the gateway with `perf record` during one more run at the top concurrency
    /// and prints the hottest symbols (full report in `target/bench/perf-report.txt`).
    fn profile(&self, gateway: &Running, endpoint: &Endpoint) -> Result<(), String> {
        let data = self.paths.bench.join("perf.data");
        let mut perf = Command::new("perf")
            .args(["record", "-F", "1999", "-g", "-o"])
            .arg(&data)
            .args(["-p", &gateway.pid().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("perf record: {e} (install linux-perf)"))?;
        std::thread::sleep(Duration::from_millis(300));
        let top = self.args.concurrency.iter().copied().max().unwrap_or(64);
        let load = self.load(endpoint, top, self.args.duration);
        let _ = Command::new("kill")
            .args(["-INT", &perf.id().to_string()])
            .status();
        let _ = perf.wait();
        load?;
        let mut text = String::new();
        for sort in ["dso", "dso,symbol"] {
            let report = Command::new("perf")
                .args([
                    "report",
                    "--no-children",
                    "--stdio",
                    "--percent-limit",
                    "0.5",
                ])
                .args(["--sort", sort, "-g", "none", "-i"])
                .arg(&data)
                .output()
                .map_err(|e| format!("perf report: {e}"))?;
            for line in String::from_utf8_lossy(&report.stdout).lines() {
                if !line.starts_with('#') && !line.trim().is_empty() {
                    // perf pads its columns to the widest symbol: squeeze the blanks.
                    let mut words: Vec<&str> = line.split_whitespace().collect();
                    // Empty trailing columns print as `-`.
                    while words.last() == Some(&"-") {
                        words.pop();
                    }
                    text.push_str(&words.join(" "));
                    text.push('\n');
                }
            }
            text.push('\n');
        }
        let out = self.paths.bench.join("perf-report.txt");
        std::fs::write(&out, &text).map_err(|e| format!("writing {}: {e}", out.display()))?;
        println!(
            "xtask bench: gateway CPU profile at c={top}, self time by library, then by symbol (full: {}):",
            out.display()
        );
        for line in text.lines().take(40) {
            println!("  {line}");
        }
        Ok(())
    }
}

/// The fake OpenAI upstream, running on the load core.
struct Upstream {
    running: Running,
    /// The port answering a complete `chat.completion`.
    port: u16,
    /// The port answering a chunk stream.
    stream_port: u16,
    /// Spawn to the first 200.
    ready: Duration,
}

/// Renders `bench/nginx-upstream.conf.template` into `run_dir/upstream` and starts nginx
/// on the load core, on two free ports; returns once it answers a chat completion.
fn start_upstream(paths: &Paths, nginx: &Path, run_dir: &Path) -> Result<Upstream, String> {
    let port = free_port()?;
    let stream_port = free_port()?;
    let completion = read_asset(&paths.root, "completion.json")?;
    let completion: serde_json::Value = serde_json::from_str(&completion)
        .map_err(|e| format!("bench/completion.json is not JSON: {e}"))?;
    let stream = read_asset(&paths.root, "stream.sse")?;
    let dir = run_dir.join("upstream");
    let conf = nginx::render(
        &read_asset(&paths.root, "nginx-upstream.conf.template")?,
        &[
            ("RUN_DIR", dir.display().to_string()),
            ("COMPLETION_PORT", port.to_string()),
            ("STREAM_PORT", stream_port.to_string()),
            ("COMPLETION_BODY", nginx::quote(&completion.to_string())?),
            ("STREAM_BODY", nginx::quote(&stream)?),
        ],
    )?;
    println!("xtask bench: starting the fake upstream (nginx) on core {LOAD_CORE}");
    let mut running = nginx::start("upstream", nginx, &dir, &conf, LOAD_CORE)?;
    let ready = wait_ready(
        &mut running,
        &dir.join("stderr.log"),
        loopback(port),
        "POST",
        CHAT_PATH,
        &chat_body("bench", false),
    )?;
    Ok(Upstream {
        running,
        port,
        stream_port,
        ready,
    })
}

/// The gateway binary (`target/release/tollgate`), which must have been built.
fn gateway_binary(paths: &Paths) -> Result<&Path, String> {
    if paths.tollgate.is_file() {
        Ok(&paths.tollgate)
    } else {
        Err(format!(
            "{} is missing: build it with cargo build --release -p tollgate-gateway",
            paths.tollgate.display()
        ))
    }
}

/// The gateway's arguments (`serve --config bench/tollgate.toml --listen 127.0.0.1:PORT`)
/// and the environment `bench/tollgate.toml` reads (the upstream's two ports).
fn gateway_command(
    paths: &Paths,
    port: u16,
    (upstream_port, upstream_stream_port): (u16, u16),
) -> (Vec<String>, Vec<(String, String)>) {
    let config = paths.root.join("bench").join("tollgate.toml");
    let args = vec![
        "serve".to_owned(),
        "--config".to_owned(),
        config.display().to_string(),
        "--listen".to_owned(),
        loopback(port).to_string(),
    ];
    let envs = [
        ("TOLLGATE_BENCH_API_KEY", "sk-bench".to_owned()),
        ("TOLLGATE_BENCH_UPSTREAM_PORT", upstream_port.to_string()),
        (
            "TOLLGATE_BENCH_UPSTREAM_STREAM_PORT",
            upstream_stream_port.to_string(),
        ),
    ]
    .map(|(key, value)| (key.to_owned(), value))
    .to_vec();
    (args, envs)
}

/// Polls until `method path` answers 200; returns the time since the process was spawned.
fn wait_ready(
    target: &mut Running,
    log: &Path,
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
) -> Result<Duration, String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = String::from("no answer");
    while Instant::now() < deadline {
        target.check_alive(log)?;
        match Connection::open(addr, Duration::from_secs(2))
            .and_then(|mut conn| conn.request(method, path, body.as_bytes(), |_| {}))
        {
            Ok(200) => return Ok(target.spawned_at.elapsed()),
            Ok(status) => last = format!("HTTP {status}"),
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(Duration::from_micros(500));
    }
    Err(format!(
        "{addr}{path} did not answer 200 within 60 s (last: {last}); log {}:\n{}",
        log.display(),
        process::tail(log, 20)
    ))
}

/// One request that must answer 200.
fn probe(addr: SocketAddr, path: &str, body: &str) -> Result<(), String> {
    let mut body_text = Vec::new();
    let status = Connection::open(addr, Duration::from_secs(5))
        .and_then(|mut conn| {
            conn.request("POST", path, body.as_bytes(), |b| {
                body_text.extend_from_slice(b)
            })
        })
        .map_err(|e| e.to_string())?;
    if status == 200 {
        Ok(())
    } else {
        Err(format!(
            "HTTP {status}: {}",
            String::from_utf8_lossy(&body_text)
        ))
    }
}

/// The chat request every target gets (`model` names the gateway's route).
fn chat_body(model: &str, stream: bool) -> String {
    serde_json::json!({
        "model": model,
        "messages": [
            {"role": "system", "content": "You are a terse assistant."},
            {"role": "user", "content": "What does a lighthouse keeper's log record?"}
        ],
        "max_tokens": 64,
        "stream": stream,
    })
    .to_string()
}

fn build_gateway() -> Result<(), String> {
    println!("xtask bench: cargo build --release -p tollgate-gateway");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "-p", "tollgate-gateway"])
        .status()
        .map_err(|e| format!("cargo build: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("building the gateway failed ({status})"))
    }
}

/// What every mode needs first: two cores, this process pinned to the load core, and
/// `target/bench`.
fn prepare() -> Result<Paths, String> {
    let cores = machine::Machine::probe().nproc;
    if cores < 2 {
        return Err(format!(
            "the bench pins the target and the load generator to separate cores; this machine has {cores}"
        ));
    }
    pin_self(LOAD_CORE)?;
    let paths = paths();
    std::fs::create_dir_all(&paths.bench)
        .map_err(|e| format!("creating {}: {e}", paths.bench.display()))?;
    Ok(paths)
}

/// Pins this process (and so everything it starts) to `core`.
fn pin_self(core: usize) -> Result<(), String> {
    let status = Command::new("taskset")
        .args([
            "-p",
            "-c",
            &core.to_string(),
            &std::process::id().to_string(),
        ])
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("taskset (util-linux) is needed: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("taskset -p failed ({status})"))
    }
}

fn paths() -> Paths {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    Paths {
        bench: target.join("bench"),
        tollgate: target.join("release").join("tollgate"),
        root,
    }
}

fn read_asset(root: &Path, name: &str) -> Result<String, String> {
    let path = root.join("bench").join(name);
    std::fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("finding a free port: {e}"))
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Bytes in MiB.
pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
