//! A server-sent events decoder that every provider shares.
//!
//! It follows the WHATWG rules, which cover all three providers' framings: lines end in
//! CR, LF or CRLF (Gemini uses CRLF; a CRLF split across two network chunks is one line
//! end); several `data:` lines join with `\n`; lines starting with `:` are comments
//! (OpenRouter sends `: OPENROUTER PROCESSING`); unknown fields are ignored; a blank line
//! dispatches the event. The decoder is incremental and splits nothing on UTF-8 boundaries:
//! bytes are buffered until a whole line has arrived.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;

/// One server-sent event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field; empty when the server sent none (the spec's `message`).
    pub event: String,
    /// The joined `data:` lines.
    pub data: String,
    /// The `id:` field, if any.
    pub id: Option<String>,
}

/// Incremental SSE decoder: feed it bytes as they arrive, take events as they complete.
///
/// ```
/// use tollgate_core::sse::SseDecoder;
///
/// let mut decoder = SseDecoder::new();
/// let mut events = Vec::new();
/// decoder.feed(b"event: ping\r\ndata: {\"a\"", &mut events);
/// decoder.feed(b":1}\r\n\r\ndata: [DONE]\n\n", &mut events);
/// assert_eq!(events[0].event, "ping");
/// assert_eq!(events[0].data, "{\"a\":1}");
/// assert_eq!(events[1].data, "[DONE]");
/// ```
#[derive(Debug, Default)]
pub struct SseDecoder {
    buffer: Vec<u8>,
    skip_leading_lf: bool,
    event: String,
    data: String,
    has_data: bool,
    id: Option<String>,
}

impl SseDecoder {
    /// An empty decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes; every event they complete is pushed onto `out`.
    pub fn feed(&mut self, mut bytes: &[u8], out: &mut Vec<SseEvent>) {
        if self.skip_leading_lf {
            if let [b'\n', rest @ ..] = bytes {
                bytes = rest;
            }
            if !bytes.is_empty() {
                self.skip_leading_lf = false;
            }
        }
        // Lines are read straight from `bytes` unless one began in an earlier chunk.
        let mut start = 0;
        while let Some(offset) = memchr::memchr2(b'\n', b'\r', &bytes[start..]) {
            let end = start + offset;
            if self.buffer.is_empty() {
                self.line(&bytes[start..end], out);
            } else {
                self.buffer.extend_from_slice(&bytes[start..end]);
                let line = std::mem::take(&mut self.buffer);
                self.line(&line, out);
                self.buffer = line;
                self.buffer.clear();
            }
            start = end + 1;
            if bytes[end] == b'\r' {
                match bytes.get(start) {
                    Some(b'\n') => start += 1,
                    Some(_) => {}
                    // A CR ending the chunk: its LF, if any, opens the next one.
                    None => self.skip_leading_lf = true,
                }
            }
        }
        self.buffer.extend_from_slice(&bytes[start..]);
    }

    /// The event still pending when the stream ends without a final blank line, if it has
    /// data. (The spec discards it; providers decide whether a truncated event counts.)
    pub fn finish(&mut self, out: &mut Vec<SseEvent>) {
        if !self.buffer.is_empty() {
            let line = std::mem::take(&mut self.buffer);
            self.line(&line, out);
        }
        self.dispatch(out);
    }

    /// Whether bytes of an unfinished line or event are buffered.
    pub fn has_pending(&self) -> bool {
        !self.buffer.is_empty() || self.has_data
    }

    fn line(&mut self, line: &[u8], out: &mut Vec<SseEvent>) {
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line[0] == b':' {
            return;
        }
        let (field, value) = match memchr::memchr(b':', line) {
            Some(colon) => {
                let value = &line[colon + 1..];
                let value = value.strip_prefix(b" ").unwrap_or(value);
                (&line[..colon], value)
            }
            None => (line, &b""[..]),
        };
        // Valid UTF-8 (the usual case) is checked by the fast validator; only invalid
        // input pays for the lossy conversion.
        let value = match std::str::from_utf8(value) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(value),
        };
        match field {
            b"data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(&value);
                self.has_data = true;
            }
            b"event" => self.event = value.into_owned(),
            b"id" => self.id = Some(value.into_owned()),
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        if self.has_data {
            out.push(SseEvent {
                event: std::mem::take(&mut self.event),
                data: std::mem::take(&mut self.data),
                id: self.id.clone(),
            });
        } else {
            self.event.clear();
        }
        self.has_data = false;
    }
}

