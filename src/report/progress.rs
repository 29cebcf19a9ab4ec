//! The progress line printed every few seconds: elapsed time, and per path the rate achieved in the
//! last interval, errors and p99 so far.

use crate::exec::paths::PathTable;
use crate::stats::Recorder;
use crate::units::{fmt_micros, ByteSize};
use crate::watch::MemoryBoard;
use std::time::Duration;

#[allow(clippy::too_many_arguments)]
pub fn line(
    elapsed: Duration,
    total: Duration,
    warming_up: bool,
    table: &PathTable,
    totals: &Recorder,
    interval: &Recorder,
    interval_secs: f64,
    memory: &MemoryBoard,
) -> String {
    let mut parts = vec![format!(
        "[{:>4}s/{}s{}]",
        elapsed.as_secs(),
        total.as_secs(),
        if warming_up { " warm-up" } else { "" }
    )];
    for (id, name) in table.iter() {
        let Some(all) = totals.path(id) else { continue };
        let recent = interval.path(id).map_or(0, |p| p.calls());
        let p99 = if all.latency.is_empty() { "-".into() } else { fmt_micros(all.latency.value_at_quantile(0.99)) };
        parts.push(format!(
            "{name} {:.1}/s err {} p99 {p99}{}",
            recent as f64 / interval_secs.max(1e-9),
            all.failures(),
            if all.skipped > 0 { format!(" skipped {}", all.skipped) } else { String::new() }
        ));
    }
    for (target, m) in memory {
        let budget = m.budget.map_or(String::new(), |b| format!(" of {}", ByteSize(b)));
        let restarts = if m.restarts > 0 { format!(" RESTARTS {}", m.restarts) } else { String::new() };
        parts.push(format!("{target} mem {}{budget} (peak {}){restarts}", ByteSize(m.current as u64), ByteSize(m.peak as u64)));
    }
    parts.join(" | ")
}
