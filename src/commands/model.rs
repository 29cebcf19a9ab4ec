//! `model`: reads what a Prometheus or Mimir holds and writes the scenario that reproduces it
//! (validated before it is written). Exit 0 with the scenario, 3 when the API does not answer, 4
//! when it answers but is not a Prometheus API, 2 for a bad flag, 5 when the file cannot be written.

use lgtm_bench::cli::exit;
use lgtm_bench::client::http::HttpTarget;
use lgtm_bench::client::promql::{unix_secs, PromApi};
use lgtm_bench::scenario::Connection;
use lgtm_bench::targets::mimir::model;
use std::path::Path;

pub fn model(url: &str, prefix: &str, tenant: Option<String>, scale: f64, write_url: &str, out: Option<&Path>) -> u8 {
    if !(scale > 0.0 && scale.is_finite()) {
        eprintln!("error: --scale {scale} must be above 0 (1 = as it is, 2 = twice)");
        return exit::BAD_INPUT;
    }
    let connection = Connection { tenant, ..Connection::default() };
    let api = match HttpTarget::new(&connection, 1) {
        Ok(h) => PromApi::new(h, url, prefix),
        Err(e) => {
            eprintln!("error: {e}");
            return exit::BAD_INPUT;
        }
    };
    let work = async {
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
        let text = model::scenario(&m, scale, write_url, query_url);
        if let Err(e) = lgtm_bench::targets::parse(&text, "the modelled scenario", &[]) {
            eprint!("error: the modelled scenario does not validate (a bug to report):\n{e}");
            return exit::BAD_INPUT;
        }
        eprintln!("modelled {} series: {} families kept by name, {} in the long tail", m.series, m.families.len(), m.tail);
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
