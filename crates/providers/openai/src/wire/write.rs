//! The request body written by hand: [`ChatCompletionRequest::write_json`].
//!
//! Every proxied request's body is written once, and through serde_json that cost about
//! 2,400 instructions, most of them escaping object keys byte by byte. The shape is
//! fixed, so keys are literal text here and only the values go through
//! [`tollgate_core::json::write`]; what has no fixed shape (a tool's `parameters`, a
//! response format's `schema`) is still written by serde_json.
//!
//! The [`Serialize`](serde::Serialize) implementation of the request types stays the
//! reference: this writer must produce exactly the bytes `serde_json::to_vec` produces
//! for the same value — the same keys in the same order, the same omissions, the same
//! numbers and escapes. Every struct is taken apart field by field (no `..`), so a field
//! added to a wire type does not compile until it is written here; the tests below check
//! that it is written right, on generated requests of every shape the encoder builds
//! (their generator has to learn to set a new field too).

use tollgate_core::json::write::{boolean, float, int, string, uint};

use super::{
    ChatCompletionRequest, ImageUrl, JsonSchema, NamedFunction, RequestFunction,
    RequestFunctionCall, RequestMessage, RequestResponseFormat, RequestTool, RequestToolCall,
    RequestToolChoice, StreamOptions, UserContent, UserContentPart,
};

impl ChatCompletionRequest<'_> {
    /// Appends the request's JSON text to `out`: byte for byte what
    /// `serde_json::to_writer` writes for it, for a fraction of the instructions. Keys
    /// are literal text and values are written with [`tollgate_core::json::write`]; only
    /// `parameters` and `schema` (arbitrary JSON) go through serde_json. The
    /// [`Serialize`](serde::Serialize) implementation stays the reference: the crate's
    /// tests compare the two on generated requests of every shape.
    ///
    /// ```
    /// use tollgate_core::ChatRequest;
    /// use tollgate_openai::{Quirks, encode};
    ///
    /// let request = ChatRequest::new("gpt-4o-mini").user("Hi").max_tokens(5);
    /// let wire = encode::wire_request(&request, &Quirks::default(), false);
    /// let mut out = Vec::new();
    /// wire.write_json(&mut out)?;
    /// assert_eq!(out, serde_json::to_vec(&wire)?);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// What serde_json fails with writing a `parameters` or `schema` value (nothing, for
    /// a [`serde_json::Value`]); `out` then holds part of the body.
    pub fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        // Taken apart field by field, without `..`: a field added to the struct does not
        // compile until it is written here too.
        let Self {
            model,
            messages,
            tools,
            tool_choice,
            parallel_tool_calls,
            response_format,
            temperature,
            top_p,
            top_k,
            max_completion_tokens,
            max_tokens,
            stop,
            seed,
            random_seed,
            presence_penalty,
            frequency_penalty,
            reasoning_effort,
            stream,
            stream_options,
        } = self;
        out.extend_from_slice(b"{\"model\":");
        string(out, model);
        out.extend_from_slice(b",\"messages\":[");
        for (position, message) in messages.iter().enumerate() {
            if position > 0 {
                out.push(b',');
            }
            write_message(out, message);
        }
        out.push(b']');
        if !tools.is_empty() {
            out.extend_from_slice(b",\"tools\":[");
            for (position, tool) in tools.iter().enumerate() {
                if position > 0 {
                    out.push(b',');
                }
                write_tool(out, tool)?;
            }
            out.push(b']');
        }
        if let Some(choice) = tool_choice {
            out.extend_from_slice(b",\"tool_choice\":");
            match choice {
                RequestToolChoice::Mode(mode) => string(out, mode),
                RequestToolChoice::Named {
                    kind,
                    function: NamedFunction { name },
                } => {
                    out.extend_from_slice(b"{\"type\":");
                    string(out, kind);
                    out.extend_from_slice(b",\"function\":{\"name\":");
                    string(out, name);
                    out.extend_from_slice(b"}}");
                }
            }
        }
        if let Some(parallel) = *parallel_tool_calls {
            out.extend_from_slice(b",\"parallel_tool_calls\":");
            boolean(out, parallel);
        }
        if let Some(format) = response_format {
            out.extend_from_slice(b",\"response_format\":");
            write_response_format(out, format)?;
        }
        if let Some(temperature) = *temperature {
            out.extend_from_slice(b",\"temperature\":");
            float(out, temperature);
        }
        if let Some(top_p) = *top_p {
            out.extend_from_slice(b",\"top_p\":");
            float(out, top_p);
        }
        if let Some(top_k) = *top_k {
            out.extend_from_slice(b",\"top_k\":");
            uint(out, u64::from(top_k));
        }
        if let Some(max) = *max_completion_tokens {
            out.extend_from_slice(b",\"max_completion_tokens\":");
            uint(out, u64::from(max));
        }
        if let Some(max) = *max_tokens {
            out.extend_from_slice(b",\"max_tokens\":");
            uint(out, u64::from(max));
        }
        if !stop.is_empty() {
            out.extend_from_slice(b",\"stop\":[");
            for (position, sequence) in stop.iter().enumerate() {
                if position > 0 {
                    out.push(b',');
                }
                string(out, sequence);
            }
            out.push(b']');
        }
        if let Some(seed) = *seed {
            out.extend_from_slice(b",\"seed\":");
            int(out, seed);
        }
        if let Some(seed) = *random_seed {
            out.extend_from_slice(b",\"random_seed\":");
            int(out, seed);
        }
        if let Some(penalty) = *presence_penalty {
            out.extend_from_slice(b",\"presence_penalty\":");
            float(out, penalty);
        }
        if let Some(penalty) = *frequency_penalty {
            out.extend_from_slice(b",\"frequency_penalty\":");
            float(out, penalty);
        }
        if let Some(effort) = *reasoning_effort {
            out.extend_from_slice(b",\"reasoning_effort\":");
            string(out, effort);
        }
        if let Some(stream) = *stream {
            out.extend_from_slice(b",\"stream\":");
            boolean(out, stream);
        }
        if let Some(StreamOptions { include_usage }) = *stream_options {
            out.extend_from_slice(b",\"stream_options\":{\"include_usage\":");
            boolean(out, include_usage);
            out.push(b'}');
        }
        out.push(b'}');
        Ok(())
    }
}

