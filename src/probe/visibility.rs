//! Read-after-write: acknowledged samples are read back through PromQL until the written value
//! shows; the time from acknowledgement to the first correct read is its own histogram, and a
//! sample not seen within the deadline is counted as lost.

use super::promql::{classify_query, PromApi};
use crate::exec::worker::WorkerContext;
use crate::stats::recorder::Measurement;
use crate::stats::{OutcomeClass, PathId, Recorder};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// One acknowledged sample to read back.
#[derive(Clone, Debug)]
pub struct WrittenSample {
    pub selector: String,
    pub timestamp_ms: i64,
    pub value: f64,
    pub acked: Instant,
}

/// The writers' end: offers never block the hot path; offers beyond the queue are counted.
#[derive(Clone)]
pub struct VisibilityFeed {
    tx: mpsc::Sender<WrittenSample>,
    pub sample_every: u64,
    dropped: Arc<AtomicU64>,
}

impl VisibilityFeed {
    pub fn offer(&self, sample: WrittenSample) {
        if self.tx.try_send(sample).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct CheckerSettings {
    pub poll_interval: Duration,
    pub deadline: Duration,
    pub concurrency: usize,
}

pub struct Checker {
    api: PromApi,
    rx: mpsc::Receiver<WrittenSample>,
    settings: CheckerSettings,
    path: PathId,
    dropped: Arc<AtomicU64>,
}

/// A feed for the writers and the checker that consumes it.
pub fn channel(api: PromApi, settings: CheckerSettings, sample_every: u64, path: PathId) -> (VisibilityFeed, Checker) {
    let (tx, rx) = mpsc::channel(4096);
    let dropped = Arc::new(AtomicU64::new(0));
    let feed = VisibilityFeed { tx, sample_every: sample_every.max(1), dropped: dropped.clone() };
    (feed, Checker { api, rx, settings, path, dropped })
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

impl Checker {
    /// Runs until every offered sample is resolved and the writers are gone, or until cancelled.
    pub async fn run(mut self, ctx: WorkerContext) {
        let mut recorder = Recorder::default();
        let mut checks: JoinSet<Option<Measurement>> = JoinSet::new();
        let mut feed_open = true;
        let mut next_flush = Instant::now() + ctx.flush_every;
        loop {
            tokio::select! {
                biased;
                _ = ctx.cancel.cancelled() => {
                    recorder.path_mut(self.path).abandoned += checks.len() as u64;
                    checks.abort_all();
                    break;
                }
                Some(done) = checks.join_next(), if !checks.is_empty() => {
                    if let Ok(Some(m)) = done {
                        recorder.record(self.path, m);
                    }
                    if Instant::now() >= next_flush {
                        let _ = ctx.deltas.send(std::mem::take(&mut recorder));
                        next_flush = Instant::now() + ctx.flush_every;
                    }
                }
                sample = self.rx.recv(), if feed_open && checks.len() < self.settings.concurrency => match sample {
                    Some(sample) => {
                        checks.spawn(check_one(self.api.clone(), sample, self.settings, checks.len()));
                    }
                    None => feed_open = false,
                },
                else => break,
            }
            if !feed_open && checks.is_empty() {
                break;
            }
        }
        recorder.path_mut(self.path).skipped += self.dropped.load(Ordering::Relaxed);
        let _ = ctx.deltas.send(recorder);
    }
}

async fn check_one(api: PromApi, sample: WrittenSample, settings: CheckerSettings, pool: usize) -> Option<Measurement> {
    let at = sample.timestamp_ms as f64 / 1000.0;
    loop {
        let asked = Instant::now();
        if let Ok(answer) = api.instant(pool, &sample.selector, at).await {
            if classify_query(&answer).0.is_success() && answer_shows(&answer.body, sample.value) {
                let now = Instant::now();
                return Some(Measurement {
                    class: OutcomeClass::Success,
                    latency: now - sample.acked,
                    service: now - asked,
                    items: 1,
                    late: false,
                    retries: 0,
                });
            }
        }
        if sample.acked.elapsed() >= settings.deadline {
            return Some(Measurement {
                class: OutcomeClass::Lost,
                latency: settings.deadline,
                service: Duration::ZERO,
                items: 1,
                late: false,
                retries: 0,
            });
        }
        tokio::time::sleep(settings.poll_interval).await;
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
