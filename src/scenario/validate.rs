//! Semantic checks of a parsed scenario. Every problem is collected (never just the first), each
//! naming its key, the bad value and the fix.

use super::model::*;
use super::Problem;
use crate::check::Objective;
use crate::generator::remote_write::series::RESERVED_LABELS;
use crate::target::http::check_url;
use std::collections::BTreeSet;
use std::time::Duration;

/// Mimir and Prometheus refuse range queries over this many points per series.
pub const MAX_POINTS_PER_SERIES: f64 = 11_000.0;

pub fn problems(s: &Scenario) -> Vec<Problem> {
    let mut out = Vec::new();
    run(&s.run, &mut out);
    if let Some(m) = &s.mimir {
        mimir(m, &mut out);
    }
    if let Some(t) = &s.tempo {
        tempo(t, &mut out);
    }
    if s.mimir.is_none() && s.tempo.is_none() {
        out.push(Problem::new("", "no target to load; add a [mimir] and/or [tempo] section (see scenarios/homelab.toml)"));
    }
    let subjects = subjects(s);
    for (i, text) in s.objectives.iter().enumerate() {
        let key = format!("objectives.{i}");
        match Objective::parse(text) {
            Ok(o) if !subjects.contains(&o.subject) => out.push(Problem::new(
                key,
                format!("`{}` is not measured by this scenario; use one of: {}", o.subject, subjects.iter().cloned().collect::<Vec<_>>().join(", ")),
            )),
            Ok(_) => {}
            Err(e) => out.push(Problem::new(key, e)),
        }
    }
    out
}

/// The subjects objectives may name in this scenario.
pub fn subjects(s: &Scenario) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if let Some(m) = &s.mimir {
        if m.write.is_some() {
            out.insert("mimir.write".to_string());
        }
        if !m.queries.is_empty() {
            out.insert("mimir.query".to_string());
            out.extend(m.queries.iter().map(|q| format!("mimir.query.{}", q.name)));
        }
        if m.visibility.is_some() {
            out.insert("mimir.visibility".to_string());
        }
        if m.memory.is_some() {
            out.insert("mimir.memory".to_string());
            out.insert("mimir.memory.scrape".to_string());
        }
    }
    if let Some(t) = &s.tempo {
        if t.write.is_some() {
            out.insert("tempo.write".to_string());
        }
        if !t.queries.is_empty() {
            out.insert("tempo.query".to_string());
            out.extend(t.queries.iter().map(|q| format!("tempo.query.{}", q.name)));
        }
        if let Some(v) = &t.visibility {
            out.insert("tempo.visibility.by_id".to_string());
            if v.search {
                out.insert("tempo.visibility.search".to_string());
            }
        }
        if t.memory.is_some() {
            out.insert("tempo.memory".to_string());
            out.insert("tempo.memory.scrape".to_string());
        }
    }
    out
}

fn positive(out: &mut Vec<Problem>, key: &str, d: Duration, fix: &str) {
    if d.is_zero() {
        out.push(Problem::new(key, format!("must be longer than 0s; {fix}")));
    }
}

fn run(r: &RunSection, out: &mut Vec<Problem>) {
    if r.name.is_empty() || !r.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        out.push(Problem::new("run.name", format!("`{}` must be letters, digits, - or _ (it names the results file)", r.name)));
    }
    positive(out, "run.duration", r.duration.get(), "set how long to hold the planned rate, e.g. \"60s\"");
    if r.progress_interval.get() < Duration::from_millis(100) {
        out.push(Problem::new("run.progress_interval", format!("{} is too short; use at least \"100ms\"", r.progress_interval)));
    }
}

fn rate_ok(out: &mut Vec<Problem>, key: &str, rate: f64) {
    if !(rate.is_finite() && rate > 0.0) {
        out.push(Problem::new(key, format!("{rate} is not a rate; use a positive number per second, e.g. 50")));
    }
}

