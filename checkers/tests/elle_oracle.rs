//! The transactional checker against a brute-force serializability oracle.
//!
//! Random small histories (up to 7 committed transactions over 2–3 keys,
//! with indeterminate and failed ones) come from a random serial execution,
//! some of whose reads are then corrupted, and are interleaved at random
//! across processes. The oracle searches every serial order of the
//! committed transactions (each indeterminate one placed anywhere, or
//! nowhere) for one that explains every read. The generator does not use
//! the checker's inference, so it does not share its assumptions: appends
//! no read observed are common.
//!
//! - Soundness: whenever faultline calls a history not serializable, the
//!   oracle finds no order.
//! - Completeness: when every committed append is observed by some read
//!   (list-append), or every write follows a read of the same key in a
//!   committed transaction (rw-register with writes-follow-reads; no
//!   indeterminate writes), faultline calls it not serializable exactly
//!   when the oracle finds no order.

use fastrand::Rng;
use faultline_checkers::elle::{check, Options, Workload};
use faultline_checkers::{History, Op, OpType, Process, Validity};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};

#[derive(Clone, Debug)]
enum M {
    /// Append (or write) a value.
    W(u32, i64),
    /// Read: what was seen (None: unknown).
    R(u32, Option<Vec<i64>>),
}

#[derive(Clone, Debug)]
struct T {
    kind: OpType,
    mops: Vec<M>,
}

/// Applies `t` to `state`; false if one of its known reads disagrees.
fn apply(t: &T, state: &mut HashMap<u32, Vec<i64>>, register: bool, check_reads: bool) -> bool {
    for m in &t.mops {
        match m {
            M::W(k, v) => {
                let s = state.entry(*k).or_default();
                if register {
                    s.clear();
                }
                s.push(*v);
            }
            M::R(k, Some(seen)) if check_reads => {
                if state.get(k).map_or(&[][..], |s| s.as_slice()) != seen.as_slice() {
                    return false;
                }
            }
            M::R(..) => {}
        }
    }
    true
}

/// Whether some serial order of the committed txns (and any subset of the
/// indeterminate ones) explains every committed read: a depth-first search
/// over (placed txns, state), each state explored once.
fn serializable(txns: &[T], register: bool) -> bool {
    type Seen = HashSet<(u32, Vec<(u32, Vec<i64>)>)>;
    fn key(placed: u32, state: &HashMap<u32, Vec<i64>>) -> (u32, Vec<(u32, Vec<i64>)>) {
        let mut s: Vec<(u32, Vec<i64>)> = state.iter().map(|(k, v)| (*k, v.clone())).collect();
        s.sort();
        (placed, s)
    }
    fn go(
        txns: &[T],
        register: bool,
        placed: u32,
        state: &HashMap<u32, Vec<i64>>,
        seen: &mut Seen,
    ) -> bool {
        if !seen.insert(key(placed, state)) {
            return false;
        }
        let all_ok = (0..txns.len())
            .filter(|i| txns[*i].kind == OpType::Ok)
            .all(|i| placed & (1 << i) != 0);
        if all_ok {
            return true;
        }
        for (i, t) in txns.iter().enumerate() {
            if placed & (1 << i) != 0 || t.kind == OpType::Fail {
                continue;
            }
            let mut s = state.clone();
            if apply(t, &mut s, register, t.kind == OpType::Ok)
                && go(txns, register, placed | (1 << i), &s, seen)
            {
                return true;
            }
        }
        false
    }
    go(txns, register, 0, &HashMap::new(), &mut HashSet::new())
}

