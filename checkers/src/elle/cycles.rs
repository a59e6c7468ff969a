//! Finding and naming dependency cycles, as Elle's `elle.txn` does.
//!
//! The graph is cut into strongly connected components (only they hold
//! cycles) and each is analysed on its own, in parallel:
//!
//! 1. **Cycle existence.** For each model's subgraph (ww for
//!    read-uncommitted; ww+wr for read-committed; ww+wr extended by single
//!    rw hops for snapshot isolation; ww+wr+rw for serializable; the same
//!    with process edges for the strong-session models and with real-time
//!    edges for the strong ones), a strongly connected component of that
//!    subgraph proves a cycle the model forbids. This is linear and exact,
//!    so the verdict never depends on how far the search below got.
//! 2. **Specific cycles.** In Elle's order (by anomaly depth, then name),
//!    each cycle anomaly not already implied by one found in this
//!    component, and not ruled out by step 1, is searched for: a
//!    breadth-first search over (transaction, rw edges so far, last edge rw,
//!    ...) states from each start transaction, keeping paths simple, with
//!    an exhaustive search of simple cycles as a fallback in small
//!    components. Each anomaly is reported once per component, as Elle
//!    does.
//! 3. Cycle-existence findings that a specific cycle already explains are
//!    dropped; the others stay, so a component whose specific cycles the
//!    bounded search did not isolate is still reported.
//!
//! A cycle is named by its edges: only ww is G0; ww and wr (at least one
//! wr) is G1c; one rw is G-single-item; several rw, never two in a row, is
//! G-nonadjacent-item; otherwise G2-item; with a real-time edge the name
//! gets `-realtime`, else with a process edge `-process`. An edge that
//! carries several dependencies counts as the first of ww, wr, rw, and
//! only without any of those as process or real-time (Elle's explainer
//! order).

use super::found::{Example, Found, Step, TxnText};
use super::graph::kind::{PROCESS, REALTIME, RW, WR, WW};
use super::graph::{local_sccs, Graph};
use super::models;
use super::txn::{TxnId, Txns};
use super::Explain;
use crate::linear::FxBuild;
use crate::op::OpType;
use rayon::prelude::*;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::time::Instant;

/// Process-order edges: each process's committed txns in order (Elle's
/// `process-graph`, over ok operations).
pub fn process_edges(txns: &Txns) -> Vec<(TxnId, TxnId, u8)> {
    let mut last: HashMap<u64, TxnId> = HashMap::new();
    let mut edges = Vec::new();
    for (id, _) in txns.committed() {
        let process = txns.txns[id as usize].process;
        if let Some(prev) = last.insert(process, id) {
            edges.push((prev, id, PROCESS));
        }
    }
    edges
}

/// Real-time edges, transitively reduced as Elle's `realtime-graph`: each
/// invocation gets an edge from every ok txn that completed before it and
/// was not yet followed by another completed txn (the "frontier").
pub fn realtime_edges(txns: &Txns) -> Vec<(TxnId, TxnId, u8)> {
    let mut events: Vec<(usize, bool, TxnId)> = Vec::new();
    for (id, t) in txns
        .txns
        .iter()
        .enumerate()
        .filter(|(_, t)| t.kind != OpType::Fail)
    {
        events.push((t.invoke, false, id as TxnId));
        if let (OpType::Ok, Some(c)) = (t.kind, t.complete) {
            events.push((c, true, id as TxnId));
        }
    }
    events.sort_unstable();
    // Frontier: (txn, where it completed).
    let mut frontier: Vec<(TxnId, usize)> = Vec::new();
    let mut edges = Vec::new();
    for (at, complete, id) in events {
        if complete {
            // Those in the frontier when this txn began are followed by it
            // now. Anything still in the frontier that completed before
            // this txn's invocation was in it then.
            let began = txns.txns[id as usize].invoke;
            frontier.retain(|&(_, c)| c > began);
            frontier.push((id, at));
        } else {
            edges.extend(frontier.iter().map(|&(f, _)| (f, id, REALTIME)));
        }
    }
    edges
}

/// The kind an edge with `kinds` counts as in a cycle that may use the
/// non-data kind `extra` (0, [`PROCESS`] or [`REALTIME`]); 0 if unusable.
pub fn effective(kinds: u8, extra: u8) -> u8 {
    let data = kinds & (WW | WR | RW);
    if data != 0 {
        data & data.wrapping_neg()
    } else {
        kinds & extra
    }
}

