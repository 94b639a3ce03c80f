//! Server-sent events of a streaming Chat Completion → [`ChatEvent`]s.
//!
//! [`ChatEvents`] is a state machine over `data:` events:
//!
//! - the first chunk yields [`ChatEvent::Start`] with its `id` and `model` (an id is
//!   synthesised when the server sends none, the requested model used when it names none);
//! - `delta.reasoning_content` / `delta.reasoning` yield `ReasoningDelta`s,
//!   `delta.content` and `delta.refusal` yield `TextDelta`s;
//! - `delta.tool_calls[]` fragments are keyed by `index`: the first fragment of an index
//!   that carries the function name yields `ToolCallStart` (with the id it carries, or a
//!   stable synthesised one), every non-empty `function.arguments` yields a
//!   `ToolCallDelta`. A whole call in one fragment (Ollama) yields both at once. A
//!   fragment without `index` continues the last call, or starts the next one if it
//!   carries a name. Arguments for an index that never receives a name make the
//!   collected response fail with a decode error (the core accumulator's rule);
//! - `finish_reason`, `usage` and Groq's `x_groq.usage` are held back: at `data: [DONE]`
//!   the stream yields `Usage` (if any arrived; servers that never send usage produce
//!   none) and then `Finish`, so `Finish` is always the last event;
//! - a chunk carrying an `error` object (or an `event: error`) yields an `Err` item and
//!   ends the stream, as does an unreadable chunk (a decode error quoting it);
//! - a byte stream that ends before `data: [DONE]` yields an `Err` of kind
//!   [`ErrorKind::Transport`]: a cut stream never looks finished.
//!
//! Only choice 0 is read. `obfuscation` and other unknown fields are ignored. Per chunk,
//! nothing is allocated but the strings handed on in events.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;
use tollgate_core::accumulate::MAX_TOOL_CALLS;
use tollgate_core::sse::SseEvent;
use tollgate_core::{ChatEvent, Error, ErrorKind, Usage};

use crate::decode::{finish_reason, synthetic_id, synthetic_tool_id, usage};
use crate::error::ErrorMapper;
use crate::wire::{Completion, Content, ContentPart, WireMessage, WireToolCall};

pin_project_lite::pin_project! {
    /// The [`ChatEvent`]s of a stream of server-sent events (see the module docs).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use futures_util::{StreamExt, stream};
    /// use tollgate_core::sse::SseStream;
    /// use tollgate_core::{ChatEvent, Error, Secret};
    /// use tollgate_openai::{ChatEvents, ErrorMapper};
    ///
    /// let body = "data: {\"id\":\"c1\",\"model\":\"m\",\"choices\":[{\"delta\":{\"content\":\"Hi\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
    /// let sse = SseStream::new(stream::iter([Ok::<_, Error>(body.as_bytes())]));
    /// let errors = ErrorMapper::new("openai", Secret::default());
    /// let events: Vec<_> = ChatEvents::new(sse, errors, "m").collect().await;
    /// assert_eq!(events.len(), 3); // Start, TextDelta, Finish
    /// assert!(matches!(events[2], Ok(ChatEvent::Finish { .. })));
    /// # }
    /// ```
    pub struct ChatEvents<S> {
        #[pin]
        inner: S,
        decoder: Decoder,
        queue: VecDeque<Result<ChatEvent, Error>>,
        done: bool,
    }
}

impl<S> ChatEvents<S> {
    /// Decodes `sse`, the events of a response to a request for `requested_model`;
    /// errors are built by `errors`.
    pub fn new(
        sse: S,
        errors: impl Into<Arc<ErrorMapper>>,
        requested_model: impl Into<String>,
    ) -> Self {
        Self {
            inner: sse,
            decoder: Decoder::new(errors.into(), requested_model.into()),
            queue: VecDeque::new(),
            done: false,
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
            if *this.done {
                return Poll::Ready(None);
            }
            match this.inner.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(event))) => {
                    this.decoder.on_event(&event, this.queue);
                    *this.done = this.decoder.ended;
                }
                Poll::Ready(Some(Err(error))) => {
                    *this.done = true;
                    this.queue.push_back(Err(error));
                }
                Poll::Ready(None) => {
                    *this.done = true;
                    this.decoder.on_close(this.queue);
                }
            }
        }
    }
}

