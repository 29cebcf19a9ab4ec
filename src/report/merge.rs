//! Merging the results of shards of one run (an Indexed Job): histograms are added, counts summed,
//! rates taken over the longest measured window, and the objectives the shards were judged by
//! checked again on the whole.

use super::json::ReadError;
use super::{path_reports, Measured, MemoryReport, PathReport, Report};
use crate::stats::histogram::HistogramError;
use crate::stats::{OutcomeClass, PathStats};
use crate::verdict::{self, Objective, ObjectiveError};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("nothing to merge")]
    Nothing,
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("path {path}: {source}")]
    Histogram { path: String, source: HistogramError },
    #[error("path {path}: unknown outcome class `{class}`")]
    UnknownClass { path: String, class: String },
    #[error("objective `{text}` of the first file cannot be read back: {source}")]
    Objective { text: String, source: ObjectiveError },
    #[error("{file} is not the results of a shard (it was not run with --shard I/N); merge takes the shards of one run")]
    NotAShard { file: String },
    #[error("{file} is shard {index} of {count}, but {first} is of {first_count}: merge the shards of one run only")]
    OtherCount { file: String, index: u64, count: u64, first: String, first_count: u64 },
    #[error("{file} belongs to shard group `{group}`, but {first} to `{first_group}`: merge the shards of one run only")]
    OtherGroup { file: String, group: String, first: String, first_group: String },
    #[error("{file} ran another scenario than {first} (fingerprint {scenario} vs {first_scenario}): merge the shards of one run only")]
    OtherScenario { file: String, scenario: String, first: String, first_scenario: String },
    #[error("{file} and {other} are both shard {index}: give each shard's results once")]
    Duplicate { file: String, other: String, index: u64 },
    #[error("shard {missing:?} of {count} missing: give the results of every shard (0 to {last})", last = count - 1)]
    Missing { missing: Vec<u64>, count: u64 },
}

/// The files must be the shards of one run: each a shard, the same count, group and scenario,
/// and each index from 0 to count-1 exactly once.
fn check_shards(files: &[(String, Report)]) -> Result<(), MergeError> {
    let mut seen: BTreeMap<u64, &str> = BTreeMap::new();
    let mut first: Option<(&str, &crate::scenario::shard::ShardInfo)> = None;
    for (file, r) in files {
        let Some(shard) = &r.run.shard else { return Err(MergeError::NotAShard { file: file.clone() }) };
        let (first_file, f) = *first.get_or_insert((file, shard));
        if shard.count != f.count {
            return Err(MergeError::OtherCount { file: file.clone(), index: shard.index, count: shard.count, first: first_file.into(), first_count: f.count });
        }
        if shard.group != f.group {
            return Err(MergeError::OtherGroup { file: file.clone(), group: shard.group.clone(), first: first_file.into(), first_group: f.group.clone() });
        }
        if shard.scenario != f.scenario {
            return Err(MergeError::OtherScenario {
                file: file.clone(),
                scenario: shard.scenario.clone(),
                first: first_file.into(),
                first_scenario: f.scenario.clone(),
            });
        }
        if let Some(other) = seen.insert(shard.index, file) {
            return Err(MergeError::Duplicate { file: file.clone(), other: other.into(), index: shard.index });
        }
    }
    let count = first.map_or(0, |(_, f)| f.count);
    let missing: Vec<u64> = (0..count).filter(|i| !seen.contains_key(i)).collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(MergeError::Missing { missing, count })
    }
}

/// Rebuilds the mergeable stats of a path from its report (the histograms are lossless).
pub fn stats_of(name: &str, p: &PathReport) -> Result<PathStats, MergeError> {
    let histogram = |source| MergeError::Histogram { path: name.to_string(), source };
    let mut s = PathStats {
        latency: p.latency.decode().map_err(histogram)?,
        service: p.service_time.decode().map_err(histogram)?,
        lateness: match &p.lateness {
            Some(l) => l.decode().map_err(histogram)?,
            None => crate::stats::histogram::new_latency(),
        },
        counters: p.counters,
        ..PathStats::default()
    };
    for (class, n) in &p.outcomes {
        let c = OutcomeClass::from_name(class).ok_or_else(|| MergeError::UnknownClass { path: name.to_string(), class: class.clone() })?;
        s.outcomes[c.index()] = *n;
    }
    Ok(s)
}

