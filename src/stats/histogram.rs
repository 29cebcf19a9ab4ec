//! Latency histograms: HDR, microseconds, 1 µs to 1 h at 3 significant digits, stored losslessly
//! (V2 + DEFLATE, base64) so any percentile can be recomputed and runs merged later.

use base64::Engine;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;

pub type Latency = Histogram<u64>;

const MAX_MICROS: u64 = 3_600_000_000;

pub fn new_latency() -> Latency {
    Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("static histogram bounds are valid")
}

/// Records a duration in microseconds that may be zero (a call started exactly on time); longer
/// than an hour is clamped to an hour.
pub fn record_zero_ok(h: &mut Latency, d: std::time::Duration) {
    h.saturating_record(d.as_micros().min(MAX_MICROS as u128) as u64);
}

/// Records a duration in microseconds; longer than an hour is clamped to an hour.
pub fn record(h: &mut Latency, d: std::time::Duration) {
    let us = d.as_micros().clamp(1, MAX_MICROS as u128) as u64;
    h.saturating_record(us);
}

/// Records `n` calls of the same duration at once; clamped like `record`.
pub fn record_n(h: &mut Latency, d: std::time::Duration, n: u64) {
    let us = d.as_micros().clamp(1, MAX_MICROS as u128) as u64;
    h.saturating_record_n(us, n);
}

/// Adds `other` into `into`. Every latency histogram is made by `new_latency`, so the bounds
/// always match; a value that still does not fit is clamped like any other.
pub fn add(into: &mut Latency, other: &Latency) {
    if into.add(other).is_err() {
        for v in other.iter_recorded() {
            into.saturating_record_n(v.value_iterated_to(), v.count_at_value());
        }
    }
}

pub fn encode(h: &Latency) -> String {
    let mut buf = Vec::new();
    V2DeflateSerializer::new().serialize(h, &mut buf).expect("serializing into memory cannot fail");
    base64::engine::general_purpose::STANDARD.encode(buf)
}

/// A stored histogram that cannot be read back.
#[derive(Debug, thiserror::Error)]
pub enum HistogramError {
    #[error("histogram is not base64: {0}")]
    NotBase64(#[from] base64::DecodeError),
    #[error("histogram does not decode: {0:?}")]
    Undecodable(hdrhistogram::serialization::DeserializeError),
}

pub fn decode(text: &str) -> Result<Latency, HistogramError> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(text)?;
    Deserializer::new().deserialize(&mut bytes.as_slice()).map_err(HistogramError::Undecodable)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn encoding_is_lossless() {
        let mut h = new_latency();
        for ms in [1u64, 2, 3, 50, 900, 2_500] {
            record(&mut h, Duration::from_millis(ms));
        }
        let back = decode(&encode(&h)).unwrap();
        assert_eq!(back.len(), 6);
        assert_eq!(back.value_at_quantile(0.99), h.value_at_quantile(0.99));
        assert_eq!(back.max(), h.max());
        assert!(decode("!!").is_err());
    }

    #[test]
    fn out_of_range_values_are_clamped_not_lost() {
        let mut h = new_latency();
        record(&mut h, Duration::from_secs(7200));
        record(&mut h, Duration::ZERO);
        assert_eq!(h.len(), 2);
        assert!(h.max() >= 3_599_000_000);
    }
}
