//! `lgtm-bench model --tempo URL`: the trace shape a Tempo already holds, for a `[tempo]` section.
//! A sample of recent traces (a TraceQL search `{}` over the last hour, then each by ID): spans per
//! trace, depth, fan-out, services, attributes per span and their value sizes, events, links, the
//! share with an error, the root's duration. Traces of one structure (depth, fan-out, services) are
//! one shape, its figures their medians; several structures make a mix (`[[tempo.traces.variants]]`,
//! each with its share of the sample), the spread of each figure a comment. The span rate from Tempo's
//! `tempo_distributor_spans_received_total`, read twice `window` apart.

use super::query::{read_search, TempoApi};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::time::Duration;

/// One sampled trace's shape.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TraceFigures {
    pub spans: usize,
    pub depth: u32,
    /// Children per non-leaf span, on average.
    pub fanout: f64,
    pub services: usize,
    pub attributes_per_span: f64,
    /// Of those, per span by semantic convention: `[http, db, rpc]` (keys of no convention the
    /// generator writes are counted with http).
    pub by_convention: [f64; 3],
    pub attribute_value_size: f64,
    pub events_per_span: f64,
    pub links_per_span: f64,
    pub error: bool,
    pub root_duration_ms: f64,
}

/// Reads one trace-by-ID answer (v2 JSON) into its figures; `None` when it holds no span.
pub fn figures(body: &[u8]) -> Option<TraceFigures> {
    let json: serde_json::Value = serde_json::from_slice(body).ok()?;
    let mut parent: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut services = BTreeSet::new();
    let (mut attrs, mut sizes, mut values, mut events, mut links) = (0usize, 0usize, 0usize, 0usize, 0usize);
    let mut conventions = [0usize; 3];
    let mut error = false;
    let mut root_ms = 0.0;
    for rs in json["trace"]["resourceSpans"].as_array().or(json["batches"].as_array()).into_iter().flatten() {
        for a in rs["resource"]["attributes"].as_array().into_iter().flatten().filter(|a| a["key"] == "service.name") {
            services.insert(a["value"]["stringValue"].as_str().unwrap_or_default().to_string());
        }
        for span in rs["scopeSpans"].as_array().into_iter().flatten().flat_map(|s| s["spans"].as_array().into_iter().flatten()) {
            let id = span["spanId"].as_str().unwrap_or_default().to_string();
            let p = span["parentSpanId"].as_str().filter(|p| !p.is_empty()).map(String::from);
            if p.is_none() {
                let t = |k: &str| span[k].as_str().and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
                root_ms = (t("endTimeUnixNano") - t("startTimeUnixNano")) / 1e6;
            }
            parent.insert(id, p);
            for a in span["attributes"].as_array().into_iter().flatten() {
                attrs += 1;
                conventions[convention(a["key"].as_str().unwrap_or_default())] += 1;
                if let Some(v) = a["value"]["stringValue"].as_str() {
                    sizes += v.len();
                    values += 1;
                }
            }
            events += span["events"].as_array().map_or(0, Vec::len);
            links += span["links"].as_array().map_or(0, Vec::len);
            error |= span["status"]["code"] == "STATUS_CODE_ERROR" || span["status"]["code"] == 2;
        }
    }
    let spans = parent.len();
    if spans == 0 {
        return None;
    }
    let depth = parent.keys().map(|id| depth_of(&parent, id)).max().unwrap_or(1);
    let mut children: BTreeMap<&String, usize> = BTreeMap::new();
    for p in parent.values().flatten() {
        *children.entry(p).or_default() += 1;
    }
    let fanout = if children.is_empty() { 0.0 } else { children.values().sum::<usize>() as f64 / children.len() as f64 };
    Some(TraceFigures {
        spans,
        depth,
        fanout,
        services: services.len(),
        attributes_per_span: attrs as f64 / spans as f64,
        by_convention: conventions.map(|n| n as f64 / spans as f64),
        attribute_value_size: if values == 0 { 0.0 } else { sizes as f64 / values as f64 },
        events_per_span: events as f64 / spans as f64,
        links_per_span: links as f64 / spans as f64,
        error,
        root_duration_ms: root_ms,
    })
}

/// How many spans from `id` up to its root (1 for the root), bounded against loops.
/// Which of the generator's attribute families (0 http, 1 db, 2 rpc) a span attribute key belongs
/// to by its semantic-convention namespace; any other key counts with http.
fn convention(key: &str) -> usize {
    let namespace = key.split('.').next().unwrap_or_default();
    match namespace {
        "db" => 1,
        "rpc" | "grpc" => 2,
        _ => 0,
    }
}

