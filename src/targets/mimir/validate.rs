//! Checks of the `[mimir]` section: endpoints, the write plan and series model, the PromQL queries
//! (Mimir refuses range queries over 11,000 points per series), read-back and memory. Every problem
//! is collected, each naming its key, the bad value and the fix.

use super::config::*;
use super::write::series::RESERVED_LABELS;
use crate::scenario::{checks, Problem};
use std::collections::BTreeSet;

/// Mimir and Prometheus refuse range queries over this many points per series.
pub const MAX_POINTS_PER_SERIES: f64 = 11_000.0;

/// Every problem of the `[mimir]` section.
pub fn problems(m: &MimirSection, out: &mut Vec<Problem>) {
    checks::urls(out, [("mimir.write_url", &m.write_url), ("mimir.query_url", &m.query_url)]);
    if !m.query_prefix.is_empty() && !m.query_prefix.starts_with('/') {
        out.push(Problem::new("mimir.query_prefix", format!("`{}` must start with / (\"/prometheus\" for Mimir) or be empty", m.query_prefix)));
    }
    checks::connection("mimir.connection", &m.connection, out);
    if let Some(w) = &m.write {
        write(w, out);
    }
    if m.write.is_none() && m.queries.is_empty() && m.dashboards.is_empty() {
        out.push(Problem::new("mimir", "nothing to do: add [mimir.write], [[mimir.queries]] and/or [[mimir.dashboards]]"));
    }
    for (i, d) in m.dashboards.iter().enumerate() {
        crate::grafana::spec::problems(&format!("mimir.dashboards.{i}"), d, out);
    }
    queries(m, out);
    if let Some(mem) = &m.memory {
        checks::memory("mimir.memory", mem, out);
    }
    if let Some(v) = &m.visibility {
        if m.write.is_none() {
            out.push(Problem::new("mimir.visibility", "read-after-write needs writes; add [mimir.write] or remove [mimir.visibility]"));
        }
        if v.sample_every == 0 {
            out.push(Problem::new("mimir.visibility.sample_every", "must be at least 1 (1 checks every write request)"));
        }
        if v.concurrency == 0 {
            out.push(Problem::new("mimir.visibility.concurrency", "must be at least 1"));
        }
        checks::positive(out, "mimir.visibility.poll_interval", v.poll_interval.get(), "e.g. \"250ms\"");
        if v.deadline <= v.poll_interval {
            out.push(Problem::new("mimir.visibility.deadline", format!("{} must be longer than poll_interval ({})", v.deadline, v.poll_interval)));
        }
    }
}

fn write(w: &WriteSection, out: &mut Vec<Problem>) {
    let s = &w.series;
    match (w.rate, s.scrape_interval) {
        (Some(rate), None) => checks::rate_ok(out, "mimir.write.rate", rate),
        (None, Some(i)) => checks::positive(out, "mimir.write.series.scrape_interval", i.get(), "e.g. \"15s\""),
        (Some(_), Some(_)) => out.push(Problem::new("mimir.write.rate", "set either write.rate or series.scrape_interval, not both (one decides the other)")),
        (None, None) => out.push(Problem::new("mimir.write.rate", "missing; set requests per second (e.g. rate = 50) or series.scrape_interval")),
    }
    if w.max_in_flight == 0 {
        out.push(Problem::new("mimir.write.max_in_flight", "must be at least 1"));
    }
    if w.connections == 0 {
        out.push(Problem::new("mimir.write.connections", "must be at least 1"));
    }
    if s.active == 0 {
        out.push(Problem::new("mimir.write.series.active", "must be at least 1"));
    }
    if s.samples_per_request == 0 || s.samples_per_request > s.active.max(1) {
        out.push(Problem::new(
            "mimir.write.series.samples_per_request",
            format!("{} must be between 1 and series.active ({}): a request carries one sample per series", s.samples_per_request, s.active),
        ));
    }
    if s.metrics.is_empty() {
        out.push(Problem::new("mimir.write.series.metrics", "give at least one metric name"));
    }
    for (i, m) in s.metrics.iter().enumerate() {
        if !valid_name(m, true) {
            out.push(Problem::new(format!("mimir.write.series.metrics.{i}"), format!("`{m}` is not a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)")));
        }
    }
    label_list(&s.labels, "mimir.write.series.labels", out);
    families(s, out);
    if !(0.0..=1.0).contains(&s.exemplar_share) {
        out.push(Problem::new("mimir.write.series.exemplar_share", format!("{} must be between 0.0 and 1.0", s.exemplar_share)));
    }
    if !(0.0..=1.0).contains(&s.churn_share) {
        out.push(Problem::new("mimir.write.series.churn_share", format!("{} must be between 0.0 and 1.0", s.churn_share)));
    }
    checks::positive(out, "mimir.write.series.churn_period", s.churn_period.get(), "e.g. \"10m\"");
    if let Some(q) = &w.queue {
        queue(q, out);
    }
    if w.protocol == super::config::WriteProtocol::Otlp && w.queue.is_some() {
        out.push(Problem::new(
            "mimir.write.queue",
            "the queue sends remote-write (rw1, rw2); OTLP metrics go one request per tick: remove [mimir.write.queue] or use protocol = \"rw1\"",
        ));
    }
    if w.gzip && w.protocol != super::config::WriteProtocol::Otlp {
        out.push(Problem::new("mimir.write.gzip", "remote-write is snappy-compressed by its protocol; gzip is for protocol = \"otlp\""));
    }
}

