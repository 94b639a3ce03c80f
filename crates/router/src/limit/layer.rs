//! [`RateLimitLayer`]: rpm/tpm accounting around one service, for hand-composed stacks.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::time::Instant;
use tollgate_core::{ChatReply, ChatRequest, Error, ErrorKind};
use tower::{Layer, Service};

use super::RateLimiter;

/// Counts each request against `rpm`/`tpm` before calling the service; a request that
/// would exceed them — or the quota the provider reported left on an earlier reply
/// ([`RateLimiter::observe`]) — fails at once with [`ErrorKind::RateLimited`] and a
/// `retry_after` (when it will fit), without reaching the provider. Clones share one
/// [`RateLimiter`].
#[derive(Debug, Clone)]
pub struct RateLimitLayer {
    limiter: Arc<RateLimiter>,
    expected_output_tokens: u32,
}

impl RateLimitLayer {
    /// A limiter of `rpm` requests and `tpm` tokens a minute; requests without
    /// `max_tokens` are counted with `expected_output_tokens` of output.
    pub fn new(rpm: Option<u32>, tpm: Option<u64>, expected_output_tokens: u32) -> Self {
        Self {
            limiter: Arc::new(RateLimiter::new(rpm, tpm)),
            expected_output_tokens,
        }
    }

    /// The shared limiter.
    pub fn limiter(&self) -> Arc<RateLimiter> {
        Arc::clone(&self.limiter)
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimitService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimitService {
            inner,
            limiter: Arc::clone(&self.limiter),
            expected_output_tokens: self.expected_output_tokens,
        }
    }
}

/// The service of [`RateLimitLayer`].
#[derive(Debug, Clone)]
pub struct RateLimitService<S> {
    inner: S,
    limiter: Arc<RateLimiter>,
    expected_output_tokens: u32,
}

impl<S> Service<ChatRequest> for RateLimitService<S>
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
        let tokens = super::charged_tokens(
            &request,
            request.estimate_input_tokens(),
            self.expected_output_tokens,
        );
        if let Err(over) = self.limiter.acquire(tokens, now) {
            let mut error = Error::new(
                ErrorKind::RateLimited,
                format!("client-side limit: {}", over.describe(now)),
            );
            if let Some(at) = over.available_at {
                error = error.with_retry_after(at.saturating_duration_since(now));
            }
            return Box::pin(std::future::ready(Err(error)));
        }
        let limiter = Arc::clone(&self.limiter);
        let call = self.inner.call(request);
        Box::pin(async move {
            let reply = call.await?;
            limiter.observe(reply.meta().rate_limits.as_ref(), Instant::now());
            Ok(reply)
        })
    }
}
