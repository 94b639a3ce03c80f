//! Chat Completions wire types: the request body, the response and stream chunk, the
//! error body.
//!
//! The request types borrow from the [`ChatRequest`](tollgate_core::ChatRequest) they
//! encode. The response types borrow from the body they are read from and are lenient
//! the way real servers need: unknown fields are ignored, unknown enum values are kept as
//! strings, optional fields may be missing or `null`, a field of an unexpected type is
//! read as absent where that is harmless (a non-string `reasoning`), token counts may be
//! floats or strings, tool-call arguments may be a JSON object instead of a string, and
//! `content` may be an array of parts. One response type serves both the complete answer
//! (`choices[].message`) and the stream chunk (`choices[].delta`).
//!
//! Arrays that nearly always hold one element (`choices`, `delta.tool_calls`) are read
//! into [`Inline`], which keeps the first element inline, so decoding a stream chunk
//! allocates nothing but the strings it hands on.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

mod read;
mod write;

// ---------------------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------------------

/// The body of `POST /chat/completions`.
#[derive(Debug, Serialize)]
pub struct ChatCompletionRequest<'a> {
    /// The model.
    pub model: &'a str,
    /// The conversation.
    pub messages: Vec<RequestMessage<'a>>,
    /// Tools the model may call.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<RequestTool<'a>>,
    /// Whether and which tool the model must call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<RequestToolChoice<'a>>,
    /// Whether several tool calls may come in one turn.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// The shape of the answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<RequestResponseFormat<'a>>,
    /// Sampling temperature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling mass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Top-k (only for servers whose quirks accept it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    /// Output limit, OpenAI spelling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,
    /// Output limit, legacy spelling most compatible servers use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Stop sequences.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub stop: &'a [String],
    /// Sampling seed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Sampling seed, Mistral spelling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub random_seed: Option<i64>,
    /// Presence penalty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    /// Frequency penalty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    /// Reasoning effort.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<&'static str>,
    /// Whether to stream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Streaming options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
}

/// `stream_options`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct StreamOptions {
    /// Ask for a final usage chunk.
    pub include_usage: bool,
}

/// One message of the request.
#[derive(Debug, Serialize)]
#[serde(tag = "role", rename_all = "lowercase")]
pub enum RequestMessage<'a> {
    /// System instructions.
    System {
        /// The text.
        content: &'a str,
    },
    /// A user turn.
    User {
        /// A string for one text part, otherwise an array of parts.
        content: UserContent<'a>,
    },
    /// An assistant turn.
    Assistant {
        /// The text; `null` when the turn holds only tool calls.
        content: Option<Cow<'a, str>>,
        /// The tool calls.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<RequestToolCall<'a>>,
    },
    /// A tool result.
    Tool {
        /// The call it answers.
        tool_call_id: Cow<'a, str>,
        /// The result.
        content: &'a str,
    },
}

/// A user turn's content.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum UserContent<'a> {
    /// One text part, sent as a plain string (understood by every compatible server).
    Text(&'a str),
    /// Several parts, or any image.
    Parts(Vec<UserContentPart<'a>>),
}

/// One part of a user turn.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum UserContentPart<'a> {
    /// Text.
    Text {
        /// The text.
        text: &'a str,
    },
    /// An image by URL or `data:` URL.
    ImageUrl {
        /// The image.
        image_url: ImageUrl<'a>,
    },
}

/// `image_url` of an image part.
#[derive(Debug, Serialize)]
pub struct ImageUrl<'a> {
    /// An http(s) URL or a `data:<media type>;base64,…` URL.
    pub url: Cow<'a, str>,
    /// `auto`, `low` or `high`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<&'a str>,
}

/// A tool call in an assistant turn of the request.
#[derive(Debug, Serialize)]
pub struct RequestToolCall<'a> {
    /// The call id (rewritten to the server's id rule).
    pub id: Cow<'a, str>,
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The function called.
    pub function: RequestFunctionCall<'a>,
}

/// `function` of a request tool call.
#[derive(Debug, Serialize)]
pub struct RequestFunctionCall<'a> {
    /// The tool's name.
    pub name: &'a str,
    /// The arguments as JSON text.
    pub arguments: &'a str,
}

/// A tool definition.
#[derive(Debug, Serialize)]
pub struct RequestTool<'a> {
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The function.
    pub function: RequestFunction<'a>,
}

