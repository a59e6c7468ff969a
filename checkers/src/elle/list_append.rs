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
use super::txn::{Elem, Mop, Txn, TxnId, Txns};
use super::Explain;
use crate::linear::FxBuild;
use crate::op::OpType;
use std::collections::HashMap;

/// A version: `None` is the initial empty list, `Some(e)` the list ending
/// in element `e`.
type Version = Option<Elem>;

/// No transaction, no position.
const NONE: u32 = u32::MAX;

/// Element → the transaction that appended it (`u32::MAX`: none).
pub type Writers = Vec<TxnId>;

/// What was inferred: version orders, writers and readers, in arrays
/// indexed by element (see [`super::txn::Elem`]).
pub struct ListAppend<'a> {
    txns: &'a Txns,
    /// Per key: the version order (the longest read, distinct elements).
    order: Vec<Vec<Elem>>,
    /// Element → position in its key's order (`NONE`: not in it).
    position: Vec<u32>,
    /// Element → the transaction that appended it (any outcome).
    writer: Writers,
    /// Version → committed transactions whose read ended there.
    readers: Readers,
}

/// Committed transactions by the version their read of a key ended at,
/// in compressed form: slot `e` for the list ending in element `e`, slot
/// `elements + key` for a key's initial empty list.
struct Readers {
    elements: usize,
    start: Vec<u32>,
    txns: Vec<TxnId>,
}

impl Readers {
    /// Counts, then fills in transaction order (so each slot lists its
    /// readers in the order they were found).
    fn new(txns: &Txns, elements: usize, keys: usize) -> Readers {
        let slot = |key: u32, v: &[Elem]| match v.last() {
            Some(&e) => e as usize,
            None => elements + key as usize,
        };
        let mut start = vec![0u32; elements + keys + 1];
        for (_, t) in txns.committed() {
            for (key, v) in reads(t) {
                start[slot(key, v) + 1] += 1;
            }
        }
        for i in 1..start.len() {
            start[i] += start[i - 1];
        }
        let mut next = start.clone();
        let mut out = vec![0 as TxnId; start[start.len() - 1] as usize];
        for (id, t) in txns.committed() {
            for (key, v) in reads(t) {
                let s = slot(key, v);
                out[next[s] as usize] = id;
                next[s] += 1;
            }
        }
        Readers {
            elements,
            start,
            txns: out,
        }
    }

    /// The readers of `version` of `key`.
    fn get(&self, key: u32, version: Version) -> &[TxnId] {
        let s = match version {
            Some(e) => e as usize,
            None => self.elements + key as usize,
        };
        &self.txns[self.start[s] as usize..self.start[s + 1] as usize]
    }
}

fn is_prefix(a: &[Elem], b: &[Elem]) -> bool {
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

/// Each key's `longest` read without repeated elements (the first of
/// each kept), or the element `fixed` gives for that key.
fn distinct(
    longest: &[&[Elem]],
    elements: usize,
    fixed: impl Fn(usize) -> Option<Elem>,
) -> Vec<Vec<Elem>> {
    // An element belongs to one key: marks never need clearing.
    let mut seen = vec![false; elements];
    let mut out = Vec::with_capacity(longest.len());
    for (key, l) in longest.iter().enumerate() {
        out.push(match fixed(key) {
            Some(e) => vec![e],
            None => l
                .iter()
                .copied()
                .filter(|e| !std::mem::replace(&mut seen[*e as usize], true))
                .collect(),
        });
    }
    out
}

/// Whether a transaction has two micro-ops on one key: internal
/// consistency, future reads, the order of its own appends and lost
/// updates concern those alone.
fn repeats_key(t: &Txn) -> bool {
    let m = &t.mops;
    (1..m.len()).any(|i| m[..i].iter().any(|x| x.key() == m[i].key()))
}

/// Whether a transaction takes part in the graph (ok or info).
fn possible(t: &Txn) -> bool {
    t.kind != OpType::Fail
}

/// A read's elements, when known.
fn reads(t: &Txn) -> impl Iterator<Item = (u32, &Vec<Elem>)> {
    t.mops.iter().filter_map(|m| match m {
        Mop::ReadList {
            key,
            elems: Some(v),
        } => Some((*key, v)),
        _ => None,
    })
}

/// Appends as (key, element).
fn appends(t: &Txn) -> impl Iterator<Item = (u32, Elem)> + '_ {
    t.mops.iter().filter_map(|m| match m {
        Mop::Append { key, elem, .. } => Some((*key, *elem)),
        _ => None,
    })
}

