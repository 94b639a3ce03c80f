//! An in-process scripted fake chat service for router tests.
//!
//! Each call takes the next scripted [`Outcome`] (or the default one when the script is
//! empty); the fake counts calls, finished calls and cancellations (a call whose future
//! or stream is dropped before it ended), and remembers each request it received.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    dead_code,
    missing_docs
)]

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;
use tollgate_core::{
    AssistantMessage, AttemptContext, ChatEvent, ChatReply, ChatRequest, ChatResponse, ChatStream,
    Error, ErrorKind, FinishReason, RateLimits, ReplyMeta, boxed,
};
use tollgate_router::{Deployment, DeploymentFacts};
use tower::Service;

/// What one call does.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Answers `text` after `after` (streamed if the request asks for a stream: the
    /// first event after `after`, the rest at once).
    Answer { after: Duration, text: String },
    /// Fails with `error` after `after`.
    Fail { after: Duration, error: Error },
    /// Streams: each item after its delay (relative to the previous item).
    Stream(Vec<(Duration, Result<ChatEvent, Error>)>),
    /// Never answers.
    Hang,
    /// Answers `text` at once (streamed if asked), its reply's meta carrying `limits`
    /// as a provider's rate-limit headers would.
    Reporting { text: String, limits: RateLimits },
}

impl Outcome {
    pub fn answer(text: &str) -> Self {
        Self::Answer {
            after: Duration::ZERO,
            text: text.to_owned(),
        }
    }

    pub fn answer_after(after: Duration, text: &str) -> Self {
        Self::Answer {
            after,
            text: text.to_owned(),
        }
    }

    pub fn fail(kind: ErrorKind) -> Self {
        Self::Fail {
            after: Duration::ZERO,
            error: Error::new(kind, "scripted failure").with_provider("fake"),
        }
    }

    pub fn fail_after(after: Duration, kind: ErrorKind) -> Self {
        Self::Fail {
            after,
            error: Error::new(kind, "scripted failure").with_provider("fake"),
        }
    }

    pub fn reporting(text: &str, limits: RateLimits) -> Self {
        Self::Reporting {
            text: text.to_owned(),
            limits,
        }
    }

    pub fn rate_limited(retry_after: Duration) -> Self {
        Self::Fail {
            after: Duration::ZERO,
            error: Error::new(ErrorKind::RateLimited, "slow down")
                .with_provider("fake")
                .with_status(429)
                .with_retry_after(retry_after),
        }
    }
}

#[derive(Debug)]
struct Inner {
    name: String,
    script: Mutex<VecDeque<Outcome>>,
    default: Mutex<Outcome>,
    calls: AtomicUsize,
    finished: AtomicUsize,
    cancelled: AtomicUsize,
    requests: Mutex<Vec<(Instant, ChatRequest)>>,
}

/// A scripted fake provider. Clones share the script and the counters.
#[derive(Debug, Clone)]
pub struct Fake {
    inner: Arc<Inner>,
}

