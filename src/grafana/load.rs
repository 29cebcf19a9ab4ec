//! One load of a planned dashboard, for any target, as a workload: its variables resolved by the
//! target's `Datasource`, then every panel query (a repeated panel once per value of its variable)
//! `concurrency` at a time; `<target>.dashboard.<name>` from opening it to its last panel's answer,
//! its variable look-ups and each panel recorded as parts on their own paths. The target supplies
//! only how a variable is resolved and how one query is asked.

use super::interpolate::Chosen;
use super::plan::PlannedDashboard;
use crate::engine::launch::Launch;
use crate::stats::paths::PathTable;
use crate::stats::{OutcomeClass, PathId};
use crate::workload::{CallOutcome, Detail, Part, Ticket, Workload};
use futures_util::StreamExt;
use std::collections::BTreeMap;
use std::future::Future;
use std::time::{SystemTime, UNIX_EPOCH};

/// The variables as a load resolved them: their values, the look-ups made (parts on the
/// variables path) and what could not be resolved.
#[derive(Default)]
pub struct Resolved {
    pub chosen: BTreeMap<String, Chosen>,
    pub parts: Vec<Part>,
    pub problems: Vec<String>,
}

/// How a target answers a dashboard: its variables and one query.
pub trait Datasource: Send + Sync + 'static {
    /// Resolves `d`'s variables for the range `window` (unix seconds), recording look-ups on `path`.
    fn variables(&self, d: &PlannedDashboard, window: (f64, f64), pool: usize, path: PathId) -> impl Future<Output = Resolved> + Send;
    /// One panel query over `window` (`step` in seconds; `None`: instant at the end): its class, the
    /// items it counts, and the answer in words for an example.
    fn query(&self, pool: usize, query: &str, step: Option<f64>, window: (f64, f64)) -> impl Future<Output = (OutcomeClass, u64, String)> + Send;
}

/// The paths a dashboard's load records on.
#[derive(Clone, Debug)]
pub struct DashboardPaths {
    pub load: PathId,
    pub variables: PathId,
    /// Each replayed panel's path, by its index in `PlannedDashboard::panels`.
    pub panels: BTreeMap<usize, PathId>,
}

impl PlannedDashboard {
    /// `<target>.dashboard.<name>`.
    pub fn path(&self) -> String {
        format!("{}.dashboard.{}", self.target, self.name)
    }

    /// Its parts' paths: the variables, then each replayed panel (`<path>.<slug>`).
    pub fn part_paths(&self) -> Vec<String> {
        let path = self.path();
        std::iter::once(format!("{path}.variables")).chain(self.panels.iter().filter(|p| p.skipped.is_none()).map(|p| format!("{path}.{}", p.slug))).collect()
    }

    fn register(&self, table: &mut PathTable) -> DashboardPaths {
        let path = self.path();
        DashboardPaths {
            load: table.register(path.clone()),
            variables: table.register(format!("{path}.variables")),
            panels: self
                .panels
                .iter()
                .enumerate()
                .filter(|(_, p)| p.skipped.is_none())
                .map(|(i, p)| (i, table.register(format!("{path}.{}", p.slug))))
                .collect(),
        }
    }

    /// What each replayed panel asks (its first query, interpolated with the saved values).
    pub fn asks(&self) -> Vec<(String, String)> {
        let chosen = self.saved_variables();
        self.panels
            .iter()
            .filter(|p| p.skipped.is_none())
            .filter_map(|p| Some((format!("{}.{}", self.path(), p.slug), self.queries(&p.panel, &chosen).into_iter().next()?.0)))
            .collect()
    }
}

/// Starts `d`'s load on the run's clock: each viewer loads it once per refresh, one load at a time.
pub fn launch<D: Datasource>(l: &mut Launch, d: &PlannedDashboard, source: D) {
    let paths = d.register(&mut l.table);
    let rate = d.spec.viewers as f64 / d.spec.refresh.get().as_secs_f64().max(1e-3);
    let load = DashboardLoad { planned: d.clone(), source, paths, connections: 4 };
    l.open_loop(load, rate, d.spec.viewers.max(1), &d.path());
}

/// One dashboard's load, as a workload.
pub struct DashboardLoad<D> {
    pub planned: PlannedDashboard,
    pub source: D,
    pub paths: DashboardPaths,
    pub connections: usize,
}

