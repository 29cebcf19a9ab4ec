//! The single worker loop shared by every workload: take the next ticket, call, record, and now
//! and then hand the recorder to the collector. Cancellation wins every await.

use super::schedule::Schedule;
use crate::stats::recorder::{Example, Measurement};
use crate::stats::{OutcomeClass, Recorder};
use crate::workload::{Ticket, Workload};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::{sleep_until, Instant};
use tokio_util::sync::CancellationToken;

/// A call that starts this long after its intended time counts as a late start.
pub const LATE_AFTER: Duration = Duration::from_millis(10);

/// A closed-loop worker whose call could not connect waits this long before the next call,
/// doubling up to `MAX_BACKOFF` (the default connect timeout), and starts over after any answer:
/// a target that is down is not hammered, and the time is not counted as latency.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(100);
pub const MAX_BACKOFF: Duration = Duration::from_secs(3);

/// How long a closed-loop worker waits before asking again when its workload is not ready.
pub const NOT_READY_WAIT: Duration = Duration::from_millis(100);

/// What a worker needs besides its workload and tickets.
#[derive(Clone)]
pub struct WorkerContext {
    pub cancel: CancellationToken,
    pub deltas: UnboundedSender<Recorder>,
    /// The results' interval: workers hand in what they measured at each interval boundary, tagged
    /// with the interval it was measured in (counted from the plan's start).
    pub interval: Duration,
    /// The plan's start: times in the results are seconds since it.
    pub plan_start: Instant,
}

impl WorkerContext {
    /// The interval (0, 1, …) that `t` falls in.
    pub fn interval_of(&self, t: Instant) -> u64 {
        (t.saturating_duration_since(self.plan_start).as_nanos() / self.interval.as_nanos().max(1)) as u64
    }
}

/// Hands a recorder to the collector whenever the measurements go on in a later interval, so every
/// delta holds one interval's measurements only, and at least four times an interval, so the
/// progress line and the collector are never far behind (an idle worker holds little).
pub struct IntervalFlush {
    current: u64,
    last: Instant,
}

impl IntervalFlush {
    pub fn new(ctx: &WorkerContext) -> IntervalFlush {
        let now = Instant::now();
        IntervalFlush { current: ctx.interval_of(now), last: now }
    }

    /// Call after recording at `at`: hands over what was recorded if a quarter interval passed.
    pub fn after(&mut self, ctx: &WorkerContext, recorder: &mut Recorder, at: Instant) {
        if at.saturating_duration_since(self.last) >= ctx.interval / 4 {
            self.flush(ctx, recorder);
            self.last = at;
        }
    }

    /// Call before recording a measurement taken at `at`.
    pub fn before(&mut self, ctx: &WorkerContext, recorder: &mut Recorder, at: Instant) {
        let k = ctx.interval_of(at);
        if k != self.current {
            self.flush(ctx, recorder);
            self.current = k;
        }
    }

    /// Hands over what was recorded in the current interval.
    pub fn flush(&self, ctx: &WorkerContext, recorder: &mut Recorder) {
        if !recorder.is_empty() {
            let mut delta = std::mem::take(recorder);
            delta.interval = self.current;
            let _ = ctx.deltas.send(delta);
        }
    }
}

/// Where a worker's tickets come from.
pub enum Tickets {
    /// Open loop: a planner sends tickets at their intended times.
    Planned(async_channel::Receiver<Ticket>),
    /// Closed loop (fixed concurrency): the next call starts when the previous one ends.
    Closed { next_seq: u64, stride: u64, measured_from: Instant, end: Instant },
}

impl Tickets {
    async fn next(&mut self) -> Option<Ticket> {
        match self {
            Tickets::Planned(rx) => rx.recv().await.ok(),
            Tickets::Closed { next_seq, stride, measured_from, end } => {
                let now = Instant::now();
                if now >= *end {
                    return None;
                }
                let seq = *next_seq;
                *next_seq += *stride;
                Some(Ticket { seq, intended: now, measured: now >= *measured_from })
            }
        }
    }
}

