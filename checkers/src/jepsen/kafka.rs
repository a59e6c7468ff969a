//! Jepsen's kafka/queue checker (`jepsen.tests.kafka`, which Maelstrom's
//! `kafka` workload uses): append-only logs per key, `send` ops that put a
//! message at an offset and `poll` ops that read `[offset, message]` pairs.
//!
//! Ops, one micro-op each as Maelstrom issues them (Jepsen's `txn` with
//! several micro-ops is read the same way):
//! `send` `[["send", k, msg]]` → ok `[["send", k, [offset, msg]]]`;
//! `poll` `[["poll"]]` → ok `[["poll", {k: [[offset, msg], ...]}]]`;
//! `assign` / `subscribe` `[k, ...]` change what a process reads.
//!
//! From every poll (ok, info or fail) and every send that must have
//! committed (ok, or info with a message some ok poll read), each key gets
//! its log: offset → messages. Offsets with two messages are
//! `inconsistent-offsets`; a message at two offsets is a `duplicate`. The
//! log's offsets, gaps removed, give each message an index (the version
//! order), and as Jepsen the analysis reports:
//!
//! - `lost-write`: a committed message that no ok poll read, though it sits
//!   before (at a lower index than) one that was read;
//! - `poll-skip` / `nonmonotonic-poll`: a process's poll starts past / at or
//!   before where its previous ok poll of that key ended (tracking resets
//!   for keys an ok or info `assign` drops; `info`/`fail` polls are
//!   compared but do not move the process on);
//! - `nonmonotonic-send`: a process's send lands at or before its previous
//!   send to that key;
//! - `int-poll-skip` / `int-nonmonotonic-poll`, `int-send-skip` /
//!   `int-nonmonotonic-send`: the same between the messages of one op;
//! - `G1a`: an ok poll read a message whose send failed;
//!   `precommitted-read`: a txn read its own send;
//! - `unseen`: acknowledged messages that no ok poll ever read, with the
//!   count per key and (up to 32 per key) the messages;
//! - `worst_realtime_lag`: the longest a poll stayed behind the log's tail.
//!
//! Verdict as Jepsen's checker: invalid when any error type other than the
//! allowed ones occurs. Allowed: `int-send-skip`, and `poll-skip` and
//! `nonmonotonic-poll` when the history has `subscribe` ops (Jepsen's
//! `:sub-via :subscribe`; Maelstrom only assigns). `unseen` is not allowed,
//! so acknowledged messages that the final polls never read make the
//! history invalid, as Maelstrom users see.
//!
//! Where faultline differs from Jepsen:
//! - no cycle (G0/G1c) analysis over txn dependency graphs, which
//!   Maelstrom's kafka workload (no txns) never needs, and no
//!   `:rebalance-log`; Jepsen's Elle run reports an empty transaction graph
//!   as an error, faultline says `unknown` when no ok poll read a message
//!   and nothing else is wrong;
//! - where Jepsen picks an arbitrary message (of an offset with several,
//!   for the version order; or of a set), faultline picks the smallest;
//! - a message read but never sent cannot be lost (Jepsen throws);
//! - an op with no completion counts as `info` with its invocation's value;
//! - `lost-write`, `G1a` and `precommitted-read` list at most 32 cases
//!   (`count` has them all), as the other types are cut by Jepsen;
//! - keys are reported as strings (an integer key as its decimal text);
//!   skipped messages and `info_txn_causes` are cut at 32.
//!
//! Work is near-linear: keys and messages are interned as integers, the
//! (key, offset, message) triples sorted once, and everything else is
//! arrays indexed by message or one pass per process.

use super::{bad, Elem, Partners, Report};
use crate::datum::Datum;
use crate::error::CheckError;
use crate::history::History;
use crate::op::{Op, OpType, Process};
use crate::verdict::Validity;
use rustc_hash::FxHashMap as HashMap;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// An offset that is not known.
const NONE: i64 = i64::MIN;
/// No op / no index.
const NIL: u32 = u32::MAX;
/// Cases shown of the types Jepsen shows whole.
const SHOWN: usize = 32;

#[derive(Clone, Copy, PartialEq, Eq)]
enum F {
    Send,
    Poll,
    Txn,
    Assign,
    Subscribe,
}

/// One key's messages in one op, in order: `entries[start..end]`.
#[derive(Clone, Copy)]
struct Group {
    k: u32,
    start: u32,
    end: u32,
}

/// A completed kafka op (or one never completed, as `info`).
struct KOp {
    /// Position in the history.
    pos: u32,
    process: u64,
    kind: OpType,
    f: F,
    /// Groups of reads (`rgroups`) and writes (`wgroups`).
    reads: (u32, u32),
    writes: (u32, u32),
    /// Assign/subscribe: the keys (`akeys`).
    keys: (u32, u32),
}

/// A message and its offset (or [`NONE`]).
#[derive(Clone, Copy)]
struct Entry {
    v: u32,
    off: i64,
}

/// The history, interned.
#[derive(Default)]
struct Parsed {
    keys: Vec<Arc<str>>,
    key_ids: HashMap<Arc<str>, u32>,
    /// Each message: its key and the message.
    vals: Vec<(u32, Elem)>,
    /// Integer messages (the usual case) by key, in a table of small
    /// entries; any other message by its [`Elem`].
    int_ids: HashMap<(u32, i64), u32>,
    val_ids: HashMap<(u32, Elem), u32>,
    ops: Vec<KOp>,
    rgroups: Vec<Group>,
    rentries: Vec<Entry>,
    wgroups: Vec<Group>,
    wentries: Vec<Entry>,
    akeys: Vec<u32>,
    subscribes: bool,
    /// Scratch: one op's (key, entry or a key with no entries).
    scratch: Vec<(u32, Option<Entry>)>,
}

impl Parsed {
    fn key(&mut self, d: &Datum, i: usize) -> Result<u32, CheckError> {
        let text: Arc<str> = match d {
            Datum::Str(s) => s.clone(),
            Datum::Int(n) => n.to_string().into(),
            other => {
                return Err(bad(
                    i,
                    format!("expected a key (string or integer), found {other}"),
                ))
            }
        };
        Ok(self.key_str(text))
    }

    fn key_str(&mut self, s: Arc<str>) -> u32 {
        if let Some(&k) = self.key_ids.get(&s) {
            return k;
        }
        let k = self.keys.len() as u32;
        self.keys.push(s.clone());
        self.key_ids.insert(s, k);
        k
    }

    fn val(&mut self, k: u32, e: Elem) -> u32 {
        let n = self.vals.len() as u32;
        if let Elem::Int(m) = e {
            return *self.int_ids.entry((k, m)).or_insert_with(|| {
                self.vals.push((k, e));
                n
            });
        }
        *self.val_ids.entry((k, e.clone())).or_insert_with(|| {
            self.vals.push((k, e));
            n
        })
    }

    /// Groups the scratch entries by key (stable) into `groups`/`entries`.
    fn flush(&mut self, reads: bool) -> (u32, u32) {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.sort_by_key(|s| s.0);
        let (groups, entries) = if reads {
            (&mut self.rgroups, &mut self.rentries)
        } else {
            (&mut self.wgroups, &mut self.wentries)
        };
        let from = groups.len() as u32;
        for (k, e) in scratch.drain(..) {
            if groups.len() as u32 == from || groups.last().is_some_and(|g| g.k != k) {
                let at = entries.len() as u32;
                groups.push(Group {
                    k,
                    start: at,
                    end: at,
                });
            }
            if let Some(e) = e {
                entries.push(e);
                // A group was pushed above: `groups` is not empty.
                groups.last_mut().expect("a group").end += 1;
            }
        }
        self.scratch = scratch;
        (from, groups.len() as u32)
    }

    /// Reads one op's micro-ops.
    fn push(&mut self, op: &Op<Datum>, i: usize, kind: OpType, f: F) -> Result<(), CheckError> {
        let process = op.process.client().unwrap_or(0);
        if matches!(f, F::Assign | F::Subscribe) {
            let from = self.akeys.len() as u32;
            if let Some(list) = op.value.as_list() {
                for k in list.iter() {
                    let k = self.key(&k, i)?;
                    self.akeys.push(k);
                }
            }
            let to = self.akeys.len() as u32;
            self.ops.push(KOp {
                pos: i as u32,
                process,
                kind,
                f,
                reads: (0, 0),
                writes: (0, 0),
                keys: (from, to),
            });
            return Ok(());
        }
        let mops: Arc<[Datum]> = match &op.value {
            Datum::List(mops) => mops.clone(),
            // An info op recorded without its micro-ops, or none.
            Datum::Null => Arc::from([]),
            Datum::Ints(xs) if xs.is_empty() => Arc::from([]),
            other => {
                return Err(bad(
                    i,
                    format!("expected a list of micro-ops, found {other}"),
                ))
            }
        };
        // Writes, then reads.
        for mop in mops.iter() {
            let Datum::List(m) = mop else {
                return Err(bad(i, format!("expected a micro-op [f, ...], found {mop}")));
            };
            if m.first().and_then(Datum::as_str) == Some("send") && m.len() == 3 {
                let k = self.key(&m[1], i)?;
                let (off, msg) = pair(&m[2], i).unwrap_or((NONE, Elem::of(&m[2])));
                let v = self.val(k, msg);
                self.scratch.push((k, Some(Entry { v, off })));
            } else if m.first().and_then(Datum::as_str) != Some("poll") {
                return Err(bad(
                    i,
                    format!("expected a micro-op [\"send\", k, v] or [\"poll\", ...], found {mop}"),
                ));
            }
        }
        let writes = self.flush(false);
        for mop in mops.iter() {
            let Datum::List(m) = mop else { continue };
            if m.first().and_then(Datum::as_str) != Some("poll") {
                continue;
            }
            match m.get(1) {
                None | Some(Datum::Null) => {}
                Some(Datum::Map(by_key)) => {
                    for (key, pairs) in by_key.iter() {
                        let k = self.key_str(key.clone());
                        self.scratch.push((k, None));
                        let list = match pairs {
                            Datum::Null => continue,
                            Datum::List(xs) => xs.clone(),
                            Datum::Ints(xs) if xs.is_empty() => continue,
                            other => {
                                return Err(bad(
                                    i,
                                    format!(
                                    "expected [[offset, msg], ...] for key {key}, found {other}"
                                ),
                                ))
                            }
                        };
                        for p in list.iter() {
                            let (off, msg) = pair(p, i)?;
                            let v = self.val(k, msg);
                            self.scratch.push((k, Some(Entry { v, off })));
                        }
                    }
                }
                Some(other) => {
                    return Err(bad(
                        i,
                        format!(
                            "expected a poll result {{key: [[offset, msg], ...]}}, found {other}"
                        ),
                    ))
                }
            }
        }
        let reads = self.flush(true);
        self.ops.push(KOp {
            pos: i as u32,
            process,
            kind,
            f,
            reads,
            writes,
            keys: (0, 0),
        });
        Ok(())
    }
}

