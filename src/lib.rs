//! lgtm-bench: open-loop load and latency benchmarks for the Grafana LGTM stack's Mimir (metrics)
//! and Tempo (traces). The binary in `main.rs` is a thin shell around this library, which tests and
//! benches use directly.

pub mod check;
pub mod cli;
pub mod exec;
pub mod generator;
pub mod probe;
pub mod report;
pub mod scenario;
pub mod stats;
pub mod target;
pub mod units;
pub mod watch;
pub mod workload;
