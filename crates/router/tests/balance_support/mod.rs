//! Shared helpers for the balancer tests: a route's worth of deployments as
//! `Candidate`s, a seeded generator for synthetic traffic, and share counting.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tollgate_core::Price;
use tollgate_router::{Candidate, DeploymentFacts};

/// A route's deployments as the engine would describe them to a balancer.
#[derive(Debug, Clone, Default)]
pub struct Pool {
    pub names: Vec<String>,
    pub facts: Vec<DeploymentFacts>,
    pub in_flight: Vec<usize>,
}

impl Pool {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a deployment with `facts`.
    pub fn with(mut self, name: &str, facts: DeploymentFacts) -> Self {
        self.names.push(name.to_owned());
        self.facts.push(facts);
        self.in_flight.push(0);
        self
    }

    /// Adds `n` deployments named `d0`, `d1`, … with default facts.
    pub fn plain(n: usize) -> Self {
        (0..n).fold(Self::new(), |pool, i| {
            pool.with(&format!("d{i}"), DeploymentFacts::default())
        })
    }

    /// Every deployment as an eligible candidate, route index = position.
    pub fn candidates(&self) -> Vec<Candidate<'_>> {
        (0..self.names.len())
            .map(|i| Candidate {
                index: i,
                name: &self.names[i],
                facts: &self.facts[i],
                in_flight: self.in_flight[i],
            })
            .collect()
    }

    /// The position of the deployment called `name`.
    pub fn position(&self, name: &str) -> usize {
        self.names
            .iter()
            .position(|n| n == name)
            .unwrap_or_else(|| panic!("no deployment {name}"))
    }

    /// Names in the order a balancer returned (positions into `candidates()`).
    pub fn names_of(&self, order: &[usize]) -> Vec<&str> {
        order.iter().map(|&p| self.names[p].as_str()).collect()
    }
}

/// Facts with a price in USD per million tokens.
pub fn priced(input: f64, output: f64) -> DeploymentFacts {
    DeploymentFacts {
        price: Some(Price::per_million(input, output)),
        ..DeploymentFacts::default()
    }
}

/// Facts with a weight.
pub fn weighted(weight: u32) -> DeploymentFacts {
    DeploymentFacts {
        weight,
        ..DeploymentFacts::default()
    }
}

/// SplitMix64, for synthetic traffic that is the same on every run.
#[derive(Debug, Clone)]
pub struct TestRng(u64);

impl TestRng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `lo..hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo)
    }
}

/// `count / total` as a fraction.
pub fn share(count: usize, total: usize) -> f64 {
    count as f64 / total as f64
}

/// A fake model service for end-to-end tests through a `Route`: answers complete
/// requests after a delay that the test can change, and counts its calls.
pub mod fake {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::task::{Context, Poll};
    use std::time::Duration;

    use tollgate_core::{
        AssistantMessage, ChatReply, ChatRequest, ChatResponse, Error, FinishReason, ReplyMeta,
        boxed,
    };
    use tollgate_router::{Deployment, DeploymentFacts};
    use tower::Service;

    #[derive(Debug, Clone)]
    pub struct FakeModel {
        name: String,
        delay: Arc<Mutex<Duration>>,
        calls: Arc<AtomicUsize>,
    }

    impl FakeModel {
        pub fn new(name: &str, delay: Duration) -> Self {
            Self {
                name: name.to_owned(),
                delay: Arc::new(Mutex::new(delay)),
                calls: Arc::new(AtomicUsize::new(0)),
            }
        }

        pub fn set_delay(&self, delay: Duration) {
            *self.delay.lock().unwrap() = delay;
        }

        pub fn calls(&self) -> usize {
            self.calls.load(Ordering::SeqCst)
        }

        pub fn deployment(&self, facts: DeploymentFacts) -> Deployment {
            Deployment::new(self.name.clone(), self.name.clone(), boxed(self.clone()))
                .with_facts(facts)
        }
    }

    impl Service<ChatRequest> for FakeModel {
        type Response = ChatReply;
        type Error = Error;
        type Future = Pin<Box<dyn Future<Output = Result<ChatReply, Error>> + Send>>;

        fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, request: ChatRequest) -> Self::Future {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let delay = *self.delay.lock().unwrap();
            let name = self.name.clone();
            Box::pin(async move {
                tokio::time::sleep(delay).await;
                Ok(ChatReply::Complete(ChatResponse {
                    id: "fake-1".into(),
                    model: request.model,
                    message: AssistantMessage::text("ok"),
                    finish_reason: FinishReason::Stop,
                    provider_finish_reason: None,
                    usage: None,
                    meta: ReplyMeta {
                        provider: name,
                        ..ReplyMeta::default()
                    },
                }))
            })
        }
    }
}
