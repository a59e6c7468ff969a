//! Registers: `register` (read, write), `cas-register` (read, write, cas)
//! and `kv` (independent cas-registers by key).
//!
//! Values: `read` → the value read (on the completion), `write` → the value,
//! `cas` → `[old, new]`. A read of `null` must see `null` (the initial value
//! unless one is given). An indeterminate read constrains nothing and is
//! dropped.

use super::{pair, Model, RegisterView, Scalar};
use crate::op::Op;
use serde_json::Value;

/// One register operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegisterOp {
    /// Read; the value comes from the output.
    Read,
    /// Write a value.
    Write(Scalar),
    /// Compare-and-set from old to new.
    Cas(Scalar, Scalar),
}

/// A compare-and-set register.
#[derive(Clone, Debug)]
pub struct CasRegister {
    initial: Scalar,
    allow_cas: bool,
}

impl CasRegister {
    /// A cas-register that starts at `initial`.
    pub fn new(initial: Scalar) -> Self {
        CasRegister {
            initial,
            allow_cas: true,
        }
    }
}

/// A read/write register (a `cas` op is an error).
#[derive(Clone, Debug)]
pub struct Register(CasRegister);

impl Register {
    /// A register that starts at `initial`.
    pub fn new(initial: Scalar) -> Self {
        Register(CasRegister {
            initial,
            allow_cas: false,
        })
    }
}

fn decode_register(
    allow_cas: bool,
    f: &str,
    arg: &Value,
    completion: Option<&Op>,
) -> Result<Option<(RegisterOp, Option<Scalar>)>, String> {
    match f {
        "read" => Ok(completion.map(|c| (RegisterOp::Read, Some(Scalar::from_json(&c.value))))),
        "write" => Ok(Some((RegisterOp::Write(Scalar::from_json(arg)), None))),
        "cas" if allow_cas => {
            let (old, new) = pair(arg, "cas value [old, new]")?;
            Ok(Some((
                RegisterOp::Cas(Scalar::from_json(old), Scalar::from_json(new)),
                None,
            )))
        }
        other => Err(format!(
            "expected :read, :write{} for this register model, found :{other}",
            if allow_cas { " or :cas" } else { "" }
        )),
    }
}

fn view_register<'a>(
    input: &'a RegisterOp,
    output: Option<&'a Scalar>,
) -> Option<RegisterView<'a>> {
    match input {
        RegisterOp::Read => output.map(RegisterView::Read),
        RegisterOp::Write(v) => Some(RegisterView::Write(v)),
        RegisterOp::Cas(old, new) => Some(RegisterView::Cas(old, new)),
    }
}

fn step_register(state: &Scalar, input: &RegisterOp, output: Option<&Scalar>) -> Option<Scalar> {
    match input {
        RegisterOp::Read => match output {
            Some(v) if v != state => None,
            _ => Some(state.clone()),
        },
        RegisterOp::Write(v) => Some(v.clone()),
        RegisterOp::Cas(old, new) => (old == state).then(|| new.clone()),
    }
}

impl Model for CasRegister {
    type State = Scalar;
    type Input = RegisterOp;
    type Output = Scalar;

    fn name(&self) -> &'static str {
        if self.allow_cas {
            "cas-register"
        } else {
            "register"
        }
    }

    fn init(&self) -> Scalar {
        self.initial.clone()
    }

    fn initial_value(&self) -> Value {
        self.initial.to_json()
    }

    fn decode(
        &self,
        invoke: &Op,
        completion: Option<&Op>,
    ) -> Result<Option<(RegisterOp, Option<Scalar>)>, String> {
        decode_register(self.allow_cas, &invoke.f, &invoke.value, completion)
    }

    fn step(&self, state: &Scalar, input: &RegisterOp, output: Option<&Scalar>) -> Option<Scalar> {
        step_register(state, input, output)
    }

    fn describe_state(&self, state: &Scalar) -> String {
        format!("{state:?}")
    }

    fn register_view<'a>(
        &self,
        input: &'a RegisterOp,
        output: Option<&'a Scalar>,
    ) -> Option<RegisterView<'a>> {
        view_register(input, output)
    }

    fn register_initial(&self) -> Option<&Scalar> {
        Some(&self.initial)
    }
}

impl Model for Register {
    type State = Scalar;
    type Input = RegisterOp;
    type Output = Scalar;

    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn init(&self) -> Scalar {
        self.0.init()
    }
    fn initial_value(&self) -> Value {
        self.0.initial_value()
    }
    fn decode(
        &self,
        invoke: &Op,
        completion: Option<&Op>,
    ) -> Result<Option<(RegisterOp, Option<Scalar>)>, String> {
        self.0.decode(invoke, completion)
    }
    fn step(&self, state: &Scalar, input: &RegisterOp, output: Option<&Scalar>) -> Option<Scalar> {
        self.0.step(state, input, output)
    }