/// A random history: a serial execution, then corruption.
fn generate(rng: &mut Rng, register: bool, rmw: bool, final_read: bool) -> Vec<T> {
    let keys = 2 + rng.u64(..2) as u32;
    let n_ok = 1 + rng.u64(..if final_read { 6 } else { 7 }) as usize;
    // Indeterminate writes have no known reads, so no inferable order:
    // read-modify-write histories (the completeness case) leave them out.
    let n_info = if rmw { 0 } else { rng.u64(..3) as usize };
    let n_fail = rng.u64(..3) as usize;
    let mut next: HashMap<u32, i64> = HashMap::new();
    let mut txns: Vec<T> = Vec::new();
    for i in 0..n_ok + n_info + n_fail {
        let kind = if i < n_ok {
            OpType::Ok
        } else if i < n_ok + n_info {
            OpType::Info
        } else {
            OpType::Fail
        };
        let mut mops = Vec::new();
        for _ in 0..1 + rng.u64(..4) {
            let k = rng.u64(..keys as u64) as u32;
            if rng.f64() < 0.5 {
                let v = next.entry(k).or_insert(0);
                *v += 1;
                if rmw && register {
                    mops.push(M::R(k, None));
                }
                mops.push(M::W(k, *v));
            } else {
                mops.push(M::R(k, None));
            }
        }
        txns.push(T { kind, mops });
    }
    // Serial execution in a random order; info txns apply or not.
    let mut order: Vec<usize> = (0..txns.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.u64(..i as u64 + 1) as usize);
    }
    let mut state: HashMap<u32, Vec<i64>> = HashMap::new();
    let mut history_states: Vec<HashMap<u32, Vec<i64>>> = vec![state.clone()];
    for &i in &order {
        let applies = match txns[i].kind {
            OpType::Ok => true,
            OpType::Info => rng.f64() < 0.5,
            _ => false,
        };
        if !applies {
            continue;
        }
        let mut own = state.clone();
        let mut mops = txns[i].mops.clone();
        for m in mops.iter_mut() {
            match m {
                M::W(k, v) => {
                    let s = own.entry(*k).or_default();
                    if register {
                        s.clear();
                    }
                    s.push(*v);
                }
                M::R(k, seen) => {
                    if txns[i].kind == OpType::Ok {
                        *seen = Some(own.get(k).cloned().unwrap_or_default());
                    }
                }
            }
        }
        txns[i].mops = mops;
        state = own;
        history_states.push(state.clone());
    }
    if final_read {
        txns.push(T {
            kind: OpType::Ok,
            mops: (0..keys)
                .map(|k| M::R(k, Some(state.get(&k).cloned().unwrap_or_default())))
                .collect(),
        });
    }
    // Corrupt some reads: an older or newer state, or a reordering.
    if rng.f64() < 0.6 {
        for _ in 0..1 + rng.u64(..2) {
            let candidates: Vec<(usize, usize)> = txns
                .iter()
                .enumerate()
                .filter(|(_, t)| t.kind == OpType::Ok)
                .flat_map(|(i, t)| {
                    t.mops
                        .iter()
                        .enumerate()
                        .filter(|(_, m)| matches!(m, M::R(_, Some(_))))
                        .map(move |(j, _)| (i, j))
                })
                .collect();
            if candidates.is_empty() {
                break;
            }
            let (i, j) = candidates[rng.u64(..candidates.len() as u64) as usize];
            let M::R(k, Some(seen)) = txns[i].mops[j].clone() else {
                continue;
            };
            let other = &history_states[rng.u64(..history_states.len() as u64) as usize];
            let mut new = other.get(&k).cloned().unwrap_or_default();
            if !register && new.len() > 1 && rng.f64() < 0.3 {
                let a = rng.u64(..new.len() as u64) as usize;
                let b = rng.u64(..new.len() as u64) as usize;
                new.swap(a, b);
            }
            if new != seen {
                txns[i].mops[j] = M::R(k, Some(new));
            }
        }
    }
    txns
}

