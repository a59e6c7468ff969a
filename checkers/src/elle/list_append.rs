//! Inference for list-append histories (Elle §4): every read of a key must
//! be a prefix of the longest read, which gives that key's version order;
//! appended values name their writer. From these: write-write,
//! write-read and read-write edges between transactions, and the
//! non-cycle anomalies (aborted and intermediate reads, internal
//! inconsistency, duplicates, incompatible orders, dirty and lost updates).

use super::found::Found;
use super::graph::kind::{RW, WR, WW};
use super::txn::{Mop, TxnId, Txns};
use super::Explain;
use crate::linear::FxBuild;
use crate::op::OpType;
use std::collections::{HashMap, HashSet};

/// What was inferred: version orders and writers.
pub struct ListAppend<'a> {
    txns: &'a Txns,
    /// Per key: the longest list read (its version order).
    order: Vec<Vec<i64>>,
    /// (key, value) → appending txn.
    writer: HashMap<(u32, i64), TxnId, FxBuild>,
    /// Per txn: its reads with its own appends removed from the end (what
    /// it saw of other transactions' appends).
    ext: Vec<Vec<(u32, Vec<i64>)>>,
}

fn is_prefix(a: &[i64], b: &[i64]) -> bool {
    a.len() <= b.len() && a == &b[..a.len()]
}

fn has_duplicates(v: &[i64]) -> bool {
    let mut sorted = v.to_vec();
    sorted.sort_unstable();
    sorted.windows(2).any(|w| w[0] == w[1])
}

/// An ok txn's reads without its own appends at their ends: what it saw of
/// other transactions. Other txns have none.
fn external_reads(t: &super::txn::Txn) -> Vec<(u32, Vec<i64>)> {
    if t.kind != OpType::Ok {
        return Vec::new();
    }
    let mut own: Vec<(u32, Vec<i64>)> = Vec::new();
    let mut out = Vec::new();
    for m in &t.mops {
        match m {
            Mop::Append { key, val } => match own.iter_mut().find(|(k, _)| k == key) {
                Some((_, v)) => v.push(*val),
                None => own.push((*key, vec![*val])),
            },
            Mop::Read { key, val: Some(v) } => {
                let mine = own
                    .iter()
                    .find(|(k, _)| k == key)
                    .map_or(&[][..], |(_, v)| v.as_slice());
                let cut = if v.ends_with(mine) {
                    v.len() - mine.len()
                } else {
                    v.len()
                };
                out.push((*key, v[..cut].to_vec()));
            }
            _ => {}
        }
    }
    out
}

impl<'a> ListAppend<'a> {
    /// Infers version orders, edges and non-cycle anomalies.
    pub fn analyze(txns: &'a Txns, found: &mut Found) -> (ListAppend<'a>, Vec<(TxnId, TxnId, u8)>) {
        let nkeys = txns.keys.len();
        let mut writer: HashMap<(u32, i64), TxnId, FxBuild> = HashMap::default();
        for (id, t) in txns.txns.iter().enumerate() {
            for m in &t.mops {
                if let Mop::Append { key, val } = m {
                    writer.entry((*key, *val)).or_insert(id as TxnId);
                }
            }
        }
        let ext: Vec<Vec<(u32, Vec<i64>)>> = txns.txns.iter().map(external_reads).collect();
        // Longest read per key.
        let mut order: Vec<Vec<i64>> = vec![Vec::new(); nkeys];
        for reads in &ext {
            for (key, v) in reads {
                if v.len() > order[*key as usize].len() {
                    order[*key as usize] = v.clone();
                }
            }
        }
        let la = ListAppend {
            txns,
            order,
            writer,
            ext,
        };
        let mut edges = Vec::new();
        la.internal(found);
        la.reads(found, &mut edges);
        la.versions(found, &mut edges);
        la.lost_updates(found);
        (la, edges)
    }

