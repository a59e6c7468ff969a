//! Inference for read-write register histories (Elle §5): written values
//! name their writer (values are unique per key); a key's version order is
//! inferred from the initial state (nil before every write) and
//! writes-follow-reads inside a transaction (a txn that read v and then
//! wrote w orders v before w). Cycles in that order are `cyclic-versions`.

use super::found::Found;
use super::graph::kind::{RW, WR, WW};
use super::graph::Graph;
use super::txn::{Mop, TxnId, Txns};
use super::Explain;
use crate::linear::FxBuild;
use crate::op::OpType;
use std::collections::{HashMap, HashSet};

/// A version of a register: `None` is the initial nil.
type Version = Option<i64>;

/// What was inferred.
pub struct RwRegister<'a> {
    txns: &'a Txns,
    writer: HashMap<(u32, i64), TxnId, FxBuild>,
    /// Per key: direct version-order edges.
    next: HashMap<(u32, Version), Vec<i64>>,
}

/// A txn's external reads (of keys it had not written yet): (key, version).
type Reads = Vec<(u32, Version)>;

/// A txn's external reads (before it writes the key) and its writes per key.
fn external(t: &super::txn::Txn) -> (Reads, HashMap<u32, Vec<i64>>) {
    let mut reads = Vec::new();
    let mut writes: HashMap<u32, Vec<i64>> = HashMap::new();
    let mut read_keys = HashSet::new();
    for m in &t.mops {
        match m {
            Mop::Read { key, val: Some(v) }
                if !writes.contains_key(key) && read_keys.insert(*key) =>
            {
                reads.push((*key, v.first().copied()));
            }
            Mop::Write { key, val } => writes.entry(*key).or_default().push(*val),
            _ => {}
        }
    }
    (reads, writes)
}

impl<'a> RwRegister<'a> {
    /// Infers version orders, edges and non-cycle anomalies.
    pub fn analyze(txns: &'a Txns, found: &mut Found) -> (RwRegister<'a>, Vec<(TxnId, TxnId, u8)>) {
        let mut writer: HashMap<(u32, i64), TxnId, FxBuild> = HashMap::default();
        for (id, t) in txns.txns.iter().enumerate() {
            for m in &t.mops {
                if let Mop::Write { key, val } = m {
                    writer.entry((*key, *val)).or_insert(id as TxnId);
                }
            }
        }
        let mut r = RwRegister {
            txns,
            writer,
            next: HashMap::new(),
        };
        let mut edges = Vec::new();
        r.internal(found);
        r.infer_versions(found);
        r.reads(found, &mut edges);
        r.lost_updates(found);
        (r, edges)
    }

    fn internal(&self, found: &mut Found) {
        for (id, t) in self.txns.committed() {
            let mut state: HashMap<u32, Version> = HashMap::new();
            for (i, m) in t.mops.iter().enumerate() {
                match m {
                    Mop::Write { key, val } => {
                        state.insert(*key, Some(*val));
                    }
                    Mop::Read { key, val: Some(v) } => {
                        let seen = v.first().copied();
                        if let Some(expect) = state.get(key) {
                            if *expect != seen {
                                found.add("internal", || self.example(&[id], format!(
                                        "{} read key {} = {}, but its own earlier operations mean it should have read {}",
                                        self.describe(id),
                                        self.key(*key),
                                        show(seen),
                                        show(*expect)
                                    )));
                            }
                        }
                        if seen.is_some_and(|s| t.mops[i + 1..].iter().any(|m| matches!(m, Mop::Write { key: k, val } if k == key && *val == s))) {
                            found.add("future-read", || self.example(&[id], format!(
                                    "{} read key {} = {}, a value it writes only afterwards",
                                    self.describe(id),
                                    self.key(*key),
                                    show(seen)
                                )));
                        }
                        state.insert(*key, seen);
                    }
                    _ => {}
                }
            }
        }
    }

    /// Version order: nil first; read-then-write within committed txns;
    /// successive writes within a txn. Cycles are reported.
    fn infer_versions(&mut self, found: &mut Found) {
        let mut next: HashMap<(u32, Version), HashSet<i64>> = HashMap::new();
        for ((key, val), _) in self.writer.iter() {
            next.entry((*key, None)).or_default().insert(*val);
        }
        for t in self.txns.txns.iter().filter(|t| t.kind == OpType::Ok) {
            let (reads, writes) = external(t);
            for (key, seen) in reads {
                if let (Some(first), Some(_)) = (writes.get(&key).and_then(|w| w.first()), seen) {
                    next.entry((key, seen)).or_default().insert(*first);
                }
            }
            for (key, ws) in &writes {
                for w in ws.windows(2) {
                    next.entry((*key, Some(w[0]))).or_default().insert(w[1]);
                }
            }
        }
        self.next = next
            .into_iter()
            .map(|(k, v)| (k, v.into_iter().collect()))
            .collect();
        // Cycles among written values of each key.
        let mut ids: HashMap<(u32, i64), u32> = HashMap::new();
        let mut edges = Vec::new();
        for ((key, from), tos) in &self.next {
            let Some(from) = from else { continue };
            for to in tos {
                let n = ids.len() as u32;
                let a = *ids.entry((*key, *from)).or_insert(n);
                let n = ids.len() as u32;
                let b = *ids.entry((*key, *to)).or_insert(n);
                edges.push((a, b, WW));
            }
        }
        let names: HashMap<u32, (u32, i64)> = ids.iter().map(|(k, v)| (*v, *k)).collect();
        for scc in Graph::new(ids.len(), edges).sccs() {
            let (key, _) = names[&scc[0]];
            let mut vals: Vec<i64> = scc.iter().map(|n| names[n].1).collect();
            vals.sort_unstable();
            found.add("cyclic-versions", || self.example(&[], format!("key {}'s values {vals:?} must each come before another in version order: a cycle", self.key(key))));
        }
    }

