//! The direct path of [`decode`](super::decode): the common shape of a Chat Completions
//! request, read with [`tollgate_core::json::Reader`] instead of serde's visitors.
//!
//! Most requests are a model, text messages and a few sampling numbers; serde_json
//! spent more instructions on them than the gateway spends on the rest of its own work
//! (see `docs/benchmarks.md`). This path reads that shape and *declines* everything
//! else, which the serde implementation (the reference, and the one that words the
//! 400s) then reads from the start:
//!
//! - top-level fields other than `model`, `messages`, `max_tokens`,
//!   `max_completion_tokens`, `temperature`, `top_p`, `top_k`, `seed`,
//!   `presence_penalty`, `frequency_penalty`, `n`, `stream`, `stream_options`, `user`
//!   and `parallel_tool_calls` (so tools, formats, stop lists, metadata and every field
//!   passed through in `extra` go to serde);
//! - message content as an array of parts, and assistant `tool_calls` other than `null`;
//! - a value of a type the field does not take, a number that is not plain (a sign, an
//!   exponent, more than 15 digits), a message field given twice (serde's derived
//!   structs refuse it; a top-level field given twice is read as serde's visitor reads
//!   it, the last one winning), any malformed text.
//!
//! So for any text it reads, it must build exactly the [`WireRequest`] serde builds; the
//! tests below check that on generated bodies, and that ordinary requests do take this
//! path.

use tollgate_core::json::{Declined, Reader, Result, Seen};

use super::{Content, Role, StreamOptions, WireMessage, WireRequest};

/// Reads a whole request body, or declines.
pub(super) fn request(text: &str) -> Result<WireRequest> {
    let mut reader = Reader::new(text);
    let mut out = WireRequest::default();
    // A field given twice replaces the first, as in serde's visitor for the request.
    reader.object(|reader, key| match key {
        "model" => nullable(string)(reader, &mut out.model),
        "messages" => nullable(messages)(reader, &mut out.messages),
        "max_tokens" => nullable(int)(reader, &mut out.max_tokens),
        "max_completion_tokens" => nullable(int)(reader, &mut out.max_completion_tokens),
        "temperature" => nullable(Reader::decimal)(reader, &mut out.temperature),
        "top_p" => nullable(Reader::decimal)(reader, &mut out.top_p),
        "top_k" => nullable(int)(reader, &mut out.top_k),
        "seed" => nullable(int)(reader, &mut out.seed),
        "presence_penalty" => nullable(Reader::decimal)(reader, &mut out.presence_penalty),
        "frequency_penalty" => nullable(Reader::decimal)(reader, &mut out.frequency_penalty),
        "n" => nullable(int)(reader, &mut out.n),
        "stream" => nullable(Reader::boolean)(reader, &mut out.stream),
        "stream_options" => nullable(stream_options)(reader, &mut out.stream_options),
        "user" => nullable(string)(reader, &mut out.user),
        "parallel_tool_calls" => nullable(Reader::boolean)(reader, &mut out.parallel_tool_calls),
        _ => Err(Declined),
    })?;
    reader.end()?;
    Ok(out)
}

fn messages(reader: &mut Reader<'_>) -> Result<Vec<WireMessage>> {
    let mut out = Vec::new();
    reader.array(|reader| {
        out.push(message(reader)?);
        Ok(())
    })?;
    Ok(out)
}

