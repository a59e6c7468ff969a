//! Jepsen's `long-fork` checker (`jepsen.tests.long-fork`): single-key
//! inserts (`[["w", k, v]]`, each key written once) and reads of groups of
//! keys (`[["r", k, v], ...]`). Under snapshot isolation or anything
//! stronger, reads agree on the order of inserts; a long fork is two reads
//! of the same key group where each saw an insert the other did not.
//!
//! The group size is `group_size` when given, else inferred from the
//! reads (the size every read shares; reads of mixed sizes are an error).
//! A key written more than once (any invocation) makes the verdict
//! unknown, as in Jepsen.

use super::{bad, client_ops, Options, Report};
use crate::error::CheckError;
use crate::history::History;
use crate::op::{Op, OpType};
use crate::verdict::Validity;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The result, with Jepsen's fields.
#[derive(Debug, Serialize)]
pub struct LongForkResult {
    /// true, false or "unknown".
    pub valid: Validity,
    /// ok reads.
    pub reads_count: usize,
    /// Reads that saw no insert.
    pub early_read_count: usize,
    /// Reads that saw every key inserted.
    pub late_read_count: usize,
    /// Pairs of reads that disagree on the order of two inserts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub forks: Vec<[Op; 2]>,
    /// `["multiple-writes", key]` when a key was written twice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
}

/// A txn's micro-ops as (f, key, value).
fn mops(op: &Op) -> Option<Vec<(&str, &Value, &Value)>> {
    op.value
        .as_array()?
        .iter()
        .map(|m| match m.as_array().map(Vec::as_slice) {
            Some([f, k, v]) => Some((f.as_str()?, k, v)),
            _ => None,
        })
        .collect()
}

/// Checks a long-fork history.
pub fn check(history: &History, opts: &Options) -> Result<Report, CheckError> {
    let mut written: BTreeSet<String> = BTreeSet::new();
    let mut multiple: Option<Value> = None;
    let mut reads: Vec<(usize, &Op, BTreeMap<String, &Value>)> = Vec::new();
    for (i, op) in client_ops(history) {
        let Some(ms) = mops(op) else { continue };
        if op.kind == OpType::Invoke {
            if let [("w", k, _)] = ms.as_slice() {
                if !written.insert(k.to_string()) && multiple.is_none() {
                    multiple = Some(Value::Array(vec!["multiple-writes".into(), (*k).clone()]));
                }
            }
        } else if op.kind == OpType::Ok && ms.iter().all(|(f, _, _)| *f == "r") {
            reads.push((
                i,
                op,
                ms.iter().map(|(_, k, v)| (k.to_string(), *v)).collect(),
            ));
        }
    }
    let early = reads
        .iter()
        .filter(|(_, _, m)| m.values().all(|v| v.is_null()))
        .count();
    let late = reads
        .iter()
        .filter(|(_, _, m)| m.values().all(|v| !v.is_null()))
        .count();
    let mut r = LongForkResult {
        valid: Validity::Valid,
        reads_count: reads.len(),
        early_read_count: early,
        late_read_count: late,
        forks: Vec::new(),
        error: None,
    };
    if let Some(m) = multiple {
        r.valid = Validity::Unknown;
        let line = format!("unknown: key {} was written more than once", m[1]);
        r.error = Some(m);
        return Ok(Report::new(r.valid, &r, vec![line]));
    }
    let sizes: BTreeSet<usize> = reads.iter().map(|(_, _, m)| m.len()).collect();
    let n = match (opts.group_size, sizes.len()) {
        (Some(n), _) => n,
        (None, 0) => 0,
        (None, 1) => *sizes.iter().next().unwrap_or(&0),
        (None, _) => {
            return Err(bad(
                reads[0].0,
                format!("reads observed different numbers of keys ({sizes:?}); give --group-size"),
            ))
        }
    };
    let mut groups: BTreeMap<Vec<&String>, Vec<usize>> = BTreeMap::new();
    for (j, (i, _, m)) in reads.iter().enumerate() {
        if m.len() != n {
            return Err(bad(
                *i,
                format!(
                    "every read should observe exactly {n} keys; this one observed {}",
                    m.len()
                ),
            ));
        }
        groups.entry(m.keys().collect()).or_default().push(j);
    }
    for members in groups.values() {
        for (x, &a) in members.iter().enumerate() {
            for &b in &members[x + 1..] {
                let (ma, mb) = (&reads[a].2, &reads[b].2);
                // -1: a saw more so far; 1: b saw more; both: a fork.
                let mut res = 0i8;
                let mut fork = false;
                for (k, va) in ma {
                    let vb = mb[k];
                    if va == &vb {
                        continue;
                    }
                    if vb.is_null() {
                        if res > 0 {
                            fork = true;
                            break;
                        }
                        res = -1;
                    } else if va.is_null() {
                        if res < 0 {
                            fork = true;
                            break;
                        }
                        res = 1;
                    } else {
                        return Err(bad(
                            reads[b].0,
                            format!(
                                "reads at ops {} and {} saw distinct values {va} and {vb} for key {k}, \
                                 but each key is written once",
                                reads[a].0, reads[b].0
                            ),
                        ));
                    }
                }
                if fork {
                    r.forks.push([reads[a].1.clone(), reads[b].1.clone()]);
                }
            }
        }
    }
    r.valid = if r.forks.is_empty() {
        Validity::Valid
    } else {
        Validity::Invalid
    };
    let mut lines = vec![format!(
        "{} reads in groups of {n} keys: {} long forks",
        r.reads_count,
        r.forks.len()
    )];
    for [a, b] in r.forks.iter().take(4) {
        lines.push(format!(
            "ops {} and {} each saw an insert the other did not: {} / {}",
            a.index, b.index, a.value, b.value
        ));
    }
    Ok(Report::new(r.valid, &r, lines))
}
