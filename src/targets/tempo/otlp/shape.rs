//! What one generated trace looks like: a k-ary span tree (depth × fan-out) over the scenario's
//! services, semantic-convention attributes, children nested inside their parents' time, an error
//! on some traces, optional events and links. IDs follow from the seed, the run and the trace
//! index, so any trace can be rebuilt and checked later.

use crate::targets::tempo::config::TraceShape;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::{Event, Link, SpanKind};
use opentelemetry_proto::tonic::trace::v1::{status::StatusCode, ResourceSpans, ScopeSpans, Span, Status};

/// Resource attribute naming the run, so searches find exactly this run's traces.
pub const RUN_ATTRIBUTE: &str = "lgtm_bench.run_id";
/// Root-span attribute: the trace's index in the run, 16 hex digits.
pub const TRACE_ATTRIBUTE: &str = "lgtm_bench.trace";
/// Status messages (equal length, so they can be swapped in place).
pub const OK_MESSAGE: &str = "no_error";
pub const ERROR_MESSAGE: &str = "db_error";

const SERVICE_NAMES: [&str; 8] = ["frontend", "checkout", "cart", "payment", "inventory", "shipping", "auth", "search"];

/// The tree and its services, resolved from the scenario.
#[derive(Clone, Debug)]
pub struct Shape {
    pub spec: TraceShape,
    pub services: Vec<String>,
    pub spans_per_trace: usize,
}

/// One trace's identity and timing, as placed into a request.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceInstance {
    pub trace_id: [u8; 16],
    pub span_ids: Vec<[u8; 8]>,
    pub start_ns: u64,
    /// `TRACE_ATTRIBUTE`'s value.
    pub tag: String,
    pub error: bool,
}

impl Shape {
    pub fn new(spec: &TraceShape) -> Shape {
        let services = (0..spec.services.max(1) as usize).map(|i| SERVICE_NAMES.get(i).map_or_else(|| format!("service-{i}"), |s| s.to_string())).collect();
        let (f, d) = (spec.fanout.max(1) as usize, spec.depth.max(1));
        let spans_per_trace = (0..d).map(|l| f.pow(l)).sum();
        Shape { spec: spec.clone(), services, spans_per_trace }
    }

    pub fn parent(&self, j: usize) -> Option<usize> {
        (j > 0).then(|| (j - 1) / self.spec.fanout.max(1) as usize)
    }

    pub fn level(&self, j: usize) -> u32 {
        let mut level = 0;
        let mut at = j;
        while let Some(p) = self.parent(at) {
            level += 1;
            at = p;
        }
        level
    }

    pub fn is_leaf(&self, j: usize) -> bool {
        self.level(j) + 1 >= self.spec.depth.max(1)
    }

    /// Service index of span `j`: the root is the first service, the others spread over the rest.
    pub fn service_of(&self, j: usize) -> usize {
        let n = self.services.len();
        if j == 0 || n == 1 {
            0
        } else {
            1 + (j - 1) % (n - 1)
        }
    }

    /// Start and end of span `j` relative to the trace's start, in ns: children nest in parents.
    pub fn window(&self, j: usize) -> (u64, u64) {
        let root = self.spec.root_duration.get().as_nanos() as u64;
        match self.parent(j) {
            None => (0, root.max(1)),
            Some(p) => {
                let (ps, pe) = self.window(p);
                let f = self.spec.fanout.max(1) as u64;
                let k = (j - 1) as u64 % f;
                let slot = (pe - ps) / (f + 2);
                (ps + slot * (k + 1), ps + slot * (k + 2))
            }
        }
    }

    /// The error span of a trace (its last span, a leaf).
    pub fn error_span(&self) -> usize {
        self.spans_per_trace - 1
    }

    fn attributes(&self, j: usize, tag: Option<&str>) -> Vec<KeyValue> {
        let size = self.spec.attribute_value_size.max(1);
        let pad = |s: &str| {
            let mut v = s.to_string();
            while v.len() < size {
                v.push('x');
            }
            v.truncate(size.max(s.len().min(size)));
            v
        };
        let a = self.spec.attributes;
        let mut out = Vec::new();
        const HTTP: [&str; 5] = ["http.request.method", "url.path", "http.route", "server.address", "user_agent.original"];
        const DB: [&str; 4] = ["db.system", "db.query.text", "db.collection.name", "db.namespace"];
        const RPC: [&str; 3] = ["rpc.system", "rpc.service", "rpc.method"];
        let families: [(&[&str], u32, &str); 3] = [(&HTTP, a.http, "http"), (&DB, a.db, "db"), (&RPC, a.rpc, "rpc")];
        for (keys, count, family) in families {
            for i in 0..count as usize {
                let key = keys.get(i).map_or_else(|| format!("{family}.extra_{i}"), |k| k.to_string());
                out.push(kv(&key, &pad(&format!("{family}-{j}-{i}-"))));
            }
        }
        if let Some(tag) = tag {
            out.push(kv(TRACE_ATTRIBUTE, tag));
        }
        out
    }

