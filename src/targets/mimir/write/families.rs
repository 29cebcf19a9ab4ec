//! Metric families by type, as an exporter exposes them and Prometheus sends them: counters, gauges,
//! classic histograms (a `_bucket` series per `le`, `_sum`, `_count`), summaries (a series per
//! `quantile`, `_sum`, `_count`) and native histograms (one series of exponential buckets). A family
//! has instances (label sets); an instance has members (its series). Values follow from the
//! instance and the scrape number, consistent with each other at every scrape: buckets cumulative,
//! `_count` equal to the `+Inf` bucket, native bucket counts adding up to the count.

use crate::targets::mimir::config::{FamilyKind, FamilySpec, Preset};

/// Prometheus's default histogram buckets (`prometheus.DefBuckets`).
pub const DEFAULT_BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// The quantiles a summary exports unless told otherwise.
pub const DEFAULT_QUANTILES: [f64; 3] = [0.5, 0.9, 0.99];
/// Prometheus's default native-histogram zero threshold (`DefNativeHistogramZeroThreshold`).
pub const ZERO_THRESHOLD: f64 = 2.938_735_877_055_719e-39; // 2^-128

/// One family of a run: its spec and where its series and instances sit in the run's numbering.
#[derive(Clone, Debug, PartialEq)]
pub struct Family {
    pub name: String,
    pub kind: FamilyKind,
    /// Classic histogram upper bounds (without `+Inf`), ascending.
    pub bounds: Vec<f64>,
    pub quantiles: Vec<f64>,
    /// Native histogram schema (-4..=8) and how many buckets an instance fills.
    pub schema: i32,
    pub native_buckets: u32,
    pub help: String,
    pub unit: String,
    /// Its own labels, in place of the model's (see `FamilySpec::labels`).
    pub labels: Option<Vec<crate::targets::mimir::config::LabelSpec>>,
    pub instances: u64,
    pub first_series: u64,
    pub first_instance: u64,
}

/// Which series of an instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Member {
    /// A counter's or gauge's one series.
    Plain,
    /// A classic histogram's `_bucket` series: index into the bounds; `bounds.len()` is `+Inf`.
    Bucket(usize),
    /// A summary's series for one quantile.
    Quantile(usize),
    Sum,
    Count,
    /// A native histogram's one series.
    Native,
}

impl Family {
    /// Series per instance, as the target counts them.
    pub fn width(&self) -> u64 {
        match self.kind {
            FamilyKind::Counter | FamilyKind::Gauge | FamilyKind::NativeHistogram => 1,
            FamilyKind::Histogram => self.bounds.len() as u64 + 3,
            FamilyKind::Summary => self.quantiles.len() as u64 + 2,
        }
    }

    pub fn series(&self) -> u64 {
        self.instances * self.width()
    }

    pub fn member(&self, m: u64) -> Member {
        let m = m as usize;
        match self.kind {
            FamilyKind::Counter | FamilyKind::Gauge => Member::Plain,
            FamilyKind::NativeHistogram => Member::Native,
            FamilyKind::Histogram if m <= self.bounds.len() => Member::Bucket(m),
            FamilyKind::Summary if m < self.quantiles.len() => Member::Quantile(m),
            _ if m == self.width() as usize - 2 => Member::Sum,
            _ => Member::Count,
        }
    }

