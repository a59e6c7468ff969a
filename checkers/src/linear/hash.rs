//! Fast, non-cryptographic hashing for the search's tables.
//!
//! The search hashes small integers and model states millions of times;
//! SipHash would dominate. Inputs are not adversarial (they are our own
//! state ids), so an Fx-style multiply-rotate hash is enough.

use std::hash::{BuildHasherDefault, Hasher};

/// The rustc "Fx" hasher: one multiply per word.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

const K: u64 = 0x517c_c1b7_2722_0a95;

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(w));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.write_u64(i as u64);
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(i as u64);
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(K);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// `HashMap` builder for [`FxHasher`].
pub(crate) type FxBuild = BuildHasherDefault<FxHasher>;

/// [`FxHasher`] with its result mixed ([`mix64`]) at the end, for tables
/// keyed by values from the history (register values, partition keys):
/// Fx alone leaves the low bits of an integer's hash to its low bits, so
/// values that are multiples of a power of two would share buckets.
#[derive(Default, Clone, Copy)]
pub(crate) struct MixedHasher(FxHasher);

impl Hasher for MixedHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.write(bytes);
    }
    fn write_u8(&mut self, i: u8) {
        self.0.write_u8(i);
    }
    fn write_u32(&mut self, i: u32) {
        self.0.write_u32(i);
    }
    fn write_u64(&mut self, i: u64) {
        self.0.write_u64(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.0.write_usize(i);
    }
    fn finish(&self) -> u64 {
        mix64(self.0.finish())
    }
}

/// `HashMap` builder for [`MixedHasher`].
pub(crate) type MixedBuild = BuildHasherDefault<MixedHasher>;

/// Hasher for keys that are already uniformly random `u64`s.
#[derive(Default, Clone, Copy)]
pub(crate) struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn write(&mut self, _: &[u8]) {
        unreachable!("IdentityHasher only hashes u64 keys")
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = i;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// `HashMap` builder for [`IdentityHasher`].
pub(crate) type IdentityBuild = BuildHasherDefault<IdentityHasher>;

/// SplitMix64 finalizer: a bijective mix of `x` into a random-looking word.
pub(crate) fn mix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}
