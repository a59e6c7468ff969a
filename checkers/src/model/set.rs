//! A set: `add` an element, `read` the whole set (a list on the completion).

use super::{elements, Model, Scalar};
use crate::op::Op;
use serde_json::Value;
use std::collections::BTreeSet;

/// A set that starts empty.
#[derive(Clone, Debug, Default)]
pub struct Set;

/// A set operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SetOp {
    /// Add an element.
    Add(Scalar),
    /// Read all elements.
    Read,
}

impl Model for Set {
    type State = BTreeSet<Scalar>;
    type Input = SetOp;
    type Output = BTreeSet<Scalar>;

    fn name(&self) -> &'static str {
        "set"
    }

    fn init(&self) -> Self::State {
        BTreeSet::new()
    }

    fn initial_value(&self) -> Value {
        Value::Array(Vec::new())
    }

    fn decode(
        &self,
        invoke: &Op,
        completion: Option<&Op>,
    ) -> Result<Option<(SetOp, Option<Self::Output>)>, String> {
        match &*invoke.f {
            "add" => Ok(Some((SetOp::Add(Scalar::from_json(&invoke.value)), None))),
            "read" => match completion {
                Some(c) => Ok(Some((
                    SetOp::Read,
                    Some(elements(&c.value, "a set read")?.into_iter().collect()),
                ))),
                None => Ok(None),
            },
            f => Err(format!(
                "expected :add or :read for the set model, found :{f}"
            )),
        }
    }

    fn step(
        &self,
        state: &Self::State,
        input: &SetOp,
        output: Option<&Self::Output>,
    ) -> Option<Self::State> {
        match input {
            SetOp::Add(x) => {
                let mut s = state.clone();
                s.insert(x.clone());
                Some(s)
            }
            SetOp::Read => match output {
                Some(seen) if seen != state => None,
                _ => Some(state.clone()),
            },
        }
    }

    fn describe_state(&self, state: &Self::State) -> String {
        format!("#{state:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_must_match_exactly() {
        let m = Set;
        let s = m
            .step(&m.init(), &SetOp::Add(Scalar::Int(1)), None)
            .unwrap();
        let one: BTreeSet<_> = [Scalar::Int(1)].into();
        assert_eq!(m.step(&s, &SetOp::Read, Some(&one)), Some(s.clone()));
        assert_eq!(m.step(&m.init(), &SetOp::Read, Some(&one)), None);
    }
}
