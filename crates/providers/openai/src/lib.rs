//! OpenAI Chat Completions and every OpenAI-compatible endpoint as a Tollgate chat service.
