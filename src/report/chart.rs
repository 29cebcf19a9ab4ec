//! Line charts as inline SVG for the HTML report: lines over x (log y optional), horizontal
//! thresholds, shaded ranges and marks, with a legend. Ticks come from `axis` (1-2-5 steps in the
//! axis's unit, decades on log axes); every point carries its value as an SVG `<title>` (shown on
//! hover, no script); a chart scales to the page width (`viewBox`); a threshold far above the data
//! is named at the edge instead of squashing the data. Nothing fetched.

use super::axis::{self, Unit};
use std::fmt::Write;

const W: f64 = 960.0;
const H: f64 = 280.0;
const PAD: f64 = 64.0;

/// A colour-blind-safe palette (Okabe and Ito).
pub const PALETTE: [&str; 7] = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"];

/// One line of a chart.
pub struct Series {
    pub name: String,
    pub colour: &'static str,
    pub points: Vec<(f64, f64)>,
    pub dash: Dash,
    /// What to add to each point's hover text (its interval and count), when known.
    pub notes: Vec<String>,
}

#[derive(Clone, Copy, PartialEq)]
pub enum Dash {
    Solid,
    Dashed,
    Dotted,
}

/// A chart: lines over x, optional log y, horizontal thresholds, shaded x ranges and marks.
#[derive(Default)]
pub struct Chart {
    pub id: String,
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub log_y: bool,
    pub series: Vec<Series>,
    pub thresholds: Vec<(f64, String)>,
    pub shaded: Vec<(f64, f64, String)>,
    pub marks: Vec<(f64, String)>,
    /// What the axes' numbers are: they decide the ticks and how values read.
    pub x_unit: Unit,
    pub y_unit: Unit,
    /// Ticks of the x axis when it is not numeric in `x_unit` (percentiles).
    pub x_ticks: Option<Vec<(f64, String)>>,
    /// What to say instead of a chart when no series has a point.
    pub empty: Option<String>,
}

/// Text for HTML and SVG.
pub fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

impl Chart {
    pub fn svg(&self) -> String {
        let Some(scale) = Scale::of(self) else {
            let empty = self.empty.as_deref().unwrap_or("nothing measured");
            return format!("<figure id=\"{}\"><figcaption>{}</figcaption><p class=\"empty\">{}</p></figure>", self.id, esc(&self.title), esc(empty));
        };
        let mut s = format!(
            "<figure id=\"{}\"><figcaption>{}</figcaption><svg viewBox=\"0 0 {W} {H}\" preserveAspectRatio=\"xMidYMid meet\" style=\"width:100%;height:auto\" role=\"img\">",
            self.id,
            esc(&self.title)
        );
        self.frame(&mut s, &scale);
        self.overlays(&mut s, &scale);
        self.lines(&mut s, &scale);
        s.push_str("</svg><div class=\"legend\">");
        for series in &self.series {
            let _ = write!(s, "<span><i style=\"border-top:3px {} {}\"></i>{}</span>", series.dash.css(), series.colour, esc(&series.name));
        }
        s.push_str("</div></figure>");
        s
    }

