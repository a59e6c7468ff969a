//! Corruption faults on files at rest, applied to a DB's files while the
//! DB is down: the faults of Jepsen's `jepsen.nemesis.file` (its
//! `corrupt-file` helper) and `jepsen.nemesis/truncate-file`.
//!
//! | fault | does | Jepsen |
//! |---|---|---|
//! | `bitflip` | flips each bit of the chosen chunks with probability `probability` (bit rot) | `:bitflip-file-chunks` |
//! | `truncate` | drops the last `drop` bytes of the file (a torn append) | `:truncate`, `{:drop n}` |
//! | `copy` | copies another chunk over each chosen chunk (a misdirected write) | `:copy-file-chunks` |
//! | `snapshot` | saves the chosen chunks, leaving the file unchanged | `:snapshot-file-chunks` |
//! | `restore` | writes the saved chunks back (a lost write: the chunk rolls back) | `:restore-file-chunks` |
//!
//! Chunks ([`Chunks`]) are Jepsen's: the region `[start, end)` of the file
//! (clipped to its length) is cut into chunks of `size` bytes (1 MiB by
//! default; the last one may be short), numbered from 0 at `start`, and the
//! chosen chunks are those whose number `i` has `i % mod == index`. Giving
//! each of `n` replicas its own `index` with `mod = n` (Jepsen's
//! `helix-gen`) corrupts every replica, but never the same chunk on two of
//! them: a DB that can repair a chunk from another replica survives it.
//! The choice is deterministic; the randomness (which bits flip, which
//! chunk is copied where) comes from a seeded [`fastrand::Rng`], so that
//! a seed reproduces a run.
//!
//! [`apply`] runs one [`Fault`] on every regular file under a root whose
//! path relative to the root matches a glob ([`glob_match`], [`find`]).
//! A fault travels as one command line ([`Fault`]'s `FromStr` and
//! `Display`), e.g. `bitflip chunk=1048576 probability=0.001 mod=3
//! index=1`, and each file changed is reported as one line of JSON
//! ([`Corruption::to_json`]). Snapshots are kept in
//! `<root>.snapshots/` ([`snapshot_dir`]), beside the root, never in it.
//!
//! Where this differs from Jepsen:
//!
//! - **Files.** Jepsen corrupts one named file per operation (or, for
//!   `truncate-file` and `bitflip`, one random file of a directory); this
//!   module corrupts every file the patterns match, each with its own seed
//!   derived from the run's seed and the file's relative path (so adding a
//!   file does not change what happens to the others).
//! - **Bitflip.** Jepsen draws the gaps between flips from an exponential
//!   distribution and forces zero gaps to one, which it notes is an
//!   approximation (it under-flips at high probabilities: with
//!   probability 1 it does not flip every bit). Here every bit flips
//!   independently with exactly the given probability (geometric gaps), so
//!   probability 1 inverts the chosen chunks.
//! - **Snapshot.** Jepsen keeps one file per chunk
//!   (`/tmp/jepsen/corrupt-file/snapshots/<path>:<start>:<end>`), which
//!   accumulate until cleared, and computes each chunk's end as the
//!   previous chunk's *end* (0 at first) plus the chunk size, so the
//!   ranges it saves are the chosen chunks only with `start=0 index=0
//!   mod=1` (or where `end` cuts them). Here a snapshot holds exactly the
//!   chosen chunks of one file, and replaces that file's previous
//!   snapshot.
//! - **Restore.** Jepsen recomputes the chunk choice from the restore's
//!   options and writes back those chunks it has snapshots of; here
//!   restore takes no options and writes back every chunk of the file's
//!   latest snapshot. As in Jepsen, a chunk that now starts at or past the
//!   end of the file is skipped, a restored chunk may extend the file, and
//!   the snapshot is kept (restoring twice restores the same data).
//! - **Truncate.** Jepsen runs `truncate -c -s -N`: the same (a file
//!   shorter than `N` becomes empty; nothing is created). Newer Jepsen
//!   also has `:truncate-file` with a `:size`, negative for dropping; only
//!   dropping is offered here.

use fastrand::Rng;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Jepsen's default chunk size (`corrupt-file --chunk-size`): 1 MiB.
pub const DEFAULT_CHUNK_SIZE: u64 = 1024 * 1024;

/// Jepsen's default bitflip probability, per bit: 1e-6, about eight flips
/// per MiB.
pub const DEFAULT_PROBABILITY: f64 = 1e-6;

/// How much of a file is read or written at a time when copying.
const COPY_WINDOW: u64 = 1024 * 1024;

/// How much of a chunk is read at a time when flipping bits (windows with
/// no flip in them are not read at all).
const FLIP_WINDOW: u64 = 64 * 1024;

/// The first bytes of a snapshot file (format version 1).
const SNAPSHOT_MAGIC: &[u8; 8] = b"FLTSNAP1";

/// An I/O error with the path and the operation in its message.
fn err(path: &Path, what: &str, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {what}: {e}", path.display()))
}

/// An `InvalidInput` error.
fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.into())
}

/// An `InvalidData` error about a snapshot file.
fn bad_snapshot(slot: &Path, what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{}: not a valid snapshot: {what}", slot.display()),
    )
}

/// Refuses a probability outside `[0, 1]` (or NaN).
fn check_probability(p: f64) -> Result<(), String> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(format!("probability {p} must be within [0, 1]"))
    }
}

/// Which chunks of a file a fault affects (Jepsen's `:chunk-size`,
/// `:start`, `:end`, `:mod` and `:i`/`--index`).
///
/// The region `[start, min(end, file length))` is cut into chunks of
/// `size` bytes, numbered from 0 at `start`; the last chunk is cut short
/// at the end of the region. Chunk `i` is chosen when
/// `i % modulus == index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunks {
    /// Bytes per chunk (`chunk=`; 1 MiB by default, as Jepsen's).
    pub size: u64,
    /// Where the region starts, in bytes (`start=`; 0 by default).
    pub start: u64,
    /// Where the region ends, exclusive (`end=`; the end of the file if
    /// `None`, as by default).
    pub end: Option<u64>,
    /// The first chosen chunk (`index=`; 0 by default). Must be less
    /// than `modulus`.
    pub index: u64,
    /// Every how many chunks one is chosen (`mod=`; 1, every chunk, by
    /// default).
    pub modulus: u64,
}

impl Default for Chunks {
    fn default() -> Self {
        Chunks {
            size: DEFAULT_CHUNK_SIZE,
            start: 0,
            end: None,
            index: 0,
            modulus: 1,
        }
    }
}

/// One chunk of a file: its number and its byte range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// The chunk's number, from 0 at the region's start.
    pub index: u64,
    /// Its first byte in the file.
    pub offset: u64,
    /// Its length: the chunk size, or less for the region's last chunk.
    pub len: u64,
}

impl Chunks {
    /// Refuses a zero chunk size or modulus, an index not below the
    /// modulus, and a region ending before it starts (Jepsen's checks).
    pub fn check(&self) -> Result<(), String> {
        if self.size == 0 {
            return Err("chunk size must be positive".into());
        }
        if self.modulus == 0 {
            return Err("mod must be positive".into());
        }
        if self.index >= self.modulus {
            return Err(format!(
                "index {} must fall in [0, {}) (mod {})",
                self.index, self.modulus, self.modulus
            ));
        }
        if let Some(end) = self.end {
            if end < self.start {
                return Err(format!("start {} must not be past end {end}", self.start));
            }
        }
        Ok(())
    }

    /// The end of the region in a file of `len` bytes.
    fn region_end(&self, len: u64) -> u64 {
        self.end.map_or(len, |e| e.min(len))
    }

    /// How many chunks (chosen or not) the region of a file of `len`
    /// bytes holds; 0 for an invalid `Chunks`.
    pub fn count(&self, len: u64) -> u64 {
        let end = self.region_end(len);
        if self.size == 0 || end <= self.start {
            return 0;
        }
        (end - self.start).div_ceil(self.size)
    }

