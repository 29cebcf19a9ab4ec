//! A query load over any target's queries: call `k` runs query `k mod n` through the target's
//! `QueryRunner`, and how the load is driven (`QueryMode`: fixed concurrency or a planned rate).

use crate::scenario::QueryLoad;
use crate::stats::{OutcomeClass, PathId};
use crate::workload::{nth_query, CallOutcome, Ticket, Workload};
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
    fn run(&self, pool: usize, spec: &Self::Spec, seq: u64) -> impl Future<Output = (OutcomeClass, u64)> + Send;
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

    fn primary_path(&self) -> PathId {
        self.queries[0].path
    }

    fn new_state(&self, worker: usize) -> usize {
        worker % self.connections.max(1)
    }

    async fn call(&self, pool: &mut usize, ticket: Ticket) -> CallOutcome {
        let q = nth_query(&self.queries, ticket.seq);
        let sent_at = tokio::time::Instant::now();
        let (class, items) = self.runner.run(*pool, &q.spec, ticket.seq).await;
        CallOutcome::plain(q.path, class, sent_at, items)
    }
}
