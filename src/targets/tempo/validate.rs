//! Checks of the `[tempo]` section: endpoints, the trace shape (and that a request stays under the
//! receiver's 4 MiB gRPC message limit), the write plan, Tempo queries, read-back and memory.
//! Every problem is collected, each naming its key, the bad value and the fix.

use super::config::*;
use super::otlp::payload::Template;
use super::otlp::shape::Shape;
use crate::scenario::{checks, Problem};
use std::time::Duration;

/// Largest gRPC message a receiver takes by default (Tempo: 4 MiB).
pub const MAX_GRPC_MESSAGE: usize = 4 << 20;

/// Every problem of the `[tempo]` section.
pub fn problems(t: &TempoSection, out: &mut Vec<Problem>) {
    checks::urls(out, [("tempo.otlp_url", &t.otlp_url), ("tempo.query_url", &t.query_url)]);
    checks::connection("tempo.connection", &t.connection, out);
    let mix = t.traces.mix();
    let mut shapes_ok = shape(&mix[0].1, "tempo.traces", out);
    if !t.traces.variants.is_empty() {
        shapes_ok = true;
        for (i, (share, s)) in mix.iter().enumerate() {
            let key = format!("tempo.traces.variants.{i}");
            if !(*share > 0.0 && share.is_finite()) {
                out.push(Problem::new(format!("{key}.share"), format!("{share} must be above 0 (the shares are normalised)")));
            }
            shapes_ok &= shape(s, &key, out);
        }
    }
    if let Some(w) = &t.write {
        write(w, out);
        for (i, (_, s)) in mix.iter().enumerate().filter(|_| shapes_ok) {
            let key = if t.traces.variants.is_empty() { "tempo.traces".to_string() } else { format!("tempo.traces.variants.{i}") };
            request_size(w, s, &key, out);
        }
    }
    queries(t, out);
    if let Some(v) = &t.visibility {
        visibility(v, t.write.is_some(), out);
    }
    recheck(&t.recheck, out);
    for (i, d) in t.dashboards.iter().enumerate() {
        crate::grafana::spec::problems(&format!("tempo.dashboards.{i}"), d, out);
    }
    if let Some(mem) = &t.memory {
        checks::memory("tempo.memory", mem, out);
    }
}

fn recheck(r: &super::config::Recheck, out: &mut Vec<Problem>) {
    if r.after.windows(2).any(|w| w[0].get() >= w[1].get()) || r.after.first().is_some_and(|d| d.get().is_zero()) {
        out.push(Problem::new("tempo.recheck.after", "delays after a miss must be above zero and ascending, e.g. [\"10s\", \"1m\"]"));
    }
    if r.after.last().is_some_and(|d| d.get() > Duration::from_secs(3600)) {
        out.push(Problem::new("tempo.recheck.after", "the last recheck is more than 1h after the miss: the run would wait that long; use at most 1h"));
    }
    if r.concurrency == 0 {
        out.push(Problem::new("tempo.recheck.concurrency", "must be at least 1"));
    }
}

/// The trace shape; true when it is sound enough to build a trace from.
fn shape(s: &TraceShape, key: &str, out: &mut Vec<Problem>) -> bool {
    if s.services == 0 {
        out.push(Problem::new(format!("{key}.services"), "must be at least 1"));
    }
    if s.depth == 0 || s.depth > 8 {
        out.push(Problem::new(format!("{key}.depth"), format!("{} must be between 1 and 8 levels", s.depth)));
    }
    if s.fanout == 0 || s.fanout > 16 {
        out.push(Problem::new(format!("{key}.fanout"), format!("{} must be between 1 and 16 children", s.fanout)));
    }
    if !(0.0..=1.0).contains(&s.error_ratio) {
        out.push(Problem::new(format!("{key}.error_ratio"), format!("{} must be between 0.0 and 1.0", s.error_ratio)));
    }
    if s.root_duration.get() < Duration::from_micros(100) || s.root_duration.get() > Duration::from_secs(60) {
        out.push(Problem::new(format!("{key}.root_duration"), format!("{} must be between 100µs and 60s", s.root_duration)));
    }
    s.services > 0 && (1..=8).contains(&s.depth) && (1..=16).contains(&s.fanout)
}

/// The write plan: rate, in-flight bound, connections, spans per request.
fn write(w: &TraceWrite, out: &mut Vec<Problem>) {
    checks::rate_ok(out, "tempo.write.rate", w.rate);
    if w.max_in_flight == 0 {
        out.push(Problem::new("tempo.write.max_in_flight", "must be at least 1"));
    }
    if w.connections == 0 {
        out.push(Problem::new("tempo.write.connections", "must be at least 1"));
    }
    if w.spans_per_request == 0 {
        out.push(Problem::new("tempo.write.spans_per_request", "must be at least 1"));
    }
}

/// A sound shape's trace size, and that a request of it stays under the gRPC message limit.
fn request_size(w: &TraceWrite, spec: &TraceShape, key: &str, out: &mut Vec<Problem>) {
    {
        let shape = Shape::new(spec);
        if shape.spans_per_trace > 10_000 {
            out.push(Problem::new(key, format!("{} spans per trace is too many; lower depth or fanout", shape.spans_per_trace)));
        } else if w.spans_per_request > 0 {
            let len = Template::estimated_len(&shape, "validate", w.spans_per_request);
            if len > MAX_GRPC_MESSAGE {
                out.push(Problem::new(
                    "tempo.write.spans_per_request",
                    format!(
                        "{} spans make {} KiB per request, over the receiver's 4 MiB message limit; send fewer spans per request",
                        w.spans_per_request,
                        len / 1024
                    ),
                ));
            }
        }
    }
}

fn queries(t: &TempoSection, out: &mut Vec<Problem>) {
    checks::query_names("tempo", t.queries.iter().map(|q| &q.name), out);
    for (i, q) in t.queries.iter().enumerate() {
        let key = format!("tempo.queries.{i}");
        match q.kind {
            TempoQueryKind::Traceql if q.query.as_deref().is_none_or(|s| s.trim().is_empty()) => {
                out.push(Problem::new(format!("{key}.query"), "a traceql query needs query, e.g. \"{ resource.lgtm_bench.run_id = \\\"$run_id\\\" }\""))
            }
            TempoQueryKind::TagValues if q.tag.is_none() => {
                out.push(Problem::new(format!("{key}.tag"), "tag_values needs tag, e.g. \"resource.service.name\""))
            }
            TempoQueryKind::TraceById if t.write.is_none() => {
                out.push(Problem::new(format!("{key}.kind"), "trace_by_id asks for traces this run wrote: add [tempo.write]"))
            }
            _ => {}
        }
    }
    checks::query_load("tempo", t.query_load.as_ref(), !t.queries.is_empty(), out);
}

fn visibility(v: &TraceVisibility, writes: bool, out: &mut Vec<Problem>) {
    if !writes {
        out.push(Problem::new("tempo.visibility", "read-after-write needs writes; add [tempo.write] or remove [tempo.visibility]"));
    }
    if v.sample_every == 0 || v.concurrency == 0 {
        out.push(Problem::new("tempo.visibility", "sample_every and concurrency must be at least 1"));
    }
    if v.deadline <= v.poll_interval {
        out.push(Problem::new("tempo.visibility.deadline", format!("{} must be longer than poll_interval ({})", v.deadline, v.poll_interval)));
    }
}
