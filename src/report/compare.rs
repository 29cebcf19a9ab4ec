//! Comparing a run with a baseline, for perf-regression jobs: for every path both runs measured,
//! latency percentiles may not grow by more than the tolerance (and by more than a small absolute
//! floor, so microsecond noise is not a regression), the error ratio may not rise by more than
//! `error_ratio_slack`, and an open-loop path may not fall behind its baseline's achieved rate.
//! A pure function of the two reports.

use super::{LatencyReport, Report};
use crate::units::fmt_micros;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Tolerance {
    /// Allowed relative growth of a latency percentile (0.2 = 20%).
    pub latency: f64,
    /// Growth below this many microseconds is never a regression.
    pub latency_floor_us: u64,
    /// Allowed absolute rise of the error ratio (0.001 = 0.1 percentage points).
    pub error_ratio_slack: f64,
    /// Compare every path; by default only the load and query paths (`<target>.write`,
    /// `<target>.query…`), not read-back or the memory watcher's own scrapes.
    #[serde(default)]
    pub all_paths: bool,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance { latency: 0.2, latency_floor_us: 1_000, error_ratio_slack: 0.001, all_paths: false }
    }
}

/// Load and query paths: the second word of the path is `write` or `query`.
fn load_or_query(path: &str) -> bool {
    matches!(path.split('.').nth(1), Some("write" | "query"))
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Change {
    pub path: String,
    pub stat: String,
    pub baseline: f64,
    pub current: f64,
    pub regressed: bool,
    pub shown: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Comparison {
    pub baseline_run: String,
    pub tolerance: Tolerance,
    pub regressed: bool,
    pub changes: Vec<Change>,
    /// Paths the baseline measured and this run did not (a regression: nothing to compare).
    pub missing: Vec<String>,
    /// Why the two runs may not be comparable: an interrupted side, another plan or scenario.
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// What makes two runs not comparable as they stand.
fn warnings(baseline: &Report, current: &Report) -> Vec<String> {
    let mut out = Vec::new();
    for (side, r) in [("the baseline", baseline), ("this run", current)] {
        if r.run.interrupted {
            out.push(format!(
                "{side} ({}) was interrupted after {:.1}s of {:.1}s planned: its figures cover part of the plan",
                r.run.id, r.run.measured_seconds, r.run.planned_measured_seconds
            ));
        }
    }
    if baseline.run.planned_measured_seconds != current.run.planned_measured_seconds {
        out.push(format!(
            "the runs planned different measured times ({:.1}s and {:.1}s)",
            baseline.run.planned_measured_seconds, current.run.planned_measured_seconds
        ));
    }
    for (path, b) in &baseline.paths {
        let Some(c) = current.paths.get(path) else { continue };
        if let (Some(pb), Some(pc)) = (b.planned_calls, c.planned_calls) {
            if pb != pc {
                out.push(format!("{path} planned {pb} calls in the baseline and {pc} in this run: another rate or duration"));
            }
        }
    }
    if baseline.scenario != current.scenario && baseline.run.scenario_name == current.run.scenario_name {
        out.push("the scenario as resolved differs between the runs (overrides or edits): compare like with like".into());
    }
    out
}

fn quantiles(l: &LatencyReport) -> [(&'static str, Option<u64>); 3] {
    [("p50", l.p50_us), ("p99", l.p99_us), ("max", l.max_us)]
}

pub fn compare(baseline: &Report, current: &Report, tol: Tolerance) -> Comparison {
    let mut changes = Vec::new();
    let mut missing = Vec::new();
    for (path, base) in baseline.paths.iter().filter(|(p, _)| tol.all_paths || load_or_query(p)) {
        let Some(cur) = current.paths.get(path) else {
            missing.push(path.clone());
            continue;
        };
        if base.calls > 0 && cur.calls == 0 {
            missing.push(path.clone());
            continue;
        }
        for ((stat, b), (_, c)) in quantiles(&base.latency).into_iter().zip(quantiles(&cur.latency)) {
            let (Some(b), Some(c)) = (b, c) else { continue };
            if stat == "max" {
                continue; // a single sample: reported in the table, too noisy to gate on
            }
            let grew = c.saturating_sub(b);
            let regressed = grew > tol.latency_floor_us && c as f64 > b as f64 * (1.0 + tol.latency);
            let pct = if b > 0 { (c as f64 / b as f64 - 1.0) * 100.0 } else { 0.0 };
            changes.push(Change {
                path: path.clone(),
                stat: stat.into(),
                baseline: b as f64,
                current: c as f64,
                regressed,
                shown: format!("{} → {} ({pct:+.1}%)", fmt_micros(b), fmt_micros(c)),
            });
        }
        if let (Some(b), Some(c)) = (base.error_ratio, cur.error_ratio) {
            changes.push(Change {
                path: path.clone(),
                stat: "error_ratio".into(),
                baseline: b,
                current: c,
                regressed: c > b + tol.error_ratio_slack,
                shown: format!("{:.3}% → {:.3}%", b * 100.0, c * 100.0),
            });
        }
        if let (Some(planned), Some(b), Some(c)) = (cur.planned_calls, base.achieved_rate, cur.achieved_rate) {
            if planned > 0 {
                changes.push(Change {
                    path: path.clone(),
                    stat: "achieved_rate".into(),
                    baseline: b,
                    current: c,
                    regressed: c < b * (1.0 - tol.latency),
                    shown: format!("{b:.1}/s → {c:.1}/s"),
                });
            }
        }
    }
    let regressed = !missing.is_empty() || changes.iter().any(|c| c.regressed);
    Comparison { baseline_run: baseline.run.id.clone(), tolerance: tol, regressed, changes, missing, warnings: warnings(baseline, current) }
}

pub fn render(c: &Comparison) -> String {
    let mut out = format!("\ncompared with baseline run {} (latency tolerance {:.0}%):\n", c.baseline_run, c.tolerance.latency * 100.0);
    for w in &c.warnings {
        out += &format!("  WARNING: {w}\n");
    }
    for ch in &c.changes {
        out += &format!("  {} {:<36} {:<13} {}\n", if ch.regressed { "REGRESSED" } else { "ok       " }, ch.path, ch.stat, ch.shown);
    }
    for m in &c.missing {
        out += &format!("  REGRESSED {m:<36} not measured in this run\n");
    }
    out += &format!("baseline: {}\n", if c.regressed { "REGRESSION" } else { "no regression" });
    out
}
