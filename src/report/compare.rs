//! Comparing a run with a baseline, for perf-regression jobs. For every load and query path both
//! runs measured: a latency percentile regressed when the runs' per-interval figures differ
//! significantly (Mann-Whitney, 5%) AND the median change is larger than the tolerance (and a small
//! absolute floor), reported with its confidence interval and p-value; with too few intervals the
//! fixed tolerance decides and says so. The error ratio regressed when a test on the counts says it
//! rose; an open-loop path may not fall behind its baseline's achieved rate. A pure function of
//! the two reports.

use super::significance::{judge_shift, proportions, Shift};
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
    /// Compare every path; by default only the load and query paths (`<target>.write`,
    /// `<target>.query…`), not read-back or the memory watcher's own scrapes.
    #[serde(default)]
    pub all_paths: bool,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance { latency: 0.2, latency_floor_us: 1_000, all_paths: false }
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
    /// `regressed`, `improved` or `no significant change`.
    #[serde(default)]
    pub assessment: String,
    /// The test's p-value, when the runs had enough intervals (latency) or calls (errors) to test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    /// The relative change of the per-interval median and its 95% confidence interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<[f64; 3]>,
}

/// Significance level of the tests, and intervals a side needed before latency is tested.
const ALPHA: f64 = 0.05;
const MIN_INTERVALS: usize = 8;

/// The per-interval `stat` (p50 or p99) of `path` over the measured part of a run.
fn interval_samples(r: &Report, path: &str, stat: &str) -> Vec<f64> {
    let Some(iv) = &r.intervals else { return vec![] };
    iv.counts
        .iter()
        .filter(|c| c.start_s >= r.run.warmup_seconds)
        .filter_map(|c| c.paths.get(path))
        .filter_map(|p| if stat == "p50" { p.p50_us } else { p.p99_us })
        .map(|v| v as f64)
        .collect()
}

