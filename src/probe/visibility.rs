//! Read-after-write. Writers offer a sample of acknowledged writes through a `Feed`; a `Checker`
//! reads each back (concurrently, up to a bound) with a `ReadBack` until it shows or its deadline
//! passes, and records the time from acknowledgement to the first correct read, or `lost`. The
//! metrics read-back (PromQL) lives here; the traces one in `probe/tempo.rs`.

use super::promql::{classify_query, PromApi};
use crate::exec::worker::WorkerContext;
use crate::stats::recorder::Measurement;
use crate::stats::{OutcomeClass, PathId, Recorder};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Reads one written thing back until it is visible or lost.
pub trait ReadBack: Send + Sync + 'static {
    type Sample: Send + 'static;
    /// What to record, under which path, once the sample is resolved.
    fn check(self: Arc<Self>, sample: Self::Sample) -> impl Future<Output = Vec<(PathId, Measurement)>> + Send;
}

/// The writers' end: offers never block the hot path; offers beyond the queue are counted.
pub struct Feed<T> {
    tx: mpsc::Sender<T>,
    sample_every: u64,
    dropped: Arc<AtomicU64>,
}

impl<T> Feed<T> {
    /// Whether the write with this sequence number is one to check.
    pub fn wants(&self, seq: u64) -> bool {
        seq % self.sample_every == 0
    }

    pub fn offer(&self, sample: T) {
        if self.tx.try_send(sample).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

pub struct Checker<R: ReadBack> {
    reader: Arc<R>,
    rx: mpsc::Receiver<R::Sample>,
    concurrency: usize,
    /// Where offers dropped at a full queue are counted (as skipped).
    skip_path: PathId,
    dropped: Arc<AtomicU64>,
}

pub fn channel<R: ReadBack>(reader: R, sample_every: u64, concurrency: usize, skip_path: PathId) -> (Feed<R::Sample>, Checker<R>) {
    let (tx, rx) = mpsc::channel(4096);
    let dropped = Arc::new(AtomicU64::new(0));
    let feed = Feed { tx, sample_every: sample_every.max(1), dropped: dropped.clone() };
    (feed, Checker { reader: Arc::new(reader), rx, concurrency: concurrency.max(1), skip_path, dropped })
}

/// A measurement at `latency` after the acknowledgement.
pub fn resolved(class: OutcomeClass, latency: Duration, service: Duration) -> Measurement {
    Measurement { class, latency, service, items: 1, late: false, retries: 0, rejected: 0 }
}

impl<R: ReadBack> Checker<R> {
    /// Runs until every offered sample is resolved and the writers are gone, or until cancelled.
    pub async fn run(mut self, ctx: WorkerContext) {
        let mut recorder = Recorder::default();
        let mut checks: JoinSet<Vec<(PathId, Measurement)>> = JoinSet::new();
        let mut feed_open = true;
        let mut next_flush = Instant::now() + ctx.flush_every;
        loop {
            tokio::select! {
                biased;
                _ = ctx.cancel.cancelled() => {
                    recorder.path_mut(self.skip_path).abandoned += checks.len() as u64;
                    checks.abort_all();
                    break;
                }
                Some(done) = checks.join_next(), if !checks.is_empty() => {
                    for (path, m) in done.unwrap_or_default() {
                        recorder.record(path, m);
                    }
                    if Instant::now() >= next_flush {
                        let _ = ctx.deltas.send(std::mem::take(&mut recorder));
                        next_flush = Instant::now() + ctx.flush_every;
                    }
                }
                sample = self.rx.recv(), if feed_open && checks.len() < self.concurrency => match sample {
                    Some(sample) => {
                        checks.spawn(self.reader.clone().check(sample));
                    }
                    None => feed_open = false,
                },
                else => break,
            }
            if !feed_open && checks.is_empty() {
                break;
            }
        }
        recorder.path_mut(self.skip_path).skipped += self.dropped.load(Ordering::Relaxed);
        let _ = ctx.deltas.send(recorder);
    }
}

/// One acknowledged sample to read back through PromQL.
#[derive(Clone, Debug)]
pub struct WrittenSample {
    pub selector: String,
    pub timestamp_ms: i64,
    pub value: f64,
    pub acked: Instant,
}

#[derive(Clone, Copy, Debug)]
pub struct CheckerSettings {
    pub poll_interval: Duration,
    pub deadline: Duration,
    pub concurrency: usize,
}

/// Metrics read-back: an instant query at the sample's timestamp must return the written value.
pub struct PromReadBack {
    pub api: PromApi,
    pub settings: CheckerSettings,
    pub path: PathId,
}

/// Does this query answer carry the written value?
pub fn answer_shows(body: &[u8], value: f64) -> bool {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) else { return false };
    json["data"]["result"].as_array().is_some_and(|series| {
        series
            .iter()
            .any(|s| s["value"][1].as_str().and_then(|v| v.parse::<f64>().ok()) == Some(value))
    })
}

impl ReadBack for PromReadBack {
    type Sample = WrittenSample;

    async fn check(self: Arc<Self>, sample: WrittenSample) -> Vec<(PathId, Measurement)> {
        let at = sample.timestamp_ms as f64 / 1000.0;
        loop {
            let asked = Instant::now();
            if let Ok(answer) = self.api.instant(0, &sample.selector, at).await {
                if classify_query(&answer).0.is_success() && answer_shows(&answer.body, sample.value) {
                    let now = Instant::now();
                    return vec![(self.path, resolved(OutcomeClass::Success, now - sample.acked, now - asked))];
                }
            }
            if sample.acked.elapsed() >= self.settings.deadline {
                return vec![(self.path, resolved(OutcomeClass::Lost, self.settings.deadline, Duration::ZERO))];
            }
            tokio::time::sleep(self.settings.poll_interval).await;
        }
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
