//! The generator: what each worker does next. Ops are drawn from the
//! workload's weighted mix, deterministically from the seed. For
//! independent keys it does what Jepsen's `independent/concurrent-generator`
//! does: workers are split into groups of `threads_per_key`, each group works
//! on one key, and after `ops_per_key` ops the group moves to a fresh key.
//! Written values are unique per key by default, so a stale read is
//! provably stale.

use crate::spec::{KeyMode, Plan, Values, WorkloadKind};
use fastrand::Rng;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// One op to issue: (f, key, value).
pub type OpSpec = (Arc<str>, Option<Value>, Value);

#[derive(Clone, Copy, Debug)]
struct Group {
    key: u64,
    issued: u64,
}

/// Draws ops for workers.
pub struct Generator {
    kind: WorkloadKind,
    keys: KeyMode,
    mix: Vec<(Arc<str>, u32)>,
    total: u32,
    values: Values,
    ops_per_key: u64,
    group_size: usize,
    groups: Vec<Group>,
    next_key: u64,
    written: HashMap<u64, i64>,
    next_element: i64,
    rng: Rng,
    /// Transactional workloads: keys in use, and the next fresh key.
    active: Vec<u64>,
    fresh_key: u64,
    txn_length: usize,
    max_writes_per_key: usize,
    /// bank: accounts `0..accounts`, transfers of `1..=max_transfer`.
    accounts: usize,
    max_transfer: i64,
    /// long-fork: keys per read group, and the next key to insert.
    fork_group: u64,
    next_insert: u64,
}

impl Generator {
    /// A generator for `workers` workers on `nodes` nodes.
    pub fn new(plan: &Plan, workers: usize, nodes: usize) -> Generator {
        let group_size = plan
            .threads_per_key
            .unwrap_or(nodes)
            .clamp(1, workers.max(1));
        let n_groups = workers.div_ceil(group_size).max(1);
        Generator {
            kind: plan.workload,
            keys: plan.keys,
            mix: plan
                .mix
                .iter()
                .filter(|(_, w)| *w > 0)
                .map(|(f, w)| (Arc::from(f.as_str()), *w))
                .collect(),
            total: plan.mix.iter().map(|(_, w)| *w).sum::<u32>().max(1),
            values: plan.values,
            ops_per_key: plan.ops_per_key,
            group_size,
            groups: (0..n_groups as u64)
                .map(|k| Group { key: k, issued: 0 })
                .collect(),
            next_key: n_groups as u64,
            written: HashMap::new(),
            next_element: 0,
            rng: Rng::with_seed(plan.seed ^ 0x6765_6e65),
            active: (0..plan.key_count as u64).collect(),
            fresh_key: plan.key_count as u64,
            txn_length: plan.txn_length,
            max_writes_per_key: plan.max_writes_per_key,
            accounts: plan.workload_options.accounts.max(2),
            max_transfer: plan.workload_options.max_transfer.max(1),
            fork_group: plan.workload_options.group_size.unwrap_or(3).max(1) as u64,
            next_insert: 0,
        }
    }

    /// A transaction: 1..=txn_length random micro-ops on the keys in use;
    /// keys that reached their write budget are replaced by fresh ones.
    fn txn(&mut self) -> Value {
        let n = 1 + self.rng.usize(..self.txn_length);
        let write = if self.kind == WorkloadKind::ListAppend {
            "append"
        } else {
            "w"
        };
        let mops: Vec<Value> = (0..n)
            .map(|_| {
                let slot = self.rng.usize(..self.active.len());
                let key = self.active[slot];
                if self.rng.usize(..2) == 0 {
                    return json!(["r", key, null]);
                }
                let v = self.fresh_value(key);
                if self.max_writes_per_key > 0 && v as usize >= self.max_writes_per_key {
                    self.active[slot] = self.fresh_key;
                    self.fresh_key += 1;
                }
                json!([write, key, v])
            })
            .collect();
        Value::Array(mops)
    }

