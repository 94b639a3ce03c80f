//! A strict pull reader over JSON text, for the fixed shapes read on the hot path.
//!
//! Providers read every answer and every stream chunk; through serde's visitors that costs
//! several times what the bytes need (a third of a provider call, measured in
//! `docs/benchmarks.md`). [`Reader`] walks the text directly: the caller asks for an
//! object, an array, a string or a count where it expects one, and [`Reader::skip`]s the
//! rest.
//!
//! It is built to sit in front of a full parser, never to replace it. It reads exact JSON
//! (RFC 8259) and *declines* everything it is not certain about, with [`Declined`]:
//! malformed text, but also valid forms it leaves alone — keys with escapes, numbers that
//! are not plain unsigned integers where a count is asked for, `\u` escapes of
//! surrogates, nesting deeper than [`MAX_DEPTH`]. The caller then parses the same text
//! with serde_json, which decides (and words the error). A reader that only ever accepts
//! what serde_json accepts, and reads it the same way, can therefore only make a decoder
//! faster, never different: provider crates check exactly that with property tests
//! against their serde types.
//!
//! ```
//! use tollgate_core::json::{Declined, Reader};
//!
//! let text = r#"{"id": "r1", "usage": {"total_tokens": 53}, "extra": [1, {"a": null}]}"#;
//! let mut reader = Reader::new(text);
//! let (mut id, mut total) = (None, None);
//! reader.object(|reader, key| match key {
//!     "id" => {
//!         id = Some(reader.string()?);
//!         Ok(())
//!     }
//!     "usage" => reader.object(|reader, key| match key {
//!         "total_tokens" => {
//!             total = Some(reader.count()?);
//!             Ok(())
//!         }
//!         _ => reader.skip(),
//!     }),
//!     _ => reader.skip(),
//! })?;
//! reader.end()?;
//! assert_eq!((id.as_deref(), total), (Some("r1"), Some(53)));
//! # Ok::<(), Declined>(())
//! ```

use std::borrow::Cow;
use std::fmt;

pub mod write;

/// The deepest nesting of arrays and objects the reader follows (serde_json's limit is
/// 128; stopping earlier only hands deeper text to it).
pub const MAX_DEPTH: u32 = 64;

/// The most digits [`Reader::decimal`] reads; a number with more is declined.
pub const MAX_DECIMAL_DIGITS: usize = 15;

/// 10⁰ to 10¹⁵, each exact in an `f64`.
const POWERS_OF_TEN: [f64; MAX_DECIMAL_DIGITS + 1] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// The reader does not vouch for the text: it is malformed, or has a form the reader
/// leaves to a full parser. Parse it with one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Declined;

impl fmt::Display for Declined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the fast JSON reader declined this text")
    }
}

impl std::error::Error for Declined {}

/// What the reader's methods return.
pub type Result<T> = std::result::Result<T, Declined>;

