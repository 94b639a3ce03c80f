//! The tollgate gateway: one OpenAI-compatible endpoint in front of every provider.
//!
//! - [`state`]: [`state::AppState`], everything a running gateway serves from (built from
//!   config by `build`, served by [`server`]);
//! - [`auth`]: gateway keys (hashed), route permissions, per-key rate limits.

pub mod api;
pub mod auth;
pub mod build;
pub mod cli;
pub mod config;
pub mod server;
pub mod simulate;
pub mod state;