    fn register_view<'a>(
        &self,
        input: &'a RegisterOp,
        output: Option<&'a Scalar>,
    ) -> Option<RegisterView<'a>> {
        view_register(input, output)
    }

    fn register_initial(&self) -> Option<&Scalar> {
        Some(&self.0.initial)
    }
}

/// Independent cas-registers, one per key. The key is the op's `key` field
/// or, for Jepsen `independent` histories, the first element of a
/// `[key, value]` tuple value.
#[derive(Clone, Debug)]
pub struct Kv(CasRegister);

impl Kv {
    /// Registers that all start at `initial`.
    pub fn new(initial: Scalar) -> Self {
        Kv(CasRegister::new(initial))
    }
}

impl Model for Kv {
    type State = Scalar;
    type Input = RegisterOp;
    type Output = Scalar;

    fn name(&self) -> &'static str {
        "kv"
    }
    fn init(&self) -> Scalar {
        self.0.init()
    }
    fn initial_value(&self) -> Value {
        self.0.initial_value()
    }

    fn decode(
        &self,
        invoke: &Op,
        completion: Option<&Op>,
    ) -> Result<Option<(RegisterOp, Option<Scalar>)>, String> {
        if invoke.key.is_some() {
            return self.0.decode(invoke, completion);
        }
        let (_, arg) = pair(&invoke.value, "an independent op's value [key, value]")?;
        let read = match completion {
            Some(c) => Some(pair(&c.value, "an independent completion's value [key, value]")?.1),
            None => None,
        };
        match (&*invoke.f, read) {
            ("read", Some(v)) => Ok(Some((RegisterOp::Read, Some(Scalar::from_json(v))))),
            ("read", None) => Ok(None),
            (f, _) => decode_register(true, f, arg, None),
        }
    }

    fn step(&self, state: &Scalar, input: &RegisterOp, output: Option<&Scalar>) -> Option<Scalar> {
        step_register(state, input, output)
    }

    fn partition_key(&self, invoke: &Op) -> Option<Value> {
        invoke
            .key
            .clone()
            .or_else(|| invoke.value.as_array().and_then(|a| a.first().cloned()))
    }

    fn register_view<'a>(
        &self,
        input: &'a RegisterOp,
        output: Option<&'a Scalar>,
    ) -> Option<RegisterView<'a>> {
        view_register(input, output)
    }

    fn register_initial(&self) -> Option<&Scalar> {
        Some(&self.0.initial)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::{OpType, Process};
    use serde_json::json;

    fn op(f: &str, v: Value) -> Op {
        Op::new(0, Process::Client(0), OpType::Invoke, f, v)
    }

    #[test]
    fn cas_register_steps() {
        let m = CasRegister::new(Scalar::Null);
        let (cas, _) = m.decode(&op("cas", json!([1, 2])), None).unwrap().unwrap();
        assert_eq!(m.step(&Scalar::Int(1), &cas, None), Some(Scalar::Int(2)));
        assert_eq!(m.step(&Scalar::Int(3), &cas, None), None);
        let done = op("read", json!(null));
        let (read, out) = m
            .decode(&op("read", Value::Null), Some(&done))
            .unwrap()
            .unwrap();
        assert_eq!(
            m.step(&Scalar::Null, &read, out.as_ref()),
            Some(Scalar::Null)
        );
        assert_eq!(m.step(&Scalar::Int(0), &read, out.as_ref()), None);
        assert_eq!(m.decode(&op("read", Value::Null), None).unwrap(), None);
        assert!(m
            .decode(&op("cas", json!(1)), None)
            .unwrap_err()
            .contains("[old, new]"));
        assert!(Register::new(Scalar::Null)
            .decode(&op("cas", json!([1, 2])), None)
            .is_err());
    }

    #[test]
    fn kv_reads_tuples() {
        let m = Kv::new(Scalar::Null);
        let w = op("write", json!([7, 3]));
        assert_eq!(m.partition_key(&w), Some(json!(7)));
        assert_eq!(
            m.decode(&w, None).unwrap().unwrap().0,
            RegisterOp::Write(Scalar::Int(3))
        );
        let done = op("read", json!([7, 3]));
        let (_, out) = m
            .decode(&op("read", json!([7, null])), Some(&done))
            .unwrap()
            .unwrap();
        assert_eq!(out, Some(Scalar::Int(3)));
    }
}
