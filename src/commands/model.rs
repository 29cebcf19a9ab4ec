//! `model`: reads what a Prometheus or Mimir holds (and the traces a Tempo holds) and writes the
//! scenario that reproduces it (validated before it is written). Exit 0 with the scenario, 3 when
//! an API does not answer, 4 when it answers but not as its API, 2 for a bad flag, 5 when the file
//! cannot be written.

use lgtm_bench::cli::exit;
use lgtm_bench::client::http::HttpTarget;
use lgtm_bench::client::promql::{unix_secs, PromApi};
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
            text += &model::scenario(&m, scale, write_url, query_url);
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
        if let Err(e) = lgtm_bench::targets::parse(&text, "the modelled scenario", &[]) {
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
