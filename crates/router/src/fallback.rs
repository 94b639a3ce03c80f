//! Fallback: which failures move a request on to the next deployment, and where the two
//! special failures go.
//!
//! - A failure whose kind is in `on` (default: [`Error::is_fallback_eligible`] — rate
//!   limits, overload, server, transport, timeout, quota, credentials, unknown model,
//!   undecodable answers, unsupported features) moves on down the balancer's order.
//! - `ContextLengthExceeded` moves to the context-length fallback: by default every
//!   not-yet-tried deployment with a LARGER context window than the one that failed,
//!   smallest first; or a configured list; or nothing.
//! - `ContentFiltered` moves to the configured content-filter deployments, in order.
//! - Anything else (`InvalidRequest`, `Cancelled`, …) is returned to the caller at once.
//!
//! Streams behave identically before their first token, because a streaming call only
//! resolves at its first event. After it, a failure is an item of the stream the caller
//! is already reading and is NOT retried: part of the answer has been delivered, and
//! replaying it from another model would duplicate or contradict what the caller has seen.

use std::collections::HashSet;

use tollgate_core::{Error, ErrorKind};

/// Where `ContextLengthExceeded` goes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ContextFallback {
    /// To deployments with a larger context window than the one exceeded, smallest first.
    #[default]
    Larger,
    /// To these deployments, in order.
    Deployments(Vec<String>),
    /// Nowhere: the error goes back to the caller.
    Off,
}

/// A route's fallback policy. See the [module docs](self).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FallbackPolicy {
    /// The kinds that move on; `None` means [`Error::is_fallback_eligible`].
    pub on: Option<HashSet<ErrorKind>>,
    /// Where context-length failures go.
    pub context_length: ContextFallback,
    /// Where content-filter failures go (in order); empty: back to the caller.
    pub content_filter: Vec<String>,
}

impl FallbackPolicy {
    /// Whether `error` moves on down the general chain.
    pub fn moves_on(&self, error: &Error) -> bool {
        match &self.on {
            Some(kinds) => kinds.contains(&error.kind()),
            None => error.is_fallback_eligible(),
        }
    }
}
