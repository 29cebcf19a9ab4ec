//! Grafana dashboards as the query load: `[[mimir.dashboards]]` replays a dashboard as its viewers
//! load it. `grafana` reads its JSON, `interpolate` applies Grafana's template rules,
//! `variables` resolves its variables through the target, and this file plans the panels (each
//! replayable one with its queries, the others listed with the reason they are skipped) and is the
//! workload: one call is one load of the dashboard, `mimir.dashboard.<name>` from opening it to its
//! last panel's answer, with the variable look-ups (`….variables`) and each panel's queries
//! (`….<panel>`) recorded as their own paths.

pub mod variables;

pub use crate::grafana::dashboard as grafana;
pub use crate::grafana::interpolate;
pub use crate::grafana::plan::{PlannedDashboard, PlannedPanel};

/// Reads and plans a dashboard for Mimir (its Prometheus panels).
pub fn plan(spec: &super::config::DashboardSpec) -> Result<PlannedDashboard, String> {
    crate::grafana::plan::plan(spec, grafana::Source::Prometheus, "mimir")
}

use crate::client::promql::{classify_query, unix_secs, PromApi};
use crate::stats::{OutcomeClass, PathId};
use crate::workload::{CallOutcome, Detail, Part, Ticket, Workload};
use futures_util::StreamExt;
use interpolate::Chosen;
use std::collections::BTreeMap;
use std::time::SystemTime;

/// One dashboard's load, as a workload.
pub struct DashboardLoad {
    pub planned: PlannedDashboard,
    pub api: PromApi,
    pub path: PathId,
    pub variables_path: PathId,
    /// Each panel's path, by its index in `planned.panels`.
    pub panel_paths: BTreeMap<usize, PathId>,
    pub connections: usize,
}

impl Workload for DashboardLoad {
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
        let end = unix_secs(SystemTime::now());
        let start = end - d.spec.range.get().as_secs_f64();
        let builtins = d.builtins();
        let pins = d.spec.variables.iter().map(|(k, v)| (k.clone(), v.values())).collect();
        let (chosen, lookups, problems) = variables::resolve(&d.dashboard.variables, &pins, &builtins, (start, end), &self.api, pool).await;
        let mut parts: Vec<Part> = lookups
            .into_iter()
            .map(|l| Part {
                path: self.variables_path,
                class: l.class,
                sent_at: l.sent_at,
                done: l.done,
                items: 1,
                detail: Some(Detail { key: format!("${} {}", l.variable, l.path), answer: l.class.as_str().into() }),
            })
            .collect();
        // Every panel query (repeated panels once per value of their variable), `concurrency` at a time.
        let mut jobs = Vec::new();
        for (i, p) in d.panels.iter().enumerate().filter(|(_, p)| p.skipped.is_none()) {
            // A repeat over no value at all draws the panel once, as Grafana does.
            let repeats: Vec<BTreeMap<String, Chosen>> =
                match p.panel.repeat.as_ref().and_then(|r| chosen.get(r).filter(|c| !c.values.is_empty()).map(|c| (r, c))) {
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
                for (query, step) in d.queries(&p.panel, &vars) {
                    jobs.push((i, query, step));
                }
            }
        }
        let api = &self.api;
        let answers: Vec<(usize, String, tokio::time::Instant, tokio::time::Instant, OutcomeClass, u64, String)> = futures_util::stream::iter(jobs)
            .map(|(i, query, step)| async move {
                let sent_at = tokio::time::Instant::now();
                let path = match step {
                    Some(step) => {
                        // Grafana aligns the range to the step.
                        let (s, e) = ((start / step).floor() * step, (end / step).floor() * step);
                        format!("/api/v1/query_range?query={}&start={s}&end={e}&step={step}", enc(&query))
                    }
                    None => format!("/api/v1/query?query={}&time={end:.3}", enc(&query)),
                };
                let (class, items, words) = match api.get(pool, &path).await {
                    Ok(a) => {
                        let (class, items) = classify_query(&a);
                        (class, items, super::write::classify::in_words(&a))
                    }
                    Err(e) => (e.class(), 0, e.to_string()),
                };
                (i, query, sent_at, tokio::time::Instant::now(), class, items, words)
            })
            .buffer_unordered(d.spec.concurrency.max(1))
            .collect()
            .await;
        let failed = answers.iter().find(|a| !a.4.is_success()).map(|a| (a.4, format!("panel {}: `{}`", d.panels[a.0].slug, a.1), a.6.clone()));
        let queries = answers.len() as u64;
        for (i, query, sent_at, done, class, items, words) in answers {
            parts.push(Part { path: self.panel_paths[&i], class, sent_at, done, items, detail: Some(Detail { key: query, answer: words }) });
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
        CallOutcome { path: self.path, class, sent_at: opened, items: queries, retries: 0, rejected: 0, detail, parts }
    }
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
