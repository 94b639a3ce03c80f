//! Cross-crate integration tests for Tollgate.
//!
//! The tests live in `tests/`:
//!
//! - `tests/conformance/`: **one conformance suite, written once**, run against every
//!   provider client. A macro generates the whole suite for each [`Target`]; a new provider
//!   (or OpenAI-compatible preset) gets every case by adding one line to the list.
//! - `tests/portable/`: conversations begun on one provider (its tool calls, in its id style)
//!   and continued on another, for every ordered pair.
//!
//! This library holds what both share:
//!
//! - [`target`]: the providers under test, how to start each one's client against a
//!   `tollgate-testkit` fake server, and each provider's documented differences (id style,
//!   raw finish reasons, request fields);
//! - [`wire`]: a provider-neutral reading of the request bodies the fake servers recorded,
//!   so a case can assert "the system prompt went where this provider wants it" or "every
//!   tool result pairs with its call" once for every wire format.

pub mod target;
pub mod wire;

pub use target::{Harness, Target};
pub use wire::{WireCall, WireImage, WirePart, WireRequest, WireResult, WireRole, WireTurn};
