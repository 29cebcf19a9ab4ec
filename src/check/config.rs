//! The scenario's `[check]` section: what `check` needs beyond what `run` already knows (the
//! targets' URLs and tenants): the S3 endpoint and buckets, Grafana and its datasources, the
//! cluster Prometheus that remote-writes into Mimir. Credentials are named by environment
//! variable, never written in the file. Whatever is left out is SKIPPED with the key to set.

use crate::scenario::{Problem, RunSection};
use crate::units::Dur;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3Section>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grafana: Option<GrafanaSection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_write_queue: Option<QueueSection>,
}

/// The object store Tempo and Mimir write to.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Section {
    /// `https://s3.example.org` (path-style buckets: `<endpoint>/<bucket>/<key>`).
    pub endpoint: String,
    #[serde(default = "defaults::region")]
    pub region: String,
    /// Environment variables holding the credentials (never the credentials themselves).
    #[serde(default = "defaults::access_key_env")]
    pub access_key_env: String,
    #[serde(default = "defaults::secret_key_env")]
    pub secret_key_env: String,
    /// Tempo's bucket (`tempo-traces`); its check is skipped without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tempo_bucket: Option<String>,
    /// Mimir's blocks bucket (`mimir-blocks`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mimir_bucket: Option<String>,
}

/// Grafana and the datasources it must have.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrafanaSection {
    pub url: String,
    /// Environment variable holding a service-account token (Bearer).
    #[serde(default = "defaults::grafana_token_env")]
    pub token_env: String,
    pub datasources: Vec<DatasourceExpectation>,
    /// AC-lgtm-005-04: add a temporary datasource at an address nothing listens on, read its
    /// health check's error message, and delete it (the token needs datasources:create and
    /// :delete). Off by default: without it the message is judged only when a datasource fails.
    #[serde(default)]
    pub probe_unreachable: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasourceExpectation {
    pub uid: String,
    /// The datasource type, e.g. `tempo`, `prometheus`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The URL it must point at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The cluster's Prometheus that remote-writes into Mimir, and what its queue must show.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueSection {
    /// That Prometheus's own query API, e.g. `http://kube-prometheus-stack-prometheus.monitoring.svc:9090`.
    pub prometheus_url: String,
    /// Which remote-write queue (regex on its `url` label); every queue by default.
    #[serde(default = "defaults::any_url")]
    pub url_regex: String,
    /// Samples pending must stay under this.
    #[serde(default = "defaults::max_pending")]
    pub max_pending: f64,
    /// How long to watch "samples sent still increasing".
    #[serde(default = "defaults::window")]
    pub window: Dur,
}

mod defaults {
    pub fn region() -> String {
        "us-east-1".into()
    }
    pub fn access_key_env() -> String {
        "S3_ACCESS_KEY_ID".into()
    }
    pub fn secret_key_env() -> String {
        "S3_SECRET_ACCESS_KEY".into()
    }
    pub fn grafana_token_env() -> String {
        "GRAFANA_TOKEN".into()
    }
    pub fn any_url() -> String {
        ".*".into()
    }
    pub fn max_pending() -> f64 {
        1000.0
    }
    pub fn window() -> crate::units::Dur {
        crate::units::Dur::secs(30)
    }
}

/// Every problem in the section, with its key.
pub fn validate(c: &CheckSection, _run: &RunSection, out: &mut Vec<Problem>) {
    let url = |key: &str, value: &str, out: &mut Vec<Problem>| {
        if crate::client::http::check_url(value).is_err() {
            out.push(Problem::new(key, format!("`{value}` is not an http(s) URL")));
        }
    };
    if let Some(s3) = &c.s3 {
        url("check.s3.endpoint", &s3.endpoint, out);
        if s3.tempo_bucket.is_none() && s3.mimir_bucket.is_none() {
            out.push(Problem::new("check.s3", "name at least one bucket: tempo_bucket = \"tempo-traces\" and/or mimir_bucket = \"mimir-blocks\""));
        }
    }
    if let Some(g) = &c.grafana {
        url("check.grafana.url", &g.url, out);
        if g.datasources.is_empty() {
            out.push(Problem::new("check.grafana.datasources", "list the datasources to check, e.g. [{ uid = \"mimir\", kind = \"prometheus\" }]"));
        }
    }
    if let Some(q) = &c.remote_write_queue {
        url("check.remote_write_queue.prometheus_url", &q.prometheus_url, out);
        if regex_lite_ok(&q.url_regex).is_err() {
            out.push(Problem::new("check.remote_write_queue.url_regex", format!("`{}` has unbalanced brackets or a quote", q.url_regex)));
        }
    }
}

/// The regex goes into a PromQL string: refuse what would break out of it.
fn regex_lite_ok(r: &str) -> Result<(), ()> {
    let balanced = r.matches('(').count() == r.matches(')').count() && r.matches('[').count() == r.matches(']').count();
    if balanced && !r.contains('"') && !r.contains('\\') {
        Ok(())
    } else {
        Err(())
    }
}
