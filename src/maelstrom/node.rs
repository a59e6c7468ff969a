//! The node processes: the user's binary, run once per node id with its
//! arguments, speaking Maelstrom's protocol on stdin/stdout. Each node's
//! stderr goes straight into `nodes/<id>/stderr.log` (through faultline,
//! and to the terminal too, with `--log-stderr`), so a node never blocks on
//! a full stderr pipe; its stdout lines go into the network; a
//! line that is not a message, a message to an unknown node, and a node
//! that exits on its own are protocol errors, named with the node and the
//! line (or its last stderr lines). Every node runs in its own process
//! group, so a kill or pause reaches what it forked, and nothing else.

use super::net::Net;
use super::protocol::Message;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::process::{Child, Command};

/// Stderr lines kept per node for an error message.
const TAIL: usize = 12;

/// Protocol errors kept (the rest are counted).
const MAX_ERRORS: usize = 100;

/// One running node.
struct Running {
    pid: i32,
    /// Set before we kill it: its exit is then no error.
    expected: Arc<AtomicBool>,
    /// Becomes true when the process has exited.
    exited: tokio::sync::watch::Receiver<bool>,
}

/// A protocol error: which node, when, what.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ProtocolError {
    /// The node.
    pub node: String,
    /// ns since the test started.
    pub time: i64,
    /// What went wrong.
    pub error: String,
}

/// The nodes of one test.
pub struct Nodes {
    bin: PathBuf,
    args: Vec<String>,
    /// Every node id of the test.
    ids: Arc<Vec<String>>,
    dir: PathBuf,
    net: Arc<Net>,
    log_stderr: bool,
    start: Instant,
    running: Mutex<std::collections::HashMap<String, Running>>,
    errors: Arc<Mutex<(Vec<ProtocolError>, usize)>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Nodes {
    /// Nodes `ids` running `bin args...`, logging under `dir/nodes/<id>/`.
    pub fn new(
        bin: PathBuf,
        args: Vec<String>,
        ids: Vec<String>,
        dir: &Path,
        net: Arc<Net>,
        log_stderr: bool,
        start: Instant,
    ) -> Nodes {
        Nodes {
            bin,
            args,
            ids: Arc::new(ids),
            dir: dir.join("nodes"),
            net,
            log_stderr,
            start,
            running: Mutex::new(Default::default()),
            errors: Arc::new(Mutex::new((Vec::new(), 0))),
        }
    }

    /// The protocol errors so far (at most 100) and how many there were.
    pub fn errors(&self) -> (Vec<ProtocolError>, usize) {
        lock(&self.errors).clone()
    }

    /// Records a protocol error.
    pub fn error(&self, node: &str, error: String) {
        record(&self.errors, self.start, node, error);
    }

    /// The last lines node `id` wrote to stderr.
    pub fn tail(&self, id: &str) -> Vec<String> {
        tail_of(&self.dir.join(id).join("stderr.log"))
    }

    /// Starts node `id` (not yet initialized).
    pub fn spawn(&self, id: &str) -> Result<(), String> {
        let dir = self.dir.join(id);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let log_path = dir.join("stderr.log");
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| format!("{}: {e}", log_path.display()))?;
        let _ = writeln!(
            log,
            "--- faultline: starting {} as {id} at {:.3} s",
            self.bin.display(),
            self.start.elapsed().as_secs_f64()
        );
        let stderr_to = if self.log_stderr {
            Stdio::piped()
        } else {
            let f = log
                .try_clone()
                .map_err(|e| format!("{}: {e}", log_path.display()))?;
            Stdio::from(f)
        };
        let mut cmd = Command::new(&self.bin);
        cmd.args(&self.args)
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr_to)
            .kill_on_drop(true)
            .process_group(0);
        let mut child = cmd
            .spawn()
            .map_err(|e| {
                let hint = if e.raw_os_error() == Some(libc::EMFILE) {
                    " (each node holds 3 file descriptors: raise the hard `ulimit -n`, or run fewer nodes)"
                } else {
                    ""
                };
                format!("node {id}: cannot run {}: {e}{hint}", self.bin.display())
            })?;
        let pid = child.id().map(|p| p as i32).unwrap_or(-1);
        let (stdin, stdout, stderr) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take());
        let (Some(stdin), Some(stdout)) = (stdin, stdout) else {
            return Err(format!("node {id}: no pipes to the process"));
        };
        let expected = Arc::new(AtomicBool::new(false));
        // stdin: what the network delivers, a line each, flushed when the
        // queue is empty.
        let mut inbox = self.net.register(id);
        tokio::spawn(async move {
            let mut w = BufWriter::new(stdin);
            while let Some(m) = inbox.recv().await {
                let mut line = m.to_line();
                line.push('\n');
                if w.write_all(line.as_bytes()).await.is_err() {
                    return;
                }
                while let Ok(m) = inbox.try_recv() {
                    let mut line = m.to_line();
                    line.push('\n');
                    if w.write_all(line.as_bytes()).await.is_err() {
                        return;
                    }
                }
                if w.flush().await.is_err() {
                    return;
                }
            }
        });
        // stdout: messages into the network.
        {
            let (net, errors, start, id, ids) = (
                self.net.clone(),
                self.errors.clone(),
                self.start,
                id.to_string(),
                self.ids.clone(),
            );
            tokio::spawn(async move {
                let mut lines = BufReader::new(stdout).lines();
                let mut n = 0u64;
                while let Ok(Some(line)) = lines.next_line().await {
                    n += 1;
                    if line.trim().is_empty() {
                        continue;
                    }
                    match Message::parse(&line) {
                        Ok(m) if !addressable(&m.dest, &ids) => record(
                            &errors,
                            start,
                            &id,
                            format!(
                                "stdout line {n}: a message to {:?}, which is no node, client or service: {line}",
                                m.dest
                            ),
                        ),
                        Ok(m) => net.send(m),
                        Err(e) => record(
                            &errors,
                            start,
                            &id,
                            format!("stdout line {n} is not a Maelstrom message: {e}"),
                        ),
                    }
                }
            });
        }
        // stderr: with --log-stderr, through us to the log file and the
        // terminal; else straight into the log file (no pipe to drain, one
        // descriptor fewer per node).
        if let Some(stderr) = stderr {
            let id = id.to_string();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stderr).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let _ = writeln!(log, "{line}");
                    crate::say!("{id}: {line}");
                }
            });
        }
        let (exited_tx, exited) = tokio::sync::watch::channel(false);
        // Exit watcher: it owns the child; an exit we did not cause is an
        // error.
        {
            let (mut child, expected, errors, log_path, start, id): (Child, _, _, _, _, _) = (
                child,
                expected.clone(),
                self.errors.clone(),
                log_path.clone(),
                self.start,
                id.to_string(),
            );
            tokio::spawn(async move {
                let status = child.wait().await;
                let _ = exited_tx.send(true);
                let status = match status {
                    Ok(s) => s.to_string(),
                    Err(e) => format!("wait failed: {e}"),
                };
                if expected.load(Ordering::Relaxed) {
                    return;
                }
                // Give the stderr reader a moment to take the last lines.
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                let tail = tail_of(&log_path);
                let last = if tail.is_empty() {
                    "it wrote nothing to stderr".to_string()
                } else {
                    format!("its last stderr lines:\n    {}", tail.join("\n    "))
                };
                record(
                    &errors,
                    start,
                    &id,
                    format!("the node exited on its own ({status}); {last}"),
                );
            });
        }
        lock(&self.running).insert(
            id.to_string(),
            Running {
                pid,
                expected,
                exited,
            },
        );
        Ok(())
    }

    /// SIGKILLs node `id`'s process group and waits for it; messages to it
    /// are dropped until it is spawned again.
    pub async fn kill(&self, id: &str) {
        let Some(r) = lock(&self.running).remove(id) else {
            return;
        };
        self.net.unregister(id);
        r.expected.store(true, Ordering::Relaxed);
        signal(r.pid, libc::SIGCONT);
        signal(r.pid, libc::SIGKILL);
        let mut exited = r.exited;
        let _ = exited.wait_for(|e| *e).await;
    }

    /// SIGSTOPs (`pause`) or SIGCONTs node `id`'s process group.
    pub fn pause(&self, id: &str, pause: bool) {
        if let Some(r) = lock(&self.running).get(id) {
            signal(r.pid, if pause { libc::SIGSTOP } else { libc::SIGCONT });
        }
    }

    /// Whether node `id` is running.
    pub fn is_running(&self, id: &str) -> bool {
        lock(&self.running).contains_key(id)
    }

    /// Stops every node: closes stdin (its inbox), waits up to a second,
    /// then SIGKILLs the process group.
    pub async fn stop_all(&self) {
        let all: Vec<(String, Running)> = lock(&self.running).drain().collect();
        for (id, r) in &all {
            r.expected.store(true, Ordering::Relaxed);
            self.net.unregister(id);
            signal(r.pid, libc::SIGCONT);
        }
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(1);
        for (_, r) in &all {
            let mut exited = r.exited.clone();
            if tokio::time::timeout_at(deadline, exited.wait_for(|e| *e))
                .await
                .is_err()
            {
                signal(r.pid, libc::SIGKILL);
                let _ = exited.wait_for(|e| *e).await;
            }
        }
        // What the nodes forked and left behind.
        for (_, r) in &all {
            signal(r.pid, libc::SIGKILL);
        }
    }
}