    /// Shaded ranges, axes, ticks and labels.
    fn frame(&self, s: &mut String, k: &Scale) {
        for (a, b, label) in &self.shaded {
            let (x, width) = (k.x(a.max(k.x0)), (k.x(b.min(k.x1)) - k.x(a.max(k.x0))).max(0.0));
            let _ = write!(
                s,
                "<rect class=\"shade\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{width:.1}\" height=\"{:.1}\"><title>{}</title></rect>",
                PAD - 10.0,
                H - 2.0 * PAD + 20.0,
                esc(label)
            );
            let _ = write!(
                s,
                "<text class=\"tick shade-label\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                x + 3.0,
                PAD - 1.0,
                esc(label.split(" (").next().unwrap_or(label))
            );
        }
        let _ = write!(s, "<line class=\"axis\" x1=\"{PAD}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>", H - PAD + 10.0, W - PAD, H - PAD + 10.0);
        let _ = write!(s, "<line class=\"axis\" x1=\"{PAD}\" y1=\"{}\" x2=\"{PAD}\" y2=\"{}\"/>", PAD - 10.0, H - PAD + 10.0);
        let y_scale = if self.log_y { "log" } else { "linear" };
        for (v, label) in &k.y_ticks.at {
            let y = k.y(*v);
            let _ = write!(s, "<line class=\"grid\" x1=\"{PAD}\" y1=\"{y:.1}\" x2=\"{}\" y2=\"{y:.1}\"/>", W - PAD);
            let _ = write!(
                s,
                "<text class=\"tick\" data-axis=\"y\" data-scale=\"{y_scale}\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                PAD - 4.0,
                y + 4.0,
                esc(label)
            );
        }
        let x_scale = if self.x_ticks.is_some() { "custom" } else { "linear" };
        for (x, label) in k.x_ticks.iter().filter(|(x, _)| *x >= k.x0 - 1e-9 && *x <= k.x1 + 1e-9) {
            let _ = write!(
                s,
                "<text class=\"tick\" data-axis=\"x\" data-scale=\"{x_scale}\" x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                k.x(*x),
                H - PAD + 26.0,
                esc(label)
            );
        }
        let _ = write!(s, "<text class=\"label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>", W / 2.0, H - 6.0, esc(&self.x_label));
        let _ = write!(s, "<text class=\"label\" x=\"{}\" y=\"{}\" text-anchor=\"start\">{}</text>", PAD - 40.0, PAD - 22.0, esc(&self.y_label));
    }

    /// Thresholds (horizontal; named at the top edge when far above the data) and marks (vertical).
    fn overlays(&self, s: &mut String, k: &Scale) {
        let mut off = 0.0;
        for (value, label) in &self.thresholds {
            if *value > k.y_ticks.hi * (1.0 + 1e-9) {
                let _ = write!(
                    s,
                    "<text class=\"tick threshold-label offscale\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{} (off scale: {} ↑)</text>",
                    W - PAD,
                    PAD - 14.0 - off,
                    esc(label),
                    esc(&axis::show(*value, self.y_unit))
                );
                off += 12.0;
                continue;
            }
            let y = k.y(*value);
            let _ = write!(s, "<line class=\"threshold\" x1=\"{PAD}\" y1=\"{y:.1}\" x2=\"{}\" y2=\"{y:.1}\"><title>{}</title></line>", W - PAD, esc(label));
            let _ = write!(s, "<text class=\"tick threshold-label\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>", W - PAD, y - 3.0, esc(label));
        }
        for (i, (x, label)) in self.marks.iter().enumerate() {
            let x = k.x(*x);
            let _ = write!(
                s,
                "<line class=\"mark\" x1=\"{x:.1}\" y1=\"{}\" x2=\"{x:.1}\" y2=\"{}\"><title>{}</title></line>",
                PAD - 10.0,
                H - PAD + 10.0,
                esc(label)
            );
            // Near the right edge a label reads leftwards of its line, so it is never cut off.
            let (lx, anchor) = if x > W - PAD - 180.0 { (x - 3.0, "end") } else { (x + 3.0, "start") };
            let _ = write!(
                s,
                "<text class=\"tick mark-label\" x=\"{lx:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\">{}</text>",
                PAD + 14.0 + 12.0 * i as f64,
                esc(label)
            );
        }
    }

