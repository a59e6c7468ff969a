//! Maelstrom's workloads (src/maelstrom/workload/*.clj): what each client
//! op is in the history, which RPCs carry it, and what the final phase
//! reads. Generators are seeded; values are what Maelstrom draws.
//!
//! | workload | history ops | RPCs |
//! |---|---|---|
//! | `echo` | `echo` "Please echo N" | echo → echo_ok |
//! | `unique-ids` | `generate` | generate → generate_ok `id` |
//! | `broadcast` | `add` N (Maelstrom's `broadcast`, as its checker renames it), `read` | topology once, broadcast `message`, read → `messages` |
//! | `g-set` | `add` N, `read` | add `element`, read → `value` |
//! | `g-counter`, `pn-counter` | `add` delta (0..4; −5..4), `read` | add `delta`, read → `value` |
//! | `lin-kv` | `read`/`write`/`cas` on independent keys, values 0..4 | read/write/cas `key` `value` `from` `to` |
//! | `txn-list-append`, `txn-rw-register` | `txn` of `r`/`append` or `r`/`w` micro-ops | txn → txn_ok `txn` |
//! | `kafka` | `send` `[["send",k,m]]`, `poll` `[["poll"]]`, `assign` `[keys]`, `crash` | send/poll, commit_offsets after each poll, list_committed_offsets on assign |

use super::client::{CallError, Client};
use super::protocol::body;
use fastrand::Rng;
use faultline_checkers::OpType;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// A workload name (`-w`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// echo.
    Echo,
    /// unique-ids.
    UniqueIds,
    /// broadcast.
    Broadcast,
    /// g-set.
    GSet,
    /// g-counter.
    GCounter,
    /// pn-counter.
    PnCounter,
    /// lin-kv.
    LinKv,
    /// txn-list-append.
    TxnListAppend,
    /// txn-rw-register.
    TxnRwRegister,
    /// kafka.
    Kafka,
}

impl Kind {
    /// Every workload, as `-w` spells it.
    pub const ALL: [&'static str; 10] = [
        "echo",
        "unique-ids",
        "broadcast",
        "g-set",
        "g-counter",
        "pn-counter",
        "lin-kv",
        "txn-list-append",
        "txn-rw-register",
        "kafka",
    ];

    /// Its name.
    pub fn name(self) -> &'static str {
        Self::ALL[self as usize]
    }

    /// Whether the test ends with Maelstrom's final phase (heal, wait,
    /// final reads).
    pub fn has_final(self) -> bool {
        matches!(
            self,
            Kind::Broadcast | Kind::GSet | Kind::GCounter | Kind::PnCounter | Kind::Kafka
        )
    }

    /// The client RPC timeout: lin-kv's is max(10 × latency, 1 s), as
    /// Maelstrom's; the others' 5 s.
    pub fn timeout(self, latency: Duration) -> Duration {
        match self {
            Kind::LinKv => (latency * 10).max(Duration::from_secs(1)),
            _ => Duration::from_secs(5),
        }
    }
}

impl std::str::FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Kind, String> {
        use Kind::*;
        Ok(match s {
            "echo" => Echo,
            "unique-ids" => UniqueIds,
            "broadcast" => Broadcast,
            "g-set" => GSet,
            "g-counter" => GCounter,
            "pn-counter" => PnCounter,
            "lin-kv" => LinKv,
            "txn-list-append" => TxnListAppend,
            "txn-rw-register" => TxnRwRegister,
            "kafka" => Kafka,
            _ => {
                return Err(format!(
                    "unknown workload {s:?}; expected one of {}",
                    Self::ALL.join(", ")
                ))
            }
        })
    }
}

/// One client op to invoke.
#[derive(Clone, Debug, PartialEq)]
pub struct Invocation {
    /// Its `f`.
    pub f: Arc<str>,
    /// Its key (lin-kv).
    pub key: Option<Value>,
    /// Its value.
    pub value: Value,
}

