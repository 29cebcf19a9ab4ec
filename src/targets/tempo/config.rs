//! Tempo's scenario section (`[tempo]`): OTLP endpoint and protocol, trace load and trace shape,
//! Tempo queries, trace read-back and memory. What may be written; checks live in `validate.rs`.

use crate::scenario::{Connection, MemorySection, QueryLoad};
use crate::units::Dur;
use serde::{Deserialize, Serialize};

/// Tempo: OTLP trace load and Tempo's query paths.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TempoSection {
    /// OTLP endpoint: gRPC `http://tempo.monitoring.svc:4317` (h2c) or `https://…`; with
    /// `protocol = "http"` the OTLP/HTTP base, e.g. `http://tempo.monitoring.svc:4318`.
    pub otlp_url: String,
    #[serde(default)]
    pub protocol: OtlpProtocol,
    /// Tempo's query API, e.g. `http://tempo.monitoring.svc:3200`.
    pub query_url: String,
    /// Trace-by-ID API: `v2` (default) or `v1`.
    #[serde(default)]
    pub api: TraceApi,
    #[serde(default)]
    pub connection: Connection,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write: Option<TraceWrite>,
    #[serde(default)]
    pub traces: TraceShape,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_load: Option<QueryLoad>,
    #[serde(default)]
    pub queries: Vec<TempoQuery>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<TraceVisibility>,
    /// Trace-by-ID misses asked again, to tell a transient miss from lost data.
    #[serde(default)]
    pub recheck: Recheck,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<MemorySection>,
    /// Grafana dashboards whose Tempo panels are replayed as their viewers load them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dashboards: Vec<crate::grafana::spec::DashboardSpec>,
}

/// An acknowledged trace that a trace-by-ID query did not find is asked for again this long after
/// the miss, at each delay in turn, until found (`transient`) or the last ask misses too (`lost`),
/// on the path `tempo.recheck.<query>`. The run waits for rechecks still due when the load ends.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recheck {
    /// Delays after the miss, ascending; `[]` asks no more.
    #[serde(default = "defaults::recheck_after")]
    pub after: Vec<Dur>,
    /// Misses rechecked at once; more wait their turn.
    #[serde(default = "defaults::recheck_concurrency")]
    pub concurrency: usize,
}

