//! Axis ticks a person reads at a glance: linear axes on 1-2-5 × 10ⁿ steps in the axis's own unit
//! (µs, ms and s for durations; B, KiB, MiB and GiB for bytes; counts with thousands separators;
//! seconds or minutes since the start for time), log axes at decades with 2 and 5 between where
//! they fit, and never more decimals than the step needs. Pure functions.

/// What an axis's numbers are, in the charts' base units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Unit {
    /// A plain number (rates).
    #[default]
    Plain,
    /// A whole count, shown with thousands separators.
    Count,
    /// Microseconds, shown as µs, ms or s.
    Micros,
    /// Seconds (time since the start, lag), shown as s or min.
    Seconds,
    /// Bytes, shown as B, KiB, MiB or GiB.
    Bytes,
    /// A fraction, shown as a percentage.
    Ratio,
}

/// An axis: the range it spans (widened to whole ticks) and its ticks with their labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Ticks {
    pub lo: f64,
    pub hi: f64,
    pub at: Vec<(f64, String)>,
}

/// The smallest step of 1, 2 or 5 × 10ⁿ that is at least `raw`.
pub fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let power = 10f64.powf(raw.log10().floor());
    let m = raw / power;
    let nice = if m <= 1.0 + 1e-9 {
        1.0
    } else if m <= 2.0 + 1e-9 {
        2.0
    } else if m <= 5.0 + 1e-9 {
        5.0
    } else {
        10.0
    };
    nice * power
}

/// The display scale of a unit for values up to `top`: the factor a base value is divided by,
/// and the suffix.
fn display(unit: Unit, top: f64) -> (f64, &'static str) {
    match unit {
        Unit::Micros if top >= 1e6 => (1e6, "s"),
        Unit::Micros if top >= 1e3 => (1e3, "ms"),
        Unit::Micros => (1.0, "µs"),
        Unit::Seconds if top >= 600.0 => (60.0, "min"),
        Unit::Seconds => (1.0, "s"),
        Unit::Bytes => {
            let (mut factor, mut suffix) = (1.0, "B");
            for s in ["KiB", "MiB", "GiB", "TiB"] {
                if top >= factor * 1024.0 {
                    factor *= 1024.0;
                    suffix = s;
                }
            }
            (factor, suffix)
        }
        Unit::Ratio => (0.01, "%"),
        Unit::Plain | Unit::Count => (1.0, ""),
    }
}

/// Decimals a step needs: none for whole steps, one for 0.5 or 0.1, two for 0.05 …
fn decimals_for(step: f64) -> usize {
    if step >= 1.0 - 1e-9 {
        0
    } else {
        (-step.log10() - 1e-9).ceil().max(0.0) as usize
    }
}

/// A number with thousands separators and `decimals` decimals.
pub fn separated(v: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, v.abs());
    let (whole, frac) = text.split_once('.').map_or((text.as_str(), None), |(w, f)| (w, Some(f)));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if v < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') { "-" } else { "" };
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

fn label(v: f64, factor: f64, suffix: &str, decimals: usize) -> String {
    let number = separated(v / factor, decimals);
    match suffix {
        "" => number,
        "%" => format!("{number}%"),
        s => format!("{number} {s}"),
    }
}

/// Ticks of a linear axis holding `lo..hi`: about five steps of 1, 2 or 5 × 10ⁿ in the unit shown.
pub fn linear(lo: f64, hi: f64, unit: Unit) -> Ticks {
    let (lo, hi) = if hi > lo { (lo, hi) } else { (lo, lo + 1.0) };
    let (factor, suffix) = display(unit, hi.abs().max(lo.abs()));
    let mut step = nice_step((hi - lo) / factor / 5.0);
    if matches!(unit, Unit::Count) {
        step = step.max(1.0);
    }
    if matches!(unit, Unit::Seconds) && factor == 60.0 && step < 1.0 {
        step = 1.0;
    }
    let first = (lo / factor / step + 1e-9).floor() * step;
    let last = (hi / factor / step - 1e-9).ceil() * step;
    let decimals = decimals_for(step);
    let n = ((last - first) / step).round() as usize;
    let at = (0..=n).map(|i| first + i as f64 * step).map(|v| (v * factor, label(v * factor, factor, suffix, decimals))).collect();
    Ticks { lo: first * factor, hi: last * factor, at }
}

