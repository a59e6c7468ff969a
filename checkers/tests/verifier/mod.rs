//! An independent checker of linearizability witnesses.
//!
//! It shares nothing with the search but the history reader: its own
//! pairing of invocations with completions, its own partitioning, and its
//! own few lines of model semantics for `register`, `cas-register`, `kv`,
//! `set` and `fifo-queue`. Given a history and a witness (parsed JSON as
//! `faultline check --witness` writes it), it checks the rule of docs/checkers.md ("Witnesses"):
//!
//! 1. real time: if A completed (`ok`) before B was invoked, A comes before B;
//! 2. replaying the order through the model from the initial value gives
//!    every `ok` op exactly its recorded result;
//! 3. every `ok` op appears exactly once, `fail` ops never, no position
//!    twice, and every position is an invocation of that partition.
//!
//! Everything it does is linear in the history and the witness (up to
//! the cost of comparing set states).
#![allow(dead_code)]

use faultline_checkers::{History, OpType, Process};
use serde_json::Value;
use std::collections::{BTreeSet, HashSet, VecDeque};

/// How a client op ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    Ok,
    Fail,
    Info,
}

/// One client op, as this verifier pairs it.
struct ClientOp<'h> {
    f: &'h str,
    /// The invocation's argument (for a `kv` tuple, its second element).
    arg: &'h Value,
    key: Option<&'h Value>,
    end: End,
    /// The recorded result of an `ok` op (for a `kv` tuple, its second element).
    result: Option<&'h Value>,
    /// Position of the `ok` completion.
    done: Option<usize>,
}

/// The model's state while replaying.
enum State {
    Register(Value),
    Set(BTreeSet<String>),
    Queue(VecDeque<Value>),
}

/// Checks `witness` against `history`; the error says which rule broke.
pub fn verify(history: &History, witness: &Value) -> Result<(), String> {
    let model = witness["model"]
        .as_str()
        .ok_or("the witness has no \"model\"")?;
    if !["register", "cas-register", "kv", "set", "fifo-queue"].contains(&model) {
        return Err(format!("unknown model {model:?}"));
    }
    let initial = witness
        .get("initial_value")
        .ok_or("the witness has no \"initial_value\"")?;
    let parts = witness["partitions"]
        .as_array()
        .ok_or("the witness has no \"partitions\" list")?;
    let ops = pair(history, model == "kv")?;
    let mut seen = vec![false; ops.len()];
    let mut keys: HashSet<String> = HashSet::new();
    let mut orders = Vec::with_capacity(parts.len());
    for part in parts {
        let key = part.get("key").ok_or("a partition has no \"key\"")?;
        if !keys.insert(key.to_string()) {
            return Err(format!("rule 3: partition key {key} appears twice"));
        }
        let order: Vec<usize> = part["order"]
            .as_array()
            .ok_or("a partition has no \"order\" list")?
            .iter()
            .map(|p| {
                p.as_u64()
                    .map(|p| p as usize)
                    .ok_or("a position is not an integer")
            })
            .collect::<Result<_, _>>()?;
        members(&ops, &order, (!key.is_null()).then_some(key), &mut seen)?;
        orders.push(order);
    }
    for (i, op) in ops.iter().enumerate() {
        if let Some(op) = op {
            if op.end == End::Ok && !seen[i] {
                return Err(format!(
                    "rule 3: ok op invoked at position {i} ({}) is missing",
                    op.f
                ));
            }
        }
    }
    for order in &orders {
        real_time(&ops, order)?;
        replay(model, initial, &ops, order)?;
    }
    Ok(())
}

/// Pairs invocations with completions by process; the op invoked at
/// position i is at index i.
fn pair(history: &History, kv: bool) -> Result<Vec<Option<ClientOp<'_>>>, String> {
    let mut ops: Vec<Option<ClientOp>> = (0..history.len()).map(|_| None).collect();
    let mut pending: std::collections::HashMap<u64, usize> = Default::default();
    for (i, e) in history.ops().iter().enumerate() {
        let Process::Client(p) = e.process else {
            continue;
        };
        let tuple = kv && e.key.is_none();
        let second = |v: &'_ Value| -> Result<(), String> {
            match v.as_array().map(Vec::len) {
                Some(2) => Ok(()),
                _ => Err(format!("position {i}: expected a [key, value] tuple")),
            }
        };
        if e.kind == OpType::Invoke {
            if tuple {
                second(&e.value)?;
            }
            pending.insert(p, i);
            ops[i] = Some(ClientOp {
                f: &e.f,
                arg: if tuple { &e.value[1] } else { &e.value },
                key: e
                    .key
                    .as_ref()
                    .or(if tuple { Some(&e.value[0]) } else { None })
                    .filter(|k| !k.is_null()),
                end: End::Info,
                result: None,
                done: None,
            });
            continue;
        }
        let j = pending
            .remove(&p)
            .ok_or(format!("position {i}: completion without invocation"))?;
        let op = ops[j].as_mut().ok_or("pairing broke")?;
        op.end = match e.kind {
            OpType::Ok => End::Ok,
            OpType::Fail => End::Fail,
            _ => End::Info,
        };
        if op.end == End::Ok {
            if tuple && op.f == "read" {
                second(&e.value)?;
            }
            op.result = Some(if tuple { &e.value[1] } else { &e.value });
            op.done = Some(i);
        }
    }
    Ok(ops)
}

