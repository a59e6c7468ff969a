//! The fault filesystem on the nodes (`db.disk.dirs`): faultline brings
//! its own helper (this binary, as `faultline disk mount`) to every node,
//! mounts one layer over each directory before the DB is configured and
//! started, and unmounts them after it is stopped — on every exit path, as
//! part of the DB's teardown, and before a new setup (leftovers of a
//! crashed controller). The data lives in `<dir>.real` beside each
//! directory; when the DB's teardown removes a directory, its backing
//! directory goes with it.
//!
//! The helper on a node: a local node sees this machine's files, so the
//! running binary is used where it is (or, when it sits under `/tmp`,
//! `/run` or `/root`, which nodes mount private ones over, a copy in the
//! cluster root); a remote node gets a copy uploaded once into
//! `<data_dir>/.faultline/bin/`, named by version, size and mtime.

use crate::control::{quote, Remote, RemoteExt};
use faultline_nemesis::DiskSpec;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the helper binary is on the nodes, and how it gets there.
#[derive(Clone, Debug)]
pub struct Helper {
    /// Path on every node.
    pub path: String,
    /// Upload the running binary there (remote nodes).
    upload: bool,
    /// Copy the running binary here on this machine first (local nodes,
    /// when the binary is not visible on them).
    copy_to: Option<PathBuf>,
}

/// Directories under which local nodes mount private copies.
const PRIVATE_ON_NODES: [&str; 3] = ["/tmp", "/run", "/root"];

impl Helper {
    /// The helper for nodes with data directory `data_dir`.
    pub fn new(local: bool, data_dir: &str) -> Result<Helper, String> {
        let exe = std::env::current_exe().map_err(|e| format!("the faultline binary: {e}"))?;
        let meta = std::fs::metadata(&exe).map_err(|e| format!("{}: {e}", exe.display()))?;
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        let name = format!(
            "faultline-{}-{}-{mtime}",
            env!("CARGO_PKG_VERSION"),
            meta.len()
        );
        if !local {
            return Ok(Helper {
                path: format!("{data_dir}/.faultline/bin/{name}"),
                upload: true,
                copy_to: None,
            });
        }
        let hidden = PRIVATE_ON_NODES.iter().any(|p| exe.starts_with(p));
        if !hidden {
            return Ok(Helper {
                path: exe.to_string_lossy().into_owned(),
                upload: false,
                copy_to: None,
            });
        }
        let copy = crate::cluster::Layout::root().join("bin").join(name);
        Ok(Helper {
            path: copy.to_string_lossy().into_owned(),
            upload: false,
            copy_to: Some(copy),
        })
    }

    /// Puts the helper where the nodes expect it.
    pub async fn provision(&self, remotes: &[Arc<dyn Remote>]) -> Result<(), Vec<String>> {
        if let Some(dst) = &self.copy_to {
            if !dst.exists() {
                copy_binary(dst).map_err(|e| vec![e])?;
            }
        }
        if !self.upload {
            return Ok(());
        }
        let exe = std::env::current_exe().map_err(|e| vec![e.to_string()])?;
        let mut bytes: Option<Vec<u8>> = None;
        let mut errs = Vec::new();
        let q = quote(&self.path);
        for r in remotes {
            let check = crate::control::Cmd::shell(format!("test -x {q}")).sudo(true);
            if r.run(&check).await.is_ok_and(|o| o.success()) {
                continue;
            }
            if bytes.is_none() {
                bytes =
                    Some(std::fs::read(&exe).map_err(|e| vec![format!("{}: {e}", exe.display())])?);
            }
            let b = bytes.as_deref().unwrap_or_default();
            let up = async {
                r.upload(b, &self.path).await.map_err(|e| e.to_string())?;
                let chmod = crate::control::Cmd::shell(format!("chmod 755 {q}")).sudo(true);
                r.run(&chmod).await.map_err(|e| e.to_string())?;
                Ok::<(), String>(())
            };
            if let Err(e) = up.await {
                errs.push(format!(
                    "node {}: uploading the fault filesystem's helper to {}: {e}",
                    r.node().name,
                    self.path
                ));
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs)
        }
    }
}

/// Copies the running binary to `dst` (atomically: a partial copy is
/// never used).
fn copy_binary(dst: &Path) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = dst.parent().unwrap_or(Path::new("/"));
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let part = dst.with_extension(format!("part{}", std::process::id()));
    std::fs::copy(&exe, &part)
        .and_then(|_| std::fs::rename(&part, dst))
        .map_err(|e| format!("copying {} to {}: {e}", exe.display(), dst.display()))
}

/// The layers of one node.
#[derive(Clone, Debug)]
pub struct NodeDisk {
    /// The directories, rendered.
    pub dirs: Vec<String>,
    data_dir: String,
}

impl NodeDisk {
    /// The layers over `dirs` on a node whose data directory is `data_dir`.
    pub fn new(dirs: Vec<String>, data_dir: &str) -> NodeDisk {
        NodeDisk {
            dirs: dirs
                .into_iter()
                .map(|d| d.trim().trim_end_matches('/').to_string())
                .collect(),
            data_dir: data_dir.trim_end_matches('/').to_string(),
        }
    }

    fn state(&self) -> String {
        format!("{}/.faultline", self.data_dir)
    }

    /// The control socket of directory `k`.
    pub fn socket(&self, k: usize) -> String {
        format!("{}/disk-{k}.sock", self.state())
    }

    /// The layer's own log, for directory `k`.
    pub fn log(&self, k: usize) -> String {
        format!("{}/disk-{k}.log", self.state())
    }

