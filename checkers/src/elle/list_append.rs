//! Inference for list-append histories, as Elle's `elle.list-append`.
//!
//! Every read of a key must be a prefix of the longest read, which gives
//! that key's version order; each appended value names its writer. Every
//! append, observed or not, is placed in that order: an observed append
//! right after the element before it, an append no read observed after
//! the last observed element (or after the initial empty list when the
//! key was never read non-empty). From these, per append: a ww edge from
//! the writer of the element before it, and rw edges from every
//! transaction whose read ended at that element; per read: a wr edge from
//! the writer of its last element. Committed (ok) and indeterminate (info)
//! transactions take part; failed ones do not.
//!
//! Non-cycle anomalies: aborted reads (G1a), intermediate reads (G1b),
//! internal inconsistency, future reads, duplicate elements, incompatible
//! orders (also, beyond Elle, a transaction's own appends read in another
//! order than it made them), dirty updates and lost updates. A history Elle cannot analyse —
//! a value appended twice to a key — gets no verdict but unknown, with the
//! case; a read of an element no transaction appended makes the verdict
//! unknown unless something else makes it invalid.

use super::found::Found;
use super::graph::kind::{RW, WR, WW};
use super::txn::{Mop, Txn, TxnId, Txns};
use super::Explain;
use crate::linear::FxBuild;
use crate::op::OpType;
use std::collections::{HashMap, HashSet};

/// A version: `None` is the initial empty list, `Some(v)` the list ending
/// in `v`.
type Version = Option<i64>;

/// (key, value) → the transaction that appended it.
pub type Writers = HashMap<(u32, i64), TxnId, FxBuild>;

/// What was inferred: version orders, writers and readers.
pub struct ListAppend<'a> {
    txns: &'a Txns,
    /// Per key: the version order (the longest read, distinct elements).
    order: Vec<Vec<i64>>,
    /// (key, value) → position in its key's order.
    position: HashMap<(u32, i64), usize, FxBuild>,
    /// (key, value) → the transaction that appended it (any outcome).
    writer: Writers,
    /// (key, version) → committed transactions whose read ended there.
    readers: HashMap<(u32, Version), Vec<TxnId>, FxBuild>,
}

fn is_prefix(a: &[i64], b: &[i64]) -> bool {
    a.len() <= b.len() && a == &b[..a.len()]
}

fn duplicates(v: &[i64]) -> Vec<i64> {
    let mut sorted = v.to_vec();
    sorted.sort_unstable();
    let mut d: Vec<i64> = sorted
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0])
        .collect();
    d.dedup();
    d
}

/// Whether a transaction takes part in the graph (ok or info).
fn possible(t: &Txn) -> bool {
    t.kind != OpType::Fail
}

/// A read's values, when known.
fn reads(t: &Txn) -> impl Iterator<Item = (u32, &Vec<i64>)> {
    t.mops.iter().filter_map(|m| match m {
        Mop::Read { key, val: Some(v) } => Some((*key, v)),
        _ => None,
    })
}

fn appends(t: &Txn) -> impl Iterator<Item = (u32, i64)> + '_ {
    t.mops.iter().filter_map(|m| match m {
        Mop::Append { key, val } => Some((*key, *val)),
        _ => None,
    })
}

impl<'a> ListAppend<'a> {
    /// Each appended value's writer (of any outcome), checking Elle's
    /// precondition that every append is unique per key: `None` (with the
    /// duplicates in `found`) when it is not, and the history cannot be
    /// analysed.
    pub fn writers(txns: &Txns, found: &mut Found) -> Option<Writers> {
        let mut seen: Writers = HashMap::default();
        let mut refused = false;
        let describe = |t: TxnId| describe_any(txns, t);
        for (id, t) in txns.txns.iter().enumerate() {
            let id = id as TxnId;
            for (key, val) in appends(t) {
                if let Some(&other) = seen.get(&(key, val)) {
                    refused = true;
                    found.add("duplicate-appends", || super::Example {
                        explanation: format!(
                            "value {val} was appended to key {} more than once (by {}{}); \
                             list-append needs every appended value to be unique per key",
                            txns.keys[key as usize],
                            describe(other),
                            if other == id {
                                String::new()
                            } else {
                                format!(" and {}", describe(id))
                            }
                        ),
                        ops: vec![txns.txns[other as usize].invoke, t.invoke],
                        ..Default::default()
                    });
                } else {
                    seen.insert((key, val), id);
                }
            }
        }
        (!refused).then_some(seen)
    }

