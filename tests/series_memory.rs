//! The generator's series set at scale: the heap it holds for 1,000,000 active series, counted by a
//! counting allocator (bytes, not time), stays within the 256 MiB goal with room for the rest of
//! the process; and any series' labels can still be rebuilt for read-back.

use lgtm_bench::targets::mimir::config::{LabelSpec, SeriesModel};
use lgtm_bench::targets::mimir::write::series::SeriesSet;
use lgtm_bench::units::Dur;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn model(active: u64) -> SeriesModel {
    SeriesModel {
        active,
        metrics: (0..4).map(|i| format!("lgtm_bench_metric_{i}_total")).collect(),
        labels: vec![LabelSpec { name: "pod".into(), cardinality: 500 }, LabelSpec { name: "namespace".into(), cardinality: 20 }],
        samples_per_request: 2000,
        scrape_interval: None,
        churn_share: 0.0,
        churn_period: Dur::secs(600),
        families: vec![],
        preset: None,
        exemplar_share: 0.0,
    }
}

#[test]
fn a_million_series_fit_the_memory_goal() {
    let before = LIVE.load(Ordering::Relaxed);
    let set = SeriesSet::new(&model(1_000_000), "0a1b2c3d", 1);
    let held = LIVE.load(Ordering::Relaxed) - before;
    println!("1,000,000 series hold {} MiB of heap ({} bytes per series)", held >> 20, held / 1_000_000);
    assert!(held < 192 << 20, "the series set holds {} MiB for 1M series; the goal is 256 MiB for the whole generator", held >> 20);
    // Any series' labels can be rebuilt (read-back needs them), and they are the ones written.
    let labels = set.labels(999_999, 999_999);
    assert!(labels.contains(&("pod".to_string(), format!("pod-{}", 999_999 / 4 % 500))));
    assert!(labels.contains(&("lgtm_bench_run".to_string(), "0a1b2c3d".to_string())));
    drop(set);
}
