//! Who held a run back: the generator, the host or the target. A pure function of what the run
//! measured: the generator's own CPU, the whole machine's CPU (`/proc/stat`), and per open-loop
//! path its skipped and late calls against its in-flight bound, or a sending queue that filled.
//!
//! - The generator's CPU saturated → generator-limited (add shards or cores).
//! - The machine's CPUs saturated while the generator was not → host busy: other processes took
//!   the CPU, so neither the generator's nor the target's figures can be trusted.
//! - Calls skipped or late because the target's service time × the planned rate needed more in
//!   flight than allowed, or a sending queue full → the target did not keep up: a FAIL of the target.
//! - Skipped or late with none of those → the generator fell behind its own plan.

use super::model::PathReport;
use std::collections::BTreeMap;

/// Share of the cores above which a CPU counts as saturated.
pub const CPU_SATURATED: f64 = 0.9;
/// A queue this full (of its shards × capacity) counts as full.
pub const QUEUE_FULL: f64 = 0.9;

/// The run's CPU figures.
#[derive(Clone, Copy, Debug)]
pub struct Cpu {
    /// The generator's user + system seconds over the run.
    pub own_seconds: f64,
    pub wall_seconds: f64,
    /// Cores the generator may use.
    pub cores: usize,
    /// The whole machine: busy seconds of all its CPUs over the run, and how many it has.
    pub host: Option<(f64, usize)>,
    /// CPU seconds the watched targets running on this same machine used over the run (their
    /// `process_cpu_seconds_total`): part of the system under test, not other processes.
    pub local_targets_seconds: f64,
}

impl Cpu {
    pub fn own_share(&self) -> f64 {
        self.own_seconds / (self.wall_seconds.max(1e-9) * self.cores.max(1) as f64)
    }

    pub fn host_share(&self) -> Option<f64> {
        self.host.map(|(busy, cores)| busy / (self.wall_seconds.max(1e-9) * cores.max(1) as f64))
    }

    /// The share of the machine that neither the generator nor a local target used.
    pub fn others_share(&self) -> Option<f64> {
        self.host.map(|(busy, cores)| ((busy - self.own_seconds - self.local_targets_seconds) / (self.wall_seconds.max(1e-9) * cores.max(1) as f64)).max(0.0))
    }
}

/// The share of a saturated machine that other processes must have taken for it to be their doing.
pub const OTHERS_SIGNIFICANT: f64 = 0.3;

/// The three parties and what each held back, in words with the figures.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Attribution {
    pub generator: Vec<String>,
    pub host: Vec<String>,
    pub target: Vec<String>,
}

pub fn attribute(cpu: Cpu, paths: &BTreeMap<String, PathReport>, late_p99_us: u64) -> Attribution {
    let mut a = Attribution::default();
    let own = cpu.own_share();
    let generator_bound = own >= CPU_SATURATED;
    if generator_bound {
        a.generator.push(format!("the generator used {:.0}% of its {} core(s): it was CPU-bound; add shards (--shard) or cores", own * 100.0, cpu.cores));
    }
    let others = cpu.others_share().unwrap_or(0.0);
    let host_bound = !generator_bound && cpu.host_share().is_some_and(|h| h >= CPU_SATURATED) && others >= OTHERS_SIGNIFICANT;
    if let (true, Some(h), Some((_, cores))) = (host_bound, cpu.host_share(), cpu.host) {
        let target = if cpu.local_targets_seconds > 0.0 {
            format!(", the target(s) on this machine {:.0}%", cpu.local_targets_seconds / (cpu.wall_seconds.max(1e-9) * cores.max(1) as f64) * 100.0)
        } else {
            String::new()
        };
        a.host.push(format!(
            "host busy: the machine's {cores} CPU(s) were {:.0}% busy (the generator {:.0}% of its share{target}, other processes {:.0}%); other processes took the CPU, so these figures are not trustworthy: run where nothing else competes",
            h * 100.0,
            own * 100.0,
            others * 100.0
        ));
    }
    // The memory watch's own scrapes are not load: their timing says nothing about the plan.
    for (name, p) in paths.iter().filter(|(n, _)| !n.ends_with(".memory.scrape")) {
        let behind = behind_plan(name, p, late_p99_us);
        if let Some(full) = queue_full(name, p) {
            push_blame(&mut a, generator_bound, host_bound, full);
        } else if let Some(behind) = behind {
            // A saturated CPU slows the reading of answers too: service times are then not the
            // target's alone, so the CPU is blamed before Little's law is asked.
            match needed_in_flight(p) {
                _ if generator_bound || host_bound => push_blame(&mut a, generator_bound, host_bound, behind),
                Some((needed, allowed)) if needed >= allowed as f64 => a.target.push(format!(
                    "{behind}: the target's service time (mean {}) × the planned {:.1}/s needs {needed:.0} in flight, {allowed} allowed: the target did not keep up",
                    crate::units::fmt_micros(p.service_time.mean_us.unwrap_or(0.0) as u64),
                    planned_rate(p).unwrap_or(0.0)
                )),
                _ => a.generator.push(format!("{behind}: the generator or its in-flight bound fell behind")),
            }
        }
    }
    a
}