    /// Reads of elements no transaction appended: the result can only be
    /// unknown (or invalid, for what else is found).
    fn unexplained(&self, found: &mut Found) {
        let txns = self.txns;
        let describe = |t: TxnId| describe_any(txns, t);
        for (id, t) in txns.committed() {
            for (key, v) in reads(t) {
                if let Some(x) = v.iter().find(|x| !self.writer.contains_key(&(key, **x))) {
                    found.add("unexplained-element", || super::Example {
                        explanation: format!(
                            "{} read key {} = {v:?}, but no transaction (ok, failed or \
                             indeterminate) appended {x} to it",
                            describe(id),
                            txns.keys[key as usize]
                        ),
                        ops: vec![t.invoke],
                        ..Default::default()
                    });
                }
            }
        }
    }

    /// Infers version orders, edges and non-cycle anomalies.
    pub fn analyze(
        txns: &'a Txns,
        writer: Writers,
        found: &mut Found,
    ) -> (ListAppend<'a>, Vec<(TxnId, TxnId, u8)>) {
        let nkeys = txns.keys.len();
        // Appends per key among ok and info txns: Elle orders a key with a
        // single append by that append alone.
        let mut single: Vec<Option<Option<i64>>> = vec![None; nkeys];
        for t in txns.txns.iter().filter(|t| possible(t)) {
            for (key, val) in appends(t) {
                let s = &mut single[key as usize];
                *s = match s {
                    None => Some(Some(val)),
                    Some(_) => Some(None),
                };
            }
        }
        let mut longest: Vec<&[i64]> = vec![&[]; nkeys];
        for (_, t) in txns.committed() {
            for (key, v) in reads(t) {
                if v.len() > longest[key as usize].len() {
                    longest[key as usize] = v;
                }
            }
        }
        let mut order: Vec<Vec<i64>> = Vec::with_capacity(nkeys);
        for (key, l) in longest.iter().enumerate() {
            let mut seen = HashSet::new();
            let mut o: Vec<i64> = l.iter().copied().filter(|x| seen.insert(*x)).collect();
            if let Some(Some(v)) = single[key] {
                o = vec![v];
            }
            order.push(o);
        }
        let mut position: HashMap<(u32, i64), usize, FxBuild> = HashMap::default();
        for (key, o) in order.iter().enumerate() {
            for (i, v) in o.iter().enumerate() {
                position.insert((key as u32, *v), i);
            }
        }
        let mut readers: HashMap<(u32, Version), Vec<TxnId>, FxBuild> = HashMap::default();
        for (id, t) in txns.committed() {
            for (key, v) in reads(t) {
                readers
                    .entry((key, v.last().copied()))
                    .or_default()
                    .push(id);
            }
        }
        let la = ListAppend {
            txns,
            order,
            position,
            writer,
            readers,
        };
        la.unexplained(found);
        la.aborted_and_intermediate(found);
        la.internal(found);
        la.duplicates(found);
        la.incompatible(found, &single);
        la.own_order(found);
        la.dirty_updates(found, &longest);
        la.lost_updates(found);
        let edges = la.edges();
        (la, edges)
    }

    /// The element appended just before `val` on `key` (None: the initial
    /// state): its predecessor in the order if observed, else the last
    /// observed element.
    fn previous(&self, key: u32, val: i64) -> Version {
        let o = &self.order[key as usize];
        match self.position.get(&(key, val)) {
            Some(0) => None,
            Some(&i) => Some(o[i - 1]),
            None => o.last().copied(),
        }
    }

    /// The graph's writer of a value: only ok and info transactions.
    fn graph_writer(&self, key: u32, val: i64) -> Option<TxnId> {
        let w = *self.writer.get(&(key, val))?;
        (self.kind(w) != OpType::Fail).then_some(w)
    }

    fn edges(&self) -> Vec<(TxnId, TxnId, u8)> {
        let mut edges = Vec::new();
        for (id, t) in self.txns.txns.iter().enumerate() {
            if !possible(t) {
                continue;
            }
            let id = id as TxnId;
            for (key, val) in appends(t) {
                let prev = self.previous(key, val);
                if let Some(p) = prev {
                    if let Some(w) = self.graph_writer(key, p) {
                        if w != id {
                            edges.push((w, id, WW));
                        }
                    }
                }
                for &r in self.readers.get(&(key, prev)).into_iter().flatten() {
                    if r != id {
                        edges.push((r, id, RW));
                    }
                }
            }
            if t.kind == OpType::Ok {
                for (key, v) in reads(t) {
                    if let Some(&last) = v.last() {
                        if let Some(w) = self.graph_writer(key, last) {
                            if w != id {
                                edges.push((w, id, WR));
                            }
                        }
                    }
                }
            }
        }
        edges
    }

