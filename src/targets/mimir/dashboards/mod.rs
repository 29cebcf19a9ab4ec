//! Grafana dashboards as the query load: `[[mimir.dashboards]]` replays a dashboard as its viewers
//! load it. `grafana` reads its JSON, `interpolate` applies Grafana's template rules,
//! `variables` resolves its variables through the target, and this file plans the panels (each
//! replayable one with its queries, the others listed with the reason they are skipped) and is
//! Mimir as the datasource of `grafana::load`'s workload: one call is one load of the dashboard,
//! `mimir.dashboard.<name>` from opening it to its last panel's answer, with the variable look-ups
//! (`….variables`) and each panel's queries (`….<panel>`) recorded as their own paths.

pub mod variables;

pub use crate::grafana::dashboard as grafana;
pub use crate::grafana::interpolate;
pub use crate::grafana::plan::{PlannedDashboard, PlannedPanel};

/// Reads and plans a dashboard for Mimir (its Prometheus panels).
pub fn plan(spec: &super::config::DashboardSpec) -> Result<PlannedDashboard, String> {
    crate::grafana::plan::plan(spec, grafana::Source::Prometheus, "mimir")
}

use crate::client::promql::{classify_query, PromApi};
use crate::grafana::load::{Datasource, Resolved};
use crate::stats::{OutcomeClass, PathId};
use crate::workload::{Detail, Part};

/// Mimir as a dashboard's datasource: Grafana's Prometheus datasource's calls.
pub struct PromSource {
    pub api: PromApi,
}

impl Datasource for PromSource {
    async fn variables(&self, d: &PlannedDashboard, window: (f64, f64), pool: usize, path: PathId) -> Resolved {
        let pins = d.spec.variables.iter().map(|(k, v)| (k.clone(), v.values())).collect();
        let (chosen, lookups, problems) = variables::resolve(&d.dashboard.variables, &pins, &d.builtins(), window, &self.api, pool).await;
        let parts = lookups
            .into_iter()
            .map(|l| Part {
                path,
                class: l.class,
                sent_at: l.sent_at,
                done: l.done,
                items: 1,
                detail: Some(Detail { key: format!("${} {}", l.variable, l.path), answer: l.class.as_str().into() }),
            })
            .collect();
        Resolved { chosen, parts, problems }
    }

    async fn query(&self, pool: usize, query: &str, step: Option<f64>, (start, end): (f64, f64)) -> (OutcomeClass, u64, String) {
        let path = match step {
            Some(step) => {
                // Grafana aligns the range to the step.
                let (s, e) = ((start / step).floor() * step, (end / step).floor() * step);
                format!("/api/v1/query_range?query={}&start={s}&end={e}&step={step}", enc(query))
            }
            None => format!("/api/v1/query?query={}&time={end:.3}", enc(query)),
        };
        match self.api.get(pool, &path).await {
            Ok(a) => {
                let (class, items) = classify_query(&a);
                (class, items, super::write::classify::in_words(&a))
            }
            Err(e) => (e.class(), 0, e.to_string()),
        }
    }
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