/// The last lines of a node's stderr log (not faultline's own marker
/// lines).
fn tail_of(path: &Path) -> Vec<String> {
    let text = std::fs::read(path).unwrap_or_default();
    let from = text.len().saturating_sub(64 * 1024);
    let text = String::from_utf8_lossy(&text[from..]);
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with("--- faultline: "))
        .map(String::from)
        .collect();
    let keep = lines.len().saturating_sub(TAIL);
    lines.drain(..keep);
    lines
}

/// Whether a node may send to `dest`: a node of the test (even one that
/// is down), a service, or a client (even one that has gone: a late reply
/// is no error).
fn addressable(dest: &str, ids: &[String]) -> bool {
    ids.iter().any(|i| i == dest)
        || super::service::is_service(dest)
        || super::protocol::is_client(dest)
}

/// Sends `sig` to the process group `pid` leads (ours: spawned with
/// `process_group(0)`).
fn signal(pid: i32, sig: i32) {
    if pid > 1 {
        // SAFETY: kill(2) with a negative pid signals that process group;
        // the group is one we created for our own child.
        unsafe {
            libc::kill(-pid, sig);
        }
    }
}

fn record(errors: &Mutex<(Vec<ProtocolError>, usize)>, start: Instant, node: &str, error: String) {
    let mut e = lock(errors);
    e.1 += 1;
    if e.0.len() < MAX_ERRORS {
        crate::say!("node {node}: {error}");
        e.0.push(ProtocolError {
            node: node.to_string(),
            time: start.elapsed().as_nanos() as i64,
            error,
        });
    }
}
