//! Anthropic's server-sent events → [`ChatEvent`]s.
//!
//! [`StreamDecoder`] is the state machine; [`ChatEvents`] drives it over a stream of
//! [`SseEvent`]s. The mapping:
//!
//! | Anthropic event | [`ChatEvent`] |
//! | --- | --- |
//! | `message_start` | `Start { id, model }` and `Usage` (input counts), **held back** until the first content event, so that an `error` right after `message_start` still fails the call |
//! | `content_block_start` `tool_use` | `ToolCallStart { index, id, name }`, `index` counting tool calls only (not content blocks) |
//! | `content_block_start` `redacted_thinking` | `ReasoningRedacted { data }` (the whole block arrives here; none without data) |
//! | `content_block_delta` `text_delta` | `TextDelta` |
//! | `content_block_delta` `input_json_delta` | `ToolCallDelta` for the block's tool call (empty fragments skipped) |
//! | `content_block_delta` `thinking_delta` | `ReasoningDelta` |
//! | `content_block_delta` `signature_delta` | `ReasoningSignature` |
//! | `message_delta` | `Usage` (cumulative; counts it lacks keep `message_start`'s values) |
//! | `message_stop` | `Finish`, always last; the stream then ends |
//! | `ping`, unknown events, `citations_delta`, other block types (server tools, …) | nothing |
//! | `error` | an `Err` item, ending the stream (before any content: the `Err` of the call) |
//!
//! A stream that ends before `message_stop` ends with an [`ErrorKind::Transport`] item.
//! The structured-output tool's `input_json_delta` fragments become `TextDelta`s (`{}`
//! when it sent none), and its `tool_use` stop reason becomes `Stop`.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use serde::Deserialize;
use tollgate_core::sse::SseEvent;
use tollgate_core::{ChatEvent, Error, ErrorKind, Secret};

use crate::PROVIDER;
use crate::decode::{finish, normalise_usage};
use crate::error::from_stream_error;
use crate::wire::{
    ContentBlockDelta, ContentBlockStart, ContentBlockStop, ErrorEvent, EventType, MessageDelta,
    MessageStart, WireUsage,
};

/// What a content block turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Text,
    Thinking,
    /// A tool call, with its index among the reply's tool calls.
    Tool(u32),
    /// The structured-output tool; `wrote` once a fragment was emitted as text.
    Answer {
        wrote: bool,
    },
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    Stopped,
    Failed,
}

/// The state machine turning Anthropic's events into [`ChatEvent`]s.
#[derive(Debug)]
pub struct StreamDecoder {
    answer_tool: Option<String>,
    api_key: Secret,
    pending_start: Option<ChatEvent>,
    usage: WireUsage,
    has_usage: bool,
    /// (content block index, what it is); few per reply, most recent last.
    blocks: Vec<(u32, Block)>,
    tool_calls: u32,
    answered: bool,
    stop_reason: Option<String>,
    state: State,
}

impl StreamDecoder {
    /// A decoder for a reply whose structured-output tool (if any) is `answer_tool`;
    /// `api_key` is redacted from error events.
    pub fn new(answer_tool: Option<String>, api_key: Secret) -> Self {
        Self {
            answer_tool,
            api_key,
            pending_start: None,
            usage: WireUsage::default(),
            has_usage: false,
            blocks: Vec::new(),
            tool_calls: 0,
            answered: false,
            stop_reason: None,
            state: State::Open,
        }
    }

    /// Whether the reply is over (`message_stop` or an error); later input is ignored.
    pub fn is_done(&self) -> bool {
        self.state != State::Open
    }

    /// Reads one event, appending what it yields to `out`.
    pub fn push(&mut self, event: &SseEvent, out: &mut VecDeque<Result<ChatEvent, Error>>) {
        if self.is_done() {
            return;
        }
        if let Err(error) = self.handle(event, out) {
            self.fail(error, out);
        }
    }

    /// Records that the byte stream failed with `error`.
    pub fn fail(&mut self, error: Error, out: &mut VecDeque<Result<ChatEvent, Error>>) {
        self.state = State::Failed;
        out.push_back(Err(error));
    }

