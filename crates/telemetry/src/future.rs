//! [`ResponseFuture`]: the future of a [`Telemetry`](crate::Telemetry) call.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;
use tollgate_core::{ChatReply, ChatStream, Error};

use crate::record::Recorder;
use crate::stream::InstrumentedEvents;

pin_project! {
    /// Resolves when the inner call does: a complete reply ends the span, a stream
    /// carries it on to its last event. Dropped before resolving, it ends the span as
    /// cancelled.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        recorder: Option<Recorder>,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: F, recorder: Recorder) -> Self {
        Self {
            inner,
            recorder: Some(recorder),
        }
    }
}

impl<F> Future for ResponseFuture<F>
where
    F: Future<Output = Result<ChatReply, Error>>,
{
    type Output = Result<ChatReply, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = match this.recorder.as_ref() {
            Some(recorder) => {
                let _entered = recorder.span().enter();
                ready!(this.inner.poll(cx))
            }
            None => ready!(this.inner.poll(cx)),
        };
        let Some(mut recorder) = this.recorder.take() else {
            return Poll::Ready(result);
        };
        Poll::Ready(match result {
            Ok(ChatReply::Complete(response)) => {
                recorder.finish_complete(&response);
                Ok(ChatReply::Complete(response))
            }
            Ok(ChatReply::Stream(stream)) => {
                recorder.on_meta(stream.meta());
                recorder.on_first_chunk();
                let (meta, events) = stream.into_parts();
                let events = InstrumentedEvents::new(events, recorder, &meta);
                Ok(ChatReply::Stream(ChatStream::from_parts(
                    meta,
                    Box::pin(events),
                )))
            }
            Err(error) => {
                recorder.finish_error(&error, None);
                Err(error)
            }
        })
    }
}
