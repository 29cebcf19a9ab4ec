//! One shard of the remote-write queue: it owns the series hashed to it, gathers their samples in
//! the order they were scraped, and sends one request at a time: a full batch at once, a partial
//! one `batch_send_deadline` after its last send. Retries block the shard, so no later sample of
//! its series can overtake an earlier one. It records each attempt (`<target>.write`), each sample's
//! way from its scrape to its acknowledgement (`<target>.delivery`) and the samples retried,
//! refused and dropped (`<target>.queue`).

use super::policy::{decide, Backoff, Decision};
use super::{Chunk, QueuedSample, Shared};
use crate::engine::worker::{IntervalFlush, WorkerContext};
use crate::stats::recorder::{Example, Measurement};
use crate::stats::{OutcomeClass, Recorder};
use crate::targets::mimir::readback::WrittenSample;
use crate::targets::mimir::write::classify;
use crate::targets::mimir::write::payload::PayloadBuilder;
use bytes::Bytes;
use http::Method;
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::Semaphore;
use tokio::time::{sleep, sleep_until, Instant};

/// A running shard: where the queue hands it samples and how many more it may take.
pub struct Shard {
    pub tx: tokio::sync::mpsc::UnboundedSender<Chunk>,
    pub permits: Arc<Semaphore>,
    pub task: tokio::task::JoinHandle<()>,
}

pub fn spawn(shared: Arc<Shared>, index: usize, ctx: WorkerContext) -> Shard {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let permits = Arc::new(Semaphore::new(shared.cfg.capacity));
    let sender = Sender {
        builder: PayloadBuilder::speaking(shared.series.clone(), shared.protocol).created_at(shared.clock.start_unix_ms),
        pool: index % shared.connections.max(1),
        recorder: Recorder::default(),
        flush: IntervalFlush::new(&ctx),
        permits: permits.clone(),
        shared,
        ctx,
        // Shard 0 carries the families' metadata, once a minute from its first send, as
        // Prometheus's metadata watcher sends it (`metadata_config.send_interval`).
        metadata_due: (index == 0).then(Instant::now),
    };
    Shard { tx, permits, task: tokio::spawn(sender.run(rx)) }
}

struct Sender {
    shared: Arc<Shared>,
    builder: PayloadBuilder,
    pool: usize,
    recorder: Recorder,
    flush: IntervalFlush,
    permits: Arc<Semaphore>,
    ctx: WorkerContext,
    metadata_due: Option<Instant>,
}

/// How often the families' metadata is sent.
const METADATA_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// A sample waiting in the shard, with when it reached it.
struct Waiting {
    sample: QueuedSample,
    arrived: Instant,
}

impl Sender {
    async fn run(mut self, mut rx: UnboundedReceiver<Chunk>) {
        let (max, deadline_after) = (self.shared.cfg.max_samples_per_send.max(1), self.shared.cfg.batch_send_deadline.get());
        let mut waiting: VecDeque<Waiting> = VecDeque::new();
        let mut last_send = Instant::now();
        let mut open = true;
        loop {
            // A full batch goes at once; at the end everything left goes, batch by batch.
            if waiting.len() >= max || (!open && !waiting.is_empty()) {
                let n = max.min(waiting.len());
                // Its content was complete when its last sample arrived (or now, at the end).
                let ready = if open { waiting[n - 1].arrived } else { Instant::now() };
                let batch = waiting.drain(..n).map(|w| w.sample).collect();
                if !self.deliver(batch, ready).await {
                    self.abandon(waiting.drain(..).map(|w| w.sample), &mut rx);
                    break;
                }
                last_send = Instant::now();
                continue;
            }
            if !open {
                break;
            }
            let deadline = last_send + deadline_after;
            tokio::select! {
                biased;
                _ = self.ctx.cancel.cancelled() => {
                    self.abandon(waiting.drain(..).map(|w| w.sample), &mut rx);
                    break;
                }
                chunk = rx.recv() => match chunk {
                    Some(c) => waiting.extend(c.samples.into_iter().map(|sample| Waiting { sample, arrived: c.enqueued_at })),
                    None => open = false,
                },
                _ = sleep_until(deadline) => {
                    if !waiting.is_empty() {
                        let batch = waiting.drain(..).map(|w| w.sample).collect();
                        if !self.deliver(batch, deadline).await {
                            self.abandon(std::iter::empty(), &mut rx);
                            break;
                        }
                    }
                    last_send = Instant::now();
                }
            }
        }
        self.flush.flush(&self.ctx, &mut self.recorder);
    }