/// Names a cycle from the kinds of its edges, in order.
pub fn classify(kinds: &[u8]) -> String {
    let rw = kinds.iter().filter(|k| **k == RW).count();
    let n = kinds.len();
    let adjacent = (0..n).any(|i| kinds[i] == RW && kinds[(i + 1) % n] == RW);
    let base = match rw {
        0 if kinds.contains(&WR) => "G1c",
        0 => "G0",
        1 => "G-single-item",
        _ if adjacent => "G2-item",
        _ => "G-nonadjacent-item",
    };
    let suffix = if kinds.contains(&REALTIME) {
        "-realtime"
    } else if kinds.contains(&PROCESS) {
        "-process"
    } else {
        ""
    };
    format!("{base}{suffix}")
}

/// How many rw edges a cycle anomaly has, and how they sit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RwMode {
    /// None (G0, G1c).
    None,
    /// Exactly one (G-single-item).
    Single,
    /// At least two, never two in a row (G-nonadjacent-item).
    Nonadjacent,
    /// At least two, some two in a row (G2-item).
    Adjacent,
}

/// A cycle anomaly to search for.
#[derive(Clone, Debug)]
struct CycleSpec {
    name: &'static str,
    /// Non-rw kinds its edges may have.
    allowed: u8,
    rw: RwMode,
    /// Needs at least one wr edge (G1c).
    need_wr: bool,
    /// The non-data kind it may use and needs at least once (0: none).
    extra: u8,
}

/// Every cycle anomaly, in Elle's search order (depth, then name).
fn cycle_specs() -> Vec<CycleSpec> {
    let base = [
        ("G0", WW, RwMode::None, false),
        ("G1c", WW | WR, RwMode::None, true),
        ("G-single-item", WW | WR, RwMode::Single, false),
        ("G-nonadjacent-item", WW | WR, RwMode::Nonadjacent, false),
        ("G2-item", WW | WR, RwMode::Adjacent, false),
    ];
    let mut specs = Vec::new();
    for (suffix, extra) in [("", 0), ("-process", PROCESS), ("-realtime", REALTIME)] {
        for (name, allowed, rw, need_wr) in base {
            let full = format!("{name}{suffix}");
            let name = models::CYCLE_TYPES
                .iter()
                .copied()
                .find(|n| *n == full)
                .unwrap_or("G0");
            specs.push(CycleSpec {
                name,
                allowed: allowed | extra,
                rw,
                need_wr,
                extra,
            });
        }
    }
    let depths = models::depths();
    specs.sort_by(|a, b| {
        let da = depths.get(a.name).copied().unwrap_or(0);
        let db = depths.get(b.name).copied().unwrap_or(0);
        da.cmp(&db).then_with(|| a.name.cmp(b.name))
    });
    specs
}

/// A model whose subgraph must be acyclic (Elle's `cycle-exists-specs`).
struct ExistsSpec {
    /// Friendly model name.
    model: &'static str,
    /// The anomaly reported when its subgraph has a cycle.
    name: &'static str,
    /// Edge kinds of the subgraph (without rw for extensions).
    mask: u8,
    /// `mask` edges, each optionally followed by one rw edge.
    extension: bool,
    /// How the subgraph is described.
    subgraph: &'static str,
}

