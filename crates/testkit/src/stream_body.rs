//! The streamed SSE body: one chunk per event, scripted pauses, scripted disconnects, and a
//! count of bodies the client dropped before the end.

use std::io;
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use futures_util::stream;
use tokio::sync::watch;

/// Counts a stream as cancelled when dropped before it ended (cleanly or by a scripted
/// disconnect).
struct CancelGuard {
    cancelled: watch::Sender<usize>,
    ended: bool,
}

impl CancelGuard {
    /// The body reached its scripted end: dropping it is no longer a cancellation.
    fn disarm(&mut self) {
        self.ended = true;
    }
}

impl Drop for CancelGuard {
    fn drop(&mut self) {
        if !self.ended {
            self.cancelled.send_modify(|n| *n += 1);
        }
    }
}

struct State {
    chunks: std::vec::IntoIter<Bytes>,
    sent: usize,
    disconnect_at: Option<usize>,
    first_chunk_after: Duration,
    chunk_interval: Duration,
    guard: CancelGuard,
}

/// Timing and fault script for one SSE body.
pub(crate) struct Script {
    pub(crate) first_chunk_after: Duration,
    pub(crate) chunk_interval: Duration,
    pub(crate) disconnect_after: Option<usize>,
}

/// A body that writes `chunks` one by one following `script`, and bumps `cancelled` if it is
/// dropped before its end.
pub(crate) fn sse_body(
    chunks: Vec<Bytes>,
    script: Script,
    cancelled: watch::Sender<usize>,
) -> Body {
    let disconnect_at = script.disconnect_after.map(|n| n.min(chunks.len()));
    let state = State {
        chunks: chunks.into_iter(),
        sent: 0,
        disconnect_at,
        first_chunk_after: script.first_chunk_after,
        chunk_interval: script.chunk_interval,
        guard: CancelGuard {
            cancelled,
            ended: false,
        },
    };
    let stream = stream::unfold(state, |mut state| async move {
        if state.guard.ended {
            return None;
        }
        // The abort and every event wait for their turn the same way: the first after
        // `first_chunk_after`, the others after `chunk_interval`.
        let pause = if state.sent == 0 {
            state.first_chunk_after
        } else {
            state.chunk_interval
        };
        if state.disconnect_at == Some(state.sent) {
            pause_then_flush(pause).await;
            state.guard.disarm();
            let error = io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "tollgate-testkit: scripted disconnect",
            );
            return Some((Err(error), state));
        }
        let Some(chunk) = state.chunks.next() else {
            state.guard.disarm();
            return None;
        };
        pause_then_flush(pause).await;
        state.sent += 1;
        Some((Ok(chunk), state))
    });
    Body::from_stream(stream)
}

/// Sleeps `d`, or with no pause yields once: either way the body is briefly not ready, so
/// hyper flushes what it has buffered and each event leaves in its own write (and everything
/// before a scripted disconnect reaches the client before the connection is cut).
async fn pause_then_flush(d: Duration) {
    if d.is_zero() {
        tokio::task::yield_now().await;
    } else {
        tokio::time::sleep(d).await;
    }
}