/// One message: the `role` tag first, as serde writes an internally tagged enum.
fn write_message(out: &mut Vec<u8>, message: &RequestMessage<'_>) {
    match message {
        RequestMessage::System { content } => {
            out.extend_from_slice(b"{\"role\":\"system\",\"content\":");
            string(out, content);
        }
        RequestMessage::User { content } => {
            out.extend_from_slice(b"{\"role\":\"user\",\"content\":");
            match content {
                UserContent::Text(text) => string(out, text),
                UserContent::Parts(parts) => {
                    out.push(b'[');
                    for (position, part) in parts.iter().enumerate() {
                        if position > 0 {
                            out.push(b',');
                        }
                        write_user_part(out, part);
                    }
                    out.push(b']');
                }
            }
        }
        RequestMessage::Assistant {
            content,
            tool_calls,
        } => {
            out.extend_from_slice(b"{\"role\":\"assistant\",\"content\":");
            match content {
                Some(text) => string(out, text),
                None => out.extend_from_slice(b"null"),
            }
            if !tool_calls.is_empty() {
                out.extend_from_slice(b",\"tool_calls\":[");
                for (position, call) in tool_calls.iter().enumerate() {
                    if position > 0 {
                        out.push(b',');
                    }
                    write_tool_call(out, call);
                }
                out.push(b']');
            }
        }
        RequestMessage::Tool {
            tool_call_id,
            content,
        } => {
            out.extend_from_slice(b"{\"role\":\"tool\",\"tool_call_id\":");
            string(out, tool_call_id);
            out.extend_from_slice(b",\"content\":");
            string(out, content);
        }
    }
    out.push(b'}');
}

