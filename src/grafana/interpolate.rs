//! Grafana's template interpolation for a Prometheus datasource, as its frontend does it: the
//! interval a panel asks at (`$__interval`, rounded on Grafana's ladder, never under the panel's or
//! the datasource's minimum), `$__rate_interval`, `$__range`, the step the datasource sends (at
//! most 11,000 points), and variables in their three spellings (`$var`, `${var}`, `[[var]]`) with
//! multi-value and All formatting (a regex alternation, each value escaped as the Prometheus
//! datasource escapes it, or a custom `allValue` as written).

use std::collections::BTreeMap;

/// Grafana's interval ladder (`rangeutil.roundInterval`), in milliseconds.
pub fn round_interval(ms: f64) -> u64 {
    const LADDER: [(f64, u64); 29] = [
        (15.0, 10),
        (35.0, 20),
        (75.0, 50),
        (150.0, 100),
        (350.0, 200),
        (750.0, 500),
        (1_500.0, 1_000),
        (3_500.0, 2_000),
        (7_500.0, 5_000),
        (12_500.0, 10_000),
        (17_500.0, 15_000),
        (25_000.0, 20_000),
        (45_000.0, 30_000),
        (90_000.0, 60_000),
        (210_000.0, 120_000),
        (450_000.0, 300_000),
        (750_000.0, 600_000),
        (1_050_000.0, 900_000),
        (1_500_000.0, 1_200_000),
        (2_700_000.0, 1_800_000),
        (5_400_000.0, 3_600_000),
        (9_000_000.0, 7_200_000),
        (16_200_000.0, 10_800_000),
        (32_400_000.0, 21_600_000),
        (86_400_000.0, 43_200_000),
        (604_800_000.0, 86_400_000),
        (1_814_400_000.0, 604_800_000),
        (3_628_800_000.0, 2_592_000_000),
        (f64::INFINITY, 31_536_000_000),
    ];
    LADDER.iter().find(|(below, _)| ms < *below).map_or(31_536_000_000, |(_, to)| *to)
}

/// Grafana's short form of a duration (`secondsToHms`-like): `15s`, `1m`, `2h`, `1d`, `500ms`.
pub fn short(ms: u64) -> String {
    const UNITS: [(u64, &str); 6] = [(31_536_000_000, "y"), (604_800_000, "w"), (86_400_000, "d"), (3_600_000, "h"), (60_000, "m"), (1_000, "s")];
    for (size, unit) in UNITS {
        if ms >= size && ms % size == 0 {
            return format!("{}{unit}", ms / size);
        }
    }
    if ms >= 1_000 && ms % 1_000 == 0 {
        return format!("{}s", ms / 1_000);
    }
    format!("{ms}ms")
}

/// The time a panel is drawn for and how it asks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Frame {
    pub range_ms: u64,
    /// The panel's data points (its `maxDataPoints`, else its width in pixels).
    pub max_data_points: u64,
    /// The lower bound on the interval: the panel's `interval`, else the datasource's
    /// `timeInterval` (its scrape interval, 15s by default).
    pub min_interval_ms: u64,
    /// The datasource's scrape interval, for `$__rate_interval`.
    pub scrape_interval_ms: u64,
}

impl Frame {
    /// `$__interval` in ms: the range over the data points, rounded on the ladder, at least the
    /// minimum interval.
    pub fn interval_ms(&self) -> u64 {
        round_interval(self.range_ms as f64 / self.max_data_points.max(1) as f64).max(self.min_interval_ms)
    }

    /// `$__rate_interval` in ms: max($__interval + scrape interval, 4 × scrape interval).
    pub fn rate_interval_ms(&self) -> u64 {
        (self.interval_ms() + self.scrape_interval_ms).max(4 * self.scrape_interval_ms)
    }

