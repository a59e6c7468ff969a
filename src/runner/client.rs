//! Clients: how workers talk to the DB. The [`Client`] trait is the seam
//! later DB-specific clients implement; [`ExecClient`] runs a plugin in any
//! language over JSON lines (protocol in README, "Exec plugins").

use crate::control::BoxFuture;
use faultline_checkers::OpType;
use serde_json::{json, Value};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// One operation to perform.
#[derive(Clone, Debug)]
pub struct Request {
    /// Request id (unique per run).
    pub id: u64,
    /// Operation name.
    pub f: Arc<str>,
    /// Key for independent-key workloads.
    pub key: Option<Value>,
    /// Argument (`null` for reads).
    pub value: Value,
}

/// How an operation ended.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    /// ok, fail or info.
    pub kind: OpType,
    /// The value (what a read saw).
    pub value: Value,
    /// Error text for fail/info.
    pub error: Option<String>,
}

impl Reply {
    /// An indeterminate reply.
    pub fn info(value: Value, error: impl Into<String>) -> Reply {
        Reply {
            kind: OpType::Info,
            value,
            error: Some(error.into()),
        }
    }
}

/// Talks to the DB for one worker process (Jepsen's client protocol:
/// opened per process, `setup` once per test, `invoke` per op, `close`).
pub trait Client: Send {
    /// Prepares the DB for the workload (tables, ...), once per test,
    /// before any op; must be idempotent. Default: nothing to do.
    fn setup(&mut self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }

    /// Performs `req`, waiting at most `timeout`. Never fails: problems are
    /// `info` (may have happened) or `fail` (definitely did not).
    fn invoke<'a>(&'a mut self, req: &'a Request, timeout: Duration) -> BoxFuture<'a, Reply>;

    /// Releases the client (kills a plugin).
    fn close(&mut self) -> BoxFuture<'_, ()>;
}

/// Where plugin stderr goes (the run's log).
pub type LogSink = Arc<Mutex<Box<dyn std::io::Write + Send>>>;

/// The exec plugin: one child process per worker process.
pub struct ExecClient {
    child: Option<(Child, ChildStdin, BufReader<ChildStdout>)>,
    label: String,
}

impl ExecClient {
    /// Starts `command` (through `sh -c`, in directory `cwd`: the spec
    /// file's, so that relative paths in it work from anywhere) with the
    /// plugin environment.
    pub fn open(
        command: &str,
        cwd: &std::path::Path,
        env: &[(String, String)],
        label: String,
        log: LogSink,
    ) -> ExecClient {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(command)
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, so that killing it also kills whatever
            // the shell started (the plugin itself, and its children).
            .process_group(0)
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = match cmd.spawn() {
            Ok(mut c) => {
                if let Some(err) = c.stderr.take() {
                    let (log, label) = (log.clone(), label.clone());
                    tokio::spawn(async move {
                        let mut lines = BufReader::new(err).lines();
                        while let Ok(Some(line)) = lines.next_line().await {
                            if let Ok(mut w) = log.lock() {
                                let _ = writeln!(w, "[{label}] {line}");
                            }
                        }
                    });
                }
                match (c.stdin.take(), c.stdout.take()) {
                    (Some(i), Some(o)) => Some((c, i, BufReader::new(o))),
                    _ => None,
                }
            }
            Err(e) => {
                if let Ok(mut w) = log.lock() {
                    let _ = writeln!(w, "[{label}] cannot start plugin `{command}`: {e}");
                }
                None
            }
        };
        ExecClient { child, label }
    }

    async fn roundtrip(&mut self, req: &Request) -> Result<Reply, String> {
        let Some((_, stdin, stdout)) = self.child.as_mut() else {
            return Err("plugin is not running".into());
        };
        let mut line = json!({"id": req.id, "f": &*req.f, "value": req.value});
        if let Some(k) = &req.key {
            line["key"] = k.clone();
        }
        let mut bytes = line.to_string().into_bytes();
        bytes.push(b'\n');
        stdin
            .write_all(&bytes)
            .await
            .map_err(|e| format!("writing to plugin: {e}"))?;
        stdin
            .flush()
            .await
            .map_err(|e| format!("writing to plugin: {e}"))?;
        let mut answer = String::new();
        if stdout
            .read_line(&mut answer)
            .await
            .map_err(|e| format!("reading plugin: {e}"))?
            == 0
        {
            return Err("plugin exited".into());
        }
        parse_reply(req, answer.trim_end())
    }
}

