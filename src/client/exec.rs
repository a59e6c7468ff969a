//! The exec plugin: a client in any language, one child process per worker
//! process, speaking JSON lines on stdin/stdout (protocol in docs/clients.md, "Exec
//! plugins"). Options: `command` (run through `sh -c` in the spec file's
//! directory).

use super::{Client, ClientConfig, Context, Kind, LogSink, OpenCtx, Options, Reply, Request};
use crate::control::BoxFuture;
use faultline_checkers::OpType;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// Registration.
pub const KIND: Kind = Kind {
    name: "exec",
    configure,
};

/// A validated exec client: the plugin command.
#[derive(Debug)]
pub struct ExecConfig {
    /// The plugin command line.
    pub command: String,
}

fn configure(o: &mut Options<'_>, _: &Context) -> Arc<dyn ClientConfig> {
    // `string` says what is wrong with a command that is not text.
    match o.raw("command") {
        None => o.error("", "an exec client needs `command:` (the plugin to run)"),
        Some(Value::String(c)) if c.trim().is_empty() => o.error(
            "command",
            "expected the plugin's command line, found nothing",
        ),
        Some(_) => {}
    }
    let command = o.string("command").unwrap_or_default();
    Arc::new(ExecConfig { command })
}

impl ClientConfig for ExecConfig {
    fn describe(&self) -> String {
        format!("exec plugin `{}`", self.command)
    }

    fn open(&self, ctx: &OpenCtx<'_>) -> Box<dyn Client> {
        let env = vec![
            ("FAULTLINE_NODE".to_string(), ctx.node.name.clone()),
            ("FAULTLINE_NODE_ADDR".to_string(), ctx.node.addr.clone()),
            (
                "FAULTLINE_NODES".to_string(),
                ctx.nodes
                    .iter()
                    .map(|n| n.name.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            ("FAULTLINE_PROCESS".to_string(), ctx.process.to_string()),
        ];
        Box::new(ExecClient::open(
            &self.command,
            ctx.base_dir,
            &env,
            format!("plugin p{} {}", ctx.process, ctx.node.name),
            ctx.log.clone(),
        ))
    }
}

/// The exec plugin: one child process per worker process.
pub struct ExecClient {
    child: Option<(Child, ChildStdin, BufReader<ChildStdout>)>,
    label: String,
    command: String,
    cwd: PathBuf,
    env: Vec<(String, String)>,
    log: LogSink,
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
        let mut c = ExecClient {
            child: None,
            label,
            command: command.to_string(),
            cwd: cwd.to_path_buf(),
            env: env.to_vec(),
            log,
        };
        c.spawn();
        c
    }

    /// Starts the plugin (again, after a [`Client::reset`]).
    fn spawn(&mut self) {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(&self.command)
            .current_dir(&self.cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, so that killing it also kills whatever
            // the shell started (the plugin itself, and its children).
            .process_group(0)
            .kill_on_drop(true);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let (log, label) = (self.log.clone(), self.label.clone());
        self.child = match cmd.spawn() {
            Ok(mut c) => {
                if let Some(err) = c.stderr.take() {
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
                    let _ = writeln!(w, "[{label}] cannot start plugin `{}`: {e}", self.command);
                }
                None
            }
        };
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
    fn invoke<'a>(&'a mut self, req: &'a Request) -> BoxFuture<'a, Reply> {
        Box::pin(async move {
            if self.child.is_none() {
                self.spawn();
            }
            match self.roundtrip(req).await {
                Ok(reply) => reply,
                Err(e) => Reply::info(req.value.clone(), format!("{}: {e}", self.label)),
            }
        })
    }

    /// Kills the plugin: an answer it still owes would be read as the
    /// answer to the next request. The next `invoke` starts it again.
    fn reset(&mut self) {
        if let Some((child, _, _)) = self.child.take() {
            kill_group(&child);
        }
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
