//! The generator end to end, per CPU-second: remote-write requests (2,000 samples of 40,000
//! series) and OTLP/gRPC Exports (500 spans) built, compressed and sent with 8 in flight into the
//! in-process sink, which reads every request but decodes none. Prints samples and spans per
//! CPU-second of the whole process (the sink's own reading included, so the generator alone does
//! somewhat better). Goals: 3,000,000 samples and 1,500,000 spans per CPU-second.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lgtm_bench::client::http::{check_url, HttpTarget};
use lgtm_bench::engine::sink::Sink;
use lgtm_bench::scenario::Connection;
use lgtm_bench::stats::PathTable;
use lgtm_bench::targets::mimir::config::{LabelSpec, SeriesModel};
use lgtm_bench::targets::mimir::write::series::SeriesSet;
use lgtm_bench::targets::mimir::write::RemoteWrite;
use lgtm_bench::targets::tempo::config::TraceShape;
use lgtm_bench::targets::tempo::otlp::payload::Mix;
use lgtm_bench::targets::tempo::otlp::shape::{IdSource, Shape};
use lgtm_bench::targets::tempo::otlp::transport::GrpcExporter;
use lgtm_bench::targets::tempo::otlp::{AckLedger, Exporter, OtlpWrite};
use lgtm_bench::units::Dur;
use lgtm_bench::watch::exposition::own_cpu_seconds;
use lgtm_bench::workload::{RunClock, Ticket, Workload};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

const IN_FLIGHT: u64 = 8;

fn writer(sink: &Sink) -> RemoteWrite {
    let model = SeriesModel {
        active: 40_000,
        metrics: (0..4).map(|i| format!("lgtm_bench_metric_{i}_total")).collect(),
        labels: vec![LabelSpec { name: "pod".into(), cardinality: 100 }, LabelSpec { name: "namespace".into(), cardinality: 10 }],
        samples_per_request: 2_000,
        scrape_interval: None,
        churn_share: 0.0,
        churn_period: Dur::secs(600),
        families: vec![],
        preset: None,
        exemplar_share: 0.0,
    };
    let series = Arc::new(SeriesSet::new(&model, "bench0001", 1));
    let target = HttpTarget::new(&Connection::default(), 4).unwrap();
    let uri = check_url(&format!("{}/api/v1/write", sink.url())).unwrap();
    let path = PathTable::default().register("mimir.write");
    RemoteWrite::new(target, uri, series, path, RunClock::starting_at(Instant::now()), 4, Duration::from_secs(5), None)
}

fn exporter(sink: &Sink) -> OtlpWrite {
    let shape = Arc::new(Shape::new(&TraceShape { depth: 3, fanout: 3, ..TraceShape::default() }));
    OtlpWrite {
        exporter: Exporter::Grpc(GrpcExporter::new(&sink.url(), &Connection::default(), 2, false).unwrap()),
        mix: Arc::new(Mix::new(&[(1.0, shape)], "bench0001", 500)),
        ids: IdSource::new(1, "bench0001"),
        path: PathTable::default().register("tempo.write"),
        clock: RunClock::starting_at(Instant::now()),
        connections: 2,
        ledger: Arc::new(AckLedger::default()),
        visibility: None,
    }
}

/// Sends `requests` calls of `w`, `IN_FLIGHT` at a time; returns the items carried.
async fn drive<W: Workload>(w: Arc<W>, requests: u64, first: u64) -> u64 {
    let mut set = tokio::task::JoinSet::new();
    for lane in 0..IN_FLIGHT {
        let w = w.clone();
        set.spawn(async move {
            let mut state = w.new_state(lane as usize);
            let mut items = 0;
            let mut seq = first + lane;
            while seq < first + requests {
                let outcome = w.call(&mut state, Ticket { seq, intended: Instant::now(), measured: true }).await;
                assert!(outcome.class.is_success(), "the sink refused a call: {:?}", outcome.class);
                items += outcome.items;
                seq += IN_FLIGHT;
            }
            items
        });
    }
    set.join_all().await.into_iter().sum()
}

fn per_cpu_second<W: Workload>(rt: &tokio::runtime::Runtime, w: Arc<W>, requests: u64) -> f64 {
    rt.block_on(drive(w.clone(), requests / 10, 0)); // warm up connections and buffers
    let before = own_cpu_seconds().unwrap();
    let items = rt.block_on(drive(w, requests, 1_000_000));
    items as f64 / (own_cpu_seconds().unwrap() - before).max(0.01)
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let sink = rt.block_on(Sink::start()).unwrap();
    let rw = Arc::new(rt.block_on(async { writer(&sink) }));
    let otlp = Arc::new(rt.block_on(async { exporter(&sink) }));
    let spans_per_request = otlp.mix.mean_spans_per_request() as u64;
    println!("generator_per_cpu remote-write: {:.0} samples per CPU-second", per_cpu_second(&rt, rw.clone(), 2_000));
    println!("generator_per_cpu otlp-grpc: {:.0} spans per CPU-second ({spans_per_request}-span Exports)", per_cpu_second(&rt, otlp.clone(), 2_000));
    let mut g = c.benchmark_group("generator");
    g.sample_size(10);
    g.throughput(Throughput::Elements(200 * 2_000));
    g.bench_function("remote_write_200_requests_into_sink", |b| b.iter(|| rt.block_on(drive(rw.clone(), 200, 0))));
    g.throughput(Throughput::Elements(200 * spans_per_request));
    g.bench_function("otlp_grpc_200_exports_into_sink", |b| b.iter(|| rt.block_on(drive(otlp.clone(), 200, 0))));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
