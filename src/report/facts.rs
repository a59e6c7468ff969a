//! What several reports show, derived once from a history: op counts by
//! `f` and outcome, latency quantiles per `f`, the completed client ops
//! with their latencies, and the nemesis's fault intervals.

use faultline_checkers::{History, OpType, Process};
use serde_json::Value;
use std::collections::BTreeMap;

/// Latency quantiles of one `f`, in milliseconds.
#[derive(Clone, Debug, PartialEq)]
pub struct Quantiles {
    /// Completed ops measured.
    pub count: usize,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Slowest.
    pub max: f64,
}

/// One client op: invocation and completion.
#[derive(Clone, Copy, Debug)]
pub struct Done {
    /// History position of the invocation.
    pub invoke: usize,
    /// History position of the completion (`None`: never completed).
    pub completion: Option<usize>,
    /// `ok`, `fail` or `info` (never completed counts as `info`).
    pub outcome: OpType,
    /// Invocation time, ns since the test started.
    pub start: i64,
    /// Completion time (the history's end for an op that never completed).
    pub end: i64,
}

/// One fault the nemesis applied, from its start to its stop.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    /// `partition`, `kill`, ...
    pub kind: String,
    /// Its targets and parameters, as recorded.
    pub value: Value,
    /// Started, ns since the test started.
    pub start: i64,
    /// Stopped (`None`: still active when the history ends).
    pub stop: Option<i64>,
    /// Why starting or stopping it failed, if it did.
    pub error: Option<String>,
}

impl Fault {
    /// Its targets as a short label: `n1,n2`, or a grudge `n1|n2,n3`.
    pub fn targets(&self) -> String {
        targets_label(&self.value)
    }
}

/// Counts, latencies, ops and faults of a history.
pub struct Facts {
    /// Completed client ops by `f`: `[ok, fail, info]`.
    pub counts: BTreeMap<String, [u64; 3]>,
    /// Latency quantiles by `f` (ops with both times).
    pub latency: BTreeMap<String, Quantiles>,
    /// Client ops in invocation order.
    pub ops: Vec<Done>,
    /// Faults in start order.
    pub faults: Vec<Fault>,
    /// The last time in the history (ns).
    pub end: i64,
    /// Why invocations and completions could not be paired, if so (the
    /// counts still hold; latencies and ops are then empty).
    pub pairing_error: Option<String>,
    /// The history has no times (a Jepsen log, an EDN file without
    /// `:time`): ops are placed by position, 1 ms per position, and
    /// latencies are not measured.
    pub positional: bool,
}

