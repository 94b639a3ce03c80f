//! Facts a router attaches to each attempt's request, for the layers beneath it.
//!
//! The router and telemetry do not depend on each other: the router puts an
//! [`AttemptContext`] into [`ChatRequest::extensions`](crate::ChatRequest::extensions)
//! before it calls a deployment, and any layer wrapped around that deployment (telemetry's
//! attempt spans, cost accounting) reads it from there.

use std::time::Instant;

/// Which route, deployment and attempt a request to one deployment belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptContext {
    /// The route the caller asked for.
    pub route: String,
    /// The deployment being called.
    pub deployment: String,
    /// 1-based number of this attempt within the logical request (retries, fallbacks and
    /// hedges all count).
    pub attempt: u32,
    /// 0-based position of the deployment in the fallback chain (0: the first choice).
    pub fallback_index: u32,
    /// Whether this attempt is a hedge started while an earlier one was still running.
    pub hedge: bool,
}

/// The instant by which the whole logical request must be answered; retries, fallbacks
/// and per-attempt timeouts all stay within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline(pub Instant);
