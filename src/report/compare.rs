//! Comparing runs with baseline runs, for perf-regression jobs. Each side is a group of runs of one
//! scenario (one run is a group of one). For every load and query path both sides measured: a
//! latency percentile regressed when the candidate runs differ from the baseline runs more than
//! their run-to-run noise (`significance::judge_runs`: p < 5%, interval above zero), by more than
//! the tolerance (and a small absolute floor), and outside the baseline runs' own spread; with
//! fewer than three baseline runs the noise cannot be estimated and the fixed tolerance decides,
//! saying so. The error ratio regressed when a test on the counts says it rose; an open-loop path
//! may not fall behind its baseline's achieved rate. A pure function of the reports.

use super::significance::{holm, judge_runs, median, proportions, shift, RunLevel, Shift, MIN_BASELINE_RUNS};
use super::Report;
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
    /// The test's p-value, when there were enough baseline runs (latency) or calls (errors) to test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    /// Latency: the p-value adjusted for testing every statistic of the comparison at once (Holm);
    /// the one the decision takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_adjusted: Option<f64>,
    /// The relative change (ratio of the runs' geometric means, minus one) and its 95% confidence
    /// interval, when there were enough baseline runs to judge on runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<[f64; 3]>,
    /// The baseline runs' own spread (0.09 = they vary ±9%): a change inside it is never a regression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spread: Option<f64>,
}

/// Significance level of the tests.
const ALPHA: f64 = 0.05;

/// A latency statistic judged on the runs: each run's whole-run figure is one sample. With enough
/// baseline runs, significant (run-level t-test) AND beyond the tolerance AND outside the
/// baseline's run-to-run spread is a regression; otherwise the fixed tolerance, saying why.
/// One latency statistic's figures on both sides, and its run-level judgement when there were
/// enough baseline runs: judged together with the others (`holm`) before it becomes a `Change`.
struct LatencyFigures {
    path: String,
    stat: &'static str,
    baseline: Vec<f64>,
    current: Vec<f64>,
    runs: Option<RunLevel>,
}

/// The latency changes of a comparison: every statistic tested on the runs, the p-values adjusted
/// for testing them all at once (Holm), so that the chance of any false alarm in the comparison
/// stays under 5%, not 5% per statistic.
fn latency_changes(figures: Vec<LatencyFigures>, tol: &Tolerance) -> Vec<Change> {
    let tested: Vec<f64> = figures.iter().filter_map(|f| f.runs.map(|r| r.p)).collect();
    let mut adjusted = holm(&tested).into_iter();
    let family = tested.len();
    figures
        .into_iter()
        .map(|f| {
            let adjusted = f.runs.map(|_| adjusted.next().unwrap_or(1.0));
            latency_change(f, adjusted, family, tol)
        })
        .collect()
}

