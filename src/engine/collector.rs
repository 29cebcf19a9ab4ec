//! Receives the workers' recorder deltas, merges them into the run's totals and into their
//! interval, prints the progress line, and writes each interval's histograms to the interval log
//! once it has closed (two intervals after its end; a later delta for it is written as an entry
//! of its own, so nothing is lost). Ends when every worker, planner and checker has hung up.

use crate::report::intervals::{counts_of, set_percentiles, ClosedInterval, IntervalCounts, IntervalLog, IntervalPath, IntervalStream, IntervalsReport};
use crate::report::progress::{self, Row};
use crate::stats::Recorder;
use crate::watch::MemoryBoard;
use std::collections::BTreeMap;
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

/// The per-interval side of the collector: open intervals, their counts, the log.
pub struct Intervals {
    pub length: Duration,
    pub names: Vec<String>,
    pub log: Option<IntervalLog>,
    pub log_name: Option<String>,
    pub log_error: Option<String>,
    open: BTreeMap<u64, Recorder>,
    counts: BTreeMap<u64, BTreeMap<String, IntervalPath>>,
    /// Where each closed interval streams to, if anywhere.
    stream: Option<IntervalStream>,
    /// Intervals' counts kept at most (the newest): a run that goes on for weeks (the canary)
    /// holds a bounded window; `None` keeps them all for the results file.
    keep_last: Option<usize>,
}

impl Intervals {
    pub fn new(length: Duration, names: Vec<String>, log: Result<(IntervalLog, String), String>) -> Intervals {
        let (log, log_name, log_error) = match log {
            Ok((log, name)) => (Some(log), Some(name), None),
            Err(e) => (None, None, Some(e)),
        };
        Intervals { length, names, log, log_name, log_error, open: BTreeMap::new(), counts: BTreeMap::new(), stream: None, keep_last: None }
    }

    /// Streams each interval as it closes.
    pub fn streaming(mut self, stream: Option<IntervalStream>) -> Intervals {
        self.stream = stream;
        self
    }

    /// Keeps only the newest `n` intervals' counts.
    pub fn keeping_last(mut self, n: Option<usize>) -> Intervals {
        self.keep_last = n;
        self
    }

    fn add(&mut self, delta: &Recorder, oldest_open: u64) {
        counts_of(delta, &self.names, self.counts.entry(delta.interval).or_default());
        if delta.interval < oldest_open {
            // Its interval was written already: this late delta becomes an entry of its own.
            self.write(delta.interval, delta);
        } else {
            self.open.entry(delta.interval).or_default().add(delta);
        }
    }

    fn write(&mut self, index: u64, recorder: &Recorder) {
        if let Some(log) = &mut self.log {
            if let Err(e) = log.write(index, recorder, &self.names) {
                self.log_error = Some(format!("the interval log could not be written: {e}"));
                self.log = None;
            }
        }
    }

    /// Writes and forgets the histograms of every interval before `before`.
    fn close_before(&mut self, before: u64, memory: &MemoryBoard) {
        let still_open = self.open.split_off(&before);
        for (index, recorder) in std::mem::replace(&mut self.open, still_open) {
            set_percentiles(&recorder, &self.names, self.counts.entry(index).or_default());
            self.write(index, &recorder);
            self.send(index, &recorder, memory);
        }
        if let Some(n) = self.keep_last {
            while self.counts.len() > n {
                self.counts.pop_first();
            }
        }
    }

    /// Hands a closed interval to the stream (a stream whose reader has gone is dropped).
    fn send(&mut self, index: u64, recorder: &Recorder, memory: &MemoryBoard) {
        let Some(stream) = &self.stream else { return };
        let length_ms = self.length.as_millis() as i64;
        let latency_by_class = recorder
            .paths()
            .filter_map(|(id, p)| Some((self.names.get(id.0)?, p)))
            .flat_map(|(name, p)| p.latency_by_class().into_iter().map(move |(class, h)| ((name.clone(), class), h)))
            .collect();
        let closed = ClosedInterval {
            run_id: stream.run_id.clone(),
            index,
            start_unix_ms: stream.start_unix_ms + index as i64 * length_ms,
            length_ms,
            paths: self.counts.get(&index).cloned().unwrap_or_default(),
            latency_by_class,
            memory: memory.clone(),
        };
        if stream.to.send(closed).is_err() {
            self.stream = None;
        }
    }

    fn report(mut self, memory: &MemoryBoard) -> IntervalsReport {
        self.close_before(u64::MAX, memory);
        let seconds = self.length.as_secs_f64();
        let counts = self.counts.into_iter().map(|(index, paths)| IntervalCounts { index, start_s: index as f64 * seconds, paths }).collect();
        IntervalsReport { seconds, log: self.log_name.filter(|_| self.log_error.is_none()), log_error: self.log_error, counts }
    }
}

pub async fn collect(
    mut deltas: UnboundedReceiver<Recorder>,
    rows: Vec<Row>,
    progress: ProgressSettings,
    memory: tokio::sync::watch::Receiver<MemoryBoard>,
    mut intervals: Intervals,
) -> (Recorder, IntervalsReport) {
    let mut totals = Recorder::default();
    let mut oldest_open = 0u64;
    let mut ticks = tokio::time::interval_at(progress.start + progress.every, progress.every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            delta = deltas.recv() => match delta {
                Some(d) => {
                    totals.add(&d);
                    intervals.add(&d, oldest_open);
                }
                None => break,
            },
            _ = ticks.tick() => {
                let now = Instant::now();
                // Intervals that ended two intervals ago are complete but for late stragglers.
                let current = (now.saturating_duration_since(progress.start).as_nanos() / intervals.length.as_nanos().max(1)) as u64;
                oldest_open = current.saturating_sub(2);
                intervals.close_before(oldest_open, &memory.borrow().clone());
                if !progress.enabled {
                    continue;
                }
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
    let last_memory = memory.borrow().clone();
    (totals, intervals.report(&last_memory))
}