/// An `[offset, msg]` pair (offset `null`: unknown).
fn pair(d: &Datum, i: usize) -> Result<(i64, Elem), CheckError> {
    match d {
        Datum::Ints(xs) if xs.len() == 2 => Ok((xs[0], Elem::Int(xs[1]))),
        Datum::List(xs) if xs.len() == 2 && (xs[0].is_null() || xs[0].as_i64().is_some()) => {
            Ok((xs[0].as_i64().unwrap_or(NONE), Elem::of(&xs[1])))
        }
        other => Err(bad(
            i,
            format!("expected an [offset, msg] pair, found {other}"),
        )),
    }
}

fn kafka_f(f: &str) -> Option<F> {
    Some(match f {
        "send" => F::Send,
        "poll" => F::Poll,
        "txn" => F::Txn,
        "assign" => F::Assign,
        "subscribe" => F::Subscribe,
        _ => return None,
    })
}

fn parse(history: &History<Datum>, partners: &Partners) -> Result<Parsed, CheckError> {
    let mut p = Parsed::default();
    for (i, op) in history.ops().iter().enumerate() {
        if op.process == Process::Nemesis {
            continue;
        }
        let Some(f) = kafka_f(&op.f) else { continue };
        p.subscribes |= f == F::Subscribe;
        match op.kind {
            OpType::Invoke if partners.of(i).is_none() => p.push(op, i, OpType::Info, f)?,
            OpType::Invoke => {}
            kind => p.push(op, i, kind, f)?,
        }
    }
    if p.vals.len() >= NIL as usize || p.ops.len() >= NIL as usize {
        return Err(bad(0, "more than 2^32 messages or ops; not checked".into()));
    }
    Ok(p)
}

/// What the analysis derives per message and per key.
struct Derived {
    read_ok: Vec<bool>,
    sent_ok: Vec<bool>,
    failed: Vec<bool>,
    writer: Vec<u32>,
    first_reader: Vec<u32>,
    /// Per key: `order[order_start[k]..order_start[k+1]]` is the version
    /// order (one message per dense index).
    order: Vec<u32>,
    order_start: Vec<u32>,
    by_value: Vec<u32>,
    first_idx: Vec<u32>,
    last_idx: Vec<u32>,
}

/// One case of a pairwise error (skip or nonmonotonic): values `v1` then
/// `v2` of key `k`, in ops `a` (or none) then `b`.
struct Case {
    k: u32,
    v1: u32,
    v2: u32,
    delta: i64,
    a: u32,
    b: u32,
}

/// The checker's findings, before they are rendered.
#[derive(Default)]
struct Errors {
    inconsistent: Vec<(u32, i64, u32, Vec<u32>)>,
    duplicate: Vec<(u32, u32, Vec<i64>)>,
    lost: Vec<(u32, u32, u32, u32, u32, u32)>,
    poll_skip: Vec<Case>,
    nm_poll: Vec<Case>,
    nm_send: Vec<Case>,
    int_poll_skip: Vec<Case>,
    int_nm_poll: Vec<Case>,
    int_send_skip: Vec<Case>,
    int_nm_send: Vec<Case>,
    g1a: Vec<(u32, u32)>,
    precommitted: Vec<(u32, u32)>,
}

impl Parsed {
    fn rgroups(&self, o: &KOp) -> &[Group] {
        &self.rgroups[o.reads.0 as usize..o.reads.1 as usize]
    }
    fn wgroups(&self, o: &KOp) -> &[Group] {
        &self.wgroups[o.writes.0 as usize..o.writes.1 as usize]
    }
    fn rentries(&self, g: &Group) -> &[Entry] {
        &self.rentries[g.start as usize..g.end as usize]
    }
    fn wentries(&self, g: &Group) -> &[Entry] {
        &self.wentries[g.start as usize..g.end as usize]
    }
    fn elem(&self, v: u32) -> &Elem {
        &self.vals[v as usize].1
    }
}

/// Jepsen's `must-have-committed?`.
fn committed(p: &Parsed, read_ok: &[bool], o: &KOp) -> bool {
    o.kind == OpType::Ok
        || (o.kind == OpType::Info
            && p.wgroups(o)
                .iter()
                .any(|g| p.wentries(g).iter().any(|e| read_ok[e.v as usize])))
}

fn derive(p: &Parsed, errs: &mut Errors) -> Derived {
    let n = p.vals.len();
    let mut d = Derived {
        read_ok: vec![false; n],
        sent_ok: vec![false; n],
        failed: vec![false; n],
        writer: vec![NIL; n],
        first_reader: vec![NIL; n],
        order: Vec::new(),
        order_start: Vec::with_capacity(p.keys.len() + 1),
        by_value: vec![NIL; n],
        first_idx: vec![NIL; n],
        last_idx: vec![NIL; n],
    };
    for (x, o) in p.ops.iter().enumerate() {
        for g in p.rgroups(o) {
            for e in p.rentries(g) {
                let v = e.v as usize;
                if o.kind == OpType::Ok {
                    d.read_ok[v] = true;
                }
                if d.first_reader[v] == NIL {
                    d.first_reader[v] = x as u32;
                }
            }
        }
        for g in p.wgroups(o) {
            for e in p.wentries(g) {
                let v = e.v as usize;
                d.writer[v] = x as u32;
                match o.kind {
                    OpType::Ok => d.sent_ok[v] = true,
                    OpType::Fail => d.failed[v] = true,
                    _ => {}
                }
            }
        }
    }
    // The logs: (key, offset, message), sorted once.
    let mut triples: Vec<(u32, i64, u32)> = Vec::new();
    for o in &p.ops {
        for g in p.rgroups(o) {
            triples.extend(
                p.rentries(g)
                    .iter()
                    .filter(|e| e.off != NONE)
                    .map(|e| (g.k, e.off, e.v)),
            );
        }
        if committed(p, &d.read_ok, o) {
            for g in p.wgroups(o) {
                triples.extend(
                    p.wentries(g)
                        .iter()
                        .filter(|e| e.off != NONE)
                        .map(|e| (g.k, e.off, e.v)),
                );
            }
        }
    }
    let cmp = |a: &(u32, i64, u32), b: &(u32, i64, u32)| {
        (a.0, a.1)
            .cmp(&(b.0, b.1))
            .then_with(|| p.elem(a.2).cmp(p.elem(b.2)))
    };
    triples.sort_unstable_by(cmp);
    triples.dedup();
    let mut count = vec![0u32; n];
    let mut t = 0;
    for k in 0..p.keys.len() as u32 {
        d.order_start.push(d.order.len() as u32);
        let mut index = 0u32;
        while t < triples.len() && triples[t].0 == k {
            let off = triples[t].1;
            let mut u = t;
            while u < triples.len() && triples[u].0 == k && triples[u].1 == off {
                let v = triples[u].2 as usize;
                count[v] += 1;
                if d.first_idx[v] == NIL {
                    d.first_idx[v] = index;
                }
                d.last_idx[v] = index;
                u += 1;
            }
            let chosen = triples[t].2;
            d.order.push(chosen);
            d.by_value[chosen as usize] = index;
            if u - t > 1 {
                errs.inconsistent.push((
                    k,
                    off,
                    index,
                    triples[t..u].iter().map(|x| x.2).collect(),
                ));
            }
            index += 1;
            t = u;
        }
    }
    d.order_start.push(d.order.len() as u32);
    // Duplicates: messages at more than one offset.
    let mut dup_at: HashMap<u32, usize> = HashMap::default();
    for &(k, off, v) in &triples {
        if count[v as usize] > 1 {
            let next = errs.duplicate.len();
            let at = *dup_at.entry(v).or_insert(next);
            if at == next {
                errs.duplicate.push((k, v, Vec::new()));
            }
            errs.duplicate[at].2.push(off);
        }
    }
    d
}

impl Derived {
    fn index(&self, v: u32) -> Option<i64> {
        let i = self.by_value[v as usize];
        (i != NIL).then_some(i as i64)
    }

    /// Jepsen's delta between two messages: their index difference, or 1
    /// when either is not in the version order.
    fn delta(&self, v1: u32, v2: u32) -> i64 {
        match (self.index(v1), self.index(v2)) {
            (Some(a), Some(b)) => b - a,
            _ => 1,
        }
    }

