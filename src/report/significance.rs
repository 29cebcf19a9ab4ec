//! Whether a change between two runs is real: the per-interval figures of each run are samples, a
//! Mann-Whitney U test says whether they differ more than chance would, and a bootstrap gives the
//! change of the median with its confidence interval. Pure functions, deterministic (seeded).

/// The two-sided p-value of a Mann-Whitney U test of `a` against `b` (normal approximation with a
/// correction for ties; meant for ten or more samples a side).
pub fn mann_whitney(a: &[f64], b: &[f64]) -> f64 {
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    if a.is_empty() || b.is_empty() {
        return 1.0;
    }
    let mut all: Vec<(f64, bool)> = a.iter().map(|v| (*v, true)).chain(b.iter().map(|v| (*v, false))).collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    // Average ranks over ties; sum of t^3 - t over tie groups for the variance correction.
    let (mut rank_a, mut ties, mut i) = (0.0, 0.0, 0);
    while i < all.len() {
        let mut j = i;
        while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        let t = (j - i + 1) as f64;
        ties += t * t * t - t;
        rank_a += all[i..=j].iter().filter(|x| x.1).count() as f64 * rank;
        i = j + 1;
    }
    let u = rank_a - n1 * (n1 + 1.0) / 2.0;
    let n = n1 + n2;
    let variance = n1 * n2 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
    if variance <= 0.0 {
        return 1.0;
    }
    let z = ((u - n1 * n2 / 2.0).abs() - 0.5).max(0.0) / variance.sqrt();
    erfc(z / std::f64::consts::SQRT_2).min(1.0)
}

/// The relative change of the median from `a` to `b` (0.12 = +12%) and its bootstrap confidence
/// interval at `confidence`, from `rounds` resamples with a fixed seed.
pub fn median_change(a: &[f64], b: &[f64], confidence: f64, rounds: usize) -> (f64, f64, f64) {
    let change = |x: &[f64], y: &[f64]| {
        let (mx, my) = (median(x), median(y));
        if mx > 0.0 {
            my / mx - 1.0
        } else {
            0.0
        }
    };
    let estimate = change(a, b);
    if a.is_empty() || b.is_empty() {
        return (estimate, estimate, estimate);
    }
    let mut state = 0x5EED_u64;
    let mut draw = |n: usize| {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut x = state;
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((x ^ (x >> 31)) % n as u64) as usize
    };
    let mut changes: Vec<f64> = (0..rounds)
        .map(|_| {
            let ra: Vec<f64> = (0..a.len()).map(|_| a[draw(a.len())]).collect();
            let rb: Vec<f64> = (0..b.len()).map(|_| b[draw(b.len())]).collect();
            change(&ra, &rb)
        })
        .collect();
    changes.sort_by(f64::total_cmp);
    let tail = (1.0 - confidence) / 2.0;
    let at = |q: f64| changes[((q * (rounds - 1) as f64).round() as usize).min(rounds - 1)];
    (estimate, at(tail), at(1.0 - tail))
}

/// The two-sided p-value that two error ratios (`failed` of `calls`) differ: a two-proportion z-test.
/// How a statistic moved between two runs' samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shift {
    Regressed,
    Improved,
    NoSignificantChange,
}

/// The gate's rule on two samples (baseline `a`, current `b`): regressed when the ranks differ
/// (Mann-Whitney, p < `alpha`), the 95% bootstrap interval of the median change lies above zero,
/// and the change is larger than `tolerance` (a fraction); improved the same way downwards.
/// Per-interval samples of one run are not independent, so neither test alone decides.
/// Returns the shift, p, and the change with its interval.
pub fn judge_shift(a: &[f64], b: &[f64], alpha: f64, tolerance: f64, rounds: usize) -> (Shift, f64, (f64, f64, f64)) {
    let p = mann_whitney(a, b);
    let (est, lo, hi) = median_change(a, b, 0.95, rounds);
    let shift = if p < alpha && lo > 0.0 && est > tolerance {
        Shift::Regressed
    } else if p < alpha && hi < 0.0 && est < -tolerance {
        Shift::Improved
    } else {
        Shift::NoSignificantChange
    };
    (shift, p, (est, lo, hi))
}

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

fn median(x: &[f64]) -> f64 {
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

    /// Deterministic draws of per-interval latencies: a lognormal-ish spread around `median`.
    fn draws(seed: u64, n: usize, median: f64) -> Vec<f64> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                let mut sum = 0.0;
                for _ in 0..4 {
                    s ^= s << 13;
                    s ^= s >> 7;
                    s ^= s << 17;
                    sum += (s % 1_000_000) as f64 / 1_000_000.0;
                }
                median * ((sum - 2.0) * 0.35).exp()
            })
            .collect()
    }

    /// The gate's rule: significant at 5% and more than 10% slower.
    fn regressed(a: &[f64], b: &[f64]) -> bool {
        judge_shift(a, b, 0.05, 0.10, 400).0 == Shift::Regressed
    }

    #[test]
    fn the_same_distribution_rarely_looks_like_a_regression() {
        let alarms = (0..200).filter(|k| regressed(&draws(2 * k + 1, 24, 100.0), &draws(2 * k + 2, 24, 100.0))).count();
        assert!(alarms <= 10, "{alarms} false alarms in 200 A/A pairs (at most 5%)");
        let two_sided = (0..200).filter(|k| mann_whitney(&draws(2 * k + 1, 24, 100.0), &draws(2 * k + 2, 24, 100.0)) < 0.05).count();
        assert!(two_sided <= 16, "{two_sided} of 200 A/A pairs at p < 0.05");
    }

    #[test]
    fn a_real_thirty_percent_slowdown_is_found_with_its_interval() {
        let found = (0..50).filter(|k| regressed(&draws(1000 + k, 24, 100.0), &draws(2000 + k, 24, 130.0))).count();
        assert!(found >= 45, "found in {found} of 50 pairs");
        let (est, lo, hi) = median_change(&draws(7, 24, 100.0), &draws(8, 24, 130.0), 0.95, 1000);
        assert!(lo < est && est < hi && lo > 0.0, "{est} [{lo}, {hi}]");
        assert!((0.15..0.45).contains(&est), "{est}");
    }

    #[test]
    fn error_ratios_are_compared_as_proportions() {
        assert!(proportions(1, 1000, 2, 1000) > 0.5, "1 and 2 failures in 1000 are the same");
        assert!(proportions(1, 1000, 40, 1000) < 0.001);
        assert_eq!(proportions(0, 0, 5, 10), 1.0);
    }
}
