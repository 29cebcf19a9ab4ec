//! Whether a change between runs is real. The intervals within one run are not independent samples
//! of what the next run will do (the machine, the target's state and the neighbours all change
//! between runs), so the gate judges runs: each run's figure is one sample, the baseline runs'
//! spread is the noise, and a t-test on the logarithms (a ratio of geometric means, with its
//! confidence interval) says whether the candidate runs differ more than that noise. Error ratios
//! are compared as proportions. Pure functions.

/// A statistic's change from baseline runs to candidate runs, judged on the runs themselves.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunLevel {
    /// Ratio of the geometric means minus one (0.12 = +12%), and its 95% confidence interval.
    pub change: f64,
    pub low: f64,
    pub high: f64,
    /// Two-sided p-value of the t-test on the logarithms.
    pub p: f64,
    /// The baseline's run-to-run spread: the largest deviation of one baseline run from their
    /// geometric mean (0.09 = the runs vary ±9%). A change inside it is never a regression.
    pub spread: f64,
}

/// Baseline runs needed before run-to-run noise can be estimated.
pub const MIN_BASELINE_RUNS: usize = 3;

/// Judges candidate runs' figures against baseline runs' figures (all positive): `None` with fewer
/// than `MIN_BASELINE_RUNS` baseline runs or no candidate. The variance is pooled over both sides
/// (one candidate run has none of its own: the baseline's then stands for it, the prediction form).
pub fn judge_runs(baseline: &[f64], candidate: &[f64]) -> Option<RunLevel> {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    if baseline.len() < MIN_BASELINE_RUNS || candidate.is_empty() || baseline.iter().chain(candidate).any(|v| *v <= 0.0) {
        return None;
    }
    let logs = |x: &[f64]| x.iter().map(|v| v.ln()).collect::<Vec<f64>>();
    let (lb, lc) = (logs(baseline), logs(candidate));
    let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
    let (mb, mc) = (mean(&lb), mean(&lc));
    let squares = |x: &[f64], m: f64| x.iter().map(|v| (v - m).powi(2)).sum::<f64>();
    let (k, m) = (lb.len() as f64, lc.len() as f64);
    // One candidate run brings no variance of its own: the baseline's k - 1 degrees of freedom.
    let df = if lc.len() == 1 { k - 1.0 } else { k + m - 2.0 };
    let pooled = (squares(&lb, mb) + squares(&lc, mc)) / df;
    let se = (pooled * (1.0 / k + 1.0 / m)).sqrt();
    let diff = mc - mb;
    let t = StudentsT::new(0.0, 1.0, df).ok()?;
    let (p, margin) = if se > 0.0 { (2.0 * (1.0 - t.cdf((diff / se).abs())), t.inverse_cdf(0.975) * se) } else { (if diff == 0.0 { 1.0 } else { 0.0 }, 0.0) };
    let spread = lb.iter().map(|v| ((v - mb).exp() - 1.0).abs()).fold(0.0, f64::max);
    Some(RunLevel { change: diff.exp() - 1.0, low: (diff - margin).exp() - 1.0, high: (diff + margin).exp() - 1.0, p: p.clamp(0.0, 1.0), spread })
}

/// How a statistic moved, by the gate's rule on runs: regressed when the change is significant
/// (p < `alpha`, its interval above zero), larger than `tolerance`, and outside the baseline's own
/// run-to-run spread; improved the same way downwards; "within the spread" when significant but
/// inside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shift {
    Regressed,
    Improved,
    WithinSpread,
    NoSignificantChange,
}

pub fn shift(r: &RunLevel, alpha: f64, tolerance: f64) -> Shift {
    let significant_up = r.p < alpha && r.low > 0.0;
    let significant_down = r.p < alpha && r.high < 0.0;
    match () {
        _ if significant_up && r.change > tolerance && r.change > r.spread => Shift::Regressed,
        _ if significant_down && -r.change > tolerance && -r.change > r.spread => Shift::Improved,
        _ if significant_up || significant_down => Shift::WithinSpread,
        _ => Shift::NoSignificantChange,
    }
}

