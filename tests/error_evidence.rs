//! Evidence behind each error: failed calls come back as examples with what was asked and what
//! came back, and a trace-by-ID miss is asked again until it is told apart as transient (found
//! later) or lost. Faults come from a proxy in front of the in-process Tempo query API (which serves
//! what the OTLP receiver took, answering as Tempo 3.x does: a missing trace is 200
//! `{"trace":{},"metrics":{}}`).

mod support;

use lgtm_bench::engine::runner::{self, RunOptions};
use lgtm_bench::report::Report;
use lgtm_bench::stats::OutcomeClass;
use support::http_faults::{Fault, Faults, HttpFaults, NO_TRACE};
use support::otlp_receiver::{serve_query_api, Answer, Receiver};
use tokio_util::sync::CancellationToken;

fn scenario(otlp: &str, query: &str, queries: &str, objectives: &str) -> String {
    format!(
        r#"
objectives = [{objectives}]
[run]
name = "error-evidence"
seed = 11
warmup = "1s"
duration = "2s"
[tempo]
otlp_url = "{otlp}"
query_url = "{query}"
[tempo.connection]
tenant = "bench"
[tempo.write]
rate = 140
spans_per_request = 14
max_in_flight = 8
[tempo.traces]
services = 3
depth = 3
fanout = 2
[tempo.query_load]
concurrency = 2
[tempo.recheck]
after = ["100ms", "300ms"]
{queries}
"#
    )
}

const BY_ID: &str = r#"
[[tempo.queries]]
name = "by-id"
min_age = "200ms"
"#;

/// A run against the receiver, its query API behind a proxy with `faults`.
async fn run_behind(faults: Faults, queries: &str, objectives: &str) -> Report {
    let receiver = Receiver::start(vec![Answer::Ok]).await;
    let (query_port, _api) = serve_query_api(receiver.shared.clone()).await;
    let proxy = HttpFaults::start_with(query_port, faults).await;
    let s = support::scenario(&scenario(&receiver.url(), &proxy.base(), queries, objectives));
    let out = tempfile::tempdir().unwrap();
    let opts = RunOptions { scenario_file: "error-evidence".into(), out_dir: out.path().to_path_buf(), progress: false, baseline: None };
    runner::run(&support::plan(&s), opts, CancellationToken::new()).await.unwrap().report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trace_hidden_once_is_reported_transient_not_lost() {
    let report = run_behind(Faults::HideTraces { times: 1 }, BY_ID, r#""tempo.recheck.by-id lost == 0""#).await;
    let query = &report.paths["tempo.query.by-id"];
    let recheck = &report.paths["tempo.recheck.by-id"];
    let missed = query.count(OutcomeClass::NotFound);
    assert!(missed > 0, "each trace's first lookup is hidden: {:?}", query.outcomes);
    assert_eq!(recheck.count(OutcomeClass::Transient), missed, "every miss asked again and found: {:?}", recheck.outcomes);
    assert_eq!(recheck.count(OutcomeClass::Lost), 0);
    assert_eq!(recheck.error_ratio, Some(0.0), "a transient miss is not an error of the recheck");
    assert_eq!(recheck.latency.count, missed, "each found miss is timed from the miss");

    // The miss's example: the trace id and its age, and the answer as it came.
    let e = query.examples.iter().find(|e| e.class == "not_found").expect("a not_found example");
    assert!(e.key.starts_with("trace ") && e.key.contains("acknowledged") && e.key.contains("earlier"), "{e:?}");
    assert!(e.answer.contains("HTTP 200") && e.answer.contains(NO_TRACE), "{e:?}");
    let t = recheck.examples.iter().find(|e| e.class == "transient").expect("a transient example");
    assert!(t.answer.contains("found 100ms later"), "{t:?}");

    let summary = lgtm_bench::report::summary::render(&report, None);
    let said = format!("{missed} not found at query time; asked again: all {missed} found within");
    assert!(summary.contains(&said) && summary.contains("transient"), "{summary}");
    assert!(lgtm_bench::report::markdown::render(std::slice::from_ref(&report)).contains(&said));
    assert!(report.verdict.passed, "{:?}", report.verdict);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trace_that_stays_hidden_is_reported_lost() {
    let report = run_behind(Faults::HideTraces { times: u32::MAX }, BY_ID, r#""tempo.recheck.by-id lost == 0""#).await;
    let missed = report.paths["tempo.query.by-id"].count(OutcomeClass::NotFound);
    let recheck = &report.paths["tempo.recheck.by-id"];
    assert!(missed > 0);
    assert_eq!((recheck.count(OutcomeClass::Lost), recheck.count(OutcomeClass::Transient)), (missed, 0));
    let lost = recheck.examples.iter().find(|e| e.class == "lost").expect("a lost example");
    assert!(lost.answer.contains("100ms after: not_found") && lost.answer.contains("300ms after: not_found"), "{lost:?}");
    let summary = lgtm_bench::report::summary::render(&report, None);
    assert!(summary.contains(&format!("none found, all {missed} still missing: LOST")), "{summary}");
    let objective = &report.verdict.objectives[0];
    assert!(!objective.passed && objective.objective == "tempo.recheck.by-id lost == 0", "{objective:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_404s_and_500s_come_back_as_examples_with_their_request_keys() {
    // The preflight's three requests (echo, tags, build info) pass; then every sixth request is
    // answered 404 by the proxy and every sixth (three later) 500.
    let pattern = vec![
        Fault::Pass,
        Fault::Pass,
        Fault::Pass,
        Fault::Answer(404, "404 page not found"),
        Fault::Pass,
        Fault::Answer(500, "internal error: ingester unavailable"),
    ];
    let queries = r#"
[[tempo.queries]]
name = "search"
kind = "traceql"
query = '{ resource.lgtm_bench.run_id = "$run_id" }'
[[tempo.queries]]
name = "tags"
kind = "tags"
"#;
    let report = run_behind(Faults::ByCount(pattern), queries, "").await;
    let group = &report.paths["tempo.query"];
    assert!(group.count(OutcomeClass::BadRequest) > 0 && group.count(OutcomeClass::ServerError) > 0, "{:?}", group.outcomes);
    let keys = [format!("TraceQL `{{ resource.lgtm_bench.run_id = \"{}\" }}`", report.run.id), "tags".to_string()];
    for (class, answer) in [("bad_request", "HTTP 404: `404 page not found`"), ("server_error", "HTTP 500: `internal error: ingester unavailable`")] {
        let examples: Vec<_> = group.examples.iter().filter(|e| e.class == class).collect();
        assert!(!examples.is_empty() && examples.len() <= 5, "{class}: {:?}", group.examples);
        for e in examples {
            assert!(keys.contains(&e.key), "{class}: the request's key: {e:?}");
            assert_eq!(e.answer, answer);
            assert!(e.at_s > 0.0);
        }
    }
    let md = lgtm_bench::report::markdown::render(std::slice::from_ref(&report));
    assert!(md.contains("HTTP 500: `internal error: ingester unavailable`") && md.contains("bad_request"), "{md}");
}