impl Invocation {
    fn new(f: &str, key: Option<Value>, value: Value) -> Invocation {
        Invocation {
            f: Arc::from(f),
            key,
            value,
        }
    }
}

/// How an op ended.
#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    /// ok, fail or info.
    pub kind: OpType,
    /// The completed value.
    pub value: Value,
    /// Why it failed or is indeterminate.
    pub error: Option<String>,
    /// A malformed reply, for the protocol checker.
    pub malformed: Option<String>,
}

impl Completion {
    fn ok(value: Value) -> Completion {
        Completion {
            kind: OpType::Ok,
            value,
            error: None,
            malformed: None,
        }
    }

    /// The completion of an op whose RPC failed: `fail` if the error is
    /// definite or the op only reads, else `info` (Jepsen's
    /// `with-errors`).
    pub fn failed(inv: &Invocation, e: &CallError) -> Completion {
        let reads = &*inv.f == "read" || &*inv.f == "poll";
        Completion {
            kind: if e.definite() || reads {
                OpType::Fail
            } else {
                OpType::Info
            },
            value: inv.value.clone(),
            error: Some(e.history_text()),
            malformed: match e {
                CallError::Malformed(m) => Some(m.clone()),
                _ => None,
            },
        }
    }
}

/// Workload options from the command line.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Options {
    /// Keys in use at once (txn, kafka).
    pub key_count: usize,
    /// Micro-ops per transaction, at most.
    pub max_txn_length: usize,
    /// Writes per key before it is retired (txn).
    pub max_writes_per_key: usize,
    /// Servers.
    pub node_count: usize,
    /// lin-kv: ops per key.
    pub ops_per_key: u64,
}

/// Draws ops for every worker, from one seed.
pub struct Generator {
    kind: Kind,
    opts: Options,
    rng: Rng,
    next_element: i64,
    /// lin-kv: each group's key and ops issued on it; the next fresh key.
    groups: Vec<(u64, u64)>,
    fresh_key: u64,
    /// txn: keys in use, writes per key, the next fresh key.
    active: Vec<u64>,
    fresh_txn_key: u64,
    written: BTreeMap<u64, usize>,
    /// kafka: the keys.
    kafka_keys: Vec<String>,
}

impl Generator {
    /// A generator for `workers` workers.
    pub fn new(kind: Kind, opts: Options, workers: usize, seed: u64) -> Generator {
        let group = opts.node_count.max(1);
        let n_groups = workers.div_ceil(group).max(1);
        let key_count = opts.key_count.max(1);
        Generator {
            kind,
            rng: Rng::with_seed(seed ^ 0x6d61_656c),
            next_element: 0,
            groups: (0..n_groups as u64).map(|k| (k, 0)).collect(),
            fresh_key: n_groups as u64,
            active: (0..key_count as u64).collect(),
            fresh_txn_key: key_count as u64,
            written: BTreeMap::new(),
            kafka_keys: (0..key_count).map(|k| k.to_string()).collect(),
            opts,
        }
    }

    fn element(&mut self) -> i64 {
        let e = self.next_element;
        self.next_element += 1;
        e
    }

    /// The next op for `worker`. Kafka's `proc_assigned` says whether the
    /// worker's process has keys assigned yet (its first op assigns).
    pub fn next(&mut self, worker: usize, proc_assigned: bool) -> Invocation {
        let half = self.rng.bool();
        match self.kind {
            Kind::Echo => Invocation::new(
                "echo",
                None,
                json!(format!("Please echo {}", self.rng.usize(..128))),
            ),
            Kind::UniqueIds => Invocation::new("generate", None, Value::Null),
            Kind::Broadcast | Kind::GSet if half => {
                let e = self.element();
                Invocation::new("add", None, json!(e))
            }
            Kind::GCounter if half => Invocation::new("add", None, json!(self.rng.i64(0..5))),
            Kind::PnCounter if half => Invocation::new("add", None, json!(self.rng.i64(-5..5))),
            Kind::Broadcast | Kind::GSet | Kind::GCounter | Kind::PnCounter => {
                Invocation::new("read", None, Value::Null)
            }
            Kind::LinKv => {
                let slot = (worker / self.opts.node_count.max(1)).min(self.groups.len() - 1);
                let g = &mut self.groups[slot];
                if g.1 >= self.opts.ops_per_key {
                    *g = (self.fresh_key, 0);
                    self.fresh_key += 1;
                }
                g.1 += 1;
                let key = Some(json!(g.0));
                match self.rng.usize(..3) {
                    0 => Invocation::new("read", key, Value::Null),
                    1 => Invocation::new("write", key, json!(self.rng.i64(0..5))),
                    _ => {
                        Invocation::new("cas", key, json!([self.rng.i64(0..5), self.rng.i64(0..5)]))
                    }
                }
            }
            Kind::TxnListAppend | Kind::TxnRwRegister => Invocation::new("txn", None, self.txn()),
            Kind::Kafka => self.kafka(proc_assigned),
        }
    }

