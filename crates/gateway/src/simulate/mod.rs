//! The built-in simulated provider: in-process [`ChatService`](tollgate_core::ChatService)s
//! that answer like a real model (time to first token, per-token pacing, occasional 429s
//! with `retry-after`, usage and prices) without any network or key.
//!
//! The gateway serves simulated deployments when no provider key is found in the
//! environment ([`demo::config`]), so a new user sees routing, fallback and cost at once;
//! any config may also declare `provider = "simulated"` deployments, e.g. to load-test a
//! routing policy.
//!
//! Timing uses `tokio::time`, so under `tokio::time::pause()` a simulated call takes no
//! real time and is exactly reproducible. Failures are drawn from a seeded generator (one
//! draw per call, in call order): the same seed and the same sequence of calls give the
//! same sequence of 429s.
//!
//! What it answers is described in [`answer`].

pub mod answer;
pub mod demo;
pub mod rng;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::stream;
use serde::{Deserialize, Serialize};
use tollgate_core::{
    ChatEvent, ChatReply, ChatRequest, ChatStream, Error, ErrorKind, ReplyMeta, StreamAccumulator,
};
use tollgate_router::config::duration;
use tower::Service;

use self::rng::{SplitMix64, stable_hash};

/// The `gen_ai.provider.name` simulated replies carry.
pub const PROVIDER: &str = "simulated";

/// `[deployments.NAME.simulate]`: how a simulated deployment behaves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulateConfig {
    /// Time to the first event of an answer (default `"300ms"`).
    #[serde(default = "default_first_token", with = "duration")]
    pub first_token: Duration,
    /// Output pacing after the first token, in tokens per second (default 80).
    #[serde(default = "default_tokens_per_second")]
    pub tokens_per_second: f64,
    /// Share of calls answered with 429 (0 to 1, default 0).
    #[serde(default)]
    pub rate_limit_rate: f64,
    /// The `retry-after` a simulated 429 carries (default `"1s"`).
    #[serde(default = "default_retry_after", with = "duration")]
    pub retry_after: Duration,
    /// Share of calls answered with 503 overloaded (0 to 1, default 0).
    #[serde(default)]
    pub error_rate: f64,
    /// The seed of the failure draws (default: derived from the deployment's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

fn default_first_token() -> Duration {
    Duration::from_millis(300)
}
fn default_tokens_per_second() -> f64 {
    80.0
}
fn default_retry_after() -> Duration {
    Duration::from_secs(1)
}

impl Default for SimulateConfig {
    fn default() -> Self {
        Self {
            first_token: default_first_token(),
            tokens_per_second: default_tokens_per_second(),
            rate_limit_rate: 0.0,
            retry_after: default_retry_after(),
            error_rate: 0.0,
            seed: None,
        }
    }
}

impl SimulateConfig {
    /// Why these settings cannot be used, if they cannot: `(field, problem)`.
    pub fn problem(&self) -> Option<(&'static str, String)> {
        let share = |field: &'static str, v: f64| {
            (!(0.0..=1.0).contains(&v)).then(|| {
                (
                    field,
                    format!("{field} is {v}; give a share between 0 and 1"),
                )
            })
        };
        share("rate_limit_rate", self.rate_limit_rate)
            .or_else(|| share("error_rate", self.error_rate))
            .or_else(|| {
                (self.rate_limit_rate + self.error_rate > 1.0).then(|| {
                    (
                        "error_rate",
                        "rate_limit_rate + error_rate is more than 1".to_owned(),
                    )
                })
            })
            .or_else(|| {
                (!(self.tokens_per_second.is_finite() && self.tokens_per_second > 0.0)).then(|| {
                    (
                        "tokens_per_second",
                        format!(
                            "tokens_per_second is {}; give a positive number such as 80",
                            self.tokens_per_second
                        ),
                    )
                })
            })
    }

    fn per_token(&self) -> Duration {
        Duration::try_from_secs_f64(1.0 / self.tokens_per_second).unwrap_or(Duration::ZERO)
    }
}

/// A simulated model: a [`ChatService`](tollgate_core::ChatService) with no network.
///
/// ```
/// # let runtime = tokio::runtime::Builder::new_current_thread()
/// #     .enable_time().start_paused(true).build().unwrap();
/// # runtime.block_on(async {
/// use tollgate_core::{ChatRequest, Client};
/// use tollgate_gateway::simulate::{SimulateConfig, SimulatedProvider};
///
/// // (under paused tokio time: no real waiting)
/// let sim = Client::new(SimulatedProvider::new("sim-mini", SimulateConfig::default()));
/// let reply = sim.chat(ChatRequest::new("sim-mini").user("Hello")).await.unwrap();
/// assert!(reply.text().contains("Hello"));
/// assert_eq!(reply.meta.provider, "simulated");
/// # });
/// ```
#[derive(Clone)]
pub struct SimulatedProvider {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    config: SimulateConfig,
    rng: Mutex<SplitMix64>,
    calls: AtomicU64,
}