    /// The member's metric name and its own label (`le` or `quantile`), as Prometheus writes them.
    pub fn member_name(&self, member: Member) -> (String, Option<(&'static str, String)>) {
        match member {
            Member::Plain | Member::Native => (self.name.clone(), None),
            Member::Bucket(b) => (format!("{}_bucket", self.name), Some(("le", self.bounds.get(b).map_or("+Inf".into(), |v| float_label(*v))))),
            Member::Quantile(q) => (self.name.clone(), Some(("quantile", float_label(self.quantiles[q])))),
            Member::Sum => (format!("{}_sum", self.name), None),
            Member::Count => (format!("{}_count", self.name), None),
        }
    }

    /// The remote-write 1.0 metadata type (`MetricMetadata.MetricType`).
    pub fn metadata_type(&self) -> i32 {
        match self.kind {
            FamilyKind::Counter => 1,
            FamilyKind::Gauge => 2,
            FamilyKind::Histogram | FamilyKind::NativeHistogram => 3,
            FamilyKind::Summary => 5,
        }
    }
}

/// A label value of a float as Prometheus's client libraries write it (`0.005`, `1`, `2.5`).
pub fn float_label(v: f64) -> String {
    let mut s = format!("{v}");
    if s.contains('e') {
        s = format!("{v:?}");
    }
    s
}

/// Lays the families out: each family's instances from its share of `active` series (at least
/// one instance each), series numbered family after family.
pub fn layout(specs: &[FamilySpec], active: u64) -> Vec<Family> {
    let total_share: f64 = specs.iter().map(|s| s.share).sum::<f64>().max(f64::MIN_POSITIVE);
    let (mut first_series, mut first_instance) = (0, 0);
    specs
        .iter()
        .map(|s| {
            let mut f = Family {
                name: s.name.clone(),
                kind: s.kind,
                bounds: s.buckets.clone().unwrap_or_else(|| DEFAULT_BUCKETS.to_vec()),
                quantiles: s.quantiles.clone().unwrap_or_else(|| DEFAULT_QUANTILES.to_vec()),
                schema: s.schema,
                native_buckets: s.native_buckets,
                help: s.help.clone().unwrap_or_else(|| format!("lgtm-bench {} {}", kind_word(s.kind), s.name)),
                unit: s.unit.clone().unwrap_or_default(),
                labels: s.labels.clone(),
                instances: 0,
                first_series,
                first_instance,
            };
            let wanted = active as f64 * s.share / total_share;
            f.instances = ((wanted / f.width() as f64).round() as u64).max(1);
            first_series += f.series();
            first_instance += f.instances;
            f
        })
        .collect()
}

pub fn kind_word(kind: FamilyKind) -> &'static str {
    match kind {
        FamilyKind::Counter => "counter",
        FamilyKind::Gauge => "gauge",
        FamilyKind::Histogram => "histogram",
        FamilyKind::Summary => "summary",
        FamilyKind::NativeHistogram => "native_histogram",
    }
}

/// What one instance observes every scrape: cumulative counts per classic bound (the last is
/// `+Inf`, the count) and the sum of the observations. Scrape `n` (from 1) reports `n` times this.
#[derive(Clone, Debug, PartialEq)]
pub struct PerScrape {
    pub cumulative: Vec<u64>,
    pub sum: f64,
}

/// An instance's observations per scrape for classic `bounds`: between 10 and 29 observations,
/// spread over the buckets by the instance's hash, each at its bucket's upper bound (the last
/// bucket's at twice the highest bound).
pub fn classic_per_scrape(bounds: &[f64], hash: u64) -> PerScrape {
    let n = 10 + hash % 20;
    let buckets = bounds.len() + 1;
    let mut per_bucket = vec![0u64; buckets];
    for k in 0..n {
        // Observations lean toward the middle buckets, as latencies do.
        let a = splitmix(hash ^ k) % buckets as u64;
        let b = splitmix(hash.rotate_left(17) ^ k) % buckets as u64;
        per_bucket[((a + b) / 2) as usize] += 1;
    }
    let mut cumulative = Vec::with_capacity(buckets);
    let mut sum = 0.0;
    let mut running = 0;
    for (i, c) in per_bucket.iter().enumerate() {
        running += c;
        cumulative.push(running);
        let at = bounds.get(i).copied().unwrap_or_else(|| bounds.last().map_or(1.0, |b| b * 2.0));
        sum += *c as f64 * at;
    }
    PerScrape { cumulative, sum }
}

/// A summary instance's quantile values (ascending with the quantile) and its per-scrape count
/// and sum.
pub fn summary_per_scrape(quantiles: &[f64], hash: u64) -> (Vec<f64>, u64, f64) {
    let base = 0.01 + (hash % 100) as f64 / 1000.0;
    let values: Vec<f64> = quantiles.iter().map(|q| base * (1.0 + 10.0 * q)).collect();
    let count = 10 + hash % 20;
    (values, count, count as f64 * base * 2.0)
}

/// A native histogram at one scrape: its count, sum, zero bucket and one span of positive buckets.
#[derive(Clone, Debug, PartialEq)]
pub struct NativeHistogram {
    pub schema: i32,
    pub count: u64,
    pub sum: f64,
    pub zero_count: u64,
    /// Index of the first positive bucket.
    pub offset: i32,
    /// Absolute counts of consecutive positive buckets from `offset`.
    pub counts: Vec<u64>,
}

