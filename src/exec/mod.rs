//! Running a plan: planned tickets, workers that call workloads, the collector that merges their
//! measurements and prints progress, and the runner that orders preflight → load → drain → report.

pub mod collector;
pub mod launch;
pub mod mimir;
pub mod paths;
pub mod runner;
pub mod schedule;
pub mod tempo;
pub mod worker;