    /// Chunk `i` of a file of `len` bytes, if the region has one.
    pub fn chunk(&self, i: u64, len: u64) -> Option<Chunk> {
        if i >= self.count(len) {
            return None;
        }
        // i < count, so the offset is inside the region: no overflow.
        let offset = self.start + i * self.size;
        let end = offset.saturating_add(self.size).min(self.region_end(len));
        Some(Chunk {
            index: i,
            offset,
            len: end - offset,
        })
    }

    /// Whether chunk `i` is chosen (regardless of the file's length).
    pub fn is_chosen(&self, i: u64) -> bool {
        self.modulus != 0 && i % self.modulus == self.index
    }

    /// The chosen chunks of a file of `len` bytes, in order; none for an
    /// invalid `Chunks`.
    pub fn chosen(&self, len: u64) -> impl Iterator<Item = Chunk> + '_ {
        let count = if self.check().is_ok() {
            self.count(len)
        } else {
            0
        };
        let step = usize::try_from(self.modulus.max(1)).unwrap_or(usize::MAX);
        (self.index..count.max(self.index))
            .step_by(step)
            .filter_map(move |i| self.chunk(i, len))
    }

    /// The numbers of the chosen chunks of a file of `len` bytes.
    pub fn indices(&self, len: u64) -> Vec<u64> {
        self.chosen(len).map(|c| c.index).collect()
    }
}

/// What one fault did to one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Corruption {
    /// The fault's name: `bitflip`, `truncate`, `copy`, `snapshot` or
    /// `restore`.
    pub fault: &'static str,
    /// The file.
    pub file: PathBuf,
    /// The chunk size, for the chunked faults (all but `truncate`).
    pub chunk_size: Option<u64>,
    /// The chunks changed (`bitflip`: those with a flipped bit; `copy`:
    /// the ones overwritten; `restore`: the ones written back) or saved
    /// (`snapshot`), in order.
    pub chunks: Vec<u64>,
    /// For `copy`: the chunk copied over each of `chunks`.
    pub sources: Vec<u64>,
    /// Bytes changed (`bitflip`), dropped (`truncate`), written (`copy`,
    /// `restore`) or saved (`snapshot`).
    pub bytes: u64,
    /// Bits flipped (`bitflip`).
    pub bits: u64,
    /// The file's length before.
    pub size_before: u64,
    /// The file's length after.
    pub size_after: u64,
}

/// A JSON array of numbers.
fn json_numbers(v: &[u64]) -> String {
    let items: Vec<String> = v.iter().map(u64::to_string).collect();
    format!("[{}]", items.join(","))
}

impl Corruption {
    /// A record of nothing done yet to `file`, `size` bytes long.
    fn new(fault: &'static str, file: &Path, size: u64) -> Self {
        Corruption {
            fault,
            file: file.to_path_buf(),
            chunk_size: None,
            chunks: Vec::new(),
            sources: Vec::new(),
            bytes: 0,
            bits: 0,
            size_before: size,
            size_after: size,
        }
    }

    /// Whether the fault neither changed nor saved anything (no chunk
    /// chosen, no bit flipped, no byte dropped, no snapshot to restore).
    pub fn is_noop(&self) -> bool {
        self.chunks.is_empty() && self.bytes == 0
    }

    /// The record as one line of JSON (no newline), e.g.
    /// `{"fault":"copy","file":"/d/x","size_before":8,"size_after":8,"bytes":4,"chunk_size":4,"chunks":[1],"sources":[0]}`.
    /// `chunk_size` and `chunks` appear for the chunked faults, `sources`
    /// for `copy`, `bits` for `bitflip`. A path that is not UTF-8 has its
    /// invalid bytes replaced by U+FFFD.
    pub fn to_json(&self) -> String {
        let mut out = format!(
            "{{\"fault\":{},\"file\":{},\"size_before\":{},\"size_after\":{},\"bytes\":{}",
            crate::json::string(self.fault),
            crate::json::string(&self.file.to_string_lossy()),
            self.size_before,
            self.size_after,
            self.bytes
        );
        if let Some(size) = self.chunk_size {
            out.push_str(&format!(
                ",\"chunk_size\":{size},\"chunks\":{}",
                json_numbers(&self.chunks)
            ));
        }
        if self.fault == "copy" {
            out.push_str(&format!(",\"sources\":{}", json_numbers(&self.sources)));
        }
        if self.fault == "bitflip" {
            out.push_str(&format!(",\"bits\":{}", self.bits));
        }
        out.push('}');
        out
    }
}

/// Opens `path` for reading and writing (never creating it) and returns
/// it with its length.
fn open_rw(path: &Path) -> io::Result<(File, u64)> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| err(path, "opening", e))?;
    let len = file.metadata().map_err(|e| err(path, "stat", e))?.len();
    Ok((file, len))
}

/// The number of bits left alone before the next one flips, when each
/// flips with probability `p`: geometric, `P(gap >= k) = (1 - p)^k`.
/// `u64::MAX` stands for never.
fn gap(p: f64, rng: &mut Rng) -> u64 {
    if p >= 1.0 {
        return 0;
    }
    if p <= 0.0 {
        return u64::MAX;
    }
    // u in (0, 1]; both logarithms are <= 0, ln_1p(-p) < 0: the ratio is
    // >= 0 (possibly infinite, which `as` saturates to u64::MAX).
    let u = 1.0 - rng.f64();
    (u.ln() / (-p).ln_1p()) as u64
}

/// Flips each bit of the chosen chunks of `path` independently with
/// probability `probability` (Jepsen's `bitflip` mode; see the module
/// documentation for how its distribution differs). Bit `k` of a chunk
/// is bit `k % 8` (least significant first) of its byte `k / 8`, as in
/// Jepsen.
pub fn bitflip(
    path: &Path,
    chunks: &Chunks,
    probability: f64,
    rng: &mut Rng,
) -> io::Result<Corruption> {
    chunks
        .check()
        .map_err(|e| invalid(format!("bitflip: {e}")))?;
    check_probability(probability).map_err(|e| invalid(format!("bitflip: {e}")))?;
    let (file, len) = open_rw(path)?;
    let mut rec = Corruption::new("bitflip", path, len);
    rec.chunk_size = Some(chunks.size);
    let mut buf = Vec::new();
    for c in chunks.chosen(len) {
        let bits = c.len.saturating_mul(8);
        let mut pos = gap(probability, rng);
        let mut last_byte = None;
        while pos < bits {
            // A window from the byte holding the next flip.
            let wstart = pos / 8;
            let wlen = (c.len - wstart).min(FLIP_WINDOW);
            buf.resize(wlen as usize, 0);
            file.read_exact_at(&mut buf, c.offset + wstart)
                .map_err(|e| err(path, "reading", e))?;
            let wend = (wstart + wlen) * 8;
            let mut written = 0;
            while pos < wend {
                let byte = pos / 8;
                buf[(byte - wstart) as usize] ^= 1 << (pos % 8);
                rec.bits += 1;
                if last_byte != Some(byte) {
                    rec.bytes += 1;
                    last_byte = Some(byte);
                }
                written = byte - wstart + 1;
                pos = pos.saturating_add(1).saturating_add(gap(probability, rng));
            }
            file.write_all_at(&buf[..written as usize], c.offset + wstart)
                .map_err(|e| err(path, "writing", e))?;
        }
        if last_byte.is_some() {
            rec.chunks.push(c.index);
        }
    }
    if rec.bits > 0 {
        file.sync_all().map_err(|e| err(path, "fsync", e))?;
    }
    Ok(rec)
}

/// Drops the last `drop` bytes of `path` (Jepsen's `truncate-file`:
/// `truncate -c -s -DROP`): a file shorter than that becomes empty; a
/// missing file is an error, not created.
pub fn truncate(path: &Path, drop: u64) -> io::Result<Corruption> {
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| err(path, "opening", e))?;
    let len = file.metadata().map_err(|e| err(path, "stat", e))?.len();
    let new = len.saturating_sub(drop);
    let mut rec = Corruption::new("truncate", path, len);
    if new < len {
        file.set_len(new).map_err(|e| err(path, "truncating", e))?;
        file.sync_all().map_err(|e| err(path, "fsync", e))?;
    }
    rec.bytes = len - new;
    rec.size_after = new;
    Ok(rec)
}

