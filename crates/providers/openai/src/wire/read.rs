//! The fast path of [`Completion::from_json`]: the common shapes of a completion and of a
//! stream chunk, read with [`tollgate_core::json::Reader`] instead of serde's visitors.
//!
//! It reads what nearly every server sends — strings or `null` where text goes, plain
//! integers or `null` for counts, objects and arrays where the types have them — and
//! declines everything else, leaving it to the serde implementation (the reference): a
//! field of an unexpected type, `content` as an array of parts, tool-call arguments as
//! an object, a non-null `error`, a known key twice (an error for serde), any malformed
//! text. So for any text it reads, it must give exactly what serde gives; the tests
//! below check that on generated bodies, and that real bodies do take this path.

use std::borrow::Cow;

use tollgate_core::json::{Declined, Reader, Result, Seen};

use super::{
    Choice, Completion, CompletionTokensDetails, Content, Inline, JsonText, LenientStr,
    PromptTokensDetails, WireFunction, WireMessage, WireToolCall, WireUsage, XGroq,
};

/// Reads a whole completion or chunk, or declines.
pub(super) fn completion(text: &str) -> Result<Completion<'_>> {
    let mut reader = Reader::new(text);
    let mut out = Completion::default();
    let mut seen = Seen::default();
    reader.object(|reader, key| match key {
        "id" => seen.read(0, reader, &mut out.id, lenient_str),
        "model" => seen.read(1, reader, &mut out.model, lenient_str),
        "choices" => seen.read(2, reader, &mut out.choices, |r, out| inline(r, out, choice)),
        "usage" => seen.read(3, reader, &mut out.usage, |r, out| optional(r, out, usage)),
        "x_groq" => seen.read(4, reader, &mut out.x_groq, |r, out| {
            optional(r, out, x_groq)
        }),
        // A real error is rare and read into a `Value`: serde's work.
        "error" => seen.read(5, reader, &mut (), |r, ()| r.expect_null()),
        _ => reader.skip(),
    })?;
    reader.end()?;
    Ok(out)
}

fn choice<'a>(reader: &mut Reader<'a>, out: &mut Choice<'a>) -> Result<()> {
    let mut seen = Seen::default();
    reader.object(|reader, key| match key {
        "index" => seen.read(0, reader, &mut out.index, index),
        "message" => seen.read(1, reader, &mut out.message, |r, out| {
            optional(r, out, message)
        }),
        "delta" => seen.read(2, reader, &mut out.delta, |r, out| {
            optional(r, out, message)
        }),
        "finish_reason" => seen.read(3, reader, &mut out.finish_reason, lenient_str),
        _ => reader.skip(),
    })
}

fn message<'a>(reader: &mut Reader<'a>, out: &mut WireMessage<'a>) -> Result<()> {
    let mut seen = Seen::default();
    reader.object(|reader, key| match key {
        "content" => seen.read(0, reader, &mut out.content, content),
        "refusal" => seen.read(1, reader, &mut out.refusal, lenient_str),
        "reasoning_content" => seen.read(2, reader, &mut out.reasoning_content, lenient_str),
        "reasoning" => seen.read(3, reader, &mut out.reasoning, lenient_str),
        "tool_calls" => seen.read(4, reader, &mut out.tool_calls, |r, out| {
            inline(r, out, tool_call)
        }),
        _ => reader.skip(),
    })
}

fn tool_call<'a>(reader: &mut Reader<'a>, out: &mut WireToolCall<'a>) -> Result<()> {
    let mut seen = Seen::default();
    reader.object(|reader, key| match key {
        "index" => seen.read(0, reader, &mut out.index, index),
        "id" => seen.read(1, reader, &mut out.id, lenient_str),
        "type" => seen.read(2, reader, &mut out.kind, lenient_str),
        "function" => seen.read(3, reader, &mut out.function, |r, out| {
            optional(r, out, function)
        }),
        _ => reader.skip(),
    })
}

fn function<'a>(reader: &mut Reader<'a>, out: &mut WireFunction<'a>) -> Result<()> {
    let mut seen = Seen::default();
    reader.object(|reader, key| match key {
        "name" => seen.read(0, reader, &mut out.name, lenient_str),
        "arguments" => seen.read(1, reader, &mut out.arguments, arguments),
        _ => reader.skip(),
    })
}