    /// A txn's reads must show its own earlier appends, at the end, after
    /// at least what it read of the key before.
    fn internal(&self, found: &mut Found) {
        for (id, t) in self.txns.committed() {
            // Per key: the other txns' appends seen last time, and our own appends so far.
            let mut known: Vec<(u32, Vec<i64>, Vec<i64>)> = Vec::new();
            for (i, m) in t.mops.iter().enumerate() {
                let slot = |known: &mut Vec<(u32, Vec<i64>, Vec<i64>)>, key: u32| match known
                    .iter()
                    .position(|(k, _, _)| *k == key)
                {
                    Some(p) => p,
                    None => {
                        known.push((key, Vec::new(), Vec::new()));
                        known.len() - 1
                    }
                };
                match m {
                    Mop::Append { key, val } => {
                        let p = slot(&mut known, *key);
                        known[p].2.push(*val);
                    }
                    Mop::Read { key, val: Some(v) } => {
                        let p = slot(&mut known, *key);
                        let (_, before, own) = &mut known[p];
                        let ok = v.ends_with(own) && is_prefix(before, &v[..v.len() - own.len()]);
                        if !ok {
                            let (b, o) = (before.clone(), own.clone());
                            found.add("internal", || self.example(&[id], format!(
                                    "{} read key {} = {v:?}, but its own earlier operations mean it should have read {}",
                                    self.describe(id),
                                    self.key(*key),
                                    if b.is_empty() { format!("a list ending in {o:?}") } else { format!("{b:?}, or more, followed by {o:?}") }
                                )));
                        } else {
                            *before = v[..v.len() - own.len()].to_vec();
                        }
                        // A read of a value this txn appends only later.
                        let later: Vec<i64> = t.mops[i + 1..]
                            .iter()
                            .filter_map(|m| match m {
                                Mop::Append { key: k, val } if k == key && v.contains(val) => {
                                    Some(*val)
                                }
                                _ => None,
                            })
                            .collect();
                        if !later.is_empty() {
                            found.add("future-read", || self.example(&[id], format!(
                                    "{} read key {} = {v:?}, which includes {later:?} that it appends only afterwards",
                                    self.describe(id),
                                    self.key(*key)
                                )));
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// Checks every read against its key's order; adds wr and rw edges.
    fn reads(&self, found: &mut Found, edges: &mut Vec<(TxnId, TxnId, u8)>) {
        let mut incompatible_seen: HashSet<u32> = HashSet::new();
        for (id, _) in self.txns.committed() {
            for (key, v) in &self.ext[id as usize] {
                let order = &self.order[*key as usize];
                if !is_prefix(v, order) && incompatible_seen.insert(*key) {
                    found.add("incompatible-order", || self.example(&[id], format!(
                            "{} read key {} = {v:?}, which is not a prefix of the longest read of it, {order:?}: \
                             no single order of appends explains both",
                            self.describe(id),
                            self.key(*key)
                        )));
                }
                // A prefix of a duplicate-free order has no duplicates; orders are checked in `versions`.
                if !is_prefix(v, order) && has_duplicates(v) {
                    found.add("duplicate-elements", || {
                        self.example(
                            &[id],
                            format!(
                                "{} read key {} = {v:?}, which holds an element twice",
                                self.describe(id),
                                self.key(*key)
                            ),
                        )
                    });
                }
                for x in v {
                    if let Some(&w) = self.writer.get(&(*key, *x)) {
                        if self.kind(w) == OpType::Fail {
                            found.add("G1a", || self.example(&[id, w], format!(
                                    "{} read key {} = {v:?}, which includes {x}, appended by {} — a transaction that failed (aborted read)",
                                    self.describe(id),
                                    self.key(*key),
                                    self.describe(w)
                                )));
                        }
                    }
                }
                if let Some(last) = v.last() {
                    if let Some(&w) = self.writer.get(&(*key, *last)) {
                        if w != id && self.kind(w) != OpType::Fail {
                            edges.push((w, id, WR));
                            let wt = &self.txns.txns[w as usize];
                            let final_append = wt.mops.iter().rev().find_map(|m| match m {
                                Mop::Append { key: k, val } if k == key => Some(*val),
                                _ => None,
                            });
                            if final_append != Some(*last) {
                                found.add("G1b", || self.example(&[id, w], format!(
                                        "{} read key {} = {v:?}, ending in {last}, an intermediate append of {} (which appended again to that key afterwards)",
                                        self.describe(id),
                                        self.key(*key),
                                        self.describe(w)
                                    )));
                            }
                        }
                    }
                }
                if is_prefix(v, order) {
                    if let Some(next) = order.get(v.len()) {
                        let last_writer = v.last().and_then(|l| self.writer.get(&(*key, *l)));
                        if let Some(&w) = self.writer.get(&(*key, *next)) {
                            // Reading a writer's intermediate state is G1b, not
                            // an anti-dependency on that same writer.
                            if w != id && self.kind(w) != OpType::Fail && last_writer != Some(&w) {
                                edges.push((id, w, RW));
                            }
                        }
                    }
                }
            }
        }
    }

    /// ww edges along each key's order, and dirty updates.
    fn versions(&self, found: &mut Found, edges: &mut Vec<(TxnId, TxnId, u8)>) {
        for (key, order) in self.order.iter().enumerate() {
            if has_duplicates(order) {
                found.add("duplicate-elements", || {
                    self.example(
                        &[],
                        format!(
                            "key {} was read as {order:?}, which holds an element twice",
                            self.key(key as u32)
                        ),
                    )
                });
            }
            let writers: Vec<Option<TxnId>> = order
                .iter()
                .map(|v| self.writer.get(&(key as u32, *v)).copied())
                .collect();
            for w in writers.windows(2) {
                if let (Some(a), Some(b)) = (w[0], w[1]) {
                    if a != b && self.kind(a) != OpType::Fail && self.kind(b) != OpType::Fail {
                        edges.push((a, b, WW));
                    }
                }
            }
            if let Some(i) = writers
                .iter()
                .position(|w| w.is_some_and(|w| self.kind(w) == OpType::Fail))
            {
                if let Some(Some(after)) = writers[i + 1..]
                    .iter()
                    .find(|w| w.is_some_and(|w| self.kind(w) != OpType::Fail))
                {
                    let failed = writers[i].unwrap_or(0);
                    found.add("dirty-update", || self.example(&[failed, *after], format!(
                            "key {}'s order {order:?} has {}'s append of {} (a failed transaction) followed by {}'s",
                            self.key(key as u32),
                            self.describe(failed),
                            order[i],
                            self.describe(*after)
                        )));
                }
            }
        }
    }

    /// Two committed txns read the same version of a key and both appended
    /// to it: one update is lost.
    fn lost_updates(&self, found: &mut Found) {
        let mut by_version: HashMap<(u32, usize), Vec<TxnId>, FxBuild> = HashMap::default();
        for (id, t) in self.txns.committed() {
            let mut read: Vec<(u32, usize)> = Vec::new();
            for m in &t.mops {
                match m {
                    Mop::Read { key, val: Some(v) } if !read.iter().any(|(k, _)| k == key) => {
                        read.push((*key, v.len()))
                    }
                    Mop::Append { key, .. } => {
                        if let Some(p) = read
                            .iter()
                            .position(|(k, len)| k == key && *len != usize::MAX)
                        {
                            by_version.entry((*key, read[p].1)).or_default().push(id);
                            read[p].1 = usize::MAX;
                        }
                    }
                    _ => {}
                }
            }
        }
        let mut groups: Vec<((u32, usize), Vec<TxnId>)> = by_version
            .into_iter()
            .filter(|(_, t)| t.len() > 1)
            .collect();
        groups.sort();
        for ((key, len), ts) in groups {
            found.add("lost-update", || self.example(&ts, format!(
                    "{} all read key {} at the same version ({len} elements) and then appended to it",
                    ts.iter().map(|t| self.describe(*t)).collect::<Vec<_>>().join(" and "),
                    self.key(key)
                )));
        }
    }
}

impl Explain for ListAppend<'_> {
    fn txns(&self) -> &Txns {
        self.txns
    }

    fn why(&self, a: TxnId, b: TxnId, kind: u8) -> Option<String> {
        let ta = &self.txns.txns[a as usize];
        match kind {
            WW => ta.mops.iter().find_map(|m| {
                let Mop::Append { key, val } = m else { return None };
                let p = self.order[*key as usize].iter().position(|x| x == val)?;
                let next = *self.order[*key as usize].get(p + 1)?;
                (self.writer.get(&(*key, next)) == Some(&b)).then(|| {
                    format!("T{b} appended {next} to key {} right after T{a}'s append of {val}", self.key(*key))
                })
            }),
            WR => self.ext[b as usize].iter().find_map(|(key, v)| {
                let last = v.last()?;
                (self.writer.get(&(*key, *last)) == Some(&a))
                    .then(|| format!("T{b} read key {} = {v:?}, which includes T{a}'s append of {last}", self.key(*key)))
            }),
            RW => self.ext[a as usize].iter().find_map(|(key, v)| {
                let next = *self.order[*key as usize].get(v.len())?;
                (self.writer.get(&(*key, next)) == Some(&b)).then(|| {
                    format!(
                        "T{a} read key {} = {v:?}, which does not include T{b}'s append of {next} (the next in its order)",
                        self.key(*key)
                    )
                })
            }),
            _ => None,
        }
    }
}
