//! Writing JSON text by hand, for bodies whose shape is fixed: strings (escaped),
//! integers, floats.
//!
//! The gateway's answers and the request bodies providers send have a fixed shape, so
//! they are written as literal text with the values spliced in rather than through serde.
//! serde_json escapes every object key byte by byte, as it must for keys it cannot know in
//! advance: that was a tenth of the gateway's instructions per request for its answers,
//! and about 2,400 instructions per request for the upstream request body (see
//! `docs/benchmarks.md`). Here keys are the caller's constants, and a value string is
//! scanned eight bytes at a time (with [`needs_escape`]) for the few bytes JSON must
//! escape.
//!
//! Every function writes byte for byte what serde_json writes for the same value (the
//! tests compare the two), so a body written with them can be checked against, and
//! replaced by, its serde form. Arbitrary JSON (a tool's schema, say) is still written by
//! serde_json.
//!
//! ```
//! use tollgate_core::json::write;
//!
//! let mut out = Vec::new();
//! out.extend_from_slice(b"{\"name\":");
//! write::string(&mut out, "tab\there");
//! out.extend_from_slice(b",\"n\":");
//! write::uint(&mut out, 7);
//! out.push(b'}');
//! assert_eq!(out, br#"{"name":"tab\there","n":7}"#);
//! ```

use super::needs_escape;

/// Writes `value` as a JSON string, quotes included, escaped exactly as serde_json
/// escapes it: `"` and `\` backslashed, `\b \f \n \r \t` short, other control characters
/// as `\u00XX`, everything else (non-ASCII included) as it is.
pub fn string(out: &mut Vec<u8>, value: &str) {
    out.reserve(value.len() + 2);
    out.push(b'"');
    escaped(out, value);
    out.push(b'"');
}

/// Writes the concatenation of `parts` as one JSON string, without building it first.
pub fn string_of<'a>(out: &mut Vec<u8>, parts: impl Iterator<Item = &'a str>) {
    out.push(b'"');
    for part in parts {
        escaped(out, part);
    }
    out.push(b'"');
}

/// Writes `value` as a JSON number.
pub fn uint(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

/// Writes `value` (signed) as a JSON number.
pub fn int(out: &mut Vec<u8>, value: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

/// Writes `value` as `true` or `false`.
pub fn boolean(out: &mut Vec<u8>, value: bool) {
    out.extend_from_slice(if value { b"true" } else { b"false" });
}

/// Writes `value` as serde_json writes an `f64` (shortest round-trip form; `null` when it
/// is not finite).
pub fn float(out: &mut Vec<u8>, value: f64) {
    // One number, no keys: serde_json's own formatting is the reference and cheap here.
    if serde_json::to_writer(&mut *out, &value).is_err() {
        out.extend_from_slice(b"null");
    }
}

/// Appends the escaped form of `value` (no quotes).
fn escaped(out: &mut Vec<u8>, value: &str) {
    let bytes = value.as_bytes();
    // `start..at` is a run of bytes that need no escaping, copied in one go.
    let mut start = 0;
    let mut at = 0;
    while at < bytes.len() {
        if let Some(word) = bytes.get(at..at + 8) {
            let mut chunk = [0; 8];
            chunk.copy_from_slice(word);
            if !needs_escape(u64::from_le_bytes(chunk)) {
                at += 8;
                continue;
            }
        }
        // Within this word (or the tail) byte by byte.
        let end = (at + 8).min(bytes.len());
        while at < end {
            let byte = bytes[at];
            let escape = ESCAPE[usize::from(byte)];
            if escape != 0 {
                out.extend_from_slice(&bytes[start..at]);
                write_escape(out, byte, escape);
                start = at + 1;
            }
            at += 1;
        }
    }
    out.extend_from_slice(&bytes[start..]);
}

fn write_escape(out: &mut Vec<u8>, byte: u8, escape: u8) {
    if escape == b'u' {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[usize::from(byte >> 4)],
            HEX[usize::from(byte & 0xF)],
        ]);
    } else {
        out.extend_from_slice(&[b'\\', escape]);
    }
}

/// For each byte, 0 if it is written as it is, else the character after the backslash
/// (`u` for `\u00XX`).
static ESCAPE: [u8; 256] = {
    let mut table = [0; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = b'u';
        byte += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0A] = b'n';
    table[0x0C] = b'f';
    table[0x0D] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn ours(value: &str) -> String {
        let mut out = Vec::new();
        string(&mut out, value);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn every_ascii_character_is_escaped_as_serde_json_escapes_it() {
        for byte in 0u8..=0x7F {
            let alone = char::from(byte).to_string();
            assert_eq!(
                ours(&alone),
                serde_json::to_string(&alone).unwrap(),
                "{byte:#x}"
            );
            // At every position of a word, so the eight-byte scan is checked too.
            for position in 0..17 {
                let mut text = "a".repeat(17);
                text.replace_range(position..=position, &alone);
                assert_eq!(
                    ours(&text),
                    serde_json::to_string(&text).unwrap(),
                    "{byte:#x}@{position}"
                );
            }
        }
    }

    #[test]
    fn mixed_text_matches_serde_json() {
        // A deterministic spread of strings: ASCII, escapes, multi-byte characters.
        let alphabet = [
            "a", "Z", " ", "\"", "\\", "\n", "\r", "\t", "\u{0}", "\u{1f}", "\u{7f}", "é", "€",
            "🦀", "/", "{", "}",
        ];
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for length in 0..200 {
            let mut text = String::new();
            for _ in 0..length {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                text.push_str(alphabet[(state % alphabet.len() as u64) as usize]);
            }
            assert_eq!(ours(&text), serde_json::to_string(&text).unwrap());
        }
    }

    #[test]
    fn parts_are_written_as_one_string() {
        let mut out = Vec::new();
        string_of(&mut out, ["Hello", ", \"w\"", "orld\n"].into_iter());
        assert_eq!(out, br#""Hello, \"w\"orld\n""#);
    }

    #[test]
    fn numbers_are_written_as_serde_json_writes_them() {
        for value in [0, 7, u64::from(u32::MAX), u64::MAX] {
            let mut out = Vec::new();
            uint(&mut out, value);
            assert_eq!(out, serde_json::to_vec(&value).unwrap());
        }
        for value in [i64::MIN, -1, 0, 42, i64::MAX] {
            let mut out = Vec::new();
            int(&mut out, value);
            assert_eq!(out, serde_json::to_vec(&value).unwrap());
        }
        for value in [true, false] {
            let mut out = Vec::new();
            boolean(&mut out, value);
            assert_eq!(out, serde_json::to_vec(&value).unwrap());
        }
        for value in [
            0.000_135,
            1.5,
            2.0,
            -0.0,
            1e-12,
            1e300,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            let mut out = Vec::new();
            float(&mut out, value);
            assert_eq!(out, serde_json::to_vec(&value).unwrap());
        }
    }

    proptest! {
        /// Any string at all, split anywhere into parts.
        #[test]
        fn any_string_is_written_as_serde_json_writes_it(text in any::<String>(), cut in any::<prop::sample::Index>()) {
            prop_assert_eq!(ours(&text), serde_json::to_string(&text).unwrap());
            let mut at = cut.index(text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            let mut out = Vec::new();
            string_of(&mut out, [&text[..at], &text[at..]].into_iter());
            prop_assert_eq!(out, serde_json::to_vec(&text).unwrap());
        }
    }
}
