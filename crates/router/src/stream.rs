//! The wrapper routing puts around a stream after its first event: a total-time limit
//! that ends the stream with an `Err(Timeout)` item, and a hook told about error items.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use tokio::time::{Instant, Sleep};
use tollgate_core::{ChatEvent, Error, ErrorKind, EventStream};

/// Told about the error item a stream ends with (a provider failure or the timeout).
pub(crate) trait OnStreamError: Send + 'static {
    fn on_error(&mut self, error: &Error);
}

/// A stream bounded in time, ending with `Err(Timeout)` when `until` passes first.
pub(crate) struct Bounded {
    inner: EventStream,
    limit: Option<(Pin<Box<Sleep>>, String)>,
    hook: Option<Box<dyn OnStreamError>>,
    done: bool,
}

impl Bounded {
    pub(crate) fn new(
        inner: EventStream,
        until: Option<(Instant, String)>,
        hook: Option<Box<dyn OnStreamError>>,
    ) -> Self {
        Self {
            inner,
            limit: until.map(|(at, why)| (Box::pin(tokio::time::sleep_until(at)), why)),
            hook,
            done: false,
        }
    }

    fn fail(&mut self, error: Error) -> Poll<Option<Result<ChatEvent, Error>>> {
        self.done = true;
        if let Some(hook) = &mut self.hook {
            hook.on_error(&error);
        }
        Poll::Ready(Some(Err(error)))
    }
}

impl Stream for Bounded {
    type Item = Result<ChatEvent, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if let Some((sleep, why)) = &mut this.limit
            && sleep.as_mut().poll(cx).is_ready()
        {
            let error = Error::new(ErrorKind::Timeout, std::mem::take(why));
            return this.fail(error);
        }
        match this.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Err(error))) => this.fail(error),
            Poll::Ready(None) => {
                this.done = true;
                Poll::Ready(None)
            }
            other => other,
        }
    }
}
