//! The scenario file's structure: serde types with `deny_unknown_fields`, defaults for every
//! optional key. Semantic checks live in `validate.rs`; this file only says what may be written.

use crate::units::{ByteSize, Dur};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub run: RunSection,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mimir: Option<MimirSection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tempo: Option<TempoSection>,
    /// Objectives such as `"mimir.write p99 < 1s"`; see `check.rs` for the grammar.
    #[serde(default)]
    pub objectives: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSection {
    /// Names the results file: `results/<name>-<UTC timestamp>.json`.
    pub name: String,
    /// Seeds series values (and later trace ids) so what was written can be rebuilt and checked.
    #[serde(default = "defaults::seed")]
    pub seed: u64,
    /// Load before the measurement starts, excluded from results.
    #[serde(default = "defaults::warmup")]
    pub warmup: Dur,
    /// Linear ramp from 0 to the planned rate after warm-up (measured).
    #[serde(default)]
    pub ramp: Dur,
    /// Time at the planned rate after the ramp (measured).
    pub duration: Dur,
    /// How often the progress line is printed.
    #[serde(default = "defaults::progress_interval")]
    pub progress_interval: Dur,
    /// How long requests still in flight at the end of the plan may take before they are abandoned.
    #[serde(default = "defaults::drain_timeout")]
    pub drain_timeout: Dur,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MimirSection {
    /// Remote-write endpoint, e.g. `http://mimir-gateway.monitoring.svc:8080/api/v1/push`.
    pub write_url: String,
    /// Base URL of the query API, e.g. `http://mimir-gateway.monitoring.svc:8080`.
    pub query_url: String,
    /// Prefix of the Prometheus HTTP API under `query_url`: `/prometheus` for Mimir, `""` for Prometheus.
    #[serde(default)]
    pub query_prefix: String,
    /// Tenant, auth, TLS, timeouts and headers: `[mimir.connection]`.
    #[serde(default)]
    pub connection: Connection,
    pub write: Option<WriteSection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_load: Option<QueryLoad>,
    #[serde(default)]
    pub queries: Vec<QuerySpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<VisibilitySection>,
    /// Memory and restarts of the target, watched during the run: `[mimir.memory]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<MemorySection>,
}

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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<MemorySection>,
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
        }
    }
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
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

/// A target's memory budget and where its memory is read from.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemorySection {
    /// The limit the target must stay within (`"1Gi"`, `"1.5Gi"`); checked as `<target>.memory peak <= budget`.
    pub budget: ByteSize,
    /// How often memory is read.
    #[serde(default = "defaults::memory_interval")]
    pub interval: Dur,
    /// The target processes' own `/metrics` endpoints (each process must stay within the budget).
    #[serde(default)]
    pub metrics_urls: Vec<String>,
    /// A restart during the run fails it unless this is true (as in a recovery test).
    #[serde(default)]
    pub restarts_expected: bool,
    /// Container figures from a Prometheus-compatible API (cAdvisor and kube-state-metrics).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterMemory>,
}

/// Where the cluster's container metrics can be queried, and which pods are the target.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterMemory {
    /// e.g. `http://prometheus-operated.monitoring.svc:9090`, or Mimir's gateway.
    pub query_url: String,
    #[serde(default)]
    pub query_prefix: String,
    #[serde(default)]
    pub connection: Connection,
    #[serde(default = "defaults::namespace")]
    pub namespace: String,
    /// Regular expression of the target's pod names, e.g. `"mimir-.*"`.
    pub pod_regex: String,
    /// Only this container of those pods (all containers when left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
}

/// How to reach a target: tenant, auth, TLS, timeouts, headers.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    /// Sent as `X-Scope-OrgID`; leave out for a single-tenant target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<Auth>,
    #[serde(default)]
    pub tls: TlsOptions,
    /// Whole-request timeout.
    #[serde(default = "defaults::request_timeout")]
    pub timeout: Dur,
    #[serde(default = "defaults::connect_timeout")]
    pub connect_timeout: Dur,
    /// Extra headers on every request (values of secret-looking headers are redacted in results).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

impl Default for Connection {
    fn default() -> Self {
        Connection {
            tenant: None,
            auth: None,
            tls: TlsOptions::default(),
            timeout: defaults::request_timeout(),
            connect_timeout: defaults::connect_timeout(),
            headers: BTreeMap::new(),
        }
    }
}

