//! Tempo's read-after-write: the first trace of a sampled acknowledged Export is polled by ID until
//! the whole trace is there, then (optionally) by a TraceQL search on the run id and the trace's tag
//! until the search lists it. Two histograms: `tempo.visibility.by_id` and `.search`.

use super::otlp::shape::{RUN_ATTRIBUTE, TRACE_ATTRIBUTE};
use super::otlp::TraceSample;
use super::query::{judge, read_search, read_trace, ExpectedTrace, TempoApi};
use crate::engine::readback::{poll_until_visible, ReadBack};
use crate::stats::recorder::Measurement;
use crate::stats::PathId;
use std::sync::Arc;
use std::time::Duration;

pub struct TraceReadBack {
    pub api: TempoApi,
    pub expected: ExpectedTrace,
    pub poll_interval: Duration,
    pub deadline: Duration,
    pub by_id: PathId,
    pub search: Option<PathId>,
}

impl ReadBack for TraceReadBack {
    type Sample = TraceSample;

    async fn check(self: Arc<Self>, sample: TraceSample) -> Vec<(PathId, Measurement)> {
        let found_by_id = || async {
            match self.api.trace_by_id(0, &sample.trace_id).await {
                Ok(answer) => judge(&read_trace(&answer), &self.expected).is_success(),
                Err(_) => false,
            }
        };
        let mut out = vec![(self.by_id, poll_until_visible(sample.acked, self.deadline, self.poll_interval, found_by_id).await)];
        let Some(search_path) = self.search else { return out };
        let traceql = format!("{{ resource.{RUN_ATTRIBUTE} = \"{}\" && span.{TRACE_ATTRIBUTE} = \"{}\" }}", self.expected.run_id, sample.tag);
        let window = (sample.end_unix_s.saturating_sub(300), sample.end_unix_s + 300);
        let found_by_search = || async {
            match self.api.search(0, &traceql, window.0, window.1, 20).await {
                Ok(answer) => read_search(&answer).is_ok_and(|ids| ids.contains(&sample.trace_id)),
                Err(_) => false,
            }
        };
        out.push((search_path, poll_until_visible(sample.acked, self.deadline, self.poll_interval, found_by_search).await));
        out
    }
}
