//! Deployments that are not ready at once: a route waits for readiness (with the task's
//! own waker) before calling, and a readiness error is that attempt's failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use tollgate_core::{ChatReply, ChatRequest, Error, ErrorKind, boxed};
use tollgate_router::{Deployment, Route};
use tower::Service;

use support::{Fake, Outcome, answered_by, request, secs, send};

/// Answers `Pending` to its first `pending` readiness polls (waking the caller each
/// time, as a service that frees up at once would), then what `fake` answers, or a
/// readiness error when `refuse`.
#[derive(Clone)]
struct Slow {
    fake: Fake,
    pending: Arc<AtomicUsize>,
    refuse: bool,
}

impl Service<ChatRequest> for Slow {
    type Response = ChatReply;
    type Error = Error;
    type Future = <Fake as Service<ChatRequest>>::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let was_pending = self
            .pending
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if was_pending {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if self.refuse {
            return Poll::Ready(Err(Error::new(ErrorKind::Overloaded, "not ready")));
        }
        self.fake.poll_ready(cx)
    }

    fn call(&mut self, request: ChatRequest) -> Self::Future {
        self.fake.call(request)
    }
}

fn slow(fake: &Fake, pending: usize, refuse: bool) -> Deployment {
    let service = Slow {
        fake: fake.clone(),
        pending: Arc::new(AtomicUsize::new(pending)),
        refuse,
    };
    Deployment::new("slow", "slow-model", boxed(service))
}

#[tokio::test(start_paused = true)]
async fn a_deployment_not_ready_at_once_is_called_when_it_is() {
    for pending in [1, 2, 5] {
        let fake = Fake::new("slow", Outcome::answer("ok"));
        let route = Route::builder("chat")
            .deployment(slow(&fake, pending, false))
            .build()
            .unwrap();
        let reply = tokio::time::timeout(secs(1), send(&route, request("chat")))
            .await
            .expect("woken when ready")
            .unwrap();
        assert_eq!(answered_by(&reply), "slow");
        assert_eq!(fake.calls(), 1);
        assert_eq!(fake.requests()[0].1.model, "slow-model");
    }
}

#[tokio::test(start_paused = true)]
async fn a_readiness_error_fails_the_attempt_and_the_route_falls_back() {
    for pending in [0, 2] {
        let refusing = Fake::new("slow", Outcome::answer("never"));
        let backup = Fake::new("backup", Outcome::answer("ok"));
        let route = Route::builder("chat")
            .deployment(slow(&refusing, pending, true))
            .deployment(backup.deployment())
            .build()
            .unwrap();
        let reply = send(&route, request("chat")).await.unwrap();
        assert_eq!(answered_by(&reply), "backup");
        assert_eq!(refusing.calls(), 0);
        let failed = &reply.meta().failed_attempts;
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].deployment, "slow");
        assert_eq!(failed[0].error.kind(), ErrorKind::Overloaded);
    }
}