fn depth_of(parent: &BTreeMap<String, Option<String>>, id: &str) -> u32 {
    let (mut id, mut d) = (id, 1);
    while let Some(Some(p)) = parent.get(id) {
        id = p;
        d += 1;
        if d > 64 {
            break;
        }
    }
    d
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// What the model read from Tempo.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceModel {
    pub source: String,
    pub sampled: Vec<TraceFigures>,
    pub spans_per_second: Option<f64>,
    pub notes: Vec<String>,
}

async fn spans_received(api: &TempoApi) -> Option<f64> {
    let a = api.get(0, "/metrics").await.ok().filter(|a| a.status.is_success())?;
    let text = String::from_utf8_lossy(&a.body);
    let samples = crate::watch::exposition::samples(&text).ok()?;
    let total: Vec<f64> = samples.iter().filter(|s| s.name == "tempo_distributor_spans_received_total").map(|s| s.value).collect();
    (!total.is_empty()).then(|| total.iter().sum())
}

/// Samples up to `sample` recent traces and reads the span rate over `window`.
pub async fn read(api: &TempoApi, sample: u32, window: Duration) -> Result<TraceModel, String> {
    let mut notes = Vec::new();
    let end = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let first = spans_received(api).await;
    let answer = api.search(0, "{}", end.saturating_sub(3600), end + 1, sample).await.map_err(|e| format!("{}: the search did not answer: {e}", api.base))?;
    let ids = read_search(&answer).map_err(|c| format!("{}: the search answered HTTP {} ({})", api.base, answer.status.as_u16(), c.as_str()))?;
    let mut sampled = Vec::new();
    for id in &ids {
        if let Ok(a) = api.trace_by_id(0, id).await {
            sampled.extend(figures(&a.body));
        }
    }
    if sampled.is_empty() {
        notes.push("no trace in the last hour to sample: the default shape is kept".into());
    }
    let spans_per_second = match first {
        Some(before) => {
            tokio::time::sleep(window).await;
            spans_received(api).await.map(|after| (after - before).max(0.0) / window.as_secs_f64())
        }
        None => {
            notes.push("no tempo_distributor_spans_received_total at the query URL's /metrics: the span rate is assumed (100 spans/s)".into());
            None
        }
    };
    Ok(TraceModel { source: api.base.clone(), sampled, spans_per_second, notes })
}

/// The sampled traces grouped by their structure (depth, fan-out, services): each group one shape
/// of the mix, most common first, at most `MAX_VARIANTS` (the rarer ones' traces left out, said so).
const MAX_VARIANTS: usize = 6;

fn groups(s: &[TraceFigures]) -> Vec<Vec<&TraceFigures>> {
    let mut by: BTreeMap<(u32, u32, usize), Vec<&TraceFigures>> = BTreeMap::new();
    for t in s {
        by.entry((t.depth.clamp(1, 8), t.fanout.round().clamp(1.0, 16.0) as u32, t.services.max(1))).or_default().push(t);
    }
    let mut g: Vec<Vec<&TraceFigures>> = by.into_values().collect();
    g.sort_by_key(|g| std::cmp::Reverse(g.len()));
    g
}

/// One shape's fields (TOML keys and values) from its traces: medians, and the error share.
fn shape_fields(ts: &[&TraceFigures]) -> Vec<(&'static str, String)> {
    let med = |f: fn(&TraceFigures) -> f64| median(ts.iter().map(|t| f(t)).collect());
    let errors = ts.iter().filter(|t| t.error).count() as f64 / ts.len().max(1) as f64;
    vec![
        ("services", format!("{}", med(|t| t.services as f64).max(1.0) as u64)),
        ("depth", format!("{}", med(|t| t.depth as f64).clamp(1.0, 8.0) as u32)),
        ("fanout", format!("{}", med(|t| t.fanout).round().clamp(1.0, 16.0) as u32)),
        (
            "attributes",
            format!(
                "{{ http = {}, db = {}, rpc = {} }}",
                med(|t| t.by_convention[0]).round() as u32,
                med(|t| t.by_convention[1]).round() as u32,
                med(|t| t.by_convention[2]).round() as u32
            ),
        ),
        ("attribute_value_size", format!("{}", med(|t| t.attribute_value_size).round().max(1.0) as usize)),
        ("error_ratio", format!("{errors:.4}")),
        ("events_per_span", format!("{}", med(|t| t.events_per_span).round() as u32)),
        ("links_per_span", format!("{}", med(|t| t.links_per_span).round() as u32)),
        ("root_duration", format!("\"{}ms\"", med(|t| t.root_duration_ms).round().clamp(1.0, 60_000.0) as u64)),
    ]
}