/// A latency statistic judged on the runs' per-interval samples: significant (Mann-Whitney, 5%,
/// and the 95% interval of the median change above zero) AND larger than the tolerance is a
/// regression; without enough intervals, the fixed tolerance.
fn latency_change(path: &str, stat: &str, (b, c): (u64, u64), samples: (Vec<f64>, Vec<f64>), tol: &Tolerance) -> Change {
    let grew = c.saturating_sub(b);
    let pct = if b > 0 { (c as f64 / b as f64 - 1.0) * 100.0 } else { 0.0 };
    let whole = format!("{} → {}", fmt_micros(b), fmt_micros(c));
    let (sb, sc) = samples;
    let mut change = Change {
        path: path.into(),
        stat: stat.into(),
        baseline: b as f64,
        current: c as f64,
        regressed: false,
        shown: String::new(),
        assessment: String::new(),
        p_value: None,
        change: None,
    };
    if sb.len() >= MIN_INTERVALS && sc.len() >= MIN_INTERVALS {
        let (shift, p, (est, lo, hi)) = judge_shift(&sb, &sc, ALPHA, tol.latency, 1000);
        change.regressed = shift == Shift::Regressed && grew > tol.latency_floor_us;
        change.assessment = match shift {
            _ if change.regressed => "regressed",
            Shift::Regressed => "slower, but by less than the floor",
            Shift::Improved => "improved",
            _ => "no significant change",
        }
        .into();
        change.p_value = Some(p);
        change.change = Some([est, lo, hi]);
        change.shown = format!("{whole}: interval {stat}s {:+.0}% [{:+.0}%, {:+.0}%], p = {p:.3}", est * 100.0, lo * 100.0, hi * 100.0);
    } else {
        change.regressed = grew > tol.latency_floor_us && c as f64 > b as f64 * (1.0 + tol.latency);
        change.assessment = if change.regressed { "regressed" } else { "no significant change" }.into();
        change.shown = format!("{whole} ({pct:+.1}%; too few intervals to test, judged on the tolerance)");
    }
    change
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Comparison {
    pub baseline_run: String,
    pub tolerance: Tolerance,
    pub regressed: bool,
    pub changes: Vec<Change>,
    /// Paths the baseline measured and this run did not: nothing to compare them with.
    pub missing: Vec<String>,
    /// What the reader should know: an interrupted side, another plan or scenario.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// False when the runs do not measure the same thing (another plan: rate, duration, series,
    /// queries; a path missing): then nothing is called a regression, the gate says "not comparable".
    #[serde(default = "comparable_default")]
    pub comparable: bool,
    /// The target itself changed between the runs (its build, what it held, its memory before
    /// the load): a regression may be the target's state rather than the code under test.
    #[serde(default)]
    pub target_changed: bool,
}

fn comparable_default() -> bool {
    true
}

impl Comparison {
    /// Regressed, and comparable at all.
    pub fn failed(&self) -> bool {
        self.comparable && self.regressed
    }
}

/// Why the two runs are not comparable as they stand (another plan or scenario).
fn plan_differences(baseline: &Report, current: &Report) -> Vec<String> {
    let mut out = Vec::new();
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
    let plan = |r: &Report| {
        let mut s = r.scenario.clone();
        s["objectives"] = serde_json::Value::Null; // the bar, not the load
        s["run"]["name"] = serde_json::Value::Null;
        s
    };
    if plan(baseline) != plan(current) {
        out.push("the scenario as resolved differs between the runs (overrides or edits): compare like with like".into());
    }
    out
}

/// Whether the target itself changed between the runs: its build (version, revision), what it held before each run's load
/// (head series, live traces) and its memory then. A whole-tenant query measures more data on a
/// fuller target; that is the target's state, not a regression of the code under test.
fn target_changes(baseline: &Report, current: &Report) -> Vec<String> {
    let mut out = Vec::new();
    for (target, b) in &baseline.targets {
        let Some(c) = current.targets.get(target) else { continue };
        if (&b.version, &b.revision) != (&c.version, &c.revision) {
            out.push(format!("{target} was {} for the baseline and {} for this run: another build of the target", b.shown(), c.shown()));
        }
    }
    for (target, b) in baseline.memory.iter().filter(|(t, _)| *t != "generator") {
        let Some(c) = current.memory.get(target) else { continue };
        for (gauge, before) in &b.gauges_at_start {
            let Some(now) = c.gauges_at_start.get(gauge) else { continue };
            if (now - before).abs() > 0.2 * before.max(1.0) && (now - before).abs() >= 100.0 {
                out.push(format!("{target} held {before:.0} {gauge} before the baseline's load and {now:.0} before this run's: the target's state changed (queries over the whole tenant measure more data)"));
            }
        }
        if let (Some(before), Some(now)) = (b.before_load_bytes, c.before_load_bytes) {
            if now > before * 1.5 || now < before / 1.5 {
                out.push(format!(
                    "{target} used {} before the baseline's load and {} before this run's",
                    crate::units::ByteSize(before as u64),
                    crate::units::ByteSize(now as u64)
                ));
            }
        }
    }
    out
}

/// What a reader should know without it making the runs incomparable.
fn interruptions(baseline: &Report, current: &Report) -> Vec<String> {
    [("the baseline", baseline), ("this run", current)]
        .iter()
        .filter(|(_, r)| r.run.interrupted)
        .map(|(side, r)| {
            format!(
                "{side} ({}) was interrupted after {:.1}s of {:.1}s planned: its figures cover part of the plan",
                r.run.id, r.run.measured_seconds, r.run.planned_measured_seconds
            )
        })
        .collect()
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
            // A group (`mimir.query`) is the merge of its queries, each judged on its own intervals.
            if baseline.is_group(path) {
                continue;
            }
            let samples = (interval_samples(baseline, path, stat), interval_samples(current, path, stat));
            changes.push(latency_change(path, stat, (b, c), samples, &tol));
        }
        if let (Some(b), Some(c)) = (base.error_ratio, cur.error_ratio) {
            // Compared as proportions: a test on the failed and made calls of each run.
            let failed = |ratio: f64, calls: u64| (ratio * calls as f64).round() as u64;
            let p = proportions(failed(b, base.calls), base.calls, failed(c, cur.calls), cur.calls);
            let regressed = p < ALPHA && c > b;
            changes.push(Change {
                path: path.clone(),
                stat: "error_ratio".into(),
                baseline: b,
                current: c,
                regressed,
                shown: format!("{:.3}% → {:.3}% (p = {p:.3})", b * 100.0, c * 100.0),
                assessment: if regressed {
                    "regressed"
                } else if p < ALPHA {
                    "improved"
                } else {
                    "no significant change"
                }
                .into(),
                p_value: Some(p),
                change: None,
            });
        }
        if let (Some(planned), Some(b), Some(c)) = (cur.planned_calls, base.achieved_rate, cur.achieved_rate) {
            if planned > 0 {
                let regressed = c < b * (1.0 - tol.latency);
                changes.push(Change {
                    path: path.clone(),
                    stat: "achieved_rate".into(),
                    baseline: b,
                    current: c,
                    regressed,
                    shown: format!("{b:.1}/s → {c:.1}/s"),
                    assessment: if regressed { "regressed" } else { "no significant change" }.into(),
                    p_value: None,
                    change: None,
                });
            }
        }
    }
    let regressed = changes.iter().any(|c| c.regressed);
    let differences = plan_differences(baseline, current);
    let comparable = differences.is_empty() && missing.is_empty();
    let mut warnings = interruptions(baseline, current);
    let changed = target_changes(baseline, current);
    let target_changed = !changed.is_empty();
    warnings.extend(changed);
    warnings.extend(differences);
    warnings.extend(missing.iter().map(|m| format!("{m} was measured in the baseline and not in this run")));
    Comparison { baseline_run: baseline.run.id.clone(), tolerance: tol, regressed, changes, missing, warnings, comparable, target_changed }
}