/// A cursor over one JSON text. See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    text: &'a str,
    at: usize,
    depth: u32,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `text`.
    pub fn new(text: &'a str) -> Self {
        Self {
            text,
            at: 0,
            depth: 0,
        }
    }

    /// The next byte that is not whitespace, without consuming it; `None` at the end.
    #[inline]
    pub fn peek(&mut self) -> Option<u8> {
        // Most tokens follow the last directly: that case is inlined where it is asked.
        match self.text.as_bytes().get(self.at) {
            Some(&byte) if byte > b' ' => Some(byte),
            _ => self.past_whitespace(),
        }
    }

    /// [`peek`](Self::peek) when whitespace may come first.
    fn past_whitespace(&mut self) -> Option<u8> {
        let bytes = self.text.as_bytes();
        loop {
            let byte = *bytes.get(self.at)?;
            if !matches!(byte, b' ' | b'\n' | b'\r' | b'\t') {
                return Some(byte);
            }
            self.at += 1;
            // Indentation is runs of spaces: eight at a time while they last.
            while let Some(word) = word_at(bytes, self.at) {
                // The bytes that are not spaces are the ones left non-zero.
                let other = word ^ (ONES * u64::from(b' '));
                if other != 0 {
                    self.at += (other.trailing_zeros() / 8) as usize;
                    break;
                }
                self.at += 8;
            }
        }
    }

    /// Consumes a `null` if one comes next: `true` if it did, `false` (nothing consumed)
    /// if another value comes.
    ///
    /// # Errors
    ///
    /// [`Declined`] at the end of the text or on a malformed literal.
    pub fn null(&mut self) -> Result<bool> {
        match self.peek() {
            Some(b'n') => self.literal("null").map(|()| true),
            Some(_) => Ok(false),
            None => Err(Declined),
        }
    }

    /// Consumes a `null`, declining any other value: for a field whose other values are
    /// left to a full parser.
    ///
    /// # Errors
    ///
    /// [`Declined`] for anything but `null`.
    pub fn expect_null(&mut self) -> Result<()> {
        if self.null()? { Ok(()) } else { Err(Declined) }
    }

    /// Reads an object, calling `field` with each key (in order, duplicates included);
    /// `field` must consume the value, with [`skip`](Self::skip) if it has no use for it.
    ///
    /// # Errors
    ///
    /// [`Declined`] if no object comes next, it is malformed, a key has an escape, it
    /// nests too deep, or `field` declines.
    pub fn object(
        &mut self,
        mut field: impl FnMut(&mut Self, &'a str) -> Result<()>,
    ) -> Result<()> {
        self.sequence(b'{', b'}', |reader| {
            if reader.peek() != Some(b'"') {
                return Err(Declined);
            }
            let key = reader.key()?;
            if reader.peek() != Some(b':') {
                return Err(Declined);
            }
            reader.at += 1;
            field(reader, key)
        })
    }

    /// Reads an array, calling `item` once per element; `item` must consume it.
    ///
    /// # Errors
    ///
    /// [`Declined`] if no array comes next, it is malformed, it nests too deep, or `item`
    /// declines.
    pub fn array(&mut self, item: impl FnMut(&mut Self) -> Result<()>) -> Result<()> {
        self.sequence(b'[', b']', item)
    }

    /// Reads a string: borrowed from the text when it has no escapes, unescaped into an
    /// owned string when it has.
    ///
    /// # Errors
    ///
    /// [`Declined`] if no string comes next, it is unterminated, holds a control
    /// character or a malformed escape, or escapes a surrogate with `\u`.
    pub fn string(&mut self) -> Result<Cow<'a, str>> {
        if self.peek() != Some(b'"') {
            return Err(Declined);
        }
        self.at += 1;
        let start = self.at;
        let end = self.plain_run(start);
        match self.text.as_bytes().get(end) {
            Some(b'"') => {
                self.at = end + 1;
                self.text.get(start..end).map(Cow::Borrowed).ok_or(Declined)
            }
            Some(b'\\') => {
                let mut out = String::with_capacity(end - start + 16);
                out.push_str(self.text.get(start..end).ok_or(Declined)?);
                self.at = end;
                self.escaped_rest(Some(&mut out))?;
                Ok(Cow::Owned(out))
            }
            _ => Err(Declined),
        }
    }

    /// Reads a count: an unsigned integer written plainly (`0`, `53`; at most 19 digits).
    ///
    /// # Errors
    ///
    /// [`Declined`] for anything else: a sign, a fraction, an exponent, a leading zero,
    /// 20 digits or more, or no number at all.
    pub fn count(&mut self) -> Result<u64> {
        let bytes = self.text.as_bytes();
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(Declined);
        }
        let start = self.at;
        let mut value: u64 = 0;
        while let Some(&digit @ b'0'..=b'9') = bytes.get(self.at) {
            value = value * 10 + u64::from(digit - b'0');
            self.at += 1;
            if self.at - start == 19 {
                break;
            }
        }
        let leading_zero = bytes.get(start) == Some(&b'0') && self.at - start > 1;
        if leading_zero || matches!(bytes.get(self.at), Some(b'0'..=b'9' | b'.' | b'e' | b'E')) {
            return Err(Declined);
        }
        Ok(value)
    }

    /// Reads `true` or `false`.
    ///
    /// # Errors
    ///
    /// [`Declined`] for anything else (`null` included).
    pub fn boolean(&mut self) -> Result<bool> {
        match self.peek() {
            Some(b't') => self.literal("true").map(|()| true),
            Some(b'f') => self.literal("false").map(|()| false),
            _ => Err(Declined),
        }
    }

    /// Reads a decimal: a non-negative number written plainly, with or without a
    /// fraction, in at most [`MAX_DECIMAL_DIGITS`] digits (`0.7`, `1`, `12.25`), as the
    /// nearest `f64`, which is what serde_json and `str::parse` read too.
    ///
    /// With so few digits the digits form an integer an `f64` holds exactly, and so does
    /// the power of ten the fraction divides it by; one IEEE division of the two is then
    /// correctly rounded.
    ///
    /// # Errors
    ///
    /// [`Declined`] for anything else: a sign, an exponent, a leading zero, more digits,
    /// or no number at all.
    pub fn decimal(&mut self) -> Result<f64> {
        let bytes = self.text.as_bytes();
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(Declined);
        }
        let start = self.at;
        let mut digits: u64 = 0;
        let mut count = 0;
        let mut point = None;
        loop {
            match bytes.get(self.at) {
                Some(&digit @ b'0'..=b'9') => {
                    digits = digits * 10 + u64::from(digit - b'0');
                    count += 1;
                    if count > MAX_DECIMAL_DIGITS {
                        return Err(Declined);
                    }
                }
                Some(b'.') if point.is_none() && count > 0 => point = Some(count),
                _ => break,
            }
            self.at += 1;
        }
        let fraction = point.map_or(0, |point| count - point);
        let leading_zero =
            bytes.get(start) == Some(&b'0') && matches!(bytes.get(start + 1), Some(b'0'..=b'9'));
        if leading_zero
            || point == Some(count)
            || matches!(bytes.get(self.at), Some(b'e' | b'E' | b'.'))
        {
            return Err(Declined);
        }
        // Both exact (below 2^53): the quotient is the correctly rounded value.
        Ok(digits as f64 / POWERS_OF_TEN.get(fraction).ok_or(Declined)?)
    }

    /// Consumes one value of any kind, checking that it is well-formed JSON.
    ///
    /// # Errors
    ///
    /// [`Declined`] if it is not, or has a form [`string`](Self::string) or
    /// [`object`](Self::object) decline.
    pub fn skip(&mut self) -> Result<()> {
        match self.peek() {
            Some(b'"') => {
                self.at += 1;
                self.escaped_rest(None)
            }
            Some(b'{') => self.object(|reader, _| reader.skip()),
            Some(b'[') => self.array(Self::skip),
            Some(b't') => self.literal("true"),
            Some(b'f') => self.literal("false"),
            Some(b'n') => self.literal("null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(Declined),
        }
    }

    /// Checks that nothing but whitespace is left.
    ///
    /// # Errors
    ///
    /// [`Declined`] if something is.
    pub fn end(&mut self) -> Result<()> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(Declined),
        }
    }

    /// Reads `open`, then entries separated by commas (each read by `entry`), then
    /// `close`, one level deeper while inside.
    fn sequence(
        &mut self,
        open: u8,
        close: u8,
        mut entry: impl FnMut(&mut Self) -> Result<()>,
    ) -> Result<()> {
        if self.peek() != Some(open) || self.depth >= MAX_DEPTH {
            return Err(Declined);
        }
        self.at += 1;
        self.depth += 1;
        if self.peek() != Some(close) {
            loop {
                entry(self)?;
                match self.peek() {
                    Some(b',') => self.at += 1,
                    Some(byte) if byte == close => break,
                    _ => return Err(Declined),
                }
            }
        }
        self.at += 1;
        self.depth -= 1;
        Ok(())
    }

    /// An object key, which must have no escapes (at the opening quote).
    #[inline]
    fn key(&mut self) -> Result<&'a str> {
        let start = self.at + 1;
        let end = self.plain_run(start);
        if self.text.as_bytes().get(end) != Some(&b'"') {
            return Err(Declined);
        }
        self.at = end + 1;
        self.text.get(start..end).ok_or(Declined)
    }

    /// Consumes `word` (`true`, `false`, `null`), which must come next.
    fn literal(&mut self, word: &str) -> Result<()> {
        let rest = self.text.as_bytes().get(self.at..).unwrap_or_default();
        if !rest.starts_with(word.as_bytes()) {
            return Err(Declined);
        }
        self.at += word.len();
        Ok(())
    }

    /// Consumes a number of any form JSON allows.
    fn number(&mut self) -> Result<()> {
        let bytes = self.text.as_bytes();
        let digits = |at: &mut usize| {
            let start = *at;
            while bytes.get(*at).is_some_and(u8::is_ascii_digit) {
                *at += 1;
            }
            *at > start
        };
        let mut at = self.at;
        if bytes.get(at) == Some(&b'-') {
            at += 1;
        }
        match bytes.get(at) {
            Some(b'0') => at += 1,
            Some(b'1'..=b'9') => {
                digits(&mut at);
            }
            _ => return Err(Declined),
        }
        if bytes.get(at) == Some(&b'.') {
            at += 1;
            if !digits(&mut at) {
                return Err(Declined);
            }
        }
        if matches!(bytes.get(at), Some(b'e' | b'E')) {
            at += 1;
            if matches!(bytes.get(at), Some(b'+' | b'-')) {
                at += 1;
            }
            if !digits(&mut at) {
                return Err(Declined);
            }
        }
        self.at = at;
        Ok(())
    }

    /// Reads the rest of a string from `self.at` (inside it) to its closing quote,
    /// unescaping into `out` if given (else only checking).
    fn escaped_rest(&mut self, mut out: Option<&mut String>) -> Result<()> {
        let bytes = self.text.as_bytes();
        loop {
            let end = self.plain_run(self.at);
            if let Some(out) = out.as_deref_mut() {
                out.push_str(self.text.get(self.at..end).ok_or(Declined)?);
            }
            self.at = end;
            match bytes.get(end) {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    let escape = *bytes.get(end + 1).ok_or(Declined)?;
                    self.at = end + 2;
                    let unescaped = match escape {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return Err(Declined),
                    };
                    if let Some(out) = out.as_deref_mut() {
                        out.push(unescaped);
                    }
                }
                // A control character, or the end of the text.
                _ => return Err(Declined),
            }
        }
    }

    /// The character of a `\u` escape (after the `u`): four hex digits, not a surrogate.
    fn unicode_escape(&mut self) -> Result<char> {
        let hex = self.text.get(self.at..self.at + 4).ok_or(Declined)?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Declined);
        }
        let code = u32::from_str_radix(hex, 16).map_err(|_| Declined)?;
        self.at += 4;
        // `None` for surrogates, pairs included: rare enough to leave to serde_json.
        char::from_u32(code).ok_or(Declined)
    }

    /// The index of the first byte from `from` on that a string cannot hold as it is
    /// (`"`, `\` or a control character), or the text's length.
    #[inline]
    fn plain_run(&self, from: usize) -> usize {
        let bytes = self.text.as_bytes();
        let mut at = from;
        while let Some(word) = word_at(bytes, at) {
            let special = first_special(word);
            if special != 0 {
                return at + first_marked(special);
            }
            at += 8;
        }
        while let Some(&byte) = bytes.get(at) {
            if byte == b'"' || byte == b'\\' || byte < 0x20 {
                return at;
            }
            at += 1;
        }
        at
    }
}