/// Per-index state of a streamed tool call.
#[derive(Debug, Default)]
struct CallSlot {
    started: bool,
    /// An id that arrived before the name.
    id: Option<String>,
}

/// The state machine behind [`ChatEvents`].
#[derive(Debug)]
struct Decoder {
    errors: Arc<ErrorMapper>,
    requested_model: String,
    /// The response id, once the first chunk has arrived.
    id: Option<String>,
    calls: Vec<CallSlot>,
    last_call: Option<u32>,
    finish: Option<String>,
    usage: Option<Usage>,
    /// `[DONE]`, an error or an unreadable chunk has ended the stream.
    ended: bool,
}

type Out = VecDeque<Result<ChatEvent, Error>>;

impl Decoder {
    fn new(errors: Arc<ErrorMapper>, requested_model: String) -> Self {
        Self {
            errors,
            requested_model,
            id: None,
            calls: Vec::new(),
            last_call: None,
            finish: None,
            usage: None,
            ended: false,
        }
    }

    fn on_event(&mut self, event: &SseEvent, out: &mut Out) {
        if self.ended {
            return;
        }
        let data = event.data.trim();
        if data.is_empty() {
            return;
        }
        if data == "[DONE]" {
            self.on_done(out);
            return;
        }
        if event.event == "error" {
            let value = serde_json::from_str(data)
                .unwrap_or_else(|_| serde_json::Value::String(data.to_owned()));
            self.fail(self.errors.from_error_value(&value, None), out);
            return;
        }
        let mut chunk = match Completion::from_json(data) {
            Ok(chunk) => chunk,
            Err(e) => {
                let error = self.errors.decode(
                    format_args!("unreadable stream chunk ({e})"),
                    data.as_bytes(),
                );
                self.fail(error, out);
                return;
            }
        };
        if let Some(error) = chunk.error() {
            let error = self.errors.from_error_value(error, None);
            self.fail(error, out);
            return;
        }
        if self.id.is_none() {
            let id = chunk.id.take().unwrap_or_else(synthetic_id);
            let model = chunk
                .model
                .take()
                .unwrap_or_else(|| self.requested_model.clone());
            self.id = Some(id.clone());
            out.push_back(Ok(ChatEvent::Start { id, model }));
        }
        if let Some(wire) = chunk.usage() {
            self.usage = Some(usage(wire));
        }
        let Some(mut choice) = chunk.take_first_choice() else {
            return;
        };
        if let Some(delta) = choice.delta.take().or(choice.message.take()) {
            self.on_delta(delta, out);
        }
        if let Some(raw) = choice.finish_reason.take() {
            self.finish = Some(raw);
        }
    }

    fn on_delta(&mut self, mut delta: WireMessage<'_>, out: &mut Out) {
        if let Some(text) = delta
            .reasoning_content
            .take()
            .or_else(|| delta.reasoning.take())
        {
            out.push_back(Ok(ChatEvent::ReasoningDelta { text }));
        }
        match std::mem::take(&mut delta.content) {
            Content::None => {}
            Content::Text(text) => {
                if !text.is_empty() {
                    out.push_back(Ok(ChatEvent::TextDelta {
                        text: text.into_owned(),
                    }));
                }
            }
            Content::Parts(parts) => {
                for part in parts {
                    out.push_back(Ok(match part {
                        ContentPart::Text(text) => ChatEvent::TextDelta { text },
                        ContentPart::Reasoning(text) => ChatEvent::ReasoningDelta { text },
                    }));
                }
            }
        }
        if let Some(text) = delta.refusal.take() {
            out.push_back(Ok(ChatEvent::TextDelta { text }));
        }
        for call in delta.tool_calls {
            self.on_tool_call(call, out);
        }
    }

