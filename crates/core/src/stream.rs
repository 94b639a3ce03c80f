//! [`ChatStream`]: a streaming reply, and the two rules that make streams route like
//! complete calls.
//!
//! 1. **A streaming call resolves only when its first event has arrived.**
//!    [`ChatStream::begin`] awaits the first event: every failure before it is an `Err`
//!    of the call, so retries, fallbacks and latency tracking treat streams and complete
//!    calls alike, and the time to resolution of a streaming call is its time to first
//!    token.
//! 2. **After the first event, failures are stream items.** A stream never ends silently
//!    as if finished: if the underlying stream stops before a
//!    [`ChatEvent::Finish`], `ChatStream` yields an [`ErrorKind::Transport`] error as its
//!    last item.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_util::StreamExt;

use crate::accumulate::{StreamAccumulator, events_of};
use crate::error::{Error, ErrorKind};
use crate::event::ChatEvent;
use crate::response::{ChatResponse, ReplyMeta};

/// The boxed stream of events inside a [`ChatStream`].
pub type EventStream = Pin<Box<dyn Stream<Item = Result<ChatEvent, Error>> + Send + 'static>>;

/// A streaming reply: a `Stream` of [`ChatEvent`]s plus the [`ReplyMeta`] of who answered.
///
/// Dropping it cancels the call (the provider connection is closed).
pub struct ChatStream {
    meta: ReplyMeta,
    first: Option<ChatEvent>,
    inner: EventStream,
    state: State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    Finished,
    Done,
}

impl ChatStream {
    /// Awaits the first event of `events` and returns a stream that starts with it.
    ///
    /// This is how every provider builds its streaming reply (rule 1 of the module docs):
    /// an error before the first event, or an end without any event, is returned as the
    /// `Err` of this future.
    ///
    /// # Errors
    ///
    /// The first item's error, or [`ErrorKind::Transport`] if the stream ended before
    /// producing anything.
    pub async fn begin<S>(meta: ReplyMeta, events: S) -> Result<Self, Error>
    where
        S: Stream<Item = Result<ChatEvent, Error>> + Send + 'static,
    {
        let mut inner: EventStream = Box::pin(events);
        match inner.next().await {
            Some(Ok(first)) => {
                let state = if matches!(first, ChatEvent::Finish { .. }) {
                    State::Finished
                } else {
                    State::Open
                };
                Ok(Self {
                    meta,
                    first: Some(first),
                    inner,
                    state,
                })
            }
            Some(Err(error)) => Err(error),
            None => Err(Error::new(
                ErrorKind::Transport,
                "the stream ended before its first event",
            )),
        }
    }

    /// Wraps a stream whose first event has already been awaited (or that a layer
    /// re-wraps after [`ChatStream::into_parts`]).
    pub fn from_parts(meta: ReplyMeta, events: EventStream) -> Self {
        Self {
            meta,
            first: None,
            inner: events,
            state: State::Open,
        }
    }

    /// Splits the stream into its meta and its remaining events, e.g. for a layer that
    /// wraps the events (telemetry, cost accounting) and puts them back together.
    pub fn into_parts(self) -> (ReplyMeta, EventStream) {
        let Self {
            meta,
            first,
            inner,
            state,
        } = self;
        let events: EventStream = match (first, state) {
            (_, State::Done) => Box::pin(futures_util::stream::empty()),
            (Some(first), _) => {
                Box::pin(futures_util::stream::iter([Ok(first)]).chain(Guarded { inner, state }))
            }
            (None, _) => Box::pin(Guarded { inner, state }),
        };
        (meta, events)
    }

    /// A stream replaying a complete response (for services that answered in one piece).
    pub fn from_response(response: ChatResponse) -> Self {
        let events = events_of(&response);
        Self::from_parts(
            response.meta,
            Box::pin(futures_util::stream::iter(events.into_iter().map(Ok))),
        )
    }

    /// Who answered.
    pub fn meta(&self) -> &ReplyMeta {
        &self.meta
    }

    /// Who answered, for layers that add routing facts.
    pub fn meta_mut(&mut self) -> &mut ReplyMeta {
        &mut self.meta
    }

