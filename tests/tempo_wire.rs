//! The Tempo path on the wire: every recorded OTLP/gRPC answer of a real Tempo is classified right;
//! partial success counts rejected spans; OTLP/HTTP works; and a bounded run against the
//! in-process receiver sends exactly the planned traces, well formed, with the tenant, and reads
//! them back by ID and by search.

mod support;

use lgtm_bench::client::http::HttpTarget;
use lgtm_bench::engine::runner::{self, RunOptions};
use lgtm_bench::engine::schedule::Schedule;
use lgtm_bench::scenario::Connection;
use lgtm_bench::stats::OutcomeClass;
use lgtm_bench::stats::PathTable;
use lgtm_bench::targets::tempo::config::TraceShape;
use lgtm_bench::targets::tempo::otlp::payload::Mix;
use lgtm_bench::targets::tempo::otlp::shape::{IdSource, Shape};
use lgtm_bench::targets::tempo::otlp::transport::{GrpcExporter, HttpExporter};
use lgtm_bench::targets::tempo::otlp::{AckLedger, Exporter, OtlpWrite};
use lgtm_bench::workload::{RunClock, Ticket, Workload};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use support::otlp_receiver::{serve_query_api, Answer, Receiver};
use support::replay::{Canned, ReplayServer};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tonic::Code;

fn writer(exporter: Exporter) -> OtlpWrite {
    let shape = Arc::new(Shape::new(&TraceShape::default()));
    OtlpWrite {
        exporter,
        mix: Arc::new(Mix::new(&[(1.0, shape)], "wire", 14)),
        ids: IdSource::new(1, "wire"),
        path: PathTable::default().register("tempo.write"),
        clock: RunClock::starting_at(Instant::now()),
        connections: 1,
        ledger: Arc::new(AckLedger::default()),
        visibility: None,
    }
}

async fn export_once(w: &OtlpWrite) -> lgtm_bench::workload::CallOutcome {
    let mut state = w.new_state(0);
    w.call(&mut state, Ticket { seq: 0, intended: Instant::now(), measured: true }).await
}

#[tokio::test]
async fn every_recorded_grpc_answer_of_tempo_gets_its_class() {
    let expected = HashMap::from([
        ("otlp-grpc-export-ok", OutcomeClass::Success),
        ("otlp-grpc-export-no-tenant", OutcomeClass::MissingTenant),
        ("otlp-grpc-export-rate-limited", OutcomeClass::RateLimited),
        ("otlp-grpc-export-trace-too-large", OutcomeClass::TooLarge),
    ]);
    let fixtures: Vec<_> = support::fixtures::all("tempo").into_iter().filter(|(_, f)| f["protocol"] == "otlp-grpc").collect();
    assert_eq!(fixtures.len(), expected.len(), "every recorded gRPC exchange is covered");
    for (name, f) in fixtures {
        let r = &f["response"];
        let answer = match r["grpc_status"].as_str().unwrap() {
            "OK" => Answer::Ok,
            "UNAVAILABLE" => Answer::Fail(Code::Unavailable, r["grpc_message"].as_str().unwrap().into()),
            "RESOURCE_EXHAUSTED" => Answer::Fail(Code::ResourceExhausted, r["grpc_message"].as_str().unwrap().into()),
            other => panic!("{name}: unexpected status {other}"),
        };
        let receiver = Receiver::start(vec![answer]).await;
        let w = writer(Exporter::Grpc(GrpcExporter::new(&receiver.url(), &Connection::default(), 1, false).unwrap()));
        let out = export_once(&w).await;
        assert_eq!(out.class, expected[name.as_str()], "{name}: {}", f["note"]);
        assert_eq!(out.items, 14);
        assert_eq!(w.ledger.acked(), u64::from(out.class.is_success()), "{name}: only accepted Exports enter the ledger");
    }
}