/// Copies `len` bytes of `file` from `from` to `to` (non-overlapping).
fn copy_within(
    file: &File,
    path: &Path,
    from: u64,
    to: u64,
    len: u64,
    buf: &mut Vec<u8>,
) -> io::Result<()> {
    let mut done = 0;
    while done < len {
        let n = (len - done).min(COPY_WINDOW);
        buf.resize(n as usize, 0);
        file.read_exact_at(buf, from + done)
            .map_err(|e| err(path, "reading", e))?;
        file.write_all_at(buf, to + done)
            .map_err(|e| err(path, "writing", e))?;
        done += n;
    }
    Ok(())
}

/// A chunk to copy over chunk `dest`, out of `count` (at least 2):
/// Jepsen's choice, uniformly among the chunks that are not chosen, or,
/// when every chunk is (`mod` 1), among all chunks but `dest`.
fn pick_source(chunks: &Chunks, dest: u64, count: u64, rng: &mut Rng) -> u64 {
    if chunks.modulus == 1 {
        let r = rng.u64(0..count - 1);
        return if r >= dest { r + 1 } else { r };
    }
    // With mod >= 2 and count >= 2, chunks 0 and 1 have different
    // residues, so at least a third of the chunks are unchosen: this
    // ends quickly.
    loop {
        let r = rng.u64(0..count);
        if !chunks.is_chosen(r) {
            return r;
        }
    }
}

/// Copies another chunk of `path` over each chosen chunk (Jepsen's
/// `copy` mode, a misdirected write): the source is a random chunk of the
/// region that is not chosen (so it still holds its own data), or any
/// other chunk when all are chosen. A short last chunk as source fills
/// only its length of the destination. A region of fewer than two chunks
/// is left alone (there is nothing to copy from).
pub fn copy_chunks(path: &Path, chunks: &Chunks, rng: &mut Rng) -> io::Result<Corruption> {
    chunks.check().map_err(|e| invalid(format!("copy: {e}")))?;
    let (file, len) = open_rw(path)?;
    let mut rec = Corruption::new("copy", path, len);
    rec.chunk_size = Some(chunks.size);
    let count = chunks.count(len);
    if count < 2 {
        return Ok(rec);
    }
    let mut buf = Vec::new();
    for c in chunks.chosen(len) {
        let src = pick_source(chunks, c.index, count, rng);
        let Some(s) = chunks.chunk(src, len) else {
            continue;
        };
        let n = c.len.min(s.len);
        copy_within(&file, path, s.offset, c.offset, n, &mut buf)?;
        rec.chunks.push(c.index);
        rec.sources.push(src);
        rec.bytes += n;
    }
    if rec.bytes > 0 {
        file.sync_all().map_err(|e| err(path, "fsync", e))?;
    }
    Ok(rec)
}

/// Where [`apply`] keeps the snapshots of files under `root`: the
/// sibling directory `<root>.snapshots` (never inside the root, so the DB
/// never sees it and [`find`] never matches it). Errors for a root with no
/// last component (`/`, `..`).
pub fn snapshot_dir(root: &Path) -> io::Result<PathBuf> {
    let name = root.file_name().ok_or_else(|| {
        invalid(format!(
            "{}: a root needs a name for its snapshot directory beside it",
            root.display()
        ))
    })?;
    let mut name = name.to_os_string();
    name.push(".snapshots");
    Ok(root.with_file_name(name))
}

/// Removes every snapshot in `store` (Jepsen's `--clear-snapshots`); a
/// missing store is fine.
pub fn clear_snapshots(store: &Path) -> io::Result<()> {
    match fs::remove_dir_all(store) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(err(store, "removing", e)),
        _ => Ok(()),
    }
}

/// FNV-1a, 64 bits.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The snapshot file of the file whose canonical path is `canon`. The
/// path itself is in the file's header, so that a hash collision is
/// caught, not silently restored into the wrong file.
fn slot(store: &Path, canon: &Path) -> PathBuf {
    store.join(format!("{:016x}.snap", fnv1a(canon.as_os_str().as_bytes())))
}

/// Canonical path of `path` (the key of its snapshot).
fn canonical(path: &Path) -> io::Result<PathBuf> {
    fs::canonicalize(path).map_err(|e| err(path, "resolving", e))
}

/// Saves the chosen chunks of `path` in `store` (Jepsen's `snapshot`
/// mode), leaving the file unchanged; [`restore`] writes them back. The
/// snapshot replaces any earlier one of the same file. The store is made
/// (mode 0700) if missing.
///
/// A snapshot file holds `FLTSNAP1`, then little-endian `u64`s: the
/// length of the file's canonical path, the path's bytes, the chunk size,
/// the number of chunks, and for each chunk its number, offset and
/// length; then the chunks' bytes, in order.
pub fn snapshot(path: &Path, chunks: &Chunks, store: &Path) -> io::Result<Corruption> {
    chunks
        .check()
        .map_err(|e| invalid(format!("snapshot: {e}")))?;
    let canon = canonical(path)?;
    let file = File::open(path).map_err(|e| err(path, "opening", e))?;
    let len = file.metadata().map_err(|e| err(path, "stat", e))?.len();
    let chosen: Vec<Chunk> = chunks.chosen(len).collect();

    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(store)
        .map_err(|e| err(store, "making the snapshot directory", e))?;
    let slot = slot(store, &canon);
    // (An unreadable old snapshot is simply replaced.)
    if let Ok(Some(old)) = read_header(&slot) {
        if old.path != canon {
            return Err(io::Error::other(format!(
                "{}: snapshot slot {} already holds {}",
                path.display(),
                slot.display(),
                old.path.display()
            )));
        }
    }

    let mut header = Vec::with_capacity(40 + canon.as_os_str().len() + chosen.len() * 24);
    header.extend_from_slice(SNAPSHOT_MAGIC);
    let pbytes = canon.as_os_str().as_bytes();
    header.extend_from_slice(&(pbytes.len() as u64).to_le_bytes());
    header.extend_from_slice(pbytes);
    header.extend_from_slice(&chunks.size.to_le_bytes());
    header.extend_from_slice(&(chosen.len() as u64).to_le_bytes());
    for c in &chosen {
        for v in [c.index, c.offset, c.len] {
            header.extend_from_slice(&v.to_le_bytes());
        }
    }

    let mut tmp_name = slot.as_os_str().to_os_string();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    let mut out = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| err(&tmp, "creating", e))?;
    out.write_all(&header)
        .map_err(|e| err(&tmp, "writing", e))?;
    let mut rec = Corruption::new("snapshot", path, len);
    rec.chunk_size = Some(chunks.size);
    let mut buf = Vec::new();
    for c in &chosen {
        let mut done = 0;
        while done < c.len {
            let n = (c.len - done).min(COPY_WINDOW);
            buf.resize(n as usize, 0);
            file.read_exact_at(&mut buf, c.offset + done)
                .map_err(|e| err(path, "reading", e))?;
            out.write_all(&buf).map_err(|e| err(&tmp, "writing", e))?;
            done += n;
        }
        rec.chunks.push(c.index);
        rec.bytes += c.len;
    }
    out.sync_all().map_err(|e| err(&tmp, "fsync", e))?;
    drop(out);
    fs::rename(&tmp, &slot).map_err(|e| err(&slot, "renaming the new snapshot", e))?;
    Ok(rec)
}

/// A snapshot file's header.
struct Header {
    /// The canonical path of the file snapshotted.
    path: PathBuf,
    /// Its chunk size.
    chunk_size: u64,
    /// The chunks saved.
    chunks: Vec<Chunk>,
    /// Where the chunks' bytes start in the snapshot file.
    data: u64,
}

/// Reads a little-endian `u64`.
fn read_u64(r: &mut impl Read) -> io::Result<u64> {
    let mut b = [0; 8];
    r.read_exact(&mut b)?;
    Ok(u64::from_le_bytes(b))
}

