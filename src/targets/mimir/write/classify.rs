//! What a remote-write answer means. Classified by status code and stable markers in the body
//! (Prometheus, Cortex and Mimir word their errors differently; Mimir adds `err-mimir-…` ids).

use crate::stats::OutcomeClass;
use http::StatusCode;
use std::time::Duration;

const MARKERS: &[(OutcomeClass, &[&str])] = &[
    (OutcomeClass::OutOfOrder, &["out of order", "out-of-order", "sample-out-of-order"]),
    (OutcomeClass::TooOld, &["out of bounds", "out-of-bounds", "too old", "timestamp-too-old", "too far in the past"]),
    (OutcomeClass::Duplicate, &["duplicate sample", "duplicate-timestamp", "new-value-for-timestamp", "new value for timestamp"]),
    (OutcomeClass::SeriesLimit, &["series limit", "max-series-per", "max series"]),
];

pub fn classify(status: StatusCode, body: &[u8]) -> OutcomeClass {
    match status.as_u16() {
        200..=299 => OutcomeClass::Success,
        s @ 400..=499 if !matches!(s, 401 | 403 | 429) => {
            let text = String::from_utf8_lossy(&body[..body.len().min(4096)]).to_ascii_lowercase();
            MARKERS.iter().find(|(_, words)| words.iter().any(|w| text.contains(w))).map_or(OutcomeClass::BadRequest, |(class, _)| *class)
        }
        s => OutcomeClass::from_http_failure(s),
    }
}

/// An answer as an example shows it: the status and the start of its body.
pub fn in_words(answer: &crate::client::http::Answer) -> String {
    let body = String::from_utf8_lossy(&answer.body[..answer.body.len().min(200)]).trim().replace('\n', " ");
    if body.is_empty() {
        format!("HTTP {} (empty body)", answer.status.as_u16())
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
