//! [`Tiered`]: a [`Classifier`] sorts requests into tiers, each tier a pool of
//! deployments with its own balancer.

use std::collections::BTreeMap;
use std::fmt;

use tollgate_core::{ChatRequest, ReasoningEffort, ResponseFormat};

use super::{Balancer, Candidate, Observation};

/// Maps a request to the name of the tier that should serve it.
///
/// Implemented by [`DefaultClassifier`] and by any
/// `Fn(&ChatRequest) -> &'static str + Send + Sync + 'static` closure:
///
/// ```
/// use tollgate_core::ChatRequest;
/// use tollgate_router::balance::Classifier;
///
/// let by_user = |request: &ChatRequest| match request.metadata.get("plan").map(String::as_str) {
///     Some("enterprise") => "frontier",
///     _ => "economy",
/// };
/// assert_eq!(by_user.classify(&ChatRequest::new("m").tag("plan", "enterprise")), "frontier");
/// ```
pub trait Classifier: Send + Sync + 'static {
    /// The tier for `request`. Names that no pool carries go to the default tier.
    fn classify<'a>(&'a self, request: &'a ChatRequest) -> &'a str;
}

impl<F> Classifier for F
where
    F: Fn(&ChatRequest) -> &'static str + Send + Sync + 'static,
{
    fn classify<'a>(&'a self, request: &'a ChatRequest) -> &'a str {
        self(request)
    }
}

/// The metadata tag that names a tier outright (checked first by [`DefaultClassifier`]).
pub const TIER_TAG: &str = "tier";
/// The metadata tag whose value [`DefaultClassifier::tasks`] maps to a tier.
pub const TASK_TAG: &str = "task";

/// Heuristic two-tier classification: `simple` or `complex`.
///
/// Rules, first match wins:
///
/// 1. metadata `tier` = `T` → `T` (the caller names the tier outright);
/// 2. metadata `task` = `K` and `tasks` maps `K` → that tier;
/// 3. `complex` if any of: the request offers tools; a user message carries an image;
///    the response format is `json_schema`; `reasoning_effort` is `high`; the estimated
///    input ([`ChatRequest::estimate_input_tokens`]) exceeds `long_prompt_tokens`;
/// 4. otherwise `simple`.
///
/// Defaults: `long_prompt_tokens = 2000` (about 8 kB of text), tier names `simple` and
/// `complex`, and this task map (tasks are matched exactly, case-sensitive):
///
/// | task tags | tier |
/// |---|---|
/// | `classification`, `extraction`, `summarization`, `translation`, `tagging`, `autocomplete` | `simple` |
/// | `coding`, `reasoning`, `analysis`, `planning`, `math`, `agent` | `complex` |
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultClassifier {
    /// Name of the tier for requests that look simple (default `simple`).
    pub simple_tier: String,
    /// Name of the tier for requests that look complex (default `complex`).
    pub complex_tier: String,
    /// Estimated input tokens above which a request is complex (default 2000).
    pub long_prompt_tokens: u64,
    /// Task tag → tier name.
    pub tasks: BTreeMap<String, String>,
}

impl DefaultClassifier {
    /// The default heuristics (see the type's docs).
    pub fn new() -> Self {
        let simple = "simple";
        let complex = "complex";
        let mut tasks = BTreeMap::new();
        for task in [
            "classification",
            "extraction",
            "summarization",
            "translation",
            "tagging",
            "autocomplete",
        ] {
            tasks.insert(task.to_owned(), simple.to_owned());
        }
        for task in [
            "coding",
            "reasoning",
            "analysis",
            "planning",
            "math",
            "agent",
        ] {
            tasks.insert(task.to_owned(), complex.to_owned());
        }
        Self {
            simple_tier: simple.to_owned(),
            complex_tier: complex.to_owned(),
            long_prompt_tokens: 2_000,
            tasks,
        }
    }

    /// Maps a `task` tag to a tier (replacing any default for that task).
    pub fn task(mut self, task: impl Into<String>, tier: impl Into<String>) -> Self {
        self.tasks.insert(task.into(), tier.into());
        self
    }

    /// Sets the estimated input above which a request is complex.
    pub fn long_prompt_tokens(mut self, tokens: u64) -> Self {
        self.long_prompt_tokens = tokens;
        self
    }

    /// Renames the two heuristic tiers; task mappings that pointed at the old names follow.
    pub fn tier_names(mut self, simple: impl Into<String>, complex: impl Into<String>) -> Self {
        let (simple, complex) = (simple.into(), complex.into());
        for tier in self.tasks.values_mut() {
            if *tier == self.simple_tier {
                tier.clone_from(&simple);
            } else if *tier == self.complex_tier {
                tier.clone_from(&complex);
            }
        }
        self.simple_tier = simple;
        self.complex_tier = complex;
        self
    }

    fn looks_complex(&self, request: &ChatRequest) -> bool {
        !request.tools.is_empty()
            || request.has_images()
            || matches!(
                request.response_format,
                Some(ResponseFormat::JsonSchema { .. })
            )
            || request.reasoning_effort == Some(ReasoningEffort::High)
            || request.estimate_input_tokens() > self.long_prompt_tokens
    }
}

impl Default for DefaultClassifier {
    fn default() -> Self {
        Self::new()
    }
}