/// The header of the snapshot file `slot`, or `None` if there is none.
/// Checks that the file holds all the data the header promises.
fn read_header(slot: &Path) -> io::Result<Option<Header>> {
    let file = match File::open(slot) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(err(slot, "opening", e)),
    };
    let size = file.metadata().map_err(|e| err(slot, "stat", e))?.len();
    let short = |e: io::Error| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            bad_snapshot(slot, "truncated header")
        } else {
            err(slot, "reading", e)
        }
    };
    let mut r = BufReader::new(&file);
    let mut magic = [0; 8];
    r.read_exact(&mut magic).map_err(short)?;
    if &magic != SNAPSHOT_MAGIC {
        return Err(bad_snapshot(slot, "wrong magic"));
    }
    let plen = read_u64(&mut r).map_err(short)?;
    if plen > size {
        return Err(bad_snapshot(slot, "path length past the end"));
    }
    let mut pbytes = vec![0; plen as usize];
    r.read_exact(&mut pbytes).map_err(short)?;
    let path = PathBuf::from(std::ffi::OsStr::from_bytes(&pbytes));
    let chunk_size = read_u64(&mut r).map_err(short)?;
    let n = read_u64(&mut r).map_err(short)?;
    let mut pos = 8 + 8 + plen + 8 + 8;
    if n > (size - pos.min(size)) / 24 {
        return Err(bad_snapshot(slot, "chunk count past the end"));
    }
    let mut chunks = Vec::with_capacity(n as usize);
    let mut total: u64 = 0;
    for _ in 0..n {
        let index = read_u64(&mut r).map_err(short)?;
        let offset = read_u64(&mut r).map_err(short)?;
        let len = read_u64(&mut r).map_err(short)?;
        total = total.saturating_add(len);
        chunks.push(Chunk { index, offset, len });
    }
    pos += n * 24;
    if size.checked_sub(pos) != Some(total) {
        return Err(bad_snapshot(
            slot,
            &format!(
                "holds {} data bytes, its header says {total}",
                size - pos.min(size)
            ),
        ));
    }
    Ok(Some(Header {
        path,
        chunk_size,
        chunks,
        data: pos,
    }))
}

/// Writes back into `path` the chunks its latest [`snapshot`] in `store`
/// saved (Jepsen's `restore` mode: a lost write, the chunks roll back).
/// Chunks that now start at or past the end of the file are skipped; a
/// chunk that runs past it extends the file. The snapshot is kept. A file
/// with no snapshot is left alone (the record [`Corruption::is_noop`]).
pub fn restore(path: &Path, store: &Path) -> io::Result<Corruption> {
    let canon = canonical(path)?;
    let slot = slot(store, &canon);
    let (file, len) = open_rw(path)?;
    let mut rec = Corruption::new("restore", path, len);
    let Some(header) = read_header(&slot)? else {
        return Ok(rec);
    };
    if header.path != canon {
        return Err(io::Error::other(format!(
            "{}: snapshot slot {} holds {}",
            path.display(),
            slot.display(),
            header.path.display()
        )));
    }
    rec.chunk_size = Some(header.chunk_size);
    let snap = File::open(&slot).map_err(|e| err(&slot, "opening", e))?;
    let mut from = header.data;
    let mut buf = Vec::new();
    let mut size = len;
    for c in &header.chunks {
        if c.offset < len {
            let mut done = 0;
            while done < c.len {
                let n = (c.len - done).min(COPY_WINDOW);
                buf.resize(n as usize, 0);
                snap.read_exact_at(&mut buf, from + done)
                    .map_err(|e| err(&slot, "reading", e))?;
                file.write_all_at(&buf, c.offset + done)
                    .map_err(|e| err(path, "writing", e))?;
                done += n;
            }
            rec.chunks.push(c.index);
            rec.bytes += c.len;
            size = size.max(c.offset.saturating_add(c.len));
        }
        from += c.len;
    }
    if rec.bytes > 0 {
        file.sync_all().map_err(|e| err(path, "fsync", e))?;
    }
    rec.size_after = size;
    Ok(rec)
}

/// Whether `path` (relative, `/`-separated) matches the glob `pattern`:
/// `*` matches any run of characters but `/`, `**` any run at all (and
/// `**/` zero or more whole directories, so `**/wal/*` matches `wal/1`
/// and `a/b/wal/1`), `?` one character but `/`, `[abc]`, `[a-z]` and
/// `[!abc]` (or `[^abc]`) one character of (or not of) a class, never
/// `/`; `\` makes the next character literal. A `[` with no closing `]`
/// is literal; a leading `.` is not special. The whole path must match.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = path.chars().collect();
    let mut m = Glob {
        memo: vec![None; (p.len() + 1) * (s.len() + 1)],
        p,
        s,
    };
    m.at(0, 0)
}

/// A glob matcher, memoized on (pattern position, path position), so that
/// stars cost polynomial, not exponential, time.
struct Glob {
    p: Vec<char>,
    s: Vec<char>,
    memo: Vec<Option<bool>>,
}

impl Glob {
    /// Whether `p[i..]` matches `s[j..]`.
    fn at(&mut self, i: usize, j: usize) -> bool {
        let key = i * (self.s.len() + 1) + j;
        if let Some(r) = self.memo[key] {
            return r;
        }
        let r = self.step(i, j);
        self.memo[key] = Some(r);
        r
    }

    fn step(&mut self, i: usize, j: usize) -> bool {
        let (plen, slen) = (self.p.len(), self.s.len());
        if i == plen {
            return j == slen;
        }
        let here = self.s.get(j).copied();
        match self.p[i] {
            '*' if self.p.get(i + 1) == Some(&'*') => {
                let mut k = i + 2;
                while self.p.get(k) == Some(&'*') {
                    k += 1;
                }
                let segment_start = i == 0 || self.p[i - 1] == '/';
                if segment_start && self.p.get(k) == Some(&'/') {
                    // `**/`: nothing, or anything up to and including a `/`.
                    if self.at(k + 1, j) {
                        return true;
                    }
                    (j..slen).any(|t| self.s[t] == '/' && self.at(k + 1, t + 1))
                } else {
                    (j..=slen).any(|t| self.at(k, t))
                }
            }
            '*' => {
                let mut t = j;
                loop {
                    if self.at(i + 1, t) {
                        return true;
                    }
                    if t == slen || self.s[t] == '/' {
                        return false;
                    }
                    t += 1;
                }
            }
            '?' => matches!(here, Some(c) if c != '/') && self.at(i + 1, j + 1),
            '[' => match (here, class_end(&self.p, i)) {
                (_, None) => here == Some('[') && self.at(i + 1, j + 1),
                (Some(c), Some(end)) if c != '/' => {
                    class_matches(&self.p[i + 1..end - 1], c) && self.at(end, j + 1)
                }
                _ => false,
            },
            '\\' if i + 1 < plen => here == Some(self.p[i + 1]) && self.at(i + 2, j + 1),
            c => here == Some(c) && self.at(i + 1, j + 1),
        }
    }
}

/// For a `[` at `p[i]`, the position just past its closing `]` (a `]`
/// right after `[`, `[!` or `[^` is a member, not the end), if any.
fn class_end(p: &[char], i: usize) -> Option<usize> {
    let mut k = i + 1;
    if matches!(p.get(k), Some('!' | '^')) {
        k += 1;
    }
    if p.get(k) == Some(&']') {
        k += 1;
    }
    while k < p.len() {
        if p[k] == ']' {
            return Some(k + 1);
        }
        k += 1;
    }
    None
}

/// Whether `c` is in the class whose body (between `[` and `]`) is `body`.
fn class_matches(body: &[char], c: char) -> bool {
    let (negate, body) = match body.first() {
        Some('!' | '^') => (true, &body[1..]),
        _ => (false, body),
    };
    let mut hit = false;
    let mut k = 0;
    while k < body.len() {
        if k + 2 < body.len() && body[k + 1] == '-' {
            hit |= body[k] <= c && c <= body[k + 2];
            k += 3;
        } else {
            hit |= body[k] == c;
            k += 1;
        }
    }
    hit != negate
}

