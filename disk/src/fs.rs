//! The filesystem: a passthrough to a backing directory whose file writes
//! stay in memory ([`Pending`]) until the file is fsynced.
//!
//! What passes straight through to the backing directory: every metadata
//! operation (create, mkdir, mknod, symlink, link, rename, unlink, rmdir,
//! chmod, chown, utimes, truncate, xattrs), so, like LazyFS, the layer
//! never loses a directory entry; and writes through a handle opened with
//! `O_SYNC`, `O_DSYNC` or `O_DIRECT` (the data reached the device). What
//! stays in memory: every other write, until `fsync`/`fdatasync` of that
//! file, or a [`Layer::checkpoint`]. Reads, `stat` sizes and (through the
//! kernel's page cache, which FUSE fills from these reads) `mmap` see the
//! unsynced data. The backing directory is what survives a power fault;
//! the layer does not fsync it (the host does not lose power).
//!
//! The kernel is told nothing may be cached: entry and attribute timeouts
//! are zero, no FUSE writeback cache is asked for (dirty pages would sit in
//! the kernel, out of our reach), and open files do not keep their page
//! cache across opens; after a fault the affected inodes are invalidated.

use crate::pages::{Pending, PAGE};
use fuser::{
    Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo, LockOwner,
    OpenFlags, RenameFlags, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty,
    ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite, ReplyXattr, Request, TimeOrNow, WriteFlags,
};
use std::collections::HashMap;
use std::ffi::{CString, OsStr};
use std::fs::{File, Metadata, OpenOptions};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Nothing is cached by the kernel.
const TTL: Duration = Duration::ZERO;

/// An open file.
struct Handle {
    ino: u64,
    file: Arc<File>,
    /// Opened `O_SYNC`, `O_DSYNC` or `O_DIRECT`: writes go through.
    sync: bool,
}

/// What the layer holds for one file.
#[derive(Default)]
struct FileState {
    /// Unsynced writes, if any.
    pending: Option<Pending>,
    /// A backing descriptor to write them out through (the file may be
    /// closed, renamed or unlinked by then).
    file: Option<Arc<File>>,
}

/// Files and bytes, for reports.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    /// (path inside the mount, bytes) per file.
    pub files: Vec<(String, u64)>,
    /// Pages.
    pub pages: usize,
    /// Bytes.
    pub bytes: u64,
}

impl Tally {
    fn add(&mut self, path: String, pages: usize, bytes: u64) {
        if pages > 0 {
            self.files.push((path, bytes));
            self.pages += pages;
            self.bytes += bytes;
        }
    }
}

/// The layer's state, shared by the FUSE session and the control socket.
pub struct Layer {
    root: PathBuf,
    root_ino: u64,
    paths: Mutex<HashMap<u64, PathBuf>>,
    files: Mutex<HashMap<u64, Arc<Mutex<FileState>>>>,
    handles: Mutex<HashMap<u64, Arc<Handle>>>,
    next_fh: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn errno(e: io::Error) -> Errno {
    Errno::from(e)
}

fn cstr(p: &Path) -> Result<CString, Errno> {
    CString::new(p.as_os_str().as_bytes()).map_err(|_| Errno::EINVAL)
}

fn check(r: libc::c_int) -> Result<(), Errno> {
    if r < 0 {
        Err(errno(io::Error::last_os_error()))
    } else {
        Ok(())
    }
}

fn time(secs: i64, nsecs: i64) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::new(secs as u64, nsecs as u32)
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs()) + Duration::from_nanos(nsecs as u64)
    }
}

fn kind(mode: u32) -> FileType {
    match mode & libc::S_IFMT {
        libc::S_IFDIR => FileType::Directory,
        libc::S_IFLNK => FileType::Symlink,
        libc::S_IFBLK => FileType::BlockDevice,
        libc::S_IFCHR => FileType::CharDevice,
        libc::S_IFIFO => FileType::NamedPipe,
        libc::S_IFSOCK => FileType::Socket,
        _ => FileType::RegularFile,
    }
}

