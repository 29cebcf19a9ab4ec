//! Remote-write 2.0 and OTLP metrics: what lgtm-bench sends decodes field by field through the
//! protobuf definitions (checked first against requests a real Cortex accepted), and the answers
//! real servers gave (`tests/fixtures/mimir-rw2-otlp/`, recorded against Cortex) are understood as
//! they must be: a 415 is a receiver without 2.0, a 2xx without written-count headers one that read
//! 2.0 as 1.0, headers counting fewer than sent a partial write. A real Prometheus 2.42 (which
//! reads a 2.0 body as an empty 1.0 request) is refused before any load.

mod support;

use lgtm_bench::client::http::Answer;
use lgtm_bench::stats::OutcomeClass;
use lgtm_bench::targets::mimir::config::{FamilyKind, FamilySpec, SeriesModel, WriteProtocol};
use lgtm_bench::targets::mimir::write::classify::{classify_v2, NOT_V2, READ_AS_V1};
use lgtm_bench::targets::mimir::write::payload::PayloadBuilder;
use lgtm_bench::targets::mimir::write::proto::v2;
use lgtm_bench::targets::mimir::write::series::SeriesSet;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use prost::Message;
use serde_json::Value;
use std::sync::Arc;
use support::fixtures::{b64, response_body};
use support::prometheus::Prometheus;
use support::replay::{Canned, ReplayServer};

fn fixture(path: &str) -> Value {
    let file = support::fixtures::dir("mimir-rw2-otlp").join(path);
    serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap()
}

/// The recorded answer as lgtm-bench's client hands it over.
fn answer(f: &Value) -> Answer {
    let mut headers = http::HeaderMap::new();
    for (k, v) in f["response"]["headers"].as_object().unwrap() {
        headers.insert(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.as_str().unwrap().parse().unwrap());
    }
    Answer { status: http::StatusCode::from_u16(f["response"]["status"].as_u64().unwrap() as u16).unwrap(), headers, body: response_body(f).into() }
}

fn labels(req: &v2::Request, ts: &v2::TimeSeries) -> Vec<(String, String)> {
    ts.labels_refs.chunks(2).map(|p| (req.symbols[p[0] as usize].clone(), req.symbols[p[1] as usize].clone())).collect()
}