pub fn merge(reports: Vec<Report>) -> Result<Report, MergeError> {
    let first = reports.first().ok_or(MergeError::Nothing)?.clone();
    let measured = reports.iter().map(|r| r.run.measured_seconds).fold(0.0, f64::max);
    let mut stats: BTreeMap<String, PathStats> = BTreeMap::new();
    let mut planned: BTreeMap<String, u64> = BTreeMap::new();
    let mut memory: BTreeMap<String, MemoryReport> = BTreeMap::new();
    for (i, r) in reports.iter().enumerate() {
        for (name, p) in &r.paths {
            stats.entry(name.clone()).or_default().add(&stats_of(name, p)?);
            if let Some(n) = p.planned_calls {
                *planned.entry(name.clone()).or_default() += n;
            }
        }
        for (target, m) in &r.memory {
            let key = if target == "generator" { format!("generator-{i}") } else { target.clone() };
            memory.entry(key).or_insert_with(|| m.clone());
        }
    }
    let objectives = first
        .verdict
        .objectives
        .iter()
        .map(|o| Objective::parse(&o.objective).map_err(|source| MergeError::Objective { text: o.objective.clone(), source }))
        .collect::<Result<Vec<_>, _>>()?;
    let mut merged = first;
    merged.run.id = reports.iter().map(|r| r.run.id.as_str()).collect::<Vec<_>>().join("+");
    merged.run.scenario_name = merged.run.scenario_name.split("-shard-").next().unwrap_or_default().to_string();
    merged.run.measured_seconds = measured;
    merged.run.interrupted = reports.iter().any(|r| r.run.interrupted);
    merged.run.stop_reason = format!("merged from {} shards", reports.len());
    merged.run.shard = None;
    merged.verdict = verdict::evaluate(&objectives, &Measured { paths: &stats, memory: &memory });
    merged.paths = path_reports(&stats, measured, &planned);
    merged.memory = memory;
    merged.baseline = None;
    merged.generator = None;
    merged.intervals = merge_intervals(&reports);
    Ok(merged)
}

pub fn merge_files(files: &[PathBuf]) -> Result<Report, MergeError> {
    let named = files.iter().map(|f| Ok((f.display().to_string(), super::json::read(f)?))).collect::<Result<Vec<_>, MergeError>>()?;
    check_shards(&named)?;
    merge(named.into_iter().map(|(_, r)| r).collect())
}

/// The shards' interval counts added up interval by interval (the shards' intervals align on the
/// plan's clock); the merged run has no interval log of its own: each shard's stays beside it.
fn merge_intervals(reports: &[Report]) -> Option<super::intervals::IntervalsReport> {
    use super::intervals::{IntervalCounts, IntervalsReport};
    let all: Vec<&IntervalsReport> = reports.iter().filter_map(|r| r.intervals.as_ref()).collect();
    let first = all.first()?;
    let mut by_index: BTreeMap<u64, IntervalCounts> = BTreeMap::new();
    for counts in all.iter().flat_map(|i| &i.counts) {
        let merged = by_index.entry(counts.index).or_insert_with(|| IntervalCounts { index: counts.index, start_s: counts.start_s, paths: BTreeMap::new() });
        for (name, p) in &counts.paths {
            let into = merged.paths.entry(name.clone()).or_default();
            into.calls += p.calls;
            for (class, n) in &p.outcomes {
                *into.outcomes.entry(class.clone()).or_default() += n;
            }
            into.counters.add(&p.counters);
        }
    }
    Some(IntervalsReport {
        seconds: first.seconds,
        log: None,
        log_error: Some("merged from shards: each shard's interval log stays beside its own results".into()),
        counts: by_index.into_values().collect(),
    })
}
