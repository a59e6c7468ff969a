//! A Maelstrom broadcast node (workload `broadcast`; expected verdict:
//! valid, also under `--nemesis partition` once the network heals).
//!
//! Every message a node learns is queued for each neighbour in the topology
//! (all other nodes if no topology came), except the one it came from. A
//! timer thread sends each neighbour, every 100 ms, one `gossip` RPC with
//! all of that neighbour's unacknowledged messages; the `gossip_ok` reply
//! removes them from the queue. Messages lost to a partition are sent again
//! until acknowledged.
//!
//! Threads: the main thread reads stdin and handles each message under the
//! state mutex; the timer thread takes the same mutex. Output lines are
//! written and flushed under a separate stdout mutex.
//!
//! The protocol is Maelstrom's (jepsen-io/maelstrom); this code is original.
//! Unknown request types with a `msg_id` get error 10 (not-supported);
//! anything else unknown is ignored. Exits 0 when stdin closes.

use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::io::{self, BufRead, Write};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Drop in-flight gossip bookkeeping after this long without a reply (the
/// messages stay queued and go out again anyway).
const FORGET_AFTER: Duration = Duration::from_secs(5);

#[derive(Default)]
struct State {
    node_id: String,
    node_ids: Vec<String>,
    neighbours: Option<Vec<String>>,
    next_msg_id: u64,
    /// JSON text of each message -> the message (ordered by text).
    seen: BTreeMap<String, Value>,
    /// neighbour -> JSON text -> message, not yet acknowledged.
    unacked: HashMap<String, BTreeMap<String, Value>>,
    /// gossip msg_id -> (neighbour, texts it carried, when sent).
    in_flight: HashMap<u64, (String, Vec<String>, Instant)>,
}

impl State {
    fn msg_id(&mut self) -> u64 {
        self.next_msg_id += 1;
        self.next_msg_id
    }

    fn neighbours(&self) -> Vec<String> {
        match &self.neighbours {
            Some(n) => n.clone(),
            None => self
                .node_ids
                .iter()
                .filter(|n| **n != self.node_id)
                .cloned()
                .collect(),
        }
    }

    fn learn(&mut self, message: &Value, came_from: Option<&str>) {
        let text = message.to_string();
        if self.seen.contains_key(&text) {
            return;
        }
        self.seen.insert(text.clone(), message.clone());
        for n in self.neighbours() {
            if Some(n.as_str()) != came_from {
                self.unacked
                    .entry(n)
                    .or_default()
                    .insert(text.clone(), message.clone());
            }
        }
    }
}

type Out = Arc<Mutex<io::Stdout>>;

fn emit(out: &Out, src: &str, dest: &Value, body: Value) {
    let line = json!({"src": src, "dest": dest, "body": body});
    let mut o = out.lock().expect("stdout lock");
    // A closed stdout means the harness is gone; the node exits on stdin EOF.
    let _ = writeln!(o, "{line}").and_then(|_| o.flush());
}

fn resend(state: &Mutex<State>, out: &Out) {
    let mut st = state.lock().expect("state lock");
    let now = Instant::now();
    st.in_flight
        .retain(|_, (_, _, sent)| now.duration_since(*sent) < FORGET_AFTER);
    let batches: Vec<(String, Vec<String>, Vec<Value>)> = st
        .unacked
        .iter()
        .filter(|(_, q)| !q.is_empty())
        .map(|(n, q)| {
            (
                n.clone(),
                q.keys().cloned().collect(),
                q.values().cloned().collect(),
            )
        })
        .collect();
    for (n, texts, messages) in batches {
        let id = st.msg_id();
        st.in_flight.insert(id, (n.clone(), texts, now));
        let body = json!({"type": "gossip", "msg_id": id, "messages": messages});
        emit(out, &st.node_id, &json!(n), body);
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
        let src = msg["src"].as_str().unwrap_or("");
        let mut st = state.lock().expect("state lock");
        if let Some(r) = body["in_reply_to"].as_u64() {
            if body["type"] == "gossip_ok" {
                if let Some((n, texts, _)) = st.in_flight.remove(&r) {
                    if let Some(q) = st.unacked.get_mut(&n) {
                        for t in texts {
                            q.remove(&t);
                        }
                    }
                }
            }
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
                        thread::sleep(Duration::from_millis(100));
                        resend(&state, &out);
                    });
                }
                json!({"type": "init_ok"})
            }
            "topology" => {
                let mine = &body["topology"][st.node_id.as_str()];
                if let Some(a) = mine.as_array() {
                    st.neighbours = Some(
                        a.iter()
                            .filter_map(|v| v.as_str().map(String::from))
                            .collect(),
                    );
                }
                json!({"type": "topology_ok"})
            }
            "broadcast" => {
                st.learn(&body["message"], None);
                json!({"type": "broadcast_ok"})
            }
            "read" => json!({"type": "read_ok", "messages": st.seen.values().collect::<Vec<_>>()}),
            "gossip" => {
                if let Some(ms) = body["messages"].as_array() {
                    for m in ms {
                        st.learn(m, Some(src));
                    }
                }
                json!({"type": "gossip_ok"})
            }
            other => json!({"type": "error", "code": 10,
                            "text": format!("unsupported message type {other:?}")}),
        };
        let mut reply = reply;
        reply["msg_id"] = json!(st.msg_id());
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
