//! The memory watcher as a `Workload`: each planned call reads every watched process's `/metrics`,
//! the cluster's container figures (when configured) and the generator's own RSS, and detects
//! restarts. It runs with one worker, so its state (last start times, restart counts) is its own.

use super::exposition::{self, own_cpu_seconds, own_resident_bytes};
use super::{MemoryEvent, MemoryKind, MemorySample, RestartEvent};
use crate::client::http::HttpTarget;
use crate::client::promql::{classify_query, unix_secs, PromApi};
use crate::scenario::ClusterMemory;
use crate::stats::{OutcomeClass, PathId};
use crate::workload::{CallOutcome, RunClock, Ticket, Workload};
use bytes::Bytes;
use http::{HeaderMap, Method, Uri};
use std::collections::HashMap;
use tokio::sync::mpsc::UnboundedSender;

/// Container figures of the target's pods through PromQL (cAdvisor + kube-state-metrics).
pub struct ClusterProbe {
    pub api: PromApi,
    pub spec: ClusterMemory,
}

impl ClusterProbe {
    /// The label matchers of the target's pods (and container, when one is named).
    pub fn selector(&self) -> String {
        let mut s = format!("namespace=\"{}\",pod=~\"{}\"", self.spec.namespace, self.spec.pod_regex);
        if let Some(c) = &self.spec.container {
            s += &format!(",container=\"{c}\"");
        }
        s
    }

    pub fn working_set_query(&self) -> String {
        format!("max by (pod) (container_memory_working_set_bytes{{{},container!=\"\",container!=\"POD\"}})", self.selector())
    }

    pub fn restarts_query(&self) -> String {
        format!("sum by (pod) (kube_pod_container_status_restarts_total{{{}}})", self.selector())
    }

    pub fn oom_query(&self) -> String {
        format!("max by (pod) (kube_pod_container_status_last_terminated_reason{{{},reason=\"OOMKilled\"}})", self.selector())
    }

    /// `(pod, value)` pairs of an instant query, or the outcome class of its failure.
    pub async fn by_pod(&self, query: &str) -> Result<Vec<(String, f64)>, OutcomeClass> {
        let answer = self.api.instant(0, query, unix_secs(std::time::SystemTime::now())).await.map_err(|e| e.class())?;
        let (class, _) = classify_query(&answer);
        if !class.is_success() {
            return Err(class);
        }
        let json: serde_json::Value = serde_json::from_slice(&answer.body).map_err(|_| OutcomeClass::BadResponse)?;
        let rows = json["data"]["result"].as_array().cloned().unwrap_or_default();
        Ok(rows
            .iter()
            .filter_map(|r| {
                let pod = r["metric"]["pod"].as_str().unwrap_or("?").to_string();
                let v = r["value"][1].as_str()?.parse::<f64>().ok()?;
                Some((pod, v))
            })
            .collect())
    }
}

pub struct MemoryWatch {
    pub target: String,
    pub http: HttpTarget,
    pub urls: Vec<Uri>,
    pub cluster: Option<ClusterProbe>,
    pub path: PathId,
    pub log: UnboundedSender<MemoryEvent>,
    pub clock: RunClock,
}

#[derive(Default)]
pub struct WatchState {
    start_times: HashMap<String, f64>,
    pod_restarts: HashMap<String, f64>,
}

impl MemoryWatch {
    fn sample(&self, target: &str, at: f64, source: &str, kind: MemoryKind, bytes: f64) {
        let sample = MemorySample { at_seconds: at, source: source.to_string(), kind, bytes };
        let _ = self.log.send(MemoryEvent::Sample { target: target.to_string(), sample });
    }

    fn restart(&self, at: f64, source: &str, detail: String) {
        let event = RestartEvent { at_seconds: at, source: source.to_string(), detail };
        let _ = self.log.send(MemoryEvent::Restart { target: self.target.clone(), event });
    }

    async fn scrape(&self, state: &mut WatchState, uri: &Uri, at: f64) -> OutcomeClass {
        let source = uri.to_string();
        let answer = match self.http.send(0, Method::GET, uri, &HeaderMap::new(), Bytes::new()).await {
            Ok(a) if a.status.is_success() => a,
            Ok(a) => return OutcomeClass::from_http_failure(a.status.as_u16()),
            Err(e) => return e.class(),
        };
        let Ok(figures) = exposition::parse(&String::from_utf8_lossy(&answer.body)) else {
            return OutcomeClass::BadResponse;
        };
        self.sample(&self.target, at, &source, MemoryKind::Rss, figures.resident_bytes);
        if let Some(heap) = figures.heap_inuse_bytes {
            self.sample(&self.target, at, &source, MemoryKind::HeapInuse, heap);
        }
        if let Some(start) = figures.start_time_seconds {
            if let Some(previous) = state.start_times.insert(source.clone(), start) {
                if previous != start {
                    self.restart(at, &source, format!("process_start_time_seconds changed from {previous} to {start}"));
                }
            }
        }
        let counters = figures.counters;
        let _ = self.log.send(MemoryEvent::Counters { target: self.target.clone(), source, counters });
        OutcomeClass::Success
    }

    async fn watch_cluster(&self, probe: &ClusterProbe, state: &mut WatchState, at: f64) -> OutcomeClass {
        let working_sets = match probe.by_pod(&probe.working_set_query()).await {
            Ok(rows) => rows,
            Err(class) => return class,
        };
        for (pod, bytes) in working_sets {
            self.sample(&self.target, at, &pod, MemoryKind::ContainerWorkingSet, bytes);
        }
        let Ok(restarts) = probe.by_pod(&probe.restarts_query()).await else { return OutcomeClass::Success };
        let ooms: HashMap<String, f64> = probe.by_pod(&probe.oom_query()).await.unwrap_or_default().into_iter().collect();
        for (pod, count) in restarts {
            if let Some(previous) = state.pod_restarts.insert(pod.clone(), count) {
                if count > previous {
                    let reason = if ooms.get(&pod).copied() == Some(1.0) { "OOMKilled" } else { "restarted" };
                    self.restart(at, &pod, format!("{reason} (kube_pod_container_status_restarts_total {previous} → {count})"));
                }
            }
        }
        OutcomeClass::Success
    }
}

impl Workload for MemoryWatch {
    type State = WatchState;

    fn path_of(&self, _: &Ticket) -> PathId {
        self.path
    }

    fn new_state(&self, _: usize) -> WatchState {
        WatchState::default()
    }

    async fn call(&self, state: &mut WatchState, ticket: Ticket) -> CallOutcome {
        let at = self.clock.offset_ms(ticket.intended) as f64 / 1000.0;
        let sent_at = tokio::time::Instant::now();
        if let Some(rss) = own_resident_bytes() {
            self.sample("generator", at, "lgtm-bench", MemoryKind::Rss, rss);
        }
        if let Some(cpu) = own_cpu_seconds() {
            self.sample("generator", at, "lgtm-bench", MemoryKind::CpuSeconds, cpu);
        }
        let mut class = OutcomeClass::Success;
        for uri in &self.urls {
            let c = self.scrape(state, uri, at).await;
            if class.is_success() {
                class = c;
            }
        }
        if let Some(probe) = &self.cluster {
            let c = self.watch_cluster(probe, state, at).await;
            if class.is_success() {
                class = c;
            }
        }
        CallOutcome::plain(self.path, class, sent_at, self.urls.len() as u64)
    }
}
