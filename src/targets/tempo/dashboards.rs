//! Grafana dashboards' Tempo panels as the query load (`[[tempo.dashboards]]`), Tempo as the
//! datasource of `grafana::load`'s workload: one call is one load of the dashboard (a repeated
//! panel once per value of its variable), its TraceQL panels searched over its range (`limit` from the query, 20 by
//! default), `concurrency` at a time; `tempo.dashboard.<name>` from opening it to its last panel's
//! answer, each panel its own path. Variables in order: a Tempo query variable
//! (`label_values(<tag>)`) through Tempo's tag values API, as Grafana's Tempo datasource asks
//! (`….variables`); the others take their pinned or saved values.

use super::query::{read_search, TempoApi};
use crate::grafana::load::{Datasource, Resolved};
use crate::grafana::plan::PlannedDashboard;
use crate::stats::{OutcomeClass, PathId};
use crate::workload::{Detail, Part};

/// Reads and plans a dashboard for Tempo (its Tempo panels).
pub fn plan(spec: &crate::grafana::spec::DashboardSpec) -> Result<PlannedDashboard, String> {
    crate::grafana::plan::plan(spec, crate::grafana::dashboard::Source::Tempo, "tempo")
}

/// Tempo as a dashboard's datasource: Grafana's Tempo datasource's calls.
pub struct TempoSource {
    pub api: TempoApi,
}

/// The tag a Tempo variable query asks the values of (`label_values(resource.service.name)`).
pub fn tag_of(query: &str) -> Option<&str> {
    query.trim().strip_prefix("label_values(")?.strip_suffix(')').map(str::trim).filter(|t| !t.is_empty())
}

impl Datasource for TempoSource {
    /// Every variable's value: Tempo query variables from the target's tag values, in order.
    async fn variables(&self, d: &PlannedDashboard, _window: (f64, f64), pool: usize, path: PathId) -> Resolved {
        use crate::grafana::dashboard::{Source, VariableKind};
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
            parts.push(Part { path, class, sent_at, done: tokio::time::Instant::now(), items: options.len() as u64, detail });
        }
        Resolved { chosen, parts, problems: vec![] }
    }

    /// A TraceQL search over the whole window (whole seconds, its end included), 20 traces.
    async fn query(&self, pool: usize, query: &str, _step: Option<f64>, (start, end): (f64, f64)) -> (OutcomeClass, u64, String) {
        let (start, end) = (start.max(0.0) as u64, end.max(0.0) as u64);
        match self.api.search(pool, query, start, end + 1, 20).await {
            Ok(a) => match read_search(&a) {
                Ok(ids) => (OutcomeClass::Success, ids.len() as u64, String::new()),
                Err(c) => (c, 0, format!("HTTP {}: {}", a.status.as_u16(), crate::engine::preflight::excerpt(&a.body))),
            },
            Err(e) => (e.class(), 0, e.to_string()),
        }
    }
}
