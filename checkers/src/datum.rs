//! A compact JSON value, for checkers that read millions of op values.
//!
//! [`serde_json::Value`] spends 32 bytes on every element of an array and a
//! B-tree with an allocated string per key on every object. Jepsen's
//! checkers read histories whose reads return whole sets (hundreds of
//! integers) or every account's balance, a million times over: as `Value`s
//! those reads took most of the time and memory of checking (BENCHMARKS.md).
//! A [`Datum`] keeps a list of integers as a boxed `[i64]` (8 bytes an
//! element), other lists and objects as boxed slices (24 bytes an element),
//! and is parsed straight from the text without a `Value` in between.
//!
//! Strings, lists and objects are shared (`Arc`): cloning an op to check
//! one key's part of a history costs a reference count, not a copy.
//!
//! A `Datum` means what the `Value` it was read from means: object keys are
//! kept sorted, with the last of duplicated keys winning (as
//! `serde_json::Map` does), and a list is always stored the same way for the
//! same elements (all-integer lists as [`Datum::Ints`]), so derived
//! equality is JSON equality. It prints as the same JSON text as the
//! `Value` would.

use rustc_hash::FxHashSet;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;
use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

/// A JSON value, stored compactly (see the module documentation).
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Datum {
    /// `null`.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer that fits in an `i64`.
    Int(i64),
    /// An integer above `i64::MAX` (and at most `u64::MAX`).
    UInt(u64),
    /// A number with a fraction or an exponent.
    Float(f64),
    /// A string.
    Str(Arc<str>),
    /// A list whose elements are all [`Datum::Int`]s (the empty list too).
    Ints(Arc<[i64]>),
    /// A list with some element that is not an `i64`.
    List(Arc<[Datum]>),
    /// An object, sorted by key, each key once.
    Map(Arc<[(Arc<str>, Datum)]>),
}

/// A list, however it is stored ([`Datum::as_list`]).
#[derive(Clone, Copy, Debug)]
pub enum List<'a> {
    /// All elements are integers.
    Ints(&'a [i64]),
    /// Any elements.
    Data(&'a [Datum]),
}

impl<'a> List<'a> {
    /// The number of elements.
    pub fn len(self) -> usize {
        match self {
            List::Ints(xs) => xs.len(),
            List::Data(xs) => xs.len(),
        }
    }

    /// True if the list has no elements.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// The element at `i` (integers are handed out as owned `Datum::Int`s).
    pub fn get(self, i: usize) -> Option<Cow<'a, Datum>> {
        match self {
            List::Ints(xs) => xs.get(i).map(|&x| Cow::Owned(Datum::Int(x))),
            List::Data(xs) => xs.get(i).map(Cow::Borrowed),
        }
    }

    /// The elements, in order.
    pub fn iter(self) -> impl Iterator<Item = Cow<'a, Datum>> {
        (0..self.len()).map(move |i| self.get(i).unwrap_or_default())
    }
}

impl Datum {
    /// The integer, if this is one that fits in an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Datum::Int(i) => Some(i),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Datum::Str(s) => Some(s),
            _ => None,
        }
    }

    /// True for `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Datum::Null)
    }

    /// The list, if this is one.
    pub fn as_list(&self) -> Option<List<'_>> {
        match self {
            Datum::Ints(xs) => Some(List::Ints(xs)),
            Datum::List(xs) => Some(List::Data(xs)),
            _ => None,
        }
    }

    /// The object's entries sorted by key, if this is an object.
    pub fn as_map(&self) -> Option<&[(Arc<str>, Datum)]> {
        match self {
            Datum::Map(m) => Some(m),
            _ => None,
        }
    }

    /// True if a float appears anywhere in the value (a reader looks
    /// closer at such values: an integer too wide for 64 bits, or `-0`,
    /// is read as a float).
    pub fn has_float(&self) -> bool {
        match self {
            Datum::Float(_) => true,
            Datum::List(xs) => xs.iter().any(Datum::has_float),
            Datum::Map(m) => m.iter().any(|(_, v)| v.has_float()),
            _ => false,
        }
    }

    /// The same value as a [`serde_json::Value`].
    pub fn to_value(&self) -> Value {
        match self {
            Datum::Null => Value::Null,
            Datum::Bool(b) => Value::Bool(*b),
            Datum::Int(i) => Value::from(*i),
            Datum::UInt(u) => Value::from(*u),
            Datum::Float(f) => Value::from(*f),
            Datum::Str(s) => Value::String(s.to_string()),
            Datum::Ints(xs) => Value::Array(xs.iter().map(|&x| Value::from(x)).collect()),
            Datum::List(xs) => Value::Array(xs.iter().map(Datum::to_value).collect()),
            Datum::Map(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (k.to_string(), v.to_value()))
                    .collect(),
            ),
        }
    }

    /// A list of these elements, stored as [`Datum::Ints`] when they all
    /// are integers.
    pub fn list(items: Vec<Datum>) -> Datum {
        if items.iter().all(|d| matches!(d, Datum::Int(_))) {
            Datum::Ints(items.iter().filter_map(Datum::as_i64).collect())
        } else {
            Datum::List(items.into())
        }
    }

    /// An object of these entries: sorted by key, the last of duplicated
    /// keys kept.
    pub fn map(mut entries: Vec<(Arc<str>, Datum)>) -> Datum {
        // A stable sort keeps duplicates in their order; keep the last.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<(Arc<str>, Datum)> = Vec::with_capacity(entries.len());
        for e in entries {
            match out.last_mut() {
                Some(last) if last.0 == e.0 => *last = e,
                _ => out.push(e),
            }
        }
        Datum::Map(out.into())
    }
}

