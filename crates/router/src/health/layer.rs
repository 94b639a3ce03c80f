//! [`HealthLayer`]: the circuit breaker around one service, for hand-composed stacks.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::time::Instant;
use tollgate_core::{ChatReply, ChatRequest, Error, ErrorKind};
use tower::{Layer, Service};

use super::{Admission, Health, HealthPolicy, Unavailable};

/// Wraps one service in a circuit breaker: while it is open (or half-open with its probe
/// running) calls fail at once with [`ErrorKind::NoRoute`] and a `retry_after`, without
/// reaching the service. Clones of the layer share one [`Health`].
#[derive(Debug, Clone)]
pub struct HealthLayer {
    health: Arc<Health>,
}

impl HealthLayer {
    /// A breaker with `policy`.
    pub fn new(policy: HealthPolicy) -> Self {
        Self {
            health: Arc::new(Health::new(policy)),
        }
    }

    /// The shared health, e.g. for snapshots.
    pub fn health(&self) -> Arc<Health> {
        Arc::clone(&self.health)
    }
}

impl<S> Layer<S> for HealthLayer {
    type Service = HealthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HealthService {
            inner,
            health: Arc::clone(&self.health),
        }
    }
}

/// The service of [`HealthLayer`].
#[derive(Debug, Clone)]
pub struct HealthService<S> {
    inner: S,
    health: Arc<Health>,
}

/// The error a caller gets from an unavailable service.
pub(crate) fn unavailable_error(unavailable: &Unavailable, now: Instant) -> Error {
    let error = Error::new(
        ErrorKind::NoRoute,
        format!("the service is {}", unavailable.describe(now)),
    );
    match unavailable.until() {
        Some(until) => error.with_retry_after(until.saturating_duration_since(now)),
        None => error,
    }
}

/// Gives a probe slot back if the call is dropped before its outcome.
struct Verdict {
    health: Arc<Health>,
    admission: Admission,
    pending: bool,
}

impl Drop for Verdict {
    fn drop(&mut self) {
        if self.pending {
            self.health.release(self.admission);
        }
    }
}

impl<S> Service<ChatRequest> for HealthService<S>
where
    S: Service<ChatRequest, Response = ChatReply, Error = Error>,
    S::Future: Send + 'static,
{
    type Response = ChatReply;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<ChatReply, Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: ChatRequest) -> Self::Future {
        let now = Instant::now();
        let admission = match self.health.admit(now) {
            Ok(admission) => admission,
            Err(unavailable) => {
                return Box::pin(std::future::ready(Err(unavailable_error(
                    &unavailable,
                    now,
                ))));
            }
        };
        let mut verdict = Verdict {
            health: Arc::clone(&self.health),
            admission,
            pending: true,
        };
        let call = self.inner.call(request);
        Box::pin(async move {
            let result = call.await;
            verdict.pending = false;
            verdict
                .health
                .record(admission, result.as_ref().err(), Instant::now());
            result
        })
    }
}
