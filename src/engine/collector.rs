//! Receives the workers' recorder deltas, merges them into the run's totals and prints the progress
//! line. Ends when every worker, planner and checker has hung up.

use crate::report::progress::{self, Row};
use crate::stats::Recorder;
use crate::watch::MemoryBoard;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

#[derive(Clone, Debug)]
pub struct ProgressSettings {
    pub every: Duration,
    pub start: Instant,
    pub measured_from: Instant,
    pub total: Duration,
    pub enabled: bool,
}

pub async fn collect(
    mut deltas: UnboundedReceiver<Recorder>,
    rows: Vec<Row>,
    progress: ProgressSettings,
    memory: tokio::sync::watch::Receiver<MemoryBoard>,
) -> Recorder {
    let mut totals = Recorder::default();
    let mut ticks = tokio::time::interval_at(progress.start + progress.every, progress.every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            delta = deltas.recv() => match delta {
                Some(d) => {
                    totals.add(&d);
                }
                None => break,
            },
            _ = ticks.tick(), if progress.enabled => {
                let now = Instant::now();
                let line = progress::line(
                    now.saturating_duration_since(progress.start),
                    progress.total,
                    now < progress.measured_from,
                    &rows,
                    &totals,
                    now.saturating_duration_since(progress.measured_from).as_secs_f64(),
                    &memory.borrow(),
                );
                eprintln!("{line}");
            }
        }
    }
    totals
}
