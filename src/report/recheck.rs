//! What asking again found: for each query path whose misses were rechecked, one sentence that
//! tells a transient gap in serving from lost data ("6 not found at query time; asked again: all
//! 6 found within 10s: transient"). Drawn from the report's paths, so every renderer says the same.

use super::{PathReport, Report};
use crate::stats::paths::recheck_path;
use crate::stats::OutcomeClass;
use crate::units::fmt_micros;

/// The query path and what its rechecks found, for every query path with a miss.
pub fn findings(report: &Report) -> Vec<(String, String)> {
    report
        .paths
        .iter()
        .filter_map(|(name, query)| {
            let recheck = report.paths.get(&recheck_path(name)?)?;
            Some((name.clone(), sentence(query, recheck)?))
        })
        .collect()
}

/// The sentence for one query path and its recheck path; `None` when nothing was missed.
pub fn sentence(query: &PathReport, recheck: &PathReport) -> Option<String> {
    let missed = query.count(OutcomeClass::NotFound);
    let (transient, lost) = (recheck.count(OutcomeClass::Transient), recheck.count(OutcomeClass::Lost));
    let unresolved = recheck.counters.abandoned + recheck.counters.skipped;
    if missed + transient + lost + unresolved == 0 {
        return None;
    }
    let within = recheck.latency.max_us.map_or(String::new(), |us| format!(" within {}", fmt_micros(us)));
    let mut out = format!("{missed} not found at query time; asked again: ");
    out += &match (transient, lost) {
        (t, 0) if t > 0 && unresolved == 0 => format!("all {t} found{within}: transient (a gap in serving, not lost data)"),
        (0, l) if l > 0 && unresolved == 0 => format!("none found, all {l} still missing: LOST"),
        (t, l) => format!("{t} found{within} (transient), {l} still missing (LOST)"),
    };
    if unresolved > 0 {
        out += &format!("; {unresolved} not asked again before the run stopped");
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(outcomes: &[(&str, u64)], max_us: Option<u64>) -> PathReport {
        let mut p = PathReport::from_stats(&crate::stats::PathStats::default(), 1.0, None);
        for (k, v) in outcomes {
            p.outcomes.insert(k.to_string(), *v);
            p.calls += v;
        }
        p.latency.max_us = max_us;
        p
    }

    #[test]
    fn transient_and_lost_are_told_apart() {
        let query = path(&[("success", 1495), ("not_found", 6)], Some(40_000));
        let all_found = path(&[("transient", 6)], Some(10_020_000));
        assert_eq!(
            sentence(&query, &all_found).unwrap(),
            "6 not found at query time; asked again: all 6 found within 10.020s: transient (a gap in serving, not lost data)"
        );
        let some_lost = path(&[("transient", 4), ("lost", 2)], Some(10_020_000));
        assert_eq!(sentence(&query, &some_lost).unwrap(), "6 not found at query time; asked again: 4 found within 10.020s (transient), 2 still missing (LOST)");
        let all_lost = path(&[("lost", 6)], None);
        assert_eq!(sentence(&query, &all_lost).unwrap(), "6 not found at query time; asked again: none found, all 6 still missing: LOST");
        assert_eq!(sentence(&path(&[("success", 10)], None), &path(&[], None)), None, "nothing missed: nothing to say");
    }
}