    /// G1a: reads of elements a failed transaction appended. G1b: reads
    /// ending in an element its writer appended to again afterwards.
    fn aborted_and_intermediate(&self, found: &mut Found) {
        // An append is intermediate if its txn appends to the key again.
        let intermediate = |w: TxnId, key: u32, val: i64| {
            let mut it = appends(&self.txns.txns[w as usize]).skip_while(|a| *a != (key, val));
            it.next().is_some() && it.any(|(k, _)| k == key)
        };
        for (id, t) in self.txns.committed() {
            for (key, v) in reads(t) {
                for x in v {
                    if let Some(&w) = self.writer.get(&(key, *x)) {
                        if self.kind(w) == OpType::Fail {
                            found.add("G1a", || self.example(&[id, w], format!(
                                "{} read key {} = {v:?}, which includes {x}, appended by {} — a transaction that failed (aborted read)",
                                self.describe(id), self.key(key), self.describe(w)
                            )));
                        }
                    }
                }
                if let Some(&last) = v.last() {
                    if let Some(&w) = self.writer.get(&(key, last)) {
                        if w != id && intermediate(w, key, last) {
                            found.add("G1b", || self.example(&[id, w], format!(
                                "{} read key {} = {v:?}, ending in {last}, an intermediate append of {} (which appended to that key again afterwards)",
                                self.describe(id), self.key(key), self.describe(w)
                            )));
                        }
                    }
                }
            }
        }
    }