/// `function` of a tool definition.
#[derive(Debug, Serialize)]
pub struct RequestFunction<'a> {
    /// The name.
    pub name: &'a str,
    /// What it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
    /// JSON Schema of the arguments.
    pub parameters: &'a Value,
    /// Structured-output enforcement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

/// `tool_choice`.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum RequestToolChoice<'a> {
    /// `auto`, `none` or `required`.
    Mode(&'static str),
    /// `{"type":"function","function":{"name":…}}`.
    Named {
        /// Always `function`.
        #[serde(rename = "type")]
        kind: &'static str,
        /// The function.
        function: NamedFunction<'a>,
    },
}

/// The function of a named tool choice.
#[derive(Debug, Serialize)]
pub struct NamedFunction<'a> {
    /// Its name.
    pub name: &'a str,
}

/// `response_format`.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RequestResponseFormat<'a> {
    /// Free text.
    Text,
    /// Any JSON object.
    JsonObject,
    /// JSON valid against a schema.
    JsonSchema {
        /// The schema and its name.
        json_schema: JsonSchema<'a>,
    },
}

/// `response_format.json_schema`.
#[derive(Debug, Serialize)]
pub struct JsonSchema<'a> {
    /// The schema's name.
    pub name: &'a str,
    /// What it is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
    /// The schema.
    pub schema: &'a Value,
    /// Exact enforcement.
    pub strict: bool,
}

// ---------------------------------------------------------------------------------------
// Response and stream chunk
// ---------------------------------------------------------------------------------------

/// A complete response (`chat.completion`) or one stream chunk (`chat.completion.chunk`).
#[derive(Debug, Default, Deserialize)]
pub struct Completion<'a> {
    /// The response id (the same on every chunk).
    #[serde(default, borrow)]
    pub id: LenientStr<'a>,
    /// The model as the server reports it.
    #[serde(default, borrow)]
    pub model: LenientStr<'a>,
    /// The choices; only the first (index 0) is read.
    #[serde(default, borrow)]
    pub choices: Inline<Choice<'a>>,
    /// Token usage (a complete response; the last chunk of a stream).
    #[serde(default)]
    pub usage: Option<WireUsage>,
    /// Groq's extension; carries streaming usage on the finish chunk.
    #[serde(default)]
    pub x_groq: Option<XGroq>,
    /// An error reported in a 200 body or mid-stream.
    #[serde(default)]
    pub error: Option<Value>,
}

impl<'a> Completion<'a> {
    /// Reads a completion or a stream chunk from its JSON text, borrowing its strings.
    ///
    /// The common shapes are read directly from the text (see
    /// [`tollgate_core::json`]), several times faster than through serde; anything else
    /// — unusual field types, `content` as parts, an `error`, malformed JSON — is read by
    /// this type's [`Deserialize`] implementation, which is the reference: both give the
    /// same value for every text the direct reader accepts.
    ///
    /// ```
    /// use tollgate_openai::wire::Completion;
    ///
    /// let chunk = Completion::from_json(
    ///     r#"{"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"}}]}"#,
    /// )?;
    /// assert_eq!(chunk.id.get(), Some("c1"));
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// serde_json's error when the text is not a readable completion.
    pub fn from_json(text: &'a str) -> serde_json::Result<Self> {
        match read::completion(text) {
            Ok(completion) => Ok(completion),
            Err(_) => serde_json::from_str(text),
        }
    }

    /// The first choice (index 0, or the first without an index).
    pub fn first_choice(&self) -> Option<&Choice<'a>> {
        self.choices
            .iter()
            .find(|c| c.index.unwrap_or(0) == 0)
            .or_else(|| self.choices.iter().next())
    }

    /// Takes the first choice out.
    pub fn take_first_choice(&mut self) -> Option<Choice<'a>> {
        let position = self
            .choices
            .iter()
            .position(|c| c.index.unwrap_or(0) == 0)
            .unwrap_or(0);
        self.choices.take(position)
    }

    /// The usage, from `usage` or Groq's `x_groq.usage`.
    pub fn usage(&self) -> Option<&WireUsage> {
        self.usage
            .as_ref()
            .or_else(|| self.x_groq.as_ref()?.usage.as_ref())
    }

    /// The error object, if the body carries a real one (not `null`, `{}` or `""`).
    pub fn error(&self) -> Option<&Value> {
        match self.error.as_ref()? {
            Value::Null => None,
            Value::String(s) if s.is_empty() => None,
            Value::Object(map) if map.is_empty() => None,
            other => Some(other),
        }
    }
}