/// The regular files under `root` whose path relative to it (`/`-
/// separated; a name that is not UTF-8 has its invalid bytes replaced by
/// U+FFFD) matches any of `patterns` ([`glob_match`]; a leading `./` or
/// `/` of a pattern is ignored), sorted. Symbolic links are neither
/// followed nor returned (a link could lead out of the root); other
/// special files are skipped.
pub fn find(root: &Path, patterns: &[String]) -> io::Result<Vec<PathBuf>> {
    let patterns: Vec<&str> = patterns
        .iter()
        .map(|p| {
            let mut p = p.as_str();
            loop {
                if let Some(rest) = p.strip_prefix("./") {
                    p = rest;
                } else if let Some(rest) = p.strip_prefix('/') {
                    p = rest;
                } else {
                    return p;
                }
            }
        })
        .collect();
    let mut out = Vec::new();
    walk(root, "", &patterns, &mut out)?;
    out.sort();
    Ok(out)
}

/// Adds the matching files under `dir` (whose path relative to the root
/// is `rel`) to `out`.
fn walk(dir: &Path, rel: &str, patterns: &[&str], out: &mut Vec<PathBuf>) -> io::Result<()> {
    let entries = fs::read_dir(dir).map_err(|e| err(dir, "listing", e))?;
    for entry in entries {
        let entry = entry.map_err(|e| err(dir, "listing", e))?;
        let path = entry.path();
        // DirEntry::file_type does not follow symbolic links.
        let kind = entry.file_type().map_err(|e| err(&path, "stat", e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let rel = if rel.is_empty() {
            name.into_owned()
        } else {
            format!("{rel}/{name}")
        };
        if kind.is_dir() {
            walk(&path, &rel, patterns, out)?;
        } else if kind.is_file() && patterns.iter().any(|p| glob_match(p, &rel)) {
            out.push(path);
        }
    }
    Ok(())
}

/// One corruption fault, as [`apply`] runs it on every file matched.
///
/// As a command line (`FromStr`; `Display` writes it back): the fault's
/// name, then `KEY=VALUE` options, each at most once:
///
/// - `bitflip [chunk=BYTES] [start=BYTE] [end=BYTE] [mod=N] [index=I] [probability=P]`
/// - `truncate drop=BYTES`
/// - `copy [chunk=BYTES] [start=BYTE] [end=BYTE] [mod=N] [index=I]`
/// - `snapshot [chunk=BYTES] [start=BYTE] [end=BYTE] [mod=N] [index=I]`
/// - `restore`
///
/// Defaults are Jepsen's: `chunk=1048576`, `start=0`, no `end` (the end of
/// the file), `mod=1`, `index=0`, `probability=0.000001`.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Flip each bit of the chosen chunks with probability `probability`.
    Bitflip {
        /// The chunks affected.
        chunks: Chunks,
        /// The probability that each bit flips, in `[0, 1]`.
        probability: f64,
    },
    /// Drop the last `drop` bytes of each file.
    Truncate {
        /// Bytes to drop.
        drop: u64,
    },
    /// Copy another chunk over each chosen chunk.
    Copy {
        /// The chunks overwritten.
        chunks: Chunks,
    },
    /// Save the chosen chunks of each file (in [`snapshot_dir`]).
    Snapshot {
        /// The chunks saved.
        chunks: Chunks,
    },
    /// Write back each file's saved chunks.
    Restore,
}

/// The chunk options, in their command-line order.
const CHUNK_KEYS: [&str; 5] = ["chunk", "start", "end", "mod", "index"];

impl Fault {
    /// The fault's name: `bitflip`, `truncate`, `copy`, `snapshot` or
    /// `restore`.
    pub fn name(&self) -> &'static str {
        match self {
            Fault::Bitflip { .. } => "bitflip",
            Fault::Truncate { .. } => "truncate",
            Fault::Copy { .. } => "copy",
            Fault::Snapshot { .. } => "snapshot",
            Fault::Restore => "restore",
        }
    }

    /// Refuses invalid chunks ([`Chunks::check`]) or probability.
    pub fn check(&self) -> Result<(), String> {
        let r = match self {
            Fault::Bitflip {
                chunks,
                probability,
            } => chunks.check().and(check_probability(*probability)),
            Fault::Copy { chunks } | Fault::Snapshot { chunks } => chunks.check(),
            Fault::Truncate { .. } | Fault::Restore => Ok(()),
        };
        r.map_err(|e| format!("{}: {e}", self.name()))
    }
}

impl FromStr for Fault {
    type Err = String;

    fn from_str(line: &str) -> Result<Self, String> {
        let mut words = line.split_whitespace();
        let name = words
            .next()
            .ok_or("no fault: expected bitflip, truncate, copy, snapshot or restore")?;
        let keys: &[&str] = match name {
            "bitflip" => &["chunk", "start", "end", "mod", "index", "probability"],
            "copy" | "snapshot" => &CHUNK_KEYS,
            "truncate" => &["drop"],
            "restore" => &[],
            _ => {
                return Err(format!(
                    "unknown fault {name:?}: expected bitflip, truncate, copy, snapshot or restore"
                ))
            }
        };
        let mut chunks = Chunks::default();
        let mut probability = DEFAULT_PROBABILITY;
        let mut drop = None;
        let mut seen: Vec<&str> = Vec::new();
        for word in words {
            let (key, value) = word
                .split_once('=')
                .ok_or_else(|| format!("{name}: expected KEY=VALUE, got {word:?}"))?;
            if !keys.contains(&key) {
                return Err(if keys.is_empty() {
                    format!("{name} takes no options, got {word:?}")
                } else {
                    format!(
                        "{name}: unknown option {key:?} (it takes {})",
                        keys.join(", ")
                    )
                });
            }
            if seen.contains(&key) {
                return Err(format!("{name}: {key} given twice"));
            }
            seen.push(key);
            let number = || {
                value.parse::<u64>().map_err(|_| {
                    format!("{name}: {key}={value:?}: expected a non-negative integer")
                })
            };
            match key {
                "chunk" => chunks.size = number()?,
                "start" => chunks.start = number()?,
                "end" => chunks.end = Some(number()?),
                "mod" => chunks.modulus = number()?,
                "index" => chunks.index = number()?,
                "drop" => drop = Some(number()?),
                _ => {
                    probability = value
                        .parse::<f64>()
                        .map_err(|_| format!("{name}: probability={value:?}: expected a number"))?
                }
            }
        }
        let fault = match name {
            "bitflip" => Fault::Bitflip {
                chunks,
                probability,
            },
            "copy" => Fault::Copy { chunks },
            "snapshot" => Fault::Snapshot { chunks },
            "truncate" => Fault::Truncate {
                drop: drop.ok_or("truncate needs drop=BYTES")?,
            },
            _ => Fault::Restore,
        };
        fault.check()?;
        Ok(fault)
    }
}

impl fmt::Display for Fault {
    /// The command line that parses back to this fault (options at their
    /// default are left out, but for `chunk` and `probability`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())?;
        let chunks = match self {
            Fault::Bitflip { chunks, .. } | Fault::Copy { chunks } | Fault::Snapshot { chunks } => {
                chunks
            }
            Fault::Truncate { drop } => return write!(f, " drop={drop}"),
            Fault::Restore => return Ok(()),
        };
        write!(f, " chunk={}", chunks.size)?;
        if chunks.start != 0 {
            write!(f, " start={}", chunks.start)?;
        }
        if let Some(end) = chunks.end {
            write!(f, " end={end}")?;
        }
        if chunks.modulus != 1 {
            write!(f, " mod={}", chunks.modulus)?;
        }
        if chunks.index != 0 {
            write!(f, " index={}", chunks.index)?;
        }
        if let Fault::Bitflip { probability, .. } = self {
            write!(f, " probability={probability}")?;
        }
        Ok(())
    }
}

