//! Splits a raw `text/event-stream` body into events without changing a byte.

use bytes::Bytes;

/// Splits `body` after every blank line that ends an event. Lines end in LF, CRLF or CR (the
/// WHATWG rules), so `LF LF`, `CRLF CRLF`, `CR CR` and mixes all end an event. Blank lines
/// before any content stay with the event that follows; trailing bytes with no blank line
/// after them form the last chunk. Concatenating the chunks gives back `body` exactly.
pub(crate) fn split_events(body: &Bytes) -> Vec<Bytes> {
    let bytes = body.as_ref();
    let mut chunks = Vec::new();
    let mut chunk_start = 0;
    let mut line_start = 0;
    let mut has_content = false;
    let mut i = 0;
    while i < bytes.len() {
        let line_end = match bytes[i] {
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => Some(i + 2),
            b'\r' | b'\n' => Some(i + 1),
            _ => None,
        };
        let Some(next) = line_end else {
            i += 1;
            continue;
        };
        if i == line_start {
            // A blank line: it ends the event, if the event has any content yet.
            if has_content {
                chunks.push(body.slice(chunk_start..next));
                chunk_start = next;
                has_content = false;
            }
        } else {
            has_content = true;
        }
        i = next;
        line_start = next;
    }
    if chunk_start < bytes.len() {
        chunks.push(body.slice(chunk_start..));
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Vec<String> {
        split_events(&Bytes::copy_from_slice(s.as_bytes()))
            .iter()
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn lf_events_split_after_blank_line() {
        assert_eq!(
            split("data: a\n\ndata: b\n\n"),
            ["data: a\n\n", "data: b\n\n"]
        );
    }

    #[test]
    fn crlf_events_split_after_blank_line() {
        assert_eq!(
            split("data: a\r\n\r\ndata: b\r\n\r\n"),
            ["data: a\r\n\r\n", "data: b\r\n\r\n"]
        );
    }

    #[test]
    fn cr_only_events_split_after_blank_line() {
        assert_eq!(
            split("data: a\r\rdata: b\r\r"),
            ["data: a\r\r", "data: b\r\r"]
        );
    }

    #[test]
    fn multi_line_events_stay_whole() {
        assert_eq!(
            split("event: x\ndata: 1\ndata: 2\n\nevent: y\r\ndata: 3\r\n\r\n"),
            [
                "event: x\ndata: 1\ndata: 2\n\n",
                "event: y\r\ndata: 3\r\n\r\n"
            ]
        );
    }

    #[test]
    fn leading_and_extra_blank_lines_join_the_next_event() {
        assert_eq!(
            split("\n\ndata: a\n\n\n\ndata: b\n\n"),
            ["\n\ndata: a\n\n", "\n\ndata: b\n\n"]
        );
    }

    #[test]
    fn trailing_bytes_without_blank_line_are_the_last_chunk() {
        assert_eq!(split("data: a\n\ndata: b"), ["data: a\n\n", "data: b"]);
        assert!(split("").is_empty());
    }
}
