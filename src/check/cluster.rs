//! Memory and restarts of the targets' pods, read through the cluster's Prometheus with the memory
//! watch's own queries (`ClusterProbe`) (kube-state-metrics for limits, restarts and OOM kills; cAdvisor for the working
//! set): each pod's memory limit at or under its budget, its working set now, restarts, OOM kills.
//! Also the small PromQL helper the core's checks share.

use super::model::Criterion;
use crate::client::http::HttpTarget;
use crate::client::promql::{unix_secs, PromApi};
use crate::units::ByteSize;
use crate::watch::scrape::ClusterProbe;
use std::collections::BTreeMap;
use std::time::SystemTime;

/// One sample of an instant vector: its labels and value.
pub type Sample = (BTreeMap<String, String>, f64);

/// Runs an instant query now and returns its vector (a scalar as one unlabelled sample).
pub async fn vector(api: &PromApi, query: &str) -> Result<Vec<Sample>, String> {
    vector_at(api, query, unix_secs(SystemTime::now())).await
}

/// The same at `at` (unix seconds).
pub async fn vector_at(api: &PromApi, query: &str, at: f64) -> Result<Vec<Sample>, String> {
    let answer = api.instant(0, query, at).await.map_err(|e| format!("{} did not answer: {e}", api.base))?;
    if !answer.status.is_success() {
        return Err(format!("`{query}`: HTTP {} {}", answer.status.as_u16(), crate::engine::preflight::excerpt(&answer.body)));
    }
    let json: serde_json::Value = serde_json::from_slice(&answer.body).map_err(|e| format!("`{query}`: not the Prometheus API's JSON: {e}"))?;
    let data = &json["data"];
    let value = |v: &serde_json::Value| v[1].as_str().and_then(|s| s.parse::<f64>().ok());
    match data["resultType"].as_str() {
        Some("vector") => Ok(data["result"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| {
                let labels = s["metric"].as_object()?.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect();
                Some((labels, value(&s["value"])?))
            })
            .collect()),
        Some("scalar") => Ok(value(&data["result"]).map(|v| vec![(BTreeMap::new(), v)]).unwrap_or_default()),
        other => Err(format!("`{query}`: unexpected result type {}", other.unwrap_or("(none)"))),
    }
}

/// The value of a query that sums to one number (`None` when the vector is empty).
pub async fn scalar(api: &PromApi, query: &str) -> Result<Option<f64>, String> {
    Ok(vector(api, query).await?.first().map(|s| s.1))
}

/// Memory limit, working set, restarts and OOM kills of every target whose memory section reads
/// the cluster (`<target>.memory.cluster`).
pub async fn memory_and_restarts(targets: &[Box<dyn super::TargetChecks>]) -> Vec<Criterion> {
    let mut out = Vec::new();
    for t in targets {
        let title =
            format!("{} pods: memory limit within the {} budget, no restarts or OOM kills", t.name(), t.memory().map_or("?".into(), |m| m.budget.to_string()));
        let Some(mem) = t.memory() else {
            out.push(Criterion::skipped(
                "NFR-SCALE-002",
                &title,
                format!("set [{}.memory] with a budget and [{}.memory.cluster] to check it", t.name(), t.name()),
            ));
            continue;
        };
        let Some(c) = &mem.cluster else {
            out.push(Criterion::skipped(
                "NFR-SCALE-002",
                &title,
                format!("set [{}.memory.cluster] (the cluster's Prometheus, namespace, pod_regex) to check it", t.name()),
            ));
            continue;
        };
        let probe = match HttpTarget::new(&c.connection, 1) {
            Ok(h) => ClusterProbe { api: PromApi::new(h, &c.query_url, &c.query_prefix), spec: c.clone() },
            Err(e) => {
                out.push(Criterion::new("NFR-SCALE-002", &title).fail(e.to_string()));
                continue;
            }
        };
        out.push(pods(&probe, mem.budget.0 as f64, Criterion::new("NFR-SCALE-002", &title)).await);
    }
    out
}

/// The pods' limits against the budget, then the memory watch's own queries: working set now,
/// restarts, OOM kills.
async fn pods(probe: &ClusterProbe, budget: f64, mut c: Criterion) -> Criterion {
    let sel = probe.selector();
    let limits = match vector(&probe.api, &format!("kube_pod_container_resource_limits{{{sel},resource=\"memory\"}}")).await {
        Ok(v) => v,
        Err(e) => return c.fail(format!("the cluster's Prometheus could not be read: {e}")),
    };
    if limits.is_empty() {
        return c.fail(format!("no pod matches {{{sel}}} with a memory limit (kube-state-metrics): check pod_regex, namespace, or set limits"));
    }
    for (labels, limit) in &limits {
        let who = format!("{}/{}", labels.get("pod").map_or("?", String::as_str), labels.get("container").map_or("?", String::as_str));
        c = c.expect(
            *limit <= budget,
            format!("{who}: limit {}", ByteSize(*limit as u64)),
            format!("{who}: limit {} is over the {} budget", ByteSize(*limit as u64), ByteSize(budget as u64)),
        );
    }
    if let Ok(ws) = probe.by_pod(&probe.working_set_query()).await {
        for (pod, v) in ws {
            c = c.saw(format!("{pod}: working set now {}", ByteSize(v as u64)));
        }
    }
    match probe.by_pod(&probe.restarts_query()).await {
        Ok(pods) if pods.is_empty() => c = c.saw("restarts: not reported by kube-state-metrics"),
        Ok(pods) => {
            let n: f64 = pods.iter().map(|(_, v)| v).sum();
            c = c.expect(n == 0.0, format!("restarts: {n:.0}"), format!("{n:.0} restart(s)"));
        }
        Err(class) => c = c.fail(format!("restarts could not be read: {}", class.as_str())),
    }
    if let Ok(oom) = probe.by_pod(&probe.oom_query()).await {
        for (pod, _) in oom.into_iter().filter(|(_, v)| *v == 1.0) {
            c = c.fail(format!("{pod} was OOM-killed (last terminated reason OOMKilled)"));
        }
    }
    c
}
