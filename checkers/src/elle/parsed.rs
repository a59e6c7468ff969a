//! Transaction values read straight from a history line's JSON, without a
//! [`serde_json::Value`] tree: a `txn` op's value in Jepsen's usual shape
//! (micro-ops `[f, key, value]` with `f` one of `"append"`, `"r"`, `"w"`,
//! an integer or string key, and `null`, an integer or a list of integers)
//! becomes a [`TxnValue`] of plain micro-ops; any other value is kept as
//! the `Value` it is, so that the decoder refuses it with the same message
//! as when it reads a `Value` history.
//!
//! A million-transaction history parsed into `Value`s spends more time
//! allocating and freeing the trees than the checker spends on the rest.

use crate::op::OpValue;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};
use std::fmt;

/// A `txn` op's value as read from JSON: micro-ops in the usual shape, or
/// any other value as it is.
#[derive(Clone, Debug, PartialEq)]
pub enum TxnValue {
    /// Micro-ops, each in the usual shape.
    Mops(Vec<RawMop>),
    /// Anything else (including a value with one unusual micro-op).
    Other(Value),
}

impl Default for TxnValue {
    fn default() -> Self {
        TxnValue::Other(Value::Null)
    }
}

/// A micro-op as read, before its key is interned.
#[derive(Clone, Debug, PartialEq)]
pub struct RawMop {
    /// `"append"`, `"r"` or `"w"`.
    pub f: MopF,
    /// The key.
    pub key: RawKey,
    /// `null`, an integer or a list of integers.
    pub val: RawVal,
}

/// A micro-op's function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MopF {
    /// `"append"`.
    Append,
    /// `"r"`.
    Read,
    /// `"w"`.
    Write,
}

/// A micro-op's key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RawKey {
    /// An integer key.
    Int(i64),
    /// A string key.
    Str(Box<str>),
}

/// A micro-op's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RawVal {
    /// `null`.
    Null,
    /// An integer.
    Int(i64),
    /// A list of integers.
    List(Vec<i64>),
}

impl MopF {
    fn name(self) -> &'static str {
        match self {
            MopF::Append => "append",
            MopF::Read => "r",
            MopF::Write => "w",
        }
    }
}

impl RawKey {
    /// The key as the `Value` it was read from.
    pub fn to_value(&self) -> Value {
        match self {
            RawKey::Int(i) => Value::from(*i),
            RawKey::Str(s) => Value::String(s.to_string()),
        }
    }
}

impl RawVal {
    /// The value as the `Value` it was read from.
    pub fn to_value(&self) -> Value {
        match self {
            RawVal::Null => Value::Null,
            RawVal::Int(i) => Value::from(*i),
            RawVal::List(xs) => ints(xs),
        }
    }
}

impl RawMop {
    /// The micro-op as the `Value` it was read from.
    pub fn to_value(&self) -> Value {
        Value::Array(vec![
            Value::from(self.f.name()),
            self.key.to_value(),
            self.val.to_value(),
        ])
    }
}

impl TxnValue {
    /// The value as the `Value` it was read from.
    pub fn to_value(&self) -> Value {
        match self {
            TxnValue::Mops(ms) => Value::Array(ms.iter().map(RawMop::to_value).collect()),
            TxnValue::Other(v) => v.clone(),
        }
    }
}

impl fmt::Display for TxnValue {
    /// As the `Value` it was read from displays.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TxnValue::Other(v) => v.fmt(f),
            mops => mops.to_value().fmt(f),
        }
    }
}

impl OpValue for TxnValue {
    fn has_float(&self) -> bool {
        // Micro-ops in the usual shape hold integers only.
        match self {
            TxnValue::Mops(_) => false,
            TxnValue::Other(v) => v.has_float(),
        }
    }
}

