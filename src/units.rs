//! Human units used in scenario files: durations (`"30s"`, `"10m"`), byte sizes (`"1.5Gi"`),
//! and their display. Parsing is delegated to `humantime` where it can be.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::time::Duration;

/// A duration or size that cannot be read, with how to write it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    #[error("`{text}` is not a duration ({reason}); write it like \"500ms\", \"30s\", \"10m\" or \"7d\"")]
    Duration { text: String, reason: String },
    #[error("`{text}` has an unknown size unit `{unit}`; use Ki, Mi, Gi (or k, M, G)")]
    SizeUnit { text: String, unit: String },
    #[error("`{text}` is not a size; write it like \"1Gi\" or \"1536Mi\"")]
    Size { text: String },
    #[error("`{text}` must be a non-negative size")]
    NegativeSize { text: String },
}

/// A duration written as text in a scenario (`"250ms"`, `"30s"`, `"7d"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Dur(pub Duration);

impl Dur {
    pub const fn secs(s: u64) -> Self {
        Dur(Duration::from_secs(s))
    }
    pub const fn millis(ms: u64) -> Self {
        Dur(Duration::from_millis(ms))
    }
    pub fn get(self) -> Duration {
        self.0
    }
}

impl std::str::FromStr for Dur {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, UnitError> {
        humantime::parse_duration(s.trim()).map(Dur).map_err(|e| UnitError::Duration { text: s.to_string(), reason: e.to_string() })
    }
}

/// As a scenario writes it: `7d`, `1h30m`, `250ms`, `0s`.
impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if d.is_zero() {
            return f.write_str("0s");
        }
        let secs = d.as_secs();
        let nanos = d.subsec_nanos() as u64;
        // Days from two days on; below that hours, as people write "24h" and "7d".
        let days = if secs >= 2 * 86_400 { secs / 86_400 } else { 0 };
        let parts = [
            (days, "d"),
            ((secs - days * 86_400) / 3_600, "h"),
            (secs / 60 % 60, "m"),
            (secs % 60, "s"),
            (nanos / 1_000_000, "ms"),
            (nanos / 1_000 % 1_000, "us"),
            (nanos % 1_000, "ns"),
        ];
        for (n, unit) in parts {
            if n > 0 {
                write!(f, "{n}{unit}")?;
            }
        }
        Ok(())
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A byte size written as `"1Gi"`, `"1536Mi"`, `"512Ki"`, `"2G"` or a bare number of bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

impl std::str::FromStr for ByteSize {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, UnitError> {
        let t = s.trim();
        let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let factor: f64 = match unit {
            "" | "B" => 1.0,
            "Ki" => 1024.0,
            "Mi" => 1024.0 * 1024.0,
            "Gi" => 1024.0 * 1024.0 * 1024.0,
            "Ti" => 1024f64.powi(4),
            "k" | "K" => 1e3,
            "M" => 1e6,
            "G" => 1e9,
            _ => return Err(UnitError::SizeUnit { text: s.to_string(), unit: unit.to_string() }),
        };
        let value: f64 = num.trim().parse().map_err(|_| UnitError::Size { text: s.to_string() })?;
        if !(value.is_finite() && value >= 0.0) {
            return Err(UnitError::NegativeSize { text: s.to_string() });
        }
        Ok(ByteSize((value * factor).round() as u64))
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0 as f64;
        const UNITS: [(&str, f64); 3] = [("Gi", 1073741824.0), ("Mi", 1048576.0), ("Ki", 1024.0)];
        for (unit, size) in UNITS {
            if b >= size {
                return write!(f, "{:.2}{unit}", b / size);
            }
        }
        write!(f, "{}B", self.0)
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Bytes(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Bytes(b) => Ok(ByteSize(b)),
            Raw::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// A unix time in milliseconds as RFC 3339 UTC with milliseconds (`2026-12-01T17:25:39.120Z`).
pub fn rfc3339_ms(unix_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(unix_ms).map_or_else(|| format!("{unix_ms} ms"), |t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

/// Renders a duration given in microseconds for tables and progress lines.
pub fn fmt_micros(us: u64) -> String {
    match us {
        0..=999 => format!("{us}µs"),
        1_000..=999_999 => format!("{:.2}ms", us as f64 / 1e3),
        _ => format!("{:.3}s", us as f64 / 1e6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_human_forms() {
        assert_eq!("30s".parse::<Dur>().unwrap(), Dur::secs(30));
        assert_eq!("10m".parse::<Dur>().unwrap(), Dur::secs(600));
        assert_eq!("7d".parse::<Dur>().unwrap(), Dur::secs(7 * 86400));
        assert_eq!("250ms".parse::<Dur>().unwrap(), Dur::millis(250));
        let err = "fast".parse::<Dur>().unwrap_err().to_string();
        assert!(err.contains("\"30s\""), "{err}");
    }

    #[test]
    fn durations_print_as_scenarios_write_them_and_read_back() {
        for (text, shown) in
            [("7d", "7d"), ("24h", "24h"), ("36h", "36h"), ("1h", "1h"), ("90m", "1h30m"), ("250ms", "250ms"), ("0s", "0s"), ("1500us", "1ms500us")]
        {
            let d: Dur = text.parse().unwrap();
            assert_eq!(d.to_string(), shown);
            assert_eq!(shown.parse::<Dur>().unwrap(), d);
        }
    }

    #[test]
    fn sizes_parse_binary_and_decimal_units() {
        assert_eq!("1Gi".parse::<ByteSize>().unwrap().0, 1 << 30);
        assert_eq!("1.5Gi".parse::<ByteSize>().unwrap().0, 3 << 29);
        assert_eq!("512Ki".parse::<ByteSize>().unwrap().0, 512 * 1024);
        assert_eq!("2G".parse::<ByteSize>().unwrap().0, 2_000_000_000);
        assert!("1Xi".parse::<ByteSize>().unwrap_err().to_string().contains("unknown size unit"));
        assert_eq!(ByteSize(3 << 29).to_string(), "1.50Gi");
    }

    #[test]
    fn micros_render_in_readable_units() {
        assert_eq!(fmt_micros(12), "12µs");
        assert_eq!(fmt_micros(12_345), "12.35ms");
        assert_eq!(fmt_micros(3_200_000), "3.200s");
    }
}
