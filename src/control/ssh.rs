//! The SSH backend: one multiplexed OpenSSH master connection per node
//! (`openssh` with `native-mux`), a cap on concurrent sessions below
//! sshd's `MaxSessions`, and a reconnect when the master has died.
//!
//! Options are Jepsen's: user, port, private key, and host key checking
//! (`yes` by default: the host must be in known_hosts). Keys and passwords
//! never reach logs: errors carry the key's path, never its contents.

use super::{BoxFuture, Cmd, Node, Output, Remote, RemoteError};
use openssh::{ControlPersist, KnownHosts, Session, SessionBuilder, Stdio};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::sync::{Mutex, Semaphore};

/// `StrictHostKeyChecking`, as Jepsen's `--strict-host-key-checking`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum HostKeyCheck {
    /// The host key must already be in known_hosts (default).
    Yes,
    /// Accept and record unknown hosts; refuse changed keys.
    AcceptNew,
    /// Accept any host key.
    No,
}

/// How to log in to nodes.
#[derive(Clone, Debug)]
pub struct SshOptions {
    /// Login user.
    pub user: String,
    /// Port when the node does not name one.
    pub port: Option<u16>,
    /// Private key file (`ssh -i`).
    pub private_key: Option<PathBuf>,
    /// known_hosts file; the user's default when `None`.
    pub known_hosts: Option<PathBuf>,
    /// Host key policy.
    pub host_key_check: HostKeyCheck,
    /// Give up connecting after this long.
    pub connect_timeout: Duration,
    /// Concurrent sessions per node (keep below sshd's MaxSessions).
    pub max_sessions: usize,
}

impl Default for SshOptions {
    fn default() -> Self {
        SshOptions {
            user: "root".into(),
            port: None,
            private_key: None,
            known_hosts: None,
            host_key_check: HostKeyCheck::Yes,
            connect_timeout: Duration::from_secs(10),
            // sshd's default MaxSessions is 10.
            max_sessions: 8,
        }
    }
}

/// Extra time beyond a command's own limit before we stop waiting for it.
const GRACE: Duration = Duration::from_secs(5);

/// A node reached over SSH.
pub struct SshRemote {
    node: Node,
    opts: Arc<SshOptions>,
    session: Mutex<Option<Arc<Session>>>,
    permits: Semaphore,
}

impl SshRemote {
    /// A remote for `node`; connects on first use.
    pub fn new(node: Node, opts: Arc<SshOptions>) -> SshRemote {
        let permits = Semaphore::new(opts.max_sessions.max(1));
        SshRemote {
            node,
            opts,
            session: Mutex::new(None),
            permits,
        }
    }

    /// The live master connection, connecting (again) if there is none.
    async fn session(&self) -> Result<Arc<Session>, RemoteError> {
        let mut guard = self.session.lock().await;
        if let Some(s) = guard.as_ref() {
            return Ok(s.clone());
        }
        let s = Arc::new(self.connect().await?);
        *guard = Some(s.clone());
        Ok(s)
    }

    /// Forgets a master that has died, so the next command reconnects.
    async fn forget(&self, dead: &Arc<Session>) {
        let mut guard = self.session.lock().await;
        if guard.as_ref().is_some_and(|s| Arc::ptr_eq(s, dead)) {
            *guard = None;
        }
    }

    async fn connect(&self) -> Result<Session, RemoteError> {
        let o = &self.opts;
        let mut b = SessionBuilder::default();
        b.user(o.user.clone())
            .known_hosts_check(match o.host_key_check {
                HostKeyCheck::Yes => KnownHosts::Strict,
                HostKeyCheck::AcceptNew => KnownHosts::Add,
                HostKeyCheck::No => KnownHosts::Accept,
            })
            .connect_timeout(o.connect_timeout)
            .server_alive_interval(Duration::from_secs(5))
            .control_directory(std::env::temp_dir())
            // A master left behind by a killed controller exits on its own.
            .control_persist(ControlPersist::IdleFor(
                NonZeroUsize::new(60).unwrap_or(NonZeroUsize::MIN),
            ));
        if let Some(port) = self.node.port.or(o.port) {
            b.port(port);
        }
        if let Some(k) = &o.private_key {
            b.keyfile(k);
        }
        if let Some(k) = &o.known_hosts {
            b.user_known_hosts_file(k);
        }
        b.connect_mux(&self.node.addr)
            .await
            .map_err(|e| self.classify(e))
    }