thread_local! {
    /// Integers of the lists being read on this thread.
    static SCRATCH: std::cell::RefCell<Vec<i64>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn ints(xs: &[i64]) -> Value {
    Value::Array(xs.iter().map(|&x| Value::from(x)).collect())
}

/// One element of a micro-op (or of a list in one), as read: the names
/// of micro-ops are told apart without an allocation.
enum Part {
    Null,
    Int(i64),
    F(MopF),
    Str(Box<str>),
    Ints(Vec<i64>),
    Other(Value),
}

impl Part {
    fn into_value(self) -> Value {
        match self {
            Part::Null => Value::Null,
            Part::Int(i) => Value::from(i),
            Part::F(f) => Value::from(f.name()),
            Part::Str(s) => Value::String(s.into()),
            Part::Ints(xs) => ints(&xs),
            Part::Other(v) => v,
        }
    }
}

/// The rest of a sequence as `Value`s, after `done`.
fn rest<'de, A: SeqAccess<'de>>(mut done: Vec<Value>, mut seq: A) -> Result<Value, A::Error> {
    while let Some(v) = seq.next_element::<Value>()? {
        done.push(v);
    }
    Ok(Value::Array(done))
}

/// Deserializes any JSON value: scalars as serde_json does, sequences and
/// maps by `seq` and by serde_json's `Value`.
macro_rules! scalars {
    ($t:ty, $wrap:expr) => {
        fn visit_bool<E: de::Error>(self, b: bool) -> Result<$t, E> {
            Ok($wrap(Value::Bool(b)))
        }
        fn visit_f64<E: de::Error>(self, x: f64) -> Result<$t, E> {
            // As serde_json's own Value visitor.
            Ok($wrap(
                Number::from_f64(x).map_or(Value::Null, Value::Number),
            ))
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<$t, A::Error> {
            Ok($wrap(Value::deserialize(MapAccessDeserializer::new(map))?))
        }
    };
}

struct PartVisitor;

impl<'de> Visitor<'de> for PartVisitor {
    type Value = Part;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    scalars!(Part, Part::Other);

    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Part, E> {
        Ok(Part::Int(i))
    }

    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Part, E> {
        Ok(i64::try_from(u).map_or(Part::Other(Value::from(u)), Part::Int))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Part, E> {
        Ok(match s {
            "append" => Part::F(MopF::Append),
            "r" => Part::F(MopF::Read),
            "w" => Part::F(MopF::Write),
            _ => Part::Str(s.into()),
        })
    }

    fn visit_unit<E: de::Error>(self) -> Result<Part, E> {
        Ok(Part::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Part, A::Error> {
        // Integers gathered on this thread's scratch list, above what
        // enclosing lists put there, then copied once at their size.
        let base = SCRATCH.with_borrow(Vec::len);
        let other = loop {
            match seq.next_element::<Part>() {
                Ok(None) => break None,
                Ok(Some(Part::Int(i))) => SCRATCH.with_borrow_mut(|s| s.push(i)),
                Ok(Some(other)) => break Some(other),
                Err(e) => {
                    SCRATCH.with_borrow_mut(|s| s.truncate(base));
                    return Err(e);
                }
            }
        };
        let xs: Vec<i64> = SCRATCH.with_borrow_mut(|s| s.drain(base..).collect());
        let Some(other) = other else {
            return Ok(Part::Ints(xs));
        };
        let mut done: Vec<Value> = xs.into_iter().map(Value::from).collect();
        done.push(other.into_value());
        Ok(Part::Other(rest(done, seq)?))
    }
}

impl<'de> Deserialize<'de> for Part {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Part, D::Error> {
        d.deserialize_any(PartVisitor)
    }
}

/// A micro-op in the usual shape, or what stood in its place.
enum MopPart {
    Mop(RawMop),
    Other(Value),
}

struct MopVisitor;

impl<'de> Visitor<'de> for MopVisitor {
    type Value = MopPart;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    scalars!(MopPart, MopPart::Other);

    fn visit_i64<E: de::Error>(self, i: i64) -> Result<MopPart, E> {
        Ok(MopPart::Other(Value::from(i)))
    }

    fn visit_u64<E: de::Error>(self, u: u64) -> Result<MopPart, E> {
        Ok(MopPart::Other(Value::from(u)))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<MopPart, E> {
        Ok(MopPart::Other(Value::from(s)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<MopPart, E> {
        Ok(MopPart::Other(Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<MopPart, A::Error> {
        let a = seq.next_element::<Part>()?;
        let b = match a {
            Some(_) => seq.next_element::<Part>()?,
            None => None,
        };
        let c = match b {
            Some(_) => seq.next_element::<Part>()?,
            None => None,
        };
        let extra = match c {
            Some(_) => seq.next_element::<Value>()?,
            None => None,
        };
        let mop = match (a, b, c, extra) {
            (Some(Part::F(f)), Some(key), Some(val), None) => {
                let key = match key {
                    Part::Int(i) => Ok(RawKey::Int(i)),
                    Part::Str(s) => Ok(RawKey::Str(s)),
                    Part::F(g) => Ok(RawKey::Str(g.name().into())),
                    other => Err(other),
                };
                let val = match val {
                    Part::Null => Ok(RawVal::Null),
                    Part::Int(i) => Ok(RawVal::Int(i)),
                    Part::Ints(xs) => Ok(RawVal::List(xs)),
                    other => Err(other),
                };
                match (key, val) {
                    (Ok(key), Ok(val)) => return Ok(MopPart::Mop(RawMop { f, key, val })),
                    (key, val) => {
                        let key = key.map_or_else(Part::into_value, |k| k.to_value());
                        let val = val.map_or_else(Part::into_value, |v| v.to_value());
                        vec![Value::from(f.name()), key, val]
                    }
                }
            }
            (a, b, c, extra) => {
                let mut vs: Vec<Value> = [a, b, c]
                    .into_iter()
                    .flatten()
                    .map(Part::into_value)
                    .collect();
                vs.extend(extra);
                vs
            }
        };
        Ok(MopPart::Other(rest(mop, seq)?))
    }
}

impl<'de> Deserialize<'de> for MopPart {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<MopPart, D::Error> {
        d.deserialize_any(MopVisitor)
    }
}

struct TxnVisitor;

impl<'de> Visitor<'de> for TxnVisitor {
    type Value = TxnValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    scalars!(TxnValue, TxnValue::Other);

    fn visit_i64<E: de::Error>(self, i: i64) -> Result<TxnValue, E> {
        Ok(TxnValue::Other(Value::from(i)))
    }

    fn visit_u64<E: de::Error>(self, u: u64) -> Result<TxnValue, E> {
        Ok(TxnValue::Other(Value::from(u)))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<TxnValue, E> {
        Ok(TxnValue::Other(Value::from(s)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<TxnValue, E> {
        Ok(TxnValue::Other(Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TxnValue, A::Error> {
        let mut mops: Vec<RawMop> = Vec::with_capacity(seq.size_hint().unwrap_or(4));
        loop {
            match seq.next_element::<MopPart>()? {
                None => return Ok(TxnValue::Mops(mops)),
                Some(MopPart::Mop(m)) => mops.push(m),
                Some(MopPart::Other(v)) => {
                    let mut done: Vec<Value> = mops.iter().map(RawMop::to_value).collect();
                    done.push(v);
                    return Ok(TxnValue::Other(rest(done, seq)?));
                }
            }
        }
    }
}

impl<'de> Deserialize<'de> for TxnValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<TxnValue, D::Error> {
        d.deserialize_any(TxnVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(text: &str) -> (TxnValue, Value) {
        (
            serde_json::from_str(text).unwrap(),
            serde_json::from_str(text).unwrap(),
        )
    }

    #[test]
    fn the_usual_shape_is_read_as_micro_ops() {
        let (t, v) = both(
            r#"[["append", 3, 1], ["r", "x", null], ["r", 4, [1, 2, -3]], ["w", 5, 6], ["r", "r", null]]"#,
        );
        let TxnValue::Mops(ms) = &t else {
            panic!("expected micro-ops, found {t:?}");
        };
        assert_eq!(ms.len(), 5);
        assert_eq!(ms[4].key, RawKey::Str("r".into()));
        assert_eq!(ms[0].f, MopF::Append);
        assert_eq!(ms[1].key, RawKey::Str("x".into()));
        assert_eq!(ms[2].val, RawVal::List(vec![1, 2, -3]));
        assert_eq!(t.to_value(), v);
        assert_eq!(t.to_string(), v.to_string());
    }

    #[test]
    fn anything_else_is_kept_as_the_value_it_is() {
        for text in [
            "null",
            "3",
            "\"x\"",
            "{\"a\": [1, 2]}",
            "[]",
            "[1, 2]",
            r#"[["append", 3, 1], ["append", 3]]"#,
            r#"[["append", 3, 1, 4], ["r", 3, null]]"#,
            r#"[["append", 3, 1], ["inc", 3, 1]]"#,
            r#"[["r", [1], null]]"#,
            r#"[["r", 1.5, null]]"#,
            r#"[["r", 1, [1, "a", 2]]]"#,
            r#"[["r", 1, [1, [2], 3]]]"#,
            r#"[["r", 1, [1, 2.5]]]"#,
            r#"[["append", 18446744073709551615, 1]]"#,
            r#"[["append", 1, true]]"#,
            r#"[["append", 1, {"a": 1}]]"#,
            r#"[["append", "r", "w"]]"#,
            r#"[["r", 1, [1, "append"]], ["w"]]"#,
            r#"[["r"], ["r", 1]]"#,
        ] {
            let (t, v) = both(text);
            assert_eq!(t.to_value(), v, "{text}");
            assert_eq!(t.to_string(), v.to_string(), "{text}");
            assert_eq!(t.has_float(), v.has_float(), "{text}");
        }
        let (t, _) = both(r#"[["append", 3, 1], ["append", 3]]"#);
        assert!(matches!(t, TxnValue::Other(_)));
        let (t, _) = both("[]");
        assert_eq!(t, TxnValue::Mops(Vec::new()));
    }
}
