//! The docker backend: nodes that are containers, reached with
//! `docker exec -i CONTAINER sh -c ...`. The node's address is the
//! container name or id.

use super::{BoxFuture, Cmd, Node, Output, Remote, RemoteError};
use std::process::Stdio;
use tokio::io::AsyncWriteExt;

/// A container reached with `docker exec`.
pub struct DockerRemote {
    node: Node,
}

impl DockerRemote {
    /// A remote for the container named by `node.addr`.
    pub fn new(node: Node) -> DockerRemote {
        DockerRemote { node }
    }

    /// Whether a docker daemon answers here; `Err` says why not.
    pub async fn available() -> Result<(), String> {
        let out = tokio::process::Command::new("docker")
            .args(["info", "--format", "{{.ServerVersion}}"])
            .output()
            .await
            .map_err(|e| {
                format!(
                    "docker is not installed ({e}); install it with `apt-get install -y docker.io`"
                )
            })?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "no docker daemon answers: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }
}

impl Remote for DockerRemote {
    fn node(&self) -> &Node {
        &self.node
    }

    fn exec<'a>(&'a self, cmd: &'a Cmd) -> BoxFuture<'a, Result<Output, RemoteError>> {
        Box::pin(async move {
            let io = |e: std::io::Error| RemoteError::Io {
                node: self.node.name.clone(),
                detail: e.to_string(),
            };
            let mut child = tokio::process::Command::new("docker")
                .args(["exec", "-i", &self.node.addr, "sh", "-c", &cmd.render(true)])
                .stdin(if cmd.stdin.is_some() {
                    Stdio::piped()
                } else {
                    Stdio::null()
                })
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => RemoteError::MissingTool {
                        tool: "docker".into(),
                        package: "docker.io".into(),
                    },
                    _ => io(e),
                })?;
            let stdin = child.stdin.take();
            let data = cmd.stdin.as_deref().unwrap_or_default();
            let writer = async move {
                if let Some(mut s) = stdin {
                    let _ = s.write_all(data).await;
                    let _ = s.shutdown().await;
                }
            };
            let wait = child.wait_with_output();
            let out = match cmd.timeout {
                Some(limit) => {
                    match tokio::time::timeout(limit + std::time::Duration::from_secs(5), async {
                        tokio::join!(writer, wait).1
                    })
                    .await
                    {
                        Ok(o) => o.map_err(io)?,
                        Err(_) => {
                            return Err(RemoteError::Timeout {
                                node: self.node.name.clone(),
                                cmd: cmd.script(),
                                after: limit,
                            })
                        }
                    }
                }
                None => tokio::join!(writer, wait).1.map_err(io)?,
            };
            let stderr = String::from_utf8_lossy(&out.stderr);
            if out.status.code() == Some(125)
                || stderr.contains("No such container")
                || stderr.contains("Cannot connect to the Docker daemon")
            {
                return Err(RemoteError::Unreachable {
                    node: self.node.name.clone(),
                    addr: self.node.addr.clone(),
                    detail: stderr.trim().to_string(),
                });
            }
            Ok(Output {
                status: out.status.code(),
                stdout: out.stdout,
                stderr: out.stderr,
            })
        })
    }
}
