//! Grafana dashboards, read and interpolated as Grafana's frontend does, for any target whose
//! datasource a dashboard uses: `dashboard` reads the JSON (panels, rows, variables, each query's
//! datasource kind), `interpolate` applies Grafana's template rules (intervals, built-ins,
//! variables and their formats), `plan` picks the panels a target replays, and `load` is the
//! workload replaying them; each target supplies only its datasource (`targets/<t>/dashboards`).

pub mod api;
pub mod dashboard;
pub mod interpolate;
pub mod load;
pub mod pick;
pub mod plan;
pub mod spec;