fn latency_change(f: LatencyFigures, adjusted_p: Option<f64>, family: usize, tol: &Tolerance) -> Change {
    let LatencyFigures { path, stat, baseline: sb, current: sc, runs } = f;
    let (b, c) = (median(&sb), median(&sc));
    let grew = (c - b).max(0.0) as u64;
    let whole = format!("{} → {}", fmt_micros(b as u64), fmt_micros(c as u64));
    let mut change = Change {
        path,
        stat: stat.into(),
        baseline: b,
        current: c,
        regressed: false,
        shown: String::new(),
        assessment: String::new(),
        p_value: None,
        p_adjusted: None,
        change: None,
        spread: None,
    };
    let sides = format!("{} baseline run{} and {} run{}", sb.len(), if sb.len() == 1 { "" } else { "s" }, sc.len(), if sc.len() == 1 { "" } else { "s" });
    match runs.zip(adjusted_p) {
        Some((r, adjusted)) => {
            let moved = shift(&RunLevel { p: adjusted, ..r }, ALPHA, tol.latency);
            change.regressed = moved == Shift::Regressed && grew > tol.latency_floor_us;
            change.assessment = match moved {
                _ if change.regressed => "regressed",
                Shift::Regressed => "slower, but by less than the floor",
                Shift::Improved => "improved",
                Shift::WithinSpread => "within the baseline's run-to-run spread",
                Shift::NoSignificantChange => "no significant change",
            }
            .into();
            change.p_value = Some(r.p);
            change.change = Some([r.change, r.low, r.high]);
            change.spread = Some(r.spread);
            change.p_adjusted = Some(adjusted);
            change.shown = format!(
                "{whole}: {stat} {:+.0}% [{:+.0}%, {:+.0}%], p = {:.3} ({:.3} adjusted for {family} statistics); baseline runs vary ±{:.0}% ({sides})",
                r.change * 100.0,
                r.low * 100.0,
                r.high * 100.0,
                r.p,
                adjusted,
                r.spread * 100.0
            );
        }
        None => {
            let pct = if b > 0.0 { (c / b - 1.0) * 100.0 } else { 0.0 };
            change.regressed = grew > tol.latency_floor_us && c > b * (1.0 + tol.latency);
            change.assessment = if change.regressed { "regressed" } else { "no significant change" }.into();
            change.shown = format!(
                "{whole} ({pct:+.1}%; {sides}: run-to-run noise cannot be estimated from fewer than {MIN_BASELINE_RUNS} baseline runs, judged on the tolerance)"
            );
        }
    }
    change
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Comparison {
    /// The newest baseline run.
    pub baseline_run: String,
    /// Every run on each side (one run is a group of one).
    #[serde(default)]
    pub baseline_runs: Vec<String>,
    #[serde(default)]
    pub current_runs: Vec<String>,
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
fn interruptions(baseline: &[&Report], current: &[&Report]) -> Vec<String> {
    let sides = baseline.iter().map(|r| ("the baseline", *r)).chain(current.iter().map(|r| ("this run", *r)));
    sides
        .filter(|(_, r)| r.run.interrupted)
        .map(|(side, r)| {
            format!(
                "{side} ({}) was interrupted after {:.1}s of {:.1}s planned: its figures cover part of the plan",
                r.run.id, r.run.measured_seconds, r.run.planned_measured_seconds
            )
        })
        .collect()
}

pub fn compare(baseline: &Report, current: &Report, tol: Tolerance) -> Comparison {
    compare_groups(&[baseline], &[current], tol)
}

/// Runs whose generator or machine was saturated: their figures are not the target's alone.
pub fn noisy(r: &Report) -> bool {
    r.generator.as_ref().is_some_and(|g| g.inconclusive())
}

/// Compares a group of candidate runs with a group of baseline runs (each oldest first; a group may
/// hold one run). Plans, targets and paths are checked against the newest run of each side.
pub fn compare_groups(baseline: &[&Report], current: &[&Report], tol: Tolerance) -> Comparison {
    let (Some(newest_base), Some(newest)) = (baseline.last(), current.last()) else {
        return Comparison {
            baseline_run: String::new(),
            baseline_runs: vec![],
            current_runs: vec![],
            tolerance: tol,
            regressed: false,
            changes: vec![],
            missing: vec![],
            warnings: vec!["nothing to compare: a side has no runs".into()],
            comparable: false,
            target_changed: false,
        };
    };
    let mut changes = Vec::new();
    let mut latency = Vec::new();
    let mut missing = Vec::new();
    for (path, base) in newest_base.paths.iter().filter(|(p, _)| tol.all_paths || load_or_query(p)) {
        let Some(cur) = newest.paths.get(path) else {
            missing.push(path.clone());
            continue;
        };
        if base.calls > 0 && cur.calls == 0 {
            missing.push(path.clone());
            continue;
        }
        // A group (`mimir.query`) is the merge of its queries, each judged on its own.
        if !newest_base.is_group(path) {
            for stat in ["p50", "p99"] {
                let figures = |side: &[&Report]| -> Vec<f64> {
                    side.iter()
                        .filter_map(|r| r.paths.get(path))
                        .filter_map(|p| if stat == "p50" { p.latency.p50_us } else { p.latency.p99_us })
                        .map(|v| v as f64)
                        .collect()
                };
                let (sb, sc) = (figures(baseline), figures(current));
                if !sb.is_empty() && !sc.is_empty() {
                    let runs = judge_runs(&sb, &sc);
                    latency.push(LatencyFigures { path: path.clone(), stat, baseline: sb, current: sc, runs });
                }
            }
        }
        // Error ratios as proportions: a test on the failed and made calls of each side's runs.
        let counts = |side: &[&Report]| {
            side.iter()
                .filter_map(|r| r.paths.get(path))
                .fold((0u64, 0u64), |(f, n), p| (f + (p.error_ratio.unwrap_or(0.0) * p.calls as f64).round() as u64, n + p.calls))
        };
        let ((fb, nb), (fc, nc)) = (counts(baseline), counts(current));
        if nb > 0 && nc > 0 {
            let (b, c) = (fb as f64 / nb as f64, fc as f64 / nc as f64);
            let p = proportions(fb, nb, fc, nc);
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
                p_adjusted: None,
                change: None,
                spread: None,
            });
        }
        if let (Some(planned), true) = (cur.planned_calls, base.achieved_rate.is_some()) {
            let rates = |side: &[&Report]| median(&side.iter().filter_map(|r| r.paths.get(path)).filter_map(|p| p.achieved_rate).collect::<Vec<_>>());
            let (b, c) = (rates(baseline), rates(current));
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
                    p_adjusted: None,
                    change: None,
                    spread: None,
                });
            }
        }
    }
    let mut changes: Vec<Change> = latency_changes(latency, &tol).into_iter().chain(changes).collect();
    changes.sort_by(|a, b| (&a.path, &a.stat).cmp(&(&b.path, &b.stat)));
    let regressed = changes.iter().any(|c| c.regressed);
    let differences: Vec<String> =
        current.iter().flat_map(|c| plan_differences(newest_base, c)).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let comparable = differences.is_empty() && missing.is_empty();
    let mut warnings = interruptions(baseline, current);
    for r in baseline.iter().chain(current).filter(|r| noisy(r)) {
        warnings.push(format!("run {} was held back by its generator or its machine (see its results): its figures are not the target's alone", r.run.id));
    }
    let changed = target_changes(newest_base, newest);
    let target_changed = !changed.is_empty();
    warnings.extend(changed);
    warnings.extend(differences);
    warnings.extend(missing.iter().map(|m| format!("{m} was measured in the baseline and not in this run")));
    Comparison {
        baseline_run: newest_base.run.id.clone(),
        baseline_runs: baseline.iter().map(|r| r.run.id.clone()).collect(),
        current_runs: current.iter().map(|r| r.run.id.clone()).collect(),
        tolerance: tol,
        regressed,
        changes,
        missing,
        warnings,
        comparable,
        target_changed,
    }
}