/// A queue's or a path's being behind, blamed on the generator or the host when either was
/// saturated (the figures are then theirs), else on the target.
fn push_blame(a: &mut Attribution, generator_bound: bool, host_bound: bool, what: String) {
    if generator_bound {
        a.generator.push(what);
    } else if host_bound {
        a.host.push(what);
    } else {
        a.target.push(what);
    }
}

/// "path: N planned calls skipped at the in-flight bound; calls started X late (p99)", if any.
fn behind_plan(name: &str, p: &PathReport, late_p99_us: u64) -> Option<String> {
    let mut why = Vec::new();
    if p.counters.skipped > 0 {
        why.push(format!("{} planned calls skipped at the in-flight bound", p.counters.skipped));
    }
    if let Some(us) = p.lateness.as_ref().and_then(|l| l.p99_us).filter(|us| *us > late_p99_us) {
        why.push(format!("calls started {} late (p99) against the plan", crate::units::fmt_micros(us)));
    }
    (!why.is_empty()).then(|| format!("{name}: {}", why.join("; ")))
}

fn planned_rate(p: &PathReport) -> Option<f64> {
    let calls = p.planned_calls? as f64;
    let rate = p.achieved_rate?;
    // achieved_rate is calls / measured seconds: the same seconds give the planned rate.
    (p.calls > 0).then(|| calls * rate / p.calls as f64)
}

/// Little's law: in flight needed = planned rate × mean service time; and the bound.
fn needed_in_flight(p: &PathReport) -> Option<(f64, u64)> {
    let allowed = p.in_flight_bound?;
    let service_s = p.service_time.mean_us? / 1e6;
    Some((planned_rate(p)? * service_s, allowed))
}

impl super::model::GeneratorReport {
    /// Judges who held the run back: the generator, the host or the target.
    pub fn judge(cpu: Cpu, paths: &BTreeMap<String, PathReport>) -> super::model::GeneratorReport {
        let a = attribute(cpu, paths, Self::LATE_P99_US);
        super::model::GeneratorReport {
            cpu_seconds: cpu.own_seconds,
            wall_seconds: cpu.wall_seconds,
            cores: cpu.cores,
            limited_by: a.generator,
            host_busy_seconds: cpu.host.map(|(busy, _)| busy),
            host_cpus: cpu.host.map(|(_, n)| n),
            local_targets_cpu_seconds: cpu.local_targets_seconds,
            host_busy: a.host,
            target_fell_behind: a.target,
        }
    }

    /// The CPU figures it was judged on.
    pub fn cpu(&self) -> Cpu {
        Cpu {
            own_seconds: self.cpu_seconds,
            wall_seconds: self.wall_seconds,
            cores: self.cores,
            host: self.host_busy_seconds.zip(self.host_cpus),
            local_targets_seconds: self.local_targets_cpu_seconds,
        }
    }
}