    fn skipped(&self, k: u32, v1: u32, v2: u32) -> &[u32] {
        let base = self.order_start[k as usize] as usize;
        match (self.index(v1), self.index(v2)) {
            (Some(a), Some(b)) if b > a + 1 => {
                &self.order[base + a as usize + 1..base + b as usize]
            }
            _ => &[],
        }
    }
}

fn lost_writes(p: &Parsed, d: &Derived, errs: &mut Errors) {
    let nk = p.keys.len();
    let mut bound: Vec<i64> = vec![-1; nk];
    for (v, &(k, _)) in p.vals.iter().enumerate() {
        if d.read_ok[v] && d.first_idx[v] != NIL {
            bound[k as usize] = bound[k as usize].max(d.first_idx[v] as i64);
        }
    }
    // The message whose last index is the bound, to show who read it.
    let mut at_bound: Vec<u32> = vec![NIL; nk];
    for (v, &(k, ref e)) in p.vals.iter().enumerate() {
        let b = bound[k as usize];
        if d.last_idx[v] != NIL && d.last_idx[v] as i64 == b {
            let cur = at_bound[k as usize];
            if cur == NIL || e < p.elem(cur) {
                at_bound[k as usize] = v as u32;
            }
        }
    }
    for (v, &(k, _)) in p.vals.iter().enumerate() {
        let b = bound[k as usize];
        let last = d.last_idx[v];
        if last == NIL || last as i64 > b || d.read_ok[v] {
            continue;
        }
        let w = d.writer[v];
        if w == NIL || !committed(p, &d.read_ok, &p.ops[w as usize]) {
            continue;
        }
        let max_read = match at_bound[k as usize] {
            NIL => NIL,
            m => d.first_reader[m as usize],
        };
        errs.lost
            .push((k, v as u32, d.first_idx[v], b as u32, w, max_read));
    }
    errs.lost.sort_by(|a, b| {
        (a.0, d.last_idx[a.1 as usize])
            .cmp(&(b.0, d.last_idx[b.1 as usize]))
            .then_with(|| p.elem(a.1).cmp(p.elem(b.1)))
    });
}

/// Ops of each process, in history order.
fn by_process(p: &Parsed) -> Vec<u32> {
    let mut xs: Vec<u32> = (0..p.ops.len() as u32).collect();
    xs.sort_by_key(|&x| p.ops[x as usize].process);
    xs
}

/// Restricts `last` to the keys of an assign/subscribe that took effect.
fn reassign(p: &Parsed, o: &KOp, last: &mut HashMap<u32, u32>) {
    if matches!(o.kind, OpType::Ok | OpType::Info) {
        let keep = &p.akeys[o.keys.0 as usize..o.keys.1 as usize];
        last.retain(|k, _| keep.contains(k));
    }
}

fn external(p: &Parsed, d: &Derived, errs: &mut Errors) {
    let order = by_process(p);
    let mut last_read: HashMap<u32, u32> = HashMap::default();
    let mut last_send: HashMap<u32, u32> = HashMap::default();
    let mut process = None;
    for &x in &order {
        let o = &p.ops[x as usize];
        if process != Some(o.process) {
            process = Some(o.process);
            last_read.clear();
            last_send.clear();
        }
        match o.f {
            F::Assign | F::Subscribe => {
                reassign(p, o, &mut last_read);
                reassign(p, o, &mut last_send);
                continue;
            }
            F::Poll | F::Txn => {
                for g in p.rgroups(o) {
                    let Some(&prev) = last_read.get(&g.k) else {
                        continue;
                    };
                    let (Some(v), Some(v2)) = (
                        last_of(p, &p.ops[prev as usize], g.k, true),
                        p.rentries(g).first().map(|e| e.v),
                    ) else {
                        continue;
                    };
                    let delta = d.delta(v, v2);
                    let case = Case {
                        k: g.k,
                        v1: v,
                        v2,
                        delta,
                        a: prev,
                        b: x,
                    };
                    if delta > 1 {
                        errs.poll_skip.push(case);
                    } else if delta < 1 {
                        errs.nm_poll.push(case);
                    }
                }
                if o.kind == OpType::Ok {
                    for g in p.rgroups(o) {
                        last_read.insert(g.k, x);
                    }
                }
            }
            F::Send => {}
        }
        if matches!(o.f, F::Send | F::Txn) && matches!(o.kind, OpType::Ok | OpType::Info) {
            for g in p.wgroups(o) {
                if let Some(&prev) = last_send.get(&g.k) {
                    if let (Some(v), Some(v2)) = (
                        last_of(p, &p.ops[prev as usize], g.k, false),
                        p.wentries(g).first().map(|e| e.v),
                    ) {
                        let delta = d.delta(v, v2);
                        if delta < 1 {
                            errs.nm_send.push(Case {
                                k: g.k,
                                v1: v,
                                v2,
                                delta,
                                a: prev,
                                b: x,
                            });
                        }
                    }
                }
                last_send.insert(g.k, x);
            }
        }
    }
}

/// The last message of key `k` an op read (or sent).
fn last_of(p: &Parsed, o: &KOp, k: u32, reads: bool) -> Option<u32> {
    if reads {
        p.rgroups(o)
            .iter()
            .find(|g| g.k == k)
            .and_then(|g| p.rentries(g).last())
            .map(|e| e.v)
    } else {
        p.wgroups(o)
            .iter()
            .find(|g| g.k == k)
            .and_then(|g| p.wentries(g).last())
            .map(|e| e.v)
    }
}

/// Consecutive messages of key `k` within op `x` that skip (`skip`) or
/// go backwards or repeat (`nm`) in the key's log order.
fn within_op(
    d: &Derived,
    k: u32,
    entries: &[Entry],
    x: usize,
    skip: &mut Vec<Case>,
    nm: &mut Vec<Case>,
) {
    for w in entries.windows(2) {
        let delta = d.delta(w[0].v, w[1].v);
        let case = Case {
            k,
            v1: w[0].v,
            v2: w[1].v,
            delta,
            a: NIL,
            b: x as u32,
        };
        if delta > 1 {
            skip.push(case);
        } else if delta < 1 {
            nm.push(case);
        }
    }
}

fn internal(p: &Parsed, d: &Derived, errs: &mut Errors) {
    for (x, o) in p.ops.iter().enumerate() {
        for g in p.rgroups(o) {
            let (skip, nm) = (&mut errs.int_poll_skip, &mut errs.int_nm_poll);
            within_op(d, g.k, p.rentries(g), x, skip, nm);
        }
        for g in p.wgroups(o) {
            let (skip, nm) = (&mut errs.int_send_skip, &mut errs.int_nm_send);
            within_op(d, g.k, p.wentries(g), x, skip, nm);
        }
        for g in p.rgroups(o) {
            if o.kind == OpType::Ok {
                for e in p.rentries(g) {
                    if d.failed[e.v as usize] {
                        errs.g1a.push((e.v, x as u32));
                    }
                }
            }
        }
        if o.f == F::Txn {
            'keys: for g in p.wgroups(o) {
                for e in p.wentries(g) {
                    if last_of(p, o, g.k, true).is_some()
                        && p.rgroups(o)
                            .iter()
                            .filter(|r| r.k == g.k)
                            .any(|r| p.rentries(r).iter().any(|r| r.v == e.v))
                    {
                        errs.precommitted.push((e.v, x as u32));
                        continue 'keys;
                    }
                }
            }
        }
    }
}

/// Each key's highest offset an op knew of (Jepsen's `op->max-offsets`).
fn max_offsets(p: &Parsed, o: &KOp, out: &mut Vec<(u32, i64)>) {
    out.clear();
    let mut put = |k: u32, off: i64| match out.iter_mut().find(|x| x.0 == k) {
        Some(x) => x.1 = x.1.max(off),
        None => out.push((k, off)),
    };
    for g in p.rgroups(o) {
        put(
            g.k,
            p.rentries(g)
                .iter()
                .map(|e| e.off)
                .filter(|&o| o != NONE)
                .fold(-1, i64::max),
        );
    }
    for g in p.wgroups(o) {
        for e in p.wentries(g).iter().filter(|e| e.off != NONE) {
            put(g.k, e.off.max(0));
        }
    }
}

/// The worst realtime lag (Jepsen's `realtime-lag`): invoke time,
/// process, key and lag in ns of the ok poll furthest behind the tail.
fn worst_lag(p: &Parsed, ops: &[Op<Datum>], partners: &Partners) -> Option<(i64, u64, u32, i64)> {
    // Per key, in history order, each new highest offset known and when:
    // offset j stopped being the tail when the first op knew of j + 1.
    let mut known: Vec<Vec<(i64, i64)>> = vec![Vec::new(); p.keys.len()];
    let mut offs = Vec::new();
    for o in p
        .ops
        .iter()
        .filter(|o| matches!(o.kind, OpType::Ok | OpType::Info))
    {
        max_offsets(p, o, &mut offs);
        for &(k, off) in &offs {
            let recs = &mut known[k as usize];
            if off >= 0 && recs.last().is_none_or(|r| r.0 < off) {
                recs.push((off, ops[o.pos as usize].time));
            }
        }
    }
    let expired = |k: u32, j: i64| -> Option<i64> {
        let recs = &known[k as usize];
        recs.get(recs.partition_point(|r| r.0 < j)).map(|r| r.1)
    };
    let mut at: HashMap<u64, Vec<(u32, i64)>> = HashMap::default();
    let mut worst: Option<(i64, u64, u32, i64)> = None;
    for o in p.ops.iter().filter(|o| o.kind == OpType::Ok) {
        let mine = at.entry(o.process).or_default();
        match o.f {
            F::Assign => {
                let keys = &p.akeys[o.keys.0 as usize..o.keys.1 as usize];
                let mut next: Vec<(u32, i64)> = keys.iter().map(|&k| (k, -1)).collect();
                for x in next.iter_mut() {
                    if let Some(m) = mine.iter().find(|m| m.0 == x.0) {
                        x.1 = m.1;
                    }
                }
                *mine = next;
            }
            F::Subscribe => mine.clear(),
            F::Poll | F::Txn => {
                max_offsets(p, o, &mut offs);
                for &(k, off) in &offs {
                    match mine.iter_mut().find(|m| m.0 == k) {
                        Some(m) => m.1 = m.1.max(off),
                        None => mine.push((k, off)),
                    }
                }
                let invoked = ops[partners.of(o.pos as usize).unwrap_or(o.pos as usize)].time;
                for &(k, off) in mine.iter() {
                    let lag = expired(k, off + 1).map_or(0, |t| (invoked - t).max(0));
                    if worst.is_none_or(|w| lag > w.3) {
                        worst = Some((invoked, o.process, k, lag));
                    }
                }
            }
            F::Send => {}
        }
    }
    worst
}