fn message(reader: &mut Reader<'_>) -> Result<WireMessage> {
    let mut role = None;
    let mut out = WireMessage {
        role: Role::User,
        content: None,
        name: None,
        tool_calls: None,
        tool_call_id: None,
        reasoning_content: None,
        refusal: None,
    };
    let mut seen = Seen::default();
    reader.object(|reader, key| match key {
        "role" => seen.read(0, reader, &mut role, |r, out| {
            *out = Some(self::role(r)?);
            Ok(())
        }),
        "content" => seen.read(1, reader, &mut out.content, nullable(text)),
        "name" => seen.read(2, reader, &mut out.name, nullable(string)),
        // Calls are arrays of objects: serde's.
        "tool_calls" => seen.read(3, reader, &mut (), |r, ()| r.expect_null()),
        "tool_call_id" => seen.read(4, reader, &mut out.tool_call_id, nullable(string)),
        "reasoning_content" => seen.read(5, reader, &mut out.reasoning_content, nullable(string)),
        "refusal" => seen.read(6, reader, &mut out.refusal, nullable(string)),
        // serde ignores fields a message does not know (after checking they are JSON).
        _ => reader.skip(),
    })?;
    // A message without a role is serde's to refuse.
    out.role = role.ok_or(Declined)?;
    Ok(out)
}

fn role(reader: &mut Reader<'_>) -> Result<Role> {
    Ok(match &*reader.string()? {
        "system" => Role::System,
        "developer" => Role::Developer,
        "user" => Role::User,
        "assistant" => Role::Assistant,
        "tool" => Role::Tool,
        "function" => Role::Function,
        _ => return Err(Declined),
    })
}

fn stream_options(reader: &mut Reader<'_>) -> Result<StreamOptions> {
    let mut out = StreamOptions {
        include_usage: None,
    };
    let mut seen = Seen::default();
    reader.object(|reader, key| match key {
        "include_usage" => {
            let boolean = nullable(Reader::boolean);
            seen.read(0, reader, &mut out.include_usage, boolean)
        }
        _ => reader.skip(),
    })?;
    Ok(out)
}

/// Message content as a string; parts are serde's.
fn text(reader: &mut Reader<'_>) -> Result<Content> {
    string(reader).map(Content::Text)
}

fn string(reader: &mut Reader<'_>) -> Result<String> {
    reader.string().map(|text| text.into_owned())
}

/// A plain non-negative integer that fits `T`.
fn int<T: TryFrom<u64>>(reader: &mut Reader<'_>) -> Result<T> {
    T::try_from(reader.count()?).map_err(|_| Declined)
}

