//! A table keyed by register values, for the register shortcuts.
//!
//! The shortcuts look every written and read value up in tables of
//! millions of entries; a hash table spends that time on cache misses, one
//! or two per lookup. Real workloads mostly write integers from a compact
//! range (a counter per key), so when the keys the caller will insert are
//! such integers, [`ValueTable`] keeps them in a vector indexed by value
//! and only the others (null, text, integers out of range) in a hash map.
//! It behaves exactly as a map from value to `T`.

use super::hash::MixedBuild;
use crate::model::Scalar;
use std::collections::HashMap;

/// Slack allowed in the dense range: at most this many slots per key (plus
/// a constant), so sparse integers do not cost a huge vector.
const SLOTS_PER_KEY: usize = 4;

/// A map from register value to `T`, dense for a compact range of integers.
pub(crate) struct ValueTable<'a, T> {
    /// The smallest integer kept in `dense`.
    base: i64,
    /// `dense[v - base]` for the integers in range.
    dense: Vec<Option<T>>,
    /// Every other key.
    sparse: HashMap<&'a Scalar, T, MixedBuild>,
}

impl<'a, T> ValueTable<'a, T> {
    /// An empty table sized for `keys`, the values the caller will insert
    /// (others may be inserted too, at hash-map speed).
    pub(crate) fn for_keys(keys: impl Iterator<Item = &'a Scalar> + Clone) -> Self {
        let (mut lo, mut hi, mut n) = (i64::MAX, i64::MIN, 0usize);
        for k in keys.clone() {
            if let Scalar::Int(v) = k {
                lo = lo.min(*v);
                hi = hi.max(*v);
            }
            n += 1;
        }
        let span = if lo <= hi {
            hi.abs_diff(lo).saturating_add(1)
        } else {
            0
        };
        let dense_ok = span > 0 && span <= (n as u64).saturating_mul(SLOTS_PER_KEY as u64) + 1024;
        let (base, dense) = if dense_ok {
            let mut d = Vec::new();
            d.resize_with(span as usize, || None);
            (lo, d)
        } else {
            (0, Vec::new())
        };
        let sparse_keys = if dense_ok {
            keys.filter(|k| !matches!(k, Scalar::Int(_))).count()
        } else {
            n
        };
        ValueTable {
            base,
            dense,
            sparse: HashMap::with_capacity_and_hasher(sparse_keys, MixedBuild::default()),
        }
    }

    /// The dense slot of `k`, if it has one.
    fn slot(&self, k: &Scalar) -> Option<usize> {
        match k {
            Scalar::Int(v) => {
                let off = v.checked_sub(self.base)?;
                usize::try_from(off).ok().filter(|&o| o < self.dense.len())
            }
            _ => None,
        }
    }

    /// The value for `k`.
    pub(crate) fn get(&self, k: &Scalar) -> Option<&T> {
        match self.slot(k) {
            Some(s) => self.dense[s].as_ref(),
            None => self.sparse.get(k),
        }
    }

    /// The value for `k`, inserting `f()` first if there is none.
    pub(crate) fn get_or_insert_with(&mut self, k: &'a Scalar, f: impl FnOnce() -> T) -> &mut T {
        match self.slot(k) {
            Some(s) => self.dense[s].get_or_insert_with(f),
            None => self.sparse.entry(k).or_insert_with(f),
        }
    }

    /// Sets the value for `k`; the previous one, if any.
    pub(crate) fn insert(&mut self, k: &'a Scalar, v: T) -> Option<T> {
        match self.slot(k) {
            Some(s) => self.dense[s].replace(v),
            None => self.sparse.insert(k, v),
        }
    }

    /// Whether `k` has a value.
    pub(crate) fn contains(&self, k: &Scalar) -> bool {
        self.get(k).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn check_against_map(keys: &[Scalar], probes: &[Scalar]) {
        let mut t: ValueTable<'_, usize> = ValueTable::for_keys(keys.iter());
        let mut m: HashMap<&Scalar, usize> = HashMap::new();
        for (i, k) in keys.iter().chain(probes).enumerate() {
            assert_eq!(t.insert(k, i), m.insert(k, i));
            *t.get_or_insert_with(k, || 0) += 1;
            *m.entry(k).or_insert(0) += 1;
        }
        for k in keys.iter().chain(probes) {
            assert_eq!(t.get(k), m.get(k));
            assert_eq!(t.contains(k), m.contains_key(k));
        }
    }

    #[test]
    fn behaves_as_a_map_dense_or_not() {
        let ints = |r: std::ops::Range<i64>| r.map(Scalar::Int).collect::<Vec<_>>();
        let others = vec![
            Scalar::Null,
            Scalar::Text(Arc::from("\"a\"")),
            Scalar::Int(i64::MIN),
            Scalar::Int(i64::MAX),
            Scalar::Int(-7),
            Scalar::Int(1 << 40),
        ];
        check_against_map(&ints(0..100), &others);
        check_against_map(&ints(-50..50), &others);
        let sparse: Vec<Scalar> = (0..100).map(|i| Scalar::Int(i << 30)).collect();
        check_against_map(&sparse, &others);
        let mut mixed = others.clone();
        mixed.extend(ints(5..10));
        check_against_map(&mixed, &ints(0..20));
        check_against_map(&[], &others);
        check_against_map(&[Scalar::Int(i64::MIN), Scalar::Int(i64::MAX)], &others);
    }
}
