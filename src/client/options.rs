//! A client kind's own `client:` options, read one key at a time so that
//! every error names its key (`client.port`), and every key the kind did
//! not read is refused with a "did you mean".

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// A problem with one `client:` option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionError {
    /// The dotted spec key (`client.port`, or `client` for the section).
    pub key: String,
    /// What is wrong.
    pub message: String,
}

/// The options of one `client:` section, as a client kind reads them.
pub struct Options<'a> {
    kind: &'static str,
    map: &'a BTreeMap<String, Value>,
    read: BTreeSet<&'static str>,
    errors: Vec<OptionError>,
}

impl<'a> Options<'a> {
    /// The options `map` of a `kind` client.
    pub fn new(kind: &'static str, map: &'a BTreeMap<String, Value>) -> Options<'a> {
        Options {
            kind,
            map,
            read: BTreeSet::new(),
            errors: Vec::new(),
        }
    }

    /// Records a problem with option `key` (`""` for the whole section).
    pub fn error(&mut self, key: &str, message: impl Into<String>) {
        let key = if key.is_empty() {
            "client".to_string()
        } else {
            format!("client.{key}")
        };
        self.errors.push(OptionError {
            key,
            message: message.into(),
        });
    }

    /// Option `key` as given, marking it read.
    pub fn raw(&mut self, key: &'static str) -> Option<&'a Value> {
        self.read.insert(key);
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// A string option.
    pub fn string(&mut self, key: &'static str) -> Option<String> {
        match self.raw(key)? {
            Value::String(s) => Some(s.clone()),
            other => {
                self.error(key, format!("expected text, found {other}"));
                None
            }
        }
    }

    /// A string option that must be one of `choices` (absent: `default`).
    pub fn choice(
        &mut self,
        key: &'static str,
        choices: &[&'static str],
        default: &'static str,
    ) -> &'static str {
        let Some(v) = self.raw(key) else {
            return default;
        };
        if let Some(c) = v.as_str().and_then(|s| choices.iter().find(|c| **c == s)) {
            return c;
        }
        let hint = v
            .as_str()
            .and_then(|s| crate::spec::did_you_mean(s, choices))
            .map_or(String::new(), |m| format!(" (did you mean `{m}`?)"));
        self.error(
            key,
            format!("expected one of {}, found {v}{hint}", choices.join(", ")),
        );
        default
    }

    /// A TCP port, 1 to 65535 (absent: `default`).
    pub fn port(&mut self, key: &'static str, default: u16) -> u16 {
        let Some(v) = self.raw(key) else {
            return default;
        };
        match v
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .filter(|n| *n > 0)
        {
            Some(n) => n,
            None => {
                self.error(
                    key,
                    format!("expected a port number from 1 to 65535, found {v}"),
                );
                default
            }
        }
    }

    /// A whole number from `min` to `max` (absent: `default`).
    pub fn count(&mut self, key: &'static str, min: u64, max: u64, default: u64) -> u64 {
        let Some(v) = self.raw(key) else {
            return default;
        };
        match v.as_u64().filter(|n| (min..=max).contains(n)) {
            Some(n) => n,
            None => {
                self.error(
                    key,
                    format!("expected a whole number from {min} to {max}, found {v}"),
                );
                default
            }
        }
    }

    /// Refuses every option the kind did not read; `Err` with every problem.
    pub fn finish(mut self) -> Result<(), Vec<OptionError>> {
        let known: Vec<&str> = self.read.iter().copied().collect();
        let unknown: Vec<&String> = self
            .map
            .keys()
            .filter(|k| !self.read.contains(k.as_str()))
            .collect();
        for k in unknown {
            let hint = crate::spec::did_you_mean(k, &known)
                .map_or(String::new(), |m| format!(" (did you mean `{m}`?)"));
            let options = if known.is_empty() {
                "none besides kind and timeout".to_string()
            } else {
                format!("{}, kind and timeout", known.join(", "))
            };
            let message = format!(
                "unknown option for the {} client{hint}; its options are {options}",
                self.kind
            );
            self.error(k, message);
        }
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn options_are_typed_and_unread_ones_refused() {
        let map: BTreeMap<String, Value> = serde_json::from_value(
            json!({"port": 70000, "mode": "fsat", "extra": 1, "none": null}),
        )
        .unwrap();
        let mut o = Options::new("demo", &map);
        assert_eq!(o.port("port", 5), 5);
        assert_eq!(o.choice("mode", &["fast", "slow"], "slow"), "slow");
        assert_eq!(o.string("none"), None);
        let e = o.finish().unwrap_err();
        let keys: Vec<&str> = e.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["client.port", "client.mode", "client.extra"]);
        assert!(
            e[1].message.contains("did you mean `fast`"),
            "{}",
            e[1].message
        );
        assert!(
            e[2].message.contains("mode, none, port, kind and timeout"),
            "{}",
            e[2].message
        );
    }
}
