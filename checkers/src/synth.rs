//! Seeded random histories, for tests and benchmarks.
//!
//! [`register_history`] simulates clients of a real linearizable
//! cas-register (optionally one per key): each op is invoked, takes effect
//! at one instant on the simulated register, then completes `ok` — or, with
//! some probability, ends `info`, having taken effect or not. Interleaving
//! those steps at random yields histories that are linearizable by
//! construction; [`corrupt_read`] then breaks one read.
//!
//! [`kafka_jsonl`] writes the history of a correct Kafka-style log service
//! (Maelstrom's kafka workload) straight as JSONL text, so that histories
//! of millions of messages are cheap to make.

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

/// Shape of a simulated kafka workload ([`kafka_jsonl`]).
#[derive(Clone, Debug)]
pub struct KafkaSpec {
    /// Messages to send (each send is one op).
    pub messages: usize,
    /// Concurrent client processes.
    pub processes: usize,
    /// Keys (logs), `k0`, `k1`, ...
    pub keys: usize,
    /// Probability that a send or poll ends `info` (the process then
    /// continues under a new id).
    pub info: f64,
}

/// A client's state in [`kafka_jsonl`].
struct KClient {
    pid: u64,
    /// Assigned keys and the next log position of each.
    assigned: Vec<(usize, usize)>,
    pending: Option<KPending>,
}

enum KPending {
    Send(usize, i64),
    Poll,
    Assign(Vec<usize>),
}

