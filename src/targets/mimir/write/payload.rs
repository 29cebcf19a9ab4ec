//! Building one remote-write request: the `WriteRequest` protobuf written straight into a reused
//! buffer from pre-encoded label sets (a float sample, or a native histogram for its members),
//! with the families' metadata when asked, then snappy block compression into a second reused
//! buffer. No allocation per sample. Remote-write 2.0 (`rw2`) writes the same series as references
//! into a symbols table built per request, with each series' metadata inline.

use super::families::ZERO_THRESHOLD;
use super::proto::BucketSpan;
use super::series::{put_varint, varint_len, SeriesSet, SERIES_LABEL};
use crate::targets::mimir::config::WriteProtocol;
use prost::encoding;
use std::collections::HashMap;
use std::sync::Arc;

/// What a built request carries, for the ledger and read-back.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BuiltRequest {
    /// Samples of every kind (a native histogram is one).
    pub samples: u64,
    /// Of which native histograms.
    pub histograms: u64,
    pub timestamp_ms: i64,
}

/// A remote-write 2.0 symbols table being built: each distinct string once, the empty string first.
#[derive(Default)]
struct Symbols {
    refs: HashMap<Box<[u8]>, u32>,
    /// The table as `Request.symbols` entries (field 4).
    encoded: Vec<u8>,
}

impl Symbols {
    fn clear(&mut self) {
        self.refs.clear();
        self.encoded.clear();
        self.intern(b"");
    }

    fn intern(&mut self, s: &[u8]) -> u32 {
        if let Some(r) = self.refs.get(s) {
            return *r;
        }
        let r = self.refs.len() as u32;
        self.refs.insert(s.into(), r);
        self.encoded.push(0x22);
        put_varint(&mut self.encoded, s.len() as u64);
        self.encoded.extend_from_slice(s);
        r
    }
}

/// The `(name, value)` pairs of pre-encoded `Label` entries.
fn label_pairs(mut encoded: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    std::iter::from_fn(move || {
        if encoded.is_empty() {
            return None;
        }
        let (_entry_len, rest) = read_varint(&encoded[1..]);
        let (name_len, rest) = read_varint(&rest[1..]);
        let (name, rest) = rest.split_at(name_len as usize);
        let (value_len, rest) = read_varint(&rest[1..]);
        let (value, rest) = rest.split_at(value_len as usize);
        encoded = rest;
        Some((name, value))
    })
}

fn read_varint(bytes: &[u8]) -> (u64, &[u8]) {
    let (mut v, mut shift) = (0u64, 0);
    for (i, b) in bytes.iter().enumerate() {
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return (v, &bytes[i + 1..]);
        }
        shift += 7;
    }
    (v, &[])
}

/// Per-worker payload builder: owns its buffers and its snappy encoder.
pub struct PayloadBuilder {
    series: Arc<SeriesSet>,
    raw: Vec<u8>,
    compressed: Vec<u8>,
    encoder: snap::raw::Encoder,
    digits: itoa::Buffer,
    /// A native histogram being encoded, and its deltas.
    scratch: Vec<u8>,
    deltas: Vec<i64>,
    /// The exemplar of the series being encoded, if it has one.
    exemplar: Vec<u8>,
    /// The families' metadata (`WriteRequest.metadata` entries), encoded once.
    metadata: Vec<u8>,
    protocol: WriteProtocol,
    symbols: Symbols,
    refs: Vec<u32>,
    series_buf: Vec<u8>,
    assembled: Vec<u8>,
    /// Samples and native histograms in the request being built.
    samples: u64,
    histograms: u64,
    /// When the run's counters and histograms started (unix ms): remote-write 2.0's created
    /// timestamp; 0 leaves it out.
    created_ms: i64,
}

impl PayloadBuilder {
    pub fn new(series: Arc<SeriesSet>) -> PayloadBuilder {
        Self::speaking(series, WriteProtocol::Rw1)
    }

