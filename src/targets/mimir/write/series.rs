//! The series model: which label sets exist, which series a request carries, and the value each
//! sample has. Series belong to metric families (`families`: counters, gauges, classic histograms,
//! summaries, native histograms); a histogram's or summary's series are its instance's members and
//! share its labels, so they add up the way an exporter's do. Everything follows from the scenario
//! and the seed, so what was written can be rebuilt and read back. Each series' labels are kept
//! once, pre-encoded, in one arena (about 130 bytes a series); the label strings themselves are
//! rebuilt from the index when read-back needs them.

use super::families::{self, layout, splitmix, Family, Member, NativeHistogram};
use crate::targets::mimir::config::{FamilyKind, FamilySpec, SeriesModel};

pub const JOB: &str = "lgtm-bench";
pub const RUN_LABEL: &str = "lgtm_bench_run";
pub const SERIES_LABEL: &str = "series";
/// Label names lgtm-bench sets itself; scenario labels may not reuse them.
pub const RESERVED_LABELS: [&str; 6] = ["__name__", "job", RUN_LABEL, SERIES_LABEL, "le", "quantile"];

/// One series' labels, pre-encoded as protobuf `Label` entries, split around the `series` label
/// whose value (the instance id) changes with churn and is written at encode time.
#[derive(Clone, Copy, Debug)]
pub struct EncodedLabels<'a> {
    pub before_series: &'a [u8],
    pub after_series: &'a [u8],
}

/// Where a series sits: its family, its instance (in the family and in the run) and its member.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Place<'a> {
    pub family: &'a Family,
    pub local: u64,
    pub instance: u64,
    pub member: Member,
}

/// All series of a run with their encoded labels.
#[derive(Clone, Debug)]
pub struct SeriesSet {
    /// Series as the target counts them (every bucket, `_sum` and `_count` is one).
    pub active: u64,
    pub per_request: u64,
    /// Label sets (a histogram's members share one).
    pub instances: u64,
    churned: u64,
    churn_period_ms: u64,
    seed: u64,
    run_id: String,
    model: SeriesModel,
    families: Vec<Family>,
    /// This run's trace ids, for exemplars.
    ids: crate::ids::IdSource,
    /// The plain `metrics` list: series `i` is a counter of family `i mod n` (each request carries
    /// every metric), rather than family after family.
    interleaved: bool,
    /// Every series' encoded labels, back to back: series `i` is `arena[starts[i]..starts[i + 1]]`,
    /// of which the first `splits[i]` bytes sort before the `series` label.
    arena: Vec<u8>,
    starts: Vec<u64>,
    splits: Vec<u32>,
}

/// The families of a series model: its preset's, its `families`, or its `metrics` as counters
/// (then `true`: interleaved).
pub fn family_specs(model: &SeriesModel) -> (Vec<FamilySpec>, bool) {
    if let Some(p) = model.preset {
        return (families::preset(p), false);
    }
    if !model.families.is_empty() {
        return (model.families.clone(), false);
    }
    let counter = |name: &String| FamilySpec {
        name: name.clone(),
        kind: FamilyKind::Counter,
        share: 1.0,
        buckets: None,
        quantiles: None,
        schema: 3,
        native_buckets: 8,
        help: None,
        unit: None,
        labels: None,
    };
    (model.metrics.iter().map(counter).collect(), true)
}

/// The series a model writes, as the target counts them (families are laid out in whole
/// instances, so this can differ a little from `active`).
pub fn series_count(model: &SeriesModel) -> u64 {
    match family_specs(model) {
        (_, true) => model.active,
        (specs, false) => layout(&specs, model.active).iter().map(Family::series).sum(),
    }
}

/// The families of a model as the plan prints them: one line each.
pub fn describe_families(model: &SeriesModel) -> String {
    let (specs, interleaved) = family_specs(model);
    if interleaved {
        return String::new();
    }
    let fams = layout(&specs, model.active);
    let total: u64 = fams.iter().map(Family::series).sum();
    fams.iter()
        .map(|f| {
            format!(
                "  {:<44} {:<16} {:>7} × {:>2} = {:>8} series ({:.1}%)\n",
                f.name,
                families::kind_word(f.kind),
                f.instances,
                f.width(),
                f.series(),
                100.0 * f.series() as f64 / total.max(1) as f64
            )
        })
        .collect()
}

