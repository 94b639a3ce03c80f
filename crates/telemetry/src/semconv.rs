//! Which version of the OpenTelemetry GenAI semantic conventions to follow, and the names,
//! units and bucket boundaries each one defines.
//!
//! The GenAI conventions are still in *Development*: names move between releases. Tollgate
//! pins [`SemconvVersion::V1_41`] and lets operators follow renames with a switch — in code
//! ([`TelemetryLayer::semconv`](crate::TelemetryLayer::semconv)) or with the standard
//! `OTEL_SEMCONV_STABILITY_OPT_IN` variable ([`SemconvVersion::from_env`]).

/// A version of the GenAI semantic conventions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SemconvVersion {
    /// v1.36 and earlier: the provider is `gen_ai.system`. Only for dashboards not yet
    /// migrated; everything else is emitted as in v1.41.
    V1_36,
    /// v1.41.0, the last release of the GenAI conventions inside
    /// `open-telemetry/semantic-conventions` (the default).
    #[default]
    V1_41,
    /// The unreleased `semantic-conventions-genai` main branch
    /// (`OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`):
    /// `gen_ai.usage.cache_write.input_tokens` instead of `…cache_creation.input_tokens`,
    /// and the `gen_ai.client.inference.*` duration, time-to-first-chunk and
    /// time-per-output-chunk metrics instead of `gen_ai.client.operation.*`.
    LatestExperimental,
}

/// The environment variable OpenTelemetry instrumentations read to opt into newer
/// conventions.
pub const STABILITY_OPT_IN_ENV: &str = "OTEL_SEMCONV_STABILITY_OPT_IN";

impl SemconvVersion {
    /// Reads `OTEL_SEMCONV_STABILITY_OPT_IN` (a comma-separated list): `gen_ai_latest_experimental`
    /// selects [`SemconvVersion::LatestExperimental`]; anything else, or no variable, the
    /// pinned [`SemconvVersion::V1_41`].
    pub fn from_env() -> Self {
        Self::from_opt_in(std::env::var(STABILITY_OPT_IN_ENV).ok().as_deref())
    }

    /// Parses a value of `OTEL_SEMCONV_STABILITY_OPT_IN`.
    ///
    /// ```
    /// use tollgate_telemetry::SemconvVersion;
    ///
    /// assert_eq!(SemconvVersion::from_opt_in(Some("http, gen_ai_latest_experimental")),
    ///            SemconvVersion::LatestExperimental);
    /// assert_eq!(SemconvVersion::from_opt_in(Some("http")), SemconvVersion::V1_41);
    /// assert_eq!(SemconvVersion::from_opt_in(None), SemconvVersion::V1_41);
    /// ```
    pub fn from_opt_in(value: Option<&str>) -> Self {
        let latest = value.is_some_and(|v| {
            v.split(',')
                .any(|item| item.trim() == "gen_ai_latest_experimental")
        });
        if latest {
            Self::LatestExperimental
        } else {
            Self::V1_41
        }
    }

    /// The attribute that names the provider.
    pub fn provider_attribute(self) -> &'static str {
        match self {
            Self::V1_36 => attr::SYSTEM,
            Self::V1_41 | Self::LatestExperimental => attr::PROVIDER_NAME,
        }
    }

    /// The attribute that counts input tokens written to the provider's cache.
    pub fn cache_write_attribute(self) -> &'static str {
        match self {
            Self::V1_36 | Self::V1_41 => attr::USAGE_CACHE_CREATION_INPUT_TOKENS,
            Self::LatestExperimental => attr::USAGE_CACHE_WRITE_INPUT_TOKENS,
        }
    }

    /// The name of the operation-duration histogram.
    pub fn duration_metric(self) -> &'static str {
        match self {
            Self::V1_36 | Self::V1_41 => metric::OPERATION_DURATION,
            Self::LatestExperimental => metric::INFERENCE_DURATION,
        }
    }

    /// The name of the time-to-first-chunk histogram.
    pub fn time_to_first_chunk_metric(self) -> &'static str {
        match self {
            Self::V1_36 | Self::V1_41 => metric::OPERATION_TIME_TO_FIRST_CHUNK,
            Self::LatestExperimental => metric::INFERENCE_TIME_TO_FIRST_CHUNK,
        }
    }

    /// The name of the time-per-output-chunk histogram.
    pub fn time_per_output_chunk_metric(self) -> &'static str {
        match self {
            Self::V1_36 | Self::V1_41 => metric::OPERATION_TIME_PER_OUTPUT_CHUNK,
            Self::LatestExperimental => metric::INFERENCE_TIME_PER_OUTPUT_CHUNK,
        }
    }
}

