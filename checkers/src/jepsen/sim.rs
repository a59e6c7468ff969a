//! Simulated correct systems for Jepsen's workloads, for tests and
//! benchmarks: concurrent processes whose ops each take effect atomically
//! when they complete (an indeterminate op takes effect or not, at random,
//! and its process continues under a new id, as in Jepsen).

use crate::history::History;
use crate::op::{Op, OpType, Process};
use fastrand::Rng;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, VecDeque};

/// Which system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// A grow-only set per key: `add`, `read`, and a final read of each key.
    Set,
    /// A counter: `add` n, `read`.
    Counter,
    /// Eight accounts holding 100 in all: `transfer`, `read`.
    Bank,
    /// A queue: `enqueue`, `dequeue`, and one final `drain`.
    Queue,
    /// An id generator: `generate`.
    UniqueIds,
    /// Groups of 2 keys, each inserted once: single-key inserts, group reads.
    LongFork,
}

/// Shape of a simulated run.
#[derive(Clone, Debug)]
pub struct Spec {
    /// Operations (invocations) to run.
    pub ops: usize,
    /// Concurrent processes.
    pub processes: usize,
    /// Set: independent keys in use at once (0: one set, no keys).
    pub keys: usize,
    /// Set: adds per key before it is retired for a fresh one.
    pub per_key: usize,
    /// Probability an op ends indeterminate.
    pub info: f64,
    /// Which system.
    pub workload: Workload,
}

/// The simulated system's state.
#[derive(Default)]
struct State {
    sets: BTreeMap<i64, Vec<i64>>,
    added: BTreeMap<i64, i64>,
    counter: i64,
    accounts: Vec<i64>,
    queue: VecDeque<i64>,
    next: i64,
    fork: BTreeMap<i64, i64>,
}

struct Pending {
    process: u64,
    f: &'static str,
    value: Value,
    key: Option<i64>,
}

/// A simulated history per `spec`, from `seed`.
pub fn history(spec: &Spec, seed: u64) -> History {
    let mut rng = Rng::with_seed(seed);
    let mut st = State {
        accounts: vec![12, 12, 12, 12, 13, 13, 13, 13],
        ..State::default()
    };
    let mut pids: Vec<u64> = (0..spec.processes as u64).collect();
    let mut slots: Vec<Option<Pending>> = (0..spec.processes).map(|_| None).collect();
    let mut ops: Vec<Op> = Vec::with_capacity(spec.ops * 2 + 2);
    let mut started = 0;
    let mut window = 0i64;
    let op = |process: u64, kind: OpType, f: &str, value: Value, key: Option<i64>| {
        let mut o = Op::new(0, Process::Client(process), kind, f, value);
        o.key = key.map(Value::from);
        o
    };
    while started < spec.ops || slots.iter().any(Option::is_some) {
        let s = rng.u64(..spec.processes as u64) as usize;
        match slots[s].take() {
            None if started < spec.ops => {
                started += 1;
                let (f, value, key) = invoke(spec, &mut st, &mut rng, &mut window);
                ops.push(op(pids[s], OpType::Invoke, f, value.clone(), key));
                slots[s] = Some(Pending {
                    process: pids[s],
                    f,
                    value,
                    key,
                });
            }
            None => {}
            Some(p) => {
                let crashed = rng.f64() < spec.info;
                let (kind, value) = if crashed {
                    if rng.f64() < 0.5 {
                        apply(spec, &mut st, &p);
                    }
                    (OpType::Info, p.value.clone())
                } else {
                    apply(spec, &mut st, &p)
                };
                ops.push(op(p.process, kind, p.f, value, p.key));
                if crashed {
                    pids[s] += spec.processes as u64;
                }
            }
        }
    }
    if spec.workload == Workload::Set {
        // A final read of every key, after everything, as Jepsen's set
        // workloads end.
        let keys: Vec<i64> = st.added.keys().copied().collect();
        let p = pids[0];
        for k in keys {
            let key = (spec.keys > 0).then_some(k);
            let mut v = st.sets.get(&k).cloned().unwrap_or_default();
            v.sort_unstable();
            ops.push(op(p, OpType::Invoke, "read", Value::Null, key));
            ops.push(op(p, OpType::Ok, "read", json!(v), key));
        }
    }
    if spec.workload == Workload::Queue {
        let drained: Vec<i64> = st.queue.drain(..).collect();
        let p = pids[0];
        ops.push(op(p, OpType::Invoke, "drain", Value::Null, None));
        ops.push(op(p, OpType::Ok, "drain", json!(drained), None));
    }
    History::new(ops)
}

