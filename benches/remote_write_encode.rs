//! Remote-write hot path: encoding a 2,000-sample `WriteRequest` (10 labels per series) from the
//! pre-encoded label sets, then snappy compression. Goal: at least 1,000,000 samples/s per core.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lgtm_bench::targets::mimir::config::{LabelSpec, SeriesModel};
use lgtm_bench::targets::mimir::write::payload::PayloadBuilder;
use lgtm_bench::targets::mimir::write::series::SeriesSet;
use lgtm_bench::units::Dur;
use std::hint::black_box;
use std::sync::Arc;

fn model() -> SeriesModel {
    // __name__, job, lgtm_bench_run, series + 6 scenario labels = 10 labels per series.
    let labels = [("namespace", 10), ("pod", 50), ("container", 5), ("route", 20), ("method", 4), ("status", 6)]
        .into_iter()
        .map(|(name, cardinality)| LabelSpec { name: name.into(), cardinality })
        .collect();
    SeriesModel {
        active: 100_000,
        metrics: vec!["http_requests_total".into(), "http_request_bytes_total".into()],
        labels,
        samples_per_request: 2_000,
        scrape_interval: None,
        churn_share: 0.05,
        churn_period: Dur::secs(600),
        families: vec![],
        preset: None,
        exemplar_share: 0.0,
    }
}

fn bench(c: &mut Criterion) {
    let set = Arc::new(SeriesSet::new(&model(), "bench0001", 1));
    let mut group = c.benchmark_group("remote_write");
    group.throughput(Throughput::Elements(2_000));
    let mut builder = PayloadBuilder::new(set.clone());
    let mut seq = 0u64;
    group.bench_function("encode_2000_samples", |b| {
        b.iter(|| {
            seq += 1;
            black_box(builder.encode(black_box(seq), 1_764_000_000_000 + seq as i64, seq * 100).len())
        })
    });
    let mut builder = PayloadBuilder::new(set);
    group.bench_function("encode_and_snappy_2000_samples", |b| {
        b.iter(|| {
            seq += 1;
            black_box(builder.build(black_box(seq), 1_764_000_000_000 + seq as i64, seq * 100, false).0.len())
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
