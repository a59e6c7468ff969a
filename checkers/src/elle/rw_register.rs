//! Inference for read-write register histories, as Elle's
//! `elle.rw-register`.
//!
//! Written values name their writer (values are unique per key). Each
//! key's version order is a graph over its values (nil is the initial
//! state), built from sources applied in turn; a source whose edges would
//! make some key's versions cyclic is left out and the cycle reported as
//! `cyclic-versions`:
//!
//! - **initial state** (always): nil comes before every value written or
//!   read;
//! - **writes follow reads** (`wfr_keys`, on by default in faultline, off
//!   in Elle): a committed txn that read v and wrote v' of a key orders
//!   v before v';
//! - **sequential keys** (`sequential_keys`): along each process, the last
//!   value a txn saw or wrote of a key comes before the first value the
//!   next txn of that process touching the key saw or wrote;
//! - **linearizable keys** (`linearizable_keys`): the same along real time.
//!
//! Each direct version edge v1 → v2 of a key gives ww edges from the
//! committed and indeterminate txns that wrote v1 to those that wrote v2
//! (Elle uses committed ones only), and rw edges from
//! those that read v1 (externally: before writing the key) to those that
//! wrote v2; a read of v gives a wr edge from the one txn that wrote it.
//! Non-cycle anomalies: G1a, G1b, internal, lost-update, and future reads
//! (faultline's addition: Elle does not look for them in registers).

use super::cycles;
use super::found::Found;
use super::graph::kind::{RW, WR, WW};
use super::graph::Graph;
use super::txn::{Mop, Txn, TxnId, Txns};
use super::{Example, Explain};
use crate::linear::FxBuild;
use crate::op::OpType;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

/// A version of a register: `None` is the initial nil.
type Version = Option<i64>;

/// Direct version edges per key.
type Versions = HashMap<u32, HashMap<Version, BTreeSet<Version>>, FxBuild>;

/// Which version-order sources to use.
#[derive(Clone, Copy, Debug)]
pub struct Sources {
    /// Writes follow reads within a transaction.
    pub wfr_keys: bool,
    /// Each key is sequentially consistent: process order orders versions.
    pub sequential_keys: bool,
    /// Each key is linearizable: real-time order orders versions.
    pub linearizable_keys: bool,
    /// Take a read of a value nobody wrote for an initial state, as Elle
    /// does, instead of reporting it (`unexplained-element`).
    pub unwritten_reads_initial: bool,
}

/// What was inferred.
pub struct RwRegister<'a> {
    txns: &'a Txns,
    /// Per txn: external reads (first read of a key not after a write of it).
    ext_reads: Vec<Vec<(u32, Version)>>,
    /// Per txn: external writes (last write of each key).
    ext_writes: Vec<Vec<(u32, i64)>>,
    /// The version order used.
    versions: Versions,
}

fn show(v: Version) -> String {
    v.map_or("nil".into(), |v| v.to_string())
}

/// A read's value as a version (registers read `[v]` or `[]` for nil).
fn version(v: &[i64]) -> Version {
    v.first().copied()
}

/// A txn's external reads (key, version) and writes (key, value).
type External = (Vec<(u32, Version)>, Vec<(u32, i64)>);

/// Every transaction's external reads and writes, by transaction id.
#[derive(Default)]
pub struct Externals {
    reads: Vec<Vec<(u32, Version)>>,
    writes: Vec<Vec<(u32, i64)>>,
}

fn external(t: &Txn) -> External {
    let mut reads: Vec<(u32, Version)> = Vec::new();
    let mut writes: Vec<(u32, i64)> = Vec::new();
    for m in &t.mops {
        match m {
            Mop::Read { key, val: Some(v) }
                if t.kind == OpType::Ok
                    && !writes.iter().any(|(k, _)| k == key)
                    && !reads.iter().any(|(k, _)| k == key) =>
            {
                reads.push((*key, version(v)));
            }
            Mop::Write { key, val } => match writes.iter_mut().find(|(k, _)| k == key) {
                Some(w) => w.1 = *val,
                None => writes.push((*key, *val)),
            },
            _ => {}
        }
    }
    (reads, writes)
}