/// Reads at `offset` until `buf` is full or the file ends; zeros after.
fn read_full(file: &File, offset: u64, buf: &mut [u8]) -> io::Result<()> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf[done..].fill(0);
    Ok(())
}

impl Layer {
    /// A layer over the backing directory `root`.
    pub fn new(root: &Path) -> io::Result<Layer> {
        let root = root.canonicalize()?;
        let root_ino = std::fs::metadata(&root)?.ino();
        let mut paths = HashMap::new();
        paths.insert(INodeNo::ROOT.0, PathBuf::new());
        Ok(Layer {
            root,
            root_ino,
            paths: Mutex::new(paths),
            files: Mutex::new(HashMap::new()),
            handles: Mutex::new(HashMap::new()),
            next_fh: AtomicU64::new(1),
        })
    }

    /// The backing directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The FUSE inode number of a backing inode (the backing root is 1).
    fn ino_of(&self, st_ino: u64) -> u64 {
        if st_ino == self.root_ino {
            INodeNo::ROOT.0
        } else if st_ino == INodeNo::ROOT.0 {
            self.root_ino
        } else {
            st_ino
        }
    }

    fn rel(&self, ino: u64) -> Result<PathBuf, Errno> {
        lock(&self.paths).get(&ino).cloned().ok_or(Errno::ENOENT)
    }

    fn real(&self, ino: u64) -> Result<PathBuf, Errno> {
        Ok(self.root.join(self.rel(ino)?))
    }

    fn child(&self, parent: u64, name: &OsStr) -> Result<(PathBuf, PathBuf), Errno> {
        let rel = self.rel(parent)?.join(name);
        Ok((self.root.join(&rel), rel))
    }

    fn state(&self, ino: u64) -> Arc<Mutex<FileState>> {
        lock(&self.files).entry(ino).or_default().clone()
    }

    fn existing_state(&self, ino: u64) -> Option<Arc<Mutex<FileState>>> {
        lock(&self.files).get(&ino).cloned()
    }

    fn handle(&self, fh: FileHandle) -> Result<Arc<Handle>, Errno> {
        lock(&self.handles).get(&fh.0).cloned().ok_or(Errno::EBADF)
    }

    fn attr(&self, meta: &Metadata) -> FileAttr {
        let ino = self.ino_of(meta.ino());
        let mut size = meta.size();
        if let Some(s) = self.existing_state(ino) {
            if let Some(p) = &lock(&s).pending {
                size = p.size();
            }
        }
        FileAttr {
            ino: INodeNo(ino),
            size,
            blocks: meta.blocks().max(size.div_ceil(512)),
            atime: time(meta.atime(), meta.atime_nsec()),
            mtime: time(meta.mtime(), meta.mtime_nsec()),
            ctime: time(meta.ctime(), meta.ctime_nsec()),
            crtime: UNIX_EPOCH,
            kind: kind(meta.mode()),
            perm: (meta.mode() & 0o7777) as u16,
            nlink: meta.nlink() as u32,
            uid: meta.uid(),
            gid: meta.gid(),
            rdev: meta.rdev() as u32,
            blksize: PAGE as u32,
            flags: 0,
        }
    }

    /// Looks `rel` up in the backing directory and remembers its path.
    fn entry(&self, real: &Path, rel: PathBuf) -> Result<FileAttr, Errno> {
        let meta = std::fs::symlink_metadata(real).map_err(errno)?;
        let attr = self.attr(&meta);
        lock(&self.paths).insert(attr.ino.0, rel);
        Ok(attr)
    }

    /// Gives a new node the caller's ownership (the daemon runs as root).
    fn own(&self, real: &Path, req: &Request) -> Result<(), Errno> {
        let c = cstr(real)?;
        // SAFETY: c is a valid NUL-terminated path.
        check(unsafe { libc::lchown(c.as_ptr(), req.uid(), req.gid()) })
    }

