//! Portable conversations: a tool-calling turn produced by provider A, answered with tool
//! results, continues on provider B — for every ordered pair of OpenAI, Anthropic, Gemini
//! and the Mistral preset (plus an OpenAI-compatible source whose ids no other provider
//! accepts as they are).
//!
//! A's turn is real: provider A's client runs against its fake server, scripted with two
//! parallel tool calls in A's own id style (`call_…`, `toolu_…`, none at all for Gemini, 9
//! characters for Mistral). The conversation then goes to B, whose fake server validates it
//! as the real API does (Anthropic's id grammar and `tool_use`/`tool_result` pairing,
//! Gemini's `functionResponse.name`, …). Each test asserts that B accepted the request, that
//! every id in it follows B's rule, that calls and results still pair up one to one, that
//! names and arguments survived, and that B's answer comes back normally.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../conformance/support.rs"]
#[allow(dead_code)]
mod support;

use serde_json::{Value, json};
use tollgate_core::{AssistantPart, ChatRequest, ChatResponse, Message};
use tollgate_openai::Preset;
use tollgate_testkit::Flavor;
use tollgate_testkit::scenario::{Scenario, ScenarioToolCall};
use tollgate_tests::{Target, WireRequest};

use support::{QUESTION, answer, assert_conforms, expected, start, text_answer, tide_tool, wire};

/// Where the assistant turn with tool calls comes from.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// A provider issuing ids in its own style.
    Native(Target),
    /// An OpenAI-compatible server (here the Together preset) issuing ids such as
    /// `functions.get_tide_times:0`, as some hosted open models do: valid for OpenAI,
    /// rejected by Anthropic's grammar and Mistral's 9-character rule.
    DottedIds,
}

impl Source {
    fn target(self) -> Target {
        match self {
            Source::Native(target) => target,
            Source::DottedIds => Target::Compatible(Preset::Together),
        }
    }

    fn call_id(self, index: usize) -> String {
        match self {
            Source::Native(target) => target.native_call_id(index),
            Source::DottedIds => format!("functions.get_tide_times:{index}"),
        }
    }
}

const HARBORS: [&str; 2] = ["Brest", "Saint-Malo"];

fn tide_result(harbor: &str) -> Value {
    json!({"harbor": harbor, "high": "12:04"})
}