/// A new op to invoke: (f, value, key).
fn invoke(
    spec: &Spec,
    st: &mut State,
    rng: &mut Rng,
    window: &mut i64,
) -> (&'static str, Value, Option<i64>) {
    let read = rng.f64() < 0.3;
    match spec.workload {
        Workload::Set => {
            let key = (spec.keys > 0).then(|| *window + rng.u64(..spec.keys as u64) as i64);
            let k = key.unwrap_or(0);
            if read && st.added.contains_key(&k) {
                return ("read", Value::Null, key);
            }
            let n = st.added.entry(k).or_insert(0);
            *n += 1;
            if spec.keys > 0 && *n as usize >= spec.per_key.max(1) && k == *window {
                *window += 1;
            }
            st.next += 1;
            ("add", json!(st.next), key)
        }
        Workload::Counter if read => ("read", Value::Null, None),
        Workload::Counter => ("add", json!(1 + rng.u64(..5)), None),
        Workload::Bank if read => ("read", Value::Null, None),
        Workload::Bank => {
            let from = rng.u64(..8);
            let to = (from + 1 + rng.u64(..7)) % 8;
            (
                "transfer",
                json!({"from": from, "to": to, "amount": 1 + rng.u64(..5)}),
                None,
            )
        }
        Workload::Queue if read => ("dequeue", Value::Null, None),
        Workload::Queue => {
            st.next += 1;
            ("enqueue", json!(st.next), None)
        }
        Workload::UniqueIds => ("generate", Value::Null, None),
        Workload::LongFork => {
            let group = *window;
            let keys = [2 * group, 2 * group + 1];
            let unwritten: Vec<i64> = keys
                .iter()
                .copied()
                .filter(|k| !st.fork.contains_key(k))
                .collect();
            if read || unwritten.is_empty() {
                if unwritten.is_empty() && rng.f64() < 0.2 {
                    *window += 1;
                }
                return (
                    "read",
                    json!(keys
                        .iter()
                        .map(|k| json!(["r", k, null]))
                        .collect::<Vec<_>>()),
                    None,
                );
            }
            let k = unwritten[rng.u64(..unwritten.len() as u64) as usize];
            st.fork.insert(k, -1);
            ("write", json!([["w", k, 1]]), None)
        }
    }
}

/// Applies a pending op atomically; its completion (type, value).
fn apply(spec: &Spec, st: &mut State, p: &Pending) -> (OpType, Value) {
    let k = p.key.unwrap_or(0);
    match (spec.workload, p.f) {
        (Workload::Set, "add") => {
            st.sets
                .entry(k)
                .or_default()
                .push(p.value.as_i64().unwrap_or(0));
            (OpType::Ok, p.value.clone())
        }
        (Workload::Set, _) => {
            let mut v = st.sets.get(&k).cloned().unwrap_or_default();
            v.sort_unstable();
            (OpType::Ok, json!(v))
        }
        (Workload::Counter, "add") => {
            st.counter += p.value.as_i64().unwrap_or(0);
            (OpType::Ok, p.value.clone())
        }
        (Workload::Counter, _) => (OpType::Ok, json!(st.counter)),
        (Workload::Bank, "transfer") => {
            let g = |f: &str| p.value[f].as_u64().unwrap_or(0) as usize;
            let amount = p.value["amount"].as_i64().unwrap_or(0);
            if st.accounts[g("from")] < amount {
                return (OpType::Fail, p.value.clone());
            }
            st.accounts[g("from")] -= amount;
            st.accounts[g("to")] += amount;
            (OpType::Ok, p.value.clone())
        }
        (Workload::Bank, _) => {
            let m: Map<String, Value> = st
                .accounts
                .iter()
                .enumerate()
                .map(|(i, b)| (i.to_string(), json!(b)))
                .collect();
            (OpType::Ok, Value::Object(m))
        }
        (Workload::Queue, "enqueue") => {
            st.queue.push_back(p.value.as_i64().unwrap_or(0));
            (OpType::Ok, p.value.clone())
        }
        (Workload::Queue, _) => match st.queue.pop_front() {
            Some(v) => (OpType::Ok, json!(v)),
            None => (OpType::Fail, Value::Null),
        },
        (Workload::UniqueIds, _) => {
            st.next += 1;
            (OpType::Ok, json!(st.next))
        }
        (Workload::LongFork, "write") => {
            let k = p.value[0][1].as_i64().unwrap_or(0);
            st.fork.insert(k, 1);
            (OpType::Ok, p.value.clone())
        }
        (Workload::LongFork, _) => {
            let read: Vec<Value> = p
                .value
                .as_array()
                .into_iter()
                .flatten()
                .map(|m| {
                    let k = m[1].as_i64().unwrap_or(0);
                    let v = st.fork.get(&k).filter(|v| **v > 0).map(|v| json!(v));
                    json!(["r", k, v])
                })
                .collect();
            (OpType::Ok, json!(read))
        }
    }
}