fn write_user_part(out: &mut Vec<u8>, part: &UserContentPart<'_>) {
    match part {
        UserContentPart::Text { text } => {
            out.extend_from_slice(b"{\"type\":\"text\",\"text\":");
            string(out, text);
        }
        UserContentPart::ImageUrl {
            image_url: ImageUrl { url, detail },
        } => {
            out.extend_from_slice(b"{\"type\":\"image_url\",\"image_url\":{\"url\":");
            string(out, url);
            if let Some(detail) = detail {
                out.extend_from_slice(b",\"detail\":");
                string(out, detail);
            }
            out.push(b'}');
        }
    }
    out.push(b'}');
}

fn write_tool_call(out: &mut Vec<u8>, call: &RequestToolCall<'_>) {
    let RequestToolCall {
        id,
        kind,
        function: RequestFunctionCall { name, arguments },
    } = call;
    out.extend_from_slice(b"{\"id\":");
    string(out, id);
    out.extend_from_slice(b",\"type\":");
    string(out, kind);
    out.extend_from_slice(b",\"function\":{\"name\":");
    string(out, name);
    out.extend_from_slice(b",\"arguments\":");
    string(out, arguments);
    out.extend_from_slice(b"}}");
}

fn write_tool(out: &mut Vec<u8>, tool: &RequestTool<'_>) -> serde_json::Result<()> {
    let RequestTool {
        kind,
        function:
            RequestFunction {
                name,
                description,
                parameters,
                strict,
            },
    } = tool;
    out.extend_from_slice(b"{\"type\":");
    string(out, kind);
    out.extend_from_slice(b",\"function\":{\"name\":");
    string(out, name);
    if let Some(description) = description {
        out.extend_from_slice(b",\"description\":");
        string(out, description);
    }
    out.extend_from_slice(b",\"parameters\":");
    serde_json::to_writer(&mut *out, parameters)?;
    if let Some(strict) = *strict {
        out.extend_from_slice(b",\"strict\":");
        boolean(out, strict);
    }
    out.extend_from_slice(b"}}");
    Ok(())
}