fn usage(reader: &mut Reader<'_>, out: &mut WireUsage) -> Result<()> {
    let mut seen = Seen::default();
    reader.object(|reader, key| match key {
        "prompt_tokens" => seen.read(0, reader, &mut out.prompt_tokens, count),
        "completion_tokens" => seen.read(1, reader, &mut out.completion_tokens, count),
        "total_tokens" => seen.read(2, reader, &mut out.total_tokens, count),
        "prompt_tokens_details" => {
            seen.read(3, reader, &mut out.prompt_tokens_details, |r, out| {
                optional(r, out, prompt_details)
            })
        }
        "completion_tokens_details" => {
            seen.read(4, reader, &mut out.completion_tokens_details, |r, out| {
                optional(r, out, completion_details)
            })
        }
        "prompt_cache_hit_tokens" => seen.read(5, reader, &mut out.prompt_cache_hit_tokens, count),
        _ => reader.skip(),
    })
}

fn prompt_details(reader: &mut Reader<'_>, out: &mut PromptTokensDetails) -> Result<()> {
    let mut seen = Seen::default();
    reader.object(|reader, key| match key {
        "cached_tokens" => seen.read(0, reader, &mut out.cached_tokens, count),
        "cache_write_tokens" => seen.read(1, reader, &mut out.cache_write_tokens, count),
        _ => reader.skip(),
    })
}

fn completion_details(reader: &mut Reader<'_>, out: &mut CompletionTokensDetails) -> Result<()> {
    let mut seen = Seen::default();
    reader.object(|reader, key| match key {
        "reasoning_tokens" => seen.read(0, reader, &mut out.reasoning_tokens, count),
        _ => reader.skip(),
    })
}

fn x_groq(reader: &mut Reader<'_>, out: &mut XGroq) -> Result<()> {
    let mut seen = Seen::default();
    reader.object(|reader, key| match key {
        "usage" => seen.read(0, reader, &mut out.usage, |r, out| optional(r, out, usage)),
        _ => reader.skip(),
    })
}

/// An `Inline` array into `out` (empty): `null` is empty; `element` reads each element
/// into a default value, in place (they are large: moving them costs more than reading).
fn inline<'a, T: Default>(
    reader: &mut Reader<'a>,
    out: &mut Inline<T>,
    element: impl Fn(&mut Reader<'a>, &mut T) -> Result<()>,
) -> Result<()> {
    if reader.null()? {
        return Ok(());
    }
    reader.array(|reader| {
        let slot = if out.first.is_none() {
            out.first.insert(T::default())
        } else {
            out.rest.push(T::default());
            out.rest.last_mut().ok_or(Declined)?
        };
        element(reader, slot)
    })
}

/// An optional object into `out` (`None`): `null` leaves it `None`; else `read` reads it
/// into a default value, in place.
fn optional<'a, T: Default>(
    reader: &mut Reader<'a>,
    out: &mut Option<T>,
    read: impl FnOnce(&mut Reader<'a>, &mut T) -> Result<()>,
) -> Result<()> {
    if reader.null()? {
        return Ok(());
    }
    read(reader, out.insert(T::default()))
}

/// A string or `null`; any other value is declined.
fn text<'a>(reader: &mut Reader<'a>) -> Result<Option<Cow<'a, str>>> {
    if reader.null()? {
        Ok(None)
    } else {
        reader.string().map(Some)
    }
}

/// A [`LenientStr`] as it usually comes: a string or `null`.
fn lenient_str<'a>(reader: &mut Reader<'a>, out: &mut LenientStr<'a>) -> Result<()> {
    out.0 = text(reader)?;
    Ok(())
}

/// `content` as a string or `null`; arrays of parts are serde's.
fn content<'a>(reader: &mut Reader<'a>, out: &mut Content<'a>) -> Result<()> {
    *out = text(reader)?.map_or(Content::None, Content::Text);
    Ok(())
}