const EXISTS: &[ExistsSpec] = &[
    ExistsSpec {
        model: "read-uncommitted",
        name: "PL-1-cycle-exists",
        mask: WW,
        extension: false,
        subgraph: "ww",
    },
    ExistsSpec {
        model: "read-committed",
        name: "PL-2-cycle-exists",
        mask: WW | WR,
        extension: false,
        subgraph: "ww and wr",
    },
    ExistsSpec {
        model: "snapshot-isolation",
        name: "PL-SI-cycle-exists",
        mask: WW | WR,
        extension: true,
        subgraph: "ww and wr, each possibly followed by one rw",
    },
    ExistsSpec {
        model: "serializable",
        name: "PL-3-cycle-exists",
        mask: WW | WR | RW,
        extension: false,
        subgraph: "ww, wr and rw",
    },
    ExistsSpec {
        model: "strong-session-read-uncommitted",
        name: "strong-session-PL-1-cycle-exists",
        mask: WW | PROCESS,
        extension: false,
        subgraph: "ww and process",
    },
    ExistsSpec {
        model: "strong-session-read-committed",
        name: "strong-session-PL-2-cycle-exists",
        mask: WW | WR | PROCESS,
        extension: false,
        subgraph: "ww, wr and process",
    },
    ExistsSpec {
        model: "strong-session-snapshot-isolation",
        name: "strong-session-snapshot-isolation-cycle-exists",
        mask: WW | WR | PROCESS,
        extension: true,
        subgraph: "ww, wr and process, each possibly followed by one rw",
    },
    ExistsSpec {
        model: "strong-session-serializable",
        name: "strong-session-serializable-cycle-exists",
        mask: WW | WR | RW | PROCESS,
        extension: false,
        subgraph: "ww, wr, rw and process",
    },
    ExistsSpec {
        model: "strong-read-uncommitted",
        name: "strong-PL-1-cycle-exists",
        mask: WW | REALTIME,
        extension: false,
        subgraph: "ww and realtime",
    },
    ExistsSpec {
        model: "strong-read-committed",
        name: "strong-PL-2-cycle-exists",
        mask: WW | WR | REALTIME,
        extension: false,
        subgraph: "ww, wr and realtime",
    },
    ExistsSpec {
        model: "strong-snapshot-isolation",
        name: "strong-snapshot-isolation-cycle-exists",
        mask: WW | WR | REALTIME,
        extension: true,
        subgraph: "ww, wr and realtime, each possibly followed by one rw",
    },
    ExistsSpec {
        model: "strict-serializable",
        name: "PL-SS-cycle-exists",
        mask: WW | WR | RW | REALTIME,
        extension: false,
        subgraph: "ww, wr, rw and realtime",
    },
];

/// When to stop searching: a deadline, or a flag the caller sets.
pub struct Stop {
    /// Give up after this instant.
    pub deadline: Option<Instant>,
    /// Give up once this is set (Ctrl-C).
    pub interrupt: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

impl Stop {
    /// Whether to stop now.
    pub fn now(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() > d)
            || self
                .interrupt
                .as_ref()
                .is_some_and(|i| i.load(std::sync::atomic::Ordering::Relaxed))
    }
}

/// The model a cycle-existence anomaly rules out (friendly name).
pub fn exists_model(anomaly: &str) -> Option<&'static str> {
    EXISTS.iter().find(|s| s.name == anomaly).map(|s| s.model)
}

/// What the search found.
pub struct Outcome {
    /// Cycle anomalies (and cycle-existence findings left unexplained).
    pub found: Found,
    /// Strongly connected components of the whole graph.
    pub sccs: usize,
    /// Specific-cycle searches that stopped before they were exhaustive.
    pub incomplete: Vec<String>,
    /// The time limit stopped the specific-cycle search.
    pub timed_out: bool,
}

/// One component, with local ids and its edges in CSR form.
struct Local<'g> {
    members: &'g [TxnId],
    offsets: Vec<u32>,
    targets: Vec<u32>,
    kinds: Vec<u8>,
}

impl<'g> Local<'g> {
    fn new(g: &Graph, members: &'g [TxnId], local: &HashMap<TxnId, u32, FxBuild>) -> Local<'g> {
        let mut offsets = Vec::with_capacity(members.len() + 1);
        let mut targets = Vec::new();
        let mut kinds = Vec::new();
        offsets.push(0);
        for &a in members {
            for (b, k) in g.out(a) {
                if let Some(&lb) = local.get(&b) {
                    targets.push(lb);
                    kinds.push(k);
                }
            }
            offsets.push(targets.len() as u32);
        }
        Local {
            members,
            offsets,
            targets,
            kinds,
        }
    }

    fn len(&self) -> usize {
        self.members.len()
    }

    fn out(&self, v: u32) -> impl Iterator<Item = (u32, u8)> + '_ {
        let (a, b) = (
            self.offsets[v as usize] as usize,
            self.offsets[v as usize + 1] as usize,
        );
        self.targets[a..b]
            .iter()
            .copied()
            .zip(self.kinds[a..b].iter().copied())
    }