#[test]
fn requests_cortex_accepted_decode_with_the_2_0_definitions() {
    let ok = fixture("rw2-enabled/rw2-ok.json");
    let req = v2::Request::decode(b64(ok["request"]["uncompressed_b64"].as_str().unwrap()).as_slice()).unwrap();
    assert_eq!(req.symbols[0], "", "the first symbol is the empty string");
    assert_eq!(req.timeseries.len(), 3);
    let first = &req.timeseries[0];
    assert!(labels(&req, first).contains(&("__name__".into(), "rec_rw2_requests_total".into())));
    assert_eq!(first.samples.len(), 2);
    let meta = first.metadata.as_ref().unwrap();
    assert_eq!((meta.r#type, req.symbols[meta.help_ref as usize].as_str()), (1, "Total requests handled (recorded fixture rec_rw2)."));
    let ex = fixture("rw2-native-histograms-exemplars/rw2-exemplar.json");
    let req = v2::Request::decode(b64(ex["request"]["uncompressed_b64"].as_str().unwrap()).as_slice()).unwrap();
    let h = req.timeseries.iter().flat_map(|t| &t.histograms).next().expect("a native histogram series");
    assert_eq!((h.count_int, h.sum, h.schema), (10, 9.85, 3));
}

fn typed_model() -> SeriesModel {
    let f = |name: &str, kind: FamilyKind, unit: Option<&str>| FamilySpec {
        name: name.into(),
        kind,
        share: 1.0,
        buckets: Some(vec![0.25, 1.0]),
        quantiles: None,
        schema: 3,
        native_buckets: 4,
        help: None,
        unit: unit.map(String::from),
        labels: None,
    };
    SeriesModel {
        active: 40,
        metrics: vec![],
        labels: vec![lgtm_bench::targets::mimir::config::LabelSpec { name: "pod".into(), cardinality: 3 }],
        samples_per_request: 40,
        scrape_interval: None,
        churn_share: 0.0,
        churn_period: lgtm_bench::units::Dur::secs(600),
        families: vec![
            f("rt_requests_total", FamilyKind::Counter, None),
            f("rt_latency_seconds", FamilyKind::Histogram, Some("seconds")),
            f("rt_size_bytes", FamilyKind::NativeHistogram, Some("bytes")),
        ],
        preset: None,
        exemplar_share: 1.0,
    }
}

#[test]
fn a_2_0_request_round_trips_field_by_field() {
    let set = Arc::new(SeriesSet::new(&typed_model(), "rt01", 9));
    let mut b = PayloadBuilder::speaking(set.clone(), WriteProtocol::Rw2).created_at(1_789_999_000_000);
    let (body, built) = b.build(7, 1_790_000_000_000, 0, true);
    let req = v2::Request::decode(snap::raw::Decoder::new().decompress_vec(body).unwrap().as_slice()).unwrap();
    assert_eq!(req.symbols[0], "");
    let unique: std::collections::BTreeSet<&String> = req.symbols.iter().collect();
    assert_eq!(unique.len(), req.symbols.len(), "each symbol once");
    assert_eq!(req.timeseries.len() as u64, set.per_request);
    assert_eq!((built.samples, built.histograms), (set.per_request, req.timeseries.iter().filter(|t| !t.histograms.is_empty()).count() as u64));
    for (k, ts) in req.timeseries.iter().enumerate() {
        let index = set.series_in_request(7, k as u64);
        assert_eq!(labels(&req, ts), set.labels(index, set.series_id(index, 0)), "series {index}");
        let family = set.place(index).family;
        let meta = ts.metadata.as_ref().unwrap();
        assert_eq!(meta.r#type, family.metadata_type());
        assert_eq!(ts.created_timestamp, 1_789_999_000_000, "cumulative series say when the run started them");
        assert_eq!((req.symbols[meta.help_ref as usize].as_str(), req.symbols[meta.unit_ref as usize].as_str()), (family.help.as_str(), family.unit.as_str()));
        if set.is_native(index) {
            let (h, want) = (&ts.histograms[0], set.native(7, index));
            let counts: Vec<u64> = h
                .positive_deltas
                .iter()
                .scan(0i64, |a, d| {
                    *a += d;
                    Some(*a as u64)
                })
                .collect();
            assert_eq!(
                (h.count_int, h.sum, h.zero_count_int, h.positive_spans[0].offset, counts),
                (want.count, want.sum, want.zero_count, want.offset, want.counts)
            );
            assert!(ts.samples.is_empty());
        } else {
            assert_eq!((ts.samples[0].value, ts.samples[0].timestamp), (set.value(7, index), 1_790_000_000_000));
        }
        // Every counter and bucket sample carries an exemplar (share 1.0) for this run's trace 7.
        match set.exemplar(7, index) {
            Some((trace, value)) => {
                let e = &ts.exemplars[0];
                let l: Vec<(&str, &str)> =
                    e.labels_refs.chunks(2).map(|p| (req.symbols[p[0] as usize].as_str(), req.symbols[p[1] as usize].as_str())).collect();
                assert_eq!(l, [("trace_id", lgtm_bench::ids::hex(&set.trace_id(trace)).as_str())]);
                assert_eq!((trace, e.value, e.timestamp), (7, value, 1_790_000_000_000));
            }
            None => assert!(ts.exemplars.is_empty()),
        }
    }
}

#[test]
fn recorded_2_0_answers_are_understood_against_what_was_sent() {
    // 415 from a receiver with 2.0 off.
    let (class, words) = classify_v2(&answer(&fixture("default/rw2-ok.json")), 6, 0);
    assert_eq!(class, OutcomeClass::BadRequest);
    assert!(words.unwrap().contains(NOT_V2));
    // 204 with 6 samples written: all of 6 sent, or a partial write of 8.
    let ok = answer(&fixture("rw2-enabled/rw2-ok.json"));
    assert_eq!(classify_v2(&ok, 6, 0), (OutcomeClass::Success, None));
    let (class, words) = classify_v2(&ok, 8, 0);
    assert_eq!(class, OutcomeClass::PartialWrite);
    assert!(words.unwrap().contains("written 6 samples and 0 histograms of 8 and 0 sent"));
    // A 400 for the series limit, headers all 0 (yet 2 of its 5 series were stored).
    assert_eq!(classify_v2(&answer(&fixture("rw2-enabled/rw2-fewseries.json")), 5, 0).0, OutcomeClass::SeriesLimit);
    // Headers that overstate (a histogram "written" with native histograms off): only read-back can tell.
    assert_eq!(classify_v2(&answer(&fixture("rw2-enabled/rw2-exemplar.json")), 6, 1).0, OutcomeClass::Success);
    // The rate limit.
    assert_eq!(classify_v2(&answer(&fixture("rw2-enabled/rw2-tiny.json")), 100, 0).0, OutcomeClass::RateLimited);
    // A 2xx without written-count headers: the request was read as 1.0.
    let as_v1 = Answer { status: http::StatusCode::NO_CONTENT, headers: http::HeaderMap::new(), body: bytes::Bytes::new() };
    let (class, words) = classify_v2(&as_v1, 6, 0);
    assert_eq!(class, OutcomeClass::BadResponse);
    assert!(words.unwrap().contains(READ_AS_V1));
}

fn scenario(write_url: &str, query: &str, protocol: &str) -> String {
    format!(
        r#"
objectives = ["mimir.write error_ratio < 1%"]
[run]
name = "protocols"
warmup = "1s"
duration = "2s"
[mimir]
write_url = "{write_url}"
query_url = "{query}"
[mimir.write]
rate = 4
protocol = "{protocol}"
[mimir.write.series]
active = 40
samples_per_request = 20
[[mimir.write.series.families]]
name = "proto_requests_total"
type = "counter"
share = 0.5
[[mimir.write.series.families]]
name = "proto_latency_seconds"
type = "histogram"
share = 0.5
unit = "seconds"
"#
    )
}

async fn run(text: &str) -> (Option<i32>, String, Option<lgtm_bench::report::Report>) {
    support::run_binary(text).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_does_not_speak_2_0_is_refused_before_any_load_with_the_fix() {
    // A real Prometheus 2.42: a 2.0 body is read as an empty 1.0 request, 204 without headers.
    let prom = Prometheus::start();
    let (code, printed, _) = run(&scenario(&format!("{}/api/v1/write", prom.base()), &prom.base(), "rw2")).await;
    assert_eq!(code, Some(4), "{printed}");
    assert!(printed.contains(READ_AS_V1), "{printed}");
    // Cortex with 2.0 off, as recorded: 415.
    let cortex = ReplayServer::start(vec![Canned::from_fixture(&fixture("default/rw2-ok.json"))]).await;
    let (code, printed, _) = run(&scenario(&format!("{}/api/v1/push", cortex.base()), &prom.base(), "rw2")).await;
    assert_eq!(code, Some(4), "{printed}");
    assert!(printed.contains(NOT_V2), "{printed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otlp_metrics_are_sent_as_a_collector_sends_them_and_recorded_answers_are_counted() {
    let prom = Prometheus::start();
    // Every answer as Cortex gave it to a good request: 200 with an empty body.
    let cortex = ReplayServer::start(vec![Canned::from_fixture(&fixture("default/otlp-metrics-ok.json"))]).await;
    let text =
        scenario(&format!("{}/api/v1/otlp/v1/metrics", cortex.base()), &prom.base(), "otlp").replace("protocol = \"otlp\"", "protocol = \"otlp\"\ngzip = true");
    let (code, printed, report) = run(&text).await;
    assert_eq!(code, Some(0), "{printed}");
    let report = report.unwrap();
    let write = &report.paths["mimir.write"];
    assert_eq!(write.calls, 8, "4 a second for 2 s");
    assert_eq!(write.count(OutcomeClass::Success), 8);
    // Items are the samples the target makes of the data points sent (a histogram's buckets, _sum
    // and _count): rebuilt for the 8 measured requests (after 4 of warm-up).
    let s = support::scenario(&text);
    let model = &s.mimir.as_ref().unwrap().write.as_ref().unwrap().series;
    let seed = report.scenario["run"]["seed"].as_u64().unwrap();
    let builder = lgtm_bench::targets::mimir::write::otlp::OtlpMetricsBuilder {
        series: Arc::new(SeriesSet::new(model, &report.run.id, seed)),
        names: lgtm_bench::targets::mimir::config::OtlpNames::Suffixes,
        start_unix_ns: 0,
    };
    let expected: u64 = (4..12).map(|seq| builder.build(seq, 0, 0).1.series_samples).sum();
    assert_eq!(write.counters.items_ok, expected);
    let received = cortex.received.lock().unwrap().clone();
    let load: Vec<_> = received.iter().filter(|r| !r.body.is_empty() && r.body.len() > 30).collect();
    assert!(!load.is_empty());
    for r in load {
        assert_eq!(r.headers["content-encoding"], "gzip");
        assert_eq!(r.headers["content-type"], "application/x-protobuf");
        let mut raw = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(r.body.as_ref()), &mut raw).unwrap();
        let req = ExportMetricsServiceRequest::decode(raw.as_slice()).unwrap();
        let names: Vec<&str> = req.resource_metrics[0].scope_metrics[0].metrics.iter().map(|m| m.name.as_str()).collect();
        assert!(names.iter().all(|n| ["proto_requests", "proto_latency"].contains(n)), "sent without the suffixes the target adds: {names:?}");
    }
    // The rate limit as recorded: 429 on every request after the preflight's.
    let tiny = ReplayServer::start(vec![
        Canned::from_fixture(&fixture("default/otlp-metrics-ok.json")),
        Canned::from_fixture(&fixture("default/otlp-metrics-tiny.json")),
    ])
    .await;
    let text = scenario(&format!("{}/api/v1/otlp/v1/metrics", tiny.base()), &prom.base(), "otlp");
    let (code, printed, report) = run(&text).await;
    assert_eq!(code, Some(1), "{printed}");
    let write = &report.unwrap().paths["mimir.write"];
    assert_eq!(write.count(OutcomeClass::RateLimited), write.calls);
    assert!(write.examples.iter().any(|e| e.answer.contains("ingestion rate limit (5) exceeded")), "{:?}", write.examples);
}