/// A sending queue that filled: its words, with needed vs allowed shards.
fn queue_full(name: &str, p: &PathReport) -> Option<String> {
    let c = &p.counters;
    let room = c.queue_capacity * c.queue_shards_max;
    (c.queue_shards_max > 0 && room > 0 && c.queue_pending_max as f64 >= QUEUE_FULL * room as f64).then(|| {
        format!(
            "{name}: the queue was full ({} of {} samples pending in {} shard(s) × {}, lag up to {}); its rule asked for up to {} shards, {} allowed: the target's sends did not keep up",
            c.queue_pending_max,
            room,
            c.queue_shards_max,
            c.queue_capacity,
            crate::units::fmt_micros(c.queue_lag_max_ms * 1000),
            c.queue_shards_wanted_max,
            c.queue_shards_allowed
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::LatencyReport;
    use crate::stats::Counters;

    fn latency(mean_us: f64, p99_us: u64) -> LatencyReport {
        LatencyReport {
            count: 1,
            mean_us: Some(mean_us),
            p50_us: Some(p99_us),
            p90_us: Some(p99_us),
            p99_us: Some(p99_us),
            p99_9_us: Some(p99_us),
            max_us: Some(p99_us),
            histogram: String::new(),
        }
    }

    /// An open-loop path planned at 100/s for 10 s with `skipped` calls skipped, the target's mean
    /// service time `service_us` and `bound` in flight.
    fn path(skipped: u64, service_us: f64, bound: u64) -> PathReport {
        let calls = 1000 - skipped;
        PathReport {
            calls,
            outcomes: BTreeMap::new(),
            error_ratio: Some(0.0),
            planned_calls: Some(1000),
            achieved_rate: Some(calls as f64 / 10.0),
            counters: Counters { skipped, ..Counters::default() },
            items_ok_per_second: None,
            latency: latency(service_us, service_us as u64),
            service_time: latency(service_us, service_us as u64),
            lateness: Some(latency(1_000.0, 2_000)),
            in_flight_bound: Some(bound),
            examples: Vec::new(),
            asks: None,
        }
    }

    fn cpu(own: f64, host: f64) -> Cpu {
        Cpu { own_seconds: own * 20.0, wall_seconds: 10.0, cores: 2, host: Some((host * 20.0, 2)), local_targets_seconds: 0.0 }
    }

    fn paths(p: PathReport) -> BTreeMap<String, PathReport> {
        [("mimir.write".to_string(), p)].into()
    }

    #[test]
    fn a_slow_target_is_named_with_needed_and_allowed_in_flight() {
        // 100/s × 200 ms = 20 needed, 8 allowed.
        let a = attribute(cpu(0.2, 0.4), &paths(path(300, 200_000.0, 8)), 10_000);
        assert!(a.generator.is_empty() && a.host.is_empty(), "{a:?}");
        assert_eq!(a.target.len(), 1);
        assert!(a.target[0].contains("needs 20 in flight, 8 allowed: the target did not keep up"), "{}", a.target[0]);
    }

    #[test]
    fn a_cpu_bound_generator_is_blamed_not_the_target() {
        // Its answers read late look like a slow target (250 ms × 100/s = 25 needed of 8): the
        // saturated CPU is blamed first.
        let a = attribute(cpu(0.95, 0.97), &paths(path(300, 250_000.0, 8)), 10_000);
        assert!(a.target.is_empty() && a.host.is_empty(), "{a:?}");
        assert!(a.generator[0].contains("used 95% of its 2 core(s): it was CPU-bound"), "{a:?}");
        assert!(a.generator[1].starts_with("mimir.write: 300 planned calls skipped"), "{a:?}");
    }

    #[test]
    fn a_busy_host_makes_the_figures_untrustworthy() {
        let a = attribute(cpu(0.1, 0.98), &paths(path(300, 1_000.0, 8)), 10_000);
        assert!(a.target.is_empty() && a.generator.is_empty(), "{a:?}");
        assert!(a.host[0].starts_with("host busy: the machine's 2 CPU(s) were 98% busy (the generator 10% of its share, other processes 88%)"), "{a:?}");
        assert!(a.host[1].contains("300 planned calls skipped"), "{a:?}");
        // The same machine kept busy by the target itself (on this machine, its CPU known): not
        // other processes; the slow calls are then the target's.
        let local = Cpu { local_targets_seconds: 0.8 * 20.0, ..cpu(0.1, 0.98) };
        let a = attribute(local, &paths(path(300, 200_000.0, 8)), 10_000);
        assert!(a.host.is_empty() && a.target.len() == 1, "{a:?}");
    }

    #[test]
    fn a_generator_behind_its_plan_with_idle_cpus_is_its_own_fault() {
        // 100/s × 1 ms = 0.1 needed of 8 allowed: the target was fast, yet calls were skipped.
        let a = attribute(cpu(0.3, 0.5), &paths(path(300, 1_000.0, 8)), 10_000);
        assert_eq!((a.target.len(), a.host.len()), (0, 0), "{a:?}");
        assert!(a.generator[0].contains("the generator or its in-flight bound fell behind"), "{a:?}");
        assert_eq!(attribute(cpu(0.3, 0.5), &paths(path(0, 1_000.0, 8)), 10_000), Attribution::default(), "nothing behind, nobody blamed");
    }

    #[test]
    fn a_full_queue_is_the_target_unless_the_cpu_was_saturated() {
        let mut q = path(0, 1_000.0, 2);
        q.counters = Counters {
            queue_pending_max: 9_500,
            queue_capacity: 1_000,
            queue_shards_max: 10,
            queue_shards_allowed: 10,
            queue_shards_wanted_max: 37,
            queue_lag_max_ms: 42_000,
            ..Counters::default()
        };
        let a = attribute(cpu(0.2, 0.4), &paths(q.clone()), 10_000);
        assert!(
            a.target[0].contains("the queue was full (9500 of 10000 samples pending") && a.target[0].contains("asked for up to 37 shards, 10 allowed"),
            "{a:?}"
        );
        let a = attribute(cpu(0.2, 0.95), &paths(q), 10_000);
        assert!(a.target.is_empty() && a.host.len() == 2, "{a:?}");
    }
}