    /// A builder for `protocol` (`rw1` or `rw2`).
    pub fn speaking(series: Arc<SeriesSet>, protocol: WriteProtocol) -> PayloadBuilder {
        let metadata = encode_metadata(&series);
        PayloadBuilder {
            protocol,
            symbols: Symbols::default(),
            refs: Vec::new(),
            series_buf: Vec::new(),
            assembled: Vec::new(),
            samples: 0,
            histograms: 0,
            created_ms: 0,
            series,
            raw: Vec::with_capacity(64 * 1024),
            compressed: Vec::new(),
            encoder: snap::raw::Encoder::new(),
            digits: itoa::Buffer::new(),
            scratch: Vec::new(),
            deltas: Vec::new(),
            exemplar: Vec::new(),
            metadata,
        }
    }

    /// Remote-write 2.0 carries `created_ms` as the created timestamp of cumulative series
    /// (counters, histograms, summaries): when the run started them.
    pub fn created_at(mut self, created_ms: i64) -> PayloadBuilder {
        self.created_ms = created_ms;
        self
    }

    /// Adds every family's metadata (type, help, unit) to the request being built, as Prometheus
    /// sends it once a minute (remote-write 1.0; 2.0 carries it with every series).
    pub fn with_metadata(&mut self) {
        if self.protocol == WriteProtocol::Rw1 {
            self.raw.extend_from_slice(&self.metadata);
        }
    }

    /// Starts a request.
    fn begin(&mut self) {
        self.raw.clear();
        self.samples = 0;
        self.histograms = 0;
        if self.protocol == WriteProtocol::Rw2 {
            self.symbols.clear();
        }
    }

    /// The samples and native histograms of the last request built.
    pub fn counts(&self) -> (u64, u64) {
        (self.samples, self.histograms)
    }

    fn put(&mut self, index: u64, id: u64, seq: u64, timestamp_ms: i64) {
        self.samples += 1;
        let set = &*self.series;
        let native = set.is_native(index);
        self.histograms += u64::from(native);
        if native {
            self.encode_native(index, seq, timestamp_ms);
        }
        if self.protocol == WriteProtocol::Rw2 {
            return self.put_v2(index, id, seq, timestamp_ms, native);
        }
        self.encode_exemplar_v1(index, seq, timestamp_ms);
        let set = &*self.series;
        let sample = if native { Sample::Histogram(&self.scratch) } else { Sample::Float(set.value(seq, index), timestamp_ms) };
        put_time_series(&mut self.raw, &mut self.digits, set, index, id, sample, &self.exemplar);
    }

    /// Encodes series `index`'s exemplar of request `seq` (`prompb.Exemplar`), or nothing.
    fn encode_exemplar_v1(&mut self, index: u64, seq: u64, timestamp_ms: i64) {
        self.exemplar.clear();
        let Some((trace, value)) = self.series.exemplar(seq, index) else { return };
        let trace_id = crate::ids::hex(&self.series.trace_id(trace));
        encoding::message::encode(1, &super::proto::Label { name: "trace_id".into(), value: trace_id }, &mut self.exemplar);
        encoding::double::encode(2, &value, &mut self.exemplar);
        encoding::int64::encode(3, &timestamp_ms, &mut self.exemplar);
    }

    /// Encodes series `index`'s native histogram of request `seq` into `scratch` (the same
    /// `Histogram` message in 1.0 and 2.0).
    fn encode_native(&mut self, index: u64, seq: u64, timestamp_ms: i64) {
        let h = self.series.native(seq, index);
        self.scratch.clear();
        self.deltas.clear();
        self.deltas.extend(h.deltas());
        encoding::uint64::encode(1, &h.count, &mut self.scratch);
        encoding::double::encode(3, &h.sum, &mut self.scratch);
        encoding::sint32::encode(4, &h.schema, &mut self.scratch);
        encoding::double::encode(5, &ZERO_THRESHOLD, &mut self.scratch);
        encoding::uint64::encode(6, &h.zero_count, &mut self.scratch);
        encoding::message::encode(11, &BucketSpan { offset: h.offset, length: h.counts.len() as u32 }, &mut self.scratch);
        encoding::sint64::encode_packed(12, &self.deltas, &mut self.scratch);
        encoding::int64::encode(15, &timestamp_ms, &mut self.scratch);
    }