impl NativeHistogram {
    /// The bucket counts as remote-write sends them: the first absolute, then differences.
    pub fn deltas(&self) -> impl Iterator<Item = i64> + '_ {
        let mut previous = 0i64;
        self.counts.iter().map(move |c| {
            let d = *c as i64 - previous;
            previous = *c as i64;
            d
        })
    }

    /// The upper bound of positive bucket `index` at `schema`: `2^(index × 2^-schema)`.
    pub fn upper_bound(schema: i32, index: i32) -> f64 {
        (index as f64 * 2f64.powi(-schema)).exp2()
    }
}

/// An instance's native histogram after `scrapes` scrapes: `buckets` consecutive buckets around
/// 100 ms (at any schema), a few observations in the zero bucket, each observation at its bucket's
/// upper bound.
pub fn native_at(schema: i32, buckets: u32, hash: u64, scrapes: u64) -> NativeHistogram {
    let start = (0.1f64.log2() * 2f64.powi(schema)).floor() as i32 + (hash % 3) as i32;
    let per_bucket: Vec<u64> = (0..buckets.max(1) as u64).map(|k| 1 + splitmix(hash ^ k.wrapping_mul(31)) % 5).collect();
    let zero = hash % 3;
    let counts: Vec<u64> = per_bucket.iter().map(|c| c * scrapes).collect();
    let sum = per_bucket.iter().enumerate().map(|(k, c)| (c * scrapes) as f64 * NativeHistogram::upper_bound(schema, start + k as i32)).sum();
    NativeHistogram { schema, count: counts.iter().sum::<u64>() + zero * scrapes, sum, zero_count: zero * scrapes, offset: start, counts }
}

/// The families of a preset. `kube-prometheus`: one scrape of what kube-prometheus-stack collects
/// from node-exporter, kube-state-metrics, cAdvisor and the kubelet, by share of series. The shares
/// are an estimate of a small cluster's scrape (the families its default dashboards query most;
/// histograms weighed by their bucket series), not a measurement of one: `lgtm-bench model` is the
/// tool for a measured mix.
pub fn preset(p: Preset) -> Vec<FamilySpec> {
    let f = |name: &str, kind: FamilyKind, share: f64, unit: &str| FamilySpec {
        name: name.into(),
        kind,
        share,
        buckets: None,
        quantiles: None,
        schema: 3,
        native_buckets: 8,
        help: None,
        unit: (!unit.is_empty()).then(|| unit.into()),
        labels: None,
    };
    let with_buckets = |mut s: FamilySpec, b: &[f64]| {
        s.buckets = Some(b.to_vec());
        s
    };
    match p {
        Preset::KubePrometheus => vec![
            // node-exporter
            f("node_cpu_seconds_total", FamilyKind::Counter, 0.08, "seconds"),
            f("node_memory_MemAvailable_bytes", FamilyKind::Gauge, 0.01, "bytes"),
            f("node_filesystem_avail_bytes", FamilyKind::Gauge, 0.03, "bytes"),
            f("node_network_receive_bytes_total", FamilyKind::Counter, 0.04, "bytes"),
            f("node_disk_io_time_seconds_total", FamilyKind::Counter, 0.02, "seconds"),
            // kube-state-metrics
            f("kube_pod_info", FamilyKind::Gauge, 0.04, ""),
            f("kube_pod_status_phase", FamilyKind::Gauge, 0.08, ""),
            f("kube_pod_container_resource_limits", FamilyKind::Gauge, 0.05, ""),
            f("kube_pod_container_status_restarts_total", FamilyKind::Counter, 0.03, ""),
            // cAdvisor
            f("container_cpu_usage_seconds_total", FamilyKind::Counter, 0.08, "seconds"),
            f("container_memory_working_set_bytes", FamilyKind::Gauge, 0.08, "bytes"),
            f("container_network_receive_bytes_total", FamilyKind::Counter, 0.04, "bytes"),
            f("container_fs_writes_bytes_total", FamilyKind::Counter, 0.04, "bytes"),
            // kubelet and API clients: the classic histograms that dominate a scrape's series
            with_buckets(
                f("kubelet_http_requests_duration_seconds", FamilyKind::Histogram, 0.12, "seconds"),
                &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0],
            ),
            with_buckets(
                f("rest_client_request_duration_seconds", FamilyKind::Histogram, 0.16, "seconds"),
                &[0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0],
            ),
            f("go_gc_duration_seconds", FamilyKind::Summary, 0.05, "seconds"),
            f("prometheus_http_request_duration_seconds", FamilyKind::Histogram, 0.06, "seconds"),
        ],
    }
}

