//! faultline's fault filesystem: a FUSE passthrough over a backing
//! directory that holds every write in memory until the file is fsynced,
//! so that a simulated power failure can drop exactly what a real one
//! would — the writes the DB never made durable. Jepsen gets this from
//! LazyFS (C++, installed on each node); faultline brings it in its own
//! binary (`faultline disk-layer`, hidden), mounted on each node over the
//! directories a spec names, and controlled over a Unix socket
//! ([`control`]). Corruption faults on files at rest are in [`corrupt`].
//!
//! The layer ([`fs`]) keeps FUSE in write-through mode with zero cache
//! timeouts, implements `fsync` and `fsyncdir` (an `ENOSYS` would make the
//! kernel report success for every later fsync), passes metadata through,
//! and gives new files their creator's ownership (`default_permissions`,
//! `allow_other`), so a DB that insists on owning a 0700 directory
//! (PostgreSQL) runs on it unchanged.
//!
//! This crate depends on `fuser` and `libc` only, never on the controller.

pub mod control;
pub mod corrupt;
pub mod fs;
mod json;
pub mod pages;

use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where a layer mounts, and what it may touch.
#[derive(Clone, Debug)]
pub struct MountSpec {
    /// The directory the DB uses (the mount point).
    pub mount: PathBuf,
    /// Where the data really lives (made if missing, with the mount
    /// point's owner and mode).
    pub backing: PathBuf,
    /// The control socket.
    pub socket: PathBuf,
    /// The node's data directory: the mount point must be inside it.
    pub within: PathBuf,
}

/// Lexically normalized absolute path (`.` and `..` resolved, no symlinks
/// followed: the mount point may not exist yet).
fn normal(p: &Path) -> Result<PathBuf, String> {
    if !p.is_absolute() {
        return Err(format!("{}: expected an absolute path", p.display()));
    }
    let mut out = PathBuf::from("/");
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::Normal(n) => out.push(n),
            _ => {}
        }
    }
    Ok(out)
}

impl MountSpec {
    /// Refuses a mount point outside the data directory (or the data
    /// directory itself), a backing directory inside the mount point, and
    /// a non-empty mount point (its files would be hidden).
    pub fn check(&self) -> Result<(), String> {
        let within = normal(&self.within)?;
        let within = within.canonicalize().unwrap_or(within);
        let mount = normal(&self.mount)?;
        let mount = mount.canonicalize().unwrap_or(mount);
        if mount == within || !mount.starts_with(&within) || within == Path::new("/") {
            return Err(format!(
                "refusing to mount over {}: the fault filesystem mounts only inside the node's data directory {}",
                mount.display(),
                within.display()
            ));
        }
        let backing = normal(&self.backing)?;
        if backing.starts_with(&mount) {
            return Err(format!(
                "the backing directory {} is inside the mount point {}",
                backing.display(),
                mount.display()
            ));
        }
        if let Ok(mut d) = std::fs::read_dir(&mount) {
            if d.next().is_some() {
                return Err(format!(
                    "{} is not empty: its files would be hidden under the fault filesystem (remove them, or move them to {})",
                    mount.display(),
                    backing.display()
                ));
            }
        }
        Ok(())
    }
}

/// Makes the mount point and the backing directory (this one with the
/// mount point's owner and mode, when new).
fn prepare(spec: &MountSpec) -> io::Result<()> {
    std::fs::create_dir_all(&spec.mount)?;
    if !spec.backing.exists() {
        std::fs::create_dir_all(&spec.backing)?;
        let m = std::fs::metadata(&spec.mount)?;
        std::fs::set_permissions(
            &spec.backing,
            std::fs::Permissions::from_mode(m.mode() & 0o7777),
        )?;
        std::os::unix::fs::chown(&spec.backing, Some(m.uid()), Some(m.gid()))?;
    }
    if let Some(parent) = spec.socket.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let _ = std::fs::remove_file(&spec.socket);
    Ok(())
}

/// Blocks SIGTERM, SIGINT and SIGHUP in this thread (and the threads it
/// starts) and returns the set, for a thread that waits for them.
fn block_signals() -> libc::sigset_t {
    // SAFETY: sigset operations on a zeroed set; pthread_sigmask on it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
            libc::sigaddset(&mut set, s);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    }
}

/// Lazily unmounts `mount` (what SIGTERM does to a running layer).
pub fn unmount(mount: &Path) -> io::Result<()> {
    let c = std::ffi::CString::new(mount.as_os_str().as_encoded_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: c is a valid path.
    if unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Mounts the layer and serves it until it is unmounted or the process
/// gets SIGTERM/SIGINT/SIGHUP (which unmount it). `ready` is called once
/// the mount and the control socket are up.
pub fn serve(spec: &MountSpec, ready: impl FnOnce()) -> Result<(), String> {
    spec.check()?;
    let ctx = |what: &str, e: io::Error| format!("{what}: {e}");
    prepare(spec).map_err(|e| ctx("preparing the mount", e))?;
    // New files get exactly the mode their creator asked for.
    // SAFETY: umask has no failure mode.
    unsafe { libc::umask(0) };
    let signals = block_signals();
    let layer = Arc::new(
        fs::Layer::new(&spec.backing)
            .map_err(|e| ctx(&format!("backing directory {}", spec.backing.display()), e))?,
    );
    let mut config = fuser::Config::default();
    config.mount_options = vec![
        fuser::MountOption::FSName("faultline".into()),
        fuser::MountOption::Subtype("faultline".into()),
        fuser::MountOption::DefaultPermissions,
        fuser::MountOption::Dev,
        fuser::MountOption::Suid,
    ];
    config.acl = fuser::SessionACL::All;
    config.n_threads = Some(4);
    let session = fuser::Session::new(fs::Fs(layer.clone()), &spec.mount, &config)
        .map_err(|e| ctx(&format!("mounting {}", spec.mount.display()), e))?;
    let notifier = session.notifier();
    let control = Arc::new(control::Control::new(
        layer,
        spec.mount.clone(),
        Box::new(move |ino| {
            let _ = notifier.inval_inode(fuser::INodeNo(ino), 0, 0);
        }),
    ));
    let listener = std::os::unix::net::UnixListener::bind(&spec.socket)
        .map_err(|e| ctx(&format!("control socket {}", spec.socket.display()), e))?;
    std::thread::spawn(move || control.serve(listener));
    let mount = spec.mount.clone();
    std::thread::spawn(move || {
        let mut sig: libc::c_int = 0;
        // SAFETY: signals is a valid set; sig a valid out-parameter.
        unsafe { libc::sigwait(&signals, &mut sig) };
        let _ = unmount(&mount);
    });
    ready();
    let r = session.run();
    let _ = std::fs::remove_file(&spec.socket);
    r.map_err(|e| ctx("serving the mount", e))
}