    /// Appends series `index` as a remote-write 2.0 `TimeSeries`: its labels as symbol references,
    /// its sample or native histogram, and its family's metadata.
    fn put_v2(&mut self, index: u64, id: u64, seq: u64, timestamp_ms: i64, native: bool) {
        let set = self.series.clone();
        let labels = set.encoded(index);
        let id_text = self.digits.format(id).as_bytes().to_vec();
        self.refs.clear();
        for (name, value) in label_pairs(labels.before_series) {
            self.refs.extend([self.symbols.intern(name), self.symbols.intern(value)]);
        }
        self.refs.extend([self.symbols.intern(SERIES_LABEL.as_bytes()), self.symbols.intern(&id_text)]);
        for (name, value) in label_pairs(labels.after_series) {
            self.refs.extend([self.symbols.intern(name), self.symbols.intern(value)]);
        }
        let family = set.place(index).family;
        let (help, unit) = (self.symbols.intern(family.help.as_bytes()), self.symbols.intern(family.unit.as_bytes()));
        let b = &mut self.series_buf;
        b.clear();
        encoding::uint32::encode_packed(1, &self.refs, b);
        if native {
            encoding::encode_key(3, encoding::WireType::LengthDelimited, b);
            put_varint(b, self.scratch.len() as u64);
            b.extend_from_slice(&self.scratch);
        } else {
            let value = set.value(seq, index);
            encoding::encode_key(2, encoding::WireType::LengthDelimited, b);
            put_varint(b, (9 + 1 + varint_len(timestamp_ms as u64)) as u64);
            encoding::double::encode(1, &value, b);
            encoding::int64::encode(2, &timestamp_ms, b);
        }
        if let Some((trace, exemplar_value)) = set.exemplar(seq, index) {
            let refs = [self.symbols.intern(b"trace_id"), self.symbols.intern(crate::ids::hex(&set.trace_id(trace)).as_bytes())];
            let e = super::proto::v2::Exemplar { labels_refs: refs.to_vec(), value: exemplar_value, timestamp: timestamp_ms };
            encoding::message::encode(4, &e, &mut self.series_buf);
        }
        let b = &mut self.series_buf;
        let meta = super::proto::v2::Metadata { r#type: family.metadata_type(), help_ref: help, unit_ref: unit };
        encoding::message::encode(5, &meta, b);
        if self.created_ms > 0 && family.kind != crate::targets::mimir::config::FamilyKind::Gauge {
            encoding::int64::encode(6, &self.created_ms, b);
        }
        self.raw.push(0x2a); // Request.timeseries
        put_varint(&mut self.raw, self.series_buf.len() as u64);
        self.raw.extend_from_slice(&self.series_buf);
    }

    /// Encodes request `seq` with every sample at `timestamp_ms`; `offset_ms` (time since the run
    /// started) decides churned series ids. Returns the uncompressed protobuf.
    pub fn encode(&mut self, seq: u64, timestamp_ms: i64, offset_ms: u64) -> &[u8] {
        self.begin();
        for k in 0..self.series.per_request.min(self.series.active) {
            let index = self.series.series_in_request(seq, k);
            let id = self.series.series_id(index, offset_ms);
            self.put(index, id, seq, timestamp_ms);
        }
        &self.raw
    }

    /// Encodes and snappy-compresses any samples, one `TimeSeries` each, in the order given (the
    /// remote-write queue's batches); the slice is valid until the next call.
    pub fn build_samples(&mut self, samples: impl Iterator<Item = SampleRef>, metadata: bool) -> &[u8] {
        self.begin();
        for s in samples {
            let id = self.series.series_id(s.index, s.offset_ms);
            self.put(s.index, id, s.seq, s.timestamp_ms);
        }
        if metadata {
            self.with_metadata();
        }
        self.compress()
    }

    fn compress(&mut self) -> &[u8] {
        let whole = match self.protocol {
            WriteProtocol::Rw2 => {
                // The symbols table first, then the series that refer to it.
                self.assembled.clear();
                self.assembled.extend_from_slice(&self.symbols.encoded);
                self.assembled.extend_from_slice(&self.raw);
                &self.assembled
            }
            _ => &self.raw,
        };
        let needed = snap::raw::max_compress_len(whole.len());
        if self.compressed.len() < needed {
            self.compressed.resize(needed, 0);
        }
        let n = self.encoder.compress(whole, &mut self.compressed).expect("output buffer is max_compress_len long");
        &self.compressed[..n]
    }

    /// Encodes and snappy-compresses request `seq` (with the metadata when `metadata`); the slice
    /// is valid until the next call.
    pub fn build(&mut self, seq: u64, timestamp_ms: i64, offset_ms: u64, metadata: bool) -> (&[u8], BuiltRequest) {
        self.encode(seq, timestamp_ms, offset_ms);
        if metadata {
            self.with_metadata();
        }
        let (samples, histograms) = (self.samples, self.histograms);
        (self.compress(), BuiltRequest { samples, histograms, timestamp_ms })
    }
}

/// One sample as the queue keeps it: which series, which scrape tick wrote it (its value follows
/// from both) and when.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SampleRef {
    pub index: u64,
    pub seq: u64,
    pub timestamp_ms: i64,
    /// Time since the run started (decides churned series ids).
    pub offset_ms: u64,
}