    /// The step a range query is sent with, in seconds: the interval, but never so small that the
    /// answer holds more than 11,000 points (the Prometheus datasource's `adjustInterval`).
    pub fn step_s(&self) -> f64 {
        let safe = self.range_ms as f64 / 1000.0 / 11_000.0;
        let safe = if safe > 1.0 { safe.ceil() } else { safe };
        (self.interval_ms() as f64 / 1000.0).max(safe)
    }

    /// The built-in variables this frame defines.
    pub fn builtins(&self) -> Vec<(&'static str, String)> {
        vec![
            ("__rate_interval", short(self.rate_interval_ms())),
            ("__interval_ms", self.interval_ms().to_string()),
            ("__interval", short(self.interval_ms())),
            ("__range_ms", self.range_ms.to_string()),
            ("__range_s", (self.range_ms / 1000).to_string()),
            ("__range", short(self.range_ms / 1000 * 1000)),
        ]
    }
}

/// A variable's chosen value(s) and how it formats them.
#[derive(Clone, Debug, PartialEq)]
pub struct Chosen {
    pub values: Vec<String>,
    pub multi: bool,
    pub include_all: bool,
    /// The All option is chosen: `all_value` if the variable has one, else every option's value.
    pub all: bool,
    pub all_value: Option<String>,
}

impl Chosen {
    pub fn single(value: &str) -> Chosen {
        Chosen { values: vec![value.into()], multi: false, include_all: false, all: false, all_value: None }
    }

    /// As the Prometheus datasource writes it into a query (`interpolateQueryExpr`).
    pub fn formatted(&self) -> String {
        if self.all {
            if let Some(all) = &self.all_value {
                return all.clone();
            }
        }
        // No option at all: Grafana's "None", an empty value.
        if !self.multi && !self.include_all || self.values.is_empty() {
            return regular_escape(self.values.first().map_or("", String::as_str));
        }
        let escaped: Vec<String> = self.values.iter().map(|v| regex_escape(v)).collect();
        match escaped.len() {
            1 => escaped[0].clone(),
            _ => format!("({})", escaped.join("|")),
        }
    }
}

impl Chosen {
    /// As `${var:format}` asks (Grafana's formats; an unknown one falls back to the default):
    /// `csv`, `pipe`, `regex`, `raw`, `glob`, `json`, `singlequote`, `doublequote`, `text`,
    /// `queryparam`.
    pub fn format(&self, format: &str, name: &str) -> String {
        let values: Vec<String> = if self.all { self.all_value.clone().map_or_else(|| self.values.clone(), |a| vec![a]) } else { self.values.clone() };
        let quoted = |q: char| values.iter().map(|v| format!("{q}{}{q}", v.replace(q, &format!("\\{q}")))).collect::<Vec<_>>().join(",");
        match format {
            "csv" | "raw" => values.join(","),
            "pipe" => values.join("|"),
            "regex" => match values.as_slice() {
                [one] => grafana_regex_escape(one),
                many => format!("({})", many.iter().map(|v| grafana_regex_escape(v)).collect::<Vec<_>>().join("|")),
            },
            "glob" => match values.as_slice() {
                [one] => one.clone(),
                many => format!("{{{}}}", many.join(",")),
            },
            "json" => serde_json::to_string(&values).unwrap_or_default(),
            "singlequote" => quoted('\''),
            "doublequote" => quoted('"'),
            "text" => values.join(" + "),
            "queryparam" => {
                values.iter().map(|v| format!("var-{name}={}", form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>())).collect::<Vec<_>>().join("&")
            }
            _ => self.formatted(),
        }
    }
}

/// Grafana's own regex escape (the `regex` format): one backslash before each metacharacter.
fn grafana_regex_escape(v: &str) -> String {
    let mut out = String::new();
    for c in v.chars() {
        if "\\^$*+?.()|[]{}/".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `prometheusRegularEscape`: backslashes and single quotes.
pub fn regular_escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\'', "\\\\'")
}