/// Jepsen's condensing: the 8 lowest deltas (nonmonotonic) or the 8
/// highest (skips).
fn condense(mut cases: Vec<Case>, highest: bool) -> (usize, Vec<Case>) {
    let n = cases.len();
    cases.sort_by_key(|c| c.delta);
    if highest {
        cases.drain(..n.saturating_sub(8));
    } else {
        cases.truncate(8);
    }
    (n, cases)
}

/// Renders results: ops whole, messages as themselves, keys as strings.
struct Render<'a> {
    p: &'a Parsed,
    d: &'a Derived,
    ops: &'a [Op<Datum>],
}

impl Render<'_> {
    fn op(&self, x: u32) -> Value {
        match x {
            NIL => Value::Null,
            x => serde_json::to_value(&self.ops[self.p.ops[x as usize].pos as usize])
                .unwrap_or(Value::Null),
        }
    }
    fn key(&self, k: u32) -> Value {
        json!(&*self.p.keys[k as usize])
    }
    fn val(&self, v: u32) -> Value {
        serde_json::to_value(self.p.elem(v)).unwrap_or(Value::Null)
    }
    fn vals(&self, vs: &[u32]) -> Value {
        Value::Array(vs.iter().map(|&v| self.val(v)).collect())
    }
    fn case(&self, c: &Case, values: bool, skipped: bool) -> Value {
        let mut m = Map::new();
        m.insert("key".into(), self.key(c.k));
        if values {
            m.insert("values".into(), self.vals(&[c.v1, c.v2]));
        }
        m.insert("delta".into(), json!(c.delta));
        if skipped {
            let s = self.d.skipped(c.k, c.v1, c.v2);
            m.insert("skipped".into(), self.vals(&s[..s.len().min(SHOWN)]));
        }
        if c.a == NIL {
            m.insert("op".into(), self.op(c.b));
        } else {
            m.insert("ops".into(), json!([self.op(c.a), self.op(c.b)]));
        }
        Value::Object(m)
    }
    fn cases(&self, cases: Vec<Case>, skip: bool, values: bool) -> Value {
        let (n, shown) = condense(cases, skip);
        let errs: Vec<Value> = shown.iter().map(|c| self.case(c, values, skip)).collect();
        json!({"count": n, "errs": errs})
    }
}

/// Checks a kafka history (see the module documentation).
pub fn check(history: &History<Datum>) -> Result<Report, CheckError> {
    let ops = history.ops();
    let partners = Partners::new(history)?;
    let p = parse(history, &partners)?;
    let mut errs = Errors::default();
    let d = derive(&p, &mut errs);
    lost_writes(&p, &d, &mut errs);
    external(&p, &d, &mut errs);
    internal(&p, &d, &mut errs);
    let lag = worst_lag(&p, ops, &partners);
    // Unseen: acknowledged, never read by an ok poll.
    let mut unseen: Vec<Vec<u32>> = vec![Vec::new(); p.keys.len()];
    for (v, &(k, _)) in p.vals.iter().enumerate() {
        if d.sent_ok[v] && !d.read_ok[v] {
            unseen[k as usize].push(v as u32);
        }
    }
    let r = Render { p: &p, d: &d, ops };
    let mut out = Map::new();
    let mut lines = Vec::new();
    let mut types: Vec<&'static str> = Vec::new();
    let mut put = |out: &mut Map<String, Value>, name: &'static str, n: usize, v: Value| {
        if n > 0 {
            types.push(name);
            out.insert(name.replace('-', "_"), v);
        }
    };
    let Errors {
        inconsistent,
        mut duplicate,
        lost,
        poll_skip,
        nm_poll,
        nm_send,
        int_poll_skip,
        int_nm_poll,
        int_send_skip,
        int_nm_send,
        g1a,
        precommitted,
    } = errs;
    let mut inconsistent = inconsistent;
    let n = inconsistent.len();
    inconsistent.sort_by_key(|x| x.3.len());
    let shown: Vec<Value> = inconsistent.iter().take(SHOWN).map(|(k, off, idx, vs)| json!({"key": r.key(*k), "offset": off, "index": idx, "values": r.vals(vs)})).collect();
    put(
        &mut out,
        "inconsistent-offsets",
        n,
        json!({"count": n, "errs": shown}),
    );
    let n = duplicate.len();
    duplicate.sort_by_key(|x| x.2.len());
    let shown: Vec<Value> = duplicate.iter().take(SHOWN).map(|(k, v, offs)| json!({"key": r.key(*k), "value": r.val(*v), "count": offs.len(), "offsets": offs})).collect();
    put(&mut out, "duplicate", n, json!({"count": n, "errs": shown}));
    let n = lost.len();
    let shown: Vec<Value> = lost.iter().take(SHOWN).map(|&(k, v, idx, bound, w, mr)| json!({"key": r.key(k), "value": r.val(v), "index": idx, "max_read_index": bound, "writer": r.op(w), "max_read": r.op(mr)})).collect();
    if n > 0 {
        lines.push(format!("lost-write: {n} acknowledged messages never read though later ones were, e.g. {} of key {}", p.elem(lost[0].1).key(), p.keys[lost[0].0 as usize]));
    }
    put(
        &mut out,
        "lost-write",
        n,
        json!({"count": n, "errs": shown}),
    );
    let n = g1a.len();
    let shown: Vec<Value> = g1a.iter().take(SHOWN).map(|&(v, x)| json!({"key": r.key(p.vals[v as usize].0), "value": r.val(v), "writer": r.op(d.writer[v as usize]), "reader": r.op(x)})).collect();
    put(&mut out, "G1a", n, json!({"count": n, "errs": shown}));
    let n = precommitted.len();
    let shown: Vec<Value> = precommitted
        .iter()
        .take(SHOWN)
        .map(
            |&(v, x)| json!({"key": r.key(p.vals[v as usize].0), "value": r.val(v), "op": r.op(x)}),
        )
        .collect();
    put(
        &mut out,
        "precommitted-read",
        n,
        json!({"count": n, "errs": shown}),
    );
    for (name, cases, skip, values) in [
        ("poll-skip", poll_skip, true, false),
        ("nonmonotonic-poll", nm_poll, false, true),
        ("nonmonotonic-send", nm_send, false, true),
        ("int-poll-skip", int_poll_skip, true, true),
        ("int-nonmonotonic-poll", int_nm_poll, false, true),
        ("int-send-skip", int_send_skip, true, true),
        ("int-nonmonotonic-send", int_nm_send, false, true),
    ] {
        let n = cases.len();
        if n > 0 {
            let c = &cases[0];
            lines.push(format!(
                "{name}: {n} cases, e.g. key {} from {} to {} (delta {})",
                p.keys[c.k as usize],
                p.elem(c.v1).key(),
                p.elem(c.v2).key(),
                c.delta
            ));
        }
        let v = if n > 0 {
            r.cases(cases, skip, values)
        } else {
            Value::Null
        };
        put(&mut out, name, n, v);
    }
    for (name, n) in [
        ("inconsistent-offsets", n_of(&out, "inconsistent_offsets")),
        ("duplicate", n_of(&out, "duplicate")),
        ("G1a", n_of(&out, "G1a")),
        ("precommitted-read", n_of(&out, "precommitted_read")),
    ] {
        if n > 0 {
            lines.push(format!("{name}: {n} cases"));
        }
    }
    let unseen_total: usize = unseen.iter().map(Vec::len).sum();
    if unseen_total > 0 {
        let mut counts = Map::new();
        let mut messages = Map::new();
        for (k, vs) in unseen
            .iter_mut()
            .enumerate()
            .filter(|(_, vs)| !vs.is_empty())
        {
            vs.sort_by(|a, b| p.elem(*a).cmp(p.elem(*b)));
            counts.insert(p.keys[k].to_string(), json!(vs.len()));
            messages.insert(p.keys[k].to_string(), r.vals(&vs[..vs.len().min(SHOWN)]));
            if lines.len() < 12 {
                let shown: Vec<Elem> = vs.iter().map(|&v| p.elem(v).clone()).collect();
                lines.push(format!(
                    "unseen: key {}: {} acknowledged messages never polled: {}",
                    p.keys[k],
                    vs.len(),
                    super::interval_set_shown(&shown)
                ));
            }
        }
        let time = p
            .ops
            .iter()
            .rev()
            .find(|o| o.kind == OpType::Ok && matches!(o.f, F::Send | F::Poll | F::Txn))
            .map_or(0, |o| ops[o.pos as usize].time);
        put(
            &mut out,
            "unseen",
            unseen_total,
            json!({"time": time, "unseen": counts, "messages": messages}),
        );
    }
    types.sort_unstable();
    let allowed = |t: &&str| {
        *t == "int-send-skip" || (p.subscribes && matches!(*t, "poll-skip" | "nonmonotonic-poll"))
    };
    let bad_types: Vec<&str> = types.iter().copied().filter(|t| !allowed(t)).collect();
    let read_any = d.read_ok.iter().any(|&b| b);
    let valid = if !bad_types.is_empty() {
        Validity::Invalid
    } else if !read_any {
        Validity::Unknown
    } else {
        Validity::Valid
    };
    let secs = |ns: i64| ns as f64 / 1e9;
    let worst = match lag {
        Some((t, proc_, k, l)) => {
            json!({"time": secs(t), "process": proc_, "key": r.key(k), "lag": secs(l)})
        }
        None => json!({"time": 0, "lag": 0}),
    };
    // Why ops ended indeterminate: the first 32 distinct errors (null for
    // none), in history order.
    let mut causes: Vec<Option<&str>> = Vec::new();
    let mut seen_causes: rustc_hash::FxHashSet<Option<&str>> = Default::default();
    for o in ops
        .iter()
        .filter(|o| o.kind == OpType::Info && matches!(&*o.f, "send" | "poll" | "txn"))
    {
        let e = o.error.as_deref();
        if causes.len() < SHOWN && seen_causes.insert(e) {
            causes.push(e);
        }
    }
    let count = |f: F, kind: Option<OpType>| {
        p.ops
            .iter()
            .filter(|o| o.f == f && kind.is_none_or(|k| o.kind == k))
            .count()
    };
    let (sends, polls) = (
        count(F::Send, None) + count(F::Txn, None),
        count(F::Poll, None),
    );
    lines.insert(
        0,
        format!(
            "{sends} sends ({} ok), {polls} polls ({} ok) over {} keys and {} messages; {}",
            count(F::Send, Some(OpType::Ok)),
            count(F::Poll, Some(OpType::Ok)),
            p.keys.len(),
            p.vals.len(),
            if types.is_empty() {
                "no errors".to_string()
            } else {
                format!("errors: {}", types.join(", "))
            }
        ),
    );
    if valid == Validity::Unknown {
        lines.push(
            "unknown: no ok poll read any message, so nothing was checked against what was sent"
                .into(),
        );
        out.insert("reason".into(), json!("no ok poll read any message"));
    }
    let mut res = Map::new();
    res.insert(
        "valid".into(),
        serde_json::to_value(valid).unwrap_or(Value::Null),
    );
    res.insert("error_types".into(), json!(types));
    res.insert("bad_error_types".into(), json!(bad_types));
    res.insert("info_txn_causes".into(), json!(causes));
    res.insert("worst_realtime_lag".into(), worst);
    res.insert("send_count".into(), json!(sends));
    res.insert("poll_count".into(), json!(polls));
    res.insert("key_count".into(), json!(p.keys.len()));
    res.insert("message_count".into(), json!(p.vals.len()));
    res.extend(out);
    Ok(Report::new(valid, &Value::Object(res), lines))
}

