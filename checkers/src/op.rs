//! One history operation: an invocation or a completion, as fixed by the
//! history contract in DESIGN.md.
//!
//! An [`Op`] is what one line of `history.jsonl` holds. Values are JSON
//! ([`serde_json::Value`]); EDN and Jepsen log readers convert into the same
//! shape (keywords become strings, `nil` becomes `null`).

use crate::datum::Datum;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use std::sync::Arc;

/// Who performed an operation: a numbered client process or the nemesis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Process {
    /// A client worker's process id.
    Client(u64),
    /// The fault injector.
    Nemesis,
}

impl Process {
    /// The client id, or `None` for the nemesis.
    pub fn client(self) -> Option<u64> {
        match self {
            Process::Client(p) => Some(p),
            Process::Nemesis => None,
        }
    }
}

impl fmt::Display for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Process::Client(p) => write!(f, "{p}"),
            Process::Nemesis => f.write_str("nemesis"),
        }
    }
}

impl Serialize for Process {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Process::Client(p) => s.serialize_u64(*p),
            Process::Nemesis => s.serialize_str("nemesis"),
        }
    }
}

impl<'de> Deserialize<'de> for Process {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Process;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative integer process id or \"nemesis\"")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Process, E> {
                Ok(Process::Client(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Process, E> {
                u64::try_from(v)
                    .map(Process::Client)
                    .map_err(|_| E::custom(format!("process id {v} is negative")))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Process, E> {
                if v == "nemesis" {
                    Ok(Process::Nemesis)
                } else {
                    Err(E::custom(format!(
                        "process {v:?} is neither an integer nor \"nemesis\""
                    )))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// The kind of history event, with Jepsen's meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpType {
    /// The operation was started.
    Invoke,
    /// The operation definitely happened.
    Ok,
    /// The operation definitely did not happen.
    Fail,
    /// Indeterminate: the operation may or may not have happened, possibly later.
    Info,
}

impl OpType {
    /// Parses `invoke`, `ok`, `fail` or `info`.
    pub fn parse(s: &str) -> Option<OpType> {
        match s {
            "invoke" => Some(OpType::Invoke),
            "ok" => Some(OpType::Ok),
            "fail" => Some(OpType::Fail),
            "info" => Some(OpType::Info),
            _ => None,
        }
    }

    /// The lowercase name used in histories.
    pub fn as_str(self) -> &'static str {
        match self {
            OpType::Invoke => "invoke",
            OpType::Ok => "ok",
            OpType::Fail => "fail",
            OpType::Info => "info",
        }
    }
}

/// One event of a history.
///
/// `f` is shared (`Arc<str>`) because a history repeats a handful of
/// operation names millions of times; readers intern them.
///
/// Values are [`serde_json::Value`]s unless a checker asks for another
/// [`OpValue`]: Jepsen's checkers read [`Datum`]s, which take a fraction of
/// the memory on large histories.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Op<V = Value> {
    /// 0-based position in the history.
    pub index: u64,
    /// Nanoseconds since the test started; `-1` when the source had no time.
    #[serde(default = "no_time")]
    pub time: i64,
    /// Client process id or the nemesis.
    pub process: Process,
    /// Invoke, ok, fail or info.
    #[serde(rename = "type")]
    pub kind: OpType,
    /// Operation name (`read`, `write`, `cas`, ...).
    pub f: Arc<str>,
    /// Operation payload.
    #[serde(default)]
    pub value: V,
    /// Key of an independent-key workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<V>,
    /// Node the client talked to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<Box<str>>,
    /// Error text of a `fail` or `info` completion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Box<str>>,
}

fn no_time() -> i64 {
    -1
}

impl<V> Op<V> {
    /// A new op with the given fields and no key, node or error.
    pub fn new(index: u64, process: Process, kind: OpType, f: &str, value: V) -> Op<V> {
        Op {
            index,
            time: -1,
            process,
            kind,
            f: Arc::from(f),
            value,
            key: None,
            node: None,
            error: None,
        }
    }

    /// True for `ok`, `fail` and `info` events.
    pub fn is_completion(&self) -> bool {
        self.kind != OpType::Invoke
    }

    /// The same op with its value and key converted by `f`.
    pub fn map_values<W>(&self, f: impl Fn(&V) -> W) -> Op<W> {
        Op {
            index: self.index,
            time: self.time,
            process: self.process,
            kind: self.kind,
            f: self.f.clone(),
            value: f(&self.value),
            key: self.key.as_ref().map(&f),
            node: self.node.clone(),
            error: self.error.clone(),
        }
    }
}

/// What an op's value (and key) can be read as: [`serde_json::Value`], or
/// the compact [`Datum`].
pub trait OpValue: serde::de::DeserializeOwned + Default + fmt::Display {
    /// True if a float appears anywhere in the value. Readers read an
    /// integer too wide for 64 bits, and `-0`, as floats, so they look
    /// closer at the lines where one appears.
    fn has_float(&self) -> bool;
}

impl OpValue for Value {
    fn has_float(&self) -> bool {
        match self {
            Value::Number(n) => n.is_f64(),
            Value::Array(xs) => xs.iter().any(OpValue::has_float),
            Value::Object(m) => m.values().any(OpValue::has_float),
            _ => false,
        }
    }
}

impl OpValue for Datum {
    fn has_float(&self) -> bool {
        Datum::has_float(self)
    }
}

impl<V: fmt::Display> fmt::Display for Op<V> {
    /// Jepsen's log style: `3 :ok :cas [1,2]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} :{} :{} {}",
            self.process,
            self.kind.as_str(),
            self.f,
            self.value
        )?;
        if let Some(k) = &self.key {
            write!(f, " key={k}")?;
        }
        if let Some(e) = &self.error {
            write!(f, " ({e})")?;
        }
        Ok(())
    }
}
