//! The Gemini REST wire format (camelCase JSON), as much of it as Tollgate reads and writes.
//!
//! Reading is lenient: unknown fields are ignored, `null` reads as absent, enum values
//! (finish reasons, block reasons, statuses) are kept as the raw strings the server sent, and
//! parts of kinds Tollgate does not model (`executableCode`, `codeExecutionResult`, …) read as
//! empty parts that the decoder skips.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `POST …:generateContent` / `:streamGenerateContent` body.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateContentRequest {
    /// The conversation, `user` and `model` turns.
    pub contents: Vec<Content>,
    /// The system prompt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_instruction: Option<Content>,
    /// Function declarations.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ToolDeclarations>,
    /// Tool choice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_config: Option<ToolConfig>,
    /// Sampling, output shape and thinking settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generation_config: Option<GenerationConfig>,
}

/// One turn (`user` or `model`), or the system instruction (no role).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Content {
    /// `user` or `model`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The parts, in order.
    #[serde(deserialize_with = "null_as_default")]
    pub parts: Vec<Part>,
}

/// One part of a turn. Exactly one of the data fields is set on a well-formed part.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Part {
    /// Text (answer text, or a thought summary when `thought` is true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Whether `text` is a thought.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thought: Option<bool>,
    /// Opaque signature of the model's thinking, to echo back on the same part.
    #[serde(skip_serializing_if = "Option::is_none", alias = "thought_signature")]
    pub thought_signature: Option<String>,
    /// Inline bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inline_data: Option<Blob>,
    /// Bytes by reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_data: Option<FileData>,
    /// A call the model asks for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_call: Option<FunctionCall>,
    /// The result of a call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_response: Option<FunctionResponse>,
}

impl Part {
    /// A text part.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: Some(text.into()),
            ..Self::default()
        }
    }
}

/// Inline bytes (`inlineData`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Blob {
    /// IANA media type.
    pub mime_type: String,
    /// Base64 bytes.
    pub data: String,
}

/// Bytes by reference (`fileData`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FileData {
    /// IANA media type, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// The URI.
    pub file_uri: String,
}

/// `functionCall`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FunctionCall {
    /// The call's id, when the model gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The function's name.
    pub name: String,
    /// The arguments object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<Value>,
}

/// `functionResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FunctionResponse {
    /// The id of the call this answers, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The function's name (required by the API).
    pub name: String,
    /// The result object.
    pub response: Value,
}

/// `tools[]` entry holding function declarations.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolDeclarations {
    /// The functions.
    pub function_declarations: Vec<FunctionDeclaration>,
}

/// One function the model may call.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionDeclaration {
    /// Its name.
    pub name: String,
    /// What it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The arguments schema (Gemini's OpenAPI subset); absent for functions without
    /// parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
}

/// `toolConfig`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolConfig {
    /// `functionCallingConfig`.
    pub function_calling_config: FunctionCallingConfig,
}

/// `functionCallingConfig`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionCallingConfig {
    /// `AUTO`, `ANY` or `NONE`.
    pub mode: &'static str,
    /// With `ANY`: the functions the model may call.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_function_names: Vec<String>,
}

/// `generationConfig`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerationConfig {
    /// Sampling temperature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Top-k sampling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    /// Output token limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u32>,
    /// Stop sequences.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stop_sequences: Vec<String>,
    /// Sampling seed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Presence penalty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    /// Frequency penalty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    /// `application/json` for JSON output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_mime_type: Option<&'static str>,
    /// A standard JSON Schema the output must follow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_json_schema: Option<Value>,
    /// Thinking settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking_config: Option<ThinkingConfig>,
}

/// `thinkingConfig`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThinkingConfig {
    /// Gemini 2.5: thinking tokens allowed (0 turns thinking off where the model allows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking_budget: Option<u32>,
    /// Gemini 3: `MINIMAL`, `LOW`, `MEDIUM` or `HIGH`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking_level: Option<&'static str>,
    /// Whether thought summaries are returned as `thought: true` parts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_thoughts: Option<bool>,
}

