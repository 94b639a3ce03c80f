//! The per-request algorithm of a route: plan, attempt, hedge, fall back, retry, explain.

use std::collections::VecDeque;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_util::future::{Either, select};
use tokio::time::Instant;
use tollgate_core::{
    Attempt, AttemptContext, BoxChatService, ChatReply, ChatRequest, Deadline, Error, ErrorKind,
};
use tower::{Service, ServiceExt};

use super::RouteInner;
use crate::balance::{Candidate, Observation};
use crate::explain::{Explanation, Reason, Reasons};
use crate::fallback::ContextFallback;
use crate::health::Admission;
use crate::stream::OnStreamError;
use crate::timeout::{AttemptCall, Bound, CallFuture, attempt_bounds, bound_stream};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StepKind {
    Chain,
    Special,
    Retry,
}

#[derive(Debug, Clone, Copy)]
struct Step {
    idx: usize,
    fallback_index: u32,
    kind: StepKind,
}

struct RetryCandidate {
    step: Step,
    not_before: Instant,
}

/// Holds a deployment's admission for one attempt: on drop without a verdict (a hedge
/// loser, a caller that went away) it gives back the probe slot and reports a cancellation.
struct Permit {
    inner: Arc<RouteInner>,
    idx: usize,
    admission: Admission,
    started: Instant,
    stream: bool,
    settled: bool,
    in_flight_moved: bool,
}

impl Permit {
    fn observe(&self, latency: Duration, error: Option<ErrorKind>) {
        self.inner.balancer.observe(&Observation {
            index: self.idx,
            stream: self.stream,
            latency,
            error,
        });
    }

    fn succeed(mut self, latency: Duration, now: Instant) -> InFlight {
        self.settled = true;
        self.in_flight_moved = true;
        let slot = &self.inner.slots[self.idx];
        slot.health.record(self.admission, None, now);
        self.observe(latency, None);
        if let Some(hedger) = &self.inner.hedger {
            hedger.record(latency);
        }
        InFlight {
            inner: Arc::clone(&self.inner),
            idx: self.idx,
        }
    }