    /// The smallest cycle-carrying component of this spec's subgraph, as
    /// local node ids.
    fn exists(&self, spec: &ExistsSpec) -> Option<Vec<u32>> {
        let n = self.len();
        let states = if spec.extension { 2 * n } else { n };
        let mut offsets = Vec::with_capacity(states + 1);
        let mut targets = Vec::new();
        offsets.push(0u32);
        for s in 0..states as u32 {
            let (v, after_rw) = if spec.extension {
                (s / 2, s % 2 == 1)
            } else {
                (s, false)
            };
            for (w, k) in self.out(v) {
                if spec.extension {
                    if k & spec.mask != 0 {
                        targets.push(2 * w);
                    }
                    if !after_rw && k & RW != 0 {
                        targets.push(2 * w + 1);
                    }
                } else if k & spec.mask != 0 {
                    targets.push(w);
                }
            }
            offsets.push(targets.len() as u32);
        }
        let sccs = local_sccs(&offsets, &targets);
        let smallest = sccs.into_iter().min_by_key(|c| c.len())?;
        let nodes: BTreeSet<u32> = smallest
            .into_iter()
            .map(|s| if spec.extension { s / 2 } else { s })
            .collect();
        Some(nodes.into_iter().collect())
    }
}

/// Flags of a search state.
mod flag {
    pub const RWC: u8 = 3;
    pub const LAST_RW: u8 = 4;
    pub const FIRST_RW: u8 = 8;
    pub const STARTED: u8 = 16;
    pub const ADJ: u8 = 32;
    pub const HAVE_WR: u8 = 64;
    pub const HAVE_EXTRA: u8 = 128;
}

impl CycleSpec {
    /// The effective kind of an edge for this anomaly, if it may use it.
    fn usable(&self, kinds: u8) -> Option<u8> {
        let k = effective(kinds, self.extra);
        let ok = k != 0 && (k & self.allowed != 0 || (k == RW && self.rw != RwMode::None));
        ok.then_some(k)
    }

    /// The flags after taking an edge of kind `k`, if allowed.
    fn step(&self, f: u8, k: u8) -> Option<u8> {
        let mut f = f;
        if k == RW {
            let last = f & flag::LAST_RW != 0;
            match self.rw {
                RwMode::None => return None,
                RwMode::Single if f & flag::RWC != 0 => return None,
                RwMode::Nonadjacent if last => return None,
                RwMode::Adjacent if last => f |= flag::ADJ,
                _ => {}
            }
            let rwc = ((f & flag::RWC) + 1).min(2);
            f = (f & !flag::RWC) | rwc | flag::LAST_RW;
        } else {
            f &= !flag::LAST_RW;
            if k == WR {
                f |= flag::HAVE_WR;
            }
            if k & self.extra != 0 {
                f |= flag::HAVE_EXTRA;
            }
        }
        if f & flag::STARTED == 0 {
            f |= flag::STARTED;
            if k == RW {
                f |= flag::FIRST_RW;
            }
        }
        Some(f)
    }

    /// Whether a walk with flags `f` that is back at its start is a cycle
    /// of this anomaly.
    fn closes(&self, f: u8) -> bool {
        let rwc = f & flag::RWC;
        let wrap = f & flag::LAST_RW != 0 && f & flag::FIRST_RW != 0;
        let rw_ok = match self.rw {
            RwMode::None => rwc == 0,
            RwMode::Single => rwc == 1,
            RwMode::Nonadjacent => rwc == 2 && !wrap,
            RwMode::Adjacent => rwc == 2 && (f & flag::ADJ != 0 || wrap),
        };
        rw_ok
            && (!self.need_wr || f & flag::HAVE_WR != 0)
            && (self.extra == 0 || f & flag::HAVE_EXTRA != 0)
    }

    /// Whether an edge of kind `k` distinguishes this anomaly (where
    /// searches start in large components).
    fn distinguishing(&self, kinds: u8) -> bool {
        let k = effective(kinds, self.extra);
        match (self.extra, self.rw) {
            (e, _) if e != 0 => k == e,
            (_, RwMode::None) if self.need_wr => k == WR,
            (_, RwMode::None) => k == WW,
            _ => k == RW,
        }
    }
}

/// Components up to this size are searched from every transaction.
const ALL_STARTS: usize = 64;
/// Components up to this size get an exhaustive fallback search.
const EXHAUSTIVE: usize = 12;
/// Start transactions tried in larger components.
const STARTS: usize = 16;

