//! Mimir's scenario section (`[mimir]`): endpoints, remote-write load and its series model, PromQL
//! queries, read-after-write and memory. What may be written; checks live in `validate.rs`.

use crate::scenario::{Connection, MemorySection, QueryLoad};
use crate::units::Dur;
use serde::{Deserialize, Serialize};

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
    /// Grafana dashboards replayed as people open them: `[[mimir.dashboards]]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dashboards: Vec<DashboardSpec>,
}

pub use crate::grafana::spec::{DashboardSpec, PinnedValue};

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
    /// Send as Prometheus's remote-write queue manager does: `[mimir.write.queue]`. Without it each
    /// scrape tick is one request sent as soon as an in-flight slot is free, which can reorder the
    /// samples of one series.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueueSection>,
    /// `rw1` (Prometheus remote-write 1.0, default), `rw2` (remote-write 2.0: a symbols table,
    /// metadata inline, written-count headers checked) or `otlp` (OTLP/HTTP metrics).
    #[serde(default)]
    pub protocol: WriteProtocol,
    /// `protocol = "otlp"` only: gzip the request body.
    #[serde(default)]
    pub gzip: bool,
    /// `protocol = "otlp"` only: the name translation the target applies (Mimir's and Cortex's
    /// default `suffixes`: `_total` on monotonic sums, unit suffixes such as `_seconds`; `none`
    /// when it keeps names as sent).
    #[serde(default)]
    pub otlp_names: OtlpNames,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteProtocol {
    #[default]
    Rw1,
    Rw2,
    Otlp,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OtlpNames {
    #[default]
    Suffixes,
    None,
}

/// Prometheus's `queue_config`, with its names and defaults. Each series belongs to one shard (by
/// a hash of its identity); a shard sends one request at a time, in timestamp order, and retries
/// block it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueSection {
    /// Samples each shard holds before the scrape side waits (and lags).
    #[serde(default = "defaults::queue_capacity")]
    pub capacity: usize,
    #[serde(default = "defaults::queue_max_shards")]
    pub max_shards: usize,
    #[serde(default = "defaults::queue_min_shards")]
    pub min_shards: usize,
    #[serde(default = "defaults::queue_max_samples_per_send")]
    pub max_samples_per_send: usize,
    /// A partial batch goes out this long after the shard's last send.
    #[serde(default = "defaults::queue_batch_send_deadline")]
    pub batch_send_deadline: Dur,
    /// First retry wait; doubled on every retry of the same batch up to `max_backoff`.
    #[serde(default = "defaults::queue_min_backoff")]
    pub min_backoff: Dur,
    #[serde(default = "defaults::queue_max_backoff")]
    pub max_backoff: Dur,
    /// Retry 429 answers (honouring `Retry-After`) instead of dropping the batch.
    #[serde(default = "defaults::queue_retry_on_http_429")]
    pub retry_on_http_429: bool,
    /// Samples older than this when (re)sent are dropped and counted; `0s` keeps them.
    #[serde(default)]
    pub sample_age_limit: Dur,
}

impl Default for QueueSection {
    fn default() -> Self {
        QueueSection {
            capacity: defaults::queue_capacity(),
            max_shards: defaults::queue_max_shards(),
            min_shards: defaults::queue_min_shards(),
            max_samples_per_send: defaults::queue_max_samples_per_send(),
            batch_send_deadline: defaults::queue_batch_send_deadline(),
            min_backoff: defaults::queue_min_backoff(),
            max_backoff: defaults::queue_max_backoff(),
            retry_on_http_429: defaults::queue_retry_on_http_429(),
            sample_age_limit: Dur::default(),
        }
    }
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
    /// Metric families by type, each with its share of the `active` series (buckets, `_sum` and
    /// `_count` count as series, as the target counts them). Without it, `metrics` are counters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub families: Vec<FamilySpec>,
    /// A ready mix of families instead of `families`: `kube-prometheus` (node-exporter,
    /// kube-state-metrics and cAdvisor as one scrape of kube-prometheus-stack sends them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<Preset>,
    /// Share (0.0 to 1.0) of counter and classic-bucket samples that carry an exemplar pointing at
    /// one of this run's traces (`trace_id` label; the trace of request `n` is trace `n`, the ids
    /// Tempo's path writes with the same seed and run).
    #[serde(default)]
    pub exemplar_share: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    KubePrometheus,
}