fn mimir(m: &MimirSection, out: &mut Vec<Problem>) {
    for (key, url) in [("mimir.write_url", &m.write_url), ("mimir.query_url", &m.query_url)] {
        if let Err(e) = check_url(url) {
            out.push(Problem::new(key, e));
        }
    }
    if !m.query_prefix.is_empty() && !m.query_prefix.starts_with('/') {
        out.push(Problem::new("mimir.query_prefix", format!("`{}` must start with / (\"/prometheus\" for Mimir) or be empty", m.query_prefix)));
    }
    connection("mimir.connection", &m.connection, out);
    if let Some(w) = &m.write {
        write(w, out);
    }
    if m.write.is_none() && m.queries.is_empty() {
        out.push(Problem::new("mimir", "nothing to do: add [mimir.write] and/or [[mimir.queries]]"));
    }
    queries(m, out);
    if let Some(mem) = &m.memory {
        memory("mimir.memory", mem, out);
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
        positive(out, "mimir.visibility.poll_interval", v.poll_interval.get(), "e.g. \"250ms\"");
        if v.deadline <= v.poll_interval {
            out.push(Problem::new("mimir.visibility.deadline", format!("{} must be longer than poll_interval ({})", v.deadline, v.poll_interval)));
        }
    }
}

/// Largest gRPC message a receiver takes by default (Tempo: 4 MiB).
pub const MAX_GRPC_MESSAGE: usize = 4 << 20;

fn tempo(t: &TempoSection, out: &mut Vec<Problem>) {
    for (key, url) in [("tempo.otlp_url", &t.otlp_url), ("tempo.query_url", &t.query_url)] {
        if let Err(e) = check_url(url) {
            out.push(Problem::new(key, e));
        }
    }
    connection("tempo.connection", &t.connection, out);
    let s = &t.traces;
    if s.services == 0 {
        out.push(Problem::new("tempo.traces.services", "must be at least 1"));
    }
    if s.depth == 0 || s.depth > 8 {
        out.push(Problem::new("tempo.traces.depth", format!("{} must be between 1 and 8 levels", s.depth)));
    }
    if s.fanout == 0 || s.fanout > 16 {
        out.push(Problem::new("tempo.traces.fanout", format!("{} must be between 1 and 16 children", s.fanout)));
    }
    if !(0.0..=1.0).contains(&s.error_ratio) {
        out.push(Problem::new("tempo.traces.error_ratio", format!("{} must be between 0.0 and 1.0", s.error_ratio)));
    }
    if s.root_duration.get() < Duration::from_micros(100) || s.root_duration.get() > Duration::from_secs(60) {
        out.push(Problem::new("tempo.traces.root_duration", format!("{} must be between 100µs and 60s", s.root_duration)));
    }
    let shape_ok = s.services > 0 && (1..=8).contains(&s.depth) && (1..=16).contains(&s.fanout);
    if let Some(w) = &t.write {
        rate_ok(out, "tempo.write.rate", w.rate);
        if w.max_in_flight == 0 {
            out.push(Problem::new("tempo.write.max_in_flight", "must be at least 1"));
        }
        if w.connections == 0 {
            out.push(Problem::new("tempo.write.connections", "must be at least 1"));
        }
        if shape_ok {
            let shape = crate::generator::otlp_traces::shape::Shape::new(s);
            if shape.spans_per_trace > 10_000 {
                out.push(Problem::new("tempo.traces", format!("{} spans per trace is too many; lower depth or fanout", shape.spans_per_trace)));
            } else if w.spans_per_request > 0 {
                let len = crate::generator::otlp_traces::payload::Template::estimated_len(&shape, "validate", w.spans_per_request);
                if len > MAX_GRPC_MESSAGE {
                    out.push(Problem::new(
                        "tempo.write.spans_per_request",
                        format!("{} spans make {} KiB per request, over the receiver's 4 MiB message limit; send fewer spans per request", w.spans_per_request, len / 1024),
                    ));
                }
            }
        }
        if w.spans_per_request == 0 {
            out.push(Problem::new("tempo.write.spans_per_request", "must be at least 1"));
        }
    }
    let mut names = BTreeSet::new();
    for (i, q) in t.queries.iter().enumerate() {
        let key = format!("tempo.queries.{i}");
        if q.name.is_empty() || q.name.contains(char::is_whitespace) || !names.insert(&q.name) {
            out.push(Problem::new(format!("{key}.name"), format!("`{}` must be a unique name without spaces", q.name)));
        }
        match q.kind {
            TempoQueryKind::Traceql if q.query.as_deref().is_none_or(|s| s.trim().is_empty()) => {
                out.push(Problem::new(format!("{key}.query"), "a traceql query needs query, e.g. \"{ resource.lgtm_bench.run_id = \\\"$run_id\\\" }\""))
            }
            TempoQueryKind::TagValues if q.tag.is_none() => out.push(Problem::new(format!("{key}.tag"), "tag_values needs tag, e.g. \"resource.service.name\"")),
            TempoQueryKind::TraceById if t.write.is_none() => {
                out.push(Problem::new(format!("{key}.kind"), "trace_by_id asks for traces this run wrote: add [tempo.write]"))
            }
            _ => {}
        }
    }
    query_load("tempo", t.query_load.as_ref(), !t.queries.is_empty(), out);
    if let Some(v) = &t.visibility {
        if t.write.is_none() {
            out.push(Problem::new("tempo.visibility", "read-after-write needs writes; add [tempo.write] or remove [tempo.visibility]"));
        }
        if v.sample_every == 0 || v.concurrency == 0 {
            out.push(Problem::new("tempo.visibility", "sample_every and concurrency must be at least 1"));
        }
        if v.deadline <= v.poll_interval {
            out.push(Problem::new("tempo.visibility.deadline", format!("{} must be longer than poll_interval ({})", v.deadline, v.poll_interval)));
        }
    }
    if let Some(mem) = &t.memory {
        memory("tempo.memory", mem, out);
    }
}