    /// A transaction of 1..=max_txn_length micro-ops on the keys in use;
    /// a key that took max_writes_per_key writes is replaced by a fresh
    /// one (Elle's generator).
    fn txn(&mut self) -> Value {
        let n = 1 + self.rng.usize(..self.opts.max_txn_length.max(1));
        let write = if self.kind == Kind::TxnListAppend {
            "append"
        } else {
            "w"
        };
        let mops: Vec<Value> = (0..n)
            .map(|_| {
                let slot = self.rng.usize(..self.active.len());
                let key = self.active[slot];
                if self.rng.bool() {
                    return json!(["r", key, null]);
                }
                let w = self.written.entry(key).or_insert(0);
                *w += 1;
                let v = *w;
                if v >= self.opts.max_writes_per_key.max(1) {
                    self.active[slot] = self.fresh_txn_key;
                    self.fresh_txn_key += 1;
                }
                json!([write, key, v])
            })
            .collect();
        Value::Array(mops)
    }

    fn kafka(&mut self, assigned: bool) -> Invocation {
        let r = self.rng.usize(..100);
        if !assigned || r < 5 {
            let mut keys: Vec<String> = self
                .kafka_keys
                .iter()
                .filter(|_| self.rng.bool())
                .cloned()
                .collect();
            if keys.is_empty() {
                keys.push(self.kafka_keys[self.rng.usize(..self.kafka_keys.len())].clone());
            }
            return Invocation::new("assign", None, json!(keys));
        }
        if r < 7 {
            return Invocation::new("crash", None, Value::Null);
        }
        if r < 55 {
            let k = self.kafka_keys[self.rng.usize(..self.kafka_keys.len())].clone();
            let m = self.element();
            return Invocation::new("send", None, json!([["send", k, m]]));
        }
        Invocation::new("poll", None, json!([["poll"]]))
    }

    /// Every kafka key.
    pub fn kafka_keys(&self) -> Vec<String> {
        self.kafka_keys.clone()
    }

    /// The final phase's read for `worker` (the workloads with one).
    pub fn final_read(&self) -> Invocation {
        Invocation::new("read", None, Value::Null)
    }
}

/// What one client process remembers between ops (kafka's offsets).
#[derive(Debug, Default)]
pub struct ProcState {
    /// Assigned key → the next offset to poll from.
    pub offsets: BTreeMap<String, i64>,
    /// Whether an assign succeeded.
    pub assigned: bool,
}

fn field<'a>(reply: &'a Map<String, Value>, k: &str, what: &str) -> Result<&'a Value, CallError> {
    reply.get(k).ok_or_else(|| {
        CallError::Malformed(format!(
            "{what} reply has no `{k}` field: {}",
            Value::Object(reply.clone())
        ))
    })
}

/// Performs `inv` through `client` against `node`.
pub async fn invoke(
    kind: Kind,
    client: &mut Client,
    node: &str,
    inv: &Invocation,
    state: &mut ProcState,
    timeout: Duration,
) -> Completion {
    match perform(kind, client, node, inv, state, timeout).await {
        Ok(v) => Completion::ok(v),
        Err(e) => Completion::failed(inv, &e),
    }
}

