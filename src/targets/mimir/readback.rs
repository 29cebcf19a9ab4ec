//! Mimir's read-after-write: one series of a sampled acknowledged write is read back with an instant
//! query at the sample's timestamp until the written value shows, or the deadline passes (lost).

use crate::client::promql::{classify_query, PromApi};
use crate::engine::readback::{poll_until_visible, resolved_on, ReadBack, Resolved};
use crate::stats::PathId;
use crate::workload::Detail;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// One acknowledged sample to read back through PromQL.
#[derive(Clone, Debug)]
pub struct WrittenSample {
    pub selector: String,
    pub timestamp_ms: i64,
    pub value: f64,
    pub acked: Instant,
}

/// Metrics read-back: an instant query at the sample's timestamp must return the written value.
pub struct PromReadBack {
    pub api: PromApi,
    pub poll_interval: Duration,
    pub deadline: Duration,
    pub path: PathId,
}

/// Does this query answer carry the written value?
pub fn answer_shows(body: &[u8], value: f64) -> bool {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) else { return false };
    json["data"]["result"].as_array().is_some_and(|series| series.iter().any(|s| s["value"][1].as_str().and_then(|v| v.parse::<f64>().ok()) == Some(value)))
}

impl ReadBack for PromReadBack {
    type Sample = WrittenSample;

    async fn check(self: Arc<Self>, sample: WrittenSample) -> Vec<Resolved> {
        let at = sample.timestamp_ms as f64 / 1000.0;
        let visible = || async {
            match self.api.instant(0, &sample.selector, at).await {
                Ok(answer) => classify_query(&answer).0.is_success() && answer_shows(&answer.body, sample.value),
                Err(_) => false,
            }
        };
        let m = poll_until_visible(sample.acked, self.deadline, self.poll_interval, visible).await;
        vec![resolved_on(self.path, m, || Detail {
            key: format!("{} = {} at {}", sample.selector, sample.value, crate::units::rfc3339_ms(sample.timestamp_ms)),
            answer: format!(
                "acknowledged 2xx but not read back with its value within {}{}",
                crate::units::fmt_micros(self.deadline.as_micros() as u64),
                if sample.selector.starts_with("histogram_count(") {
                    format!(": native histograms may be disabled on the target, which then drops them silently; {}", super::write::classify::ENABLE_NATIVE)
                } else {
                    String::new()
                }
            ),
        })]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_written_value_counts_as_visible() {
        let body = br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1795629821,"1.5"]}]}}"#;
        assert!(answer_shows(body, 1.5));
        assert!(!answer_shows(body, 3.0));
        assert!(!answer_shows(br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#, 1.5));
        assert!(!answer_shows(b"garbage", 1.5));
    }
}
