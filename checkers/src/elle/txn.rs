//! Transactions decoded from a history: each client `txn` op becomes a
//! [`Txn`] with its micro-ops, in Jepsen's format (`["append", k, v]`,
//! `["r", k, null | [..]]`, `["w", k, v]`). Keys are interned to integers;
//! values must be integers (unique per key, as Elle requires).

use crate::error::{CheckError, ModelError};
use crate::history::History;
use crate::linear::FxBuild;
use crate::op::{OpType, Process};
use serde_json::Value;
use std::collections::HashMap;

/// Index of a transaction.
pub type TxnId = u32;

/// One micro-op.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mop {
    /// Append `val` to the list at `key`.
    Append {
        /// Key id.
        key: u32,
        /// Appended value.
        val: i64,
    },
    /// Write `val` to the register at `key`.
    Write {
        /// Key id.
        key: u32,
        /// Written value.
        val: i64,
    },
    /// Read `key`: a list (list-append), a one-element list or empty
    /// (register: `[v]` or `[]` for nil), or `None` when unknown.
    Read {
        /// Key id.
        key: u32,
        /// What was read.
        val: Option<Vec<i64>>,
    },
}

impl Mop {
    /// The key.
    pub fn key(&self) -> u32 {
        match self {
            Mop::Append { key, .. } | Mop::Write { key, .. } | Mop::Read { key, .. } => *key,
        }
    }
}

/// A transaction.
#[derive(Clone, Debug)]
pub struct Txn {
    /// Client process.
    pub process: u64,
    /// History position of the invocation.
    pub invoke: usize,
    /// History position of the completion (None: never completed).
    pub complete: Option<usize>,
    /// ok, fail or info.
    pub kind: OpType,
    /// Micro-ops, from the completion when ok (reads filled in), else from
    /// the invocation.
    pub mops: Vec<Mop>,
}

/// All transactions of a history, and the key names.
pub struct Txns {
    /// Transactions in invocation order.
    pub txns: Vec<Txn>,
    /// Key names by id.
    pub keys: Vec<Value>,
}

fn bad(index: usize, message: String) -> CheckError {
    CheckError::Model(ModelError { index, message })
}

fn int(v: &Value, index: usize, what: &str) -> Result<i64, CheckError> {
    v.as_i64()
        .ok_or_else(|| bad(index, format!("expected an integer {what}, found {v}")))
}

/// Decodes the `txn` ops of `history`.
pub fn decode(history: &History, register: bool) -> Result<Txns, CheckError> {
    let pairs = history.pairs()?;
    let mut keys = KeyTable::default();
    let mut txns = Vec::with_capacity(pairs.len());
    for p in pairs {
        let inv = &history[p.invoke];
        if &*inv.f != "txn" {
            continue;
        }
        let kind = p.outcome(history);
        let src = match (kind, p.completion) {
            (OpType::Ok, Some(c)) => c,
            _ => p.invoke,
        };
        let Value::Array(mops) = &history[src].value else {
            return Err(bad(src, format!("expected a txn value like [[\"append\", \"x\", 1], [\"r\", \"x\", null]], found {}", history[src].value)));
        };
        let mut out = Vec::with_capacity(mops.len());
        for m in mops {
            let Some([f, k, v]) = m.as_array().map(Vec::as_slice) else {
                return Err(bad(
                    src,
                    format!("expected a micro-op [f, key, value], found {m}"),
                ));
            };
            let key = keys.id(k);
            let mop = match f.as_str() {
                Some("append") if !register => Mop::Append {
                    key,
                    val: int(v, src, "appended value")?,
                },
                Some("w") if register => Mop::Write {
                    key,
                    val: int(v, src, "written value")?,
                },
                Some("r") => {
                    let val = if kind != OpType::Ok {
                        None
                    } else if register {
                        match v {
                            Value::Null => Some(Vec::new()),
                            x => Some(vec![int(x, src, "read value")?]),
                        }
                    } else {
                        match v {
                            Value::Null => Some(Vec::new()),
                            Value::Array(xs) => Some(
                                xs.iter()
                                    .map(|x| int(x, src, "list element"))
                                    .collect::<Result<_, _>>()?,
                            ),
                            x => return Err(bad(src, format!("expected a list read, found {x}"))),
                        }
                    };
                    Mop::Read { key, val }
                }
                _ => {
                    return Err(bad(
                        src,
                        format!(
                            "expected micro-op {} or \"r\", found {f}",
                            if register { "\"w\"" } else { "\"append\"" }
                        ),
                    ))
                }
            };
            out.push(mop);
        }
        let Process::Client(process) = inv.process else {
            continue;
        };
        txns.push(Txn {
            process,
            invoke: p.invoke,
            complete: p.completion,
            kind,
            mops: out,
        });
    }
    Ok(Txns {
        txns,
        keys: keys.names,
    })
}

/// Interns keys without serializing the common ones (integers, strings).
#[derive(Default)]
struct KeyTable {
    names: Vec<Value>,
    ints: HashMap<i64, u32, FxBuild>,
    strs: HashMap<String, u32, FxBuild>,
    other: HashMap<String, u32, FxBuild>,
}

impl KeyTable {
    fn id(&mut self, k: &Value) -> u32 {
        let next = self.names.len() as u32;
        let id = match k {
            Value::Number(n) if n.is_i64() => {
                *self.ints.entry(n.as_i64().unwrap_or(0)).or_insert(next)
            }
            Value::String(s) => match self.strs.get(s.as_str()) {
                Some(id) => *id,
                None => *self.strs.entry(s.clone()).or_insert(next),
            },
            other => *self.other.entry(other.to_string()).or_insert(next),
        };
        if id == next {
            self.names.push(k.clone());
        }
        id
    }
}
