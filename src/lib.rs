//! lgtm-bench: open-loop load and latency benchmarks for the Grafana LGTM stack's Mimir (metrics)
//! and Tempo (traces). The binary in `main.rs` is a thin shell around this library, which tests and
//! benches use directly.
//!
//! Two kinds of modules: a core that knows how to plan, run, measure, judge and report any load
//! (`engine`, `client`, `stats`, `watch`, `verdict`, `report`, `capacity`, `check`, `scenario`, `workload`,
//! `units`, `ids`, `grafana`),
//! and one folder per target under `targets/` that knows everything about Mimir, or about Tempo.
//! Targets import the core; the core never imports a target.

pub mod canary;
pub mod capacity;
pub mod check;
pub mod cli;
pub mod client;
pub mod engine;
pub mod grafana;
pub mod ids;
pub mod report;
pub mod scenario;
pub mod stats;
pub mod targets;
pub mod units;
pub(crate) mod verdict;
pub mod watch;
pub mod workload;