/// Runs provider A for real and returns the conversation so far: the question, A's turn
/// with two tool calls, and a result for each.
async fn conversation_from(source: Source) -> (ChatRequest, ChatResponse) {
    let target = source.target();
    let h = start(target).await;
    let calls = HARBORS.iter().enumerate().map(|(i, harbor)| {
        ScenarioToolCall::new(
            source.call_id(i),
            "get_tide_times",
            [format!(r#"{{"harbor":"{harbor}"}}"#)],
        )
    });
    // With reasoning: Anthropic renders a signed `thinking` block, Gemini a thought part
    // (and a `thoughtSignature` on the first call); OpenAI-style servers send none.
    let scenario = answer(Scenario::tool_calls(calls)).with_reasoning(["Check both harbors."]);
    h.server.push(scenario.reply(target.flavor(), false));
    let request = ChatRequest::new(target.model())
        .system("Use the tide tool.")
        .user(QUESTION)
        .tool(tide_tool());
    let turn = h.client.chat(request.clone()).await.unwrap();
    assert_eq!(turn.message.tool_calls.len(), HARBORS.len());
    if let Source::Native(target) = source
        && target.issues_tool_ids()
    {
        // A's own ids, as A issued them.
        for (i, call) in turn.message.tool_calls.iter().enumerate() {
            assert_eq!(call.id, source.call_id(i));
        }
    }
    let mut conversation = request.message(turn.message.clone());
    for (call, harbor) in turn.message.tool_calls.iter().zip(HARBORS) {
        conversation = conversation.message(Message::tool_result(
            call.id.clone(),
            call.name.clone(),
            tide_result(harbor).to_string(),
        ));
    }
    (conversation, turn)
}

/// Asserts B's request carries A's calls and their results under ids B accepts, paired.
fn assert_portable(destination: Target, sent: &WireRequest, turn: &ChatResponse) {
    let rule = destination.tool_id_rule();
    let calls = sent.calls();
    let results = sent.results();
    assert_eq!(calls.len(), HARBORS.len(), "{}", sent.body);
    assert_eq!(results.len(), HARBORS.len(), "{}", sent.body);
    let mut ids = Vec::new();
    for (i, harbor) in HARBORS.iter().enumerate() {
        let original = &turn.message.tool_calls[i];
        let (call, result) = (calls[i], results[i]);
        assert_eq!(call.name, original.name);
        assert_eq!(call.arguments, json!({"harbor": harbor}));
        assert_eq!(result.content, tide_result(harbor));
        let id = call.id.clone().expect("calls carry ids");
        assert!(rule.accepts(&id), "{destination} got id {id:?}");
        assert_eq!(result.id.as_deref(), Some(id.as_str()), "{}", sent.body);
        if rule.accepts(&original.id) {
            assert_eq!(id, original.id, "an acceptable id is kept as it is");
        }
        if destination.flavor() == Flavor::Gemini {
            assert_eq!(result.name.as_deref(), Some(original.name.as_str()));
        }
        ids.push(id);
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        ids.len(),
        HARBORS.len(),
        "ids must stay distinct: {}",
        sent.body
    );
    assert_eq!(sent.system.as_deref(), Some("Use the tide tool."));
}

async fn portable(source: Source, destination: Target) {
    let (conversation, turn) = conversation_from(source).await;

    let h = start(destination).await;
    let scenario = text_answer();
    h.server.push(scenario.reply(destination.flavor(), false));
    let mut request = conversation;
    request.model = destination.model().to_owned();
    let response = h
        .client
        .chat(request)
        .await
        .unwrap_or_else(|e| panic!("{source:?} → {destination}: {e}"));

    assert_conforms(&h, &response, &expected(&h, &scenario));
    assert_eq!(h.server.request_count(), 1);
    let sent = wire(&h, 0);
    assert_portable(destination, &sent, &turn);
    if source.target() == destination {
        assert_signatures_echoed(destination, &sent, &turn);
    } else {
        assert_no_foreign_signatures(destination, &sent, &turn);
    }
}

/// The signatures a reply carried.
fn issued_signatures(turn: &ChatResponse) -> Vec<&str> {
    turn.message
        .content
        .iter()
        .filter_map(|part| match part {
            AssistantPart::Reasoning {
                signature: Some(signature),
                ..
            } => Some(signature.as_str()),
            _ => None,
        })
        .collect()
}

/// A signature is only valid for the provider that issued it: another provider rejects it
/// (Anthropic answers 400 for an invalid thinking signature), so none may cross over.
fn assert_no_foreign_signatures(destination: Target, sent: &WireRequest, turn: &ChatResponse) {
    let issued = issued_signatures(turn);
    let leaked: Vec<&str> = sent
        .signatures()
        .into_iter()
        .filter(|s| issued.contains(s))
        .collect();
    assert!(
        leaked.is_empty(),
        "{destination} received another provider's signatures {leaked:?}: {}",
        sent.body
    );
}

/// Back on the provider that produced them, reasoning signatures are echoed unchanged
/// (Anthropic requires its signed `thinking` blocks back in a tool loop; Gemini 3 rejects a
/// replayed function call whose `thoughtSignature` was dropped).
fn assert_signatures_echoed(destination: Target, sent: &WireRequest, turn: &ChatResponse) {
    let issued = issued_signatures(turn);
    if destination.flavor() != Flavor::OpenAi {
        assert!(!issued.is_empty(), "{destination} signed its reasoning");
    }
    assert_eq!(sent.signatures(), issued, "{}", sent.body);
}

/// Generates one test per (source, destination) pair.
macro_rules! pairs {
    ($($from:ident => $source:expr),* $(,)?) => {$(
        mod $from {
            use super::*;

            #[tokio::test]
            async fn to_openai() {
                portable($source, Target::OPENAI).await;
            }

            #[tokio::test]
            async fn to_anthropic() {
                portable($source, Target::Anthropic).await;
            }

            #[tokio::test]
            async fn to_gemini() {
                portable($source, Target::Gemini).await;
            }

            #[tokio::test]
            async fn to_mistral() {
                portable($source, Target::MISTRAL).await;
            }
        }
    )*};
}

pairs! {
    from_openai => Source::Native(Target::OPENAI),
    from_anthropic => Source::Native(Target::Anthropic),
    from_gemini => Source::Native(Target::Gemini),
    from_mistral => Source::Native(Target::MISTRAL),
    from_dotted_ids => Source::DottedIds,
}
