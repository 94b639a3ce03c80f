//! What every case shares: the scripted answers, the one expected response per answer, and
//! the comparison that allows only the differences providers document.

use futures_util::StreamExt;
use serde_json::{Value, json};
use tollgate_core::{
    AssistantMessage, AssistantPart, ChatEvent, ChatRequest, ChatResponse, ChatStream, Error,
    FinishReason, StreamAccumulator, Tool, ToolCall, Usage,
};
use tollgate_testkit::scenario::{Scenario, ScenarioFinish, ScenarioToolCall, ScenarioUsage};
use tollgate_tests::target::KEY;
use tollgate_tests::{Harness, Target, WireRequest};

/// The response id every scripted answer reports.
pub const RESPONSE_ID: &str = "resp-conformance-0001";
/// The model every scripted answer reports (a dated snapshot, as providers report them).
pub const REPORTED_MODEL: &str = "tide-model-2026-01-01";
/// The user's question in most cases.
pub const QUESTION: &str = "When is high tide in Brest today?";

/// Starts the target's harness.
pub async fn start(target: Target) -> Harness {
    target.start().await.unwrap()
}

/// A scripted answer with the suite's id and model and a plain usage.
pub fn answer(scenario: Scenario) -> Scenario {
    scenario
        .with_id(RESPONSE_ID)
        .with_model(REPORTED_MODEL)
        .with_usage(ScenarioUsage {
            input_tokens: 31,
            output_tokens: 9,
            ..ScenarioUsage::default()
        })
}

/// A text answer streamed in three pieces.
pub fn text_answer() -> Scenario {
    answer(Scenario::text(["High tide ", "is at ", "12:04."]))
}

/// The tool every tool case offers.
pub fn tide_tool() -> Tool {
    Tool::new(
        "get_tide_times",
        json!({
            "type": "object",
            "properties": {"harbor": {"type": "string"}, "day": {"type": "string"}},
            "required": ["harbor"],
        }),
    )
    .description("High and low tide times for a harbor.")
}