/// Parses a plugin's answer line for `req`.
pub fn parse_reply(req: &Request, line: &str) -> Result<Reply, String> {
    let v: Value =
        serde_json::from_str(line).map_err(|e| format!("malformed plugin answer {line:?}: {e}"))?;
    if v.get("id").and_then(Value::as_u64) != Some(req.id) {
        return Err(format!("plugin answered {line:?} to request id {}", req.id));
    }
    let kind = match v
        .get("type")
        .and_then(Value::as_str)
        .and_then(OpType::parse)
    {
        Some(OpType::Invoke) | None => {
            return Err(format!(
                "malformed plugin answer {line:?}: type must be ok, fail or info"
            ))
        }
        Some(k) => k,
    };
    let error = v.get("error").and_then(|e| {
        if e.is_null() {
            None
        } else {
            Some(e.as_str().map_or(e.to_string(), String::from))
        }
    });
    Ok(Reply {
        kind,
        value: v.get("value").cloned().unwrap_or(Value::Null),
        error,
    })
}

impl Client for ExecClient {
    fn invoke<'a>(&'a mut self, req: &'a Request, timeout: Duration) -> BoxFuture<'a, Reply> {
        Box::pin(async move {
            match tokio::time::timeout(timeout, self.roundtrip(req)).await {
                Ok(Ok(reply)) => reply,
                Ok(Err(e)) => Reply::info(req.value.clone(), format!("{}: {e}", self.label)),
                Err(_) => Reply::info(
                    req.value.clone(),
                    format!(
                        "{}: no answer within {:.1} s",
                        self.label,
                        timeout.as_secs_f64()
                    ),
                ),
            }
        })
    }

    fn close(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if let Some((mut child, stdin, _)) = self.child.take() {
                drop(stdin);
                if tokio::time::timeout(Duration::from_millis(200), child.wait())
                    .await
                    .is_err()
                {
                    kill_group(&child);
                    let _ = child.kill().await;
                }
            }
        })
    }
}

/// SIGKILLs the plugin's whole process group (it leads its own group).
fn kill_group(child: &Child) {
    if let Some(pid) = child.id() {
        // SAFETY: kill has no memory-safety preconditions; the group is the
        // plugin's own (process_group(0) at spawn), so nothing else is hit.
        unsafe {
            libc::kill(-(pid as i32), libc::SIGKILL);
        }
    }
}

impl Drop for ExecClient {
    /// A plugin still running when its client is dropped (a worker that was
    /// cancelled) is killed with its whole group.
    fn drop(&mut self) {
        if let Some((child, _, _)) = &self.child {
            kill_group(child);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> Request {
        Request {
            id: 7,
            f: "read".into(),
            key: None,
            value: Value::Null,
        }
    }

    #[test]
    fn parses_answers_and_rejects_garbage() {
        let r = parse_reply(&req(), r#"{"id": 7, "type": "ok", "value": 3}"#).unwrap();
        assert_eq!((r.kind, r.value), (OpType::Ok, json!(3)));
        let r = parse_reply(&req(), r#"{"id": 7, "type": "fail", "error": "nope"}"#).unwrap();
        assert_eq!(r.error.as_deref(), Some("nope"));
        assert!(parse_reply(&req(), "garbage")
            .unwrap_err()
            .contains("\"garbage\""));
        assert!(parse_reply(&req(), r#"{"id": 8, "type": "ok"}"#)
            .unwrap_err()
            .contains("id 7"));
        assert!(parse_reply(&req(), r#"{"id": 7, "type": "invoke"}"#).is_err());
    }
}
