//! Jepsen's `counter` checker: `add` n (n ≥ 0) and `read`. Every ok read
//! must lie between a lower bound, the sum of adds acknowledged when the
//! read was invoked, and an upper bound, the sum of adds that may have
//! happened by the time it completed (every add invoked, unless it
//! failed; an indeterminate add counts from its invocation on, forever).
//! Reads outside their bounds are `errors`, as `[lower, value, upper]`.

use super::{bad, client_ops, int, Partners, Report};
use crate::datum::Datum;
use crate::error::CheckError;
use crate::history::History;
use crate::op::OpType;
use crate::verdict::Validity;
use rustc_hash::FxHashMap as HashMap;
use serde::Serialize;

/// The result, with Jepsen's fields.
#[derive(Debug, Serialize)]
pub struct CounterResult {
    /// true or false.
    pub valid: Validity,
    /// Every ok read as `[lower, value, upper]`, in completion order.
    pub reads: Vec<[i64; 3]>,
    /// The reads outside their bounds.
    pub errors: Vec<[i64; 3]>,
}

/// Checks a counter history.
pub fn check(history: &History<Datum>) -> Result<Report, CheckError> {
    let ops = history.ops();
    let partners = Partners::new(history)?;
    let (mut lower, mut upper) = (0i64, 0i64);
    let mut pending: HashMap<u64, (i64, i64)> = HashMap::default();
    let mut reads: Vec<[i64; 3]> = Vec::new();
    for (i, op) in client_ops(history) {
        let process = op.process.client().unwrap_or(0);
        let completion = partners.of(i).map(|c| &ops[c]);
        match (op.kind, &*op.f) {
            (OpType::Invoke, "read") => {
                if let Some(c) = completion.filter(|c| c.kind == OpType::Ok) {
                    pending.insert(
                        process,
                        (
                            lower,
                            int(c, partners.of(i).unwrap_or(i), "a counter read")?,
                        ),
                    );
                }
            }
            (OpType::Ok, "read") => {
                if let Some((lo, v)) = pending.remove(&process) {
                    reads.push([lo, v, upper]);
                }
            }
            (OpType::Invoke, "add") => {
                let n = int(op, i, "an add")?;
                if n < 0 {
                    return Err(bad(
                        i,
                        format!("a counter add must not be negative, found {n}"),
                    ));
                }
                if completion.is_none_or(|c| c.kind != OpType::Fail) {
                    upper = upper.saturating_add(n);
                }
            }
            (OpType::Ok, "add") => lower = lower.saturating_add(int(op, i, "an add")?),
            _ => {}
        }
    }
    let errors: Vec<[i64; 3]> = reads
        .iter()
        .filter(|[lo, v, hi]| !(lo <= v && v <= hi))
        .copied()
        .collect();
    let valid = if errors.is_empty() {
        Validity::Valid
    } else {
        Validity::Invalid
    };
    let mut lines = vec![format!(
        "{} reads, {} out of bounds",
        reads.len(),
        errors.len()
    )];
    for [lo, v, hi] in errors.iter().take(8) {
        lines.push(format!("read {v}, but it had to be between {lo} and {hi}"));
    }
    Ok(Report::new(
        valid,
        &CounterResult {
            valid,
            reads,
            errors,
        },
        lines,
    ))
}