impl Datum {
    /// The same value as a `Datum` (as [`From`], usable as a function of
    /// any `&Value`: `history.map_values(Datum::of)`).
    pub fn of(v: &Value) -> Datum {
        Datum::from(v)
    }
}

impl From<&Value> for Datum {
    fn from(v: &Value) -> Datum {
        match v {
            Value::Null => Datum::Null,
            Value::Bool(b) => Datum::Bool(*b),
            Value::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => Datum::Int(i),
                (None, Some(u)) => Datum::UInt(u),
                _ => Datum::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(s) => Datum::Str(s.as_str().into()),
            Value::Array(xs) => Datum::list(xs.iter().map(Datum::from).collect()),
            Value::Object(m) => Datum::Map(
                // serde_json's map is sorted and has each key once already.
                m.iter()
                    .map(|(k, v)| (k.as_str().into(), Datum::from(v)))
                    .collect(),
            ),
        }
    }
}

impl From<Value> for Datum {
    fn from(v: Value) -> Datum {
        Datum::from(&v)
    }
}

impl fmt::Display for Datum {
    /// Compact JSON, as `serde_json::Value` prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_string(self).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

impl Serialize for Datum {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Datum::Null => s.serialize_unit(),
            Datum::Bool(b) => s.serialize_bool(*b),
            Datum::Int(i) => s.serialize_i64(*i),
            Datum::UInt(u) => s.serialize_u64(*u),
            Datum::Float(f) => s.serialize_f64(*f),
            Datum::Str(t) => s.serialize_str(t),
            Datum::Ints(xs) => {
                let mut seq = s.serialize_seq(Some(xs.len()))?;
                for x in xs.iter() {
                    seq.serialize_element(x)?;
                }
                seq.end()
            }
            Datum::List(xs) => {
                let mut seq = s.serialize_seq(Some(xs.len()))?;
                for x in xs.iter() {
                    seq.serialize_element(x)?;
                }
                seq.end()
            }
            Datum::Map(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m.iter() {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Datum {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Datum, D::Error> {
        d.deserialize_any(DatumVisitor)
    }
}

thread_local! {
    /// Integers of the lists being read on this thread (see `visit_seq`).
    static INTS: RefCell<Vec<i64>> = const { RefCell::new(Vec::new()) };
    /// Elements of the mixed lists being read on this thread.
    static DATA: RefCell<Vec<Datum>> = const { RefCell::new(Vec::new()) };
    /// Short strings already read on this thread.
    static STRS: RefCell<FxHashSet<Arc<str>>> = RefCell::new(FxHashSet::default());
}

/// Strings at most this long are shared (see [`shared`]).
const SHARED_LEN: usize = 24;
/// How many distinct strings a thread shares at most.
const SHARED_MAX: usize = 4096;

/// `s` as an `Arc<str>`. Short strings repeat (account names, micro-op
/// names, object keys): each thread keeps one copy of the first few
/// thousand it meets instead of an allocation per occurrence.
fn shared(s: &str) -> Arc<str> {
    if s.len() > SHARED_LEN {
        return s.into();
    }
    STRS.with_borrow_mut(|strs| {
        if let Some(a) = strs.get(s) {
            return a.clone();
        }
        let a: Arc<str> = s.into();
        if strs.len() < SHARED_MAX {
            strs.insert(a.clone());
        }
        a
    })
}

/// An object key, read without an intermediate `String` when the text has
/// no escapes.
struct Key(Arc<str>);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key, E> {
                Ok(Key(shared(s)))
            }
        }
        d.deserialize_str(V)
    }
}

struct DatumVisitor;

impl<'de> Visitor<'de> for DatumVisitor {
    type Value = Datum;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Datum, E> {
        Ok(Datum::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Datum, E> {
        Ok(Datum::Int(i))
    }

    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Datum, E> {
        Ok(i64::try_from(u).map_or(Datum::UInt(u), Datum::Int))
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Datum, E> {
        Ok(Datum::Float(f))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Datum, E> {
        Ok(Datum::Str(shared(s)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Datum, E> {
        Ok(Datum::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Datum, E> {
        Ok(Datum::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Datum, D::Error> {
        Datum::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Datum, A::Error> {
        // Integers until something else comes (sets, queues and id lists
        // never leave this loop), gathered on this thread's scratch stack
        // above whatever enclosing lists put there, then copied once into
        // an allocation of the exact size.
        let base = INTS.with_borrow(Vec::len);
        let first_other = loop {
            match seq.next_element::<Datum>() {
                Ok(None) => {
                    return Ok(Datum::Ints(INTS.with_borrow_mut(|s| {
                        let ints = Arc::from(&s[base..]);
                        s.truncate(base);
                        ints
                    })))
                }
                Ok(Some(Datum::Int(i))) => INTS.with_borrow_mut(|s| s.push(i)),
                Ok(Some(other)) => break other,
                Err(e) => {
                    INTS.with_borrow_mut(|s| s.truncate(base));
                    return Err(e);
                }
            }
        };
        // Then every element, on the scratch stack of data.
        let start = DATA.with_borrow_mut(|d| {
            let start = d.len();
            INTS.with_borrow_mut(|s| {
                d.extend(s[base..].iter().map(|&i| Datum::Int(i)));
                s.truncate(base);
            });
            d.push(first_other);
            start
        });
        loop {
            match seq.next_element::<Datum>() {
                Ok(Some(d)) => DATA.with_borrow_mut(|data| data.push(d)),
                Ok(None) => break,
                Err(e) => {
                    DATA.with_borrow_mut(|d| d.truncate(start));
                    return Err(e);
                }
            }
        }
        Ok(Datum::List(
            DATA.with_borrow_mut(|d| d.drain(start..).collect()),
        ))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Datum, A::Error> {
        let mut entries: Vec<(Arc<str>, Datum)> = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(k) = map.next_key::<Key>()? {
            entries.push((k.0, map.next_value::<Datum>()?));
        }
        let sorted = entries.windows(2).all(|w| w[0].0 < w[1].0);
        Ok(if sorted {
            Datum::Map(entries.into())
        } else {
            Datum::map(entries)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> Datum {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn reads_as_the_value_it_stands_for() {
        for text in [
            "null",
            "true",
            "-7",
            "18446744073709551615",
            "2.5",
            "\"a\\\"b\"",
            "[]",
            "[1,2,3]",
            "[1,\"x\",[2,3],null]",
            "{\"b\":1,\"a\":[1,2],\"c\":{\"z\":null,\"y\":\"s\"}}",
            "{\"a\":1,\"a\":2}",
            "[[\"r\",0,null],[\"w\",1,5]]",
        ] {
            let v: Value = serde_json::from_str(text).unwrap();
            let d = parse(text);
            assert_eq!(d, Datum::from(&v), "{text}");
            assert_eq!(d.to_value(), v, "{text}");
            assert_eq!(d.to_string(), v.to_string(), "{text}");
        }
    }

    #[test]
    fn integer_lists_are_stored_as_integers() {
        assert!(matches!(parse("[1,2,3]"), Datum::Ints(_)));
        assert!(matches!(parse("[]"), Datum::Ints(_)));
        assert!(matches!(parse("[1,2.0]"), Datum::List(_)));
        assert_eq!(Datum::list(vec![Datum::Int(1)]), parse("[1]"));
        let l = parse("[1,\"a\"]");
        let items: Vec<Datum> = l.as_list().unwrap().iter().map(Cow::into_owned).collect();
        assert_eq!(items, vec![Datum::Int(1), Datum::Str("a".into())]);
    }

    #[test]
    fn objects_are_sorted_and_keep_the_last_duplicate() {
        let d = parse("{\"b\":1,\"a\":2,\"b\":3}");
        assert_eq!(d.to_value(), json!({"a": 2, "b": 3}));
        assert_eq!(d, parse("{\"a\":2,\"b\":3}"));
    }

    #[test]
    fn floats_are_found_at_any_depth() {
        assert!(parse("[1,{\"a\":[0.5]}]").has_float());
        assert!(!parse("[1,{\"a\":[5]}]").has_float());
    }
}
