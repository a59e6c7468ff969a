//! A client on the simulated network (`c1`, `c2`, ...): one RPC at a time,
//! as Maelstrom's synchronous client. Replies to earlier, abandoned
//! requests are skipped; a reply that is neither the expected `*_ok` nor
//! an `error` is malformed.

use super::net::Net;
use super::protocol::{is_definite, Message};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Why an RPC did not succeed.
#[derive(Clone, Debug, PartialEq)]
pub enum CallError {
    /// No reply in time: indefinite.
    Timeout,
    /// An `error` reply.
    Error {
        /// Its code.
        code: i64,
        /// Its text.
        text: String,
    },
    /// A reply of the wrong shape: what was wrong, and the reply.
    Malformed(String),
}

impl CallError {
    /// Whether the request definitely did not take effect.
    pub fn definite(&self) -> bool {
        match self {
            CallError::Error { code, .. } => is_definite(*code),
            _ => false,
        }
    }

    /// The error as the history records it: `[code, text]` for an error
    /// reply (as Maelstrom's), else a description.
    pub fn history_text(&self) -> String {
        match self {
            CallError::Timeout => "timeout".into(),
            CallError::Error { code, text } => {
                let name = super::protocol::error_name(*code).unwrap_or("custom");
                format!("{code} {name}: {text}")
            }
            CallError::Malformed(m) => format!("malformed reply: {m}"),
        }
    }
}

/// A client of the network.
pub struct Client {
    /// Its node id.
    pub id: String,
    net: Arc<Net>,
    inbox: mpsc::UnboundedReceiver<Message>,
    next_msg_id: u64,
}

impl Client {
    /// Joins the network as `id`.
    pub fn open(net: &Arc<Net>, id: String) -> Client {
        let inbox = net.register(&id);
        Client {
            id,
            net: net.clone(),
            inbox,
            next_msg_id: 0,
        }
    }

    /// Sends `body` (its `type` set) to `dest` and waits up to `timeout`
    /// for the reply; returns the reply's body. `msg_id`s count from 1.
    pub async fn call(
        &mut self,
        dest: &str,
        mut body: Map<String, Value>,
        timeout: Duration,
    ) -> Result<Map<String, Value>, CallError> {
        self.next_msg_id += 1;
        let id = self.next_msg_id;
        let kind = body
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        body.insert("msg_id".into(), json!(id));
        self.net.send(Message::new(&self.id, dest, body));
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let m = match tokio::time::timeout_at(deadline, self.inbox.recv()).await {
                Ok(Some(m)) => m,
                Ok(None) | Err(_) => return Err(CallError::Timeout),
            };
            if m.in_reply_to() != Some(id) {
                continue;
            }
            return match m.kind() {
                "error" => {
                    let code = m.body.get("code").and_then(Value::as_i64);
                    match code {
                        Some(code) => Err(CallError::Error {
                            code,
                            text: m
                                .body
                                .get("text")
                                .and_then(Value::as_str)
                                .unwrap_or("")
                                .to_string(),
                        }),
                        None => Err(CallError::Malformed(format!(
                            "{} answered {kind} with an error that has no integer `code`: {}",
                            m.src,
                            Value::Object(m.body.clone())
                        ))),
                    }
                }
                k if k == format!("{kind}_ok") => Ok(m.body),
                other => Err(CallError::Malformed(format!(
                    "{} answered {kind} with type {other:?} (expected {kind}_ok or error): {}",
                    m.src,
                    Value::Object(m.body.clone())
                ))),
            };
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.net.unregister(&self.id);
    }
}