/// Why a search stopped short.
struct Exhausted;

/// Searches one component for a cycle of `spec`; local node ids, start
/// repeated at the end.
fn find(spec: &CycleSpec, l: &Local, budget: &mut usize) -> Result<Option<Vec<u32>>, Exhausted> {
    let n = l.len();
    let starts: Vec<u32> = if n <= ALL_STARTS {
        (0..n as u32).collect()
    } else {
        let mut s: Vec<u32> = Vec::new();
        for v in 0..n as u32 {
            if l.out(v).any(|(_, k)| spec.distinguishing(k)) {
                s.push(v);
                if s.len() >= STARTS {
                    break;
                }
            }
        }
        s
    };
    let mut stopped = false;
    for &s in &starts {
        match bfs(spec, l, s, budget) {
            Ok(Some(c)) => return Ok(Some(c)),
            Ok(None) => {}
            Err(Exhausted) => {
                stopped = true;
                break;
            }
        }
    }
    if n <= EXHAUSTIVE {
        return dfs(spec, l, budget);
    }
    if stopped || n > ALL_STARTS {
        Err(Exhausted)
    } else {
        Ok(None)
    }
}

/// Breadth-first search over (node, flags) states from `s` back to `s`,
/// never revisiting a node on the current path.
fn bfs(
    spec: &CycleSpec,
    l: &Local,
    s: u32,
    budget: &mut usize,
) -> Result<Option<Vec<u32>>, Exhausted> {
    let key = |v: u32, f: u8| ((v as u64) << 8) | f as u64;
    let start = key(s, 0);
    let mut parent: HashMap<u64, u64, FxBuild> = HashMap::default();
    parent.insert(start, start);
    let mut queue = VecDeque::from([start]);
    let path_of = |parent: &HashMap<u64, u64, FxBuild>, mut st: u64| {
        let mut p = vec![(st >> 8) as u32];
        while st != start {
            st = parent[&st];
            p.push((st >> 8) as u32);
        }
        p.reverse();
        p
    };
    while let Some(st) = queue.pop_front() {
        let (x, f) = ((st >> 8) as u32, st as u8);
        for (y, kinds) in l.out(x) {
            if *budget == 0 {
                return Err(Exhausted);
            }
            *budget -= 1;
            let Some(k) = spec.usable(kinds) else {
                continue;
            };
            let Some(f2) = spec.step(f, k) else { continue };
            if y == s {
                if spec.closes(f2) {
                    let mut p = path_of(&parent, st);
                    p.push(s);
                    return Ok(Some(p));
                }
                continue;
            }
            let next = key(y, f2);
            if parent.contains_key(&next) {
                continue;
            }
            // Keep paths simple: y must not already be on this one.
            let mut cur = st;
            let mut on_path = false;
            loop {
                *budget = budget.saturating_sub(1);
                if (cur >> 8) as u32 == y {
                    on_path = true;
                    break;
                }
                if cur == start {
                    break;
                }
                cur = parent[&cur];
            }
            if on_path {
                continue;
            }
            parent.insert(next, st);
            queue.push_back(next);
        }
    }
    Ok(None)
}

/// Exhaustive search of simple cycles (each from its smallest node), for
/// small components.
fn dfs(spec: &CycleSpec, l: &Local, budget: &mut usize) -> Result<Option<Vec<u32>>, Exhausted> {
    let n = l.len() as u32;
    for s in 0..n {
        // Stack of (node, flags, next edge position).
        let mut stack: Vec<(u32, u8, usize)> = vec![(s, 0, l.offsets[s as usize] as usize)];
        let mut on_path: u64 = 1 << s;
        while let Some(&mut (x, f, ref mut pos)) = stack.last_mut() {
            let end = l.offsets[x as usize + 1] as usize;
            if *pos >= end {
                stack.pop();
                on_path &= !(1u64 << x);
                continue;
            }
            let (y, kinds) = (l.targets[*pos], l.kinds[*pos]);
            *pos += 1;
            if *budget == 0 {
                return Err(Exhausted);
            }
            *budget -= 1;
            if y < s {
                continue;
            }
            let Some(k) = spec.usable(kinds) else {
                continue;
            };
            let Some(f2) = spec.step(f, k) else { continue };
            if y == s {
                if spec.closes(f2) {
                    let mut p: Vec<u32> = stack.iter().map(|(v, _, _)| *v).collect();
                    p.push(s);
                    return Ok(Some(p));
                }
                continue;
            }
            if on_path & (1u64 << y) != 0 {
                continue;
            }
            on_path |= 1u64 << y;
            stack.push((y, f2, l.offsets[y as usize] as usize));
        }
    }
    Ok(None)
}

