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

use super::{bad, client_ops, Elem, Options, Report};
use crate::datum::Datum;
use crate::error::CheckError;
use crate::history::History;
use crate::op::{Op, OpType};
use crate::verdict::Validity;
use rustc_hash::FxHashSet as HashSet;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeSet;

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
    pub forks: Vec<[Op<Datum>; 2]>,
    /// `["multiple-writes", key]` when a key was written twice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
}

/// A txn's micro-ops, if every one is `[f, key, value]` with a string `f`.
fn mops(op: &Op<Datum>) -> Option<&[Datum]> {
    match &op.value {
        Datum::Ints(none) if none.is_empty() => Some(&[]),
        Datum::List(ms) => ms.iter().all(|m| mop(m).is_some()).then_some(&ms[..]),
        _ => None,
    }
}

/// One micro-op as (f, key, value).
fn mop(m: &Datum) -> Option<(&str, &Datum, &Datum)> {
    match m {
        Datum::List(mop) => match &mop[..] {
            [f, k, v] => Some((f.as_str()?, k, v)),
            _ => None,
        },
        _ => None,
    }
}

/// The ok reads: for each, its position, op and range in `entries`, which
/// holds every read's (key, value) pairs sorted by key, one per key (the
/// last when a read names a key twice), in one allocation.
#[derive(Default)]
struct Reads<'a> {
    at: Vec<(usize, &'a Op<Datum>, std::ops::Range<usize>)>,
    entries: Vec<(Elem, &'a Datum)>,
}

impl<'a> Reads<'a> {
    fn push(&mut self, i: usize, op: &'a Op<Datum>, ms: &'a [Datum]) {
        let start = self.entries.len();
        self.entries
            .extend(ms.iter().filter_map(mop).map(|(_, k, v)| (Elem::of(k), v)));
        // Stable: of a key read twice, the later entry stays later.
        self.entries[start..].sort_by(|a, b| a.0.cmp(&b.0));
        let mut w = start;
        for r in start..self.entries.len() {
            if self
                .entries
                .get(r + 1)
                .is_some_and(|next| next.0 == self.entries[r].0)
            {
                continue;
            }
            self.entries.swap(w, r);
            w += 1;
        }
        self.entries.truncate(w);
        self.at.push((i, op, start..w));
    }

    /// Read `j`'s (key, value) pairs, sorted by key.
    fn of(&self, j: usize) -> &[(Elem, &'a Datum)] {
        &self.entries[self.at[j].2.clone()]
    }
}

/// Checks a long-fork history.
pub fn check(history: &History<Datum>, opts: &Options) -> Result<Report, CheckError> {
    let mut written: HashSet<Elem> = HashSet::default();
    let mut multiple: Option<Value> = None;
    let mut reads = Reads::default();
    for (i, op) in client_ops(history) {
        let Some(ms) = mops(op) else {
            if op.kind == OpType::Ok {
                return Err(bad(
                    i,
                    format!(
                        "expected :{} to return a list of [f, key, value] micro-ops, found {}",
                        op.f, op.value
                    ),
                ));
            }
            continue;
        };
        if op.kind == OpType::Invoke {
            if let [m] = ms {
                if let Some(("w", k, _)) = mop(m) {
                    if !written.insert(Elem::of(k)) && multiple.is_none() {
                        multiple = Some(Value::Array(vec!["multiple-writes".into(), k.to_value()]));
                    }
                }
            }
        } else if op.kind == OpType::Ok && ms.iter().all(|m| mop(m).is_some_and(|m| m.0 == "r")) {
            reads.push(i, op, ms);
        }
    }
    drop(written);
    let count = |all_null: bool| {
        (0..reads.at.len())
            .filter(|&j| reads.of(j).iter().all(|(_, v)| v.is_null() == all_null))
            .count()
    };
    let mut r = LongForkResult {
        valid: Validity::Valid,
        reads_count: reads.at.len(),
        early_read_count: count(true),
        late_read_count: count(false),
        forks: Vec::new(),
        error: None,
    };
    if let Some(m) = multiple {
        r.valid = Validity::Unknown;
        let line = format!("unknown: key {} was written more than once", m[1]);
        r.error = Some(m);
        return Ok(Report::new(r.valid, &r, vec![line]));
    }
    let sizes: BTreeSet<usize> = reads.at.iter().map(|(_, _, e)| e.len()).collect();
    let n = match (opts.group_size, sizes.len()) {
        (Some(n), _) => n,
        (None, 0) => 0,
        (None, 1) => *sizes.iter().next().unwrap_or(&0),
        (None, _) => {
            return Err(bad(
                reads.at[0].0,
                format!("reads observed different numbers of keys ({sizes:?}); give --group-size"),
            ))
        }
    };
    if let Some((i, _, e)) = reads.at.iter().find(|(_, _, e)| e.len() != n) {
        return Err(bad(
            *i,
            format!(
                "every read should observe exactly {n} keys; this one observed {}",
                e.len()
            ),
        ));
    }
    // Reads grouped by the keys they read: runs of a stable sort, each in
    // read order, the groups in key order.
    let mut order: Vec<usize> = (0..reads.at.len()).collect();
    let keys = |j: usize| reads.of(j).iter().map(|(k, _)| k);
    order.sort_by(|&a, &b| keys(a).cmp(keys(b)));
    for members in order.chunk_by(|&a, &b| keys(a).eq(keys(b))) {
        for (x, &a) in members.iter().enumerate() {
            for &b in &members[x + 1..] {
                let (ma, mb) = (reads.of(a), reads.of(b));
                // -1: a saw more so far; 1: b saw more; both: a fork.
                let mut res = 0i8;
                let mut fork = false;
                for ((k, va), (_, vb)) in ma.iter().zip(mb) {
                    if va == vb {
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
                            reads.at[b].0,
                            format!(
                                "reads at ops {} and {} saw distinct values {va} and {vb} for key {k}, \
                                 but each key is written once",
                                reads.at[a].0, reads.at[b].0
                            ),
                        ));
                    }
                }
                if fork {
                    r.forks.push([reads.at[a].1.clone(), reads.at[b].1.clone()]);
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
