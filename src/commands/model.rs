//! `model`: reads what a Prometheus or Mimir holds (and the traces a Tempo holds, and the
//! dashboards a Grafana's users open) and writes the scenario that reproduces it (validated before
//! it is written; the dashboards beside it). Exit 0 with the scenario, 3 when
//! an API does not answer, 4 when it answers but not as its API, 2 for a bad flag, 5 when the file
//! cannot be written.

use lgtm_bench::cli::exit;
use lgtm_bench::client::http::HttpTarget;
use lgtm_bench::client::promql::{unix_secs, PromApi};
use lgtm_bench::grafana::api::{GrafanaApi, GrafanaError};
use lgtm_bench::grafana::dashboard::Source;
use lgtm_bench::grafana::pick::{pick, PickError, Picking};
use lgtm_bench::scenario::Connection;
use lgtm_bench::targets::mimir::model;
use lgtm_bench::targets::tempo::model as trace_model;
use std::path::Path;
use std::time::Duration;

/// What to read.
pub struct Sources {
    pub prometheus: Option<String>,
    pub query_prefix: String,
    pub tenant: Option<String>,
    pub tempo: Option<String>,
    pub otlp_url: String,
    pub rate_window: Duration,
    pub grafana: Option<GrafanaSource>,
    /// The modelled Mimir's memory: its budget and where its process figures are read.
    pub memory_budget: lgtm_bench::units::ByteSize,
    pub memory_url: Option<String>,
}

/// The Grafana to take dashboards from.
pub struct GrafanaSource {
    pub url: String,
    pub token_env: String,
    pub folder: Option<String>,
    pub limit: usize,
}

pub fn model(src: &Sources, scale: f64, write_url: &str, out: Option<&Path>) -> u8 {
    if !(scale > 0.0 && scale.is_finite()) {
        eprintln!("error: --scale {scale} must be above 0 (1 = as it is, 2 = twice)");
        return exit::BAD_INPUT;
    }
    let connection = Connection { tenant: src.tenant.clone(), ..Connection::default() };
    let http = match HttpTarget::new(&connection, 1) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::BAD_INPUT;
        }
    };
    let work = async {
        let mut text = String::new();
        if let Some(url) = &src.prometheus {
            let api = PromApi::new(http.clone(), url, &src.query_prefix);
            if let Err(e) = api.instant(0, "vector(1)", unix_secs(std::time::SystemTime::now())).await {
                eprintln!("error: {url} did not answer: {e}; check --prometheus (and --query-prefix /prometheus for Mimir)");
                return exit::UNREACHABLE;
            }
            let m = match model::read(&api).await {
                Ok(m) => m,
                Err(e) => {
                    eprintln!("error: {e}");
                    return exit::TARGET_REJECTED;
                }
            };
            let query_url = write_url.split("/api/").next().unwrap_or(write_url);
            let budget = src.memory_budget.to_string();
            let memory = model::MemoryWatch { budget: &budget, metrics_url: src.memory_url.as_deref() };
            text += &model::scenario(&m, scale, write_url, query_url, &memory);
            eprintln!("modelled {} series: {} families kept by name, {} in the long tail", m.series, m.families.len(), m.tail);
        } else {
            text += "# Modelled by `lgtm-bench model`.\n[run]\nname = \"modelled\"\nwarmup = \"30s\"\nduration = \"5m\"\n\n";
        }
        if let Some(url) = &src.tempo {
            let api =
                lgtm_bench::targets::tempo::query::TempoApi { target: http.clone(), base: url.trim_end_matches('/').to_string(), api: Default::default() };
            if let Err(e) = api.echo().await {
                eprintln!("error: {url} did not answer: {e}; check --tempo (Tempo's query API listens on 3200)");
                return exit::UNREACHABLE;
            }
            eprintln!("sampling traces and reading the span rate over {}…", lgtm_bench::units::Dur(src.rate_window));
            let m = match trace_model::read(&api, 20, src.rate_window).await {
                Ok(m) => m,
                Err(e) => {
                    eprintln!("error: {e}");
                    return exit::TARGET_REJECTED;
                }
            };
            eprintln!("modelled the trace shape on {} sampled traces", m.sampled.len());
            text += "\n";
            text += &trace_model::section(&m, scale, &src.otlp_url);
        }
        if let (Some(g), Some(file)) = (&src.grafana, out) {
            let api = match GrafanaApi::new(&g.url, &g.token_env) {
                Ok(a) => a,
                Err(e) => {
                    eprintln!("error: {e}");
                    return exit::BAD_INPUT;
                }
            };
            let picking = match pick(&api, g.folder.as_deref(), g.limit).await {
                Ok(p) => p,
                Err(e @ PickError::NeedsFolder(_)) => {
                    eprintln!("error: {e}");
                    return exit::BAD_INPUT;
                }
                Err(PickError::Grafana(e @ GrafanaError::Unreachable(_))) => {
                    eprintln!("error: {e}; check --grafana");
                    return exit::UNREACHABLE;
                }
                Err(e @ PickError::Grafana(GrafanaError::Refused(_))) => {
                    eprintln!("error: {e}");
                    return exit::TARGET_REJECTED;
                }
            };
            match dashboard_sections(&picking, file, src.prometheus.is_some(), src.tempo.is_some()) {
                Ok(sections) => text += &sections,
                Err(e) => {
                    eprintln!("error: {e}");
                    return exit::RESULTS_NOT_WRITTEN;
                }
            }
            eprintln!("took {} dashboard(s) from {}: {}", picking.dashboards.len(), g.url, picking.how);
        }
        let checked = match out {
            Some(file) => lgtm_bench::targets::parse_beside(&text, file),
            None => lgtm_bench::targets::parse(&text, "the modelled scenario", &[]),
        };
        if let Err(e) = checked {
            eprint!("error: the modelled scenario does not validate (a bug to report):\n{e}");
            return exit::BAD_INPUT;
        }
        match out {
            Some(file) => match std::fs::write(file, &text) {
                Ok(()) => {
                    println!("scenario: {}", file.display());
                    exit::PASSED
                }
                Err(e) => {
                    eprintln!("error: {} could not be written: {e}", file.display());
                    exit::RESULTS_NOT_WRITTEN
                }
            },
            None => {
                print!("{text}");
                exit::PASSED
            }
        }
    };
    super::block_on(work).unwrap_or_else(|code| code)
}

