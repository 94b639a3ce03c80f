//! Usage normalisation: each scenario renders usage in the provider's own semantics
//! (Anthropic's `input_tokens` without cache, Gemini's `candidatesTokenCount` without
//! thoughts, …); every client must give back the same normalised `Usage`.

use tollgate_core::Usage;
use tollgate_testkit::scenario::ScenarioUsage;
use tollgate_tests::Target;

use crate::support::{normalised, question, start, text_answer};

/// Cache reads and writes and reasoning tokens, all non-zero and all different.
const USAGE: ScenarioUsage = ScenarioUsage {
    input_tokens: 1_200,
    output_tokens: 340,
    cache_read_tokens: 800,
    cache_write_tokens: 150,
    reasoning_tokens: 120,
};

/// The normalised usage the target must report. Gemini reports no cache writes (the
/// scenario documents it renders none there), so its `cache_write_tokens` is 0; the
/// written tokens are still inside `promptTokenCount`, so `input_tokens` is unchanged.
fn expected_usage(target: Target) -> Usage {
    let mut usage = normalised(USAGE);
    if target == Target::Gemini {
        usage.cache_write_tokens = 0;
    }
    usage
}

/// A complete answer's usage, normalised.
pub async fn usage_is_normalised(target: Target) {
    let h = start(target).await;
    h.server.push(
        text_answer()
            .with_usage(USAGE)
            .reply(target.flavor(), false),
    );
    let response = h.client.chat(question(target)).await.unwrap();
    assert_eq!(response.usage, Some(expected_usage(target)), "{target}");
}

/// A stream's usage (from whichever chunk or event the provider puts it on), normalised
/// the same way as the complete answer's.
pub async fn streamed_usage_is_normalised(target: Target) {
    let h = start(target).await;
    h.server
        .push(text_answer().with_usage(USAGE).reply(target.flavor(), true));
    let stream = h.client.stream(question(target)).await.unwrap();
    let response = stream.collect().await.unwrap();
    assert_eq!(response.usage, Some(expected_usage(target)), "{target}");
}
