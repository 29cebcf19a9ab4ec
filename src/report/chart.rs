//! Line charts as inline SVG for the HTML report: lines over x (log y optional), horizontal
//! thresholds, shaded ranges and marks, with a legend. No script, nothing fetched.

use std::fmt::Write;

const W: f64 = 720.0;
const H: f64 = 260.0;
const PAD: f64 = 60.0;

/// One line of a chart.
pub struct Series {
    pub name: String,
    pub colour: &'static str,
    pub points: Vec<(f64, f64)>,
    pub dash: Dash,
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
    pub y_fmt: Option<fn(f64) -> String>,
    pub x_ticks: Option<Vec<(f64, String)>>,
}

/// Text for HTML and SVG.
pub fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

impl Chart {
    pub fn svg(&self) -> String {
        let Some(scale) = Scale::of(self) else {
            return format!("<figure id=\"{}\"><figcaption>{}</figcaption><p class=\"empty\">nothing measured</p></figure>", self.id, esc(&self.title));
        };
        let mut s = format!(
            "<figure id=\"{}\"><figcaption>{}</figcaption><svg viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" role=\"img\">",
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
            let (x, width) = (k.x(*a), (k.x(*b) - k.x(*a)).max(0.0));
            let _ = write!(
                s,
                "<rect class=\"shade\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{width:.1}\" height=\"{:.1}\"><title>{}</title></rect>",
                PAD - 10.0,
                H - 2.0 * PAD + 20.0,
                esc(label)
            );
        }
        let _ = write!(s, "<line class=\"axis\" x1=\"{PAD}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>", H - PAD + 10.0, W - PAD, H - PAD + 10.0);
        let _ = write!(s, "<line class=\"axis\" x1=\"{PAD}\" y1=\"{}\" x2=\"{PAD}\" y2=\"{}\"/>", PAD - 10.0, H - PAD + 10.0);
        let fmt = self.y_fmt.unwrap_or(|v| format!("{v:.3}"));
        for i in 0..=4 {
            let v = k.y_tick(i as f64 / 4.0);
            let _ = write!(s, "<text class=\"tick\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>", PAD - 4.0, k.y(v) + 4.0, esc(&fmt(v)));
        }
        let decimals = if k.x1 - k.x0 < 10.0 { 1 } else { 0 };
        let ticks =
            self.x_ticks.clone().unwrap_or_else(|| (0..=4).map(|i| k.x0 + (k.x1 - k.x0) * i as f64 / 4.0).map(|x| (x, format!("{x:.decimals$}"))).collect());
        for (x, label) in ticks.iter().filter(|(x, _)| *x >= k.x0 && *x <= k.x1) {
            let _ = write!(s, "<text class=\"tick\" x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>", k.x(*x), H - PAD + 26.0, esc(label));
        }
        let _ = write!(s, "<text class=\"label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>", W / 2.0, H - 6.0, esc(&self.x_label));
        let _ = write!(s, "<text class=\"label\" x=\"{}\" y=\"{}\" text-anchor=\"start\">{}</text>", PAD - 40.0, PAD - 22.0, esc(&self.y_label));
    }

    /// Thresholds (horizontal) and marks (vertical).
    fn overlays(&self, s: &mut String, k: &Scale) {
        for (y, label) in &self.thresholds {
            let y = k.y(*y);
            let _ = write!(s, "<line class=\"threshold\" x1=\"{PAD}\" y1=\"{y:.1}\" x2=\"{}\" y2=\"{y:.1}\"><title>{}</title></line>", W - PAD, esc(label));
            let _ = write!(s, "<text class=\"tick threshold-label\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>", W - PAD, y - 3.0, esc(label));
        }
        for (x, label) in &self.marks {
            let x = k.x(*x);
            let _ = write!(
                s,
                "<line class=\"mark\" x1=\"{x:.1}\" y1=\"{}\" x2=\"{x:.1}\" y2=\"{}\"><title>{}</title></line>",
                PAD - 10.0,
                H - PAD + 10.0,
                esc(label)
            );
        }
    }

    fn lines(&self, s: &mut String, k: &Scale) {
        for series in &self.series {
            let points: Vec<String> = series
                .points
                .iter()
                .filter(|(x, y)| x.is_finite() && y.is_finite() && (!self.log_y || *y > 0.0))
                .map(|(x, y)| format!("{:.1},{:.1}", k.x(*x), k.y(*y)))
                .collect();
            let dash = match series.dash {
                Dash::Solid => "",
                Dash::Dashed => " stroke-dasharray=\"6 3\"",
                Dash::Dotted => " stroke-dasharray=\"1 3\"",
            };
            let _ = write!(
                s,
                "<polyline class=\"series\" data-series=\"{}\" fill=\"none\" stroke=\"{}\"{dash} points=\"{}\"><title>{}</title></polyline>",
                esc(&series.name),
                series.colour,
                points.join(" "),
                esc(&series.name)
            );
        }
    }
}

/// From data to the drawing: the ranges of a chart, and where a value lands.
struct Scale {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
    log_y: bool,
}

impl Scale {
    /// The ranges that hold every point, threshold and shaded range; `None` when nothing was measured.
    fn of(c: &Chart) -> Option<Scale> {
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        let points = c.series.iter().flat_map(|s| s.points.iter().copied());
        for (x, y) in points.chain(c.thresholds.iter().map(|(y, _)| (f64::NAN, *y))) {
            if x.is_finite() {
                (x0, x1) = (x0.min(x), x1.max(x));
            }
            if y.is_finite() && (!c.log_y || y > 0.0) {
                (y0, y1) = (y0.min(y), y1.max(y));
            }
        }
        for (a, b, _) in &c.shaded {
            (x0, x1) = (x0.min(*a), x1.max(*b));
        }
        if x0 > x1 || c.series.iter().all(|s| s.points.is_empty()) {
            return None;
        }
        if !c.log_y {
            y0 = y0.min(0.0);
        }
        if x1 - x0 < 1e-9 {
            x1 = x0 + 1.0;
        }
        if y1 - y0 < 1e-9 {
            y1 = y0 + 1.0;
        }
        Some(Scale { x0, x1, y0: y0.max(if c.log_y { 1e-9 } else { f64::MIN }), y1, log_y: c.log_y })
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
        let (l0, l1) = (self.t(self.y0), self.t(self.y1));
        H - PAD + 10.0 - (self.t(y) - l0) / (l1 - l0).max(1e-9) * (H - 2.0 * PAD)
    }

    /// The value a fraction `f` up the y axis.
    fn y_tick(&self, f: f64) -> f64 {
        let (l0, l1) = (self.t(self.y0), self.t(self.y1));
        if self.log_y {
            10f64.powf(l0 + (l1 - l0) * f)
        } else {
            self.y0 + (self.y1 - self.y0) * f
        }
    }
}

impl Dash {
    fn css(self) -> &'static str {
        match self {
            Dash::Solid => "solid",
            Dash::Dashed => "dashed",
            Dash::Dotted => "dotted",
        }
    }
}