#[tokio::test]
async fn partial_success_counts_the_rejected_spans() {
    let receiver = Receiver::start(vec![Answer::Partial(5)]).await;
    let w = writer(Exporter::Grpc(GrpcExporter::new(&receiver.url(), &Connection::default(), 1, true).unwrap()));
    let out = export_once(&w).await;
    assert_eq!((out.class, out.rejected), (OutcomeClass::PartialSuccess, 5));
    assert_eq!(receiver.received().len(), 1, "gzip-compressed request was decoded by the receiver");
}

#[tokio::test]
async fn otlp_http_posts_protobuf_and_reads_the_recorded_answer() {
    let (_, f) = support::fixtures::all("tempo").into_iter().find(|(n, _)| n == "otlp-http-export-ok").unwrap();
    let server = ReplayServer::start(vec![Canned::from_fixture(&f)]).await;
    let conn = Connection { tenant: Some("bench".into()), ..Connection::default() };
    let http = HttpExporter { target: HttpTarget::new(&conn, 1).unwrap(), uri: format!("{}/v1/traces", server.base()).parse().unwrap(), gzip: false };
    let out = export_once(&writer(Exporter::Http(http))).await;
    assert_eq!(out.class, OutcomeClass::Success);
    let got = server.received().pop().unwrap();
    assert_eq!((got.method.as_str(), got.uri.as_str()), ("POST", "/v1/traces"));
    assert_eq!(got.headers["content-type"], "application/x-protobuf");
    assert_eq!(got.headers["x-scope-orgid"], "bench");
    use prost::Message;
    let req = opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest::decode(got.body).unwrap();
    assert_eq!(req.resource_spans.iter().flat_map(|r| &r.scope_spans).map(|s| s.spans.len()).sum::<usize>(), 14);
}

