//! OpenTelemetry spans and metrics for LLM calls following the GenAI semantic conventions, with token cost.