/// Ticks of a log axis holding `lo..hi` (both > 0): every decade, and 2 and 5 between them when
/// the axis spans three decades or fewer.
pub fn log(lo: f64, hi: f64, unit: Unit) -> Ticks {
    let lo = lo.max(1e-9);
    let hi = hi.max(lo * 10.0f64.powf(0.3));
    let (d0, d1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let fill = d1 - d0 <= 3;
    let mut values = Vec::new();
    for d in d0..=d1 {
        let p = 10f64.powi(d);
        values.push(p);
        if fill && d < d1 {
            values.extend([2.0 * p, 5.0 * p]);
        }
    }
    let lo = values.iter().copied().rfind(|v| *v <= lo * (1.0 + 1e-9)).unwrap_or(values[0]);
    let hi = values.iter().copied().find(|v| *v >= hi * (1.0 - 1e-9)).unwrap_or(10f64.powi(d1));
    let values: Vec<f64> = values.into_iter().filter(|v| *v >= lo && *v <= hi).collect();
    let at = values
        .iter()
        .map(|&v| {
            let (factor, suffix) = display(unit, v);
            let shown = v / factor;
            (v, label(v, factor, suffix, if shown >= 1.0 { 0 } else { (-(shown.log10()).floor()) as usize }))
        })
        .collect();
    Ticks { lo, hi, at }
}

/// One value as people read it, in the unit's own scale (hover titles, notes).
pub fn show(v: f64, unit: Unit) -> String {
    let (factor, suffix) = display(unit, v.abs());
    let shown = v / factor;
    let decimals = match unit {
        Unit::Count => 0,
        _ if shown.abs() >= 1000.0 || shown == shown.trunc() => 0,
        _ if shown.abs() >= 100.0 => 1,
        _ => 2,
    };
    label(v, factor, suffix, decimals)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(t: &Ticks) -> Vec<&str> {
        t.at.iter().map(|(_, l)| l.as_str()).collect()
    }

    #[test]
    fn steps_are_one_two_or_five_times_a_power_of_ten() {
        assert_eq!([nice_step(0.7), nice_step(1.3), nice_step(3.1), nice_step(7.0), nice_step(0.013)], [1.0, 2.0, 5.0, 10.0, 0.02]);
    }

    #[test]
    fn latency_axes_step_in_the_unit_shown() {
        // The report's old axis: 47.71 ms, 189.73 ms, 754.44 ms. Now round milliseconds.
        let t = linear(40_000.0, 760_000.0, Unit::Micros);
        assert_eq!(labels(&t), ["0 ms", "200 ms", "400 ms", "600 ms", "800 ms"]);
        assert_eq!((t.lo, t.hi), (0.0, 800_000.0));
        assert_eq!(labels(&linear(1_695_000.0, 2_134_000.0, Unit::Micros)), ["1.6 s", "1.7 s", "1.8 s", "1.9 s", "2.0 s", "2.1 s", "2.2 s"]);
    }

    #[test]
    fn counts_have_separators_and_time_is_in_round_seconds() {
        assert_eq!(labels(&linear(20_000.0, 90_000.0, Unit::Count)), ["20,000", "40,000", "60,000", "80,000", "100,000"]);
        assert_eq!(labels(&linear(0.0, 65.0, Unit::Seconds)), ["0 s", "20 s", "40 s", "60 s", "80 s"]);
        assert_eq!(labels(&linear(0.0, 3_600.0, Unit::Seconds)), ["0 min", "20 min", "40 min", "60 min"]);
        assert_eq!(labels(&linear(0.0, 3.0, Unit::Count)), ["0", "1", "2", "3"]);
        assert_eq!(separated(1_234_567.891, 2), "1,234,567.89");
    }

    #[test]
    fn bytes_step_in_binary_units() {
        assert_eq!(labels(&linear(50.0 * 1048576.0, 110.0 * 1048576.0, Unit::Bytes)), ["40 MiB", "60 MiB", "80 MiB", "100 MiB", "120 MiB"]);
    }

    #[test]
    fn log_axes_show_decades_and_two_and_five_between_them() {
        let t = log(4_070.0, 13_150.0, Unit::Micros);
        assert_eq!(labels(&t), ["2 ms", "5 ms", "10 ms", "20 ms"]);
        let wide = log(50.0, 50_000_000.0, Unit::Micros);
        assert_eq!(labels(&wide), ["10 µs", "100 µs", "1 ms", "10 ms", "100 ms", "1 s", "10 s", "100 s"]);
    }

    #[test]
    fn single_values_read_in_their_unit() {
        assert_eq!(show(13_150.0, Unit::Micros), "13.15 ms");
        assert_eq!(show(120_000.0, Unit::Count), "120,000");
        assert_eq!(show(0.0125, Unit::Ratio), "1.25%");
        assert_eq!(show(2.5 * 1048576.0, Unit::Bytes), "2.50 MiB");
    }
}
