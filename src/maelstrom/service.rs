//! Maelstrom's services, nodes of their own that are never partitioned
//! (src/maelstrom/service.clj): `lin-kv` (a linearizable key-value store),
//! `seq-kv` (sequentially consistent: a read may see any of the last 32
//! states no older than what that client saw before), `lww-kv` (five
//! replicas merged at random, last write wins by Lamport clock) and
//! `lin-tso` (a linearizable timestamp oracle). Keys and values are any
//! JSON; `cas` takes `create_if_not_exists`. Errors are Maelstrom's: 20
//! key-does-not-exist, 22 precondition-failed, 10 not-supported.

use super::net::Net;
use super::protocol::{body, error_body, Message};
use fastrand::Rng;
use serde_json::{json, Map, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// The service ids.
pub const SERVICES: [&str; 4] = ["lin-kv", "seq-kv", "lww-kv", "lin-tso"];

/// Whether `id` is one of the services.
pub fn is_service(id: &str) -> bool {
    SERVICES.contains(&id)
}

/// A key-value state: key (as JSON text) → value.
type Kv = HashMap<String, Value>;

/// Applies a read, write or cas to `kv`; returns the reply body and
/// whether the state changed.
fn apply_kv(kv: &mut Kv, req: &Map<String, Value>) -> (Map<String, Value>, bool) {
    let key = req
        .get("key")
        .map_or_else(|| "null".to_string(), Value::to_string);
    match req.get("type").and_then(Value::as_str).unwrap_or("") {
        "read" => match kv.get(&key) {
            Some(v) => (body("read_ok", json!({"value": v})), false),
            None => (error_body(20, "key does not exist"), false),
        },
        "write" => {
            let v = req.get("value").cloned().unwrap_or(Value::Null);
            kv.insert(key, v);
            (body("write_ok", json!({})), true)
        }
        "cas" => {
            let from = req.get("from").cloned().unwrap_or(Value::Null);
            let to = req.get("to").cloned().unwrap_or(Value::Null);
            let create = req
                .get("create_if_not_exists")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            match kv.get(&key) {
                None if create => {
                    kv.insert(key, to);
                    (body("cas_ok", json!({})), true)
                }
                None => (error_body(20, "key does not exist"), false),
                Some(cur) if *cur == from => {
                    kv.insert(key, to);
                    (body("cas_ok", json!({})), true)
                }
                Some(cur) => (
                    error_body(22, &format!("current value {cur} is not {from}")),
                    false,
                ),
            }
        }
        other => (
            error_body(10, &format!("{other:?} is not supported by this service")),
            false,
        ),
    }
}

/// `seq-kv`: a ring of the last 32 states; each client has seen some
/// index. A read-only request runs on a random state between the client's
/// index and the latest; a request that changes the state runs on the
/// latest and appends a new one (Maelstrom's `sequential`).
struct Sequential {
    states: VecDeque<Kv>,
    /// Index of the latest state.
    last: u64,
    clients: HashMap<String, u64>,
}

impl Sequential {
    const SIZE: usize = 32;

    fn handle(&mut self, src: &str, req: &Map<String, Value>, rng: &mut Rng) -> Map<String, Value> {
        let oldest = self.last + 1 - self.states.len() as u64;
        let seen = self.clients.get(src).copied().unwrap_or(0).max(oldest);
        let index = seen + rng.u64(..=self.last - seen);
        let mut probe = self.states[(index - oldest) as usize].clone();
        let (reply, changed) = apply_kv(&mut probe, req);
        if !changed {
            self.clients.insert(src.to_string(), index);
            return reply;
        }
        let mut latest = self.states.back().cloned().unwrap_or_default();
        let (reply, changed) = apply_kv(&mut latest, req);
        if changed {
            self.states.push_back(latest);
            if self.states.len() > Self::SIZE {
                self.states.pop_front();
            }
            self.last += 1;
        }
        self.clients.insert(src.to_string(), self.last);
        reply
    }
}

/// One `lww-kv` replica: a Lamport clock and key → (timestamp, value).
#[derive(Clone, Default)]
struct Lww {
    clock: u64,
    m: HashMap<String, (u64, Value)>,
}

impl Lww {
    fn handle(&mut self, req: &Map<String, Value>) -> Map<String, Value> {
        let mut kv: Kv = self
            .m
            .iter()
            .map(|(k, (_, v))| (k.clone(), v.clone()))
            .collect();
        let (reply, changed) = apply_kv(&mut kv, req);
        if changed {
            let key = req
                .get("key")
                .map_or_else(|| "null".to_string(), Value::to_string);
            if let Some(v) = kv.remove(&key) {
                self.m.insert(key, (self.clock, v));
            }
            self.clock += 1;
        }
        reply
    }

    /// Merges `other` into this replica: later timestamp wins, ties by the
    /// larger value (as JSON text).
    fn merge(&mut self, other: &Lww) {
        self.clock = self.clock.max(other.clock);
        for (k, (t2, v2)) in &other.m {
            match self.m.get(k) {
                Some((t1, v1)) if (t1, v1.to_string()) >= (t2, v2.to_string()) => {}
                _ => {
                    self.m.insert(k.clone(), (*t2, v2.clone()));
                }
            }
        }
    }
}

/// Starts every service on `net`; each runs until the network goes away.
pub fn start(net: &Arc<Net>, seed: u64) {
    for (i, id) in SERVICES.iter().enumerate() {
        let mut inbox = net.register(id);
        let net = net.clone();
        let mut rng = Rng::with_seed(seed ^ (0x5e41_0000 + i as u64));
        tokio::spawn(async move {
            let mut lin: Kv = HashMap::new();
            let mut seq = Sequential {
                states: VecDeque::from([Kv::new()]),
                last: 0,
                clients: HashMap::new(),
            };
            let mut lww = vec![Lww::default(); 5];
            let mut ts: u64 = 0;
            while let Some(m) = inbox.recv().await {
                let reply = match *id {
                    "lin-kv" => apply_kv(&mut lin, &m.body).0,
                    "seq-kv" => seq.handle(&m.src, &m.body, &mut rng),
                    "lww-kv" => {
                        let (a, b) = (rng.usize(..5), rng.usize(..5));
                        let src = lww[a].clone();
                        lww[b].merge(&src);
                        let r = rng.usize(..5);
                        lww[r].handle(&m.body)
                    }
                    _ => match m.kind() {
                        "ts" => {
                            ts += 1;
                            body("ts_ok", json!({"ts": ts - 1}))
                        }
                        other => error_body(10, &format!("{other:?} is not supported by lin-tso")),
                    },
                };
                let mut reply = reply;
                if let Some(id) = m.msg_id() {
                    reply.insert("in_reply_to".into(), json!(id));
                }
                net.send(Message::new(id, &m.src, reply));
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn kv_reads_writes_and_cas_as_maelstrom() {
        let mut kv = Kv::new();
        let (r, _) = apply_kv(&mut kv, &req(json!({"type": "read", "key": 1})));
        assert_eq!(
            (r["type"].as_str(), r["code"].as_i64()),
            (Some("error"), Some(20))
        );
        let (r, _) = apply_kv(
            &mut kv,
            &req(json!({"type": "cas", "key": 1, "from": 0, "to": 1})),
        );
        assert_eq!(r["code"], 20);
        let (r, c) = apply_kv(
            &mut kv,
            &req(
                json!({"type": "cas", "key": 1, "from": 0, "to": 1, "create_if_not_exists": true}),
            ),
        );
        assert_eq!((r["type"].as_str(), c), (Some("cas_ok"), true));
        let (r, _) = apply_kv(
            &mut kv,
            &req(json!({"type": "cas", "key": 1, "from": 0, "to": 2})),
        );
        assert_eq!(r["code"], 22);
        apply_kv(
            &mut kv,
            &req(json!({"type": "write", "key": 1, "value": [1, 2]})),
        );
        let (r, _) = apply_kv(&mut kv, &req(json!({"type": "read", "key": 1})));
        assert_eq!(r["value"], json!([1, 2]));
        // Keys are JSON: 1 and "1" differ.
        let (r, _) = apply_kv(&mut kv, &req(json!({"type": "read", "key": "1"})));
        assert_eq!(r["code"], 20);
    }

    #[test]
    fn seq_kv_reads_may_be_stale_but_never_go_back_for_one_client() {
        let mut s = Sequential {
            states: VecDeque::from([Kv::new()]),
            last: 0,
            clients: HashMap::new(),
        };
        let mut rng = Rng::with_seed(3);
        for v in 0..40 {
            s.handle(
                "w",
                &req(json!({"type": "write", "key": "k", "value": v})),
                &mut rng,
            );
        }
        assert_eq!(s.states.len(), Sequential::SIZE);
        let mut stale = 0;
        let mut last = -1;
        for _ in 0..200 {
            let r = s.handle("c1", &req(json!({"type": "read", "key": "k"})), &mut rng);
            let v = r["value"].as_i64().unwrap();
            assert!(v >= last, "client went back from {last} to {v}");
            assert!(v >= 40 - Sequential::SIZE as i64);
            stale += i64::from(v < 39);
            last = v;
        }
        assert!(stale > 0, "seq-kv never served a stale read");
        // The writer itself sees its own latest state.
        let r = s.handle("w", &req(json!({"type": "read", "key": "k"})), &mut rng);
        assert_eq!(r["value"], 39);
    }

    #[test]
    fn lww_replicas_merge_by_timestamp() {
        let mut a = Lww::default();
        let mut b = Lww::default();
        a.handle(&req(json!({"type": "write", "key": 1, "value": "a"})));
        b.handle(&req(json!({"type": "write", "key": 1, "value": "b0"})));
        b.handle(&req(json!({"type": "write", "key": 1, "value": "b1"})));
        a.merge(&b);
        let r = a.handle(&req(json!({"type": "read", "key": 1})));
        assert_eq!(r["value"], "b1");
    }
}