/// `GenerateContentResponse`, also each chunk of a stream. A chunk may instead be an error
/// object (`{"error": {…}}`), read into `error`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GenerateContentResponse {
    /// The answers (Tollgate asks for one).
    #[serde(deserialize_with = "null_as_default")]
    pub candidates: Vec<Candidate>,
    /// Why the prompt was blocked, if it was.
    pub prompt_feedback: Option<PromptFeedback>,
    /// Token counts (running totals in a stream).
    pub usage_metadata: Option<UsageMetadata>,
    /// The model that answered.
    pub model_version: Option<String>,
    /// The response's id.
    pub response_id: Option<String>,
    /// An error delivered in place of a response.
    pub error: Option<Status>,
}

/// One answer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Candidate {
    /// The model turn (absent when the answer was blocked before any output).
    pub content: Option<Content>,
    /// `STOP`, `MAX_TOKENS`, `SAFETY`, … kept raw.
    pub finish_reason: Option<String>,
    /// A human-readable note on the finish.
    pub finish_message: Option<String>,
    /// The candidate's position.
    pub index: Option<u32>,
}

/// `promptFeedback`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PromptFeedback {
    /// `SAFETY`, `OTHER`, `BLOCKLIST`, `PROHIBITED_CONTENT`, `IMAGE_SAFETY`, … kept raw.
    pub block_reason: Option<String>,
    /// A human-readable reason.
    pub block_reason_message: Option<String>,
}

/// `usageMetadata`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UsageMetadata {
    /// Prompt tokens, cached ones included.
    #[serde(deserialize_with = "null_as_default")]
    pub prompt_token_count: u64,
    /// Output tokens, thoughts excluded.
    #[serde(deserialize_with = "null_as_default")]
    pub candidates_token_count: u64,
    /// Prompt tokens served from the cache.
    #[serde(deserialize_with = "null_as_default")]
    pub cached_content_token_count: u64,
    /// Thinking tokens.
    #[serde(deserialize_with = "null_as_default")]
    pub thoughts_token_count: u64,
    /// Tokens of tool-use prompts (built-in tools' results fed back to the model).
    #[serde(deserialize_with = "null_as_default")]
    pub tool_use_prompt_token_count: u64,
    /// The sum of all of the above but the cache count.
    #[serde(deserialize_with = "null_as_default")]
    pub total_token_count: u64,
}

/// `google.rpc.Status`, the error body's `error` object.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Status {
    /// The HTTP status.
    pub code: Option<i64>,
    /// The message.
    #[serde(deserialize_with = "null_as_default")]
    pub message: String,
    /// The canonical code (`INVALID_ARGUMENT`, `RESOURCE_EXHAUSTED`, …).
    pub status: Option<String>,
    /// Typed details (`ErrorInfo`, `RetryInfo`, `QuotaFailure`, …), kept as JSON.
    #[serde(deserialize_with = "null_as_default")]
    pub details: Vec<Value>,
}

/// The body of an error response.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ErrorBody {
    /// The status.
    pub error: Option<Status>,
}

fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_parts_and_enum_values_are_tolerated() {
        let body = r#"{
            "candidates": [{
                "content": {"role": "model", "parts": [
                    {"executableCode": {"language": "PYTHON", "code": "print(1)"}},
                    {"text": "hi", "futureField": 1}
                ]},
                "finishReason": "SOMETHING_NEW",
                "safetyRatings": null
            }],
            "usageMetadata": {"promptTokenCount": 3, "thoughtsTokenCount": null},
            "newTopLevel": {"x": 1}
        }"#;
        let response: GenerateContentResponse = serde_json::from_str(body).unwrap();
        let candidate = &response.candidates[0];
        assert_eq!(candidate.finish_reason.as_deref(), Some("SOMETHING_NEW"));
        let parts = &candidate.content.as_ref().unwrap().parts;
        assert_eq!(parts[0], Part::default());
        assert_eq!(parts[1].text.as_deref(), Some("hi"));
        let usage = response.usage_metadata.unwrap();
        assert_eq!(usage.prompt_token_count, 3);
        assert_eq!(usage.thoughts_token_count, 0);
    }

    #[test]
    fn null_candidates_read_as_none() {
        let response: GenerateContentResponse = serde_json::from_str(
            r#"{"candidates": null, "promptFeedback": {"blockReason": "SAFETY"}}"#,
        )
        .unwrap();
        assert!(response.candidates.is_empty());
        assert_eq!(
            response.prompt_feedback.unwrap().block_reason.as_deref(),
            Some("SAFETY")
        );
    }
}
