//! A Maelstrom counter node as a state-based PN-counter CRDT (workloads
//! `g-counter` and `pn-counter`; expected verdict: valid, also under
//! `--nemesis partition` once the network heals).
//!
//! `p[n]` sums the positive deltas added on node n and `m[n]` the magnitudes
//! of the negative ones; only node n raises its own entries. A timer thread
//! sends both maps to every other node every 200 ms (`merge`, no reply);
//! receivers keep the per-entry maximum. The value is sum(p) - sum(m). A
//! lost merge is repaired by the next one.
//!
//! The protocol is Maelstrom's (jepsen-io/maelstrom); this code is original.
//! Unknown request types with a `msg_id` get error 10 (not-supported);
//! anything else unknown is ignored. Exits 0 when stdin closes.

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

#[derive(Default)]
struct State {
    node_id: String,
    node_ids: Vec<String>,
    next_msg_id: u64,
    p: BTreeMap<String, u64>,
    m: BTreeMap<String, u64>,
}

type Out = Arc<Mutex<io::Stdout>>;

fn emit(out: &Out, src: &str, dest: &Value, body: Value) {
    let line = json!({"src": src, "dest": dest, "body": body});
    let mut o = out.lock().expect("stdout lock");
    let _ = writeln!(o, "{line}").and_then(|_| o.flush());
}

fn merge_into(mine: &mut BTreeMap<String, u64>, theirs: &Value) {
    if let Some(obj) = theirs.as_object() {
        for (k, v) in obj {
            let v = v.as_u64().unwrap_or(0);
            let e = mine.entry(k.clone()).or_insert(0);
            *e = (*e).max(v);
        }
    }
}

fn gossip(state: &Mutex<State>, out: &Out) {
    let st = state.lock().expect("state lock");
    if st.p.is_empty() && st.m.is_empty() {
        return;
    }
    let body = json!({"type": "merge", "p": st.p, "n": st.m});
    for n in st.node_ids.iter().filter(|n| **n != st.node_id) {
        emit(out, &st.node_id, &json!(n), body.clone());
    }
}

fn main() -> io::Result<()> {
    let state = Arc::new(Mutex::new(State::default()));
    let out: Out = Arc::new(Mutex::new(io::stdout()));
    let mut timer_started = false;
    for line in io::stdin().lock().lines() {
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
        let mut st = state.lock().expect("state lock");
        if body["type"] == "merge" {
            merge_into(&mut st.p, &body["p"]);
            merge_into(&mut st.m, &body["n"]);
            continue;
        }
        if !body["in_reply_to"].is_null() {
            continue;
        }
        let Some(req_id) = body["msg_id"].as_u64() else {
            continue;
        };
        let reply = match body["type"].as_str().unwrap_or("") {
            "init" => {
                st.node_id = body["node_id"].as_str().unwrap_or("").to_string();
                st.node_ids = body["node_ids"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                if !timer_started {
                    timer_started = true;
                    let (state, out) = (Arc::clone(&state), Arc::clone(&out));
                    thread::spawn(move || loop {
                        thread::sleep(Duration::from_millis(200));
                        gossip(&state, &out);
                    });
                }
                json!({"type": "init_ok"})
            }
            "add" => match body["delta"].as_i64() {
                Some(d) => {
                    let me = st.node_id.clone();
                    let map = if d >= 0 { &mut st.p } else { &mut st.m };
                    *map.entry(me).or_insert(0) += d.unsigned_abs();
                    json!({"type": "add_ok"})
                }
                None => json!({"type": "error", "code": 12, "text": "delta must be an integer"}),
            },
            "read" => {
                let plus: u64 = st.p.values().sum();
                let minus: u64 = st.m.values().sum();
                json!({"type": "read_ok", "value": plus as i64 - minus as i64})
            }
            other => json!({"type": "error", "code": 10,
                            "text": format!("unsupported message type {other:?}")}),
        };
        let mut reply = reply;
        st.next_msg_id += 1;
        reply["msg_id"] = json!(st.next_msg_id);
        reply["in_reply_to"] = json!(req_id);
        let me = if st.node_id.is_empty() {
            msg["dest"].as_str().unwrap_or("").to_string()
        } else {
            st.node_id.clone()
        };
        drop(st);
        emit(&out, &me, &msg["src"], reply);
    }
    Ok(())
}