/// Groq's `x_groq` extension.
#[derive(Debug, Default, Deserialize)]
pub struct XGroq {
    /// Usage (streaming finish chunk).
    #[serde(default)]
    pub usage: Option<WireUsage>,
}

/// One choice.
#[derive(Debug, Default, Deserialize)]
pub struct Choice<'a> {
    /// Its index (only 0 is read).
    #[serde(default, deserialize_with = "lenient_u32")]
    pub index: Option<u32>,
    /// The message of a complete response.
    #[serde(default, borrow)]
    pub message: Option<WireMessage<'a>>,
    /// The delta of a stream chunk.
    #[serde(default, borrow)]
    pub delta: Option<WireMessage<'a>>,
    /// Why the model stopped, as sent.
    #[serde(default, borrow)]
    pub finish_reason: LenientStr<'a>,
}

/// A message (complete response) or a delta (stream chunk).
#[derive(Debug, Default, Deserialize)]
pub struct WireMessage<'a> {
    /// Answer text: a string, or an array of parts (Mistral's thinking models).
    #[serde(default, borrow)]
    pub content: Content<'a>,
    /// A refusal (structured outputs).
    #[serde(default, borrow)]
    pub refusal: LenientStr<'a>,
    /// Reasoning text (DeepSeek, vLLM).
    #[serde(default, borrow)]
    pub reasoning_content: LenientStr<'a>,
    /// Reasoning text (Groq, Ollama, OpenRouter, newer vLLM).
    #[serde(default, borrow)]
    pub reasoning: LenientStr<'a>,
    /// Tool calls (whole in a response, fragments by `index` in a stream).
    #[serde(default, borrow)]
    pub tool_calls: Inline<WireToolCall<'a>>,
}

/// A tool call, or a fragment of one in a stream.
#[derive(Debug, Default, Deserialize)]
pub struct WireToolCall<'a> {
    /// The call's position (streams).
    #[serde(default, deserialize_with = "lenient_u32")]
    pub index: Option<u32>,
    /// The call id (first fragment only, in streams).
    #[serde(default, borrow)]
    pub id: LenientStr<'a>,
    /// `function` (others, such as `custom`, are skipped).
    #[serde(default, rename = "type", borrow)]
    pub kind: LenientStr<'a>,
    /// The function called.
    #[serde(default, borrow)]
    pub function: Option<WireFunction<'a>>,
}

/// `function` of a tool call.
#[derive(Debug, Default, Deserialize)]
pub struct WireFunction<'a> {
    /// The tool's name (first fragment only, in streams).
    #[serde(default, borrow)]
    pub name: LenientStr<'a>,
    /// The arguments, or a fragment of them.
    #[serde(default, borrow)]
    pub arguments: JsonText<'a>,
}

/// `usage`, in every dialect seen: OpenAI's details, DeepSeek's cache hits, Groq's
/// timings (ignored).
#[derive(Debug, Default, Clone, Copy, Deserialize)]
pub struct WireUsage {
    /// Input tokens, cached included.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub prompt_tokens: Option<u64>,
    /// Output tokens.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub completion_tokens: Option<u64>,
    /// Input plus output.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub total_tokens: Option<u64>,
    /// Input details.
    #[serde(default)]
    pub prompt_tokens_details: Option<PromptTokensDetails>,
    /// Output details.
    #[serde(default)]
    pub completion_tokens_details: Option<CompletionTokensDetails>,
    /// DeepSeek: input tokens read from its cache.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub prompt_cache_hit_tokens: Option<u64>,
}

/// `usage.prompt_tokens_details`.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
pub struct PromptTokensDetails {
    /// Input tokens read from the prompt cache.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub cached_tokens: Option<u64>,
    /// Input tokens written to the prompt cache (newer, usually absent).
    #[serde(default, deserialize_with = "lenient_u64")]
    pub cache_write_tokens: Option<u64>,
}

/// `usage.completion_tokens_details`.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
pub struct CompletionTokensDetails {
    /// Output tokens spent on reasoning.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub reasoning_tokens: Option<u64>,
}

// ---------------------------------------------------------------------------------------
// Error body
// ---------------------------------------------------------------------------------------

/// The fields of an error body, read from any of the envelopes seen:
/// OpenAI `{"error":{"message","type","param","code"}}` (also Groq, Ollama, newer vLLM,
/// with `code` an integer on vLLM and OpenRouter), flat `{"object":"error","message",
/// "type","code"}` (Mistral, older vLLM), `{"error":"text"}`, and FastAPI's
/// `{"detail": …}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorBody {
    /// The provider's message.
    pub message: Option<String>,
    /// The `type`.
    pub kind: Option<String>,
    /// The `code`, an integer written as text.
    pub code: Option<String>,
    /// The `param`.
    pub param: Option<String>,
}