impl Facts {
    /// Derives everything from `history`.
    pub fn new(history: &History) -> Facts {
        let ops = history.ops();
        let positional = !ops.is_empty() && ops.iter().all(|o| o.time < 0);
        let time = |i: usize| {
            if positional {
                i as i64 * 1_000_000
            } else {
                ops[i].time
            }
        };
        let end = (0..ops.len()).map(time).max().unwrap_or(0).max(0);
        let mut counts: BTreeMap<String, [u64; 3]> = BTreeMap::new();
        for op in ops.iter().filter(|o| o.process != Process::Nemesis) {
            if let Some(slot) = slot(op.kind) {
                counts.entry(op.f.to_string()).or_default()[slot] += 1;
            }
        }
        let (done, pairing_error) = match history.pairs() {
            Ok(pairs) => (
                pairs
                    .iter()
                    .map(|p| {
                        let start = time(p.invoke);
                        let end_t = p.completion.map_or(end, time);
                        Done {
                            invoke: p.invoke,
                            completion: p.completion,
                            outcome: p.outcome(history),
                            start,
                            end: end_t,
                        }
                    })
                    .collect(),
                None,
            ),
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
        let latency = if positional {
            BTreeMap::new()
        } else {
            latencies(history, &done)
        };
        Facts {
            counts,
            latency,
            ops: done,
            faults: faults(history, time),
            end,
            pairing_error,
            positional,
        }
    }
}

fn slot(kind: OpType) -> Option<usize> {
    match kind {
        OpType::Ok => Some(0),
        OpType::Fail => Some(1),
        OpType::Info => Some(2),
        OpType::Invoke => None,
    }
}

/// Quantiles of completed ops' latencies, per `f`.
fn latencies(history: &History, done: &[Done]) -> BTreeMap<String, Quantiles> {
    let mut by_f: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for d in done {
        if d.completion.is_some() && d.start >= 0 && d.end >= d.start {
            by_f.entry(history[d.invoke].f.to_string())
                .or_default()
                .push((d.end - d.start) as f64 / 1e6);
        }
    }
    by_f.into_iter()
        .map(|(f, mut v)| {
            v.sort_by(f64::total_cmp);
            let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
            let qs = Quantiles {
                count: v.len(),
                p50: q(0.5),
                p95: q(0.95),
                p99: q(0.99),
                max: q(1.0),
            };
            (f, qs)
        })
        .collect()
}

/// Fault intervals from the nemesis's ops: a successful `start-KIND`
/// completion opens one, the next `stop-KIND` closes it. Only completions
/// count (`info` ops; the runner also records the invocation).
fn faults(history: &History, time: impl Fn(usize) -> i64) -> Vec<Fault> {
    let mut out: Vec<Fault> = Vec::new();
    let mut open: BTreeMap<String, usize> = BTreeMap::new();
    for (i, op) in history.ops().iter().enumerate() {
        if op.process != Process::Nemesis || op.kind == OpType::Invoke {
            continue;
        }
        let error = op.error.as_deref().map(String::from);
        if let Some(kind) = op.f.strip_prefix("start-") {
            open.insert(kind.to_string(), out.len());
            out.push(Fault {
                kind: kind.to_string(),
                value: op.value.clone(),
                start: time(i),
                stop: None,
                error,
            });
        } else if let Some(kind) = op.f.strip_prefix("stop-") {
            if let Some(j) = open.remove(kind) {
                out[j].stop = Some(time(i));
                if out[j].error.is_none() {
                    out[j].error = error;
                }
            }
        }
    }
    out
}

/// A fault's targets as a short label.
pub fn targets_label(v: &Value) -> String {
    let names = |a: &[Value]| -> String {
        a.iter()
            .map(|x| x.as_str().map_or_else(|| x.to_string(), String::from))
            .collect::<Vec<_>>()
            .join(",")
    };
    let label = match v {
        Value::Array(a) => names(a),
        Value::Object(m) => match m.get("nodes").and_then(Value::as_array) {
            Some(nodes) => {
                let rest: Vec<String> = m
                    .iter()
                    .filter(|(k, v)| *k != "nodes" && !v.is_null() && !v.is_object())
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                let mut s = names(nodes);
                if !rest.is_empty() {
                    s = format!("{s} ({})", rest.join(", "));
                }
                s
            }
            // A grudge: node → the nodes it drops.
            None => m
                .iter()
                .map(|(k, v)| match v.as_array() {
                    Some(a) if !a.is_empty() => format!("{k}✕{}", names(a)),
                    Some(_) => String::new(),
                    None => format!("{k}={v}"),
                })
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" "),
        },
        Value::Null => String::new(),
        v => v.to_string(),
    };
    super::escape::truncate(&label, 80)
}

#[cfg(test)]
mod tests {
    use super::*;
    use faultline_checkers::Op;
    use serde_json::json;

    fn op(t: i64, p: Process, kind: OpType, f: &str, v: Value) -> Op {
        let mut o = Op::new(0, p, kind, f, v);
        o.time = t;
        o
    }

    #[test]
    fn counts_latencies_and_fault_intervals() {
        let c = Process::Client;
        let n = Process::Nemesis;
        let h = History::new(vec![
            op(0, c(0), OpType::Invoke, "write", json!(1)),
            op(1_000_000, n, OpType::Info, "start-kill", json!(["n1"])),
            op(2_000_000, c(0), OpType::Ok, "write", json!(1)),
            op(3_000_000, c(1), OpType::Invoke, "read", Value::Null),
            op(4_000_000, c(1), OpType::Info, "read", Value::Null),
            op(5_000_000, n, OpType::Info, "stop-kill", json!(["n1"])),
        ]);
        let f = Facts::new(&h);
        assert_eq!(f.counts["write"], [1, 0, 0]);
        assert_eq!(f.counts["read"], [0, 0, 1]);
        assert_eq!(f.latency["write"].p50, 2.0);
        assert_eq!(f.latency["read"].max, 1.0);
        assert_eq!(f.ops.len(), 2);
        assert_eq!(f.faults.len(), 1);
        assert_eq!(f.faults[0].kind, "kill");
        assert_eq!(
            (f.faults[0].start, f.faults[0].stop),
            (1_000_000, Some(5_000_000))
        );
        assert_eq!(f.faults[0].targets(), "n1");
    }

    #[test]
    fn labels_grudges_and_parameters() {
        assert_eq!(
            targets_label(&json!({"n1": ["n2", "n3"], "n2": ["n1"], "n3": []})),
            "n1✕n2,n3 n2✕n1"
        );
        assert_eq!(
            targets_label(&json!({"nodes": ["n2"], "probability": 0.5})),
            "n2 (probability=0.5)"
        );
    }
}
