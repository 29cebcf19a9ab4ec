//! `lgtm-bench model` against a real Prometheus that scrapes itself and holds series lgtm-bench
//! wrote with a known shape: the model reproduces the TSDB status (series per metric, each metric's
//! label cardinalities), types from metadata (for its own metrics) or the series (buckets,
//! quantiles, native samples), the histogram's bucket bounds and the scrape interval; and the
//! modelled scenario, run into a second, empty Prometheus, gives the same TSDB status within 5%.
//! Mimir's cardinality API, Tempo's traces and Grafana's dashboards through their APIs.

mod support;

use support::prometheus::Prometheus;

const SHAPE: &str = r#"
[run]
name = "shape"
seed = 1
warmup = "1s"
duration = "2s"
[mimir]
write_url = "$BASE/api/v1/write"
query_url = "$BASE"
[mimir.write]
rate = 4
[mimir.write.series]
active = 3000
samples_per_request = 1500
labels = [{ name = "pod", cardinality = 20 }, { name = "zone", cardinality = 3 }]
[[mimir.write.series.families]]
name = "shape_requests_total"
type = "counter"
share = 0.5
[[mimir.write.series.families]]
name = "shape_queue_depth"
type = "gauge"
share = 0.2
[[mimir.write.series.families]]
name = "shape_latency_seconds"
type = "histogram"
share = 0.3
buckets = [0.1, 0.5, 1, 5]
[[mimir.write.series.families]]
name = "shape_gc_seconds"
type = "summary"
share = 0.05
quantiles = [0.5, 0.99]
[[mimir.write.series.families]]
name = "shape_sizes_bytes"
type = "native_histogram"
share = 0.05
"#;