/// What a `TimeSeries` carries: one float sample, or one encoded native histogram.
enum Sample<'a> {
    Float(f64, i64),
    Histogram(&'a [u8]),
}

/// Appends one `TimeSeries` (the series' labels and one sample) to a `WriteRequest` being built.
fn put_time_series(out: &mut Vec<u8>, digits: &mut itoa::Buffer, set: &SeriesSet, index: u64, id: u64, sample: Sample<'_>, exemplar: &[u8]) {
    let id_text = digits.format(id).as_bytes();
    let labels = set.encoded(index);
    let series_label_inner = 2 + SERIES_LABEL.len() + 1 + varint_len(id_text.len() as u64) + id_text.len();
    let series_label = 1 + varint_len(series_label_inner as u64) + series_label_inner;
    let sample_inner = match sample {
        Sample::Float(_, timestamp_ms) => 9 + 1 + varint_len(timestamp_ms as u64),
        Sample::Histogram(h) => h.len(),
    };
    let sample_len = 1 + varint_len(sample_inner as u64) + sample_inner;
    let exemplar_len = if exemplar.is_empty() { 0 } else { 1 + varint_len(exemplar.len() as u64) + exemplar.len() };
    let ts_len = labels.before_series.len() + series_label + labels.after_series.len() + sample_len + exemplar_len;

    out.push(0x0a); // WriteRequest.timeseries
    put_varint(out, ts_len as u64);
    out.extend_from_slice(labels.before_series);
    out.push(0x0a); // TimeSeries.labels: series="<id>"
    put_varint(out, series_label_inner as u64);
    out.push(0x0a);
    out.push(SERIES_LABEL.len() as u8);
    out.extend_from_slice(SERIES_LABEL.as_bytes());
    out.push(0x12);
    put_varint(out, id_text.len() as u64);
    out.extend_from_slice(id_text);
    out.extend_from_slice(labels.after_series);
    match sample {
        Sample::Float(value, timestamp_ms) => {
            out.push(0x12); // TimeSeries.samples
            put_varint(out, sample_inner as u64);
            out.push(0x09); // Sample.value, fixed64
            out.extend_from_slice(&value.to_le_bytes());
            out.push(0x10); // Sample.timestamp, varint
            put_varint(out, timestamp_ms as u64);
        }
        Sample::Histogram(h) => {
            out.push(0x22); // TimeSeries.histograms
            put_varint(out, sample_inner as u64);
            out.extend_from_slice(h);
        }
    }
    if !exemplar.is_empty() {
        out.push(0x1a); // TimeSeries.exemplars
        put_varint(out, exemplar.len() as u64);
        out.extend_from_slice(exemplar);
    }
}

