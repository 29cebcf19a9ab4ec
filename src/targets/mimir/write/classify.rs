//! What a remote-write answer means. Classified by status code and stable markers in the body
//! (Prometheus, Cortex and Mimir word their errors differently; Mimir adds `err-mimir-…` ids).
//! A remote-write 2.0 answer is also held against what was sent: a 415 is a receiver that does not
//! speak 2.0, a 2xx without written-count headers one that read the request as 1.0 (and stored
//! nothing), and headers counting fewer than were sent a partial write. Headers can also
//! overstate (recorded against Cortex): read-back, not the headers, decides what was stored.

use crate::stats::OutcomeClass;
use http::StatusCode;
use std::time::Duration;

const MARKERS: &[(OutcomeClass, &[&str])] = &[
    (OutcomeClass::OutOfOrder, &["out of order", "out-of-order", "sample-out-of-order"]),
    (OutcomeClass::TooOld, &["out of bounds", "out-of-bounds", "too old", "timestamp-too-old", "too far in the past"]),
    (OutcomeClass::Duplicate, &["duplicate sample", "duplicate-timestamp", "new-value-for-timestamp", "new value for timestamp"]),
    (OutcomeClass::SeriesLimit, &["series limit", "max-series-per", "max series"]),
];

/// What a target without native histograms says when it refuses one (Prometheus answers 500).
const NATIVE_OFF: &str = "native histograms are disabled";

/// The fix for a target that refuses (or silently drops) native histograms.
pub const ENABLE_NATIVE: &str =
    "enable native histograms on the target (Prometheus: --enable-feature=native-histograms; Mimir: the tenant limit native_histograms_ingestion_enabled) or drop the native_histogram families";

pub fn classify(status: StatusCode, body: &[u8]) -> OutcomeClass {
    // Refused for good whatever the status (Prometheus says it with a 500): not worth a retry.
    if !status.is_success() && String::from_utf8_lossy(&body[..body.len().min(4096)]).to_ascii_lowercase().contains(NATIVE_OFF) {
        return OutcomeClass::BadRequest;
    }
    match status.as_u16() {
        200..=299 => OutcomeClass::Success,
        s @ 400..=499 if !matches!(s, 401 | 403 | 429) => {
            let text = String::from_utf8_lossy(&body[..body.len().min(4096)]).to_ascii_lowercase();
            MARKERS.iter().find(|(_, words)| words.iter().any(|w| text.contains(w))).map_or(OutcomeClass::BadRequest, |(class, _)| *class)
        }
        s => OutcomeClass::from_http_failure(s),
    }
}

/// The written-count headers of a remote-write 2.0 answer: samples, histograms, exemplars.
pub fn written_counts(headers: &http::HeaderMap) -> Option<(u64, u64, u64)> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    Some((
        get("x-prometheus-remote-write-samples-written")?,
        get("x-prometheus-remote-write-histograms-written").unwrap_or(0),
        get("x-prometheus-remote-write-exemplars-written").unwrap_or(0),
    ))
}

/// What a remote-write 2.0 answer to a request of `floats` samples and `histograms` native
/// histograms means, and in words when it is not plain.
pub fn classify_v2(answer: &crate::client::http::Answer, floats: u64, histograms: u64) -> (OutcomeClass, Option<String>) {
    let status = answer.status.as_u16();
    if status == 415 {
        return (OutcomeClass::BadRequest, Some(format!("{}: {NOT_V2}", in_words(answer))));
    }
    let class = classify(answer.status, &answer.body);
    if !class.is_success() {
        return (class, None);
    }
    match written_counts(&answer.headers) {
        None => (OutcomeClass::BadResponse, Some(format!("HTTP {status} without written-count headers: {READ_AS_V1}"))),
        Some((f, h, _)) if f < floats || h < histograms => (
            OutcomeClass::PartialWrite,
            Some(format!("HTTP {status}: written {f} samples and {h} histograms of {floats} and {histograms} sent (X-Prometheus-Remote-Write-*-Written)")),
        ),
        Some(_) => (OutcomeClass::Success, None),
    }
}

/// A 415 to a remote-write 2.0 request.
pub const NOT_V2: &str = "this receiver does not speak remote-write 2.0; enable it (Mimir and Cortex: -distributor.remote-writev2-enabled=true; Prometheus 3.x) or use protocol = \"rw1\"";
/// A 2xx without the written-count headers every 2.0 receiver sends.
pub const READ_AS_V1: &str =
    "the receiver read the 2.0 request as 1.0 and stored nothing (Prometheus before 2.54 does); use protocol = \"rw1\" or a receiver that speaks 2.0";

/// An answer as an example shows it: the status and the start of its body.
pub fn in_words(answer: &crate::client::http::Answer) -> String {
    let body = String::from_utf8_lossy(&answer.body[..answer.body.len().min(200)]).trim().replace('\n', " ");
    if body.is_empty() {
        format!("HTTP {} (empty body)", answer.status.as_u16())
    } else if body.to_ascii_lowercase().contains(NATIVE_OFF) {
        format!("HTTP {}: {body}: {ENABLE_NATIVE}", answer.status.as_u16())
    } else {
        format!("HTTP {}: {body}", answer.status.as_u16())
    }
}

/// The wait a `Retry-After` header asks for (seconds or an HTTP date), if any.
pub fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let v = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(when.duration_since(std::time::SystemTime::now()).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = http::HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", "3".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn prometheus_wording_is_classified_like_cortex() {
        let c = |b: &str| classify(StatusCode::BAD_REQUEST, b.as_bytes());
        assert_eq!(c("out of order sample"), OutcomeClass::OutOfOrder);
        assert_eq!(c("out of bounds"), OutcomeClass::TooOld);
        assert_eq!(c("duplicate sample for timestamp"), OutcomeClass::Duplicate);
        assert_eq!(c("err-mimir-max-series-per-user"), OutcomeClass::SeriesLimit);
        assert_eq!(classify(StatusCode::NO_CONTENT, b""), OutcomeClass::Success);
        assert_eq!(classify(StatusCode::MOVED_PERMANENTLY, b""), OutcomeClass::BadResponse);
    }
}