impl SeriesSet {
    pub fn new(model: &SeriesModel, run_id: &str, seed: u64) -> SeriesSet {
        let (specs, interleaved) = family_specs(model);
        let mut fams = layout(&specs, model.active);
        let active = if interleaved {
            let n = fams.len() as u64;
            for (f, fam) in fams.iter_mut().enumerate() {
                fam.instances = model.active / n + u64::from((f as u64) < model.active % n);
            }
            model.active
        } else {
            fams.iter().map(Family::series).sum()
        };
        let instances = if interleaved { active } else { fams.iter().map(|f| f.instances).sum() };
        let mut set = SeriesSet {
            active,
            per_request: model.samples_per_request.min(active).max(1),
            instances,
            churned: (model.churn_share * instances as f64).round() as u64,
            churn_period_ms: model.churn_period.get().as_millis().max(1) as u64,
            seed,
            run_id: run_id.to_string(),
            model: model.clone(),
            families: fams,
            ids: crate::ids::IdSource::new(seed, run_id),
            interleaved,
            arena: Vec::new(),
            starts: Vec::with_capacity(active as usize + 1),
            splits: Vec::with_capacity(active as usize),
        };
        let mut arena = Vec::new();
        for i in 0..active {
            let start = arena.len();
            set.starts.push(start as u64);
            let mut split = None;
            for (name, value) in set.labels_of(i) {
                if split.is_none() && name.as_str() > SERIES_LABEL {
                    split = Some(arena.len() - start);
                }
                encode_label(&mut arena, name.as_bytes(), value.as_bytes());
            }
            set.splits.push(split.unwrap_or(arena.len() - start) as u32);
            if i == 0 {
                // Every series' labels are about as long as the first's: reserve once.
                arena.reserve((arena.len() + 8) * active as usize);
            }
        }
        set.starts.push(arena.len() as u64);
        arena.shrink_to_fit();
        set.arena = arena;
        set
    }

    pub fn families(&self) -> &[Family] {
        &self.families
    }