    fn fail(mut self, error: &Error, latency: Duration, now: Instant) {
        self.settled = true;
        let slot = &self.inner.slots[self.idx];
        slot.health.record(self.admission, Some(error), now);
        self.observe(latency, Some(error.kind()));
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.settled {
            self.inner.slots[self.idx].health.release(self.admission);
            self.observe(self.started.elapsed(), Some(ErrorKind::Cancelled));
        }
        if !self.in_flight_moved {
            self.inner.slots[self.idx]
                .in_flight
                .fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// A request counted in flight until its reply (or stream) ends; a failure mid-stream
/// counts against the deployment's health.
struct InFlight {
    inner: Arc<RouteInner>,
    idx: usize,
}

impl OnStreamError for InFlight {
    fn on_error(&mut self, error: &Error) {
        self.inner.slots[self.idx].health.record(
            Admission { probe: false },
            Some(error),
            Instant::now(),
        );
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.inner.slots[self.idx]
            .in_flight
            .fetch_sub(1, Ordering::Relaxed);
    }
}

struct Running {
    step: Step,
    permit: Permit,
    call: AttemptCall,
    stream_bound: Option<(Instant, Bound)>,
}

enum Outcome {
    Reply(Box<ChatReply>),
    Stop(Error),
    Continue,
}

struct Request {
    inner: Arc<RouteInner>,
    request: ChatRequest,
    start: Instant,
    deadline: Option<Instant>,
    /// Estimated input + `max_tokens` (context-window checks).
    context_tokens: u64,
    /// Estimated input + `max_tokens` or the expected output (rate limits).
    rate_tokens: u64,
    /// Why deployments did not serve it, named only if the request fails.
    reasons: Reasons,
    failed: Vec<Attempt>,
    tried: Marks,
    attempts: u32,
    retries: u32,
    queue: VecDeque<Step>,
    retry_queue: Vec<RetryCandidate>,
    next_fallback_index: u32,
    last_error: Option<Error>,
    budget_denied: bool,
}

/// Serves one request on a route.
pub(super) async fn serve(
    inner: Arc<RouteInner>,
    request: ChatRequest,
) -> Result<ChatReply, Error> {
    let mut state = Request::new(inner, request);
    // The first step is taken at the instant the request was planned: one clock reading
    // serves the deadline, the plan and the first attempt's admission.
    let mut planned = Some(state.start);
    loop {
        let (step, now) = match state.next_step(planned.take()).await {
            Ok(Some(next)) => next,
            Ok(None) => return Err(state.exhausted()),
            Err(error) => return Err(error),
        };
        let running = match state.start(step, false, now) {
            Ok(running) => running,
            Err(reason) => {
                state.reasons.set(step.idx, reason);
                continue;
            }
        };
        match state.drive(running).await {
            Outcome::Reply(reply) => return Ok(*reply),
            Outcome::Stop(error) => return Err(error),
            Outcome::Continue => {}
        }
    }
}

impl Request {
    fn new(inner: Arc<RouteInner>, request: ChatRequest) -> Self {
        let start = Instant::now();
        let deadline = inner.timeouts.deadline(&request, start);
        let input = request.estimate_input_tokens();
        let context_tokens = input + u64::from(request.max_tokens.unwrap_or(0));
        let rate_tokens =
            crate::limit::charged_tokens(&request, input, inner.expected_output_tokens);
        inner.retrier.deposit();
        if let Some(hedger) = &inner.hedger {
            hedger.deposit();
        }
        let n = inner.slots.len();
        let mut state = Self {
            inner,
            request,
            start,
            deadline,
            context_tokens,
            rate_tokens,
            reasons: Reasons::new(n),
            failed: Vec::new(),
            tried: Marks::new(n),
            attempts: 0,
            retries: 0,
            queue: VecDeque::new(),
            retry_queue: Vec::new(),
            next_fallback_index: 0,
            last_error: None,
            budget_denied: false,
        };
        state.plan(start);
        state
    }

    /// Orders the eligible deployments of the pool with the balancer, as of `now`.
    fn plan(&mut self, now: Instant) {
        let inner = Arc::clone(&self.inner);
        for idx in inner.pool.end..inner.slots.len() {
            self.reasons.set(idx, Reason::Reserved);
        }
        let candidate = |idx: usize| {
            let slot = &inner.slots[idx];
            Candidate {
                index: idx,
                name: &slot.deployment.name,
                facts: &slot.deployment.facts,
                in_flight: slot.in_flight.load(Ordering::Relaxed),
            }
        };
        // A pool of one (every route the gateway makes per deployment) needs no list.
        let single;
        let mut list = Vec::new();
        let candidates: &[Candidate<'_>] = if inner.pool.len() == 1 {
            match self.eligible(inner.pool.start, now) {
                Ok(()) => {
                    single = candidate(inner.pool.start);
                    std::slice::from_ref(&single)
                }
                Err(reason) => {
                    self.reasons.set(inner.pool.start, reason);
                    return;
                }
            }
        } else {
            list.reserve_exact(inner.pool.len());
            for idx in inner.pool.clone() {
                match self.eligible(idx, now) {
                    Ok(()) => list.push(candidate(idx)),
                    Err(reason) => self.reasons.set(idx, reason),
                }
            }
            &list
        };
        if candidates.is_empty() {
            return;
        }
        let order = inner.balancer.order(&self.request, candidates);
        self.queue.reserve_exact(order.len().min(candidates.len()));
        let mut used = Marks::new(candidates.len());
        for position in order {
            // A balancer is trusted to order, not to index out of bounds or repeat.
            if position < candidates.len() && !used.contains(position) {
                used.insert(position);
                let idx = candidates[position].index;
                self.push_step(idx, StepKind::Chain);
            }
        }
        for (position, candidate) in candidates.iter().enumerate() {
            if !used.contains(position) {
                self.reasons
                    .set(candidate.index, Reason::LeftOut(inner.balancer.name()));
            }
        }
    }

    fn push_step(&mut self, idx: usize, kind: StepKind) {
        let fallback_index = self.next_fallback_index;
        self.next_fallback_index += 1;
        self.queue.push_back(Step {
            idx,
            fallback_index,
            kind,
        });
    }

    /// Whether deployment `idx` could take this request now (no state is taken).
    fn eligible(&self, idx: usize, now: Instant) -> Result<(), Reason> {
        self.fits(idx)?;
        let slot = &self.inner.slots[idx];
        slot.health.check(now).map_err(Reason::Unavailable)?;
        slot.limiter
            .check(self.rate_tokens, now)
            .map_err(Reason::OverLimit)
    }

    /// Whether deployment `idx` can serve this request at all: its capabilities and
    /// context window (facts of the request and the deployment, which do not change).
    fn fits(&self, idx: usize) -> Result<(), Reason> {
        let facts = &self.inner.slots[idx].deployment.facts;
        if let Some(missing) = facts.capabilities.missing_for(&self.request) {
            return Err(Reason::Capability(missing));
        }
        if let Some(window) = facts.context_window
            && self.context_tokens > window
        {
            return Err(Reason::ContextTooSmall {
                needed: self.context_tokens,
                window,
            });
        }
        Ok(())
    }

    /// The next step and the instant it is taken at: the chain first, then retries of
    /// deployments that failed with retryable errors, each waiting for its `retry_after`
    /// or backoff. `now` is the current instant when the caller has just read it.
    async fn next_step(&mut self, now: Option<Instant>) -> Result<Option<(Step, Instant)>, Error> {
        let now = now.unwrap_or_else(Instant::now);
        if self.deadline.is_some_and(|d| now >= d) {
            return Err(self.deadline_error());
        }
        if let Some(step) = self.queue.pop_front() {
            return Ok(Some((step, now)));
        }
        if self.retry_queue.is_empty() || self.retries >= self.inner.retrier.policy().max_retries {
            return Ok(None);
        }
        let Some(pos) = (0..self.retry_queue.len()).min_by_key(|&i| self.retry_queue[i].not_before)
        else {
            return Ok(None);
        };
        let candidate = self.retry_queue.swap_remove(pos);
        let wait = candidate.not_before.saturating_duration_since(now);
        if wait > self.inner.retrier.policy().max_wait {
            return Ok(None);
        }
        if self.deadline.is_some_and(|d| candidate.not_before >= d) {
            return Ok(None);
        }
        if !self.inner.retrier.withdraw() {
            self.budget_denied = true;
            return Ok(None);
        }
        self.retries += 1;
        // Boxed: a timer is large, and only requests that retry need one.
        Box::pin(tokio::time::sleep_until(candidate.not_before)).await;
        Ok(Some((
            Step {
                kind: StepKind::Retry,
                ..candidate.step
            },
            Instant::now(),
        )))
    }

    /// Admits and starts one attempt at `now`.
    ///
    /// The checks are [`eligible`](Self::eligible)'s, in its order, without repeating what
    /// cannot have changed: a chain step was found fitting when planned and a retry when
    /// first started, so only a special fallback's step is checked for fit here; health
    /// and limits are checked by admitting and acquiring (which fail as `check` would).
    fn start(&mut self, step: Step, hedge: bool, now: Instant) -> Result<Running, Reason> {
        if step.kind == StepKind::Special {
            self.fits(step.idx)?;
        }
        let inner = Arc::clone(&self.inner);
        let slot = &inner.slots[step.idx];
        let admission = slot.health.admit(now).map_err(Reason::Unavailable)?;
        if let Err(over) = slot.limiter.acquire(self.rate_tokens, now) {
            slot.health.release(admission);
            return Err(Reason::OverLimit(over));
        }
        slot.in_flight.fetch_add(1, Ordering::Relaxed);
        self.attempts += 1;
        self.tried.insert(step.idx);
        let permit = Permit {
            inner: Arc::clone(&inner),
            idx: step.idx,
            admission,
            started: now,
            stream: self.request.stream,
            settled: false,
            in_flight_moved: false,
        };
        // The attempt's copy gets the deployment's model: clone all but the route's.
        let route_model = std::mem::take(&mut self.request.model);
        let mut request = self.request.clone();
        self.request.model = route_model;
        request.model = slot.deployment.model.clone();
        request.extensions.insert(AttemptContext {
            route: inner.name.clone(),
            deployment: slot.deployment.name.clone(),
            attempt: self.attempts,
            fallback_index: step.fallback_index,
            hedge,
        });
        if let Some(deadline) = self.deadline {
            request.extensions.insert(Deadline(deadline.into_std()));
        }
        tracing::debug!(
            route = %inner.name,
            deployment = %slot.deployment.name,
            attempt = self.attempts,
            fallback_index = step.fallback_index,
            hedge,
            "routing attempt"
        );
        let (resolve_bound, stream_bound) = attempt_bounds(&inner.timeouts, now, self.deadline);
        let call = call_now(slot.deployment.service.clone(), request);
        Ok(Running {
            step,
            permit,
            call: AttemptCall::new(call, resolve_bound),
            stream_bound,
        })
    }

    /// Runs an attempt to its end, hedging it when the route says so.
    async fn drive(&mut self, mut primary: Running) -> Outcome {
        let delay = match &self.inner.hedger {
            Some(hedger)
                if primary.step.kind == StepKind::Chain
                    && self
                        .queue
                        .front()
                        .is_some_and(|s| s.kind == StepKind::Chain) =>
            {
                hedger.delay()
            }
            _ => None,
        };
        match delay {
            None => {
                let result = (&mut primary.call).await;
                self.settle(primary, result)
            }
            // Boxed: hedging holds two attempts and a timer, which would otherwise make
            // every request's future (moved as a whole) that much larger.
            Some(delay) => Box::pin(self.drive_hedged(primary, delay)).await,
        }
    }

    /// Runs an attempt, starting a hedge if it has not answered after `delay`.
    async fn drive_hedged(&mut self, mut primary: Running, delay: Duration) -> Outcome {
        let timer = pin!(tokio::time::sleep_until(primary.permit.started + delay));
        let timer_fired = match select(&mut primary.call, timer).await {
            Either::Left((result, _)) => return self.settle(primary, result),
            Either::Right(((), _)) => true,
        };
        debug_assert!(timer_fired);
        let Some(mut hedge) = self.start_hedge() else {
            let result = (&mut primary.call).await;
            return self.settle(primary, result);
        };
        let (first, result, second) = match select(&mut primary.call, &mut hedge.call).await {
            Either::Left((result, _)) => (primary, result, hedge),
            Either::Right((result, _)) => (hedge, result, primary),
        };
        // The first to answer wins; dropping the other cancels it.
        match self.settle(first, result) {
            Outcome::Continue => {
                let mut second = second;
                let result = (&mut second.call).await;
                self.settle(second, result)
            }
            done => done,
        }
    }

    /// Starts a hedge on the next chain step, if the budget allows one.
    fn start_hedge(&mut self) -> Option<Running> {
        let hedger = self.inner.hedger.as_ref()?;
        if !hedger.withdraw() {
            return None;
        }
        while self
            .queue
            .front()
            .is_some_and(|s| s.kind == StepKind::Chain)
        {
            let step = self.queue.pop_front()?;
            match self.start(step, true, Instant::now()) {
                Ok(running) => return Some(running),
                Err(reason) => self.reasons.set(step.idx, reason),
            }
        }
        None
    }

    /// Records an attempt's outcome and decides what happens next.
    fn settle(&mut self, running: Running, result: Result<ChatReply, Error>) -> Outcome {
        let Running {
            step,
            permit,
            call,
            stream_bound,
        } = running;
        drop(call);
        // One reading for the attempt's end: its latency, health, limits and retry time.
        let now = Instant::now();
        let latency = now.saturating_duration_since(permit.started);
        let inner = Arc::clone(&self.inner);
        let slot = &inner.slots[step.idx];
        match result {
            Ok(reply) => {
                slot.limiter.observe(reply.meta().rate_limits.as_ref(), now);
                let in_flight = permit.succeed(latency, now);
                // A stream stays in flight until it ends; a complete reply has ended.
                let mut reply = match reply {
                    ChatReply::Stream(_) => {
                        bound_stream(reply, stream_bound, Some(Box::new(in_flight)))
                    }
                    complete @ ChatReply::Complete(_) => {
                        drop(in_flight);
                        complete
                    }
                };
                let meta = reply.meta_mut();
                meta.route = Some(inner.name.clone());
                meta.deployment = Some(slot.deployment.name.clone());
                meta.failed_attempts = std::mem::take(&mut self.failed);
                Outcome::Reply(Box::new(reply))
            }
            Err(error) => {
                permit.fail(&error, latency, now);
                tracing::debug!(
                    route = %inner.name,
                    deployment = %slot.deployment.name,
                    error = %error,
                    "routing attempt failed"
                );
                self.failed.push(Attempt {
                    deployment: slot.deployment.name.clone(),
                    provider: error.provider().unwrap_or_default().to_owned(),
                    elapsed: latency,
                    error: error.clone(),
                });
                self.reasons.failed(step.idx, error.clone());
                self.last_error = Some(error.clone());
                self.after_failure(step, error, now)
            }
        }
    }

    fn after_failure(&mut self, step: Step, error: Error, now: Instant) -> Outcome {
        let fallback = &self.inner.fallback;
        match error.kind() {
            ErrorKind::ContextLengthExceeded if fallback.context_length != ContextFallback::Off => {
                let targets = self.context_targets(step.idx);
                return self.redirect(targets, error);
            }
            ErrorKind::ContentFiltered if !self.inner.content_list.is_empty() => {
                let targets: Vec<usize> = self
                    .inner
                    .content_list
                    .iter()
                    .copied()
                    .filter(|&i| !self.tried.contains(i))
                    .collect();
                return self.redirect(targets, error);
            }
            _ => {}
        }
        if !fallback.moves_on(&error) {
            return Outcome::Stop(error);
        }
        if error.is_retryable() {
            let wait = self.inner.retrier.wait(self.retries, &error);
            self.retry_queue.retain(|c| c.step.idx != step.idx);
            self.retry_queue.push(RetryCandidate {
                step,
                not_before: now + wait,
            });
        }
        Outcome::Continue
    }

    /// Replaces the rest of the plan with a special fallback's targets.
    fn redirect(&mut self, targets: Vec<usize>, error: Error) -> Outcome {
        if targets.is_empty() {
            return Outcome::Stop(error);
        }
        self.queue.clear();
        self.retry_queue.clear();
        for idx in targets {
            self.push_step(idx, StepKind::Special);
        }
        Outcome::Continue
    }

    /// Deployments to try after `failed` exceeded its context window.
    fn context_targets(&mut self, failed: usize) -> Vec<usize> {
        let inner = Arc::clone(&self.inner);
        match &inner.fallback.context_length {
            ContextFallback::Deployments(_) => inner
                .context_list
                .iter()
                .copied()
                .filter(|&i| !self.tried.contains(i))
                .collect(),
            ContextFallback::Off => Vec::new(),
            ContextFallback::Larger => {
                let exceeded = inner.slots[failed]
                    .deployment
                    .facts
                    .context_window
                    .unwrap_or(0);
                let mut larger: Vec<(u64, usize)> = Vec::new();
                for (idx, slot) in inner.slots.iter().enumerate() {
                    if self.tried.contains(idx) {
                        continue;
                    }
                    match slot.deployment.facts.context_window {
                        Some(window) if window > exceeded => larger.push((window, idx)),
                        window => self.reasons.set(idx, Reason::NotLarger { window }),
                    }
                }
                larger.sort();
                larger.into_iter().map(|(_, idx)| idx).collect()
            }
        }
    }

    /// Notes, for each deployment that failed, whether it is unavailable now and until when.
    fn note_current_state(&mut self, now: Instant) {
        for idx in 0..self.inner.slots.len() {
            if self.reasons.has_failed(idx)
                && let Err(reason) = self.eligible(idx, now)
            {
                self.reasons.unavailable_now(idx, reason);
            }
        }
    }

    /// Names the reasons gathered so far (leaving none behind).
    fn explain(&mut self) -> Explanation {
        std::mem::take(&mut self.reasons).explain(
            self.inner
                .slots
                .iter()
                .map(|slot| slot.deployment.name.as_str()),
        )
    }

    fn exhausted(mut self) -> Error {
        let now = Instant::now();
        self.note_current_state(now);
        let route = self.inner.name.clone();
        let explanation = self.explain();
        let mut error = explanation.into_error(&route, now);
        // Deployments were tried and failed: the caller sees that failure's kind (a
        // transport error, an overload, a 5xx…), with every deployment's story in the
        // message. NoRoute is for requests no deployment could even be tried for.
        if error.kind() == ErrorKind::NoRoute
            && let Some(last) = &self.last_error
        {
            error = error.with_kind(last.kind());
        }
        if self.budget_denied {
            error = Error::new(
                error.kind(),
                format!(
                    "{} (further retries denied by the retry budget)",
                    error.message()
                ),
            )
            .with_retry_after_opt(error.retry_after());
        }
        match self.last_error.take() {
            Some(last) => error.with_source(last),
            None => error,
        }
    }

    fn deadline_error(&mut self) -> Error {
        let now = Instant::now();
        self.note_current_state(now);
        let explanation = self.explain();
        let error = Error::new(
            ErrorKind::Timeout,
            format!(
                "route `{}`: the request's deadline passed after {:.1}s and {} attempt(s): {}",
                self.inner.name,
                now.saturating_duration_since(self.start).as_secs_f64(),
                self.attempts,
                explanation.describe(now)
            ),
        );
        match self.last_error.take() {
            Some(last) => error.with_source(last),
            None => error,
        }
    }
}

/// Calls `service` at once when it is ready (a provider client always is), so the attempt
/// holds only the service's own future rather than the request and the service until
/// its first poll; otherwise waits for readiness as `oneshot` does.
fn call_now(mut service: BoxChatService, request: ChatRequest) -> CallFuture {
    match service.poll_ready(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(Ok(())) => service.call(request),
        Poll::Ready(Err(error)) => Box::pin(std::future::ready(Err(error))),
        Poll::Pending => Box::pin(service.oneshot(request)),
    }
}

/// A set of indices below a known length: a bit mask up to 64, a vector beyond.
struct Marks {
    bits: u64,
    spill: Vec<bool>,
}

impl Marks {
    fn new(len: usize) -> Self {
        Self {
            bits: 0,
            spill: if len > 64 {
                vec![false; len]
            } else {
                Vec::new()
            },
        }
    }

    fn insert(&mut self, index: usize) {
        if self.spill.is_empty() {
            if index < 64 {
                self.bits |= 1 << index;
            }
        } else if let Some(mark) = self.spill.get_mut(index) {
            *mark = true;
        }
    }

    fn contains(&self, index: usize) -> bool {
        if self.spill.is_empty() {
            index < 64 && self.bits & (1 << index) != 0
        } else {
            self.spill.get(index).copied().unwrap_or(false)
        }
    }
}

trait WithRetryAfterOpt {
    fn with_retry_after_opt(self, after: Option<Duration>) -> Self;
}

impl WithRetryAfterOpt for Error {
    fn with_retry_after_opt(self, after: Option<Duration>) -> Self {
        match after {
            Some(after) => self.with_retry_after(after),
            None => self,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Marks;

    #[test]
    fn marks_hold_indices_inline_and_beyond_sixty_four() {
        for len in [1, 3, 64, 65, 130] {
            let mut marks = Marks::new(len);
            let chosen: Vec<usize> = (0..len).filter(|i| i % 3 == 0 || *i == len - 1).collect();
            for &i in &chosen {
                marks.insert(i);
            }
            for i in 0..len {
                assert_eq!(
                    marks.contains(i),
                    chosen.contains(&i),
                    "len {len}, index {i}"
                );
            }
        }
    }
}
