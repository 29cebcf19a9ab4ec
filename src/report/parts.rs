//! The slowest parts of calls made of several requests (a dashboard's panels): for each path whose
//! child paths (`<path>.<part>`) say what they ask, those children by p99, slowest first, with
//! their query. Drawn from the report's paths, so every renderer lists the same.

use super::{PathReport, Report};

/// A composite path and its slowest parts: (part name, its report).
pub type Slowest<'a> = (String, Vec<(String, &'a PathReport)>);

/// For each path with asking children, its `n` slowest children by p99.
pub fn slowest(report: &Report, n: usize) -> Vec<Slowest<'_>> {
    let mut out = Vec::new();
    for parent in report.paths.keys() {
        let prefix = format!("{parent}.");
        let mut children: Vec<(String, &PathReport)> = report
            .paths
            .iter()
            .filter(|(name, p)| p.asks.is_some() && name.strip_prefix(&prefix).is_some_and(|rest| !rest.contains('.')))
            .map(|(name, p)| (name[prefix.len()..].to_string(), p))
            .collect();
        if children.is_empty() {
            continue;
        }
        children.sort_by(|a, b| b.1.latency.p99_us.cmp(&a.1.latency.p99_us).then(a.0.cmp(&b.0)));
        children.truncate(n);
        out.push((parent.clone(), children));
    }
    out
}