/// Attribute names: the GenAI conventions' and Tollgate's own (`tollgate.*`).
pub mod attr {
    /// The operation (`chat`).
    pub const OPERATION_NAME: &str = "gen_ai.operation.name";
    /// The provider, v1.37 and later.
    pub const PROVIDER_NAME: &str = "gen_ai.provider.name";
    /// The provider, v1.36 and earlier.
    pub const SYSTEM: &str = "gen_ai.system";
    /// The model asked for.
    pub const REQUEST_MODEL: &str = "gen_ai.request.model";
    /// The output token limit.
    pub const REQUEST_MAX_TOKENS: &str = "gen_ai.request.max_tokens";
    /// Sampling temperature.
    pub const REQUEST_TEMPERATURE: &str = "gen_ai.request.temperature";
    /// Nucleus sampling mass.
    pub const REQUEST_TOP_P: &str = "gen_ai.request.top_p";
    /// Top-k sampling.
    pub const REQUEST_TOP_K: &str = "gen_ai.request.top_k";
    /// Seed.
    pub const REQUEST_SEED: &str = "gen_ai.request.seed";
    /// Frequency penalty.
    pub const REQUEST_FREQUENCY_PENALTY: &str = "gen_ai.request.frequency_penalty";
    /// Presence penalty.
    pub const REQUEST_PRESENCE_PENALTY: &str = "gen_ai.request.presence_penalty";
    /// Stop sequences (string array).
    pub const REQUEST_STOP_SEQUENCES: &str = "gen_ai.request.stop_sequences";
    /// Whether the reply was asked for as a stream.
    pub const REQUEST_STREAM: &str = "gen_ai.request.stream";
    /// The requested output type (`text`, `json`).
    pub const OUTPUT_TYPE: &str = "gen_ai.output.type";
    /// The model that answered, as the provider reported it.
    pub const RESPONSE_MODEL: &str = "gen_ai.response.model";
    /// The provider's id of the answer.
    pub const RESPONSE_ID: &str = "gen_ai.response.id";
    /// Why the model stopped (string array, one per choice).
    pub const RESPONSE_FINISH_REASONS: &str = "gen_ai.response.finish_reasons";
    /// Seconds from the call to the first chunk of a stream.
    pub const RESPONSE_TIME_TO_FIRST_CHUNK: &str = "gen_ai.response.time_to_first_chunk";
    /// All input tokens, cached included.
    pub const USAGE_INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
    /// All output tokens, reasoning included.
    pub const USAGE_OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
    /// Input tokens read from the provider's cache.
    pub const USAGE_CACHE_READ_INPUT_TOKENS: &str = "gen_ai.usage.cache_read.input_tokens";
    /// Input tokens written to the provider's cache (v1.40–v1.41 name).
    pub const USAGE_CACHE_CREATION_INPUT_TOKENS: &str = "gen_ai.usage.cache_creation.input_tokens";
    /// Input tokens written to the provider's cache (latest experimental name).
    pub const USAGE_CACHE_WRITE_INPUT_TOKENS: &str = "gen_ai.usage.cache_write.input_tokens";
    /// Output tokens spent on reasoning.
    pub const USAGE_REASONING_OUTPUT_TOKENS: &str = "gen_ai.usage.reasoning.output_tokens";
    /// Total cost in USD, as Langfuse and others read it (compatibility).
    pub const USAGE_COST: &str = "gen_ai.usage.cost";
    /// Input or output, on `gen_ai.client.token.usage`.
    pub const TOKEN_TYPE: &str = "gen_ai.token.type";
    /// The class of error a failed operation ended with.
    pub const ERROR_TYPE: &str = "error.type";
    /// The host the provider client called.
    pub const SERVER_ADDRESS: &str = "server.address";
    /// The port the provider client called.
    pub const SERVER_PORT: &str = "server.port";
    /// Opt-in content: system instructions (JSON).
    pub const SYSTEM_INSTRUCTIONS: &str = "gen_ai.system_instructions";
    /// Opt-in content: the conversation sent (JSON).
    pub const INPUT_MESSAGES: &str = "gen_ai.input.messages";
    /// Opt-in content: the answer (JSON).
    pub const OUTPUT_MESSAGES: &str = "gen_ai.output.messages";
    /// Opt-in content: the tools offered (JSON).
    pub const TOOL_DEFINITIONS: &str = "gen_ai.tool.definitions";