/// Rule 3 for one partition: each position is a not-yet-seen invocation of
/// a non-failed op with this key.
fn members(
    ops: &[Option<ClientOp>],
    order: &[usize],
    key: Option<&Value>,
    seen: &mut [bool],
) -> Result<(), String> {
    for &p in order {
        let op = ops
            .get(p)
            .and_then(Option::as_ref)
            .ok_or(format!("rule 3: position {p} is not a client invocation"))?;
        if seen[p] {
            return Err(format!("rule 3: position {p} appears twice"));
        }
        seen[p] = true;
        if op.end == End::Fail {
            return Err(format!("rule 3: position {p} is a failed op"));
        }
        if op.key != key {
            return Err(format!(
                "rule 3: position {p} has key {:?}, not the partition's {key:?}",
                op.key
            ));
        }
    }
    Ok(())
}

/// Rule 1: no op comes after an op that was invoked after it completed.
/// Scans from the back, keeping the earliest completion seen.
fn real_time(ops: &[Option<ClientOp>], order: &[usize]) -> Result<(), String> {
    let mut earliest: Option<(usize, usize)> = None;
    for &p in order.iter().rev() {
        if let Some((done, q)) = earliest {
            if done < p {
                return Err(format!(
                    "rule 1 (real time): op {q} completed at {done}, before op {p} was \
                     invoked, but comes after it"
                ));
            }
        }
        if let Some(d) = ops[p].as_ref().and_then(|o| o.done) {
            if earliest.is_none_or(|(e, _)| d < e) {
                earliest = Some((d, p));
            }
        }
    }
    Ok(())
}

/// Rule 2: replays the order from the initial value.
fn replay(
    model: &str,
    initial: &Value,
    ops: &[Option<ClientOp>],
    order: &[usize],
) -> Result<(), String> {
    let mut state = match model {
        "set" => State::Set(
            initial
                .as_array()
                .ok_or("a set's initial value must be a list")?
                .iter()
                .map(Value::to_string)
                .collect(),
        ),
        "fifo-queue" => State::Queue(
            initial
                .as_array()
                .ok_or("a queue's initial value must be a list")?
                .iter()
                .cloned()
                .collect(),
        ),
        _ => State::Register(initial.clone()),
    };
    for &p in order {
        let op = ops[p].as_ref().ok_or("checked by members")?;
        step(model, &mut state, op).map_err(|e| format!("rule 2: op {p} ({}): {e}", op.f))?;
    }
    Ok(())
}

/// Applies one op; an `ok` op must return what it recorded.
fn step(model: &str, state: &mut State, op: &ClientOp) -> Result<(), String> {
    let want = |have: &Value| match op.result {
        Some(r) if r != have => Err(format!("recorded {r}, but the state is {have}")),
        _ => Ok(()),
    };
    match (state, op.f) {
        (State::Register(v), "read") => want(v),
        (State::Register(v), "write") => {
            *v = op.arg.clone();
            Ok(())
        }
        (State::Register(v), "cas") if model != "register" => match op.arg.as_array() {
            Some(old_new) if old_new.len() == 2 && old_new[0] == *v => {
                *v = old_new[1].clone();
                Ok(())
            }
            _ => Err(format!("cas {} in state {v}", op.arg)),
        },
        (State::Set(s), "add") => {
            s.insert(op.arg.to_string());
            Ok(())
        }
        (State::Set(s), "read") => match op.result {
            None => Ok(()),
            Some(r) => {
                let got: BTreeSet<String> = r
                    .as_array()
                    .ok_or("a set read is not a list")?
                    .iter()
                    .map(Value::to_string)
                    .collect();
                if got == *s {
                    Ok(())
                } else {
                    Err(format!("read {got:?}, but the set is {s:?}"))
                }
            }
        },
        (State::Queue(q), "enqueue") => {
            q.push_back(op.arg.clone());
            Ok(())
        }
        (State::Queue(q), "dequeue") => {
            match op.result {
                Some(Value::Null) if q.is_empty() => return Ok(()),
                Some(r) if q.front() != Some(r) => {
                    return Err(format!("dequeued {r}, but the head is {:?}", q.front()))
                }
                _ => {}
            }
            q.pop_front();
            Ok(())
        }
        (_, f) => Err(format!("{f} is not an op of {model}")),
    }
}
