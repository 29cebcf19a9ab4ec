//! Grafana dashboards replayed as the query load, against a real Prometheus holding series that
//! lgtm-bench wrote in the shape of a kube-prometheus-stack scrape (the `kube-prometheus` preset):
//! every panel of the recorded kube-prometheus-stack dashboards (`tests/fixtures/dashboards/`) is
//! either queried (HTTP 200, a parsed answer) or listed as skipped with its reason, variables are
//! resolved from the target, and a dashboard's load is never shorter than any of its panels.

mod support;

use lgtm_bench::stats::OutcomeClass;
use lgtm_bench::targets::mimir::config::DashboardSpec;
use lgtm_bench::targets::mimir::dashboards;
use std::path::PathBuf;
use support::prometheus::Prometheus;

const BIN: &str = env!("CARGO_BIN_EXE_lgtm-bench");

fn fixture(name: &str) -> String {
    support::fixtures::dir("dashboards").join(name).display().to_string()
}

fn spec(file: &str) -> DashboardSpec {
    toml::from_str(&format!("file = {:?}", fixture(file))).unwrap()
}

#[test]
fn every_fixture_dashboard_plans_each_panel_or_says_why_not() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(support::fixtures::dir("dashboards"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 29);
    for f in files {
        let d = dashboards::plan(&spec(f.file_name().unwrap().to_str().unwrap())).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let chosen = d.saved_variables();
        for p in &d.panels {
            match &p.skipped {
                Some(why) => assert!(!why.is_empty()),
                None => {
                    for (query, _) in d.queries(&p.panel, &chosen) {
                        // Every built-in is replaced; a variable the dashboard defines is too.
                        assert!(!query.contains("$__"), "{}: {}: {query}", d.name, p.slug);
                        for v in &d.dashboard.variables {
                            assert!(!query.contains(&format!("${}", v.name)) && !query.contains(&format!("${{{}}}", v.name)), "{}: {query}", d.name);
                        }
                    }
                }
            }
        }
        let text = d.describe();
        assert!(text.starts_with(&format!("mimir.dashboard.{}: `", d.name)), "{text}");
    }
    // Row panels carry no queries: listed, with the reason.
    let nodes = dashboards::plan(&spec("nodes.json")).unwrap();
    assert!(nodes.panels.iter().any(|p| p.skipped.as_deref() == Some("no queries (row panel)")) || nodes.panels.iter().all(|p| p.panel.kind != "row"));
}