pub async fn run<W: Workload>(workload: Arc<W>, worker: usize, mut tickets: Tickets, ctx: WorkerContext) {
    let mut state = workload.new_state(worker);
    let mut recorder = Recorder::default();
    let mut flush = IntervalFlush::new(&ctx);
    let closed_loop = matches!(tickets, Tickets::Closed { .. });
    let mut backoff = FIRST_BACKOFF;
    loop {
        let ticket = tokio::select! {
            biased;
            _ = ctx.cancel.cancelled() => break,
            t = tickets.next() => match t { Some(t) => t, None => break },
        };
        if !workload.ready(&ticket) {
            if closed_loop {
                tokio::select! {
                    biased;
                    _ = ctx.cancel.cancelled() => break,
                    _ = tokio::time::sleep(NOT_READY_WAIT) => {}
                }
            } else if ticket.measured {
                flush.before(&ctx, &mut recorder, Instant::now());
                recorder.path_mut(workload.path_of(&ticket)).counters.not_ready += 1;
            }
            continue;
        }
        let started = Instant::now();
        let outcome = tokio::select! {
            biased;
            _ = ctx.cancel.cancelled() => {
                if ticket.measured {
                    flush.before(&ctx, &mut recorder, Instant::now());
                    recorder.path_mut(workload.path_of(&ticket)).counters.abandoned += 1;
                }
                break;
            }
            o = workload.call(&mut state, ticket) => o,
        };
        let done = Instant::now();
        flush.before(&ctx, &mut recorder, done);
        let unreachable = outcome.class == OutcomeClass::ConnectionFailure;
        if ticket.measured && unreachable {
            recorder.path_mut(outcome.path).counters.connection_failed_at(done.saturating_duration_since(ctx.plan_start).as_secs_f64());
        }
        if ticket.measured {
            recorder.record(
                outcome.path,
                Measurement {
                    class: outcome.class,
                    latency: done - ticket.intended,
                    service: done - outcome.sent_at.max(started),
                    items: outcome.items,
                    late: started - ticket.intended > LATE_AFTER,
                    lateness: (!closed_loop).then(|| started - ticket.intended),
                    retries: outcome.retries,
                    rejected: outcome.rejected,
                },
            );
            if let Some(d) = outcome.detail {
                let at_s = done.saturating_duration_since(ctx.plan_start).as_secs_f64();
                recorder.path_mut(outcome.path).keep_example(Example { class: outcome.class.as_str().into(), key: d.key, answer: d.answer, at_s });
            }
            for part in outcome.parts {
                let m = Measurement {
                    class: part.class,
                    latency: part.done.saturating_duration_since(ticket.intended),
                    service: part.done.saturating_duration_since(part.sent_at),
                    items: part.items,
                    late: false,
                    lateness: None,
                    retries: 0,
                    rejected: 0,
                };
                recorder.record(part.path, m);
                if let Some(d) = part.detail.filter(|_| !part.class.is_success()) {
                    let at_s = part.done.saturating_duration_since(ctx.plan_start).as_secs_f64();
                    recorder.path_mut(part.path).keep_example(Example { class: part.class.as_str().into(), key: d.key, answer: d.answer, at_s });
                }
            }
            flush.after(&ctx, &mut recorder, done);
        }
        if closed_loop && unreachable {
            tokio::select! {
                biased;
                _ = ctx.cancel.cancelled() => break,
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        } else {
            backoff = FIRST_BACKOFF;
        }
    }
    if let Tickets::Planned(rx) = &tickets {
        // Tickets still queued when the worker stops were planned but never sent.
        while let Ok(t) = rx.try_recv() {
            if t.measured {
                flush.before(&ctx, &mut recorder, Instant::now());
                recorder.path_mut(workload.path_of(&t)).counters.abandoned += 1;
            }
        }
    }
    flush.flush(&ctx, &mut recorder);
}

/// Sends tickets at their planned times. A ticket that finds the queue full (every worker busy and
/// the backlog at its bound) is skipped and counted, never silently dropped.
pub async fn plan<W: Workload>(workload: Arc<W>, schedule: Schedule, start: Instant, tx: async_channel::Sender<Ticket>, ctx: WorkerContext) {
    let mut recorder = Recorder::default();
    let mut flush = IntervalFlush::new(&ctx);
    for (seq, call) in schedule.calls().enumerate() {
        let intended = start + call.offset;
        tokio::select! {
            biased;
            _ = ctx.cancel.cancelled() => break,
            _ = sleep_until(intended) => {}
        }
        let ticket = Ticket { seq: seq as u64, intended, measured: call.measured };
        match tx.try_send(ticket) {
            Ok(()) => {}
            Err(async_channel::TrySendError::Full(ticket)) => {
                if call.measured {
                    flush.before(&ctx, &mut recorder, intended);
                    recorder.path_mut(workload.path_of(&ticket)).counters.skipped += 1;
                    flush.after(&ctx, &mut recorder, intended);
                }
            }
            Err(async_channel::TrySendError::Closed(_)) => break,
        }
    }
    flush.flush(&ctx, &mut recorder);
}

/// Starts a planner and `max_in_flight` workers for an open-loop workload.
pub fn spawn_open_loop<W: Workload>(
    workload: Arc<W>,
    schedule: Schedule,
    max_in_flight: usize,
    start: Instant,
    planner_ctx: WorkerContext,
    worker_ctx: WorkerContext,
) -> (tokio::task::JoinHandle<()>, Vec<tokio::task::JoinHandle<()>>) {
    let (tx, rx) = async_channel::bounded(max_in_flight.max(1));
    let workers = (0..max_in_flight.max(1)).map(|i| tokio::spawn(run(workload.clone(), i, Tickets::Planned(rx.clone()), worker_ctx.clone()))).collect();
    let planner = tokio::spawn(plan(workload, schedule, start, tx, planner_ctx));
    (planner, workers)
}

/// Starts `concurrency` closed-loop workers running from `start` to `end`.
pub fn spawn_closed_loop<W: Workload>(
    workload: Arc<W>,
    concurrency: usize,
    measured_from: Instant,
    end: Instant,
    ctx: WorkerContext,
) -> Vec<tokio::task::JoinHandle<()>> {
    let stride = concurrency.max(1) as u64;
    (0..stride)
        .map(|i| {
            let tickets = Tickets::Closed { next_seq: i, stride, measured_from, end };
            tokio::spawn(run(workload.clone(), i as usize, tickets, ctx.clone()))
        })
        .collect()
}