/// The known keys of one object met so far, for readers of fixed shapes.
///
/// serde's derived structs refuse a field that comes twice, so a reader that must read
/// exactly as one does declines it: each field gets a number, and [`Seen::read`] reads it
/// only the first time.
///
/// ```
/// use tollgate_core::json::{Declined, Reader, Seen};
///
/// let mut id = None;
/// let mut seen = Seen::default();
/// let mut reader = Reader::new(r#"{"id": "a", "id": "b"}"#);
/// let read = reader.object(|reader, key| match key {
///     "id" => seen.read(0, reader, &mut id, |r, id| {
///         *id = Some(r.string()?);
///         Ok(())
///     }),
///     _ => reader.skip(),
/// });
/// assert_eq!(read, Err(Declined));
/// ```
#[derive(Debug, Default)]
pub struct Seen(u32);

impl Seen {
    /// Reads field number `bit` (0 to 31) into `slot` with `read`; declines if that
    /// field came before (or `bit` is out of range).
    ///
    /// # Errors
    ///
    /// [`Declined`] for a repeated field, or whatever `read` declines.
    pub fn read<'a, T>(
        &mut self,
        bit: u8,
        reader: &mut Reader<'a>,
        slot: &mut T,
        read: impl FnOnce(&mut Reader<'a>, &mut T) -> Result<()>,
    ) -> Result<()> {
        let mask = 1u32.checked_shl(u32::from(bit)).ok_or(Declined)?;
        if self.0 & mask != 0 {
            return Err(Declined);
        }
        self.0 |= mask;
        read(reader, slot)
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The eight bytes at `at` as a little-endian word (the first byte lowest), if there are
/// eight.
fn word_at(bytes: &[u8], at: usize) -> Option<u64> {
    let word: [u8; 8] = bytes.get(at..at + 8)?.try_into().ok()?;
    Some(u64::from_le_bytes(word))
}

/// The position of the first byte whose high bit `mask` sets (`mask` not zero).
fn first_marked(mask: u64) -> usize {
    (mask.trailing_zeros() / 8) as usize
}

/// Marks (with its high bit) the first byte of `word` that a JSON string cannot hold as
/// it is: `"`, `\`, or a control character (below 0x20). Zero when there is none.
///
/// Each term is the classic `(v - k) & !v & HIGHS`: a byte below `k` borrows, so bytes
/// *after* the first one it marks may be marked too, but never a byte before it, and
/// nothing is marked without a true one. Only the first mark is ever used, which costs
/// about half the operations of marking every byte exactly.
const fn first_special(word: u64) -> u64 {
    let quote = word ^ (ONES * b'"' as u64);
    let backslash = word ^ (ONES * b'\\' as u64);
    ((quote.wrapping_sub(ONES) & !quote)
        | (backslash.wrapping_sub(ONES) & !backslash)
        | (word.wrapping_sub(ONES * 0x20) & !word))
        & HIGHS
}

/// Whether any of the eight bytes of `word` (little-endian) is `"`, `\` or a control
/// character (below 0x20): the bytes a JSON string cannot hold as they are, which JSON
/// writers escape and readers stop at.
///
/// ```
/// use tollgate_core::json::needs_escape;
///
/// assert!(!needs_escape(u64::from_le_bytes(*b"plain te")));
/// assert!(needs_escape(u64::from_le_bytes(*b"a \"quote")));
/// assert!(needs_escape(u64::from_le_bytes(*b"new\nline")));
/// ```
pub const fn needs_escape(word: u64) -> bool {
    first_special(word) != 0
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde::de::IgnoredAny;
    use serde_json::Value;

    use super::*;

    /// Skips one whole text, as a caller with no use for any of it would.
    fn skip_all(text: &str) -> Result<()> {
        let mut reader = Reader::new(text);
        reader.skip()?;
        reader.end()
    }

    fn string_of(text: &str) -> Result<Cow<'_, str>> {
        let mut reader = Reader::new(text);
        let value = reader.string()?;
        reader.end()?;
        Ok(value)
    }

    fn count_of(text: &str) -> Result<u64> {
        let mut reader = Reader::new(text);
        let value = reader.count()?;
        reader.end()?;
        Ok(value)
    }

    fn decimal_of(text: &str) -> Result<f64> {
        let mut reader = Reader::new(text);
        let value = reader.decimal()?;
        reader.end()?;
        Ok(value)
    }

    fn boolean_of(text: &str) -> Result<bool> {
        let mut reader = Reader::new(text);
        let value = reader.boolean()?;
        reader.end()?;
        Ok(value)
    }

    #[test]
    fn booleans_are_true_or_false_and_nothing_else() {
        assert_eq!(boolean_of(" true"), Ok(true));
        assert_eq!(boolean_of("false "), Ok(false));
        for text in ["null", "tru", "truex", "\"true\"", "1", "True"] {
            assert_eq!(boolean_of(text), Err(Declined), "{text:?}");
        }
    }

    #[test]
    fn decimals_read_plain_numbers_to_the_nearest_f64() {
        for (text, value) in [
            ("0", 0.0),
            ("0.7", 0.7),
            (" 1 ", 1.0),
            ("12.25", 12.25),
            ("0.000", 0.0),
            ("0.1", 0.1),
            ("999999999999999", 999_999_999_999_999.0),
            ("0.00000000000001", 1e-14),
        ] {
            assert_eq!(decimal_of(text), Ok(value), "{text:?}");
        }
        for text in [
            "-0.5",
            "-0",
            "1e2",
            "1.5E3",
            "01.5",
            "00",
            "1.",
            ".5",
            "1.2.3",
            "1234567890123456",
            "0.000000000000001",
            "null",
            "\"0.7\"",
        ] {
            assert_eq!(decimal_of(text), Err(Declined), "{text:?}");
        }
    }

    /// The position of the first byte `first_special` marks, as a test reads it.
    fn first_special_at(bytes: [u8; 8]) -> Option<usize> {
        let mask = first_special(u64::from_le_bytes(bytes));
        (mask != 0).then(|| first_marked(mask))
    }

    #[test]
    fn the_first_special_byte_is_found_exactly() {
        let special = |b: &u8| *b == b'"' || *b == b'\\' || *b < 0x20;
        // Every pair of byte values at every pair of positions, among fillers that are
        // plain, or would expose a borrow (0x00, 0x1F) or carry (0x7F, 0x80, 0xFF).
        for filler in [b'a', 0x00, 0x1F, 0x20, 0x7F, 0x80, 0xFF] {
            for first in 0..8 {
                for second in first..8 {
                    for a in 0..=u8::MAX {
                        for b in (0..=u8::MAX).step_by(if filler == b'a' { 1 } else { 7 }) {
                            let mut bytes = [filler; 8];
                            bytes[first] = a;
                            bytes[second] = b;
                            assert_eq!(
                                first_special_at(bytes),
                                bytes.iter().position(special),
                                "{bytes:?}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn strings_borrow_unless_they_have_escapes() {
        assert!(matches!(
            string_of(r#""plain""#),
            Ok(Cow::Borrowed("plain"))
        ));
        let escaped = string_of(r#""a\"b\\c\/d\b\f\n\r\t\u00e9\u0000 — end""#).unwrap();
        assert!(matches!(escaped, Cow::Owned(_)));
        assert_eq!(escaped, "a\"b\\c/d\u{8}\u{c}\n\r\t\u{e9}\u{0} — end");
        // Long enough for the eight-byte scan, with the escape at every offset.
        for at in 0..17 {
            let mut text = "x".repeat(17);
            text.insert_str(at, "\\n");
            let json = format!("\"{text}\"");
            let read = string_of(&json).unwrap();
            assert_eq!(read, text.replace("\\n", "\n"), "escape at {at}");
        }
    }

    #[test]
    fn what_a_full_parser_must_decide_is_declined() {
        for text in [
            "\"unterminated",
            "\"control \u{1} character\"",
            "\"tab\tinside\"",
            r#""bad \x escape""#,
            r#""short \u12 escape""#,
            r#""surrogate pair \ud83d\ude00""#,
            r#""lone \udc00""#,
            "\"ends in a backslash\\",
        ] {
            assert_eq!(string_of(text), Err(Declined), "{text:?}");
        }
        for text in [
            "",
            "{",
            "[1,]",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "{1:2}",
            "[1 2]",
            "tru",
            "nul",
            "-",
            "01",
            "1.",
            ".5",
            "1e",
            "+1",
            "{} {}",
            "{\"k\\u0065y\":1}",
        ] {
            assert_eq!(skip_all(text), Err(Declined), "{text:?}");
        }
        for text in [
            "-1",
            "1.0",
            "1e2",
            "01",
            "12345678901234567890",
            "\"3\"",
            "null",
        ] {
            assert_eq!(count_of(text), Err(Declined), "{text:?}");
        }
    }

    #[test]
    fn counts_read_plain_integers_up_to_nineteen_digits() {
        assert_eq!(count_of("0"), Ok(0));
        assert_eq!(count_of(" 53 "), Ok(53));
        assert_eq!(
            count_of("9999999999999999999"),
            Ok(9_999_999_999_999_999_999)
        );
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_declined() {
        let depth = usize::try_from(MAX_DEPTH).unwrap();
        let at_limit = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert_eq!(skip_all(&at_limit), Ok(()));
        let beyond = format!("[{at_limit}]");
        assert_eq!(skip_all(&beyond), Err(Declined));
    }

    #[test]
    fn objects_hand_over_every_key_in_order() {
        let mut keys = Vec::new();
        let mut reader = Reader::new(r#" { "a" : 1 , "b":{"c":[true,false,null]}, "a":"again" } "#);
        reader
            .object(|reader, key| {
                keys.push(key);
                reader.skip()
            })
            .unwrap();
        reader.end().unwrap();
        assert_eq!(keys, ["a", "b", "a"]);
    }

    /// Any JSON value whose object keys need no escapes.
    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            any::<String>().prop_map(Value::String),
        ];
        leaf.prop_recursive(6, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::vec(("[a-z_]{0,8}", inner), 0..8)
                    .prop_map(|fields| Value::Object(fields.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn every_value_serde_json_writes_is_skipped(value in json_value()) {
            let compact = serde_json::to_string(&value).unwrap();
            prop_assert_eq!(skip_all(&compact), Ok(()), "{}", compact);
            let pretty = serde_json::to_string_pretty(&value).unwrap();
            prop_assert_eq!(skip_all(&pretty), Ok(()), "{}", pretty);
        }

        #[test]
        fn strings_read_as_serde_json_reads_them(text in any::<String>()) {
            let json = serde_json::to_string(&text).unwrap();
            prop_assert_eq!(string_of(&json).unwrap(), text);
        }

        /// Up to fifteen digits with the point anywhere: the value serde_json reads, and
        /// the correctly rounded one.
        #[test]
        fn decimals_read_as_serde_json_reads_them(
            digits in "[1-9][0-9]{0,14}|0",
            point in any::<prop::sample::Index>(),
            zeros in 0..3usize,
        ) {
            let digits = format!("{}{digits}", "0".repeat(zeros));
            let at = point.index(digits.len()).max(zeros.min(digits.len() - 1));
            let mut text = digits.clone();
            if at > 0 && at < digits.len() {
                text.insert(at, '.');
            }
            if text.starts_with('0') && text.len() > 1 && !text.starts_with("0.") {
                prop_assert_eq!(decimal_of(&text), Err(Declined), "{}", text);
            } else if text.bytes().filter(u8::is_ascii_digit).count() > MAX_DECIMAL_DIGITS {
                prop_assert_eq!(decimal_of(&text), Err(Declined), "{}", text);
            } else {
                let read = decimal_of(&text).unwrap();
                prop_assert_eq!(Some(read), serde_json::from_str::<f64>(&text).ok(), "{}", text);
                prop_assert_eq!(read, text.parse::<f64>().unwrap(), "{}", text);
            }
        }

        #[test]
        fn counts_read_as_serde_json_reads_them(count in any::<u64>()) {
            let text = count.to_string();
            match count_of(&text) {
                Ok(read) => prop_assert_eq!(read, count),
                Err(Declined) => prop_assert!(text.len() > 19),
            }
        }

        /// Whatever the reader accepts, serde_json accepts too, reading the same: the
        /// reader may decline more, never less.
        #[test]
        fn nothing_serde_json_rejects_is_accepted(
            value in json_value(),
            cut in any::<prop::sample::Index>(),
            insert in prop::sample::select(&[
                "", ",", "]", "}", "\"", "\\", "\u{1}", "0", "-", ".", "e", ":", " ", "n", "{", "[",
            ][..]),
        ) {
            let mut text = serde_json::to_string(&value).unwrap();
            let mut at = cut.index(text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            text.insert_str(at, insert);
            if skip_all(&text).is_ok() {
                prop_assert!(serde_json::from_str::<IgnoredAny>(&text).is_ok(), "{}", text);
            }
            if let Ok(read) = string_of(&text) {
                prop_assert_eq!(serde_json::from_str::<String>(&text).ok(), Some(read.into_owned()));
            }
            if let Ok(read) = count_of(&text) {
                prop_assert_eq!(serde_json::from_str::<u64>(&text).ok(), Some(read));
            }
            if let Ok(read) = decimal_of(&text) {
                prop_assert_eq!(serde_json::from_str::<f64>(&text).ok(), Some(read));
            }
            if let Ok(read) = boolean_of(&text) {
                prop_assert_eq!(serde_json::from_str::<bool>(&text).ok(), Some(read));
            }
        }
    }
}