    fn on_tool_call(&mut self, mut call: WireToolCall<'_>, out: &mut Out) {
        if self.ended {
            return;
        }
        let mut function = call.function.take().unwrap_or_default();
        let name = function.name.take();
        let index = match call.index {
            Some(index) => index,
            None if name.is_some() => u32::try_from(self.calls.len()).unwrap_or(u32::MAX),
            None => self.last_call.unwrap_or(0),
        };
        // The shared limit: an index past it is a broken server, and accepting it would
        // make the accumulator allocate that many slots.
        if index >= MAX_TOOL_CALLS {
            let error = Error::new(
                ErrorKind::Decode,
                format!(
                    "tool call index {index} is out of range (at most {})",
                    MAX_TOOL_CALLS - 1
                ),
            )
            .with_provider(self.errors.provider());
            self.fail(error, out);
            return;
        }
        self.last_call = Some(index);
        let position = index as usize;
        if self.calls.len() <= position {
            self.calls.resize_with(position + 1, CallSlot::default);
        }
        let slot = &mut self.calls[position];
        if !slot.started {
            if let Some(id) = call.id.take() {
                slot.id = Some(id);
            }
            if let Some(name) = name {
                slot.started = true;
                let id = slot.id.take().unwrap_or_else(|| {
                    synthetic_tool_id(self.id.as_deref().unwrap_or_default(), index)
                });
                out.push_back(Ok(ChatEvent::ToolCallStart { index, id, name }));
            }
        }
        if let Some(arguments) = function.arguments.0.filter(|a| !a.is_empty()) {
            out.push_back(Ok(ChatEvent::ToolCallDelta {
                index,
                arguments: arguments.into_owned(),
            }));
        }
    }

    fn on_done(&mut self, out: &mut Out) {
        self.ended = true;
        if self.id.is_none() {
            let error = Error::new(
                ErrorKind::Decode,
                "the stream ended (`data: [DONE]`) without any chunk",
            )
            .with_provider(self.errors.provider());
            out.push_back(Err(error));
            return;
        }
        if let Some(usage) = self.usage.take() {
            out.push_back(Ok(ChatEvent::Usage(usage)));
        }
        let has_tool_calls = self.calls.iter().any(|slot| slot.started);
        let (reason, raw) = finish_reason(self.finish.take(), has_tool_calls);
        out.push_back(Ok(ChatEvent::Finish { reason, raw }));
    }

    fn on_close(&mut self, out: &mut Out) {
        if !self.ended {
            self.ended = true;
            let error = Error::new(
                ErrorKind::Transport,
                "the connection closed before `data: [DONE]`",
            )
            .with_provider(self.errors.provider());
            out.push_back(Err(error));
        }
    }

    fn fail(&mut self, error: Error, out: &mut Out) {
        self.ended = true;
        out.push_back(Err(error));
    }
}

#[cfg(test)]
mod tests {
    use futures_util::{StreamExt, stream};
    use tollgate_core::sse::SseStream;
    use tollgate_core::{FinishReason, Secret};

    use super::*;

    async fn events(body: &str) -> Vec<Result<ChatEvent, Error>> {
        let sse = SseStream::new(stream::iter([Ok::<_, Error>(body.as_bytes().to_vec())]));
        ChatEvents::new(sse, ErrorMapper::new("openai", Secret::default()), "asked")
            .collect()
            .await
    }

    fn chunk(json: &str) -> String {
        format!("data: {json}\n\n")
    }