    fn new_handle(&self, ino: u64, file: File, flags: i32) -> u64 {
        let fh = self.next_fh.fetch_add(1, Ordering::Relaxed);
        let sync = flags & (libc::O_SYNC | libc::O_DSYNC | libc::O_DIRECT) != 0;
        let h = Handle {
            ino,
            file: Arc::new(file),
            sync,
        };
        lock(&self.handles).insert(fh, Arc::new(h));
        fh
    }

    /// Opens a backing file read-write where possible (to write pending
    /// pages out later), without the flags the layer handles itself.
    fn open_backing(path: &Path, flags: i32, create: Option<u32>) -> io::Result<File> {
        let drop = libc::O_CREAT
            | libc::O_EXCL
            | libc::O_TRUNC
            | libc::O_APPEND
            | libc::O_DIRECT
            | libc::O_SYNC
            | libc::O_DSYNC
            | libc::O_ACCMODE;
        let extra = flags & !drop;
        let open = |read: bool, write: bool| {
            let mut o = OpenOptions::new();
            o.read(read).write(write).custom_flags(extra);
            if let Some(mode) = create {
                o.create(true).mode(mode);
                if flags & libc::O_EXCL != 0 {
                    o.create_new(true);
                }
            }
            o.open(path)
        };
        match open(true, true) {
            Ok(f) => Ok(f),
            Err(e) if e.raw_os_error() == Some(libc::EISDIR) => Err(e),
            Err(_) => match flags & libc::O_ACCMODE {
                libc::O_WRONLY => open(false, true),
                libc::O_RDWR => open(true, true),
                _ => open(true, false),
            },
        }
    }

    /// Writes one file's pending pages out (all, or those `keep` picks),
    /// and forgets the rest. Returns (pages, bytes) written and dropped.
    fn settle(
        &self,
        st: &mut FileState,
        keep: impl FnMut(u64) -> bool,
    ) -> io::Result<((usize, u64), (usize, u64))> {
        let Some(p) = st.pending.take() else {
            return Ok(((0, 0), (0, 0)));
        };
        let file = match &st.file {
            Some(f) => f.clone(),
            None => {
                st.pending = Some(p);
                return Err(io::Error::other("pending writes without a backing file"));
            }
        };
        let mut store = |off: u64, data: &[u8]| file.write_all_at(data, off);
        let written = match p.write_out(keep, &mut store) {
            Ok(w) => w,
            Err(e) => {
                st.pending = Some(p);
                return Err(e);
            }
        };
        let dropped = (p.pages() - written.0, p.bytes() - written.1);
        Ok((written, dropped))
    }

    fn path_name(&self, ino: u64) -> String {
        lock(&self.paths)
            .get(&ino)
            .map_or_else(|| format!("(inode {ino})"), |p| p.display().to_string())
    }

    /// Every file with pending writes, sorted by path (stable for seeds).
    fn pending_files(&self) -> Vec<(String, u64, Arc<Mutex<FileState>>)> {
        let files: Vec<(u64, Arc<Mutex<FileState>>)> = lock(&self.files)
            .iter()
            .map(|(i, s)| (*i, s.clone()))
            .collect();
        let mut v: Vec<_> = files
            .into_iter()
            .filter(|(_, s)| lock(s).pending.is_some())
            .map(|(i, s)| (self.path_name(i), i, s))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        v
    }

    /// What is pending: files, pages and bytes not yet fsynced.
    pub fn report(&self) -> Tally {
        let mut t = Tally::default();
        for (path, _, s) in self.pending_files() {
            if let Some(p) = &lock(&s).pending {
                t.add(path, p.pages(), p.bytes());
            }
        }
        t
    }

