//! Finding and naming dependency cycles (Elle §4.3). The graph is first cut
//! into strongly connected components — only they hold cycles — and each
//! component is searched in parallel: from a seed edge a→b of the kind an
//! anomaly needs, the shortest path back b→a over the allowed edge kinds
//! closes the shortest cycle through that edge. A cycle is named by its
//! edges: only ww is G0; ww and wr is G1c; one rw is G-single; several rw,
//! never two in a row, is G-nonadjacent; otherwise G2-item; with a
//! realtime or process edge the name gets `-realtime` or `-process`.

use super::found::{Example, Found};
use super::graph::kind::{PROCESS, REALTIME, RW, WR, WW};
use super::graph::{Graph, Search};
use super::txn::{TxnId, Txns};
use super::Explain;
use crate::op::OpType;
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::time::Instant;

/// Process-order edges: each process's committed txns in order.
pub fn process_edges(txns: &Txns) -> Vec<(TxnId, TxnId, u8)> {
    let mut last: HashMap<u64, TxnId> = HashMap::new();
    let mut edges = Vec::new();
    for (id, t) in txns
        .txns
        .iter()
        .enumerate()
        .filter(|(_, t)| t.kind == OpType::Ok)
    {
        if let Some(prev) = last.insert(t.process, id as TxnId) {
            edges.push((prev, id as TxnId, PROCESS));
        }
    }
    edges
}

/// Real-time edges, transitively reduced: each txn gets an edge from the
/// txns that completed before it began and were not yet followed by
/// another completed txn (the "frontier").
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
    let mut frontier: Vec<TxnId> = Vec::new();
    let mut seen_at_invoke: HashMap<TxnId, Vec<TxnId>> = HashMap::new();
    let mut edges = Vec::new();
    for (_, complete, id) in events {
        if complete {
            let before = seen_at_invoke.remove(&id).unwrap_or_default();
            frontier.retain(|f| !before.contains(f));
            frontier.push(id);
        } else {
            edges.extend(frontier.iter().map(|&f| (f, id, REALTIME)));
            seen_at_invoke.insert(id, frontier.clone());
        }
    }
    edges
}

/// The kind an edge is read as: the weakest explanation wins.
fn read_as(kinds: u8) -> u8 {
    [WW, WR, PROCESS, REALTIME, RW]
        .into_iter()
        .find(|k| kinds & k != 0)
        .unwrap_or(0)
}

/// Names a cycle (nodes a → b → ... → a, first node repeated at the end).
pub fn classify(g: &Graph, cycle: &[TxnId]) -> (String, Vec<u8>) {
    let kinds: Vec<u8> = cycle
        .windows(2)
        .map(|w| read_as(g.kinds(w[0], w[1])))
        .collect();
    let rw = kinds.iter().filter(|k| **k == RW).count();
    let base = match rw {
        0 if kinds.contains(&WR) => "G1c",
        0 => "G0",
        1 => "G-single",
        _ => {
            let adjacent =
                (0..kinds.len()).any(|i| kinds[i] == RW && kinds[(i + 1) % kinds.len()] == RW);
            if adjacent {
                "G2-item"
            } else {
                "G-nonadjacent"
            }
        }
    };
    let suffix = if kinds.contains(&REALTIME) {
        "-realtime"
    } else if kinds.contains(&PROCESS) {
        "-process"
    } else {
        ""
    };
    (format!("{base}{suffix}"), kinds)
}

