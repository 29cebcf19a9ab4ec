//! Remote-write the way Prometheus's queue manager sends it. The scrape ticks stay the open-loop
//! plan: each tick appends its samples to the queue's log at its scrape time, whatever the target
//! does (`mimir.queue`). The queue reads the log in order and hands every sample to the shard its
//! series hashes to; a shard holds at most `capacity` samples, and while it is full the log waits
//! (the remote-write lag grows, nothing is skipped). Each shard sends one request at a time
//! (`shard`), retrying as `policy` says; every 10 s the shard count follows `reshard`'s rule, the
//! old shards flushed before the new ones start, so a series' samples always leave in order.
//!
//! Its figures, as Prometheus operators read them: samples pending, shards, the lag of the newest
//! acknowledged sample behind the newest scraped, and samples retried, refused and dropped, per
//! results interval and for the run (the counters of `mimir.queue`).

pub mod policy;
pub mod reshard;
mod shard;

use super::payload::SampleRef;
use super::series::SeriesSet;
use crate::client::http::HttpTarget;
use crate::engine::launch::Launch;
use crate::engine::readback::Feed;
use crate::engine::worker::{IntervalFlush, WorkerContext};
use crate::stats::{OutcomeClass, PathId, Recorder};
use crate::targets::mimir::config::QueueSection;
use crate::targets::mimir::readback::WrittenSample;
use crate::workload::{CallOutcome, RunClock, Ticket, Workload};
use http::{HeaderMap, Uri};
use reshard::{desired, wanted, Ewma, Load, SHARD_UPDATE};
use shard::Shard;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The queue's own paths (its requests are `mimir.write`, as without a queue).
pub const QUEUE_PATH: &str = "mimir.queue";
pub const DELIVERY_PATH: &str = "mimir.delivery";

/// One sample in the queue and whether it was scraped in the measured part of the run.
#[derive(Clone, Copy, Debug)]
pub struct QueuedSample {
    pub at: SampleRef,
    pub measured: bool,
}

/// Samples handed to a shard at once, in scrape order.
pub struct Chunk {
    samples: Vec<QueuedSample>,
    enqueued_at: Instant,
}

/// The queue's three paths.
#[derive(Clone, Copy, Debug)]
pub struct QueuePaths {
    /// Scrape ticks appended (open loop) and the queue's own figures.
    pub queue: PathId,
    /// Every request the shards sent (each attempt).
    pub write: PathId,
    /// Every sample, from its scrape to its acknowledgement (or refusal, drop, abandonment).
    pub delivery: PathId,
}

/// What the queue's tasks share: the request's ends, the settings, and figures updated once per
/// tick or per batch (never per sample).
pub struct Shared {
    pub target: HttpTarget,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub protocol: crate::targets::mimir::config::WriteProtocol,
    pub connections: usize,
    pub series: Arc<SeriesSet>,
    pub clock: RunClock,
    pub cfg: QueueSection,
    pub paths: QueuePaths,
    pub visibility: Option<Feed<WrittenSample>>,
    pending: AtomicU64,
    /// The most samples pending since the watch last read it: a peak between two readings is
    /// not missed.
    pending_peak: AtomicU64,
    shards: AtomicU64,
    highest_scraped_ms: AtomicI64,
    highest_sent_ms: AtomicI64,
    samples_in: AtomicU64,
    samples_out: AtomicU64,
    samples_dropped: AtomicU64,
    send_nanos: AtomicU64,
    batches_delivered: AtomicU64,
    /// The most shards the resharding rule asked for (before `max_shards`).
    shards_wanted: AtomicU64,
}

impl Shared {
    /// The same, speaking `protocol`.
    pub fn speaking(mut self, protocol: crate::targets::mimir::config::WriteProtocol) -> Shared {
        self.protocol = protocol;
        self.headers = super::headers_for(protocol);
        self
    }