fn tsdb(prom: &Prometheus) -> serde_json::Value {
    let out = std::process::Command::new("curl").args(["-fsS", &format!("{}/api/v1/status/tsdb", prom.base())]).output().unwrap();
    serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["data"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_read_from_prometheus_reproduces_its_shape() {
    // Prometheus scrapes itself every second (its own metrics come with metadata).
    let self_scrape = "scrape_configs:\n  - job_name: self\n    scrape_interval: 1s\n    static_configs:\n      - targets: [\"127.0.0.1:$PORT\"]\n";
    let source = Prometheus::start_featuring(tempfile::tempdir().unwrap(), support::prometheus::FREE_PORT, self_scrape, &["native-histograms"]);
    let (code, printed, _) = support::run_binary(&SHAPE.replace("$BASE", &source.base())).await;
    assert_eq!(code, Some(0), "{printed}");
    // Its first scrape of itself is in (polled, bounded).
    let mut scraped = false;
    for _ in 0..100 {
        if source.query("up")["data"]["result"].as_array().is_some_and(|r| !r.is_empty()) {
            scraped = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(scraped, "Prometheus scraped itself");

    let target = Prometheus::start_native();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("modelled.toml");
    let o = tokio::process::Command::new(env!("CARGO_BIN_EXE_lgtm-bench"))
        .args(["model", "--prometheus", &source.base(), "--write-url", &format!("{}/api/v1/write", target.base()), "--out", file.to_str().unwrap()])
        .output()
        .await
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("# Modelled by `lgtm-bench model`") && text.contains("/api/v1/status/tsdb"), "where each figure came from: {text}");

    // The model against the TSDB status it read (cached by Prometheus for 30 s: the same figures).
    let status = tsdb(&source);
    let s = support::scenario(&text);
    let series = &s.mimir.as_ref().unwrap().write.as_ref().unwrap().series;
    assert_eq!(series.active, status["headStats"]["numSeries"].as_u64().unwrap());
    assert_eq!(series.scrape_interval.unwrap().to_string(), "15s", "the global scrape interval from the configuration");
    let pod = series.labels.iter().find(|l| l.name == "pod").expect("the pod label among the top cardinalities (for the long tail)");
    assert_eq!(pod.cardinality, 20);
    let count =
        |name: &str| status["seriesCountByMetricName"].as_array().unwrap().iter().find(|m| m["name"] == name).map_or(0, |m| m["value"].as_u64().unwrap());
    let family = |name: &str| series.families.iter().find(|f| f.name == name).unwrap_or_else(|| panic!("{name} kept by name: {text}"));
    let within = |modelled: f64, real: f64| (modelled - real).abs() <= 0.05 * real;
    let requests = family("shape_requests_total");
    assert_eq!(requests.kind, lgtm_bench::targets::mimir::config::FamilyKind::Counter);
    let own = |f: &lgtm_bench::targets::mimir::config::FamilySpec| {
        f.labels.clone().unwrap_or_default().into_iter().map(|l| (l.name, l.cardinality)).collect::<Vec<_>>()
    };
    assert_eq!(own(requests), [("pod".to_string(), 20), ("zone".to_string(), 3)], "the metric's own labels: {text}");
    let handler = series.families.iter().find(|f| f.name == "prometheus_http_requests_total").map(own);
    assert!(handler.is_none_or(|l| l.iter().any(|(n, _)| n == "handler")), "Prometheus's own metric keeps its own labels: {text}");
    assert!(text.contains("churn not read: Prometheus has been up 0 min"), "a fresh Prometheus's churn is not read: {text}");
    assert!(within(requests.share * series.active as f64, count("shape_requests_total") as f64), "{text}");
    let latency = family("shape_latency_seconds");
    assert_eq!((latency.kind, latency.buckets.clone()), (lgtm_bench::targets::mimir::config::FamilyKind::Histogram, Some(vec![0.1, 0.5, 1.0, 5.0])));
    let histogram_series = count("shape_latency_seconds_bucket") + count("shape_latency_seconds_sum") + count("shape_latency_seconds_count");
    assert!(within(latency.share * series.active as f64, histogram_series as f64), "{text}");
    assert!(text.contains("type from metadata"), "Prometheus's own metrics typed by their metadata: {text}");
    // Remote-written series carry no metadata: a summary is known by its quantile series, a native
    // histogram by its samples.
    let gc = family("shape_gc_seconds");
    assert_eq!((gc.kind, gc.quantiles.clone()), (lgtm_bench::targets::mimir::config::FamilyKind::Summary, Some(vec![0.5, 0.99])), "{text}");
    let summary_series = count("shape_gc_seconds") + count("shape_gc_seconds_sum") + count("shape_gc_seconds_count");
    assert!(within(gc.share * series.active as f64, summary_series as f64), "{text}");
    assert_eq!(family("shape_sizes_bytes").kind, lgtm_bench::targets::mimir::config::FamilyKind::NativeHistogram, "{text}");

    // The modelled scenario, run into an empty Prometheus, makes as many series (within 5%).
    let text = std::fs::read_to_string(&file).unwrap();
    // Shorter, and every series once a second so a few seconds write each of them.
    let quick = text
        .replace("warmup = \"30s\"", "warmup = \"1s\"")
        .replace("duration = \"5m\"", "duration = \"3s\"")
        .replace("scrape_interval = \"15s\"", "scrape_interval = \"1s\"");
    let (code, printed, _) = support::run_binary(&quick).await;
    assert_eq!(code, Some(0), "{printed}");
    let made = tsdb(&target);
    let made_series = made["headStats"]["numSeries"].as_u64().unwrap() as f64;
    assert!(within(made_series, series.active as f64), "{made_series} series made, {} modelled", series.active);
    // Series per metric of the source's top metrics, and the labels they carry, made again.
    let made_count =
        |name: &str| made["seriesCountByMetricName"].as_array().unwrap().iter().find(|m| m["name"] == name).map_or(0, |m| m["value"].as_u64().unwrap());
    for name in ["shape_requests_total", "shape_queue_depth", "shape_latency_seconds_bucket", "shape_gc_seconds", "shape_sizes_bytes"] {
        assert!(within(made_count(name) as f64, count(name) as f64), "{name}: {} made, {} in the source", made_count(name), count(name));
    }
    let values = |status: &serde_json::Value, label: &str| {
        status["labelValueCountByLabelName"].as_array().unwrap().iter().find(|m| m["name"] == label).map_or(0, |m| m["value"].as_u64().unwrap())
    };
    for label in ["pod", "zone"] {
        assert_eq!(values(&made, label), values(&status, label), "{label}'s values made again");
    }
}

/// `model --tempo`: the shapes of traces lgtm-bench wrote as a mix (3 levels, fan-out 2, 3 services
/// and a 250 ms root; 2 levels, fan-out 3, 2 services and an 80 ms root; one event and one link per
/// span, 3 http, 2 db and 1 rpc attributes a span, no error), read back from the in-process Tempo query API (answering as Tempo 3.x: a
/// TraceQL search, then each trace by ID): the same two shapes, each with its share.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_read_from_tempo_reproduces_the_trace_shape() {
    use support::otlp_receiver::{serve_query_api, Answer, Receiver};
    let receiver = Receiver::start(vec![Answer::Ok]).await;
    let (query_port, _api) = serve_query_api(receiver.shared.clone()).await;
    let query = format!("http://127.0.0.1:{query_port}");
    let written = format!(
        "[run]\nname = \"traces\"\nwarmup = \"1s\"\nduration = \"1s\"\n[tempo]\notlp_url = \"{}\"\nquery_url = \"{query}\"\n[tempo.connection]\ntenant = \"bench\"\n[tempo.write]\nrate = 70\nspans_per_request = 7\n[tempo.traces]\nservices = 3\ndepth = 3\nfanout = 2\nevents_per_span = 1\nlinks_per_span = 1\nerror_ratio = 0.0\nroot_duration = \"250ms\"\nattributes = {{ http = 3, db = 2, rpc = 1 }}\n[[tempo.traces.variants]]\nshare = 1\n[[tempo.traces.variants]]\nshare = 1\ndepth = 2\nfanout = 3\nservices = 2\nroot_duration = \"80ms\"\n",
        receiver.url()
    );
    let (code, printed, _) = support::run_binary(&written).await;
    assert_eq!(code, Some(0), "{printed}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("modelled.toml");
    let o = tokio::process::Command::new(env!("CARGO_BIN_EXE_lgtm-bench"))
        .args(["model", "--tempo", &query, "--otlp-url", &receiver.url(), "--rate-window", "100ms", "--out", file.to_str().unwrap()])
        .output()
        .await
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("traces sampled") && text.contains("Assumed: no tempo_distributor_spans_received_total"), "{text}");
    let s = support::scenario(&text);
    let t = &s.tempo.as_ref().unwrap().traces;
    // Both shapes written come back as a mix, each with its share of the sample and its own figures.
    let mut shapes: Vec<(u32, u32, u64, u32, u32, String)> =
        t.mix().iter().map(|(_, v)| (v.depth, v.fanout, v.services, v.events_per_span, v.links_per_span, v.root_duration.to_string())).collect();
    shapes.sort();
    assert_eq!(shapes, [(2, 3, 2, 1, 1, "80ms".to_string()), (3, 2, 3, 1, 1, "250ms".to_string())], "{text}");
    let shares: f64 = t.variants.iter().map(|v| v.share).sum();
    assert!((shares - 1.0).abs() < 0.01 && t.variants.iter().all(|v| v.share > 0.0), "{text}");
    assert!(t.mix().iter().all(|(_, v)| v.error_ratio == 0.0), "{text}");
    // Span attributes by their namespace, as written: 3 http, 2 db, 1 rpc per span.
    assert!(t.mix().iter().all(|(_, v)| (v.attributes.http, v.attributes.db, v.attributes.rpc) == (3, 2, 1)), "{text}");
}

/// `model --prometheus` against a Mimir: no TSDB status, so the series per metric and each
/// metric's labels come from Mimir's cardinality API (answered as Mimir's HTTP API reference
/// documents it: `series_count_total`, `labels[].cardinality[]`, `label_values_count`), the scrape
/// interval from the `up` series' sample spacing (Mimir serves no configuration), the tenant sent.
#[tokio::test]
async fn a_model_read_from_mimirs_cardinality_api_keeps_each_metrics_labels() {
    use support::replay::{Canned, ReplayServer};
    let ok = |data: &str| Canned::new(200, format!(r#"{{"status":"success","data":{data}}}"#));
    let json = |body: &str| Canned::new(200, body.to_string()).header("content-type", "application/json");
    let names = |labels: &[(&str, u64)]| {
        let c: Vec<String> = labels.iter().map(|(n, v)| format!(r#"{{"label_name":"{n}","label_values_count":{v}}}"#)).collect();
        json(&format!(r#"{{"label_values_count_total":99,"label_names_count":{},"cardinality":[{}]}}"#, labels.len(), c.join(",")))
    };
    let extra: Vec<String> = (1..=17).map(|i| format!("l{i:02}")).collect();
    let many: Vec<(&str, u64)> =
        [("__name__", 1), ("node", 200)].into_iter().chain(extra.iter().enumerate().map(|(i, n)| (n.as_str(), 40 - i as u64))).collect();
    let up: Vec<String> = (0..10).map(|i| format!("[{},\"1\"]", 1_700_000_000 + 30 * i)).collect();
    let mimir = ReplayServer::routed(vec![
        ("/prometheus/api/v1/status/tsdb", Canned::new(404, "404 page not found\n")),
        ("/prometheus/api/v1/status/config", Canned::new(404, "404 page not found\n")),
        (
            "/prometheus/api/v1/cardinality/label_values?label_names[]=__name__",
            json(
                r#"{"series_count_total":1300,"labels":[{"label_name":"__name__","label_values_count":3,"series_count":1300,"cardinality":[{"label_value":"http_requests_total","series_count":1000},{"label_value":"node_load1","series_count":200},{"label_value":"up","series_count":100}]}]}"#,
            ),
        ),
        (r#"label_names?selector={__name__="http_requests_total"}"#, names(&[("__name__", 1), ("namespace", 5), ("pod", 50), ("instance", 4)])),
        // An exporter's metric with 18 labels: the 16 largest are kept, the others said to be left out.
        (r#"label_names?selector={__name__="node_load1"}"#, names(&many)),
        (r#"label_names?selector={__name__="up"}"#, names(&[("__name__", 1), ("job", 10), ("instance", 100)])),
        ("/prometheus/api/v1/cardinality/label_names", names(&[("node", 200), ("pod", 50), ("namespace", 5), ("job", 10)])),
        (
            "/prometheus/api/v1/metadata",
            ok(r#"{"http_requests_total":[{"type":"counter","help":"Requests.","unit":""}],"node_load1":[{"type":"gauge","help":"Load.","unit":"load"}]}"#),
        ),
        // The cluster Prometheus's own metrics, remote-written into Mimir: up 2 h, 130 series made in the last hour.
        ("increase(prometheus_tsdb_head_series_created_total[1h])", ok(r#"{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"130"]}]}"#)),
        ("process_start_time_seconds", ok(r#"{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"7200"]}]}"#)),
        ("query=up[5m]", ok(&format!(r#"{{"resultType":"matrix","result":[{{"metric":{{"__name__":"up"}},"values":[{}]}}]}}"#, up.join(",")))),
        ("/prometheus/api/v1/query", ok(r#"{"resultType":"vector","result":[]}"#)),
    ])
    .await;
    let o = tokio::process::Command::new(env!("CARGO_BIN_EXE_lgtm-bench"))
        .args(["model", "--prometheus", &mimir.base(), "--query-prefix", "/prometheus", "--tenant", "perf"])
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success(), "{}{text}", String::from_utf8_lossy(&o.stderr));
    assert!(text.contains("Mimir's cardinality API") && text.contains("the `up` series' sample spacing"), "each figure's source: {text}");
    let s = support::scenario(&text);
    let series = &s.mimir.as_ref().unwrap().write.as_ref().unwrap().series;
    assert_eq!((series.active, series.scrape_interval.unwrap().to_string()), (1300, "30s".to_string()), "{text}");
    assert_eq!((series.churn_share, series.churn_period.to_string()), (0.1, "1h".to_string()), "130 of 1,300 series made anew each hour: {text}");
    let own = |name: &str| {
        let f = series.families.iter().find(|f| f.name == name).unwrap_or_else(|| panic!("{name}: {text}"));
        (f.kind, f.labels.clone().unwrap_or_default().into_iter().map(|l| (l.name, l.cardinality)).collect::<Vec<_>>())
    };
    use lgtm_bench::targets::mimir::config::FamilyKind;
    assert_eq!(own("http_requests_total"), (FamilyKind::Counter, vec![("pod".into(), 50), ("namespace".into(), 5)]), "instance is not a dimension");
    let (kind, labels) = own("node_load1");
    assert_eq!((kind, labels.len(), labels[0].clone(), labels[15].clone()), (FamilyKind::Gauge, 16, ("node".into(), 200), ("l15".into(), 26)));
    assert!(text.contains("node_load1: its 16 largest labels kept; left out: l16 (25), l17 (24)"), "{text}");
    let units: Vec<Option<String>> =
        ["http_requests_total", "node_load1"].iter().map(|n| series.families.iter().find(|f| f.name == *n).unwrap().unit.clone()).collect();
    assert_eq!(units, [None, Some("load".to_string())], "units from the metadata: {text}");
    let tail: Vec<(String, u64)> = series.labels.iter().map(|l| (l.name.clone(), l.cardinality)).collect();
    assert_eq!(tail, [("node".to_string(), 200), ("pod".to_string(), 50), ("namespace".to_string(), 5)], "the top cardinalities, job left out");
    let received = mimir.received();
    assert!(received.iter().all(|r| r.headers.get("x-scope-orgid").is_some_and(|v| v == "perf")), "the tenant on every request");
    assert!(received.iter().all(|r| r.uri.starts_with("/prometheus/")), "under the prefix");
}

/// Answers of a Prometheus API holding one counter: enough for `model --prometheus`.
fn prometheus_routes() -> Vec<(&'static str, support::replay::Canned)> {
    use support::replay::Canned;
    let ok = |data: &str| Canned::new(200, format!(r#"{{"status":"success","data":{data}}}"#));
    vec![
        (
            "/api/v1/status/tsdb",
            ok(
                r#"{"headStats":{"numSeries":100},"seriesCountByMetricName":[{"name":"http_requests_total","value":100}],"labelValueCountByLabelName":[{"name":"pod","value":100}]}"#,
            ),
        ),
        ("/api/v1/labels", ok(r#"["__name__","pod"]"#)),
        ("/api/v1/label/pod/values", ok(r#"["a","b"]"#)),
        ("/api/v1/metadata", ok(r#"{"http_requests_total":[{"type":"counter","help":"","unit":""}]}"#)),
        ("/api/v1/status/config", ok(r#"{"yaml":"global:\n  scrape_interval: 30s\n"}"#)),
        ("/api/v1/query", ok(r#"{"resultType":"vector","result":[]}"#)),
    ]
}

/// `model --grafana`: the dashboards a Grafana's users open, through Grafana's HTTP API as its
/// documentation gives it (`/api/search/sorting`, `/api/search`, `/api/dashboards/uid/{uid}`,
/// Bearer token). Where Grafana sorts by views (usage insights), the most viewed are taken and
/// written beside the scenario as `[[mimir.dashboards]]`; a dashboard on another datasource is
/// listed, not replayed. Where it does not (open-source Grafana), a folder must be named.
#[tokio::test]
async fn a_model_takes_the_most_viewed_grafana_dashboards_or_a_folders() {
    use support::replay::{Canned, ReplayServer};
    let nodes = std::fs::read_to_string(support::fixtures::dir("dashboards").join("nodes.json")).unwrap();
    let loki =
        r#"{"title":"Logs","panels":[{"id":1,"type":"logs","title":"Logs","datasource":{"type":"loki","uid":"loki"},"targets":[{"expr":"{app=\"x\"}"}]}]}"#;
    let hit = |uid: &str, title: &str, views: u64| {
        format!(
            r#"{{"uid":"{uid}","title":"{title}","type":"dash-db","folderUid":"k8s","folderTitle":"Kubernetes","sortMeta":{views},"sortMetaName":"views"}}"#
        )
    };
    let mut routes = prometheus_routes();
    routes.extend([
        (
            "/api/search/sorting",
            Canned::new(200, r#"[{"name":"alpha-asc","displayName":"Alphabetically (A–Z)"},{"name":"views-recent-desc","displayName":"Views 30 days"}]"#),
        ),
        ("/api/search?", Canned::new(200, format!("[{},{}]", hit("nodes-uid", "Nodes", 120), hit("logs-uid", "Logs", 40)))),
        ("/api/dashboards/uid/nodes-uid", Canned::new(200, format!(r#"{{"dashboard":{nodes},"meta":{{"folderTitle":"Kubernetes"}}}}"#))),
        ("/api/dashboards/uid/logs-uid", Canned::new(200, format!(r#"{{"dashboard":{loki},"meta":{{}}}}"#))),
    ]);
    let server = ReplayServer::routed(routes).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mine.toml");
    let base = server.base();
    let args = ["model", "--prometheus", &base, "--grafana", &base, "--out", file.to_str().unwrap(), "--dashboards", "2"];
    let o = tokio::process::Command::new(env!("CARGO_BIN_EXE_lgtm-bench")).args(args).env("GRAFANA_TOKEN", "secret").output().await.unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("the 2 most viewed by Grafana's `Views 30 days` sort"), "{text}");
    let s = support::scenario(&text);
    let boards = &s.mimir.as_ref().unwrap().dashboards;
    assert_eq!(boards.iter().map(|d| d.file.as_str()).collect::<Vec<_>>(), ["dashboards/nodes-uid.json"], "{text}");
    assert!(text.contains("`Nodes` in Kubernetes, 120 views") && text.contains("`Logs` (dashboards/logs-uid.json) not replayed"), "{text}");
    let written: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("dashboards/nodes-uid.json")).unwrap()).unwrap();
    assert_eq!(written, serde_json::from_str::<serde_json::Value>(&nodes).unwrap(), "the dashboard as Grafana stores it");
    let grafana_calls: Vec<_> = server.received().into_iter().filter(|r| !r.uri.starts_with("/api/v1/")).collect();
    assert!(grafana_calls.iter().all(|r| r.headers.get("authorization").is_some_and(|v| v == "Bearer secret")), "the token on every Grafana request");
    assert!(grafana_calls.iter().any(|r| r.uri.contains("sort=views-recent-desc") && r.uri.contains("limit=2")), "{grafana_calls:?}");

    // Open-source Grafana: no sort by views. Without a folder: the flag to give; with one: its dashboards.
    let mut routes = prometheus_routes();
    routes.extend([
        (
            "/api/search/sorting",
            Canned::new(200, r#"[{"name":"alpha-asc","displayName":"Alphabetically (A–Z)"},{"name":"alpha-desc","displayName":"Alphabetically (Z–A)"}]"#),
        ),
        ("/api/search?", Canned::new(200, format!("[{}]", hit("nodes-uid", "Nodes", 0).replace(r#","sortMeta":0,"sortMetaName":"views""#, "")))),
        ("/api/dashboards/uid/nodes-uid", Canned::new(200, format!(r#"{{"dashboard":{nodes},"meta":{{}}}}"#))),
    ]);
    let server_oss = ReplayServer::routed(routes).await;
    let oss = server_oss.base();
    let run = |extra: Vec<String>| {
        let mut args: Vec<String> = ["model", "--prometheus", &oss, "--grafana", &oss, "--out", file.to_str().unwrap()].map(String::from).to_vec();
        args.extend(extra);
        async move { tokio::process::Command::new(env!("CARGO_BIN_EXE_lgtm-bench")).args(args).env("GRAFANA_TOKEN", "secret").output().await.unwrap() }
    };
    let o = run(vec![]).await;
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("give --grafana-folder UID"), "{}", String::from_utf8_lossy(&o.stderr));
    let o = run(vec!["--grafana-folder".into(), "k8s".into()]).await;
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(server_oss.received().iter().any(|r| r.uri.contains("folderUIDs=k8s")));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("every dashboard of folder `k8s`") && text.contains("file = \"dashboards/nodes-uid.json\""), "{text}");
    let o = tokio::process::Command::new(env!("CARGO_BIN_EXE_lgtm-bench"))
        .args(["model", "--prometheus", &oss, "--grafana", &oss, "--grafana-folder", "k8s", "--out", file.to_str().unwrap()])
        .env_remove("GRAFANA_TOKEN")
        .output()
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("GRAFANA_TOKEN (a Grafana service-account token) is not set"));
    drop(server);
}
