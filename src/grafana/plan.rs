//! A dashboard planned for a target: each panel the target can replay with its path name and its
//! queries as they will be sent (Grafana's interpolation with the pinned or saved variable values),
//! the others listed with the reason they are skipped; and the value each variable takes.

use super::dashboard::{self as grafana, Dashboard, Panel, Source, Variable};
use super::interpolate::{self, interpolate, Chosen, Frame};
use super::spec::DashboardSpec;
use std::collections::BTreeMap;

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
    /// The target replaying it (`mimir`, `tempo`): its paths are `<target>.dashboard.<name>…`.
    pub target: String,
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
pub fn plan(spec: &DashboardSpec, kind: Source, target: &str) -> Result<PlannedDashboard, String> {
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
            PlannedPanel { panel: p.clone(), slug: s, skipped: skip_reason(p, spec, &kind, target) }
        })
        .collect();
    Ok(PlannedDashboard { name, target: target.to_string(), spec: spec.clone(), dashboard, panels })
}

fn skip_reason(p: &Panel, spec: &DashboardSpec, kind: &Source, target: &str) -> Option<String> {
    if p.targets.is_empty() {
        return Some(format!("no queries ({} panel)", if p.kind.is_empty() { "untyped" } else { &p.kind }));
    }
    if &p.source != kind {
        return Some(match &p.source {
            Source::Prometheus => "its datasource is Prometheus: replay it under [[mimir.dashboards]]".to_string(),
            Source::Tempo => "its datasource is Tempo: replay it under [[tempo.dashboards]]".to_string(),
            Source::Other(ds) => format!("its datasource `{ds}` is not {target}'s"),
        });
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
                let mut c = choose(v, &v.current, pinned.as_ref());
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

    /// The built-ins as a variable's query sees them (the dashboard's frame at full width).
    pub fn builtins(&self) -> BTreeMap<String, Chosen> {
        interpolate::with_builtins(&self.frame(&self.dashboard.panels.first().cloned().unwrap_or_else(empty_panel), None), &BTreeMap::new())
    }

    /// The plan printout: each panel with its first interpolated query, or why it is skipped.
    pub fn describe(&self) -> String {
        let s = &self.spec;
        let replayed = self.panels.iter().filter(|p| p.skipped.is_none()).count();
        let queries: usize = self.panels.iter().filter(|p| p.skipped.is_none()).map(|p| p.panel.targets.iter().filter(|t| !t.hidden).count()).sum();
        let mut out = format!(
            "{}.dashboard.{}: `{}` ({}), {} viewer(s) refreshing every {} over the last {}: {replayed} panels with {queries} queries, {} skipped, {} at a time; {} variable(s)\n",
            self.target,
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

/// The chosen value of a variable with these `options`: pinned, else saved and still offered,
/// else All when saved as All, else the first option.
pub fn choose(v: &Variable, options: &[String], pinned: Option<&Vec<String>>) -> Chosen {
    let chosen = |values: Vec<String>, all: bool| Chosen { values, multi: v.multi, include_all: v.include_all, all, all_value: v.all_value.clone() };
    if let Some(p) = pinned {
        if p.iter().any(|x| x == "$__all" || x == "All") {
            return chosen(options.to_vec(), true);
        }
        return chosen(p.clone(), false);
    }
    if v.current.iter().any(|c| c == "$__all") && v.include_all {
        return chosen(options.to_vec(), true);
    }
    let saved: Vec<String> = v.current.iter().filter(|c| options.contains(c)).cloned().collect();
    if !saved.is_empty() {
        return chosen(saved, false);
    }
    chosen(options.first().cloned().into_iter().collect(), false)
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