/// The history (JSONL text) of clients of a correct log service per
/// `spec`, from `seed`: each key's log gets messages at increasing, sparse
/// offsets; sends and polls take effect when they complete (an `info` one
/// took effect or not, at random); processes assign random keys, resuming
/// each at the key's committed position (the furthest any poll got); at the
/// end one fresh process assigns every key and polls from the beginning
/// until it has read every log. Such a history has no anomaly and nothing
/// unseen, except messages of `info` sends that took effect after all.
pub fn kafka_jsonl(spec: &KafkaSpec, seed: u64) -> String {
    use std::fmt::Write as _;
    let mut rng = Rng::with_seed(seed);
    let keys = spec.keys.max(1);
    // Per key: (offset, message) in log order; committed positions.
    let mut logs: Vec<Vec<(i64, i64)>> = vec![Vec::new(); keys];
    let mut next_off: Vec<i64> = vec![0; keys];
    let mut committed: Vec<usize> = vec![0; keys];
    let mut clients: Vec<KClient> = (0..spec.processes.max(1) as u64)
        .map(|pid| KClient {
            pid,
            assigned: Vec::new(),
            pending: None,
        })
        .collect();
    let n = clients.len() as u64;
    let mut out = String::with_capacity(spec.messages * 160);
    let mut index = 0u64;
    let mut time = 0i64;
    let mut line = |out: &mut String, pid: u64, kind: &str, f: &str, value: &str, time: i64| {
        let _ = writeln!(
            out,
            r#"{{"index":{index},"time":{time},"process":{pid},"type":"{kind}","f":"{f}","value":{value}}}"#
        );
        index += 1;
    };
    let mut msg = 0i64;
    let mut started = 0;
    let poll_value = |logs: &[Vec<(i64, i64)>],
                      assigned: &mut Vec<(usize, usize)>,
                      rng: &mut Rng,
                      max: usize| {
        let mut v = String::from(r#"[["poll",{"#);
        let mut first = true;
        for (k, pos) in assigned.iter_mut() {
            let take = rng.usize(..=max).min(logs[*k].len() - *pos);
            if take == 0 && rng.bool() {
                continue;
            }
            if !first {
                v.push(',');
            }
            first = false;
            let _ = write!(v, r#""k{k}":["#);
            for (j, (o, m)) in logs[*k][*pos..*pos + take].iter().enumerate() {
                let _ = write!(v, "{}[{o},{m}]", if j > 0 { "," } else { "" });
            }
            v.push(']');
            *pos += take;
        }
        v.push_str("}]]");
        v
    };
    while started < spec.messages || clients.iter().any(|c| c.pending.is_some()) {
        let slot = rng.usize(..clients.len());
        let c = &mut clients[slot];
        time += 1 + rng.i64(0..1000);
        match c.pending.take() {
            None if started >= spec.messages => {}
            None if c.assigned.is_empty() || rng.f64() < 0.02 => {
                let mut ks: Vec<usize> = (0..keys).filter(|_| rng.f64() < 0.5).collect();
                if ks.is_empty() {
                    ks.push(rng.usize(..keys));
                }
                let list: Vec<String> = ks.iter().map(|k| format!("\"k{k}\"")).collect();
                line(
                    &mut out,
                    c.pid,
                    "invoke",
                    "assign",
                    &format!("[{}]", list.join(",")),
                    time,
                );
                c.pending = Some(KPending::Assign(ks));
            }
            None if rng.bool() => {
                started += 1;
                msg += 1;
                let k = rng.usize(..keys);
                line(
                    &mut out,
                    c.pid,
                    "invoke",
                    "send",
                    &format!(r#"[["send","k{k}",{msg}]]"#),
                    time,
                );
                c.pending = Some(KPending::Send(k, msg));
            }
            None => {
                line(&mut out, c.pid, "invoke", "poll", r#"[["poll"]]"#, time);
                c.pending = Some(KPending::Poll);
            }
            Some(KPending::Assign(ks)) => {
                let list: Vec<String> = ks.iter().map(|k| format!("\"k{k}\"")).collect();
                line(
                    &mut out,
                    c.pid,
                    "ok",
                    "assign",
                    &format!("[{}]", list.join(",")),
                    time,
                );
                let old = std::mem::take(&mut c.assigned);
                c.assigned = ks
                    .iter()
                    .map(|&k| {
                        (
                            k,
                            old.iter().find(|a| a.0 == k).map_or(committed[k], |a| a.1),
                        )
                    })
                    .collect();
            }
            Some(KPending::Send(k, m)) => {
                let info = rng.f64() < spec.info;
                if !info || rng.bool() {
                    next_off[k] += 1 + rng.i64(0..3);
                    logs[k].push((next_off[k], m));
                }
                if info {
                    line(
                        &mut out,
                        c.pid,
                        "info",
                        "send",
                        &format!(r#"[["send","k{k}",{m}]]"#),
                        time,
                    );
                    c.pid += n;
                    c.assigned.clear();
                } else {
                    let o = next_off[k];
                    line(
                        &mut out,
                        c.pid,
                        "ok",
                        "send",
                        &format!(r#"[["send","k{k}",[{o},{m}]]]"#),
                        time,
                    );
                }
            }
            Some(KPending::Poll) => {
                if rng.f64() < spec.info {
                    line(&mut out, c.pid, "info", "poll", r#"[["poll"]]"#, time);
                    c.pid += n;
                    c.assigned.clear();
                } else {
                    let v = poll_value(&logs, &mut c.assigned, &mut rng, 5);
                    for &(k, pos) in &c.assigned {
                        committed[k] = committed[k].max(pos);
                    }
                    line(&mut out, c.pid, "ok", "poll", &v, time);
                }
            }
        }
    }
    // Final polls: a fresh process reads every log from the beginning.
    let pid = clients.iter().map(|c| c.pid).max().unwrap_or(0) + n;
    let all: Vec<String> = (0..keys).map(|k| format!("\"k{k}\"")).collect();
    let all = format!("[{}]", all.join(","));
    for kind in ["invoke", "ok"] {
        time += 1;
        line(&mut out, pid, kind, "assign", &all, time);
    }
    let mut assigned: Vec<(usize, usize)> = (0..keys).map(|k| (k, 0)).collect();
    while assigned.iter().any(|&(k, pos)| pos < logs[k].len()) {
        time += 1;
        line(&mut out, pid, "invoke", "poll", r#"[["poll"]]"#, time);
        let v = poll_value(&logs, &mut assigned, &mut rng, 1000);
        time += 1;
        line(&mut out, pid, "ok", "poll", &v, time);
    }
    out
}