    /// Records that the byte stream ended; before `message_stop` that is an error.
    pub fn end(&mut self, out: &mut VecDeque<Result<ChatEvent, Error>>) {
        if self.state == State::Open {
            self.fail(
                Error::new(
                    ErrorKind::Transport,
                    "the stream ended before `message_stop`",
                )
                .with_provider(PROVIDER),
                out,
            );
        }
    }

    fn handle(
        &mut self,
        event: &SseEvent,
        out: &mut VecDeque<Result<ChatEvent, Error>>,
    ) -> Result<(), Error> {
        let data = event.data.as_str();
        let kind = if event.event.is_empty() {
            parse::<EventType<'_>>("event", data)?.kind
        } else {
            event.event.as_str().into()
        };
        match &*kind {
            "content_block_delta" => {
                let delta: ContentBlockDelta<'_> = parse(&kind, data)?;
                self.on_delta(delta, out);
            }
            "ping" => {}
            "message_start" => {
                let start: MessageStart = parse(&kind, data)?;
                let message = start.message;
                self.pending_start = Some(ChatEvent::Start {
                    id: message.id.unwrap_or_default(),
                    model: message.model.unwrap_or_default(),
                });
                if let Some(usage) = message.usage {
                    self.usage.update(&usage);
                    self.has_usage = true;
                }
            }
            "content_block_start" => {
                let start: ContentBlockStart = parse(&kind, data)?;
                self.on_block_start(start, out);
            }
            "content_block_stop" => {
                let stop: ContentBlockStop = parse(&kind, data)?;
                if let Some(Block::Answer { wrote: false }) = self.block(stop.index) {
                    self.set_block(stop.index, Block::Answer { wrote: true });
                    self.emit(ChatEvent::text("{}"), out);
                }
            }
            "message_delta" => {
                let delta: MessageDelta = parse(&kind, data)?;
                if let Some(reason) = delta.delta.stop_reason {
                    self.stop_reason = Some(reason);
                }
                if let Some(usage) = delta.usage {
                    self.usage.update(&usage);
                    self.has_usage = true;
                    self.emit(ChatEvent::Usage(normalise_usage(&self.usage)), out);
                }
            }
            "message_stop" => {
                let (reason, raw) = finish(
                    self.stop_reason.as_deref(),
                    self.answered,
                    self.tool_calls > 0,
                );
                self.emit(ChatEvent::Finish { reason, raw }, out);
                self.state = State::Stopped;
            }
            "error" => {
                let event: ErrorEvent = parse(&kind, data)?;
                return Err(from_stream_error(&event.error, self.api_key.expose()));
            }
            _ => {}
        }
        Ok(())
    }

    fn on_block_start(
        &mut self,
        start: ContentBlockStart,
        out: &mut VecDeque<Result<ChatEvent, Error>>,
    ) {
        let block = start.content_block;
        let kind = match block.kind.as_str() {
            "text" => {
                if let Some(text) = block.text.filter(|t| !t.is_empty()) {
                    self.emit(ChatEvent::TextDelta { text }, out);
                }
                Block::Text
            }
            "thinking" => {
                if let Some(text) = block.thinking.filter(|t| !t.is_empty()) {
                    self.emit(ChatEvent::ReasoningDelta { text }, out);
                }
                Block::Thinking
            }
            "redacted_thinking" => {
                // The whole block is here; no delta follows.
                if let Some(data) = block.data.filter(|d| !d.is_empty()) {
                    self.emit(ChatEvent::ReasoningRedacted { data }, out);
                }
                Block::Other
            }
            "tool_use" => {
                let name = block.name.unwrap_or_default();
                // A non-empty initial input (some proxies send the whole call here).
                let initial = block
                    .input
                    .filter(|v| !v.is_null() && v.as_object().is_none_or(|o| !o.is_empty()))
                    .map(|v| v.to_string());
                if self.answer_tool.as_deref() == Some(name.as_str()) {
                    self.answered = true;
                    let wrote = initial.is_some();
                    if let Some(text) = initial {
                        self.emit(ChatEvent::TextDelta { text }, out);
                    }
                    Block::Answer { wrote }
                } else {
                    let index = self.tool_calls;
                    self.tool_calls += 1;
                    self.emit(
                        ChatEvent::ToolCallStart {
                            index,
                            id: block.id.unwrap_or_default(),
                            name,
                        },
                        out,
                    );
                    if let Some(arguments) = initial {
                        self.emit(ChatEvent::ToolCallDelta { index, arguments }, out);
                    }
                    Block::Tool(index)
                }
            }
            _ => Block::Other,
        };
        self.set_block(start.index, kind);
    }

