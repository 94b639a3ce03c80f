//! Writing a stream of [`ChatEvent`]s as OpenAI `chat.completion.chunk` server-sent events.
//!
//! Each event is written straight into one reusable buffer (`data: {json}\n\n`) and
//! split off as a [`Bytes`] frame: no intermediate JSON values, no per-chunk strings. The
//! part every chunk of a stream shares (id, object, created, model) is written once, when
//! the stream starts; each chunk adds only its `choices` (see `tollgate_core::json::write`).
//!
//! The shape follows OpenAI exactly: a first chunk with `delta.role = "assistant"`, text
//! in `delta.content`, reasoning in `delta.reasoning_content` (DeepSeek's field, which
//! most clients read), tool calls as `delta.tool_calls[{index, id, type, function:{name,
//! arguments}}]` on their first chunk and `{index, function:{arguments}}` after, a chunk
//! with an empty delta and `finish_reason`, then — when the request set
//! `stream_options.include_usage` — a chunk with `choices: []` and `usage`, and finally
//! `data: [DONE]`. A failure after the first event ends the stream with
//! `data: {"error":{…}}` and **no** `[DONE]`, so a client never mistakes a broken answer
//! for a complete one.

use bytes::{BufMut, Bytes, BytesMut};
use tollgate_core::json::write as json;
use tollgate_core::{ChatEvent, Usage};

use super::error::ApiError;
use super::response::write_usage;

/// Turns [`ChatEvent`]s into SSE frames.
#[derive(Debug)]
pub struct ChunkEncoder {
    model: String,
    created: u64,
    include_usage: bool,
    started: bool,
    usage: Option<Usage>,
    buf: BytesMut,
    /// What every frame of the stream starts with, written once when the stream starts:
    /// `data: {"id":…,"object":"chat.completion.chunk","created":…,"model":…,"choices":[`.
    head: Vec<u8>,
    /// Where each frame is written before it is copied into `buf`: the JSON helpers write
    /// to a `Vec`.
    frame: Vec<u8>,
}

