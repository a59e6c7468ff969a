//! Commands on this machine (the host) for building the local cluster:
//! `ip`, `ssh-keygen`, and checks for root and for the tools we need.

use std::fmt;
use std::process::Command;

/// A failure building or inspecting the local cluster.
#[derive(Debug)]
#[non_exhaustive]
pub enum HostError {
    /// Wrong usage (bad name, conflicting cluster): exit 254.
    Usage(String),
    /// Not running as root.
    NotRoot,
    /// A tool is missing; the Debian package that has it.
    MissingTool {
        /// Program name.
        tool: &'static str,
        /// Debian package.
        package: &'static str,
    },
    /// A host command failed.
    Command {
        /// The command line.
        cmd: String,
        /// Its stderr.
        stderr: String,
    },
    /// A file could not be read or written.
    Io {
        /// What we were doing.
        what: String,
        /// The error.
        err: std::io::Error,
    },
    /// A node did not come up.
    Node {
        /// Node name.
        node: String,
        /// What went wrong.
        detail: String,
    },
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::Usage(m) => f.write_str(m),
            HostError::NotRoot => f.write_str(
                "the local cluster needs root (network namespaces, bridges, mounts): run this command as root",
            ),
            HostError::MissingTool { tool, package } => {
                write!(f, "`{tool}` is not installed; install it with `apt-get install -y {package}`")
            }
            HostError::Command { cmd, stderr } => write!(f, "`{cmd}` failed: {}", stderr.trim()),
            HostError::Io { what, err } => write!(f, "{what}: {err}"),
            HostError::Node { node, detail } => write!(f, "node {node}: {detail}"),
        }
    }
}

impl std::error::Error for HostError {}

/// Wraps an I/O error with what we were doing.
pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> HostError {
    let what = what.into();
    move |err| HostError::Io { what, err }
}

/// Runs a host command; returns its stdout, or an error with its stderr.
pub(crate) fn run(argv: &[&str]) -> Result<String, HostError> {
    let out = Command::new(argv[0])
        .args(&argv[1..])
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => missing(argv[0]),
            _ => HostError::Io {
                what: format!("running {}", argv[0]),
                err: e,
            },
        })?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(HostError::Command {
            cmd: argv.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}

/// Runs a host command and reports only whether it succeeded.
pub(crate) fn succeeds(argv: &[&str]) -> bool {
    run(argv).is_ok()
}

/// The tools the local cluster needs, with their Debian packages.
const TOOLS: &[(&str, &str)] = &[
    ("ip", "iproute2"),
    ("unshare", "util-linux"),
    ("nsenter", "util-linux"),
    ("mount", "mount"),
    ("ssh", "openssh-client"),
    ("ssh-keygen", "openssh-client"),
    ("/usr/sbin/sshd", "openssh-server"),
];

fn missing(tool: &str) -> HostError {
    let (tool, package) = TOOLS
        .iter()
        .find(|(t, _)| *t == tool || t.ends_with(&format!("/{tool}")))
        .copied()
        .unwrap_or(("?", "?"));
    HostError::MissingTool { tool, package }
}

fn on_path(tool: &str) -> bool {
    if tool.contains('/') {
        return std::path::Path::new(tool).exists();
    }
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false)
}

/// Checks that we are root.
pub(crate) fn require_root() -> Result<(), HostError> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Err(HostError::NotRoot);
    }
    Ok(())
}

/// Checks that we are root and every tool is installed.
pub(crate) fn preflight() -> Result<(), HostError> {
    require_root()?;
    for (tool, package) in TOOLS {
        if !on_path(tool) {
            return Err(HostError::MissingTool { tool, package });
        }
    }
    Ok(())
}

/// Sends SIGKILL to `pid` and waits (up to 5 s) until it is gone from /proc.
pub(crate) fn kill_and_wait(pid: i32) {
    // SAFETY: kill has no memory-safety preconditions; a stale pid fails with ESRCH.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while alive(pid) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Whether `pid` exists and is not a zombie.
pub(crate) fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}