impl Default for Recheck {
    fn default() -> Self {
        Recheck { after: defaults::recheck_after(), concurrency: defaults::recheck_concurrency() }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OtlpProtocol {
    #[default]
    Grpc,
    Http,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TraceApi {
    #[default]
    V2,
    V1,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RateUnit {
    #[default]
    Spans,
    Traces,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceWrite {
    /// Planned spans (or traces, see `unit`) per second at steady state.
    pub rate: f64,
    #[serde(default)]
    pub unit: RateUnit,
    /// Spans in one Export request (rounded down to whole traces, at least one trace).
    #[serde(default = "defaults::spans_per_request")]
    pub spans_per_request: u64,
    #[serde(default = "defaults::max_in_flight")]
    pub max_in_flight: usize,
    #[serde(default = "defaults::connections")]
    pub connections: usize,
    /// Compress requests with gzip.
    #[serde(default)]
    pub gzip: bool,
}

/// What the generated traces look like.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceShape {
    /// Distinct services (resource `service.name`).
    #[serde(default = "defaults::services")]
    pub services: u64,
    /// Levels of the span tree (1 = a root span only).
    #[serde(default = "defaults::depth")]
    pub depth: u32,
    /// Children of each non-leaf span.
    #[serde(default = "defaults::fanout")]
    pub fanout: u32,
    /// Attributes per span by semantic convention (http, db, rpc).
    #[serde(default)]
    pub attributes: AttributeCounts,
    /// Length of each attribute value, in bytes.
    #[serde(default = "defaults::attribute_value_size")]
    pub attribute_value_size: usize,
    /// Share of traces with an error span.
    #[serde(default = "defaults::error_ratio")]
    pub error_ratio: f64,
    #[serde(default)]
    pub events_per_span: u32,
    #[serde(default)]
    pub links_per_span: u32,
    /// Duration of the root span; children nest inside their parents.
    #[serde(default = "defaults::root_duration")]
    pub root_duration: Dur,
    /// A mix of trace shapes instead of one: each variant is this shape with its own fields
    /// changed, written in its share of the requests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<TraceVariant>,
}

/// One shape of a mix: the fields it changes from `[tempo.traces]` and its share of the requests.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceVariant {
    /// Its share of the requests (the shares are normalised).
    pub share: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fanout: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<AttributeCounts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute_value_size: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_ratio: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events_per_span: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links_per_span: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_duration: Option<Dur>,
}

impl TraceShape {
    /// The shapes written, each with its share: this one alone, or each variant applied to it.
    pub fn mix(&self) -> Vec<(f64, TraceShape)> {
        let base = TraceShape { variants: vec![], ..self.clone() };
        if self.variants.is_empty() {
            return vec![(1.0, base)];
        }
        self.variants
            .iter()
            .map(|v| {
                let s = TraceShape {
                    services: v.services.unwrap_or(base.services),
                    depth: v.depth.unwrap_or(base.depth),
                    fanout: v.fanout.unwrap_or(base.fanout),
                    attributes: v.attributes.unwrap_or(base.attributes),
                    attribute_value_size: v.attribute_value_size.unwrap_or(base.attribute_value_size),
                    error_ratio: v.error_ratio.unwrap_or(base.error_ratio),
                    events_per_span: v.events_per_span.unwrap_or(base.events_per_span),
                    links_per_span: v.links_per_span.unwrap_or(base.links_per_span),
                    root_duration: v.root_duration.unwrap_or(base.root_duration),
                    variants: vec![],
                };
                (v.share, s)
            })
            .collect()
    }
}

impl Default for TraceShape {
    fn default() -> Self {
        TraceShape {
            services: defaults::services(),
            depth: defaults::depth(),
            fanout: defaults::fanout(),
            attributes: AttributeCounts::default(),
            attribute_value_size: defaults::attribute_value_size(),
            error_ratio: defaults::error_ratio(),
            events_per_span: 0,
            links_per_span: 0,
            root_duration: defaults::root_duration(),
            variants: vec![],
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeCounts {
    #[serde(default = "defaults::http_attributes")]
    pub http: u32,
    #[serde(default = "defaults::db_attributes")]
    pub db: u32,
    #[serde(default)]
    pub rpc: u32,
}

impl Default for AttributeCounts {
    fn default() -> Self {
        AttributeCounts { http: defaults::http_attributes(), db: defaults::db_attributes(), rpc: 0 }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TempoQueryKind {
    /// A trace this run wrote, by ID (recent and older ones).
    #[default]
    TraceById,
    /// A trace ID that does not exist: must come back "not found".
    MissingTrace,
    /// A TraceQL search over `range`.
    Traceql,
    /// Tag names.
    Tags,
    /// Values of `tag`.
    TagValues,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TempoQuery {
    /// Results under `tempo.query.<name>`.
    pub name: String,
    #[serde(default)]
    pub kind: TempoQueryKind,
    /// TraceQL for `traceql`; `$run_id` is replaced by this run's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Tag for `tag_values`, e.g. `resource.service.name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Search window ending now (default 1h).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<Dur>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// trace_by_id: only traces whose Export was acknowledged at least this long ago are asked
    /// for (Tempo needs a moment to serve a trace it just took; asking earlier is the tool's
    /// mistake, not the target's). Until one is that old, the query waits.
    #[serde(default = "defaults::trace_min_age")]
    pub min_age: Dur,
}

/// Read-after-write for traces: by ID and by a TraceQL search on the run id.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceVisibility {
    /// Check the first trace of every Nth acknowledged Export.
    #[serde(default = "defaults::sample_every")]
    pub sample_every: u64,
    #[serde(default = "defaults::trace_poll_interval")]
    pub poll_interval: Dur,
    #[serde(default = "defaults::trace_visibility_deadline")]
    pub deadline: Dur,
    #[serde(default = "defaults::visibility_concurrency")]
    pub concurrency: usize,
    /// Also time how long until a TraceQL search finds the trace.
    #[serde(default = "defaults::yes")]
    pub search: bool,
}

mod defaults {
    pub use crate::scenario::defaults::*;
    use crate::units::Dur;
    pub fn spans_per_request() -> u64 {
        100
    }
    pub fn services() -> u64 {
        3
    }
    pub fn depth() -> u32 {
        3
    }
    pub fn fanout() -> u32 {
        2
    }
    pub fn attribute_value_size() -> usize {
        16
    }
    pub fn error_ratio() -> f64 {
        0.01
    }
    pub fn root_duration() -> Dur {
        Dur::millis(120)
    }
    pub fn http_attributes() -> u32 {
        3
    }
    pub fn db_attributes() -> u32 {
        1
    }
    pub fn trace_poll_interval() -> Dur {
        Dur::secs(1)
    }
    pub fn trace_visibility_deadline() -> Dur {
        Dur::secs(120)
    }
    pub fn trace_min_age() -> Dur {
        Dur::secs(3)
    }
    pub fn yes() -> bool {
        true
    }
    pub fn recheck_after() -> Vec<Dur> {
        vec![Dur::secs(10), Dur::secs(60)]
    }
    pub fn recheck_concurrency() -> usize {
        64
    }
}