impl Classifier for DefaultClassifier {
    fn classify<'a>(&'a self, request: &'a ChatRequest) -> &'a str {
        if let Some(tier) = request.metadata.get(TIER_TAG) {
            return tier;
        }
        if let Some(tier) = request
            .metadata
            .get(TASK_TAG)
            .and_then(|task| self.tasks.get(task))
        {
            return tier;
        }
        if self.looks_complex(request) {
            &self.complex_tier
        } else {
            &self.simple_tier
        }
    }
}

/// Which of a route's deployments belong to a tier's pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Members {
    /// Every deployment of the route.
    All,
    /// Deployments with one of these names.
    Names(Vec<String>),
    /// Deployments carrying at least one of these tags.
    Tags(Vec<String>),
    /// Deployments at these indices in the route.
    Indices(Vec<usize>),
}

impl Members {
    /// Whether `candidate` belongs to the pool.
    pub fn contains(&self, candidate: &Candidate<'_>) -> bool {
        match self {
            Self::All => true,
            Self::Names(names) => names.iter().any(|n| n == candidate.name),
            Self::Tags(tags) => tags.iter().any(|t| candidate.facts.tags.contains(t)),
            Self::Indices(indices) => indices.contains(&candidate.index),
        }
    }
}

/// One tier: a name, the deployments in its pool, and the balancer that orders them.
pub struct TierPool {
    name: String,
    members: Members,
    balancer: Box<dyn Balancer>,
}

impl TierPool {
    /// A tier called `name` whose pool is `members`, ordered by `balancer`.
    pub fn new(name: impl Into<String>, members: Members, balancer: impl Balancer) -> Self {
        Self::boxed(name, members, Box::new(balancer))
    }

    /// Like [`TierPool::new`], with an already boxed balancer (as built from config).
    pub fn boxed(name: impl Into<String>, members: Members, balancer: Box<dyn Balancer>) -> Self {
        Self {
            name: name.into(),
            members,
            balancer,
        }
    }

    /// The tier's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The deployments in the pool.
    pub fn members(&self) -> &Members {
        &self.members
    }

    /// The pool's balancer.
    pub fn balancer(&self) -> &dyn Balancer {
        self.balancer.as_ref()
    }
}

impl fmt::Debug for TierPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TierPool")
            .field("name", &self.name)
            .field("members", &self.members)
            .field("balancer", &self.balancer.name())
            .finish()
    }
}

/// Routes each request to the pool of its tier: cheap models for simple requests,
/// frontier models for hard ones.
///
/// Per request:
///
/// 1. the [`Classifier`] names a tier; the pool with that name serves it, and a name no
///    pool carries goes to the **default tier — the first pool in the list**;
/// 2. the candidates in that pool ([`Members`]) are ordered by the pool's own balancer
///    (which may leave some out, as [`Cost`](super::Cost) does with unfit ones);
/// 3. with spill-over on (the default), the candidates outside the pool follow in route
///    order, so a request is still served when its whole pool is down — a complex request
///    may then land on a small model, the usual "last resort" of a fallback chain. With
///    spill-over off ([`Tiered::spill_over`]`(false)`), only the pool is tried.
///
/// Every observation is passed to every pool's balancer (each keeps its state by
/// deployment index, so a deployment shared by two pools is learnt about once for both).
///
/// With no pools at all, the order is the route order.
pub struct Tiered {
    classifier: Box<dyn Classifier>,
    tiers: Vec<TierPool>,
    spill_over: bool,
}

impl Tiered {
    /// Tiers chosen by `classifier`; the first of `tiers` is the default tier.
    pub fn new(classifier: impl Classifier, tiers: Vec<TierPool>) -> Self {
        Self {
            classifier: Box::new(classifier),
            tiers,
            spill_over: true,
        }
    }

    /// Whether deployments outside the request's pool are tried after it (default on).
    pub fn spill_over(mut self, on: bool) -> Self {
        self.spill_over = on;
        self
    }

    /// The tiers, default first.
    pub fn tiers(&self) -> &[TierPool] {
        &self.tiers
    }

    /// The pool that serves `request`: the classifier's tier, or the default tier when no
    /// pool has that name. `None` only when there are no pools.
    pub fn pool_for(&self, request: &ChatRequest) -> Option<&TierPool> {
        let tier = self.classifier.classify(request);
        self.tiers
            .iter()
            .find(|pool| pool.name == tier)
            .or_else(|| self.tiers.first())
    }
}

impl fmt::Debug for Tiered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tiered")
            .field("tiers", &self.tiers)
            .field("spill_over", &self.spill_over)
            .finish_non_exhaustive()
    }
}

impl Balancer for Tiered {
    fn name(&self) -> &'static str {
        "tiered"
    }

    fn order(&self, request: &ChatRequest, candidates: &[Candidate<'_>]) -> Vec<usize> {
        let Some(pool) = self.pool_for(request) else {
            return (0..candidates.len()).collect();
        };
        let (inside, outside): (Vec<usize>, Vec<usize>) =
            (0..candidates.len()).partition(|&p| pool.members.contains(&candidates[p]));
        let sub: Vec<Candidate<'_>> = inside.iter().map(|&p| candidates[p]).collect();
        let mut order: Vec<usize> = pool
            .balancer
            .order(request, &sub)
            .into_iter()
            .filter_map(|q| inside.get(q).copied())
            .collect();
        if self.spill_over {
            order.extend(outside);
        }
        order
    }

    fn observe(&self, observation: &Observation) {
        for pool in &self.tiers {
            pool.balancer.observe(observation);
        }
    }
}
