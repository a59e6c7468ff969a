//! The unsynced writes of one file, as a page cache would hold them: 4 KiB
//! pages that differ from the backing file, and the file's size as the
//! writer sees it. Reads overlay these pages on the backing file; `fsync`
//! writes them out; a power fault drops them (or, torn, keeps some).
//!
//! Pure data: the backing file is reached through the closures the caller
//! passes, so the semantics are unit-tested without a mount.

use std::collections::BTreeMap;
use std::io;

/// Page size: the unit a torn write keeps or drops.
pub const PAGE: u64 = 4096;

/// Unsynced writes of one file.
#[derive(Debug, Default)]
pub struct Pending {
    /// Page index → the page's whole content as the writer sees it.
    pages: BTreeMap<u64, Box<[u8]>>,
    /// The file's size as the writer sees it.
    size: u64,
}

/// Fills `buf` with the backing file's bytes at `offset`, zeros past its end.
pub type Load<'a> = dyn FnMut(u64, &mut [u8]) -> io::Result<()> + 'a;

impl Pending {
    /// Nothing pending yet, over a backing file of `size` bytes.
    pub fn new(size: u64) -> Pending {
        Pending {
            pages: BTreeMap::new(),
            size,
        }
    }

    /// The size the writer sees.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Whether nothing is pending (no page and the size unchanged is up to
    /// the caller: a size change alone goes straight to the backing file).
    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }

    /// Pending pages.
    pub fn pages(&self) -> usize {
        self.pages.len()
    }

    /// Pending bytes: each page's bytes below the size.
    pub fn bytes(&self) -> u64 {
        self.pages.keys().map(|&i| self.extent(i).1).sum()
    }

    /// Offset and length of page `i` below the size.
    fn extent(&self, i: u64) -> (u64, u64) {
        let start = i * PAGE;
        (start, self.size.saturating_sub(start).min(PAGE))
    }

    /// Writes `data` at `offset`; pages not yet pending are first loaded
    /// from the backing file.
    pub fn write(&mut self, offset: u64, data: &[u8], load: &mut Load<'_>) -> io::Result<()> {
        let end = offset + data.len() as u64;
        let mut at = offset;
        while at < end {
            let i = at / PAGE;
            let in_page = (at % PAGE) as usize;
            let n = ((PAGE - at % PAGE).min(end - at)) as usize;
            let page = match self.pages.entry(i) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => {
                    let mut buf = vec![0u8; PAGE as usize].into_boxed_slice();
                    // Only the part below the current size exists; beyond
                    // it the page reads as zeros (a hole or past the end).
                    let valid = self.size.saturating_sub(i * PAGE).min(PAGE) as usize;
                    if valid > 0 {
                        load(i * PAGE, &mut buf[..valid])?;
                    }
                    e.insert(buf)
                }
            };
            let src = (at - offset) as usize;
            page[in_page..in_page + n].copy_from_slice(&data[src..src + n]);
            at += n as u64;
        }
        self.size = self.size.max(end);
        Ok(())
    }

    /// Reads up to `buf.len()` bytes at `offset` as the writer sees them;
    /// returns how many (fewer at the end of the file).
    pub fn read(&self, offset: u64, buf: &mut [u8], load: &mut Load<'_>) -> io::Result<usize> {
        if offset >= self.size {
            return Ok(0);
        }
        let len = (buf.len() as u64).min(self.size - offset) as usize;
        let mut done = 0usize;
        while done < len {
            let at = offset + done as u64;
            let i = at / PAGE;
            let in_page = (at % PAGE) as usize;
            match self.pages.get(&i) {
                Some(page) => {
                    let n = (PAGE as usize - in_page).min(len - done);
                    buf[done..done + n].copy_from_slice(&page[in_page..in_page + n]);
                    done += n;
                }
                None => {
                    // A run of pages not pending: one read of the backing file.
                    let next = self
                        .pages
                        .range(i..)
                        .next()
                        .map_or(u64::MAX, |(&j, _)| j * PAGE);
                    let n = ((next - at).min((len - done) as u64)) as usize;
                    load(at, &mut buf[done..done + n])?;
                    done += n;
                }
            }
        }
        Ok(len)
    }

    /// The file was truncated (or extended) to `size` in the backing file:
    /// pages past it go, the last one is zeroed past it.
    pub fn truncate(&mut self, size: u64) {
        let first_gone = size.div_ceil(PAGE);
        self.pages.split_off(&first_gone);
        if !size.is_multiple_of(PAGE) {
            if let Some(p) = self.pages.get_mut(&(size / PAGE)) {
                p[(size % PAGE) as usize..].fill(0);
            }
        }
        self.size = size;
    }

    /// Zeroes `[offset, offset + len)` in pending pages (a hole punched in
    /// the backing file, which the caller does).
    pub fn zero(&mut self, offset: u64, len: u64) {
        let end = offset.saturating_add(len);
        for (&i, page) in self.pages.range_mut(offset / PAGE..end.div_ceil(PAGE)) {
            let start = i * PAGE;
            let a = offset.max(start) - start;
            let b = end.min(start + PAGE) - start;
            page[a as usize..b as usize].fill(0);
        }
    }

    /// Writes pending pages out through `store(offset, bytes)`, each page
    /// cut at the size; `keep` chooses which (all, for an fsync; a seeded
    /// subset for a torn write). Returns the pages and bytes written.
    pub fn write_out(
        &self,
        mut keep: impl FnMut(u64) -> bool,
        store: &mut dyn FnMut(u64, &[u8]) -> io::Result<()>,
    ) -> io::Result<(usize, u64)> {
        let (mut pages, mut bytes) = (0, 0);
        for (&i, page) in &self.pages {
            if !keep(i) {
                continue;
            }
            let (start, len) = self.extent(i);
            if len > 0 {
                store(start, &page[..len as usize])?;
                pages += 1;
                bytes += len;
            }
        }
        Ok((pages, bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A backing "file" in memory.
    struct Backing(Vec<u8>);

    impl Backing {
        fn load(&self) -> impl FnMut(u64, &mut [u8]) -> io::Result<()> + '_ {
            move |off, buf| {
                buf.fill(0);
                let off = off as usize;
                if off < self.0.len() {
                    let n = buf.len().min(self.0.len() - off);
                    buf[..n].copy_from_slice(&self.0[off..off + n]);
                }
                Ok(())
            }
        }
        fn store(&mut self) -> impl FnMut(u64, &[u8]) -> io::Result<()> + '_ {
            move |off, data| {
                let off = off as usize;
                if self.0.len() < off + data.len() {
                    self.0.resize(off + data.len(), 0);
                }
                self.0[off..off + data.len()].copy_from_slice(data);
                Ok(())
            }
        }
    }

    fn read_all(p: &Pending, b: &Backing) -> Vec<u8> {
        let mut buf = vec![0u8; p.size() as usize + 10];
        let n = p.read(0, &mut buf, &mut b.load()).unwrap();
        buf.truncate(n);
        buf
    }

    #[test]
    fn reads_see_unsynced_writes_over_the_backing_file() {
        let b = Backing(b"hello world".to_vec());
        let mut p = Pending::new(11);
        p.write(6, b"there, friend", &mut b.load()).unwrap();
        assert_eq!(read_all(&p, &b), b"hello there, friend");
        assert_eq!(p.size(), 19);
        assert_eq!(p.pages(), 1);
        assert_eq!(p.bytes(), 19);
        // The backing file is unchanged until written out.
        assert_eq!(b.0, b"hello world");
    }

    #[test]
    fn writes_across_pages_and_holes_read_back_exactly() {
        let b = Backing(Vec::new());
        let mut p = Pending::new(0);
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        p.write(3 * PAGE + 100, &data, &mut b.load()).unwrap();
        let all = read_all(&p, &b);
        assert_eq!(all.len() as u64, 3 * PAGE + 100 + 10_000);
        assert!(all[..(3 * PAGE + 100) as usize].iter().all(|&x| x == 0));
        assert_eq!(&all[(3 * PAGE + 100) as usize..], &data[..]);
        assert_eq!(p.pages(), 3);
    }

    #[test]
    fn write_out_makes_the_backing_file_what_the_writer_saw() {
        let mut b = Backing(vec![7u8; 5000]);
        let mut p = Pending::new(5000);
        p.write(4090, b"abcdefghijklmnop", &mut b.load()).unwrap();
        p.write(9000, b"tail", &mut b.load()).unwrap();
        let seen = read_all(&p, &b);
        let (pages, bytes) = p.write_out(|_| true, &mut b.store()).unwrap();
        assert_eq!((pages, bytes), (3, 9004));
        assert_eq!(b.0, seen);
    }

    #[test]
    fn a_torn_write_out_keeps_only_the_chosen_pages() {
        let mut b = Backing(vec![1u8; 3 * PAGE as usize]);
        let mut p = Pending::new(3 * PAGE);
        p.write(0, &vec![2u8; 3 * PAGE as usize], &mut b.load())
            .unwrap();
        p.write_out(|i| i == 1, &mut b.store()).unwrap();
        let page = |i: usize| b.0[i * PAGE as usize];
        assert_eq!((page(0), page(1), page(2)), (1, 2, 1));
    }

    #[test]
    fn truncate_drops_pages_past_the_end_and_zeroes_the_last() {
        let b = Backing(Vec::new());
        let mut p = Pending::new(0);
        p.write(0, &vec![9u8; 3 * PAGE as usize], &mut b.load())
            .unwrap();
        p.truncate(PAGE + 10);
        assert_eq!(p.pages(), 2);
        assert_eq!(read_all(&p, &b).len() as u64, PAGE + 10);
        // Extending again shows zeros, not the old bytes.
        p.truncate(2 * PAGE);
        let all = read_all(&p, &b);
        assert!(all[(PAGE + 10) as usize..].iter().all(|&x| x == 0));
        p.zero(0, 5);
        assert_eq!(&read_all(&p, &b)[..6], &[0, 0, 0, 0, 0, 9]);
    }
}