    #[tokio::test]
    async fn finish_is_held_until_done_and_usage_comes_before_it() {
        let body = [
            chunk(r#"{"id":"a","model":"m","choices":[{"delta":{"content":"x"}}]}"#),
            chunk(r#"{"id":"a","model":"m","choices":[{"delta":{},"finish_reason":"length"}]}"#),
            chunk(r#"{"id":"a","model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#),
            "data: [DONE]\n\n".to_owned(),
        ]
        .concat();
        let got: Vec<_> = events(&body)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            got,
            vec![
                ChatEvent::Start {
                    id: "a".into(),
                    model: "m".into()
                },
                ChatEvent::text("x"),
                ChatEvent::Usage(Usage::new(3, 1)),
                ChatEvent::Finish {
                    reason: FinishReason::Length,
                    raw: Some("length".into())
                },
            ]
        );
    }

    #[tokio::test]
    async fn a_stream_without_done_ends_with_a_transport_error() {
        let body =
            chunk(r#"{"id":"a","choices":[{"delta":{"content":"x"},"finish_reason":"stop"}]}"#);
        let got = events(&body).await;
        assert_eq!(got.len(), 3);
        assert_eq!(got[2].as_ref().unwrap_err().kind(), ErrorKind::Transport);
    }

    #[tokio::test]
    async fn a_mid_stream_error_object_is_an_error_item_and_ends_the_stream() {
        let body = [
            chunk(r#"{"id":"a","choices":[{"delta":{"content":"x"}}]}"#),
            chunk(r#"{"error":{"message":"The server had an error","type":"server_error"}}"#),
            chunk(r#"{"id":"a","choices":[{"delta":{"content":"never"}}]}"#),
            "data: [DONE]\n\n".to_owned(),
        ]
        .concat();
        let got = events(&body).await;
        assert_eq!(got.len(), 3);
        let err = got[2].as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert_eq!(err.message(), "The server had an error");
    }

    #[tokio::test]
    async fn an_unreadable_chunk_is_a_decode_error_quoting_it() {
        let body = [chunk(r#"{"id":"a","choices":[]}"#), chunk("{not json")].concat();
        let got = events(&body).await;
        let err = got[1].as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode);
        assert!(err.message().contains("{not json"), "{err}");
    }

    #[tokio::test]
    async fn arguments_before_a_name_wait_for_it_and_keep_the_early_id() {
        let body = [
            chunk(r#"{"id":"a","choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_1","function":{"arguments":"{\"a\""}}]}}]}"#),
            chunk(r#"{"id":"a","choices":[{"delta":{"tool_calls":[{"index":0,"function":{"name":"f","arguments":":1}"}}]}}]}"#),
            chunk(r#"{"id":"a","choices":[{"delta":{},"finish_reason":"tool_calls"}]}"#),
            "data: [DONE]\n\n".to_owned(),
        ]
        .concat();
        let got: Vec<_> = events(&body)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert!(got.contains(&ChatEvent::ToolCallStart {
            index: 0,
            id: "call_1".into(),
            name: "f".into()
        }));
        let mut acc = tollgate_core::StreamAccumulator::new();
        got.into_iter().for_each(|e| acc.push(e));
        let response = acc.finish(Default::default()).unwrap();
        assert_eq!(response.message.tool_calls[0].arguments, "{\"a\":1}");
        assert_eq!(response.message.tool_calls[0].id, "call_1");
    }

    #[tokio::test]
    async fn fragments_without_index_continue_the_last_call() {
        let body = [
            chunk(r#"{"id":"a","choices":[{"delta":{"tool_calls":[{"id":"c0","function":{"name":"f","arguments":"{"}}]}}]}"#),
            chunk(r#"{"id":"a","choices":[{"delta":{"tool_calls":[{"function":{"arguments":"}"}}]}}]}"#),
            chunk(r#"{"id":"a","choices":[{"delta":{"tool_calls":[{"id":"c1","function":{"name":"g","arguments":"{}"}}]}}]}"#),
            chunk(r#"{"id":"a","choices":[{"delta":{},"finish_reason":"tool_calls"}]}"#),
            "data: [DONE]\n\n".to_owned(),
        ]
        .concat();
        let mut acc = tollgate_core::StreamAccumulator::new();
        for e in events(&body).await {
            acc.push(e.unwrap());
        }
        let r = acc.finish(Default::default()).unwrap();
        let calls: Vec<_> = r
            .message
            .tool_calls
            .iter()
            .map(|c| (c.id.as_str(), c.name.as_str(), c.arguments.as_str()))
            .collect();
        assert_eq!(calls, [("c0", "f", "{}"), ("c1", "g", "{}")]);
    }

    #[tokio::test]
    async fn done_without_any_chunk_is_an_error() {
        let got = events("data: [DONE]\n\n").await;
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].as_ref().unwrap_err().kind(), ErrorKind::Decode);
    }

    #[tokio::test]
    async fn an_error_event_is_an_error_item() {
        let got =
            events("event: error\ndata: {\"error\":{\"message\":\"overloaded\",\"code\":503}}\n\n")
                .await;
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].as_ref().unwrap_err().kind(), ErrorKind::Overloaded);
    }

    #[tokio::test]
    async fn an_absurd_tool_call_index_is_a_decode_error_not_an_allocation() {
        let body = [
            chunk(r#"{"id":"a","choices":[{"delta":{"tool_calls":[{"index":4000000000,"id":"c","function":{"name":"f","arguments":"{}"}}]}}]}"#),
            "data: [DONE]\n\n".to_owned(),
        ]
        .concat();
        let got = events(&body).await;
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].as_ref().unwrap_err().kind(), ErrorKind::Decode);
    }
}
