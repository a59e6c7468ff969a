//! The layer's control socket: a Unix socket taking one command per line
//! and answering each with one line of JSON, synchronously (the reply is
//! sent when the command is done — LazyFS's fire-and-forget FIFO leaves the
//! caller guessing, lazyfs#3).
//!
//! | command | does | reply |
//! |---|---|---|
//! | `ping` | nothing | `{"ok":true}` |
//! | `report` | nothing | pending `files` (path, bytes), `pages`, `bytes` |
//! | `lose-unfsynced` | a power fault: drops every unsynced write | `dropped` (files, pages, bytes) |
//! | `torn SEED [KEEP]` | writes a seeded random subset of pending pages (each kept with probability KEEP, 0.5 by default), drops the rest | `dropped` and `kept` |
//! | `checkpoint` | writes everything out, as fsync would | `written` |
//!
//! Before a `lose-unfsynced` or `torn`, dirty pages the kernel still holds
//! for the mount (a shared `mmap` written but not yet written back) are
//! pushed to the layer with `syncfs(2)` — which reaches no FUSE daemon as
//! an fsync, so they arrive as unsynced writes and are lost with the rest,
//! as a power failure would lose them. After it, the kernel's cached pages
//! of the files that changed are invalidated.

use crate::fs::{Layer, Tally};
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::io::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

fn tally_json(t: &Tally) -> String {
    let files: Vec<String> = t
        .files
        .iter()
        .map(|(p, b)| format!("{{\"path\":{},\"bytes\":{b}}}", crate::json::string(p)))
        .collect();
    format!(
        "{{\"files\":[{}],\"file_count\":{},\"pages\":{},\"bytes\":{}}}",
        files.join(","),
        t.files.len(),
        t.pages,
        t.bytes
    )
}

/// Something that invalidates the kernel's cache of an inode.
pub type Invalidate = Box<dyn Fn(u64) + Send + Sync>;

/// Serves the control socket of a mounted layer.
pub struct Control {
    layer: Arc<Layer>,
    mount: PathBuf,
    invalidate: Invalidate,
}

impl Control {
    /// Control of `layer`, mounted at `mount`.
    pub fn new(layer: Arc<Layer>, mount: PathBuf, invalidate: Invalidate) -> Control {
        Control {
            layer,
            mount,
            invalidate,
        }
    }

    /// Pushes the kernel's dirty pages of the mount to the layer.
    fn syncfs(&self) -> io::Result<()> {
        let d = std::fs::File::open(&self.mount)?;
        // SAFETY: a valid open descriptor.
        if unsafe { libc::syncfs(d.as_raw_fd()) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Runs one command line; returns the reply line (without newline).
    pub fn command(&self, line: &str) -> String {
        match self.try_command(line) {
            Ok(s) => s,
            Err(e) => format!("{{\"ok\":false,\"error\":{}}}", crate::json::string(&e)),
        }
    }

    fn try_command(&self, line: &str) -> Result<String, String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let io = |e: io::Error| e.to_string();
        match words.as_slice() {
            ["ping"] => Ok("{\"ok\":true}".into()),
            ["report"] => Ok(format!(
                "{{\"ok\":true,\"pending\":{}}}",
                tally_json(&self.layer.report())
            )),
            ["checkpoint"] => {
                let w = self.layer.checkpoint().map_err(io)?;
                Ok(format!("{{\"ok\":true,\"written\":{}}}", tally_json(&w)))
            }
            ["lose-unfsynced"] => {
                self.syncfs().map_err(io)?;
                let (dropped, _, inos) = self.layer.lose(None).map_err(io)?;
                inos.iter().for_each(|&i| (self.invalidate)(i));
                Ok(format!("{{\"ok\":true,\"dropped\":{}}}", tally_json(&dropped)))
            }
            ["torn", seed, rest @ ..] if rest.len() <= 1 => {
                let seed: u64 = seed
                    .parse()
                    .map_err(|_| format!("torn: expected a seed (an integer), found {seed:?}"))?;
                let keep: f64 = match rest.first() {
                    Some(k) => k
                        .parse()
                        .ok()
                        .filter(|k: &f64| (0.0..=1.0).contains(k))
                        .ok_or_else(|| format!("torn: expected KEEP from 0 to 1, found {k:?}"))?,
                    None => 0.5,
                };
                self.syncfs().map_err(io)?;
                let (dropped, kept, inos) = self.layer.lose(Some((seed, keep))).map_err(io)?;
                inos.iter().for_each(|&i| (self.invalidate)(i));
                Ok(format!(
                    "{{\"ok\":true,\"dropped\":{},\"kept\":{}}}",
                    tally_json(&dropped),
                    tally_json(&kept)
                ))
            }
            _ => Err(format!(
                "unknown command {line:?}; expected ping, report, checkpoint, lose-unfsynced or torn SEED [KEEP]"
            )),
        }
    }

    /// Accepts connections forever, one thread each.
    pub fn serve(self: Arc<Self>, listener: UnixListener) {
        for conn in listener.incoming().flatten() {
            let me = self.clone();
            std::thread::spawn(move || {
                let _ = me.connection(conn);
            });
        }
    }

    fn connection(&self, conn: UnixStream) -> io::Result<()> {
        let mut out = conn.try_clone()?;
        for line in BufReader::new(conn).lines() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let reply = self.command(&line);
            writeln!(out, "{reply}")?;
        }
        Ok(())
    }
}

/// Sends one command to the layer listening on `socket`; returns its reply
/// (one line of JSON). Waits up to `timeout` for the reply.
pub fn request(socket: &Path, command: &str, timeout: Duration) -> io::Result<String> {
    let mut s = UnixStream::connect(socket)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", socket.display())))?;
    s.set_read_timeout(Some(timeout))?;
    writeln!(s, "{command}")?;
    s.shutdown(std::net::Shutdown::Write)?;
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line)?;
    if line.is_empty() {
        return Err(io::Error::other(format!(
            "{}: no reply to {command:?}",
            socket.display()
        )));
    }
    Ok(line.trim_end().to_string())
}
