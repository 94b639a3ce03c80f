//! Helpers shared by this crate's integration tests.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::path::PathBuf;

use bytes::Bytes;
use futures_util::{StreamExt, stream};
use tollgate_anthropic::stream::ChatEvents;
use tollgate_core::sse::SseStream;
use tollgate_core::{ChatEvent, ChatResponse, ChatStream, Error, ReplyMeta, Secret};

/// The API key the tests configure.
pub const KEY: &str = "sk-ant-api03-test-key-0123456789";

/// The text of a file in `tests/data`.
pub fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The decoder driven over `chunks` of an SSE body, without a network.
pub fn events(
    chunks: Vec<Bytes>,
    answer_tool: Option<&str>,
) -> ChatEvents<SseStream<impl futures_util::Stream<Item = Result<Bytes, Error>> + Send + 'static>>
{
    let bytes = stream::iter(chunks.into_iter().map(Ok::<_, Error>));
    ChatEvents::new(
        SseStream::new(bytes),
        answer_tool.map(str::to_owned),
        Secret::new(KEY),
    )
}

/// Every item the decoder yields for a whole SSE body.
pub async fn all_items(body: &str, answer_tool: Option<&str>) -> Vec<Result<ChatEvent, Error>> {
    events(vec![Bytes::from(body.to_owned())], answer_tool)
        .collect()
        .await
}

/// The stream as a provider call would resolve it (`Err` before the first event).
pub async fn begin(chunks: Vec<Bytes>, answer_tool: Option<&str>) -> Result<ChatStream, Error> {
    ChatStream::begin(
        ReplyMeta::for_provider("anthropic", "http://127.0.0.1:1"),
        events(chunks, answer_tool),
    )
    .await
}

/// The complete response a whole SSE body collects into.
pub async fn collect(body: &str, answer_tool: Option<&str>) -> Result<ChatResponse, Error> {
    begin(vec![Bytes::from(body.to_owned())], answer_tool)
        .await?
        .collect()
        .await
}

/// One SSE event in Anthropic's framing.
pub fn sse(event: &str, data: serde_json::Value) -> String {
    format!("event: {event}\ndata: {data}\n\n")
}