    #[allow(clippy::too_many_arguments)]
    pub fn new(
        target: HttpTarget,
        uri: Uri,
        connections: usize,
        series: Arc<SeriesSet>,
        clock: RunClock,
        cfg: QueueSection,
        paths: QueuePaths,
        visibility: Option<Feed<WrittenSample>>,
    ) -> Shared {
        Shared {
            target,
            uri,
            headers: super::protocol_headers(),
            protocol: Default::default(),
            connections,
            series,
            clock,
            cfg,
            paths,
            visibility,
            pending: AtomicU64::new(0),
            pending_peak: AtomicU64::new(0),
            shards: AtomicU64::new(0),
            highest_scraped_ms: AtomicI64::new(clock.start_unix_ms),
            highest_sent_ms: AtomicI64::new(clock.start_unix_ms),
            samples_in: AtomicU64::new(0),
            samples_out: AtomicU64::new(0),
            samples_dropped: AtomicU64::new(0),
            send_nanos: AtomicU64::new(0),
            batches_delivered: AtomicU64::new(0),
            shards_wanted: AtomicU64::new(0),
        }
    }

    /// Newest sample scraped minus newest acknowledged, in milliseconds.
    fn lag_ms(&self) -> u64 {
        (self.highest_scraped_ms.load(Ordering::Relaxed) - self.highest_sent_ms.load(Ordering::Relaxed)).max(0) as u64
    }
}

/// A scrape tick in the queue's log (what Prometheus's WAL holds for it).
struct Tick {
    seq: u64,
    timestamp_ms: i64,
    offset_ms: u64,
    measured: bool,
}

/// The open-loop side: each planned tick appends its samples to the log and returns at once.
struct Scrape {
    log: UnboundedSender<Tick>,
    shared: Arc<Shared>,
}

impl Workload for Scrape {
    type State = ();

    fn path_of(&self, _: &Ticket) -> PathId {
        self.shared.paths.queue
    }

    fn new_state(&self, _: usize) {}

    async fn call(&self, _: &mut (), ticket: Ticket) -> CallOutcome {
        let sh = &self.shared;
        let timestamp_ms = sh.clock.unix_ms(ticket.intended);
        let samples = sh.series.per_request.min(sh.series.active);
        sh.highest_scraped_ms.fetch_max(timestamp_ms, Ordering::Relaxed);
        sh.samples_in.fetch_add(samples, Ordering::Relaxed);
        let appended = self.log.send(Tick { seq: ticket.seq, timestamp_ms, offset_ms: sh.clock.offset_ms(ticket.intended), measured: ticket.measured });
        let class = if appended.is_ok() { OutcomeClass::Success } else { OutcomeClass::BadResponse };
        CallOutcome::plain(sh.paths.queue, class, Instant::now(), samples)
    }
}

/// Starts the queue: its scrape ticks at `rate` per second on the run's plan, the queue reading
/// the log into its shards, and the watch of its figures. The delivery path's plan is the samples the
/// measured ticks carry.
pub fn launch(l: &mut Launch, shared: Shared, rate: f64) {
    let shared = Arc::new(shared);
    let (log, log_rx) = tokio::sync::mpsc::unbounded_channel();
    let per_tick = shared.series.per_request.min(shared.series.active);
    let planned_ticks = l.schedule(rate).planned_measured_count();
    l.planned.insert(DELIVERY_PATH.into(), planned_ticks * per_tick);
    l.open_loop(Scrape { log, shared: shared.clone() }, rate, 2, QUEUE_PATH);
    let stop = l.worker_ctx.cancel.child_token();
    l.workers.push(tokio::spawn(manage(shared.clone(), log_rx, l.worker_ctx.clone(), stop.clone())));
    l.workers.push(tokio::spawn(watch(shared, l.worker_ctx.clone(), stop, l.measured_from)));
}

