//! The always-on canary's own side: its figures as Prometheus metrics. `metrics` keeps what the
//! closed intervals of a run that never ends add up to (requests by class, latency histograms,
//! items, the remote-write queue, the targets' memory against their budgets, each objective's
//! state over a rolling window) in bounded memory, and encodes it with the official
//! `prometheus-client`; `serve` answers `GET /metrics`; `state` is the small file that lets a
//! restarted canary find its earlier runs. The seam through which each target asks again for what
//! a run wrote long ago is the engine's (`engine::reread`). The run itself is the ordinary engine
//! (`runner::run_streaming`), so the canary measures exactly what `run` measures.

pub mod metrics;
pub mod serve;
pub mod state;
pub mod window;