    /// Writes everything pending out, as if every file were fsynced.
    pub fn checkpoint(&self) -> io::Result<Tally> {
        let mut t = Tally::default();
        for (path, _, s) in self.pending_files() {
            let ((pages, bytes), _) = self.settle(&mut lock(&s), |_| true)?;
            t.add(path, pages, bytes);
        }
        Ok(t)
    }

    /// A power fault: drops every unsynced write, or with `torn =
    /// Some((seed, keep))` writes a seeded random subset of the pending
    /// pages out (each with probability `keep`) and drops the rest.
    /// Returns (dropped, kept) and the inodes whose content changed.
    pub fn lose(&self, torn: Option<(u64, f64)>) -> io::Result<(Tally, Tally, Vec<u64>)> {
        let mut rng = torn.map(|(seed, _)| fastrand::Rng::with_seed(seed));
        let keep_p = torn.map_or(0.0, |(_, k)| k);
        let (mut dropped, mut kept, mut inos) = (Tally::default(), Tally::default(), Vec::new());
        for (path, ino, s) in self.pending_files() {
            let mut st = lock(&s);
            let (w, d) = match rng.as_mut() {
                Some(r) => self.settle(&mut st, |_| r.f64() < keep_p)?,
                None => {
                    let p = st.pending.take().unwrap_or_default();
                    ((0, 0), (p.pages(), p.bytes()))
                }
            };
            dropped.add(path.clone(), d.0, d.1);
            kept.add(path, w.0, w.1);
            inos.push(ino);
        }
        Ok((dropped, kept, inos))
    }

    /// Renames in the path table: `from` (and everything under it) is now
    /// `to`; with `exchange`, `to` is now `from` too.
    fn renamed(&self, from: &Path, to: &Path, exchange: bool) {
        let join = |base: &Path, rest: &Path| {
            if rest.as_os_str().is_empty() {
                base.to_path_buf()
            } else {
                base.join(rest)
            }
        };
        if from == to {
            return;
        }
        let mut paths = lock(&self.paths);
        if !exchange {
            // What `to` named before is gone (replaced): its inode keeps
            // no path, so reports do not name two files the same.
            paths.retain(|_, p| !p.starts_with(to));
        }
        for p in paths.values_mut() {
            if let Ok(rest) = p.strip_prefix(from) {
                *p = join(to, rest);
            } else if exchange {
                if let Ok(rest) = p.strip_prefix(to) {
                    *p = join(from, rest);
                }
            }
        }
    }
}

/// The FUSE side of a [`Layer`].
pub struct Fs(pub Arc<Layer>);

impl Fs {
    fn reply_entry(&self, r: Result<FileAttr, Errno>, reply: ReplyEntry) {
        match r {
            Ok(a) => reply.entry(&TTL, &a, Generation(0)),
            Err(e) => reply.error(e),
        }
    }

    fn getattr_of(&self, ino: u64, fh: Option<FileHandle>) -> Result<FileAttr, Errno> {
        let l = &self.0;
        let meta = match fh.map(|f| l.handle(f)) {
            Some(Ok(h)) => h.file.metadata().map_err(errno)?,
            _ => std::fs::symlink_metadata(l.real(ino)?).map_err(errno)?,
        };
        Ok(l.attr(&meta))
    }