impl SimulatedProvider {
    /// A simulated deployment called `name` (its seed, unless configured, derives from it).
    pub fn new(name: impl Into<String>, config: SimulateConfig) -> Self {
        let name = name.into();
        let seed = config.seed.unwrap_or_else(|| stable_hash(&name));
        Self {
            inner: Arc::new(Inner {
                name,
                config,
                rng: Mutex::new(SplitMix64::new(seed)),
                calls: AtomicU64::new(0),
            }),
        }
    }

    /// Its settings.
    pub fn config(&self) -> &SimulateConfig {
        &self.inner.config
    }

    fn draw(&self) -> f64 {
        match self.inner.rng.lock() {
            Ok(mut rng) => rng.next_f64(),
            Err(poisoned) => poisoned.into_inner().next_f64(),
        }
    }
}

impl std::fmt::Debug for SimulatedProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimulatedProvider")
            .field("name", &self.inner.name)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// The future of a simulated call.
pub type ResponseFuture = Pin<Box<dyn Future<Output = Result<ChatReply, Error>> + Send>>;

impl Service<ChatRequest> for SimulatedProvider {
    type Response = ChatReply;
    type Error = Error;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: ChatRequest) -> Self::Future {
        let config = self.inner.config.clone();
        let roll = self.draw();
        let call = self.inner.calls.fetch_add(1, Ordering::Relaxed) + 1;
        let id = format!(
            "chatcmpl-sim-{:x}-{call}",
            stable_hash(&self.inner.name) & 0xFFFF
        );
        let meta = ReplyMeta {
            provider: PROVIDER.to_owned(),
            ..ReplyMeta::default()
        };
        Box::pin(async move {
            if roll < config.rate_limit_rate + config.error_rate {
                tokio::time::sleep(config.first_token / 4).await;
                let error = if roll < config.rate_limit_rate {
                    Error::new(
                        ErrorKind::RateLimited,
                        "simulated rate limit (rate_limit_rate of this simulated deployment)",
                    )
                    .with_status(429)
                    .with_code("rate_limit_exceeded")
                    .with_retry_after(config.retry_after)
                } else {
                    Error::new(
                        ErrorKind::Overloaded,
                        "simulated overload (error_rate of this simulated deployment)",
                    )
                    .with_status(503)
                };
                return Err(error.with_provider(PROVIDER));
            }
            let model = request.model.clone();
            let answer = answer::answer(&request, &model);
            let mut events = Vec::with_capacity(answer.deltas.len() + 3);
            events.push(ChatEvent::Start { id, model });
            events.extend(answer.deltas);
            events.push(ChatEvent::Usage(answer.usage));
            events.push(ChatEvent::Finish {
                raw: Some(answer.finish.as_str().to_owned()),
                reason: answer.finish,
            });
            let per_token = config.per_token();
            if request.stream {
                let paced = paced(events, config.first_token, per_token);
                return Ok(ChatReply::Stream(ChatStream::begin(meta, paced).await?));
            }
            let output_events = events.iter().filter(|e| e.is_output()).count();
            let pacing = per_token
                .saturating_mul(u32::try_from(output_events.saturating_sub(1)).unwrap_or(u32::MAX));
            tokio::time::sleep(config.first_token + pacing).await;
            let mut accumulator = StreamAccumulator::new();
            for event in events {
                accumulator.push(event);
            }
            Ok(ChatReply::Complete(accumulator.finish(meta)?))
        })
    }
}

/// `events` as a stream: the first after `first`, each later output event `per_token`
/// after the one before; usage and finish right after the last output.
fn paced(
    events: Vec<ChatEvent>,
    first: Duration,
    per_token: Duration,
) -> impl futures_core::Stream<Item = Result<ChatEvent, Error>> + Send + 'static {
    let mut seen_output = false;
    let timed: Vec<(Duration, ChatEvent)> = events
        .into_iter()
        .enumerate()
        .map(|(i, event)| {
            let delay = if i == 0 {
                first
            } else if event.is_output() && seen_output {
                per_token
            } else {
                Duration::ZERO
            };
            seen_output |= event.is_output();
            (delay, event)
        })
        .collect();
    stream::unfold(timed.into_iter(), |mut rest| async move {
        let (delay, event) = rest.next()?;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        Some((Ok(event), rest))
    })
}
