//! Transactions decoded from a history: each client `txn` op becomes a
//! [`Txn`] with its micro-ops, in Jepsen's format (`["append", k, v]`,
//! `["r", k, null | [..]]`, `["w", k, v]`). Keys are interned to integers;
//! values must be integers (unique per key, as Elle requires). In a
//! list-append history each (key, value) pair is interned too, to an
//! [`Elem`].

pub use super::elements::Elem;
use super::elements::Interner;
use super::parsed::{MopF, RawKey, RawMop, RawVal, TxnValue};
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
    /// Append `val` to the list at `key` (list-append).
    Append {
        /// Key id.
        key: u32,
        /// Appended value.
        val: i64,
        /// The (key, value) pair's id.
        elem: Elem,
    },
    /// Write `val` to the register at `key`.
    Write {
        /// Key id.
        key: u32,
        /// Written value.
        val: i64,
    },
    /// Read the register at `key` (rw-register): a one-element list or
    /// empty (`[v]` or `[]` for nil), or `None` when unknown.
    Read {
        /// Key id.
        key: u32,
        /// What was read.
        val: Option<Vec<i64>>,
    },
    /// Read the list at `key` (list-append): its elements' ids (values in
    /// [`Txns::values`]), or `None` when unknown.
    ReadList {
        /// Key id.
        key: u32,
        /// What was read.
        elems: Option<Vec<Elem>>,
    },
}

impl Mop {
    /// The key.
    pub fn key(&self) -> u32 {
        match self {
            Mop::Append { key, .. }
            | Mop::Write { key, .. }
            | Mop::Read { key, .. }
            | Mop::ReadList { key, .. } => *key,
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
    /// List-append: each element's value, by [`Elem`].
    pub values: Vec<i64>,
}

fn bad(index: usize, message: String) -> CheckError {
    CheckError::Model(ModelError { index, message })
}

fn int(v: &Value, index: usize, what: &str) -> Result<i64, CheckError> {
    v.as_i64()
        .ok_or_else(|| bad(index, format!("expected an integer {what}, found {v}")))
}

impl Txns {
    /// The value of an element.
    pub fn value(&self, e: Elem) -> i64 {
        self.values[e as usize]
    }

    /// The values of elements (a list read's, say).
    pub fn list(&self, es: &[Elem]) -> Vec<i64> {
        es.iter().map(|&e| self.value(e)).collect()
    }

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
    elems: Interner,
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
            elems: Interner::default(),
            txns: Vec::new(),
            pairing: Pairing::default(),
            open: HashMap::default(),
        }
    }

    /// Takes the op at history position `index`.
    pub fn push(&mut self, index: usize, op: &Op) -> Result<(), CheckError> {
        self.take(index, op, |d, ok, _| d.mops(&op.value, index, ok))
    }

    /// Takes the op at history position `index`, its value read as a
    /// [`TxnValue`] (as [`Decoder::push`] takes it read as a `Value`).
    pub fn push_parsed(&mut self, index: usize, op: &Op<TxnValue>) -> Result<(), CheckError> {
        self.take(index, op, |d, ok, invoked| match &op.value {
            TxnValue::Mops(ms) => match d.raw_mops(ms, ok, invoked) {
                Some(mops) => Ok(mops),
                // Something the workload refuses: refused as a `Value` is.
                None => d.mops(&op.value.to_value(), index, ok),
            },
            TxnValue::Other(v) => d.mops(v, index, ok),
        })
    }

