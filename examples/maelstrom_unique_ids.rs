//! A Maelstrom unique-ids node (workload `unique-ids`; expected verdict:
//! valid): ids are `"<node id>-<counter>"`, so no two nodes can collide.
//!
//! The protocol is Maelstrom's (jepsen-io/maelstrom); this code is original.
//! Unknown request types with a `msg_id` get error 10 (not-supported);
//! anything else unknown is ignored. Exits 0 when stdin closes.

use serde_json::{json, Value};
use std::io::{self, BufRead, Write};

fn main() -> io::Result<()> {
    let stdin = io::stdin();
    let mut out = io::stdout().lock();
    let mut node_id = String::new();
    let mut next_msg_id: u64 = 0;
    let mut next_unique: u64 = 0;
    for line in stdin.lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let msg: Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("bad input line: {e}");
                continue;
            }
        };
        let body = &msg["body"];
        let Some(req_id) = body["msg_id"].as_u64() else {
            continue;
        };
        if !body["in_reply_to"].is_null() {
            continue;
        }
        let mut reply = match body["type"].as_str().unwrap_or("") {
            "init" => {
                node_id = body["node_id"].as_str().unwrap_or("").to_string();
                json!({"type": "init_ok"})
            }
            "generate" => {
                next_unique += 1;
                json!({"type": "generate_ok", "id": format!("{node_id}-{next_unique}")})
            }
            other => json!({"type": "error", "code": 10,
                            "text": format!("unsupported message type {other:?}")}),
        };
        next_msg_id += 1;
        reply["msg_id"] = json!(next_msg_id);
        reply["in_reply_to"] = json!(req_id);
        let src = if node_id.is_empty() {
            msg["dest"].clone()
        } else {
            json!(node_id)
        };
        let line = json!({"src": src, "dest": msg["src"], "body": reply});
        writeln!(out, "{line}")?;
        out.flush()?;
    }
    Ok(())
}