/// Holm's step-down adjustment of p-values for testing several statistics at once (each run
/// compared on every path's p50 and p99): adjusted p-values in the input's order, so that
/// `adjusted < alpha` keeps the chance of any false alarm among them under `alpha`.
pub fn holm(ps: &[f64]) -> Vec<f64> {
    let n = ps.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|a, b| ps[*a].total_cmp(&ps[*b]));
    let mut adjusted = vec![1.0; n];
    let mut running = 0.0_f64;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((n - rank) as f64 * ps[i]).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

/// The two-sided p-value that two error ratios (`failed` of `calls`) differ: a two-proportion z-test.
pub fn proportions(failed_a: u64, calls_a: u64, failed_b: u64, calls_b: u64) -> f64 {
    if calls_a == 0 || calls_b == 0 {
        return 1.0;
    }
    let (pa, pb) = (failed_a as f64 / calls_a as f64, failed_b as f64 / calls_b as f64);
    let pooled = (failed_a + failed_b) as f64 / (calls_a + calls_b) as f64;
    let se = (pooled * (1.0 - pooled) * (1.0 / calls_a as f64 + 1.0 / calls_b as f64)).sqrt();
    if se == 0.0 {
        return if pa == pb { 1.0 } else { 0.0 };
    }
    erfc(((pb - pa).abs() / se) / std::f64::consts::SQRT_2).min(1.0)
}

