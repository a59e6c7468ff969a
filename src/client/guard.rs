//! The one wrapper around every client call (Jepsen's timeout and
//! `client/Validate` wrappers): the op timeout, a reply's shape checked,
//! and the ok / fail / info rules that hold for every client:
//!
//! - no answer within the op timeout is `info` (the op may have happened);
//! - after an `info` the client is [reset](super::Client::reset): the state
//!   of its connection is unknown;
//! - a `read` cannot change anything, so an indeterminate read is `fail`
//!   (as in Jepsen's clients), and the worker keeps its process;
//! - a reply of type `invoke`, or a `fail` / `info` without an error, is a
//!   client bug: recorded `info` with the reason, never trusted as given.

use super::{Client, Reply, Request};
use faultline_checkers::OpType;
use std::time::Duration;

/// Operations that never change the system's state.
pub fn read_only(f: &str) -> bool {
    f == "read"
}

/// Invokes `req` on `client`, waiting at most `timeout`.
pub async fn invoke(client: &mut dyn Client, req: &Request, timeout: Duration) -> Reply {
    let reply = match tokio::time::timeout(timeout, client.invoke(req)).await {
        Ok(reply) => validate(req, reply),
        Err(_) => Reply::info(
            req.value.clone(),
            format!("no answer within {:.1} s", timeout.as_secs_f64()),
        ),
    };
    classify(client, req, reply)
}

/// A reply whose shape a client got wrong becomes `info`, saying why.
fn validate(req: &Request, reply: Reply) -> Reply {
    match (reply.kind, &reply.error) {
        (OpType::Invoke, _) => Reply::info(
            req.value.clone(),
            "client bug: it answered with type invoke (expected ok, fail or info)",
        ),
        (OpType::Fail | OpType::Info, None) => Reply {
            error: Some(format!("{} without an error message", reply.kind.as_str())),
            ..reply
        },
        _ => reply,
    }
}

/// Applies the rules for indeterminate outcomes.
fn classify(client: &mut dyn Client, req: &Request, reply: Reply) -> Reply {
    if reply.kind != OpType::Info {
        return reply;
    }
    client.reset();
    if read_only(&req.f) {
        Reply {
            kind: OpType::Fail,
            ..reply
        }
    } else {
        reply
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::BoxFuture;
    use serde_json::{json, Value};

    /// A client that answers with `reply`, after `delay`.
    struct Fake {
        reply: Reply,
        delay: Duration,
        resets: usize,
    }

    impl Client for Fake {
        fn invoke<'a>(&'a mut self, _: &'a Request) -> BoxFuture<'a, Reply> {
            Box::pin(async move {
                tokio::time::sleep(self.delay).await;
                self.reply.clone()
            })
        }
        fn reset(&mut self) {
            self.resets += 1;
        }
        fn close(&mut self) -> BoxFuture<'_, ()> {
            Box::pin(async {})
        }
    }

    fn run(f: &str, reply: Reply, delay_ms: u64) -> (Reply, usize) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let mut c = Fake {
            reply,
            delay: Duration::from_millis(delay_ms),
            resets: 0,
        };
        let req = Request {
            id: 1,
            f: f.into(),
            key: None,
            value: json!(5),
        };
        let r = rt.block_on(invoke(&mut c, &req, Duration::from_millis(50)));
        (r, c.resets)
    }

    #[test]
    fn timeouts_are_info_for_writes_and_fail_for_reads_and_reset_the_client() {
        let (r, resets) = run("write", Reply::ok(json!(5)), 500);
        assert_eq!((r.kind, resets), (OpType::Info, 1));
        assert!(r.error.unwrap().contains("no answer within"));
        assert_eq!(r.value, json!(5));
        let (r, resets) = run("read", Reply::ok(json!(5)), 500);
        assert_eq!((r.kind, resets), (OpType::Fail, 1));
        let (r, resets) = run("cas", Reply::info(Value::Null, "conn reset"), 0);
        assert_eq!((r.kind, resets), (OpType::Info, 1));
        let (r, resets) = run("write", Reply::ok(json!(5)), 0);
        assert_eq!((r.kind, resets), (OpType::Ok, 0));
        let (r, resets) = run("write", Reply::fail(json!(5), "refused"), 0);
        assert_eq!((r.kind, resets), (OpType::Fail, 0));
    }

    #[test]
    fn malformed_replies_are_not_trusted() {
        let bad = Reply {
            kind: OpType::Invoke,
            value: json!(1),
            error: None,
        };
        let (r, resets) = run("write", bad, 0);
        assert_eq!((r.kind, resets), (OpType::Info, 1));
        assert!(r.error.unwrap().contains("client bug"));
        let silent = Reply {
            kind: OpType::Fail,
            value: json!(1),
            error: None,
        };
        let (r, _) = run("write", silent, 0);
        assert_eq!(r.error.as_deref(), Some("fail without an error message"));
    }
}