impl ErrorBody {
    /// Reads an error body from JSON; `None` if it has none of the known shapes.
    pub fn from_value(value: &Value) -> Option<Self> {
        let object = value.as_object()?;
        match object.get("error") {
            Some(Value::Object(inner)) => return Some(Self::from_object(inner)),
            Some(Value::String(message)) => {
                let mut body = Self::from_object(object);
                body.message = Some(message.clone());
                return Some(body);
            }
            _ => {}
        }
        if object.contains_key("message") {
            return Some(Self::from_object(object));
        }
        if let Some(detail) = object.get("detail") {
            return Some(Self {
                message: text_of(detail),
                ..Self::default()
            });
        }
        None
    }

    fn from_object(object: &serde_json::Map<String, Value>) -> Self {
        Self {
            message: object.get("message").and_then(text_of),
            kind: object.get("type").and_then(text_of),
            code: object.get("code").and_then(text_of),
            param: object.get("param").and_then(text_of),
        }
    }
}

/// A JSON value as text: strings as they are, numbers and structures as JSON, `null` and
/// empty strings as nothing.
fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

// ---------------------------------------------------------------------------------------
// Lenient building blocks
// ---------------------------------------------------------------------------------------

/// A string field that tolerates `null`, absence and values of other types (read as
/// absent). Borrowed from the body when it has no escapes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LenientStr<'a>(pub Option<Cow<'a, str>>);

impl<'a> LenientStr<'a> {
    /// The text, if a non-empty string was sent.
    pub fn get(&self) -> Option<&str> {
        self.0.as_deref().filter(|s| !s.is_empty())
    }