/// Every panel query of a load: (panel index, query, step); a repeated panel once per value of its
/// variable, and once when it has none, as Grafana draws it.
fn jobs(d: &PlannedDashboard, chosen: &BTreeMap<String, Chosen>) -> Vec<(usize, String, Option<f64>)> {
    let mut out = Vec::new();
    for (i, p) in d.panels.iter().enumerate().filter(|(_, p)| p.skipped.is_none()) {
        let repeats: Vec<BTreeMap<String, Chosen>> = match p.panel.repeat.as_ref().and_then(|r| chosen.get(r).filter(|c| !c.values.is_empty()).map(|c| (r, c)))
        {
            Some((var, c)) => c
                .values
                .iter()
                .map(|v| {
                    let mut one = chosen.clone();
                    one.insert(var.clone(), Chosen::single(v));
                    one
                })
                .collect(),
            None => vec![chosen.clone()],
        };
        for vars in repeats {
            out.extend(d.queries(&p.panel, &vars).into_iter().map(|(query, step)| (i, query, step)));
        }
    }
    out
}

impl<D: Datasource> Workload for DashboardLoad<D> {
    type State = usize;

    fn path_of(&self, _: &Ticket) -> PathId {
        self.paths.load
    }

    fn new_state(&self, worker: usize) -> usize {
        worker % self.connections.max(1)
    }

    async fn call(&self, pool: &mut usize, _ticket: Ticket) -> CallOutcome {
        let pool = *pool;
        let opened = tokio::time::Instant::now();
        let d = &self.planned;
        let end = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |t| t.as_secs_f64());
        let window = (end - d.spec.range.get().as_secs_f64(), end);
        let Resolved { chosen, mut parts, problems } = self.source.variables(d, window, pool, self.paths.variables).await;
        let source = &self.source;
        let answers: Vec<(usize, String, tokio::time::Instant, tokio::time::Instant, OutcomeClass, u64, String)> = futures_util::stream::iter(jobs(d, &chosen))
            .map(|(i, query, step)| async move {
                let sent_at = tokio::time::Instant::now();
                let (class, items, words) = source.query(pool, &query, step, window).await;
                (i, query, sent_at, tokio::time::Instant::now(), class, items, words)
            })
            .buffer_unordered(d.spec.concurrency.max(1))
            .collect()
            .await;
        let failed = answers.iter().find(|a| !a.4.is_success()).map(|a| (a.4, format!("panel {}: `{}`", d.panels[a.0].slug, a.1), a.6.clone()));
        let queries = answers.len() as u64;
        for (i, query, sent_at, done, class, items, words) in answers {
            parts.push(Part { path: self.paths.panels[&i], class, sent_at, done, items, detail: Some(Detail { key: query, answer: words }) });
        }
        let class = match (&failed, problems.is_empty()) {
            (Some((c, _, _)), _) => *c,
            (None, false) => OutcomeClass::BadResponse,
            (None, true) => OutcomeClass::Success,
        };
        let detail = match failed {
            Some((_, key, answer)) => Some(Box::new(Detail { key, answer })),
            None if !problems.is_empty() => Some(Box::new(Detail { key: "variables".into(), answer: problems.join("; ") })),
            None => None,
        };
        CallOutcome { path: self.paths.load, class, sent_at: opened, items: queries, retries: 0, rejected: 0, detail, parts }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grafana::dashboard::Source;

    fn planned(json: &str) -> (tempfile::TempDir, PlannedDashboard) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("d.json");
        std::fs::write(&file, json).unwrap();
        let spec = toml::from_str(&format!("file = {:?}", file.display().to_string())).unwrap();
        let d = crate::grafana::plan::plan(&spec, Source::Tempo, "tempo").unwrap();
        (dir, d)
    }

    #[test]
    fn a_repeated_panel_is_asked_once_per_value_and_once_without_values() {
        let json = r#"{"title":"t","panels":[
            {"type":"table","id":1,"title":"by service","repeat":"svc","datasource":{"type":"tempo","uid":"t"},
             "targets":[{"query":"{ resource.service.name = \"$svc\" }","datasource":{"type":"tempo","uid":"t"}}]},
            {"type":"table","id":2,"title":"all","datasource":{"type":"tempo","uid":"t"},
             "targets":[{"query":"{ status = error }","datasource":{"type":"tempo","uid":"t"}}]}]}"#;
        let (_dir, d) = planned(json);
        let two = Chosen { values: vec!["api".into(), "db".into()], multi: true, include_all: false, all: false, all_value: None };
        let asked: Vec<String> = jobs(&d, &BTreeMap::from([("svc".to_string(), two)])).into_iter().map(|j| j.1).collect();
        assert_eq!(asked, ["{ resource.service.name = \"api\" }", "{ resource.service.name = \"db\" }", "{ status = error }"]);
        let none = Chosen { values: vec![], ..Chosen::single("") };
        assert_eq!(jobs(&d, &BTreeMap::from([("svc".to_string(), none)])).len(), 2);
    }
}