fn n_of(out: &Map<String, Value>, field: &str) -> usize {
    out.get(field)
        .and_then(|v| v["count"].as_u64())
        .unwrap_or(0) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::jsonl;
    use serde_json::json;
    use std::path::Path;

    /// A history of `(process, type, f, value)` ops, timed by position.
    fn h(ops: &[(u64, &str, &str, Value)]) -> History<Datum> {
        let mut text = String::new();
        for (i, (p, t, f, v)) in ops.iter().enumerate() {
            text.push_str(
                &json!({"index": i, "time": i, "process": p, "type": t, "f": f, "value": v})
                    .to_string(),
            );
            text.push('\n');
        }
        jsonl::read_as::<Datum>(Path::new("kafka.jsonl"), &text).unwrap()
    }

    fn run(ops: &[(u64, &str, &str, Value)]) -> Report {
        check(&h(ops)).unwrap()
    }

    /// The cases of one error type, with ops reduced to their positions.
    fn errs(r: &Report, field: &str) -> Vec<Value> {
        let mut es = r.json[field]["errs"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for e in es.iter_mut() {
            for f in ["op", "writer", "max_read", "reader"] {
                if let Some(o) = e.get(f).cloned() {
                    e[f] = o["index"].clone();
                }
            }
            if let Some(os) = e.get("ops").and_then(Value::as_array).cloned() {
                e["ops"] = os.iter().map(|o| o["index"].clone()).collect();
            }
        }
        es
    }

    fn types(r: &Report) -> Vec<String> {
        serde_json::from_value(r.json["error_types"].clone()).unwrap()
    }

    #[test]
    fn lost_write_consistent() {
        let r = run(&[
            (0, "invoke", "send", json!([["send", "x", "a"]])),
            (0, "ok", "send", json!([["send", "x", [0, "a"]]])),
            (
                0,
                "invoke",
                "send",
                json!([["send", "x", "b"], ["send", "x", "d"]]),
            ),
            (
                0,
                "ok",
                "send",
                json!([["send", "x", [1, "b"]], ["send", "x", [3, "d"]]]),
            ),
            (1, "invoke", "send", json!([["send", "x", "c"]])),
            (1, "info", "send", json!([["send", "x", "c"]])),
            (0, "invoke", "poll", json!([["poll"]])),
            (0, "ok", "poll", json!([["poll", {"x": [[2, "c"]]}]])),
        ]);
        assert_eq!(r.json["info_txn_causes"], json!([null]));
        assert_eq!(
            errs(&r, "lost_write"),
            vec![
                json!({"key": "x", "value": "a", "index": 0, "max_read_index": 2, "writer": 1, "max_read": 7}),
                json!({"key": "x", "value": "b", "index": 1, "max_read_index": 2, "writer": 3, "max_read": 7}),
            ]
        );
        assert_eq!(r.valid, Validity::Invalid);
        assert!(r.json["bad_error_types"]
            .as_array()
            .unwrap()
            .contains(&json!("lost-write")));
    }

    #[test]
    fn lost_write_inconsistent_offsets() {
        let r = run(&[
            (0, "invoke", "send", json!([["send", "x", "a"]])),
            (0, "ok", "send", json!([["send", "x", [0, "a"]]])),
            (
                0,
                "invoke",
                "send",
                json!([["send", "x", "b"], ["send", "x", "c"]]),
            ),
            (
                0,
                "ok",
                "send",
                json!([["send", "x", [0, "b"]], ["send", "x", [2, "c"]]]),
            ),
            (0, "invoke", "poll", json!([["poll"]])),
            (
                0,
                "ok",
                "poll",
                json!([["poll", {"x": [[0, "b"], [2, "c"]]}]]),
            ),
        ]);
        assert_eq!(
            errs(&r, "lost_write"),
            vec![
                json!({"key": "x", "value": "a", "index": 0, "max_read_index": 1, "writer": 1, "max_read": 5})
            ]
        );
        assert_eq!(
            errs(&r, "inconsistent_offsets"),
            vec![json!({"key": "x", "offset": 0, "index": 0, "values": ["a", "b"]})]
        );
    }

    #[test]
    fn lost_write_atomic_info_send() {
        let send_ab = [
            (
                0,
                "invoke",
                "send",
                json!([["send", "x", "a"], ["send", "y", "b"]]),
            ),
            (
                0,
                "info",
                "send",
                json!([["send", "x", "a"], ["send", "y", [0, "b"]]]),
            ),
            (1, "invoke", "send", json!([["send", "y", "c"]])),
            (1, "info", "send", json!([["send", "y", "c"]])),
        ];
        let poll_a = [
            (2, "invoke", "poll", json!([["poll"]])),
            (2, "ok", "poll", json!([["poll", {"x": [[0, "a"]]}]])),
        ];
        let poll_c = [
            (3, "invoke", "poll", json!([["poll"]])),
            (3, "ok", "poll", json!([["poll", {"y": [[1, "c"]]}]])),
        ];
        let without: Vec<_> = send_ab.iter().chain(&poll_c).cloned().collect();
        assert!(errs(&run(&without), "lost_write").is_empty());
        let with: Vec<_> = send_ab
            .iter()
            .chain(&poll_a)
            .chain(&poll_c)
            .cloned()
            .collect();
        assert_eq!(
            errs(&run(&with), "lost_write"),
            vec![
                json!({"key": "y", "value": "b", "index": 0, "max_read_index": 1, "writer": 1, "max_read": 7})
            ]
        );
    }

    /// Jepsen's poll-skip test; `mid` goes between polls 3 and 4 of
    /// process 0, `late` between poll 4 and the send of f.
    fn poll_skip_history(
        mid: &[(u64, &str, &str, Value)],
        late: &[(u64, &str, &str, Value)],
    ) -> Report {
        let mut ops = vec![
            (0, "invoke", "poll", json!([["poll"]])),
            (
                0,
                "ok",
                "poll",
                json!([["poll", {"x": [[1, "a"], [2, "b"]]}]]),
            ),
            (1, "invoke", "poll", json!([["poll"]])),
            (1, "ok", "poll", json!([["poll", {"x": [[3, "c"]]}]])),
        ];
        ops.extend_from_slice(mid);
        ops.push((0, "invoke", "poll", json!([["poll"]])));
        ops.push((0, "ok", "poll", json!([["poll", {"x": [[4, "d"]]}]])));
        ops.extend_from_slice(late);
        ops.extend([
            (2, "invoke", "send", json!([["send", "x", "f"]])),
            (2, "ok", "send", json!([["send", "x", [6, "f"]]])),
            (0, "invoke", "poll", json!([["poll"]])),
            (0, "ok", "poll", json!([["poll", {"x": [[7, "g"]]}]])),
            (
                3,
                "invoke",
                "send",
                json!([
                    ["send", "x", "a"],
                    ["send", "x", "b"],
                    ["send", "x", "c"],
                    ["send", "x", "d"],
                    ["send", "x", "g"]
                ]),
            ),
            (
                3,
                "info",
                "send",
                json!([
                    ["send", "x", "a"],
                    ["send", "x", "b"],
                    ["send", "x", "c"],
                    ["send", "x", "d"],
                    ["send", "x", "g"]
                ]),
            ),
        ]);
        run(&ops)
    }

    #[test]
    fn poll_skip() {
        let r = poll_skip_history(&[], &[]);
        let skips = errs(&r, "poll_skip");
        assert_eq!(
            skips,
            vec![
                json!({"key": "x", "delta": 2, "skipped": ["c"], "ops": [1, 5]}),
                json!({"key": "x", "delta": 2, "skipped": ["f"], "ops": [5, 9]}),
            ]
        );
        assert_eq!(r.valid, Validity::Invalid);
        // An assign (ok or info) without x resets the tracking of x.
        let sub_y = [
            (0, "invoke", "subscribe", json!(["y"])),
            (0, "ok", "subscribe", json!(["y"])),
        ];
        let assign_y = [
            (0, "invoke", "assign", json!(["y"])),
            (0, "info", "assign", json!(["y"])),
        ];
        assert!(errs(&poll_skip_history(&sub_y, &assign_y), "poll_skip").is_empty());
        // But one that keeps x keeps it.
        let sub_xy = [
            (0, "invoke", "subscribe", json!(["x", "y"])),
            (0, "ok", "subscribe", json!(["x", "y"])),
        ];
        let assign_xy = [
            (0, "invoke", "assign", json!(["x", "y"])),
            (0, "ok", "assign", json!(["x", "y"])),
        ];
        let r = poll_skip_history(&sub_xy, &assign_xy);
        assert_eq!(errs(&r, "poll_skip").len(), 2);
        // With subscribe in the history, poll skips are allowed (Jepsen's
        // :sub-via :subscribe).
        assert!(
            r.json["bad_error_types"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t != "poll-skip"),
            "{}",
            r.json
        );
    }

    fn sends_0_to(n: i64) -> [(u64, &'static str, &'static str, Value); 2] {
        let inv: Vec<Value> = (0..=n).map(|i| json!(["send", "x", i])).collect();
        let ok: Vec<Value> = (0..=n).map(|i| json!(["send", "x", [i, i]])).collect();
        [
            (0, "invoke", "send", Value::Array(inv)),
            (0, "ok", "send", Value::Array(ok)),
        ]
    }

    #[test]
    fn aborted_polls_rewind() {
        let mut ops = sends_0_to(2).to_vec();
        for (t, polled) in [
            ("ok", json!([[0, 0]])),
            ("fail", json!([[1, 1], [2, 2]])),
            ("info", json!([[1, 1], [2, 2]])),
        ] {
            ops.push((1, "invoke", "txn", json!([["poll"]])));
            ops.push((1, t, "txn", json!([["poll", {"x": polled}]])));
        }
        ops.push((2, "invoke", "txn", json!([["poll"]])));
        ops.push((
            2,
            "ok",
            "txn",
            json!([["poll", {"x": [[0, 0], [1, 1], [2, 2]]}]]),
        ));
        let r = run(&ops);
        assert_eq!(types(&r), Vec::<String>::new(), "{}", r.json);
        assert_eq!(r.valid, Validity::Valid);
    }

    #[test]
    fn aborted_polls_do_not_move_the_process_on() {
        let mut ops = sends_0_to(5).to_vec();
        for (t, polled) in [
            ("ok", json!([[0, 0]])),
            ("fail", json!([[1, 1], [2, 2]])),
            ("fail", json!([[3, 3], [4, 4]])),
            ("ok", json!([[5, 5]])),
        ] {
            ops.push((1, "invoke", "txn", json!([["poll"]])));
            ops.push((1, t, "txn", json!([["poll", {"x": polled}]])));
        }
        let r = run(&ops);
        assert_eq!(
            errs(&r, "poll_skip"),
            vec![
                json!({"key": "x", "delta": 3, "skipped": [1, 2], "ops": [3, 7]}),
                json!({"key": "x", "delta": 5, "skipped": [1, 2, 3, 4], "ops": [3, 9]}),
            ]
        );
    }

    fn nonmonotonic_poll_history(mid: &[(u64, &str, &str, Value)]) -> Report {
        let mut ops = vec![
            (
                0,
                "invoke",
                "send",
                json!([
                    ["send", "x", "a"],
                    ["send", "x", "b"],
                    ["send", "x", "c"],
                    ["send", "x", "d"]
                ]),
            ),
            (
                0,
                "ok",
                "send",
                json!([
                    ["send", "x", "a"],
                    ["send", "x", "b"],
                    ["send", "x", "c"],
                    ["send", "x", "d"]
                ]),
            ),
            (0, "invoke", "poll", json!([["poll"]])),
            (
                0,
                "ok",
                "poll",
                json!([["poll", {"x": [[1, "a"], [2, "b"], [3, "c"]]}]]),
            ),
        ];
        ops.extend_from_slice(mid);
        ops.push((0, "invoke", "poll", json!([["poll"]])));
        ops.push((
            0,
            "ok",
            "poll",
            json!([["poll", {"x": [[2, "b"], [3, "c"], [4, "d"]]}]]),
        ));
        run(&ops)
    }

    #[test]
    fn nonmonotonic_poll() {
        let r = nonmonotonic_poll_history(&[]);
        assert_eq!(
            errs(&r, "nonmonotonic_poll"),
            vec![json!({"key": "x", "values": ["c", "b"], "delta": -1, "ops": [3, 5]})]
        );
        let assign_y = [
            (0, "invoke", "assign", json!(["y"])),
            (0, "ok", "assign", json!(["y"])),
        ];
        assert!(errs(&nonmonotonic_poll_history(&assign_y), "nonmonotonic_poll").is_empty());
        let assign_xy = [
            (0, "invoke", "assign", json!(["x", "y"])),
            (0, "ok", "assign", json!(["x", "y"])),
        ];
        let r = nonmonotonic_poll_history(&assign_xy);
        assert_eq!(errs(&r, "nonmonotonic_poll").len(), 1);
        assert_eq!(r.valid, Validity::Invalid);
    }

    #[test]
    fn nonmonotonic_send() {
        let r = run(&[
            (
                0,
                "invoke",
                "send",
                json!([["send", "x", "c"], ["send", "x", "d"]]),
            ),
            (
                0,
                "ok",
                "send",
                json!([["send", "x", [3, "c"]], ["send", "x", [4, "d"]]]),
            ),
            (
                0,
                "invoke",
                "send",
                json!([["send", "x", 1], ["send", "x", 2]]),
            ),
            (
                0,
                "ok",
                "send",
                json!([["send", "x", [1, "a"]], ["send", "x", [2, "b"]]]),
            ),
        ]);
        assert_eq!(
            errs(&r, "nonmonotonic_send"),
            vec![json!({"key": "x", "values": ["d", "a"], "delta": -3, "ops": [1, 3]})]
        );
        // Nothing was polled, and four messages are unseen.
        assert_eq!(r.json["unseen"]["unseen"], json!({"x": 4}));
        assert_eq!(r.valid, Validity::Invalid);
    }

    #[test]
    fn internal_poll_skip_and_nonmonotonic() {
        let r = run(&[
            (
                1,
                "invoke",
                "send",
                json!([["send", "x", "a"], ["send", "x", "b"], ["send", "x", "d"]]),
            ),
            (
                1,
                "info",
                "send",
                json!([["send", "x", "a"], ["send", "x", "b"], ["send", "x", "d"]]),
            ),
            (0, "invoke", "poll", json!([["poll"]])),
            (
                0,
                "ok",
                "poll",
                json!([["poll", {"x": [[1, "a"], [4, "d"]]}]]),
            ),
            (0, "invoke", "poll", json!([["poll"], ["poll"]])),
            (
                0,
                "ok",
                "poll",
                json!([["poll", {"x": [[1, "a"]]}], ["poll", {"x": [[4, "d"]]}]]),
            ),
            (0, "invoke", "poll", json!([["poll"]])),
            (0, "ok", "poll", json!([["poll", {"x": [[2, "b"]]}]])),
        ]);
        assert_eq!(
            errs(&r, "int_poll_skip"),
            vec![
                json!({"key": "x", "values": ["a", "d"], "delta": 2, "skipped": ["b"], "op": 3}),
                json!({"key": "x", "values": ["a", "d"], "delta": 2, "skipped": ["b"], "op": 5}),
            ]
        );
        let r = run(&[
            (
                0,
                "invoke",
                "send",
                json!([["send", "x", "a"], ["send", "x", "b"], ["send", "x", "c"]]),
            ),
            (
                0,
                "info",
                "send",
                json!([["send", "x", "a"], ["send", "x", "b"], ["send", "x", "c"]]),
            ),
            (1, "invoke", "poll", json!([["poll"]])),
            (
                1,
                "ok",
                "poll",
                json!([["poll", {"x": [[3, "c"], [1, "a"]]}]]),
            ),
            (1, "invoke", "poll", json!([["poll"]])),
            (
                1,
                "ok",
                "poll",
                json!([["poll", {"x": [[2, "b"], [3, "c"]]}], ["poll", {"x": [[3, "c"]]}]]),
            ),
        ]);
        assert_eq!(
            errs(&r, "int_nonmonotonic_poll"),
            vec![
                json!({"key": "x", "values": ["c", "a"], "delta": -2, "op": 3}),
                json!({"key": "x", "values": ["c", "c"], "delta": 0, "op": 5}),
            ]
        );
    }

    #[test]
    fn internal_sends() {
        let r = run(&[
            (
                0,
                "invoke",
                "send",
                json!([["send", "x", "a"], ["send", "x", "c"]]),
            ),
            (
                0,
                "ok",
                "send",
                json!([["send", "x", [1, "a"]], ["send", "x", "c"]]),
            ),
            (1, "invoke", "send", json!([["send", "x", "b"]])),
            (1, "info", "send", json!([["send", "x", "b"]])),
            (2, "invoke", "poll", json!([["poll"]])),
            (
                2,
                "ok",
                "poll",
                json!([["poll", {"x": [[2, "b"], [3, "c"]]}]]),
            ),
        ]);
        assert_eq!(
            errs(&r, "int_send_skip"),
            vec![json!({"key": "x", "values": ["a", "c"], "delta": 2, "skipped": ["b"], "op": 1})]
        );
        // int-send-skip is allowed; a was acknowledged and is lost though
        // (and so never seen).
        assert_eq!(types(&r), vec!["int-send-skip", "lost-write", "unseen"]);
        assert_eq!(r.json["bad_error_types"], json!(["lost-write", "unseen"]));
        let r = run(&[
            (
                0,
                "invoke",
                "send",
                json!([["send", "x", 3], ["send", "x", 1]]),
            ),
            (
                0,
                "ok",
                "send",
                json!([["send", "x", [3, "c"]], ["send", "x", [1, "a"]]]),
            ),
            (
                0,
                "invoke",
                "send",
                json!([["send", "y", "d"], ["send", "y", "b"]]),
            ),
            (
                0,
                "info",
                "send",
                json!([["send", "y", "d"], ["send", "y", "b"]]),
            ),
            (1, "invoke", "send", json!([["send", "y", "c"]])),
            (1, "info", "send", json!([["send", "y", "c"]])),
            (0, "invoke", "poll", json!([["poll"]])),
            (
                0,
                "ok",
                "poll",
                json!([["poll", {"y": [[2, "b"], [3, "c"], [4, "d"]]}]]),
            ),
        ]);
        // Shown as Jepsen's checker condenses them: lowest delta first.
        assert_eq!(
            errs(&r, "int_nonmonotonic_send"),
            vec![
                json!({"key": "y", "values": ["d", "b"], "delta": -2, "op": 3}),
                json!({"key": "x", "values": ["c", "a"], "delta": -1, "op": 1}),
            ]
        );
    }

    #[test]
    fn duplicates() {
        let r = run(&[
            (0, "invoke", "send", json!([["send", "x", "a"]])),
            (0, "ok", "send", json!([["send", "x", [1, "a"]]])),
            (1, "invoke", "send", json!([["send", "x", "b"]])),
            (1, "info", "send", json!([["send", "x", "b"]])),
            (2, "invoke", "poll", json!([["poll"]])),
            (
                2,
                "ok",
                "poll",
                json!([["poll", {"x": [[2, "b"], [3, "a"]]}]]),
            ),
        ]);
        assert_eq!(
            errs(&r, "duplicate"),
            vec![json!({"key": "x", "value": "a", "count": 2, "offsets": [1, 3]})]
        );
        assert_eq!(r.valid, Validity::Invalid);
        // Every value sent at offset 0 and polled at 1 is a duplicate, and
        // both offsets are inconsistent.
        let mut ops = Vec::new();
        for v in 0..10 {
            ops.push((0, "invoke", "send", json!([["send", "x", v]])));
            ops.push((0, "ok", "send", json!([["send", "x", [0, v]]])));
            ops.push((1, "invoke", "poll", json!([["poll"]])));
            ops.push((1, "ok", "poll", json!([["poll", {"x": [[1, v]]}]])));
        }
        let r = run(&ops);
        let dups: Vec<i64> = errs(&r, "duplicate")
            .iter()
            .map(|e| e["value"].as_i64().unwrap())
            .collect();
        assert_eq!(dups, (0..10).collect::<Vec<_>>());
        let all: Vec<i64> = (0..10).collect();
        assert_eq!(
            errs(&r, "inconsistent_offsets"),
            vec![
                json!({"key": "x", "offset": 0, "index": 0, "values": all}),
                json!({"key": "x", "offset": 1, "index": 1, "values": all}),
            ]
        );
        // A failed poll's duplicates count; a failed send's offsets do not.
        let r = run(&[
            (0, "invoke", "send", json!([["send", "x", 0]])),
            (0, "ok", "send", json!([["send", "x", [1, 0]]])),
            (0, "invoke", "send", json!([["send", "x", 1]])),
            (0, "fail", "send", json!([["send", "x", [2, 1]]])),
            (1, "invoke", "poll", json!([["poll"]])),
            (
                1,
                "fail",
                "poll",
                json!([["poll", {"x": [[11, 0], [12, 1]]}]]),
            ),
        ]);
        assert_eq!(
            errs(&r, "duplicate"),
            vec![json!({"key": "x", "value": 0, "count": 2, "offsets": [1, 11]})]
        );
    }

    #[test]
    fn info_sends_conflict_only_once_proven() {
        let base = vec![
            (
                0,
                "invoke",
                "send",
                json!([["send", "x", 1], ["send", "y", 1]]),
            ),
            (
                0,
                "info",
                "send",
                json!([["send", "x", [0, 1]], ["send", "y", 1]]),
            ),
            (1, "invoke", "send", json!([["send", "x", 2]])),
            (1, "ok", "send", json!([["send", "x", [0, 2]]])),
        ];
        assert!(errs(&run(&base), "inconsistent_offsets").is_empty());
        let mut proven = base.clone();
        proven.push((2, "invoke", "poll", json!([["poll"]])));
        proven.push((2, "ok", "poll", json!([["poll", {"y": [[5, 1]]}]])));
        assert_eq!(
            errs(&run(&proven), "inconsistent_offsets"),
            vec![json!({"key": "x", "offset": 0, "index": 0, "values": [1, 2]})]
        );
    }

    #[test]
    fn aborted_and_precommitted_reads() {
        let r = run(&[
            (
                0,
                "invoke",
                "send",
                json!([["send", "x", 2], ["send", "y", 3]]),
            ),
            (
                0,
                "fail",
                "send",
                json!([["send", "x", 2], ["send", "y", 3]]),
            ),
            (1, "invoke", "poll", json!([["poll"]])),
            (1, "ok", "poll", json!([["poll", {"x": [[0, 2]]}]])),
        ]);
        assert_eq!(
            errs(&r, "G1a"),
            vec![json!({"key": "x", "value": 2, "writer": 1, "reader": 3})]
        );
        assert_eq!(r.valid, Validity::Invalid);
        let r = run(&[
            (0, "invoke", "txn", json!([["send", "x", "a"], ["poll"]])),
            (
                0,
                "ok",
                "txn",
                json!([["send", "x", [0, "a"]], ["poll", {"x": [[0, "a"]]}]]),
            ),
        ]);
        assert_eq!(
            errs(&r, "precommitted_read"),
            vec![json!({"key": "x", "value": "a", "op": 1})]
        );
    }

    #[test]
    fn unseen_is_what_no_ok_poll_read_and_makes_it_invalid() {
        let r = run(&[
            (0, "invoke", "poll", json!([["poll"]])),
            (0, "ok", "poll", json!([["poll", {}]])),
            (
                0,
                "invoke",
                "send",
                json!([["send", "x", "a"], ["send", "x", "b"]]),
            ),
            (
                0,
                "ok",
                "send",
                json!([["send", "x", [0, "a"]], ["send", "x", [1, "b"]]]),
            ),
            (0, "invoke", "poll", json!([["poll"]])),
            (0, "ok", "poll", json!([["poll", {"x": [[0, "a"]]}]])),
        ]);
        assert_eq!(
            r.json["unseen"],
            json!({"time": 5, "unseen": {"x": 1}, "messages": {"x": ["b"]}})
        );
        assert_eq!(r.json["bad_error_types"], json!(["unseen"]));
        assert_eq!(r.valid, Validity::Invalid);
        assert!(
            r.lines.iter().any(|l| l.contains("unseen: key x: 1")),
            "{:?}",
            r.lines
        );
    }

    #[test]
    fn maelstrom_shape_valid_history() {
        let r = run(&[
            (0, "invoke", "assign", json!(["k1", "k2"])),
            (0, "ok", "assign", json!(["k1", "k2"])),
            (1, "invoke", "send", json!([["send", "k1", 17]])),
            (1, "ok", "send", json!([["send", "k1", [1000, 17]]])),
            (1, "invoke", "send", json!([["send", "k1", 18]])),
            (1, "ok", "send", json!([["send", "k1", [1001, 18]]])),
            (1, "invoke", "crash", Value::Null),
            (1, "info", "crash", Value::Null),
            (2, "invoke", "poll", json!([["poll"]])),
            (2, "info", "poll", Value::Null),
            (0, "invoke", "poll", json!([["poll"]])),
            (
                0,
                "ok",
                "poll",
                json!([["poll", {"k1": [[1000, 17], [1001, 18]], "k2": []}]]),
            ),
        ]);
        assert_eq!(r.valid, Validity::Valid, "{}", r.json);
        assert_eq!(r.json["error_types"], json!([]));
        assert_eq!(r.json["message_count"], json!(2));
        assert_eq!(r.json["poll_count"], json!(2));
        assert!(r.lines[0].contains("no errors"), "{:?}", r.lines);
    }

    #[test]
    fn nothing_read_is_unknown() {
        let r = run(&[
            (0, "invoke", "assign", json!(["x"])),
            (0, "ok", "assign", json!(["x"])),
        ]);
        assert_eq!(r.valid, Validity::Unknown);
        assert!(r.json["reason"].is_string());
    }

    #[test]
    fn worst_realtime_lag_as_jepsen() {
        let r = run(&[
            (0, "invoke", "assign", json!(["x"])),
            (0, "ok", "assign", json!(["x"])),
            (0, "invoke", "poll", json!([["poll"]])),
            (0, "ok", "poll", json!([["poll", {"x": []}]])),
            (0, "invoke", "send", json!([["send", "x", "a"]])),
            (0, "ok", "send", json!([["send", "x", [0, "a"]]])),
            (0, "invoke", "poll", json!([["poll"]])),
            (0, "ok", "poll", json!([["poll", {"x": []}]])),
            (
                1,
                "invoke",
                "send",
                json!([["send", "x", "c"], ["send", "x", "d"]]),
            ),
            (
                1,
                "ok",
                "send",
                json!([["send", "x", [2, "c"]], ["send", "x", [3, "d"]]]),
            ),
            (0, "invoke", "poll", json!([["poll"]])),
            (0, "ok", "poll", json!([["poll"]])),
            (0, "invoke", "poll", json!([["poll"]])),
            (
                0,
                "ok",
                "poll",
                json!([["poll", {"x": [[0, "a"], [1, "b"]]}]]),
            ),
            (0, "invoke", "assign", json!(["x", "y"])),
            (0, "ok", "assign", json!(["x", "y"])),
            (0, "invoke", "poll", json!([["poll"]])),
            (0, "ok", "poll", json!([["poll", {}]])),
            (0, "invoke", "assign", json!(["y"])),
            (0, "ok", "assign", json!(["y"])),
            (0, "invoke", "assign", json!(["x"])),
            (0, "ok", "assign", json!(["x"])),
            (0, "invoke", "poll", json!([["poll"]])),
            (0, "ok", "poll", json!([["poll", {}]])),
            (0, "invoke", "poll", json!([["poll"], ["poll"]])),
            (
                0,
                "ok",
                "poll",
                json!([["poll", {"x": [[0, "a"], [1, "b"]]}], ["poll", {"x": [[2, "c"], [3, "d"]]}]]),
            ),
            (1, "invoke", "send", json!([["send", "x", "b"]])),
            (1, "info", "send", json!([["send", "x", "b"]])),
        ]);
        let w = &r.json["worst_realtime_lag"];
        assert_eq!(
            (w["process"].clone(), w["key"].clone()),
            (json!(0), json!("x"))
        );
        assert!((w["time"].as_f64().unwrap() - 22e-9).abs() < 1e-15, "{w}");
        assert!((w["lag"].as_f64().unwrap() - 17e-9).abs() < 1e-15, "{w}");
    }

    #[test]
    fn bad_micro_ops_are_bad_input() {
        let e = check(&h(&[
            (0, "invoke", "send", json!([["send", "x", 1]])),
            (0, "ok", "send", json!([["append", "x", 1]])),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("micro-op"), "{e}");
    }

    fn synth(messages: usize, info: f64, seed: u64) -> Vec<Value> {
        let spec = crate::synth::KafkaSpec {
            messages,
            processes: 4,
            keys: 3,
            info,
        };
        crate::synth::kafka_jsonl(&spec, seed)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn check_values(ops: &[Value]) -> Report {
        let text: String = ops.iter().map(|o| format!("{o}\n")).collect();
        check(&jsonl::read_as::<Datum>(Path::new("k.jsonl"), &text).unwrap()).unwrap()
    }

    #[test]
    fn simulated_correct_histories_are_valid() {
        for seed in 0..40 {
            let info = if seed % 2 == 0 { 0.0 } else { 0.1 };
            let r = check_values(&synth(300, info, seed));
            assert_eq!(r.valid, Validity::Valid, "seed {seed}: {}", r.json);
            assert_eq!(r.json["error_types"], json!([]), "seed {seed}");
        }
    }

    /// Messages dropped from every poll that read them: the lost writes
    /// and unseen messages, worked out from the offsets directly (in these
    /// histories each offset has one message, so the version order is the
    /// offset order).
    #[test]
    fn dropped_messages_match_a_direct_oracle() {
        let mut found = 0;
        for seed in 0..60 {
            let mut ops = synth(150, 0.1, seed);
            let mut rng = fastrand::Rng::with_seed(seed);
            // Each message, its key and offset, and whether an ok send acked it.
            let mut sent: HashMap<i64, (String, i64, bool)> = HashMap::default();
            for o in &ops {
                if o["f"] == "send" && o["type"] != "invoke" {
                    let m = &o["value"][0];
                    if let Some(pair) = m[2].as_array() {
                        sent.insert(
                            pair[1].as_i64().unwrap(),
                            (
                                m[1].as_str().unwrap().into(),
                                pair[0].as_i64().unwrap(),
                                o["type"] == "ok",
                            ),
                        );
                    }
                }
            }
            let dropped: Vec<i64> = sent.keys().copied().filter(|_| rng.f64() < 0.05).collect();
            for o in ops
                .iter_mut()
                .filter(|o| o["f"] == "poll" && o["type"] == "ok")
            {
                if let Some(by_key) = o["value"][0][1].as_object_mut() {
                    for pairs in by_key.values_mut() {
                        pairs
                            .as_array_mut()
                            .unwrap()
                            .retain(|p| !dropped.contains(&p[1].as_i64().unwrap()));
                    }
                }
            }
            // The highest offset read per key, after the drops.
            let mut max_read: HashMap<String, i64> = HashMap::default();
            for o in ops.iter().filter(|o| o["f"] == "poll" && o["type"] == "ok") {
                if let Some(by_key) = o["value"][0][1].as_object() {
                    for (k, pairs) in by_key {
                        for p in pairs.as_array().unwrap() {
                            let m = max_read.entry(k.clone()).or_insert(-1);
                            *m = (*m).max(p[0].as_i64().unwrap());
                        }
                    }
                }
            }
            let mut lost: Vec<i64> = dropped
                .iter()
                .copied()
                .filter(|m| {
                    let (k, off, ok) = &sent[m];
                    *ok && max_read.get(k).is_some_and(|mr| off < mr)
                })
                .collect();
            let mut unseen: Vec<i64> = dropped.iter().copied().filter(|m| sent[m].2).collect();
            lost.sort_unstable();
            unseen.sort_unstable();
            let r = check_values(&ops);
            let mut got: Vec<i64> = errs(&r, "lost_write")
                .iter()
                .map(|e| e["value"].as_i64().unwrap())
                .collect();
            got.sort_unstable();
            assert_eq!(got, lost, "seed {seed}: lost writes");
            let mut got_unseen: Vec<i64> = r.json["unseen"]["messages"]
                .as_object()
                .map(|m| {
                    m.values()
                        .flat_map(|vs| vs.as_array().unwrap().iter().map(|v| v.as_i64().unwrap()))
                        .collect()
                })
                .unwrap_or_default();
            got_unseen.sort_unstable();
            assert_eq!(got_unseen, unseen, "seed {seed}: unseen");
            assert_eq!(
                r.valid == Validity::Invalid,
                !unseen.is_empty(),
                "seed {seed}"
            );
            found += lost.len();
        }
        assert!(found > 20, "the oracle found only {found} lost writes");
    }

    /// Whatever is done to the offsets and messages of polls and sends,
    /// the checker answers (no panic), and only invalid or valid.
    #[test]
    fn mangled_histories_never_panic() {
        let mut rng = fastrand::Rng::with_seed(11);
        for seed in 0..200 {
            let mut ops = synth(60, 0.2, seed);
            for o in ops.iter_mut().filter(|o| o["type"] != "invoke") {
                let f = o["f"].clone();
                let v = &mut o["value"];
                if f == "poll" {
                    if let Some(by_key) = v[0].get_mut(1).and_then(Value::as_object_mut) {
                        for pairs in by_key.values_mut() {
                            let ps = pairs.as_array_mut().unwrap();
                            if rng.f64() < 0.2 {
                                rng.shuffle(ps);
                            }
                            for p in ps.iter_mut() {
                                match rng.usize(..20) {
                                    0 => p[0] = json!(rng.i64(-3..40)),
                                    1 => p[1] = json!(rng.i64(0..60)),
                                    2 => p[0] = Value::Null,
                                    _ => {}
                                }
                            }
                        }
                    }
                } else if f == "send" && rng.f64() < 0.1 {
                    v[0][2] = json!([rng.i64(0..40), rng.i64(0..60)]);
                }
            }
            let r = check_values(&ops);
            assert_ne!(r.valid, Validity::Unknown, "seed {seed}: {}", r.json);
        }
    }

    /// A history of a million messages: build with `--release` and run
    /// with `--ignored --nocapture` to see the time taken.
    #[test]
    #[ignore]
    fn a_million_messages() {
        let messages = std::env::var("KAFKA_MESSAGES")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1_000_000);
        let spec = crate::synth::KafkaSpec {
            messages,
            processes: 10,
            keys: 8,
            info: 0.01,
        };
        let t = std::time::Instant::now();
        let text = crate::synth::kafka_jsonl(&spec, 1);
        let made = t.elapsed();
        let t = std::time::Instant::now();
        let h = jsonl::read_as::<Datum>(Path::new("k.jsonl"), &text).unwrap();
        drop(text);
        let parsed = t.elapsed();
        let t = std::time::Instant::now();
        let r = check(&h).unwrap();
        let checked = t.elapsed();
        println!(
            "{messages} messages, {} ops: generated in {made:?}, parsed in {parsed:?}, checked in {checked:?}: {} {}",
            h.len(),
            r.valid,
            r.lines[0]
        );
        assert_eq!(r.valid, Validity::Valid, "{}", r.json["error_types"]);
    }
}