/// `prometheusSpecialRegexEscape`: a backslash as four, each regex metacharacter after two (a
/// regex escape inside a PromQL string).
pub fn regex_escape(v: &str) -> String {
    let mut out = String::new();
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\\\\\"),
            c if "$^*{}[]'+?.()|".contains(c) => {
                out.push_str("\\\\");
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Replaces `$name`, `${name}`, `${name:format}` and `[[name]]` with the variables' values (the
/// default format, or the one asked; longest names first, so `$__interval_ms` is not read as
/// `$__interval`); unknown variables stay as written.
pub fn interpolate(text: &str, vars: &BTreeMap<String, Chosen>) -> String {
    let mut names: Vec<&String> = vars.keys().collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    'scan: while i < text.len() {
        let rest = &text[i..];
        if let Some(inner) = rest.strip_prefix("${") {
            if let Some(end) = inner.find('}') {
                let (name, format) = inner[..end].split_once(':').map_or((&inner[..end], None), |(n, f)| (n, Some(f)));
                if let Some(c) = vars.get(name) {
                    out.push_str(&format.map_or_else(|| c.formatted(), |f| c.format(f, name)));
                    i += 2 + end + 1;
                    continue;
                }
            }
        } else if let Some(inner) = rest.strip_prefix("[[") {
            if let Some(end) = inner.find("]]") {
                let (name, format) = inner[..end].split_once(':').map_or((&inner[..end], None), |(n, f)| (n, Some(f)));
                if let Some(c) = vars.get(name) {
                    out.push_str(&format.map_or_else(|| c.formatted(), |f| c.format(f, name)));
                    i += 2 + end + 2;
                    continue;
                }
            }
        } else if let Some(inner) = rest.strip_prefix('$') {
            for name in &names {
                if inner.starts_with(name.as_str()) && !inner[name.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
                    out.push_str(&vars[*name].formatted());
                    i += 1 + name.len();
                    continue 'scan;
                }
            }
        }
        let c = rest.chars().next().unwrap_or_default();
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// The built-ins and the chosen variables, as `interpolate` takes them.
pub fn with_builtins(frame: &Frame, chosen: &BTreeMap<String, Chosen>) -> BTreeMap<String, Chosen> {
    let mut vars: BTreeMap<String, Chosen> = frame.builtins().into_iter().map(|(k, v)| (k.to_string(), Chosen::single(&v))).collect();
    vars.extend(chosen.iter().map(|(k, c)| (k.clone(), c.clone())));
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(range_s: u64, points: u64, min_s: u64, scrape_s: u64) -> Frame {
        Frame { range_ms: range_s * 1000, max_data_points: points, min_interval_ms: min_s * 1000, scrape_interval_ms: scrape_s * 1000 }
    }

    #[test]
    fn intervals_follow_grafanas_ladder_and_minimum() {
        // 1h over 1,000 points is 3.6 s, rounded to 5 s, but never under the 15 s scrape interval.
        assert_eq!(frame(3600, 1000, 15, 15).interval_ms(), 15_000);
        assert_eq!(frame(3600, 1000, 1, 15).interval_ms(), 5_000);
        // 24h over 1,000 points is 86.4 s: 1m. 7d over 1,000: 604.8 s: 10m. 6h over 500: 43.2 s: 30s.
        assert_eq!(frame(86_400, 1000, 15, 15).interval_ms(), 60_000);
        assert_eq!(frame(7 * 86_400, 1000, 15, 15).interval_ms(), 600_000);
        assert_eq!(frame(6 * 3600, 500, 15, 15).interval_ms(), 30_000);
        assert_eq!([round_interval(14.0), round_interval(1_499.0), round_interval(1_500.0), round_interval(1e12)], [10, 1_000, 2_000, 31_536_000_000]);
    }

    #[test]
    fn rate_interval_is_at_least_four_scrapes() {
        // 1h at 1,000 points: $__interval 15s; max(15s + 15s, 60s) = 1m.
        assert_eq!(frame(3600, 1000, 15, 15).rate_interval_ms(), 60_000);
        // 24h: max(1m + 15s, 1m) = 75s. With a 30 s scrape: max(1m + 30s, 2m) = 2m.
        assert_eq!(frame(86_400, 1000, 15, 15).rate_interval_ms(), 75_000);
        assert_eq!(frame(86_400, 1000, 30, 30).rate_interval_ms(), 120_000);
        assert_eq!(short(75_000), "75s");
        assert_eq!(short(120_000), "2m");
    }

    #[test]
    fn the_step_keeps_under_11000_points() {
        // 30 days at 10,000 points with a 1 s minimum: the ladder gives 5m; fine. At 100,000 points
        // and a 1 s minimum it would be 20 s: 129,600 points, so the step is 236 s (ceil of 30d / 11,000).
        assert_eq!(frame(30 * 86_400, 10_000, 1, 15).step_s(), 300.0);
        assert_eq!(frame(30 * 86_400, 100_000, 1, 15).step_s(), 236.0);
    }

    #[test]
    fn variables_in_every_spelling_and_builtins_by_longest_name() {
        let f = frame(3600, 1000, 15, 15);
        let chosen = BTreeMap::from([("namespace".to_string(), Chosen::single("monitoring")), ("cluster".to_string(), Chosen::single(""))]);
        let vars = with_builtins(&f, &chosen);
        let q = r#"sum(rate(x{namespace="$namespace", cluster="${cluster}", n="[[namespace]]"}[$__rate_interval])) / $__interval_ms + $__range_s + $nope"#;
        assert_eq!(interpolate(q, &vars), r#"sum(rate(x{namespace="monitoring", cluster="", n="monitoring"}[1m])) / 15000 + 3600 + $nope"#);
    }

    #[test]
    fn multi_value_and_all_format_as_the_prometheus_datasource_does() {
        let multi = Chosen { values: vec!["a.b".into(), "c|d".into()], multi: true, include_all: true, all: false, all_value: None };
        assert_eq!(multi.formatted(), r"(a\\.b|c\\|d)");
        let one = Chosen { values: vec!["kube-system".into()], ..multi.clone() };
        assert_eq!(one.formatted(), "kube-system");
        let all = Chosen { all: true, all_value: Some(".*".into()), ..multi.clone() };
        assert_eq!(all.formatted(), ".*", "a custom allValue as written");
        let all_options = Chosen { all: true, all_value: None, ..multi };
        assert_eq!(all_options.formatted(), r"(a\\.b|c\\|d)", "every option when there is no allValue");
        assert_eq!(Chosen::single("it's").formatted(), r"it\\'s");
        let none = Chosen { values: vec![], multi: true, include_all: true, all: true, all_value: None };
        assert_eq!(none.formatted(), "", "no option at all: Grafana's None, an empty value");
    }

    #[test]
    fn explicit_formats_follow_grafanas_list() {
        let c = Chosen { values: vec!["a.b".into(), "c".into()], multi: true, include_all: false, all: false, all_value: None };
        let f = |fmt: &str| c.format(fmt, "v");
        assert_eq!([f("csv"), f("pipe"), f("regex"), f("glob"), f("json")], ["a.b,c", "a.b|c", r"(a\.b|c)", "{a.b,c}", r#"["a.b","c"]"#]);
        assert_eq!([f("singlequote"), f("doublequote"), f("queryparam")], ["'a.b','c'", r#""a.b","c""#, "var-v=a.b&var-v=c"]);
        let vars = BTreeMap::from([("v".to_string(), c.clone())]);
        assert_eq!(interpolate("x=~\"${v:pipe}\" y=\"[[v:csv]]\" z=\"$v\"", &vars), r#"x=~"a.b|c" y="a.b,c" z="(a\\.b|c)""#);
    }
}