pin_project_lite::pin_project! {
    /// Adapts a stream of byte chunks into a stream of [`SseEvent`]s.
    ///
    /// When the byte stream ends, an event left without its closing blank line is still
    /// yielded (lenient towards servers that omit it); errors pass through unchanged.
    pub struct SseStream<S> {
        #[pin]
        inner: S,
        decoder: SseDecoder,
        ready: std::collections::VecDeque<SseEvent>,
        scratch: Vec<SseEvent>,
        done: bool,
    }
}

impl<S> SseStream<S> {
    /// Wraps a byte stream.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            decoder: SseDecoder::new(),
            ready: std::collections::VecDeque::new(),
            scratch: Vec::new(),
            done: false,
        }
    }
}

impl<S, B, E> Stream for SseStream<S>
where
    S: Stream<Item = Result<B, E>>,
    B: AsRef<[u8]>,
{
    type Item = Result<SseEvent, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            if let Some(event) = this.ready.pop_front() {
                return Poll::Ready(Some(Ok(event)));
            }
            if *this.done {
                return Poll::Ready(None);
            }
            match this.inner.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(Some(Ok(chunk))) => {
                    this.decoder.feed(chunk.as_ref(), this.scratch);
                    this.ready.extend(this.scratch.drain(..));
                }
                Poll::Ready(None) => {
                    *this.done = true;
                    this.decoder.finish(this.scratch);
                    this.ready.extend(this.scratch.drain(..));
                }
            }
        }
    }
}

/// Convenience: an SSE stream over a stream of [`Bytes`] results.
pub fn sse_events<S, E>(bytes: S) -> SseStream<S>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    SseStream::new(bytes)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn decode_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut decoder = SseDecoder::new();
        let mut out = Vec::new();
        for chunk in chunks {
            decoder.feed(chunk, &mut out);
        }
        decoder.finish(&mut out);
        out
    }

    #[test]
    fn crlf_lf_and_cr_all_end_lines() {
        let lf = decode_all(&[b"data: a\n\ndata: b\n\n"]);
        let crlf = decode_all(&[b"data: a\r\n\r\ndata: b\r\n\r\n"]);
        let cr = decode_all(&[b"data: a\r\rdata: b\r\r"]);
        assert_eq!(lf, crlf);
        assert_eq!(lf, cr);
        assert_eq!(lf.len(), 2);
    }

    #[test]
    fn a_crlf_split_between_chunks_is_one_line_end() {
        let events = decode_all(&[b"data: a\r", b"\n\r", b"\ndata: b\r\n\r\n"]);
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].data, "a");
    }

    #[test]
    fn comments_and_unknown_fields_are_ignored_and_data_lines_join() {
        let events = decode_all(&[b": OPENROUTER PROCESSING\n\nretry: 10\ndata: x\ndata: y\n\n"]);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].data, "x\ny");
    }

    #[test]
    fn a_multibyte_character_split_between_chunks_survives() {
        let text = "data: héllo\n\n".as_bytes();
        let events = decode_all(&[&text[..8], &text[8..]]);
        assert_eq!(events[0].data, "héllo");
    }

    #[test]
    fn an_unterminated_last_event_is_still_yielded() {
        let events = decode_all(&[b"data: last"]);
        assert_eq!(events[0].data, "last");
    }

    proptest! {
        #[test]
        fn any_split_gives_the_same_events(cuts in proptest::collection::vec(0usize..60, 0..8)) {
            let body: &[u8] = b"event: a\r\ndata: {\"x\": \"\xc3\xa9\"}\r\n\r\n: c\n\ndata: 1\ndata: 2\n\n";
            let whole = decode_all(&[body]);
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(body.len())).collect();
            cuts.sort_unstable();
            let mut chunks = Vec::new();
            let mut last = 0;
            for c in cuts {
                chunks.push(&body[last..c]);
                last = c;
            }
            chunks.push(&body[last..]);
            prop_assert_eq!(decode_all(&chunks), whole);
        }
    }
}
