//! OTLP trace load at Tempo: gRPC (tonic) or OTLP/HTTP. `shape` says what a trace looks like,
//! `payload` patches a pre-encoded template per request, `transport` sends it, `classify` reads
//! the answers; this file is the service: the `Workload` tying them together, and the ledger of
//! acknowledged Exports that queries and read-back draw on.

pub(crate) mod classify;
pub mod ledger;
pub mod payload;
pub mod shape;
pub mod transport;

use crate::engine::readback::Feed;
use crate::stats::{OutcomeClass, PathId};
use crate::workload::{CallOutcome, RunClock, Ticket, Workload};
use bytes::Bytes;
pub use ledger::AckLedger;
use payload::{Mix, PayloadBuilder};
use shape::IdSource;
use std::sync::Arc;
use transport::{GrpcExporter, HttpExporter};

/// A written trace to read back.
#[derive(Clone, Debug)]
pub struct TraceSample {
    pub trace_id: String,
    pub tag: String,
    pub acked: tokio::time::Instant,
    /// When the trace ended (unix seconds), for the search window.
    pub end_unix_s: u64,
    /// The trace's shape in the mix (what a whole trace holds).
    pub variant: usize,
}

pub enum Exporter {
    Grpc(GrpcExporter),
    Http(HttpExporter),
}

pub struct OtlpWrite {
    pub exporter: Exporter,
    pub mix: Arc<Mix>,
    pub ids: IdSource,
    pub path: PathId,
    pub clock: RunClock,
    pub connections: usize,
    pub ledger: Arc<AckLedger>,
    pub visibility: Option<Feed<TraceSample>>,
}

pub struct ExportState {
    /// One per variant of the mix.
    builders: Vec<PayloadBuilder>,
    pool: usize,
}

impl OtlpWrite {
    /// Unix ns of an instant on the run's clock.
    fn unix_ns(&self, at: tokio::time::Instant) -> u64 {
        self.clock.start_unix_ms as u64 * 1_000_000 + at.saturating_duration_since(self.clock.start).as_nanos() as u64
    }
}

impl Workload for OtlpWrite {
    type State = ExportState;

    fn path_of(&self, _: &Ticket) -> PathId {
        self.path
    }

    fn new_state(&self, worker: usize) -> ExportState {
        ExportState { builders: self.mix.builders(self.ids), pool: worker % self.connections.max(1) }
    }

    async fn call(&self, state: &mut ExportState, ticket: Ticket) -> CallOutcome {
        let end_ns = self.unix_ns(ticket.intended);
        let variant = self.mix.variant_of(ticket.seq);
        let builder = &mut state.builders[variant];
        let spans = builder.spans_per_request() as u64;
        let sent_at = tokio::time::Instant::now();
        let (class, rejected) = match &self.exporter {
            Exporter::Grpc(g) => {
                let body = Bytes::copy_from_slice(builder.build(ticket.seq, end_ns));
                match g.export(state.pool, body).await {
                    Ok(resp) => classify::classify_response(&resp),
                    Err(status) => (classify::classify_status(status.code(), status.message()), 0),
                }
            }
            Exporter::Http(h) => match h.export(state.pool, builder.build(ticket.seq, end_ns)).await {
                Ok(answer) => classify::classify_http(answer.status.as_u16(), &answer.body),
                Err(e) => (e.class(), 0),
            },
        };
        if matches!(class, OutcomeClass::Success | OutcomeClass::PartialSuccess) {
            self.ledger.ack(ticket.seq, tokio::time::Instant::now());
            if class.is_success() && ticket.measured {
                self.offer_for_read_back(builder, variant, ticket.seq, end_ns);
            }
        }
        CallOutcome { path: self.path, class, sent_at, items: spans, retries: 0, rejected, detail: None, parts: vec![] }
    }
}

impl OtlpWrite {
    fn offer_for_read_back(&self, builder: &PayloadBuilder, variant: usize, seq: u64, end_ns: u64) {
        let Some(feed) = &self.visibility else { return };
        if !feed.wants(seq) {
            return;
        }
        let t = builder.trace_index(seq, 0);
        feed.offer(TraceSample {
            trace_id: shape::hex(&self.ids.trace_id(t)),
            tag: shape::trace_tag(t),
            acked: tokio::time::Instant::now(),
            end_unix_s: end_ns / 1_000_000_000,
            variant,
        });
    }
}