    /// The text as an owned string, if a non-empty string was sent.
    pub fn take(&mut self) -> Option<String> {
        self.0.take().filter(|s| !s.is_empty()).map(Cow::into_owned)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for LenientStr<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = LenientStr<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(LenientStr(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(LenientStr(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(LenientStr(Some(Cow::Owned(v))))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(LenientStr(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(LenientStr(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                LenientStr::deserialize(d)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(LenientStr(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(LenientStr(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(LenientStr(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(LenientStr(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(LenientStr(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(LenientStr(None))
            }
        }
        deserializer.deserialize_any(V(PhantomData))
    }
}

/// Tool-call arguments: a JSON string (OpenAI) or, from some servers, the JSON value
/// itself (kept as its JSON text).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct JsonText<'a>(pub Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for JsonText<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = MaybeBorrowed::deserialize(deserializer)?;
        Ok(JsonText(match value {
            MaybeBorrowed::Str(text) => Some(text),
            MaybeBorrowed::Null => None,
            MaybeBorrowed::Other(value) => Some(Cow::Owned(value.to_string())),
        }))
    }
}

/// `content` of a message or delta.
#[derive(Debug, Default, Clone, PartialEq)]
pub enum Content<'a> {
    /// Absent or `null`.
    #[default]
    None,
    /// A string.
    Text(Cow<'a, str>),
    /// An array of parts, reduced to the text and reasoning they carry.
    Parts(Vec<ContentPart>),
}

/// A part of an array `content`, as far as it carries text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentPart {
    /// `{"type":"text","text":…}` (also `output_text`).
    Text(String),
    /// `{"type":"thinking","thinking":…}` (Mistral) or `{"type":"reasoning",…}`.
    Reasoning(String),
}

impl<'de: 'a, 'a> Deserialize<'de> for Content<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match MaybeBorrowed::deserialize(deserializer)? {
            MaybeBorrowed::Str(text) => Content::Text(text),
            MaybeBorrowed::Null => Content::None,
            MaybeBorrowed::Other(Value::Array(items)) => {
                Content::Parts(items.iter().filter_map(content_part).collect())
            }
            MaybeBorrowed::Other(_) => Content::None,
        })
    }
}

fn content_part(item: &Value) -> Option<ContentPart> {
    match item {
        Value::String(text) => Some(ContentPart::Text(text.clone())),
        Value::Object(part) => {
            let kind = part.get("type").and_then(Value::as_str).unwrap_or("text");
            match kind {
                "thinking" | "reasoning" => {
                    let field = part
                        .get("thinking")
                        .or_else(|| part.get("reasoning"))
                        .or_else(|| part.get("text"))?;
                    Some(ContentPart::Reasoning(joined_text(field)))
                }
                _ => {
                    let text = part.get("text")?;
                    Some(ContentPart::Text(joined_text(text)))
                }
            }
        }
        _ => None,
    }
}

/// The text of a string, or of an array of strings / `{"text":…}` parts, joined.
fn joined_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(items) => {
            let mut out = String::new();
            for item in items {
                match item {
                    Value::String(text) => out.push_str(text),
                    Value::Object(part) => {
                        if let Some(text) = part.get("text").and_then(Value::as_str) {
                            out.push_str(text);
                        }
                    }
                    _ => {}
                }
            }
            out
        }
        _ => String::new(),
    }
}

/// A string borrowed where possible, `null`, or any other JSON value.
enum MaybeBorrowed<'a> {
    Str(Cow<'a, str>),
    Null,
    Other(Value),
}

impl<'de: 'a, 'a> Deserialize<'de> for MaybeBorrowed<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = MaybeBorrowed<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(MaybeBorrowed::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(MaybeBorrowed::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(MaybeBorrowed::Str(Cow::Owned(v)))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(MaybeBorrowed::Null)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(MaybeBorrowed::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                MaybeBorrowed::deserialize(d)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(MaybeBorrowed::Other(Value::Bool(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(MaybeBorrowed::Other(Value::from(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(MaybeBorrowed::Other(Value::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(MaybeBorrowed::Other(Value::from(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Value::deserialize(de::value::SeqAccessDeserializer::new(seq))
                    .map(MaybeBorrowed::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                Value::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(MaybeBorrowed::Other)
            }
        }
        deserializer.deserialize_any(V(PhantomData))
    }
}

/// A JSON array kept with its first element inline: one-element arrays (nearly every
/// `choices` and `delta.tool_calls`) cost no allocation. `null` reads as empty.
#[derive(Debug, Clone, PartialEq)]
pub struct Inline<T> {
    first: Option<T>,
    rest: Vec<T>,
}

impl<T> Default for Inline<T> {
    fn default() -> Self {
        Self {
            first: None,
            rest: Vec::new(),
        }
    }
}

impl<T> Inline<T> {
    /// The elements in order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.first.iter().chain(self.rest.iter())
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    /// Takes the element at `position` out (later elements keep their order).
    pub fn take(&mut self, position: usize) -> Option<T> {
        if position == 0 {
            let first = self.first.take();
            if !self.rest.is_empty() {
                self.first = Some(self.rest.remove(0));
            }
            first
        } else if position <= self.rest.len() {
            Some(self.rest.remove(position - 1))
        } else {
            None
        }
    }
}

impl<T> IntoIterator for Inline<T> {
    type Item = T;
    type IntoIter = std::iter::Chain<std::option::IntoIter<T>, std::vec::IntoIter<T>>;

    fn into_iter(self) -> Self::IntoIter {
        self.first.into_iter().chain(self.rest)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Inline<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Inline<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Inline::default())
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Inline::default())
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                Inline::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Inline::default();
                if let Some(first) = seq.next_element()? {
                    out.first = Some(first);
                    while let Some(next) = seq.next_element()? {
                        out.rest.push(next);
                    }
                }
                Ok(out)
            }
        }
        deserializer.deserialize_any(V(PhantomData))
    }
}

/// A token count that tolerates floats, strings, negatives (as 0) and `null`.
fn lenient_u64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a count")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(u64::try_from(v).unwrap_or(0)))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(Some(float_count(v)))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(v.trim().parse::<f64>().ok().map(float_count))
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(V)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    }
    deserializer.deserialize_any(V)
}

/// A float count rounded; negatives and NaN are 0, huge values saturate.
fn float_count(v: f64) -> u64 {
    if v.is_finite() && v > 0.0 {
        v.round() as u64
    } else if v == f64::INFINITY {
        u64::MAX
    } else {
        0
    }
}

/// An index that tolerates the same as [`lenient_u64`].
fn lenient_u32<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    Ok(lenient_u64(deserializer)?.map(|v| u32::try_from(v).unwrap_or(u32::MAX)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_borrow_their_strings_from_the_body() {
        let body = br#"{"id":"c1","model":"m","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}],"usage":null,"obfuscation":"x"}"#;
        let chunk: Completion<'_> = serde_json::from_slice(body).unwrap();
        assert!(matches!(chunk.id.0, Some(Cow::Borrowed("c1"))));
        let choice = chunk.first_choice().unwrap();
        let delta = choice.delta.as_ref().unwrap();
        assert_eq!(delta.content, Content::Text(Cow::Borrowed("hi")));
        assert_eq!(choice.finish_reason.get(), None);
        assert!(chunk.usage.is_none());
    }

    #[test]
    fn odd_but_harmless_shapes_are_tolerated() {
        let body = br#"{
            "choices": null,
            "usage": {"prompt_tokens": 10.0, "completion_tokens": "3", "total_tokens": -1,
                      "prompt_tokens_details": null, "queue_time": 0.01},
            "model": 7
        }"#;
        let parsed: Completion<'_> = serde_json::from_slice(body).unwrap();
        assert!(parsed.choices.is_empty());
        assert_eq!(parsed.model.get(), None);
        let usage = parsed.usage.unwrap();
        assert_eq!(usage.prompt_tokens, Some(10));
        assert_eq!(usage.completion_tokens, Some(3));
        assert_eq!(usage.total_tokens, Some(0));
    }

    #[test]
    fn object_arguments_are_kept_as_json_text() {
        let body = br#"{"choices":[{"message":{"tool_calls":[
            {"id":"a","type":"function","function":{"name":"f","arguments":{"x":1}}},
            {"id":"b","type":"function","function":{"name":"g","arguments":"{\"y\":2}"}}
        ]}}]}"#;
        let parsed: Completion<'_> = serde_json::from_slice(body).unwrap();
        let message = parsed.first_choice().unwrap().message.as_ref().unwrap();
        let calls: Vec<_> = message.tool_calls.iter().collect();
        assert_eq!(message.tool_calls.len(), 2);
        assert_eq!(
            calls[0].function.as_ref().unwrap().arguments.0.as_deref(),
            Some(r#"{"x":1}"#)
        );
        assert_eq!(
            calls[1].function.as_ref().unwrap().arguments.0.as_deref(),
            Some(r#"{"y":2}"#)
        );
    }

    #[test]
    fn array_content_splits_text_and_thinking() {
        let body = br#"{"choices":[{"message":{"content":[
            {"type":"thinking","thinking":[{"type":"text","text":"hmm"}]},
            {"type":"text","text":"answer"}
        ]}}]}"#;
        let parsed: Completion<'_> = serde_json::from_slice(body).unwrap();
        let message = parsed.first_choice().unwrap().message.as_ref().unwrap();
        assert_eq!(
            message.content,
            Content::Parts(vec![
                ContentPart::Reasoning("hmm".into()),
                ContentPart::Text("answer".into())
            ])
        );
    }

    #[test]
    fn the_first_choice_is_index_zero_even_when_listed_later() {
        let body = br#"{"choices":[{"index":1,"delta":{"content":"b"}},{"index":0,"delta":{"content":"a"}}]}"#;
        let mut parsed: Completion<'_> = serde_json::from_slice(body).unwrap();
        let choice = parsed.take_first_choice().unwrap();
        assert_eq!(
            choice.delta.unwrap().content,
            Content::Text(Cow::Borrowed("a"))
        );
    }

    #[test]
    fn error_bodies_of_every_dialect() {
        let openai =
            serde_json::json!({"error": {"message": "m", "type": "t", "param": "p", "code": "c"}});
        assert_eq!(
            ErrorBody::from_value(&openai),
            Some(ErrorBody {
                message: Some("m".into()),
                kind: Some("t".into()),
                code: Some("c".into()),
                param: Some("p".into())
            })
        );
        let mistral =
            serde_json::json!({"object": "error", "message": "m", "type": "t", "code": "3280"});
        assert_eq!(
            ErrorBody::from_value(&mistral).unwrap().code.as_deref(),
            Some("3280")
        );
        let vllm = serde_json::json!({"error": {"message": "m", "code": 400}});
        assert_eq!(
            ErrorBody::from_value(&vllm).unwrap().code.as_deref(),
            Some("400")
        );
        let text = serde_json::json!({"error": "model not found"});
        assert_eq!(
            ErrorBody::from_value(&text).unwrap().message.as_deref(),
            Some("model not found")
        );
        let fastapi = serde_json::json!({"detail": [{"msg": "field required"}]});
        assert!(
            ErrorBody::from_value(&fastapi)
                .unwrap()
                .message
                .unwrap()
                .contains("field required")
        );
        assert_eq!(ErrorBody::from_value(&serde_json::json!({"ok": 1})), None);
    }
}
