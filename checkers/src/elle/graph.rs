//! The dependency graph between transactions: typed edges in compressed
//! (CSR) form, strongly connected components (iterative Kosaraju — no
//! recursion, so 100k-node cycles cannot overflow the stack), and shortest
//! paths restricted to edge types (BFS), for finding cycles.

use super::txn::TxnId;

/// Edge types, as bits: an edge may have several.
pub mod kind {
    /// Write-write: T2 overwrote (appended after) T1.
    pub const WW: u8 = 1;
    /// Write-read: T2 read what T1 wrote.
    pub const WR: u8 = 2;
    /// Read-write (anti-dependency): T1 read a version before T2's write.
    pub const RW: u8 = 4;
    /// Same process, T1 before T2.
    pub const PROCESS: u8 = 8;
    /// T1 completed before T2 began.
    pub const REALTIME: u8 = 16;
    /// Every type.
    pub const ALL: u8 = 31;
}

/// A directed graph with typed edges.
pub struct Graph {
    /// For node n, its edges are `targets[offsets[n]..offsets[n + 1]]`.
    offsets: Vec<u32>,
    targets: Vec<TxnId>,
    kinds: Vec<u8>,
}

impl Graph {
    /// Builds the graph over `n` nodes from edges (duplicates merged, their
    /// types OR-ed; self-loops dropped).
    pub fn new(n: usize, mut edges: Vec<(TxnId, TxnId, u8)>) -> Graph {
        edges.retain(|(a, b, _)| a != b);
        // Bucketed by source (a counting sort: millions of edges sort
        // slower), then each source's few targets sorted and merged.
        let mut start = vec![0u32; n + 1];
        for &(a, _, _) in &edges {
            start[a as usize + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut next = start.clone();
        let mut out: Vec<(TxnId, u8)> = vec![(0, 0); edges.len()];
        for (a, b, k) in edges {
            let slot = &mut next[a as usize];
            out[*slot as usize] = (b, k);
            *slot += 1;
        }
        drop(next);
        let mut offsets = vec![0u32; n + 1];
        let mut targets = Vec::with_capacity(out.len());
        let mut kinds: Vec<u8> = Vec::with_capacity(out.len());
        for a in 0..n {
            let adjacent = &mut out[start[a] as usize..start[a + 1] as usize];
            adjacent.sort_unstable_by_key(|&(b, _)| b);
            let mut last: Option<TxnId> = None;
            for &(b, k) in adjacent.iter() {
                if last == Some(b) {
                    if let Some(x) = kinds.last_mut() {
                        *x |= k;
                    }
                    continue;
                }
                last = Some(b);
                targets.push(b);
                kinds.push(k);
            }
            offsets[a + 1] = targets.len() as u32;
        }
        Graph {
            offsets,
            targets,
            kinds,
        }
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// True if the graph has no nodes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of (merged) edges.
    pub fn edge_count(&self) -> usize {
        self.targets.len()
    }

    /// Out-edges of `n`: (target, kinds).
    pub fn out(&self, n: TxnId) -> impl Iterator<Item = (TxnId, u8)> + '_ {
        let (a, b) = (
            self.offsets[n as usize] as usize,
            self.offsets[n as usize + 1] as usize,
        );
        self.targets[a..b]
            .iter()
            .copied()
            .zip(self.kinds[a..b].iter().copied())
    }

    /// The kinds of edge a→b (0 if none).
    pub fn kinds(&self, a: TxnId, b: TxnId) -> u8 {
        self.out(a).find(|&(t, _)| t == b).map_or(0, |(_, k)| k)
    }

    /// The same graph with every edge reversed (counting sort, O(E)).
    fn reversed(&self) -> Graph {
        let n = self.len();
        let mut offsets = vec![0u32; n + 1];
        for &t in &self.targets {
            offsets[t as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut targets = vec![0; self.targets.len()];
        let mut kinds = vec![0; self.targets.len()];
        for a in 0..n as TxnId {
            for (b, k) in self.out(a) {
                let at = fill[b as usize] as usize;
                targets[at] = a;
                kinds[at] = k;
                fill[b as usize] += 1;
            }
        }
        Graph {
            offsets,
            targets,
            kinds,
        }
    }

    /// Strongly connected components with more than one node.
    pub fn sccs(&self) -> Vec<Vec<TxnId>> {
        let n = self.len();
        // Pass 1: finish order by iterative DFS.
        let mut order = Vec::with_capacity(n);
        let mut seen = vec![false; n];
        let mut stack: Vec<(TxnId, usize)> = Vec::new();
        for root in 0..n as TxnId {
            if seen[root as usize] {
                continue;
            }
            seen[root as usize] = true;
            stack.push((root, self.offsets[root as usize] as usize));
            while let Some(&mut (node, ref mut next)) = stack.last_mut() {
                if *next < self.offsets[node as usize + 1] as usize {
                    let t = self.targets[*next];
                    *next += 1;
                    if !seen[t as usize] {
                        seen[t as usize] = true;
                        stack.push((t, self.offsets[t as usize] as usize));
                    }
                } else {
                    order.push(node);
                    stack.pop();
                }
            }
        }
        // Pass 2: on the reversed graph, in reverse finish order.
        let rev = self.reversed();
        let mut comp = vec![u32::MAX; n];
        let mut out = Vec::new();
        let mut todo: Vec<TxnId> = Vec::new();
        for &root in order.iter().rev() {
            if comp[root as usize] != u32::MAX {
                continue;
            }
            let id = out.len() as u32;
            let mut members = vec![root];
            comp[root as usize] = id;
            todo.push(root);
            while let Some(x) = todo.pop() {
                for (y, _) in rev.out(x) {
                    if comp[y as usize] == u32::MAX {
                        comp[y as usize] = id;
                        members.push(y);
                        todo.push(y);
                    }
                }
            }
            out.push(members);
        }
        out.retain(|c| c.len() > 1);
        out
    }
}

/// Strongly connected components with more than one state of a graph
/// given in CSR form over states `0..offsets.len() - 1` (iterative Tarjan,
/// no recursion). Used on small local graphs: one component projected to
/// some edge kinds, or its (node, last edge was rw) state graph.
pub fn local_sccs(offsets: &[u32], targets: &[u32]) -> Vec<Vec<u32>> {
    let n = offsets.len().saturating_sub(1);
    const NONE: u32 = u32::MAX;
    let mut index = vec![NONE; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut frames: Vec<(u32, usize)> = Vec::new();
    let mut next = 0u32;
    let mut out = Vec::new();
    for root in 0..n as u32 {
        if index[root as usize] != NONE {
            continue;
        }
        frames.push((root, offsets[root as usize] as usize));
        index[root as usize] = next;
        low[root as usize] = next;
        next += 1;
        stack.push(root);
        on_stack[root as usize] = true;
        while let Some(&mut (v, ref mut pos)) = frames.last_mut() {
            let end = offsets[v as usize + 1] as usize;
            if *pos < end {
                let w = targets[*pos];
                *pos += 1;
                if index[w as usize] == NONE {
                    index[w as usize] = next;
                    low[w as usize] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w as usize] = true;
                    frames.push((w, offsets[w as usize] as usize));
                } else if on_stack[w as usize] {
                    low[v as usize] = low[v as usize].min(index[w as usize]);
                }
            } else {
                frames.pop();
                if let Some(&(parent, _)) = frames.last() {
                    low[parent as usize] = low[parent as usize].min(low[v as usize]);
                }
                if low[v as usize] == index[v as usize] {
                    let mut comp = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w as usize] = false;
                        comp.push(w);
                        if w == v {
                            break;
                        }
                    }
                    if comp.len() > 1 {
                        out.push(comp);
                    }
                }
            }
        }
    }
    out
}

/// Reusable BFS state (one per thread).
pub struct Search {
    stamp: Vec<u32>,
    parent: Vec<TxnId>,
    round: u32,
    queue: std::collections::VecDeque<TxnId>,
}

impl Search {
    /// State for graphs of `n` nodes.
    pub fn new(n: usize) -> Search {
        Search {
            stamp: vec![0; n],
            parent: vec![0; n],
            round: 0,
            queue: Default::default(),
        }
    }

    /// Shortest path from `from` to `to` using only edges with a kind in
    /// `mask`, staying inside `allowed`; the nodes from `from` to `to`.
    pub fn path(
        &mut self,
        g: &Graph,
        from: TxnId,
        to: TxnId,
        mask: u8,
        allowed: &dyn Fn(TxnId) -> bool,
    ) -> Option<Vec<TxnId>> {
        self.round += 1;
        let r = self.round;
        self.queue.clear();
        self.stamp[from as usize] = r;
        self.queue.push_back(from);
        while let Some(x) = self.queue.pop_front() {
            if x == to {
                let mut p = vec![to];
                let mut cur = to;
                while cur != from {
                    cur = self.parent[cur as usize];
                    p.push(cur);
                }
                p.reverse();
                return Some(p);
            }
            for (y, k) in g.out(x) {
                if k & mask != 0 && self.stamp[y as usize] != r && allowed(y) {
                    self.stamp[y as usize] = r;
                    self.parent[y as usize] = x;
                    self.queue.push_back(y);
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::kind::*;
    use super::*;

    #[test]
    fn sccs_and_paths() {
        // 0 -> 1 -> 2 -> 0 is a cycle; 3 hangs off it.
        let g = Graph::new(
            4,
            vec![(0, 1, WW), (1, 2, WR), (2, 0, RW), (2, 3, WW), (0, 1, RW)],
        );
        assert_eq!(g.kinds(0, 1), WW | RW);
        let mut sccs = g.sccs();
        sccs[0].sort();
        assert_eq!(sccs, vec![vec![0, 1, 2]]);
        let mut s = Search::new(4);
        assert_eq!(s.path(&g, 0, 2, ALL, &|_| true), Some(vec![0, 1, 2]));
        assert_eq!(s.path(&g, 0, 2, WW, &|_| true), None);
    }

    #[test]
    fn local_sccs_agree_with_kosaraju() {
        // 0 <-> 1, 1 -> 2, 2 <-> 3 <-> 4, 5 alone.
        let adj: Vec<Vec<u32>> = vec![vec![1], vec![0, 2], vec![3], vec![2, 4], vec![3], vec![]];
        let mut offsets = vec![0u32];
        let mut targets = Vec::new();
        for a in &adj {
            targets.extend(a);
            offsets.push(targets.len() as u32);
        }
        let mut got: Vec<Vec<u32>> = local_sccs(&offsets, &targets)
            .into_iter()
            .map(|mut c| {
                c.sort();
                c
            })
            .collect();
        got.sort();
        assert_eq!(got, vec![vec![0, 1], vec![2, 3, 4]]);
    }

    #[test]
    fn a_long_cycle_does_not_overflow_the_stack() {
        let n = 300_000u32;
        let edges = (0..n).map(|i| (i, (i + 1) % n, WW)).collect();
        let g = Graph::new(n as usize, edges);
        assert_eq!(g.sccs()[0].len(), n as usize);
    }
}
