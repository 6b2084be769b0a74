//! Prometheus durations (`model.Duration` of prometheus/common v0.67.5, `model/time.go`):
//! how rule files spell `interval`, `query_offset`, `for` and `keep_firing_for`.

use std::fmt;

/// A non-negative duration in whole milliseconds (the finest unit the syntax has).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(u64);

const MS_PER: [(&str, u64); 7] = [
    ("y", 1000 * 60 * 60 * 24 * 365),
    ("w", 1000 * 60 * 60 * 24 * 7),
    ("d", 1000 * 60 * 60 * 24),
    ("h", 1000 * 60 * 60),
    ("m", 1000 * 60),
    ("s", 1000),
    ("ms", 1),
];

/// `time.Duration` counts nanoseconds in an i64: longer durations are "out of range".
const MAX_NANOS: u128 = i64::MAX as u128;

impl Duration {
    pub const ZERO: Duration = Duration(0);

    pub fn from_millis(ms: u64) -> Self {
        Duration(ms)
    }

    pub fn as_millis(self) -> u64 {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// `model.ParseDuration`: `0`, or number+unit pairs from the largest unit to the
    /// smallest, each unit at most once (`1h30m`, `90s`, `2w`), within ~292 years.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "0" => return Ok(Duration(0)),
            "" => return Err("empty duration string".into()),
            _ => {}
        }
        let invalid = || format!("not a valid duration string: {s:?}");
        let mut rest = s;
        let mut last_unit = 0;
        let mut nanos: u128 = 0;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(invalid());
            }
            let value: u64 = rest[..digits].parse().map_err(|_| invalid())?;
            rest = &rest[digits..];
            let unit_len = rest.bytes().take_while(|b| !b.is_ascii_digit()).count();
            if unit_len == 0 {
                return Err(invalid());
            }
            let unit = &rest[..unit_len];
            rest = &rest[unit_len..];
            let Some(pos) = MS_PER.iter().position(|(u, _)| *u == unit) else {
                return Err(format!("unknown unit {unit:?} in duration {s:?}"));
            };
            if pos < last_unit {
                return Err(invalid());
            }
            last_unit = pos + 1;
            let unit_nanos = u128::from(MS_PER[pos].1) * 1_000_000;
            if u128::from(value) > (1u128 << 63) / unit_nanos {
                return Err("duration out of range".into());
            }
            nanos += u128::from(value) * unit_nanos;
            if nanos > MAX_NANOS {
                return Err("duration out of range".into());
            }
        }
        Ok(Duration((nanos / 1_000_000) as u64))
    }
}

/// `model.Duration.String()`: the canonical spelling (`1h30m`, `2w`, `0s`); years and weeks
/// only when they divide the duration exactly.
impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ms = self.0;
        if ms == 0 {
            return f.write_str("0s");
        }
        for (unit, mult) in MS_PER {
            let exact = matches!(unit, "y" | "w");
            if exact && !ms.is_multiple_of(mult) {
                continue;
            }
            let v = ms / mult;
            if v > 0 {
                write!(f, "{v}{unit}")?;
                ms -= v * mult;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Duration;

    #[test]
    fn parses_like_prometheus() {
        for (text, ms) in [
            ("0", 0),
            ("0s", 0),
            ("5m", 300_000),
            ("1h30m", 5_400_000),
            ("1d", 86_400_000),
            ("2w", 1_209_600_000),
            ("1y", 31_536_000_000),
            ("1s500ms", 1_500),
            ("90m", 5_400_000),
        ] {
            assert_eq!(
                Duration::parse(text),
                Ok(Duration::from_millis(ms)),
                "{text}"
            );
        }
        for bad in [
            "", "5", "1.5h", "5M", "1m1h", "1m1m", "-5m", "m", " 5m", "300y",
        ] {
            assert!(Duration::parse(bad).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn prints_canonically() {
        for (ms, text) in [
            (0, "0s"),
            (5_400_000, "1h30m"),
            (1_209_600_000, "2w"),
            (1_296_000_000, "15d"),
            (1_500, "1s500ms"),
        ] {
            assert_eq!(Duration::from_millis(ms).to_string(), text);
        }
    }
}