/// A tool call in the target's own id style. Arguments are compact JSON with keys in
/// sorted order, so providers that carry an object (Anthropic, Gemini) print them back
/// byte for byte.
pub fn tide_call(target: Target, index: usize, harbor: &str) -> ScenarioToolCall {
    ScenarioToolCall::new(
        target.native_call_id(index),
        "get_tide_times",
        [
            r#"{"day":"today","#.to_owned(),
            format!(r#""harbor":"{harbor}"}}"#),
        ],
    )
}

/// Tool calls answering the suite's question.
pub fn calls_answer(target: Target, harbors: &[&str]) -> Scenario {
    answer(Scenario::tool_calls(
        harbors
            .iter()
            .enumerate()
            .map(|(i, harbor)| tide_call(target, i, harbor)),
    ))
}

/// Usage as Tollgate normalises it.
pub fn normalised(usage: ScenarioUsage) -> Usage {
    Usage {
        input_tokens: usage.input_tokens,
        output_tokens: usage.output_tokens,
        cache_read_tokens: usage.cache_read_tokens,
        cache_write_tokens: usage.cache_write_tokens,
        reasoning_tokens: usage.reasoning_tokens,
    }
}

/// The unified finish reason.
pub fn finish(finish: ScenarioFinish) -> FinishReason {
    match finish {
        ScenarioFinish::Stop => FinishReason::Stop,
        ScenarioFinish::Length => FinishReason::Length,
        ScenarioFinish::ToolCalls => FinishReason::ToolCalls,
        ScenarioFinish::ContentFilter => FinishReason::ContentFilter,
    }
}

/// The one response every provider must turn `scenario` into.
pub fn expected(harness: &Harness, scenario: &Scenario) -> ChatResponse {
    let mut content = Vec::new();
    if !scenario.text.is_empty() {
        content.push(AssistantPart::Text {
            text: scenario.joined_text(),
        });
    }
    ChatResponse {
        id: scenario.id.clone(),
        model: scenario.model.clone(),
        message: AssistantMessage {
            content,
            tool_calls: scenario
                .tool_calls
                .iter()
                .map(|c| ToolCall::new(c.id.clone(), c.name.clone(), c.arguments_json()))
                .collect(),
        },
        finish_reason: finish(scenario.finish),
        provider_finish_reason: Some(harness.target.raw_finish(scenario.finish).to_owned()),
        usage: Some(normalised(scenario.usage)),
        meta: harness.expected_meta(),
    }
}

/// Whether `id` has the shape of a Gemini-synthesised id for call `index`:
/// `call_<index>_<10 base62 characters>`.
pub fn is_synthesised_id(id: &str, index: usize) -> bool {
    id.strip_prefix(&format!("call_{index}_"))
        .is_some_and(|hash| hash.len() == 10 && hash.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Asserts `actual` is `expected`, allowing only the documented differences:
///
/// - **Gemini issues no tool-call ids**: the client synthesises `call_<index>_<hash>`;
///   they must have that shape and be distinct, and are then taken as expected.
/// - **Gemini thought signatures**: Gemini attaches a `thoughtSignature` to the first
///   function call; the client keeps it as one signature-only reasoning part (empty
///   text), which must be there when the answer has calls, and is then set aside.
pub fn assert_conforms(harness: &Harness, actual: &ChatResponse, expected: &ChatResponse) {
    let mut expected = expected.clone();
    let mut actual = actual.clone();
    if !harness.target.issues_tool_ids() {
        assert_eq!(
            actual.message.tool_calls.len(),
            expected.message.tool_calls.len(),
            "{}: tool calls {:?}",
            harness.target,
            actual.message.tool_calls
        );
        for (i, (a, e)) in actual
            .message
            .tool_calls
            .iter()
            .zip(expected.message.tool_calls.iter_mut())
            .enumerate()
        {
            assert!(
                is_synthesised_id(&a.id, i),
                "{}: call {i} id {:?} is not a synthesised id",
                harness.target,
                a.id
            );
            e.id.clone_from(&a.id);
        }
        assert_distinct_ids(&actual.message.tool_calls);
    }
    if harness.target == Target::Gemini && !expected.message.tool_calls.is_empty() {
        let signature_only = |p: &AssistantPart| matches!(p, AssistantPart::Reasoning { text, signature: Some(s), .. } if text.is_empty() && !s.is_empty());
        let count = actual
            .message
            .content
            .iter()
            .filter(|p| signature_only(p))
            .count();
        assert_eq!(
            count, 1,
            "gemini: the call's thoughtSignature must be kept once: {:?}",
            actual.message.content
        );
        actual.message.content.retain(|p| !signature_only(p));
    }
    assert_eq!(actual, expected, "{}", harness.target);
}

/// Asserts no two calls share an id.
pub fn assert_distinct_ids(calls: &[ToolCall]) {
    let mut ids: Vec<&str> = calls.iter().map(|c| c.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), calls.len(), "duplicate tool-call ids: {calls:?}");
}

/// The `n`-th request the fake server received, read provider-neutrally.
pub fn wire(harness: &Harness, n: usize) -> WireRequest {
    let requests = harness.server.requests();
    let request = requests.get(n).unwrap_or_else(|| {
        panic!(
            "{}: no request #{n} (got {})",
            harness.target,
            requests.len()
        )
    });
    WireRequest::parse(harness.target.flavor(), request)
        .unwrap_or_else(|e| panic!("{}: {e}: {}", harness.target, request.json()))
}

/// The value at `pointer` in `body`, failing the test when absent.
pub fn at<'a>(body: &'a Value, pointer: &str) -> &'a Value {
    body.pointer(pointer)
        .unwrap_or_else(|| panic!("no {pointer} in {body}"))
}

/// The model the request named (in the body, or in Gemini's URL path).
pub fn requested_model(harness: &Harness, n: usize) -> String {
    let request = &harness.server.requests()[n];
    match harness.target {
        Target::Gemini => {
            let path = request.path_only();
            let rest = path.strip_prefix("/v1beta/models/").unwrap();
            rest.split(':').next().unwrap().to_owned()
        }
        _ => request.json()["model"].as_str().unwrap().to_owned(),
    }
}

/// Every item of a stream, read to its end.
pub async fn drain(stream: ChatStream) -> Vec<Result<ChatEvent, Error>> {
    StreamExt::collect::<Vec<_>>(stream).await
}

/// The response a list of clean events rebuilds (the accumulator every stream shares).
pub fn rebuild(harness: &Harness, events: &[ChatEvent]) -> ChatResponse {
    let mut acc = StreamAccumulator::new();
    for event in events {
        acc.push(event.clone());
    }
    acc.finish(harness.expected_meta()).unwrap()
}

/// Asserts no error message or debug print of `error` leaks the key.
pub fn assert_no_key(error: &Error) {
    assert!(!error.to_string().contains(KEY), "{error}");
    assert!(!format!("{error:?}").contains(KEY), "{error:?}");
}

/// A plain question.
pub fn question(target: Target) -> ChatRequest {
    ChatRequest::new(target.model()).user(QUESTION)
}
