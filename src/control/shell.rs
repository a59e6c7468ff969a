//! The nemesis's [`Shell`] over the control layer: scripts run as root on
//! nodes through their remotes, one per node in parallel.

use super::{on_all_each, Cmd, Remote, RemoteError};
use faultline_nemesis::{BoxFuture, Shell, ShellError};
use std::sync::Arc;
use std::time::Duration;

/// Runs nemesis scripts on nodes.
pub struct RemoteShell {
    remotes: Vec<Arc<dyn Remote>>,
    timeout: Duration,
}

impl RemoteShell {
    /// A shell over `remotes`; each script may run at most `timeout`.
    pub fn new(remotes: Vec<Arc<dyn Remote>>, timeout: Duration) -> Self {
        RemoteShell { remotes, timeout }
    }

    /// Names of the nodes, in order.
    pub fn node_names(&self) -> Vec<String> {
        self.remotes.iter().map(|r| r.node().name.clone()).collect()
    }

    fn remote(&self, node: &str) -> Option<&Arc<dyn Remote>> {
        self.remotes.iter().find(|r| r.node().name == node)
    }
}

fn shell_error(node: &str, script: &str, e: RemoteError) -> ShellError {
    let detail = match &e {
        RemoteError::NonZero {
            status,
            stderr,
            stdout,
            ..
        } => {
            format!(
                "exit {}: {}",
                status.map_or("signal".into(), |s| s.to_string()),
                if stderr.is_empty() { stdout } else { stderr }
            )
        }
        other => other.to_string(),
    };
    let mut err = ShellError::from_parts(node, script, &detail);
    err.detail = detail;
    err
}

fn to_result(
    node: &str,
    script: &str,
    r: Result<super::Output, RemoteError>,
) -> Result<String, ShellError> {
    match r {
        Ok(o) if o.success() => Ok(o.stdout_text()),
        Ok(o) => Err(shell_error(
            node,
            script,
            RemoteError::NonZero {
                node: node.into(),
                cmd: script.into(),
                status: o.status,
                stdout: o.stdout_text(),
                stderr: o.stderr_text(),
            },
        )),
        Err(e) => Err(shell_error(node, script, e)),
    }
}

impl Shell for RemoteShell {
    fn run<'a>(
        &'a self,
        node: &'a str,
        script: &'a str,
    ) -> BoxFuture<'a, Result<String, ShellError>> {
        Box::pin(async move {
            let Some(r) = self.remote(node) else {
                return Err(ShellError::from_parts(node, script, "no such node"));
            };
            let cmd = Cmd::shell(script).sudo(true).timeout(self.timeout);
            to_result(node, script, r.exec(&cmd).await)
        })
    }

    fn run_each<'a>(
        &'a self,
        scripts: Vec<(String, String)>,
    ) -> BoxFuture<'a, Vec<Result<String, ShellError>>> {
        Box::pin(async move {
            let mut jobs = Vec::with_capacity(scripts.len());
            for (node, script) in &scripts {
                match self.remote(node) {
                    Some(r) => jobs.push(Some((
                        r.clone(),
                        Cmd::shell(script.clone()).sudo(true).timeout(self.timeout),
                    ))),
                    None => jobs.push(None),
                }
            }
            let results = on_all_each(jobs.iter().flatten().cloned().collect()).await;
            let mut results = results.into_iter();
            scripts
                .iter()
                .zip(jobs)
                .map(|((node, script), job)| match job {
                    Some(_) => to_result(
                        node,
                        script,
                        results.next().unwrap_or_else(|| {
                            Err(RemoteError::Io {
                                node: node.clone(),
                                detail: "lost result".into(),
                            })
                        }),
                    ),
                    None => Err(ShellError::from_parts(node, script, "no such node")),
                })
                .collect()
        })
    }
}
