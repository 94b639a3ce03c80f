//! What actually arrives at OTLP receivers (gRPC and HTTP/protobuf, in process) for a
//! routed call with a fallback, a stream and a stream its consumer dropped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;
use support::*;
use tollgate_core::pricing::PriceTable;
use tollgate_core::{ChatRequest, ErrorKind, Price, Usage, boxed};
use tollgate_telemetry::semconv::metric;
use tollgate_telemetry::{ContentCapture, Protocol, SemconvVersion, TelemetryLayer};
use tower::{Layer, ServiceExt};

const MS: fn(u64) -> Duration = Duration::from_millis;

fn prices() -> (PriceTable, Price, Price) {
    let openai = Price::per_million(0.15, 0.60).with_cache_read(0.075);
    let anthropic = Price::per_million(3.0, 15.0)
        .with_cache_read(0.30)
        .with_cache_write(3.75);
    let mut table = PriceTable::default();
    table.insert("openai", "gpt-4o-mini", openai.clone());
    table.insert("anthropic", "claude-sonnet-4-5", anthropic.clone());
    (table, openai, anthropic)
}

fn backup_usage() -> Usage {
    Usage {
        input_tokens: 1200,
        output_tokens: 300,
        cache_read_tokens: 200,
        cache_write_tokens: 100,
        reasoning_tokens: 50,
    }
}

fn stream_usage() -> Usage {
    Usage {
        input_tokens: 40,
        output_tokens: 3,
        ..Usage::default()
    }
}

/// Runs the three calls through `TelemetryLayer::request` around a two-deployment
/// fallback whose deployments are wrapped in `TelemetryLayer::attempt`.
async fn scenario(meter: opentelemetry::metrics::Meter) {
    let (table, _, _) = prices();
    let table = Arc::new(table);
    let primary = FakeProvider::new(
        "openai",
        vec![
            Script::Fail {
                delay: MS(200),
                kind: ErrorKind::RateLimited,
            },
            Script::Stream(stream_events(
                "chatcmpl-2",
                "gpt-4o-mini",
                MS(300),
                &[(MS(0), "Hel"), (MS(100), "lo"), (MS(50), " world")],
                stream_usage(),
            )),
            Script::Stream(vec![
                (
                    MS(100),
                    Ok(tollgate_core::ChatEvent::Start {
                        id: "chatcmpl-3".into(),
                        model: "gpt-4o-mini".into(),
                    }),
                ),
                (
                    MS(0),
                    Ok(tollgate_core::ChatEvent::Usage(Usage::new(50, 0))),
                ),
                (MS(10), Ok(tollgate_core::ChatEvent::text("a"))),
                (MS(1000), Ok(tollgate_core::ChatEvent::text("never read"))),
            ]),
        ],
    );
    let backup = FakeProvider::new(
        "anthropic",
        vec![Script::Complete {
            delay: MS(500),
            response: response("msg_01", "claude-sonnet-4-5", "A summary.", backup_usage()),
        }],
    );
    let attempt = TelemetryLayer::attempt(table.clone())
        .meter(meter.clone())
        .semconv(SemconvVersion::V1_41)
        .capture_content(ContentCapture::Off);
    let router = TinyFallback {
        route: "smart",
        deployments: vec![
            ("primary", "gpt-4o-mini", boxed(attempt.layer(primary))),
            ("backup", "claude-sonnet-4-5", boxed(attempt.layer(backup))),
        ],
    };
    let stack = TelemetryLayer::request(table)
        .meter(meter)
        .semconv(SemconvVersion::V1_41)
        .capture_content(ContentCapture::Off)
        .layer(router);

    // 1. primary fails with a rate limit, backup answers.
    let mut request = ChatRequest::new("smart")
        .system("Summarise.")
        .user("A long text.")
        .max_tokens(256)
        .temperature(0.3)
        .top_p(0.9)
        .stop("END")
        .tag("task", "summarise");
    request
        .extensions
        .insert(tollgate_core::Secret::new(API_KEY));
    let reply = stack.clone().oneshot(request).await.unwrap();
    assert_eq!(reply.meta().deployment.as_deref(), Some("backup"));

    // 2. a stream from primary, read to its end.
    let request = ChatRequest::new("smart")
        .user("Hi")
        .streaming(true)
        .tag("task", "chat");
    let reply = stack.clone().oneshot(request).await.unwrap();
    let text = reply.into_response().await.unwrap().text();
    assert_eq!(text, "Hello world");

    // 3. a stream whose consumer stops after the first text chunk.
    let request = ChatRequest::new("smart")
        .user("Hi")
        .streaming(true)
        .tag("task", "chat");
    let mut stream = stack.oneshot(request).await.unwrap().into_stream();
    for _ in 0..3 {
        stream.next().await.unwrap().unwrap();
    }
    drop(stream);
}