/// Shape of a run against one big set ([`one_set`]).
#[derive(Clone, Debug)]
pub struct OneSetSpec {
    /// Operations (invocations) to run: adds, and `reads` reads.
    pub ops: usize,
    /// Concurrent processes.
    pub processes: usize,
    /// Reads of the whole set, spread evenly through the history; the last
    /// is the last invocation.
    pub reads: usize,
    /// Probability an add ends indeterminate (having taken effect or not).
    pub info: f64,
    /// Break the set: one acknowledged element is missing from one read
    /// only (stale), another from every read after the middle one (lost).
    pub faulty: bool,
}

/// A history of one set (no keys) with `spec.reads` reads of the whole of
/// it, each returning every element added so far, from `seed`. Adds take
/// effect between their invocation and their completion, so a read can
/// see an add before it is acknowledged; an indeterminate add has taken
/// effect (and later reads see it) or not (it is never read). Times are
/// nanoseconds, 0–20 µs apart.
pub fn one_set(spec: &OneSetSpec, seed: u64) -> History {
    struct Add {
        process: u64,
        value: i64,
        applied: bool,
    }
    enum Slot {
        Idle,
        Add(Add),
        Read(u64),
    }
    let mut rng = Rng::with_seed(seed);
    let processes = spec.processes.max(1);
    let mut pids: Vec<u64> = (0..processes as u64).collect();
    let mut slots: Vec<Slot> = (0..processes).map(|_| Slot::Idle).collect();
    let mut ops: Vec<Op> = Vec::with_capacity(spec.ops * 2);
    let mut set: Vec<i64> = Vec::new();
    let (mut started, mut next, mut reads_done, mut time) = (0, 0i64, 0, 0i64);
    // The elements the faulty variant drops: (from read, until read, element).
    let mut drops: Vec<(usize, usize, i64)> = Vec::new();
    let is_read =
        |i: usize| (0..spec.reads).any(|k| (k + 1) * spec.ops / spec.reads.max(1) == i + 1);
    let op = |process: u64, kind: OpType, f: &str, value: Value, time: i64| {
        let mut o = Op::new(0, Process::Client(process), kind, f, value);
        o.time = time;
        o
    };
    while started < spec.ops || slots.iter().any(|s| !matches!(s, Slot::Idle)) {
        let s = rng.u64(..processes as u64) as usize;
        time += rng.i64(0..20_000);
        match std::mem::replace(&mut slots[s], Slot::Idle) {
            Slot::Idle if started < spec.ops => {
                if is_read(started) {
                    ops.push(op(pids[s], OpType::Invoke, "read", Value::Null, time));
                    slots[s] = Slot::Read(pids[s]);
                } else {
                    next += 1;
                    ops.push(op(pids[s], OpType::Invoke, "add", json!(next), time));
                    slots[s] = Slot::Add(Add {
                        process: pids[s],
                        value: next,
                        applied: false,
                    });
                }
                started += 1;
            }
            Slot::Idle => {}
            Slot::Add(mut a) if !a.applied && rng.f64() >= spec.info / 2.0 => {
                set.push(a.value);
                a.applied = true;
                slots[s] = Slot::Add(a);
            }
            Slot::Add(a) => {
                // Crashed before taking effect, or after.
                let kind = if !a.applied || rng.f64() < spec.info / 2.0 {
                    pids[s] += processes as u64;
                    OpType::Info
                } else {
                    OpType::Ok
                };
                ops.push(op(a.process, kind, "add", json!(a.value), time));
                if spec.faulty && kind == OpType::Ok && drops.len() < 2 && reads_done > 0 {
                    // Missing from the next read only; then from every
                    // read after the middle one.
                    let until = if drops.is_empty() {
                        reads_done + 1
                    } else {
                        usize::MAX
                    };
                    let from = if drops.is_empty() {
                        reads_done
                    } else {
                        reads_done.max(spec.reads / 2)
                    };
                    drops.push((from, until, a.value));
                }
            }
            Slot::Read(process) => {
                let mut v = set.clone();
                v.sort_unstable();
                v.retain(|x| {
                    !drops.iter().any(|&(from, until, e)| {
                        e == *x && from <= reads_done && reads_done < until
                    })
                });
                reads_done += 1;
                ops.push(op(process, OpType::Ok, "read", json!(v), time));
            }
        }
    }
    History::new(ops)
}