    /// Elle's internal consistency: each read must equal what the txn's
    /// own earlier reads and appends imply (a read after only appends must
    /// end with them); and no read may include a value the txn appends
    /// later (a future read).
    fn internal(&self, found: &mut Found) {
        for (id, t) in self.txns.committed() {
            // Per key: the last read (None: unknown prefix) and the
            // appends since.
            type State<'r> = (u32, Option<&'r [i64]>, Vec<i64>);
            let mut state: Vec<State> = Vec::new();
            for m in &t.mops {
                match m {
                    Mop::Append { key, val } => match state.iter_mut().find(|s| s.0 == *key) {
                        Some(s) => s.2.push(*val),
                        None => state.push((*key, None, vec![*val])),
                    },
                    Mop::Read { key, val: Some(v) } => {
                        let Some(s) = state.iter_mut().find(|s| s.0 == *key) else {
                            state.push((*key, Some(v), Vec::new()));
                            continue;
                        };
                        let ok = match s.1 {
                            Some(base) => {
                                v.len() == base.len() + s.2.len()
                                    && v.starts_with(base)
                                    && v.ends_with(&s.2)
                            }
                            None => v.ends_with(&s.2),
                        };
                        if !ok {
                            let expected = match s.1 {
                                Some(base) => {
                                    format!("{:?}", [base, s.2.as_slice()].concat())
                                }
                                None => format!("a list ending in {:?}", s.2),
                            };
                            found.add("internal", || self.example(&[id], format!(
                                "{} read key {} = {v:?}, but its own earlier operations mean it should have read {expected}",
                                self.describe(id), self.key(*key)
                            )));
                            break;
                        }
                        s.1 = Some(v);
                        s.2.clear();
                    }
                    Mop::Read { .. } | Mop::Write { .. } => {}
                }
            }
            // A future read: an append of a value an earlier read included.
            for (i, m) in t.mops.iter().enumerate() {
                let Mop::Append { key, val } = m else {
                    continue;
                };
                let earlier = t.mops[..i].iter().any(
                    |r| matches!(r, Mop::Read { key: k, val: Some(v) } if k == key && v.contains(val)),
                );
                if earlier {
                    found.add("future-read", || {
                        self.example(
                            &[id],
                            format!(
                                "{} read key {} including {val}, which it appends only afterwards",
                                self.describe(id),
                                self.key(*key)
                            ),
                        )
                    });
                    break;
                }
            }
        }
    }

    /// Reads that hold an element twice.
    fn duplicates(&self, found: &mut Found) {
        for (id, t) in self.txns.committed() {
            for (key, v) in reads(t) {
                let d = duplicates(v);
                if !d.is_empty() {
                    found.add("duplicate-elements", || {
                        self.example(
                            &[id],
                            format!(
                                "{} read key {} = {v:?}, which holds {d:?} more than once",
                                self.describe(id),
                                self.key(key)
                            ),
                        )
                    });
                }
            }
        }
    }

    /// Reads of a key that no single order of appends explains: sorted by
    /// length, each must be a prefix of the next.
    fn incompatible(&self, found: &mut Found, single: &[Option<Option<i64>>]) {
        let mut by_key: HashMap<u32, Vec<(TxnId, &Vec<i64>)>, FxBuild> = HashMap::default();
        for (id, t) in self.txns.committed() {
            for (key, v) in reads(t) {
                if !v.is_empty() && !matches!(single[key as usize], Some(Some(_))) {
                    by_key.entry(key).or_default().push((id, v));
                }
            }
        }
        let mut keys: Vec<u32> = by_key.keys().copied().collect();
        keys.sort_unstable();
        for key in keys {
            let mut rs = by_key.remove(&key).unwrap_or_default();
            rs.sort_by_key(|(_, v)| v.len());
            rs.dedup_by(|a, b| a.1 == b.1);
            if let Some(w) = rs.windows(2).find(|w| !is_prefix(w[0].1, w[1].1)) {
                let ((a, va), (b, vb)) = (w[0], w[1]);
                found.add("incompatible-order", || self.example(&[a, b], format!(
                    "{} read key {} = {va:?} and {} read it = {vb:?}: neither is a prefix of the other, so no single order of appends explains both",
                    self.describe(a), self.key(key), self.describe(b)
                )));
            }
        }
    }

    /// A transaction's appends to a key must appear in its key's order in
    /// the order it made them (faultline's addition: Elle does not look).
    fn own_order(&self, found: &mut Found) {
        for (id, t) in self.txns.txns.iter().enumerate() {
            if !possible(t) {
                continue;
            }
            let mut last: Vec<(u32, i64, usize)> = Vec::new();
            for (key, val) in appends(t) {
                let Some(&p) = self.position.get(&(key, val)) else {
                    continue;
                };
                match last.iter_mut().find(|l| l.0 == key) {
                    Some(l) if l.2 > p => {
                        let (id, before) = (id as TxnId, l.1);
                        let order = &self.order[key as usize];
                        found.add("incompatible-order", || self.example(&[id], format!(
                            "{} appended {before} and then {val} to key {}, but the key's order {order:?} (its longest read) has {val} first",
                            self.describe(id), self.key(key)
                        )));
                        break;
                    }
                    Some(l) => *l = (key, val, p),
                    None => last.push((key, val, p)),
                }
            }
        }
    }

    /// Elle's dirty update: along a key's order, a failed append followed
    /// (possibly through indeterminate ones) by a committed one.
    fn dirty_updates(&self, found: &mut Found, longest: &[&[i64]]) {
        for (key, l) in longest.iter().enumerate() {
            let key = key as u32;
            let mut seen = HashSet::new();
            let mut t1: (OpType, Option<TxnId>) = (OpType::Ok, None);
            let mut vs: Vec<i64> = Vec::new();
            for v in l.iter().copied().filter(|x| seen.insert(*x)) {
                let Some(&w) = self.writer.get(&(key, v)) else {
                    continue;
                };
                let t2 = (self.kind(w), Some(w));
                match (t1.0, t2.0) {
                    (OpType::Fail, OpType::Ok) => {
                        vs.push(v);
                        let failed = t1.1.unwrap_or(w);
                        let values = vs.clone();
                        found.add("dirty-update", || self.example(&[failed, w], format!(
                            "key {}'s order has {} (a failed transaction) appending {}, then {} (committed) appending {v}: values {values:?}",
                            self.key(key), self.describe(failed), values[0], self.describe(w)
                        )));
                        t1 = t2;
                        vs = vec![v];
                    }
                    (_, OpType::Info) | (OpType::Fail, OpType::Fail) => vs.push(v),
                    _ => {
                        t1 = t2;
                        vs = vec![v];
                    }
                }
            }
        }
    }

    /// Two committed txns read the same version of a key and both appended
    /// to it: one update is lost (Elle's `lost-update-cases`).
    fn lost_updates(&self, found: &mut Found) {
        // (key, read length, last element) → (txn, what it read).
        type Read<'r> = (TxnId, &'r Vec<i64>);
        let mut by_version: HashMap<(u32, usize, Version), Vec<Read>, FxBuild> = HashMap::default();
        for (id, t) in self.txns.committed() {
            let mut read: Vec<(u32, &Vec<i64>)> = Vec::new();
            let mut wrote: Vec<u32> = Vec::new();
            for m in &t.mops {
                match m {
                    Mop::Read { key, val: Some(v) } if !read.iter().any(|(k, _)| k == key) => {
                        read.push((*key, v));
                    }
                    Mop::Append { key, .. } if !wrote.contains(key) => {
                        if let Some((_, v)) = read.iter().find(|(k, _)| k == key) {
                            by_version
                                .entry((*key, v.len(), v.last().copied()))
                                .or_default()
                                .push((id, v));
                            wrote.push(*key);
                        }
                    }
                    _ => {}
                }
            }
        }
        let mut groups: Vec<(u32, &Vec<i64>, Vec<TxnId>)> = Vec::new();
        for ((key, _, _), reads) in by_version.into_iter().filter(|(_, r)| r.len() > 1) {
            let mut rest = reads;
            while let Some((t, v)) = rest.pop() {
                let mut ts: Vec<TxnId> = vec![t];
                rest.retain(|(u, w)| {
                    let same = *w == v;
                    if same {
                        ts.push(*u);
                    }
                    !same
                });
                if ts.len() > 1 {
                    ts.sort_unstable();
                    groups.push((key, v, ts));
                }
            }
        }
        groups.sort();
        for (key, v, ts) in groups {
            found.add("lost-update", || {
                self.example(
                    &ts,
                    format!(
                        "{} all read key {} = {v:?} and then appended to it",
                        ts.iter()
                            .map(|t| self.describe(*t))
                            .collect::<Vec<_>>()
                            .join(" and "),
                        self.key(key)
                    ),
                )
            });
        }
    }
}