impl<'a> ListAppend<'a> {
    /// Each appended value's writer (of any outcome), checking Elle's
    /// precondition that every append is unique per key: `None` (with the
    /// duplicates in `found`) when it is not, and the history cannot be
    /// analysed.
    pub fn writers(txns: &Txns, found: &mut Found) -> Option<Writers> {
        let mut seen: Writers = vec![NONE; txns.values.len()];
        let mut refused = false;
        let describe = |t: TxnId| describe_any(txns, t);
        for (id, t) in txns.txns.iter().enumerate() {
            let id = id as TxnId;
            for (key, e) in appends(t) {
                let other = seen[e as usize];
                if other != NONE {
                    let val = txns.value(e);
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
                    seen[e as usize] = id;
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
                if let Some(&x) = v.iter().find(|x| self.writer[**x as usize] == NONE) {
                    found.add("unexplained-element", || super::Example {
                        explanation: format!(
                            "{} read key {} = {:?}, but no transaction (ok, failed or \
                             indeterminate) appended {} to it",
                            describe(id),
                            txns.keys[key as usize],
                            txns.list(v),
                            txns.value(x)
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
        let nelems = txns.values.len();
        // Appends per key among ok and info txns: Elle orders a key with a
        // single append by that append alone.
        let mut single: Vec<Option<Option<Elem>>> = vec![None; nkeys];
        for t in txns.txns.iter().filter(|t| possible(t)) {
            for (key, e) in appends(t) {
                let s = &mut single[key as usize];
                *s = match s {
                    None => Some(Some(e)),
                    Some(_) => Some(None),
                };
            }
        }
        let mut longest: Vec<&[Elem]> = vec![&[]; nkeys];
        for (_, t) in txns.committed() {
            for (key, v) in reads(t) {
                if v.len() > longest[key as usize].len() {
                    longest[key as usize] = v;
                }
            }
        }
        let order = distinct(&longest, nelems, |key| match single[key] {
            Some(Some(e)) => Some(e),
            _ => None,
        });
        let mut position: Vec<u32> = vec![NONE; nelems];
        for o in &order {
            for (i, e) in o.iter().enumerate() {
                position[*e as usize] = i as u32;
            }
        }
        let readers = Readers::new(txns, nelems, nkeys);
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
    fn previous(&self, key: u32, e: Elem) -> Version {
        let o = &self.order[key as usize];
        match self.position[e as usize] {
            0 => None,
            NONE => o.last().copied(),
            i => Some(o[i as usize - 1]),
        }
    }

    /// The writer of an element, if any.
    fn writer(&self, e: Elem) -> Option<TxnId> {
        let w = self.writer[e as usize];
        (w != NONE).then_some(w)
    }

    /// The graph's writer of an element: only ok and info transactions.
    fn graph_writer(&self, e: Elem) -> Option<TxnId> {
        let w = self.writer(e)?;
        (self.kind(w) != OpType::Fail).then_some(w)
    }

    /// The values of elements.
    fn list(&self, es: &[Elem]) -> Vec<i64> {
        self.txns.list(es)
    }

    /// Whether `v`, a read of `key`, is a prefix of the key's order (most
    /// reads are: what they hold then needs no closer look).
    fn in_order(&self, key: u32, v: &[Elem]) -> bool {
        is_prefix(v, &self.order[key as usize])
    }

    fn edges(&self) -> Vec<(TxnId, TxnId, u8)> {
        let mut edges = Vec::new();
        for (id, t) in self.txns.txns.iter().enumerate() {
            if !possible(t) {
                continue;
            }
            let id = id as TxnId;
            for (key, e) in appends(t) {
                let prev = self.previous(key, e);
                if let Some(p) = prev {
                    if let Some(w) = self.graph_writer(p) {
                        if w != id {
                            edges.push((w, id, WW));
                        }
                    }
                }
                for &r in self.readers.get(key, prev) {
                    if r != id {
                        edges.push((r, id, RW));
                    }
                }
            }
            if t.kind == OpType::Ok {
                for (_, v) in reads(t) {
                    if let Some(&last) = v.last() {
                        if let Some(w) = self.graph_writer(last) {
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
        let intermediate = |w: TxnId, key: u32, e: Elem| {
            let mut it = appends(&self.txns.txns[w as usize]).skip_while(|a| *a != (key, e));
            it.next().is_some() && it.any(|(k, _)| k == key)
        };
        // Elements a failed transaction appended.
        let failed: Vec<bool> = self
            .writer
            .iter()
            .map(|&w| w != NONE && self.kind(w) == OpType::Fail)
            .collect();
        for (id, t) in self.txns.committed() {
            for (key, v) in reads(t) {
                for &x in v.iter().filter(|x| failed[**x as usize]) {
                    let w = self.writer[x as usize];
                    found.add("G1a", || self.example(&[id, w], format!(
                        "{} read key {} = {:?}, which includes {}, appended by {} — a transaction that failed (aborted read)",
                        self.describe(id), self.key(key), self.list(v), self.txns.value(x), self.describe(w)
                    )));
                }
                if let Some(&last) = v.last() {
                    if let Some(w) = self.writer(last) {
                        if w != id && intermediate(w, key, last) {
                            found.add("G1b", || self.example(&[id, w], format!(
                                "{} read key {} = {:?}, ending in {}, an intermediate append of {} (which appended to that key again afterwards)",
                                self.describe(id), self.key(key), self.list(v), self.txns.value(last), self.describe(w)
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
        for (id, t) in self.txns.committed().filter(|(_, t)| repeats_key(t)) {
            // Per key: the last read (None: unknown prefix) and the
            // appends since.
            type State<'r> = (u32, Option<&'r [Elem]>, Vec<Elem>);
            let mut state: Vec<State> = Vec::new();
            for m in &t.mops {
                match m {
                    Mop::Append { key, elem, .. } => match state.iter_mut().find(|s| s.0 == *key) {
                        Some(s) => s.2.push(*elem),
                        None => state.push((*key, None, vec![*elem])),
                    },
                    Mop::ReadList {
                        key,
                        elems: Some(v),
                    } => {
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
                                    format!("{:?}", self.list(&[base, s.2.as_slice()].concat()))
                                }
                                None => format!("a list ending in {:?}", self.list(&s.2)),
                            };
                            found.add("internal", || self.example(&[id], format!(
                                "{} read key {} = {:?}, but its own earlier operations mean it should have read {expected}",
                                self.describe(id), self.key(*key), self.list(v)
                            )));
                            break;
                        }
                        s.1 = Some(v);
                        s.2.clear();
                    }
                    Mop::ReadList { .. } | Mop::Read { .. } | Mop::Write { .. } => {}
                }
            }
            // A future read: an append of a value an earlier read included.
            for (i, m) in t.mops.iter().enumerate() {
                let Mop::Append { key, val, elem } = m else {
                    continue;
                };
                let earlier = t.mops[..i].iter().any(
                    |r| matches!(r, Mop::ReadList { key: k, elems: Some(v) } if k == key && v.contains(elem)),
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
            for (key, v) in reads(t).filter(|(key, v)| !self.in_order(*key, v)) {
                let v = self.list(v);
                let d = duplicates(&v);
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
    fn incompatible(&self, found: &mut Found, single: &[Option<Option<Elem>>]) {
        // Reads that are all prefixes of their key's order are compatible:
        // only keys with another read are looked at.
        let mut other = vec![false; self.order.len()];
        for (_, t) in self.txns.committed() {
            for (key, v) in reads(t) {
                if !self.in_order(key, v) {
                    other[key as usize] = true;
                }
            }
        }
        let mut by_key: HashMap<u32, Vec<(TxnId, &Vec<Elem>)>, FxBuild> = HashMap::default();
        for (id, t) in self.txns.committed() {
            for (key, v) in reads(t) {
                if !v.is_empty()
                    && other[key as usize]
                    && !matches!(single[key as usize], Some(Some(_)))
                {
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
                    "{} read key {} = {:?} and {} read it = {:?}: neither is a prefix of the other, so no single order of appends explains both",
                    self.describe(a), self.key(key), self.list(va), self.describe(b), self.list(vb)
                )));
            }
        }
    }

    /// A transaction's appends to a key must appear in its key's order in
    /// the order it made them (faultline's addition: Elle does not look).
    fn own_order(&self, found: &mut Found) {
        for (id, t) in self.txns.txns.iter().enumerate() {
            if !possible(t) || !repeats_key(t) {
                continue;
            }
            let mut last: Vec<(u32, Elem, u32)> = Vec::new();
            for (key, e) in appends(t) {
                let p = self.position[e as usize];
                if p == NONE {
                    continue;
                }
                match last.iter_mut().find(|l| l.0 == key) {
                    Some(l) if l.2 > p => {
                        let (id, before) = (id as TxnId, self.txns.value(l.1));
                        let val = self.txns.value(e);
                        let order = self.list(&self.order[key as usize]);
                        found.add("incompatible-order", || self.example(&[id], format!(
                            "{} appended {before} and then {val} to key {}, but the key's order {order:?} (its longest read) has {val} first",
                            self.describe(id), self.key(key)
                        )));
                        break;
                    }
                    Some(l) => *l = (key, e, p),
                    None => last.push((key, e, p)),
                }
            }
        }
    }

    /// Elle's dirty update: along a key's order, a failed append followed
    /// (possibly through indeterminate ones) by a committed one.
    fn dirty_updates(&self, found: &mut Found, longest: &[&[Elem]]) {
        let distinct = distinct(longest, self.txns.values.len(), |_| None);
        for (key, l) in distinct.iter().enumerate() {
            let key = key as u32;
            let mut t1: (OpType, Option<TxnId>) = (OpType::Ok, None);
            let mut vs: Vec<i64> = Vec::new();
            for &e in l {
                let Some(w) = self.writer(e) else {
                    continue;
                };
                let v = self.txns.value(e);
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
        type Read<'r> = (TxnId, &'r Vec<Elem>);
        let mut by_version: HashMap<(u32, usize, Version), Vec<Read>, FxBuild> = HashMap::default();
        for (id, t) in self.txns.committed().filter(|(_, t)| repeats_key(t)) {
            let mut read: Vec<(u32, &Vec<Elem>)> = Vec::new();
            let mut wrote: Vec<u32> = Vec::new();
            for m in &t.mops {
                match m {
                    Mop::ReadList {
                        key,
                        elems: Some(v),
                    } if !read.iter().any(|(k, _)| k == key) => {
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
        // Sorted by the values read, as they are shown.
        let mut groups: Vec<(u32, Vec<i64>, Vec<TxnId>)> = Vec::new();
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
                    groups.push((key, self.list(v), ts));
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
        let unobserved = |e: Elem| self.position[e as usize] == NONE;
        let value = |e: Elem| self.txns.value(e);
        match kind {
            WW => appends(tb).find_map(|(key, e)| {
                let prev = self.previous(key, e)?;
                let (val, prev_elem, prev) = (value(e), prev, value(prev));
                (self.graph_writer(prev_elem) == Some(a)).then(|| {
                    if unobserved(e) {
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
                (self.graph_writer(last) == Some(a)).then(|| {
                    format!(
                        "T{b} read key {} = {:?}, which includes T{a}'s append of {}",
                        self.key(key),
                        self.list(v),
                        value(last)
                    )
                })
            }),
            RW => appends(tb).find_map(|(key, e)| {
                let prev = self.previous(key, e);
                if !self.readers.get(key, prev).contains(&a) {
                    return None;
                }
                let seen = reads(&self.txns.txns[a as usize])
                    .find(|(k, v)| *k == key && v.last().copied() == prev)
                    .map_or_else(|| "[]".to_string(), |(_, v)| format!("{:?}", self.list(v)));
                let val = value(e);
                let prev = prev.map(value);
                Some(match (prev, unobserved(e)) {
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
