//! Sequential specifications for the linearizability checker.
//!
//! A [`Model`] says which ops a history contains ([`Model::decode`]) and how
//! each changes the state ([`Model::step`]). It must be pure: the checker
//! calls `step` in any order, many times, from several threads. Ready
//! models: [`Register`], [`CasRegister`], [`Kv`], [`Set`], [`FifoQueue`].
//!
//! ```
//! use faultline_checkers::model::{CasRegister, Model, Scalar};
//! let m = CasRegister::new(Scalar::Null);
//! assert!(m.init() == Scalar::Null);
//! ```

mod queue;
mod register;
mod set;

pub use queue::FifoQueue;
pub use register::{CasRegister, Kv, Register, RegisterOp};
pub use set::Set;

use crate::op::Op;
use serde_json::Value;
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::Arc;

/// A sequential specification of the system under test.
pub trait Model: Sync {
    /// Model state. Compared and hashed by the search's cache.
    type State: Clone + Eq + Hash + Debug + Send + Sync;
    /// What an op asks for (from its invocation).
    type Input: Clone + Debug + Send + Sync;
    /// What an op returned (from its `ok` completion).
    type Output: Clone + Debug + Send + Sync;

    /// Name used in reports (`cas-register`).
    fn name(&self) -> &'static str;

    /// The state before any op.
    fn init(&self) -> Self::State;

    /// Translates a client op for this model. `completion` is the `ok`
    /// completion, or `None` when the op is indeterminate (`info` or never
    /// completed); `fail` ops are never passed. Returns `Ok(None)` for an op
    /// that constrains nothing (an indeterminate read), and `Err` with what
    /// was expected when the op does not fit the model.
    #[allow(clippy::type_complexity)]
    fn decode(
        &self,
        invoke: &Op,
        completion: Option<&Op>,
    ) -> Result<Option<(Self::Input, Option<Self::Output>)>, String>;

    /// The state after applying `input` with result `output` to `state`, or
    /// `None` if that result is impossible in that state. `output` is `None`
    /// for an indeterminate op: return the state as if it took effect (the
    /// checker itself covers "it never happened").
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: Option<&Self::Output>,
    ) -> Option<Self::State>;

    /// The independent sub-history an op belongs to (P-compositionality).
    /// Default: the op's `key` field.
    fn partition_key(&self, invoke: &Op) -> Option<Value> {
        invoke.key.clone()
    }

    /// The initial state as JSON, as a witness states it
    /// ([`linear::Witness`](crate::linear::Witness)): the register's value,
    /// `[]` for an empty set or queue. The default, `null`, suits a model
    /// whose state starts as nothing; override it otherwise.
    fn initial_value(&self) -> Value {
        Value::Null
    }

    /// A state as a person reads it.
    fn describe_state(&self, state: &Self::State) -> String {
        format!("{state:?}")
    }

    /// For a register model: what a decoded op does to the register, so the
    /// checker can simplify and often decide a register's sub-history
    /// without the search (unobserved indeterminate writes dropped, reads
    /// of values nobody wrote, the unique-values decision). `None`, the
    /// default: not a register op, no shortcuts for its sub-history.
    fn register_view<'a>(
        &self,
        _input: &'a Self::Input,
        _output: Option<&'a Self::Output>,
    ) -> Option<RegisterView<'a>> {
        None
    }

    /// For a register model: its initial value (see
    /// [`Model::register_view`]). `None`, the default, for other models.
    fn register_initial(&self) -> Option<&Scalar> {
        None
    }
}

/// A register op as the checker's register shortcuts see it
/// ([`Model::register_view`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegisterView<'a> {
    /// A completed read that returned this value.
    Read(&'a Scalar),
    /// A write of this value.
    Write(&'a Scalar),
    /// A compare-and-set from the first value to the second.
    Cas(&'a Scalar, &'a Scalar),
}

/// A hashable value stored in model states: null, an integer, or any other
/// JSON value kept as its JSON text.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scalar {
    /// JSON `null` (Jepsen `nil`).
    Null,
    /// An integer.
    Int(i64),
    /// Any other value, as JSON text.
    Text(Arc<str>),
}

impl Scalar {
    /// The scalar for a JSON value. Comparison is exact: an integer above
    /// `i64::MAX` (a JSON `u64`) is kept as its decimal digits, which equal
    /// only the same integer; a float equals only a float with the same
    /// value (`-0.0` equals `0.0`, as in Clojure), never an integer.
    pub fn from_json(v: &Value) -> Scalar {
        match v {
            Value::Null => Scalar::Null,
            Value::Number(n) if n.as_i64().is_some() => Scalar::Int(n.as_i64().unwrap_or(0)),
            Value::Number(n) if n.as_f64() == Some(0.0) && n.is_f64() => {
                Scalar::Text(Arc::from("0.0"))
            }
            other => Scalar::Text(Arc::from(other.to_string())),
        }
    }

    /// The JSON value this scalar stands for (the inverse of
    /// [`Scalar::from_json`], up to `-0.0` becoming `0.0`).
    pub fn to_json(&self) -> Value {
        match self {
            Scalar::Null => Value::Null,
            Scalar::Int(i) => Value::from(*i),
            // Text is always JSON that `from_json` printed; a string is
            // kept as is should that ever not hold.
            Scalar::Text(t) => {
                serde_json::from_str(t).unwrap_or_else(|_| Value::String(t.to_string()))
            }
        }
    }
}

impl Debug for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scalar::Null => f.write_str("nil"),
            Scalar::Int(i) => write!(f, "{i}"),
            Scalar::Text(t) => f.write_str(t),
        }
    }
}

/// The `[a, b]` pair in `value`, or an error naming what was expected.
pub(crate) fn pair<'a>(v: &'a Value, what: &str) -> Result<(&'a Value, &'a Value), String> {
    match v.as_array().map(Vec::as_slice) {
        Some([a, b]) => Ok((a, b)),
        _ => Err(format!(
            "expected {what} as a two-element list, found {}",
            crate::format::edn::short(v)
        )),
    }
}

/// Elements of a list value (a read of a set), or an error.
pub(crate) fn elements(v: &Value, what: &str) -> Result<Vec<Scalar>, String> {
    match v {
        Value::Array(xs) => Ok(xs.iter().map(Scalar::from_json).collect()),
        _ => Err(format!(
            "expected {what} as a list, found {}",
            crate::format::edn::short(v)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::Scalar;
    use serde_json::json;

    #[test]
    fn scalars_compare_exactly() {
        let s = |v| Scalar::from_json(&v);
        assert_eq!(s(json!(u64::MAX)), s(json!(u64::MAX)));
        assert_ne!(s(json!(u64::MAX)), s(json!(u64::MAX - 1)));
        assert_ne!(s(json!(u64::MAX)), s(json!(u64::MAX.to_string())));
        assert_ne!(s(json!(9223372036854775808u64)), s(json!(i64::MIN)));
        assert_ne!(s(json!(1)), s(json!(1.0)));
        assert_eq!(s(json!(-0.0)), s(json!(0.0)));
        assert_eq!(s(json!(0)), Scalar::Int(0));
    }

    #[test]
    fn scalars_convert_back_to_json() {
        for v in [
            json!(null),
            json!(-7),
            json!(u64::MAX),
            json!(3.5),
            json!("x"),
            json!([1, "a"]),
            json!({"k": null}),
        ] {
            assert_eq!(Scalar::from_json(&v).to_json(), v);
        }
        assert_eq!(Scalar::from_json(&json!(-0.0)).to_json(), json!(0.0));
    }
}