/// Tool-call arguments as a string or `null`; arguments sent as an object are serde's.
fn arguments<'a>(reader: &mut Reader<'a>, out: &mut JsonText<'a>) -> Result<()> {
    out.0 = text(reader)?;
    Ok(())
}

/// A lenient count as it usually comes: a plain integer or `null`.
fn count(reader: &mut Reader<'_>, out: &mut Option<u64>) -> Result<()> {
    *out = if reader.null()? {
        None
    } else {
        Some(reader.count()?)
    };
    Ok(())
}

/// An index: a count, saturated to `u32` as serde's lenient reading does.
fn index(reader: &mut Reader<'_>, out: &mut Option<u32>) -> Result<()> {
    let mut wide = None;
    count(reader, &mut wide)?;
    *out = wide.map(|index| u32::try_from(index).unwrap_or(u32::MAX));
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use tollgate_testkit::json_text::{damaged, field, lit};

    use super::*;

    /// The direct reader's result and serde's for `text`, as their `Debug` forms (a
    /// borrowed and an owned string print the same).
    fn both(text: &str) -> (Option<String>, Option<String>) {
        let direct = completion(text).ok().map(|c| format!("{c:?}"));
        let serde = serde_json::from_str::<Completion<'_>>(text)
            .ok()
            .map(|c| format!("{c:?}"));
        (direct, serde)
    }

    /// Every `data:` payload of an SSE fixture but `[DONE]`.
    fn chunks(sse: &str) -> Vec<&str> {
        sse.lines()
            .filter_map(|line| line.strip_prefix("data:"))
            .map(str::trim)
            .filter(|data| *data != "[DONE]")
            .collect()
    }

    #[test]
    fn real_bodies_take_the_direct_path_and_read_as_serde_reads_them() {
        let mut bodies = vec![
            include_str!("../../tests/data/openai/chat-text.json"),
            include_str!("../../tests/data/openai/chat-tool-call.json"),
        ];
        for sse in [
            include_str!("../../tests/data/openai/chat-stream-text.sse"),
            include_str!("../../tests/data/openai/chat-stream-tool-call.sse"),
            include_str!("../../tests/data/openai-compat/groq-stream-text.sse"),
            include_str!("../../tests/data/openai-compat/ollama-stream-tool-call.sse"),
        ] {
            bodies.extend(chunks(sse));
        }
        assert!(bodies.len() > 10);
        for body in bodies {
            let (direct, serde) = both(body);
            assert!(direct.is_some(), "declined: {body}");
            assert_eq!(direct, serde, "{body}");
        }
    }

    #[test]
    fn unusual_shapes_are_left_to_serde() {
        for body in [
            r#"{"choices":[{"message":{"content":[{"type":"text","text":"a"}]}}]}"#,
            r#"{"choices":[{"message":{"tool_calls":[{"function":{"arguments":{"x":1}}}]}}]}"#,
            r#"{"error":{"message":"overloaded"}}"#,
            r#"{"usage":{"prompt_tokens":10.0}}"#,
            r#"{"model":7}"#,
            r#"{"id":"a","id":"b"}"#,
            r#"{"usage":{"prompt_tokens_details":{"cached_tokens":01}}}"#,
            r#"{"choices":[{"index":0}],}"#,
        ] {
            assert_eq!(completion(body).err(), Some(Declined), "{body}");
        }
    }

    /// A string field's value: mostly strings (escapes and non-ASCII included), at times
    /// `null` or something odd.
    fn text_value() -> BoxedStrategy<String> {
        prop_oneof![
            6 => any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap()),
            2 => lit(&["null", "\"\"", r#""tab\tand \"quote\" \u00e9""#]),
            1 => lit(&["7", "true", "[\"a\"]", "{}", r#""\ud83d\ude00""#, r#"{"x":[1,2]}"#]),
        ]
        .boxed()
    }

    /// A count's value: mostly plain integers, at times what lenient counts tolerate.
    fn count_value() -> BoxedStrategy<String> {
        prop_oneof![
            6 => any::<u32>().prop_map(|n| n.to_string()),
            2 => lit(&["null", "0", "18446744073709551615", "4294967296"]),
            1 => lit(&["-3", "2.0", "1e2", "\"7\"", "true", "12345678901234567890", "{}", "01"]),
        ]
        .boxed()
    }

    /// An object of fields drawn from `fields` (repeats, unknown keys and any order
    /// included).
    fn object(fields: Vec<BoxedStrategy<String>>) -> BoxedStrategy<String> {
        let unknown = prop_oneof![
            field("object", text_value()),
            field("created", count_value()),
            field("logprobs", lit(&["null", "{\"content\":[]}"])),
            field("annotations", lit(&["[]", "[{\"type\":\"url\"}]"])),
        ]
        .boxed();
        let mut all = fields;
        all.push(unknown);
        prop::collection::vec(prop::strategy::Union::new(all), 0..7)
            .prop_map(|fields| format!("{{{}}}", fields.join(",")))
            .boxed()
    }

    /// An array of `item`s, or `null`, or something odd.
    fn array(item: BoxedStrategy<String>) -> BoxedStrategy<String> {
        prop_oneof![
            6 => prop::collection::vec(item, 0..3).prop_map(|items| format!("[{}]", items.join(","))),
            1 => lit(&["null", "{}", "\"x\""]),
        ]
        .boxed()
    }

    /// An object, or at times `null` or something odd.
    fn maybe(object: BoxedStrategy<String>) -> BoxedStrategy<String> {
        prop_oneof![6 => object, 1 => lit(&["null", "[]", "3"])].boxed()
    }

    fn usage_text() -> BoxedStrategy<String> {
        object(vec![
            field("prompt_tokens", count_value()),
            field("completion_tokens", count_value()),
            field("total_tokens", count_value()),
            field(
                "prompt_tokens_details",
                maybe(object(vec![
                    field("cached_tokens", count_value()),
                    field("cache_write_tokens", count_value()),
                ])),
            ),
            field(
                "completion_tokens_details",
                maybe(object(vec![field("reasoning_tokens", count_value())])),
            ),
            field("prompt_cache_hit_tokens", count_value()),
        ])
    }

    fn message_text() -> BoxedStrategy<String> {
        let function = object(vec![
            field("name", text_value()),
            field("arguments", text_value()),
        ]);
        let tool_call = object(vec![
            field("index", count_value()),
            field("id", text_value()),
            field("type", text_value()),
            field("function", maybe(function)),
        ]);
        let parts = lit(&[
            r#"[{"type":"text","text":"a"}]"#,
            r#"[{"type":"thinking","thinking":"t"}]"#,
        ]);
        object(vec![
            field(
                "content",
                prop_oneof![4 => text_value(), 1 => parts].boxed(),
            ),
            field("refusal", text_value()),
            field("reasoning_content", text_value()),
            field("reasoning", text_value()),
            field("tool_calls", array(tool_call)),
            field("role", text_value()),
        ])
    }

    fn completion_text() -> BoxedStrategy<String> {
        let choice = object(vec![
            field("index", count_value()),
            field("message", maybe(message_text())),
            field("delta", maybe(message_text())),
            field("finish_reason", text_value()),
        ]);
        object(vec![
            field("id", text_value()),
            field("model", text_value()),
            field("choices", array(choice)),
            field("usage", maybe(usage_text())),
            field(
                "x_groq",
                maybe(object(vec![field("usage", maybe(usage_text()))])),
            ),
            field("error", lit(&["null", "{}", r#"{"message":"m"}"#, "\"\""])),
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        /// What the direct reader accepts, serde accepts too, with the same value.
        #[test]
        fn accepted_bodies_read_exactly_as_serde_reads_them(text in completion_text()) {
            let (direct, serde) = both(&text);
            if direct.is_some() {
                prop_assert_eq!(direct, serde, "{}", text);
            }
        }

        /// The same for bodies damaged at one place.
        #[test]
        fn damaged_bodies_are_never_read_differently(
            text in damaged(completion_text(), &["", ",", "]", "}", "\"", "\\", "\u{1}", "0", "-", ":", "{", "null"]),
        ) {
            let (direct, serde) = both(&text);
            if direct.is_some() {
                prop_assert_eq!(direct, serde, "{}", text);
            }
        }
    }
}
