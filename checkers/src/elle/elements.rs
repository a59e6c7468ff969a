//! Dense ids for the elements of a list-append history: each distinct
//! (key, value) pair appended or read gets an [`Elem`], given while the
//! history is decoded, so that the inference indexes arrays where it would
//! otherwise hash millions of pairs.
//!
//! Most reads of a key are a prefix of its longest read so far: their
//! elements are found by comparing with that read, in order, and only the
//! rest are looked up by hashing.

use crate::linear::FxBuild;
use std::collections::HashMap;

/// An element's id: an index into the element table.
pub type Elem = u32;

/// Gives each (key, value) pair its id, and remembers each id's value.
#[derive(Default)]
pub(crate) struct Interner {
    /// Each element's value, by id.
    values: Vec<i64>,
    ids: HashMap<(u32, i64), Elem, FxBuild>,
    /// Per key: the longest read so far, as (value, id) pairs.
    known: Vec<Vec<(i64, Elem)>>,
}

impl Interner {
    /// The id of `val` on `key`.
    pub(crate) fn id(&mut self, key: u32, val: i64) -> Elem {
        let next = self.values.len() as Elem;
        let id = *self.ids.entry((key, val)).or_insert(next);
        if id == next {
            self.values.push(val);
        }
        id
    }

    /// The ids of a read of `key` that returned `xs`.
    pub(crate) fn read(&mut self, key: u32, xs: &[i64]) -> Vec<Elem> {
        let k = key as usize;
        if self.known.len() <= k {
            self.known.resize_with(k + 1, Vec::new);
        }
        let known = &self.known[k];
        let same = xs
            .iter()
            .zip(known)
            .take_while(|(x, (v, _))| *x == v)
            .count();
        let mut out: Vec<Elem> = Vec::with_capacity(xs.len());
        out.extend(known[..same].iter().map(|&(_, id)| id));
        for &x in &xs[same..] {
            out.push(self.id(key, x));
        }
        // A longer read that agrees with the known one is the new one.
        if same == self.known[k].len() && xs.len() > same {
            let known = &mut self.known[k];
            known.extend(xs[same..].iter().copied().zip(out[same..].iter().copied()));
        }
        out
    }

    /// Each element's value, by id.
    pub(crate) fn finish(self) -> Vec<i64> {
        self.values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_id_per_pair_however_it_is_met() {
        let mut i = Interner::default();
        let a = i.id(0, 5);
        let b = i.id(1, 5);
        assert_ne!(a, b);
        assert_eq!(i.id(0, 5), a);
        assert_eq!(i.read(0, &[5, 6]), vec![a, 2]);
        assert_eq!(i.read(0, &[5, 6, 7]), vec![a, 2, 3]);
        // Disagreeing with the longest read: hashed, same ids.
        assert_eq!(i.read(0, &[6, 5, 8]), vec![2, a, 4]);
        assert_eq!(i.read(0, &[5, 6, 7, 8]), vec![a, 2, 3, 4]);
        assert_eq!(i.read(1, &[]), Vec::<Elem>::new());
        assert_eq!(i.read(1, &[5]), vec![b]);
        assert_eq!(i.finish(), vec![5, 5, 6, 7, 8]);
    }
}
