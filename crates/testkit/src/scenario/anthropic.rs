//! A [`Scenario`] as Anthropic Messages sends it.

use serde_json::{Value, json};

use super::{Scenario, ScenarioFinish, push_event};

/// The signature on rendered `thinking` blocks (opaque to clients; must be echoed back).
const SIGNATURE: &str = "EqQBCkgIBhABGAIiQHRvbGxnYXRlLXRlc3RraXQtdGhpbmtpbmctc2lnbmF0dXJl";

fn stop_reason(finish: ScenarioFinish) -> &'static str {
    match finish {
        ScenarioFinish::Stop => "end_turn",
        ScenarioFinish::Length => "max_tokens",
        ScenarioFinish::ToolCalls => "tool_use",
        ScenarioFinish::ContentFilter => "refusal",
    }
}

/// `input_tokens` excludes cache reads and writes, which go to `cache_read_input_tokens` and
/// `cache_creation_input_tokens`; `output_tokens` includes thinking.
fn usage(s: &Scenario, output_tokens: u64, with_details: bool) -> Value {
    let u = &s.usage;
    let mut usage = json!({
        "input_tokens": u.uncached_input_tokens(),
        "cache_creation_input_tokens": u.cache_write_tokens,
        "cache_read_input_tokens": u.cache_read_tokens,
    });
    if with_details {
        usage["cache_creation"] = json!({
            "ephemeral_5m_input_tokens": u.cache_write_tokens,
            "ephemeral_1h_input_tokens": 0,
        });
    }
    usage["output_tokens"] = json!(output_tokens);
    if u.reasoning_tokens > 0 {
        usage["output_tokens_details"] = json!({ "thinking_tokens": u.reasoning_tokens });
    }
    if with_details {
        usage["service_tier"] = json!("standard");
    }
    usage
}

/// The content blocks in order: thinking, text, tool uses.
fn blocks(s: &Scenario) -> Vec<Value> {
    let mut blocks = Vec::new();
    if !s.reasoning.is_empty() {
        blocks.push(json!({
            "type": "thinking",
            "thinking": s.joined_reasoning(),
            "signature": SIGNATURE,
        }));
    }
    if !s.text.is_empty() {
        blocks.push(json!({ "type": "text", "text": s.joined_text() }));
    }
    for call in &s.tool_calls {
        blocks.push(json!({
            "type": "tool_use",
            "id": call.id,
            "name": call.name,
            "input": call.arguments_value(),
        }));
    }
    blocks
}

/// The non-streaming `message` body.
pub(super) fn body(s: &Scenario) -> Value {
    json!({
        "model": s.model,
        "id": s.id,
        "type": "message",
        "role": "assistant",
        "content": blocks(s),
        "stop_reason": stop_reason(s.finish),
        "stop_sequence": null,
        "usage": usage(s, s.usage.output_tokens, true),
    })
}

/// Writes Anthropic's `event:` + `data:` pairs.
struct Events {
    out: String,
    pinged: bool,
}

impl Events {
    fn event(&mut self, name: &str, data: &Value) {
        push_event(&mut self.out, Some(name), &data.to_string(), "\n");
    }

    /// `content_block_start`, followed by a `ping` the first time (as the API does).
    fn start_block(&mut self, index: usize, block: Value) {
        self.event(
            "content_block_start",
            &json!({ "type": "content_block_start", "index": index, "content_block": block }),
        );
        if !self.pinged {
            self.pinged = true;
            // Anthropic writes its ping with a space after the colon.
            push_event(&mut self.out, Some("ping"), r#"{"type": "ping"}"#, "\n");
        }
    }

    fn delta(&mut self, index: usize, delta: Value) {
        self.event(
            "content_block_delta",
            &json!({ "type": "content_block_delta", "index": index, "delta": delta }),
        );
    }

    fn stop_block(&mut self, index: usize) {
        self.event(
            "content_block_stop",
            &json!({ "type": "content_block_stop", "index": index }),
        );
    }
}

/// The SSE body: `message_start` (input usage), per block `content_block_start` / deltas /
/// `content_block_stop` (a `ping` after the first start), `message_delta` (stop reason and
/// cumulative usage), `message_stop`.
pub(super) fn stream(s: &Scenario) -> String {
    let mut events = Events {
        out: String::new(),
        pinged: false,
    };
    events.event(
        "message_start",
        &json!({
            "type": "message_start",
            "message": {
                "model": s.model,
                "id": s.id,
                "type": "message",
                "role": "assistant",
                "content": [],
                "stop_reason": null,
                "stop_sequence": null,
                "usage": usage(s, s.usage.output_tokens.min(1), true),
            },
        }),
    );

    let mut index = 0;
    if !s.reasoning.is_empty() {
        events.start_block(
            index,
            json!({ "type": "thinking", "thinking": "", "signature": "" }),
        );
        for piece in &s.reasoning {
            events.delta(
                index,
                json!({ "type": "thinking_delta", "thinking": piece }),
            );
        }
        events.delta(
            index,
            json!({ "type": "signature_delta", "signature": SIGNATURE }),
        );
        events.stop_block(index);
        index += 1;
    }
    if !s.text.is_empty() {
        events.start_block(index, json!({ "type": "text", "text": "" }));
        for piece in &s.text {
            events.delta(index, json!({ "type": "text_delta", "text": piece }));
        }
        events.stop_block(index);
        index += 1;
    }
    for call in &s.tool_calls {
        events.start_block(
            index,
            json!({ "type": "tool_use", "id": call.id, "name": call.name, "input": {} }),
        );
        // The API's first input fragment is an empty string.
        let pieces =
            std::iter::once("").chain(call.arguments_json_pieces.iter().map(String::as_str));
        for piece in pieces {
            events.delta(
                index,
                json!({ "type": "input_json_delta", "partial_json": piece }),
            );
        }
        events.stop_block(index);
        index += 1;
    }

    events.event(
        "message_delta",
        &json!({
            "type": "message_delta",
            "delta": { "stop_reason": stop_reason(s.finish), "stop_sequence": null },
            "usage": usage(s, s.usage.output_tokens, false),
        }),
    );
    events.event("message_stop", &json!({ "type": "message_stop" }));
    events.out
}
