//! Durations in specs: `10s`, `500ms`, `2m`, `1h`, or a bare number of
//! seconds. Every duration is bounded when it is read ([`MAX_SECONDS`]), so
//! no deadline computed from one can overflow later.

use serde::{Deserialize, Serialize};
use std::time::Duration;

pub use crate::cli::MAX_SECONDS;

/// A duration as written in YAML.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum DurationField {
    /// Seconds.
    Secs(f64),
    /// `10s`, `500ms`, `2m`, `1h`.
    Text(String),
}

impl<'de> Deserialize<'de> for DurationField {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = DurationField;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a duration such as 10s, 500ms, 2m or 1h, or a number of seconds")
            }
            fn visit_f64<E>(self, v: f64) -> Result<DurationField, E> {
                Ok(DurationField::Secs(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<DurationField, E> {
                Ok(DurationField::Secs(v as f64))
            }
            fn visit_u64<E>(self, v: u64) -> Result<DurationField, E> {
                Ok(DurationField::Secs(v as f64))
            }
            fn visit_str<E>(self, v: &str) -> Result<DurationField, E> {
                Ok(DurationField::Text(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

impl DurationField {
    /// The duration, or what is wrong with it: negative, not a number, or
    /// longer than [`MAX_SECONDS`].
    pub fn get(&self) -> Result<Duration, String> {
        let secs = match self {
            DurationField::Secs(s) => *s,
            DurationField::Text(t) => parse_secs(t)?,
        };
        seconds(secs)
    }
}

/// `secs` as a duration, if it is a number from 0 to [`MAX_SECONDS`].
pub fn seconds(secs: f64) -> Result<Duration, String> {
    if !(secs.is_finite() && secs >= 0.0) {
        return Err(format!("expected a non-negative duration, found {secs}"));
    }
    if secs > MAX_SECONDS {
        return Err(format!(
            "{secs:e} s is too long; at most {MAX_SECONDS:e} s (about 31 years)"
        ));
    }
    // In range, so this cannot fail; the error is kept for form's sake.
    Duration::try_from_secs_f64(secs).map_err(|e| e.to_string())
}

fn parse_secs(t: &str) -> Result<f64, String> {
    let t = t.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("expected a duration like 10s or 500ms, found {t:?}"))?;
    let scale = match unit.trim() {
        "" | "s" => 1.0,
        "ms" => 1e-3,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        other => {
            return Err(format!(
                "unknown duration unit {other:?} in {t:?}; use ms, s, m or h"
            ))
        }
    };
    Ok(n * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(
            DurationField::Text("500ms".into()).get().unwrap(),
            Duration::from_millis(500)
        );
        assert_eq!(
            DurationField::Text("2m".into()).get().unwrap(),
            Duration::from_secs(120)
        );
        assert_eq!(
            DurationField::Secs(1.5).get().unwrap(),
            Duration::from_millis(1500)
        );
        assert!(DurationField::Text("5 parsecs".into()).get().is_err());
    }

    #[test]
    fn huge_negative_and_nan_durations_are_errors_not_panics() {
        for d in [
            DurationField::Secs(1e300),
            DurationField::Secs(1e19),
            DurationField::Secs(f64::INFINITY),
            DurationField::Secs(f64::NAN),
            DurationField::Secs(-1.0),
            DurationField::Text("99999999999999999h".into()),
            DurationField::Text("1e300".into()),
            DurationField::Text(format!("{}s", "9".repeat(400))),
        ] {
            assert!(d.get().is_err(), "{d:?}");
        }
        assert_eq!(
            DurationField::Secs(MAX_SECONDS).get().unwrap(),
            Duration::from_secs(1_000_000_000)
        );
    }
}