    /// Total cost of the call in USD.
    pub const COST_USD: &str = "tollgate.cost.usd";
    /// Cost of uncached input in USD.
    pub const COST_INPUT_USD: &str = "tollgate.cost.input_usd";
    /// Cost of output (reasoning included) in USD.
    pub const COST_OUTPUT_USD: &str = "tollgate.cost.output_usd";
    /// Cost of input read from cache in USD.
    pub const COST_CACHE_READ_USD: &str = "tollgate.cost.cache_read_usd";
    /// Cost of input written to cache in USD.
    pub const COST_CACHE_WRITE_USD: &str = "tollgate.cost.cache_write_usd";
    /// The route the caller asked for.
    pub const ROUTE: &str = "tollgate.route";
    /// The deployment called (attempt spans) or that answered (request spans).
    pub const DEPLOYMENT: &str = "tollgate.deployment";
    /// 1-based attempt number within the logical request.
    pub const ATTEMPT: &str = "tollgate.attempt";
    /// 0-based position of the deployment in the fallback chain.
    pub const FALLBACK_INDEX: &str = "tollgate.fallback_index";
    /// Whether the attempt was a hedge.
    pub const HEDGE: &str = "tollgate.hedge";
    /// How many attempts the logical request took, the answering one included.
    pub const ATTEMPTS: &str = "tollgate.attempts";
    /// Deployments of the attempts that failed before the answer (string array, in order).
    pub const FAILED_DEPLOYMENTS: &str = "tollgate.failed_attempts.deployments";
    /// `error.type` of each failed attempt (string array, same order).
    pub const FAILED_ERROR_TYPES: &str = "tollgate.failed_attempts.error_types";
    /// The request's `task` metadata tag.
    pub const TASK: &str = "tollgate.task";
    /// Whether a span is a logical request (`request`) or one provider attempt (`attempt`).
    pub const SPAN_ROLE: &str = "tollgate.span";
}

/// Metric names, units and bucket boundaries.
pub mod metric {
    /// Token usage histogram (v1.41).
    pub const TOKEN_USAGE: &str = "gen_ai.client.token.usage";
    /// Operation duration histogram (v1.41).
    pub const OPERATION_DURATION: &str = "gen_ai.client.operation.duration";
    /// Time to first chunk histogram (v1.41).
    pub const OPERATION_TIME_TO_FIRST_CHUNK: &str = "gen_ai.client.operation.time_to_first_chunk";
    /// Time per output chunk histogram (v1.41).
    pub const OPERATION_TIME_PER_OUTPUT_CHUNK: &str =
        "gen_ai.client.operation.time_per_output_chunk";
    /// Inference duration histogram (latest experimental).
    pub const INFERENCE_DURATION: &str = "gen_ai.client.inference.duration";
    /// Time to first chunk histogram (latest experimental).
    pub const INFERENCE_TIME_TO_FIRST_CHUNK: &str = "gen_ai.client.inference.time_to_first_chunk";
    /// Time per output chunk histogram (latest experimental).
    pub const INFERENCE_TIME_PER_OUTPUT_CHUNK: &str =
        "gen_ai.client.inference.time_per_output_chunk";
    /// Tollgate's cost counter, in USD.
    pub const COST: &str = "tollgate.client.cost";

    /// `ExplicitBucketBoundaries` advice for token histograms.
    pub const TOKEN_BUCKETS: [f64; 14] = [
        1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0,
        4194304.0, 16777216.0, 67108864.0,
    ];
    /// `ExplicitBucketBoundaries` advice for duration histograms (seconds).
    pub const DURATION_BUCKETS: [f64; 14] = [
        0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
    ];
}