fn scenario(base: &str) -> String {
    let dash = |file: &str, vars: &str| format!("[[mimir.dashboards]]\nfile = {:?}\nviewers = 2\nrefresh = \"1s\"\nrange = \"1h\"\n{vars}\n", fixture(file));
    format!(
        r#"
[run]
name = "dashboards"
seed = 9
warmup = "2s"
duration = "3s"
[mimir]
write_url = "{base}/api/v1/write"
query_url = "{base}"
[mimir.write]
rate = 4
max_in_flight = 2
[mimir.write.series]
active = 3000
samples_per_request = 1500
preset = "kube-prometheus"
labels = [{{ name = "namespace", cardinality = 3 }}, {{ name = "pod", cardinality = 10 }}, {{ name = "node", cardinality = 2 }}]
{}{}{}"#,
        dash("k8s-resources-namespace.json", "variables = { namespace = \"namespace-1\" }"),
        dash("nodes.json", ""),
        dash("prometheus.json", "")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_kube_prometheus_dashboards_replay_against_a_real_prometheus() {
    let prom = Prometheus::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(&file, scenario(&prom.base())).unwrap();
    // validate lists each dashboard's panels with their interpolated queries, and what is skipped.
    let v = tokio::process::Command::new(BIN).args(["validate", file.to_str().unwrap()]).output().await.unwrap();
    let plan = String::from_utf8_lossy(&v.stdout).to_string();
    assert!(v.status.success(), "{plan}{}", String::from_utf8_lossy(&v.stderr));
    assert!(plan.contains("mimir.dashboard.k8s-resources-namespace: `Kubernetes / Compute Resources / Namespace (Pods)`"), "{plan}");
    assert!(plan.contains(r#"namespace="namespace-1""#), "the pinned value interpolated: {plan}");
    assert!(plan.contains("skipped") && plan.contains("no queries (row panel)"), "{plan}");

    let (_, printed, report) = support::run_binary(&scenario(&prom.base())).await;
    let report = report.unwrap_or_else(|| panic!("no results:\n{printed}"));
    // The slowest panels of each dashboard, with their interpolated query, in the summary and Markdown.
    let summary = lgtm_bench::report::summary::render(&report, None);
    assert!(summary.contains("slowest parts of mimir.dashboard.k8s-resources-namespace"), "{summary}");
    assert!(lgtm_bench::report::markdown::render(std::slice::from_ref(&report)).contains("Slowest parts of `mimir.dashboard.nodes`"));
    let s = support::scenario(&scenario(&prom.base()));
    for spec in &s.mimir.as_ref().unwrap().dashboards {
        let d = dashboards::plan(spec).unwrap();
        let path = format!("mimir.dashboard.{}", d.name);
        let load = &report.paths[&path];
        assert!(load.calls > 0, "{path} loaded: {printed}");
        assert_eq!(load.count(OutcomeClass::Success), load.calls, "{path}: every panel answered 200 with a parsed answer: {:?}\n{printed}", load.examples);
        let query_variables = d.dashboard.variables.iter().filter(|v| v.kind == dashboards::grafana::VariableKind::Query).count() as u64;
        assert_eq!(report.paths[&format!("{path}.variables")].calls, query_variables * load.calls, "each load resolves every query variable from the target");
        for p in d.panels.iter().filter(|p| p.skipped.is_none()) {
            let panel = &report.paths[&format!("{path}.{}", p.slug)];
            assert!(panel.calls >= load.calls && panel.error_ratio == Some(0.0), "{path}.{}: {:?}", p.slug, panel.outcomes);
            // A panel answers within its dashboard's load: the load is never shorter than a panel.
            assert!(panel.latency.max_us <= load.latency.max_us, "{path}.{}", p.slug);
            assert!(panel.asks.as_deref().is_some_and(|q| !q.contains("$__")), "{path}.{} says what it asks", p.slug);
        }
    }
}

/// A dashboard of Tempo panels (a TraceQL search using a custom variable), a Prometheus panel and a
/// text panel, replayed by Tempo against the in-process receiver's query API (answering as Tempo
/// 3.x answers a search): its Tempo panels searched, the others listed as skipped for Tempo.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dashboards_tempo_panels_replay_against_tempos_search_api() {
    use support::otlp_receiver::{serve_query_api, Answer, Receiver};
    let receiver = Receiver::start(vec![Answer::Ok]).await;
    let (query_port, _api) = serve_query_api(receiver.shared.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let dashboard = r#"{"title":"Traces","uid":"tr","templating":{"list":[
        {"type":"datasource","name":"tempods","query":"tempo"},
        {"type":"custom","name":"svc","query":"frontend,backend","current":{"value":"frontend"}},
        {"type":"query","name":"svcs","datasource":{"type":"tempo","uid":"${tempods}"},"query":"label_values(resource.service.name)","multi":true,"includeAll":true,"current":{"value":["$__all"]}}]},
      "panels":[
        {"type":"table","id":1,"title":"Slow traces","datasource":{"type":"tempo","uid":"${tempods}"},"gridPos":{"w":24},
         "targets":[{"refId":"A","queryType":"traceql","query":"{ resource.service.name = \"$svc\" && duration > 100ms }"}]},
        {"type":"table","id":2,"title":"Errors","datasource":"$tempods","targets":[{"refId":"A","queryType":"traceql","query":"{ status = error && resource.service.name =~ \"$svcs\" }"}]},
        {"type":"timeseries","id":3,"title":"Rate","datasource":{"type":"prometheus","uid":"prom"},"targets":[{"expr":"rate(x[$__rate_interval])"}]},
        {"type":"text","id":4,"title":"Notes"}]}"#;
    std::fs::write(dir.path().join("traces.json"), dashboard).unwrap();
    let text = format!(
        r#"
[run]
name = "tempo-dashboards"
warmup = "1s"
duration = "2s"
[tempo]
otlp_url = "{}"
query_url = "http://127.0.0.1:{query_port}"
[tempo.connection]
tenant = "bench"
[tempo.write]
rate = 20
spans_per_request = 7
[[tempo.dashboards]]
file = "traces.json"
viewers = 2
refresh = "500ms"
"#,
        receiver.url()
    );
    let file = dir.path().join("s.toml");
    std::fs::write(&file, &text).unwrap();
    let v = tokio::process::Command::new(BIN).args(["validate", file.to_str().unwrap()]).output().await.unwrap();
    let plan = String::from_utf8_lossy(&v.stdout).to_string();
    assert!(v.status.success(), "{plan}{}", String::from_utf8_lossy(&v.stderr));
    assert!(plan.contains("tempo.dashboard.traces: `Traces`") && plan.contains("2 panels with 2 queries, 2 skipped"), "{plan}");
    assert!(plan.contains(r#"resource.service.name = "frontend""#), "the saved value interpolated: {plan}");
    assert!(plan.contains("its datasource is Prometheus: replay it under [[mimir.dashboards]]") && plan.contains("no queries (text panel)"), "{plan}");
    let out = dir.path().join("r");
    let o = tokio::process::Command::new(BIN).args(["run", file.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]).output().await.unwrap();
    let printed = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    let results = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "json")).unwrap();
    let report = lgtm_bench::report::json::read(&results).unwrap();
    let load = &report.paths["tempo.dashboard.traces"];
    assert!(load.calls > 0 && load.count(OutcomeClass::Success) == load.calls, "{printed}");
    // The Tempo query variable asked Tempo's tag values, once per load.
    let vars = &report.paths["tempo.dashboard.traces.variables"];
    assert_eq!((vars.calls, vars.error_ratio), (load.calls, Some(0.0)), "{printed}");
    for panel in ["slow-traces", "errors"] {
        let p = &report.paths[&format!("tempo.dashboard.traces.{panel}")];
        assert_eq!((p.calls, p.error_ratio), (load.calls, Some(0.0)), "{panel}: {printed}");
        assert!(p.counters.items_ok > 0, "{panel}: the search found this run's traces");
    }
}

/// All 29 kube-prometheus-stack dashboards at once against a real Prometheus holding the preset's
/// series: every panel is queried with HTTP 200 and a parsed answer, or skipped with its reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fixture_dashboard_replays_against_a_real_prometheus() {
    let prom = Prometheus::start();
    let mut files: Vec<String> = std::fs::read_dir(support::fixtures::dir("dashboards"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    let dashboards: String = files.iter().map(|f| format!("[[mimir.dashboards]]\nfile = {f:?}\nrefresh = \"2s\"\nrange = \"6h\"\n")).collect();
    let text = format!(
        "[run]\nname = \"all-dashboards\"\nseed = 4\nwarmup = \"1s\"\nduration = \"3s\"\n[mimir]\nwrite_url = \"{0}/api/v1/write\"\nquery_url = \"{0}\"\n[mimir.write]\nrate = 2\n[mimir.write.series]\nactive = 2000\nsamples_per_request = 1000\npreset = \"kube-prometheus\"\nlabels = [{{ name = \"namespace\", cardinality = 3 }}, {{ name = \"pod\", cardinality = 5 }}]\n{dashboards}",
        prom.base()
    );
    let (_, printed, report) = support::run_binary(&text).await;
    let report = report.unwrap_or_else(|| panic!("no results:\n{printed}"));
    let mut panels = 0;
    for f in &files {
        let d = dashboards::plan(&toml::from_str(&format!("file = {f:?}")).unwrap()).unwrap();
        let load = &report.paths[&format!("mimir.dashboard.{}", d.name)];
        assert!(load.calls > 0 && load.count(OutcomeClass::Success) == load.calls, "{}: {:?} {:?}", d.name, load.outcomes, load.examples);
        for p in &d.panels {
            match &p.skipped {
                Some(why) => assert!(!why.is_empty()),
                None => {
                    let panel = &report.paths[&format!("mimir.dashboard.{}.{}", d.name, p.slug)];
                    assert_eq!(panel.error_ratio, Some(0.0), "{}.{}: {:?}", d.name, p.slug, panel.examples);
                    panels += 1;
                }
            }
        }
    }
    assert!(panels > 250, "{panels} panels replayed");
}
