//! Tower layers and services for routing and resilience across LLM deployments: fallback, retries, health, rate limits, latency, cost and tiered routing, hedging.
