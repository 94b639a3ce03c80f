//! Fake provider servers that speak each real wire format, with scripted latency and faults, for Tollgate's tests, benchmarks and demos.
