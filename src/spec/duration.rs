//! Durations in specs: `10s`, `500ms`, `2m`, `1h`, or a bare number of
//! seconds.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A duration as written in YAML.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DurationField {
    /// Seconds.
    Secs(f64),
    /// `10s`, `500ms`, `2m`, `1h`.
    Text(String),
}

impl DurationField {
    /// The duration, or what is wrong with it.
    pub fn get(&self) -> Result<Duration, String> {
        let secs = match self {
            DurationField::Secs(s) => *s,
            DurationField::Text(t) => parse_secs(t)?,
        };
        if secs.is_finite() && secs >= 0.0 {
            Ok(Duration::from_secs_f64(secs))
        } else {
            Err(format!("expected a non-negative duration, found {secs}"))
        }
    }
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
}
