//! The other metric write paths: a 2,000-sample request of the kube-prometheus preset (counters,
//! gauges, classic histograms, a summary) encoded as remote-write 1.0, remote-write 2.0 (with its
//! per-request symbols table) and OTLP metrics (data points per instance), compressed as each is
//! sent (snappy; gzip for OTLP). Goal: each at least 250,000 samples/s per core, so one generator
//! core carries a homelab's scrape (50,000 series every 15 s = 3,333 samples/s) many times over.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lgtm_bench::targets::mimir::config::{LabelSpec, OtlpNames, Preset, SeriesModel, WriteProtocol};
use lgtm_bench::targets::mimir::write::otlp::{gzipped, OtlpMetricsBuilder};
use lgtm_bench::targets::mimir::write::payload::PayloadBuilder;
use lgtm_bench::targets::mimir::write::series::SeriesSet;
use lgtm_bench::units::Dur;
use std::hint::black_box;
use std::sync::Arc;

fn model() -> SeriesModel {
    let labels = [("namespace", 10), ("pod", 50), ("route", 20)].into_iter().map(|(name, cardinality)| LabelSpec { name: name.into(), cardinality }).collect();
    SeriesModel {
        active: 50_000,
        metrics: vec![],
        labels,
        samples_per_request: 2_000,
        scrape_interval: None,
        churn_share: 0.0,
        churn_period: Dur::secs(600),
        families: vec![],
        preset: Some(Preset::KubePrometheus),
        exemplar_share: 0.01,
    }
}

fn bench(c: &mut Criterion) {
    let set = Arc::new(SeriesSet::new(&model(), "bench0001", 1));
    let mut group = c.benchmark_group("metric_protocols");
    group.throughput(Throughput::Elements(2_000));
    let mut seq = 0u64;
    for (name, protocol) in [("rw1_2000_samples", WriteProtocol::Rw1), ("rw2_2000_samples", WriteProtocol::Rw2)] {
        let mut builder = PayloadBuilder::speaking(set.clone(), protocol);
        group.bench_function(name, |b| {
            b.iter(|| {
                seq += 1;
                black_box(builder.build(black_box(seq), 1_764_000_000_000 + seq as i64, 0, false).0.len())
            })
        });
    }
    let otlp = OtlpMetricsBuilder { series: set.clone(), names: OtlpNames::Suffixes, start_unix_ns: 1 };
    group.bench_function("otlp_2000_samples", |b| {
        b.iter(|| {
            seq += 1;
            black_box(otlp.build(black_box(seq), 1_764_000_000_000 + seq as i64, 0).0.len())
        })
    });
    group.bench_function("otlp_gzip_2000_samples", |b| {
        b.iter(|| {
            seq += 1;
            black_box(gzipped(&otlp.build(black_box(seq), 1_764_000_000_000 + seq as i64, 0).0).len())
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
