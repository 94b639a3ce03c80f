//! The metric instruments the layer records, built once per layer from a [`Meter`].

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram, Meter};
use tollgate_core::{Cost, Usage};

use crate::semconv::{SemconvVersion, attr, metric};

/// The instruments of one [`TelemetryLayer`](crate::TelemetryLayer).
#[derive(Clone)]
pub(crate) struct Instruments {
    token_usage: Histogram<u64>,
    duration: Histogram<f64>,
    time_to_first_chunk: Histogram<f64>,
    time_per_output_chunk: Histogram<f64>,
    cost: Counter<f64>,
}

impl Instruments {
    pub(crate) fn new(meter: &Meter, semconv: SemconvVersion) -> Self {
        Self {
            token_usage: meter
                .u64_histogram(metric::TOKEN_USAGE)
                .with_unit("{token}")
                .with_description("Number of input and output tokens used.")
                .with_boundaries(metric::TOKEN_BUCKETS.to_vec())
                .build(),
            duration: meter
                .f64_histogram(semconv.duration_metric())
                .with_unit("s")
                .with_description("GenAI operation duration.")
                .with_boundaries(metric::DURATION_BUCKETS.to_vec())
                .build(),
            time_to_first_chunk: meter
                .f64_histogram(semconv.time_to_first_chunk_metric())
                .with_unit("s")
                .with_description("Time to receive the first chunk of a streaming response.")
                .with_boundaries(metric::DURATION_BUCKETS.to_vec())
                .build(),
            time_per_output_chunk: meter
                .f64_histogram(semconv.time_per_output_chunk_metric())
                .with_unit("s")
                .with_description(
                    "Time between consecutive output chunks of a streaming response, \
                     recorded for each output chunk after the first chunk.",
                )
                .with_boundaries(metric::DURATION_BUCKETS.to_vec())
                .build(),
            cost: meter
                .f64_counter(metric::COST)
                .with_unit("USD")
                .with_description(
                    "What GenAI calls cost, in US dollars, from token usage and the model's price.",
                )
                .build(),
        }
    }

    pub(crate) fn duration(&self, seconds: f64, attributes: &[KeyValue]) {
        self.duration.record(seconds, attributes);
    }

    pub(crate) fn time_to_first_chunk(&self, seconds: f64, attributes: &[KeyValue]) {
        self.time_to_first_chunk.record(seconds, attributes);
    }

    pub(crate) fn time_per_output_chunk(&self, seconds: f64, attributes: &[KeyValue]) {
        self.time_per_output_chunk.record(seconds, attributes);
    }

    /// Records input and output tokens (two points differing in `gen_ai.token.type`).
    pub(crate) fn tokens(&self, usage: &Usage, attributes: &mut Vec<KeyValue>) {
        attributes.push(KeyValue::new(attr::TOKEN_TYPE, "input"));
        self.token_usage.record(usage.input_tokens, attributes);
        attributes.pop();
        attributes.push(KeyValue::new(attr::TOKEN_TYPE, "output"));
        self.token_usage.record(usage.output_tokens, attributes);
        attributes.pop();
    }

    pub(crate) fn cost(&self, cost: &Cost, attributes: &[KeyValue]) {
        self.cost.add(cost.total(), attributes);
    }
}
