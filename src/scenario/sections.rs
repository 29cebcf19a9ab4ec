//! Scenario sections every target shares: the run's timing, how to reach a target (tenant, auth,
//! TLS, timeouts, headers), its memory budget and how a query load is driven. Serde types with
//! `deny_unknown_fields` and a default for every optional key; checks live in `checks.rs`.

pub use crate::client::config::{Auth, Connection, TlsOptions};
use crate::units::{ByteSize, Dur};
use serde::{Deserialize, Serialize};

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
    /// The interval of the per-interval histograms and counts in the results (default: the
    /// progress interval).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results_interval: Option<Dur>,
    /// How long requests still in flight at the end of the plan may take before they are abandoned.
    #[serde(default = "defaults::drain_timeout")]
    pub drain_timeout: Dur,
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

/// How queries are driven: `concurrency` queries always in flight, or a planned `rate`.
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

impl MemorySection {
    /// Redacts the cluster connection's secrets.
    pub fn redact(&mut self) {
        if let Some(c) = &mut self.cluster {
            c.connection.redact();
        }
    }
}

/// Defaults shared by every target's sections.
pub mod defaults {
    use crate::units::Dur;
    pub fn connections() -> usize {
        4
    }
    pub fn drain_timeout() -> Dur {
        Dur::secs(10)
    }
    pub fn max_in_flight() -> usize {
        64
    }
    pub fn memory_interval() -> Dur {
        Dur::secs(5)
    }
    pub fn namespace() -> String {
        "monitoring".into()
    }
    pub fn progress_interval() -> Dur {
        Dur::secs(5)
    }
    pub fn sample_every() -> u64 {
        20
    }
    pub fn seed() -> u64 {
        1
    }
    pub fn visibility_concurrency() -> usize {
        8
    }
    pub fn warmup() -> Dur {
        Dur::secs(5)
    }
}
