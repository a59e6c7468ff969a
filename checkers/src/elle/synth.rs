//! Simulated transactional databases, for tests and benchmarks: clients of
//! a store that runs list-append or register transactions at a chosen
//! isolation level. `Serial` executes each transaction atomically at one
//! instant between its invocation and completion (strict serializable);
//! `SnapshotIsolation` reads from a snapshot taken at start and aborts on
//! write-write conflicts (first committer wins), so it allows write skew;
//! `ReadCommitted` reads the latest committed state at each read and holds
//! a write lock on each key it writes until it commits, as PostgreSQL's
//! row locks do (a txn that finds a key locked aborts, as with NOWAIT).
//! Values written are unique per key.

use super::Workload;
use crate::history::History;
use crate::op::{Op, OpType, Process};
use fastrand::Rng;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Isolation level of the simulated store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isolation {
    /// Each txn takes effect atomically at its commit step.
    Serial,
    /// Snapshot reads, first-committer-wins.
    SnapshotIsolation,
    /// Reads see the latest committed state; no conflict checks.
    ReadCommitted,
}

/// Shape of a simulated run.
#[derive(Clone, Debug)]
pub struct Spec {
    /// Transactions to run.
    pub txns: usize,
    /// Concurrent processes.
    pub processes: usize,
    /// Keys in use at once.
    pub keys: usize,
    /// Appends (writes) after which a key is retired for a fresh one, as
    /// Jepsen's `max-writes-per-key` (0: never).
    pub max_writes_per_key: usize,
    /// Micro-ops per txn: 1..=max_ops.
    pub max_ops: usize,
    /// Probability a txn ends info (it commits or not, at random).
    pub info: f64,
    /// List-append or rw-register.
    pub workload: Workload,
    /// Isolation level.
    pub isolation: Isolation,
}

type State = HashMap<u32, Vec<i64>>;

struct Running {
    process: u64,
    mops: Vec<(bool, u32, i64)>,
    results: Vec<Option<Vec<i64>>>,
    step: usize,
    snapshot: Option<State>,
    start_version: u64,
    writes: State,
}