pub fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn spec(name: &str, kind: FamilyKind, share: f64) -> FamilySpec {
        FamilySpec { name: name.into(), kind, share, buckets: None, quantiles: None, schema: 3, native_buckets: 8, help: None, unit: None, labels: None }
    }

    #[test]
    fn the_layout_counts_series_as_the_target_does() {
        let f = layout(&[spec("c_total", FamilyKind::Counter, 0.5), spec("h", FamilyKind::Histogram, 0.5)], 1400);
        assert_eq!((f[0].instances, f[0].width()), (700, 1));
        assert_eq!(f[1].width(), 14, "11 bounds, +Inf, _sum, _count");
        assert_eq!(f[1].instances, 50);
        assert_eq!((f[1].first_series, f[1].first_instance), (700, 700));
        let names: Vec<String> = (0..14).map(|m| f[1].member_name(f[1].member(m)).0).collect();
        assert_eq!(names[0], "h_bucket");
        assert_eq!(f[1].member_name(Member::Bucket(11)).1, Some(("le", "+Inf".to_string())));
        assert_eq!(&names[12..], ["h_sum", "h_count"]);
        assert_eq!(f[1].member_name(Member::Bucket(0)).1, Some(("le", "0.005".to_string())));
    }

    #[test]
    fn a_family_counter_grows_and_resets_now_and_then() {
        use crate::targets::mimir::config::SeriesModel;
        use crate::targets::mimir::write::series::SeriesSet;
        let model = SeriesModel {
            active: 5,
            metrics: vec![],
            labels: vec![],
            samples_per_request: 5,
            scrape_interval: None,
            churn_share: 0.0,
            churn_period: crate::units::Dur::secs(60),
            families: vec![spec("c_total", FamilyKind::Counter, 1.0)],
            preset: None,
            exemplar_share: 0.0,
        };
        let set = SeriesSet::new(&model, "r", 4);
        for index in 0..5 {
            let values: Vec<f64> = (0..300).map(|seq| set.value(seq, index)).collect();
            let resets = values.windows(2).filter(|w| w[1] < w[0]).count();
            let grows = values.windows(2).filter(|w| w[1] > w[0]).count();
            assert!((2..=5).contains(&resets), "one reset every 60 to 119 scrapes: {resets}");
            assert_eq!(grows + resets, 299, "otherwise it only grows");
        }
    }

    #[test]
    fn labels_of_floats_are_written_as_client_libraries_write_them() {
        assert_eq!([float_label(1.0), float_label(2.5), float_label(0.99), float_label(10.0)], ["1", "2.5", "0.99", "10"]);
    }

    proptest! {
        #[test]
        fn classic_buckets_are_cumulative_and_end_at_the_count(hash: u64, scrapes in 1u64..1000, n in 1usize..20) {
            let bounds: Vec<f64> = (1..=n).map(|i| i as f64 * 0.1).collect();
            let p = classic_per_scrape(&bounds, hash);
            prop_assert_eq!(p.cumulative.len(), n + 1);
            prop_assert!(p.cumulative.windows(2).all(|w| w[0] <= w[1]));
            let count = *p.cumulative.last().unwrap();
            prop_assert!((10..30).contains(&count));
            // Scrape n reports n times as much: still cumulative, still ending at the count.
            let scaled: Vec<u64> = p.cumulative.iter().map(|c| c * scrapes).collect();
            prop_assert!(scaled.windows(2).all(|w| w[0] <= w[1]));
            prop_assert!(p.sum > 0.0);
        }

        #[test]
        fn native_bucket_counts_add_up_to_the_count(hash: u64, scrapes in 1u64..1000, schema in -4i32..=8, buckets in 1u32..40) {
            let h = native_at(schema, buckets, hash, scrapes);
            prop_assert_eq!(h.counts.len(), buckets as usize);
            prop_assert_eq!(h.counts.iter().sum::<u64>() + h.zero_count, h.count);
            let rebuilt: Vec<u64> = h.deltas().scan(0i64, |acc, d| { *acc += d; Some(*acc as u64) }).collect();
            prop_assert_eq!(&rebuilt, &h.counts);
            let next = native_at(schema, buckets, hash, scrapes + 1);
            prop_assert!(next.count > h.count && next.sum > h.sum, "a histogram only grows between scrapes");
        }

        #[test]
        fn summary_quantiles_ascend(hash: u64) {
            let (values, count, sum) = summary_per_scrape(&DEFAULT_QUANTILES, hash);
            prop_assert!(values.windows(2).all(|w| w[0] < w[1]));
            prop_assert!(count >= 10 && sum > 0.0);
        }
    }
}
