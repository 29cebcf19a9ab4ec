//! The series model: which label sets exist, which series a request carries, and the value each
//! sample has. Everything follows from the scenario and the seed, so what was written can be
//! rebuilt and read back. Each series' labels are kept once, pre-encoded, in one arena (about 130
//! bytes a series); the label strings themselves are rebuilt from the index when read-back needs
//! them.

use crate::targets::mimir::config::SeriesModel;

pub const JOB: &str = "lgtm-bench";
pub const RUN_LABEL: &str = "lgtm_bench_run";
pub const SERIES_LABEL: &str = "series";
/// Label names lgtm-bench sets itself; scenario labels may not reuse them.
pub const RESERVED_LABELS: [&str; 4] = ["__name__", "job", RUN_LABEL, SERIES_LABEL];

/// One series' labels, pre-encoded as protobuf `Label` entries, split around the `series` label
/// whose value (the series id) changes with churn and is written at encode time.
#[derive(Clone, Copy, Debug)]
pub struct EncodedLabels<'a> {
    pub before_series: &'a [u8],
    pub after_series: &'a [u8],
}

/// All series of a run with their encoded labels.
#[derive(Clone, Debug)]
pub struct SeriesSet {
    pub active: u64,
    pub per_request: u64,
    churned: u64,
    churn_period_ms: u64,
    seed: u64,
    run_id: String,
    model: SeriesModel,
    /// Every series' encoded labels, back to back: series `i` is `arena[starts[i]..starts[i + 1]]`,
    /// of which the first `splits[i]` bytes sort before the `series` label.
    arena: Vec<u8>,
    starts: Vec<u64>,
    splits: Vec<u32>,
}

impl SeriesSet {
    pub fn new(model: &SeriesModel, run_id: &str, seed: u64) -> SeriesSet {
        let n = model.active as usize;
        let mut arena = Vec::new();
        let mut starts = Vec::with_capacity(n + 1);
        let mut splits = Vec::with_capacity(n);
        for i in 0..model.active {
            let start = arena.len();
            starts.push(start as u64);
            let mut split = None;
            for (name, value) in labels_of(model, run_id, i) {
                if split.is_none() && name.as_str() > SERIES_LABEL {
                    split = Some(arena.len() - start);
                }
                encode_label(&mut arena, name.as_bytes(), value.as_bytes());
            }
            splits.push(split.unwrap_or(arena.len() - start) as u32);
            if i == 0 {
                // Every series' labels are about as long as the first's: reserve once.
                arena.reserve((arena.len() + 8) * n);
            }
        }
        starts.push(arena.len() as u64);
        arena.shrink_to_fit();
        SeriesSet {
            active: model.active,
            per_request: model.samples_per_request,
            churned: (model.churn_share * model.active as f64).round() as u64,
            churn_period_ms: model.churn_period.get().as_millis().max(1) as u64,
            seed,
            run_id: run_id.to_string(),
            model: model.clone(),
            arena,
            starts,
            splits,
        }
    }

    /// Index (0..active) of the k-th series of request `seq`.
    pub fn series_in_request(&self, seq: u64, k: u64) -> u64 {
        (seq.wrapping_mul(self.per_request) + k) % self.active
    }

    /// The series id written in the `series` label: churned series get a new id every period.
    pub fn series_id(&self, index: u64, offset_ms: u64) -> u64 {
        if index < self.churned {
            index + (offset_ms / self.churn_period_ms) * self.active
        } else {
            index
        }
    }

    /// The value of the sample that request `seq` writes for series `index`: increasing per series
    /// (a valid counter), distinct per series and seed.
    pub fn value(&self, seq: u64, index: u64) -> f64 {
        let offset = splitmix64(self.seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15)) % 1000;
        seq as f64 + offset as f64
    }

    pub fn encoded(&self, index: u64) -> EncodedLabels<'_> {
        let i = index as usize;
        let (start, end) = (self.starts[i] as usize, self.starts[i + 1] as usize);
        let split = start + self.splits[i] as usize;
        EncodedLabels { before_series: &self.arena[start..split], after_series: &self.arena[split..end] }
    }

    /// All labels of a series as written (sorted by name), for checks and read-back: rebuilt from
    /// the index, as they were encoded.
    pub fn labels(&self, index: u64, series_id: u64) -> Vec<(String, String)> {
        let mut l = labels_of(&self.model, &self.run_id, index);
        l.push((SERIES_LABEL.to_string(), series_id.to_string()));
        l.sort();
        l
    }

    /// A PromQL selector matching exactly this series.
    pub fn selector(&self, index: u64, series_id: u64) -> String {
        let metric = &self.model.metrics[(index % self.model.metrics.len() as u64) as usize];
        format!("{metric}{{{RUN_LABEL}=\"{}\",{SERIES_LABEL}=\"{series_id}\"}}", self.run_id)
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }
}

/// Series `i`'s labels: its metric is the lowest digit of `i` (base: the number of metrics), and
/// each label takes the next digits in turn (base: its cardinality), so every metric carries every
/// label value once there are enough series (metrics × cardinalities).
fn labels_of(model: &SeriesModel, run_id: &str, i: u64) -> Vec<(String, String)> {
    let metrics = model.metrics.len() as u64;
    let metric = &model.metrics[(i % metrics) as usize];
    let mut labels = vec![("__name__".to_string(), metric.clone()), ("job".to_string(), JOB.to_string()), (RUN_LABEL.to_string(), run_id.to_string())];
    let mut stride = metrics;
    for spec in &model.labels {
        let card = spec.cardinality.max(1);
        labels.push((spec.name.clone(), format!("{}-{}", spec.name, (i / stride) % card)));
        stride = stride.saturating_mul(card);
    }
    labels.sort();
    labels
}

/// Appends one `Label` entry (field 1 of `TimeSeries`).
pub fn encode_label(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    let inner = 1 + varint_len(name.len() as u64) + name.len() + 1 + varint_len(value.len() as u64) + value.len();
    out.push(0x0a);
    put_varint(out, inner as u64);
    out.push(0x0a);
    put_varint(out, name.len() as u64);
    out.extend_from_slice(name);
    out.push(0x12);
    put_varint(out, value.len() as u64);
    out.extend_from_slice(value);
}

pub fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}