/// The queue manager: reads the log in order into the shards, reshards every 10 s, and at the end
/// lets the shards send what they hold.
async fn manage(shared: Arc<Shared>, mut log: UnboundedReceiver<Tick>, ctx: WorkerContext, stop: CancellationToken) {
    let mut shards: Vec<Shard> = start_shards(&shared, shared.cfg.min_shards.max(1), &ctx);
    let mut rates = Rates::default();
    let mut update = tokio::time::interval_at(Instant::now() + SHARD_UPDATE, SHARD_UPDATE);
    let mut recorder = Recorder::default();
    let mut flush = IntervalFlush::new(&ctx);
    loop {
        tokio::select! {
            biased;
            _ = ctx.cancel.cancelled() => break,
            _ = update.tick() => {
                if let Some(n) = rates.wanted(&shared, shards.len()) {
                    if !stop_shards(std::mem::take(&mut shards), &ctx).await {
                        break;
                    }
                    shards = start_shards(&shared, n, &ctx);
                    flush.before(&ctx, &mut recorder, Instant::now());
                    recorder.path_mut(shared.paths.queue).counters.queue_reshards += 1;
                }
            }
            tick = log.recv() => match tick {
                Some(t) => if !enqueue(&shared, &shards, t, &ctx).await { break },
                None => break,
            },
        }
    }
    // Ticks still in the log when the run was stopped never reached a shard.
    let mut unsent = 0;
    while let Ok(t) = log.try_recv() {
        unsent += if t.measured { shared.series.per_request.min(shared.series.active) } else { 0 };
    }
    if unsent > 0 {
        flush.before(&ctx, &mut recorder, Instant::now());
        recorder.path_mut(shared.paths.delivery).counters.abandoned += unsent;
    }
    stop_shards(shards, &ctx).await;
    stop.cancel();
    flush.flush(&ctx, &mut recorder);
}

fn start_shards(shared: &Arc<Shared>, n: usize, ctx: &WorkerContext) -> Vec<Shard> {
    shared.shards.store(n as u64, Ordering::Relaxed);
    (0..n).map(|i| shard::spawn(shared.clone(), i, ctx.clone())).collect()
}

/// Closes the shards and waits until each has sent (or, when the run is stopped, abandoned) what
/// it holds; false when the run was stopped meanwhile.
async fn stop_shards(shards: Vec<Shard>, ctx: &WorkerContext) -> bool {
    let tasks: Vec<_> = shards.into_iter().map(|s| s.task).collect();
    for task in tasks {
        let _ = task.await;
    }
    !ctx.cancel.is_cancelled()
}

/// Hands one tick's samples to their shards, waiting while a shard is full; false when the run
/// was stopped while waiting (the samples not handed over are counted as abandoned).
async fn enqueue(shared: &Shared, shards: &[Shard], tick: Tick, ctx: &WorkerContext) -> bool {
    let n = shards.len();
    let set = &shared.series;
    let mut staged: Vec<Vec<QueuedSample>> = (0..n).map(|_| Vec::new()).collect();
    for k in 0..set.per_request.min(set.active) {
        let index = set.series_in_request(tick.seq, k);
        let at = SampleRef { index, seq: tick.seq, timestamp_ms: tick.timestamp_ms, offset_ms: tick.offset_ms };
        staged[shard_of(index, n)].push(QueuedSample { at, measured: tick.measured });
    }
    let capacity = shared.cfg.capacity.max(1);
    for (shard, samples) in shards.iter().zip(staged) {
        let mut rest = samples;
        while !rest.is_empty() {
            let piece = if rest.len() > capacity { rest.drain(..capacity).collect() } else { std::mem::take(&mut rest) };
            let room = tokio::select! {
                biased;
                _ = ctx.cancel.cancelled() => return false,
                room = shard.permits.acquire_many(piece.len() as u32) => room,
            };
            // The shard gives the room back when the samples leave it.
            room.expect("the queue never closes its shards' semaphores").forget();
            let now = shared.pending.fetch_add(piece.len() as u64, Ordering::Relaxed) + piece.len() as u64;
            shared.pending_peak.fetch_max(now, Ordering::Relaxed);
            let _ = shard.tx.send(Chunk { samples: piece, enqueued_at: Instant::now() });
        }
    }
    true
}