async fn perform(
    kind: Kind,
    client: &mut Client,
    node: &str,
    inv: &Invocation,
    state: &mut ProcState,
    timeout: Duration,
) -> Result<Value, CallError> {
    let v = &inv.value;
    let f = &*inv.f;
    macro_rules! call {
        ($b:expr) => {
            client.call(node, $b, timeout)
        };
    }
    match (kind, f) {
        (Kind::Echo, _) => {
            let r = call!(body("echo", json!({"echo": v}))).await?;
            Ok(field(&r, "echo", "echo_ok")?.clone())
        }
        (Kind::UniqueIds, _) => {
            let r = call!(body("generate", json!({}))).await?;
            Ok(field(&r, "id", "generate_ok")?.clone())
        }
        (Kind::Broadcast, "add") => {
            call!(body("broadcast", json!({"message": v}))).await?;
            Ok(v.clone())
        }
        (Kind::Broadcast, _) => {
            let r = call!(body("read", json!({}))).await?;
            list(field(&r, "messages", "read_ok")?, "read_ok `messages`")
        }
        (Kind::GSet, "add") => {
            call!(body("add", json!({"element": v}))).await?;
            Ok(v.clone())
        }
        (Kind::GSet, _) => {
            let r = call!(body("read", json!({}))).await?;
            list(field(&r, "value", "read_ok")?, "read_ok `value`")
        }
        (Kind::GCounter | Kind::PnCounter, "add") => {
            call!(body("add", json!({"delta": v}))).await?;
            Ok(v.clone())
        }
        (Kind::GCounter | Kind::PnCounter, _) => {
            let r = call!(body("read", json!({}))).await?;
            let x = field(&r, "value", "read_ok")?;
            match x.as_i64() {
                Some(_) => Ok(x.clone()),
                None => Err(CallError::Malformed(format!(
                    "read_ok `value` is not an integer: {x}"
                ))),
            }
        }
        (Kind::LinKv, _) => {
            let k = inv.key.clone().unwrap_or(Value::Null);
            match f {
                "read" => {
                    let r = call!(body("read", json!({"key": k}))).await?;
                    Ok(field(&r, "value", "read_ok")?.clone())
                }
                "write" => {
                    call!(body("write", json!({"key": k, "value": v}))).await?;
                    Ok(v.clone())
                }
                _ => {
                    call!(body("cas", json!({"key": k, "from": v[0], "to": v[1]}))).await?;
                    Ok(v.clone())
                }
            }
        }
        (Kind::TxnListAppend | Kind::TxnRwRegister, _) => {
            let r = call!(body("txn", json!({"txn": v}))).await?;
            let t = field(&r, "txn", "txn_ok")?;
            let ok = t.as_array().is_some_and(|a| {
                a.len() == v.as_array().map_or(0, Vec::len)
                    && a.iter().all(|m| m.as_array().is_some_and(|m| m.len() == 3))
            });
            if !ok {
                return Err(CallError::Malformed(format!(
                    "txn_ok `txn` is not the request's micro-ops completed: sent {v}, got {t}"
                )));
            }
            Ok(t.clone())
        }
        (Kind::Kafka, "assign") => {
            let keys: Vec<String> = v
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|k| k.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            let r = call!(body("list_committed_offsets", json!({"keys": keys}))).await?;
            let committed = field(&r, "offsets", "list_committed_offsets_ok")?.clone();
            let offsets = keys
                .iter()
                .map(|k| {
                    let o = state
                        .offsets
                        .get(k)
                        .copied()
                        .or_else(|| committed.get(k).and_then(Value::as_i64))
                        .unwrap_or(0);
                    (k.clone(), o)
                })
                .collect();
            state.offsets = offsets;
            state.assigned = true;
            Ok(v.clone())
        }
        (Kind::Kafka, "send") => {
            let (k, m) = (&v[0][1], &v[0][2]);
            let r = call!(body("send", json!({"key": k, "msg": m}))).await?;
            let o = field(&r, "offset", "send_ok")?;
            if o.as_i64().is_none() {
                return Err(CallError::Malformed(format!(
                    "send_ok `offset` is not an integer: {o}"
                )));
            }
            Ok(json!([["send", k, [o, m]]]))
        }
        (Kind::Kafka, "poll") => {
            let msgs = poll(client, node, state, timeout, &mut None).await?;
            Ok(json!([["poll", msgs]]))
        }
        (Kind::Kafka, _) => Ok(Value::Null),
    }
}

