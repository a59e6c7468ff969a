//! The control layer: run commands on nodes and move files to and from
//! them, the same way whether a node is a real machine over SSH, a local
//! namespace node (also over SSH), or a container (`docker exec`).
//!
//! # Layout
//!
//! - [`Node`]: a node's name and address.
//! - [`Cmd`] / [`Output`]: what to run, what came back ([`cmd`]).
//! - [`Remote`]: the one-method seam every backend implements;
//!   [`RemoteExt`] adds checked runs, uploads and downloads on top.
//! - [`ssh::SshRemote`], [`docker::DockerRemote`]: the backends.
//! - [`on_all`]: one command on many nodes in parallel.
//! - [`RemoteError`]: failures that name the node and say what to do.

pub mod cmd;
pub mod docker;
mod error;
pub mod nodes;
pub mod shell;
pub mod ssh;

pub use cmd::{quote, Cmd, Output};
pub use error::RemoteError;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A boxed, sendable future (the trait must be object-safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A node of the cluster under test.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Node {
    /// Name used in histories and reports (`n1`).
    pub name: String,
    /// Host name or IP address to connect to.
    pub addr: String,
    /// SSH port, if not 22.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

impl Node {
    /// A node called `name` at `addr`.
    pub fn new(name: impl Into<String>, addr: impl Into<String>) -> Node {
        Node {
            name: name.into(),
            addr: addr.into(),
            port: None,
        }
    }
}

/// Runs commands on one node.
pub trait Remote: Send + Sync {
    /// The node this remote reaches.
    fn node(&self) -> &Node;

    /// Runs `cmd` and returns its exit status and output. A non-zero exit
    /// is an `Ok` output; errors mean the command could not be run to
    /// completion (unreachable, refused, disconnected, timed out).
    fn exec<'a>(&'a self, cmd: &'a Cmd) -> BoxFuture<'a, Result<Output, RemoteError>>;
}

/// Conveniences on every [`Remote`].
pub trait RemoteExt: Remote {
    /// Runs `cmd` and fails on a non-zero exit, with the command, status,
    /// stdout and stderr in the error.
    fn run<'a>(&'a self, cmd: &'a Cmd) -> BoxFuture<'a, Result<Output, RemoteError>> {
        Box::pin(async move {
            let out = self.exec(cmd).await?;
            if out.success() {
                Ok(out)
            } else {
                Err(RemoteError::NonZero {
                    node: self.node().name.clone(),
                    cmd: cmd.script(),
                    status: out.status,
                    stdout: out.stdout_text(),
                    stderr: out.stderr_text(),
                })
            }
        })
    }

    /// Writes `bytes` to `path` on the node (streamed over stdin, no scp),
    /// creating parent directories.
    fn upload<'a>(
        &'a self,
        bytes: &'a [u8],
        path: &'a str,
    ) -> BoxFuture<'a, Result<(), RemoteError>> {
        Box::pin(async move {
            let q = quote(path);
            let cmd = Cmd::shell(format!(
                "mkdir -p \"$(dirname {q})\" && cat > {q}.part && mv {q}.part {q}"
            ))
            .stdin(bytes.to_vec());
            self.run(&cmd).await.map(|_| ())
        })
    }

    /// Reads the file at `path` on the node.
    fn download<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<Vec<u8>, RemoteError>> {
        Box::pin(async move {
            let cmd = Cmd::argv(["cat", path]);
            self.run(&cmd).await.map(|o| o.stdout)
        })
    }
}

impl<R: Remote + ?Sized> RemoteExt for R {}

/// Runs `cmd` on every remote at once; results in the remotes' order.
pub async fn on_all(
    remotes: &[Arc<dyn Remote>],
    cmd: &Cmd,
) -> Vec<(Node, Result<Output, RemoteError>)> {
    let jobs: Vec<(Arc<dyn Remote>, Cmd)> =
        remotes.iter().map(|r| (r.clone(), cmd.clone())).collect();
    remotes
        .iter()
        .map(|r| r.node().clone())
        .zip(on_all_each(jobs).await)
        .collect()
}

/// Runs each (remote, command) pair at once; results in input order.
pub async fn on_all_each(jobs: Vec<(Arc<dyn Remote>, Cmd)>) -> Vec<Result<Output, RemoteError>> {
    let names: Vec<String> = jobs.iter().map(|(r, _)| r.node().name.clone()).collect();
    let mut set = tokio::task::JoinSet::new();
    for (i, (r, cmd)) in jobs.into_iter().enumerate() {
        set.spawn(async move { (i, r.exec(&cmd).await) });
    }
    let mut results: Vec<Option<Result<Output, RemoteError>>> = vec![None; names.len()];
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((i, res)) => results[i] = Some(res),
            // A panicking backend is a bug; its node gets an error below.
            Err(e) => crate::say!("internal error: a remote task failed: {e}"),
        }
    }
    names
        .into_iter()
        .zip(results)
        .map(|(node, res)| {
            res.unwrap_or_else(|| {
                Err(RemoteError::Io {
                    node,
                    detail: "task failed".into(),
                })
            })
        })
        .collect()
}
