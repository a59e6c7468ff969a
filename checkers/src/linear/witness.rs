//! Witnesses: the proof behind a "linearizable" verdict.
//!
//! A successful search has found an order of the ops that explains every
//! result. A [`Witness`] hands that order to the user, so that anyone can
//! check the verdict in linear time without trusting the search. Per
//! independent sub-history it lists the history positions of the
//! invocations of the ops that took effect, in the order they took effect.
//!
//! A witness is correct for a history when, in each partition:
//!
//! 1. **real time**: if op A completed (`ok`) before op B was invoked, A
//!    comes before B (positions compare as the events' places in the file);
//! 2. **results**: replaying the order through the model from the initial
//!    value gives every `ok` op exactly the result it recorded;
//! 3. **coverage**: every `ok` op appears exactly once; `fail` ops never;
//!    an `info` op (or one never completed) appears at most once, if it
//!    took effect; every position is the invocation of an op of that
//!    partition.
//!
//! ```
//! use faultline_checkers::linear::{Witness, WitnessPartition};
//! use serde_json::json;
//! let w = Witness {
//!     model: "cas-register".into(),
//!     initial_value: json!(null),
//!     partitions: vec![WitnessPartition { key: None, order: vec![0, 2] }],
//! };
//! let mut out = Vec::new();
//! w.write_json("h.jsonl", &mut out).unwrap();
//! let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
//! assert_eq!(v["partitions"][0], json!({"key": null, "order": [0, 2]}));
//! ```

use serde::Serialize;
use serde_json::Value;
use std::io::{self, Write};

/// The linearization found for a linearizable history.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Witness {
    /// Model name (`cas-register`, `kv`, ...).
    pub model: String,
    /// The model's initial value ([`Model::initial_value`](crate::model::Model::initial_value)).
    pub initial_value: Value,
    /// One per independent sub-history, in order of first appearance.
    pub partitions: Vec<WitnessPartition>,
}

/// The order found for one independent sub-history.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WitnessPartition {
    /// The partition's key; `None` (JSON `null`) for an unkeyed history.
    pub key: Option<Value>,
    /// History positions (0-based, among every event the reader accepted,
    /// nemesis and `fail` events included) of the invocations of the ops
    /// that took effect, in linearization order.
    pub order: Vec<usize>,
}

impl Witness {
    /// Writes the witness of the history read from `file` as one JSON
    /// object, `{"file", "model", "initial_value", "partitions"}`, one
    /// partition per line.
    pub fn write_json<W: Write>(&self, file: &str, out: W) -> io::Result<()> {
        let mut out = io::BufWriter::new(out);
        write!(out, "{{\"file\":")?;
        serde_json::to_writer(&mut out, file)?;
        write!(out, ",\"model\":")?;
        serde_json::to_writer(&mut out, &self.model)?;
        write!(out, ",\"initial_value\":")?;
        serde_json::to_writer(&mut out, &self.initial_value)?;
        write!(out, ",\"partitions\":[")?;
        for (i, p) in self.partitions.iter().enumerate() {
            out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
            serde_json::to_writer(&mut out, p)?;
        }
        writeln!(out, "\n]}}")?;
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_one_partition_per_line() {
        let w = Witness {
            model: "kv".into(),
            initial_value: json!(0),
            partitions: vec![
                WitnessPartition {
                    key: Some(json!("a")),
                    order: vec![3, 1],
                },
                WitnessPartition {
                    key: Some(json!(7)),
                    order: vec![],
                },
            ],
        };
        let mut out = Vec::new();
        w.write_json("dir/h\"1\".jsonl", &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "{\"file\":\"dir/h\\\"1\\\".jsonl\",\"model\":\"kv\",\"initial_value\":0,\"partitions\":[\n\
             {\"key\":\"a\",\"order\":[3,1]},\n\
             {\"key\":7,\"order\":[]}\n\
             ]}\n"
        );
        let empty = Witness {
            partitions: vec![],
            ..w
        };
        let mut out = Vec::new();
        empty.write_json("f", &mut out).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["partitions"], json!([]));
    }
}
