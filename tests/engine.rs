//! The scheduler and worker loop with synthetic workloads: every planned call is accounted for
//! (sent, skipped at the in-flight bound, or abandoned), intended times follow the plan whatever
//! the target does, and closed-loop workers keep their concurrency.

use lgtm_bench::engine::schedule::Schedule;
use lgtm_bench::engine::worker::{spawn_closed_loop, spawn_open_loop, WorkerContext};
use lgtm_bench::stats::PathTable;
use lgtm_bench::stats::{OutcomeClass, PathId, Recorder};
use lgtm_bench::workload::{CallOutcome, Ticket, Workload};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Answers after `delay` (virtual time) and remembers each ticket it saw.
struct Instant_ {
    path: PathId,
    delay: Duration,
    seen: Mutex<Vec<Ticket>>,
}

impl Workload for Instant_ {
    type State = ();
    fn path_of(&self, _: &Ticket) -> PathId {
        self.path
    }
    fn new_state(&self, _: usize) {}
    async fn call(&self, _: &mut (), ticket: Ticket) -> CallOutcome {
        self.seen.lock().unwrap().push(ticket);
        tokio::time::sleep(self.delay).await;
        CallOutcome::plain(self.path, OutcomeClass::Success, Instant::now(), 2)
    }
}

/// Never answers: a target that hangs.
struct Stuck(PathId);

impl Workload for Stuck {
    type State = ();
    fn path_of(&self, _: &Ticket) -> PathId {
        self.0
    }
    fn new_state(&self, _: usize) {}
    async fn call(&self, _: &mut (), _: Ticket) -> CallOutcome {
        std::future::pending().await
    }
}

fn contexts() -> (WorkerContext, CancellationToken, tokio::sync::mpsc::UnboundedReceiver<Recorder>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    (WorkerContext { cancel: cancel.clone(), deltas: tx, interval: Duration::from_millis(50), plan_start: Instant::now() }, cancel, rx)
}

async fn merged(mut rx: tokio::sync::mpsc::UnboundedReceiver<Recorder>) -> Recorder {
    let mut total = Recorder::default();
    while let Some(d) = rx.recv().await {
        total.add(&d);
    }
    total
}

#[tokio::test(start_paused = true)]
async fn every_planned_call_is_made_at_its_intended_time() {
    let path = PathTable::default().register("w");
    let w = Arc::new(Instant_ { path, delay: Duration::from_millis(35), seen: Mutex::new(vec![]) });
    let schedule = Schedule::open_loop(100.0, Duration::from_millis(200), Duration::ZERO, Duration::from_millis(500));
    let (ctx, _cancel, rx) = contexts();
    let start = Instant::now();
    let (planner, workers) = spawn_open_loop(w.clone(), schedule.clone(), 4, start, ctx.clone(), ctx);
    planner.await.unwrap();
    for h in workers {
        h.await.unwrap();
    }
    let total = merged(rx).await;
    let stats = total.path(path).unwrap();
    assert_eq!((stats.calls(), stats.latency.len(), stats.counters.items_ok, stats.counters.skipped), (50, 50, 100, 0));
    let mut seen = w.seen.lock().unwrap().clone();
    seen.sort_by_key(|t| t.seq);
    let planned: Vec<_> = schedule.calls().collect();
    assert_eq!(seen.len(), 70, "warm-up calls are made too");
    for (t, p) in seen.iter().zip(&planned) {
        assert_eq!(t.intended, start + p.offset);
        assert_eq!(t.measured, p.measured);
    }
}

#[tokio::test(start_paused = true)]
async fn a_hung_target_turns_planned_calls_into_skipped_and_abandoned_never_lost() {
    let path = PathTable::default().register("w");
    let schedule = Schedule::open_loop(50.0, Duration::ZERO, Duration::ZERO, Duration::from_secs(1));
    let (ctx, cancel, rx) = contexts();
    let (planner, workers) = spawn_open_loop(Arc::new(Stuck(path)), schedule, 2, Instant::now(), ctx.clone(), ctx);
    planner.await.unwrap();
    cancel.cancel();
    for h in workers {
        h.await.unwrap();
    }
    let total = merged(rx).await;
    let stats = total.path(path).unwrap();
    assert_eq!(stats.calls(), 0);
    assert!(stats.counters.skipped > 0, "the in-flight bound was reached and reported");
    assert_eq!(stats.counters.skipped + stats.counters.abandoned, 50, "{} skipped + {} abandoned", stats.counters.skipped, stats.counters.abandoned);
}

