//! Errors from reaching nodes, phrased so a person can act on them: which
//! node, which address, what ssh said, and what to do.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Why a command on a node did not produce an output.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RemoteError {
    /// No connection could be made (refused, no route, timeout, DNS).
    Unreachable {
        /// Node name.
        node: String,
        /// Address tried.
        addr: String,
        /// What ssh said.
        detail: String,
    },
    /// The node refused our credentials.
    Auth {
        /// Node name.
        node: String,
        /// User we logged in as.
        user: String,
        /// Private key offered, if one was configured.
        key: Option<PathBuf>,
        /// What ssh said.
        detail: String,
    },
    /// The node's host key is unknown or does not match.
    HostKey {
        /// Node name.
        node: String,
        /// The known_hosts file consulted.
        known_hosts: String,
        /// What ssh said.
        detail: String,
    },
    /// The connection broke while the command ran; it may or may not have
    /// run.
    Disconnected {
        /// Node name.
        node: String,
        /// Command line.
        cmd: String,
        /// What broke.
        detail: String,
    },
    /// The command ran longer than its time limit and was killed.
    Timeout {
        /// Node name.
        node: String,
        /// Command line.
        cmd: String,
        /// The limit.
        after: Duration,
    },
    /// The command exited non-zero (from [`super::RemoteExt::run`]).
    NonZero {
        /// Node name.
        node: String,
        /// Command line.
        cmd: String,
        /// Exit status (`None`: killed by a signal).
        status: Option<i32>,
        /// Its stdout.
        stdout: String,
        /// Its stderr.
        stderr: String,
    },
    /// A program the controller needs is not installed.
    MissingTool {
        /// The program.
        tool: String,
        /// The Debian package that provides it.
        package: String,
    },
    /// A local I/O failure while talking to the node.
    Io {
        /// Node name.
        node: String,
        /// What failed.
        detail: String,
    },
}

impl RemoteError {
    /// The node the error concerns, if any.
    pub fn node(&self) -> Option<&str> {
        match self {
            RemoteError::Unreachable { node, .. }
            | RemoteError::Auth { node, .. }
            | RemoteError::HostKey { node, .. }
            | RemoteError::Disconnected { node, .. }
            | RemoteError::Timeout { node, .. }
            | RemoteError::NonZero { node, .. }
            | RemoteError::Io { node, .. } => Some(node),
            RemoteError::MissingTool { .. } => None,
        }
    }
}

fn cut(s: &str) -> String {
    let s = s.trim();
    if s.chars().count() > 2000 {
        format!("{}... [cut]", s.chars().take(2000).collect::<String>())
    } else {
        s.to_string()
    }
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RemoteError::Unreachable { node, addr, detail } => {
                write!(f, "node {node} ({addr}) is unreachable: {}", cut(detail))
            }
            RemoteError::Auth { node, user, key, detail } => {
                let key = key.as_ref().map_or("the ssh agent's or default keys".to_string(), |k| k.display().to_string());
                write!(f, "node {node}: authentication as {user:?} with {key} was refused: {}", cut(detail))
            }
            RemoteError::HostKey { node, known_hosts, detail } => write!(
                f,
                "node {node}: host key verification failed against {known_hosts} ({}); if the node was rebuilt, \
                 remove its old entry with `ssh-keygen -R HOST -f {known_hosts}`, or pass \
                 --strict-host-key-checking accept-new to record new hosts",
                cut(detail)
            ),
            RemoteError::Disconnected { node, cmd, detail } => {
                write!(f, "node {node}: connection lost while running `{cmd}`: {}", cut(detail))
            }
            RemoteError::Timeout { node, cmd, after } => {
                write!(f, "node {node}: `{cmd}` did not finish within {:.1} s and was killed", after.as_secs_f64())
            }
            RemoteError::NonZero { node, cmd, status, stdout, stderr } => {
                match status {
                    Some(c) => write!(f, "node {node}: `{cmd}` exited with status {c}")?,
                    None => write!(f, "node {node}: `{cmd}` was killed by a signal")?,
                }
                if !stderr.trim().is_empty() {
                    write!(f, "\n  stderr: {}", cut(stderr))?;
                }
                if !stdout.trim().is_empty() {
                    write!(f, "\n  stdout: {}", cut(stdout))?;
                }
                Ok(())
            }
            RemoteError::MissingTool { tool, package } => {
                write!(f, "`{tool}` is not installed; install it with `apt-get install -y {package}`")
            }
            RemoteError::Io { node, detail } => write!(f, "node {node}: {detail}"),
        }
    }
}

impl std::error::Error for RemoteError {}