    fn key_of(&mut self, worker: usize) -> Option<u64> {
        if self.keys == KeyMode::Single
            || !matches!(
                self.kind,
                WorkloadKind::Register | WorkloadKind::CasRegister
            )
        {
            return None;
        }
        let slot = (worker / self.group_size).min(self.groups.len() - 1);
        let g = &mut self.groups[slot];
        if g.issued >= self.ops_per_key {
            g.key = self.next_key;
            g.issued = 0;
            self.next_key += 1;
        }
        g.issued += 1;
        Some(g.key)
    }

    fn fresh_value(&mut self, key: u64) -> i64 {
        match self.values {
            Values::Unique => {
                let v = self.written.entry(key).or_insert(0);
                *v += 1;
                *v
            }
            Values::Range(lo, hi) => lo + self.rng.usize(..(hi - lo) as usize) as i64,
        }
    }

    /// The next op for `worker`.
    pub fn next(&mut self, worker: usize) -> OpSpec {
        if self.kind.is_txn() {
            return (Arc::from("txn"), None, self.txn());
        }
        let mut pick = self.rng.usize(..self.total as usize) as u32;
        let mut f = self.mix[0].0.clone();
        for (name, w) in &self.mix {
            if pick < *w {
                f = name.clone();
                break;
            }
            pick -= w;
        }
        let key = self.key_of(worker);
        let k = key.unwrap_or(0);
        let value = match &*f {
            "write" => json!(self.fresh_value(k)),
            "cas" => {
                let old = match self.values {
                    Values::Unique => *self.written.get(&k).unwrap_or(&0),
                    Values::Range(..) => self.fresh_value(k),
                };
                let new = self.fresh_value(k);
                json!([old, new])
            }
            "add" if self.kind == WorkloadKind::Counter => json!(self.increment()),
            "add" | "enqueue" => {
                self.next_element += 1;
                json!(self.next_element)
            }
            "transfer" => self.transfer(),
            "insert" => {
                let k = self.next_insert;
                self.next_insert += 1;
                return (Arc::from("txn"), None, json!([["w", k, 1]]));
            }
            "read" if self.kind == WorkloadKind::LongFork => {
                return (Arc::from("txn"), None, self.group_read(true));
            }
            _ => Value::Null,
        };
        (f, key.map(|k| json!(k)), value)
    }

    /// long-fork: a read of every key in the group of the latest insert,
    /// in random order (`shuffle`) or in key order.
    fn group_read(&mut self, shuffle: bool) -> Value {
        let n = self.fork_group;
        let first = self.next_insert.saturating_sub(1) / n * n;
        let mut keys: Vec<u64> = (first..first + n).collect();
        if shuffle {
            for i in (1..keys.len()).rev() {
                keys.swap(i, self.rng.usize(..i + 1));
            }
        }
        Value::Array(keys.iter().map(|k| json!(["r", k, null])).collect())
    }

    /// A counter increment: 1, or drawn from the `values` range.
    fn increment(&mut self) -> i64 {
        match self.values {
            Values::Unique => 1,
            Values::Range(lo, hi) => lo + self.rng.usize(..(hi - lo) as usize) as i64,
        }
    }

    /// A bank transfer `{from, to, amount}` between two distinct accounts
    /// (Jepsen's `bank/transfer`).
    fn transfer(&mut self) -> Value {
        let from = self.rng.usize(..self.accounts);
        let to = (from + 1 + self.rng.usize(..self.accounts - 1)) % self.accounts;
        let amount = 1 + self.rng.usize(..self.max_transfer as usize) as i64;
        json!({"from": from, "to": to, "amount": amount})
    }

