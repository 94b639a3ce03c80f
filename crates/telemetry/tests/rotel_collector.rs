//! End to end: spans and metrics exported over OTLP gRPC *and* HTTP/protobuf to a real
//! collector process (rotel, with its debug log of what it received).
//!
//! The collector comes from PyPI (`rotel==0.0.1a15`, whose wheel ships `rotel-agent`).
//! `cargo xtask ci` installs it and sets `TOLLGATE_ROTEL_AGENT`; under plain `cargo test`
//! this test installs it the same way into `target/tools/venv`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::Read as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::*;
use tollgate_core::pricing::PriceTable;
use tollgate_core::{ChatRequest, ErrorKind, Price, Usage, boxed};
use tollgate_telemetry::{ContentCapture, Protocol, TelemetryLayer};
use tower::{Layer, ServiceExt};

const ROTEL_VERSION: &str = "0.0.1a15";

/// `TOLLGATE_ROTEL_AGENT`, or rotel installed into `target/tools/venv` as xtask does.
fn rotel_agent() -> PathBuf {
    if let Some(path) = std::env::var_os("TOLLGATE_ROTEL_AGENT") {
        return PathBuf::from(path);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    );
    let venv = target.join("tools").join("venv");
    let find = || -> Option<PathBuf> {
        std::fs::read_dir(venv.join("lib"))
            .ok()?
            .flatten()
            .find_map(|entry| {
                let site = entry.path().join("site-packages");
                let agent = site.join("rotel").join("rotel-agent");
                (agent.is_file()
                    && site
                        .join(format!("rotel-{ROTEL_VERSION}.dist-info"))
                        .is_dir())
                .then_some(agent)
            })
    };
    if let Some(agent) = find() {
        return agent;
    }
    let install = || -> Result<(), String> {
        std::fs::create_dir_all(venv.parent().unwrap()).map_err(|e| e.to_string())?;
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .map_err(|e| e.to_string())?;
        if !ok.success() {
            return Err(format!("python3 -m venv failed ({ok})"));
        }
        let ok = Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .arg(format!("rotel=={ROTEL_VERSION}"))
            .status()
            .map_err(|e| e.to_string())?;
        if !ok.success() {
            return Err(format!("pip install rotel=={ROTEL_VERSION} failed ({ok})"));
        }
        Ok(())
    };
    if let Err(e) = install() {
        panic!(
            "could not install the rotel collector ({e}); run `cargo xtask ci`, or set TOLLGATE_ROTEL_AGENT to a rotel-agent binary"
        );
    }
    find().expect("rotel installed but rotel-agent not found")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The collector process; killed (by its own id) when dropped.
struct Rotel {
    child: Child,
    output: PathBuf,
    _dir: TempDir,
}

impl Drop for Rotel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Rotel {
    fn start(grpc: u16, http: u16) -> Self {
        let dir =
            std::env::temp_dir().join(format!("tollgate-rotel-{}-{grpc}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let output = dir.join("output.log");
        let out = std::fs::File::create(&output).unwrap();
        let child = Command::new(rotel_agent())
            .args(["--log-format", "json", "start"])
            .args(["--otlp-grpc-endpoint", &format!("127.0.0.1:{grpc}")])
            .args(["--otlp-http-endpoint", &format!("127.0.0.1:{http}")])
            .args(["--exporter", "blackhole"])
            .args(["--debug-log", "traces", "--debug-log", "metrics"])
            .args(["--debug-log-verbosity", "detailed"])
            .arg("--pid-file")
            .arg(dir.join("rotel.pid"))
            .arg("--log-file")
            .arg(dir.join("rotel.log"))
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("start rotel-agent");
        let rotel = Self {
            child,
            output,
            _dir: TempDir(dir),
        };
        for port in [grpc, http] {
            rotel.wait_until(
                || TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))).is_ok(),
                "to listen",
            );
        }
        rotel
    }

    fn output(&self) -> String {
        let mut text = String::new();
        std::fs::File::open(&self.output)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        text
    }

    /// Polls (bounded) for a condition on the collector's side; no timing is asserted.
    fn wait_until(&self, mut done: impl FnMut() -> bool, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !done() {
            assert!(
                Instant::now() < deadline,
                "rotel did not {what} in 30 s; output:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A fallback (rate-limited primary, answering backup) and a stream, through request and
/// attempt layers; `tag` tells the two protocols' data apart in the collector's log.
async fn scenario(meter: opentelemetry::metrics::Meter, tag: &'static str) {
    let price = Price::per_million(3.0, 15.0).with_cache_read(0.3);
    let mut table = PriceTable::default();
    table.insert("anthropic", "claude-sonnet-4-5", price);
    let table = Arc::new(table);
    let usage = Usage {
        input_tokens: 1000,
        output_tokens: 100,
        cache_read_tokens: 400,
        ..Usage::default()
    };
    let primary = FakeProvider::new(
        "openai",
        vec![Script::Fail {
            delay: Duration::from_millis(120),
            kind: ErrorKind::RateLimited,
        }],
    );
    let backup = FakeProvider::new(
        "anthropic",
        vec![Script::Stream(stream_events(
            "msg_rotel",
            "claude-sonnet-4-5",
            Duration::from_millis(250),
            &[
                (Duration::ZERO, "Hello"),
                (Duration::from_millis(20), " there"),
            ],
            usage,
        ))],
    );
    let attempt = TelemetryLayer::attempt(table.clone())
        .meter(meter.clone())
        .capture_content(ContentCapture::On);
    let router = TinyFallback {
        route: "rotel-route",
        deployments: vec![
            ("primary", "gpt-4o-mini", boxed(attempt.layer(primary))),
            ("backup", "claude-sonnet-4-5", boxed(attempt.layer(backup))),
        ],
    };
    let stack = TelemetryLayer::request(table)
        .meter(meter)
        .capture_content(ContentCapture::On)
        .layer(router);
    let mut request = ChatRequest::new("rotel-route")
        .user("Say hello")
        .streaming(true)
        .tag("task", tag);
    request
        .extensions
        .insert(tollgate_core::Secret::new(API_KEY));
    let reply = stack.oneshot(request).await.unwrap();
    assert_eq!(reply.into_response().await.unwrap().text(), "Hello there");
}

#[test]
fn a_real_collector_receives_spans_and_metrics_over_grpc_and_http() {
    let (grpc, http) = (free_port(), free_port());
    let rotel = Rotel::start(grpc, http);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    run_exported(
        Protocol::Grpc,
        format!("http://127.0.0.1:{grpc}"),
        runtime.handle().clone(),
        |m| scenario(m, "via-grpc"),
    );
    run_exported(
        Protocol::HttpProtobuf,
        format!("http://127.0.0.1:{http}"),
        runtime.handle().clone(),
        |m| scenario(m, "via-http"),
    );

    let expected = [
        "via-grpc",
        "via-http",
        "chat rotel-route",
        "chat gpt-4o-mini",
        "chat claude-sonnet-4-5",
        "rate_limited",
        "tollgate.cost.usd",
        "gen_ai.response.time_to_first_chunk",
        "gen_ai.client.operation.duration",
        "gen_ai.client.token.usage",
        "gen_ai.client.operation.time_to_first_chunk",
        "tollgate.client.cost",
    ];
    rotel.wait_until(
        || {
            let out = rotel.output();
            expected.iter().all(|e| out.contains(e))
        },
        "log every expected span and metric",
    );
    let output = rotel.output();
    assert_absent(output.as_bytes(), API_KEY, "the collector's output");

    let cost = Usage {
        input_tokens: 1000,
        output_tokens: 100,
        cache_read_tokens: 400,
        ..Usage::default()
    }
    .cost(&Price::per_million(3.0, 15.0).with_cache_read(0.3))
    .total();
    let spans = logged_spans(&output);
    for tag in ["via-grpc", "via-http"] {
        let task = format!("Str({tag})");
        let mine: Vec<&LoggedSpan> = spans
            .iter()
            .filter(|s| s.attrs.get("tollgate.task") == Some(&task))
            .collect();
        assert_eq!(mine.len(), 3, "{tag}: {mine:#?}");
        let request = mine.iter().find(|s| s.name == "chat rotel-route").unwrap();
        // The log fields must have been found: empty ids would make the tree checks
        // below compare "" with "".
        assert!(
            !request.id.is_empty() && !request.trace.is_empty(),
            "{tag}: rotel's log format changed: {request:#?}"
        );
        assert_eq!(request.parent, "", "{tag}: the request span is a root");
        let failed = mine.iter().find(|s| s.name == "chat gpt-4o-mini").unwrap();
        let answered = mine
            .iter()
            .find(|s| s.name == "chat claude-sonnet-4-5")
            .unwrap();
        for attempt in [failed, answered] {
            assert_eq!(attempt.trace, request.trace, "{tag}");
            assert_eq!(
                attempt.parent, request.id,
                "{tag}: attempts are children of the request span"
            );
            assert_eq!(attempt.kind, "SPAN_KIND_CLIENT");
        }
        assert_eq!(failed.status, "STATUS_CODE_ERROR");
        assert_eq!(failed.attrs["error.type"], "Str(rate_limited)");
        assert_eq!(failed.attrs["tollgate.attempt"], "Int(1)");
        assert_eq!(answered.attrs["tollgate.attempt"], "Int(2)");
        assert_eq!(answered.attrs["tollgate.fallback_index"], "Int(1)");
        assert_eq!(
            request.attrs["tollgate.failed_attempts.error_types"],
            "Slice(Str(rate_limited))"
        );
        for span in [request, answered] {
            assert_eq!(span.attrs["gen_ai.provider.name"], "Str(anthropic)");
            assert_eq!(span.attrs["gen_ai.usage.input_tokens"], "Int(1000)");
            assert_eq!(
                span.attrs["gen_ai.usage.cache_read.input_tokens"],
                "Int(400)"
            );
            assert_eq!(span.attrs["server.address"], "Str(api.anthropic.example)");
            assert_eq!(
                span.attrs["gen_ai.response.finish_reasons"],
                "Slice(Str(stop))"
            );
            let logged: f64 = span.attrs["tollgate.cost.usd"]
                .trim_start_matches("Double(")
                .trim_end_matches(')')
                .parse()
                .unwrap();
            assert!(approx(logged, cost), "{tag}: {logged} != {cost}");
            assert!(
                span.attrs["gen_ai.input.messages"].contains("Say hello"),
                "content capture was on"
            );
        }
        assert_eq!(
            answered.attrs["gen_ai.response.time_to_first_chunk"],
            "Double(0.25)"
        );
        // The request span waited 120 ms for the failed attempt, then 250 ms.
        assert_eq!(
            request.attrs["gen_ai.response.time_to_first_chunk"],
            "Double(0.37)"
        );
    }
}

/// One span as rotel's detailed debug log prints it.
#[derive(Debug)]
struct LoggedSpan {
    trace: String,
    parent: String,
    id: String,
    name: String,
    kind: String,
    status: String,
    attrs: std::collections::BTreeMap<String, String>,
}

fn logged_spans(output: &str) -> Vec<LoggedSpan> {
    let mut spans = Vec::new();
    for block in output.split("\nSpan #").skip(1) {
        let block = block.split("\nResource").next().unwrap_or(block);
        let field = |name: &str| {
            block
                .lines()
                .find_map(|l| {
                    l.trim()
                        .strip_prefix(name)
                        .map(|rest| rest.trim_start().trim_start_matches(':').trim().to_owned())
                })
                .unwrap_or_default()
        };
        let attrs = block
            .lines()
            .filter_map(|l| l.strip_prefix("     -> "))
            .filter_map(|l| l.split_once(": "))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        spans.push(LoggedSpan {
            trace: field("Trace ID"),
            parent: field("Parent ID"),
            id: field("ID "),
            name: field("Name"),
            kind: field("Kind"),
            status: field("Status code"),
            attrs,
        });
    }
    spans
}
