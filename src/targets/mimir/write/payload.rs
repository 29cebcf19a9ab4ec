//! Building one remote-write request: the `WriteRequest` protobuf written straight into a reused
//! buffer from pre-encoded label sets, then snappy block compression into a second reused buffer.
//! No allocation per sample.

use super::series::{put_varint, varint_len, SeriesSet, SERIES_LABEL};
use std::sync::Arc;

/// What a built request carries, for the ledger and read-back.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BuiltRequest {
    pub samples: u64,
    pub timestamp_ms: i64,
}

/// Per-worker payload builder: owns its buffers and its snappy encoder.
pub struct PayloadBuilder {
    series: Arc<SeriesSet>,
    raw: Vec<u8>,
    compressed: Vec<u8>,
    encoder: snap::raw::Encoder,
    digits: itoa::Buffer,
}

impl PayloadBuilder {
    pub fn new(series: Arc<SeriesSet>) -> PayloadBuilder {
        PayloadBuilder { series, raw: Vec::with_capacity(64 * 1024), compressed: Vec::new(), encoder: snap::raw::Encoder::new(), digits: itoa::Buffer::new() }
    }

    /// Encodes request `seq` with every sample at `timestamp_ms`; `offset_ms` (time since the run
    /// started) decides churned series ids. Returns the uncompressed protobuf.
    pub fn encode(&mut self, seq: u64, timestamp_ms: i64, offset_ms: u64) -> &[u8] {
        self.raw.clear();
        let set = &*self.series;
        for k in 0..set.per_request.min(set.active) {
            let index = set.series_in_request(seq, k);
            put_time_series(&mut self.raw, &mut self.digits, set, index, set.series_id(index, offset_ms), set.value(seq, index), timestamp_ms);
        }
        &self.raw
    }

    /// Encodes and snappy-compresses any samples, one `TimeSeries` each, in the order given (the
    /// remote-write queue's batches); the slice is valid until the next call.
    pub fn build_samples(&mut self, samples: impl Iterator<Item = SampleRef>) -> &[u8] {
        self.raw.clear();
        let set = &*self.series;
        for s in samples {
            put_time_series(&mut self.raw, &mut self.digits, set, s.index, set.series_id(s.index, s.offset_ms), set.value(s.seq, s.index), s.timestamp_ms);
        }
        self.compress()
    }

    fn compress(&mut self) -> &[u8] {
        let needed = snap::raw::max_compress_len(self.raw.len());
        if self.compressed.len() < needed {
            self.compressed.resize(needed, 0);
        }
        let n = self.encoder.compress(&self.raw, &mut self.compressed).expect("output buffer is max_compress_len long");
        &self.compressed[..n]
    }

    /// Encodes and snappy-compresses request `seq`; the slice is valid until the next call.
    pub fn build(&mut self, seq: u64, timestamp_ms: i64, offset_ms: u64) -> (&[u8], BuiltRequest) {
        self.encode(seq, timestamp_ms, offset_ms);
        let samples = self.series.per_request.min(self.series.active);
        (self.compress(), BuiltRequest { samples, timestamp_ms })
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

/// Appends one `TimeSeries` (the series' labels and one sample) to a `WriteRequest` being built.
fn put_time_series(out: &mut Vec<u8>, digits: &mut itoa::Buffer, set: &SeriesSet, index: u64, id: u64, value: f64, timestamp_ms: i64) {
    let id_text = digits.format(id).as_bytes();
    let labels = set.encoded(index);
    let series_label_inner = 2 + SERIES_LABEL.len() + 1 + varint_len(id_text.len() as u64) + id_text.len();
    let series_label = 1 + varint_len(series_label_inner as u64) + series_label_inner;
    let sample_inner = 9 + 1 + varint_len(timestamp_ms as u64);
    let sample = 1 + varint_len(sample_inner as u64) + sample_inner;
    let ts_len = labels.before_series.len() + series_label + labels.after_series.len() + sample;

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
    out.push(0x12); // TimeSeries.samples
    put_varint(out, sample_inner as u64);
    out.push(0x09); // Sample.value, fixed64
    out.extend_from_slice(&value.to_le_bytes());
    out.push(0x10); // Sample.timestamp, varint
    put_varint(out, timestamp_ms as u64);
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
        }
    }

    #[test]
    fn hand_encoding_decodes_as_prompb_with_sorted_unique_labels() {
        let set = Arc::new(SeriesSet::new(&model(10, 4, 0.0), "r1", 7));
        let mut b = PayloadBuilder::new(set.clone());
        let (compressed, built) = b.build(3, 1_700_000_000_123, 0);
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