/// Searches every strongly connected component of `g`. `budget` bounds the
/// work (edge visits) of each specific-cycle search in each component.
pub fn search<E: Explain + Sync>(g: &Graph, explain: &E, budget: usize, stop: &Stop) -> Outcome {
    let sccs = g.sccs();
    let specs = cycle_specs();
    let results: Vec<(Found, Vec<String>, bool)> = sccs
        .par_iter()
        .map(|scc| {
            let mut members = scc.clone();
            members.sort_unstable();
            let local: HashMap<TxnId, u32, FxBuild> = members
                .iter()
                .enumerate()
                .map(|(i, t)| (*t, i as u32))
                .collect();
            let l = Local::new(g, &members, &local);
            component(&l, &specs, explain, budget, stop)
        })
        .collect();
    let mut found = Found::default();
    let mut incomplete = Vec::new();
    let mut timed_out = false;
    for (f, i, t) in results {
        found.merge(f);
        incomplete.extend(i);
        timed_out |= t;
    }
    Outcome {
        found,
        sccs: sccs.len(),
        incomplete,
        timed_out,
    }
}

/// Analyses one component: cycle existence, then specific cycles.
fn component<E: Explain>(
    l: &Local,
    specs: &[CycleSpec],
    explain: &E,
    budget: usize,
    stop: &Stop,
) -> (Found, Vec<String>, bool) {
    // 1. Which models' subgraphs have cycles here.
    let mut exists: Vec<(&ExistsSpec, Vec<u32>)> = Vec::new();
    let mut ruled_out: BTreeSet<&'static str> = BTreeSet::new();
    for spec in EXISTS {
        if ruled_out.contains(spec.model) {
            continue;
        }
        if let Some(nodes) = l.exists(spec) {
            ruled_out.extend(models::stronger(spec.model));
            exists.push((spec, nodes));
        }
    }
    let possible: Vec<&str> = EXISTS
        .iter()
        .map(|s| s.model)
        .filter(|m| !ruled_out.contains(m))
        .collect();
    let impossible = models::prohibited_by(&possible);
    // 2. Specific cycles, weakest-explained first.
    let mut found = Found::default();
    let mut redundant: BTreeSet<&'static str> = BTreeSet::new();
    let mut incomplete = Vec::new();
    let mut timed_out = false;
    let mut names: Vec<&'static str> = Vec::new();
    for spec in specs {
        if redundant.contains(spec.name) || impossible.contains(spec.name) {
            continue;
        }
        if stop.now() {
            timed_out = true;
            break;
        }
        let mut work = budget;
        match find(spec, l, &mut work) {
            Ok(Some(cycle)) => {
                let ids: Vec<TxnId> = cycle.iter().map(|v| l.members[*v as usize]).collect();
                let kinds = kinds_along(l, &cycle, spec.extra);
                if classify(&kinds) != spec.name {
                    continue;
                }
                found.add(spec.name, || {
                    describe_cycle(explain, &ids, &kinds, spec.name)
                });
                names.push(spec.name);
                redundant.extend(models::all_implied(&[spec.name]));
            }
            Ok(None) => {}
            Err(Exhausted) => incomplete.push(format!(
                "{} in a component of {} transactions",
                spec.name,
                l.len()
            )),
        }
    }
    // 3. Cycle existence not explained by a specific cycle found here.
    let explained = models::impossible_friendly(&names);
    for (spec, nodes) in exists {
        if explained.contains(spec.model) {
            continue;
        }
        let ids: Vec<TxnId> = nodes.iter().map(|v| l.members[*v as usize]).collect();
        found.add(spec.name, || describe_exists(explain, spec, &ids));
    }
    (found, incomplete, timed_out)
}

