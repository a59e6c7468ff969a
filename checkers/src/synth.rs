//! Seeded random histories, for tests and benchmarks.
//!
//! [`register_history`] simulates clients of a real linearizable
//! cas-register (optionally one per key): each op is invoked, takes effect
//! at one instant on the simulated register, then completes `ok` — or, with
//! some probability, ends `info`, having taken effect or not. Interleaving
//! those steps at random yields histories that are linearizable by
//! construction; [`corrupt_read`] then breaks one read.

use crate::history::History;
use crate::op::{Op, OpType, Process};
use fastrand::Rng;
use serde_json::{json, Value};

/// Shape of a simulated register workload.
#[derive(Clone, Debug)]
pub struct RegisterSpec {
    /// Client ops to generate.
    pub ops: usize,
    /// Concurrent client processes.
    pub processes: usize,
    /// Independent keys; `0` writes single-register ops with no `key`.
    pub keys: usize,
    /// Probability that an op ends `info`.
    pub info: f64,
    /// Values are drawn from `0..values`; `0` makes every written value
    /// unique per key (increasing), as real workloads should.
    pub values: u64,
    /// Include `cas` ops.
    pub cas: bool,
}

struct Pending {
    f: &'static str,
    key: usize,
    arg: Value,
    applied: Option<Value>,
    ok: bool,
}

/// A linearizable history of register ops per `spec`, from `seed`.
pub fn register_history(spec: &RegisterSpec, seed: u64) -> History {
    let mut rng = Rng::with_seed(seed);
    let mut regs: Vec<Value> = vec![Value::Null; spec.keys.max(1)];
    let mut next_value: Vec<i64> = vec![0; spec.keys.max(1)];
    let mut procs: Vec<(u64, Option<Pending>)> =
        (0..spec.processes as u64).map(|p| (p, None)).collect();
    let mut ops = Vec::with_capacity(spec.ops * 2);
    let mut started = 0;
    let mut time = 0i64;
    while started < spec.ops || procs.iter().any(|(_, p)| p.is_some()) {
        let slot = rng.u64(..procs.len() as u64) as usize;
        time += 1 + rng.u64(..1000) as i64;
        let (pid, pending) = &mut procs[slot];
        match pending.take() {
            None if started < spec.ops => {
                started += 1;
                let key = rng.u64(..spec.keys.max(1) as u64) as usize;
                let p = invent(&mut rng, spec, &regs[key], &mut next_value[key], key);
                ops.push(event(*pid, OpType::Invoke, &p, p.arg.clone(), spec, time));
                *pending = Some(p);
            }
            None => {}
            Some(mut p) if p.applied.is_none() && rng.f64() >= spec.info / 2.0 => {
                let (result, ok) = apply(&mut regs[p.key], p.f, &p.arg);
                p.applied = Some(result);
                p.ok = ok;
                *pending = Some(p);
            }
            Some(p) => {
                if p.applied.is_none() || rng.f64() < (spec.info / 2.0) {
                    // Crashed before or after taking effect: indeterminate.
                    ops.push(event(*pid, OpType::Info, &p, p.arg.clone(), spec, time));
                    *pid += spec.processes as u64;
                } else {
                    let kind = if p.ok { OpType::Ok } else { OpType::Fail };
                    let value = if p.f == "read" {
                        p.applied.clone().unwrap_or_default()
                    } else {
                        p.arg.clone()
                    };
                    ops.push(event(*pid, kind, &p, value, spec, time));
                }
            }
        }
    }
    History::new(ops)
}

fn invent(
    rng: &mut Rng,
    spec: &RegisterSpec,
    current: &Value,
    next: &mut i64,
    key: usize,
) -> Pending {
    let mut value = |rng: &mut Rng| {
        if spec.values == 0 {
            *next += 1;
            json!(*next)
        } else {
            json!(rng.u64(..spec.values))
        }
    };
    let choice = rng.u64(..if spec.cas { 4 } else { 3 });
    let (f, arg) = match choice {
        0 | 1 => ("read", Value::Null),
        2 => ("write", value(rng)),
        _ => {
            let old = if rng.f64() < 0.5 && !current.is_null() {
                current.clone()
            } else {
                value(rng)
            };
            ("cas", json!([old, value(rng)]))
        }
    };
    Pending {
        f,
        key,
        arg,
        applied: None,
        ok: true,
    }
}

/// Applies an op to the register: (result, succeeded).
fn apply(reg: &mut Value, f: &str, arg: &Value) -> (Value, bool) {
    match f {
        "read" => (reg.clone(), true),
        "write" => {
            *reg = arg.clone();
            (Value::Null, true)
        }
        _ => {
            if arg.get(0) == Some(&*reg) {
                *reg = arg[1].clone();
                (Value::Null, true)
            } else {
                (Value::Null, false)
            }
        }
    }
}

fn event(pid: u64, kind: OpType, p: &Pending, value: Value, spec: &RegisterSpec, time: i64) -> Op {
    let mut op = Op::new(0, Process::Client(pid), kind, p.f, value);
    op.time = time;
    if spec.keys > 0 {
        op.key = Some(json!(p.key));
    }
    op
}

