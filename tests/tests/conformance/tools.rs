//! Tool calls: call → result → answer, and parallel calls.

use serde_json::{Value, json};
use tollgate_core::{ChatRequest, Message};
use tollgate_testkit::Flavor;
use tollgate_tests::{Harness, Target, WirePart, WireRequest};

use crate::support::{
    QUESTION, assert_conforms, at, calls_answer, expected, start, text_answer, tide_tool, wire,
};

/// The tool declaration sits in each provider's own field.
fn assert_tool_declared(h: &Harness, sent: &WireRequest) {
    let body = &sent.body;
    let name = match h.target.flavor() {
        Flavor::OpenAi => {
            assert_eq!(at(body, "/tools/0/type"), "function");
            at(body, "/tools/0/function/name")
        }
        Flavor::Anthropic => {
            assert!(at(body, "/tools/0/input_schema").is_object());
            at(body, "/tools/0/name")
        }
        Flavor::Gemini => at(body, "/tools/0/functionDeclarations/0/name"),
    };
    assert_eq!(name, "get_tide_times", "{body}");
}

/// The result each tool call gets in these cases.
fn tide_result(harbor: &str) -> Value {
    json!({"harbor": harbor, "high": "12:04", "low": "18:17"})
}

/// Asserts the follow-up request carries the assistant's calls and one result per call, in
/// the provider's shape, with ids the provider accepts that pair call ↔ result.
fn assert_results_sent(h: &Harness, sent: &WireRequest, harbors: &[&str], issued_ids: &[String]) {
    let rule = h.target.tool_id_rule();
    let calls = sent.calls();
    let results = sent.results();
    assert_eq!(calls.len(), harbors.len(), "{}", sent.body);
    assert_eq!(results.len(), harbors.len(), "{}", sent.body);
    for (i, harbor) in harbors.iter().enumerate() {
        let call = calls[i];
        let result = results[i];
        assert_eq!(call.name, "get_tide_times");
        assert_eq!(call.arguments, json!({"day": "today", "harbor": harbor}));
        assert_eq!(result.content, tide_result(harbor));
        let id = call.id.as_deref().expect("every call is sent with an id");
        assert!(rule.accepts(id), "{}: id {id:?}", h.target);
        // The provider's own ids (and the ones the client synthesised) go back unchanged.
        assert_eq!(id, issued_ids[i], "{}", h.target);
        assert_eq!(result.id.as_deref(), Some(id), "{}", sent.body);
        if h.target.flavor() == Flavor::Gemini {
            assert_eq!(result.name.as_deref(), Some("get_tide_times"));
        }
    }
    // The results answer the turn right after the calls.
    let call_turn = sent
        .turns
        .iter()
        .position(|t| t.parts.iter().any(|p| matches!(p, WirePart::Call(_))))
        .unwrap();
    let next = &sent.turns[call_turn + 1];
    assert_eq!(
        next.parts
            .iter()
            .filter(|p| matches!(p, WirePart::Result(_)))
            .count(),
        harbors.len()
    );
    match h.target.flavor() {
        Flavor::OpenAi => {
            let messages = sent.body["messages"].as_array().unwrap();
            let tools: Vec<_> = messages.iter().filter(|m| m["role"] == "tool").collect();
            assert_eq!(tools.len(), harbors.len());
        }
        Flavor::Anthropic => {
            let last = sent.body["messages"].as_array().unwrap().last().unwrap();
            assert_eq!(last["role"], "user");
            assert_eq!(last["content"][0]["type"], "tool_result");
        }
        Flavor::Gemini => {
            let last = sent.body["contents"].as_array().unwrap().last().unwrap();
            assert_eq!(last["role"], "user");
            assert!(last["parts"][0]["functionResponse"].is_object());
        }
    }
}

async fn round_trip(target: Target, harbors: &[&str]) {
    let h = start(target).await;
    let calls = calls_answer(target, harbors);
    h.server.push(calls.reply(target.flavor(), false));
    let request = ChatRequest::new(target.model())
        .user(QUESTION)
        .tool(tide_tool());

    let first = h.client.chat(request.clone()).await.unwrap();
    assert_conforms(&h, &first, &expected(&h, &calls));
    assert_tool_declared(&h, &wire(&h, 0));

    // Append the assistant turn as it came back, answer every call, and continue.
    let answer = text_answer();
    h.server.push(answer.reply(target.flavor(), false));
    let mut follow_up = request.message(first.message.clone());
    for (call, harbor) in first.message.tool_calls.iter().zip(harbors) {
        follow_up = follow_up.message(Message::tool_result(
            call.id.clone(),
            call.name.clone(),
            tide_result(harbor).to_string(),
        ));
    }
    let second = h.client.chat(follow_up).await.unwrap();

    assert_conforms(&h, &second, &expected(&h, &answer));
    assert_eq!(h.server.request_count(), 2);
    let issued: Vec<String> = first
        .message
        .tool_calls
        .iter()
        .map(|c| c.id.clone())
        .collect();
    assert_results_sent(&h, &wire(&h, 1), harbors, &issued);
}

/// One call, its result, then the answer: two requests, the second carrying the result in
/// the provider's shape and paired to the call by an id the provider accepts.
pub async fn tool_round_trip(target: Target) {
    round_trip(target, &["Brest"]).await;
}

/// Several calls in one turn: distinct ids, each answered, in order.
pub async fn parallel_tool_calls(target: Target) {
    round_trip(target, &["Brest", "Saint-Malo", "Cherbourg"]).await;
}