/// A kafka poll from the process's offsets, then a commit of what it
/// returned (as Maelstrom's client). `commit_error` gets a commit's failure,
/// which does not undo the poll.
pub async fn poll(
    client: &mut Client,
    node: &str,
    state: &mut ProcState,
    timeout: Duration,
    commit_error: &mut Option<CallError>,
) -> Result<Value, CallError> {
    let r = client
        .call(
            node,
            body("poll", json!({"offsets": state.offsets})),
            timeout,
        )
        .await?;
    let msgs = field(&r, "msgs", "poll_ok")?.clone();
    let Some(m) = msgs.as_object() else {
        return Err(CallError::Malformed(format!(
            "poll_ok `msgs` is not an object of key → [[offset, msg], ...]: {msgs}"
        )));
    };
    let mut highest = Map::new();
    for (k, pairs) in m {
        let Some(pairs) = pairs.as_array() else {
            return Err(CallError::Malformed(format!(
                "poll_ok `msgs` for key {k:?} is not an array: {pairs}"
            )));
        };
        let mut top = None;
        for p in pairs {
            match p
                .as_array()
                .map(|p| (p.len(), p.first().and_then(Value::as_i64)))
            {
                Some((2, Some(o))) => top = Some(top.map_or(o, |t: i64| t.max(o))),
                _ => {
                    return Err(CallError::Malformed(format!(
                        "poll_ok `msgs` for key {k:?} holds {p}, not an [offset, msg] pair"
                    )))
                }
            }
        }
        if let Some(t) = top {
            let next = state.offsets.entry(k.clone()).or_insert(0);
            *next = (*next).max(t + 1);
            highest.insert(k.clone(), json!(t));
        }
    }
    if !highest.is_empty() {
        if let Err(e) = client
            .call(
                node,
                body("commit_offsets", json!({"offsets": highest})),
                timeout,
            )
            .await
        {
            *commit_error = Some(e);
        }
    }
    Ok(msgs)
}

fn list(v: &Value, what: &str) -> Result<Value, CallError> {
    if v.is_array() {
        Ok(v.clone())
    } else {
        Err(CallError::Malformed(format!("{what} is not an array: {v}")))
    }
}