    /// Reads the whole stream and rebuilds the complete response.
    ///
    /// # Errors
    ///
    /// The first error item of the stream, or a decode error if it ended without finishing.
    pub async fn collect(mut self) -> Result<ChatResponse, Error> {
        let mut acc = StreamAccumulator::new();
        while let Some(event) = self.next().await {
            acc.push(event?);
        }
        acc.finish(self.meta)
    }
}

impl Stream for ChatStream {
    type Item = Result<ChatEvent, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(first) = this.first.take() {
            return Poll::Ready(Some(Ok(first)));
        }
        poll_guarded(&mut this.inner, &mut this.state, cx)
    }
}

/// The end-of-stream guard of rule 2, shared by `ChatStream` and its `into_parts` form.
fn poll_guarded(
    inner: &mut EventStream,
    state: &mut State,
    cx: &mut Context<'_>,
) -> Poll<Option<Result<ChatEvent, Error>>> {
    if *state == State::Done {
        return Poll::Ready(None);
    }
    match inner.as_mut().poll_next(cx) {
        Poll::Pending => Poll::Pending,
        Poll::Ready(Some(Ok(event))) => {
            if matches!(event, ChatEvent::Finish { .. }) {
                *state = State::Finished;
            }
            Poll::Ready(Some(Ok(event)))
        }
        Poll::Ready(Some(Err(error))) => {
            *state = State::Done;
            Poll::Ready(Some(Err(error)))
        }
        Poll::Ready(None) => {
            let was_finished = *state == State::Finished;
            *state = State::Done;
            if was_finished {
                Poll::Ready(None)
            } else {
                Poll::Ready(Some(Err(Error::new(
                    ErrorKind::Transport,
                    "the stream ended before the reply finished",
                ))))
            }
        }
    }
}

struct Guarded {
    inner: EventStream,
    state: State,
}

impl Stream for Guarded {
    type Item = Result<ChatEvent, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        poll_guarded(&mut this.inner, &mut this.state, cx)
    }
}

impl fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatStream")
            .field("meta", &self.meta)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use futures_util::stream;

    use super::*;
    use crate::response::FinishReason;

    fn ok(e: ChatEvent) -> Result<ChatEvent, Error> {
        Ok(e)
    }

    fn start() -> ChatEvent {
        ChatEvent::Start {
            id: "i".into(),
            model: "m".into(),
        }
    }

    #[tokio::test]
    async fn an_error_before_the_first_event_fails_the_call() {
        let events = stream::iter([Err(Error::new(ErrorKind::Overloaded, "busy"))]);
        let err = ChatStream::begin(ReplyMeta::default(), events)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Overloaded);
    }

    #[tokio::test]
    async fn an_empty_stream_fails_the_call() {
        let events = stream::iter(Vec::<Result<ChatEvent, Error>>::new());
        let err = ChatStream::begin(ReplyMeta::default(), events)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transport);
    }

    #[tokio::test]
    async fn a_stream_cut_after_the_first_event_ends_with_an_error_item() {
        let events = stream::iter([ok(start()), ok(ChatEvent::text("par"))]);
        let s = ChatStream::begin(ReplyMeta::default(), events)
            .await
            .unwrap();
        let items: Vec<_> = StreamExt::collect::<Vec<_>>(s).await;
        assert_eq!(items.len(), 3);
        assert_eq!(items[2].as_ref().unwrap_err().kind(), ErrorKind::Transport);
    }

    #[tokio::test]
    async fn a_finished_stream_ends_cleanly_and_collects() {
        let events = stream::iter([
            ok(start()),
            ok(ChatEvent::text("hi")),
            ok(ChatEvent::Finish {
                reason: FinishReason::Stop,
                raw: Some("stop".into()),
            }),
        ]);
        let s = ChatStream::begin(ReplyMeta::default(), events)
            .await
            .unwrap();
        let (meta, rest) = s.into_parts();
        let s = ChatStream::from_parts(meta, rest);
        let response = s.collect().await.unwrap();
        assert_eq!(response.text(), "hi");
        assert_eq!(response.finish_reason, FinishReason::Stop);
    }

    #[tokio::test]
    async fn into_parts_keeps_the_end_guard() {
        let events = stream::iter([ok(start())]);
        let s = ChatStream::begin(ReplyMeta::default(), events)
            .await
            .unwrap();
        let (_, rest) = s.into_parts();
        let items: Vec<_> = rest.collect().await;
        assert!(items.last().unwrap().is_err());
    }
}