fn spread(ts: &[&TraceFigures], f: fn(&TraceFigures) -> f64) -> String {
    let v: Vec<f64> = ts.iter().map(|t| f(t)).collect();
    let (lo, hi) = (v.iter().copied().fold(f64::INFINITY, f64::min), v.iter().copied().fold(f64::NEG_INFINITY, f64::max));
    if v.is_empty() {
        String::new()
    } else {
        format!("{lo:.0}..{hi:.0}")
    }
}

/// The `[tempo]` section the model describes at `scale`: one shape when every sampled trace has
/// the same structure, else a mix (`[[tempo.traces.variants]]`), one variant per structure seen
/// with its share of the sample.
pub fn section(m: &TraceModel, scale: f64, otlp_url: &str) -> String {
    let s = &m.sampled;
    let mut out = String::new();
    let _ = writeln!(out, "# [tempo] modelled on {}: {} traces sampled (a TraceQL search {{}} over the last hour, each read by ID);", m.source, s.len());
    let all: Vec<&TraceFigures> = s.iter().collect();
    let _ = writeln!(
        out,
        "# spans per trace {}, depth {}, services {}, root {} ms; each shape's figures are its traces' medians.",
        spread(&all, |t| t.spans as f64),
        spread(&all, |t| t.depth as f64),
        spread(&all, |t| t.services as f64),
        spread(&all, |t| t.root_duration_ms)
    );
    for n in &m.notes {
        let _ = writeln!(out, "# Assumed: {n}");
    }
    let rate = m.spans_per_second.unwrap_or(100.0) * scale;
    let _ = writeln!(out, "[tempo]\notlp_url = {otlp_url:?}\nquery_url = {:?}\n", m.source);
    let _ = writeln!(
        out,
        "[tempo.write]\nrate = {:.3}                 # spans/s{}\n",
        rate.max(0.001),
        if m.spans_per_second.is_some() { " from tempo_distributor_spans_received_total" } else { " (assumed)" }
    );
    if s.is_empty() {
        return out;
    }
    let groups = groups(s);
    let _ = writeln!(
        out,
        "[tempo.traces]                 # the most common shape ({} of {} traces); attributes by namespace (db.*, rpc.*, the rest as http)",
        groups[0].len(),
        s.len()
    );
    for (k, v) in shape_fields(&groups[0]) {
        let _ = writeln!(out, "{k} = {v}");
    }
    if groups.len() > 1 {
        let kept = &groups[..groups.len().min(MAX_VARIANTS)];
        let left: usize = groups[kept.len()..].iter().map(Vec::len).sum();
        if left > 0 {
            let _ = writeln!(out, "# {left} traces in {} rarer shapes left out of the mix", groups.len() - kept.len());
        }
        for g in kept {
            let _ = writeln!(out, "\n[[tempo.traces.variants]]      # {} of {} sampled traces, {} spans each", g.len(), s.len(), spread(g, |t| t.spans as f64));
            let _ = writeln!(out, "share = {:.4}", g.len() as f64 / s.len() as f64);
            for (k, v) in shape_fields(g) {
                let _ = writeln!(out, "{k} = {v}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_recorded_tempo_trace_is_read_into_its_shape() {
        // Tempo 3.x's v2 answer (tests/fixtures/tempo/trace-by-id-v2-json.json): a root and two children.
        let body = br#"{"trace":{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},"scopeSpans":[{"spans":[
            {"spanId":"b3z8mmlDo2Q=","startTimeUnixNano":"1795629741681569889","endTimeUnixNano":"1795629741801569889","attributes":[{"key":"http.method","value":{"stringValue":"GET"}}],"status":{}},
            {"spanId":"CTM3KdSJu3A=","parentSpanId":"b3z8mmlDo2Q=","attributes":[{"key":"db.system","value":{"stringValue":"postgresql"}},{"key":"db.query.text","value":{"stringValue":"SELECT 1"}},{"key":"rpc.method","value":{"stringValue":"Get"}}],"status":{"code":"STATUS_CODE_ERROR"}},
            {"spanId":"AAAAAAAAAAE=","parentSpanId":"b3z8mmlDo2Q=","attributes":[],"status":{}}]}]}]}}"#;
        let f = super::figures(body).unwrap();
        assert_eq!((f.spans, f.depth, f.fanout, f.services, f.error), (3, 2, 2.0, 1, true));
        assert_eq!(f.root_duration_ms, 120.0);
        assert_eq!((f.attributes_per_span, f.by_convention), (4.0 / 3.0, [1.0 / 3.0, 2.0 / 3.0, 1.0 / 3.0]), "by namespace: http.*, db.*, rpc.*");
        assert_eq!(super::figures(br#"{"trace":{},"metrics":{}}"#), None);
    }
}