/// Every family's `MetricMetadata` as `WriteRequest.metadata` entries (field 3).
fn encode_metadata(set: &SeriesSet) -> Vec<u8> {
    use prost::Message;
    let mut out = Vec::new();
    for f in set.families() {
        let m = super::proto::MetricMetadata { r#type: f.metadata_type(), metric_family_name: f.name.clone(), help: f.help.clone(), unit: f.unit.clone() };
        encoding::message::encode(3, &m, &mut out);
        let _ = m.encoded_len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::proto::WriteRequest;
    use super::*;
    use crate::targets::mimir::config::{LabelSpec, SeriesModel};
    use crate::units::Dur;
    use prost::Message;

    fn model(active: u64, per_request: u64, churn_share: f64) -> SeriesModel {
        SeriesModel {
            active,
            metrics: vec!["m_a".into(), "m_b".into()],
            labels: vec![LabelSpec { name: "pod".into(), cardinality: 3 }, LabelSpec { name: "az".into(), cardinality: 2 }],
            samples_per_request: per_request,
            scrape_interval: None,
            churn_share,
            churn_period: Dur::secs(60),
            families: vec![],
            preset: None,
            exemplar_share: 0.0,
        }
    }

    #[test]
    fn hand_encoding_decodes_as_prompb_with_sorted_unique_labels() {
        let set = Arc::new(SeriesSet::new(&model(10, 4, 0.0), "r1", 7));
        let mut b = PayloadBuilder::new(set.clone());
        let (compressed, built) = b.build(3, 1_700_000_000_123, 0, false);
        assert_eq!(built.samples, 4);
        let raw = snap::raw::Decoder::new().decompress_vec(compressed).unwrap();
        let req = WriteRequest::decode(raw.as_slice()).unwrap();
        assert_eq!(req.timeseries.len(), 4);
        for (k, ts) in req.timeseries.iter().enumerate() {
            let index = set.series_in_request(3, k as u64);
            let labels: Vec<(String, String)> = ts.labels.iter().map(|l| (l.name.clone(), l.value.clone())).collect();
            assert_eq!(labels, set.labels(index, index));
            assert!(labels.windows(2).all(|w| w[0].0 < w[1].0), "labels sorted and unique: {labels:?}");
            assert_eq!(ts.samples.len(), 1);
            assert_eq!(ts.samples[0].timestamp, 1_700_000_000_123);
            assert_eq!(ts.samples[0].value, set.value(3, index));
        }
        assert_eq!(req.timeseries[0].labels.iter().find(|l| l.name == "series").unwrap().value, "2");
    }

    #[test]
    fn typed_families_decode_as_prompb_with_consistent_histograms_and_metadata() {
        use crate::targets::mimir::config::{FamilyKind, FamilySpec};
        let spec = |name: &str, kind: FamilyKind| FamilySpec {
            name: name.into(),
            kind,
            share: 1.0,
            buckets: Some(vec![0.1, 1.0]),
            quantiles: None,
            schema: 3,
            native_buckets: 4,
            help: None,
            unit: Some("seconds".into()),
            labels: None,
        };
        let mut m = model(0, 0, 0.0);
        m.families = vec![spec("h_seconds", FamilyKind::Histogram), spec("n_seconds", FamilyKind::NativeHistogram)];
        m.families[0].share = 5.0;
        (m.active, m.samples_per_request) = (10, 12);
        let set = Arc::new(SeriesSet::new(&m, "r1", 7));
        assert_eq!(set.active, 12, "shares 5:1 of 10 in whole instances: 2 histograms of 5 series (2 bounds, +Inf, _sum, _count), 2 native");
        let mut b = PayloadBuilder::new(set.clone());
        let (compressed, _) = b.build(2, 1_700_000_000_000, 0, true);
        let req = WriteRequest::decode(snap::raw::Decoder::new().decompress_vec(compressed).unwrap().as_slice()).unwrap();
        assert_eq!(req.metadata.len(), 2);
        assert_eq!((req.metadata[0].r#type, req.metadata[0].metric_family_name.as_str(), req.metadata[0].unit.as_str()), (3, "h_seconds", "seconds"));
        let name = |ts: &super::super::proto::TimeSeries| ts.labels.iter().find(|l| l.name == "__name__").unwrap().value.clone();
        let le = |ts: &super::super::proto::TimeSeries| ts.labels.iter().find(|l| l.name == "le").map(|l| l.value.clone());
        let first = |t: &&super::super::proto::TimeSeries| t.labels.iter().any(|l| l.name == "series" && l.value == "0");
        let buckets: Vec<(Option<String>, f64)> =
            req.timeseries.iter().filter(first).filter(|t| name(t) == "h_seconds_bucket").map(|t| (le(t), t.samples[0].value)).collect();
        assert_eq!(buckets.iter().map(|b| b.0.clone().unwrap()).collect::<Vec<_>>(), ["0.1", "1", "+Inf"]);
        assert!(buckets.windows(2).all(|w| w[0].1 <= w[1].1), "cumulative: {buckets:?}");
        let count = req.timeseries.iter().filter(first).find(|t| name(t) == "h_seconds_count").unwrap().samples[0].value;
        assert_eq!(count, buckets[2].1, "_count is the +Inf bucket");
        let natives: Vec<_> = req.timeseries.iter().filter(|t| name(t) == "n_seconds").collect();
        assert!(!natives.is_empty() && natives.iter().all(|t| t.samples.is_empty() && t.histograms.len() == 1));
        for t in natives {
            let h = &t.histograms[0];
            let index = (0..set.active)
                .find(|i| {
                    set.labels(*i, set.series_id(*i, 0))
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .eq(t.labels.iter().map(|l| (l.name.as_str(), l.value.as_str())))
                })
                .unwrap();
            let want = set.native(2, index);
            let counts: Vec<u64> = h
                .positive_deltas
                .iter()
                .scan(0i64, |a, d| {
                    *a += d;
                    Some(*a as u64)
                })
                .collect();
            assert_eq!((h.count_int, h.sum, h.schema, h.zero_count_int, h.timestamp), (want.count, want.sum, 3, want.zero_count, 1_700_000_000_000));
            assert_eq!((h.positive_spans[0].offset, counts), (want.offset, want.counts));
        }
    }

    #[test]
    fn a_family_with_its_own_labels_reaches_each_cardinality_while_the_others_keep_the_models() {
        use crate::targets::mimir::config::{FamilyKind, FamilySpec};
        let spec = |name: &str, labels: Option<Vec<LabelSpec>>| FamilySpec {
            name: name.into(),
            kind: FamilyKind::Gauge,
            share: 1.0,
            buckets: None,
            quantiles: None,
            schema: 3,
            native_buckets: 8,
            help: None,
            unit: None,
            labels,
        };
        let own = vec![LabelSpec { name: "namespace".into(), cardinality: 5 }, LabelSpec { name: "pod".into(), cardinality: 50 }];
        let mut m = model(100, 100, 0.0);
        m.families = vec![spec("own_labels", Some(own)), spec("model_labels", None)];
        let set = SeriesSet::new(&m, "r", 1);
        let values = |family: &str, label: &str| {
            (0..set.active)
                .map(|i| set.labels(i, i))
                .filter(|l| l.iter().any(|(k, v)| k == "__name__" && v == family))
                .filter_map(|l| l.into_iter().find(|(k, _)| k == label).map(|(_, v)| v))
                .collect::<std::collections::BTreeSet<_>>()
                .len()
        };
        assert_eq!((values("own_labels", "namespace"), values("own_labels", "pod"), values("own_labels", "az")), (5, 50, 0));
        assert_eq!((values("model_labels", "pod"), values("model_labels", "az"), values("model_labels", "namespace")), (3, 2, 0));
    }

    #[test]
    fn all_active_series_are_distinct_and_covered_round_robin() {
        let set = Arc::new(SeriesSet::new(&model(6, 4, 0.0), "r", 1));
        let mut seen = std::collections::BTreeSet::new();
        for seq in 0..3 {
            for k in 0..4 {
                let i = set.series_in_request(seq, k);
                seen.insert(set.labels(i, set.series_id(i, 0)));
            }
        }
        assert_eq!(seen.len(), 6);
    }

    #[test]
    fn churn_replaces_the_configured_share_each_period() {
        let set = SeriesSet::new(&model(10, 10, 0.3), "r", 1);
        let ids_at = |ms| (0..10).map(|i| set.series_id(i, ms)).collect::<Vec<_>>();
        let changed = ids_at(0).iter().zip(ids_at(60_000)).filter(|(a, b)| **a != *b).count();
        assert_eq!(changed, 3);
        assert_eq!(ids_at(0), ids_at(59_999));
    }

    #[test]
    fn values_increase_per_series_and_depend_on_the_seed() {
        let a = SeriesSet::new(&model(10, 10, 0.0), "r", 1);
        let b = SeriesSet::new(&model(10, 10, 0.0), "r", 2);
        assert!(a.value(5, 3) > a.value(4, 3));
        assert!((0..10).any(|i| a.value(0, i) != b.value(0, i)));
    }
}
