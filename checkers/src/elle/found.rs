//! Collected anomalies: every occurrence counted, a few examples kept.

use serde::Serialize;
use std::collections::BTreeMap;

/// Examples kept per anomaly type.
pub const MAX_EXAMPLES: usize = 8;

/// One example of an anomaly.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Example {
    /// What happened, in sentences.
    pub explanation: String,
    /// History positions (invocations) of the transactions involved.
    pub ops: Vec<usize>,
    /// A cycle's transactions, as the explanation lists them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub txns: Vec<TxnText>,
    /// A cycle's edges, in order (Elle's `:steps`): the last leads back to
    /// the first transaction.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
}

/// A transaction of a cycle: its id and how the explanation shows it.
#[derive(Clone, Debug, Serialize)]
pub struct TxnText {
    /// The transaction's id (`T12` is 12).
    pub id: u32,
    /// `T12 (process 3, op 17: [append 1 3] [r 2 [1 2]])`.
    pub text: String,
}

/// One edge of a cycle.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    /// From this transaction...
    pub from: u32,
    /// ...to this one.
    pub to: u32,
    /// `ww`, `wr`, `rw`, `process` or `realtime`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Why the edge exists, in words.
    pub why: String,
}

/// Occurrences of one anomaly type.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Occurrences {
    /// How many were found.
    pub count: usize,
    /// Up to `MAX_EXAMPLES` (8) of them.
    pub examples: Vec<Example>,
}

/// Anomalies by name.
#[derive(Clone, Debug, Default)]
pub struct Found(pub BTreeMap<String, Occurrences>);

impl Found {
    /// Records one occurrence; `example` is only built if it will be kept.
    pub fn add(&mut self, name: &str, example: impl FnOnce() -> Example) {
        let o = self.0.entry(name.to_string()).or_default();
        o.count += 1;
        if o.examples.len() < MAX_EXAMPLES {
            o.examples.push(example());
        }
    }

    /// Adds everything from `other`.
    pub fn merge(&mut self, other: Found) {
        for (name, o) in other.0 {
            let mine = self.0.entry(name).or_default();
            mine.count += o.count;
            for e in o.examples {
                if mine.examples.len() < MAX_EXAMPLES {
                    mine.examples.push(e);
                }
            }
        }
    }
}
