//! The conformance suite, written once and run against every provider client.
//!
//! Each case sends the same `ChatRequest` to a provider's client, which talks to a
//! `tollgate-testkit` fake server scripted with the same logical answer rendered in that
//! provider's wire format (`tollgate_testkit::scenario`). The case then asserts that
//!
//! - the client returned the same normalised result as every other provider (one expected
//!   `ChatResponse`, `Usage`, error kind, …), modulo differences the providers document —
//!   see `support::assert_conforms`;
//! - the request the fake server received put everything where *that* provider wants it
//!   (read through `tollgate_tests::wire`).
//!
//! [`conformance!`] generates one module of tests per provider: adding a provider, or an
//! OpenAI-compatible preset, is one line in the list at the bottom.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod chat;
mod errors;
mod streaming;
mod support;
mod tools;
mod usage;

use tollgate_openai::Preset;
use tollgate_tests::Target;

/// Generates the whole suite for each `module => target` pair.
macro_rules! conformance {
    ($($module:ident => $target:expr),* $(,)?) => {$(
        mod $module {
            use super::*;

            fn target() -> Target {
                $target
            }

            conformance!(@cases
                chat::text,
                chat::system_prompt,
                chat::multi_turn,
                chat::sampling_parameters,
                chat::structured_output,
                chat::images,
                chat::finish_reasons,
                tools::tool_round_trip,
                tools::parallel_tool_calls,
                streaming::streaming_text,
                streaming::streaming_tool_calls,
                streaming::mid_stream_break_is_an_error_item,
                streaming::failure_before_the_first_event_fails_the_call,
                usage::usage_is_normalised,
                usage::streamed_usage_is_normalised,
                errors::rate_limited,
                errors::quota_exhausted,
                errors::overloaded,
                errors::server,
                errors::authentication,
                errors::permission_denied,
                errors::not_found,
                errors::invalid_request,
                errors::context_length_exceeded,
                errors::content_filtered,
            );

            conformance!(@paused_cases
                streaming::dropping_a_stream_closes_the_connection,
                streaming::a_stream_resolves_at_its_first_event,
            );
        }
    )*};
    (@cases $($module:ident :: $case:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $case() {
            $module::$case(target()).await;
        }
    )*};
    (@paused_cases $($module:ident :: $case:ident),* $(,)?) => {$(
        #[tokio::test(start_paused = true)]
        async fn $case() {
            $module::$case(target()).await;
        }
    )*};
}

conformance! {
    openai => Target::OPENAI,
    anthropic => Target::Anthropic,
    gemini => Target::Gemini,
    groq => Target::Compatible(Preset::Groq),
    mistral => Target::MISTRAL,
    ollama => Target::Compatible(Preset::Ollama),
    deepseek => Target::Compatible(Preset::DeepSeek),
    together => Target::Compatible(Preset::Together),
    vllm => Target::Compatible(Preset::Vllm),
}
