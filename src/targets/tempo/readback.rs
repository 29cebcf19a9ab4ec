//! Tempo's read-after-write: the first trace of a sampled acknowledged Export is polled by ID until
//! the whole trace is there, then (optionally) by a TraceQL search on the run id and the trace's tag
//! until the search lists it. Two histograms: `tempo.visibility.by_id` and `.search`.
//! And the recheck of trace-by-ID misses (`TraceRecheck`): an acknowledged trace a query did not
//! find is asked for again after each delay of `[tempo.recheck]`, and comes to `transient` (found
//! later, timed from the miss) or `lost` (still missing at the last ask).

use super::otlp::shape::{RUN_ATTRIBUTE, TRACE_ATTRIBUTE};
use super::otlp::TraceSample;
use super::query::{judge, read_search, read_trace, ExpectedTrace, Miss, TempoApi};
use crate::engine::readback::{poll_until_visible, resolved, resolved_on, ReadBack, Resolved};
use crate::stats::{OutcomeClass, PathId};
use crate::units::{fmt_micros, Dur};
use crate::workload::Detail;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

pub struct TraceReadBack {
    pub api: TempoApi,
    /// What a whole trace of each variant of the mix holds.
    pub expected: Vec<ExpectedTrace>,
    pub poll_interval: Duration,
    pub deadline: Duration,
    pub by_id: PathId,
    pub search: Option<PathId>,
}

impl ReadBack for TraceReadBack {
    type Sample = TraceSample;

    async fn check(self: Arc<Self>, sample: TraceSample) -> Vec<Resolved> {
        let expected = &self.expected[sample.variant];
        let found_by_id = || async {
            match self.api.trace_by_id(0, &sample.trace_id).await {
                Ok(answer) => judge(&read_trace(&answer), expected).is_success(),
                Err(_) => false,
            }
        };
        let looked_for = format!("not found whole within {}", fmt_micros(self.deadline.as_micros() as u64));
        let m = poll_until_visible(sample.acked, self.deadline, self.poll_interval, found_by_id).await;
        let mut out = vec![resolved_on(self.by_id, m, || Detail { key: format!("trace {}", sample.trace_id), answer: looked_for.clone() })];
        let Some(search_path) = self.search else { return out };
        let traceql = format!("{{ resource.{RUN_ATTRIBUTE} = \"{}\" && span.{TRACE_ATTRIBUTE} = \"{}\" }}", expected.run_id, sample.tag);
        let window = (sample.end_unix_s.saturating_sub(300), sample.end_unix_s + 300);
        let found_by_search = || async {
            match self.api.search(0, &traceql, window.0, window.1, 20).await {
                Ok(answer) => read_search(&answer).is_ok_and(|ids| ids.contains(&sample.trace_id)),
                Err(_) => false,
            }
        };
        let m = poll_until_visible(sample.acked, self.deadline, self.poll_interval, found_by_search).await;
        out.push(resolved_on(search_path, m, || Detail { key: format!("TraceQL `{traceql}` for trace {}", sample.trace_id), answer: looked_for }));
        out
    }
}

/// Asks for a missed trace again after each delay; found whole → `transient`, else `lost`.
pub struct TraceRecheck {
    pub api: TempoApi,
    /// What a whole trace of each variant of the mix holds.
    pub expected: Vec<ExpectedTrace>,
    pub after: Vec<Dur>,
}

impl ReadBack for TraceRecheck {
    type Sample = Miss;

    async fn check(self: Arc<Self>, miss: Miss) -> Vec<Resolved> {
        let mut answers = Vec::new();
        for delay in &self.after {
            tokio::time::sleep_until(miss.missed_at + delay.get()).await;
            let asked = Instant::now();
            let answer = self.api.trace_by_id(0, &miss.trace_id).await;
            let class = answer.as_ref().map_or_else(|e| e.class(), |a| judge(&read_trace(a), &self.expected[miss.variant]));
            if class.is_success() {
                let now = Instant::now();
                let m = resolved(OutcomeClass::Transient, now - miss.missed_at, now - asked);
                let detail = Detail {
                    key: format!("trace {} (acknowledged {} before the miss)", miss.trace_id, fmt_micros(miss.age.as_micros() as u64)),
                    answer: format!("not found at query time; found {delay} later{}", earlier(&answers)),
                };
                return vec![(miss.path, m, Some(detail))];
            }
            answers.push(format!("{delay} after: {}", class.as_str()));
        }
        let last = self.after.last().map_or(Duration::ZERO, |d| d.get());
        let detail = Detail {
            key: format!("trace {} (acknowledged {} before the miss)", miss.trace_id, fmt_micros(miss.age.as_micros() as u64)),
            answer: format!("not found at query time; asked again {}", answers.join(", ")),
        };
        vec![(miss.path, resolved(OutcomeClass::Lost, last, Duration::ZERO), Some(detail))]
    }
}

fn earlier(answers: &[String]) -> String {
    if answers.is_empty() {
        String::new()
    } else {
        format!(" (missing still {})", answers.join(", "))
    }
}
