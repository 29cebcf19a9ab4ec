//! Merging the results of shards of one run (an Indexed Job): histograms are added, counts summed,
//! rates taken over the longest measured window, and the objectives checked again on the whole.

use super::{path_reports_from, MemoryReport, PathReport, Report};
use crate::check::{self, Objective};
use crate::exec::runner::objectives_of;
use crate::scenario::Scenario;
use crate::stats::{OutcomeClass, PathStats};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Rebuilds the mergeable stats of a path from its report (the histograms are lossless).
pub fn stats_of(p: &PathReport) -> Result<PathStats, String> {
    let mut s = PathStats { latency: p.latency.decode()?, service: p.service_time.decode()?, ..PathStats::default() };
    for (name, n) in &p.outcomes {
        let class = OutcomeClass::from_name(name).ok_or_else(|| format!("unknown outcome class `{name}`"))?;
        s.outcomes[class.index()] = *n;
    }
    s.late_starts = p.late_starts;
    s.skipped = p.skipped;
    s.retries = p.retries;
    s.abandoned = p.abandoned;
    s.items_ok = p.items_ok;
    s.items_failed = p.items_failed;
    s.items_rejected = p.items_rejected;
    Ok(s)
}

pub fn merge(reports: Vec<Report>) -> Result<Report, String> {
    let first = reports.first().ok_or("nothing to merge")?.clone();
    let measured = reports.iter().map(|r| r.run.measured_seconds).fold(0.0, f64::max);
    let mut stats: BTreeMap<String, PathStats> = BTreeMap::new();
    let mut planned: BTreeMap<String, f64> = BTreeMap::new();
    let mut memory: BTreeMap<String, MemoryReport> = BTreeMap::new();
    for (i, r) in reports.iter().enumerate() {
        for (name, p) in &r.paths {
            stats.entry(name.clone()).or_default().add(&stats_of(p)?);
            if let Some(n) = p.planned_calls {
                *planned.entry(name.clone()).or_default() += n;
            }
        }
        for (target, m) in &r.memory {
            let key = if target == "generator" { format!("generator-{i}") } else { target.clone() };
            memory.entry(key).or_insert_with(|| m.clone());
        }
    }
    let scenario: Scenario = serde_json::from_value(first.scenario.clone())
        .map_err(|e| format!("the first file's scenario cannot be read back: {e}"))?;
    let mut merged = first;
    merged.run.id = reports.iter().map(|r| r.run.id.as_str()).collect::<Vec<_>>().join("+");
    merged.run.scenario_name = merged.run.scenario_name.split("-shard-").next().unwrap_or_default().to_string();
    merged.run.measured_seconds = measured;
    merged.run.interrupted = reports.iter().any(|r| r.run.interrupted);
    merged.run.stop_reason = format!("merged from {} shards", reports.len());
    merged.paths = path_reports_from(&stats, measured, &planned);
    merged.memory = memory;
    let objectives: Vec<Objective> = objectives_of(&scenario).iter().filter_map(|o| Objective::parse(o).ok()).collect();
    merged.verdict = check::evaluate(&objectives, &merged);
    merged.baseline = None;
    Ok(merged)
}

pub fn merge_files(files: &[PathBuf]) -> Result<Report, String> {
    let reports = files.iter().map(|f| super::json::read(f)).collect::<Result<Vec<_>, _>>()?;
    merge(reports)
}