    fn on_delta(
        &mut self,
        delta: ContentBlockDelta<'_>,
        out: &mut VecDeque<Result<ChatEvent, Error>>,
    ) {
        let index = delta.index;
        let delta = delta.delta;
        match &*delta.kind {
            "text_delta" => {
                if let Some(text) = delta.text.filter(|t| !t.is_empty()) {
                    self.emit(ChatEvent::TextDelta { text }, out);
                }
            }
            "input_json_delta" => {
                let Some(fragment) = delta.partial_json.filter(|f| !f.is_empty()) else {
                    return;
                };
                match self.block(index) {
                    Some(Block::Tool(call)) => self.emit(
                        ChatEvent::ToolCallDelta {
                            index: call,
                            arguments: fragment,
                        },
                        out,
                    ),
                    Some(Block::Answer { .. }) => {
                        self.set_block(index, Block::Answer { wrote: true });
                        self.emit(ChatEvent::TextDelta { text: fragment }, out);
                    }
                    _ => {}
                }
            }
            "thinking_delta" => {
                if let Some(text) = delta.thinking.filter(|t| !t.is_empty()) {
                    self.emit(ChatEvent::ReasoningDelta { text }, out);
                }
            }
            "signature_delta" => {
                if let Some(signature) = delta.signature.filter(|s| !s.is_empty()) {
                    self.emit(ChatEvent::ReasoningSignature { signature }, out);
                }
            }
            _ => {}
        }
    }

    /// Queues `event`, releasing the held-back `Start` (and input usage) first.
    fn emit(&mut self, event: ChatEvent, out: &mut VecDeque<Result<ChatEvent, Error>>) {
        if let Some(start) = self.pending_start.take() {
            out.push_back(Ok(start));
            if self.has_usage && !matches!(event, ChatEvent::Usage(_)) {
                out.push_back(Ok(ChatEvent::Usage(normalise_usage(&self.usage))));
            }
        }
        out.push_back(Ok(event));
    }

    fn block(&self, index: u32) -> Option<Block> {
        self.blocks
            .iter()
            .rev()
            .find(|(i, _)| *i == index)
            .map(|(_, b)| *b)
    }

    fn set_block(&mut self, index: u32, block: Block) {
        match self.blocks.iter_mut().rev().find(|(i, _)| *i == index) {
            Some(slot) => slot.1 = block,
            None => self.blocks.push((index, block)),
        }
    }
}

fn parse<'a, T: Deserialize<'a>>(kind: &str, data: &'a str) -> Result<T, Error> {
    serde_json::from_str(data).map_err(|e| {
        Error::decode(
            format_args!("unreadable `{kind}` event ({e})"),
            data.as_bytes(),
        )
        .with_provider(PROVIDER)
    })
}

pin_project_lite::pin_project! {
    /// The [`ChatEvent`]s of a stream of Anthropic [`SseEvent`]s. Ends after `Finish` or
    /// after its first `Err` item.
    pub struct ChatEvents<S> {
        #[pin]
        inner: S,
        decoder: StreamDecoder,
        queue: VecDeque<Result<ChatEvent, Error>>,
    }
}

impl<S> ChatEvents<S> {
    /// Decodes `sse` for a reply whose structured-output tool (if any) is `answer_tool`.
    pub fn new(sse: S, answer_tool: Option<String>, api_key: Secret) -> Self {
        Self {
            inner: sse,
            decoder: StreamDecoder::new(answer_tool, api_key),
            queue: VecDeque::new(),
        }
    }
}

impl<S> Stream for ChatEvents<S>
where
    S: Stream<Item = Result<SseEvent, Error>>,
{
    type Item = Result<ChatEvent, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            if let Some(item) = this.queue.pop_front() {
                return Poll::Ready(Some(item));
            }
            if this.decoder.is_done() {
                return Poll::Ready(None);
            }
            match this.inner.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(event))) => this.decoder.push(&event, this.queue),
                Poll::Ready(Some(Err(error))) => this.decoder.fail(error, this.queue),
                Poll::Ready(None) => this.decoder.end(this.queue),
            }
        }
    }
}
