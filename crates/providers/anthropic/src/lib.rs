//! Anthropic Messages API as a Tollgate chat service.
