//! Transactions decoded from a history: each client `txn` op becomes a
//! [`Txn`] with its micro-ops, in Jepsen's format (`["append", k, v]`,
//! `["r", k, null | [..]]`, `["w", k, v]`). Keys are interned to integers;
//! values must be integers (unique per key, as Elle requires).

use crate::error::{CheckError, ModelError};
use crate::history::History;
use crate::history::{Paired, Pairing};
use crate::linear::FxBuild;
use crate::op::{Op, OpType, Process};
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

impl Txns {
    /// Committed (`ok`) transactions with their ids.
    pub fn committed(&self) -> impl Iterator<Item = (TxnId, &Txn)> {
        self.txns
            .iter()
            .enumerate()
            .filter(|(_, t)| t.kind == OpType::Ok)
            .map(|(i, t)| (i as TxnId, t))
    }
}

/// Decodes the `txn` ops of `history`.
pub fn decode(history: &History, register: bool) -> Result<Txns, CheckError> {
    let mut d = Decoder::new(register);
    for (i, op) in history.ops().iter().enumerate() {
        d.push(i, op)?;
    }
    Ok(d.finish())
}

/// Builds [`Txns`] one op at a time, so a reader can stream a history into
/// it and drop each op (the history is most of the memory).
pub struct Decoder {
    register: bool,
    keys: KeyTable,
    txns: Vec<Txn>,
    pairing: Pairing,
    /// Invocation position → its txn, while pending.
    open: HashMap<usize, usize, FxBuild>,
}

impl Decoder {
    /// A decoder for list-append (`register == false`) or rw-register.
    pub fn new(register: bool) -> Decoder {
        Decoder {
            register,
            keys: KeyTable::default(),
            txns: Vec::new(),
            pairing: Pairing::default(),
            open: HashMap::default(),
        }
    }

    /// Takes the op at history position `index`.
    pub fn push(&mut self, index: usize, op: &Op) -> Result<(), CheckError> {
        match self.pairing.push(index, op)? {
            Paired::Invoke if &*op.f == "txn" => {
                let Process::Client(process) = op.process else {
                    return Ok(());
                };
                let mops = self.mops(&op.value, index, false)?;
                self.open.insert(index, self.txns.len());
                // Indeterminate until its completion says otherwise.
                self.txns.push(Txn {
                    process,
                    invoke: index,
                    complete: None,
                    kind: OpType::Info,
                    mops,
                });
            }
            Paired::Completion { invoke } => {
                if let Some(t) = self.open.remove(&invoke) {
                    if op.kind == OpType::Ok {
                        self.txns[t].mops = self.mops(&op.value, index, true)?;
                    }
                    self.txns[t].kind = op.kind;
                    self.txns[t].complete = Some(index);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The transactions, in invocation order.
    pub fn finish(self) -> Txns {
        Txns {
            txns: self.txns,
            keys: self.keys.names,
        }
    }

    /// Decodes one txn value; reads carry values only when `ok`.
    fn mops(&mut self, value: &Value, src: usize, ok: bool) -> Result<Vec<Mop>, CheckError> {
        let register = self.register;
        let Value::Array(mops) = value else {
            return Err(bad(src, format!("expected a txn value like [[\"append\", \"x\", 1], [\"r\", \"x\", null]], found {value}")));
        };
        let mut out = Vec::with_capacity(mops.len());
        for m in mops {
            let Some([f, k, v]) = m.as_array().map(Vec::as_slice) else {
                return Err(bad(
                    src,
                    format!("expected a micro-op [f, key, value], found {m}"),
                ));
            };
            let key = self.keys.id(k);
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
                    let val = match (ok, register, v) {
                        (false, _, _) => None,
                        (true, _, Value::Null) => Some(Vec::new()),
                        (true, true, x) => Some(vec![int(x, src, "read value")?]),
                        (true, false, Value::Array(xs)) => Some(
                            xs.iter()
                                .map(|x| int(x, src, "list element"))
                                .collect::<Result<_, _>>()?,
                        ),
                        (true, false, x) => {
                            return Err(bad(src, format!("expected a list read, found {x}")))
                        }
                    };
                    Mop::Read { key, val }
                }
                _ => {
                    let w = if register { "\"w\"" } else { "\"append\"" };
                    return Err(bad(
                        src,
                        format!("expected micro-op {w} or \"r\", found {f}"),
                    ));
                }
            };
            out.push(mop);
        }
        Ok(out)
    }
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