    /// Where series `index` sits.
    pub fn place(&self, index: u64) -> Place<'_> {
        if self.interleaved {
            let n = self.families.len() as u64;
            return Place { family: &self.families[(index % n) as usize], local: index / n, instance: index, member: Member::Plain };
        }
        let f = &self.families[self.families.partition_point(|f| f.first_series <= index) - 1];
        let local = (index - f.first_series) / f.width();
        Place { family: f, local, instance: f.first_instance + local, member: f.member((index - f.first_series) % f.width()) }
    }

    /// Index (0..active) of the k-th series of request `seq`.
    pub fn series_in_request(&self, seq: u64, k: u64) -> u64 {
        (seq.wrapping_mul(self.per_request) + k) % self.active
    }

    /// How many times series `index` had been written before request `seq` wrote it: the scrape
    /// it belongs to (requests walk the series round-robin, one pass a scrape).
    pub fn scrape(&self, seq: u64, index: u64) -> u64 {
        let first = seq.wrapping_mul(self.per_request);
        let k = (index + self.active - first % self.active) % self.active;
        (first + k) / self.active
    }

    /// The id written in the `series` label: its instance's, a new one every period for churned
    /// instances (a histogram's members churn together).
    pub fn series_id(&self, index: u64, offset_ms: u64) -> u64 {
        let instance = self.place(index).instance;
        if instance < self.churned {
            instance + (offset_ms / self.churn_period_ms) * self.instances
        } else {
            instance
        }
    }

    /// The float value request `seq` writes for series `index`: a counter increasing per series
    /// (a family's counter resets now and then; a plain `metrics` counter never does), a gauge, or a
    /// bucket, sum, count or quantile of its instance at that scrape (for a native histogram its
    /// count, which read-back compares).
    pub fn value(&self, seq: u64, index: u64) -> f64 {
        if self.interleaved {
            return counter_value(self.seed, seq, index);
        }
        let p = self.place(index);
        let hash = self.instance_hash(p.instance);
        let scrapes = || self.scrape(seq, index) + 1;
        match (p.family.kind, p.member) {
            (FamilyKind::Gauge, _) => (splitmix(hash ^ scrapes()) % 100_000) as f64 / 100.0,
            // A family's counter restarts now and then, as a process does: every 60 to 119
            // scrapes (15 to 30 minutes at 15 s), from its instance's hash.
            (_, Member::Plain) => {
                let offset = (hash >> 20) % 1000;
                let period = 60 + hash % 60;
                (offset + scrapes() % period * (1 + hash % 7)) as f64
            }
            (FamilyKind::Histogram, m) => {
                let per = families::classic_per_scrape(&p.family.bounds, hash);
                match m {
                    Member::Bucket(b) => (per.cumulative[b] * scrapes()) as f64,
                    Member::Sum => per.sum * scrapes() as f64,
                    _ => (per.cumulative.last().copied().unwrap_or(0) * scrapes()) as f64,
                }
            }
            (FamilyKind::Summary, m) => {
                let (values, count, sum) = families::summary_per_scrape(&p.family.quantiles, hash);
                match m {
                    Member::Quantile(q) => values[q],
                    Member::Sum => sum * scrapes() as f64,
                    _ => (count * scrapes()) as f64,
                }
            }
            _ => self.native(seq, index).count as f64,
        }
    }

    fn instance_hash(&self, instance: u64) -> u64 {
        splitmix(self.seed ^ instance.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    /// The exemplar request `seq` attaches to series `index`'s sample, if it carries one: a counter's
    /// or a classic bucket's sample, at `exemplar_share`, pointing at trace `seq` of this run with
    /// an observation its bucket holds (1 for a counter).
    pub fn exemplar(&self, seq: u64, index: u64) -> Option<(u64, f64)> {
        if self.model.exemplar_share <= 0.0 {
            return None;
        }
        let p = self.place(index);
        let value = match (p.family.kind, p.member) {
            (FamilyKind::Counter, _) => 1.0,
            (FamilyKind::Histogram, Member::Bucket(b)) => p.family.bounds.get(b).copied().unwrap_or_else(|| p.family.bounds.last().map_or(1.0, |v| v * 2.0)),
            _ => return None,
        };
        let draw = splitmix(self.seed ^ seq.wrapping_mul(0xD6E8_FEB8_6659_FD93) ^ index) % 1_000_000;
        ((draw as f64) < self.model.exemplar_share * 1_000_000.0).then_some((seq, value))
    }

    /// The trace id (16 bytes) an exemplar for trace `t` carries.
    pub fn trace_id(&self, t: u64) -> [u8; 16] {
        self.ids.trace_id(t)
    }

    /// Whether series `index` is a native histogram (its sample is a histogram, not a float).
    pub fn is_native(&self, index: u64) -> bool {
        !self.interleaved && self.place(index).member == Member::Native
    }

    /// The native histogram request `seq` writes for series `index` (a native-histogram member).
    pub fn native(&self, seq: u64, index: u64) -> NativeHistogram {
        let p = self.place(index);
        families::native_at(p.family.schema, p.family.native_buckets, self.instance_hash(p.instance), self.scrape(seq, index) + 1)
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
        let mut l = self.labels_of(index);
        l.push((SERIES_LABEL.to_string(), series_id.to_string()));
        l.sort();
        l
    }

    /// A PromQL selector matching exactly this series.
    pub fn selector(&self, index: u64, series_id: u64) -> String {
        let p = self.place(index);
        let (name, own) = p.family.member_name(p.member);
        let own = own.map_or(String::new(), |(k, v)| format!(",{k}=\"{v}\""));
        format!("{name}{{{RUN_LABEL}=\"{}\",{SERIES_LABEL}=\"{series_id}\"{own}}}", self.run_id)
    }

    /// The PromQL whose value read-back compares with `value`: the selector, or a native
    /// histogram's `histogram_count`.
    pub fn read_back_query(&self, index: u64, series_id: u64) -> String {
        match self.place(index).member {
            Member::Native => format!("histogram_count({})", self.selector(index, series_id)),
            _ => self.selector(index, series_id),
        }
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Series `i`'s labels but the `series` label: its member's name and own label (`le`,
    /// `quantile`), and its family's own labels (each cycling on its own) or else each scenario
    /// label from its instance number's digits (base: the label's cardinality), so every family
    /// carries every label value once it has enough instances.
    fn labels_of(&self, i: u64) -> Vec<(String, String)> {
        let p = self.place(i);
        let (name, own) = p.family.member_name(p.member);
        let mut labels = vec![("__name__".to_string(), name), ("job".to_string(), JOB.to_string()), (RUN_LABEL.to_string(), self.run_id.clone())];
        labels.extend(own.map(|(k, v)| (k.to_string(), v)));
        match &p.family.labels {
            // A family's own labels cycle each on its own (every one reaches its cardinality).
            Some(own) => {
                for spec in own {
                    labels.push((spec.name.clone(), format!("{}-{}", spec.name, p.local % spec.cardinality.max(1))));
                }
            }
            // The model's labels multiply: instance number's digits, base each cardinality.
            None => {
                let mut stride = 1u64;
                for spec in &self.model.labels {
                    let card = spec.cardinality.max(1);
                    labels.push((spec.name.clone(), format!("{}-{}", spec.name, (p.local / stride) % card)));
                    stride = stride.saturating_mul(card);
                }
            }
        }
        labels.sort();
        labels
    }
}

/// A counter's value at request `seq`: increasing per series, distinct per series and seed.
fn counter_value(seed: u64, seq: u64, index: u64) -> f64 {
    let offset = splitmix(seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15)) % 1000;
    seq as f64 + offset as f64
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