fn tempo_scenario(otlp: &str, query: &str, extra: &str) -> String {
    format!(
        r#"
objectives = ["tempo.write p99 < 30s", "tempo.write error_ratio < 1%", "tempo.query.by-id p99 < 5s", "tempo.visibility.by_id lost == 0"]
[run]
name = "tempo-wire"
seed = 3
warmup = "1s"
duration = "2s"
progress_interval = "500ms"
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
events_per_span = 1
links_per_span = 1
[tempo.query_load]
concurrency = 2
[[tempo.queries]]
name = "by-id"
min_age = "500ms"
[[tempo.queries]]
name = "missing"
kind = "missing_trace"
[[tempo.queries]]
name = "search"
kind = "traceql"
query = '{{ resource.lgtm_bench.run_id = "$run_id" }}'
[[tempo.queries]]
name = "tags"
kind = "tags"
[[tempo.queries]]
name = "values"
kind = "tag_values"
tag = "resource.service.name"
[tempo.visibility]
sample_every = 4
poll_interval = "50ms"
deadline = "10s"
{extra}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bounded_run_sends_the_planned_traces_well_formed_and_reads_them_back() {
    let receiver = Receiver::start(vec![Answer::Ok]).await;
    let (query_port, _api) = serve_query_api(receiver.shared.clone()).await;
    let text = tempo_scenario(&receiver.url(), &format!("http://127.0.0.1:{query_port}"), "");
    let s = support::scenario(&text);
    let out = tempfile::tempdir().unwrap();
    let opts = RunOptions { scenario_file: "tempo".into(), out_dir: out.path().to_path_buf(), progress: false, baseline: None };
    let report = runner::run(&support::plan(&s), opts, CancellationToken::new()).await.unwrap().report;

    // Exactly the planned Exports: 10/s over 1s warm-up + 2s measured.
    let planned = Schedule::open_loop(10.0, std::time::Duration::from_secs(1), std::time::Duration::ZERO, std::time::Duration::from_secs(2));
    let received = receiver.received();
    assert_eq!(received.len(), planned.calls().count());
    let write = &report.paths["tempo.write"];
    assert_eq!((write.calls, write.count(OutcomeClass::Success), write.counters.items_ok), (20, 20, 20 * 14));

    // Every request: tenant, 2 whole traces of 7 spans, the run id, unique ids, nested times.
    let mut trace_ids = BTreeSet::new();
    let mut span_ids = BTreeSet::new();
    for r in &received {
        assert_eq!(r.tenant.as_deref(), Some("bench"));
        let mut by_trace: HashMap<Vec<u8>, Vec<&opentelemetry_proto::tonic::trace::v1::Span>> = HashMap::new();
        let mut services = BTreeSet::new();
        for rs in &r.request.resource_spans {
            let attrs = &rs.resource.as_ref().unwrap().attributes;
            let get = |k: &str| attrs.iter().find(|a| a.key == k).map(|a| format!("{:?}", a.value));
            assert!(get("lgtm_bench.run_id").unwrap().contains(&report.run.id));
            services.insert(get("service.name").unwrap());
            for span in rs.scope_spans.iter().flat_map(|s| &s.spans) {
                by_trace.entry(span.trace_id.clone()).or_default().push(span);
                assert!(span_ids.insert(span.span_id.clone()), "span ids are unique");
                assert_eq!(span.events.len(), 1);
                assert_eq!(span.links.len(), 1);
            }
        }
        assert_eq!(services.len(), 3);
        assert_eq!(by_trace.len(), 2);
        for (id, spans) in by_trace {
            assert!(trace_ids.insert(id), "trace ids are unique across the run");
            assert_eq!(spans.len(), 7);
            let by_id: HashMap<&[u8], _> = spans.iter().map(|s| (s.span_id.as_slice(), *s)).collect();
            assert_eq!(spans.iter().filter(|s| s.parent_span_id.is_empty()).count(), 1, "one root");
            for s in spans.iter().filter(|s| !s.parent_span_id.is_empty()) {
                let parent = by_id[s.parent_span_id.as_slice()];
                assert!(parent.start_time_unix_nano <= s.start_time_unix_nano && s.end_time_unix_nano <= parent.end_time_unix_nano);
            }
        }
    }

    // Read back by ID and by search; Tempo queries answered.
    let by_id = &report.paths["tempo.visibility.by_id"];
    assert!(by_id.count(OutcomeClass::Success) > 0);
    assert_eq!(by_id.count(OutcomeClass::Lost), 0);
    assert_eq!(report.paths["tempo.visibility.search"].count(OutcomeClass::Success), by_id.count(OutcomeClass::Success));
    for q in ["by-id", "missing", "search", "tags", "values"] {
        let p = &report.paths[&format!("tempo.query.{q}")];
        assert!(p.calls > 0 && p.error_ratio == Some(0.0), "{q}: {:?}", p.outcomes);
    }
    assert_eq!(report.paths["tempo.query.missing"].counters.items_ok, 0, "v2 not-found answers carry no message");
    assert!(report.verdict.passed, "{:?}", report.verdict);
}

/// A mix of shapes (`[[tempo.traces.variants]]`): each request holds whole traces of the shape its
/// number picks, and read-back and trace-by-ID judge each trace whole against its own shape (a
/// 4-span trace of the second shape is complete, not partial).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mix_of_trace_shapes_is_written_and_each_trace_read_back_whole_by_its_own_shape() {
    let receiver = Receiver::start(vec![Answer::Ok]).await;
    let (query_port, _api) = serve_query_api(receiver.shared.clone()).await;
    let mix = "[[tempo.traces.variants]]\nshare = 1\n[[tempo.traces.variants]]\nshare = 1\ndepth = 2\nfanout = 3\nservices = 2\n";
    let text = tempo_scenario(&receiver.url(), &format!("http://127.0.0.1:{query_port}"), mix).replace("sample_every = 4", "sample_every = 1");
    let s = support::scenario(&text);
    let out = tempfile::tempdir().unwrap();
    let opts = RunOptions { scenario_file: "tempo".into(), out_dir: out.path().to_path_buf(), progress: false, baseline: None };
    let report = runner::run(&support::plan(&s), opts, CancellationToken::new()).await.unwrap().report;
    let mut sizes = BTreeSet::new();
    for r in receiver.received() {
        let mut by_trace: HashMap<Vec<u8>, usize> = HashMap::new();
        for span in r.request.resource_spans.iter().flat_map(|rs| &rs.scope_spans).flat_map(|s| &s.spans) {
            *by_trace.entry(span.trace_id.clone()).or_default() += 1;
        }
        let per_trace: BTreeSet<usize> = by_trace.values().copied().collect();
        assert_eq!(per_trace.len(), 1, "one shape per request: {per_trace:?}");
        sizes.extend(per_trace);
    }
    assert_eq!(sizes, BTreeSet::from([4, 7]), "both shapes written");
    let by_id = &report.paths["tempo.visibility.by_id"];
    let measured = report.paths["tempo.write"].calls;
    assert_eq!((by_id.count(OutcomeClass::Success), by_id.count(OutcomeClass::Lost)), (measured, 0), "every measured Export's trace found whole");
    let q = &report.paths["tempo.query.by-id"];
    assert!(q.calls > 0 && q.error_ratio == Some(0.0), "{:?}", q.outcomes);
    assert!(report.verdict.passed, "{:?}", report.verdict);
}

#[tokio::test]
async fn a_missing_tenant_fails_the_preflight_with_the_fix() {
    let receiver = Receiver::start(vec![Answer::Fail(Code::Unavailable, "no org id".into())]).await;
    let dir = tempfile::tempdir().unwrap();
    let text = tempo_scenario(&receiver.url(), "http://127.0.0.1:9", "").replace("tenant = \"bench\"", "");
    let file = dir.path().join("s.toml");
    std::fs::write(&file, text).unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_lgtm-bench")).args(["run", file.to_str().unwrap(), "--quiet"]).output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("no org id") && stderr.contains("tempo.connection.tenant"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_by_id_asks_only_for_traces_tempo_acknowledged() {
    // The empty preflight Export is taken, then every Export is refused: there is no trace to ask
    // for, so by-id asks for none (it waits), while the other queries run.
    let receiver = Receiver::start(vec![Answer::Ok, Answer::Fail(Code::ResourceExhausted, "RATE_LIMITED: ingestion rate limit".into())]).await;
    let (query_port, _api) = serve_query_api(receiver.shared.clone()).await;
    let text = tempo_scenario(&receiver.url(), &format!("http://127.0.0.1:{query_port}"), "");
    let s = support::scenario(&text);
    let out = tempfile::tempdir().unwrap();
    let opts = RunOptions { scenario_file: "tempo".into(), out_dir: out.path().to_path_buf(), progress: false, baseline: None };
    let report = runner::run(&support::plan(&s), opts, CancellationToken::new()).await.unwrap().report;
    assert!(report.paths["tempo.write"].count(OutcomeClass::RateLimited) > 0);
    assert_eq!(report.paths["tempo.query.by-id"].calls, 0, "no query for a trace the run never had acknowledged");
    assert!(report.paths["tempo.query.tags"].calls > 0, "the other queries ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_only_tempo_scenario_runs_its_full_time() {
    // Benchmarking Tempo's query path on traces already there: no [tempo.write].
    let receiver = Receiver::start(vec![Answer::Ok]).await;
    let (query_port, _api) = serve_query_api(receiver.shared.clone()).await;
    let text = format!(
        r#"
[run]
name = "tempo-queries-only"
warmup = "1s"
duration = "2s"
[tempo]
otlp_url = "{}"
query_url = "http://127.0.0.1:{query_port}"
[tempo.connection]
tenant = "bench"
[tempo.query_load]
concurrency = 2
[[tempo.queries]]
name = "tags"
kind = "tags"
[[tempo.queries]]
name = "missing"
kind = "missing_trace"
"#,
        receiver.url()
    );
    let s = support::scenario(&text);
    let out = tempfile::tempdir().unwrap();
    let opts = RunOptions { scenario_file: "tempo".into(), out_dir: out.path().to_path_buf(), progress: false, baseline: None };
    let report = runner::run(&support::plan(&s), opts, CancellationToken::new()).await.unwrap().report;
    assert_eq!(report.run.measured_seconds, 2.0, "the whole planned phase was measured");
    let q = &report.paths["tempo.query"];
    assert!(q.calls > 0);
    assert_eq!(q.achieved_rate, Some(q.calls as f64 / 2.0));
    assert!(receiver.received().is_empty(), "nothing was written");
}