    fn reads(&self, found: &mut Found, edges: &mut Vec<(TxnId, TxnId, u8)>) {
        for ((key, from), tos) in &self.next {
            let Some(from) = from else { continue };
            let Some(&a) = self.writer.get(&(*key, *from)) else {
                continue;
            };
            for to in tos {
                if let Some(&b) = self.writer.get(&(*key, *to)) {
                    if a != b && self.kind(a) != OpType::Fail && self.kind(b) != OpType::Fail {
                        edges.push((a, b, WW));
                    }
                }
            }
        }
        for (id, t) in self.txns.committed() {
            let (reads, _) = external(t);
            for (key, seen) in reads {
                if let Some(v) = seen {
                    if let Some(&w) = self.writer.get(&(key, v)) {
                        let wt = &self.txns.txns[w as usize];
                        if self.kind(w) == OpType::Fail {
                            found.add("G1a", || self.example(&[id, w], format!(
                                    "{} read key {} = {v}, written by {} — a transaction that failed (aborted read)",
                                    self.describe(id),
                                    self.key(key),
                                    self.describe(w)
                                )));
                            continue;
                        }
                        let last = wt.mops.iter().rev().find_map(|m| match m {
                            Mop::Write { key: k, val } if *k == key => Some(*val),
                            _ => None,
                        });
                        if w != id && last != Some(v) {
                            found.add("G1b", || self.example(&[id, w], format!(
                                    "{} read key {} = {v}, an intermediate write of {} (which wrote that key again afterwards)",
                                    self.describe(id),
                                    self.key(key),
                                    self.describe(w)
                                )));
                        }
                        if w != id {
                            edges.push((w, id, WR));
                        }
                    }
                }
                for to in self.next.get(&(key, seen)).into_iter().flatten() {
                    if let Some(&w) = self.writer.get(&(key, *to)) {
                        if w != id && self.kind(w) != OpType::Fail {
                            edges.push((id, w, RW));
                        }
                    }
                }
            }
        }
    }

    fn lost_updates(&self, found: &mut Found) {
        let mut by_version: HashMap<(u32, Version), Vec<TxnId>> = HashMap::new();
        for (id, t) in self.txns.committed() {
            let (reads, writes) = external(t);
            for (key, seen) in reads {
                if writes.contains_key(&key) {
                    by_version.entry((key, seen)).or_default().push(id);
                }
            }
        }
        let mut groups: Vec<((u32, Version), Vec<TxnId>)> = by_version
            .into_iter()
            .filter(|(_, t)| t.len() > 1)
            .collect();
        groups.sort();
        for ((key, seen), ts) in groups {
            found.add("lost-update", || {
                self.example(
                    &ts,
                    format!(
                        "{} all read key {} = {} and then wrote it",
                        ts.iter()
                            .map(|t| self.describe(*t))
                            .collect::<Vec<_>>()
                            .join(" and "),
                        self.key(key),
                        show(seen)
                    ),
                )
            });
        }
    }
}

fn show(v: Version) -> String {
    v.map_or("nil".into(), |v| v.to_string())
}

impl Explain for RwRegister<'_> {
    fn txns(&self) -> &Txns {
        self.txns
    }

    fn why(&self, a: TxnId, b: TxnId, kind: u8) -> Option<String> {
        let (ta, tb) = (&self.txns.txns[a as usize], &self.txns.txns[b as usize]);
        let writes_of = |t: &super::txn::Txn| external(t).1;
        match kind {
            WW => writes_of(ta).into_iter().find_map(|(key, ws)| {
                let from = *ws.last()?;
                let tos = self.next.get(&(key, Some(from)))?;
                tos.iter().find(|to| self.writer.get(&(key, **to)) == Some(&b)).map(|to| {
                    format!("T{b}'s write of {to} to key {} follows T{a}'s write of {from} in its version order", self.key(key))
                })
            }),
            WR => external(tb).0.into_iter().find_map(|(key, seen)| {
                let v = seen?;
                (self.writer.get(&(key, v)) == Some(&a)).then(|| format!("T{b} read key {} = {v}, written by T{a}", self.key(key)))
            }),
            RW => external(ta).0.into_iter().find_map(|(key, seen)| {
                let tos = self.next.get(&(key, seen))?;
                tos.iter().find(|to| self.writer.get(&(key, **to)) == Some(&b)).map(|to| {
                    format!("T{a} read key {} = {}, a version before T{b}'s write of {to}", self.key(key), show(seen))
                })
            }),
            _ => None,
        }
    }
}
