//! The engine knows how to plan, run and measure any load, and names no target. Targets hand it a
//! `TargetPlan` (`target.rs`); the resolved plan (`plan.rs`) holds them with the run's timing and
//! objectives. Planned tickets (`schedule.rs`), workers that call workloads (`worker.rs`), query
//! loads (`queries.rs`), read-after-write checkers (`readback.rs`), the long-horizon re-read seam a
//! target rebuilds old writes through (`reread.rs`), the collector that merges
//! measurements and prints progress (`collector.rs`), and the runner that orders
//! preflight → load → drain → report (`runner.rs`).

pub(crate) mod collector;
pub(crate) mod launch;
pub mod plan;
pub(crate) mod preflight;
pub(crate) mod queries;
pub(crate) mod readback;
pub mod reread;
pub mod runner;
pub mod schedule;
pub mod sink;
pub mod target;
pub mod worker;