    #[allow(clippy::too_many_arguments)]
    fn setattr_inner(
        &self,
        ino: u64,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        fh: Option<FileHandle>,
    ) -> Result<FileAttr, Errno> {
        let l = &self.0;
        let real = l.real(ino)?;
        let c = cstr(&real)?;
        let handle = fh.and_then(|f| l.handle(f).ok());
        if let Some(m) = mode {
            // SAFETY: c is a valid path.
            check(unsafe { libc::chmod(c.as_ptr(), m & 0o7777) })?;
        }
        if uid.is_some() || gid.is_some() {
            let (u, g) = (uid.unwrap_or(u32::MAX), gid.unwrap_or(u32::MAX));
            // SAFETY: c is a valid path; -1 leaves an id unchanged.
            check(unsafe { libc::lchown(c.as_ptr(), u, g) })?;
        }
        if let Some(s) = size {
            match &handle {
                Some(h) => h.file.set_len(s).map_err(errno)?,
                None => OpenOptions::new()
                    .write(true)
                    .open(&real)
                    .and_then(|f| f.set_len(s))
                    .map_err(errno)?,
            }
            if let Some(st) = l.existing_state(ino) {
                if let Some(p) = lock(&st).pending.as_mut() {
                    p.truncate(s);
                }
            }
        }
        if atime.is_some() || mtime.is_some() {
            let spec = |t: Option<TimeOrNow>| match t {
                None => libc::timespec {
                    tv_sec: 0,
                    tv_nsec: libc::UTIME_OMIT,
                },
                Some(TimeOrNow::Now) => libc::timespec {
                    tv_sec: 0,
                    tv_nsec: libc::UTIME_NOW,
                },
                Some(TimeOrNow::SpecificTime(t)) => {
                    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
                    libc::timespec {
                        tv_sec: d.as_secs() as libc::time_t,
                        tv_nsec: d.subsec_nanos() as libc::c_long,
                    }
                }
            };
            let times = [spec(atime), spec(mtime)];
            // SAFETY: c is a valid path and times two timespecs.
            check(unsafe {
                libc::utimensat(
                    libc::AT_FDCWD,
                    c.as_ptr(),
                    times.as_ptr(),
                    libc::AT_SYMLINK_NOFOLLOW,
                )
            })?;
        }
        self.getattr_of(ino, fh)
    }

    fn write_inner(&self, fh: FileHandle, offset: u64, data: &[u8]) -> Result<u32, Errno> {
        let l = &self.0;
        let h = l.handle(fh)?;
        let st = l.state(h.ino);
        let mut st = lock(&st);
        if h.sync && st.pending.is_none() {
            h.file.write_all_at(data, offset).map_err(errno)?;
            return Ok(data.len() as u32);
        }
        if st.pending.is_none() {
            let size = h.file.metadata().map_err(errno)?.len();
            st.pending = Some(Pending::new(size));
        }
        if st.file.is_none() {
            st.file = Some(h.file.clone());
        }
        let file = h.file.clone();
        let mut load = |off: u64, buf: &mut [u8]| read_full(&file, off, buf);
        if let Some(p) = st.pending.as_mut() {
            p.write(offset, data, &mut load).map_err(errno)?;
        }
        if h.sync {
            // Synchronous: these bytes are durable now; other pending
            // writes of the file stay pending.
            h.file.write_all_at(data, offset).map_err(errno)?;
        }
        Ok(data.len() as u32)
    }

    fn read_inner(&self, fh: FileHandle, offset: u64, size: u32) -> Result<Vec<u8>, Errno> {
        let l = &self.0;
        let h = l.handle(fh)?;
        let mut buf = vec![0u8; size as usize];
        let file = h.file.clone();
        let mut load = |off: u64, b: &mut [u8]| read_full(&file, off, b);
        let st = l.existing_state(h.ino);
        let guard = st.as_ref().map(|s| lock(s));
        let n = match guard.as_ref().and_then(|g| g.pending.as_ref()) {
            Some(p) => p.read(offset, &mut buf, &mut load).map_err(errno)?,
            None => {
                let mut done = 0;
                while done < buf.len() {
                    match h.file.read_at(&mut buf[done..], offset + done as u64) {
                        Ok(0) => break,
                        Ok(n) => done += n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(errno(e)),
                    }
                }
                done
            }
        };
        buf.truncate(n);
        Ok(buf)
    }

    fn fsync_inner(&self, ino: u64, fh: FileHandle) -> Result<(), Errno> {
        let l = &self.0;
        let Some(st) = l.existing_state(ino) else {
            return Ok(());
        };
        let mut st = lock(&st);
        if st.file.is_none() {
            st.file = l.handle(fh).ok().map(|h| h.file.clone());
        }
        l.settle(&mut st, |_| true).map_err(errno)?;
        Ok(())
    }