/// The shard a series belongs to: a hash of its identity, so each series always goes through one
/// shard (for a given shard count).
fn shard_of(index: u64, shards: usize) -> usize {
    let mut x = index.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((x ^ (x >> 31)) % shards.max(1) as u64) as usize
}

/// The rates the resharding rule reads, from the queue's running totals.
#[derive(Default)]
struct Rates {
    samples_in: Ewma,
    samples_out: Ewma,
    dropped: Ewma,
    send_seconds: Ewma,
    last: [u64; 4],
}

impl Rates {
    /// Folds in the last update period and returns a new shard count when the rule wants one.
    fn wanted(&mut self, sh: &Shared, current: usize) -> Option<usize> {
        let now = [&sh.samples_in, &sh.samples_out, &sh.samples_dropped, &sh.send_nanos].map(|a| a.load(Ordering::Relaxed));
        let delta: Vec<f64> = now.iter().zip(self.last).map(|(n, l)| n.saturating_sub(l) as f64).collect();
        self.last = now;
        self.samples_in.tick(delta[0], SHARD_UPDATE);
        self.samples_out.tick(delta[1], SHARD_UPDATE);
        self.dropped.tick(delta[2], SHARD_UPDATE);
        self.send_seconds.tick(delta[3] / 1e9, SHARD_UPDATE);
        let load = Load {
            in_rate: self.samples_in.rate(),
            out_rate: self.samples_out.rate(),
            dropped_rate: self.dropped.rate(),
            send_seconds_rate: self.send_seconds.rate(),
            behind_s: sh.lag_ms() as f64 / 1000.0,
        };
        if let Some(w) = wanted(load) {
            sh.shards_wanted.fetch_max(w as u64, Ordering::Relaxed);
        }
        let n = desired(load, current, sh.cfg.min_shards, sh.cfg.max_shards);
        (n != current).then_some(n)
    }
}

/// Reads the queue's gauges four times an interval once measurement began: the most samples
/// pending since the last reading, shards running, lag. Ends with the queue.
async fn watch(shared: Arc<Shared>, ctx: WorkerContext, stop: CancellationToken, measured_from: Instant) {
    let every = (ctx.interval / 4).max(std::time::Duration::from_millis(25));
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut recorder = Recorder::default();
    let mut flush = IntervalFlush::new(&ctx);
    loop {
        tokio::select! {
            biased;
            _ = stop.cancelled() => break,
            _ = ticks.tick() => {
                let now = Instant::now();
                // The peak since the last reading, then start the next one from what is pending now
                // (read in warm-up too, so that its peak is not counted as the first measured one).
                let peak = shared.pending_peak.swap(shared.pending.load(Ordering::Relaxed), Ordering::Relaxed);
                if now < measured_from {
                    continue;
                }
                flush.before(&ctx, &mut recorder, now);
                let c = &mut recorder.path_mut(shared.paths.queue).counters;
                c.queue_pending_max = c.queue_pending_max.max(peak);
                c.queue_shards_max = c.queue_shards_max.max(shared.shards.load(Ordering::Relaxed));
                c.queue_lag_max_ms = c.queue_lag_max_ms.max(shared.lag_ms());
                c.queue_capacity = shared.cfg.capacity as u64;
                c.queue_shards_allowed = shared.cfg.max_shards as u64;
                c.queue_shards_wanted_max = c.queue_shards_wanted_max.max(shared.shards_wanted.load(Ordering::Relaxed));
                flush.after(&ctx, &mut recorder, now);
            }
        }
    }
    flush.flush(&ctx, &mut recorder);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_series_always_goes_through_the_same_shard_and_the_shards_share_the_series() {
        let mut per_shard = [0u32; 8];
        for index in 0..80_000 {
            let s = shard_of(index, 8);
            assert_eq!(s, shard_of(index, 8));
            per_shard[s] += 1;
        }
        assert!(per_shard.iter().all(|n| (9_000..11_000).contains(n)), "{per_shard:?}");
    }
}
