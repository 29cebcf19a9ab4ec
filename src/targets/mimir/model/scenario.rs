//! The scenario a model describes, as TOML with a comment on each figure's source.

use super::Model;
use std::fmt::Write;

/// Where the modelled target's memory is read, against which budget (capacity's answer needs it).
pub struct MemoryWatch<'a> {
    pub budget: &'a str,
    pub metrics_url: Option<&'a str>,
}

/// The scenario the model describes at `scale` (1.0: as it is), writing to `write_url`.
pub fn scenario(m: &Model, scale: f64, write_url: &str, query_url: &str, memory: &MemoryWatch) -> String {
    let mut out = String::new();
    let interval = m.scrape_interval.clone().unwrap_or_else(|| "15s".into());
    let _ = writeln!(out, "# Modelled by `lgtm-bench model` on {} at {} (scale {scale}).", m.source, m.read_at);
    let _ = writeln!(out, "# Series and series per metric: {}; types and units: /api/v1/metadata, else the type from the series (buckets, quantiles, native samples), else the name;", m.via.describe());
    let labels_from = match m.via {
        super::Via::TsdbStatus => "/api/v1/labels?match[]= and /api/v1/label/<name>/values?match[]=",
        super::Via::MimirCardinality => "/api/v1/cardinality/label_names?selector=",
    };
    let _ = writeln!(out, "# bucket bounds: count by (le); each family's labels and their value counts: {labels_from};");
    let _ = writeln!(out, "# the long tail's labels: the top label cardinalities; scrape interval: {}.", m.interval_from);
    if let Some(r) = m.samples_per_second {
        let _ = writeln!(out, "# Ingestion measured: {r:.0} samples/s (rate(prometheus_tsdb_head_samples_appended_total[5m])).");
    }
    for n in &m.notes {
        let _ = writeln!(out, "# Assumed: {n}");
    }
    let active = ((m.series as f64) * scale).round().max(1.0) as u64;
    let _ = writeln!(
        out,
        "objectives = [\"mimir.write p99 < 1s\", \"mimir.write error_ratio < 0.1%\"]\n\n[run]\nname = \"modelled\"\nwarmup = \"30s\"\nduration = \"5m\"\n"
    );
    let _ = writeln!(out, "[mimir]\nwrite_url = {write_url:?}\nquery_url = {query_url:?}\n\n[mimir.write]\n\n[mimir.write.queue]\n");
    let _ = writeln!(out, "[mimir.write.series]\nactive = {active}                 # {} series × {scale}\nscrape_interval = {interval:?}", m.series);
    let _ = writeln!(out, "samples_per_request = {}", active.clamp(1, 2000));
    if let Some(c) = &m.churn {
        let _ = writeln!(
            out,
            "churn_share = {:.4}           # {:.0} series created in the last hour (prometheus_tsdb_head_series_created_total) of {}\nchurn_period = \"1h\"",
            c.share_per_hour, c.created_per_hour, m.series
        );
    }
    let _ = writeln!(out, "labels = [{}]\n", label_list(&m.labels));
    for f in &m.families {
        let _ = writeln!(out, "[[mimir.write.series.families]]             # {} series, type from {}", f.series, f.typed_by);
        let _ = writeln!(out, "name = {:?}\ntype = {:?}\nshare = {:.6}", f.name, f.kind, f.series as f64 / m.series.max(1) as f64);
        if !f.labels.is_empty() {
            let _ = writeln!(out, "labels = [{}]", label_list(&f.labels));
        }
        if let Some(u) = &f.unit {
            let _ = writeln!(out, "unit = {u:?}");
        }
        if let Some(q) = &f.quantiles {
            let q: Vec<String> = q.iter().map(|v| format!("{v}")).collect();
            let _ = writeln!(out, "quantiles = [{}]", q.join(", "));
        }
        if let Some(b) = &f.buckets {
            let b: Vec<String> = b.iter().map(|v| format!("{v}")).collect();
            let _ = writeln!(out, "buckets = [{}]", b.join(", "));
        }
        out.push('\n');
    }
    if m.tail > 0 || m.families.is_empty() {
        let _ = writeln!(out, "[[mimir.write.series.families]]             # the long tail: {} series of the other metrics, as counters", m.tail.max(1));
        let _ = writeln!(out, "name = \"lgtm_bench_tail_total\"\ntype = \"counter\"\nshare = {:.6}", m.tail.max(1) as f64 / m.series.max(1) as f64);
    }
    match memory.metrics_url {
        Some(url) => {
            let _ = writeln!(
                out,
                "\n[mimir.memory]                 # the target's memory against its budget (capacity's answer)\nbudget = {:?}\nmetrics_urls = [{url:?}]",
                memory.budget
            );
        }
        None => {
            let _ = writeln!(out, "\n# No --memory-url: no memory watch. For capacity's answer against the budget, add\n# [mimir.memory]\n# budget = {:?}\n# metrics_urls = [\"http://mimir-ingester.monitoring.svc:8080/metrics\"]", memory.budget);
        }
    }
    out
}

fn label_list(labels: &[(String, u64)]) -> String {
    labels.iter().map(|(n, c)| format!("{{ name = {n:?}, cardinality = {c} }}")).collect::<Vec<_>>().join(", ")
}