/// Several kept runs of one scenario (oldest first) as one baseline: the newest's figures, with
/// every run's measured intervals pooled into one sample, so the gate's tests see the spread
/// between runs as well as within one.
pub fn pooled(mut runs: Vec<Report>) -> Option<Report> {
    let mut newest = runs.pop()?;
    if let Some(iv) = newest.intervals.as_mut() {
        for r in &runs {
            let measured = r.intervals.iter().flat_map(|i| i.counts.iter()).filter(|c| c.start_s >= r.run.warmup_seconds);
            iv.counts.extend(measured.cloned());
        }
    }
    Some(newest)
}

pub fn render(c: &Comparison) -> String {
    let mut out = format!(
        "\ncompared with baseline run {} (latency tolerance {:.0}%; \"no change\" = no significant change at 5%; \"small\" = significant, but the whole-run figure moved less than {}):\n",
        c.baseline_run,
        c.tolerance.latency * 100.0,
        fmt_micros(c.tolerance.latency_floor_us)
    );
    for w in &c.warnings {
        out += &format!("  WARNING: {w}\n");
    }
    for ch in &c.changes {
        let mark = match ch.assessment.as_str() {
            _ if ch.regressed => "REGRESSED",
            "improved" => "improved ",
            "slower, but by less than the floor" => "small    ",
            _ => "no change",
        };
        out += &format!("  {mark} {:<36} {:<13} {}\n", ch.path, ch.stat, ch.shown);
    }
    for m in &c.missing {
        out += &format!("  MISSING   {m:<36} not measured in this run\n");
    }
    out += &format!(
        "baseline: {}\n",
        match (c.comparable, c.regressed) {
            (false, _) => "NOT COMPARABLE (see the warnings): nothing is called a regression",
            (true, true) if c.target_changed => "REGRESSION, but the target's state changed between the runs (see the warnings): compare runs against a target in the same state, e.g. a fresh one per run",
            (true, true) => "REGRESSION",
            (true, false) => "no regression",
        }
    );
    out
}