fn check_everything(received: &Received) {
    let (_, openai_price, anthropic_price) = prices();

    // Not one exported byte carries the key.
    assert!(!received.raw.is_empty());
    for (what, body) in &received.raw {
        assert_absent(body, API_KEY, what);
    }

    let spans = spans(received);
    assert_eq!(spans.len(), 7, "{spans:#?}");
    for span in &spans {
        assert_eq!(span.kind, 3, "{} is not CLIENT", span.name);
        assert_eq!(span.attr("gen_ai.operation.name"), &json!("chat"));
        assert_eq!(span.service_name, Some(json!("telemetry-test")));
    }
    let requests: Vec<&SpanView> = spans
        .iter()
        .filter(|s| s.attr("tollgate.span") == &json!("request"))
        .collect();
    assert_eq!(requests.len(), 3);
    let children = |parent: &SpanView| -> Vec<SpanView> {
        let mut c: Vec<SpanView> = spans
            .iter()
            .filter(|s| s.parent_span_id == parent.span_id)
            .cloned()
            .collect();
        c.sort_by_key(|s| s.attrs.get("tollgate.attempt").and_then(|v| v.as_i64()));
        c
    };

    // ---- 1. the fallback: a request span with two attempt children.
    let fallback = requests
        .iter()
        .find(|s| s.attrs.get("tollgate.task") == Some(&json!("summarise")))
        .unwrap();
    assert_eq!(fallback.name, "chat smart");
    assert!(
        fallback.parent_span_id.is_empty(),
        "the request span is a root"
    );
    let attempts = children(fallback);
    assert_eq!(attempts.len(), 2);
    for a in &attempts {
        assert_eq!(a.trace_id, fallback.trace_id);
        assert_eq!(a.attr("tollgate.span"), &json!("attempt"));
        assert_eq!(a.attr("tollgate.route"), &json!("smart"));
    }
    let (failed, answered) = (&attempts[0], &attempts[1]);
    assert_eq!(failed.name, "chat gpt-4o-mini");
    assert_eq!(failed.attr("tollgate.attempt"), &json!(1));
    assert_eq!(failed.attr("tollgate.fallback_index"), &json!(0));
    assert_eq!(failed.attr("tollgate.deployment"), &json!("primary"));
    assert_eq!(failed.attr("tollgate.hedge"), &json!(false));
    assert_eq!(failed.attr("error.type"), &json!("rate_limited"));
    assert_eq!(failed.attr("gen_ai.provider.name"), &json!("openai"));
    assert_eq!(failed.status_code, 2, "a failed attempt has status Error");
    assert!(
        failed.status_message.contains("[REDACTED]"),
        "{}",
        failed.status_message
    );
    assert!(!failed.attrs.contains_key("tollgate.cost.usd"));

    assert_eq!(answered.name, "chat claude-sonnet-4-5");
    assert_eq!(answered.attr("tollgate.attempt"), &json!(2));
    assert_eq!(answered.attr("tollgate.fallback_index"), &json!(1));
    assert_eq!(answered.attr("tollgate.deployment"), &json!("backup"));
    assert_eq!(answered.status_code, 0, "status unset on success");
    assert!(!answered.attrs.contains_key("error.type"));

    for span in [*fallback, answered] {
        assert_eq!(span.attr("gen_ai.provider.name"), &json!("anthropic"));
        assert_eq!(span.attr("gen_ai.request.max_tokens"), &json!(256));
        assert_eq!(span.attr("gen_ai.request.temperature"), &json!(0.3));
        assert_eq!(span.attr("gen_ai.request.top_p"), &json!(0.9));
        assert_eq!(span.attr("gen_ai.request.stop_sequences"), &json!(["END"]));
        assert_eq!(
            span.attr("gen_ai.response.model"),
            &json!("claude-sonnet-4-5")
        );
        assert_eq!(span.attr("gen_ai.response.id"), &json!("msg_01"));
        assert_eq!(
            span.attr("gen_ai.response.finish_reasons"),
            &json!(["stop"])
        );
        assert_eq!(span.attr("gen_ai.usage.input_tokens"), &json!(1200));
        assert_eq!(span.attr("gen_ai.usage.output_tokens"), &json!(300));
        assert_eq!(
            span.attr("gen_ai.usage.cache_read.input_tokens"),
            &json!(200)
        );
        assert_eq!(
            span.attr("gen_ai.usage.cache_creation.input_tokens"),
            &json!(100)
        );
        assert_eq!(
            span.attr("gen_ai.usage.reasoning.output_tokens"),
            &json!(50)
        );
        assert_eq!(span.attr("server.address"), &json!("api.anthropic.example"));
        assert_eq!(span.attr("server.port"), &json!(8443));
        assert_eq!(span.attr("tollgate.task"), &json!("summarise"));
        assert!(!span.attrs.contains_key("gen_ai.request.stream"));
        assert!(
            !span.attrs.contains_key("gen_ai.input.messages"),
            "content is off by default"
        );
        let cost = backup_usage().cost(&anthropic_price);
        assert!(approx(span.f64("tollgate.cost.usd"), cost.total()));
        assert!(approx(span.f64("gen_ai.usage.cost"), cost.total()));
        assert!(approx(span.f64("tollgate.cost.input_usd"), cost.input));
        assert!(approx(span.f64("tollgate.cost.output_usd"), cost.output));
        assert!(approx(
            span.f64("tollgate.cost.cache_read_usd"),
            cost.cache_read
        ));
        assert!(approx(
            span.f64("tollgate.cost.cache_write_usd"),
            cost.cache_write
        ));
    }
    assert_eq!(fallback.attr("gen_ai.request.model"), &json!("smart"));
    assert_eq!(
        answered.attr("gen_ai.request.model"),
        &json!("claude-sonnet-4-5")
    );
    assert_eq!(fallback.attr("tollgate.route"), &json!("smart"));
    assert_eq!(fallback.attr("tollgate.deployment"), &json!("backup"));
    assert_eq!(fallback.attr("tollgate.attempts"), &json!(2));
    assert_eq!(
        fallback.attr("tollgate.failed_attempts.deployments"),
        &json!(["primary"])
    );
    assert_eq!(
        fallback.attr("tollgate.failed_attempts.error_types"),
        &json!(["rate_limited"])
    );
    let (event, event_attrs) = &fallback.events[0];
    assert_eq!(event, "tollgate.attempt.failed");
    assert_eq!(event_attrs["error.type"], json!("rate_limited"));
    assert_eq!(event_attrs["tollgate.deployment"], json!("primary"));
    assert!(approx(
        event_attrs["tollgate.elapsed_s"].as_f64().unwrap(),
        0.2
    ));

    // ---- 2. the stream read to its end.
    let streamed: Vec<&&SpanView> = requests
        .iter()
        .filter(|s| s.attrs.get("tollgate.task") == Some(&json!("chat")))
        .collect();
    assert_eq!(streamed.len(), 2);
    let (ok, cancelled) = if streamed[0].attrs.contains_key("error.type") {
        (streamed[1], streamed[0])
    } else {
        (streamed[0], streamed[1])
    };
    let ok_attempts = children(ok);
    assert_eq!(ok_attempts.len(), 1);
    let price_cost = stream_usage().cost(&openai_price);
    for span in [*ok, &ok_attempts[0]] {
        assert_eq!(span.attr("gen_ai.request.stream"), &json!(true));
        assert!(
            approx(span.f64("gen_ai.response.time_to_first_chunk"), 0.3),
            "{}",
            span.f64("gen_ai.response.time_to_first_chunk")
        );
        assert_eq!(span.attr("gen_ai.response.id"), &json!("chatcmpl-2"));
        assert_eq!(span.attr("gen_ai.response.model"), &json!("gpt-4o-mini"));
        assert_eq!(
            span.attr("gen_ai.response.finish_reasons"),
            &json!(["stop"])
        );
        assert_eq!(span.attr("gen_ai.usage.input_tokens"), &json!(40));
        assert_eq!(span.attr("gen_ai.usage.output_tokens"), &json!(3));
        assert!(
            !span
                .attrs
                .contains_key("gen_ai.usage.cache_read.input_tokens")
        );
        assert!(approx(span.f64("tollgate.cost.usd"), price_cost.total()));
        assert_eq!(span.attr("gen_ai.provider.name"), &json!("openai"));
        assert_eq!(span.status_code, 0);
    }
    assert_eq!(ok.attr("tollgate.attempts"), &json!(1));
    assert!(
        !ok.attrs
            .contains_key("tollgate.failed_attempts.deployments")
    );

    // ---- 3. the stream its consumer dropped: both spans end, marked cancelled.
    let cancelled_attempts = children(cancelled);
    assert_eq!(cancelled_attempts.len(), 1);
    let partial = Usage::new(50, 0).cost(&openai_price);
    for span in [*cancelled, &cancelled_attempts[0]] {
        assert_eq!(span.attr("error.type"), &json!("cancelled"));
        assert_eq!(span.status_code, 2);
        assert!(approx(span.f64("gen_ai.response.time_to_first_chunk"), 0.1));
        assert_eq!(
            span.attr("gen_ai.usage.input_tokens"),
            &json!(50),
            "usage reported before the drop is kept"
        );
        assert!(approx(span.f64("tollgate.cost.usd"), partial.total()));
        assert!(!span.attrs.contains_key("gen_ai.response.finish_reasons"));
    }

    // ---- metrics: recorded once, by the attempt layers.
    let base = |deployment: &str, provider: &str, model: &str, task: &str, server: &str| {
        json!({
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": provider,
            "gen_ai.request.model": model,
            "server.address": server,
            "server.port": 8443,
            "tollgate.route": "smart",
            "tollgate.deployment": deployment,
            "tollgate.task": task,
        })
    };
    let with = |mut v: serde_json::Value, k: &str, x: serde_json::Value| {
        v[k] = x;
        v
    };
    let find = |points: &[Point], attrs: serde_json::Value| -> Point {
        let want: std::collections::BTreeMap<String, serde_json::Value> =
            serde_json::from_value(attrs).unwrap();
        points
            .iter()
            .find(|p| p.attrs == want)
            .unwrap_or_else(|| panic!("no point with {want:#?} in {points:#?}"))
            .clone()
    };

    let durations = metric_points(received, metric::OPERATION_DURATION);
    assert_eq!(durations.len(), 4, "{durations:#?}");
    for p in &durations {
        assert_eq!(p.unit, "s");
        assert_eq!(p.bounds, metric::DURATION_BUCKETS.to_vec());
        assert!(
            p.attrs.contains_key("tollgate.deployment"),
            "only attempt layers record: {p:?}"
        );
    }
    // The failed attempt: no server known (it failed before answering).
    let failed_attrs = json!({
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini", "tollgate.route": "smart",
        "tollgate.deployment": "primary", "tollgate.task": "summarise", "error.type": "rate_limited",
    });
    let p = find(&durations, failed_attrs);
    assert_eq!(p.count, 1);
    assert!(approx(p.sum, 0.2));
    let p = find(
        &durations,
        base(
            "backup",
            "anthropic",
            "claude-sonnet-4-5",
            "summarise",
            "api.anthropic.example",
        ),
    );
    assert!(approx(p.sum, 0.5));
    let openai_chat = base(
        "primary",
        "openai",
        "gpt-4o-mini",
        "chat",
        "api.openai.example",
    );
    let p = find(&durations, openai_chat.clone());
    assert_eq!(p.count, 1);
    assert!(approx(p.sum, 0.45), "{}", p.sum);
    let p = find(
        &durations,
        with(openai_chat.clone(), "error.type", json!("cancelled")),
    );
    assert!(approx(p.sum, 0.11), "{}", p.sum);

    let tokens = metric_points(received, metric::TOKEN_USAGE);
    for p in &tokens {
        assert_eq!(p.unit, "{token}");
        assert_eq!(p.bounds, metric::TOKEN_BUCKETS.to_vec());
    }
    let backup_attrs = base(
        "backup",
        "anthropic",
        "claude-sonnet-4-5",
        "summarise",
        "api.anthropic.example",
    );
    assert_eq!(
        find(
            &tokens,
            with(backup_attrs.clone(), "gen_ai.token.type", json!("input"))
        )
        .sum,
        1200.0
    );
    assert_eq!(
        find(
            &tokens,
            with(backup_attrs.clone(), "gen_ai.token.type", json!("output"))
        )
        .sum,
        300.0
    );
    let input = find(
        &tokens,
        with(openai_chat.clone(), "gen_ai.token.type", json!("input")),
    );
    assert_eq!((input.count, input.sum), (1, 40.0));
    let cancelled_input = find(
        &tokens,
        with(
            with(openai_chat.clone(), "gen_ai.token.type", json!("input")),
            "error.type",
            json!("cancelled"),
        ),
    );
    assert_eq!(cancelled_input.sum, 50.0);

    let ttfc = metric_points(received, metric::OPERATION_TIME_TO_FIRST_CHUNK);
    assert_eq!(ttfc.len(), 1, "{ttfc:#?}");
    let p = find(&ttfc, openai_chat.clone());
    assert_eq!(p.count, 2);
    assert!(approx(p.sum, 0.4), "{}", p.sum);

    let tpoc = metric_points(received, metric::OPERATION_TIME_PER_OUTPUT_CHUNK);
    let p = find(&tpoc, openai_chat.clone());
    // Read to the end: 0 ms, 100 ms, 50 ms after the previous chunk; the dropped one: 10 ms.
    assert_eq!(p.count, 4);
    assert!(approx(p.sum, 0.16), "{}", p.sum);

    let cost = metric_points(received, metric::COST);
    for p in &cost {
        assert_eq!(p.unit, "USD");
        assert_eq!(p.monotonic, Some(true));
    }
    let p = find(&cost, backup_attrs);
    assert!(approx(p.sum, backup_usage().cost(&anthropic_price).total()));
    assert!(approx(find(&cost, openai_chat).sum, price_cost.total()));
    assert_eq!(
        cost.len(),
        3,
        "no cost point for the rate-limited attempt: {cost:#?}"
    );
}

#[test]
fn grpc_receiver_gets_the_fallback_tree_streams_and_metrics() {
    let receivers = Receivers::start();
    run_exported(
        Protocol::Grpc,
        receivers.grpc_url(),
        receivers.handle(),
        scenario,
    );
    let received = receivers.take();
    assert!(
        received
            .raw
            .iter()
            .all(|(what, _)| what.starts_with("grpc "))
    );
    assert!(
        received
            .raw
            .iter()
            .any(|(what, _)| what.contains("TraceService"))
    );
    assert!(
        received
            .raw
            .iter()
            .any(|(what, _)| what.contains("MetricsService"))
    );
    check_everything(&received);
}

#[test]
fn http_protobuf_receiver_gets_the_fallback_tree_streams_and_metrics() {
    let receivers = Receivers::start();
    run_exported(
        Protocol::HttpProtobuf,
        receivers.http_url(),
        receivers.handle(),
        scenario,
    );
    let received = receivers.take();
    assert!(
        received
            .raw
            .iter()
            .any(|(what, _)| what == "http /v1/traces")
    );
    assert!(
        received
            .raw
            .iter()
            .any(|(what, _)| what == "http /v1/metrics")
    );
    check_everything(&received);
}