/// An optional field as serde reads it: `null` is `None`, else `read` reads the value.
fn nullable<'a, T>(
    read: impl FnOnce(&mut Reader<'a>) -> Result<T>,
) -> impl FnOnce(&mut Reader<'a>, &mut Option<T>) -> Result<()> {
    move |reader, out| {
        *out = if reader.null()? {
            None
        } else {
            Some(read(reader)?)
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use tollgate_testkit::json_text::{damaged, field, lit};

    use super::*;

    /// The direct reader's request and serde's for `text`.
    fn both(text: &str) -> (Option<WireRequest>, Option<WireRequest>) {
        let direct = request(text).ok();
        let serde = serde_json::from_str::<WireRequest>(text).ok();
        (direct, serde)
    }

    #[test]
    fn ordinary_requests_take_the_direct_path_and_read_as_serde_reads_them() {
        for body in [
            // The benchmark's request.
            r#"{"max_tokens":64,"messages":[{"content":"You are a terse assistant.","role":"system"},{"content":"What does a lighthouse keeper's log record?","role":"user"}],"model":"fast","stream":false}"#,
            // What the OpenAI SDKs send for a streamed chat with sampling settings.
            r#"{
                "messages": [
                    {"role": "developer", "content": "Answer in French."},
                    {"role": "user", "content": "Quel temps fait-il ? \"Soleil\" \\ \u00e9t\u00e9 \n", "name": "ana"},
                    {"role": "assistant", "content": null, "tool_calls": null, "refusal": null},
                    {"role": "assistant", "content": "Il pleut.", "reasoning_content": "Short."},
                    {"role": "tool", "tool_call_id": "call_1", "content": "{\"ok\":true}"}
                ],
                "model": "gpt-4o-mini",
                "max_completion_tokens": 300,
                "temperature": 0.7,
                "top_p": 1,
                "top_k": 40,
                "n": 1,
                "seed": 42,
                "presence_penalty": 0,
                "frequency_penalty": 0.25,
                "parallel_tool_calls": true,
                "stream": true,
                "stream_options": {"include_usage": true},
                "user": "user-1234"
            }"#,
            r#"{"model":"m","messages":[{"role":"user","content":"hi","extra_field":[1,{"a":null}]}],"stream":null,"temperature":null,"stream_options":null}"#,
        ] {
            let (direct, serde) = both(body);
            assert!(direct.is_some(), "declined: {body}");
            assert_eq!(direct, serde, "{body}");
        }
    }

    #[test]
    fn other_shapes_are_left_to_serde() {
        for body in [
            r#"{"model":"m","messages":[],"tools":[]}"#,
            r#"{"model":"m","messages":[],"logit_bias":{"1":2}}"#,
            r#"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"}]}]}"#,
            r#"{"model":"m","messages":[{"role":"assistant","tool_calls":[]}]}"#,
            r#"{"model":"m","messages":[{"content":"no role"}]}"#,
            r#"{"model":"m","messages":[{"role":"robot"}]}"#,
            r#"{"model":"m","messages":[{"role":"user","role":"user"}]}"#,
            r#"{"model":"m","temperature":-0.5}"#,
            r#"{"model":"m","temperature":1e-3}"#,
            r#"{"model":"m","max_tokens":4294967296}"#,
            r#"{"model":"m","max_tokens":64.0}"#,
            r#"{"model":"m","stream":"yes"}"#,
            r#"{"model":"m"} x"#,
            r#"[{"model":"m"}]"#,
        ] {
            assert_eq!(request(body).err(), Some(Declined), "{body}");
        }
    }

    /// A string field's value: mostly strings (escapes and non-ASCII included), at times
    /// `null` or something odd.
    fn text_value() -> BoxedStrategy<String> {
        prop_oneof![
            12 => any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap()),
            2 => lit(&["null", "\"\"", r#""tab\tand \"quote\" \u00e9""#]),
            1 => lit(&["7", "true", "[\"a\"]", "{}", r#""\ud83d\ude00""#]),
        ]
        .boxed()
    }

    /// An integer field's value: mostly plain integers, at times out of range or odd.
    fn int_value() -> BoxedStrategy<String> {
        prop_oneof![
            12 => any::<u32>().prop_map(|n| n.to_string()),
            2 => lit(&["null", "0", "4294967296", "9223372036854775807", "9223372036854775808"]),
            1 => lit(&["-3", "2.0", "1e2", "\"7\"", "true", "12345678901234567890", "{}", "01"]),
        ]
        .boxed()
    }

    /// A float field's value: mostly plain decimals, at times what serde reads another
    /// way or refuses.
    fn float_value() -> BoxedStrategy<String> {
        prop_oneof![
            8 => (0u64..10_000_000_000, 0..12usize).prop_map(|(digits, fraction)| {
                let digits = format!("{digits:0>width$}", width = fraction + 1);
                let (whole, part) = digits.split_at(digits.len() - fraction);
                if part.is_empty() { whole.to_owned() } else { format!("{whole}.{part}") }
            }),
            1 => any::<f64>().prop_map(|f| serde_json::to_string(&f).unwrap()),
            2 => lit(&["null", "0", "1", "0.7", "2", "1.0"]),
            1 => lit(&["-0.5", "-0", "1e2", "1.5E-3", "01.5", "\"0.7\"", "true", "3.14159265358979323846", "1234567890123456"]),
        ]
        .boxed()
    }

    fn bool_value() -> BoxedStrategy<String> {
        prop_oneof![8 => lit(&["true", "false", "null"]), 1 => lit(&["1", "\"true\"", "{}"])]
            .boxed()
    }

    /// An object of `first` and up to three fields drawn from `others` (weighted; repeats
    /// and any order included).
    fn object(
        first: BoxedStrategy<String>,
        others: Vec<(u32, BoxedStrategy<String>)>,
        most: usize,
    ) -> BoxedStrategy<String> {
        let others = prop::collection::vec(prop::strategy::Union::new_weighted(others), 0..most);
        (first, others, any::<prop::sample::Index>())
            .prop_map(|(first, mut fields, at)| {
                fields.insert(at.index(fields.len() + 1), first);
                format!("{{{}}}", fields.join(","))
            })
            .boxed()
    }

    fn message_text() -> BoxedStrategy<String> {
        let role = prop_oneof![
            8 => lit(&[r#""system""#, r#""developer""#, r#""user""#, r#""assistant""#, r#""tool""#]),
            1 => lit(&[r#""function""#, r#""robot""#, r#""us\u0065r""#, "null", "1"]),
        ]
        .boxed();
        let content = prop_oneof![
            8 => text_value(),
            1 => lit(&[r#"[{"type":"text","text":"a"}]"#, "[]"]),
        ]
        .boxed();
        object(
            field("role", role.clone()),
            vec![
                (8, field("content", content)),
                (2, field("name", text_value())),
                (
                    2,
                    field(
                        "tool_calls",
                        lit(&[
                            "null",
                            "null",
                            "[]",
                            r#"[{"id":"c","function":{"name":"f"}}]"#,
                        ]),
                    ),
                ),
                (2, field("tool_call_id", text_value())),
                (2, field("reasoning_content", text_value())),
                (2, field("refusal", text_value())),
                (1, field("audio", lit(&["null", r#"{"id":"a"}"#, "[1,2]"]))),
                (1, field("role", role)),
            ],
            4,
        )
    }

    fn request_text() -> BoxedStrategy<String> {
        let messages = prop_oneof![
            12 => prop::collection::vec(message_text(), 1..4)
                .prop_map(|items| format!("[{}]", items.join(","))),
            1 => lit(&["null", "[]", "{}", "\"x\""]),
        ]
        .boxed();
        let stream_options = prop_oneof![
            4 => object(
                field("include_usage", bool_value()),
                vec![(1, field("include_usage", bool_value())), (1, field("other", lit(&["1", "null"])))],
                2,
            ),
            1 => lit(&["null", "[]", "{}", "true"]),
        ]
        .boxed();
        object(
            field("messages", messages.clone()),
            vec![
                (6, field("model", text_value())),
                (3, field("max_tokens", int_value())),
                (2, field("max_completion_tokens", int_value())),
                (3, field("temperature", float_value())),
                (2, field("top_p", float_value())),
                (1, field("top_k", int_value())),
                (1, field("seed", int_value())),
                (1, field("presence_penalty", float_value())),
                (1, field("frequency_penalty", float_value())),
                (1, field("n", int_value())),
                (3, field("stream", bool_value())),
                (2, field("stream_options", stream_options)),
                (1, field("user", text_value())),
                (1, field("parallel_tool_calls", bool_value())),
                (1, field("messages", messages)),
                (1, field("stop", lit(&["null", "\"END\"", "[\"a\"]"]))),
                (1, field("logit_bias", lit(&["{}", r#"{"1":-100}"#]))),
            ],
            6,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        /// What the direct reader accepts, serde accepts too, with the same request.
        #[test]
        fn accepted_requests_read_exactly_as_serde_reads_them(text in request_text()) {
            let (direct, serde) = both(&text);
            if direct.is_some() {
                prop_assert_eq!(direct, serde, "{}", text);
            }
        }

        /// The same for requests damaged at one place.
        #[test]
        fn damaged_requests_are_never_read_differently(
            text in damaged(request_text(), &["", ",", "]", "}", "\"", "\\", "\u{1}", "0", "-", ".", ":", "{", "null"]),
        ) {
            let (direct, serde) = both(&text);
            if direct.is_some() {
                prop_assert_eq!(direct, serde, "{}", text);
            }
        }
    }
}