/// The effective kinds of a cycle's edges (local ids).
fn kinds_along(l: &Local, cycle: &[u32], extra: u8) -> Vec<u8> {
    cycle
        .windows(2)
        .map(|w| {
            l.out(w[0])
                .filter(|(t, _)| *t == w[1])
                .map(|(_, k)| effective(k, extra))
                .next()
                .unwrap_or(0)
        })
        .collect()
}

fn tag(kind: u8) -> &'static str {
    match kind {
        WW => "ww",
        WR => "wr",
        RW => "rw",
        PROCESS => "process",
        REALTIME => "realtime",
        _ => "?",
    }
}

fn describe_cycle<E: Explain>(e: &E, path: &[TxnId], kinds: &[u8], name: &str) -> Example {
    let txns = e.txns();
    let mut text = format!("{name}: a cycle of {} transactions\n", path.len() - 1);
    let mut listed = Vec::with_capacity(path.len() - 1);
    let mut steps = Vec::with_capacity(kinds.len());
    for t in &path[..path.len() - 1] {
        let described = e.describe(*t);
        text.push_str(&format!("  {described}\n"));
        listed.push(TxnText {
            id: *t,
            text: described,
        });
    }
    for (w, kind) in path.windows(2).zip(kinds) {
        let (a, b) = (w[0], w[1]);
        let (ta, tb) = (&txns.txns[a as usize], &txns.txns[b as usize]);
        let why = match *kind {
            PROCESS => Some(format!("process {} ran T{a} before T{b}", ta.process)),
            REALTIME => Some(format!(
                "T{a} completed (op {}) before T{b} began (op {})",
                ta.complete.unwrap_or(ta.invoke),
                tb.invoke
            )),
            k => e.why(a, b, k),
        };
        let why = why.unwrap_or_else(|| "of a dependency".into());
        text.push_str(&format!("  T{a} < T{b} ({}) because {why}\n", tag(*kind)));
        steps.push(Step {
            from: a,
            to: b,
            kind: tag(*kind),
            why,
        });
    }
    Example {
        explanation: text,
        ops: path[..path.len() - 1]
            .iter()
            .map(|t| txns.txns[*t as usize].invoke)
            .collect(),
        txns: listed,
        steps,
    }
}

/// Transactions listed in a cycle-existence example.
const LISTED: usize = 12;

fn describe_exists<E: Explain>(e: &E, spec: &ExistsSpec, ids: &[TxnId]) -> Example {
    let mut text = format!(
        "{}: the {} edges among these {} transactions form a cycle, so {} cannot hold; \
         the search did not isolate a specific cycle among them\n",
        spec.name,
        spec.subgraph,
        ids.len(),
        spec.model
    );
    for t in ids.iter().take(LISTED) {
        text.push_str(&format!("  {}\n", e.describe(*t)));
    }
    if ids.len() > LISTED {
        text.push_str(&format!("  ... and {} more\n", ids.len() - LISTED));
    }
    Example {
        explanation: text,
        ops: ids
            .iter()
            .map(|t| e.txns().txns[*t as usize].invoke)
            .collect(),
        ..Example::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_elle() {
        assert_eq!(classify(&[WW, WW]), "G0");
        assert_eq!(classify(&[WW, WR]), "G1c");
        assert_eq!(classify(&[WR, RW]), "G-single-item");
        assert_eq!(classify(&[RW, WR, RW, WR]), "G-nonadjacent-item");
        assert_eq!(classify(&[RW, RW]), "G2-item");
        assert_eq!(classify(&[RW, WW, RW]), "G2-item", "wraps around");
        assert_eq!(classify(&[RW, PROCESS]), "G-single-item-process");
        assert_eq!(classify(&[RW, PROCESS, REALTIME]), "G-single-item-realtime");
        assert_eq!(effective(WW | RW, 0), WW);
        assert_eq!(effective(RW | REALTIME, REALTIME), RW);
        assert_eq!(effective(PROCESS | REALTIME, PROCESS), PROCESS);
        assert_eq!(effective(PROCESS, REALTIME), 0);
    }

    #[test]
    fn search_order_is_elles() {
        let names: Vec<&str> = cycle_specs().iter().map(|s| s.name).collect();
        assert_eq!(
            &names[..5],
            [
                "G-single-item",
                "G0",
                "G-nonadjacent-item",
                "G-single-item-process",
                "G1c"
            ]
        );
    }
}