fn get<T: Copy>(pairs: &[(u32, T)], key: u32) -> Option<T> {
    pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// Nodes visited per start when following process or real-time order to
/// the next transactions on a key.
const DOWNSTREAM_LIMIT: usize = 10_000;

impl<'a> RwRegister<'a> {
    /// Every transaction's external reads and writes, or `None` when the
    /// history breaks Elle's precondition: a value read must have been
    /// written by at most one committed (here: or indeterminate)
    /// transaction. The anomalies found, if any, make the history
    /// unanalysable.
    pub fn externals(txns: &Txns, found: &mut Found) -> Option<Externals> {
        let (reads, writes): (Vec<_>, Vec<_>) = txns.txns.iter().map(external).unzip();
        let mut writers: HashMap<(u32, i64), Vec<TxnId>, FxBuild> = HashMap::default();
        let mut read: HashSet<(u32, i64)> = HashSet::new();
        for (id, t) in txns.txns.iter().enumerate() {
            if t.kind == OpType::Fail {
                continue;
            }
            for &(k, v) in &writes[id] {
                writers.entry((k, v)).or_default().push(id as TxnId);
            }
            read.extend(reads[id].iter().filter_map(|&(k, v)| Some((k, v?))));
        }
        let mut dups: Vec<(&(u32, i64), &Vec<TxnId>)> = writers
            .iter()
            .filter(|(kv, ws)| ws.len() > 1 && read.contains(kv))
            .collect();
        dups.sort();
        let refused = !dups.is_empty();
        for ((k, v), ws) in dups {
            found.add("duplicate-writes", || Example {
                explanation: format!(
                    "key {} was set to {v} by {} transactions (T{}); rw-register needs \
                     every written value to be unique per key",
                    txns.keys[*k as usize],
                    ws.len(),
                    ws.iter()
                        .map(|t| t.to_string())
                        .collect::<Vec<_>>()
                        .join(", T")
                ),
                ops: ws.iter().map(|t| txns.txns[*t as usize].invoke).collect(),
                ..Default::default()
            });
        }
        (!refused).then_some(Externals { reads, writes })
    }

    /// Infers version orders, edges and non-cycle anomalies, from the
    /// transactions' [`RwRegister::externals`].
    pub fn analyze(
        txns: &'a Txns,
        externals: Externals,
        sources: Sources,
        found: &mut Found,
    ) -> (RwRegister<'a>, Vec<(TxnId, TxnId, u8)>) {
        let mut r = RwRegister {
            txns,
            ext_reads: externals.reads,
            ext_writes: externals.writes,
            versions: HashMap::default(),
        };
        r.internal(found);
        if !sources.unwritten_reads_initial {
            r.unexplained(found);
        }
        r.aborted_and_intermediate(found);
        r.lost_updates(found);
        r.build_versions(sources, found);
        let edges = r.edges();
        (r, edges)
    }

    /// Applies each version-order source, skipping those that would make
    /// versions cyclic.
    fn build_versions(&mut self, sources: Sources, found: &mut Found) {
        let mut used: Vec<&str> = Vec::new();
        let mut steps: Vec<(&str, Versions)> = vec![("initial-state", self.initial())];
        if sources.wfr_keys {
            steps.push(("wfr-keys", self.wfr()));
        }
        if sources.sequential_keys {
            let g = Graph::new(self.txns.txns.len(), cycles::process_edges(self.txns));
            steps.push(("sequential-keys", self.along(&g)));
        }
        if sources.linearizable_keys {
            let g = Graph::new(self.txns.txns.len(), cycles::realtime_edges(self.txns));
            steps.push(("linearizable-keys", self.along(&g)));
        }
        for (name, add) in steps {
            let mut merged = self.versions.clone();
            for (k, edges) in add {
                let m = merged.entry(k).or_default();
                for (a, bs) in edges {
                    m.entry(a).or_default().extend(bs);
                }
            }
            let cyclic = cyclic_versions(&merged);
            if cyclic.is_empty() {
                self.versions = merged;
                used.push(name);
            } else {
                let srcs: Vec<&str> = used.iter().copied().chain([name]).collect();
                for (k, vals) in cyclic {
                    found.add("cyclic-versions", || self.example(&[], format!(
                        "key {}'s versions {} must each come before another (inferred from {}): a cycle, so the {name} order was not used",
                        self.key(k),
                        vals.iter().map(|v| show(*v)).collect::<Vec<_>>().join(", "),
                        srcs.join(", ")
                    )));
                }
            }
        }
    }

    /// nil before every value written (ok or info) or read (ok).
    fn initial(&self) -> Versions {
        let mut v: Versions = HashMap::default();
        for (id, t) in self.txns.txns.iter().enumerate() {
            if t.kind == OpType::Fail {
                continue;
            }
            let vals = self.ext_writes[id]
                .iter()
                .map(|(k, v)| (*k, Some(*v)))
                .chain(self.ext_reads[id].iter().copied());
            for (k, val) in vals {
                if val.is_some() {
                    v.entry(k).or_default().entry(None).or_default().insert(val);
                }
            }
        }
        v
    }

    /// A committed txn's external read of a key before its write of it.
    fn wfr(&self) -> Versions {
        let mut v: Versions = HashMap::default();
        for (id, _) in self.txns.committed() {
            for (k, read) in &self.ext_reads[id as usize] {
                if let (Some(r), Some(w)) = (read, get(&self.ext_writes[id as usize], *k)) {
                    if *r != w {
                        v.entry(*k)
                            .or_default()
                            .entry(Some(*r))
                            .or_default()
                            .insert(Some(w));
                    }
                }
            }
        }
        v
    }

    /// The last external value of a key in `a` (None: nothing to relate).
    fn last_value(&self, a: TxnId, k: u32) -> Option<Version> {
        let t = &self.txns.txns[a as usize];
        let w = get(&self.ext_writes[a as usize], k).map(Some);
        match t.kind {
            OpType::Ok => w.or_else(|| get(&self.ext_reads[a as usize], k)),
            OpType::Info => w,
            _ => None,
        }
    }

    /// The first external value of a key in `b`, as Elle takes it (a read
    /// of nil gives way to a write).
    fn first_value(&self, b: TxnId, k: u32) -> Option<Version> {
        let t = &self.txns.txns[b as usize];
        let w = get(&self.ext_writes[b as usize], k).map(Some);
        match t.kind {
            OpType::Ok => match get(&self.ext_reads[b as usize], k) {
                Some(Some(r)) => Some(Some(r)),
                Some(None) => w.or(Some(None)),
                None => w,
            },
            OpType::Info => w,
            _ => None,
        }
    }

    fn touches(&self, t: TxnId, k: u32) -> bool {
        self.first_value(t, k).is_some()
    }

    /// Version edges along a transaction order `g` (process or real time):
    /// from each txn's last value of a key to the first value of the
    /// nearest txns after it that touch the key.
    fn along(&self, g: &Graph) -> Versions {
        let mut v: Versions = HashMap::default();
        let mut seen: HashMap<TxnId, u32, FxBuild> = HashMap::default();
        let mut round = 0u32;
        for a in 0..self.txns.txns.len() as TxnId {
            let keys: Vec<u32> = self.ext_writes[a as usize]
                .iter()
                .map(|(k, _)| *k)
                .chain(self.ext_reads[a as usize].iter().map(|(k, _)| *k))
                .collect::<BTreeSet<u32>>()
                .into_iter()
                .collect();
            for k in keys {
                let Some(v1) = self.last_value(a, k) else {
                    continue;
                };
                round += 1;
                let mut queue: VecDeque<TxnId> = g.out(a).map(|(b, _)| b).collect();
                let mut visited = 0;
                while let Some(b) = queue.pop_front() {
                    if seen.insert(b, round) == Some(round) {
                        continue;
                    }
                    visited += 1;
                    if visited > DOWNSTREAM_LIMIT {
                        break;
                    }
                    if self.touches(b, k) {
                        if let Some(v2) = self.first_value(b, k) {
                            if v2 != v1 {
                                v.entry(k).or_default().entry(v1).or_default().insert(v2);
                            }
                        }
                    } else {
                        queue.extend(g.out(b).map(|(c, _)| c));
                    }
                }
            }
        }
        v
    }

    /// ww and rw edges from direct version edges; wr edges from reads.
    fn edges(&self) -> Vec<(TxnId, TxnId, u8)> {
        let mut writers: HashMap<(u32, i64), Vec<TxnId>, FxBuild> = HashMap::default();
        let mut readers: HashMap<(u32, Version), Vec<TxnId>, FxBuild> = HashMap::default();
        for (id, t) in self.txns.txns.iter().enumerate() {
            let id = id as TxnId;
            // Indeterminate txns write too (Elle leaves them out): one that
            // never happened has no reads, and no version comes after its
            // writes unless some read saw them, so it closes no cycle.
            if t.kind == OpType::Fail {
                continue;
            }
            for (k, v) in &self.ext_writes[id as usize] {
                writers.entry((*k, *v)).or_default().push(id);
            }
            for (k, v) in &self.ext_reads[id as usize] {
                readers.entry((*k, *v)).or_default().push(id);
            }
        }
        let mut edges = Vec::new();
        let mut keys: Vec<&u32> = self.versions.keys().collect();
        keys.sort();
        for k in keys {
            for (v1, v2s) in &self.versions[k] {
                for v2 in v2s.iter().flatten() {
                    let Some(w2) = writers.get(&(*k, *v2)) else {
                        continue;
                    };
                    let w1 = v1.and_then(|v| writers.get(&(*k, v)));
                    for &b in w2 {
                        for &a in w1.into_iter().flatten() {
                            if a != b {
                                edges.push((a, b, WW));
                            }
                        }
                        for &a in readers.get(&(*k, *v1)).into_iter().flatten() {
                            if a != b {
                                edges.push((a, b, RW));
                            }
                        }
                    }
                }
            }
        }
        for ((k, v), rs) in &readers {
            let Some(v) = v else { continue };
            if let Some([w]) = writers.get(&(*k, *v)).map(Vec::as_slice) {
                edges.extend(rs.iter().filter(|r| *r != w).map(|r| (*w, *r, WR)));
            }
        }
        edges
    }

    /// Elle's internal consistency (a read must match the txn's own earlier
    /// write or read of the key), and reads of values the txn writes only
    /// later.
    fn internal(&self, found: &mut Found) {
        for (id, t) in self.txns.committed() {
            let mut state: HashMap<u32, Version> = HashMap::new();
            for m in &t.mops {
                match m {
                    Mop::Write { key, val } => {
                        state.insert(*key, Some(*val));
                    }
                    Mop::Read { key, val: Some(v) } => {
                        let seen = version(v);
                        // Elle skips the check after a read of nil; a read
                        // of nil must be repeatable too.
                        if let Some(expect) = state.get(key) {
                            if *expect != seen {
                                let e = *expect;
                                found.add("internal", || self.example(&[id], format!(
                                    "{} read key {} = {}, but its own earlier operations mean it should have read {}",
                                    self.describe(id), self.key(*key), show(seen), show(e)
                                )));
                                break;
                            }
                        }
                        state.insert(*key, seen);
                    }
                    _ => {}
                }
            }
            let mut read: HashSet<(u32, i64)> = HashSet::new();
            for m in &t.mops {
                match m {
                    Mop::Read { key, val: Some(v) } => read.extend(version(v).map(|x| (*key, x))),
                    Mop::Write { key, val } if read.contains(&(*key, *val)) => {
                        found.add("future-read", || {
                            self.example(
                                &[id],
                                format!(
                                    "{} read key {} = {val}, a value it writes only afterwards",
                                    self.describe(id),
                                    self.key(*key)
                                ),
                            )
                        });
                        break;
                    }
                    _ => {}
                }
            }
        }
    }

    /// Reads of values no transaction (of any outcome) wrote: the result can
    /// only be unknown, or invalid for what else is found. (Elle takes them
    /// for initial states and says nothing.)
    fn unexplained(&self, found: &mut Found) {
        let written: HashSet<(u32, i64)> = self
            .txns
            .txns
            .iter()
            .flat_map(|t| t.mops.iter())
            .filter_map(|m| match m {
                Mop::Write { key, val } => Some((*key, *val)),
                _ => None,
            })
            .collect();
        for (id, t) in self.txns.committed() {
            for m in &t.mops {
                let Mop::Read { key, val: Some(v) } = m else {
                    continue;
                };
                let Some(x) = version(v) else { continue };
                if !written.contains(&(*key, x)) {
                    found.add("unexplained-element", || self.example(&[id], format!(
                        "{} read key {} = {x}, but no transaction (ok, failed or indeterminate) wrote {x} to it",
                        self.describe(id), self.key(*key)
                    )));
                }
            }
        }
    }

    /// G1a: reads of values a failed txn wrote. G1b: reads of values their
    /// writer overwrote later in the same txn.
    fn aborted_and_intermediate(&self, found: &mut Found) {
        let mut failed: HashMap<(u32, i64), TxnId, FxBuild> = HashMap::default();
        let mut intermediate: HashMap<(u32, i64), TxnId, FxBuild> = HashMap::default();
        for (id, t) in self.txns.txns.iter().enumerate() {
            let mut last: HashMap<u32, i64> = HashMap::new();
            for m in &t.mops {
                if let Mop::Write { key, val } = m {
                    if t.kind == OpType::Fail {
                        failed.insert((*key, *val), id as TxnId);
                    }
                    if let Some(prev) = last.insert(*key, *val) {
                        intermediate.insert((*key, prev), id as TxnId);
                    }
                }
            }
        }
        for (id, t) in self.txns.committed() {
            for m in &t.mops {
                let Mop::Read { key, val: Some(v) } = m else {
                    continue;
                };
                let Some(x) = version(v) else { continue };
                if let Some(&w) = failed.get(&(*key, x)) {
                    found.add("G1a", || self.example(&[id, w], format!(
                        "{} read key {} = {x}, written by {} — a transaction that failed (aborted read)",
                        self.describe(id), self.key(*key), self.describe(w)
                    )));
                }
                if let Some(&w) = intermediate.get(&(*key, x)) {
                    if w != id {
                        found.add("G1b", || self.example(&[id, w], format!(
                            "{} read key {} = {x}, an intermediate write of {} (which wrote that key again afterwards)",
                            self.describe(id), self.key(*key), self.describe(w)
                        )));
                    }
                }
            }
        }
    }

    /// Two committed txns read the same value of a key and both wrote it.
    fn lost_updates(&self, found: &mut Found) {
        let mut by_version: HashMap<(u32, Version), Vec<TxnId>> = HashMap::new();
        for (id, t) in self.txns.committed() {
            let mut read: HashMap<u32, Version> = HashMap::new();
            let mut wrote: HashSet<u32> = HashSet::new();
            for m in &t.mops {
                match m {
                    Mop::Read { key, val: Some(v) } => {
                        read.entry(*key).or_insert(version(v));
                    }
                    Mop::Write { key, .. } if !wrote.contains(key) => {
                        if let Some(v) = read.get(key) {
                            by_version.entry((*key, *v)).or_default().push(id);
                            wrote.insert(*key);
                        }
                    }
                    _ => {}
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

/// Per key, the cycles among its versions (as sorted value lists).
fn cyclic_versions(versions: &Versions) -> Vec<(u32, Vec<Version>)> {
    let mut out = Vec::new();
    let mut keys: Vec<&u32> = versions.keys().collect();
    keys.sort();
    for k in keys {
        let mut ids: HashMap<Version, u32> = HashMap::new();
        let mut names: Vec<Version> = Vec::new();
        let mut id = |v: Version, names: &mut Vec<Version>| {
            *ids.entry(v).or_insert_with(|| {
                names.push(v);
                names.len() as u32 - 1
            })
        };
        let mut edges = Vec::new();
        for (a, bs) in &versions[k] {
            let ia = id(*a, &mut names);
            for b in bs {
                let ib = id(*b, &mut names);
                edges.push((ia, ib, WW));
            }
        }
        for scc in Graph::new(names.len(), edges).sccs() {
            let mut vals: Vec<Version> = scc.iter().map(|n| names[*n as usize]).collect();
            vals.sort();
            out.push((*k, vals));
        }
    }
    out
}

impl Explain for RwRegister<'_> {
    fn txns(&self) -> &Txns {
        self.txns
    }

    fn why(&self, a: TxnId, b: TxnId, kind: u8) -> Option<String> {
        let later = |k: u32, v1: Version, v2: i64| {
            self.versions
                .get(&k)
                .and_then(|m| m.get(&v1))
                .is_some_and(|s| s.contains(&Some(v2)))
        };
        let wb = &self.ext_writes[b as usize];
        match kind {
            WW => self.ext_writes[a as usize].iter().find_map(|(k, v1)| {
                let v2 = get(wb, *k)?;
                later(*k, Some(*v1), v2).then(|| format!(
                    "T{a} set key {} to {v1}, and T{b} set it to {v2}, which came later in the version order",
                    self.key(*k)
                ))
            }),
            RW => self.ext_reads[a as usize].iter().find_map(|(k, v1)| {
                let v2 = get(wb, *k)?;
                later(*k, *v1, v2).then(|| format!(
                    "T{a} read key {} = {}, and T{b} set it to {v2}, which came later in the version order",
                    self.key(*k),
                    show(*v1)
                ))
            }),
            WR => self.ext_reads[b as usize].iter().find_map(|(k, v)| {
                let v = (*v)?;
                (get(&self.ext_writes[a as usize], *k) == Some(v))
                    .then(|| format!("T{b} read key {} = {v}, written by T{a}", self.key(*k)))
            }),
            _ => None,
        }
    }
}