fn queue(q: &QueueSection, out: &mut Vec<Problem>) {
    queue_at("mimir.write.queue", q, out);
}

/// Every problem of an `[export]` section.
pub fn export(e: &super::config::ExportSection, out: &mut Vec<Problem>) {
    if let Some(url) = &e.url {
        checks::urls(out, [("export.url", url)]);
    }
    queue_at("export.queue", &e.queue, out);
}

fn queue_at(prefix: &str, q: &QueueSection, out: &mut Vec<Problem>) {
    let key = |k: &str| format!("{prefix}.{k}");
    if q.min_shards == 0 {
        out.push(Problem::new(key("min_shards"), "must be at least 1"));
    }
    if q.max_shards < q.min_shards.max(1) {
        out.push(Problem::new(key("max_shards"), format!("{} must be at least min_shards ({})", q.max_shards, q.min_shards)));
    }
    if q.max_samples_per_send == 0 {
        out.push(Problem::new(key("max_samples_per_send"), "must be at least 1"));
    }
    if q.capacity < q.max_samples_per_send {
        out.push(Problem::new(
            key("capacity"),
            format!(
                "{} is below max_samples_per_send ({}): a shard could never fill a batch; Prometheus advises 3-10 times it",
                q.capacity, q.max_samples_per_send
            ),
        ));
    }
    checks::positive(out, &key("batch_send_deadline"), q.batch_send_deadline.get(), "e.g. \"5s\"");
    checks::positive(out, &key("min_backoff"), q.min_backoff.get(), "e.g. \"30ms\"");
    if q.max_backoff < q.min_backoff {
        out.push(Problem::new(key("max_backoff"), format!("{} must be at least min_backoff ({})", q.max_backoff, q.min_backoff)));
    }
}

fn queries(m: &MimirSection, out: &mut Vec<Problem>) {
    checks::query_names("mimir", m.queries.iter().map(|q| &q.name), out);
    for (i, q) in m.queries.iter().enumerate() {
        let key = format!("mimir.queries.{i}");
        if q.query.trim().is_empty() {
            out.push(Problem::new(format!("{key}.query"), "is empty; give a PromQL expression"));
        }
        match (q.kind, q.range, q.step) {
            (QueryKind::Range, Some(range), Some(step)) => {
                checks::positive(out, &format!("{key}.step"), step.get(), "e.g. \"1m\"");
                let points = range.get().as_secs_f64() / step.get().as_secs_f64().max(1e-9);
                if points > MAX_POINTS_PER_SERIES {
                    out.push(Problem::new(
                        format!("{key}.step"),
                        format!("{range} / {step} is {points:.0} points per series; Mimir refuses more than 11,000: raise step"),
                    ));
                }
            }
            (QueryKind::Range, _, _) => out.push(Problem::new(key.clone(), "a range query needs both range (e.g. \"24h\") and step (e.g. \"5m\")")),
            (QueryKind::Instant, None, None) => {}
            (QueryKind::Instant, _, _) => out.push(Problem::new(key.clone(), "range and step apply to kind = \"range\" only")),
            (QueryKind::Exemplars, _, Some(_)) => out.push(Problem::new(format!("{key}.step"), "an exemplars query has a range (default 1h) but no step")),
            (QueryKind::Exemplars, _, None) => {}
        }
    }
    checks::query_load("mimir", m.query_load.as_ref(), !m.queries.is_empty(), out);
}

