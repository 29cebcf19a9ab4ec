//! Load generators, one folder per protocol: each builds payloads and implements `Workload`.

pub mod otlp_traces;
pub mod remote_write;
