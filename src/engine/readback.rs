//! Read-after-write, for any target. Writers offer a sample of acknowledged writes through a `Feed`;
//! a `Checker` reads each back (concurrently, up to a bound) with the target's `ReadBack` until it
//! shows or its deadline passes (`poll_until_visible`), and records the time from acknowledgement
//! to the first correct read, or `lost`. A lost read-back comes with an example (what was written
//! and how long it was looked for), as failed calls do.

use super::worker::{IntervalFlush, WorkerContext};
use crate::stats::recorder::{Example, Measurement};
use crate::stats::{OutcomeClass, PathId, Recorder};
use crate::workload::Detail;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// One resolved read-back: the path, its measurement and, when it failed, what was looked for.
pub type Resolved = (PathId, Measurement, Option<Detail>);

/// Reads one written thing back until it is visible or lost.
pub trait ReadBack: Send + Sync + 'static {
    type Sample: Send + 'static;
    /// What to record, under which path, once the sample is resolved.
    fn check(self: Arc<Self>, sample: Self::Sample) -> impl Future<Output = Vec<Resolved>> + Send;
}

/// `m` on `path`, with `detail` kept only when it failed.
pub fn resolved_on(path: PathId, m: Measurement, detail: impl FnOnce() -> Detail) -> Resolved {
    let detail = (!m.class.is_answered()).then(detail);
    (path, m, detail)
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
    Measurement { class, latency, service, items: 1, late: false, lateness: None, retries: 0, rejected: 0 }
}

/// The one read-back loop: asks `attempt` every `poll_interval` until it answers true (success, timed
/// from `acked`, service time of the successful attempt) or `deadline` after `acked` has passed (lost).
pub async fn poll_until_visible<F, Fut>(acked: Instant, deadline: Duration, poll_interval: Duration, mut attempt: F) -> Measurement
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    loop {
        let asked = Instant::now();
        if attempt().await {
            let now = Instant::now();
            return resolved(OutcomeClass::Success, now - acked, now - asked);
        }
        if acked.elapsed() >= deadline {
            return resolved(OutcomeClass::Lost, deadline, Duration::ZERO);
        }
        tokio::time::sleep(poll_interval).await;
    }
}

impl<R: ReadBack> Checker<R> {
    /// Runs until every offered sample is resolved and the writers are gone, or until cancelled.
    pub async fn run(mut self, ctx: WorkerContext) {
        let mut recorder = Recorder::default();
        let mut checks: JoinSet<Vec<Resolved>> = JoinSet::new();
        let mut feed_open = true;
        let mut flush = IntervalFlush::new(&ctx);
        loop {
            tokio::select! {
                biased;
                _ = ctx.cancel.cancelled() => {
                    flush.before(&ctx, &mut recorder, Instant::now());
                    recorder.path_mut(self.skip_path).counters.abandoned += checks.len() as u64;
                    checks.abort_all();
                    break;
                }
                Some(done) = checks.join_next(), if !checks.is_empty() => {
                    let now = Instant::now();
                    flush.before(&ctx, &mut recorder, now);
                    let at_s = now.saturating_duration_since(ctx.plan_start).as_secs_f64();
                    for (path, m, detail) in done.unwrap_or_default() {
                        recorder.record(path, m);
                        if let Some(d) = detail {
                            recorder.path_mut(path).keep_example(Example { class: m.class.as_str().into(), key: d.key, answer: d.answer, at_s });
                        }
                    }
                    flush.after(&ctx, &mut recorder, now);
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
        let dropped = self.dropped.load(Ordering::Relaxed);
        if dropped > 0 {
            flush.before(&ctx, &mut recorder, Instant::now());
            recorder.path_mut(self.skip_path).counters.skipped += dropped;
        }
        flush.flush(&ctx, &mut recorder);
    }
}