fn write_response_format(
    out: &mut Vec<u8>,
    format: &RequestResponseFormat<'_>,
) -> serde_json::Result<()> {
    match format {
        RequestResponseFormat::Text => out.extend_from_slice(b"{\"type\":\"text\"}"),
        RequestResponseFormat::JsonObject => {
            out.extend_from_slice(b"{\"type\":\"json_object\"}");
        }
        RequestResponseFormat::JsonSchema {
            json_schema:
                JsonSchema {
                    name,
                    description,
                    schema,
                    strict,
                },
        } => {
            out.extend_from_slice(b"{\"type\":\"json_schema\",\"json_schema\":{\"name\":");
            string(out, name);
            if let Some(description) = description {
                out.extend_from_slice(b",\"description\":");
                string(out, description);
            }
            out.extend_from_slice(b",\"schema\":");
            serde_json::to_writer(&mut *out, schema)?;
            out.extend_from_slice(b",\"strict\":");
            boolean(out, *strict);
            out.extend_from_slice(b"}}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};
    use tollgate_core::tool_ids::ToolIdRule;
    use tollgate_core::{
        AssistantMessage, AssistantPart, ChatRequest, Image, ImageSource, Message, ReasoningEffort,
        ResponseFormat, Tool, ToolCall, ToolChoice, ToolMessage, UserMessage, UserPart,
    };

    use crate::encode;
    use crate::presets::{MaxTokensField, Preset, Quirks, SeedField};

    /// The body written by hand and the body serde_json writes for the same request, as
    /// text (so a failure shows where they part).
    fn both(request: &ChatRequest, quirks: &Quirks, stream: bool) -> (String, String) {
        let wire = encode::wire_request(request, quirks, stream);
        let mut ours = Vec::new();
        wire.write_json(&mut ours).unwrap();
        let serde = serde_json::to_vec(&wire).unwrap();
        (
            String::from_utf8(ours).unwrap(),
            String::from_utf8(serde).unwrap(),
        )
    }

    fn lit(values: &'static [&'static str]) -> BoxedStrategy<String> {
        prop::sample::select(values).prop_map(str::to_owned).boxed()
    }

    /// Text of every kind: pieces that need each escape JSON has, multi-byte characters,
    /// runs long enough for the eight-byte scan, and any string at all.
    fn text() -> BoxedStrategy<String> {
        let pieces = prop::sample::select(
            &[
                "a", "Z", "0", " ", "\"", "\\", "/", "\n", "\r", "\t", "\u{0}", "\u{8}", "\u{b}",
                "\u{c}", "\u{1f}", "\u{7f}", "é", "€", "🦀", "{", "}", ":", ",", "abcdefgh",
                "call_", "\u{2028}",
            ][..],
        );
        prop_oneof![
            4 => prop::collection::vec(pieces, 0..24).prop_map(|pieces| pieces.concat()),
            2 => any::<String>(),
            1 => Just(String::new()),
        ]
        .boxed()
    }

    /// A tool-call id: any text, or one some rule accepts as it is.
    fn id() -> BoxedStrategy<String> {
        prop_oneof![
            text(),
            lit(&[
                "call_1",
                "toolu_01Vx4Np7Rk2Wq9Lc5Tb8Hm3J",
                "a1B2c3D4e",
                "x",
                ""
            ]),
        ]
        .boxed()
    }

    /// A sampling number: any `f64` (NaN and infinities included), and the usual ones.
    fn number() -> BoxedStrategy<f64> {
        prop_oneof![
            3 => any::<f64>(),
            3 => prop::sample::select(&[
                0.0, -0.0, 0.3, 0.7, 1.0, 2.0, -0.25, 1e-7, 1e15, 1e16, 1e21, 1.0 / 3.0,
                f64::MAX, f64::MIN_POSITIVE, 5e-324,
            ][..]),
            1 => prop::sample::select(&[f64::NAN, f64::INFINITY, f64::NEG_INFINITY][..]),
        ]
        .boxed()
    }

    /// Any JSON value, as tool parameters and schemas may be.
    fn json_value() -> BoxedStrategy<Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            number().prop_map(Value::from),
            text().prop_map(Value::from),
        ];
        let any_value = leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((text(), inner), 0..4)
                    .prop_map(|fields| Value::Object(fields.into_iter().collect())),
            ]
        });
        prop_oneof![
            Just(
                json!({"type": "object", "properties": {"q": {"type": "string"}},
                        "required": ["q"], "additionalProperties": false})
            ),
            Just(json!({})),
            any_value,
        ]
        .boxed()
    }

    fn detail() -> BoxedStrategy<Option<String>> {
        prop::option::of(prop_oneof![lit(&["auto", "low", "high"]), text()]).boxed()
    }

    fn user_part() -> BoxedStrategy<UserPart> {
        prop_oneof![
            3 => text().prop_map(|text| UserPart::Text { text }),
            1 => (text(), detail()).prop_map(|(url, detail)| UserPart::Image(Image {
                source: ImageSource::Url { url },
                detail,
            })),
            1 => (text(), text(), detail()).prop_map(|(media_type, data, detail)| {
                UserPart::Image(Image {
                    source: ImageSource::Base64 { media_type, data },
                    detail,
                })
            }),
        ]
        .boxed()
    }

    fn assistant_part() -> BoxedStrategy<AssistantPart> {
        prop_oneof![
            3 => text().prop_map(|text| AssistantPart::Text { text }),
            1 => (text(), prop::option::of(text()), prop::option::of(text())).prop_map(
                |(text, signature, signed_by)| AssistantPart::Reasoning {
                    text,
                    signature,
                    signed_by,
                }
            ),
            1 => (text(), prop::option::of(text())).prop_map(|(data, signed_by)| {
                AssistantPart::RedactedReasoning { data, signed_by }
            }),
        ]
        .boxed()
    }

    fn tool_call() -> BoxedStrategy<ToolCall> {
        let arguments = prop_oneof![text(), lit(&["", "  ", "{}", r#"{"q":"Brest"}"#])];
        (id(), text(), arguments)
            .prop_map(|(id, name, arguments)| ToolCall::new(id, name, arguments))
            .boxed()
    }

    /// A message of every role and shape: a user turn of one text part (sent as a
    /// string), of none or several parts or images (an array); an assistant turn with
    /// text, reasoning, both or neither, with and without tool calls.
    fn message() -> BoxedStrategy<Message> {
        prop_oneof![
            text().prop_map(Message::system),
            text().prop_map(Message::user),
            prop::collection::vec(user_part(), 0..4)
                .prop_map(|content| Message::User(UserMessage { content })),
            (
                prop::collection::vec(assistant_part(), 0..4),
                prop::collection::vec(tool_call(), 0..3)
            )
                .prop_map(|(content, tool_calls)| Message::Assistant(
                    AssistantMessage {
                        content,
                        tool_calls
                    }
                )),
            (id(), text(), text(), any::<bool>()).prop_map(
                |(tool_call_id, name, content, is_error)| Message::Tool(ToolMessage {
                    tool_call_id,
                    name,
                    content,
                    is_error,
                })
            ),
        ]
        .boxed()
    }

    fn tool() -> BoxedStrategy<Tool> {
        (
            text(),
            prop::option::of(text()),
            json_value(),
            prop::option::of(any::<bool>()),
        )
            .prop_map(|(name, description, parameters, strict)| {
                let mut tool = Tool::new(name, parameters);
                tool.description = description;
                tool.strict = strict;
                tool
            })
            .boxed()
    }

    fn tool_choice() -> BoxedStrategy<ToolChoice> {
        prop_oneof![
            Just(ToolChoice::Auto),
            Just(ToolChoice::None),
            Just(ToolChoice::Required),
            text().prop_map(|name| ToolChoice::Tool { name }),
        ]
        .boxed()
    }

    fn response_format() -> BoxedStrategy<ResponseFormat> {
        prop_oneof![
            Just(ResponseFormat::Text),
            Just(ResponseFormat::JsonObject),
            (
                text(),
                prop::option::of(text()),
                json_value(),
                any::<bool>()
            )
                .prop_map(|(name, description, schema, strict)| {
                    ResponseFormat::JsonSchema {
                        name,
                        description,
                        schema,
                        strict,
                    }
                }),
        ]
        .boxed()
    }

    fn reasoning_effort() -> BoxedStrategy<ReasoningEffort> {
        prop::sample::select(
            &[
                ReasoningEffort::Minimal,
                ReasoningEffort::Low,
                ReasoningEffort::Medium,
                ReasoningEffort::High,
            ][..],
        )
        .boxed()
    }

    /// Every preset's quirks, and every combination of the quirks that change the body.
    fn quirks() -> BoxedStrategy<Quirks> {
        let rule = prop_oneof![
            Just(ToolIdRule::Any),
            (0usize..70).prop_map(|max_len| ToolIdRule::Charset { max_len }),
            (1usize..12).prop_map(|len| ToolIdRule::ExactAlphanumeric { len }),
        ];
        let combination = (
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            rule,
        )
            .prop_map(|(max_tokens, seed, stream_options, top_k, tool_id_rule)| {
                let mut quirks = Quirks::OPENAI;
                if max_tokens {
                    quirks.max_tokens_field = MaxTokensField::MaxTokens;
                }
                if seed {
                    quirks.seed_field = SeedField::RandomSeed;
                }
                quirks.stream_options = stream_options;
                quirks.top_k = top_k;
                quirks.tool_id_rule = tool_id_rule;
                quirks
            });
        prop_oneof![
            prop::sample::select(&Preset::ALL[..]).prop_map(|preset| preset.info().quirks),
            combination,
        ]
        .boxed()
    }

    /// A request with any of the encoder's inputs set (and tags, which are never sent).
    fn request() -> BoxedStrategy<ChatRequest> {
        let conversation = (
            text(),
            prop::collection::vec(message(), 0..6),
            prop::collection::vec(tool(), 0..3),
            prop::option::of(tool_choice()),
            prop::option::of(any::<bool>()),
            prop::option::of(response_format()),
        );
        let sampling = (
            prop::option::of(number()),
            prop::option::of(number()),
            prop::option::of(any::<u32>()),
            prop::option::of(any::<u32>()),
            prop::collection::vec(text(), 0..3),
            prop::option::of(any::<i64>()),
            prop::option::of(number()),
            prop::option::of(number()),
            prop::option::of(reasoning_effort()),
            prop::collection::vec((text(), text()), 0..2),
        );
        (conversation, sampling)
            .prop_map(|(conversation, sampling)| {
                let (model, messages, tools, tool_choice, parallel_tool_calls, response_format) =
                    conversation;
                let (
                    temperature,
                    top_p,
                    top_k,
                    max_tokens,
                    stop,
                    seed,
                    presence,
                    frequency,
                    effort,
                    tags,
                ) = sampling;
                let mut request = ChatRequest::new(model);
                request.messages = messages;
                request.tools = tools;
                request.tool_choice = tool_choice;
                request.parallel_tool_calls = parallel_tool_calls;
                request.response_format = response_format;
                request.temperature = temperature;
                request.top_p = top_p;
                request.top_k = top_k;
                request.max_tokens = max_tokens;
                request.stop = stop;
                request.seed = seed;
                request.presence_penalty = presence;
                request.frequency_penalty = frequency;
                request.reasoning_effort = effort;
                request.metadata = tags.into_iter().collect();
                request
            })
            .boxed()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        /// The hand-written body is serde_json's, byte for byte, and it is what
        /// `request_bytes` sends.
        #[test]
        fn bodies_are_written_exactly_as_serde_json_writes_them(
            request in request(),
            quirks in quirks(),
            stream in any::<bool>(),
        ) {
            let (ours, serde) = both(&request, &quirks, stream);
            prop_assert_eq!(&ours, &serde);
            let sent = encode::request_bytes(&request, &quirks, stream).unwrap();
            prop_assert_eq!(sent, serde.into_bytes());
        }
    }

    #[test]
    fn an_empty_request_and_non_finite_numbers_are_written_as_serde_json_writes_them() {
        let mut request = ChatRequest::new("");
        let (ours, serde) = both(&request, &Quirks::OPENAI, false);
        assert_eq!(ours, serde);
        assert_eq!(ours, r#"{"model":"","messages":[]}"#);
        request.temperature = Some(f64::NAN);
        request.top_p = Some(f64::INFINITY);
        request.presence_penalty = Some(f64::NEG_INFINITY);
        let (ours, serde) = both(&request, &Quirks::OPENAI, false);
        assert_eq!(ours, serde);
        assert!(
            ours.contains(r#""temperature":null,"top_p":null"#),
            "{ours}"
        );
    }

    #[test]
    fn extra_fields_still_go_through_a_merged_value() {
        let request = ChatRequest::new("m")
            .user("x")
            .extra("service_tier", json!("flex"));
        let sent = encode::request_bytes(&request, &Quirks::OPENAI, true).unwrap();
        let body = encode::request_body(&request, &Quirks::OPENAI, true).unwrap();
        assert_eq!(sent, serde_json::to_vec(&body).unwrap());
    }
}