/// The history: each txn on its own process slot, interleaved at random.
fn to_history(txns: &[T], register: bool, rng: &mut Rng) -> History {
    let value = |t: &T, done: bool| -> Value {
        Value::Array(
            t.mops
                .iter()
                .map(|m| match m {
                    M::W(k, v) if register => json!(["w", k, v]),
                    M::W(k, v) => json!(["append", k, v]),
                    M::R(k, Some(s)) if done && t.kind == OpType::Ok => {
                        if register {
                            json!(["r", k, s.last()])
                        } else {
                            json!(["r", k, s])
                        }
                    }
                    M::R(k, _) => json!(["r", k, null]),
                })
                .collect(),
        )
    };
    // Events: (txn, is_completion); a txn's completion follows its invoke.
    let mut pending: Vec<usize> = (0..txns.len()).collect();
    let mut open: Vec<usize> = Vec::new();
    let mut ops = Vec::new();
    while !pending.is_empty() || !open.is_empty() {
        let start = !pending.is_empty() && (open.is_empty() || rng.f64() < 0.5);
        if start {
            let t = pending.remove(0);
            ops.push(Op::new(
                0,
                Process::Client(t as u64),
                OpType::Invoke,
                "txn",
                value(&txns[t], false),
            ));
            open.push(t);
        } else {
            let t = open.remove(rng.u64(..open.len() as u64) as usize);
            ops.push(Op::new(
                0,
                Process::Client(t as u64),
                txns[t].kind,
                "txn",
                value(&txns[t], true),
            ));
        }
    }
    History::new(ops)
}

fn every_append_observed(txns: &[T]) -> bool {
    let seen: Vec<(u32, i64)> = txns
        .iter()
        .filter(|t| t.kind == OpType::Ok)
        .flat_map(|t| t.mops.iter())
        .flat_map(|m| match m {
            M::R(k, Some(s)) => s.iter().map(|v| (*k, *v)).collect(),
            _ => Vec::new(),
        })
        .collect();
    txns.iter()
        .filter(|t| t.kind == OpType::Ok)
        .flat_map(|t| t.mops.iter())
        .all(|m| match m {
            M::W(k, v) => seen.contains(&(*k, *v)),
            _ => true,
        })
}

fn run(workload: Workload, rmw: bool, final_read: bool, count: u64) -> (usize, usize, usize) {
    let register = workload == Workload::RwRegister;
    let opts = Options::default();
    let (mut invalid, mut complete_checked, mut unknown) = (0, 0, 0);
    for seed in 0..count {
        let mut rng = Rng::with_seed(seed * 7919 + register as u64);
        let txns = generate(&mut rng, register, rmw, final_read);
        let h = to_history(&txns, register, &mut rng);
        let a = check(&h, workload, &opts).unwrap();
        let oracle = serializable(&txns, register);
        if a.valid == Validity::Invalid {
            invalid += 1;
            assert!(
                !oracle,
                "seed {seed}: faultline says {:?} but this serial order exists; txns {txns:?}\n{:#?}",
                a.anomaly_types, a.anomalies
            );
        }
        if a.valid == Validity::Unknown {
            unknown += 1;
        }
        let complete = if register {
            rmw
        } else {
            every_append_observed(&txns)
        };
        if complete {
            complete_checked += 1;
            assert_eq!(
                a.valid == Validity::Invalid,
                !oracle,
                "seed {seed}: faultline says {} {:?}, oracle serializable = {oracle}; txns {txns:?}\n{:#?}",
                a.valid,
                a.anomaly_types,
                a.anomalies
            );
        }
    }
    (invalid, complete_checked, unknown)
}

#[test]
fn list_append_is_sound_against_the_oracle() {
    let (invalid, _, _) = run(Workload::ListAppend, false, false, 10_000);
    assert!(invalid > 1_000, "only {invalid} invalid histories");
}

#[test]
fn list_append_is_complete_when_every_append_is_observed() {
    let (invalid, complete, _) = run(Workload::ListAppend, false, true, 10_000);
    assert!(
        complete > 5_000,
        "only {complete} histories had every append observed"
    );
    assert!(invalid > 1_000, "only {invalid} invalid histories");
}

#[test]
fn rw_register_is_sound_against_the_oracle() {
    let (invalid, _, _) = run(Workload::RwRegister, false, false, 10_000);
    assert!(invalid > 500, "only {invalid} invalid histories");
}

#[test]
fn rw_register_is_complete_for_read_modify_write_histories() {
    let (invalid, complete, _) = run(Workload::RwRegister, true, true, 10_000);
    assert!(complete == 10_000 && invalid > 500, "{invalid} invalid");
}
