//! The canary's long-horizon read-back for Mimir: the sample a run wrote at any instant follows
//! from its scenario (series model, rate, warm-up), seed, run id and clock start, exactly as it was
//! written (the first series of the scrape tick at or before that instant, its value and
//! timestamp), so it is rebuilt and asked for with an instant query at its own timestamp, however
//! old. Found with its value, or lost. Remote-write 1.0 and 2.0 (OTLP stamps its own times: not
//! re-read).

use super::readback::answer_shows;
use super::write::series::SeriesSet;
use crate::client::promql::{classify_query, PromApi};
use crate::engine::reread::{Outcome, Reading, ReadingFuture, Reread, Writes};

pub struct MimirReread {
    pub api: PromApi,
    pub series: SeriesSet,
    pub writes: Writes,
}

impl Reread for MimirReread {
    fn target(&self) -> &'static str {
        "mimir"
    }

    fn check(&self, at_unix_ms: i64) -> ReadingFuture<'_> {
        Box::pin(async move {
            let (seq, timestamp_ms) = self.writes.request_at(at_unix_ms)?;
            let offset_ms = timestamp_ms - self.writes.written.start_unix_ms;
            let index = self.series.series_in_request(seq, 0);
            let selector = self.series.read_back_query(index, self.series.series_id(index, offset_ms as u64));
            let value = self.series.value(seq, index);
            let what = format!("{selector} = {value} at {}", crate::units::rfc3339_ms(timestamp_ms));
            let outcome = match self.api.instant(0, &selector, timestamp_ms as f64 / 1000.0).await {
                Ok(answer) if classify_query(&answer).0.is_success() => {
                    if answer_shows(&answer.body, value) {
                        Outcome::Found
                    } else {
                        Outcome::Lost
                    }
                }
                _ => Outcome::Unanswered,
            };
            Some(Reading { outcome, what })
        })
    }
}