    /// Pairs `op` and keeps its micro-ops, decoded by `mops` (given whether
    /// the op is an `ok` completion, and its invocation's micro-ops).
    fn take<V>(
        &mut self,
        index: usize,
        op: &Op<V>,
        mops: impl FnOnce(&mut Decoder, bool, &[Mop]) -> Result<Vec<Mop>, CheckError>,
    ) -> Result<(), CheckError> {
        match self.pairing.push(index, op)? {
            Paired::Invoke if &*op.f == "txn" => {
                let Process::Client(process) = op.process else {
                    return Ok(());
                };
                let mops = mops(self, false, &[])?;
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
                        let invoked = std::mem::take(&mut self.txns[t].mops);
                        self.txns[t].mops = mops(self, true, &invoked)?;
                    }
                    self.txns[t].kind = op.kind;
                    self.txns[t].complete = Some(index);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Decodes micro-ops read in the usual shape; `None` if one is not
    /// what the workload takes (the caller then refuses it, with the same
    /// message as for a `Value`).
    fn raw_mops(&mut self, ms: &[RawMop], ok: bool, invoked: &[Mop]) -> Option<Vec<Mop>> {
        let register = self.register;
        let mut out = Vec::with_capacity(ms.len());
        for (i, m) in ms.iter().enumerate() {
            let key = self.keys.raw_id(&m.key);
            let mop = match (m.f, &m.val) {
                (MopF::Append, RawVal::Int(val)) if !register => Mop::Append {
                    key,
                    val: *val,
                    elem: self.append(key, *val, invoked.get(i)),
                },
                (MopF::Write, RawVal::Int(val)) if register => Mop::Write { key, val: *val },
                (MopF::Read, _) if !ok && register => Mop::Read { key, val: None },
                (MopF::Read, _) if !ok => Mop::ReadList { key, elems: None },
                (MopF::Read, RawVal::Null) if register => Mop::Read {
                    key,
                    val: Some(Vec::new()),
                },
                (MopF::Read, RawVal::Null) => Mop::ReadList {
                    key,
                    elems: Some(Vec::new()),
                },
                (MopF::Read, RawVal::Int(x)) if register => Mop::Read {
                    key,
                    val: Some(vec![*x]),
                },
                (MopF::Read, RawVal::List(xs)) if !register => Mop::ReadList {
                    key,
                    elems: Some(self.elems.read(key, xs)),
                },
                _ => return None,
            };
            out.push(mop);
        }
        Some(out)
    }

    /// The transactions, in invocation order.
    pub fn finish(self) -> Txns {
        Txns {
            txns: self.txns,
            keys: self.keys.names,
            values: self.elems.finish(),
        }
    }

    /// The id of an append of `val` to `key`: its invocation's when it is
    /// the same micro-op (no lookup), else interned.
    fn append(&mut self, key: u32, val: i64, invoked: Option<&Mop>) -> Elem {
        match invoked {
            Some(&Mop::Append {
                key: k,
                val: v,
                elem,
            }) if k == key && v == val => elem,
            _ => self.elems.id(key, val),
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
                Some("append") if !register => {
                    let val = int(v, src, "appended value")?;
                    Mop::Append {
                        key,
                        val,
                        elem: self.elems.id(key, val),
                    }
                }
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
                    match (register, val) {
                        (true, val) => Mop::Read { key, val },
                        (false, None) => Mop::ReadList { key, elems: None },
                        (false, Some(xs)) => Mop::ReadList {
                            key,
                            elems: Some(self.elems.read(key, &xs)),
                        },
                    }
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

/// Integer keys below this are found by indexing, not hashing.
const DENSE_KEYS: usize = 1 << 20;

/// Interns keys without serializing the common ones (integers, strings).
#[derive(Default)]
struct KeyTable {
    names: Vec<Value>,
    /// Ids of small non-negative integer keys (`u32::MAX`: none yet),
    /// kept beside `ints`, which has every integer key.
    dense: Vec<u32>,
    ints: HashMap<i64, u32, FxBuild>,
    strs: HashMap<String, u32, FxBuild>,
    other: HashMap<String, u32, FxBuild>,
}

impl KeyTable {
    /// The id of a key read in the usual shape (an integer or a string),
    /// the same as [`KeyTable::id`] gives its `Value`.
    fn raw_id(&mut self, k: &RawKey) -> u32 {
        let next = self.names.len() as u32;
        let id = match k {
            RawKey::Int(i) => match usize::try_from(*i) {
                // Small non-negative keys, the usual ones: no hashing.
                Ok(u) if u < DENSE_KEYS => {
                    if self.dense.len() <= u {
                        self.dense.resize(u + 1, u32::MAX);
                    }
                    if self.dense[u] == u32::MAX {
                        self.dense[u] = *self.ints.entry(*i).or_insert(next);
                    }
                    self.dense[u]
                }
                _ => *self.ints.entry(*i).or_insert(next),
            },
            RawKey::Str(s) => match self.strs.get(&**s) {
                Some(id) => *id,
                None => *self.strs.entry(s.to_string()).or_insert(next),
            },
        };
        if id == next {
            self.names.push(k.to_value());
        }
        id
    }

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
