//! The series set at scale: building it (goal: 1,000,000 series in under 2 s) and the memory it
//! takes (goal: the whole generator under 256 MiB RSS at 1,000,000 series, 2.5 GiB at 10,000,000). Prints the process's
//! RSS growth per series for 100,000, 1,000,000 and 10,000,000 series, then times the build of 100,000.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lgtm_bench::targets::mimir::config::{LabelSpec, SeriesModel};
use lgtm_bench::targets::mimir::write::series::SeriesSet;
use lgtm_bench::units::Dur;
use lgtm_bench::watch::exposition::own_resident_bytes;
use std::hint::black_box;

fn model(active: u64) -> SeriesModel {
    SeriesModel {
        active,
        metrics: (0..4).map(|i| format!("lgtm_bench_metric_{i}_total")).collect(),
        labels: vec![LabelSpec { name: "pod".into(), cardinality: 500 }, LabelSpec { name: "namespace".into(), cardinality: 20 }],
        samples_per_request: 2_000,
        scrape_interval: None,
        churn_share: 0.0,
        churn_period: Dur::secs(600),
        families: vec![],
        preset: None,
        exemplar_share: 0.0,
    }
}

/// The process's resident memory, as the memory watch reads it for the generator.
fn rss_bytes() -> u64 {
    own_resident_bytes().unwrap_or(0.0) as u64
}

fn bench(c: &mut Criterion) {
    for active in [100_000u64, 1_000_000, 10_000_000] {
        let before = rss_bytes();
        let started = std::time::Instant::now();
        let set = SeriesSet::new(&model(active), "bench0001", 1);
        let took = started.elapsed();
        let after = rss_bytes();
        println!(
            "series_set {active} series: built in {:.2}s, process RSS {} MiB (+{} MiB, {} bytes per series)",
            took.as_secs_f64(),
            after >> 20,
            after.saturating_sub(before) >> 20,
            after.saturating_sub(before) / active
        );
        drop(black_box(set));
    }
    let mut g = c.benchmark_group("series_set");
    g.throughput(Throughput::Elements(100_000));
    g.sample_size(10);
    g.bench_function("build_100k_series", |b| b.iter(|| black_box(SeriesSet::new(&model(100_000), "bench0001", 1))));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