#[tokio::test(start_paused = true)]
async fn closed_loop_workers_share_out_sequence_numbers_and_skip_warmup() {
    let path = PathTable::default().register("q");
    let w = Arc::new(Instant_ { path, delay: Duration::from_millis(10), seen: Mutex::new(vec![]) });
    let (ctx, _cancel, rx) = contexts();
    let now = Instant::now();
    let workers = spawn_closed_loop(w.clone(), 3, now + Duration::from_millis(100), now + Duration::from_millis(300), ctx);
    for h in workers {
        h.await.unwrap();
    }
    let total = merged(rx).await;
    let seen = w.seen.lock().unwrap().clone();
    let mut seqs: Vec<u64> = seen.iter().map(|t| t.seq).collect();
    seqs.sort();
    seqs.dedup();
    assert_eq!(seqs.len(), seen.len(), "no sequence number is used twice");
    let measured = seen.iter().filter(|t| t.measured).count() as u64;
    assert_eq!(seen.len(), 3 * 30, "3 workers, one 10ms call after another for 300ms");
    assert_eq!(measured, 3 * 20, "calls started before the 100ms warm-up ended are not measured");
    assert_eq!(total.path(path).map_or(0, |p| p.calls()), measured);
}

/// What the plan says one worker with a one-ticket queue does: tickets every `every`, each call
/// taking `busy`; returns how late each ticket that was sent started (tickets finding the queue full
/// are skipped).
fn simulated_lateness(tickets: u64, every: Duration, busy: Duration) -> (Vec<Duration>, u64) {
    let (mut free_at, mut queued, mut late, mut skipped) = (Duration::ZERO, None::<Duration>, vec![], 0);
    for k in 1..=tickets {
        let t = every * k as u32;
        // The worker takes the queued ticket when it frees, if that is before this ticket arrives.
        if let Some(q) = queued.filter(|_| free_at < t) {
            let start = free_at.max(q);
            late.push(start - q);
            free_at = start + busy;
            queued = None;
        }
        if free_at <= t && queued.is_none() {
            late.push(Duration::ZERO);
            free_at = t + busy;
        } else if queued.is_none() {
            queued = Some(t);
        } else {
            skipped += 1;
        }
    }
    if let Some(q) = queued {
        late.push(free_at.max(q) - q);
    }
    (late, skipped)
}

#[tokio::test(start_paused = true)]
async fn send_lateness_is_recorded_against_the_plan_exactly() {
    let path = PathTable::default().register("w");
    let busy = Duration::from_millis(130);
    let w = Arc::new(Instant_ { path, delay: busy, seen: Mutex::new(vec![]) });
    // 10 calls a second for 1 s, one in flight: each call takes 130 ms, so starts fall behind.
    let schedule = Schedule::open_loop(10.0, Duration::ZERO, Duration::ZERO, Duration::from_secs(1));
    let (ctx, _cancel, rx) = contexts();
    let (planner, workers) = spawn_open_loop(w.clone(), schedule, 1, Instant::now(), ctx.clone(), ctx);
    planner.await.unwrap();
    for h in workers {
        h.await.unwrap();
    }
    let stats = merged(rx).await.path(path).unwrap().clone();
    let (late, skipped) = simulated_lateness(10, Duration::from_millis(100), busy);
    assert_eq!(stats.counters.skipped, skipped);
    assert!(late.iter().any(|l| *l > Duration::from_millis(50)), "the plan does fall behind: {late:?}");
    let mut expected = lgtm_bench::stats::histogram::new_latency();
    for l in &late {
        expected.record(l.as_micros() as u64).unwrap();
    }
    assert_eq!(stats.lateness, expected, "recorded {:?}", stats.lateness.iter_recorded().map(|v| v.value_iterated_to()).collect::<Vec<_>>());
    let written = lgtm_bench::report::PathReport::from_stats(&stats, 1.0, Some(10));
    assert_eq!(written.lateness.unwrap().decode().unwrap(), expected, "and reads back from the results exactly");
}