    /// A read of the key `worker` last used (the final-reads phase); for
    /// transactional workloads, a transaction reading every key in use; for
    /// queues a `drain` (what is left), for unique ids one more `generate`.
    pub fn final_read(&mut self, worker: usize) -> OpSpec {
        match self.kind {
            WorkloadKind::LongFork => return (Arc::from("txn"), None, self.group_read(false)),
            WorkloadKind::Queue => return (Arc::from("drain"), None, Value::Null),
            WorkloadKind::UniqueIds => return (Arc::from("generate"), None, Value::Null),
            _ => {}
        }
        if self.kind.is_txn() {
            let mops: Vec<Value> = self.active.iter().map(|k| json!(["r", k, null])).collect();
            return (Arc::from("txn"), None, Value::Array(mops));
        }
        let key = match (self.keys, self.kind) {
            (KeyMode::Independent, WorkloadKind::Register | WorkloadKind::CasRegister) => Some(
                json!(self.groups[(worker / self.group_size).min(self.groups.len() - 1)].key),
            ),
            _ => None,
        };
        (Arc::from("read"), key, Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Concurrency, NodesPlan};
    use std::time::Duration;

    fn plan(keys: KeyMode) -> Plan {
        Plan {
            name: "t".into(),
            nodes: NodesPlan::Local(3),
            data_dir: "/d".into(),
            db: Default::default(),
            ready: None,
            recover_within: Duration::from_secs(60),
            pidfile: String::new(),
            log: String::new(),
            client: std::sync::Arc::new(crate::client::exec::ExecConfig {
                command: "true".into(),
            }),
            op_timeout: Duration::from_secs(1),
            workload: WorkloadKind::CasRegister,
            keys,
            mix: vec![("read".into(), 1), ("write".into(), 1), ("cas".into(), 1)],
            values: Values::Unique,
            concurrency: Concurrency::Count(6),
            rate: None,
            time_limit: Duration::from_secs(1),
            ops_per_key: 5,
            threads_per_key: Some(3),
            recovery: Duration::ZERO,
            final_reads: true,
            seed: 1,
            fresh_seed: false,
            nemesis: None,
            checkers: vec![],
            consistency_models: vec![],
            workload_options: Default::default(),
            log_pattern: None,
            key_count: 3,
            txn_length: 4,
            max_writes_per_key: 4,
            base_dir: ".".into(),
        }
    }

    #[test]
    fn groups_rotate_keys_and_values_are_unique() {
        let mut g = Generator::new(&plan(KeyMode::Independent), 6, 3);
        let ops: Vec<OpSpec> = (0..30).map(|i| g.next(i % 3)).collect();
        let keys: std::collections::BTreeSet<String> = ops
            .iter()
            .map(|(_, k, _)| k.clone().unwrap().to_string())
            .collect();
        assert_eq!(
            keys.len(),
            6,
            "group 0 moves to a fresh key every 5 ops: {keys:?}"
        );
        // Every value written to a key (by write or by cas) is new for it.
        let writes: Vec<(String, String)> = ops
            .iter()
            .filter_map(|(f, k, v)| match &**f {
                "write" => Some((k.clone().unwrap().to_string(), v.to_string())),
                "cas" => Some((k.clone().unwrap().to_string(), v[1].to_string())),
                _ => None,
            })
            .collect();
        assert!(writes.len() > 5, "{writes:?}");
        let distinct: std::collections::BTreeSet<&(String, String)> = writes.iter().collect();
        assert_eq!(
            distinct.len(),
            writes.len(),
            "a value written twice to a key: {writes:?}"
        );
        let mut a = Generator::new(&plan(KeyMode::Single), 6, 3);
        let mut b = Generator::new(&plan(KeyMode::Single), 6, 3);
        assert_eq!(
            (0..20).map(|i| a.next(i % 6)).collect::<Vec<_>>(),
            (0..20).map(|i| b.next(i % 6)).collect::<Vec<_>>()
        );
        assert!(a.next(0).1.is_none());
    }

    #[test]
    fn jepsen_workloads_make_jepsen_ops() {
        let mut p = plan(KeyMode::Single);
        p.workload = WorkloadKind::Bank;
        p.mix = vec![("transfer".into(), 1), ("read".into(), 1)];
        p.workload_options.accounts = 3;
        p.workload_options.max_transfer = 4;
        let mut g = Generator::new(&p, 6, 3);
        let ops: Vec<OpSpec> = (0..200).map(|i| g.next(i % 6)).collect();
        let transfers: Vec<&Value> = ops
            .iter()
            .filter(|(f, _, _)| &**f == "transfer")
            .map(|(_, _, v)| v)
            .collect();
        assert!(transfers.len() > 50);
        for t in transfers {
            let (from, to, amount) = (&t["from"], &t["to"], &t["amount"]);
            assert_ne!(from, to, "{t}");
            assert!(
                from.as_u64().unwrap() < 3 && to.as_u64().unwrap() < 3,
                "{t}"
            );
            assert!((1..=4).contains(&amount.as_i64().unwrap()), "{t}");
        }
        assert!(ops
            .iter()
            .all(|(f, k, v)| k.is_none() && (&**f != "read" || v.is_null())));

        p.workload = WorkloadKind::Counter;
        p.mix = vec![("add".into(), 1)];
        p.values = Values::Range(1, 4);
        let mut g = Generator::new(&p, 6, 3);
        assert!((0..50).all(|i| (1..4).contains(&g.next(i).2.as_i64().unwrap())));

        p.workload = WorkloadKind::Queue;
        p.mix = vec![("enqueue".into(), 1), ("dequeue".into(), 1)];
        let mut g = Generator::new(&p, 6, 3);
        let enq: Vec<i64> = (0..100)
            .map(|i| g.next(i))
            .filter(|(f, _, _)| &**f == "enqueue")
            .map(|(_, _, v)| v.as_i64().unwrap())
            .collect();
        let distinct: std::collections::BTreeSet<&i64> = enq.iter().collect();
        assert_eq!(distinct.len(), enq.len(), "enqueued values are unique");
        assert_eq!(&*g.final_read(0).0, "drain");

        p.workload = WorkloadKind::LongFork;
        p.mix = vec![("insert".into(), 1), ("read".into(), 1)];
        p.workload_options.group_size = Some(3);
        let mut g = Generator::new(&p, 6, 3);
        let ops: Vec<OpSpec> = (0..100).map(|i| g.next(i)).collect();
        let mut inserted = Vec::new();
        for (f, _, v) in &ops {
            assert_eq!(&**f, "txn");
            let mops = v.as_array().unwrap();
            if mops[0][0] == "w" {
                assert_eq!(mops.len(), 1, "{v}");
                inserted.push(mops[0][1].as_u64().unwrap());
            } else {
                // A whole group, every key once.
                let mut keys: Vec<u64> = mops.iter().map(|m| m[1].as_u64().unwrap()).collect();
                keys.sort();
                assert_eq!(keys.len(), 3, "{v}");
                assert_eq!(keys[0] % 3, 0, "{v}");
                assert_eq!(keys, (keys[0]..keys[0] + 3).collect::<Vec<_>>(), "{v}");
            }
        }
        let distinct: std::collections::BTreeSet<&u64> = inserted.iter().collect();
        assert_eq!(distinct.len(), inserted.len(), "every key inserted once");

        p.workload = WorkloadKind::UniqueIds;
        p.mix = vec![("generate".into(), 1)];
        let mut g = Generator::new(&p, 6, 3);
        assert_eq!(&*g.next(0).0, "generate");
        assert_eq!(&*g.final_read(0).0, "generate");
    }

    #[test]
    fn transactions_rotate_keys() {
        let mut p = plan(KeyMode::Single);
        p.workload = WorkloadKind::ListAppend;
        let mut g = Generator::new(&p, 6, 3);
        let txns: Vec<Value> = (0..200).map(|i| g.next(i % 6).2).collect();
        let mut keys = std::collections::BTreeSet::new();
        for t in &txns {
            for m in t.as_array().unwrap() {
                assert!(m[0] == "append" || m[0] == "r", "{m}");
                keys.insert(m[1].as_u64().unwrap());
                if m[0] == "append" {
                    assert!(m[2].as_i64().unwrap() <= 4, "a key takes at most 4 appends");
                }
            }
        }
        assert!(keys.len() > 10, "keys were retired and replaced: {keys:?}");
        assert_eq!(g.final_read(0).2.as_array().unwrap().len(), 3);
    }
}