/// The broadcast topology (`--topology`): node → neighbours.
pub fn topology(name: &str, nodes: &[String]) -> Result<BTreeMap<String, Vec<String>>, String> {
    let n = nodes.len();
    let mut t: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let tree = |k: usize| {
        let mut t: BTreeMap<String, Vec<String>> =
            nodes.iter().map(|x| (x.clone(), Vec::new())).collect();
        for i in 1..n {
            let p = (i - 1) / k;
            if let Some(v) = t.get_mut(&nodes[i]) {
                v.push(nodes[p].clone());
            }
            if let Some(v) = t.get_mut(&nodes[p]) {
                v.push(nodes[i].clone());
            }
        }
        t
    };
    match name {
        "grid" => {
            let side = (n as f64).sqrt().ceil() as usize;
            let at = |i: isize, j: isize| -> Option<&String> {
                if i < 0 || j < 0 || j as usize >= side {
                    return None;
                }
                nodes.get(i as usize * side + j as usize)
            };
            for (idx, node) in nodes.iter().enumerate() {
                let (i, j) = ((idx / side) as isize, (idx % side) as isize);
                let ns = [at(i + 1, j), at(i - 1, j), at(i, j + 1), at(i, j - 1)];
                t.insert(node.clone(), ns.into_iter().flatten().cloned().collect());
            }
        }
        "line" => {
            for i in 0..n {
                let mut v = Vec::new();
                if i > 0 {
                    v.push(nodes[i - 1].clone());
                }
                if i + 1 < n {
                    v.push(nodes[i + 1].clone());
                }
                t.insert(nodes[i].clone(), v);
            }
        }
        "total" => {
            for a in nodes {
                t.insert(
                    a.clone(),
                    nodes.iter().filter(|b| *b != a).cloned().collect(),
                );
            }
        }
        "tree" | "tree2" => t = tree(2),
        "tree3" => t = tree(3),
        "tree4" => t = tree(4),
        other => {
            return Err(format!(
            "unknown topology {other:?}; expected grid, line, tree, tree2, tree3, tree4 or total"
        ))
        }
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("n{i}")).collect()
    }

    #[test]
    fn topologies_are_symmetric_and_connected() {
        for name in ["grid", "line", "tree", "tree3", "tree4", "total"] {
            for n in [1, 2, 5, 9, 25] {
                let nodes = ns(n);
                let t = topology(name, &nodes).unwrap();
                assert_eq!(t.len(), n, "{name} {n}");
                for (a, nb) in &t {
                    for b in nb {
                        assert!(t[b].contains(a), "{name}: {a}→{b} one way");
                        assert_ne!(a, b);
                    }
                }
                // Connected: a walk from n0 reaches everyone.
                let mut seen = std::collections::BTreeSet::from([nodes[0].clone()]);
                let mut todo = vec![nodes[0].clone()];
                while let Some(x) = todo.pop() {
                    for y in &t[&x] {
                        if seen.insert(y.clone()) {
                            todo.push(y.clone());
                        }
                    }
                }
                assert_eq!(seen.len(), n, "{name} {n} not connected");
            }
        }
        let g = topology("grid", &ns(25)).unwrap();
        assert!(g.values().all(|v| v.len() <= 4));
        assert_eq!(g["n0"], ["n5", "n1"]);
        assert!(topology("ring", &ns(3)).is_err());
    }

    #[test]
    fn generators_are_seeded_and_keep_to_their_shapes() {
        let opts = Options {
            key_count: 3,
            max_txn_length: 4,
            max_writes_per_key: 16,
            node_count: 3,
            ops_per_key: 10,
        };
        let draw = |kind, seed| {
            let mut g = Generator::new(kind, opts.clone(), 6, seed);
            (0..200).map(|i| g.next(i % 6, i > 5)).collect::<Vec<_>>()
        };
        assert_eq!(draw(Kind::LinKv, 1), draw(Kind::LinKv, 1));
        assert_ne!(draw(Kind::LinKv, 1), draw(Kind::LinKv, 2));
        for op in draw(Kind::PnCounter, 3) {
            if &*op.f == "add" {
                assert!((-5..5).contains(&op.value.as_i64().unwrap()));
            }
        }
        let adds: Vec<i64> = draw(Kind::GSet, 3)
            .iter()
            .filter(|o| &*o.f == "add")
            .map(|o| o.value.as_i64().unwrap())
            .collect();
        assert!(
            adds.windows(2).all(|w| w[0] < w[1]),
            "elements unique and rising"
        );
        // Appends are unique per key and never exceed the write budget.
        let mut seen = std::collections::BTreeSet::new();
        for op in draw(Kind::TxnListAppend, 4) {
            let m = op.value.as_array().unwrap();
            assert!((1..=4).contains(&m.len()));
            for mop in m {
                if mop[0] == "append" {
                    assert!(seen.insert((mop[1].as_u64(), mop[2].as_u64())), "{mop}");
                    assert!(mop[2].as_u64().unwrap() <= 16);
                }
            }
        }
        // lin-kv: each group of 3 workers shares a key for 10 ops.
        let ops = draw(Kind::LinKv, 5);
        assert_eq!(ops[0].key, ops[1].key);
        assert_ne!(ops[0].key, ops[3].key);
    }
}