    fn xattr_reply(size: u32, r: isize, buf: &[u8], reply: ReplyXattr) {
        if r < 0 {
            reply.error(errno(io::Error::last_os_error()));
        } else if size == 0 {
            reply.size(r as u32);
        } else {
            reply.data(&buf[..r as usize]);
        }
    }
}

impl Filesystem for Fs {
    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let r = self
            .0
            .child(parent.0, name)
            .and_then(|(real, rel)| self.0.entry(&real, rel));
        self.reply_entry(r, reply);
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, fh: Option<FileHandle>, reply: ReplyAttr) {
        match self.getattr_of(ino.0, fh) {
            Ok(a) => reply.attr(&TTL, &a),
            Err(e) => reply.error(e),
        }
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        match self.setattr_inner(ino.0, mode, uid, gid, size, atime, mtime, fh) {
            Ok(a) => reply.attr(&TTL, &a),
            Err(e) => reply.error(e),
        }
    }

    fn readlink(&self, _req: &Request, ino: INodeNo, reply: ReplyData) {
        match self
            .0
            .real(ino.0)
            .and_then(|p| std::fs::read_link(p).map_err(errno))
        {
            Ok(t) => reply.data(t.as_os_str().as_bytes()),
            Err(e) => reply.error(e),
        }
    }

    fn mknod(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        rdev: u32,
        reply: ReplyEntry,
    ) {
        let r = (|| {
            let (real, rel) = self.0.child(parent.0, name)?;
            let c = cstr(&real)?;
            // SAFETY: c is a valid path.
            check(unsafe { libc::mknod(c.as_ptr(), mode & !umask, rdev as libc::dev_t) })?;
            self.0.own(&real, req)?;
            self.0.entry(&real, rel)
        })();
        self.reply_entry(r, reply);
    }

    fn mkdir(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        reply: ReplyEntry,
    ) {
        let r = (|| {
            let (real, rel) = self.0.child(parent.0, name)?;
            let c = cstr(&real)?;
            // SAFETY: c is a valid path.
            check(unsafe { libc::mkdir(c.as_ptr(), (mode & !umask) as libc::mode_t) })?;
            self.0.own(&real, req)?;
            self.0.entry(&real, rel)
        })();
        self.reply_entry(r, reply);
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        match self
            .0
            .child(parent.0, name)
            .and_then(|(real, _)| std::fs::remove_file(real).map_err(errno))
        {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        match self
            .0
            .child(parent.0, name)
            .and_then(|(real, _)| std::fs::remove_dir(real).map_err(errno))
        {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn symlink(
        &self,
        req: &Request,
        parent: INodeNo,
        link_name: &OsStr,
        target: &Path,
        reply: ReplyEntry,
    ) {
        let r = (|| {
            let (real, rel) = self.0.child(parent.0, link_name)?;
            std::os::unix::fs::symlink(target, &real).map_err(errno)?;
            self.0.own(&real, req)?;
            self.0.entry(&real, rel)
        })();
        self.reply_entry(r, reply);
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        let r = (|| {
            let (from, from_rel) = self.0.child(parent.0, name)?;
            let (to, to_rel) = self.0.child(newparent.0, newname)?;
            let (a, b) = (cstr(&from)?, cstr(&to)?);
            // SAFETY: a and b are valid paths.
            check(unsafe {
                libc::renameat2(
                    libc::AT_FDCWD,
                    a.as_ptr(),
                    libc::AT_FDCWD,
                    b.as_ptr(),
                    flags.bits(),
                )
            })?;
            let exchange = flags.bits() & libc::RENAME_EXCHANGE != 0;
            self.0.renamed(&from_rel, &to_rel, exchange);
            Ok(())
        })();
        match r {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn link(
        &self,
        _req: &Request,
        ino: INodeNo,
        newparent: INodeNo,
        newname: &OsStr,
        reply: ReplyEntry,
    ) {
        let r = (|| {
            let old = self.0.real(ino.0)?;
            let (real, rel) = self.0.child(newparent.0, newname)?;
            std::fs::hard_link(old, &real).map_err(errno)?;
            self.0.entry(&real, rel)
        })();
        self.reply_entry(r, reply);
    }

    fn open(&self, _req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        let r = (|| {
            let real = self.0.real(ino.0)?;
            let f = Layer::open_backing(&real, flags.0, None).map_err(errno)?;
            Ok(self.0.new_handle(ino.0, f, flags.0))
        })();
        match r {
            Ok(fh) => reply.opened(FileHandle(fh), FopenFlags::empty()),
            Err(e) => reply.error(e),
        }
    }

    fn read(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        match self.read_inner(fh, offset, size) {
            Ok(b) => reply.data(&b),
            Err(e) => reply.error(e),
        }
    }

    fn write(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        match self.write_inner(fh, offset, data) {
            Ok(n) => reply.written(n),
            Err(e) => reply.error(e),
        }
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        // close(2) makes nothing durable.
        reply.ok();
    }

    fn release(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        lock(&self.0.handles).remove(&fh.0);
        reply.ok();
    }

    fn fsync(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        match self.fsync_inner(ino.0, fh) {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn opendir(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        match self.0.real(ino.0) {
            Ok(p) if p.is_dir() => reply.opened(FileHandle(0), FopenFlags::empty()),
            Ok(_) => reply.error(Errno::ENOTDIR),
            Err(e) => reply.error(e),
        }
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let real = match self.0.real(ino.0) {
            Ok(p) => p,
            Err(e) => return reply.error(e),
        };
        let entries = match std::fs::read_dir(&real) {
            Ok(d) => d,
            Err(e) => return reply.error(errno(e)),
        };
        let mut all: Vec<(u64, FileType, std::ffi::OsString)> = vec![
            (ino.0, FileType::Directory, ".".into()),
            (INodeNo::ROOT.0, FileType::Directory, "..".into()),
        ];
        for e in entries.flatten() {
            use std::os::unix::fs::DirEntryExt;
            let t = match e.file_type() {
                Ok(t) if t.is_dir() => FileType::Directory,
                Ok(t) if t.is_symlink() => FileType::Symlink,
                Ok(_) => FileType::RegularFile,
                Err(_) => continue,
            };
            all.push((self.0.ino_of(e.ino()), t, e.file_name()));
        }
        for (i, (ino, t, name)) in all.into_iter().enumerate().skip(offset as usize) {
            if reply.add(INodeNo(ino), i as u64 + 1, t, &name) {
                break;
            }
        }
        reply.ok();
    }

    fn fsyncdir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        // Directory entries pass straight through: nothing is pending.
        reply.ok();
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        let c = match cstr(self.0.root()) {
            Ok(c) => c,
            Err(e) => return reply.error(e),
        };
        // SAFETY: zeroed statvfs is a valid out-parameter; c a valid path.
        let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
        if let Err(e) = check(unsafe { libc::statvfs(c.as_ptr(), &mut s) }) {
            return reply.error(e);
        }
        reply.statfs(
            s.f_blocks,
            s.f_bfree,
            s.f_bavail,
            s.f_files,
            s.f_ffree,
            s.f_bsize as u32,
            s.f_namemax as u32,
            s.f_frsize as u32,
        );
    }

    fn setxattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        name: &OsStr,
        value: &[u8],
        flags: i32,
        _position: u32,
        reply: ReplyEmpty,
    ) {
        let r = (|| {
            let p = cstr(&self.0.real(ino.0)?)?;
            let n = CString::new(name.as_bytes()).map_err(|_| Errno::EINVAL)?;
            // SAFETY: valid path, name and buffer.
            check(unsafe {
                libc::lsetxattr(
                    p.as_ptr(),
                    n.as_ptr(),
                    value.as_ptr().cast(),
                    value.len(),
                    flags,
                )
            })
        })();
        match r {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn getxattr(&self, _req: &Request, ino: INodeNo, name: &OsStr, size: u32, reply: ReplyXattr) {
        let (p, n) = match (|| {
            let p = cstr(&self.0.real(ino.0)?)?;
            let n = CString::new(name.as_bytes()).map_err(|_| Errno::EINVAL)?;
            Ok((p, n))
        })() {
            Ok(x) => x,
            Err(e) => return reply.error(e),
        };
        let mut buf = vec![0u8; size as usize];
        // SAFETY: valid path, name and buffer of `size` bytes.
        let r = unsafe {
            libc::lgetxattr(
                p.as_ptr(),
                n.as_ptr(),
                buf.as_mut_ptr().cast(),
                size as usize,
            )
        };
        Self::xattr_reply(size, r, &buf, reply);
    }

    fn listxattr(&self, _req: &Request, ino: INodeNo, size: u32, reply: ReplyXattr) {
        let p = match self.0.real(ino.0).and_then(|r| cstr(&r)) {
            Ok(p) => p,
            Err(e) => return reply.error(e),
        };
        let mut buf = vec![0u8; size as usize];
        // SAFETY: valid path and buffer of `size` bytes.
        let r = unsafe { libc::llistxattr(p.as_ptr(), buf.as_mut_ptr().cast(), size as usize) };
        Self::xattr_reply(size, r, &buf, reply);
    }

    fn removexattr(&self, _req: &Request, ino: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let r = (|| {
            let p = cstr(&self.0.real(ino.0)?)?;
            let n = CString::new(name.as_bytes()).map_err(|_| Errno::EINVAL)?;
            // SAFETY: valid path and name.
            check(unsafe { libc::lremovexattr(p.as_ptr(), n.as_ptr()) })
        })();
        match r {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn access(&self, _req: &Request, _ino: INodeNo, _mask: fuser::AccessFlags, reply: ReplyEmpty) {
        // default_permissions: the kernel checks.
        reply.ok();
    }

    fn create(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        flags: i32,
        reply: ReplyCreate,
    ) {
        let r = (|| {
            let (real, rel) = self.0.child(parent.0, name)?;
            let existed = std::fs::symlink_metadata(&real).is_ok();
            let f =
                Layer::open_backing(&real, flags, Some(mode & !umask & 0o7777)).map_err(errno)?;
            if !existed {
                self.0.own(&real, req)?;
            }
            let attr = self.0.entry(&real, rel)?;
            let fh = self.0.new_handle(attr.ino.0, f, flags);
            Ok((attr, fh))
        })();
        match r {
            Ok((a, fh)) => {
                reply.created(&TTL, &a, Generation(0), FileHandle(fh), FopenFlags::empty())
            }
            Err(e) => reply.error(e),
        }
    }

    fn fallocate(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        length: u64,
        mode: i32,
        reply: ReplyEmpty,
    ) {
        let r = (|| {
            let h = self.0.handle(fh)?;
            // SAFETY: a valid open descriptor.
            check(unsafe {
                libc::fallocate(
                    h.file.as_raw_fd(),
                    mode,
                    offset as libc::off_t,
                    length as libc::off_t,
                )
            })?;
            if let Some(st) = self.0.existing_state(ino.0) {
                if let Some(p) = lock(&st).pending.as_mut() {
                    if mode & (libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_ZERO_RANGE) != 0 {
                        p.zero(offset, length);
                    }
                    if mode & libc::FALLOC_FL_KEEP_SIZE == 0 && offset + length > p.size() {
                        p.truncate(offset + length);
                    }
                }
            }
            Ok(())
        })();
        match r {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }
}