/// Credentials are never written in the scenario: only the names of environment variables holding them.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "lowercase")]
pub enum Auth {
    Basic { username_env: String, password_env: String },
    Bearer { token_env: String },
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsOptions {
    /// PEM file of an extra CA to trust (besides the system roots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    /// Speak HTTP/2 without TLS (h2c, prior knowledge); over TLS HTTP/2 is negotiated by ALPN anyway.
    #[serde(default)]
    pub http2_prior_knowledge: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteSection {
    /// Planned remote-write requests per second at steady state. Leave out to derive it from
    /// `series.scrape_interval`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// Bound on requests in flight; a planned request that finds it reached is skipped and counted.
    #[serde(default = "defaults::max_in_flight")]
    pub max_in_flight: usize,
    /// Separate connection pools (one HTTP/2 connection each, or keep-alive pools for HTTP/1.1).
    #[serde(default = "defaults::connections")]
    pub connections: usize,
    pub series: SeriesModel,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesModel {
    /// Number of distinct active series written round-robin.
    pub active: u64,
    /// Metric names the series are spread over.
    #[serde(default = "defaults::metrics")]
    pub metrics: Vec<String>,
    /// Extra labels and their number of distinct values.
    #[serde(default)]
    pub labels: Vec<LabelSpec>,
    /// Samples in one remote-write request (one per series).
    #[serde(default = "defaults::samples_per_request")]
    pub samples_per_request: u64,
    /// Emulated scrape interval: each series gets one sample per interval. Sets the write rate when
    /// `write.rate` is left out (rate = active / (samples_per_request × interval)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scrape_interval: Option<Dur>,
    /// Share of the series replaced every `churn_period` (0.0 to 1.0).
    #[serde(default)]
    pub churn_share: f64,
    #[serde(default = "defaults::churn_period")]
    pub churn_period: Dur,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelSpec {
    pub name: String,
    pub cardinality: u64,
}

/// How PromQL queries are driven: `concurrency` queries always in flight, or a planned `rate`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryLoad {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// Bound on queries in flight when driven at a rate.
    #[serde(default = "defaults::max_in_flight")]
    pub max_in_flight: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuerySpec {
    /// Short name; results are kept under `mimir.query.<name>`.
    pub name: String,
    /// PromQL expression.
    pub query: String,
    /// `instant` (default) or `range`.
    #[serde(default)]
    pub kind: QueryKind,
    /// For range queries: the window ending now (`"1h"`, `"24h"`, `"7d"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<Dur>,
    /// For range queries: the resolution step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<Dur>,
    /// `GET` (default) or `POST` (form body, as Grafana sends).
    #[serde(default)]
    pub method: QueryMethod,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QueryKind {
    #[default]
    Instant,
    Range,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum QueryMethod {
    #[default]
    Get,
    Post,
}

/// Read-after-write checks: a sample of acknowledged writes is read back until it shows up.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisibilitySection {
    /// Check one series of every Nth acknowledged write request.
    #[serde(default = "defaults::sample_every")]
    pub sample_every: u64,
    #[serde(default = "defaults::poll_interval")]
    pub poll_interval: Dur,
    /// A sample not readable this long after its acknowledgement counts as lost.
    #[serde(default = "defaults::visibility_deadline")]
    pub deadline: Dur,
    /// Read-back checks in flight at once.
    #[serde(default = "defaults::visibility_concurrency")]
    pub concurrency: usize,
}

mod defaults {
    use crate::units::Dur;
    pub fn seed() -> u64 {
        1
    }
    pub fn warmup() -> Dur {
        Dur::secs(5)
    }
    pub fn progress_interval() -> Dur {
        Dur::secs(5)
    }
    pub fn drain_timeout() -> Dur {
        Dur::secs(10)
    }
    pub fn request_timeout() -> Dur {
        Dur::secs(10)
    }
    pub fn connect_timeout() -> Dur {
        Dur::secs(3)
    }
    pub fn max_in_flight() -> usize {
        64
    }
    pub fn connections() -> usize {
        4
    }
    pub fn metrics() -> Vec<String> {
        vec!["lgtm_bench_samples_total".into()]
    }
    pub fn samples_per_request() -> u64 {
        500
    }
    pub fn churn_period() -> Dur {
        Dur::secs(600)
    }
    pub fn sample_every() -> u64 {
        20
    }
    pub fn poll_interval() -> Dur {
        Dur::millis(250)
    }
    pub fn visibility_deadline() -> Dur {
        Dur::secs(60)
    }
    pub fn visibility_concurrency() -> usize {
        8
    }
    pub fn memory_interval() -> Dur {
        Dur::secs(5)
    }
    pub fn namespace() -> String {
        "monitoring".into()
    }
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
    pub fn yes() -> bool {
        true
    }
}