/// The type of a metric family, as Prometheus's exposition and metadata name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FamilyKind {
    Counter,
    Gauge,
    /// A classic histogram: a `_bucket` series per `le`, `_sum` and `_count`.
    Histogram,
    /// Quantile series, `_sum` and `_count`.
    Summary,
    /// One series of exponential buckets (the target needs native histograms enabled).
    NativeHistogram,
}

/// One metric family of the series model.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FamilySpec {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: FamilyKind,
    /// Its share of the active series (the shares are normalised).
    pub share: f64,
    /// Classic histogram upper bounds (default Prometheus's `DefBuckets`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buckets: Option<Vec<f64>>,
    /// Summary quantiles (default 0.5, 0.9, 0.99).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantiles: Option<Vec<f64>>,
    /// Native histogram schema, -4 to 8 (default 3: 8 buckets per power of two).
    #[serde(default = "defaults::native_schema")]
    pub schema: i32,
    /// Native histogram buckets an instance fills (default 8).
    #[serde(default = "defaults::native_buckets")]
    pub native_buckets: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// This family's own labels, in place of the model's `labels`: each cycles through its values
    /// on its own, so each reaches its cardinality once the family has that many instances (as
    /// `pod` and `namespace` do on one metric), where the model's labels multiply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<LabelSpec>>,
}

/// `[export]`: where `run --export-metrics` and the canary stream each interval's figures by
/// remote-write, with a tenant of their own and Prometheus's queue settings.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportSection {
    /// The remote-write endpoint (`--export-metrics` overrides it), e.g. Mimir's /api/v1/push.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The tenant (X-Scope-OrgID) the figures go to (`--export-tenant` overrides it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The queue's settings (`max_samples_per_send`, `min_backoff`, `max_backoff`; the others are
    /// not used by the export's one sender).
    #[serde(default)]
    pub queue: QueueSection,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelSpec {
    pub name: String,
    pub cardinality: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuerySpec {
    /// Short name; results are kept under `mimir.query.<name>`.
    pub name: String,
    /// PromQL expression; `$run_id` is replaced by this run's id, e.g. `{lgtm_bench_run="$run_id"}`
    /// to measure the run's own data (repeatable) rather than the whole tenant (grows with every run).
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
    /// `bypass` (default): the query-frontend's results cache is skipped (`Cache-Control:
    /// no-store`), so a repeated query measures the query path; `allow` measures it warm.
    #[serde(default)]
    pub cache: CachePolicy,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CachePolicy {
    #[default]
    Bypass,
    Allow,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QueryKind {
    #[default]
    Instant,
    Range,
    /// `/api/v1/query_exemplars` over `range` ending now: counts the exemplars returned.
    Exemplars,
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
    pub use crate::scenario::defaults::*;
    use crate::units::Dur;
    pub fn metrics() -> Vec<String> {
        vec!["lgtm_bench_samples_total".into()]
    }
    pub fn samples_per_request() -> u64 {
        500
    }
    pub fn churn_period() -> Dur {
        Dur::secs(600)
    }
    pub fn native_schema() -> i32 {
        3
    }
    pub fn native_buckets() -> u32 {
        8
    }
    pub fn poll_interval() -> Dur {
        Dur::millis(250)
    }
    pub fn visibility_deadline() -> Dur {
        Dur::secs(60)
    }
    // Prometheus's queue_config defaults.
    pub fn queue_capacity() -> usize {
        10_000
    }
    pub fn queue_max_shards() -> usize {
        50
    }
    pub fn queue_min_shards() -> usize {
        1
    }
    pub fn queue_max_samples_per_send() -> usize {
        2_000
    }
    pub fn queue_batch_send_deadline() -> Dur {
        Dur::secs(5)
    }
    pub fn queue_min_backoff() -> Dur {
        Dur::millis(30)
    }
    pub fn queue_max_backoff() -> Dur {
        Dur::secs(5)
    }
    pub fn queue_retry_on_http_429() -> bool {
        true
    }
}