/// The `delta` of a chunk: what one event adds to the answer.
enum Delta<'a> {
    /// The stream's first chunk: `{"role":"assistant","content":""}`.
    Role,
    Content(&'a str),
    Reasoning(&'a str),
    ToolCallStart {
        index: u32,
        id: &'a str,
        name: &'a str,
    },
    ToolCallArguments {
        index: u32,
        arguments: &'a str,
    },
    /// The finishing chunk's `{}`.
    Empty,
}

impl ChunkEncoder {
    /// An encoder for one stream created at `created` (Unix seconds).
    pub fn new(created: u64, include_usage: bool) -> Self {
        let mut encoder = Self {
            model: String::new(),
            created,
            include_usage,
            started: false,
            usage: None,
            buf: BytesMut::with_capacity(512),
            head: Vec::with_capacity(128),
            frame: Vec::with_capacity(512),
        };
        encoder.write_head("");
        encoder
    }

    /// The last usage the stream reported, if any.
    pub fn usage(&self) -> Option<&Usage> {
        self.usage.as_ref()
    }

    /// The model the provider reported in the stream's start event.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The frames for one event (`None` for events with no OpenAI form: usage, which
    /// comes at the end, reasoning signatures and redacted reasoning).
    pub fn event(&mut self, event: ChatEvent) -> Option<Bytes> {
        if let ChatEvent::Start { id, model } = event {
            self.model = model;
            self.write_head(&id);
            self.started = true;
            self.write_delta(Delta::Role, None);
            return Some(self.buf.split().freeze());
        }
        if !self.started {
            // A stream without a start event still opens with the role chunk.
            self.started = true;
            self.write_delta(Delta::Role, None);
        }
        match &event {
            ChatEvent::TextDelta { text } => self.write_delta(Delta::Content(text), None),
            ChatEvent::ReasoningDelta { text } => self.write_delta(Delta::Reasoning(text), None),
            ChatEvent::ToolCallStart { index, id, name } => self.write_delta(
                Delta::ToolCallStart {
                    index: *index,
                    id,
                    name,
                },
                None,
            ),
            ChatEvent::ToolCallDelta { index, arguments } => self.write_delta(
                Delta::ToolCallArguments {
                    index: *index,
                    arguments,
                },
                None,
            ),
            ChatEvent::Finish { reason, .. } => {
                self.write_delta(Delta::Empty, Some(reason.as_str()));
            }
            ChatEvent::Usage(usage) => self.usage = Some(*usage),
            // No OpenAI form: signatures and encrypted reasoning are not sent.
            ChatEvent::Start { .. }
            | ChatEvent::ReasoningSignature { .. }
            | ChatEvent::ReasoningRedacted { .. } => {}
        }
        (!self.buf.is_empty()).then(|| self.buf.split().freeze())
    }

    /// The closing frames of a stream that finished: the usage chunk (if the request
    /// asked for it and the provider reported usage, with `cost_usd` when known), an SSE
    /// comment `: x-tollgate-cost-usd=<usd>` when the cost is known, and `data: [DONE]`.
    pub fn finish(&mut self, cost_usd: Option<f64>) -> Bytes {
        if self.include_usage
            && let Some(usage) = self.usage
        {
            let frame = &mut self.frame;
            frame.clear();
            frame.extend_from_slice(&self.head);
            frame.extend_from_slice(b"],\"usage\":");
            write_usage(frame, &usage, cost_usd);
            frame.extend_from_slice(b"}\n\n");
            self.buf.put_slice(frame);
        }
        if let Some(cost) = cost_usd {
            self.buf.put_slice(b": x-tollgate-cost-usd=");
            self.buf.put_slice(format_cost(cost).as_bytes());
            self.buf.put_slice(b"\n\n");
        }
        self.buf.put_slice(b"data: [DONE]\n\n");
        self.buf.split().freeze()
    }

    /// The frame that ends a broken stream: `data: {"error":{…}}` (no `[DONE]`).
    pub fn error(&mut self, error: &ApiError) -> Bytes {
        self.buf.put_slice(b"data: ");
        let _ = serde_json::to_writer((&mut self.buf).writer(), &error.body());
        self.buf.put_slice(b"\n\n");
        self.buf.split().freeze()
    }

    /// Writes the part every frame of the stream starts with, for the stream `id`.
    fn write_head(&mut self, id: &str) {
        let head = &mut self.head;
        head.clear();
        head.extend_from_slice(b"data: {\"id\":");
        json::string(head, id);
        head.extend_from_slice(b",\"object\":\"chat.completion.chunk\",\"created\":");
        json::uint(head, self.created);
        head.extend_from_slice(b",\"model\":");
        json::string(head, &self.model);
        head.extend_from_slice(b",\"choices\":[");
    }

    /// Writes one chunk with a single choice carrying `delta` into `buf`.
    fn write_delta(&mut self, delta: Delta<'_>, finish_reason: Option<&str>) {
        let frame = &mut self.frame;
        frame.clear();
        frame.extend_from_slice(&self.head);
        frame.extend_from_slice(b"{\"index\":0,\"delta\":");
        match delta {
            Delta::Role => frame.extend_from_slice(b"{\"role\":\"assistant\",\"content\":\"\"}"),
            Delta::Content(text) => {
                frame.extend_from_slice(b"{\"content\":");
                json::string(frame, text);
                frame.push(b'}');
            }
            Delta::Reasoning(text) => {
                frame.extend_from_slice(b"{\"reasoning_content\":");
                json::string(frame, text);
                frame.push(b'}');
            }
            Delta::ToolCallStart { index, id, name } => {
                frame.extend_from_slice(b"{\"tool_calls\":[{\"index\":");
                json::uint(frame, u64::from(index));
                frame.extend_from_slice(b",\"id\":");
                json::string(frame, id);
                frame.extend_from_slice(b",\"type\":\"function\",\"function\":{\"name\":");
                json::string(frame, name);
                frame.extend_from_slice(b",\"arguments\":\"\"}}]}");
            }
            Delta::ToolCallArguments { index, arguments } => {
                frame.extend_from_slice(b"{\"tool_calls\":[{\"index\":");
                json::uint(frame, u64::from(index));
                frame.extend_from_slice(b",\"function\":{\"arguments\":");
                json::string(frame, arguments);
                frame.extend_from_slice(b"}}]}");
            }
            Delta::Empty => frame.extend_from_slice(b"{}"),
        }
        frame.extend_from_slice(b",\"logprobs\":null,\"finish_reason\":");
        match finish_reason {
            Some(reason) => json::string(frame, reason),
            None => frame.extend_from_slice(b"null"),
        }
        frame.extend_from_slice(b"}]}\n\n");
        self.buf.put_slice(frame);
    }
}

/// A cost in USD as the header and the SSE comment print it: up to ten decimals,
/// trailing zeros trimmed (`0.000135`).
pub fn format_cost(cost: f64) -> String {
    const SCALE: u64 = 10_000_000_000;
    let scaled = (cost * 1e10).round();
    if !(0.0..9.0e15).contains(&scaled) {
        // Negative, enormous or not a number: never a real price, printed as it is.
        return trim_zeros(format!("{cost:.10}"));
    }
    // From integer units of 1e-10 USD with `itoa`: fixed-precision float formatting takes
    // a slow exact path, and `format!` itself costs ~1,000 instructions per answer.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let scaled = scaled as u64;
    let mut digits = itoa::Buffer::new();
    let mut text = String::with_capacity(24);
    text.push_str(digits.format(scaled / SCALE));
    text.push('.');
    let fraction = digits.format(scaled % SCALE);
    for _ in fraction.len()..10 {
        text.push('0');
    }
    text.push_str(fraction);
    trim_zeros(text)
}

/// Drops trailing zeros after the point, keeping one digit after it (`1.50` → `1.5`,
/// `2.000` → `2.0`).
fn trim_zeros(mut text: String) -> String {
    while text.ends_with('0') && !text.ends_with(".0") {
        text.pop();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollgate_core::FinishReason;

    fn frames(encoder: &mut ChunkEncoder, events: Vec<ChatEvent>) -> String {
        let mut out = String::new();
        for event in events {
            if let Some(frame) = encoder.event(event) {
                out.push_str(std::str::from_utf8(&frame).unwrap());
            }
        }
        out
    }

    #[test]
    fn a_stream_is_encoded_as_openai_chunks() {
        let mut encoder = ChunkEncoder::new(7, true);
        let mut out = frames(
            &mut encoder,
            vec![
                ChatEvent::Start {
                    id: "c1".into(),
                    model: "m".into(),
                },
                ChatEvent::text("Hi \"there\""),
                ChatEvent::ToolCallStart {
                    index: 0,
                    id: "t0".into(),
                    name: "f".into(),
                },
                ChatEvent::ToolCallDelta {
                    index: 0,
                    arguments: "{\"a\":".into(),
                },
                ChatEvent::ToolCallStart {
                    index: 1,
                    id: "t1".into(),
                    name: "g".into(),
                },
                ChatEvent::ToolCallDelta {
                    index: 0,
                    arguments: "1}".into(),
                },
                ChatEvent::Usage(Usage::new(3, 4)),
                ChatEvent::Finish {
                    reason: FinishReason::ToolCalls,
                    raw: None,
                },
            ],
        );
        out.push_str(std::str::from_utf8(&encoder.finish(Some(0.000135))).unwrap());
        insta::assert_snapshot!(out);
    }

    /// Redacted reasoning has no OpenAI form: it writes no frame, and the frames around
    /// it are exactly those of the same stream without it.
    #[test]
    fn redacted_reasoning_writes_nothing_and_the_stream_goes_on() {
        let events = |redacted: bool| {
            let mut events = vec![
                ChatEvent::Start {
                    id: "c1".into(),
                    model: "m".into(),
                },
                ChatEvent::ReasoningDelta {
                    text: "think".into(),
                },
                ChatEvent::text("Hi"),
                ChatEvent::Finish {
                    reason: FinishReason::Stop,
                    raw: None,
                },
            ];
            if redacted {
                // Before any visible reasoning, and between reasoning and text.
                for at in [2, 1] {
                    events.insert(
                        at,
                        ChatEvent::ReasoningRedacted {
                            data: "opaque-data".into(),
                        },
                    );
                }
            }
            events
        };
        let mut with = ChunkEncoder::new(7, false);
        let mut without = ChunkEncoder::new(7, false);
        let with =
            frames(&mut with, events(true)) + std::str::from_utf8(&with.finish(None)).unwrap();
        let without = frames(&mut without, events(false))
            + std::str::from_utf8(&without.finish(None)).unwrap();
        assert_eq!(with, without);
        assert!(with.ends_with("data: [DONE]\n\n") && !with.contains("opaque-data"));
    }

    #[test]
    fn without_include_usage_there_is_no_usage_chunk() {
        let mut encoder = ChunkEncoder::new(7, false);
        frames(&mut encoder, vec![ChatEvent::Usage(Usage::new(1, 1))]);
        let end = encoder.finish(None);
        assert_eq!(&end[..], b"data: [DONE]\n\n");
    }

    #[test]
    fn an_error_frame_has_openais_error_shape_and_no_done() {
        let mut encoder = ChunkEncoder::new(7, false);
        let err = ApiError::from_error(&tollgate_core::Error::new(
            tollgate_core::ErrorKind::Transport,
            "cut",
        ));
        let frame = encoder.error(&err);
        let text = std::str::from_utf8(&frame).unwrap();
        assert!(
            text.starts_with(
                "data: {\"error\":{\"message\":\"transport: cut\",\"type\":\"server_error\""
            ),
            "{text}"
        );
        assert!(!text.contains("[DONE]"));
    }

    #[test]
    fn costs_print_without_trailing_zeros() {
        assert_eq!(format_cost(0.000135), "0.000135");
        assert_eq!(format_cost(0.0), "0.0");
        assert_eq!(format_cost(1.5), "1.5");
        assert_eq!(format_cost(12.000_000_000_04), "12.0");
        assert_eq!(format_cost(0.000_000_000_06), "0.0000000001");
        assert_eq!(format_cost(2.25e-7), "0.000000225");
        assert_eq!(format_cost(-0.5), "-0.5");
    }
}
