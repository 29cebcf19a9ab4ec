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

use super::config::DashboardSpec;
use crate::client::promql::{classify_query, unix_secs, PromApi};
use crate::stats::{OutcomeClass, PathId};
use crate::workload::{CallOutcome, Detail, Part, Ticket, Workload};
use futures_util::StreamExt;
use grafana::{Dashboard, Panel, Source};
use interpolate::{interpolate, Chosen, Frame};
use std::collections::BTreeMap;
use std::time::SystemTime;

/// A panel to replay, with its path name, or one skipped and why.
#[derive(Clone, Debug)]
pub struct PlannedPanel {
    pub panel: Panel,
    /// Its part of the path name: its title as a slug, unique in the dashboard.
    pub slug: String,
    pub skipped: Option<String>,
}

/// A dashboard read and planned.
#[derive(Clone, Debug)]
pub struct PlannedDashboard {
    pub name: String,
    pub spec: DashboardSpec,
    pub dashboard: Dashboard,
    pub panels: Vec<PlannedPanel>,
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.to_ascii_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// Reads and plans a dashboard; `Err` says why the file cannot be used.
pub fn plan(spec: &DashboardSpec) -> Result<PlannedDashboard, String> {
    let text = std::fs::read_to_string(&spec.file).map_err(|e| format!("cannot read {}: {e}", spec.file))?;
    let dashboard = grafana::parse(&text).map_err(|e| format!("{}: {e}", spec.file))?;
    let stem = std::path::Path::new(&spec.file).file_stem().map_or("dashboard".to_string(), |s| s.to_string_lossy().to_string());
    let name = spec.name.clone().unwrap_or_else(|| slug(&stem));
    let mut taken = BTreeMap::<String, u32>::new();
    let panels = dashboard
        .panels
        .iter()
        .map(|p| {
            let mut s = slug(&p.title);
            if s.is_empty() {
                s = format!("panel-{}", p.id);
            }
            let n = taken.entry(s.clone()).or_default();
            *n += 1;
            if *n > 1 {
                s = format!("{s}-{n}");
            }
            PlannedPanel { panel: p.clone(), slug: s, skipped: skip_reason(p, spec) }
        })
        .collect();
    Ok(PlannedDashboard { name, spec: spec.clone(), dashboard, panels })
}

fn skip_reason(p: &Panel, spec: &DashboardSpec) -> Option<String> {
    if p.targets.is_empty() {
        return Some(format!("no queries ({} panel)", if p.kind.is_empty() { "untyped" } else { &p.kind }));
    }
    match &p.source {
        Source::Prometheus => {}
        Source::Tempo => return Some("its datasource is Tempo: replay it under [[tempo.dashboards]]".into()),
        Source::Other(ds) => return Some(format!("its datasource `{ds}` is not this target (Prometheus API)")),
    }
    if p.targets.iter().all(|t| t.hidden) {
        return Some("every query is hidden".into());
    }
    if p.in_collapsed_row && !spec.open_collapsed_rows {
        return Some("in a collapsed row: Grafana loads it only when the row is opened (open_collapsed_rows = true loads it)".into());
    }
    None
}

/// Parses a Grafana interval (`30s`, `1m`, `>1m`) in ms.
fn interval_ms(text: &str) -> Option<u64> {
    text.trim_start_matches('>').parse::<crate::units::Dur>().ok().map(|d| d.get().as_millis() as u64)
}

impl PlannedDashboard {
    /// The frame a panel asks in: the range, its points (`maxDataPoints`, else its width), its
    /// minimum interval (its own, else the datasource's scrape interval).
    pub fn frame(&self, p: &Panel, target_interval: Option<&str>) -> Frame {
        let scrape = self.spec.scrape_interval.get().as_millis() as u64;
        let width = (p.width.clamp(1, 24) as f64 / 24.0 * self.spec.screen_width as f64).round() as u64;
        Frame {
            range_ms: self.spec.range.get().as_millis() as u64,
            max_data_points: p.max_data_points.unwrap_or(width.max(1)),
            min_interval_ms: target_interval.or(p.interval.as_deref()).and_then(interval_ms).unwrap_or(scrape),
            scrape_interval_ms: scrape,
        }
    }

    /// The variables as the plan shows them (pinned, else saved; no look-up). All is shown as the
    /// variable's `allValue`, or `.*` where the run will use every option the target offers.
    pub fn saved_variables(&self) -> BTreeMap<String, Chosen> {
        self.dashboard
            .variables
            .iter()
            .map(|v| {
                let pinned = self.spec.variables.get(&v.name).map(|p| p.values());
                let mut c = variables::choose(v, &v.current, pinned.as_ref());
                if c.all && c.all_value.is_none() {
                    c.all_value = Some(".*".into());
                }
                (v.name.clone(), c)
            })
            .collect()
    }

    /// A panel's queries interpolated with `chosen` (each with the step it is sent with, `None` for
    /// an instant query).
    pub fn queries(&self, p: &Panel, chosen: &BTreeMap<String, Chosen>) -> Vec<(String, Option<f64>)> {
        p.targets
            .iter()
            .filter(|t| !t.hidden)
            .map(|t| {
                let frame = self.frame(p, t.interval.as_deref());
                let vars = interpolate::with_builtins(&frame, chosen);
                (one_line(&interpolate(&t.expr, &vars)), (!t.instant).then(|| frame.step_s()))
            })
            .collect()
    }

    /// The plan printout: each panel with its first interpolated query, or why it is skipped.
    pub fn describe(&self) -> String {
        let s = &self.spec;
        let replayed = self.panels.iter().filter(|p| p.skipped.is_none()).count();
        let queries: usize = self.panels.iter().filter(|p| p.skipped.is_none()).map(|p| p.panel.targets.iter().filter(|t| !t.hidden).count()).sum();
        let mut out = format!(
            "mimir.dashboard.{}: `{}` ({}), {} viewer(s) refreshing every {} over the last {}: {replayed} panels with {queries} queries, {} skipped, {} at a time; {} variable(s)\n",
            self.name,
            self.dashboard.title,
            s.file,
            s.viewers,
            s.refresh,
            s.range,
            self.panels.len() - replayed,
            s.concurrency,
            self.dashboard.variables.len()
        );
        let chosen = self.saved_variables();
        for p in &self.panels {
            match &p.skipped {
                Some(why) => out += &format!("  skipped {:<40} {why}\n", p.slug),
                None => {
                    let qs = self.queries(&p.panel, &chosen);
                    let first =
                        qs.first().map_or(String::new(), |(q, step)| format!("{q}{}", step.map_or(" (instant)".to_string(), |s| format!(" (step {s}s)"))));
                    let more = if qs.len() > 1 { format!(" and {} more", qs.len() - 1) } else { String::new() };
                    out += &format!("  .{:<48} {first}{more}\n", p.slug);
                }
            }
        }
        out
    }
}

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
        let builtins = interpolate::with_builtins(&d.frame(&d.dashboard.panels.first().cloned().unwrap_or_else(empty_panel), None), &BTreeMap::new());
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
            let repeats: Vec<BTreeMap<String, Chosen>> = match p.panel.repeat.as_ref().and_then(|r| chosen.get(r).map(|c| (r, c))) {
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

/// A query on one line (dashboards often break long expressions): whitespace runs become one space.
fn one_line(q: &str) -> String {
    q.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn empty_panel() -> Panel {
    Panel {
        id: 0,
        title: String::new(),
        kind: String::new(),
        source: Source::Prometheus,
        interval: None,
        max_data_points: None,
        width: 24,
        targets: vec![],
        in_collapsed_row: false,
        repeat: None,
    }
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
