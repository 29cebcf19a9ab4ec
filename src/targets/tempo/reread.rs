//! The canary's long-horizon read-back for Tempo: the trace a run wrote at any instant follows
//! from its scenario (trace shapes and their mix, rate, warm-up), seed, run id and clock start (the
//! first trace of the Export at or before that instant), so it is asked for by ID however old,
//! and judged whole against its own shape: found, lost (not found, or partial), or unanswered.

use super::otlp::payload::Mix;
use super::otlp::shape::{hex, IdSource};
use super::query::{judge, read_trace, ExpectedTrace, TempoApi};
use crate::engine::reread::{Outcome, Reading, ReadingFuture, Reread, Writes};
use crate::stats::OutcomeClass;

pub struct TempoReread {
    pub api: TempoApi,
    pub mix: Mix,
    pub ids: IdSource,
    pub expected: Vec<ExpectedTrace>,
    pub writes: Writes,
}

impl Reread for TempoReread {
    fn target(&self) -> &'static str {
        "tempo"
    }

    fn check(&self, at_unix_ms: i64) -> ReadingFuture<'_> {
        Box::pin(async move {
            let (seq, sent_ms) = self.writes.request_at(at_unix_ms)?;
            let id = hex(&self.ids.trace_id(seq * self.mix.stride()));
            let expected = &self.expected[self.mix.variant_of(seq)];
            let outcome = match self.api.trace_by_id(0, &id).await {
                Ok(answer) => match judge(&read_trace(&answer), expected) {
                    OutcomeClass::Success => Outcome::Found,
                    OutcomeClass::NotFound | OutcomeClass::PartialTrace => Outcome::Lost,
                    _ => Outcome::Unanswered,
                },
                Err(_) => Outcome::Unanswered,
            };
            Some(Reading { outcome, what: format!("trace {id} ({} spans) of the Export sent at {}", expected.spans, crate::units::rfc3339_ms(sent_ms)) })
        })
    }
}