    /// Sends one batch until it is delivered, refused or dropped; false when the run was stopped
    /// first (the batch is then counted as abandoned).
    async fn deliver(&mut self, mut batch: Vec<QueuedSample>, ready: Instant) -> bool {
        let sh = self.shared.clone();
        let cfg = &sh.cfg;
        let taken = batch.len();
        let measured = batch.iter().any(|s| s.measured);
        let mut backoff = Backoff::new(cfg.min_backoff.get(), cfg.max_backoff.get());
        let began = Instant::now();
        let mut finished = true;
        loop {
            self.drop_too_old(&mut batch);
            if batch.is_empty() {
                break;
            }
            let metadata = self.metadata_due.is_some_and(|d| Instant::now() >= d);
            if metadata {
                self.metadata_due = Some(Instant::now() + METADATA_EVERY);
            }
            let body = Bytes::copy_from_slice(self.builder.build_samples(batch.iter().map(|s| s.at), metadata));
            let sent_at = Instant::now();
            let answer = tokio::select! {
                biased;
                _ = self.ctx.cancel.cancelled() => { finished = false; break }
                a = sh.target.send(self.pool, Method::POST, &sh.uri, &sh.headers, body) => a,
            };
            let (class, retry_after, words) = match answer {
                Ok(a) => {
                    let (samples, histograms) = self.builder.counts();
                    let built = super::super::payload::BuiltRequest { samples, histograms, timestamp_ms: 0 };
                    let (class, words) = super::super::judge(sh.protocol, &a, &built);
                    (class, classify::retry_after(&a.headers), words)
                }
                Err(e) => (e.class(), None, e.to_string()),
            };
            let done = Instant::now();
            let decision = decide(class, cfg.retry_on_http_429);
            if measured {
                let retried = u64::from(decision == Decision::Retry);
                let attempt = Measurement {
                    class,
                    latency: done - ready,
                    service: done - sent_at,
                    items: batch.len() as u64,
                    late: false,
                    lateness: None,
                    retries: retried,
                    rejected: 0,
                };
                self.flush.before(&self.ctx, &mut self.recorder, done);
                self.recorder.record(sh.paths.write, attempt);
                if !class.is_success() {
                    let first = batch[0].at;
                    let key = format!(
                        "a batch of {} samples, first {}",
                        batch.len(),
                        sh.series.selector(first.index, sh.series.series_id(first.index, first.offset_ms))
                    );
                    let at_s = done.saturating_duration_since(self.ctx.plan_start).as_secs_f64();
                    let then = if decision == Decision::Retry { " (retried)" } else { " (refused for good)" };
                    self.recorder.path_mut(sh.paths.write).keep_example(Example { class: class.as_str().into(), key, answer: format!("{words}{then}"), at_s });
                }
            }
            match decision {
                Decision::Delivered => {
                    self.delivered(&batch, done);
                    break;
                }
                Decision::Refused => {
                    let failed = batch.iter().filter(|s| s.measured).count() as u64;
                    self.recorder.record_items(sh.paths.delivery, class, Duration::ZERO, failed);
                    self.recorder.path_mut(sh.paths.queue).counters.samples_failed += failed;
                    break;
                }
                Decision::Retry => {
                    if measured {
                        self.recorder.path_mut(sh.paths.queue).counters.samples_retried += batch.len() as u64;
                    }
                    let wait = backoff.wait(retry_after);
                    tokio::select! {
                        biased;
                        _ = self.ctx.cancel.cancelled() => { finished = false; break }
                        _ = sleep(wait) => {}
                    }
                }
            }
        }
        sh.send_nanos.fetch_add(began.elapsed().as_nanos() as u64, Ordering::Relaxed);
        if finished {
            sh.samples_out.fetch_add(batch.len() as u64, Ordering::Relaxed);
        } else {
            self.flush.before(&self.ctx, &mut self.recorder, Instant::now());
            self.recorder.path_mut(sh.paths.delivery).counters.abandoned += batch.iter().filter(|s| s.measured).count() as u64;
        }
        self.release(taken);
        self.flush.after(&self.ctx, &mut self.recorder, Instant::now());
        finished
    }