/// One register, one process: `ops` ops alternating a write of a fresh
/// value (1, 2, ...) and a read of it, each completed before the next is
/// invoked: linearizable, and the shape of a long single-register run.
pub fn sequential_register_history(ops: usize) -> History {
    let mut events = Vec::with_capacity(2 * ops);
    let mut time = 0i64;
    for i in 0..ops {
        let (f, v) = if i % 2 == 0 {
            ("write", json!(i / 2 + 1))
        } else {
            ("read", json!(i / 2 + 1))
        };
        let invoke_value = if f == "read" { Value::Null } else { v.clone() };
        for (kind, value) in [(OpType::Invoke, invoke_value), (OpType::Ok, v)] {
            time += 1 + (i as i64 * 7919) % 1000;
            let mut op = Op::new(0, Process::Client(0), kind, f, value);
            op.time = time;
            events.push(op);
        }
    }
    History::new(events)
}

/// Changes the value of one `ok` read (chosen from `seed`) to a value no op
/// wrote. Returns `None` if the history has no ok read.
pub fn corrupt_read(history: &History, seed: u64) -> Option<History> {
    let reads: Vec<usize> = history
        .ops()
        .iter()
        .enumerate()
        .filter(|(_, o)| o.kind == OpType::Ok && &*o.f == "read")
        .map(|(i, _)| i)
        .collect();
    if reads.is_empty() {
        return None;
    }
    let mut rng = Rng::with_seed(seed);
    let at = reads[rng.u64(..reads.len() as u64) as usize];
    let mut ops = history.ops().to_vec();
    ops[at].value = match &ops[at].value {
        Value::Null => json!(rng.u64(..3)),
        v if rng.f64() < 0.3 && !v.is_null() => Value::Null,
        v => json!(v.as_i64().unwrap_or(0) + 1 + rng.u64(..2) as i64),
    };
    Some(History::new(ops))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histories_are_well_formed_and_reproducible() {
        let spec = RegisterSpec {
            ops: 500,
            processes: 5,
            keys: 3,
            info: 0.1,
            values: 5,
            cas: true,
        };
        let a = register_history(&spec, 7);
        assert_eq!(a, register_history(&spec, 7));
        let pairs = a.pairs().unwrap();
        assert_eq!(pairs.len(), 500);
        assert!(a.ops().iter().any(|o| o.kind == OpType::Info));
    }
}

/// How the reads of [`info_writes_history`] go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InfoReads {
    /// Each read returns a random written value (so values come back after
    /// others were read: not linearizable), then one more read returns a
    /// value nobody wrote.
    RandomThenUnwritten,
    /// The reads walk through distinct written values in a random order,
    /// each value read one to three times and never again after the next:
    /// linearizable (the writes took effect in that order).
    Consistent,
}

/// One register, `writes` processes each writing a distinct value and
/// crashing (`info`, never completed), then `reads` sequential reads by
/// another process, as `how` says: the shape where every read is explained
/// only by some indeterminate write, which an exhaustive search cannot
/// handle beyond a few dozen writes.
pub fn info_writes_history(writes: usize, reads: usize, how: InfoReads, seed: u64) -> History {
    let mut rng = Rng::with_seed(seed);
    let mut ops = Vec::with_capacity(writes + 2 * reads + 2);
    let mut clock = Rng::with_seed(seed ^ 0x7135);
    let mut time = 0i64;
    let mut push = |ops: &mut Vec<Op>, p: u64, kind: OpType, f: &str, v: Value| {
        time += 1 + clock.i64(0..1000);
        let mut op = Op::new(0, Process::Client(p), kind, f, v);
        op.time = time;
        ops.push(op);
    };
    for w in 0..writes {
        push(&mut ops, w as u64, OpType::Invoke, "write", json!(w + 1));
    }
    for w in 0..writes {
        push(&mut ops, w as u64, OpType::Info, "write", json!(w + 1));
    }
    let reader = writes as u64;
    let mut order: Vec<usize> = (1..=writes).collect();
    rng.shuffle(&mut order);
    let mut walk = order
        .iter()
        .flat_map(|&v| std::iter::repeat_n(v, 1 + (v * 7 + 3) % 3));
    for _ in 0..reads {
        let v = match how {
            InfoReads::RandomThenUnwritten => 1 + rng.usize(..writes.max(1)),
            InfoReads::Consistent => walk.next().unwrap_or(*order.last().unwrap_or(&1)),
        };
        push(&mut ops, reader, OpType::Invoke, "read", Value::Null);
        push(&mut ops, reader, OpType::Ok, "read", json!(v));
    }
    if how == InfoReads::RandomThenUnwritten {
        push(&mut ops, reader, OpType::Invoke, "read", Value::Null);
        push(&mut ops, reader, OpType::Ok, "read", json!(writes + 1));
    }
    History::new(ops)
}
