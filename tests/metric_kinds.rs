//! Every metric type remote-write 1.0 carries, into a real Prometheus with native histograms on:
//! counters, gauges, classic histograms, summaries and native histograms, each read back through
//! PromQL equal to what the series model says was written (buckets by `le`, summaries by
//! `quantile`, native histograms by `histogram_count` and `histogram_sum`), and the head holding
//! exactly the series the plan counts (every bucket, `_sum` and `_count` one).

mod support;

use lgtm_bench::targets::mimir::write::series::{series_count, SeriesSet};
use support::prometheus::Prometheus;

fn scenario(base: &str) -> String {
    format!(
        r#"
objectives = ["mimir.write error_ratio == 0"]
[run]
name = "metric-kinds"
seed = 5
warmup = "1s"
duration = "2s"
[mimir]
write_url = "{base}/api/v1/write"
query_url = "{base}"
[mimir.write]
rate = 2
max_in_flight = 1
[mimir.write.series]
active = 240
samples_per_request = 240
labels = [{{ name = "pod", cardinality = 4 }}]
exemplar_share = 0.5
[mimir.query_load]
concurrency = 1
[[mimir.queries]]
name = "exemplars"
kind = "exemplars"
query = 'kinds_requests_total{{lgtm_bench_run="$run_id"}}'
range = "10m"
[[mimir.queries]]
name = "p90-classic"
query = 'histogram_quantile(0.9, sum by (le) (rate(kinds_latency_seconds_bucket{{lgtm_bench_run="$run_id"}}[1m])))'
[[mimir.queries]]
name = "p90-native"
query = 'histogram_quantile(0.9, sum(rate(kinds_payload_bytes{{lgtm_bench_run="$run_id"}}[1m])))'
[[mimir.write.series.families]]
name = "kinds_requests_total"
type = "counter"
share = 0.2
[[mimir.write.series.families]]
name = "kinds_temperature_celsius"
type = "gauge"
share = 0.1
[[mimir.write.series.families]]
name = "kinds_latency_seconds"
type = "histogram"
share = 0.3
buckets = [0.1, 0.5, 1.0, 2.5]
[[mimir.write.series.families]]
name = "kinds_gc_seconds"
type = "summary"
share = 0.2
[[mimir.write.series.families]]
name = "kinds_payload_bytes"
type = "native_histogram"
share = 0.2
schema = 2
native_buckets = 5
"#
    )
}

async fn run(text: &str) -> (lgtm_bench::report::Report, String) {
    let (_, printed, report) = support::run_binary(text).await;
    (report.unwrap_or_else(|| panic!("no results:\n{printed}")), printed)
}