    /// Each series as a line, and every point as a marker carrying its value on hover.
    fn lines(&self, s: &mut String, k: &Scale) {
        let x_of = |x: f64| match &self.x_ticks {
            Some(_) => format!("{x:.2}"),
            None => axis::show(x, self.x_unit),
        };
        for series in &self.series {
            let kept: Vec<(f64, f64, Option<&String>)> = series
                .points
                .iter()
                .enumerate()
                .filter(|(_, (x, y))| x.is_finite() && y.is_finite() && (!self.log_y || *y > 0.0) && *y <= k.y_ticks.hi * 1.000_001)
                .map(|(i, (x, y))| (*x, *y, series.notes.get(i)))
                .collect();
            let points: Vec<String> = kept.iter().map(|(x, y, _)| format!("{:.1},{:.1}", k.x(*x), k.y(*y))).collect();
            let dash = match series.dash {
                Dash::Solid => "",
                Dash::Dashed => " stroke-dasharray=\"7 4\"",
                Dash::Dotted => " stroke-dasharray=\"1.5 3\"",
            };
            let _ = write!(
                s,
                "<polyline class=\"series\" data-series=\"{}\" fill=\"none\" stroke=\"{}\"{dash} points=\"{}\"><title>{}</title></polyline>",
                esc(&series.name),
                series.colour,
                points.join(" "),
                esc(&series.name)
            );
            let _ = write!(s, "<g class=\"points\" fill=\"{}\">", series.colour);
            for (x, y, note) in &kept {
                let _ = write!(
                    s,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"{}\"><title>{}: {} at {}{}</title></circle>",
                    k.x(*x),
                    k.y(*y),
                    series.dash.marker(),
                    esc(&series.name),
                    esc(&axis::show(*y, self.y_unit)),
                    esc(&x_of(*x)),
                    note.map_or(String::new(), |n| format!(" ({})", esc(n)))
                );
            }
            s.push_str("</g>");
        }
    }
}

/// From data to the drawing: the ranges of a chart, its ticks, and where a value lands.
struct Scale {
    x0: f64,
    x1: f64,
    x_ticks: Vec<(f64, String)>,
    y_ticks: axis::Ticks,
    log_y: bool,
}

impl Scale {
    /// The ranges that hold every point, nearby threshold and shaded range, widened to whole
    /// ticks; `None` when nothing was measured. A threshold more than five times the data's top
    /// is left off the scale (the chart names it at the edge).
    fn of(c: &Chart) -> Option<Scale> {
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for (x, y) in c.series.iter().flat_map(|s| s.points.iter().copied()) {
            if x.is_finite() {
                (x0, x1) = (x0.min(x), x1.max(x));
            }
            if y.is_finite() && (!c.log_y || y > 0.0) {
                (y0, y1) = (y0.min(y), y1.max(y));
            }
        }
        if x0 > x1 || y0 > y1 {
            return None;
        }
        // Data that is all zero (no errors) is no scale to hold a threshold off: it is drawn.
        let data_top = if y1 > 0.0 { y1 } else { f64::INFINITY };
        for (t, _) in c.thresholds.iter().filter(|(t, _)| t.is_finite() && *t <= 5.0 * data_top && (!c.log_y || *t > 0.0)) {
            (y0, y1) = (y0.min(*t), y1.max(*t));
        }
        for (a, b, _) in &c.shaded {
            (x0, x1) = (x0.min(*a), x1.max(*b));
        }
        let y_ticks = if c.log_y { axis::log(y0, y1, c.y_unit) } else { axis::linear(y0.min(0.0), y1, c.y_unit) };
        let x_ticks = match &c.x_ticks {
            Some(t) => t.clone(),
            None => {
                let t = axis::linear(x0, x1, c.x_unit);
                (x0, x1) = (t.lo, t.hi);
                t.at
            }
        };
        if x1 - x0 < 1e-9 {
            x1 = x0 + 1.0;
        }
        Some(Scale { x0, x1, x_ticks, y_ticks, log_y: c.log_y })
    }

    fn t(&self, y: f64) -> f64 {
        if self.log_y {
            y.max(1e-9).log10()
        } else {
            y
        }
    }

    fn x(&self, x: f64) -> f64 {
        PAD + (x - self.x0) / (self.x1 - self.x0) * (W - 2.0 * PAD)
    }

    fn y(&self, y: f64) -> f64 {
        let (l0, l1) = (self.t(self.y_ticks.lo), self.t(self.y_ticks.hi));
        H - PAD + 10.0 - (self.t(y) - l0) / (l1 - l0).max(1e-9) * (H - 2.0 * PAD)
    }
}

impl Dash {
    /// Marker sizes differ with the dash, so lines read apart without colour too.
    fn marker(self) -> f64 {
        match self {
            Dash::Solid => 2.6,
            Dash::Dashed => 2.0,
            Dash::Dotted => 1.6,
        }
    }

    fn css(self) -> &'static str {
        match self {
            Dash::Solid => "solid",
            Dash::Dashed => "dashed",
            Dash::Dotted => "dotted",
        }
    }
}