fn valid_name(name: &str, metric: bool) -> bool {
    let mut chars = name.chars();
    let ok_first = |c: char| c.is_ascii_alphabetic() || c == '_' || (metric && c == ':');
    let ok_rest = |c: char| c.is_ascii_alphanumeric() || c == '_' || (metric && c == ':');
    chars.next().is_some_and(ok_first) && chars.all(ok_rest)
}

/// The typed families: names, shares, buckets, quantiles and native schema.
/// Label names and cardinalities of a label list (the model's or a family's), every problem.
fn label_list(labels: &[super::config::LabelSpec], key: &str, out: &mut Vec<Problem>) {
    let mut names = BTreeSet::new();
    for (i, l) in labels.iter().enumerate() {
        let key = format!("{key}.{i}");
        if !valid_name(&l.name, false) || l.name.starts_with("__") {
            out.push(Problem::new(format!("{key}.name"), format!("`{}` is not a label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)", l.name)));
        }
        if RESERVED_LABELS.contains(&l.name.as_str()) {
            out.push(Problem::new(format!("{key}.name"), format!("`{}` is set by lgtm-bench itself; choose another name", l.name)));
        }
        if !names.insert(&l.name) {
            out.push(Problem::new(format!("{key}.name"), format!("`{}` is listed twice", l.name)));
        }
        if l.cardinality == 0 {
            out.push(Problem::new(format!("{key}.cardinality"), "must be at least 1"));
        }
    }
}

fn families(s: &super::config::SeriesModel, out: &mut Vec<Problem>) {
    use super::config::FamilyKind;
    if s.preset.is_some() && !s.families.is_empty() {
        out.push(Problem::new("mimir.write.series.preset", "give either a preset or families, not both"));
    }
    let mut names = BTreeSet::new();
    for (i, f) in s.families.iter().enumerate() {
        let key = format!("mimir.write.series.families.{i}");
        if !valid_name(&f.name, true) {
            out.push(Problem::new(format!("{key}.name"), format!("`{}` is not a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)", f.name)));
        }
        if !names.insert(&f.name) {
            out.push(Problem::new(format!("{key}.name"), format!("`{}` is listed twice", f.name)));
        }
        if let Some(labels) = &f.labels {
            label_list(labels, &format!("{key}.labels"), out);
        }
        if !(f.share > 0.0 && f.share.is_finite()) {
            out.push(Problem::new(format!("{key}.share"), format!("{} must be above 0 (the shares are normalised)", f.share)));
        }
        if let Some(b) = &f.buckets {
            if b.is_empty() || b.windows(2).any(|w| w[0] >= w[1]) || b.iter().any(|v| !v.is_finite()) {
                out.push(Problem::new(format!("{key}.buckets"), "give finite upper bounds in ascending order (+Inf is added)"));
            }
            if f.kind != FamilyKind::Histogram {
                out.push(Problem::new(format!("{key}.buckets"), "only a classic histogram (type = \"histogram\") has buckets"));
            }
        }
        if let Some(q) = &f.quantiles {
            if q.is_empty() || q.windows(2).any(|w| w[0] >= w[1]) || q.iter().any(|v| !(0.0..=1.0).contains(v)) {
                out.push(Problem::new(format!("{key}.quantiles"), "give quantiles between 0 and 1 in ascending order"));
            }
            if f.kind != FamilyKind::Summary {
                out.push(Problem::new(format!("{key}.quantiles"), "only a summary (type = \"summary\") has quantiles"));
            }
        }
        if !(-4..=8).contains(&f.schema) {
            out.push(Problem::new(format!("{key}.schema"), format!("{} must be between -4 and 8 (Prometheus's native-histogram schemas)", f.schema)));
        }
        if f.native_buckets == 0 || f.native_buckets > 160 {
            out.push(Problem::new(
                format!("{key}.native_buckets"),
                format!("{} must be between 1 and 160 (Prometheus's default bucket limit)", f.native_buckets),
            ));
        }
    }
}