fn describe_any(txns: &Txns, t: TxnId) -> String {
    let x = &txns.txns[t as usize];
    format!("T{t} (process {}, op {})", x.process, x.invoke)
}

impl Explain for ListAppend<'_> {
    fn txns(&self) -> &Txns {
        self.txns
    }

    fn why(&self, a: TxnId, b: TxnId, kind: u8) -> Option<String> {
        let tb = &self.txns.txns[b as usize];
        let unobserved = |key: u32, val: i64| !self.position.contains_key(&(key, val));
        match kind {
            WW => appends(tb).find_map(|(key, val)| {
                let prev = self.previous(key, val)?;
                (self.graph_writer(key, prev) == Some(a)).then(|| {
                    if unobserved(key, val) {
                        format!(
                            "T{b} appended {val} to key {}, which no read observed: it comes after the last observed element {prev}, appended by T{a}",
                            self.key(key)
                        )
                    } else {
                        format!("T{b} appended {val} to key {} right after T{a}'s append of {prev}", self.key(key))
                    }
                })
            }),
            WR => reads(tb).find_map(|(key, v)| {
                let last = *v.last()?;
                (self.graph_writer(key, last) == Some(a))
                    .then(|| format!("T{b} read key {} = {v:?}, which includes T{a}'s append of {last}", self.key(key)))
            }),
            RW => appends(tb).find_map(|(key, val)| {
                let prev = self.previous(key, val);
                let readers = self.readers.get(&(key, prev))?;
                if !readers.contains(&a) {
                    return None;
                }
                let seen = reads(&self.txns.txns[a as usize])
                    .find(|(k, v)| *k == key && v.last().copied() == prev)
                    .map_or_else(|| "[]".to_string(), |(_, v)| format!("{v:?}"));
                Some(match (prev, unobserved(key, val)) {
                    (None, false) => format!(
                        "T{a} read key {} = {seen}, the initial empty list, which T{b} changed by appending {val}",
                        self.key(key)
                    ),
                    (None, true) => format!(
                        "T{a} read key {} = {seen}, the initial empty list; T{b} appended {val}, which no read observed, so it comes after that state",
                        self.key(key)
                    ),
                    (Some(p), false) => format!(
                        "T{a} read key {} = {seen}, which does not include T{b}'s append of {val} (the next in its order after {p})",
                        self.key(key)
                    ),
                    (Some(p), true) => format!(
                        "T{a} did not observe T{b}'s append of {val} to key {}, which no read observed; it comes after the last observed element {p}",
                        self.key(key)
                    ),
                })
            }),
            _ => None,
        }
    }
}