    fn span(&self, t: &TraceInstance, j: usize, link_to: Option<(&[u8; 16], &[u8; 8])>) -> Span {
        let (rs, re) = self.window(j);
        let level = self.level(j);
        let kind = if j == 0 {
            SpanKind::Server
        } else if self.is_leaf(j) {
            SpanKind::Client
        } else {
            SpanKind::Internal
        };
        let name = if j == 0 {
            "GET /api/checkout".to_string()
        } else if self.is_leaf(j) {
            format!("SELECT orders.l{level}")
        } else {
            format!("{}.handle", self.services[self.service_of(j)])
        };
        let status = if j == self.error_span() {
            let (code, message) = if t.error { (StatusCode::Error, ERROR_MESSAGE) } else { (StatusCode::Ok, OK_MESSAGE) };
            Some(Status { message: message.into(), code: code as i32 })
        } else {
            None
        };
        let events = (0..self.spec.events_per_span)
            .map(|e| Event {
                time_unix_nano: t.start_ns + rs + (re - rs) * (e as u64 + 1) / (self.spec.events_per_span as u64 + 1),
                name: format!("event-{e}"),
                attributes: vec![],
                dropped_attributes_count: 0,
            })
            .collect();
        let links = match link_to {
            Some((trace, span)) => {
                (0..self.spec.links_per_span).map(|_| Link { trace_id: trace.to_vec(), span_id: span.to_vec(), ..Default::default() }).collect()
            }
            None => vec![],
        };
        Span {
            trace_id: t.trace_id.to_vec(),
            span_id: t.span_ids[j].to_vec(),
            parent_span_id: self.parent(j).map(|p| t.span_ids[p].to_vec()).unwrap_or_default(),
            name,
            kind: kind as i32,
            start_time_unix_nano: t.start_ns + rs,
            end_time_unix_nano: t.start_ns + re,
            attributes: self.attributes(j, (j == 0).then_some(t.tag.as_str())),
            events,
            links,
            status,
            ..Default::default()
        }
    }

    /// One Export request holding `traces`, spans grouped by service (one ResourceSpans each).
    /// Each trace links to the previous trace's root (the first to its own root).
    pub fn request(&self, run_id: &str, traces: &[TraceInstance]) -> ExportTraceServiceRequest {
        let mut by_service: Vec<Vec<Span>> = vec![Vec::new(); self.services.len()];
        for (k, t) in traces.iter().enumerate() {
            let linked = &traces[k.saturating_sub(1)];
            for j in 0..self.spans_per_trace {
                let span = self.span(t, j, Some((&linked.trace_id, &linked.span_ids[0])));
                by_service[self.service_of(j)].push(span);
            }
        }
        let resource_spans = by_service
            .into_iter()
            .enumerate()
            .filter(|(_, spans)| !spans.is_empty())
            .map(|(s, spans)| ResourceSpans {
                resource: Some(Resource { attributes: vec![kv("service.name", &self.services[s]), kv(RUN_ATTRIBUTE, run_id)], ..Default::default() }),
                scope_spans: vec![ScopeSpans {
                    scope: Some(InstrumentationScope { name: "lgtm-bench".into(), version: env!("CARGO_PKG_VERSION").into(), ..Default::default() }),
                    spans,
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            })
            .collect();
        ExportTraceServiceRequest { resource_spans }
    }
}

pub fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue { key: key.into(), value: Some(AnyValue { value: Some(any_value::Value::StringValue(value.into())) }) }
}

pub use crate::ids::{hex, IdSource};

impl IdSource {
    pub fn instance(&self, shape: &Shape, t: u64, start_ns: u64) -> TraceInstance {
        TraceInstance {
            trace_id: self.trace_id(t),
            span_ids: (0..shape.spans_per_trace).map(|j| self.span_id(t, j)).collect(),
            start_ns,
            tag: trace_tag(t),
            error: self.is_error(t, shape.spec.error_ratio),
        }
    }
}

pub fn trace_tag(t: u64) -> String {
    format!("{t:016x}")
}
