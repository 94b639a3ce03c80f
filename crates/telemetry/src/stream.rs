//! [`InstrumentedEvents`]: the events of a streaming reply, observed on their way to the
//! caller.
//!
//! The first event already arrived when the call resolved (time to first chunk); each
//! later output event records the time since the previous one; the end of the stream
//! records usage, cost and duration. Dropped before its end, the stream ends its span as
//! cancelled. Observing an event allocates nothing (unless content capture is on, which
//! keeps a copy of the answer).

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use tollgate_core::{
    ChatEvent, Error, EventStream, FinishReason, ReplyMeta, StreamAccumulator, Usage,
};

use crate::record::Recorder;

/// The wrapped events of one streaming reply.
pub(crate) struct InstrumentedEvents {
    inner: EventStream,
    recorder: Recorder,
    usage: Option<Usage>,
    finish: Option<FinishReason>,
    /// Only when content capture is on: the answer so far, and who gave it.
    captured: Option<Box<(StreamAccumulator, ReplyMeta)>>,
    /// The first event (yielded first by `inner`) was already counted as the first chunk.
    first_seen: bool,
    ended: bool,
}

impl InstrumentedEvents {
    pub(crate) fn new(inner: EventStream, recorder: Recorder, meta: &ReplyMeta) -> Self {
        let captured = recorder
            .captures_content()
            .then(|| Box::new((StreamAccumulator::new(), meta.clone())));
        Self {
            inner,
            recorder,
            usage: None,
            finish: None,
            captured,
            first_seen: false,
            ended: false,
        }
    }

    fn observe(&mut self, event: &ChatEvent) {
        let first = !self.first_seen;
        self.first_seen = true;
        match event {
            ChatEvent::Start { id, model } => self.recorder.on_start(id, model),
            ChatEvent::Usage(usage) => self.usage = Some(*usage),
            ChatEvent::Finish { reason, .. } => self.finish = Some(reason.clone()),
            other => {
                if !first && other.is_output() {
                    self.recorder.on_output_chunk();
                }
            }
        }
        if let Some(captured) = &mut self.captured {
            captured.0.push(event.clone());
        }
    }

    fn end_ok(&mut self) {
        self.ended = true;
        if let Some(captured) = self.captured.take() {
            let (accumulator, meta) = *captured;
            if let Ok(response) = accumulator.finish(meta) {
                self.recorder.record_output(&response);
            }
        }
        self.recorder.finish_ok(self.finish.as_ref(), self.usage);
    }

    fn end_err(&mut self, error: &Error) {
        self.ended = true;
        self.recorder.finish_error(error, self.usage);
    }
}

impl Stream for InstrumentedEvents {
    type Item = Result<ChatEvent, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.ended {
            return Poll::Ready(None);
        }
        let polled = {
            let _entered = this.recorder.span().enter();
            this.inner.as_mut().poll_next(cx)
        };
        match &polled {
            Poll::Pending => {}
            Poll::Ready(Some(Ok(event))) => this.observe(event),
            Poll::Ready(Some(Err(error))) => this.end_err(error),
            Poll::Ready(None) => this.end_ok(),
        }
        polled
    }
}

impl Drop for InstrumentedEvents {
    fn drop(&mut self) {
        if !self.ended {
            self.recorder.finish_cancelled(self.usage);
        }
    }
}