    /// Acknowledged: each sample's way from its scrape to now, the newest timestamp sent, and now
    /// and then one sample for read-back.
    fn delivered(&mut self, batch: &[QueuedSample], done: Instant) {
        let sh = &self.shared;
        // Samples of one scrape tick sit together: record them as one run each.
        let mut i = 0;
        while i < batch.len() {
            let tick = batch[i].at.offset_ms;
            let run = batch[i..].iter().take_while(|s| s.at.offset_ms == tick).count();
            let measured = batch[i..i + run].iter().filter(|s| s.measured).count() as u64;
            let scraped = sh.clock.start + Duration::from_millis(tick);
            self.recorder.record_items(sh.paths.delivery, OutcomeClass::Success, done.saturating_duration_since(scraped), measured);
            i += run;
        }
        if let Some(newest) = batch.iter().map(|s| s.at.timestamp_ms).max() {
            sh.highest_sent_ms.fetch_max(newest, Ordering::Relaxed);
        }
        let Some(feed) = &sh.visibility else { return };
        let n = sh.batches_delivered.fetch_add(1, Ordering::Relaxed);
        if let Some(s) = batch.iter().find(|s| s.measured).filter(|_| feed.wants(n)) {
            let id = sh.series.series_id(s.at.index, s.at.offset_ms);
            feed.offer(WrittenSample {
                selector: sh.series.read_back_query(s.at.index, id),
                timestamp_ms: s.at.timestamp_ms,
                value: sh.series.value(s.at.seq, s.at.index),
                acked: done,
            });
        }
    }

    /// Drops the samples older than `sample_age_limit` (when set), counted as Prometheus does.
    fn drop_too_old(&mut self, batch: &mut Vec<QueuedSample>) {
        let limit = self.shared.cfg.sample_age_limit.get();
        if limit.is_zero() {
            return;
        }
        let cutoff = self.shared.clock.unix_ms(Instant::now()) - limit.as_millis() as i64;
        let before = batch.len();
        let measured_old = batch.iter().filter(|s| s.measured && s.at.timestamp_ms < cutoff).count() as u64;
        batch.retain(|s| s.at.timestamp_ms >= cutoff);
        let dropped = (before - batch.len()) as u64;
        if dropped > 0 {
            let sh = self.shared.clone();
            sh.samples_dropped.fetch_add(dropped, Ordering::Relaxed);
            self.flush.before(&self.ctx, &mut self.recorder, Instant::now());
            self.recorder.record_items(sh.paths.delivery, OutcomeClass::Dropped, Duration::ZERO, measured_old);
            self.recorder.path_mut(sh.paths.queue).counters.samples_dropped += measured_old;
        }
    }

    /// The run stopped with these samples unsent: counted as abandoned, their room given back.
    fn abandon(&mut self, samples: impl Iterator<Item = QueuedSample>, rx: &mut UnboundedReceiver<Chunk>) {
        let mut count = 0;
        let mut measured = 0;
        let mut count_one = |s: &QueuedSample| {
            count += 1;
            measured += u64::from(s.measured);
        };
        samples.for_each(|s| count_one(&s));
        while let Ok(chunk) = rx.try_recv() {
            chunk.samples.iter().for_each(&mut count_one);
        }
        self.flush.before(&self.ctx, &mut self.recorder, Instant::now());
        self.recorder.path_mut(self.shared.paths.delivery).counters.abandoned += measured;
        self.release(count);
    }

    fn release(&self, n: usize) {
        if n > 0 {
            self.permits.add_permits(n);
            self.shared.pending.fetch_sub(n as u64, Ordering::Relaxed);
        }
    }
}
