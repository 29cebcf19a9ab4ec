//! Reads from the targets: PromQL query load, read-after-write checks and the preflight that runs
//! before any load is sent.

pub mod preflight;
pub mod promql;
pub mod tempo;
pub mod visibility;