impl Fake {
    /// A fake called `name` whose every call does `default` unless scripted otherwise.
    pub fn new(name: &str, default: Outcome) -> Self {
        Self {
            inner: Arc::new(Inner {
                name: name.to_owned(),
                script: Mutex::new(VecDeque::new()),
                default: Mutex::new(default),
                calls: AtomicUsize::new(0),
                finished: AtomicUsize::new(0),
                cancelled: AtomicUsize::new(0),
                requests: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Scripts the next call.
    pub fn push(&self, outcome: Outcome) -> &Self {
        self.inner.script.lock().unwrap().push_back(outcome);
        self
    }

    /// Changes what unscripted calls do.
    pub fn set_default(&self, outcome: Outcome) {
        *self.inner.default.lock().unwrap() = outcome;
    }

    pub fn calls(&self) -> usize {
        self.inner.calls.load(Ordering::SeqCst)
    }

    pub fn finished(&self) -> usize {
        self.inner.finished.load(Ordering::SeqCst)
    }

    pub fn cancelled(&self) -> usize {
        self.inner.cancelled.load(Ordering::SeqCst)
    }

    /// The requests received, with the (tokio) time each arrived.
    pub fn requests(&self) -> Vec<(Instant, ChatRequest)> {
        self.inner.requests.lock().unwrap().clone()
    }

    /// The attempt contexts of the requests received.
    pub fn contexts(&self) -> Vec<AttemptContext> {
        self.requests()
            .into_iter()
            .map(|(_, r)| r.extensions.get::<AttemptContext>().cloned().unwrap())
            .collect()
    }

    /// A deployment named after the fake, serving model `<name>-model`.
    pub fn deployment(&self) -> Deployment {
        self.deployment_with(DeploymentFacts::default())
    }

    pub fn deployment_with(&self, facts: DeploymentFacts) -> Deployment {
        Deployment::new(
            self.inner.name.clone(),
            format!("{}-model", self.inner.name),
            boxed(self.clone()),
        )
        .with_facts(facts)
    }
}

/// Counts a cancellation when dropped before `done`.
struct CallGuard {
    inner: Arc<Inner>,
    done: bool,
}

impl CallGuard {
    fn finish(&mut self) {
        if !self.done {
            self.done = true;
            self.inner.finished.fetch_add(1, Ordering::SeqCst);
        }
    }
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        if !self.done {
            self.inner.cancelled.fetch_add(1, Ordering::SeqCst);
        }
    }
}

fn meta(name: &str, rate_limits: Option<RateLimits>) -> ReplyMeta {
    ReplyMeta {
        provider: name.to_owned(),
        rate_limits,
        ..ReplyMeta::default()
    }
}

pub fn start(model: &str) -> ChatEvent {
    ChatEvent::Start {
        id: "id-1".into(),
        model: model.into(),
    }
}

pub fn finish() -> ChatEvent {
    ChatEvent::Finish {
        reason: FinishReason::Stop,
        raw: Some("stop".into()),
    }
}

impl Service<ChatRequest> for Fake {
    type Response = ChatReply;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<ChatReply, Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: ChatRequest) -> Self::Future {
        let inner = Arc::clone(&self.inner);
        inner.calls.fetch_add(1, Ordering::SeqCst);
        let outcome = inner
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or_else(|| inner.default.lock().unwrap().clone());
        let stream = request.stream;
        let model = request.model.clone();
        inner
            .requests
            .lock()
            .unwrap()
            .push((Instant::now(), request));
        let mut guard = CallGuard {
            inner: Arc::clone(&inner),
            done: false,
        };
        let name = inner.name.clone();
        let (outcome, limits) = match outcome {
            Outcome::Reporting { text, limits } => (Outcome::answer(&text), Some(limits)),
            outcome => (outcome, None),
        };
        Box::pin(async move {
            match outcome {
                Outcome::Hang => {
                    std::future::pending::<()>().await;
                    unreachable!()
                }
                Outcome::Fail { after, error } => {
                    tokio::time::sleep(after).await;
                    guard.finish();
                    Err(error)
                }
                Outcome::Answer { after, text } if !stream => {
                    tokio::time::sleep(after).await;
                    guard.finish();
                    Ok(ChatReply::Complete(ChatResponse {
                        id: "id-1".into(),
                        model,
                        message: AssistantMessage::text(text),
                        finish_reason: FinishReason::Stop,
                        provider_finish_reason: None,
                        usage: None,
                        meta: meta(&name, limits),
                    }))
                }
                Outcome::Answer { after, text } => {
                    let items = vec![
                        (after, Ok(start(&model))),
                        (Duration::ZERO, Ok(ChatEvent::text(text))),
                        (Duration::ZERO, Ok(finish())),
                    ];
                    stream_reply(&name, limits, guard, items).await
                }
                Outcome::Stream(items) => stream_reply(&name, None, guard, items).await,
                Outcome::Reporting { .. } => unreachable!("turned into an answer above"),
            }
        })
    }
}

async fn stream_reply(
    name: &str,
    limits: Option<RateLimits>,
    guard: CallGuard,
    items: Vec<(Duration, Result<ChatEvent, Error>)>,
) -> Result<ChatReply, Error> {
    let items: VecDeque<_> = items.into();
    let events =
        futures_util::stream::unfold((guard, items), |(mut guard, mut items)| async move {
            match items.pop_front() {
                Some((delay, item)) => {
                    tokio::time::sleep(delay).await;
                    if item.is_err() || items.is_empty() {
                        guard.finish();
                    }
                    Some((item, (guard, items)))
                }
                None => {
                    guard.finish();
                    None
                }
            }
        });
    ChatStream::begin(meta(name, limits), events)
        .await
        .map(ChatReply::Stream)
}

/// A deadline-free, retry-free setup helper: `Timeouts::none()` etc. live in the tests.
pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Sends one request through any service.
pub async fn send<S>(service: &S, request: ChatRequest) -> Result<ChatReply, Error>
where
    S: Service<ChatRequest, Response = ChatReply, Error = Error> + Clone,
{
    use tower::ServiceExt;
    service.clone().oneshot(request).await
}

/// The deployment that answered.
pub fn answered_by(reply: &ChatReply) -> String {
    reply.meta().deployment.clone().unwrap()
}

/// A one-message request for route `route`.
pub fn request(route: &str) -> ChatRequest {
    ChatRequest::new(route).user("hello")
}
