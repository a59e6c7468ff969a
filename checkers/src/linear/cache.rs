//! The search's memory: which (set of linearized ops, model state) pairs
//! have been seen, so no configuration is explored twice (Lowe's
//! improvement to Wing & Gong).
//!
//! [`OpSet`] keeps the linearized set as a bitset with a Zobrist hash that
//! is updated in O(1) per op, and a canonical compact form: the words below
//! `lo` are all ones and the words from `hi` on are all zeros, so only
//! `words[lo..hi]` is stored per cache entry. Long histories thus cost
//! memory proportional to the window of concurrent ops, not their length.

use super::hash::{mix64, IdentityBuild};
use std::collections::HashMap;

/// The set of linearized ops of the current search path.
pub(crate) struct OpSet {
    words: Vec<u64>,
    lo: usize,
    hi: usize,
    hash: u64,
}

impl OpSet {
    /// An empty set over `n` ops.
    pub(crate) fn new(n: usize) -> Self {
        OpSet {
            words: vec![0; n.div_ceil(64).max(1)],
            lo: 0,
            hi: 0,
            hash: 0,
        }
    }

    fn op_hash(op: u32) -> u64 {
        mix64(op as u64 ^ 0x5bd1_e995_0000_0000)
    }

    /// Adds `op`, which must not be in the set.
    pub(crate) fn insert(&mut self, op: u32) {
        let w = op as usize / 64;
        self.words[w] |= 1 << (op % 64);
        self.hash ^= Self::op_hash(op);
        if w >= self.hi {
            self.hi = w + 1;
        }
        while self.lo < self.words.len() && self.words[self.lo] == u64::MAX {
            self.lo += 1;
        }
        self.hi = self.hi.max(self.lo);
    }

    /// Removes `op`, which must be in the set.
    pub(crate) fn remove(&mut self, op: u32) {
        let w = op as usize / 64;
        self.words[w] &= !(1 << (op % 64));
        self.hash ^= Self::op_hash(op);
        if w < self.lo {
            self.lo = w;
        }
        while self.hi > self.lo && self.words[self.hi - 1] == 0 {
            self.hi -= 1;
        }
    }

    /// The words that distinguish this set (see the module docs).
    fn window(&self) -> &[u64] {
        &self.words[self.lo..self.hi]
    }
}

struct Entry {
    state: u32,
    lo: u32,
    len: u32,
    next: u32,
    at: usize,
}

const NONE: u32 = u32::MAX;

/// Seen (op set, state) configurations.
pub(crate) struct Cache {
    heads: HashMap<u64, u32, IdentityBuild>,
    entries: Vec<Entry>,
    words: Vec<u64>,
}

impl Cache {
    pub(crate) fn new() -> Self {
        Cache {
            heads: HashMap::default(),
            entries: Vec::new(),
            words: Vec::new(),
        }
    }

    /// Records (`set`, `state`); returns false if it was already there.
    pub(crate) fn insert(&mut self, set: &OpSet, state: u32) -> bool {
        let h = set.hash ^ mix64(state as u64);
        let window = set.window();
        let head = self.heads.get(&h).copied().unwrap_or(NONE);
        let mut e = head;
        while e != NONE {
            let entry = &self.entries[e as usize];
            if entry.state == state
                && entry.lo as usize == set.lo
                && &self.words[entry.at..entry.at + entry.len as usize] == window
            {
                return false;
            }
            e = entry.next;
        }
        let at = self.words.len();
        self.words.extend_from_slice(window);
        self.entries.push(Entry {
            state,
            lo: set.lo as u32,
            len: window.len() as u32,
            next: head,
            at,
        });
        self.heads.insert(h, self.entries.len() as u32 - 1);
        true
    }

    /// Number of configurations recorded.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Approximate heap bytes used.
    pub(crate) fn bytes(&self) -> usize {
        self.words.capacity() * 8
            + self.entries.capacity() * std::mem::size_of::<Entry>()
            + self.heads.capacity() * 16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_windows_compare_equal() {
        let mut a = OpSet::new(200);
        let mut b = OpSet::new(200);
        for op in 0..70 {
            a.insert(op);
        }
        for op in (0..70).rev() {
            b.insert(op);
        }
        a.insert(150);
        b.insert(150);
        a.insert(199);
        a.remove(199);
        assert_eq!((a.lo, a.hi, a.hash), (b.lo, b.hi, b.hash));
        let mut c = Cache::new();
        assert!(c.insert(&a, 3));
        assert!(!c.insert(&b, 3));
        assert!(c.insert(&b, 4));
        b.remove(5);
        assert_eq!(b.lo, 0);
        assert!(c.insert(&b, 3));
        assert_eq!(c.len(), 3);
    }
}
