//! Grafana dashboards' Tempo panels as the query load (`[[tempo.dashboards]]`): one call is one
//! load of the dashboard, its TraceQL panels searched over its range (`limit` from the query, 20 by
//! default), `concurrency` at a time; `tempo.dashboard.<name>` from opening it to its last panel's
//! answer, each panel its own path. Variables in order: a Tempo query variable
//! (`label_values(<tag>)`) through Tempo's tag values API, as Grafana's Tempo datasource asks
//! (`….variables`); the others take their pinned or saved values.

use super::query::{read_search, TempoApi};
use crate::grafana::interpolate::Chosen;
use crate::grafana::plan::PlannedDashboard;
use crate::stats::{OutcomeClass, PathId};
use crate::workload::{CallOutcome, Detail, Part, Ticket, Workload};
use futures_util::StreamExt;
use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// Reads and plans a dashboard for Tempo (its Tempo panels).
pub fn plan(spec: &crate::grafana::spec::DashboardSpec) -> Result<PlannedDashboard, String> {
    crate::grafana::plan::plan(spec, crate::grafana::dashboard::Source::Tempo, "tempo")
}

/// One dashboard's load, as a workload.
pub struct TempoDashboardLoad {
    pub planned: PlannedDashboard,
    pub api: TempoApi,
    pub path: PathId,
    /// Each panel's path, by its index in `planned.panels`.
    pub panel_paths: BTreeMap<usize, PathId>,
    pub variables_path: PathId,
    pub connections: usize,
}

/// The tag a Tempo variable query asks the values of (`label_values(resource.service.name)`).
pub fn tag_of(query: &str) -> Option<&str> {
    query.trim().strip_prefix("label_values(")?.strip_suffix(')').map(str::trim).filter(|t| !t.is_empty())
}

impl TempoDashboardLoad {
    /// Every variable's value: Tempo query variables from the target's tag values, in order.
    async fn variables(&self, pool: usize) -> (BTreeMap<String, Chosen>, Vec<Part>) {
        use crate::grafana::dashboard::{Source, VariableKind};
        let d = &self.planned;
        let mut chosen = d.saved_variables();
        let mut parts = Vec::new();
        for v in d.dashboard.variables.iter().filter(|v| v.kind == VariableKind::Query && v.source == Source::Tempo) {
            let Some(tag) = tag_of(&v.query) else { continue };
            let sent_at = tokio::time::Instant::now();
            let (class, options) = match self.api.tag_values(pool, tag).await {
                Ok(a) if a.status.is_success() => match serde_json::from_slice::<serde_json::Value>(&a.body) {
                    Ok(json) => (
                        OutcomeClass::Success,
                        json["tagValues"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|t| t["value"].as_str().or(t.as_str()).map(String::from))
                            .collect::<Vec<_>>(),
                    ),
                    Err(_) => (OutcomeClass::BadResponse, vec![]),
                },
                Ok(a) => (OutcomeClass::from_http_failure(a.status.as_u16()), vec![]),
                Err(e) => (e.class(), vec![]),
            };
            let pinned = d.spec.variables.get(&v.name).map(|p| p.values());
            chosen.insert(v.name.clone(), crate::grafana::plan::choose(v, &options, pinned.as_ref()));
            let detail = Some(Detail { key: format!("${} values of {tag}", v.name), answer: class.as_str().into() });
            parts.push(Part { path: self.variables_path, class, sent_at, done: tokio::time::Instant::now(), items: options.len() as u64, detail });
        }
        (chosen, parts)
    }
}

impl Workload for TempoDashboardLoad {
    type State = usize;

    fn path_of(&self, _: &Ticket) -> PathId {
        self.path
    }

    fn new_state(&self, worker: usize) -> usize {
        worker % self.connections.max(1)
    }

    async fn call(&self, pool: &mut usize, _ticket: Ticket) -> CallOutcome {
        let pool = *pool;
        let opened = tokio::time::Instant::now();
        let d = &self.planned;
        let end = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |t| t.as_secs());
        let start = end.saturating_sub(d.spec.range.get().as_secs());
        let (chosen, mut parts) = self.variables(pool).await;
        let jobs: Vec<(usize, String)> = d
            .panels
            .iter()
            .enumerate()
            .filter(|(_, p)| p.skipped.is_none())
            .flat_map(|(i, p)| d.queries(&p.panel, &chosen).into_iter().map(move |(q, _)| (i, q)))
            .collect();
        let api = &self.api;
        let answers: Vec<(usize, String, tokio::time::Instant, tokio::time::Instant, OutcomeClass, u64, String)> = futures_util::stream::iter(jobs)
            .map(|(i, query)| async move {
                let sent_at = tokio::time::Instant::now();
                let (class, items, words) = match api.search(pool, &query, start, end + 1, 20).await {
                    Ok(a) => match read_search(&a) {
                        Ok(ids) => (OutcomeClass::Success, ids.len() as u64, String::new()),
                        Err(c) => (c, 0, format!("HTTP {}: {}", a.status.as_u16(), crate::engine::preflight::excerpt(&a.body))),
                    },
                    Err(e) => (e.class(), 0, e.to_string()),
                };
                (i, query, sent_at, tokio::time::Instant::now(), class, items, words)
            })
            .buffer_unordered(d.spec.concurrency.max(1))
            .collect()
            .await;
        let failed = answers.iter().find(|a| !a.4.is_success()).map(|a| (a.4, format!("panel {}: `{}`", d.panels[a.0].slug, a.1), a.6.clone()));
        let queries = answers.len() as u64;
        parts.extend(answers.into_iter().map(|(i, query, sent_at, done, class, items, words)| Part {
            path: self.panel_paths[&i],
            class,
            sent_at,
            done,
            items,
            detail: Some(Detail { key: query, answer: words }),
        }));
        let class = failed.as_ref().map_or(OutcomeClass::Success, |f| f.0);
        let detail = failed.map(|(_, key, answer)| Box::new(Detail { key, answer }));
        CallOutcome { path: self.path, class, sent_at: opened, items: queries, retries: 0, rejected: 0, detail, parts }
    }
}