/// The seed of one file's random choices: the run's seed mixed with its
/// path relative to the root (splitmix64's finalizer over FNV-1a).
fn file_seed(seed: u64, rel: &Path) -> u64 {
    let mut z = seed ^ fnv1a(rel.as_os_str().as_bytes());
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Runs `fault` on every regular file under `root` matching any of
/// `patterns` ([`find`]), in path order, each file with its own random
/// generator seeded from `seed` and its relative path, and returns what
/// was done, leaving out the files the fault left alone
/// ([`Corruption::is_noop`]; a `snapshot` that chose no chunk still
/// replaces the file's earlier snapshot). Snapshots live in
/// [`snapshot_dir`]`(root)` (the root resolved first). No file matched is
/// not an error (the result is empty); an error on one file stops the run,
/// and the files before it stay corrupted.
pub fn apply(
    root: &Path,
    patterns: &[String],
    fault: &Fault,
    seed: u64,
) -> io::Result<Vec<Corruption>> {
    fault.check().map_err(invalid)?;
    let root = canonical(root)?;
    let store = snapshot_dir(&root)?;
    let mut out = Vec::new();
    for file in find(&root, patterns)? {
        let rel = file.strip_prefix(&root).unwrap_or(&file);
        let mut rng = Rng::with_seed(file_seed(seed, rel));
        let rec = match fault {
            Fault::Bitflip {
                chunks,
                probability,
            } => bitflip(&file, chunks, *probability, &mut rng)?,
            Fault::Truncate { drop } => truncate(&file, *drop)?,
            Fault::Copy { chunks } => copy_chunks(&file, chunks, &mut rng)?,
            Fault::Snapshot { chunks } => snapshot(&file, chunks, &store)?,
            Fault::Restore => restore(&file, &store)?,
        };
        if !rec.is_noop() {
            out.push(rec);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A fresh directory under the system's temporary directory, removed
    /// when dropped.
    struct Temp(PathBuf);

    impl Temp {
        fn new(tag: &str) -> Temp {
            static N: AtomicU64 = AtomicU64::new(0);
            let p = std::env::temp_dir().join(format!(
                "faultline-corrupt-{}-{tag}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = fs::remove_dir_all(&p);
            fs::create_dir_all(&p).expect("temp dir");
            Temp(p)
        }

        /// Writes `data` to `name` under the directory, returning its path.
        fn file(&self, name: &str, data: &[u8]) -> PathBuf {
            let p = self.0.join(name);
            if let Some(parent) = p.parent() {
                fs::create_dir_all(parent).expect("mkdir");
            }
            fs::write(&p, data).expect("write");
            p
        }
    }

    impl Drop for Temp {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
        let mut v = vec![0; n];
        Rng::with_seed(seed).fill(&mut v);
        v
    }

    /// 200 bytes; region [5, 95) in 10-byte chunks (9 of them); every
    /// third from chunk 1: 1, 4, 7.
    fn sample_chunks() -> Chunks {
        Chunks {
            size: 10,
            start: 5,
            end: Some(95),
            index: 1,
            modulus: 3,
        }
    }

    /// The byte ranges of the chosen chunks, as a membership test.
    fn in_chosen(chunks: &Chunks, len: u64) -> impl Fn(usize) -> bool {
        let ranges: Vec<(u64, u64)> = chunks
            .chosen(len)
            .map(|c| (c.offset, c.offset + c.len))
            .collect();
        move |i| ranges.iter().any(|&(a, b)| (a..b).contains(&(i as u64)))
    }

    #[test]
    fn chunk_selection_by_index_and_mod() {
        let c = sample_chunks();
        assert_eq!(c.count(200), 9);
        assert_eq!(c.indices(200), vec![1, 4, 7]);
        let all: Vec<Chunk> = c.chosen(200).collect();
        assert_eq!(
            all[0],
            Chunk {
                index: 1,
                offset: 15,
                len: 10
            }
        );
        for ch in &all {
            assert_eq!(ch.index % 3, 1);
            assert!(ch.offset >= 5 && ch.offset + ch.len <= 95);
        }
        // A short file cuts the region: [5, 50) is 5 chunks, the last
        // [45, 50) of 5 bytes.
        assert_eq!(c.count(50), 5);
        assert_eq!(c.indices(50), vec![1, 4]);
        assert_eq!(c.chunk(4, 50).map(|c| (c.offset, c.len)), Some((45, 5)));
        // Exhaustively: chosen iff i % mod == index, within the region.
        for modulus in 1..5 {
            for index in 0..modulus {
                let c = Chunks {
                    modulus,
                    index,
                    ..sample_chunks()
                };
                let want: Vec<u64> = (0..9).filter(|i| i % modulus == index).collect();
                assert_eq!(c.indices(200), want, "mod {modulus} index {index}");
            }
        }
        // Nothing past the region, or in an empty file.
        assert!(c.indices(3).is_empty());
        assert!(c.indices(0).is_empty());
        // Defaults: 1 MiB chunks, every one.
        let d = Chunks::default();
        assert_eq!(d.indices(3 * DEFAULT_CHUNK_SIZE + 1), vec![0, 1, 2, 3]);
        // Invalid choices choose nothing and fail check.
        for bad in [
            Chunks { size: 0, ..d },
            Chunks { modulus: 0, ..d },
            Chunks {
                index: 3,
                modulus: 3,
                ..d
            },
            Chunks {
                start: 10,
                end: Some(5),
                ..d
            },
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
            assert!(bad.indices(1 << 30).is_empty());
        }
    }

    #[test]
    fn bitflip_probability_one_inverts_chosen_chunks_only() {
        let t = Temp::new("flip1");
        let orig = random_bytes(200, 1);
        let f = t.file("data", &orig);
        let c = sample_chunks();
        let rec = bitflip(&f, &c, 1.0, &mut Rng::with_seed(7)).unwrap();
        let after = fs::read(&f).unwrap();
        assert_eq!(after.len(), orig.len());
        let chosen = in_chosen(&c, 200);
        for i in 0..orig.len() {
            if chosen(i) {
                assert_eq!(after[i], !orig[i], "byte {i} not inverted");
            } else {
                assert_eq!(after[i], orig[i], "byte {i} changed");
            }
        }
        assert_eq!(rec.chunks, vec![1, 4, 7]);
        assert_eq!(rec.bytes, 30);
        assert_eq!(rec.bits, 240);
        assert_eq!((rec.size_before, rec.size_after), (200, 200));
    }

    #[test]
    fn bitflip_changes_only_chosen_chunks_and_is_seeded() {
        let t = Temp::new("flip");
        let orig = random_bytes(4000, 2);
        let c = Chunks {
            size: 100,
            start: 50,
            end: Some(3900),
            index: 2,
            modulus: 3,
        };
        let run = |name: &str, seed: u64| {
            let f = t.file(name, &orig);
            let rec = bitflip(&f, &c, 0.01, &mut Rng::with_seed(seed)).unwrap();
            (fs::read(&f).unwrap(), rec)
        };
        let (a, rec) = run("a", 1);
        let chosen = in_chosen(&c, 4000);
        let mut bits = 0;
        let mut bytes = 0;
        for i in 0..orig.len() {
            let diff = (a[i] ^ orig[i]).count_ones();
            if !chosen(i) {
                assert_eq!(diff, 0, "byte {i} outside the chosen chunks changed");
            }
            bits += u64::from(diff);
            bytes += u64::from(diff > 0);
        }
        assert_eq!(rec.bits, bits);
        assert_eq!(rec.bytes, bytes);
        // About 1% of 13 chunks x 800 bits: 104 expected.
        assert!((40..200).contains(&bits), "{bits} bits flipped");
        for ch in &rec.chunks {
            assert!(c.is_chosen(*ch));
        }
        let (b, rec_b) = run("b", 1);
        assert_eq!(a, b, "same seed, same flips");
        assert_eq!(
            rec,
            Corruption {
                file: rec.file.clone(),
                ..rec_b
            }
        );
        let (d, _) = run("d", 2);
        assert_ne!(a, d, "another seed, other flips");
        // Probability 0 flips nothing.
        let f = t.file("zero", &orig);
        let rec = bitflip(&f, &c, 0.0, &mut Rng::with_seed(1)).unwrap();
        assert!(rec.is_noop());
        assert_eq!(fs::read(&f).unwrap(), orig);
        // Bad input is an error, not a panic.
        assert!(bitflip(&f, &c, 1.5, &mut Rng::with_seed(1)).is_err());
        assert!(bitflip(&t.0.join("missing"), &c, 0.5, &mut Rng::with_seed(1)).is_err());
    }

    #[test]
    fn bitflip_spans_windows() {
        // A chunk bigger than the flip window, all of it flipped.
        let t = Temp::new("flipbig");
        let n = (FLIP_WINDOW * 2 + 123) as usize;
        let orig = random_bytes(n, 3);
        let f = t.file("data", &orig);
        let c = Chunks {
            size: n as u64,
            ..Chunks::default()
        };
        let rec = bitflip(&f, &c, 1.0, &mut Rng::with_seed(1)).unwrap();
        let after = fs::read(&f).unwrap();
        assert!(after.iter().zip(&orig).all(|(a, o)| *a == !*o));
        assert_eq!(rec.bits, 8 * n as u64);
    }

    #[test]
    fn truncate_drops_exactly() {
        let t = Temp::new("trunc");
        let f = t.file("data", b"abcdefg");
        let rec = truncate(&f, 5).unwrap();
        assert_eq!(fs::read(&f).unwrap(), b"ab");
        assert_eq!((rec.bytes, rec.size_before, rec.size_after), (5, 7, 2));
        let rec = truncate(&f, 5).unwrap();
        assert_eq!(fs::read(&f).unwrap(), b"");
        assert_eq!((rec.bytes, rec.size_before, rec.size_after), (2, 2, 0));
        let rec = truncate(&f, 5).unwrap();
        assert!(rec.is_noop());
        let g = t.file("zero", b"xyz");
        truncate(&g, 0).unwrap();
        assert_eq!(fs::read(&g).unwrap(), b"xyz");
        // A missing file is an error and is not created.
        let missing = t.0.join("missing");
        let e = truncate(&missing, 1).unwrap_err();
        assert!(e.to_string().contains("missing"), "{e}");
        assert!(!missing.exists());
    }

    #[test]
    fn copy_overwrites_chosen_chunks_with_unchosen_ones() {
        let t = Temp::new("copy");
        let orig = random_bytes(200, 4);
        let f = t.file("data", &orig);
        let c = sample_chunks();
        let rec = copy_chunks(&f, &c, &mut Rng::with_seed(5)).unwrap();
        let after = fs::read(&f).unwrap();
        assert_eq!(rec.chunks, vec![1, 4, 7]);
        assert_eq!(rec.sources.len(), 3);
        let chosen = in_chosen(&c, 200);
        for i in 0..orig.len() {
            if !chosen(i) {
                assert_eq!(
                    after[i], orig[i],
                    "byte {i} outside the chosen chunks changed"
                );
            }
        }
        for (dest, src) in rec.chunks.iter().zip(&rec.sources) {
            assert!(!c.is_chosen(*src), "source {src} is itself chosen");
            let d = c.chunk(*dest, 200).unwrap();
            let s = c.chunk(*src, 200).unwrap();
            let n = d.len.min(s.len) as usize;
            let (d, s) = (d.offset as usize, s.offset as usize);
            assert_eq!(after[d..d + n], orig[s..s + n], "chunk {dest} from {src}");
        }
        // Seeded: the same seed picks the same sources.
        let g = t.file("again", &orig);
        let rec2 = copy_chunks(&g, &c, &mut Rng::with_seed(5)).unwrap();
        assert_eq!(rec2.sources, rec.sources);
        assert_eq!(fs::read(&g).unwrap(), after);
        // mod 1: every chunk is overwritten by some other chunk.
        let h = t.file("all", &orig);
        let all = Chunks {
            size: 10,
            ..Chunks::default()
        };
        let rec = copy_chunks(&h, &all, &mut Rng::with_seed(6)).unwrap();
        assert_eq!(rec.chunks, (0..20).collect::<Vec<_>>());
        assert!(rec.chunks.iter().zip(&rec.sources).all(|(d, s)| d != s));
        // A single chunk has nothing to copy from.
        let one = t.file("one", &orig[..10]);
        let rec = copy_chunks(&one, &all, &mut Rng::with_seed(6)).unwrap();
        assert!(rec.is_noop());
        assert_eq!(fs::read(&one).unwrap(), orig[..10]);
    }

    #[test]
    fn snapshot_then_writes_then_restore_rolls_back_chosen_chunks() {
        let t = Temp::new("snap");
        let store = t.0.join("store");
        let orig = random_bytes(200, 8);
        let f = t.file("data", &orig);
        let c = sample_chunks();
        let rec = snapshot(&f, &c, &store).unwrap();
        assert_eq!(rec.chunks, vec![1, 4, 7]);
        assert_eq!(rec.bytes, 30);
        assert_eq!(fs::read(&f).unwrap(), orig, "snapshot changes nothing");
        // Later writes: the whole file rewritten.
        let newer = random_bytes(200, 9);
        fs::write(&f, &newer).unwrap();
        let rec = restore(&f, &store).unwrap();
        assert_eq!(rec.chunks, vec![1, 4, 7]);
        assert_eq!(rec.bytes, 30);
        let after = fs::read(&f).unwrap();
        let chosen = in_chosen(&c, 200);
        for i in 0..200 {
            let want = if chosen(i) { orig[i] } else { newer[i] };
            assert_eq!(after[i], want, "byte {i}");
        }
        // The snapshot is kept: restoring again restores the same.
        fs::write(&f, &newer).unwrap();
        restore(&f, &store).unwrap();
        assert_eq!(fs::read(&f).unwrap(), after);
        // A new snapshot replaces the old one.
        let c2 = Chunks { index: 0, ..c };
        snapshot(&f, &c2, &store).unwrap();
        fs::write(&f, &orig).unwrap();
        let rec = restore(&f, &store).unwrap();
        assert_eq!(rec.chunks, vec![0, 3, 6]);
        // A file with no snapshot is left alone.
        let g = t.file("other", &orig);
        assert!(restore(&g, &store).unwrap().is_noop());
        assert_eq!(fs::read(&g).unwrap(), orig);
    }

    #[test]
    fn restore_skips_chunks_past_the_end() {
        let t = Temp::new("snapshort");
        let store = t.0.join("store");
        let orig = random_bytes(100, 10);
        let f = t.file("data", &orig);
        let c = Chunks {
            size: 10,
            ..Chunks::default()
        };
        snapshot(&f, &c, &store).unwrap();
        // The file shrinks to 25 bytes: chunks 0, 1, 2 start inside it
        // (chunk 2 extends it back to 30 bytes); the rest are skipped.
        fs::write(&f, vec![0; 25]).unwrap();
        let rec = restore(&f, &store).unwrap();
        assert_eq!(rec.chunks, vec![0, 1, 2]);
        assert_eq!((rec.size_before, rec.size_after), (25, 30));
        assert_eq!(fs::read(&f).unwrap(), orig[..30]);
    }

    #[test]
    fn corrupt_snapshot_is_an_error() {
        let t = Temp::new("snapbad");
        let store = t.0.join("store");
        let f = t.file("data", &random_bytes(100, 11));
        snapshot(&f, &Chunks::default(), &store).unwrap();
        let slot = slot(&store, &fs::canonicalize(&f).unwrap());
        let mut bytes = fs::read(&slot).unwrap();
        bytes.pop();
        fs::write(&slot, &bytes).unwrap();
        let e = restore(&f, &store).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{e}");
        fs::write(&slot, b"garbage").unwrap();
        assert!(restore(&f, &store).is_err());
    }

    #[test]
    fn globs() {
        let yes = [
            ("*.log", "server.log"),
            ("*.log", ".log"),
            ("**/wal/*", "wal/000001"),
            ("**/wal/*", "a/b/wal/000001"),
            ("pg_wal/0000*", "pg_wal/000000010000000000000001"),
            ("[ab]?.db", "a1.db"),
            ("[ab]?.db", "bx.db"),
            ("[a-c]*", "cat"),
            ("[!a]*", "bat"),
            ("**", "any/depth/at/all"),
            ("data/**", "data/x/y"),
            ("**.sst", "a/b/c.sst"),
            ("a\\*b", "a*b"),
            ("[x", "[x"),
            ("[]]", "]"),
            ("base/*/*", "base/16384/2619"),
        ];
        let no = [
            ("*.log", "logs/server.log"),
            ("*", "a/b"),
            ("pg_wal/0000*", "pg_wal/archive_status/0000.done"),
            ("pg_wal/0000*", "x/pg_wal/0000"),
            ("[ab]?.db", "c1.db"),
            ("[ab]?.db", "a12.db"),
            ("[ab]?.db", "a/.db"),
            ("?", "/"),
            ("[!a]*", "apple"),
            ("**/wal/*", "wal/a/b"),
            ("**/wal/*", "xwal/1"),
            ("a\\*b", "axb"),
            ("", "a"),
        ];
        for (p, s) in yes {
            assert!(glob_match(p, s), "{p:?} should match {s:?}");
        }
        for (p, s) in no {
            assert!(!glob_match(p, s), "{p:?} should not match {s:?}");
        }
        // Many stars stay fast.
        let long = "a".repeat(200);
        assert!(!glob_match("*a*a*a*a*a*a*a*a*b", &long));
    }

    #[test]
    fn find_walks_without_following_links() {
        let t = Temp::new("find");
        let root = t.0.join("root");
        let outside = t.file("outside/secret.log", b"s");
        t.file("root/a.log", b"1");
        t.file("root/b.txt", b"2");
        t.file("root/logs/c.log", b"3");
        t.file("root/pg_wal/000000010000000000000001", b"4");
        t.file(
            "root/pg_wal/archive_status/000000010000000000000001.done",
            b"5",
        );
        std::os::unix::fs::symlink(&outside, root.join("link.log")).unwrap();
        std::os::unix::fs::symlink(outside.parent().unwrap(), root.join("linkdir")).unwrap();
        let pats = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let found = find(&root, &pats(&["*.log"])).unwrap();
        assert_eq!(found, vec![root.join("a.log")]);
        let found = find(&root, &pats(&["**/*.log"])).unwrap();
        assert_eq!(found, vec![root.join("a.log"), root.join("logs/c.log")]);
        let found = find(&root, &pats(&["/pg_wal/0000*", "./b.txt"])).unwrap();
        assert_eq!(
            found,
            vec![
                root.join("b.txt"),
                root.join("pg_wal/000000010000000000000001")
            ]
        );
        assert!(find(&root, &[]).unwrap().is_empty());
        let e = find(&t.0.join("nope"), &pats(&["*"])).unwrap_err();
        assert!(e.to_string().contains("nope"), "{e}");
    }

    #[test]
    fn parse_and_display() {
        let f: Fault = "bitflip chunk=1048576 probability=0.001 mod=3 index=1"
            .parse()
            .unwrap();
        assert_eq!(
            f,
            Fault::Bitflip {
                chunks: Chunks {
                    size: 1048576,
                    start: 0,
                    end: None,
                    index: 1,
                    modulus: 3
                },
                probability: 0.001
            }
        );
        assert_eq!(
            "bitflip".parse::<Fault>().unwrap(),
            Fault::Bitflip {
                chunks: Chunks::default(),
                probability: DEFAULT_PROBABILITY
            }
        );
        assert_eq!(
            "truncate drop=64".parse::<Fault>().unwrap(),
            Fault::Truncate { drop: 64 }
        );
        assert_eq!("  restore ".parse::<Fault>().unwrap(), Fault::Restore);
        for line in [
            "bitflip chunk=4096 start=10 end=99999 mod=5 index=4 probability=0.5",
            "copy chunk=16 mod=2 index=1",
            "snapshot chunk=1048576 start=128 end=256",
            "truncate drop=0",
            "restore",
        ] {
            let f: Fault = line.parse().unwrap();
            assert_eq!(f.to_string().parse::<Fault>().unwrap(), f, "{line}");
        }
        for bad in [
            "",
            "melt",
            "bitflip probability=2",
            "bitflip probability=nan",
            "bitflip mod=3 index=3",
            "bitflip chunk=0",
            "bitflip start=10 end=5",
            "copy probability=0.5",
            "copy chunk=-1",
            "copy chunk",
            "copy mod=2 mod=3",
            "truncate",
            "truncate drop=x",
            "truncate chunk=1 drop=1",
            "restore chunk=1",
        ] {
            assert!(bad.parse::<Fault>().is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn json_lines() {
        let mut c = Corruption::new("copy", Path::new("/d/we\"ird\\\nname"), 8);
        c.chunk_size = Some(4);
        c.chunks = vec![1];
        c.sources = vec![0];
        c.bytes = 4;
        assert_eq!(
            c.to_json(),
            r#"{"fault":"copy","file":"/d/we\"ird\\\nname","size_before":8,"size_after":8,"bytes":4,"chunk_size":4,"chunks":[1],"sources":[0]}"#
        );
        let mut t = Corruption::new("truncate", Path::new("/x\u{1}"), 10);
        t.bytes = 3;
        t.size_after = 7;
        assert_eq!(
            t.to_json(),
            r#"{"fault":"truncate","file":"/x\u0001","size_before":10,"size_after":7,"bytes":3}"#
        );
        let mut b = Corruption::new("bitflip", Path::new("/y"), 0);
        b.chunk_size = Some(1);
        assert_eq!(
            b.to_json(),
            r#"{"fault":"bitflip","file":"/y","size_before":0,"size_after":0,"bytes":0,"chunk_size":1,"chunks":[],"bits":0}"#
        );
    }

    #[test]
    fn apply_over_a_root() {
        let t = Temp::new("apply");
        let root = t.0.join("db");
        let orig = random_bytes(3000, 12);
        t.file("db/wal/1", &orig);
        t.file("db/wal/2", &orig);
        t.file("db/keep.conf", &orig);
        let pats = vec!["wal/*".to_string()];
        let fault: Fault = "bitflip chunk=100 probability=0.02 mod=2 index=1"
            .parse()
            .unwrap();
        let recs = apply(&root, &pats, &fault, 42).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(fs::read(root.join("keep.conf")).unwrap(), orig);
        let w1 = fs::read(root.join("wal/1")).unwrap();
        let w2 = fs::read(root.join("wal/2")).unwrap();
        assert_ne!(w1, orig);
        assert_ne!(w1, w2, "each file has its own seed");
        // The same seed again reproduces the flips (flipping them back).
        apply(&root, &pats, &fault, 42).unwrap();
        assert_eq!(fs::read(root.join("wal/1")).unwrap(), orig);
        assert_eq!(fs::read(root.join("wal/2")).unwrap(), orig);

        // Snapshot and restore through apply: the store is beside the root.
        let snap: Fault = "snapshot chunk=1000 mod=3 index=2".parse().unwrap();
        let recs = apply(&root, &pats, &snap, 0).unwrap();
        assert_eq!(recs.len(), 2);
        let store = t.0.join("db.snapshots");
        assert_eq!(
            snapshot_dir(&fs::canonicalize(&root).unwrap()).unwrap(),
            fs::canonicalize(&store).unwrap()
        );
        assert!(store.is_dir());
        assert!(find(&root, &["**".to_string()]).unwrap().len() == 3);
        fs::write(root.join("wal/1"), vec![0; 3000]).unwrap();
        let recs = apply(&root, &pats, &Fault::Restore, 0).unwrap();
        assert_eq!(recs.len(), 2);
        let w1 = fs::read(root.join("wal/1")).unwrap();
        assert_eq!(w1[2000..3000], orig[2000..3000]);
        assert!(w1[..2000].iter().all(|&b| b == 0));
        for line in recs.iter().map(Corruption::to_json) {
            assert!(line.starts_with("{\"fault\":\"restore\""), "{line}");
        }

        let trunc = Fault::Truncate { drop: 1000 };
        let recs = apply(&root, &["keep.conf".to_string()], &trunc, 0).unwrap();
        assert_eq!(recs.len(), 1);
        assert_eq!(fs::read(root.join("keep.conf")).unwrap(), orig[..2000]);
        assert!(apply(&root, &["nothing".to_string()], &trunc, 0)
            .unwrap()
            .is_empty());
        clear_snapshots(&store).unwrap();
        assert!(!store.exists());
        clear_snapshots(&store).unwrap();
        assert!(apply(Path::new("/"), &pats, &Fault::Restore, 0).is_err());
    }
}
