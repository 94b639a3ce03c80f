//! `streamGenerateContent?alt=sse` chunks → a stream of [`ChatEvent`]s.
//!
//! Gemini's SSE stream is `data: <GenerateContentResponse>` events framed with CRLF and
//! ends without any marker. The state machine here:
//!
//! 1. the first chunk yields `Start` (id = `responseId`, else a hash of the chunk; model =
//!    `modelVersion`, else the model asked for) — unless it is an error object or a
//!    blocked prompt, which is the stream's first item and so the `Err` of the call;
//! 2. every chunk's parts become deltas through the same part decoder complete
//!    responses use; `usageMetadata` and `finishReason` are remembered (the last wins);
//! 3. when the body ends: if a `finishReason` arrived, the last usage and then `Finish`
//!    are emitted, so `Finish` is always last; if none arrived, the stream ends with an
//!    [`ErrorKind::Transport`] error item, never silently.
//!
//! An error object, an unreadable chunk or a transport failure after the first event is
//! an error item, after which the stream ends. A body that breaks off is always a
//! [`ErrorKind::Transport`] error.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use tollgate_core::sse::SseEvent;
use tollgate_core::{ChatEvent, Error, ErrorKind, Secret, Usage};

use crate::decode::{
    PartDecoder, blocked, finish_reason, synthesised_response_id, take_candidate, usage,
};
use crate::wire::GenerateContentResponse;

/// The events of a Gemini SSE stream (see the module docs).
pub(crate) struct GeminiEvents<S> {
    inner: Pin<Box<S>>,
    decoder: ChunkDecoder,
    queue: VecDeque<Result<ChatEvent, Error>>,
    done: bool,
}

/// Wraps a stream of SSE events.
pub(crate) fn events<S>(sse: S, requested_model: String, api_key: Secret) -> GeminiEvents<S>
where
    S: Stream<Item = Result<SseEvent, Error>>,
{
    GeminiEvents {
        inner: Box::pin(sse),
        decoder: ChunkDecoder {
            requested_model,
            api_key,
            parts: None,
            usage: None,
            finish: None,
        },
        queue: VecDeque::new(),
        done: false,
    }
}

struct ChunkDecoder {
    requested_model: String,
    api_key: Secret,
    /// `None` until the first chunk has been read.
    parts: Option<PartDecoder>,
    usage: Option<Usage>,
    finish: Option<String>,
}

impl ChunkDecoder {
    /// Reads one chunk; returns `true` when the stream must end (an error was queued).
    fn chunk(&mut self, data: &str, out: &mut VecDeque<Result<ChatEvent, Error>>) -> bool {
        if data.trim().is_empty() {
            return false;
        }
        let response: GenerateContentResponse = match serde_json::from_str(data) {
            Ok(response) => response,
            Err(e) => {
                let error = Error::decode(
                    format_args!("unreadable stream chunk ({e})"),
                    data.as_bytes(),
                )
                .with_provider(crate::PROVIDER);
                out.push_back(Err(error));
                return true;
            }
        };
        if let Some(status) = &response.error {
            let error = crate::error::from_status(status, None, None, self.api_key.expose());
            out.push_back(Err(error));
            return true;
        }
        if response.candidates.is_empty()
            && let Some(error) = response.prompt_feedback.as_ref().and_then(blocked)
        {
            out.push_back(Err(error));
            return true;
        }
        let parts = match &mut self.parts {
            Some(parts) => parts,
            None => {
                let id = match response.response_id {
                    Some(id) if !id.is_empty() => id,
                    _ => synthesised_response_id(data.as_bytes()),
                };
                let model = response
                    .model_version
                    .unwrap_or_else(|| self.requested_model.clone());
                out.push_back(Ok(ChatEvent::Start {
                    id: id.clone(),
                    model,
                }));
                self.parts.insert(PartDecoder::new(id))
            }
        };
        if let Some(metadata) = &response.usage_metadata {
            self.usage = Some(usage(metadata));
        }
        if let Some(candidate) = take_candidate(response.candidates) {
            if let Some(content) = candidate.content {
                parts.push(content.parts, &mut |event| out.push_back(Ok(event)));
            }
            if let Some(raw) = candidate.finish_reason.filter(|r| !r.is_empty()) {
                self.finish = Some(raw);
            }
        }
        false
    }

    /// The body ended: usage and finish, or the error of a stream cut short.
    fn end(&mut self, out: &mut VecDeque<Result<ChatEvent, Error>>) {
        let Some(raw) = self.finish.take() else {
            out.push_back(Err(Error::new(
                ErrorKind::Transport,
                "the stream ended without a finishReason",
            )
            .with_provider(crate::PROVIDER)));
            return;
        };
        if let Some(usage) = self.usage.take() {
            out.push_back(Ok(ChatEvent::Usage(usage)));
        }
        let has_calls = self.parts.as_ref().is_some_and(PartDecoder::has_calls);
        out.push_back(Ok(ChatEvent::Finish {
            reason: finish_reason(&raw, has_calls),
            raw: Some(raw),
        }));
    }
}