/// Searches every strongly connected component for cycles; `extra` are
/// the non-data edge kinds in use (process, realtime).
pub fn search<E: Explain + Sync>(
    g: &Graph,
    extra: u8,
    tries: usize,
    deadline: Option<Instant>,
    explain: &E,
) -> (Found, usize, bool) {
    let sccs = g.sccs();
    let n = g.len();
    let data = WW | WR | RW;
    let mut combos: Vec<(u8, u8)> = vec![(WW, WW), (WW | WR, WR), (WW | WR, RW), (data, RW)];
    if extra & PROCESS != 0 {
        combos.push((data | PROCESS, PROCESS));
    }
    if extra & REALTIME != 0 {
        combos.push((data | PROCESS | REALTIME, REALTIME));
    }
    let results: Vec<(Found, bool)> = sccs
        .par_iter()
        .map_init(
            || (Search::new(n), vec![u32::MAX; 0]),
            |(search, _), scc| {
                let member: HashSet<TxnId> = scc.iter().copied().collect();
                let mut found = Found::default();
                let mut seen: HashSet<Vec<TxnId>> = HashSet::new();
                let mut timed_out = false;
                'combos: for &(mask, seed) in &combos {
                    let mut tried = 0;
                    for &a in scc {
                        for (b, k) in g.out(a) {
                            if k & seed == 0 || !member.contains(&b) {
                                continue;
                            }
                            if tried >= tries {
                                continue 'combos;
                            }
                            if deadline.is_some_and(|d| Instant::now() > d) {
                                timed_out = true;
                                break 'combos;
                            }
                            tried += 1;
                            let Some(mut path) =
                                search.path(g, b, a, mask, &|x| member.contains(&x))
                            else {
                                continue;
                            };
                            path.insert(0, a);
                            let key = canonical(&path);
                            if !seen.insert(key) {
                                continue;
                            }
                            let (name, kinds) = classify(g, &path);
                            found.add(&name, || describe_cycle(explain, &path, &kinds, &name));
                        }
                    }
                }
                // G-nonadjacent has its own search: shortest cycles rarely have it.
                let other = WW | WR | (extra & (PROCESS | REALTIME));
                let mut tried = 0;
                'seeds: for &a in scc {
                    for (b, k) in g.out(a) {
                        if timed_out || tried >= tries {
                            break 'seeds;
                        }
                        if k & RW == 0 || !member.contains(&b) {
                            continue;
                        }
                        tried += 1;
                        let Some(path) = nonadjacent(g, a, b, other, &member) else {
                            continue;
                        };
                        // The state search may revisit a node; only simple cycles count.
                        let distinct: HashSet<&TxnId> = path[..path.len() - 1].iter().collect();
                        if distinct.len() == path.len() - 1 && seen.insert(canonical(&path)) {
                            let (name, kinds) = classify(g, &path);
                            found.add(&name, || describe_cycle(explain, &path, &kinds, &name));
                        }
                    }
                }
                (found, timed_out)
            },
        )
        .collect();
    let mut all = Found::default();
    let mut timed_out = false;
    for (f, t) in results {
        all.merge(f);
        timed_out |= t;
    }
    (all, sccs.len(), timed_out)
}

/// A cycle through the rw edge a→b with at least one more rw edge and no
/// two rw edges in a row (G-nonadjacent's shape): a BFS over (node, last
/// edge was rw, another rw used) states, inside `member`. The cycle starts
/// and ends at `a`.
fn nonadjacent(
    g: &Graph,
    a: TxnId,
    b: TxnId,
    other: u8,
    member: &HashSet<TxnId>,
) -> Option<Vec<TxnId>> {
    type State = (TxnId, bool, bool);
    let start: State = (b, true, false);
    let goal: State = (a, false, true);
    let mut parent: HashMap<State, State> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    parent.insert(start, start);
    while let Some(st @ (x, last_rw, more)) = queue.pop_front() {
        if st == goal {
            let mut path = vec![a];
            let mut cur = st;
            while cur != start {
                cur = parent[&cur];
                path.push(cur.0);
            }
            path.push(a);
            path.reverse();
            return Some(path);
        }
        for (y, k) in g.out(x) {
            if !member.contains(&y) {
                continue;
            }
            let mut next = Vec::with_capacity(2);
            if k & other != 0 {
                next.push((y, false, more));
            }
            if k & RW != 0 && !last_rw {
                next.push((y, true, true));
            }
            for n in next {
                if let std::collections::hash_map::Entry::Vacant(e) = parent.entry(n) {
                    e.insert(st);
                    queue.push_back(n);
                }
            }
        }
    }
    None
}

/// The cycle rotated to start at its smallest node (for de-duplication).
fn canonical(path: &[TxnId]) -> Vec<TxnId> {
    let nodes = &path[..path.len() - 1];
    let start = nodes
        .iter()
        .enumerate()
        .min_by_key(|(_, n)| **n)
        .map_or(0, |(i, _)| i);
    nodes[start..]
        .iter()
        .chain(&nodes[..start])
        .copied()
        .collect()
}

fn describe_cycle<E: Explain>(e: &E, path: &[TxnId], kinds: &[u8], name: &str) -> Example {
    let txns = e.txns();
    let mut text = format!("{name}: a cycle of {} transactions\n", path.len() - 1);
    for t in &path[..path.len() - 1] {
        text.push_str(&format!("  {}\n", e.describe(*t)));
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
        let tag = match *kind {
            WW => "ww",
            WR => "wr",
            RW => "rw",
            PROCESS => "process",
            REALTIME => "realtime",
            _ => "?",
        };
        text.push_str(&format!(
            "  T{a} < T{b} ({tag}) because {}\n",
            why.unwrap_or_else(|| "of a dependency".into())
        ));
    }
    Example {
        explanation: text,
        ops: path[..path.len() - 1]
            .iter()
            .map(|t| txns.txns[*t as usize].invoke)
            .collect(),
    }
}