/// Writes each picked dashboard beside the scenario (`dashboards/<uid>.json`) and returns its
/// `[[mimir.dashboards]]` and `[[tempo.dashboards]]` entries: a dashboard goes to each target whose
/// datasource its panels use and whose section the model wrote; one using neither is listed.
fn dashboard_sections(picking: &Picking, scenario: &Path, mimir: bool, tempo: bool) -> Result<String, String> {
    let dir = scenario.parent().unwrap_or(Path::new("")).join("dashboards");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{} could not be made: {e}", dir.display()))?;
    let mut out = format!("\n# Dashboards from Grafana: {}.\n", picking.how);
    for d in &picking.dashboards {
        let safe: String = d.uid.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
        let text = serde_json::to_string_pretty(&d.dashboard).map_err(|e| e.to_string())?;
        let file = dir.join(format!("{safe}.json"));
        std::fs::write(&file, &text).map_err(|e| format!("{} could not be written: {e}", file.display()))?;
        let panels = lgtm_bench::grafana::dashboard::parse(&text).map(|p| p.panels).unwrap_or_default();
        let uses = |s: Source| panels.iter().filter(|p| p.source == s && !p.targets.is_empty()).count();
        let views = d.views.map_or(String::new(), |v| format!(", {v} views"));
        let mut placed = false;
        for (target, count, wanted) in [("mimir", uses(Source::Prometheus), mimir), ("tempo", uses(Source::Tempo), tempo)] {
            if count > 0 && wanted {
                out += &format!(
                    "\n[[{target}.dashboards]]            # `{}` in {}{views}: {count} panel(s) on its datasource\nfile = \"dashboards/{safe}.json\"\nname = {:?}\n",
                    d.title, d.folder, safe.to_lowercase().replace('_', "-")
                );
                placed = true;
            }
        }
        if !placed {
            out += &format!("# `{}` (dashboards/{safe}.json) not replayed: no panel on a Prometheus or Tempo datasource this model writes\n", d.title);
        }
    }
    Ok(out)
}