/// The median of some figures.
pub fn median(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The complementary error function (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06 + t * (0.278_868_07 + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic stream of standard normal draws (xorshift + Box-Muller).
    struct Normal(u64);

    impl Normal {
        fn uniform(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        }

        fn next(&mut self) -> f64 {
            (-2.0 * self.uniform().ln()).sqrt() * (2.0 * std::f64::consts::PI * self.uniform()).cos()
        }
    }

    /// Runs' p99s: each run the true figure × a between-run effect (σ 8%, the spread measured
    /// between fresh-target runs on one machine) × its own within-run noise (σ 3%).
    fn runs(g: &mut Normal, n: usize, true_ms: f64) -> Vec<f64> {
        (0..n).map(|_| true_ms * (0.08 * g.next()).exp() * (0.03 * g.next()).exp()).collect()
    }

    /// 200 pairs of 5 baseline runs and 3 candidate runs: how often the gate says regressed, and
    /// how often anything significant.
    fn rates(shift_by: f64) -> (usize, usize) {
        let mut g = Normal(0x5EED_1234_ABCD_0001);
        let (mut regressed, mut significant) = (0, 0);
        for _ in 0..200 {
            let (b, c) = (runs(&mut g, 5, 100.0), runs(&mut g, 3, 100.0 * (1.0 + shift_by)));
            let r = judge_runs(&b, &c).unwrap();
            regressed += usize::from(shift(&r, 0.05, 0.10) == Shift::Regressed);
            significant += usize::from(r.p < 0.05);
        }
        (regressed, significant)
    }

    #[test]
    fn run_to_run_noise_without_a_change_is_rarely_called_a_regression() {
        let (regressed, significant) = rates(0.0);
        eprintln!("A/A, 200 pairs of 5 + 3 runs with 8% between-run noise: {regressed} regressed, {significant} significant either way");
        assert!(regressed <= 10, "{regressed} false regressions in 200 (at most 5%)");
        assert!(significant <= 20, "{significant} significant in 200 (at most 10%)");
    }

    #[test]
    fn a_real_thirty_percent_slowdown_is_found() {
        let (regressed, _) = rates(0.30);
        eprintln!("+30%, 200 pairs of 5 + 3 runs with 8% between-run noise: found {regressed}");
        assert!(regressed >= 180, "found in {regressed} of 200 (at least 90%)");
    }

    #[test]
    fn the_change_comes_with_its_interval_and_the_baselines_spread() {
        let r = judge_runs(&[100.0, 110.0, 95.0, 105.0, 100.0], &[131.0, 128.0, 135.0]).unwrap();
        assert!(r.low < r.change && r.change < r.high && r.low > 0.0, "{r:?}");
        assert!((0.25..0.35).contains(&r.change), "{r:?}");
        assert!((0.07..0.09).contains(&r.spread), "the runs vary about ±8%: {r:?}");
        assert_eq!(shift(&r, 0.05, 0.10), Shift::Regressed);
        // Significant, but inside a baseline that itself varies by ±40%: never a regression.
        let wide = RunLevel { change: 0.2, low: 0.05, high: 0.4, p: 0.01, spread: 0.4 };
        assert_eq!(shift(&wide, 0.05, 0.10), Shift::WithinSpread);
    }

    #[test]
    fn fewer_than_three_baseline_runs_cannot_estimate_noise() {
        assert_eq!(judge_runs(&[100.0, 101.0], &[150.0]), None);
        assert!(judge_runs(&[100.0, 101.0, 99.0], &[150.0]).is_some());
    }

    /// A comparison tests many statistics at once (p50 and p99 of every path): 200 comparisons of
    /// 8 statistics, each 5 baseline and 3 candidate runs, Holm-adjusted; `shifted` of them truly
    /// 30% slower. Returns (comparisons with any false regression, shifted statistics found).
    fn family_rates(shifted: usize) -> (usize, usize) {
        let mut g = Normal(0xFA11_7E57);
        let (mut false_alarms, mut found) = (0, 0);
        for _ in 0..200 {
            let judged: Vec<RunLevel> =
                (0..8).map(|i| judge_runs(&runs(&mut g, 5, 100.0), &runs(&mut g, 3, if i < shifted { 130.0 } else { 100.0 })).unwrap()).collect();
            let adjusted = holm(&judged.iter().map(|r| r.p).collect::<Vec<_>>());
            let regressed: Vec<bool> = judged.iter().zip(&adjusted).map(|(r, p)| shift(&RunLevel { p: *p, ..*r }, 0.05, 0.10) == Shift::Regressed).collect();
            false_alarms += usize::from(regressed[shifted..].iter().any(|r| *r));
            found += regressed[..shifted].iter().filter(|r| **r).count();
        }
        (false_alarms, found)
    }

    #[test]
    fn testing_every_statistic_at_once_keeps_the_false_alarms_of_a_whole_comparison_low() {
        let (false_alarms, _) = family_rates(0);
        let (_, found) = family_rates(1);
        eprintln!("comparisons of 8 statistics (5 + 3 runs, Holm): {false_alarms} of 200 with a false regression; a +30% statistic found in {found} of 200");
        assert!(false_alarms <= 10, "{false_alarms} of 200 comparisons with a false alarm (at most 5%)");
        assert!(found >= 100, "a +30% shift among 8 statistics found in {found} of 200");
    }

    #[test]
    fn holm_adjusts_for_the_number_of_statistics_tested() {
        let adjusted = holm(&[0.02, 0.001, 0.04, 0.5]);
        // Sorted 0.001, 0.02, 0.04, 0.5 → ×4, ×3, ×2, ×1, kept monotone.
        assert_eq!(adjusted, [0.06, 0.004, 0.08, 0.5]);
        assert_eq!(holm(&[0.03]), [0.03]);
        assert!(holm(&[]).is_empty());
    }

    #[test]
    fn error_ratios_are_compared_as_proportions() {
        assert!(proportions(1, 1000, 2, 1000) > 0.5, "1 and 2 failures in 1000 are the same");
        assert!(proportions(1, 1000, 40, 1000) < 0.001);
        assert_eq!(proportions(0, 0, 5, 10), 1.0);
    }
}
