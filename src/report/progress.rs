//! The progress line printed every few seconds: elapsed time, and per path the rate achieved since
//! measurement began (calls measured over the measured time so far: workers hand in their counts
//! in batches, so a per-interval count would swing around the plan), errors and p99 so far.

use crate::stats::PathTable;
use crate::stats::{PathId, PathStats, Recorder};
use crate::units::{fmt_micros, ByteSize};
use crate::watch::MemoryBoard;
use std::time::Duration;

/// One entry of the progress line: a path, or a group (`mimir.query`) over its members.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub name: String,
    pub members: Vec<PathId>,
}

/// The progress line's entries: groups instead of their members, and no memory-scrape paths
/// (memory has its own entry).
pub fn rows(table: &PathTable, groups: &[(String, Vec<String>)]) -> Vec<Row> {
    let mut out: Vec<Row> = Vec::new();
    for (id, name) in table.iter() {
        if name.ends_with(".memory.scrape") {
            continue;
        }
        match groups.iter().find(|(_, members)| members.iter().any(|m| m == name)) {
            Some((group, _)) => match out.iter_mut().find(|r| r.name == *group) {
                Some(row) => row.members.push(id),
                None => out.push(Row { name: group.clone(), members: vec![id] }),
            },
            None => out.push(Row { name: name.to_string(), members: vec![id] }),
        }
    }
    out
}

fn merged(rec: &Recorder, members: &[PathId]) -> Option<PathStats> {
    let mut stats: Option<PathStats> = None;
    for id in members {
        if let Some(p) = rec.path(*id) {
            stats.get_or_insert_with(PathStats::default).add(p);
        }
    }
    stats
}

pub fn line(elapsed: Duration, total: Duration, warming_up: bool, rows: &[Row], totals: &Recorder, measured_secs: f64, memory: &MemoryBoard) -> String {
    let mut parts = vec![format!("[{:>4}s/{}s{}]", elapsed.as_secs(), total.as_secs(), if warming_up { " warm-up" } else { "" })];
    for row in rows {
        let Some(all) = merged(totals, &row.members) else { continue };
        let rate = if warming_up || measured_secs <= 0.0 { "-".to_string() } else { format!("{:.1}", all.calls() as f64 / measured_secs) };
        let p99 = if all.latency.is_empty() { "-".into() } else { fmt_micros(all.latency.value_at_quantile(0.99)) };
        parts.push(format!(
            "{} {rate}/s err {} p99 {p99}{}",
            row.name,
            all.failures(),
            if all.counters.skipped > 0 { format!(" skipped {}", all.counters.skipped) } else { String::new() }
        ));
        let c = &all.counters;
        if c.queue_shards_max > 0 {
            parts.push(format!(
                "queue shards≤{} pending≤{} lag≤{} retried {} dropped {}",
                c.queue_shards_max,
                c.queue_pending_max,
                fmt_micros(c.queue_lag_max_ms * 1000),
                c.samples_retried,
                c.samples_dropped
            ));
        }
    }
    for (target, m) in memory {
        let budget = m.budget.map_or(String::new(), |b| format!(" of {}", ByteSize(b)));
        let restarts = if m.restarts > 0 { format!(" RESTARTS {}", m.restarts) } else { String::new() };
        parts.push(format!("{target} mem {}{budget} (peak {}){restarts}", ByteSize(m.current as u64), ByteSize(m.peak as u64)));
    }
    parts.join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::recorder::Measurement;
    use crate::stats::OutcomeClass;

    #[test]
    fn groups_replace_their_members_and_scrapes_are_left_out() {
        let mut table = PathTable::default();
        let write = table.register("mimir.write");
        let a = table.register("mimir.query.a");
        let b = table.register("mimir.query.b");
        table.register("mimir.memory.scrape");
        let groups = vec![("mimir.query".to_string(), vec!["mimir.query.a".to_string(), "mimir.query.b".to_string()])];
        let rows = rows(&table, &groups);
        assert_eq!(rows, [Row { name: "mimir.write".into(), members: vec![write] }, Row { name: "mimir.query".into(), members: vec![a, b] }]);
        let mut rec = Recorder::default();
        let ok = Measurement {
            class: OutcomeClass::Success,
            latency: Duration::from_millis(5),
            service: Duration::from_millis(5),
            items: 1,
            late: false,
            lateness: None,
            retries: 0,
            rejected: 0,
        };
        rec.record(a, ok);
        rec.record(b, Measurement { class: OutcomeClass::Timeout, ..ok });
        let text = line(Duration::from_secs(3), Duration::from_secs(10), false, &rows, &rec, 1.0, &MemoryBoard::default());
        assert!(text.contains("mimir.query 2.0/s err 1 p99 5.00ms"), "{text}");
        assert!(!text.contains("mimir.write"), "nothing measured on it yet: {text}");
    }
}
