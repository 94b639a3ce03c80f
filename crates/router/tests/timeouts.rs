//! Timeouts: time to first token and total, per attempt; the deadline per request.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use futures_util::StreamExt;
use tokio::time::Instant;
use tollgate_core::{ChatEvent, ErrorKind, boxed};
use tollgate_router::timeout::TimeoutLayer;
use tollgate_router::{Route, Timeouts};
use tower::Layer;

use support::{Fake, Outcome, answered_by, ms, request, secs, send, start};

#[tokio::test(start_paused = true)]
async fn a_hanging_provider_times_out_at_first_token_and_the_fallback_answers_within_the_deadline()
{
    let hanging = Fake::new("hanging", Outcome::Hang);
    let backup = Fake::new("backup", Outcome::answer_after(ms(300), "ok"));
    let route = Route::builder("chat")
        .deployment(hanging.deployment())
        .deployment(backup.deployment())
        .timeouts(Timeouts {
            attempt_first_token: Some(secs(2)),
            attempt_total: None,
            request: Some(secs(5)),
        })
        .build()
        .unwrap();
    for stream in [false, true] {
        let t0 = Instant::now();
        let reply = send(&route, request("chat").streaming(stream))
            .await
            .unwrap();
        assert_eq!(answered_by(&reply), "backup");
        assert_eq!(Instant::now() - t0, ms(2_300));
        let failed = &reply.meta().failed_attempts[0];
        assert_eq!(failed.error.kind(), ErrorKind::Timeout);
        assert!(
            failed.error.message().contains("time-to-first-token"),
            "{}",
            failed.error
        );
    }
    assert_eq!(hanging.cancelled(), 2, "the hung calls were dropped");
}

#[tokio::test(start_paused = true)]
async fn the_attempt_total_timeout_ends_a_slow_stream_with_an_error_item() {
    let slow = Fake::new(
        "slow",
        Outcome::Stream(vec![
            (ms(100), Ok(start("m"))),
            (secs(1), Ok(ChatEvent::text("a"))),
            (secs(10), Ok(ChatEvent::text("b"))),
        ]),
    );
    let route = Route::builder("chat")
        .deployment(slow.deployment())
        .timeouts(Timeouts {
            attempt_total: Some(secs(3)),
            ..Timeouts::none()
        })
        .build()
        .unwrap();
    let t0 = Instant::now();
    let reply = send(&route, request("chat").streaming(true)).await.unwrap();
    let items: Vec<_> = StreamExt::collect::<Vec<_>>(reply.into_stream()).await;
    assert_eq!(Instant::now() - t0, secs(3));
    assert_eq!(items.len(), 3);
    let last = items.last().unwrap().as_ref().unwrap_err();
    assert_eq!(last.kind(), ErrorKind::Timeout);
    assert_eq!(slow.cancelled(), 1, "the stream was dropped at the timeout");
    // The in-flight count is released when the stream ends.
    assert_eq!(route.health()[0].in_flight, 0);
}

#[tokio::test(start_paused = true)]
async fn the_request_deadline_also_bounds_the_stream() {
    let slow = Fake::new(
        "slow",
        Outcome::Stream(vec![
            (ms(100), Ok(start("m"))),
            (secs(10), Ok(ChatEvent::text("b"))),
        ]),
    );
    let route = Route::builder("chat")
        .deployment(slow.deployment())
        .timeouts(Timeouts {
            request: Some(secs(2)),
            ..Timeouts::none()
        })
        .build()
        .unwrap();
    let t0 = Instant::now();
    let reply = send(&route, request("chat").streaming(true)).await.unwrap();
    let items: Vec<_> = StreamExt::collect::<Vec<_>>(reply.into_stream()).await;
    assert_eq!(Instant::now() - t0, secs(2));
    let last = items.last().unwrap().as_ref().unwrap_err();
    assert_eq!(last.kind(), ErrorKind::Timeout);
    assert!(last.message().contains("deadline"), "{last}");
}

#[tokio::test(start_paused = true)]
async fn the_timeout_layer_works_on_a_single_service() {
    let hanging = Fake::new("hanging", Outcome::Hang);
    let service = boxed(
        TimeoutLayer::new(Timeouts {
            attempt_first_token: Some(secs(1)),
            ..Timeouts::none()
        })
        .layer(hanging.clone()),
    );
    let t0 = Instant::now();
    let err = send(&service, request("m")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(Instant::now() - t0, secs(1));
    assert_eq!(hanging.cancelled(), 1);
}