fn memory(prefix: &str, m: &MemorySection, out: &mut Vec<Problem>) {
    if m.budget.0 == 0 {
        out.push(Problem::new(format!("{prefix}.budget"), "must be more than 0; write it like \"1Gi\" or \"1536Mi\""));
    }
    positive(out, &format!("{prefix}.interval"), m.interval.get(), "e.g. \"5s\"");
    if m.metrics_urls.is_empty() && m.cluster.is_none() {
        out.push(Problem::new(prefix, "nothing to read memory from: add metrics_urls (the target's /metrics) and/or [..memory.cluster]"));
    }
    for (i, url) in m.metrics_urls.iter().enumerate() {
        if let Err(e) = check_url(url) {
            out.push(Problem::new(format!("{prefix}.metrics_urls.{i}"), e));
        }
    }
    if let Some(c) = &m.cluster {
        if let Err(e) = check_url(&c.query_url) {
            out.push(Problem::new(format!("{prefix}.cluster.query_url"), e));
        }
        if c.pod_regex.trim().is_empty() {
            out.push(Problem::new(format!("{prefix}.cluster.pod_regex"), "give the target's pod names as a regular expression, e.g. \"mimir-.*\""));
        }
        connection(&format!("{prefix}.cluster.connection"), &c.connection, out);
    }
}

