//! The scenario section of a dashboard replay (`[[mimir.dashboards]]`, `[[tempo.dashboards]]`):
//! which dashboard, how many viewers and how often they load it, its range, and the knobs of
//! Grafana's behaviour that matter to the load.

use crate::units::Dur;
use serde::{Deserialize, Serialize};

/// A Grafana dashboard replayed as its viewers load it: variables resolved, then every panel's
/// queries, `concurrency` at a time, every `refresh` per viewer.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardSpec {
    /// The dashboard JSON (as Grafana exports it, or a ConfigMap holding it), relative to the
    /// scenario file.
    pub file: String,
    /// Its name in the results (`mimir.dashboard.<name>`); default the file's stem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// People with it open at once.
    #[serde(default = "defaults::viewers")]
    pub viewers: usize,
    /// Its auto-refresh: each viewer loads it this often.
    #[serde(default = "defaults::refresh")]
    pub refresh: Dur,
    /// The time range it shows, ending now.
    #[serde(default = "defaults::dashboard_range")]
    pub range: Dur,
    /// Variable values pinned (a value or a list; "$__all" for All); the others take the
    /// dashboard's saved value if the target still offers it, else the first option.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub variables: std::collections::BTreeMap<String, PinnedValue>,
    /// Panel queries in flight at once per load (a browser's six connections per host).
    #[serde(default = "defaults::dashboard_concurrency")]
    pub concurrency: usize,
    /// Load the panels of collapsed rows too (Grafana loads them only when a row is opened).
    #[serde(default)]
    pub open_collapsed_rows: bool,
    /// The datasource's scrape interval (`timeInterval`): the lower bound of `$__interval` and the
    /// base of `$__rate_interval`.
    #[serde(default = "defaults::dashboard_scrape_interval")]
    pub scrape_interval: Dur,
    /// The screen's width in pixels: a panel asks for as many points as it is wide.
    #[serde(default = "defaults::screen_width")]
    pub screen_width: u64,
}

/// A pinned variable value: one, or several for a multi-value variable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PinnedValue {
    One(String),
    Many(Vec<String>),
}

impl PinnedValue {
    pub fn values(&self) -> Vec<String> {
        match self {
            PinnedValue::One(v) => vec![v.clone()],
            PinnedValue::Many(v) => v.clone(),
        }
    }
}

/// Every problem of a dashboard section at `key` (e.g. `mimir.dashboards.0`).
pub fn problems(key: &str, d: &DashboardSpec, out: &mut Vec<crate::scenario::Problem>) {
    use crate::scenario::{checks, Problem};
    if d.viewers == 0 {
        out.push(Problem::new(format!("{key}.viewers"), "must be at least 1"));
    }
    if d.concurrency == 0 {
        out.push(Problem::new(format!("{key}.concurrency"), "must be at least 1 (a browser runs 6 at a time)"));
    }
    checks::positive(out, &format!("{key}.refresh"), d.refresh.get(), "e.g. \"30s\"");
    checks::positive(out, &format!("{key}.range"), d.range.get(), "e.g. \"24h\"");
    checks::positive(out, &format!("{key}.scrape_interval"), d.scrape_interval.get(), "e.g. \"15s\"");
    if d.screen_width < 100 {
        out.push(Problem::new(format!("{key}.screen_width"), format!("{} pixels: give the screen's width, e.g. 1920", d.screen_width)));
    }
}

mod defaults {
    use crate::units::Dur;
    pub fn viewers() -> usize {
        1
    }
    pub fn refresh() -> Dur {
        Dur::secs(30)
    }
    pub fn dashboard_range() -> Dur {
        Dur::secs(3600)
    }
    pub fn dashboard_concurrency() -> usize {
        6
    }
    pub fn dashboard_scrape_interval() -> Dur {
        Dur::secs(15)
    }
    pub fn screen_width() -> u64 {
        1920
    }
}