impl<S> Stream for GeminiEvents<S>
where
    S: Stream<Item = Result<SseEvent, Error>>,
{
    type Item = Result<ChatEvent, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(item) = this.queue.pop_front() {
                return Poll::Ready(Some(item));
            }
            if this.done {
                return Poll::Ready(None);
            }
            match this.inner.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(event))) => {
                    this.done = this.decoder.chunk(&event.data, &mut this.queue);
                }
                Poll::Ready(Some(Err(error))) => {
                    // The SSE source fails only when reading the body fails; tollgate-http
                    // has already classified that (a cut body is a Transport error).
                    this.queue.push_back(Err(error));
                    this.done = true;
                }
                Poll::Ready(None) => {
                    this.decoder.end(&mut this.queue);
                    this.done = true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use futures_util::StreamExt;
    use proptest::prelude::*;
    use tollgate_core::sse::SseStream;
    use tollgate_core::{AssistantPart, ChatResponse, ChatStream, FinishReason, ReplyMeta};

    use super::*;

    const TEXT: &[u8] = include_bytes!("../tests/data/stream-text.sse");
    const CALLS: &[u8] = include_bytes!("../tests/data/stream-function-call.sse");
    const COMPLETE_CALLS: &str = include_str!("../tests/data/generate-content-function-call.json");

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    }

    fn event_stream(
        chunks: Vec<Result<Bytes, Error>>,
    ) -> GeminiEvents<impl Stream<Item = Result<SseEvent, Error>>> {
        events(
            SseStream::new(futures_util::stream::iter(chunks)),
            "asked".into(),
            Secret::new("AIzaKEY"),
        )
    }

    fn split(body: &[u8], cuts: &[usize]) -> Vec<Result<Bytes, Error>> {
        let mut cuts: Vec<usize> = cuts.iter().map(|c| (*c).min(body.len())).collect();
        cuts.sort_unstable();
        let mut chunks = Vec::new();
        let mut last = 0;
        for c in cuts {
            chunks.push(Ok(Bytes::copy_from_slice(&body[last..c])));
            last = c;
        }
        chunks.push(Ok(Bytes::copy_from_slice(&body[last..])));
        chunks
    }

    async fn collect(chunks: Vec<Result<Bytes, Error>>) -> Result<ChatResponse, Error> {
        ChatStream::begin(ReplyMeta::default(), event_stream(chunks))
            .await?
            .collect()
            .await
    }

    async fn items(chunks: Vec<Result<Bytes, Error>>) -> Vec<Result<ChatEvent, Error>> {
        event_stream(chunks).collect().await
    }

    #[test]
    fn fixture_files_keep_their_crlf_framing() {
        assert!(TEXT.windows(4).any(|w| w == b"\r\n\r\n"));
        assert!(!TEXT.windows(2).any(|w| w[1] == b'\n' && w[0] != b'\r'));
        assert!(CALLS.windows(4).any(|w| w == b"\r\n\r\n"));
    }

    #[tokio::test]
    async fn text_stream_fixture_collects_to_exact_values() {
        let all = items(vec![Ok(Bytes::from_static(TEXT))]).await;
        let events: Vec<ChatEvent> = all.into_iter().map(Result::unwrap).collect();
        assert_eq!(
            events,
            vec![
                ChatEvent::Start {
                    id: "s5mVaczLI7v6nsEP0fKL2Ao".into(),
                    model: "gemini-2.5-flash".into()
                },
                ChatEvent::text("Fog horns sound"),
                ChatEvent::text(" every thirty seconds"),
                ChatEvent::text(" when visibility drops."),
                ChatEvent::Usage(Usage {
                    input_tokens: 9,
                    output_tokens: 10 + 188,
                    cache_read_tokens: 0,
                    cache_write_tokens: 0,
                    reasoning_tokens: 188,
                }),
                ChatEvent::Finish {
                    reason: FinishReason::Stop,
                    raw: Some("STOP".into())
                },
            ]
        );
    }

    #[tokio::test]
    async fn function_call_stream_fixture_collects_like_the_complete_response() {
        let streamed = collect(vec![Ok(Bytes::from_static(CALLS))]).await.unwrap();
        assert_eq!(streamed.id, "t6mVaeDoMqz5nsEPx7Wg-Ag");
        assert_eq!(streamed.finish_reason, FinishReason::ToolCalls);
        assert_eq!(streamed.provider_finish_reason.as_deref(), Some("STOP"));
        let calls = &streamed.message.tool_calls;
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].name, "get_tide_times");
        assert_eq!(
            calls[1].arguments_json().unwrap(),
            serde_json::json!({"harbor": "Saint-Malo", "date": "2026-03-14"})
        );
        assert!(matches!(
            &streamed.message.content[..],
            [AssistantPart::Reasoning { text, signature: Some(_), .. }] if text.is_empty()
        ));
        let usage = streamed.usage.unwrap();
        assert_eq!(
            (
                usage.input_tokens,
                usage.cache_read_tokens,
                usage.output_tokens
            ),
            (1342, 1024, 182)
        );

        // The complete response of the same answer (same response id) decodes identically.
        let complete = COMPLETE_CALLS.replace("r4mVabHkFuT3nsEPpe6D0Qw", "t6mVaeDoMqz5nsEPx7Wg-Ag");
        let response: GenerateContentResponse = serde_json::from_str(&complete).unwrap();
        let decoded = crate::decode::decode_response(
            response,
            complete.as_bytes(),
            "asked",
            ReplyMeta::default(),
            "k",
        )
        .unwrap();
        assert_eq!(decoded, streamed);
    }

    #[tokio::test]
    async fn a_stream_without_finish_reason_ends_with_an_error_item() {
        let body = b"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hal\"}]}}],\"responseId\":\"r\"}\r\n\r\n";
        let all = items(vec![Ok(Bytes::from_static(body))]).await;
        assert_eq!(all.len(), 3);
        assert!(all[0].is_ok() && all[1].is_ok());
        let err = all[2].as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transport);
        let err = collect(vec![Ok(Bytes::from_static(body))])
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transport);
    }

    #[tokio::test]
    async fn an_error_chunk_first_is_the_error_of_the_call() {
        let body = b"data: {\"error\":{\"code\":503,\"message\":\"The model is overloaded.\",\"status\":\"UNAVAILABLE\"}}\r\n\r\n";
        let err = ChatStream::begin(
            ReplyMeta::default(),
            event_stream(vec![Ok(Bytes::from_static(body))]),
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Overloaded);
        assert_eq!(err.status(), Some(503));
        assert_eq!(err.code(), Some("UNAVAILABLE"));
    }

    #[tokio::test]
    async fn an_error_chunk_mid_stream_is_an_error_item_and_the_end() {
        let body = b"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hal\"}]}}],\"responseId\":\"r\"}\r\n\r\ndata: {\"error\":{\"code\":500,\"message\":\"boom\",\"status\":\"INTERNAL\"}}\r\n\r\ndata: {\"candidates\":[{\"finishReason\":\"STOP\"}]}\r\n\r\n";
        let all = items(vec![Ok(Bytes::from_static(body))]).await;
        assert_eq!(all.len(), 3);
        assert_eq!(all[2].as_ref().unwrap_err().kind(), ErrorKind::Server);
    }

    #[tokio::test]
    async fn a_blocked_prompt_first_is_a_content_filtered_call_error() {
        let body =
            b"data: {\"promptFeedback\":{\"blockReason\":\"SAFETY\"},\"responseId\":\"r\"}\r\n\r\n";
        let err = collect(vec![Ok(Bytes::from_static(body))])
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ContentFiltered);
        assert_eq!(err.code(), Some("SAFETY"));
    }

    #[tokio::test]
    async fn a_transport_failure_mid_stream_is_an_error_item() {
        let first = &TEXT[..TEXT.len() / 2];
        let all = items(vec![
            Ok(Bytes::copy_from_slice(first)),
            Err(Error::new(
                ErrorKind::Transport,
                "the response body broke off",
            )),
        ])
        .await;
        let last = all.last().unwrap().as_ref().unwrap_err();
        assert_eq!(last.kind(), ErrorKind::Transport);
        assert!(all[0].is_ok());
    }

    #[tokio::test]
    async fn usage_only_on_the_last_chunk_and_finish_come_last() {
        let body = concat!(
            "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]}}],\"responseId\":\"r\",\"modelVersion\":\"m\"}\r\n\r\n",
            "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"b\"}]},\"finishReason\":\"MAX_TOKENS\"}]}\r\n\r\n",
            "data: {\"usageMetadata\":{\"promptTokenCount\":4,\"candidatesTokenCount\":2}}\r\n\r\n",
        );
        let all: Vec<ChatEvent> = items(vec![Ok(Bytes::from_static(body.as_bytes()))])
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let n = all.len();
        assert_eq!(all[n - 2], ChatEvent::Usage(Usage::new(4, 2)));
        assert_eq!(
            all[n - 1],
            ChatEvent::Finish {
                reason: FinishReason::Length,
                raw: Some("MAX_TOKENS".into())
            }
        );
    }

    #[tokio::test]
    async fn an_unreadable_chunk_is_a_decode_error() {
        let body = b"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]}}]}\r\n\r\ndata: {not json\r\n\r\n";
        let all = items(vec![Ok(Bytes::from_static(body))]).await;
        let err = all.last().unwrap().as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode);
        assert!(err.message().contains("{not json"), "{err}");
    }

    proptest! {
        #[test]
        fn any_split_of_the_crlf_bytes_gives_the_same_response(
            cuts in proptest::collection::vec(0usize..1300, 0..12),
            which in 0usize..2,
        ) {
            let body = if which == 0 { TEXT } else { CALLS };
            let rt = runtime();
            let whole = rt.block_on(collect(vec![Ok(Bytes::from_static(body))])).unwrap();
            let pieces = rt.block_on(collect(split(body, &cuts))).unwrap();
            prop_assert_eq!(pieces, whole);
        }
    }
}