fn connection(prefix: &str, c: &Connection, out: &mut Vec<Problem>) {
    positive(out, &format!("{prefix}.timeout"), c.timeout.get(), "e.g. \"10s\"");
    positive(out, &format!("{prefix}.connect_timeout"), c.connect_timeout.get(), "e.g. \"3s\"");
    let envs: Vec<&String> = match &c.auth {
        Some(Auth::Basic { username_env, password_env }) => vec![username_env, password_env],
        Some(Auth::Bearer { token_env }) => vec![token_env],
        None => vec![],
    };
    for var in envs {
        if std::env::var_os(var).is_none() {
            out.push(Problem::new(format!("{prefix}.auth"), format!("environment variable {var} is not set; export it before the run")));
        }
    }
    if let Some(ca) = &c.tls.ca_file {
        if !std::path::Path::new(ca).is_file() {
            out.push(Problem::new(format!("{prefix}.tls.ca_file"), format!("`{ca}` is not a readable file; give the path of a PEM CA certificate")));
        }
    }
    for name in c.headers.keys() {
        if http::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
            out.push(Problem::new(format!("{prefix}.headers"), format!("`{name}` is not a valid header name")));
        }
    }
}

fn write(w: &WriteSection, out: &mut Vec<Problem>) {
    let s = &w.series;
    match (w.rate, s.scrape_interval) {
        (Some(rate), None) => rate_ok(out, "mimir.write.rate", rate),
        (None, Some(i)) => positive(out, "mimir.write.series.scrape_interval", i.get(), "e.g. \"15s\""),
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
    let mut names = BTreeSet::new();
    for (i, l) in s.labels.iter().enumerate() {
        let key = format!("mimir.write.series.labels.{i}");
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
    if !(0.0..=1.0).contains(&s.churn_share) {
        out.push(Problem::new("mimir.write.series.churn_share", format!("{} must be between 0.0 and 1.0", s.churn_share)));
    }
    positive(out, "mimir.write.series.churn_period", s.churn_period.get(), "e.g. \"10m\"");
}

fn queries(m: &MimirSection, out: &mut Vec<Problem>) {
    let mut names = BTreeSet::new();
    for (i, q) in m.queries.iter().enumerate() {
        let key = format!("mimir.queries.{i}");
        if q.name.is_empty() || q.name.contains(char::is_whitespace) {
            out.push(Problem::new(format!("{key}.name"), format!("`{}` must be a non-empty name without spaces", q.name)));
        }
        if !names.insert(&q.name) {
            out.push(Problem::new(format!("{key}.name"), format!("`{}` is used twice; names must be unique", q.name)));
        }
        if q.query.trim().is_empty() {
            out.push(Problem::new(format!("{key}.query"), "is empty; give a PromQL expression"));
        }
        match (q.kind, q.range, q.step) {
            (QueryKind::Range, Some(range), Some(step)) => {
                positive(out, &format!("{key}.step"), step.get(), "e.g. \"1m\"");
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
        }
    }
    query_load("mimir", m.query_load.as_ref(), !m.queries.is_empty(), out);
}

/// `[<target>.query_load]`: exactly one of concurrency or rate, and queries to run.
fn query_load(target: &str, load: Option<&QueryLoad>, has_queries: bool, out: &mut Vec<Problem>) {
    let Some(load) = load else { return };
    let key = format!("{target}.query_load");
    match (load.concurrency, load.rate) {
        (Some(0), None) => out.push(Problem::new(format!("{key}.concurrency"), "must be at least 1")),
        (Some(_), None) => {}
        (None, Some(rate)) => rate_ok(out, &format!("{key}.rate"), rate),
        _ => out.push(Problem::new(key.clone(), "set exactly one of concurrency (queries always in flight) or rate (queries per second)")),
    }
    if !has_queries {
        out.push(Problem::new(key, format!("there are no [[{target}.queries]] to run")));
    }
}

fn valid_name(name: &str, metric: bool) -> bool {
    let mut chars = name.chars();
    let ok_first = |c: char| c.is_ascii_alphabetic() || c == '_' || (metric && c == ':');
    let ok_rest = |c: char| c.is_ascii_alphanumeric() || c == '_' || (metric && c == ':');
    chars.next().is_some_and(ok_first) && chars.all(ok_rest)
}
