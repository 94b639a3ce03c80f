//! [`Telemetry`]: the service a [`TelemetryLayer`](crate::TelemetryLayer) wraps around
//! a [`ChatService`](tollgate_core::ChatService).

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use tollgate_core::{ChatReply, ChatRequest, Error};
use tower::Service;

use crate::future::ResponseFuture;
use crate::layer::Shared;
use crate::record::Recorder;

/// Records a span (and metrics) for every call to the inner service.
#[derive(Clone)]
pub struct Telemetry<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> Telemetry<S> {
    pub(crate) fn new(inner: S, shared: Arc<Shared>) -> Self {
        Self { inner, shared }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S> Service<ChatRequest> for Telemetry<S>
where
    S: Service<ChatRequest, Response = ChatReply, Error = Error>,
{
    type Response = ChatReply;
    type Error = Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: ChatRequest) -> Self::Future {
        let recorder = Recorder::start(self.shared.clone(), &mut request);
        let future = {
            let _entered = recorder.span().enter();
            self.inner.call(request)
        };
        ResponseFuture::new(future, recorder)
    }
}

impl<S: fmt::Debug> fmt::Debug for Telemetry<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Telemetry")
            .field("inner", &self.inner)
            .field("mode", &self.shared.mode)
            .finish()
    }
}