    fn pidfile(&self, k: usize) -> String {
        format!("{}/disk-{k}.pid", self.state())
    }

    /// What the nemesis needs for disk faults on this node, the `index`th
    /// of `nodes`, whose corruption faults touch the files `files` matches.
    pub fn nemesis(
        &self,
        helper: &Helper,
        files: &[String],
        index: usize,
        nodes: usize,
    ) -> DiskSpec {
        DiskSpec {
            helper: quote(&helper.path),
            sockets: (0..self.dirs.len()).map(|k| self.socket(k)).collect(),
            dirs: self.dirs.clone(),
            files: files.to_vec(),
            index,
            nodes,
        }
    }

    /// Mounts every layer not yet mounted, and waits until each answers.
    pub fn mount_script(&self, helper: &Helper) -> String {
        let h = quote(&helper.path);
        let mut s = format!("mkdir -p {}", quote(&self.state()));
        for (k, dir) in self.dirs.iter().enumerate() {
            let (m, sock, log, pid) = (
                quote(dir),
                quote(&self.socket(k)),
                quote(&self.log(k)),
                quote(&self.pidfile(k)),
            );
            s.push_str(&format!(
                "; if ! grep -q \"^faultline {dir} fuse\" /proc/mounts; then \
                 setsid {h} disk mount --mount {m} --backing {backing} --socket {sock} --within {dd} >> {log} 2>&1 < /dev/null & echo $! > {pid}; \
                 i=0; until {h} disk ctl {sock} ping >/dev/null 2>&1; do i=$((i+1)); \
                 if [ $i -gt 150 ] || ! kill -0 \"$(cat {pid})\" 2>/dev/null; then \
                 echo \"the fault filesystem did not mount over {dir}:\" >&2; tail -n 5 {log} >&2; exit 1; fi; sleep 0.1; done; fi",
                backing = quote(&format!("{dir}.real")),
                dd = quote(&self.data_dir),
            ));
        }
        s
    }

    /// Stops every layer of this node (SIGTERM: it unmounts itself) and
    /// lazily unmounts any faultline layer still mounted under the data
    /// directory (a crashed controller's). Prints one line per repair.
    pub fn unmount_script(&self) -> String {
        let mut s = String::from("true");
        for k in 0..self.dirs.len() {
            let pid = quote(&self.pidfile(k));
            s.push_str(&format!(
                "; if [ -f {pid} ]; then p=$(cat {pid}); kill -TERM \"$p\" 2>/dev/null; i=0; \
                 while kill -0 \"$p\" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; \
                 kill -9 \"$p\" 2>/dev/null; rm -f {pid}; fi"
            ));
        }
        s.push_str(&unmount_leftovers_script(&self.data_dir));
        s
    }

    /// After the DB's teardown: a directory it removed takes its backing
    /// directory and its corruption snapshots along.
    pub fn remove_backing_script(&self) -> String {
        self.dirs
            .iter()
            .map(|d| {
                format!(
                    "; [ -e {m} ] || rm -rf {b} {s}",
                    m = quote(d),
                    b = quote(&format!("{d}.real")),
                    s = quote(&format!("{d}.snapshots"))
                )
            })
            .collect()
    }
}

/// Stops every layer whose pidfile is in `data_dir/.faultline` (ours:
/// started by a test, perhaps one whose controller died) and lazily
/// unmounts every faultline layer still mounted under `data_dir`; prints a
/// line for each.
pub fn unmount_leftovers_script(data_dir: &str) -> String {
    let dd = data_dir.trim_end_matches('/');
    format!(
        "; for f in {dd}/.faultline/disk-*.pid; do [ -f \"$f\" ] || continue; p=$(cat \"$f\"); \
         if kill -TERM \"$p\" 2>/dev/null; then echo \"stopped the fault filesystem's pid $p\"; fi; rm -f \"$f\"; done; \
         awk '$1 == \"faultline\" && $3 ~ /^fuse/ {{print $2}}' /proc/mounts | while read -r m; do \
         case \"$m\" in {dd}/*) umount -l \"$m\" && echo \"unmounted the fault filesystem at $m\";; esac; done"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_mount_inside_the_data_directory_and_clean_up() {
        let d = NodeDisk::new(vec!["/var/lib/fl/node/pg/".into()], "/var/lib/fl/node");
        let h = Helper {
            path: "/opt/fl bin/faultline".into(),
            upload: false,
            copy_to: None,
        };
        let m = d.mount_script(&h);
        assert!(
            m.contains("--mount /var/lib/fl/node/pg --backing /var/lib/fl/node/pg.real"),
            "{m}"
        );
        assert!(m.contains("--within /var/lib/fl/node"), "{m}");
        assert!(
            m.contains(
                "'/opt/fl bin/faultline' disk ctl /var/lib/fl/node/.faultline/disk-0.sock ping"
            ),
            "{m}"
        );
        let u = d.unmount_script();
        assert!(u.contains("kill -TERM") && u.contains("umount -l"), "{u}");
        assert!(u.contains("/var/lib/fl/node/*)"), "{u}");
        assert!(!u.contains("pkill"));
        assert_eq!(
            d.remove_backing_script(),
            "; [ -e /var/lib/fl/node/pg ] || rm -rf /var/lib/fl/node/pg.real /var/lib/fl/node/pg.snapshots"
        );
        let n = d.nemesis(&h, &["*.log".into()], 1, 3);
        assert_eq!(n.sockets, ["/var/lib/fl/node/.faultline/disk-0.sock"]);
        assert_eq!(n.helper, "'/opt/fl bin/faultline'");
        assert_eq!((n.index, n.nodes), (1, 3));
    }
}