fn value(prom: &Prometheus, promql: &str) -> f64 {
    let v = prom.query(promql);
    let result = &v["data"]["result"];
    assert_eq!(result.as_array().map(Vec::len), Some(1), "{promql}: {v}");
    result[0]["value"][1].as_str().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_type_is_stored_and_read_back_equal_and_the_head_counts_every_series() {
    let prom = Prometheus::start_native();
    let text = scenario(&prom.base());
    let (report, printed) = run(&text).await;
    assert!(report.passed(), "{printed}");
    let write = &report.paths["mimir.write"];
    // One request a scrape, every series in it: 2/s over 1 s of warm-up and 2 s measured.
    let requests = 6;
    assert_eq!((write.calls, write.counters.items_ok), (4, 4 * 240));

    let s = support::scenario(&text);
    let model = &s.mimir.as_ref().unwrap().write.as_ref().unwrap().series;
    let set = SeriesSet::new(model, &report.run.id, 5);
    assert_eq!(set.active, series_count(model));
    // The shares lay out in whole instances: 48 counters, 24 gauges, 10 histograms of 7 series,
    // 10 summaries of 5, 48 native histograms.
    assert_eq!(set.active, 48 + 24 + 70 + 50 + 48);

    // The head: exactly the planned series, buckets, sums and counts included.
    let run = &report.run.id;
    assert_eq!(value(&prom, &format!("count({{lgtm_bench_run=\"{run}\"}})")) as u64, set.active);

    // Every series read back equal to what its last scrape wrote.
    let last = requests - 1;
    for index in 0..set.active {
        let id = set.series_id(index, 0);
        let want = set.value(last, index);
        let got = value(&prom, &set.read_back_query(index, id));
        assert_eq!(got, want, "{}", set.read_back_query(index, id));
        if set.is_native(index) {
            let h = set.native(last, index);
            assert_eq!(value(&prom, &format!("histogram_sum({})", set.selector(index, id))), h.sum);
            // The bucket of a known value: up to the upper bound of its third bucket, the zero bucket
            // and the first three buckets' observations (histogram_fraction × count).
            let upper = lgtm_bench::targets::mimir::write::families::NativeHistogram::upper_bound(h.schema, h.offset + 2);
            let sel = set.selector(index, id);
            let below = value(&prom, &format!("histogram_fraction(0, {upper}, {sel}) * histogram_count({sel})"));
            let want = (h.zero_count + h.counts[..3].iter().sum::<u64>()) as f64;
            assert!((below - want).abs() < 1e-9 * want.max(1.0), "{below} observations up to {upper}, written {want}");
            assert_eq!(h.counts.iter().sum::<u64>() + h.zero_count, h.count);
        }
    }
    // A classic histogram's buckets add up: its +Inf bucket is its count, for every instance.
    let inf = value(&prom, &format!("sum(kinds_latency_seconds_bucket{{lgtm_bench_run=\"{run}\",le=\"+Inf\"}})"));
    assert_eq!(inf, value(&prom, &format!("sum(kinds_latency_seconds_count{{lgtm_bench_run=\"{run}\"}})")));
    // Exemplars: half the counter and bucket samples carry one, each pointing at a trace of this run
    // (request n's at trace n: the ids Tempo's path writes with the same seed and run).
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let url = format!(
        "{}/api/v1/query_exemplars?query={}&start={}&end={}",
        prom.base(),
        form_urlencoded::byte_serialize(format!("{{lgtm_bench_run=\"{run}\"}}").as_bytes()).collect::<String>(),
        now - 600,
        now + 60
    );
    let out = std::process::Command::new("curl").args(["-fsS", &url]).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let traces: std::collections::BTreeSet<String> = (0..requests).map(|t| lgtm_bench::ids::hex(&set.trace_id(t))).collect();
    let mut exemplars = 0;
    for series in json["data"].as_array().unwrap() {
        let name = series["seriesLabels"]["__name__"].as_str().unwrap();
        assert!(name == "kinds_requests_total" || name == "kinds_latency_seconds_bucket", "exemplars on counters and buckets only: {name}");
        for e in series["exemplars"].as_array().unwrap() {
            assert!(traces.contains(e["labels"]["trace_id"].as_str().unwrap()), "{e}");
            exemplars += 1;
        }
    }
    let expected: usize = (0..requests).map(|seq| (0..set.active).filter(|i| set.exemplar(seq, *i).is_some()).count()).sum();
    assert_eq!(exemplars, expected, "every exemplar sent is stored: {json}");
    let q = &report.paths["mimir.query.exemplars"];
    assert!(q.calls > 0 && q.error_ratio == Some(0.0) && q.counters.items_ok > 0, "the exemplars query kind: {:?}", q.outcomes);
    for name in ["p90-classic", "p90-native"] {
        assert_eq!(report.paths[&format!("mimir.query.{name}")].error_ratio, Some(0.0));
    }
    // histogram_quantile answers over classic and native histograms alike.
    for q in [
        format!("histogram_quantile(0.9, sum by (le) (kinds_latency_seconds_bucket{{lgtm_bench_run=\"{run}\"}}))"),
        format!("histogram_quantile(0.9, sum(kinds_payload_bytes{{lgtm_bench_run=\"{run}\"}}))"),
    ] {
        assert!(value(&prom, &q) > 0.0, "{q}");
    }
}

/// A scenario of native histograms only, written to `write` and read back from `query`.
fn natives_only(write: &str, query: &str) -> String {
    format!(
        r#"
[run]
name = "no-native"
seed = 5
warmup = "1s"
duration = "2s"
[mimir]
write_url = "{write}"
query_url = "{query}"
[mimir.write]
rate = 2
max_in_flight = 1
[mimir.write.series]
active = 10
samples_per_request = 10
[[mimir.write.series.families]]
name = "kinds_payload_bytes"
type = "native_histogram"
share = 1.0
[mimir.visibility]
sample_every = 1
poll_interval = "100ms"
deadline = "1s"
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_histograms_into_a_target_without_them_are_reported_with_the_fix() {
    use lgtm_bench::stats::OutcomeClass;
    use lgtm_bench::targets::mimir::write::classify::ENABLE_NATIVE;
    // Prometheus without the feature refuses them (500 "native histograms are disabled"): refused for
    // good, not a server error to retry, and the example says how to enable them.
    let prom = Prometheus::start();
    let (report, printed) = run(&natives_only(&format!("{}/api/v1/write", prom.base()), &prom.base())).await;
    let write = &report.paths["mimir.write"];
    assert_eq!(write.count(OutcomeClass::BadRequest), write.calls, "{printed}");
    assert!(write.examples[0].answer.contains("native histograms are disabled") && write.examples[0].answer.contains(ENABLE_NATIVE), "{printed}");
    // Cortex with them off answers 200 and drops them (as recorded): read-back finds nothing and says why.
    let cortex = support::replay::ReplayServer::start(vec![support::replay::Canned::from_fixture(
        &serde_json::from_str(&std::fs::read_to_string(support::fixtures::dir("mimir-rw2-otlp").join("default/rw1-native-histogram.json")).unwrap()).unwrap(),
    )])
    .await;
    let (report, printed) = run(&natives_only(&format!("{}/api/v1/push", cortex.base()), &prom.base())).await;
    let (write, vis) = (&report.paths["mimir.write"], &report.paths["mimir.visibility"]);
    assert_eq!(write.count(OutcomeClass::Success), write.calls, "2xx: {printed}");
    assert_eq!(vis.count(OutcomeClass::Lost), vis.calls, "{printed}");
    assert!(
        vis.calls > 0 && vis.examples[0].answer.contains("acknowledged 2xx but not read back") && vis.examples[0].answer.contains(ENABLE_NATIVE),
        "{printed}"
    );
}