    /// Maps an openssh error to one a person can act on.
    fn classify(&self, e: openssh::Error) -> RemoteError {
        let detail = error_text(&e);
        let node = self.node.name.clone();
        if matches!(e, openssh::Error::Connect(ref io) if io.kind() == std::io::ErrorKind::NotFound)
            && detail.contains("No such file")
        {
            return RemoteError::MissingTool {
                tool: "ssh".into(),
                package: "openssh-client".into(),
            };
        }
        if detail.contains("Permission denied")
            || detail.contains("Too many authentication failures")
        {
            RemoteError::Auth {
                node,
                user: self.opts.user.clone(),
                key: self.opts.private_key.clone(),
                detail,
            }
        } else if detail.contains("Host key verification failed")
            || detail.contains("HOST IDENTIFICATION HAS CHANGED")
            || detail.contains("host key")
        {
            let known_hosts = self
                .opts
                .known_hosts
                .as_ref()
                .map_or("~/.ssh/known_hosts".to_string(), |p| {
                    p.display().to_string()
                });
            RemoteError::HostKey {
                node,
                known_hosts,
                detail,
            }
        } else {
            RemoteError::Unreachable {
                node,
                addr: self.node.addr.clone(),
                detail,
            }
        }
    }

    /// Runs `cmd` once. On error, says whether the command was started.
    async fn run_once(
        &self,
        session: &Session,
        cmd: &Cmd,
    ) -> Result<Output, (bool, openssh::Error)> {
        let line = cmd.render(self.opts.user == "root");
        let mut c = session.raw_command(&line);
        c.stdin(if cmd.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = c.spawn().await.map_err(|e| (false, e))?;
        let stdin = child.stdin().take();
        let data = cmd.stdin.as_deref().unwrap_or_default();
        let writer = async move {
            if let Some(mut s) = stdin {
                // A command that exits without reading its stdin is not an error.
                let _ = s.write_all(data).await;
                let _ = s.shutdown().await;
            }
        };
        let (_, out) = tokio::join!(writer, child.wait_with_output());
        let out = out.map_err(|e| (true, e))?;
        Ok(Output {
            status: out.status.code(),
            stdout: out.stdout,
            stderr: out.stderr,
        })
    }
}

/// The whole chain of an error's messages (openssh puts ssh's own words in
/// the source).
fn error_text(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

fn is_connection_error(e: &openssh::Error) -> bool {
    matches!(
        e,
        openssh::Error::Disconnected | openssh::Error::Master(_) | openssh::Error::SshMux(_)
    )
}

impl Remote for SshRemote {
    fn node(&self) -> &Node {
        &self.node
    }

    fn exec<'a>(&'a self, cmd: &'a Cmd) -> BoxFuture<'a, Result<Output, RemoteError>> {
        Box::pin(async move {
            let _permit = self.permits.acquire().await.map_err(|_| RemoteError::Io {
                node: self.node.name.clone(),
                detail: "remote closed".into(),
            })?;
            let start = Instant::now();
            let mut attempt = 0;
            loop {
                let session = self.session().await?;
                let run = self.run_once(&session, cmd);
                let res = match cmd.timeout {
                    Some(limit) => match tokio::time::timeout(limit + GRACE, run).await {
                        Ok(r) => r,
                        Err(_) => return Err(self.timeout(cmd, limit)),
                    },
                    None => run.await,
                };
                match res {
                    Ok(out) => {
                        if let Some(limit) = cmd.timeout {
                            if out.status == Some(124) && start.elapsed() >= limit {
                                return Err(self.timeout(cmd, limit));
                            }
                        }
                        return Ok(out);
                    }
                    Err((started, e)) if is_connection_error(&e) => {
                        self.forget(&session).await;
                        // The master died. Reconnect once if the command never
                        // started: then it did not run and a retry is safe.
                        if attempt == 0 && !started {
                            attempt += 1;
                            continue;
                        }
                        return Err(RemoteError::Disconnected {
                            node: self.node.name.clone(),
                            cmd: cmd.script(),
                            detail: error_text(&e),
                        });
                    }
                    Err((_, e)) => {
                        return Err(RemoteError::Io {
                            node: self.node.name.clone(),
                            detail: error_text(&e),
                        })
                    }
                }
            }
        })
    }
}

impl SshRemote {
    fn timeout(&self, cmd: &Cmd, after: Duration) -> RemoteError {
        RemoteError::Timeout {
            node: self.node.name.clone(),
            cmd: cmd.script(),
            after,
        }
    }
}
