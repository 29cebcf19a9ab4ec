//! Prometheus remote-write 1.0 load at a Mimir-compatible target: protobuf + snappy over HTTP.
//! `series` says what is written, `payload` builds the request, `classify` reads the answers,
//! `queue` sends as Prometheus's queue manager does (`[mimir.write.queue]`), and this file is the
//! direct service: the `Workload` that sends one request per tick through the target client.

pub mod classify;
pub mod families;
pub mod otlp;
pub mod payload;
pub mod proto;
pub mod queue;
pub mod series;

use super::readback::WrittenSample;
use crate::client::http::HttpTarget;
use crate::engine::readback::Feed;
use crate::stats::{OutcomeClass, PathId};
use crate::targets::mimir::config::WriteProtocol;
use crate::workload::{CallOutcome, RunClock, Ticket, Workload};
use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE};
use http::{Method, Uri};
use payload::PayloadBuilder;
use series::SeriesSet;
use std::sync::Arc;
use std::time::Duration;

/// Headers of every remote-write 1.0 request.
pub fn protocol_headers() -> HeaderMap {
    headers_for(WriteProtocol::Rw1)
}

/// Headers of a request of `protocol`: remote-write 2.0 names its message in the content type.
pub fn headers_for(protocol: WriteProtocol) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(CONTENT_ENCODING, HeaderValue::from_static("snappy"));
    match protocol {
        WriteProtocol::Rw2 => {
            h.insert(CONTENT_TYPE, HeaderValue::from_static("application/x-protobuf;proto=io.prometheus.write.v2.Request"));
            h.insert("x-prometheus-remote-write-version", HeaderValue::from_static("2.0.0"));
        }
        _ => {
            h.insert(CONTENT_TYPE, HeaderValue::from_static("application/x-protobuf"));
            h.insert("x-prometheus-remote-write-version", HeaderValue::from_static("0.1.0"));
        }
    }
    h
}

/// An answer's class and words, for a request of `protocol` that carried `built`.
pub fn judge(protocol: WriteProtocol, answer: &crate::client::http::Answer, built: &payload::BuiltRequest) -> (OutcomeClass, String) {
    if protocol == WriteProtocol::Rw2 {
        if let (class, Some(words)) = classify::classify_v2(answer, built.samples - built.histograms, built.histograms) {
            return (class, words);
        }
        let (class, _) = classify::classify_v2(answer, built.samples - built.histograms, built.histograms);
        return (class, classify::in_words(answer));
    }
    (classify::classify(answer.status, &answer.body), classify::in_words(answer))
}

pub struct RemoteWrite {
    pub target: HttpTarget,
    pub uri: Uri,
    pub series: Arc<SeriesSet>,
    pub path: PathId,
    pub clock: RunClock,
    pub connections: usize,
    /// Longest `Retry-After` honoured; a longer one is counted as rate limited without a retry.
    pub max_retry_wait: Duration,
    pub max_retries: u64,
    pub visibility: Option<Feed<WrittenSample>>,
    /// Every this many requests carries the families' metadata (once a minute at the planned rate).
    pub metadata_every: u64,
    pub protocol: WriteProtocol,
    headers: HeaderMap,
}

pub struct WriterState {
    builder: PayloadBuilder,
    pool: usize,
}

impl RemoteWrite {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        target: HttpTarget,
        uri: Uri,
        series: Arc<SeriesSet>,
        path: PathId,
        clock: RunClock,
        connections: usize,
        max_retry_wait: Duration,
        visibility: Option<Feed<WrittenSample>>,
    ) -> RemoteWrite {
        RemoteWrite {
            target,
            uri,
            series,
            path,
            clock,
            connections,
            max_retry_wait,
            max_retries: 2,
            visibility,
            metadata_every: 1,
            protocol: WriteProtocol::Rw1,
            headers: protocol_headers(),
        }
    }

    /// The same, speaking `protocol`.
    pub fn speaking(mut self, protocol: WriteProtocol) -> RemoteWrite {
        self.protocol = protocol;
        self.headers = headers_for(protocol);
        self
    }
}

impl Workload for RemoteWrite {
    type State = WriterState;

    fn path_of(&self, _: &Ticket) -> PathId {
        self.path
    }

    fn new_state(&self, worker: usize) -> WriterState {
        WriterState {
            builder: PayloadBuilder::speaking(self.series.clone(), self.protocol).created_at(self.clock.start_unix_ms),
            pool: worker % self.connections.max(1),
        }
    }

    async fn call(&self, state: &mut WriterState, ticket: Ticket) -> CallOutcome {
        let timestamp_ms = self.clock.unix_ms(ticket.intended);
        let metadata = ticket.seq % self.metadata_every.max(1) == 0;
        let (body, built) = state.builder.build(ticket.seq, timestamp_ms, self.clock.offset_ms(ticket.intended), metadata);
        let body = Bytes::copy_from_slice(body);
        let mut retries = 0;
        loop {
            let sent_at = tokio::time::Instant::now();
            let (class, answer) = match self.target.send(state.pool, Method::POST, &self.uri, &self.headers, body.clone()).await {
                Ok(answer) => {
                    let (class, words) = judge(self.protocol, &answer, &built);
                    if class == OutcomeClass::RateLimited && retries < self.max_retries {
                        if let Some(wait) = classify::retry_after(&answer.headers).filter(|w| *w <= self.max_retry_wait) {
                            retries += 1;
                            tokio::time::sleep(wait).await;
                            continue;
                        }
                    }
                    (class, words)
                }
                Err(e) => (e.class(), e.to_string()),
            };
            if class.is_success() && ticket.measured {
                self.offer_for_read_back(ticket.seq, timestamp_ms);
            }
            let first = self.series.series_in_request(ticket.seq, 0);
            let key = || {
                format!(
                    "request {} ({} samples), first {}",
                    ticket.seq,
                    built.samples,
                    self.series.selector(first, self.series.series_id(first, self.clock.offset_ms(ticket.intended)))
                )
            };
            return CallOutcome { path: self.path, class, sent_at, items: built.samples, retries, rejected: 0, detail: None, parts: vec![] }
                .with_detail(key, || answer);
        }
    }
}

impl RemoteWrite {
    /// Hands the first series of every `sample_every`-th acknowledged request to the read-back checker.
    fn offer_for_read_back(&self, seq: u64, timestamp_ms: i64) {
        let Some(feed) = &self.visibility else { return };
        if !feed.wants(seq) {
            return;
        }
        let index = self.series.series_in_request(seq, 0);
        let id = self.series.series_id(index, (timestamp_ms - self.clock.start_unix_ms).max(0) as u64);
        feed.offer(WrittenSample {
            selector: self.series.read_back_query(index, id),
            timestamp_ms,
            value: self.series.value(seq, index),
            acked: tokio::time::Instant::now(),
        });
    }
}