/// A simulated history per `spec`, from `seed`.
pub fn history(spec: &Spec, seed: u64) -> History {
    let mut rng = Rng::with_seed(seed);
    let mut state: State = HashMap::new();
    let mut last_commit: HashMap<u32, u64> = HashMap::new();
    let mut version = 0u64;
    let mut next_val: HashMap<u32, i64> = HashMap::new();
    let mut active: Vec<u32> = (0..spec.keys as u32).collect();
    let mut next_key = spec.keys as u32;
    let mut slots: Vec<Option<Running>> = (0..spec.processes).map(|_| None).collect();
    let mut pids: Vec<u64> = (0..spec.processes as u64).collect();
    let mut ops = Vec::with_capacity(spec.txns * 2);
    // Read committed: key → the slot holding its write lock.
    let mut locks: HashMap<u32, usize> = HashMap::new();
    let mut started = 0;
    let register = spec.workload == Workload::RwRegister;
    while started < spec.txns || slots.iter().any(Option::is_some) {
        let s = rng.u64(..spec.processes as u64) as usize;
        match slots[s].take() {
            None if started < spec.txns => {
                started += 1;
                let n = 1 + rng.u64(..spec.max_ops as u64) as usize;
                let mops: Vec<(bool, u32, i64)> = (0..n)
                    .map(|_| {
                        let slot = rng.u64(..spec.keys as u64) as usize;
                        let key = active[slot];
                        if rng.f64() < 0.5 {
                            (false, key, 0)
                        } else {
                            let v = next_val.entry(key).or_insert(0);
                            *v += 1;
                            if spec.max_writes_per_key > 0 && *v as usize >= spec.max_writes_per_key
                            {
                                active[slot] = next_key;
                                next_key += 1;
                            }
                            (true, key, *v)
                        }
                    })
                    .collect();
                let invoke = mops_json(&mops, None, register);
                ops.push(Op::new(
                    0,
                    Process::Client(pids[s]),
                    OpType::Invoke,
                    "txn",
                    invoke,
                ));
                let snapshot =
                    (spec.isolation == Isolation::SnapshotIsolation).then(|| state.clone());
                slots[s] = Some(Running {
                    process: pids[s],
                    results: vec![None; mops.len()],
                    mops,
                    step: 0,
                    snapshot,
                    start_version: version,
                    writes: HashMap::new(),
                });
            }
            None => {}
            Some(mut t) if t.step < t.mops.len() => {
                // One micro-op.
                let (write, key, val) = t.mops[t.step];
                if write && spec.isolation == Isolation::ReadCommitted {
                    if locks.get(&key).is_some_and(|holder| *holder != s) {
                        locks.retain(|_, h| *h != s);
                        ops.push(Op::new(
                            0,
                            Process::Client(t.process),
                            OpType::Fail,
                            "txn",
                            mops_json(&t.mops, None, register),
                        ));
                        continue;
                    }
                    locks.insert(key, s);
                }
                if write {
                    let w = t.writes.entry(key).or_default();
                    if register {
                        w.clear();
                    }
                    w.push(val);
                } else if spec.isolation != Isolation::Serial {
                    let base = match &t.snapshot {
                        Some(snap) => snap.get(&key).cloned().unwrap_or_default(),
                        None => state.get(&key).cloned().unwrap_or_default(),
                    };
                    t.results[t.step] = Some(view(base, t.writes.get(&key), register));
                }
                t.step += 1;
                slots[s] = Some(t);
            }
            Some(mut t) => {
                // Commit (or abort, or crash).
                let conflict = spec.isolation == Isolation::SnapshotIsolation
                    && t.writes
                        .keys()
                        .any(|k| last_commit.get(k).is_some_and(|v| *v > t.start_version));
                if spec.isolation == Isolation::Serial {
                    let mut own: State = HashMap::new();
                    for (i, &(write, key, val)) in t.mops.iter().enumerate() {
                        if write {
                            let w = own.entry(key).or_default();
                            if register {
                                w.clear();
                            }
                            w.push(val);
                        } else {
                            t.results[i] = Some(view(
                                state.get(&key).cloned().unwrap_or_default(),
                                own.get(&key),
                                register,
                            ));
                        }
                    }
                    t.writes = own;
                }
                locks.retain(|_, h| *h != s);
                let crashed = rng.f64() < spec.info;
                let applies = !conflict && (!crashed || rng.f64() < 0.5);
                if applies {
                    version += 1;
                    for (key, vals) in &t.writes {
                        let cur = state.entry(*key).or_default();
                        if register {
                            cur.clear();
                        }
                        cur.extend(vals);
                        last_commit.insert(*key, version);
                    }
                }
                let (kind, value) = if crashed {
                    (OpType::Info, mops_json(&t.mops, None, register))
                } else if conflict {
                    (OpType::Fail, mops_json(&t.mops, None, register))
                } else {
                    (OpType::Ok, mops_json(&t.mops, Some(&t.results), register))
                };
                ops.push(Op::new(0, Process::Client(t.process), kind, "txn", value));
                if crashed {
                    pids[s] += spec.processes as u64;
                }
            }
        }
    }
    History::new(ops)
}

/// What a read sees: the base state plus the txn's own writes.
fn view(mut base: Vec<i64>, own: Option<&Vec<i64>>, register: bool) -> Vec<i64> {
    if let Some(w) = own {
        if register {
            base.clear();
        }
        base.extend(w);
    }
    if register {
        base.last().copied().into_iter().collect()
    } else {
        base
    }
}

fn mops_json(
    mops: &[(bool, u32, i64)],
    results: Option<&[Option<Vec<i64>>]>,
    register: bool,
) -> Value {
    Value::Array(
        mops.iter()
            .enumerate()
            .map(|(i, &(write, key, val))| {
                if write {
                    json!([if register { "w" } else { "append" }, key, val])
                } else {
                    let r = results.and_then(|r| r[i].as_ref());
                    match (r, register) {
                        (None, _) => json!(["r", key, null]),
                        (Some(v), true) => json!(["r", key, v.first()]),
                        (Some(v), false) => json!(["r", key, v]),
                    }
                }
            })
            .collect(),
    )
}