pub fn render(c: &Comparison) -> String {
    let runs = |ids: &[String]| {
        if ids.len() > 1 {
            format!("{} runs ({})", ids.len(), ids.join(", "))
        } else {
            format!("run {}", ids.first().map_or("?", |s| s.as_str()))
        }
    };
    let base_ids = if c.baseline_runs.is_empty() { vec![c.baseline_run.clone()] } else { c.baseline_runs.clone() };
    let mut out = format!(
        "\ncompared with baseline {} (latency tolerance {:.0}%; judged on runs: \"no change\" = no significant change at 5%; \"spread\" = significant, but inside the baseline runs' own spread; \"small\" = the figure moved less than {}):\n",
        runs(&base_ids),
        c.tolerance.latency * 100.0,
        fmt_micros(c.tolerance.latency_floor_us)
    );
    if c.current_runs.len() > 1 {
        out += &format!("  candidate: {}\n", runs(&c.current_runs));
    }
    for w in &c.warnings {
        out += &format!("  WARNING: {w}\n");
    }
    for ch in &c.changes {
        let mark = match ch.assessment.as_str() {
            _ if ch.regressed => "REGRESSED",
            "improved" => "improved ",
            "slower, but by less than the floor" => "small    ",
            "within the baseline's run-to-run spread" => "spread   ",
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
