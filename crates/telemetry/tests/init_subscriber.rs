//! `init`'s global subscriber: the log level chooses what is printed, never what is
//! exported. (Its own test binary: `init` installs the process-wide subscriber once.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use support::*;
use tollgate_telemetry::{InitConfig, Protocol, StderrFormat};

#[test]
fn a_quiet_log_level_still_exports_every_info_span() {
    let receivers = Receivers::start();
    let config = InitConfig::new("init-test")
        .protocol(Protocol::HttpProtobuf)
        .endpoint(receivers.http_url())
        .metric_interval(Duration::from_secs(3600))
        .filter("warn")
        .stderr(true)
        .stderr_format(StderrFormat::Json);
    let guard = {
        let _entered = receivers.handle().enter();
        tollgate_telemetry::init(config).unwrap()
    };

    tracing::info_span!("chat exported-at-warn").in_scope(|| {
        tracing::info!("an event inside the span");
    });
    tracing::debug_span!("chat below-info").in_scope(|| {});
    guard.shutdown().unwrap();

    let names: Vec<String> = spans(&receivers.take())
        .into_iter()
        .map(|span| span.name)
        .collect();
    assert!(
        names.iter().any(|n| n == "chat exported-at-warn"),
        "an info span must be exported although stderr shows only warnings: {names:?}"
    );
    assert!(
        !names.iter().any(|n| n == "chat below-info"),
        "debug spans are not exported: {names:?}"
    );
}
