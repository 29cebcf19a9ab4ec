//! A query load over any target's queries: call `k` runs query `k mod n` through the target's
//! `QueryRunner`, and how the load is driven (`QueryMode`: fixed concurrency or a planned rate).

use crate::scenario::QueryLoad;
use crate::stats::{OutcomeClass, PathId};
use crate::workload::{nth_query, CallOutcome, Detail, Ticket, Workload};
use std::future::Future;

/// How a query load is driven.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum QueryMode {
    Concurrency(usize),
    Rate(f64, usize),
}

impl QueryMode {
    /// `concurrency` when set, else `rate`, else 10 queries always in flight.
    pub fn of(load: Option<&QueryLoad>) -> QueryMode {
        match load {
            Some(l) => match (l.concurrency, l.rate) {
                (_, Some(rate)) => QueryMode::Rate(rate, l.max_in_flight),
                (Some(n), None) => QueryMode::Concurrency(n),
                (None, None) => QueryMode::Concurrency(10),
            },
            None => QueryMode::Concurrency(10),
        }
    }

    /// The plan printout's line for a target's query load.
    pub fn describe(self, target: &str, at: &str) -> String {
        match self {
            QueryMode::Concurrency(n) => format!("  {target} queries: {n} always in flight at {at}\n"),
            QueryMode::Rate(rate, _) => format!("  {target} queries: {rate} per second at {at}\n"),
        }
    }
}

/// Runs one query of a kind (PromQL, Tempo) and says what it came to: class and item count.
pub trait QueryRunner: Send + Sync + 'static {
    type Spec: Send + Sync + 'static;
    /// Whether `spec` has something to ask now (see `Workload::ready`).
    fn ready(&self, _spec: &Self::Spec) -> bool {
        true
    }
    /// The call's class, the items it counts, and for a failure what was asked and what came back.
    fn run(&self, pool: usize, spec: &Self::Spec, ticket: Ticket) -> impl Future<Output = (OutcomeClass, u64, Option<Detail>)> + Send;
}

/// A query from the scenario and the path it is recorded under.
pub struct Prepared<S> {
    pub spec: S,
    pub path: PathId,
}

/// Query load: call `k` runs query `k mod n`, so every query gets an equal share.
pub struct RotatingQueries<R: QueryRunner> {
    pub runner: R,
    pub queries: Vec<Prepared<R::Spec>>,
    pub connections: usize,
}

impl<R: QueryRunner> Workload for RotatingQueries<R> {
    type State = usize;

    fn path_of(&self, ticket: &Ticket) -> PathId {
        nth_query(&self.queries, ticket.seq).path
    }

    fn ready(&self, ticket: &Ticket) -> bool {
        self.runner.ready(&nth_query(&self.queries, ticket.seq).spec)
    }

    fn new_state(&self, worker: usize) -> usize {
        worker % self.connections.max(1)
    }

    async fn call(&self, pool: &mut usize, ticket: Ticket) -> CallOutcome {
        let q = nth_query(&self.queries, ticket.seq);
        let sent_at = tokio::time::Instant::now();
        let (class, items, detail) = self.runner.run(*pool, &q.spec, ticket).await;
        CallOutcome { detail: detail.filter(|_| !class.is_success()).map(Box::new), ..CallOutcome::plain(q.path, class, sent_at, items) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::worker::{spawn_closed_loop, WorkerContext};
    use crate::stats::Recorder;
    use std::time::Duration;
    use tokio::time::Instant;
    use tokio_util::sync::CancellationToken;

    /// A target that never answers.
    struct Hangs;

    impl QueryRunner for Hangs {
        type Spec = ();
        async fn run(&self, _: usize, _: &(), _: Ticket) -> (OutcomeClass, u64, Option<Detail>) {
            std::future::pending().await
        }
    }

    #[tokio::test(start_paused = true)]
    async fn abandoned_calls_are_charged_to_the_query_in_flight() {
        let queries = vec![Prepared { spec: (), path: PathId(0) }, Prepared { spec: (), path: PathId(1) }];
        let load = std::sync::Arc::new(RotatingQueries { runner: Hangs, queries, connections: 1 });
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let cancel = CancellationToken::new();
        let now = Instant::now();
        let ctx = WorkerContext { cancel: cancel.clone(), deltas: tx, interval: Duration::from_secs(60), plan_start: now };
        let workers = spawn_closed_loop(load, 4, now, now + Duration::from_secs(10), ctx);
        tokio::time::sleep(Duration::from_secs(1)).await;
        cancel.cancel();
        for w in workers {
            w.await.unwrap();
        }
        let mut total = Recorder::default();
        while let Ok(d) = rx.try_recv() {
            total.add(&d);
        }
        let abandoned = |p: usize| total.path(PathId(p)).map_or(0, |s| s.counters.abandoned);
        assert_eq!((abandoned(0), abandoned(1)), (2, 2), "four workers, two queries in rotation: two calls of each were in flight");
    }
}
